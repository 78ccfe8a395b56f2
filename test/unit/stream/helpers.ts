import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { Reading, Row, SourceCoord } from '../../../src/types.ts';
import { mulberry32 as prng } from '../../../src/random.ts';
export { prng };

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


export const key = (s: SourceCoord): string => `${s.topic}/${s.partition}/${s.offset}`;
