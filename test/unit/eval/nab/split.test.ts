import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectSplit, splitOf } from '../../../../src/eval/nab/split.ts';

const committed = JSON.parse(readFileSync(join(import.meta.dirname, '../../../../data/nab-split.json'), 'utf8')) as { tuning: string[]; test: string[] };
const all = [...committed.tuning, ...committed.test].sort();
const SHARED_LABELS = join(import.meta.dirname, '../../../../../shared/datasets/nab/labels/combined_windows.json');

describe('NAB tuning/test split', () => {
  it('reproduces the committed split from the file names alone', () => {
    const halves = splitOf(all);
    expect(all.filter((p) => halves.get(p) === 'tuning')).toEqual([...committed.tuning].sort());
    expect(all.filter((p) => halves.get(p) === 'test')).toEqual([...committed.test].sort());
  });

  it('halves every category, the odd file going to tuning', () => {
    const count = (paths: string[]) => paths.reduce((m, p) => m.set(p.split('/')[0], (m.get(p.split('/')[0]) ?? 0) + 1), new Map<string, number>());
    const t = count(committed.tuning);
    const s = count(committed.test);
    for (const [category, n] of count(all)) {
      expect(t.get(category) ?? 0, category).toBe(Math.ceil(n / 2));
      expect(s.get(category) ?? 0, category).toBe(Math.floor(n / 2));
    }
  });

  it('does not depend on which other files are present in other categories, or on their order', () => {
    const oneCategory = all.filter((p) => p.startsWith('realTweets/'));
    const alone = splitOf([...oneCategory].reverse());
    const full = splitOf(all);
    for (const p of oneCategory) expect(alone.get(p)).toBe(full.get(p));
  });

  it('selects disjoint halves that cover the corpus', () => {
    const tuning = selectSplit(all, 'tuning');
    const test = selectSplit(all, 'test');
    expect(tuning.filter((p) => test.includes(p))).toEqual([]);
    expect([...tuning, ...test].sort()).toEqual(all);
    expect(selectSplit(all, 'all')).toEqual(all);
  });

  it.runIf(existsSync(SHARED_LABELS))('covers exactly the labelled files of NAB v1.1', () => {
    const labelled = Object.keys(JSON.parse(readFileSync(SHARED_LABELS, 'utf8'))).sort();
    expect(all).toEqual(labelled);
  });
});
