"""Throughput of ``thermesh batch`` with 1 and 2 local workers.

Cases: ``--cases`` (default 16) synthetic floorplans from :func:`hotspot_ml.generate.random_case`
(10-39 blocks, each from ``default_rng([2024, i])``, with its package in a same-stem .toml),
written to a temporary folder and solved on uniform meshes (``--resolution``, default 280: about
0.5-1 s per case here, result files but no PNG). Each configuration runs as the real command,
``python -m thermal batch IN --resolution R --no-png --workers W --out FRESH_DIR``, in its own
process, alternating 1 and 2 workers ``--repeats`` times (default 2); the faster run of each is
kept. Two throughputs (cases per second) are reported:

* batch: cases / the batch's own time (``summary.json``'s ``seconds``: from the first case
  started to the last finished, worker start-up included; the summary and report excluded);
* end to end: cases / wall clock of the whole command (interpreter start-up, imports, the
  report included).

Target: 2 workers >= 1.7x the throughput of 1 worker on 2 cores. The 1-min load average is
recorded before and after (other processes on the machine lower the ratio).

    python benchmarks/batch.py                 # about a minute on 2 cores
    python benchmarks/batch.py --cases 12 --resolution 200 --repeats 1

Prints a Markdown table and writes benchmarks/results/batch.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "batch.json"
TARGET = 1.7
SEED = 2024


def make_cases(folder: Path, count: int) -> None:
    """``count`` synthetic cases (.flp, .ptrace, .toml) with 10-39 blocks."""
    from hotspot_ml.generate import random_case
    from thermal.io import write_flp, write_ptrace

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        rng = np.random.default_rng([SEED, i])
        fp, package = random_case(rng, blocks=int(rng.integers(10, 40)))
        stem = folder / f"b{i:02d}"
        write_flp(stem.with_suffix(".flp"), fp)
        write_ptrace(stem.with_suffix(".ptrace"), fp.names, fp.block_power)
        stem.with_suffix(".toml").write_text(
            "".join(f"{k} = {v!r}\n" for k, v in package.as_dict().items()))


def run(cases: Path, out: Path, workers: int, resolution: int) -> dict:
    """One ``thermesh batch`` command in a fresh process; its timings."""
    cmd = [sys.executable, "-m", "thermal", "batch", str(cases), "--resolution", str(resolution),
           "--no-png", "--workers", str(workers), "--out", str(out)]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}): {proc.stdout}{proc.stderr[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["cases"]
    if summary["counts"]["ok"] != len(rows):
        raise SystemExit(f"not every case ran: {summary['counts']}")
    return {"workers": workers, "cases": len(rows), "batch_s": summary["seconds"], "wall_s": wall,
            "batch_cases_per_s": len(rows) / summary["seconds"], "end_to_end_cases_per_s": len(rows) / wall,
            "median_case_s": float(np.median([r["case_s"] for r in rows])),
            "median_solve_s": float(np.median([r["total_s"] for r in rows])),
            "median_elements": int(np.median([r["elements"] for r in rows])),
            "worker_processes": len({r["worker"] for r in rows}),
            "load_average_1min_before": load, "load_average_1min_after": os.getloadavg()[0],
            "stdout": proc.stdout.strip()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=16)
    parser.add_argument("--resolution", type=int, default=280)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/batch.json")
    args = parser.parse_args(argv)

    load_start = os.getloadavg()
    t0 = time.perf_counter()
    runs = []
    with tempfile.TemporaryDirectory(prefix="thermesh-bench-batch-") as tmp:
        cases = Path(tmp) / "cases"
        make_cases(cases, args.cases)
        for repeat in range(args.repeats):
            for workers in (1, 2):
                r = run(cases, Path(tmp) / f"out-{workers}-{repeat}", workers, args.resolution)
                r["repeat"] = repeat
                runs.append(r)
                print(f"  {workers} worker(s), repeat {repeat}: {r['batch_s']:.2f} s batch, "
                      f"{r['wall_s']:.2f} s end to end (load {r['load_average_1min_before']:.2f})",
                      file=sys.stderr)
    load_end = os.getloadavg()

    best = {w: {key: max(r[key] for r in runs if r["workers"] == w)
                for key in ("batch_cases_per_s", "end_to_end_cases_per_s")} for w in (1, 2)}
    ratio = {key: best[2][key] / best[1][key] for key in best[1]}
    met = ratio["batch_cases_per_s"] >= TARGET
    result = {
        "benchmark": "batch", "cases": args.cases, "resolution": args.resolution,
        "repeats": args.repeats, "target_ratio": TARGET, "best": {str(w): v for w, v in best.items()},
        "ratio": ratio, "target_met": met, "runs": runs,
        "load_average_start": load_start, "load_average_end": load_end,
        "cpu_count": os.cpu_count(), "machine": platform.platform(),
        "python": platform.python_version(), "wall_s": time.perf_counter() - t0,
    }
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")

    first = next(r for r in runs if r["workers"] == 1)
    print(f"\n`thermesh batch` on {args.cases} synthetic cases (uniform mesh, resolution "
          f"{args.resolution}, median {first['median_elements']:,} elements, median case "
          f"{first['median_case_s']:.2f} s with 1 worker), best of {args.repeats}, "
          f"{os.cpu_count()} cores:\n")
    print("| workers | batch s | cases/s (batch) | end-to-end s | cases/s (end to end) |")
    print("|---:|---:|---:|---:|---:|")
    for w in (1, 2):
        fastest = min((r for r in runs if r["workers"] == w), key=lambda r: r["batch_s"])
        print(f"| {w} | {fastest['batch_s']:.2f} | {best[w]['batch_cases_per_s']:.2f} | "
              f"{min(r['wall_s'] for r in runs if r['workers'] == w):.2f} | "
              f"{best[w]['end_to_end_cases_per_s']:.2f} |")
    print(f"| ratio 2/1 | | **{ratio['batch_cases_per_s']:.2f}x** | | "
          f"**{ratio['end_to_end_cases_per_s']:.2f}x** |")
    print(f"\nTarget >= {TARGET}x (batch throughput): {'met' if met else 'NOT met'}. 1-min load "
          f"average {load_start[0]:.2f} before, {load_end[0]:.2f} after "
          f"({time.perf_counter() - t0:.0f} s in all).")
    if not args.no_save:
        print(f"Results in {RESULTS.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
