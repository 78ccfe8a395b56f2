import { afterEach, describe, expect, it } from 'vitest';
import { nativeThreadsPerOp, threadsPerOp } from '../../../src/model/nativeThreads.ts';

const saved = process.env.TF_NUM_INTRAOP_THREADS;
afterEach(() => {
  if (saved === undefined) delete process.env.TF_NUM_INTRAOP_THREADS;
  else process.env.TF_NUM_INTRAOP_THREADS = saved;
});

describe('threadsPerOp', () => {
  it("gives each issuing thread its share of the cores less itself, at least one", () => {
    expect(threadsPerOp(2, 2)).toBe(1);
    expect(threadsPerOp(1, 2)).toBe(1);
    expect(threadsPerOp(3, 2)).toBe(1);
    expect(threadsPerOp(1, 16)).toBe(15);
    expect(threadsPerOp(2, 8)).toBe(3);
    expect(threadsPerOp(3, 8)).toBe(1);
  });
});

describe('nativeThreadsPerOp', () => {
  it('sets TF_NUM_INTRAOP_THREADS for the issuing threads when it is not set', () => {
    delete process.env.TF_NUM_INTRAOP_THREADS;
    expect(nativeThreadsPerOp(2, 2)).toBe('1');
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('1');
  });

  it("keeps the user's value", () => {
    process.env.TF_NUM_INTRAOP_THREADS = '3';
    expect(nativeThreadsPerOp(2, 2)).toBe('3');
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('3');
  });
});
