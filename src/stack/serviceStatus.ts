/** What `diffwatch stack status` reports for one service. */
export interface ServiceStatus {
  service: 'kafka' | 'influxdb' | 'registry';
  version: string | null;
  /** The process we started and still own, or null. */
  pid: number | null;
  port: number;
  /** Answered a real request (Kafka metadata, InfluxDB /ping → 204). */
  healthy: boolean;
  /** Healthy, but not started by this stack (no pid file of ours); `down` leaves it alone. */
  external: boolean;
  log: string;
}

export interface StackStatus {
  healthy: boolean;
  kafka: ServiceStatus;
  influxdb: ServiceStatus;
  /** The schema registry; only in the overall health while this stack runs it. */
  registry: ServiceStatus;
}
