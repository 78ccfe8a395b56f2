/**
 * The NAB report as a browser shows it: the page is built from a run over the committed 3-file
 * sample, opened in headless Chromium (Debian's package, driven directly; see
 * scripts/ensure-chromium.sh), and checked in the rendered DOM and in the screenshot's pixels.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTORS, renderReport, runCorpus, summarise, writeReport } from '../../../src/eval/nab/harness/index.ts';

const CHROMIUM = '/usr/bin/chromium';
const SAMPLE = resolve(import.meta.dirname, '../../../data/nab');
const run = promisify(execFile);

if (!existsSync(CHROMIUM)) {
  process.stderr.write(`\n*** reportScreenshot: SKIPPED, ${CHROMIUM} is missing. Run scripts/ensure-chromium.sh (as root) to install it. ***\n\n`);
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) to RGBA pixels. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[12]]).toEqual([8, 0]); // bit depth 8, not interlaced
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      expect(channels).toBeGreaterThan(0);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const cur = new Uint8Array(stride);
  let prev = new Uint8Array(stride);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      const p = a + b - c;
      const pred = [0, a, b, (a + b) >> 1, Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c][filter];
      cur[i] = (line[i] + pred) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      rgba.set(channels === 4 ? cur.subarray(x * 4, x * 4 + 4) : [...cur.subarray(x * 3, x * 3 + 3), 255], (y * width + x) * 4);
    }
    prev = Uint8Array.from(cur);
  }
  return { width, height, rgba };
}

/** Pixels within `tol` of an RGB colour. */
function countColour(rgba: Uint8Array, [r, g, b]: number[], tol = 40): number {
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) if (Math.abs(rgba[i] - r) + Math.abs(rgba[i + 1] - g) + Math.abs(rgba[i + 2] - b) <= tol) n++;
  return n;
}

describe.skipIf(!existsSync(CHROMIUM))('NAB report in headless Chromium', () => {
  let root: string;
  let html: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'diffwatch-shot-'));
    const nab = join(root, 'nab');
    mkdirSync(join(nab, 'data', 'realKnownCause'), { recursive: true });
    for (const f of readdirSync(SAMPLE).filter((f) => f.endsWith('.csv'))) symlinkSync(join(SAMPLE, f), join(nab, 'data', 'realKnownCause', f));
    mkdirSync(join(nab, 'labels'));
    writeFileSync(join(nab, 'labels', 'combined_windows.json'), readFileSync(join(SAMPLE, 'windows.json')));
    const result = await runCorpus({ nabDir: nab, detectors: [DETECTORS.baseline(), DETECTORS.windowedGaussian()] });
    html = await writeReport(join(root, 'out'), renderReport(result, summarise(result)));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const chromium = (extra: string[]) =>
    run(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${join(root, 'profile')}`, ...extra, `file://${html}`], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });

  it('renders one SVG plot per series', async () => {
    const { stdout } = await chromium(['--dump-dom']);
    expect(stdout.split('<svg class="plot"').length - 1).toBe(3);
    expect(stdout).toContain('realKnownCause/machine_temperature_system_failure.csv');
  });

  it('paints the plots: value line, both detectors\' colours and the shaded label windows', async () => {
    const png = join(root, 'report.png');
    await chromium([`--screenshot=${png}`, '--window-size=1400,1400']);
    const bytes = readFileSync(png);
    expect(bytes.length).toBeGreaterThan(50_000);
    const { width, height, rgba } = decodePng(bytes);
    expect([width, height]).toEqual([1400, 1400]);
    const white = countColour(rgba, [255, 255, 255], 6);
    expect(white / (width * height)).toBeLessThan(0.97); // not a blank page
    expect(countColour(rgba, [31, 119, 180])).toBeGreaterThan(500); // baseline, #1f77b4
    expect(countColour(rgba, [214, 39, 40])).toBeGreaterThan(500); // windowedGaussian, #d62728
    expect(countColour(rgba, [250, 216, 200], 30)).toBeGreaterThan(5_000); // label windows, #f4a582 at 35 %
  });
});
