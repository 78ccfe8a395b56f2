import { describe, expect, it } from 'vitest';
import { createProgressBar, formatDuration } from '../../../src/modelOps/progress.ts';
import type { TrainProgress } from '../../../src/model/trainer.ts';
import { captureLogger } from '../model/helpers.ts';

const step = (epoch: number, s: number, valLoss?: number): TrainProgress => ({ epoch, epochs: 2, step: s, stepsPerEpoch: 2, loss: 0.5 / epoch, etaMs: 72_000 / epoch, ...(valLoss !== undefined ? { valLoss } : {}) });

describe('createProgressBar', () => {
  it('on a TTY rewrites one line with epoch, step, loss, the last val loss and ETA, and ends it once', () => {
    const chunks: string[] = [];
    const log = captureLogger();
    const bar = createProgressBar({ stream: { write: (c: string) => chunks.push(c), isTTY: true }, log });
    [step(1, 1), step(1, 2, 0.25), step(2, 1)].forEach(bar.update);
    bar.done();
    expect(chunks).toHaveLength(4);
    expect(chunks[0]).toBe('\r\x1b[2Kepoch 1/2  step 1/2  loss 0.5000  eta 1m12s');
    expect(chunks[2]).toBe('\r\x1b[2Kepoch 2/2  step 1/2  loss 0.2500  val 0.2500  eta 36s');
    expect(chunks[3]).toBe('\n');
    expect(log.lines).toHaveLength(0);
  });

  it('off a TTY writes nothing to the stream and logs one structured line per epoch', () => {
    const chunks: string[] = [];
    const log = captureLogger();
    const bar = createProgressBar({ stream: { write: (c: string) => chunks.push(c), isTTY: false }, log });
    [step(1, 1), step(1, 2, 0.25), step(2, 1), step(2, 2, 0.2)].forEach(bar.update);
    bar.done();
    expect(chunks).toEqual([]);
    expect(log.lines.map((l) => [l.msg, l.fields?.epoch, l.fields?.valLoss])).toEqual([
      ['training epoch', 1, 0.25],
      ['training epoch', 2, 0.2],
    ]);
  });

  it('formats durations in s, m and h', () => {
    expect([formatDuration(400), formatDuration(59_600), formatDuration(3_900_000)]).toEqual(['0s', '1m00s', '1h05m']);
  });
});
