#!/usr/bin/env bash
# The single test command (`npm test`): typecheck, the module-graph rules, then every vitest project.
# The integration project's global setup provisions and starts the local Kafka and InfluxDB
# (src/stack), so this needs Java 17, Maven and apt (or an installed influxd) but nothing running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== headless Chromium (for the evaluation report's screenshot test)"
bash scripts/ensure-chromium.sh

echo "== typecheck"
npx tsc --noEmit

echo "== module graph (dependency-cruiser: .dependency-cruiser.cjs)"
npm run --silent lint:deps

echo "== tests (unit + integration)"
npx vitest run "$@"
