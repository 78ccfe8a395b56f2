/** `createProgress`: a cli-progress bar on a TTY, structured log lines elsewhere. */
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../../src/cli/progress.ts';
import { createLogger, setLogSink } from '../../../src/log.ts';
import { captureLogger } from '../model/helpers.ts';

describe('createProgress', () => {
  it('off a TTY writes nothing to the stream, logs each milestone and a progress line at most every logEveryMs', () => {
    let out = '';
    let t = 0;
    const log = captureLogger();
    const p = createProgress({ title: 'score', log, stream: { write: (s: string) => (out += s), isTTY: false }, logEveryMs: 1000, now: () => t });
    p.update(0, 100);
    t = 500;
    p.update(10, 100); // within logEveryMs of the start: quiet
    t = 2000;
    p.update(40, 100, 'ignored off a TTY');
    p.milestone('nab file scored', { file: 'cat/a.csv', rows: 40 }, 'ignored too');
    t = 2500;
    p.update(50, 100); // within logEveryMs of the last progress line
    p.stop();
    expect(out).toBe('');
    expect(log.lines.map((l) => [l.msg, l.fields])).toEqual([
      ['progress', { done: 40, total: 100, percent: 40, etaMs: 3000 }],
      ['nab file scored', { file: 'cat/a.csv', rows: 40 }],
    ]);
  });

  it('on a TTY draws a bar with an ETA and the status, prints log lines above it meanwhile, and ends it', () => {
    let out = '';
    const logged: string[] = [];
    const restore = setLogSink((l) => logged.push(l));
    try {
      const p = createProgress({ title: 'train', log: captureLogger(), stream: { write: (s: string) => ((out += s), true), isTTY: true, columns: 120 } });
      p.update(0, 40, 'epoch 1/2');
      p.update(20, 40);
      p.milestone('training epoch', { epoch: 1 }, 'epoch 1/2  val 0.2500');
      createLogger('t').warn('meanwhile');
      p.stop();
      p.stop();
      createLogger('t').warn('after');
    } finally {
      setLogSink(restore);
    }
    // cli-progress moves to column 1 (ESC[1G) before each render.
    const renders = out.split('\x1b[1G').filter((s) => s.startsWith('train ['));
    expect(renders.at(-1)).toMatch(/^train \[█{20}░{20}\] +50% 20\/40 eta +\d+s {2}epoch 1\/2 {2}val 0\.2500/);
    expect(out).toMatch(/\x1b\[2K\{"time":"[^"]+","level":"warn","ns":"t","msg":"meanwhile"\}\n/); // above the bar
    expect(out.endsWith('\n')).toBe(true);
    expect(logged.map((l) => JSON.parse(l).msg)).toEqual(['after']); // the sink is restored once the bar ends
  });
});
