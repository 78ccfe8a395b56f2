#!/usr/bin/env bash
# One short pass (< 8 minutes) over what a GPU machine gives diffwatch's model, ending in one table:
#   - the GPU (nvidia-smi) and the native package: @tensorflow/tfjs-node-gpu, built by
#     `scripts/native-setup.sh --gpu` when absent (needs PyPI, or its wheels in .cache/native/wheels)
#   - per backend (tensorflow, webgpu, and wasm as the CPU reference): what initialised, a 200-step
#     training run at batch 64, scoring windows/s at batch 64..8192 (default model, K = 4 draws), and
#     the largest relative score difference against the wasm and cpu backends on the same weights
#   - tensorflow again with NVIDIA_TF32_OVERRIDE=0: TensorFlow computes float32 matmuls and convs in
#     TF32 on Ampere and newer by default, which shows up in that difference
#   - whether Dawn (the `webgpu` package) finds the GPU for @tensorflow/tfjs-backend-webgpu
#
#   bash bench/gpu-check.sh            # results also in .cache/gpu-check/*.json
#   GPU_CHECK_SETUP=0 bash bench/gpu-check.sh   # do not try to build tfjs-node-gpu
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/.cache/gpu-check"
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log
START=$SECONDS
# Kernels compiled from PTX at first use are cached here, so the second tensorflow pass reuses them.
export CUDA_CACHE_PATH="$OUT/cuda-cache" CUDA_CACHE_MAXSIZE=4294967296
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-1}" DIFFWATCH_LOG_LEVEL=warn

say() { printf '[gpu-check %3ds] %s\n' "$((SECONDS - START))" "$*"; }

say "machine: $(nproc) cores, node $(node -v), load $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v nvidia-smi >/dev/null; then
  GPU="$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 | head -1 || true)"
else
  GPU="no nvidia-smi"
fi
say "GPU: $GPU"

# --- the native GPU package ----------------------------------------------------------------------
NATIVE="installed"
if [[ ! -d node_modules/@tensorflow/tfjs-node-gpu ]]; then
  if [[ "${GPU_CHECK_SETUP:-1}" == 1 ]]; then
    OFFLINE=()
    ls .cache/native/wheels/tensorflow-*.whl >/dev/null 2>&1 && ls .cache/native/wheels/nvidia_*.whl >/dev/null 2>&1 && OFFLINE=(--offline)
    say "building @tensorflow/tfjs-node-gpu (native-setup.sh --gpu ${OFFLINE[*]:-}), at most 150 s; log: $OUT/native-setup.log"
    # Short pip timeouts: on a machine without PyPI this should fail in seconds, not minutes.
    if PIP_DEFAULT_TIMEOUT=10 PIP_RETRIES=0 timeout 150 bash scripts/native-setup.sh --gpu --jobs "$(nproc)" "${OFFLINE[@]}" > "$OUT/native-setup.log" 2>&1; then
      NATIVE="built now"
    else
      NATIVE="not available: $(grep -m1 'FAILED' "$OUT/native-setup.log" || tail -1 "$OUT/native-setup.log")"
    fi
  else
    NATIVE="not installed (GPU_CHECK_SETUP=0)"
  fi
fi
say "tfjs-node-gpu: $NATIVE"

# --- one process per backend, each with its own time limit --------------------------------------
ENV=() # extra environment of the next run
run() { # name, limit s, budget s, gpuCheck.ts args...
  local name="$1" limit="$2" budget="$3" rc=0; shift 3
  # The whole pass stays under 8 minutes even when every step runs into its limit.
  local left=$((470 - (SECONDS - START)))
  if (( left < 30 )); then
    printf '{"backend":"%s","available":false,"reason":"skipped: the 8-minute pass is used up"}\n' "$name" > "$OUT/$name.json"; ENV=(); return
  fi
  (( limit > left )) && { budget=$((budget - limit + left)); limit=$left; }
  say "running $name (limit ${limit}s${ENV[*]:+, ${ENV[*]}})"
  env "${ENV[@]}" timeout "$limit" npx tsx scripts/native/gpuCheck.ts --budget-s "$budget" "$@" > "$OUT/$name.json" 2> "$OUT/$name.log" || rc=$?
  if [[ $rc != 0 ]]; then
    printf '{"backend":"%s","available":false,"reason":"exit status %s (124 = over the %ss limit); see %s"}\n' "$name" "$rc" "$limit" "$OUT/$name.log" >> "$OUT/$name.json"
  fi
  tail -1 "$OUT/$name.json" | cut -c1-300
  ENV=()
}
run tensorflow 140 110 --backend tensorflow
ENV=(NVIDIA_TF32_OVERRIDE=0)
run tensorflow-fp32 60 35 --backend tensorflow --steps 20 --batches 64
run webgpu 90 70 --backend webgpu
run wasm 70 50 --backend wasm --steps 200 --batches 64,256,1024

# --- the table -----------------------------------------------------------------------------------
node - "$OUT" "$GPU" "$NATIVE" <<'EOF'
const [dir, gpu, native] = process.argv.slice(2);
const fs = require('fs');
const rows = ['tensorflow', 'tensorflow-fp32', 'webgpu', 'wasm'].map((name) => {
  try { return { name, ...JSON.parse(fs.readFileSync(`${dir}/${name}.json`, 'utf8').trim().split('\n').pop()) }; }
  catch (e) { return { name, available: false, reason: `no result (${e.message})` }; }
});
const batches = [...new Set(rows.flatMap((r) => Object.keys(r.throughput ?? {})))].sort((a, b) => a - b);
const f = (x, d = 0) => (typeof x === 'number' ? x.toFixed(d) : x === undefined ? '-' : String(x).slice(0, 10));
console.log(`\nGPU: ${gpu}\ntfjs-node-gpu: ${native}\n`);
console.log(['run'.padEnd(16), 'selected'.padEnd(11), 'gpu'.padEnd(5), 'train steps/s'.padStart(13), 'loss first→last'.padStart(16),
  ...batches.map((b) => `w/s@${b}`.padStart(10)), 'Δ vs wasm'.padStart(10), 'Δ vs cpu'.padStart(10)].join(' '));
for (const r of rows) {
  if (!r.available) { console.log(`${r.name.padEnd(16)} unavailable: ${r.reason}${r.dawn ? ` | ${r.dawn}` : ''}`); continue; }
  const t = r.training ?? {};
  console.log([r.name.padEnd(16), String(r.selected).padEnd(11), String(r.gpu ?? '-').padEnd(5), f(t.stepsPerSec, 1).padStart(13),
    `${f(t.firstLoss, 3)}→${f(t.lastLoss, 3)}`.padStart(16), ...batches.map((b) => f(r.throughput?.[b]).padStart(10)),
    (typeof r.maxRelDiff?.wasm === 'number' ? r.maxRelDiff.wasm.toExponential(1) : f(r.maxRelDiff?.wasm)).padStart(10),
    (typeof r.maxRelDiff?.cpu === 'number' ? r.maxRelDiff.cpu.toExponential(1) : f(r.maxRelDiff?.cpu)).padStart(10)].join(' '));
  if (r.dawn) console.log(`${''.padEnd(16)} ${r.dawn}`);
}
console.log('\nw/s = scored windows per second (window 64, 3 channels, K = 4 draws); Δ = largest relative point-score difference, same weights.');
EOF
say "done; raw results in $OUT"
