/**
 * Exact area under the ROC curve of a score that should be higher for positives (anomalous
 * windows) than for negatives (normal ones), via the rank statistic (Mann-Whitney U):
 *
 *   AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ · n₋)
 *
 * where R₊ is the sum of the positives' ranks in the pooled, ascending sample. Tied scores get
 * the average of the ranks they span, so a positive tied with a negative counts ½, the same as
 * the trapezoidal area under the ROC curve and scikit-learn's `roc_auc_score`. 1 means every
 * positive outscores every negative, 0.5 is chance (or every score equal), 0 a perfect inversion.
 * O((n₊ + n₋) log(n₊ + n₋)), no thresholds and no interpolation.
 *
 * Example:
 *   rocAuc([0.9, 0.8], [0.1, 0.8]); // (1 + 1 + 1 + 0.5) / 4 = 0.875
 */
import { ModelError } from '../errors.ts';

function checked(name: 'positives' | 'negatives', xs: ArrayLike<number>): void {
  if (xs.length === 0) throw new ModelError('MODEL_INVALID', `rocAuc: no ${name}; the AUC needs at least one score of each class`, { field: name });
  for (let i = 0; i < xs.length; i++) {
    // NaN has no rank: sorting it anywhere would silently move the AUC.
    if (Number.isNaN(xs[i])) throw new ModelError('MODEL_INVALID', `rocAuc: ${name}[${i}] is NaN`, { field: `${name}[${i}]` });
  }
}

/** AUC of `positives` against `negatives`, in [0, 1]. Throws `ModelError('MODEL_INVALID')` on an empty class or a NaN score. */
export function rocAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  checked('positives', positives);
  checked('negatives', negatives);
  const nPos = positives.length;
  const nNeg = negatives.length;
  const pooled: { score: number; positive: boolean }[] = [];
  for (let i = 0; i < nPos; i++) pooled.push({ score: positives[i], positive: true });
  for (let i = 0; i < nNeg; i++) pooled.push({ score: negatives[i], positive: false });
  // Comparisons rather than a difference: ±Infinity − ±Infinity is NaN, which would break the sort.
  pooled.sort((a, b) => (a.score < b.score ? -1 : a.score > b.score ? 1 : 0));

  let rankSumPos = 0;
  for (let i = 0; i < pooled.length; ) {
    let j = i;
    while (j + 1 < pooled.length && pooled[j + 1].score === pooled[i].score) j++;
    const averageRank = (i + j + 2) / 2; // ranks are 1-based: the tie group spans ranks i+1 … j+1
    for (let k = i; k <= j; k++) if (pooled[k].positive) rankSumPos += averageRank;
    i = j + 1;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
