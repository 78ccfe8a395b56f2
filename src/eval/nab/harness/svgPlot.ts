/**
 * One file's plot as inline SVG: the value on top, then one score panel per detector with its
 * optimised threshold (dashed) and its alert threshold (dotted); label windows shaded across
 * all panels, NAB's probationary period greyed, alert onsets marked as triangles.
 * Long series are decimated per pixel column (min and max of the value, max of the score),
 * so that a one-row spike stays visible.
 */

export interface PlotSeries {
  detector: string;
  color: string;
  scores: Float64Array;
  /** Optimised threshold of the standard profile; NaN when none. */
  threshold: number;
  alertThreshold: number;
  alertOnsets: Uint8Array;
}

export interface PlotInput {
  title: string;
  values: Float64Array;
  windowRows: readonly { left: number; right: number }[];
  probationaryRows: number;
  firstTime: string;
  lastTime: string;
  series: readonly PlotSeries[];
}

const W = 1200;
const LEFT = 60;
const VALUE_H = 150;
const SCORE_H = 70;
const GAP = 8;

/** The lowest finite score from row `from` on (the whole series when that leaves nothing), capped below 1. */
function lowest(scores: Float64Array, from: number): number {
  let lo = Infinity;
  for (let i = from < scores.length ? from : 0; i < scores.length; i++) if (scores[i] < lo) lo = scores[i];
  return Number.isFinite(lo) ? Math.min(lo, 0.99) : 0;
}

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fx = (v: number) => v.toFixed(1);

/** Per pixel column: [min, max] of values (or max only), with the row order of min and max kept. */
function decimate(values: Float64Array, columns: number, maxOnly: boolean): [number, number][] {
  const N = values.length;
  const pts: [number, number][] = [];
  for (let b = 0; b < columns; b++) {
    const lo = Math.floor((b * N) / columns);
    const hi = Math.max(lo + 1, Math.floor(((b + 1) * N) / columns));
    let min = Infinity, max = -Infinity, iMin = lo, iMax = lo;
    for (let i = lo; i < hi && i < N; i++) {
      const v = values[i];
      if (v < min) {
        min = v;
        iMin = i;
      }
      if (v > max) {
        max = v;
        iMax = i;
      }
    }
    if (!Number.isFinite(max)) continue;
    if (maxOnly || min === max) pts.push([b, max]);
    else if (iMin < iMax) pts.push([b, min], [b, max]);
    else pts.push([b, max], [b, min]);
  }
  return pts;
}

function polyline(values: Float64Array, top: number, height: number, lo: number, hi: number, plotW: number, color: string, maxOnly: boolean): string {
  const span = hi - lo || 1;
  const cols = Math.min(values.length, plotW);
  const pts = decimate(values, cols, maxOnly).map(([b, v]) => `${fx(LEFT + ((b + 0.5) * plotW) / cols)},${fx(top + height - ((v - lo) / span) * height)}`);
  return `<polyline fill="none" stroke="${color}" stroke-width="1" points="${pts.join(' ')}"/>`;
}

function hline(y: number, color: string, dash: string, title: string): string {
  return `<line x1="${LEFT}" x2="${W}" y1="${fx(y)}" y2="${fx(y)}" stroke="${color}" stroke-dasharray="${dash}"><title>${esc(title)}</title></line>`;
}

export function svgPlot(p: PlotInput): string {
  const N = p.values.length;
  const plotW = W - LEFT;
  const height = VALUE_H + p.series.length * (SCORE_H + GAP) + 24;
  const xOf = (row: number) => LEFT + (row / Math.max(N, 1)) * plotW;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of p.values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const parts: string[] = [`<rect x="${LEFT}" y="0" width="${plotW}" height="${height - 24}" fill="#fff" stroke="#ccc"/>`];
  parts.push(`<rect x="${LEFT}" y="0" width="${fx(xOf(p.probationaryRows) - LEFT)}" height="${height - 24}" fill="#eee"><title>probationary period: ${p.probationaryRows} rows</title></rect>`);
  for (const w of p.windowRows) {
    parts.push(`<rect class="label-window" x="${fx(xOf(w.left))}" y="0" width="${fx(Math.max(1, xOf(w.right + 1) - xOf(w.left)))}" height="${height - 24}" fill="#f4a582" fill-opacity="0.35"/>`);
  }
  parts.push(polyline(p.values, 4, VALUE_H - 8, lo, hi, plotW, '#333', false));
  parts.push(`<text x="${LEFT - 4}" y="12" text-anchor="end">${esc(hi.toPrecision(4))}</text><text x="${LEFT - 4}" y="${VALUE_H - 4}" text-anchor="end">${esc(lo.toPrecision(4))}</text>`);
  p.series.forEach((s, k) => {
    const top = VALUE_H + k * (SCORE_H + GAP) + GAP;
    // Scores span [their lowest after the probationary period, 1]: a fixed [0, 1] would squeeze
    // a bounded score's detail against the top of the panel.
    const sLo = lowest(s.scores, p.probationaryRows);
    const yOf = (v: number) => top + SCORE_H - ((v - sLo) / (1 - sLo || 1)) * SCORE_H;
    const visible = (v: number) => Number.isFinite(v) && v >= sLo && v <= 1;
    parts.push(`<line x1="${LEFT}" x2="${W}" y1="${top - GAP / 2}" y2="${top - GAP / 2}" stroke="#ccc"/>`);
    parts.push(`<text x="${LEFT + 4}" y="${top + 10}" fill="${s.color}">${esc(s.detector)}</text>`);
    parts.push(`<text x="${LEFT - 4}" y="${top + 10}" text-anchor="end">1</text><text x="${LEFT - 4}" y="${top + SCORE_H}" text-anchor="end">${esc(sLo.toFixed(2))}</text>`);
    parts.push(polyline(s.scores, top, SCORE_H, sLo, 1, plotW, s.color, true));
    if (visible(s.threshold)) parts.push(hline(yOf(s.threshold), s.color, '6 3', `optimised threshold (standard): ${s.threshold}`));
    if (visible(s.alertThreshold)) parts.push(hline(yOf(s.alertThreshold), '#555', '2 2', `alert threshold: ${s.alertThreshold}`));
    for (let r = 0; r < N; r++) {
      if (s.alertOnsets[r] !== 1) continue;
      const x = xOf(r);
      parts.push(`<path class="alert" d="M${fx(x)},${fx(top)} l-4,-7 h8 z" fill="${s.color}"><title>${esc(s.detector)} alert at row ${r}</title></path>`);
      parts.push(`<line x1="${fx(x)}" x2="${fx(x)}" y1="4" y2="${VALUE_H - 4}" stroke="${s.color}" stroke-opacity="0.6"/>`);
    }
  });
  parts.push(`<text x="${LEFT}" y="${height - 8}">${esc(p.firstTime)}</text><text x="${W}" y="${height - 8}" text-anchor="end">${esc(p.lastTime)}</text>`);
  return `<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">${parts.join('')}</svg>`;
}
