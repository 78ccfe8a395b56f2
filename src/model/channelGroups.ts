/**
 * Which analogue channels the net models together. One net over every channel lets it predict a
 * channel from any other, and from channels with nothing in common it learns a relation that
 * holds only over the training stretch: unrelated cycles whose phases line up one way there tell
 * it where in the training rows a window lies, and on later data, where they line up another way,
 * its predictions go wrong. On the synthetic fleet layout (a daily channel beside seven channels
 * of their own periods or drifts) the joint net ranked 5σ contextual spikes at 0.77 and a 5σ level
 * shift at 0.59, where a channel alone scores 1.00 (docs/tuning-log.md, "Channel groups").
 *
 * So the analogue channels are split into groups, the connected parts of a relation graph, and
 * each group gets a net of its own (denoiser.ts, `groups`). Two channels are related when their
 * increments over s rows move together beyond chance at some scale s:
 *
 *   d_s(x)[i] = x[(i+1)s] − x[is]        non-overlapping increments, n_s of them
 *   r_s       = corr(d_s(a), d_s(b))      √n_s r_s ≈ N(0, 1) for unrelated a and b
 *   related   ⇔ max_s n_s r_s² > z²,     z the normal quantile at 1 − RELATION_P / (2·|scales|)
 *
 * Scale 1 finds shared fast fluctuations (a load that moves CPU and power together); the coarser
 * scales find shared slow ones (a common drift, or cycles in step), which increments of one row
 * bury under the noise. Cycles of unrelated periods average out over the training rows at every
 * scale. Channels that share the calendar's daily cycle test as related, and are modelled together:
 * their phases line up the same way every day, so that relation holds.
 *
 * The commands a group's net reads are those related to its own channels (conditioningRelation.ts).
 * Plain data: no tf import.
 */
import type { ModelManifest } from './checkpoint.ts';
import { normalQuantileAbove, RELATION_P, relationStatistic } from './conditioningRelation.ts';

/** Increment spans, rows; those beyond the net's reach are dropped (the net cannot use them). */
export const RELATION_SCALES = [1, 4, 16] as const;

/** Only the newest rows are tested: enough power, bounded work. */
const MAX_ROWS = 50_000;

/** n r² of the non-overlapping s-row increments of columns a and b of `rows` `[N, C]` (relationStatistic at lag 0). */
export function incrementStatistic(rows: ArrayLike<number>, C: number, a: number, b: number, s: number, from = 0): number {
  const N = rows.length / C;
  const n = Math.floor((N - 1 - from) / s);
  if (n < 3) return 0;
  const increments = (c: number) => Float64Array.from({ length: n }, (_, i) => rows[(from + (i + 1) * s) * C + c] - rows[(from + i * s) * C + c]);
  return relationStatistic(increments(a), increments(b), 1);
}

/**
 * The target channels split into groups that are related within and not across, each ascending,
 * ordered by their first channel.
 * @param rows training rows `[N, C]`, raw units
 * @param reach the points that can reach the net's newest output
 */
export function analogueGroups(rows: ArrayLike<number>, C: number, targets: readonly boolean[], reach: number): number[][] {
  const N = rows.length / C;
  const from = Math.max(0, N - MAX_ROWS);
  const scales = RELATION_SCALES.filter((s) => s < reach);
  const bar = normalQuantileAbove(RELATION_P / (2 * scales.length)) ** 2;
  const ids = targets.flatMap((t, c) => (t ? [c] : []));
  // Union-find over the targets.
  const parent = new Map(ids.map((c) => [c, c]));
  const root = (c: number): number => (parent.get(c) === c ? c : root(parent.get(c)!));
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const [a, b] = [ids[i], ids[j]];
      if (root(a) === root(b)) continue;
      if (scales.some((s) => incrementStatistic(rows, C, a, b, s, from) > bar)) parent.set(root(b), root(a));
    }
  }
  const groups = new Map<number, number[]>();
  for (const c of ids) groups.set(root(c), [...(groups.get(root(c)) ?? []), c]);
  return [...groups.values()].sort((x, y) => x[0] - y[0]);
}

/**
 * The width of each group's net: `width / √G`, rounded up to a multiple of 4. A hidden conv costs
 * about K·width² per point, so G nets of this width hold the multiply-adds of one net of `width`.
 * They still cost more: G times the kernel calls, small convolutions that use the cores less
 * well, and elementwise work on G·width channels (96 for 8 × 12 against 32). Scoring 8 groups
 * took 2.5× the one net's time on wasm and 3.7× on tfjs-node (docs/benchmarks.md, "With channel
 * groups", with the forms that run them as one set of calls, measured and not adopted).
 */
export function groupWidth(width: number, groups: number): number {
  return Math.max(4, Math.ceil(width / Math.sqrt(groups) / 4) * 4);
}

/** A model's groups by channel name, and whether each reads the calendar; undefined for one net. */
export function namedGroups(manifest: Pick<ModelManifest, 'channels' | 'denoiser' | 'imputation'>): { channels: string[]; calendar: boolean }[] | undefined {
  const { groups, groupExtras } = manifest.denoiser;
  if (!groups) return undefined;
  const reads = manifest.imputation?.reads;
  const read = manifest.channels.filter((_, c) => reads?.[c] ?? true);
  const calendar = manifest.imputation?.calendar === true;
  return groups.map((g, i) => ({ channels: g.map((c) => read[c]), calendar: calendar && groupExtras?.[i] !== false }));
}
