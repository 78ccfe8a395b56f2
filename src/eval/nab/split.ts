/**
 * The fixed tuning/test split of NAB. Every knob of the model, the scorer and the judge is chosen
 * on the tuning half only; the test half is only ever reported.
 *
 * The rule depends on nothing but the file path, so it cannot be steered by scores: within each
 * category, files are ranked by the SHA-256 of their file name, and even ranks go to `tuning`,
 * odd ranks to `test`. Ranking inside a category stratifies the split (each category is halved,
 * the odd one out going to tuning), where a bare hash parity could put a whole category on one side.
 * `data/nab-split.json` is this rule's output, committed so that the split is visible and a test
 * checks that the two agree.
 *
 * @example splitOf(labelledPaths).get('realKnownCause/nyc_taxi.csv') // 'tuning' or 'test', forever
 */
import { createHash } from 'node:crypto';

export type NabSplit = 'tuning' | 'test';
export type NabSplitChoice = NabSplit | 'all';
export const NAB_SPLIT_CHOICES: readonly NabSplitChoice[] = ['tuning', 'test', 'all'];

function nameHash(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return createHash('sha256').update(name).digest('hex');
}

/** Path (`<category>/<file>.csv`) → its half, for every path given. */
export function splitOf(paths: readonly string[]): Map<string, NabSplit> {
  const byCategory = new Map<string, string[]>();
  for (const path of paths) {
    const category = path.includes('/') ? path.slice(0, path.indexOf('/')) : '';
    byCategory.set(category, [...(byCategory.get(category) ?? []), path]);
  }
  const out = new Map<string, NabSplit>();
  for (const members of byCategory.values()) {
    const ranked = members.map((p) => ({ p, h: nameHash(p) })).sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
    ranked.forEach(({ p }, rank) => out.set(p, rank % 2 === 0 ? 'tuning' : 'test'));
  }
  return out;
}

/** The paths of one half (or all of them, in their given order). */
export function selectSplit(paths: readonly string[], choice: NabSplitChoice): string[] {
  if (choice === 'all') return [...paths];
  const halves = splitOf(paths);
  return paths.filter((p) => halves.get(p) === choice);
}
