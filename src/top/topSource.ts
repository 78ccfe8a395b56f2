/**
 * Where `top`'s frames come from: each `next()` reads InfluxDB and the operator endpoint at once
 * and turns them into a `Frame`. It keeps the previous scrape, because rates are counter deltas
 * between consecutive scrapes. Either side failing leaves the other on screen.
 *
 * @example
 * const source = createTopSource({ influx, ops, influxUrl, database });
 * const frame = await source.next();
 */
import type { InfluxLatest } from './influxLatest.ts';
import type { OpsProbe } from './opsProbe.ts';
import { entityRows, throughput, type Frame, type InfluxView, type OpsScrape, type OpsView } from './topModel.ts';

export interface TopSourceOptions {
  influx: InfluxLatest;
  /** undefined: no endpoint to read (ops.http off or on port 0, and no --metrics). */
  ops: OpsProbe | undefined;
  /** Shown in the header (without credentials). */
  influxUrl: string;
  database: string;
  now?: () => number;
}

export interface TopSource {
  next(): Promise<Frame>;
}

const NO_ENDPOINT = 'no endpoint known: ops.http is off or on port 0; pass --metrics <url>';

export function createTopSource(opts: TopSourceOptions): TopSource {
  const now = opts.now ?? Date.now;
  let previous: OpsScrape | undefined;

  async function influxView(): Promise<InfluxView> {
    try {
      const { scores, alerts } = await opts.influx.read();
      return { ok: true, rows: entityRows(scores, alerts) };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  async function opsView(): Promise<OpsView> {
    if (!opts.ops) return { reachable: false, url: null, error: NO_ENDPOINT };
    const r = await opts.ops.read();
    if (!r.ok) {
      previous = undefined; // a rate across an outage would average over it
      return { reachable: false, url: opts.ops.metricsUrl, error: r.error };
    }
    const view: OpsView = { reachable: true, url: opts.ops.metricsUrl, throughput: throughput(previous, r.scrape), lag: r.scrape.lag, readiness: r.readiness };
    previous = r.scrape;
    return view;
  }

  return {
    async next() {
      const [influx, ops] = await Promise.all([influxView(), opsView()]);
      return { at: now(), influxUrl: opts.influxUrl, database: opts.database, influx, ops };
    },
  };
}
