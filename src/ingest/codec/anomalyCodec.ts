/**
 * `AnomalyEvent` ⇄ bytes for the anomalies topic (schemas/anomaly-event.avsc): plain Avro,
 * or Confluent framing when the schema's registry id is given.
 *
 * @example
 *   const codec = createAnomalyCodec();
 *   await producer.send({ topic: 'anomalies', messages: [{ key: event.entityId, value: codec.encode(event) }] });
 */
import type avro from 'avsc';
import { DiffwatchError } from '../../errors.ts';
import type { AnomalyEvent } from '../../types.ts';
import { frameConfluent, unframeConfluent } from './confluentWire.ts';
import { ANOMALY_SCHEMA_PATH, loadSchema } from './loadSchema.ts';
import { TimestampRangeError } from './timestampMillis.ts';
import { findInvalidField, type FieldProblem } from './validateReading.ts';

export interface AnomalyCodecOptions {
  /** Registry id of the schema: `encode` frames with it and `decode` expects it. */
  schemaId?: number;
}

export interface AnomalyCodec {
  readonly type: avro.Type;
  /** @throws DiffwatchError `RECORD_INVALID` / `NON_FINITE_VALUE` with the field path */
  encode(event: AnomalyEvent): Buffer;
  /** @throws DiffwatchError `DECODE_FAILED`, `SCHEMA_UNKNOWN` or `RECORD_INVALID` */
  decode(buf: Buffer): AnomalyEvent;
}

/** Scores and shares must be finite: NaN would pass the Avro type and mislead every consumer. */
function findNonFinite(event: AnomalyEvent): FieldProblem | undefined {
  const numbers: [string, number][] = [
    ['score', event.score],
    ['threshold', event.threshold],
    ...event.contributions.map((c, i): [string, number] => [`contributions.${i}.share`, c.share]),
  ];
  const bad = numbers.find(([, value]) => !Number.isFinite(value));
  return bad && { code: 'NON_FINITE_VALUE', field: bad[0], message: `${bad[0]}: ${bad[1]} is not finite` };
}

/** A plain event from an avsc record instance, so that consumers compare and spread it freely. */
function toAnomalyEvent(r: Record<string, unknown>): AnomalyEvent {
  const contributions = r.contributions as { channel: string; share: number }[];
  return {
    eventId: r.eventId as string,
    entityId: r.entityId as string,
    kind: r.kind as string,
    state: r.state as AnomalyEvent['state'],
    severity: r.severity as AnomalyEvent['severity'],
    startTime: r.startTime as number,
    endTime: r.endTime as number,
    detectedAt: r.detectedAt as number,
    score: r.score as number,
    threshold: r.threshold as number,
    modelVersion: r.modelVersion as string,
    contributions: contributions.map(({ channel, share }) => ({ channel, share })),
  };
}

export function createAnomalyCodec(schemaPath: string = ANOMALY_SCHEMA_PATH, opts: AnomalyCodecOptions = {}): AnomalyCodec {
  const type = loadSchema(schemaPath);
  const { schemaId } = opts;

  const encode = (event: AnomalyEvent): Buffer => {
    const problem = findInvalidField(type, event) ?? (event.contributions ? findNonFinite(event) : undefined);
    if (problem) {
      throw new DiffwatchError(problem.code, `cannot encode anomaly event: ${problem.message}`, {
        coords: { field: problem.field, entityId: event.entityId },
      });
    }
    const payload = type.toBuffer(event);
    return schemaId === undefined ? payload : frameConfluent(schemaId, payload);
  };

  const decode = (buf: Buffer): AnomalyEvent => {
    let payload = buf;
    if (schemaId !== undefined) {
      const frame = unframeConfluent(buf);
      if (!frame.ok) throw new DiffwatchError('DECODE_FAILED', frame.reason);
      if (frame.schemaId !== schemaId) {
        throw new DiffwatchError('SCHEMA_UNKNOWN', `anomaly event written with schema id ${frame.schemaId}, expected ${schemaId}`);
      }
      payload = frame.payload;
    }
    try {
      return toAnomalyEvent(type.fromBuffer(payload) as Record<string, unknown>);
    } catch (err) {
      if (err instanceof TimestampRangeError) throw new DiffwatchError('RECORD_INVALID', err.message);
      throw new DiffwatchError('DECODE_FAILED', `anomaly event decode failed: ${(err as Error).message}`);
    }
  };

  return { type, encode, decode };
}
