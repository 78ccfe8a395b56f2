import { describe, expect, it } from 'vitest';
import { parseLines } from '../../../bench/e2e/influxProxy.ts';
import { LoadGenerator, SPIKE } from '../../../bench/e2e/loadGenerator.ts';
import { arrivalRate, percentiles } from '../../../bench/e2e/rate.ts';
import { generatorWindows } from '../../../bench/e2e/scorerCeiling.ts';
import { defaultReadingType } from '../../../src/ingest/codec/index.ts';

describe('influx proxy line parsing', () => {
  it('reads measurement and timestamp, with escapes, quoted spaces and the precision', () => {
    const body = ['scores,entity=a\\ b\\,c score=1.5 1700000000123', 'my\\ meas,t=x f="two words" 17', 'alerts f=1', ''].join('\n');
    expect(parseLines(body, 'ms', 5)).toEqual([
      { measurement: 'scores', timeMs: 1700000000123, ackedAtMs: 5 },
      { measurement: 'my meas', timeMs: 17, ackedAtMs: 5 },
    ]);
    expect(parseLines('m f=1 2000000000', 'ns', 0)[0].timeMs).toBeCloseTo(2000, 9);
    expect(parseLines('m f=1 3', 's', 0)[0].timeMs).toBe(3000);
  });
});

describe('rates and percentiles', () => {
  it('leaves out the first lump when the clock starts at it, and counts it after start()', () => {
    const m = arrivalRate();
    m.add(100, 1_000);
    m.add(50, 1_500);
    m.add(50, 2_000);
    expect(m.perSecond()).toBe(100);
    const s = arrivalRate();
    s.start(0);
    s.add(100, 1_000);
    s.add(100, 2_000);
    expect(s.perSecond()).toBe(100);
    expect(arrivalRate().perSecond()).toBeNaN();
  });

  it('gives nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 shuffled order
    expect(percentiles(xs)).toEqual({ n: 100, p50: 50, p99: 99, max: 100 });
    expect(percentiles([7])).toEqual({ n: 1, p50: 7, p99: 7, max: 7 });
    expect(percentiles([]).p99).toBeNaN();
  });
});

describe('load generator', () => {
  it('stamps live readings strictly increasing per entity and round-robin, and spikes only the injected entity', () => {
    const gen = new LoadGenerator({ entities: 3, channels: 2, seed: 1 });
    const backlog = [...gen.backlog(4, 10_000)];
    expect(backlog).toHaveLength(12);
    const last = defaultReadingType().fromBuffer(backlog[11].value as Buffer) as { timestamp: number | Date };
    expect(Number(last.timestamp)).toBe(10_000);
    gen.inject(1, 2);
    const live = Array.from({ length: 9 }, () => gen.live(10_000)); // the clock stands still
    expect(live.map((l) => l.entity)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(live.filter((l) => l.entity === 0).map((l) => l.reading.timestamp)).toEqual([10_001, 10_002, 10_003]);
    expect(live.map((l) => l.spiked)).toEqual([false, true, false, false, true, false, false, false, false]);
    const normal = live.filter((l) => !l.spiked).map((l) => Math.abs(l.reading.values.c00));
    expect(Math.max(...normal)).toBeLessThan(2);
    expect(live[1].reading.values.c00).toBeGreaterThan(SPIKE - 2);
  });

  it('builds windows of L consecutive readings, interleaved across entities', () => {
    const gen = new LoadGenerator({ entities: 2, channels: 3, seed: 2 });
    const ws = generatorWindows(gen, 8, 4);
    expect(ws).toHaveLength(8);
    expect(ws.slice(0, 4).map((w) => w.entityId)).toEqual(['machine-00000', 'machine-00001', 'machine-00000', 'machine-00001']);
    expect(ws[0].values).toHaveLength(24);
    expect(ws[2].values[0]).toBe(ws[0].values[3]); // the next window starts one row later
    expect(ws[2].endTime - ws[0].endTime).toBe(1_000);
  });
});
