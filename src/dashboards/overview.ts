/**
 * The "diffwatch overview" dashboard (grafana/dashboards/diffwatch-overview.json): scores, window
 * states and alerts per entity. The top panels read the raw points (the database's default
 * policy, kept `sinks.retention.raw`); two collapsed rows repeat the time-series panels over the
 * 1-minute and 1-hour roll-ups (src/sinks/rollups.ts), for ranges the raw points no longer cover
 * or cover with too many points. Raw InfluxQL cannot switch measurement and fields by range, so
 * the reader picks the row (grafana/README.md).
 */
import { ALERT_FIELDS, ALERT_TAGS, ALERTS_MEASUREMENT, CONTRIB_FIELD_PREFIX, SCORE_FIELDS, SCORE_TAGS, SCORES_MEASUREMENT, type ScoreState } from '../sinks/influxPoints.ts';
import { ALERT_ROLLUP_FIELDS, ROLLUP_POLICY, rollupMeasurement, SCORE_ROLLUP_FIELDS, type Resolution } from '../sinks/rollups.ts';
import {
  bargauge, dashboard, fixedColor, grid, lines, override, queryVariable, row, stackedBars, table, target, timeseries, type Json,
} from './grafana.ts';
import { agg, from, id, matches } from './influxql.ts';

const S = SCORE_FIELDS;
const A = ALERT_FIELDS;
const SCORES = from(SCORES_MEASUREMENT);
const ALERTS = from(ALERTS_MEASUREMENT);
const ENTITY = matches(SCORE_TAGS.entity, 'entity');
const MODEL = matches(SCORE_TAGS.modelVersion, 'model_version');
const PER_ENTITY = `GROUP BY time($__interval), ${id(SCORE_TAGS.entity)} fill(none)`;

const STATE_COLORS: [ScoreState, string][] = [['normal', 'green'], ['warmup', 'blue'], ['gap', 'orange'], ['anomaly', 'red']];
const SEVERITY_COLORS = [['info', 'blue'], ['warning', 'orange'], ['critical', 'red']];
const ALERT_COLUMNS = [ALERT_TAGS.entity, ALERT_TAGS.kind, ALERT_TAGS.state, ALERT_TAGS.severity, A.score, A.topChannel, A.eventId].map(id).join(', ');
const newestFirst = { showHeader: true, sortBy: [{ displayName: 'Time', desc: true }] };

/** Mean score and threshold per entity; red points where an interval had an anomalous window. */
function scoreTimeseries(panelId: number, title: string, description: string, y: number, targets: Json[]): Json {
  return timeseries({
    id: panelId, title, description, gridPos: grid(0, y, 16, 9), targets,
    fieldConfig: {
      defaults: { custom: lines() },
      overrides: [
        override('byFrameRefID', 'B', [{ id: 'custom.drawStyle', value: 'points' }, { id: 'custom.pointSize', value: 9 }, { id: 'custom.showPoints', value: 'always' }, fixedColor('red')]),
        override('byRegexp', '.* threshold$', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]),
      ],
    },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
  });
}

function statesPanel(panelId: number, title: string, description: string, gridPos: ReturnType<typeof grid>, targets: Json[], byRefId: boolean): Json {
  return timeseries({
    id: panelId, title, description, gridPos, targets,
    fieldConfig: {
      defaults: { custom: stackedBars({ lineWidth: 1 }), unit: 'short', decimals: 0 },
      overrides: STATE_COLORS.map(([state, color], k) => override(byRefId ? 'byFrameRefID' : 'byName', byRefId ? 'ABCD'[k] : state, [fixedColor(color)])),
    },
  });
}

function alertsPanel(panelId: number, title: string, gridPos: ReturnType<typeof grid>, query: string): Json {
  return timeseries({
    id: panelId, title, description: 'Alert events (open, ongoing and resolved) written per interval, stacked by severity.', gridPos,
    targets: [target('A', query, { alias: '$tag_severity' })],
    fieldConfig: {
      defaults: { custom: stackedBars(), unit: 'short', decimals: 0 },
      overrides: SEVERITY_COLORS.map(([severity, color]) => override('byName', severity, [fixedColor(color)])),
    },
  });
}

/** Panels 1–7: the raw points. */
function rawPanels(): Json[] {
  return [
    scoreTimeseries(1, 'Score and threshold: $entity', 'Window score (mean per interval) against the alert threshold; red points mark intervals with an anomalous window (their highest score).', 0, [
      target('A', `SELECT ${agg('mean', S.score, 'score')}, ${agg('mean', S.threshold, 'threshold')} FROM ${SCORES} WHERE ${ENTITY} AND ${MODEL} AND $timeFilter ${PER_ENTITY}`, { alias: '$tag_entity $col' }),
      target('B', `SELECT ${agg('max', S.score, 'anomaly')} FROM ${SCORES} WHERE ${id(S.anomaly)} = true AND ${ENTITY} AND ${MODEL} AND $timeFilter ${PER_ENTITY}`, { alias: '$tag_entity $col' }),
    ]),
    table({
      id: 2, title: 'Entities: latest score', description: 'Every entity that wrote a score in the time range, with its latest score and window state.', gridPos: grid(16, 0, 8, 9),
      targets: [target('A', `SELECT ${agg('last', S.score, 'score')}, ${agg('last', S.state, 'state')} FROM ${SCORES} WHERE $timeFilter GROUP BY ${id(SCORE_TAGS.entity)}`, { format: 'table' })],
      fieldConfig: { defaults: { custom: { align: 'auto' } }, overrides: [override('byName', 'Time', [{ id: 'custom.hidden', value: true }])] },
      options: { showHeader: true, sortBy: [{ displayName: 'score', desc: true }] },
    }),
    statesPanel(3, 'Window states per interval', 'Windows scored per interval, by state: normal, warmup (too little history), gap (missing data), anomaly (above threshold).', grid(0, 9, 12, 8),
      STATE_COLORS.map(([state], k) => target('ABCD'[k], `SELECT ${agg('count', S.state, state)} FROM ${SCORES} WHERE ${id(S.state)} = '${state}' AND ${ENTITY} AND ${MODEL} AND $timeFilter GROUP BY time($__interval) fill(0)`, { alias: state })), true),
    alertsPanel(4, 'Alert events per interval by severity', grid(12, 9, 12, 8),
      `SELECT ${agg('count', A.eventId, 'events')} FROM ${ALERTS} WHERE ${matches(ALERT_TAGS.entity, 'entity')} AND $timeFilter GROUP BY time($__interval), ${id(ALERT_TAGS.severity)} fill(0)`),
    bargauge({
      id: 5, title: 'Channel shares of anomalous windows', description: 'Mean share of each channel in the evidence of the anomalous windows: which channels drive the alerts.', gridPos: grid(0, 17, 8, 9),
      targets: [target('A', `SELECT mean(/^${CONTRIB_FIELD_PREFIX}/) FROM ${SCORES} WHERE ${id(S.anomaly)} = true AND ${ENTITY} AND ${MODEL} AND $timeFilter`, { format: 'table' })],
      fieldConfig: { defaults: { unit: 'percentunit', min: 0, max: 1 }, overrides: [] },
      options: { orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true, reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
      transformations: [
        { id: 'organize', options: { excludeByName: { Time: true } } },
        { id: 'renameByRegex', options: { regex: `^mean_${CONTRIB_FIELD_PREFIX}(.*)$`, renamePattern: '$1' } },
      ],
    }),
    table({
      id: 6, title: 'Alerts: $entity', description: 'Alert events of the selected entities, newest first: open, ongoing and resolved, with the channel that contributed most.', gridPos: grid(8, 17, 16, 9),
      targets: [target('A', `SELECT ${ALERT_COLUMNS} FROM ${ALERTS} WHERE ${matches(ALERT_TAGS.entity, 'entity')} AND $timeFilter ORDER BY time DESC LIMIT 1000`, { format: 'table' })],
      options: newestFirst,
    }),
    table({
      id: 7, title: 'Alerts: all entities', description: 'Alert events of every entity, newest first, whatever the entity selection.', gridPos: grid(0, 26, 24, 9),
      targets: [target('A', `SELECT ${ALERT_COLUMNS} FROM ${ALERTS} WHERE $timeFilter ORDER BY time DESC LIMIT 1000`, { format: 'table' })],
      options: newestFirst,
    }),
  ];
}

const RESOLUTION_TEXT: Record<Resolution, { name: string; kept: string; use: string }> = {
  '1m': { name: '1-minute', kept: 'sinks.retention.minute, 365 days by default', use: 'ranges of days to months' },
  '1h': { name: '1-hour', kept: 'sinks.retention.hour, forever by default', use: 'ranges of months and more' },
};

/** A collapsed row with the score, state and alert panels over one roll-up resolution. */
function rollupRow(r: Resolution, firstId: number, y: number): Json {
  const R = SCORE_ROLLUP_FIELDS;
  const scores = from(rollupMeasurement(SCORES_MEASUREMENT, r), ROLLUP_POLICY[r]);
  const alerts = from(rollupMeasurement(ALERTS_MEASUREMENT, r), ROLLUP_POLICY[r]);
  const { name, kept, use } = RESOLUTION_TEXT[r];
  const suffix = ` (${r} roll-ups)`;
  return row(firstId, `${name} roll-ups: ${use} (kept ${kept})`, y, [
    scoreTimeseries(firstId + 1, `Score and threshold${suffix}: $entity`, `Mean window score per interval (exact: the sum of scores over their count) against the highest threshold; red points mark intervals with an anomalous window (their highest score). From the ${name} roll-ups.`, y + 1, [
      target('A', `SELECT sum(${id(R.scoreSum)}) / sum(${id(R.scoreCount)}) AS ${id('score')}, ${agg('max', R.thresholdMax, 'threshold')} FROM ${scores} WHERE ${ENTITY} AND ${MODEL} AND $timeFilter ${PER_ENTITY}`, { alias: '$tag_entity $col' }),
      target('B', `SELECT ${agg('max', R.anomalyScoreMax, 'anomaly')} FROM ${scores} WHERE ${ENTITY} AND ${MODEL} AND $timeFilter ${PER_ENTITY}`, { alias: '$tag_entity $col' }),
    ]),
    statesPanel(firstId + 2, `Window states per interval${suffix}`, `Windows scored per interval, by state, from the ${name} roll-ups.`, grid(16, y + 1, 8, 9),
      [target('A', `SELECT ${STATE_COLORS.map(([state]) => agg('sum', R[state], state)).join(', ')} FROM ${scores} WHERE ${ENTITY} AND ${MODEL} AND $timeFilter GROUP BY time($__interval) fill(0)`, { alias: '$col' })], false),
    alertsPanel(firstId + 3, `Alert events per interval by severity${suffix}`, grid(0, y + 10, 24, 8),
      `SELECT ${agg('sum', ALERT_ROLLUP_FIELDS.events, 'events')} FROM ${alerts} WHERE ${matches(ALERT_TAGS.entity, 'entity')} AND $timeFilter GROUP BY time($__interval), ${id(ALERT_TAGS.severity)} fill(0)`),
  ]);
}

export function overviewDashboard(): Json {
  return dashboard({
    uid: 'diffwatch-overview',
    title: 'diffwatch overview',
    description: 'Anomaly scores, window states and alerts written by diffwatch to InfluxDB. The top panels read raw windows; the collapsed rows read the 1-minute and 1-hour roll-ups for long ranges.',
    tags: ['diffwatch', 'anomaly-detection'],
    time: { from: 'now-6h', to: 'now' },
    annotations: [{
      name: 'Alerts opened', datasource: { type: 'influxdb', uid: 'diffwatch-influxdb' }, enable: true, hide: false, iconColor: 'red',
      query: `SELECT ${[A.eventId, A.score, ALERT_TAGS.entity, ALERT_TAGS.severity].map(id).join(', ')} FROM ${ALERTS} WHERE ${id(ALERT_TAGS.state)} = 'open' AND ${matches(ALERT_TAGS.entity, 'entity')} AND $timeFilter`,
      textColumn: A.eventId, tagsColumn: `${ALERT_TAGS.entity},${ALERT_TAGS.severity}`,
    }],
    variables: [
      queryVariable('entity', 'Entity', `SHOW TAG VALUES FROM ${SCORES} WITH KEY = ${id(SCORE_TAGS.entity)}`),
      queryVariable('model_version', 'Model version', `SHOW TAG VALUES FROM ${SCORES} WITH KEY = ${id(SCORE_TAGS.modelVersion)} WHERE ${ENTITY}`),
    ],
    panels: [...rawPanels(), rollupRow('1m', 8, 35), rollupRow('1h', 12, 36)],
  });
}
