/** The sinks: InfluxDB (scores and alerts) and the `anomalies` Kafka topic. */
export { alertId, eventId, ID_HEX_LENGTH } from './alertId.ts';
export { ANOMALY_HEADERS, anomalyMessage, createAnomalyProducer, type AnomalyProducer, type AnomalyProducerOptions } from './anomalyProducer.ts';
export { backoffCeiling, backoffDelay, type BackoffOptions, type Random, type Sleep } from './backoff.ts';
export {
  ALERT_FIELDS, ALERT_TAGS, ALERTS_MEASUREMENT, CONTRIB_FIELD_PREFIX, SCORE_FIELDS, SCORE_TAGS, SCORES_MEASUREMENT,
  alertPoint, scorePoint, scoreState, type ScoreState,
} from './influxPoints.ts';
export { createInfluxWriter, type InfluxWriter, type InfluxWriterOptions, type InfluxWriterStats, type WriteResult } from './influxWriter.ts';
export { PointInvalid, toLineProtocol } from './lineProtocol.ts';
export type { Timers } from './lineBuffer.ts';
