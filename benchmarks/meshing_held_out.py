"""ML-guided ``adaptive`` against ``power`` and ``oracle`` on the held-out floorplans.

``benchmarks/meshing.py`` measures every method on four floorplans built for it. This one asks
the same question of the floorplans ``benchmarks/hotspots.py`` holds out from training (the
generated ``gen_*`` cases and the hand-made styles): what does each size field cost at a max
error of 0.5 % of the exact peak rise, and how closely does each honour its ``tol``?

For each floorplan of at most :data:`MAX_BLOCKS` blocks (the exact reference of larger ones
takes minutes), ``power``, ``adaptive`` and ``oracle`` run over :data:`TOLERANCES`; each run is
measured against the exact series as in ``thermesh compare`` (:func:`thermal.app.compare.run_method`,
runs under 2 s timed best of 3), and elements and seconds at 0.5 % come from the same log-log
interpolation (:func:`thermal.app.compare.needed`). Ratios are per floorplan, then summarised by
their median and 10th / 90th percentiles.

``oracle`` (sizes from the exact solution) bounds what a better *prediction* of the field could
save. ``resized`` bounds what a learned correction of the *sizing rule* could save: each
``adaptive`` run's field re-sized once with the true local error of its own solve,
h * (tol / e_local)^(1/2) (e_local: the max error within a grid cell of each node), and solved
again. It uses the exact solution twice, so only its elements are compared, not its time.

    python benchmarks/meshing_held_out.py            # 20 generated + 7 hand-made (about 8 minutes)
    python benchmarks/meshing_held_out.py --quick    # 6 generated + 7 hand-made

Prints Markdown tables and writes benchmarks/results/meshing_held_out.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

GENERATED, QUICK_GENERATED = 20, 6
MAX_BLOCKS = 400
METHODS = ("power", "adaptive", "oracle")
#: Methods measured only in elements (see the module docstring).
BOUNDS = ("resized",)
TOLERANCES = (4e-2, 2e-2, 1e-2, 5e-3, 2.5e-3)
TARGET_PCT = 0.5
#: Error grid nodes along the die's longer side (as ``meshing.py --quick``).
GRID_POINTS = 801
#: (numerator, denominator, quantity) ratios summarised over floorplans.
RATIOS = (("adaptive", "power", "elements"), ("adaptive", "power", "time_s"),
          ("adaptive", "oracle", "elements"), ("power", "oracle", "elements"),
          ("resized", "adaptive", "elements"), ("resized", "power", "elements"))


def measure(fp, package) -> dict:
    """Every method's runs on one floorplan, and its cost at :data:`TARGET_PCT`."""
    from thermal import SeriesSolution
    from thermal.app.compare import CachedReference, needed, run_method

    ref = CachedReference(SeriesSolution(fp, package, rtol=1e-4, max_modes=4096))
    out = {}
    for method in METHODS:
        runs = [run_method(fp, package, ref, method, tol, grid_points=GRID_POINTS)[0] for tol in TOLERANCES]
        ok = [r for r in runs if "error" not in r]
        cost = {key: needed(ok, TARGET_PCT, key) for key in ("elements", "time_s")}
        out[method] = {
            "runs": [{**{k: r.get(k) for k in ("param", "elements", "max_error_pct", "time_s", "error")},
                      "estimate_s": r.get("timing", {}).get("estimate_s")} for r in runs],
            "error_over_tol": [r["max_error_pct"] / (100 * r["param"]) for r in ok],
            "elements": cost["elements"][0], "time_s": cost["time_s"][0],
            "status": cost["elements"][1],
        }
    runs = resized_runs(fp, package, ref)
    out["resized"] = {"runs": runs, "error_over_tol": [r["max_error_pct"] / (100 * r["param"]) for r in runs],
                      "elements": needed(runs, TARGET_PCT, "elements")[0], "time_s": None}
    return out


def resized_runs(fp, package, ref) -> list[dict]:
    """``adaptive``'s field re-sized with its own solve's true local errors, then solved again."""
    from scipy.ndimage import maximum_filter

    from hotspot_ml.predict import predict, size_field
    from meshes.size_field import SizeField
    from thermal.physics.adaptive import solve_with_field
    from thermal.physics.estimate import H_MAX_FRACTION
    from thermal.physics.metrics import errors_against

    pred = predict(fp, package)
    fine = 4  # exact values on a grid 4x finer than the prediction's; a cell is +-4 points
    gx, gy, exact = ref.rise_on_grid(fine * (pred.xs.size - 1) + 1, fine * (pred.ys.size - 1) + 1)
    h_max = H_MAX_FRACTION * max(fp.width, fp.height)
    runs = []
    for tol in TOLERANCES:
        field = size_field(pred, fp, package, tol)
        first = solve_with_field(fp, package, field, {}, {}, None)
        error = np.abs(first.rise_on_grid(gx, gy) - exact)
        local = maximum_filter(error, size=2 * fine + 1, mode="nearest")[::fine, ::fine]
        ratio = np.clip(local / (tol * pred.rise.max()), 1 / 64, 64)
        field = SizeField(field.xs, field.ys, field.values / np.sqrt(ratio)).clipped(None, h_max)
        second = solve_with_field(fp, package, field, {}, {}, None)
        runs.append({"param": tol, "elements": int(second.mesh.t.shape[1]),
                     "max_error_pct": errors_against(second.rise_on_grid, ref, GRID_POINTS)["max_error_pct_of_peak_rise"]})
    return runs


def ratio_summary(rows: list[dict]) -> dict:
    """Median and 10th / 90th percentiles of each ratio in :data:`RATIOS` over floorplans."""
    out = {}
    for a, b, key in RATIOS:
        r = [row[a][key] / row[b][key] for row in rows if row[a][key] and row[b][key]]
        out[f"{a}/{b} {key}"] = ({"median": float(np.median(r)), "p10": float(np.quantile(r, 0.1)),
                                  "p90": float(np.quantile(r, 0.9)), "floorplans": len(r)}
                                 if r else {"floorplans": 0})
    return out


def tol_summary(rows: list[dict]) -> dict:
    """Achieved max error / tol of each method over every run."""
    out = {}
    for m in METHODS + BOUNDS:
        r = np.array([x for row in rows for x in row[m]["error_over_tol"]])
        out[m] = {"median": float(np.median(r)), "p90": float(np.quantile(r, 0.9)),
                  "max": float(r.max()), "runs": int(r.size)}
    return out


def estimate_summary(rows: list[dict]) -> dict:
    """Seconds each method spends before meshing (prediction, blur or series), over every run."""
    out = {}
    for m in METHODS:
        t = np.array([r["estimate_s"] for row in rows for r in row[m]["runs"] if r.get("estimate_s") is not None])
        out[m] = {"median": float(np.median(t)), "min": float(t.min()), "max": float(t.max())}
    return out


def _cell(v, scale=1.0, fmt="{:,.0f}"):
    return "–" if v is None else fmt.format(v * scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_GENERATED} generated floorplans")
    args = parser.parse_args()

    from hotspot_ml.loading import cached_predictor
    from hotspots import cases

    *_, load_s = cached_predictor()   # once per process, as in a batch run; not in the times
    wall = time.perf_counter()
    rows, skipped = [], []
    for name, group, build in cases(QUICK_GENERATED if args.quick else GENERATED):
        fp, package = build()
        if len(fp.names) > MAX_BLOCKS:
            skipped.append({"name": name, "blocks": len(fp.names)})
            continue
        rows.append({"name": name, "group": group, "blocks": len(fp.names), **measure(fp, package)})
        print(f"  {name}: " + ", ".join(f"{m} {_cell(rows[-1][m]['elements'])} el" for m in METHODS + BOUNDS),
              file=sys.stderr, flush=True)
    ratios, tols, estimates = ratio_summary(rows), tol_summary(rows), estimate_summary(rows)
    wall = time.perf_counter() - wall

    print(f"## Held-out floorplans: cost at {TARGET_PCT} % max error\n")
    print(f"{len(rows)} floorplans of at most {MAX_BLOCKS} blocks ({len(skipped)} larger ones skipped); "
          f"tolerances {', '.join(f'{t:g}' for t in TOLERANCES)}; ML model loaded in {load_s:.2f} s "
          "(not counted). *–*: 0.5 % not bracketed by the runs.\n")
    print("| floorplan | blocks | " + " | ".join(f"{m} elements | {m} ms" for m in METHODS)
          + " | " + " | ".join(f"{m} elements" for m in BOUNDS) + " |")
    print("|---|---:|" + "---:|---:|" * len(METHODS) + "---:|" * len(BOUNDS))
    for row in rows:
        cells = ([f"{_cell(row[m]['elements'])} | {_cell(row[m]['time_s'], 1e3, '{:.1f}')}" for m in METHODS]
                 + [_cell(row[m]["elements"]) for m in BOUNDS])
        print(f"| {row['name']} | {row['blocks']} | " + " | ".join(cells) + " |")
    print("\n| ratio (per floorplan) | median | 10th pct | 90th pct | floorplans |")
    print("|---|---:|---:|---:|---:|")
    for label, s in ratios.items():
        if s["floorplans"]:
            print(f"| {label} | {s['median']:.2f} | {s['p10']:.2f} | {s['p90']:.2f} | {s['floorplans']} |")
    print("\n| method | achieved max error / tol: median | 90th pct | max | runs |")
    print("|---|---:|---:|---:|---:|")
    for m, s in tols.items():
        print(f"| {m} | {s['median']:.2f} | {s['p90']:.2f} | {s['max']:.2f} | {s['runs']} |")
    print("\n| method | estimate ms (before meshing): median | min | max |")
    print("|---|---:|---:|---:|")
    for m, e in estimates.items():
        print(f"| {m} | {1e3 * e['median']:.1f} | {1e3 * e['min']:.1f} | {1e3 * e['max']:.1f} |")
    print(f"\nWall time {wall:.0f} s.")

    out = ROOT / "benchmarks/results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "meshing_held_out.json").write_text(json.dumps({
        "quick": args.quick, "wall_s": wall, "machine": platform.platform(), "model_load_s": load_s,
        "tolerances": TOLERANCES, "target_pct": TARGET_PCT, "grid_points": GRID_POINTS,
        "skipped": skipped, "floorplans": rows, "ratios": ratios, "error_over_tol": tols,
        "estimate_s": estimates,
    }, indent=2, default=float))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    main()
