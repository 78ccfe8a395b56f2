# ROC AUC per probe case over the test rows: the diffusion model's score (from `diffwatch score`)
# and the one-line detector (each analogue channel's distance from its fit median in fit stds, the
# largest). Rows within a window length after an anomaly are left out of the negatives.
#
#   python auc.py <dir> <case>...
import numpy as np, json, sys, csv
d = sys.argv[1]; names = sys.argv[2:]
def auc(s, y):
    s = np.asarray(s); y = np.asarray(y, bool)
    order = np.argsort(s, kind='mergesort'); r = np.empty(len(s)); 
    # average ranks for ties
    ss = s[order]; i = 0; ranks = np.empty(len(s))
    while i < len(s):
        j = i
        while j + 1 < len(s) and ss[j + 1] == ss[i]: j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1; i = j + 1
    npos = y.sum(); nneg = len(y) - npos
    return (ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg)
for name in names:
    meta = json.load(open(f'{d}/{name}.json')); lab = np.array(meta['labels'], bool); tr = meta['train_rows']
    rows = list(csv.reader(open(f'{d}/{name}.csv'))); hdr = rows[0][1:]; X = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    sc = list(csv.reader(open(f'{d}/{name}.scores.csv')))[1:]; s = np.array([float(r[1]) if r[1] != '' else np.nan for r in sc])
    idx = [hdr.index(c) for c in meta['analog']]
    med = np.median(X[:tr, idx], 0); sd = X[:tr, idx].std(0); sd[sd == 0] = 1
    one = (np.abs(X[:, idx] - med) / sd).max(1)
    n = len(lab); keep = np.zeros(n, bool); keep[tr + 64:] = True
    # negatives near an anomaly's end (inside a window that still holds it) are left out
    after = np.zeros(n, bool); ends = [i for i in range(1, n) if lab[i - 1] and not lab[i]]
    for e in ends: after[e:e + 64] = True
    keep &= ~(after & ~lab)
    keep &= ~np.isnan(s)
    print(f'{name:22s} pos {lab[keep].sum():4d} neg {(~lab[keep]).sum():5d}  diffusion {auc(s[keep], lab[keep]):.3f}  oneLine {auc(one[keep], lab[keep]):.3f}')
