#!/usr/bin/env bash
# Build @tensorflow/tfjs-node (or -gpu) against the TensorFlow C library shipped in a PyPI wheel,
# because the package's own installer downloads libtensorflow and a prebuilt addon from
# storage.googleapis.com, which this environment cannot reach. See docs/native-backend.md.
#
#   bash scripts/native-setup.sh            # CPU: tensorflow-cpu wheel -> @tensorflow/tfjs-node
#   bash scripts/native-setup.sh --gpu      # CUDA 12: tensorflow[and-cuda] wheels -> @tensorflow/tfjs-node-gpu
#   bash scripts/native-setup.sh --check    # only report whether the installed addon loads
#
# Options: --tf-version X (default 2.18.1), --force (rebuild, ignore caches), --offline (use only
# wheels already in .cache/native/wheels), --jobs N (compile jobs, default 2).
# Every step is cached under .cache/native/ and skipped when its output is complete; the result is
# installed into node_modules/@tensorflow/<package>. A failed step says what failed and why.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/native"
CACHE="$ROOT/.cache/native"
TF_VERSION="2.18.1" # C API checked against tfjs-node 4.22's binding: docs/native-backend.md
VARIANT="cpu"
FORCE=0
OFFLINE=0
CHECK_ONLY=0
JOBS=2 # the dev machine has 2 shared cores

while [[ $# -gt 0 ]]; do
  case "$1" in
    --gpu) VARIANT="gpu" ;;
    --cpu) VARIANT="cpu" ;;
    --tf-version) TF_VERSION="$2"; shift ;;
    --force) FORCE=1 ;;
    --offline) OFFLINE=1 ;;
    --check) CHECK_ONLY=1 ;;
    --jobs) JOBS="$2"; shift ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "native-setup: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nnative-setup: FAILED: %s\n' "$1" >&2; shift; for l in "$@"; do printf '  %s\n' "$l" >&2; done; exit 1; }

if [[ "$VARIANT" == gpu ]]; then
  PKG="@tensorflow/tfjs-node-gpu"; WHEEL_DIST="tensorflow"
else
  PKG="@tensorflow/tfjs-node"; WHEEL_DIST="tensorflow-cpu"
fi
TFJS_VERSION="$(node -p "require('$ROOT/package.json').optionalDependencies['$PKG']")"
DEST="$ROOT/node_modules/$PKG"

if [[ "$CHECK_ONLY" == 1 ]]; then
  exec node "$HERE/check.mjs" "$PKG"
fi

# --- 0. Tools ----------------------------------------------------------------------------------
step "checking tools"
[[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || fail "only linux x86_64 is supported" "PyPI TensorFlow wheels used here are manylinux x86_64; found $(uname -s)-$(uname -m)"
for t in python3 g++ make tar unzip readelf nm; do
  command -v "$t" >/dev/null || fail "'$t' not found on PATH" "install it (Debian: apt-get install build-essential unzip binutils python3-pip)"
done
python3 -m pip --version >/dev/null 2>&1 || fail "pip is not available for python3" "python3 -m ensurepip, or apt-get install python3-pip"
NODE_GYP="${NODE_GYP:-$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js}"
[[ -f "$NODE_GYP" ]] || fail "node-gyp not found at $NODE_GYP" "npm bundles it; or set NODE_GYP=/path/to/node-gyp.js"
# node-gyp would otherwise download the Node headers from nodejs.org; the install prefix has them.
NODEDIR="${NODEDIR:-$(cd "$(dirname "$(readlink -f "$(command -v node)")")/.." && pwd)}"
[[ -f "$NODEDIR/include/node/node_api.h" ]] || fail "Node headers not found in $NODEDIR/include/node" \
  "node-gyp needs them and cannot download them offline; set NODEDIR to a Node install prefix or source tree of $(node -v)"
NAPI="$(node -p "process.versions.napi")"
echo "node $(node -v) (N-API $NAPI), $(g++ --version | head -1), node-gyp $(node "$NODE_GYP" --version), python $(python3 -V 2>&1)"

# --- 1. Wheels -----------------------------------------------------------------------------------
LIBDIR="$CACHE/tf-$TF_VERSION-$VARIANT"
if [[ "$FORCE" == 1 ]]; then rm -rf "$LIBDIR"; fi
if [[ ! -f "$LIBDIR/.complete" ]]; then
  step "fetching the $WHEEL_DIST $TF_VERSION wheel$([[ $VARIANT == gpu ]] && echo ' and its CUDA 12 wheels') into $CACHE/wheels"
  mkdir -p "$CACHE/wheels"
  SPECS=("$WHEEL_DIST==$TF_VERSION")
  if [[ "$VARIANT" == gpu ]]; then
    # Only the nvidia-* wheels of the and-cuda extra: the rest of TensorFlow's Python dependencies are not needed.
    mapfile -t CUDA_SPECS < <(python3 "$HERE/cudaWheels.py" "$TF_VERSION" "$CACHE/wheels" "$OFFLINE") \
      || fail "could not resolve the CUDA wheels of tensorflow[and-cuda]==$TF_VERSION" "see the pip output above"
    SPECS+=("${CUDA_SPECS[@]}")
  fi
  # The wheel's Python tag does not matter (we only take its C libraries), so pin the platform and let
  # pip pick any Python version it has; cp311 is what TensorFlow 2.16-2.20 all ship.
  PIP_ARGS=(download --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 -d "$CACHE/wheels")
  [[ "$OFFLINE" == 1 ]] && PIP_ARGS+=(--no-index --find-links "$CACHE/wheels")
  python3 -m pip "${PIP_ARGS[@]}" "${SPECS[@]}" \
    || fail "pip could not download ${SPECS[*]}" "is PyPI reachable (or are the wheels already in $CACHE/wheels with --offline)?" "is $TF_VERSION published for manylinux x86_64 cp311? python3 -m pip index versions $WHEEL_DIST"

  step "extracting libtensorflow into $LIBDIR"
  rm -rf "$LIBDIR" && mkdir -p "$LIBDIR/lib" "$LIBDIR/unpack"
  WHEEL="$(ls "$CACHE/wheels/${WHEEL_DIST//-/_}-$TF_VERSION-"*.whl | head -1)"
  unzip -q -o "$WHEEL" 'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' 'tensorflow/include/*' -d "$LIBDIR/unpack" \
    || fail "$WHEEL does not contain tensorflow/libtensorflow_cc.so.2, libtensorflow_framework.so.2 and include/" \
      "the 2.9.1 wheel, for one, has the C API only inside python/_pywrap_tensorflow_internal.so (a Python extension); 2.12.0 and later ship libtensorflow_cc.so.2"
  mv "$LIBDIR/unpack/tensorflow/include" "$LIBDIR/include"
  mv "$LIBDIR/unpack/tensorflow/"libtensorflow_*.so.2 "$LIBDIR/lib/"
  if [[ "$VARIANT" == gpu ]]; then
    # The wheels' own layout, as in site-packages: TensorFlow's RUNPATH holds $ORIGIN/../nvidia/<lib>/lib
    # (deps/lib -> deps/nvidia/...) and the nvidia libraries point at each other the same way. TensorFlow
    # dlopen()s some CUDA libraries that are not on that list, so every one is also linked flat beside
    # it, where the $ORIGIN/ entry of its RUNPATH finds them. No LD_LIBRARY_PATH is needed either way.
    for w in "$CACHE"/wheels/nvidia_*.whl; do
      unzip -q -o "$w" 'nvidia/*' -d "$LIBDIR" -x '*/include/*' '*.a' '*/bin/*' '*/__pycache__/*' '*.py'
    done
    find "$LIBDIR/nvidia" -name '*.so*' -type f -exec ln -f -t "$LIBDIR/lib/" {} +
  fi
  rm -rf "$LIBDIR/unpack"
  # binding.gyp links -ltensorflow -ltensorflow_framework; the recorded NEEDED entries are the SONAMEs
  # (libtensorflow_cc.so.2, libtensorflow_framework.so.2), so these names only matter at link time.
  ln -sf libtensorflow_cc.so.2 "$LIBDIR/lib/libtensorflow.so"
  ln -sf libtensorflow_framework.so.2 "$LIBDIR/lib/libtensorflow_framework.so"

  step "checking the C API symbols the tfjs-node binding calls"
  missing="$(bash "$HERE/checkSymbols.sh" "$LIBDIR/lib")" || fail "libtensorflow $TF_VERSION lacks C API symbols the binding needs" $missing
  echo "$TF_VERSION $WHEEL_DIST $(basename "$WHEEL")" > "$LIBDIR/.complete"
else
  step "libtensorflow $TF_VERSION ($VARIANT) cached in $LIBDIR"
fi

# --- 2. Addon ------------------------------------------------------------------------------------
# Our fixes to the binding's sources (scripts/native/*.patch); their hash keys the build cache.
# nullglob: with no patch the list is empty, not the literal pattern.
shopt -s nullglob
PATCHES=("$HERE"/*.patch)
shopt -u nullglob
if (( ${#PATCHES[@]} )); then PATCH_KEY="$(cat "${PATCHES[@]}" | sha256sum | cut -c1-8)"; else PATCH_KEY=none; fi
BUILD="$CACHE/build/${PKG#@tensorflow/}-$TFJS_VERSION-tf$TF_VERSION-p$PATCH_KEY"
if [[ "$FORCE" == 1 ]]; then rm -rf "$BUILD"; fi
if [[ ! -f "$BUILD/.complete" ]]; then
  step "fetching $PKG@$TFJS_VERSION sources from the npm registry"
  mkdir -p "$CACHE/src" && rm -rf "$BUILD" && mkdir -p "$BUILD"
  TGZ="$CACHE/src/$(echo "${PKG#@}" | tr / -)-$TFJS_VERSION.tgz"
  if [[ ! -f "$TGZ" ]]; then
    (cd "$CACHE/src" && npm pack --silent "$PKG@$TFJS_VERSION" >/dev/null) || fail "npm pack $PKG@$TFJS_VERSION failed" "is the npm registry reachable?"
  fi
  tar xzf "$TGZ" -C "$BUILD" --strip-components=1
  for p in "${PATCHES[@]}"; do
    step "patching the binding: $(basename "$p")"
    patch -p1 --forward --quiet -d "$BUILD" < "$p" || fail "$(basename "$p") does not apply to $PKG@$TFJS_VERSION" "the patch was written for tfjs-node 4.22's binding"
  done
  NAPI_BUILD="$(node -e "const v=require(process.argv[1]).binary.napi_versions.filter(v=>v<=+process.versions.napi);console.log(Math.max(...v))" "$BUILD/package.json")"

  step "building the addon with node-gyp (N-API $NAPI_BUILD, -j $JOBS); takes a few minutes"
  mkdir -p "$BUILD/deps"
  ln -sfn "$LIBDIR/include" "$BUILD/deps/include"
  ln -sfn "$LIBDIR/lib" "$BUILD/deps/lib"
  # The same variables node-pre-gyp passes, so lib/napi-v<N>/ is where binary.find() looks at run time.
  (cd "$BUILD" && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" --jobs="$JOBS" \
      --module_name=tfjs_binding --module_path="$BUILD/lib/napi-v$NAPI_BUILD" --napi_build_version="$NAPI_BUILD" \
      > "$BUILD/node-gyp.log" 2>&1) \
    || { tail -40 "$BUILD/node-gyp.log" >&2; fail "node-gyp rebuild failed" "full log: $BUILD/node-gyp.log"; }
  [[ -f "$BUILD/lib/napi-v$NAPI_BUILD/tfjs_binding.node" ]] || fail "node-gyp succeeded but lib/napi-v$NAPI_BUILD/tfjs_binding.node is missing" "log: $BUILD/node-gyp.log"

  step "installing $PKG's runtime npm dependencies (scripts disabled)"
  # Every declared dependency except @tensorflow/tfjs, which must resolve to the project's own copy so
  # that the 'tensorflow' backend registers in the engine diffwatch uses.
  node -e "const p=require(process.argv[1]);const d={...p.dependencies};delete d['@tensorflow/tfjs'];
    require('fs').writeFileSync(process.argv[2],JSON.stringify({name:'tfjs-node-runtime-deps',private:true,dependencies:d},null,1))" \
    "$BUILD/package.json" "$BUILD/runtime-deps.json"
  mkdir -p "$BUILD/stage" && cp "$BUILD/runtime-deps.json" "$BUILD/stage/package.json"
  (cd "$BUILD/stage" && npm install --ignore-scripts --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null) \
    || fail "npm install of $PKG's runtime dependencies failed" "$(cat "$BUILD/runtime-deps.json" | tr -d '\n')"
  echo "$NAPI_BUILD" > "$BUILD/.complete"
else
  NAPI_BUILD="$(cat "$BUILD/.complete")"
  step "addon cached in $BUILD"
fi

# --- 3. Install into node_modules --------------------------------------------------------------
step "installing into ${DEST#$ROOT/}"
rm -rf "$DEST" && mkdir -p "$DEST/lib" "$DEST/deps/lib"
cp -a "$BUILD/package.json" "$BUILD/dist" "$DEST/"
cp -a "$BUILD/README.md" "$DEST/" 2>/dev/null || true
cp -a "$BUILD/lib/napi-v$NAPI_BUILD" "$DEST/lib/"
cp -a "$BUILD/stage/node_modules" "$DEST/node_modules"
# Hard links: the libraries are ~700 MB (several GB with CUDA) and the cache is on the same disk.
cp -al "$LIBDIR/lib/." "$DEST/deps/lib/" 2>/dev/null || cp -a "$LIBDIR/lib/." "$DEST/deps/lib/"
if [[ -d "$LIBDIR/nvidia" ]]; then
  cp -al "$LIBDIR/nvidia" "$DEST/deps/nvidia" 2>/dev/null || cp -a "$LIBDIR/nvidia" "$DEST/deps/nvidia"
fi
node -e "require('fs').writeFileSync(process.argv[1], JSON.stringify({
  package: '$PKG', version: '$TFJS_VERSION', variant: '$VARIANT', tensorflow: '$TF_VERSION',
  wheel: require('fs').readFileSync('$LIBDIR/.complete','utf8').trim().split(' ')[2], napi: $NAPI_BUILD,
  patches: process.argv[2].split(' ').filter(Boolean), builtWith: 'scripts/native-setup.sh', builtAt: new Date().toISOString() }, null, 2) + '\n')" "$DEST/native-build.json" "$(for p in "${PATCHES[@]}"; do basename "$p"; done | tr '\n' ' ')"

# --- 4. Verify -----------------------------------------------------------------------------------
step "verifying that $PKG loads and computes"
node "$HERE/check.mjs" "$PKG" || fail "$PKG was installed but does not load" "the error is printed above; see docs/native-backend.md"
step "checking that worker threads can run ops at once (scripts/native/attrRace.mjs)"
TF_CPP_MIN_LOG_LEVEL=2 node "$HERE/attrRace.mjs" "$PKG" || fail "$PKG's binding is not safe with several worker threads" "is scripts/native/attr-name-set-mutex.patch applied? see docs/native-backend.md"
printf '\nnative-setup: OK. %s now uses libtensorflow %s from %s.\n' "$PKG" "$TF_VERSION" "$WHEEL_DIST"
echo "It is outside package-lock.json: rerun this script after 'npm ci' or 'npm install' removes it."
