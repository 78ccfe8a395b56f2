/** The Grafana dashboard and provisioning files, and the extraction and expansion of their InfluxQL. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DashboardError, dashboardQueries, escapeRegex, expandDashboardQueries, expandQuery, formatInterval, readDashboard, type ExpandOptions,
} from '../../../src/sinks/dashboardQueries.ts';
import { ALERT_FIELDS, ALERT_TAGS, ALERTS_MEASUREMENT, CONTRIB_FIELD_PREFIX, SCORE_FIELDS, SCORE_TAGS, SCORES_MEASUREMENT } from '../../../src/sinks/influxPoints.ts';
import { ALERT_ROLLUP_FIELDS, RESOLUTIONS, rollupMeasurement, SCORE_ROLLUP_FIELDS } from '../../../src/sinks/rollups.ts';

const grafanaFile = (p: string) => readFileSync(fileURLToPath(new URL(`../../../grafana/${p}`, import.meta.url)), 'utf8');
/** The scalar value of `key:` in a small provisioning file (no YAML parser is installed). */
const yamlValue = (text: string, key: string) => text.match(new RegExp(`^\\s*-?\\s*${key}:\\s*(\\S+)`, 'm'))?.[1];

type Json = Record<string, any>;
const dashboard = readDashboard() as Json;
const datasourceYaml = grafanaFile('provisioning/datasources/diffwatch-influxdb.yaml');
const DS_UID = yamlValue(datasourceYaml, 'uid');
const allPanels = (ps: Json[]): Json[] => ps.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

const RANGE = { from: 1_700_000_000_000, to: 1_700_000_060_000, intervalMs: 10_000 };
const opts = (variables: ExpandOptions['variables']): ExpandOptions => ({ ...RANGE, variables });

function dashboardError(fn: () => unknown): DashboardError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DashboardError);
    return e as DashboardError;
  }
  throw new Error('expected a DashboardError');
}

describe('provisioning files', () => {
  it('provision an InfluxQL datasource for database diffwatch at ${INFLUX_URL}', () => {
    expect(DS_UID).toBe('diffwatch-influxdb');
    expect(yamlValue(datasourceYaml, 'type')).toBe('influxdb');
    expect(yamlValue(datasourceYaml, 'url')).toBe('${INFLUX_URL}');
    expect(yamlValue(datasourceYaml, 'dbName')).toBe('diffwatch');
    expect(yamlValue(datasourceYaml, 'version')).toBe('InfluxQL');
  });

  it('load the dashboards folder with a file provider', () => {
    const providers = grafanaFile('provisioning/dashboards/diffwatch.yaml');
    expect(yamlValue(providers, 'type')).toBe('file');
    expect(yamlValue(providers, 'path')).toBe('/var/lib/grafana/dashboards/diffwatch');
  });
});

describe('dashboard structure', () => {
  const panels = allPanels(dashboard.panels);

  it('has a stable uid, a schema version, unique panel ids and a grid position for every panel', () => {
    expect(dashboard.uid).toBe('diffwatch-overview');
    expect(dashboard.schemaVersion).toEqual(expect.any(Number));
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.gridPos, p.title).toEqual({ x: expect.any(Number), y: expect.any(Number), w: expect.any(Number), h: expect.any(Number) });
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
  });

  it('points every panel, target, variable and annotation query at the provisioned datasource', () => {
    const refs = [
      ...panels.filter((p) => p.type !== 'row').flatMap((p) => [p.datasource, ...p.targets.map((t: Json) => t.datasource)]),
      ...dashboard.templating.list.map((v: Json) => v.datasource),
      ...dashboard.annotations.list.filter((a: Json) => a.query).map((a: Json) => a.datasource),
    ];
    expect(refs.length).toBeGreaterThan(panels.length);
    for (const ref of refs) expect(ref).toEqual({ type: 'influxdb', uid: DS_UID });
  });

  it('has the entity and model_version variables, multi-valued, from the scores tags', () => {
    const vars = Object.fromEntries(dashboard.templating.list.map((v: Json) => [v.name, v]));
    expect(vars.entity).toMatchObject({ type: 'query', multi: true, includeAll: true, query: 'SHOW TAG VALUES FROM "scores" WITH KEY = "entity"' });
    expect(vars.model_version).toMatchObject({ type: 'query', multi: true, includeAll: true,
      query: 'SHOW TAG VALUES FROM "scores" WITH KEY = "model_version" WHERE "entity" =~ /^$entity$/' });
  });

  it('spells only the measurement, tag and field names declared in influxPoints.ts and rollups.ts', () => {
    const names: Record<string, Set<string>> = {
      [SCORES_MEASUREMENT]: new Set([...Object.values(SCORE_TAGS), ...Object.values(SCORE_FIELDS)]),
      [ALERTS_MEASUREMENT]: new Set([...Object.values(ALERT_TAGS), ...Object.values(ALERT_FIELDS)]),
      ...Object.fromEntries(RESOLUTIONS.flatMap((r) => [
        [rollupMeasurement(SCORES_MEASUREMENT, r), new Set([...Object.values(SCORE_TAGS), ...Object.values(SCORE_ROLLUP_FIELDS)])],
        [rollupMeasurement(ALERTS_MEASUREMENT, r), new Set([...Object.values(ALERT_TAGS), ...Object.values(ALERT_ROLLUP_FIELDS)])],
      ])),
    };
    for (const { query, path } of dashboardQueries(dashboard)) {
      const measurement = query.match(/FROM (?:"\w+"\.)?"(\w+)"/)?.[1] as string; // a roll-up is read with its policy
      expect(Object.keys(names), path).toContain(measurement);
      const identifiers = [...query.replace(/ AS "\w+"/g, '').replace(/FROM (?:"\w+"\.)?"\w+"/, '').matchAll(/"(\w+)"/g)].map((m) => m[1]);
      expect(identifiers.length, path).toBeGreaterThan(0);
      for (const id of identifiers) expect(names[measurement].has(id), `${path}: "${id}" is not a ${measurement} name`).toBe(true);
    }
    expect(dashboardQueries(dashboard).filter((q) => q.query.includes(`/^${CONTRIB_FIELD_PREFIX}/`))).toHaveLength(1);
  });

  it('counts every window state, one target per state', () => {
    const states = dashboardQueries(dashboard).filter((q) => q.title === 'Window states per interval').map((q) => q.query.match(/"state" = '(\w+)'/)?.[1]);
    expect(states).toEqual(['normal', 'warmup', 'gap', 'anomaly']);
  });
});

describe('dashboardQueries', () => {
  it('finds every target of every panel of the shipped dashboard, then the variables and annotations', () => {
    expect(dashboardQueries(dashboard).map((q) => [q.site, q.panelId ?? null, q.title, q.refId, q.resultFormat ?? null])).toEqual([
      ['panel', 1, 'Score and threshold: $entity', 'A', 'time_series'],
      ['panel', 1, 'Score and threshold: $entity', 'B', 'time_series'],
      ['panel', 2, 'Entities: latest score', 'A', 'table'],
      ...['A', 'B', 'C', 'D'].map((r) => ['panel', 3, 'Window states per interval', r, 'time_series']),
      ['panel', 4, 'Alert events per interval by severity', 'A', 'time_series'],
      ['panel', 5, 'Channel shares of anomalous windows', 'A', 'table'],
      ['panel', 6, 'Alerts: $entity', 'A', 'table'],
      ['panel', 7, 'Alerts: all entities', 'A', 'table'],
      ...[[9, '1m'], [13, '1h']].flatMap(([id, r]) => [
        ['panel', id, `Score and threshold (${r} roll-ups): $entity`, 'A', 'time_series'],
        ['panel', id, `Score and threshold (${r} roll-ups): $entity`, 'B', 'time_series'],
        ['panel', Number(id) + 1, `Window states per interval (${r} roll-ups)`, 'A', 'time_series'],
        ['panel', Number(id) + 2, `Alert events per interval by severity (${r} roll-ups)`, 'A', 'time_series'],
      ]),
      ['variable', null, 'entity', 'entity', null],
      ['variable', null, 'model_version', 'model_version', null],
      ['annotation', null, 'Alerts opened', 'Alerts opened', null],
    ]);
  });

  it('descends into rows, reads object-form variable queries, and skips the built-in annotation', () => {
    const q = (refId: string, query: string) => ({ refId, rawQuery: true, query });
    const d = {
      panels: [
        { id: 1, title: 'top', targets: [q('A', 'SELECT 1 FROM "scores"')] },
        { id: 2, type: 'row', title: 'row', panels: [{ id: 3, title: 'inner', targets: [q('A', 'SELECT 3'), q('B', 'SELECT 4')] }] },
      ],
      templating: { list: [{ type: 'query', name: 'v', query: { query: 'SHOW TAG VALUES', refId: 'x' } }, { type: 'custom', name: 'c', query: 'a,b' }] },
      annotations: { list: [{ builtIn: 1, name: 'Annotations & Alerts' }, { name: 'ann', query: 'SELECT 5' }] },
    };
    expect(dashboardQueries(d).map((x) => [x.path, x.panelId ?? null, x.title, x.refId, x.query])).toEqual([
      ['panels[0].targets[0]', 1, 'top', 'A', 'SELECT 1 FROM "scores"'],
      ['panels[1].panels[0].targets[0]', 3, 'inner', 'A', 'SELECT 3'],
      ['panels[1].panels[0].targets[1]', 3, 'inner', 'B', 'SELECT 4'],
      ['templating.list[0]', null, 'v', 'v', 'SHOW TAG VALUES'],
      ['annotations.list[1]', null, 'ann', 'ann', 'SELECT 5'],
    ]);
  });

  it('refuses a builder-mode target or a target without a query, naming where it is', () => {
    const builder = dashboardError(() => dashboardQueries({ panels: [{ id: 1, targets: [{ refId: 'A', query: 'SELECT 1' }] }] }));
    expect(builder).toMatchObject({ code: 'DASHBOARD_INVALID', coords: { path: 'panels[0].targets[0]' } });
    expect(builder.message).toMatch(/rawQuery must be true/);
    const empty = dashboardError(() => dashboardQueries({ panels: [{ id: 1, targets: [{ refId: 'A', rawQuery: true, query: ' ' }] }] }));
    expect(empty).toMatchObject({ code: 'DASHBOARD_INVALID', coords: { path: 'panels[0].targets[0]' } });
    expect(dashboardError(() => dashboardQueries([])).code).toBe('DASHBOARD_INVALID');
  });
});

describe('expandQuery', () => {
  it('expands $timeFilter, $__interval and $__interval_ms as Grafana does', () => {
    expect(expandQuery('SELECT mean("score") FROM "scores" WHERE $timeFilter GROUP BY time($__interval) LIMIT $__interval_ms', opts({}))).toBe(
      'SELECT mean("score") FROM "scores" WHERE time >= 1700000000000ms and time <= 1700000060000ms GROUP BY time(10s) LIMIT 10000',
    );
  });

  it('formats the interval floored to its largest unit', () => {
    expect([1, 250, 1_000, 1_500, 10_000, 60_000, 90_000, 3_600_000, 5_400_000, 2 * 86_400_000].map(formatInterval)).toEqual(
      ['1ms', '250ms', '1s', '1s', '10s', '1m', '1m', '1h', '1h', '2d'],
    );
    for (const bad of [0, -5, 1.5, 365 * 86_400_000]) expect(dashboardError(() => formatInterval(bad)).code).toBe('DASHBOARD_MACRO_UNKNOWN');
  });

  it('regex-escapes a single value and joins several as an alternation', () => {
    const q = 'SELECT * FROM "scores" WHERE "entity" =~ /^$entity$/ AND "model_version" !~ /^${model_version}$/';
    expect(expandQuery(q, opts({ entity: 'press.7', model_version: ['a+b', 'c/d(e)'] }))).toBe(
      'SELECT * FROM "scores" WHERE "entity" =~ /^press\\.7$/ AND "model_version" !~ /^(a\\+b|c\\/d\\(e\\))$/',
    );
    expect(expandQuery('"entity" =~ /^$entity$/', opts({ entity: ['pump-1'] }))).toBe('"entity" =~ /^pump-1$/');
    expect(escapeRegex('\\^$*+?.()|[]{}/-@_')).toBe('\\\\\\^\\$\\*\\+\\?\\.\\(\\)\\|\\[\\]\\{\\}\\/-@_');
  });

  it('leaves regex field selectors and string literals alone', () => {
    const q = `SELECT mean(/^${CONTRIB_FIELD_PREFIX}/) FROM "scores" WHERE "state" = 'anomaly' AND $timeFilter`;
    expect(expandQuery(q, opts({}))).toBe(`SELECT mean(/^${CONTRIB_FIELD_PREFIX}/) FROM "scores" WHERE "state" = 'anomaly' AND time >= 1700000000000ms and time <= 1700000060000ms`);
  });

  it('fails loudly on an unknown macro or variable, naming it', () => {
    for (const [q, macro] of [['WHERE $timefilter', '$timefilter'], ['"entity" =~ /^$host$/', '$host'], ['time(${__rate_interval})', '${__rate_interval}']]) {
      const e = dashboardError(() => expandQuery(q, opts({ entity: 'x' })));
      expect(e, q).toMatchObject({ code: 'DASHBOARD_MACRO_UNKNOWN', coords: { macro } });
      expect(e.message).toContain(macro);
    }
  });

  it('refuses a variable outside a regex, other variable forms, and an empty selection', () => {
    expect(dashboardError(() => expandQuery(`"entity" = '$entity'`, opts({ entity: 'x' }))).message).toMatch(/outside a regex/);
    expect(dashboardError(() => expandQuery('"entity" =~ /^[[entity]]$/', opts({ entity: 'x' }))).coords.macro).toBe('[[entity]]');
    expect(dashboardError(() => expandQuery('"entity" =~ /^${entity:csv}$/', opts({ entity: 'x' }))).coords.macro).toBe('${entity:csv}');
    expect(dashboardError(() => expandQuery('"entity" =~ /^$entity$/', opts({ entity: [] }))).message).toMatch(/no value selected/);
    expect(dashboardError(() => expandQuery('$timeFilter', { ...opts({}), to: 1.5 })).message).toMatch(/whole epoch ms/);
  });
});

describe('expandDashboardQueries', () => {
  it('expands every query of the shipped dashboard, leaving no macro behind', () => {
    const expanded = expandDashboardQueries(dashboard, opts({ entity: ['pump-a', 'press.7'], model_version: 'baseline@1' }));
    expect(expanded).toHaveLength(dashboardQueries(dashboard).length);
    for (const q of expanded) expect(q.influxql, q.path).not.toMatch(/\$\w|\[\[/);
    expect(expanded.find((q) => q.title === 'Alerts: $entity')?.influxql).toBe(
      'SELECT "entity", "kind", "state", "severity", "score", "top_channel", "event_id" FROM "alerts" WHERE "entity" =~ /^(pump-a|press\\.7)$/ '
      + 'AND time >= 1700000000000ms and time <= 1700000060000ms ORDER BY time DESC LIMIT 1000',
    );
  });

  it('says which query failed when a variable is missing', () => {
    const e = dashboardError(() => expandDashboardQueries(dashboard, opts({ entity: 'pump-a' })));
    expect(e).toMatchObject({ code: 'DASHBOARD_MACRO_UNKNOWN', coords: { path: 'panels[0].targets[0]', macro: '$model_version' } });
    expect(e.message).toMatch(/^panels\[0\]\.targets\[0\] \(Score and threshold: \$entity\): unknown macro or variable \$model_version/);
  });
});
