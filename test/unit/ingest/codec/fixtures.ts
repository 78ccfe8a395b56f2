/** Paths and known bytes shared by the codec tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnomalyEvent, SensorReading, SourceCoord } from '../../../../src/types.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../../../fixtures/schemas/${name}`, import.meta.url));

export const READING_V1_SCHEMA = fixture('sensor-reading.v1.avsc');
export const READING_SCHEMA = fileURLToPath(new URL('../../../../schemas/sensor-reading.avsc', import.meta.url));

export interface ReadingBytes {
  reading: SensorReading;
  avroHex: string;
  confluentSchemaId: number;
  confluentHex: string;
  v1: { record: { entityId: string; timestamp: number; values: Record<string, number>; site: string }; avroHex: string };
  jsonText: string;
}
export const readingBytes = JSON.parse(readFileSync(fixture('sensor-reading.bytes.json'), 'utf8')) as ReadingBytes;
export const anomalyBytes = JSON.parse(readFileSync(fixture('anomaly-event.bytes.json'), 'utf8')) as { event: AnomalyEvent; avroHex: string };

export const source = (topic: string, offset = '42'): SourceCoord => ({ topic, partition: 3, offset });
