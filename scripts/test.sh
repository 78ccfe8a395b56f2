#!/usr/bin/env bash
# The single test command (`npm test`): typecheck, then every vitest project.
# The integration project's global setup provisions and starts the local Kafka and InfluxDB
# (src/stack), so this needs Java 17, Maven and apt (or an installed influxd) but nothing running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== headless Chromium (for the evaluation report's screenshot test)"
bash scripts/ensure-chromium.sh

echo "== typecheck"
npx tsc --noEmit

echo "== tests (unit + integration)"
npx vitest run "$@"
