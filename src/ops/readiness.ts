/**
 * Readiness: the service is ready when every check passes. Each check is a function read when
 * asked (cheap: it returns what an event or the last probe recorded), so `/readyz` never waits
 * on the network.
 *
 *   kafka_group     the consumer is in its group with partitions assigned
 *   kafka_broker    a broker answered the last DescribeCluster probe
 *   kafka_producer  the producer is connected
 *   influxdb        InfluxDB answered the last /ping probe with 204
 *   scorer          the scorer (and its models) is loaded
 *
 * @example
 * const readiness = createReadiness({ scorer: () => ({ ok: loaded }) , ... });
 * readiness.report(); // { ready: false, checks: { scorer: { ok: false, reason: 'loading' }, ... } }
 */

export const READY_CHECKS = ['kafka_group', 'kafka_broker', 'kafka_producer', 'influxdb', 'scorer'] as const;
export type ReadyCheck = (typeof READY_CHECKS)[number];

export interface CheckResult {
  ok: boolean;
  /** Why not, when not ok. */
  reason?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<ReadyCheck, CheckResult>;
  /** The checks that fail, for the 503 body. */
  notReady: ReadyCheck[];
}

export interface Readiness {
  report(): ReadinessReport;
}

export function createReadiness(checks: Readonly<Record<ReadyCheck, () => CheckResult>>): Readiness {
  return {
    report() {
      const results = {} as Record<ReadyCheck, CheckResult>;
      for (const name of READY_CHECKS) {
        try {
          results[name] = checks[name]();
        } catch (e) {
          results[name] = { ok: false, reason: (e as Error).message };
        }
      }
      const notReady = READY_CHECKS.filter((n) => !results[n].ok);
      return { ready: notReady.length === 0, checks: results, notReady };
    },
  };
}

/** The last outcome of an asynchronous probe, as a check: not ok until it has answered once. */
export class ProbeState {
  private last: CheckResult;
  /** ms epoch of the last outcome. */
  at = 0;
  constructor(what: string) {
    this.last = { ok: false, reason: `${what} not probed yet` };
  }
  record(result: CheckResult, now = Date.now()): void {
    this.last = result;
    this.at = now;
  }
  readonly check = (): CheckResult => this.last;
}
