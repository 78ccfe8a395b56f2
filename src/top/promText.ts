/**
 * Reads the samples of a Prometheus text exposition (format 0.0.4, what prom-client serves):
 * `name{label="value",...} value [timestamp]` per line, `#` lines skipped. Enough for `top`,
 * which sums a few counters and gauges; histograms come out as their `_bucket`, `_sum` and
 * `_count` samples. https://prometheus.io/docs/instrumenting/exposition_formats/
 *
 * @example
 * const samples = parsePromText('m_total{topic="t"} 3\nm_total{topic="u"} 4\n');
 * sumOf(samples, 'm_total'); // 7
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

const unescape = (s: string): string => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** A sample value; undefined when the text is not one (the line is skipped). */
function parseValue(raw: string | undefined): number | undefined {
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  if (raw === 'NaN') return Number.NaN;
  const v = raw ? Number(raw) : Number.NaN;
  return Number.isNaN(v) ? undefined : v;
}

/** One sample line, or undefined for a comment, a blank or an unreadable line. */
function parseLine(line: string): PromSample | undefined {
  const name = NAME.exec(line)?.[0];
  if (!name) return undefined;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    LABEL.lastIndex = i;
    for (let m = LABEL.exec(line); m; m = LABEL.exec(line)) {
      labels[m[1]] = unescape(m[2]);
      i = LABEL.lastIndex;
    }
    while (line[i] === ' ') i++;
    if (line[i] !== '}') return undefined;
    i++;
  }
  const value = parseValue(line.slice(i).trim().split(/\s+/)[0]);
  return value === undefined ? undefined : { name, labels, value };
}

export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const s = parseLine(line.trim());
    if (s) out.push(s);
  }
  return out;
}

/** Sum of one metric over its label sets; undefined when the scrape has no sample of it. */
export function sumOf(samples: readonly PromSample[], name: string): number | undefined {
  let sum: number | undefined;
  for (const s of samples) if (s.name === name) sum = (sum ?? 0) + s.value;
  return sum;
}
