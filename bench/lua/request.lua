-- wrk script for bench/run.sh. Builds one request from environment variables and prints a
-- machine-readable summary line from the `done` hook (wrk's own text output is not parsed).
--   BENCH_METHOD  GET | POST
--   BENCH_PATH    path with query
--   BENCH_BODY    file holding the exact body bytes (POST only)
--   BENCH_KIND    replay | analytics | config: which SDK headers to send
--   BENCH_DELAY_MS  optional pause per connection between requests (paced runs)

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local kind = os.getenv("BENCH_KIND") or "config"
local body_file = os.getenv("BENCH_BODY")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

local headers = { ["Accept"] = "*/*" }
if kind == "replay" then
  -- what @amplitude/session-replay-browser sends with a compressed batch
  headers["Content-Type"] = "application/json"
  headers["Content-Encoding"] = "gzip"
  headers["Authorization"] = "Bearer 0123456789abcdef0123456789abcdef"
  headers["X-Client-Version"] = "1.51.6"
  headers["X-Client-Library"] = "@amplitude/session-replay-browser/1.51.6"
  headers["X-Client-Url"] = "https://shop.example.com/checkout?step=2"
  headers["X-Client-Sample-Rate"] = "1"
  headers["X-Sampling-Hash-Alg"] = "xxhash32"
elseif kind == "analytics" then
  headers["Content-Type"] = "application/json"
end

local body = nil
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  body = f:read("*a")
  f:close()
end

local prebuilt = nil

init = function(args)
  prebuilt = wrk.format(method, path, headers, body)
end

request = function()
  return prebuilt
end

if pause > 0 then
  delay = function()
    return pause
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
