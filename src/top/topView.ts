/**
 * The screen of `diffwatch top`, drawn with ink (React for terminals,
 * https://github.com/vadimdemedes/ink) from one `Frame`: a header, one row per entity, then the
 * pipeline's throughput, lag and readiness. A pure function of its props, so it renders the same
 * in the live app and in `renderToString` (`--once`, the unit tests). Written with
 * `React.createElement` (`h`) rather than JSX, so the sources stay plain `.ts`.
 *
 * @example
 * process.stdout.write(renderToString(topView({ frame }), { columns: 120 }) + '\n');
 */
import { Box, Text } from 'ink';
import React, { type ReactElement } from 'react';
import { printable } from '../textRules.ts';
import { formatNumber, formatRate, formatTime, type EntityRow, type EntityState, type Frame, type OpsView } from './topModel.ts';

const h = React.createElement;

export interface TopViewProps {
  frame: Frame | undefined;
  /** Entity rows that fit; the rest are counted. Default: all. */
  maxRows?: number;
  /** Whether `q` quits (the live app); `--once` has no keys. */
  keys?: boolean;
}

const STATE_COLOR: Record<EntityState, string> = {
  anomaly: 'red',
  'cold start': 'cyan',
  'warm-up': 'yellow',
  gap: 'magenta',
  normal: 'green',
  unknown: 'gray',
};
const SEVERITY_COLOR: Record<string, string> = { critical: 'red', warning: 'yellow', info: 'blue' };

/** Column widths in characters: with the longest entity column they fill 120 columns. */
const COL = { state: 11, score: 10, threshold: 12, model: 19, alerts: 21, window: 19 } as const;
const ENTITY_MIN = 8;
const ENTITY_MAX = 28;

/** One cell: fixed width, truncated, optionally right-aligned. */
function cell(width: number, text: string, props: Record<string, unknown> = {}, right = false): ReactElement {
  return h(Box, { width, flexShrink: 0, justifyContent: right ? 'flex-end' : 'flex-start', paddingRight: right ? 2 : 0 }, h(Text, { wrap: 'truncate', ...props }, text));
}

/**
 * Text from the data (entity ids, kinds, versions) with control characters escaped
 * (textRules.ts): an id holding an escape sequence must not drive the terminal.
 */
const shown = (text: string): string => printable(text, 64);

function alertsText(row: EntityRow): string {
  if (row.openAlerts.length === 0) return '-';
  const [first] = row.openAlerts;
  const more = row.openAlerts.length > 1 ? ` +${row.openAlerts.length - 1}` : '';
  return `${row.openAlerts.length} ${shown(first.severity)} ${shown(first.kind)}${more}`;
}

function headerRow(entityWidth: number): ReactElement {
  const dim = { bold: true, dimColor: true };
  return h(
    Box,
    null,
    cell(entityWidth, 'ENTITY', dim),
    cell(COL.state, 'STATE', dim),
    cell(COL.score, 'SCORE', dim, true),
    cell(COL.threshold, 'THRESHOLD', dim, true),
    cell(COL.model, 'MODEL', dim),
    cell(COL.alerts, 'OPEN ALERTS', dim),
    cell(COL.window, 'LAST WINDOW (UTC)', dim),
  );
}

function entityRow(row: EntityRow, entityWidth: number): ReactElement {
  const over = row.score !== null && row.threshold !== null && row.score >= row.threshold;
  const alertColor = row.openAlerts.length > 0 ? SEVERITY_COLOR[row.openAlerts[0].severity] ?? 'red' : undefined;
  return h(
    Box,
    { key: row.entity },
    cell(entityWidth, shown(row.entity)),
    cell(COL.state, row.state, { color: STATE_COLOR[row.state], bold: row.state === 'anomaly' }),
    cell(COL.score, formatNumber(row.score), { color: over ? 'red' : undefined, bold: over }, true),
    cell(COL.threshold, formatNumber(row.threshold), {}, true),
    cell(COL.model, row.modelVersion === 'none' ? 'none (cold start)' : row.modelVersion === null ? '-' : shown(row.modelVersion), { dimColor: true }),
    cell(COL.alerts, alertsText(row), { color: alertColor }),
    cell(COL.window, formatTime(row.windowTime), { dimColor: true }),
  );
}

function entitiesSection(frame: Frame, maxRows: number): ReactElement {
  if (!frame.influx.ok) return h(Text, { color: 'red' }, `InfluxDB: ${frame.influx.error}`);
  const { rows } = frame.influx;
  if (rows.length === 0) return h(Text, { dimColor: true }, `no scores in database ${frame.database} yet`);
  const entityWidth = Math.min(ENTITY_MAX, Math.max(ENTITY_MIN, ...rows.map((r) => shown(r.entity).length + 2)));
  const visible = rows.slice(0, Math.max(1, maxRows));
  const hidden = rows.length - visible.length;
  return h(
    Box,
    { flexDirection: 'column' },
    headerRow(entityWidth),
    ...visible.map((r) => entityRow(r, entityWidth)),
    hidden > 0 ? h(Text, { key: 'more', dimColor: true }, `… ${hidden} more entities (anomalies and open alerts are listed first)`) : null,
  );
}

function label(text: string): ReactElement {
  return h(Box, { width: 14 }, h(Text, { bold: true }, text));
}

function pipelineSection(ops: OpsView): ReactElement {
  if (!ops.reachable) {
    return h(
      Box,
      { flexDirection: 'column' },
      h(Box, null, label('/metrics'), h(Text, { color: 'yellow' }, ops.url ? `unreachable at ${ops.url}: ${ops.error}` : ops.error)),
      h(Text, { dimColor: true }, 'no live service: the rows above are the last state InfluxDB holds'),
    );
  }
  const { readingsPerSecond, windowsPerSecond } = ops.throughput;
  const r = ops.readiness;
  return h(
    Box,
    { flexDirection: 'column' },
    h(Box, null, label('throughput'), h(Text, null, `readings/s ${formatRate(readingsPerSecond)}   windows/s ${formatRate(windowsPerSecond)}`)),
    h(Box, null, label('consumer lag'), h(Text, null, ops.lag === null ? '- (not measured yet)' : `${ops.lag} messages`)),
    h(
      Box,
      null,
      label('readiness'),
      r === null ? h(Text, { color: 'yellow' }, 'unknown (/readyz did not answer)') : r.ready ? h(Text, { color: 'green' }, 'ready') : h(Text, { color: 'red' }, `not ready: ${r.notReady.join(', ') || '?'}`),
    ),
    h(Text, { dimColor: true }, ops.url),
  );
}

export function TopView({ frame, maxRows = Number.POSITIVE_INFINITY, keys = false }: TopViewProps): ReactElement {
  const title = h(Text, { bold: true, color: 'cyan' }, 'diffwatch top');
  if (!frame) return h(Box, { flexDirection: 'column' }, title, h(Text, { dimColor: true }, 'reading InfluxDB and /metrics…'));
  const where = `InfluxDB ${frame.influxUrl} db ${frame.database}`;
  return h(
    Box,
    { flexDirection: 'column' },
    h(Box, null, title, h(Text, { dimColor: true }, `  ${where}  ·  ${formatTime(frame.at)} UTC${keys ? '  ·  q quits' : ''}`)),
    h(Box, { marginTop: 1 }, entitiesSection(frame, maxRows)),
    h(Box, { marginTop: 1 }, pipelineSection(frame.ops)),
  );
}

/** The element for `render` and `renderToString`. */
export const topView = (props: TopViewProps): ReactElement => h(TopView, props);
