#!/usr/bin/env bash
# Allocation throughput with wrk (issue 20; BENCHMARKS.md "Allocation at pool scale (wrk)"). Publishes the broker
# (Release), starts it on a fresh SQLite file with the simulated CSP (empty upstream pool, jobs off), per-request JSON
# logging through a pipe to a file, the per-token ceiling and the allocation quota lifted; registers N sandboxes
# through the admin API; warms up with 3 s of allocations; measures `GET /healthz` and then `POST /v1/allocate` with
# requester ids never used before (a random run id in every prefix); prints allocations/s, p50, p99, the answers that
# were not 201 and the ratio to /healthz. Everything on 127.0.0.1, bounded in time; the broker is stopped at the end.
#
#   scripts/bench-wrk.sh                          # pool 100,000, 2 threads, 64 connections, 7 s measured
#   scripts/bench-wrk.sh --pool 400000
#   scripts/bench-wrk.sh --broker DIR             # a broker already published in DIR (no publish; A/B runs)
#   scripts/bench-wrk.sh --log-reader per-line    # stdout read one line at a time (read, write, flush), as the
#                                                 # LoadTests harness's --log-reader does; default cat
#   scripts/bench-wrk.sh --keep-log FILE          # copy the broker's log (stdout and stderr) to FILE at the end
#   scripts/bench-wrk.sh --memory 200000          # RSS mode: pool of N, allocate it all with distinct requesters,
#                                                 # print the broker's VmRSS every chunk and after 15 s idle
# Exit code 1 when the broker did not start or registration failed, never because of a timing.
set -euo pipefail
cd "$(dirname "$0")/.."

pool=100000 duration=7 warmup=3 threads=2 connections=64 broker_dir="" memory=0 chunk=10 idle=15 log_reader=cat keep_log=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pool) pool="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --broker) broker_dir="$2"; shift 2 ;;
    --memory) memory="$2"; pool="$2"; shift 2 ;;
    --log-reader) log_reader="$2"; shift 2 ;;
    --keep-log) keep_log="$2"; shift 2 ;;
    --help|-h) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (apt-get install wrk): it is missing"
  sudo_cmd=""; if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk >/dev/null \
    || { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
fi

if [ -z "$broker_dir" ]; then
  broker_dir=artifacts/bench-wrk/broker
  echo "publishing the broker (Release) to $broker_dir"
  dotnet publish src/SandboxBroker.Api -c Release -o "$broker_dir" --nologo -v quiet >/dev/null
fi
broker_dll="$(cd "$broker_dir" && pwd)/SandboxBroker.Api.dll"
lua="$(pwd)/scripts/bench-wrk/allocate.lua"

scratch="$(mktemp -d /tmp/bench-wrk.XXXXXX)"
run_id="$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
track_token="bench-track-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
admin_token="bench-admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
log="$scratch/broker.log"
broker_pid=""

stop_broker() {
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -TERM "$broker_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$broker_pid" 2>/dev/null || true
  fi
  broker_pid=""
}
cleanup() {
  stop_broker; wait 2>/dev/null || true
  if [ -n "$keep_log" ]; then cp "$log" "$keep_log"; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read_log() {
  if [ "$log_reader" = per-line ]; then
    python3 -u -c 'import sys
for line in sys.stdin:
    sys.stdout.write(line); sys.stdout.flush()'
  else
    cat
  fi
}

# The broker as the harness starts it (tests/SandboxBroker.LoadTests BenchRunner): Production, rate limiting on but
# the per-token ceiling and the allocation quota lifted (one token speaks for every simulated participant).
env -i PATH="$PATH" HOME="$HOME" ${DOTNET_ROOT:+DOTNET_ROOT="$DOTNET_ROOT"} DOTNET_NOLOGO=1 \
  ASPNETCORE_ENVIRONMENT=Production AWS_EC2_METADATA_DISABLED=true \
  Broker__TrackTokens__0="$track_token" Broker__AdminTokens__0="$admin_token" \
  Broker__DefaultAllocationsPerMinute=1000000 \
  Csp__Mode=Simulated Csp__Simulated__PoolSize=0 Jobs__Enabled=false \
  Storage__Provider=Sqlite Storage__Sqlite__Path="$scratch/broker.db" \
  RateLimiting__PermitsPerSecond=1000 RateLimiting__Burst=10000 RateLimiting__PerTokenPermitsPerSecond=1000000 \
  ${BENCH_WRK_BROKER_ENV:-} \
  dotnet "$broker_dll" --urls "$base" > >(read_log > "$log") 2>&1 &
broker_pid=$!

for _ in $(seq 1 300); do
  curl -fs -o /dev/null "$base/readyz" && break
  kill -0 "$broker_pid" 2>/dev/null || { echo "the broker exited:"; tail -30 "$log"; exit 1; }
  sleep 0.1
done
curl -fs -o /dev/null "$base/readyz" || { echo "the broker did not become ready:"; tail -30 "$log"; exit 1; }

rss() { awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$broker_pid/status"; }
# The broker's CPU time (user + system, ms) so far: CPU per allocation holds up far better than a rate on a shared machine.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%d", ($12 + $13) * 1000 / hz }' "/proc/$broker_pid/stat"; }

echo "registering $pool sandboxes (admin API, 1,000 per call)"
started=$(date +%s.%N)
python3 - "$base" "$admin_token" "$pool" <<'PY'
import http.client, json, sys, uuid
base, token, pool = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = base.removeprefix("http://").split(":")
conn = http.client.HTTPConnection(host, int(port), timeout=120)
for offset in range(0, pool, 1000):
    # CSP account ids are uuids (random order); names are sequential, as a pool's naming scheme makes them.
    items = [{"sandbox_id": str(uuid.uuid4()), "name": f"bench-{n:07d}", "external_id": f"identity/accounts/{n}",
              "sfdc_account_id": f"sfdc-{n}"} for n in range(offset, min(pool, offset + 1000))]
    conn.request("POST", "/v1/admin/sandboxes", json.dumps({"sandboxes": items}),
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    body = response.read()
    if response.status >= 300 or json.loads(body).get("created") != len(items):
        sys.exit(f"registration failed at {offset}: {response.status} {body[:300]!r}")
PY
echo "registered in $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s; broker RSS $(rss) MB"

allocate() { # seconds, prefix
  WRK_PREFIX="$2" WRK_TOKEN="$track_token" wrk -t"$threads" -c"$connections" -d"$1s" --timeout 10s -s "$lua" "$base" | grep '^RESULT'
}

echo "load average: $(uptime | sed 's/.*load average: //')"
allocate "$warmup" "warm-$run_id" | sed 's/^RESULT/warm-up:/'

if [ "$memory" -gt 0 ]; then
  echo "memory mode: allocating the rest of the pool of $memory in ${chunk} s chunks, distinct requesters"
  echo "rss_mb=$(rss) after warm-up"
  n=0
  while true; do
    n=$((n + 1))
    line="$(allocate "$chunk" "mem-$run_id-$n")"
    echo "chunk $n: $line rss_mb=$(rss)"
    case "$line" in *"non201=0 "*) ;; *) break ;; esac
    [ "$n" -lt 1000 ] || break
  done
  echo "idle ${idle} s (rate-limit partitions idle > 10 s are dropped)"
  sleep "$idle"
  echo "rss_mb=$(rss) after idle; $(grep -E '^(VmHWM|Threads)' "/proc/$broker_pid/status" | tr -s ' \t' ' ' | tr '\n' ' ')"
  curl -fs -H "Authorization: Bearer $admin_token" "$base/v1/admin/stats" | head -c 600; echo
  exit 0
fi

health_out="$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$base/healthz")"
health="$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' <<<"$health_out")"
# wrk prints the percentile with its unit (us, ms, s); the tail of a request that does nothing is the machine's own.
health_p99="$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else { sub(/s$/, "", v); v *= 1000 }; printf "%.2f", v }' <<<"$health_out")"
echo "healthz: ${health} req/s, p99 ${health_p99} ms"
echo "load average: $(uptime | sed 's/.*load average: //')"
cpu_before="$(cpu_ms)"
result="$(allocate "$duration" "run-$run_id")"
cpu_after="$(cpu_ms)"
echo "measured: ${result#RESULT }"
rate="$(sed -E 's/.*created_per_s=([0-9]+).*/\1/' <<<"$result")"
p50="$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$result")"
p99="$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$result")"
non201="$(sed -E 's/.*non201=([0-9]+).*/\1/' <<<"$result")"
echo "load average: $(uptime | sed 's/.*load average: //'); broker RSS $(rss) MB"
created="$(sed -E 's/.*created=([0-9]+).*/\1/' <<<"$result")"
printf 'SUMMARY pool=%s allocations/s=%s p50_ms=%s p99_ms=%s non201=%s healthz/s=%s healthz_p99_ms=%s ratio=%s broker_cpu_us/alloc=%s\n' \
  "$pool" "$rate" "$p50" "$p99" "$non201" "$health" "$health_p99" "$(python3 -c "print(f'{$rate / max($health, 1):.3f}')")" \
  "$(python3 -c "print(round(($cpu_after - $cpu_before) * 1000 / max($created, 1)))")"
