#!/usr/bin/env bash
# Create the Python environment of the PyTorch reference (bench/reference/README.md):
# a venv in .cache/torch-ref/venv with CPU PyTorch and NumPy, pinned.
#
#   bash bench/reference/setup.sh            # create, or check an existing one (about 2 s)
#   bash bench/reference/setup.sh --force    # recreate it
#   bash bench/reference/setup.sh --check    # only check; exit 1 when missing or broken
#
# torch is installed with --no-deps, then exactly the packages it needs to import and run on a CPU:
# its pure-Python dependencies and the CUDA runtime libraries (~3 GB installed) that its shared
# libraries are linked against. PyPI has only CUDA builds of torch for linux x86_64, and
# libtorch.so / libtorch_python.so need libtorch_cuda.so, which needs libcudart, cuBLAS, cuDNN, ...
# at load time, even on a machine without a GPU (without them `import torch` fails with
# "libcublasLt.so.*[0-9] not found"). The CPU-only wheels live on download.pytorch.org, outside
# PyPI. Left out: triton, cuda-bindings, the CUDA headers (cccl) and NVTX, which torch loads only
# on demand. Not part of `npm test`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache/torch-ref"
VENV="$CACHE/venv"
PY="$VENV/bin/python"
TORCH="torch==2.15.0"
# What torch 2.15.0 requires, at the versions pip resolves for it on Python 3.11, plus NumPy.
DEPS=(filelock==4.3.2 typing-extensions==4.16.0 setuptools==84.2.1 sympy==1.14.0 mpmath==1.3.0
  networkx==3.6.1 jinja2==3.1.6 markupsafe==3.0.4 fsspec==2026.9.0 numpy==2.4.6)
# The libraries in the NEEDED entries (readelf -d) of torch/lib/*.so, and nvJitLink, which cuSPARSE needs.
CUDA_LIBS=(nvidia-cuda-runtime==13.2.86 nvidia-cublas==13.4.1.3 nvidia-cudnn-cu13==9.26.0.51
  nvidia-cufft==12.2.0.57 nvidia-cufile==1.17.1.22 nvidia-cusparse==12.7.10.12
  nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.30.7 nvidia-nvshmem-cu13==3.7.2
  nvidia-cuda-nvrtc==13.2.86 nvidia-cusolver==12.2.0.11 nvidia-nvjitlink==13.5.37 nvidia-cuda-cupti==13.2.86)
STAMP="$VENV/.complete"
WANT="$TORCH ${DEPS[*]} ${CUDA_LIBS[*]}"

fail() { printf 'torch-ref setup: FAILED: %s\n' "$1" >&2; shift; for l in "$@"; do printf '  %s\n' "$l" >&2; done; exit 1; }

# `import torch` and one conv1d: what the reference needs, and what breaks if a dependency is missing.
check() {
  "$PY" - <<'EOF'
import json, numpy, torch
x = torch.ones(1, 2, 8)
w = torch.ones(3, 2, 3)
y = torch.nn.functional.conv1d(x, w, padding='same', dilation=2)
assert tuple(y.shape) == (1, 3, 8) and float(y[0, 0, 4]) == 6.0, y
print(json.dumps({'ok': True, 'torch': torch.__version__, 'numpy': numpy.__version__, 'threads': torch.get_num_threads(), 'mkldnn': torch.backends.mkldnn.is_available()}))
EOF
}

case "${1:-}" in
  --check) [[ -x "$PY" && "$(cat "$STAMP" 2>/dev/null)" == "$WANT" ]] || fail "no environment in $VENV" "run: npm run bench:vs-torch:setup"; check; exit ;;
  --force) rm -rf "$VENV" ;;
  "") ;;
  *) echo "torch-ref setup: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
esac

if [[ -x "$PY" && "$(cat "$STAMP" 2>/dev/null)" == "$WANT" ]]; then
  check && exit 0
  echo "torch-ref setup: the existing environment does not work; recreating it" >&2
  rm -rf "$VENV"
fi

command -v python3 >/dev/null || fail "python3 not found" "install Python 3.11 or later"
mkdir -p "$CACHE/wheels"
echo "==> creating $VENV ($(python3 -V))"
rm -rf "$VENV" && python3 -m venv "$VENV" || fail "python3 -m venv failed" "Debian: apt-get install python3-venv"
echo "==> downloading $TORCH (CPU use, without its CUDA dependencies) into $CACHE/wheels"
"$PY" -m pip download --quiet --no-deps --only-binary=:all: -d "$CACHE/wheels" "$TORCH" \
  || fail "pip could not download $TORCH" "is PyPI reachable? is a wheel published for $(python3 -V) on $(uname -m)?"
echo "==> installing $TORCH --no-deps and its Python dependencies: ${DEPS[*]}"
"$PY" -m pip install --quiet --no-deps --find-links "$CACHE/wheels" "$TORCH" || fail "pip install $TORCH failed"
"$PY" -m pip install --quiet --no-deps "${DEPS[@]}" || fail "pip install of torch's Python dependencies failed" "${DEPS[*]}"
echo "==> installing the CUDA runtime libraries torch links against (~3 GB; loaded, unused on a CPU)"
"$PY" -m pip install --quiet --no-deps "${CUDA_LIBS[@]}" || fail "pip install of the CUDA runtime libraries failed" "${CUDA_LIBS[*]}"
echo "==> checking that torch imports and runs a conv1d"
check || fail "torch does not import or compute" "the error is printed above"
echo "$WANT" > "$STAMP"
echo "torch-ref setup: OK ($VENV)"
