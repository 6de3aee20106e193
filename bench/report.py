"""Turns bench/out/results.jsonl (written by bench/run.sh) into the Markdown tables and target verdicts.

Each line: {"round": N, "layout": ..., "system": "a"|"b"|"c"|"d"|"probe", "model": ..., "c": N, "data": {...}}.
A cell measured in several rounds is reported by its median round (by req/s; the p99 shown is that round's), and
the spread of req/s across rounds is given so that a noisy cell shows as one.
usage: python3 report.py RESULTS.jsonl
"""

import json
import sys

SYSTEMS = {"a": "(a) ORT in-process", "b": "(b) model-server", "c": "(c) FastAPI+ORT", "d": "(d) KServe 0.21+ORT"}
# Issue #14's goals.
PEER_RATIO = 1.5  # every cell: (b) >= 1.5x (c) req/s at a p99 no worse than (c)'s
HEAVY_BATCH_RATIO = 4.0  # heavy c=16: (b) >= 4x raw ORT's one-row throughput
TINY_SHARED_P99_MS = 10.0  # tiny c=16, shared cores: (b) p99 <= 10 ms
READY_MS = 1500  # start -> ready on a quiet machine
FIRST_RATIO = 2.0  # first request <= 2x warm p50


def fmt(value, digits=1):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def rate(d, system):
    if d is None:
        return None
    return d["opsPerSec"] if system == "a" else d["rps"]


def median_round(samples, system):
    """The sample whose rate is the median (the lower middle one for an even count), and the rates' range."""
    ordered = sorted(samples, key=lambda d: rate(d, system))
    chosen = ordered[(len(ordered) - 1) // 2]
    rates = [rate(d, system) for d in ordered]
    return chosen, (rates[0], rates[-1])


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    samples = {}
    probes = []
    layouts = []
    for row in rows:
        if row["system"] == "probe":
            probes.append(row)
            continue
        if row["layout"] not in layouts:
            layouts.append(row["layout"])
        samples.setdefault((row["layout"], row["model"], row["c"], row["system"]), []).append(row["data"])
    cells = {}
    spread = {}
    for key, values in samples.items():
        cells[key], spread[key] = median_round(values, key[3])

    out = []
    verdicts = []
    for layout in layouts:
        out.append(f"\n### Layout: {layout}\n")
        out.append("| model | c | (a) ORT ops/s | (b) model-server req/s (p50 / p99 ms) | (c) FastAPI req/s (p50 / p99) "
                   "| (d) KServe req/s (p50 / p99) | (b)/(c) | (b)/(d) | (b)/(a) | errors (b) / (c) / (d) |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for model in ("tiny", "heavy"):
            for c in (1, 16):
                a, b, cc, d = (cells.get((layout, model, c, s)) for s in ("a", "b", "c", "d"))
                if a is None and b is None and cc is None and d is None:
                    continue
                ra, rb, rc, rd = rate(a, "a"), rate(b, "b"), rate(cc, "c"), rate(d, "d")

                def ratio(x, y):
                    return f"{x / y:.2f}x" if x and y else "n/a"

                def http(system, data):
                    if data is None:
                        return "n/a"
                    low, high = spread[(layout, model, c, system)]
                    rounds = "" if low == high else f" [{low:,.0f}-{high:,.0f}]"
                    return f"{data['rps']:,.0f}{rounds} ({data['p50Ms']:.2f} / {data['p99Ms']:.2f})"

                def errs(data):
                    if data is None:
                        return "n/a"
                    n = data["connectErrors"] + data["readErrors"] + data["writeErrors"] + data["timeouts"] \
                        + data["non2xx"]
                    return str(n)

                out.append(f"| {model} | {c} | {fmt(ra)} | {http('b', b)} | {http('c', cc)} | {http('d', d)} "
                           f"| {ratio(rb, rc)} | {ratio(rb, rd)} | {ratio(rb, ra)} "
                           f"| {errs(b)} / {errs(cc)} / {errs(d)} |")
                if b and cc:
                    ok = rb / rc >= PEER_RATIO and b["p99Ms"] <= cc["p99Ms"]
                    verdicts.append(f"- [{layout}] {model} c={c}: (b) >= {PEER_RATIO}x FastAPI's req/s at a p99 no "
                                    f"worse: {'MET' if ok else 'MISSED'} ({rb / rc:.2f}x; p99 {b['p99Ms']:.2f} vs "
                                    f"{cc['p99Ms']:.2f} ms)")
                if model == "heavy" and c == 16 and a and b:
                    one_row = cells.get((layout, model, 1, "a"))
                    if one_row:
                        r1 = rate(one_row, "a")
                        verdicts.append(f"- [{layout}] heavy c=16: (b) >= {HEAVY_BATCH_RATIO:g}x raw ORT's one-row "
                                        f"throughput: {'MET' if rb / r1 >= HEAVY_BATCH_RATIO else 'MISSED'} "
                                        f"({rb / r1:.2f}x)")
                if model == "tiny" and c == 16 and layout == "shared" and b:
                    verdicts.append(f"- [shared] tiny c=16: (b) p99 <= {TINY_SHARED_P99_MS:g} ms: "
                                    f"{'MET' if b['p99Ms'] <= TINY_SHARED_P99_MS else 'MISSED'} "
                                    f"({b['p99Ms']:.2f} ms)")

    if probes:
        out.append("\n### Start-up and first request (no load running, both cores)\n")
        out.append("| server | model | start->ready ms, median of N (all) | first request ms, median (all) "
                   "| warm p50 ms, new connection | warm p50 ms, keep-alive | first / warm (new conn.) |")
        out.append("|---|---|---|---|---|---|---|")
        for p in probes:
            d = p["data"]
            ratio = d["firstMsMedian"] / d["warmFreshP50MsMedian"]
            out.append(f"| {SYSTEMS[p['layout']]} | {d['model']} | {d['readyMsMedian']:.0f} (n={d['starts']}: "
                       f"{', '.join(f'{x:.0f}' for x in d['readyMs'])}) | {d['firstMsMedian']:.2f} "
                       f"({', '.join(f'{x:.2f}' for x in d['firstMs'])}) | {d['warmFreshP50MsMedian']:.2f} "
                       f"| {d['warmKeepAliveP50MsMedian']:.2f} | {ratio:.2f}x |")
            if p["layout"] == "b":
                verdicts.append(f"- start->ready <= {READY_MS} ms ({d['model']}): "
                                f"{'MET' if d['readyMsMedian'] <= READY_MS else 'MISSED'} "
                                f"(median {d['readyMsMedian']:.0f} ms)")
                verdicts.append(f"- first request after ready <= {FIRST_RATIO:g}x warm p50 ({d['model']}): "
                                f"{'MET' if ratio <= FIRST_RATIO else 'MISSED'} ({ratio:.2f}x, same new-connection "
                                f"method)")
    out.append("\n### Targets (issue #14), as measured in this run\n")
    out.extend(verdicts)
    print("\n".join(out))


if __name__ == "__main__":
    main()
