/**
 * The pipeline-health panels drawn as HTML with SVG charts (what scripts/dashboard-png.ts
 * screenshots into docs/img/pipeline-health.png): legend names as Grafana forms them, one chart
 * per time-series panel and a table for the table panel, and, in headless Chromium (Debian's
 * package, see scripts/ensure-chromium.sh), a screenshot that paints both instances' colours.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelineDashboard, type Json } from '../../../src/dashboards/index.ts';
import { chartSeries, CHROMIUM, legendName, panelReportHtml, screenshot, type InfluxSeries, type PanelResult } from '../../../src/dashboards/panelReport.ts';
import { formatValue } from '../../../src/dashboards/svgChart.ts';

const FROM = 1_800_000_000_000;
const TO = FROM + 3_600_000;
const INSTANCES = ['diffwatch-0:1', 'diffwatch-1:2'];

/** An answer shaped like InfluxDB's for a panel: per-instance series, or one series for a sum over instances. */
function answer(panel: Json): InfluxSeries[] {
  const query = String((panel.targets as Json[])[0].query);
  const columns = [...query.replace(/FROM \(.*\)/, '').matchAll(/ AS "(\w+)"/g)].map((m) => m[1]);
  const times = Array.from({ length: 120 }, (_, j) => FROM + j * 30_000);
  const values = (k: number) => times.map((t, j) => [t, ...columns.map((_, c) => 10 + 5 * k + c + 4 * Math.sin(j / 9 + k))]);
  if (!query.includes('GROUP BY time($__interval), "instance"') || panel.type === 'table') {
    if (panel.type === 'table') return INSTANCES.map((instance, k) => ({ name: 'diffwatch_internal', tags: { instance }, columns: ['time', ...columns], values: [values(k)[0]] }));
    return [{ name: 'diffwatch_internal', columns: ['time', ...columns], values: values(0) }];
  }
  return INSTANCES.map((instance, k) => ({ name: 'diffwatch_internal', tags: { instance }, columns: ['time', ...columns], values: values(k) }));
}

const dashboard = pipelineDashboard();
const results: PanelResult[] = (dashboard.panels as Json[]).map((panel) => ({ panel, series: answer(panel) }));
const html = panelReportHtml({ title: 'diffwatch pipeline health', subtitle: 'test', from: FROM, to: TO, panels: results });

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) to RGBA pixels. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length; at += 12 + buf.readUInt32BE(at)) {
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + buf.readUInt32BE(at));
    if (type === 'IHDR') [width, height, channels] = [data.readUInt32BE(0), data.readUInt32BE(4), data[9] === 6 ? 4 : 3];
    else if (type === 'IDAT') idat.push(data);
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  let prev = new Uint8Array(stride);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const cur = new Uint8Array(stride);
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      cur[i] = (raw[y * (stride + 1) + 1 + i] + [0, a, b, (a + b) >> 1, paeth][filter]) & 0xff;
    }
    for (let x = 0; x < width; x++) rgba.set(channels === 4 ? cur.subarray(x * 4, x * 4 + 4) : [...cur.subarray(x * 3, x * 3 + 3), 255], (y * width + x) * 4);
    prev = cur;
  }
  return { width, height, rgba };
}
const countColour = (rgba: Uint8Array, [r, g, b]: number[], tol = 40) => {
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) if (Math.abs(rgba[i] - r) + Math.abs(rgba[i + 1] - g) + Math.abs(rgba[i + 2] - b) <= tol) n++;
  return n;
};

describe('panel report', () => {
  it('names series as Grafana\'s alias does', () => {
    const s: InfluxSeries = { name: 'diffwatch_internal', tags: { instance: 'a:1' }, columns: ['time', 'p50', 'p99'], values: [[FROM, 1, null]] };
    expect(legendName('$tag_instance $col', s, 'p99')).toBe('a:1 p99');
    expect(legendName(undefined, s, 'p50')).toBe('diffwatch_internal.p50');
    expect(chartSeries([s], '$col')).toEqual([{ name: 'p50', points: [[FROM, 1]] }, { name: 'p99', points: [[FROM, null]] }]);
    expect([formatValue(0.25, 'percentunit'), formatValue(1_500, 'ms'), formatValue(12, 'ms'), formatValue(45_600, 'short')]).toEqual(['25 %', '1.50 s', '12 ms', '45.6k']);
  });

  it('draws one chart per time-series panel and a table for the instances panel', () => {
    const charts = (dashboard.panels as Json[]).filter((p) => p.type === 'timeseries').length;
    expect(charts).toBe(9);
    expect(html.split('<svg class="chart"').length - 1).toBe(charts);
    expect(html.split('<table>').length - 1).toBe(1);
    for (const p of dashboard.panels as Json[]) expect(html).toContain(`<h2>${p.title}</h2>`);
    expect(html).toContain('diffwatch-1:2 p99');
    expect(html).not.toMatch(/NaN|undefined/);
  });

  describe.skipIf(!existsSync(CHROMIUM))('in headless Chromium', () => {
    const root = mkdtempSync(join(tmpdir(), 'diffwatch-panels-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('paints every panel with both instances\' colours', async () => {
      writeFileSync(join(root, 'report.html'), html);
      const png = join(root, 'report.png');
      await screenshot(join(root, 'report.html'), png, { width: 1204, height: 1440, profileDir: join(root, 'profile') });
      const { width, height, rgba } = decodePng(readFileSync(png));
      expect([width, height]).toEqual([1204, 1440]);
      expect(countColour(rgba, [255, 255, 255], 6) / (width * height)).toBeLessThan(0.9); // not a blank page
      expect(countColour(rgba, [31, 119, 180])).toBeGreaterThan(2_000); // first series, #1f77b4
      expect(countColour(rgba, [214, 39, 40])).toBeGreaterThan(2_000); // second series, #d62728
    }, 120_000);
  });
});
