"""Start-up and first-request probe for bench/run.sh (standard library only).

Starts a server command STARTS times. Each time it measures:
  - start -> ready: from just before the process is spawned until GET /v2/health/ready answers 200
    (polled every 10 ms on a fresh connection, at most READY_TIMEOUT_S);
  - the first inference request after ready: one POST of the body on a fresh connection, timed from
    connect to the last byte of the answer;
  - warm latency by the same method: WARM_REQUESTS more POSTs, each on a fresh connection (median = "warm p50
    (new connection)"), then WARM_REQUESTS on one keep-alive connection (median = "warm p50 (keep-alive)",
    the way wrk measures).
Then it sends SIGTERM, waits at most 30 s, and kills the process group only if it is still there.
Prints one line "PROBE {json}" with every sample and the medians.

usage: python3 probe.py --port P --model M --body FILE [--starts 5] -- COMMAND...
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time

READY_TIMEOUT_S = 60
WARM_REQUESTS = 50


def ready(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/v2/health/ready")
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        conn.close()


def post(conn, path, body):
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"POST {path}: HTTP {response.status}: {payload[:300]!r}")
    if b'"outputs"' not in payload:
        raise RuntimeError(f"POST {path}: no outputs in {payload[:300]!r}")


def timed_fresh(port, path, body):
    begin = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        post(conn, path, body)
    finally:
        conn.close()
    return (time.perf_counter() - begin) * 1000


def one_start(command, port, path, body, log):
    begin = time.perf_counter()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = begin + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode} before ready")
            if ready(port):
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"not ready within {READY_TIMEOUT_S} s")
            time.sleep(0.01)
        ready_ms = (time.perf_counter() - begin) * 1000
        first_ms = timed_fresh(port, path, body)
        fresh = [timed_fresh(port, path, body) for _ in range(WARM_REQUESTS)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        kept = []
        try:
            for _ in range(WARM_REQUESTS):
                t = time.perf_counter()
                post(conn, path, body)
                kept.append((time.perf_counter() - t) * 1000)
        finally:
            conn.close()
        return {"readyMs": ready_ms, "firstMs": first_ms, "warmFreshP50Ms": statistics.median(fresh),
                "warmKeepAliveP50Ms": statistics.median(kept)}
    finally:
        stop(process)


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--label", default="server")
    parser.add_argument("--log", default=os.devnull)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with open(args.body, "rb") as f:
        body = f.read()
    path = f"/v2/models/{args.model}/infer"
    runs = []
    with open(args.log, "ab") as log:
        for _ in range(max(1, min(args.starts, 20))):
            runs.append(one_start(command, args.port, path, body, log))
            time.sleep(0.5)  # let the port and the caches settle between starts
    summary = {"label": args.label, "model": args.model, "starts": len(runs)}
    for key in ("readyMs", "firstMs", "warmFreshP50Ms", "warmKeepAliveP50Ms"):
        summary[key] = [round(r[key], 2) for r in runs]
        summary[key + "Median"] = round(statistics.median(r[key] for r in runs), 2)
    print("PROBE " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    sys.exit(main())
