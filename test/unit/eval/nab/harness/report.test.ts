import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTORS, renderReport, runCorpus, summarise, type CorpusRun, type ScoreboardRow } from '../../../../../src/eval/nab/harness/index.ts';
import { wave, writeCorpus } from './helpers.ts';

const count = (html: string, needle: string) => html.split(needle).length - 1;

describe('renderReport', () => {
  let root: string;
  let run: CorpusRun;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'diffwatch-report-'));
    const spiky = wave(600, 4).map((v, i) => (i === 450 ? v + 200 : v));
    const nab = writeCorpus(root, [
      { path: 'cat/a&b.csv', values: spiky, windows: [[440, 470]] },
      { path: 'cat/c.csv', values: wave(500, 9), windows: [[100, 120], [300, 330]] },
    ]);
    run = await runCorpus({ nabDir: nab, detectors: [DETECTORS.baselineRaw(), DETECTORS.windowedGaussian()] });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('draws one self-contained SVG plot per series with windows, alerts and thresholds', () => {
    const board: ScoreboardRow[] = [{ key: 'numenta', label: 'Numenta HTM', scores: { standard: 70.1, reward_low_FP_rate: 63.1, reward_low_FN_rate: 74.3 }, source: 'published' }];
    const summary = summarise(run);
    const html = renderReport(run, summary, board);
    expect(count(html, '<svg class="plot"')).toBe(2);
    expect(count(html, 'class="label-window"')).toBe(3);
    const onsets = run.runs.reduce((n, r) => n + r.files.reduce((m, f) => m + f.alertOnsets.reduce((a, b) => a + b, 0), 0), 0);
    expect(onsets).toBeGreaterThan(0); // the spike at row 450 alerts
    expect(count(html, 'class="alert"')).toBe(onsets);
    expect(count(html, 'optimised threshold (standard)')).toBeGreaterThan(0);
    expect(html).toContain('Numenta HTM');
    expect(html).toContain('cat/a&#38;b.csv');
    expect(html).not.toContain('cat/a&b.csv');
    // Nothing to fetch or run: no scripts, no links, no external resources.
    expect(html).not.toMatch(/<script|<link|\ssrc=|\shref=|url\(/i);
  });
});
