import { describe, expect, it } from 'vitest';
import { DiffwatchError } from '../../../../src/errors.ts';
import { createAnomalyCodec } from '../../../../src/ingest/codec/anomalyCodec.ts';
import { frameConfluent } from '../../../../src/ingest/codec/confluentWire.ts';
import { parseSchema } from '../../../../src/ingest/codec/loadSchema.ts';
import type { AnomalyEvent } from '../../../../src/types.ts';
import { anomalyBytes } from './fixtures.ts';

const event: AnomalyEvent = anomalyBytes.event;
const codec = createAnomalyCodec();

function encodeError(e: AnomalyEvent): { code: string; field: unknown } {
  try {
    codec.encode(e);
  } catch (err) {
    expect(err).toBeInstanceOf(DiffwatchError);
    return { code: (err as DiffwatchError).code, field: (err as DiffwatchError).coords.field };
  }
  throw new Error('expected encode to throw');
}

describe('createAnomalyCodec', () => {
  it('round-trips every state and severity to plain objects', () => {
    for (const state of ['open', 'ongoing', 'resolved'] as const) {
      for (const severity of ['info', 'warning', 'critical'] as const) {
        const e = { ...event, state, severity, contributions: [] };
        const decoded = codec.decode(codec.encode(e));
        expect(decoded).toEqual(e);
        expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
      }
    }
  });

  it('frames with a schema id and refuses another id or a bad frame', () => {
    const framed = createAnomalyCodec(undefined, { schemaId: 12 });
    const bytes = framed.encode(event);
    expect(bytes.subarray(0, 5).toString('hex')).toBe('000000000c');
    expect(bytes.subarray(5).toString('hex')).toBe(anomalyBytes.avroHex);
    expect(framed.decode(bytes)).toEqual(event);
    expect(() => framed.decode(frameConfluent(13, codec.encode(event)))).toThrow(expect.objectContaining({ code: 'SCHEMA_UNKNOWN' }));
    expect(() => framed.decode(codec.encode(event))).toThrow(expect.objectContaining({ code: 'DECODE_FAILED' }));
  });

  it('reports bad bytes as DECODE_FAILED', () => {
    const bytes = codec.encode(event);
    expect(() => codec.decode(bytes.subarray(0, bytes.length - 1))).toThrow(expect.objectContaining({ code: 'DECODE_FAILED' }));
    expect(() => codec.decode(Buffer.concat([bytes, Buffer.from([1])]))).toThrow(/trailing data/);
  });

  it('refuses invalid events with the field path', () => {
    expect(encodeError({ ...event, state: 'closed' as AnomalyEvent['state'] })).toEqual({ code: 'RECORD_INVALID', field: 'state' });
    expect(encodeError({ ...event, detectedAt: Number.NaN })).toEqual({ code: 'RECORD_INVALID', field: 'detectedAt' });
    expect(encodeError({ ...event, score: Number.POSITIVE_INFINITY })).toEqual({ code: 'NON_FINITE_VALUE', field: 'score' });
    const shares = [{ channel: 'a', share: 1 }, { channel: 'b', share: Number.NaN }];
    expect(encodeError({ ...event, contributions: shares })).toEqual({ code: 'NON_FINITE_VALUE', field: 'contributions.1.share' });
  });

  it('reads events of an older writer, filling defaults, and maps unknown enum symbols to the fallback', () => {
    // An older writer: no kind, modelVersion or contributions, and a state symbol this reader does not know.
    const old = parseSchema({
      type: 'record', name: 'io.diffwatch.AnomalyEvent', fields: [
        { name: 'eventId', type: 'string' }, { name: 'entityId', type: 'string' },
        { name: 'state', type: { type: 'enum', name: 'AnomalyState', symbols: ['open', 'acknowledged'] } },
        { name: 'severity', type: { type: 'enum', name: 'Severity', symbols: ['info', 'warning', 'critical'] } },
        { name: 'startTime', type: 'long' }, { name: 'endTime', type: 'long' }, { name: 'detectedAt', type: 'long' },
        { name: 'score', type: 'double' }, { name: 'threshold', type: 'double' },
      ],
    });
    const bytes = old.toBuffer({ ...event, state: 'acknowledged' });
    const decoded = codec.type.fromBuffer(bytes, codec.type.createResolver(old));
    expect(decoded).toMatchObject({ kind: 'anomaly', state: 'ongoing', modelVersion: 'unknown', contributions: [], score: event.score });
  });
});
