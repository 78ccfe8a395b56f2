/**
 * A small builder of Grafana 10/11 dashboard JSON (schemaVersion 39) for raw InfluxQL targets.
 * Only the parts diffwatch's dashboards use; each function returns plain JSON with the keys in
 * the order Grafana exports them, so the generated files diff cleanly.
 *
 * @example
 * const p = timeseries({ id: 1, title: 'Lag', description: '…', gridPos: grid(0, 0, 12, 8),
 *   targets: [target('A', 'SELECT max("lag_messages") FROM "diffwatch_internal" WHERE $timeFilter GROUP BY time($__interval)')] });
 */

/** The provisioned datasource (grafana/provisioning/datasources/diffwatch-influxdb.yaml). */
export const DATASOURCE = { type: 'influxdb', uid: 'diffwatch-influxdb' } as const;

export type Json = Record<string, unknown>;
export interface GridPos { x: number; y: number; w: number; h: number }
export const grid = (x: number, y: number, w: number, h: number): GridPos => ({ x, y, w, h });

/** One raw InfluxQL target. `alias` is Grafana's legend template (`$tag_entity $col`). */
export function target(refId: string, query: string, opts: { format?: 'time_series' | 'table'; alias?: string } = {}): Json {
  return {
    refId, datasource: { ...DATASOURCE }, rawQuery: true, resultFormat: opts.format ?? 'time_series', query,
    ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
  };
}

/** A field override: `matcher` picks series (`byFrameRefID`, `byName`, `byRegexp`), `properties` set them. */
export const override = (matcher: string, options: string, properties: { id: string; value: unknown }[]): Json => ({ matcher: { id: matcher, options }, properties });
export const fixedColor = (color: string) => ({ id: 'color', value: { mode: 'fixed', fixedColor: color } });

export interface PanelArgs {
  id: number;
  title: string;
  description: string;
  gridPos: GridPos;
  targets: Json[];
  fieldConfig?: { defaults: Json; overrides: Json[] };
  options?: Json;
  transformations?: Json[];
}

function panel(type: string, p: PanelArgs, defaultOptions: Json): Json {
  return {
    id: p.id, type, title: p.title, description: p.description, datasource: { ...DATASOURCE }, gridPos: p.gridPos, targets: p.targets,
    fieldConfig: p.fieldConfig ?? { defaults: {}, overrides: [] }, options: p.options ?? defaultOptions,
    ...(p.transformations ? { transformations: p.transformations } : {}),
  };
}

export const legend = { displayMode: 'list', placement: 'bottom', showLegend: true } as const;
export const timeseries = (p: PanelArgs) => panel('timeseries', p, { legend, tooltip: { mode: 'multi', sort: 'none' } });
export const table = (p: PanelArgs) => panel('table', p, { showHeader: true });
export const bargauge = (p: PanelArgs) => panel('bargauge', p, {});

/** Line or bar drawing defaults of a time series panel. */
export const lines = (extra: Json = {}): Json => ({ drawStyle: 'line', lineWidth: 1, fillOpacity: 0, spanNulls: false, showPoints: 'never', ...extra });
export const stackedBars = (extra: Json = {}): Json => ({ drawStyle: 'bars', fillOpacity: 80, ...extra, stacking: { mode: 'normal', group: 'A' } });

/** A row: collapsed rows keep their panels inside (Grafana's export format). */
export function row(id: number, title: string, y: number, panels: Json[], collapsed = true): Json {
  return { id, type: 'row', title, collapsed, gridPos: grid(0, y, 24, 1), panels: collapsed ? panels : [] };
}

/** A query variable, multi-valued with "All", refreshed when the dashboard loads. */
export function queryVariable(name: string, label: string, query: string): Json {
  return {
    name, label, type: 'query', datasource: { ...DATASOURCE }, query, definition: query, refresh: 1, multi: true, includeAll: true,
    current: {}, options: [], regex: '', sort: 1, hide: 0,
  };
}

/** Grafana's built-in "Annotations & Alerts" entry, always first in the list. */
export const BUILT_IN_ANNOTATION: Json = {
  builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard',
};

export interface DashboardArgs {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  time: { from: string; to: string };
  annotations?: Json[];
  variables: Json[];
  panels: Json[];
}

export function dashboard(d: DashboardArgs): Json {
  return {
    uid: d.uid, title: d.title, description: d.description, tags: d.tags, timezone: 'browser', editable: true, graphTooltip: 1,
    schemaVersion: 39, version: 1, refresh: '30s', time: d.time, fiscalYearStartMonth: 0, liveNow: false,
    annotations: { list: [BUILT_IN_ANNOTATION, ...(d.annotations ?? [])] }, templating: { list: d.variables }, links: [], panels: d.panels,
  };
}

/** The file text: two-space JSON and a final newline. */
export const renderDashboard = (d: Json): string => JSON.stringify(d, null, 2) + '\n';
