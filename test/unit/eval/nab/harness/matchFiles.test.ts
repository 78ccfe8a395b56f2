import { describe, expect, it } from 'vitest';
import { matchFiles } from '../../../../../src/eval/nab/harness/index.ts';

const PATHS = ['artificialNoAnomaly/art_flatline.csv', 'realKnownCause/nyc_taxi.csv', 'realKnownCause/machine_temperature_system_failure.csv', 'realTweets/Twitter_volume_FB.csv'];

describe('matchFiles', () => {
  it('selects everything without a pattern', () => {
    expect(matchFiles(PATHS, undefined)).toEqual(PATHS);
    expect(matchFiles(PATHS, ' ')).toEqual(PATHS);
  });

  it('matches a pattern with a "/" against the whole path, * within a segment', () => {
    expect(matchFiles(PATHS, 'realKnownCause/*')).toEqual([PATHS[1], PATHS[2]]);
    expect(matchFiles(PATHS, 'real*/n?c_taxi.csv')).toEqual([PATHS[1]]);
    expect(matchFiles(PATHS, '*/nyc_taxi.csv')).toEqual([PATHS[1]]);
    expect(matchFiles(PATHS, '*taxi.csv/x')).toEqual([]);
  });

  it('matches a pattern without a "/" against the file name; "," separates alternatives', () => {
    expect(matchFiles(PATHS, '*temperature*')).toEqual([PATHS[2]]);
    expect(matchFiles(PATHS, 'art_*,*_FB.csv')).toEqual([PATHS[0], PATHS[3]]);
    // "realKnownCause*" names a folder, but without "/" only file names are matched.
    expect(matchFiles(PATHS, 'realKnownCause*')).toEqual([]);
  });

  it('lets ** cross folders and treats regex characters literally', () => {
    expect(matchFiles(PATHS, '**/*_FB.csv')).toEqual([PATHS[3]]);
    expect(matchFiles(['a.csv', 'abcsv'], 'a.csv')).toEqual(['a.csv']);
    expect(matchFiles(['x/(1).csv'], 'x/(1).csv')).toEqual(['x/(1).csv']);
  });
});
