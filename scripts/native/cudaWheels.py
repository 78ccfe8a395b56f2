"""Print one 'name==version' per line: the nvidia-* wheels that tensorflow[and-cuda]==<v> pins.

    python3 scripts/native/cudaWheels.py 2.18.1 .cache/native/wheels 0

Resolved with pip's dry run (reads PyPI metadata only, downloads no wheel) so that the versions are
exactly those TensorFlow's extra selects; TensorFlow's other Python dependencies are not needed by the
C library and are left out. With offline=1, the nvidia-* wheels already in the wheel directory are used.
"""
import json
import pathlib
import subprocess
import sys
import tempfile

tf_version, wheel_dir, offline = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3] == "1"

if offline:
    # Wheel file names are <name>-<version>-<tags>.whl, e.g. nvidia_cublas_cu12-12.5.3.2-py3-none-manylinux2014_x86_64.whl
    pins = sorted({"{}=={}".format(*w.name.split("-")[:2]).replace("_", "-") for w in wheel_dir.glob("nvidia_*.whl")})
    if not pins:
        sys.exit(f"--offline: no nvidia_*.whl in {wheel_dir}")
    print("\n".join(pins))
    sys.exit(0)

with tempfile.TemporaryDirectory() as tmp:
    report = pathlib.Path(tmp, "report.json")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.11",
         "--target", tmp, "--report", str(report), f"tensorflow[and-cuda]=={tf_version}"],
        check=True, stdout=sys.stderr,
    )
    installs = json.loads(report.read_text())["install"]
    pins = sorted(f"{i['metadata']['name']}=={i['metadata']['version']}" for i in installs
                  if i["metadata"]["name"].lower().startswith("nvidia-"))
    if not pins:
        sys.exit(f"tensorflow[and-cuda]=={tf_version} pulls no nvidia-* wheels")
    print("\n".join(pins))
