export * from './grafana.ts';
export * from './influxql.ts';
export { overviewDashboard } from './overview.ts';
export { pipelineDashboard, pipelinePanels } from './pipelineHealth.ts';
export { DASHBOARD_DIR, DASHBOARDS, renderDashboards } from './writeDashboards.ts';
