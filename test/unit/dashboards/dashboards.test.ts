/**
 * The generated Grafana dashboards: the committed files are exactly what src/dashboards generates
 * (run `npm run dashboards` after changing it), and both dashboards are well formed and spell only
 * declared names.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderDashboards } from '../../../src/dashboards/index.ts';
import { INTERNAL_FIELDS, INTERNAL_MEASUREMENT, INTERNAL_TAGS } from '../../../src/ops/internalMeasurement.ts';
import { dashboardQueries, readDashboards } from '../../../src/sinks/dashboardQueries.ts';

type Json = Record<string, any>;
const allPanels = (ps: Json[]): Json[] => ps.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const { overview, pipeline } = readDashboards() as Record<string, Json>;

describe('generated dashboards', () => {
  it('the committed files equal the generated ones (npm run dashboards)', () => {
    const generated = renderDashboards();
    expect(generated.map((g) => g.path.split('/').at(-1))).toEqual(['diffwatch-overview.json', 'diffwatch-pipeline.json']);
    for (const { path, text } of generated) expect(readFileSync(path, 'utf8'), `${path} is stale: run npm run dashboards`).toBe(text);
  });

  it.each([['overview', overview, 'diffwatch-overview'], ['pipeline', pipeline, 'diffwatch-pipeline']])('%s: stable uid, unique panel ids, panels within the grid, raw InfluxQL only', (_, d, uid) => {
    expect(d.uid).toBe(uid);
    const panels = allPanels(d.panels);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource).toEqual({ type: 'influxdb', uid: 'diffwatch-influxdb' });
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) expect(t).toMatchObject({ rawQuery: true, datasource: { uid: 'diffwatch-influxdb' } });
    }
    expect(dashboardQueries(d).length).toBeGreaterThan(panels.length - 2);
  });

  it('overview: the roll-up rows are collapsed and read their own policy and measurement', () => {
    const rows = overview.panels.filter((p: Json) => p.type === 'row');
    expect(rows.map((r: Json) => [r.collapsed, r.panels.length])).toEqual([[true, 3], [true, 3]]);
    const froms = (row: Json) => [...new Set(row.panels.flatMap((p: Json) => p.targets.map((t: Json) => t.query.match(/FROM ("\w+"\."\w+")/)?.[1])))];
    expect(froms(rows[0])).toEqual(['"rollup_1m"."scores_1m"', '"rollup_1m"."alerts_1m"']);
    expect(froms(rows[1])).toEqual(['"rollup_1h"."scores_1h"', '"rollup_1h"."alerts_1h"']);
  });

  it('pipeline: every panel reads diffwatch_internal with declared fields, filtered by $instance', () => {
    const declared = new Set<string>([...Object.values(INTERNAL_FIELDS), ...Object.values(INTERNAL_TAGS)]);
    const queries = dashboardQueries(pipeline);
    const used = new Set<string>();
    for (const { query, path, site } of queries) {
      expect(query, path).toContain(`FROM "${INTERNAL_MEASUREMENT}"`);
      // Identifiers in aggregates and GROUP BY / WITH KEY are declared names, or aliases of a subquery.
      const aliases = new Set([...query.matchAll(/ AS "(\w+)"/g)].map((m) => m[1]));
      const ids = [...query.replace(/ AS "\w+"/g, '').replace(/FROM "\w+"/g, '').matchAll(/"(\w+)"/g)].map((m) => m[1]).filter((x) => declared.has(x) || !aliases.has(x));
      for (const id of ids) {
        expect(declared.has(id), `${path}: "${id}" is not declared in internalMeasurement.ts`).toBe(true);
        used.add(id);
      }
      if (site === 'panel' && !query.includes('GROUP BY "instance"')) expect(query, path).toMatch(/=~ \/\^\$instance\$\//);
    }
    // Every figure the service writes has a panel.
    expect([...declared].filter((n) => !used.has(n))).toEqual([]);
  });
});
