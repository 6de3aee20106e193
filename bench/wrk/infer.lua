-- wrk script: POSTs one KServe v2 /v2/models/{m}/infer body, the same bytes on every request.
--   BODY_FILE      path of the body (bench/run.sh writes one per model)
--   HEADER_LENGTH  when set, the body uses the binary tensor data extension and this is its JSON header's length
-- The URL given to wrk carries the path, e.g. http://127.0.0.1:18080/v2/models/heavy/infer.
-- At the end it prints one line "WRK {json}" with requests/s, latency percentiles (ms) and every error count,
-- non-2xx/3xx answers included, so bench/run.sh can tabulate without scraping wrk's human output.

local path = os.getenv("BODY_FILE")
if path == nil then
  error("BODY_FILE is not set")
end
local file = assert(io.open(path, "rb"))
local body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.body = body
local header_length = os.getenv("HEADER_LENGTH")
if header_length ~= nil and header_length ~= "" then
  wrk.headers["Content-Type"] = "application/octet-stream"
  wrk.headers["Inference-Header-Content-Length"] = header_length
else
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50Ms":%.3f,"p90Ms":%.3f,"p99Ms":%.3f,"maxMs":%.3f,' ..
    '"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"non2xx":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.timeout, e.status))
end
