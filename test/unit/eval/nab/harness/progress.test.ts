import { describe, expect, it } from 'vitest';
import { bar, createRunProgress } from '../../../../../src/eval/nab/harness/index.ts';
import { createLogger, setLogSink } from '../../../../../src/log.ts';

describe('createRunProgress', () => {
  it('on a TTY, redraws one line with the overall and the file bar, throttled, and ends it', () => {
    let out = '';
    let t = 0;
    const p = createRunProgress({ tasks: 2, totalRows: 300, log: createLogger('t'), stream: { write: (s: string) => (out += s) }, tty: true, redrawMs: 100, now: () => t });
    p.fileStart({ path: 'cat/a.csv', detector: 'baseline', rows: 100 });
    t = 10;
    p.fileRows(50); // within redrawMs of the last draw: not drawn
    expect(out.split('\r').length - 1).toBe(1);
    t = 200;
    p.fileRows(50);
    const last = out.slice(out.lastIndexOf('\r'));
    expect(last).toContain(`nab ${bar(50 / 300, 20)}  16%  0/2`);
    expect(last).toContain(`baseline cat/a.csv ${bar(0.5, 10)}  50%`);
    expect(last).toMatch(/eta \d+s/);
    p.fileDone({ path: 'cat/a.csv', detector: 'baseline', rows: 100, wallMs: 5, lateRows: 0, alertOnsets: 1 });
    expect(out.slice(out.lastIndexOf('\r'))).toContain('1/2');
    p.done();
    expect(out.endsWith('\n')).toBe(true);
  });

  it('elsewhere, logs one structured line per file and detector and writes no control characters', () => {
    const lines: string[] = [];
    const restore = setLogSink((l) => lines.push(l));
    let out = '';
    try {
      const p = createRunProgress({ tasks: 1, totalRows: 10, log: createLogger('t'), stream: { write: (s: string) => (out += s), isTTY: false } });
      p.fileStart({ path: 'cat/a.csv', detector: 'windowedGaussian', rows: 10 });
      p.fileRows(5);
      p.fileDone({ path: 'cat/a.csv', detector: 'windowedGaussian', rows: 10, wallMs: 12.4, lateRows: 2, alertOnsets: 3 });
      p.done();
    } finally {
      setLogSink(restore);
    }
    expect(out).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ msg: 'nab file scored', detector: 'windowedGaussian', file: 'cat/a.csv', rows: 10, ms: 12, lateRows: 2, alertOnsets: 3, task: 1, tasks: 1 }),
    ]);
  });
});

describe('bar', () => {
  it('fills in proportion and clamps', () => {
    expect(bar(0.4, 10)).toBe('[####......]');
    expect(bar(2, 4)).toBe('[####]');
    expect(bar(-1, 3)).toBe('[...]');
  });
});
