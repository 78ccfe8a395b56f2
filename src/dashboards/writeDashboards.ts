/**
 * The Grafana dashboards shipped in grafana/dashboards/, generated from their TypeScript source.
 * `npm run dashboards` rewrites the files; test/unit/dashboards checks that the committed files
 * equal what this generates, so neither can drift from the names the writers use.
 *
 * @example
 * for (const { path, text } of renderDashboards()) writeFileSync(path, text);
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderDashboard, type Json } from './grafana.ts';
import { overviewDashboard } from './overview.ts';
import { pipelineDashboard } from './pipelineHealth.ts';

/** Where the provisioned dashboards live in the repository. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../grafana/dashboards/', import.meta.url));

export const DASHBOARDS: readonly { file: string; build: () => Json }[] = [
  { file: 'diffwatch-overview.json', build: overviewDashboard },
  { file: 'diffwatch-pipeline.json', build: pipelineDashboard },
];

/** Every dashboard as the text of its file. */
export function renderDashboards(dir: string = DASHBOARD_DIR): { path: string; text: string }[] {
  return DASHBOARDS.map(({ file, build }) => ({ path: dir + file, text: renderDashboard(build()) }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const { path, text } of renderDashboards()) {
    writeFileSync(path, text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
