/**
 * Reading /metrics as Prometheus does (parse-prometheus-text-format), for the ops tests: the value
 * of one label set, the sum over a family, a histogram's count.
 */
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';

export type { PromFamily };

export interface Scrape {
  families: Map<string, PromFamily>;
  /** The value of the sample whose labels include `labels`; undefined if none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Sum over every sample of a counter or gauge family (0 when absent). */
  sum(name: string): number;
  /** A histogram's count and sum over every label set. */
  histogram(name: string): { count: number; sum: number; buckets: Record<string, number> };
}

export function parseScrape(text: string): Scrape {
  const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  const matches = (have: Record<string, string> | undefined, want: Record<string, string>) => Object.entries(want).every(([k, v]) => have?.[k] === v);
  return {
    families,
    value(name, labels = {}) {
      const s = families.get(name)?.metrics.find((m) => matches(m.labels, labels));
      return s?.value === undefined ? undefined : Number(s.value);
    },
    sum: (name) => (families.get(name)?.metrics ?? []).reduce((acc, m) => acc + Number(m.value ?? 0), 0),
    histogram(name) {
      const out = { count: 0, sum: 0, buckets: {} as Record<string, number> };
      for (const m of families.get(name)?.metrics ?? []) {
        for (const [le, n] of Object.entries(m.buckets ?? {})) out.buckets[le] = (out.buckets[le] ?? 0) + Number(n);
      }
      // The parser (1.1.1) drops `_sum` and `_count` of a labelled histogram: read them from the text.
      out.count = seriesSum(text, `${name}_count`);
      out.sum = seriesSum(text, `${name}_sum`);
      return out;
    },
  };
}

/** Sum of the samples of one series name (every label set) in the text format. */
function seriesSum(text: string, series: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(series + ' ') && !line.startsWith(series + '{')) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
