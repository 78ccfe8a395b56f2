import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { Reading, Row, SourceCoord } from '../../../src/types.ts';

/** A virtual-time scheduler whose assertions are vitest assertions. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

let nextOffset = 0;

/** A source coordinate with a fresh offset, unique within a test file. */
export function src(partition = 0): SourceCoord {
  return { topic: 'telemetry', partition, offset: String(nextOffset++) };
}

export function reading(entityId: string, timestamp: number, values: Record<string, number>, source: SourceCoord = src()): Reading {
  return { entityId, timestamp, values, source };
}

export function row(entityId: string, timestamp: number, values: number[], opts: Partial<Pick<Row, 'sources' | 'gap' | 'filled'>> = {}): Row {
  return { entityId, timestamp, channels: values.map((_, i) => `c${i}`), values: Float64Array.from(values), sources: opts.sources ?? [src()], ...(opts.gap ? { gap: true } : {}), ...(opts.filled ? { filled: true } : {}) };
}

/** Deterministic PRNG (mulberry32) for the property tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const key = (s: SourceCoord): string => `${s.topic}/${s.partition}/${s.offset}`;
