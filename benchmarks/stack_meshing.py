"""``--mesh adaptive`` on stacks against uniform, ``power`` and ``coarse`` (issue 14's mesh targets).

Hidden hot-unit dies (``benchmarks/meshing.py``'s ``corner``, ``edges`` and ``middle``: tiny hot
units on a warm background) under HotSpot's package cut to the die (every layer on the die's
footprint, so the exact series is the reference), with ``thermesh compare``'s machinery
(:func:`thermal.app.compare.compare`): each method over tolerances (uniform over resolutions),
every run measured against the series on a 801-point grid, and the seconds each needs for a max
error of 0.1 % (and 0.5 %) of the peak rise on the die face interpolated log-log between the
runs that bracket it. Times are ``thermal.solve`` end to end (``total_s``: estimate, prediction,
mesh, assembly, solve), best of 3 under 2 s; the stack model is loaded once up front and its
load time printed apart.

    python benchmarks/stack_meshing.py [--quick]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TOLERANCES = [5e-3, 2e-3, 1e-3, 5e-4, 2.5e-4]
RESOLUTIONS = [50, 100, 200, 300]
METHODS = ["power", "coarse", "adaptive"]


def main(argv=None) -> int:
    from meshing import floorplans

    from thermal.app.compare import compare
    from thermal.geometry.stack import equal_footprint, hotspot_package

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two floorplans")
    args = ap.parse_args(argv)
    names = ["corner", "edges", "middle"][: 2 if args.quick else 3]
    speedups: dict = {m: [] for m in ("uniform", "power", "coarse")}
    for name in names:
        fp = floorplans()[name]
        stack = equal_footprint(hotspot_package(floorplan=fp))
        result = compare(fp, stack, methods=METHODS, tolerances=TOLERANCES, resolutions=RESOLUTIONS,
                         grid_points=801, targets=(0.5, 0.1), progress=False)
        print(f"\n### {name} (model loaded in {result['model_load_s']:.3f} s, apart)\n")
        print("| method | param | elements | max error % | total s |")
        print("|---|---|---:|---:|---:|")
        for r in result["rows"]:
            if "error" in r:
                print(f"| {r['method']} | {r['param']} | failed: {r['error']} | | |")
                continue
            print(f"| {r['method']} | {r['param']} | {r['elements']:,} | {r['max_error_pct']:.3f} | "
                  f"{r['time_s']:.2f} |")
        for target in ("0.5", "0.1"):
            per = result["summary"][target]
            a = per["adaptive"]["time_s"]
            cells = []
            for m in ("uniform", "power", "coarse"):
                t, status = per[m]["time_s"], per[m]["status"]
                runs = [r["time_s"] for r in result["rows"] if r["method"] == m and "error" not in r]
                if a is None:
                    cells.append(f"{m}: – (adaptive {per['adaptive']['status']})")
                elif t is not None:
                    cells.append(f"{m} {t:.2f} s = {t / a:.2f}x")
                    if target == "0.1":
                        speedups[m].append(t / a)
                elif status.startswith("not reached") and runs:
                    # It needs more than its slowest run: the speed-up is at least this.
                    cells.append(f"{m}: {status} (> {max(runs) / a:.1f}x, its slowest run)")
                    if target == "0.1":
                        speedups[m].append(max(runs) / a)
                else:
                    cells.append(f"{m}: {status}")
            print(f"- {target} %: adaptive {'–' if a is None else f'{a:.2f}'} s; " + "; ".join(cells))
    print("\nAt 0.1 % of the peak rise, adaptive's speed-up (median over the floorplans; a method that "
          "never reached it counts its slowest run, a lower bound):")
    for m, v in speedups.items():
        if v:
            print(f"- against {m}: median {np.median(v):.2f}x (range {min(v):.2f}-{max(v):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
