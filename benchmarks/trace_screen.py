"""``thermesh predict --trace`` (each row's hottest point from the reduced transient on a coarse
mesh) against ``thermesh transient`` (the default run), on traces the screen was never tuned on.

Cases: ev6 in HotSpot's example2 package under gcc.ptrace's 100 rows of 10 ms; ev6 in the
default package under gcc.ptrace at HotSpot's default 3.33 us; ev6 (default package, and the
lumped die) under random bursts: every row the mean power with 1-3 random blocks at 3-6x
theirs, 200 rows of 1 ms (seeded). Per case: the hottest row and its place by each, their
distance, the largest difference of a row's peak temperature (K and % of the largest rise),
the rows whose hottest point the screen puts more than 0.5 mm from the transient's (and more
than 1 % of the rise cooler there: a tie between two hot spots is not a miss), and the times
(whole processes; the screen's set-up and per-row split from its hotspots.json). Then the
screen alone on 10^5 rows. Prints Markdown tables.

    python benchmarks/trace_screen.py [--seed 7]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FLP, PTRACE = ROOT / "examples" / "ev6.flp", ROOT / "examples" / "gcc.ptrace"
EX2 = ROOT / "tests" / "data" / "hotspot" / "example2"


def cli(*args) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "thermal", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    return time.perf_counter() - start


def bursts(work: Path, rows: int, seed: int) -> Path:
    from thermal.io.hotspot import read_ptrace, write_ptrace

    trace = read_ptrace(PTRACE)
    mean = trace.rows.mean(axis=0)
    rng = np.random.default_rng(seed)
    out = np.repeat(mean[None, :], rows, axis=0)
    for r in range(rows):
        hot = rng.choice(mean.size, size=rng.integers(1, 4), replace=False)
        out[r, hot] *= rng.uniform(3, 6, size=hot.size)
    path = work / f"bursts_{seed}.ptrace"
    write_ptrace(path, trace.names, out)
    return path


def compare(label: str, work: Path, trace: Path, opts: list) -> dict:
    from thermal.io.transient_files import read_peak_csv

    screen, full = work / f"{label}_screen", work / f"{label}_full"
    common = [FLP, "--power", trace, *opts, "--no-png"]
    t_screen = cli("predict", *common, "--trace", "--out", screen)
    t_full = cli("transient", *common, "--out", full)
    doc = json.loads((screen / "hotspots.json").read_text())
    lines = (screen / "hotspots.csv").read_text().splitlines()[1:]
    fields = [line.split(",") for line in lines]
    s_t = np.array([float(f[6]) for f in fields])
    s_xy = np.array([[float(f[2]), float(f[3])] for f in fields])
    peak = read_peak_csv(full / "peak.csv")
    ambient = json.loads((full / "result.json").read_text())["parameters"]["ambient"]
    rise = peak.temperature_K - ambient
    f_xy = np.column_stack([peak.x, peak.y])
    apart = np.hypot(*(s_xy - f_xy).T)
    # a miss: more than 0.5 mm away and more than 1 % of the rise off at the transient's own peak
    # temperature (the screen's point may be a second spot as hot as the first)
    misses = int(np.sum((apart > 0.5e-3) & (np.abs(s_t - peak.temperature_K) > 0.01 * rise.max())))
    hs, hf = int(np.argmax(s_t)), int(np.argmax(peak.temperature_K))
    # Rows whose peaks the transient puts closer together than the screen's error are a tie:
    # no screen of that accuracy can order them.
    gap = float(peak.temperature_K[hf] - peak.temperature_K[hs])
    return {"case": label, "rows": len(lines), "hottest_row": [hs, hf], "transient_gap_K": gap,
            "hottest_apart_mm": 1e3 * float(np.hypot(*(s_xy[hs] - f_xy[hf]))),
            "max_peak_diff_K": float(np.abs(s_t - peak.temperature_K).max()),
            "max_peak_diff_pct": float(100 * np.abs(s_t - peak.temperature_K).max() / rise.max()),
            "rows_apart_over_0.5mm": int(np.sum(apart > 0.5e-3)), "misses": misses,
            "screen_s": t_screen, "transient_s": t_full, "set_up_s": doc["trace"]["timing"]["set_up_s"],
            "per_row_ms": doc["trace"]["timing"]["per_row_ms"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="trace_screen_"))
    burst = bursts(work, 200, args.seed)
    cases = [("example2, gcc, 10 ms", PTRACE, ["--package", EX2 / "example.config", "--materials",
                                               EX2 / "example.materials"]),
             ("default package, gcc, 3.33 us", PTRACE, []),
             ("default package, bursts, 1 ms", burst, ["--sampling-interval", "1e-3"]),
             ("lumped die, bursts, 1 ms", burst, ["--model", "lumped", "--sampling-interval", "1e-3"])]
    results = []
    for label, trace, opts in cases:
        results.append(compare(label.split(",")[0].replace(" ", "_") + f"_{len(results)}", work, trace, opts))
        results[-1]["case"] = label
        print(f"  {label}: done", file=sys.stderr, flush=True)
    print("| case | rows | hottest row: screen, transient | apart mm | max Δ peak K (% of rise) | "
          "rows > 0.5 mm apart (misses) | screen s (set-up, ms/row) | transient s |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        hs, hf = r["hottest_row"]
        tie = "" if abs(hs - hf) <= 1 else f" (the transient's differ by {r['transient_gap_K']:.2f} K)"
        print(f"| {r['case']} | {r['rows']} | {hs}, {hf}{tie} | "
              f"{r['hottest_apart_mm']:.3f} | {r['max_peak_diff_K']:.3f} ({r['max_peak_diff_pct']:.2f}) | "
              f"{r['rows_apart_over_0.5mm']} ({r['misses']}) | {r['screen_s']:.1f} ({r['set_up_s']:.1f}, "
              f"{r['per_row_ms']:.3f}) | {r['transient_s']:.1f} |")
    # 10^5 rows: the screen alone
    from thermal.io.hotspot import read_ptrace, write_ptrace

    trace = read_ptrace(burst)
    long_ = work / "long.ptrace"
    write_ptrace(long_, trace.names, np.tile(trace.rows, (500, 1)))
    seconds = cli("predict", FLP, "--power", long_, "--sampling-interval", "1e-3", "--trace", "--no-png",
                  "--out", work / "long")
    t = json.loads((work / "long" / "hotspots.json").read_text())["trace"]["timing"]
    print(f"\n10^5 rows of bursts (the 200 above, 500 times): {seconds:.1f} s whole process, "
          f"{t['set_up_s']:.1f} s set-up, {t['per_row_ms']:.4f} ms per row.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
