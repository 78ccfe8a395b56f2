#!/usr/bin/env bash
# The demo: start the local Kafka and InfluxDB, replay a real NAB series (a machine's
# temperature before a failure) as telemetry, run diffwatch until the input is drained,
# and show what it wrote: scores per state and the alerts.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
npx diffwatch stack up >/dev/null
run="demo-$(date +%s)"
topic="$run.telemetry"
entity="machine-temperature"
echo "== replaying data/nab/machine_temperature_system_failure.csv to $topic"
npx diffwatch replay --file data/nab/machine_temperature_system_failure.csv --topic "$topic" --entity "$entity"
echo "== running diffwatch until the topic is drained: the entity has no model, so it collects 2,000"
echo "   windows, trains its own diffusion model in the background, and is then scored by it"
# Each demo run has its own database, detector state, so that earlier runs do not mix in
# (a detector that has already judged these windows would skip them as a replay).
export INFLUX_DATABASE="${run//-/_}"
export DIFFWATCH_STATE_TOPIC="$run.state"
# …and its own model store and topics, so that every demo shows the cold start (a restart would reuse the model).
export DIFFWATCH_MODEL_STORE="out/demo/$run/models"
export DIFFWATCH_MODEL_TOPIC="$run.models"
export DIFFWATCH_ROW_TOPIC="$run.rows"
DIFFWATCH_TOPICS="$topic" DIFFWATCH_GROUP_ID="$run" DIFFWATCH_LOG_LEVEL="${DIFFWATCH_LOG_LEVEL:-warn}" \
  npx diffwatch run --config config/diffwatch.json --until-idle 3
echo "== what diffwatch wrote to InfluxDB (database $INFLUX_DATABASE)"
npx diffwatch inspect --config config/diffwatch.json --entity "$entity" --limit 100
echo "== watch it live: npx diffwatch top --config config/diffwatch.json (next to a running diffwatch run; q quits). This run's last state: INFLUX_DATABASE=$INFLUX_DATABASE npx diffwatch top --config config/diffwatch.json"
echo "== stop the local stack with: npx diffwatch stack down"
