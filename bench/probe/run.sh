#!/usr/bin/env bash
# The probe: eleven telemetry cases of kinds the synthetic suite does not generate, two seeds each,
# through `diffwatch train` and `diffwatch score` with their defaults, as a new user would run
# them; prints the ROC AUC of the diffusion model and of the one-line detector per case.
# NumPy goes into a venv under .cache (created on the first run). Not part of `npm test`.
#
#   npm run eval:probe [-- <seeds, default "0 1">] [-- extra train flags in PROBE_TRAIN_ARGS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.cache/probe/venv"
[ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q numpy==2.4.6; }
CASES=(ar1Spikes heavyTailVariance correlatedBreak fanFailure weekdayLikeWeekend levelBesideConstants runawayProcess trendingCycle countBursts trendingStep trendingLongStep)
cd "$ROOT"
for seed in ${@:-0 1}; do
  out="$ROOT/.cache/probe/seed$seed"
  rm -rf "$out"
  "$VENV/bin/python" bench/probe/generate.py "$out" "$seed"
  for c in "${CASES[@]}"; do
    npx diffwatch train --file "$out/$c.train.csv" --out "$out/m-$c" --json ${PROBE_TRAIN_ARGS:-} > "$out/$c.train.log" 2>&1
    npx diffwatch score --model "$out/m-$c" --file "$out/$c.csv" --out "$out/$c.scores.csv" > "$out/$c.score.log" 2>&1
  done
  echo "== seed $seed"
  "$VENV/bin/python" bench/probe/auc.py "$out" "${CASES[@]}"
done
