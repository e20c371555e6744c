-- wrk script for scripts/bench-wrk.sh: POST /v1/allocate with a requester id never used before on every request.
-- The id is <WRK_PREFIX>-<thread>-<counter>: wrk restarts its counters in every process, so the caller puts a
-- random run id into WRK_PREFIX (a second run with the same prefix would measure replays, not allocations).
-- Counts the answers that are not 201 per status and prints one machine-readable line at the end.
local prefix = os.getenv("WRK_PREFIX") or error("WRK_PREFIX is not set")
local token = os.getenv("WRK_TOKEN") or error("WRK_TOKEN is not set")

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  created = 0
  others = {}
  headers = { ["Authorization"] = "Bearer " .. token }
end

function request()
  counter = counter + 1
  headers["X-Instruqt-Sandbox-ID"] = prefix .. "-" .. thread_id .. "-" .. counter
  return wrk.format("POST", "/v1/allocate", headers, nil)
end

function response(status, hdrs, body)
  if status == 201 then
    created = created + 1
  else
    others[status] = (others[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total_created, non201, by_status = 0, 0, {}
  for _, thread in ipairs(threads) do
    total_created = total_created + thread:get("created")
    for status, n in pairs(thread:get("others")) do
      by_status[status] = (by_status[status] or 0) + n
      non201 = non201 + n
    end
  end
  local statuses = {}
  for status, n in pairs(by_status) do table.insert(statuses, status .. "x" .. n) end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT created=%d non201=%d statuses=%s seconds=%.3f created_per_s=%.0f p50_ms=%.2f p99_ms=%.2f socket_errors=%d\n",
    total_created, non201, (#statuses > 0 and table.concat(statuses, ",") or "-"), seconds, total_created / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
