"""Turns bench/out/results.jsonl (written by bench/run.sh) into the Markdown tables and target verdicts.

Each line: {"layout": ..., "system": "a"|"b"|"c"|"probe", "model": ..., "c": N, "data": {...}}.
usage: python3 report.py RESULTS.jsonl
"""

import json
import sys

SYSTEMS = {"a": "(a) ORT in-process", "b": "(b) model-server", "c": "(c) FastAPI+ORT"}


def fmt(value, digits=1):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    cells = {}
    probes = []
    layouts = []
    for row in rows:
        if row["system"] == "probe":
            probes.append(row)
            continue
        if row["layout"] not in layouts:
            layouts.append(row["layout"])
        cells[(row["layout"], row["model"], row["c"], row["system"])] = row["data"]

    def rate(d, system):
        if d is None:
            return None
        return d["opsPerSec"] if system == "a" else d["rps"]

    out = []
    verdicts = []
    for layout in layouts:
        out.append(f"\n### Layout: {layout}\n")
        out.append("| model | c | (a) ORT ops/s | (a) p50 / p99 ms | (b) model-server req/s | (b) p50 / p99 ms "
                   "| (c) FastAPI req/s | (c) p50 / p99 ms | (b)/(c) | (b)/(a) | errors (b) / (c) |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for model in ("tiny", "heavy"):
            for c in (1, 16):
                a, b, cc = (cells.get((layout, model, c, s)) for s in ("a", "b", "c"))
                if a is None and b is None and cc is None:
                    continue
                ra, rb, rc = rate(a, "a"), rate(b, "b"), rate(cc, "c")
                bc = rb / rc if rb and rc else None
                ba = rb / ra if rb and ra else None

                def lat(d):
                    return "n/a" if d is None else f"{d['p50Ms']:.3f} / {d['p99Ms']:.3f}"

                def errs(d):
                    if d is None:
                        return "n/a"
                    n = d["connectErrors"] + d["readErrors"] + d["writeErrors"] + d["timeouts"] + d["non2xx"]
                    return str(n) if n == 0 else (f"{n} (non-2xx {d['non2xx']}, timeouts {d['timeouts']}, "
                                                  f"read {d['readErrors']}, connect {d['connectErrors']})")

                out.append(f"| {model} | {c} | {fmt(ra)} | {lat(a)} | {fmt(rb)} | {lat(b)} | {fmt(rc)} | {lat(cc)} "
                           f"| {fmt(bc, 2)}x | {fmt(ba, 2)} | {errs(b)} / {errs(cc)} |")
                if b and cc:
                    ok = bc >= 3 and b["p99Ms"] <= cc["p99Ms"]
                    verdicts.append(f"- [{layout}] {model} c={c}: (b) >= 3x (c) req/s at equal or lower p99: "
                                    f"{'MET' if ok else 'MISSED'} ({bc:.2f}x; p99 {b['p99Ms']:.2f} vs "
                                    f"{cc['p99Ms']:.2f} ms)")
                if model == "heavy" and c == 16 and a and b:
                    verdicts.append(f"- [{layout}] heavy c=16: (b) >= 80% of (a): "
                                    f"{'MET' if ba >= 0.8 else 'MISSED'} ({ba * 100:.0f}%)")

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
                verdicts.append(f"- start->ready <= 3 s ({d['model']}): "
                                f"{'MET' if d['readyMsMedian'] <= 3000 else 'MISSED'} "
                                f"(median {d['readyMsMedian']:.0f} ms)")
                verdicts.append(f"- first request after ready <= 2x warm p50 ({d['model']}): "
                                f"{'MET' if ratio <= 2 else 'MISSED'} ({ratio:.2f}x, same new-connection method)")
    out.append("\n### Targets, as measured in this run\n")
    out.extend(verdicts)
    print("\n".join(out))


if __name__ == "__main__":
    main()
