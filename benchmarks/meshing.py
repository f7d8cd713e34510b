"""Error versus elements and versus time for every meshing method, judged by the exact series.

Floorplans (built here, deterministic): ``ev6`` (HotSpot's example with gcc power), ``corner``
(16 mm die, one 0.2 mm hot unit in a corner), ``edges`` (12 x 10 mm die, three tiny hot units on
three edges), ``middle`` (10 mm die, a cluster of three small hot units near the centre); the
last three sit on a warm background of a few large blocks, guillotine-split around the hot units.

Methods: ``uniform`` over resolutions, the ML-guided ``adaptive``, and ``amr``, ``power``, ``coarse`` and
``oracle`` over tolerances. Errors are the maximum of |FE - exact| over a grid (1601 points
along the longer side, 801 with --quick) in % of the exact peak rise; time is ``thermal.solve``
end to end (verification excluded; the oracle's time includes evaluating its own series
solution, which it needs to build the mesh).
From the runs, log-log interpolation gives the elements and seconds each method needs for a
maximum error of 0.5 % and 0.1 %, and the savings against uniform meshes. Running and measuring
a method and the interpolation are those of ``thermesh compare`` (:mod:`thermal.app.compare`).

    python benchmarks/meshing.py            # full table (about 5 minutes on 2 cores)
    python benchmarks/meshing.py --quick    # resolutions to 400, two tolerances (about 2 minutes)

Writes benchmarks/results/meshing.json and prints Markdown tables.
"""
from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RESOLUTIONS = [25, 50, 100, 200, 400, 800]
QUICK_MAX_RESOLUTION = 400
#: Skip uniform resolutions whose mesh would exceed this many elements.
MAX_UNIFORM_ELEMENTS = 2_500_000
TOLERANCES = [2e-2, 1e-2, 5e-3, 2e-3, 1e-3, 5e-4]
QUICK_TOLERANCES = [1e-2, 2e-3]
ADAPTIVE = ["amr", "power", "coarse", "oracle", "adaptive"]
METHODS = ["uniform"] + ADAPTIVE
#: Max error targets, % of the exact peak rise.
TARGETS = [0.5, 0.1]
#: Error-grid points along the die's longer side. Not metrics.GRID_POINTS (801): its nodes
#: coincide with the nodes of uniform meshes at resolutions dividing 800, where a P1 solution is
#: far more accurate than between nodes, so it under-measures uniform-800 errors 2-3x. 1601
#: points put grid nodes at every mid-edge of those meshes too. --quick stops at resolution 400,
#: whose mid-edges the 801-point grid already has, and uses it (verification is half the time).
ERROR_GRID_POINTS = 1601
QUICK_ERROR_GRID_POINTS = 801
#: Floorplans with small hot units, where the oracle should save >= 20x elements at 0.5 %.
SMALL_HOT = ["corner", "edges", "middle"]
ORACLE_SAVING_GOAL = 20.0

MM = 1e-3


# ---------------------------------------------------------------------------------- floorplans
def _guillotine(region, hot, name, density, out):
    """Tile ``region`` = (x0, y0, x1, y1) exactly: the ``hot`` rectangles inside it plus
    background pieces of power density ``density`` (W/m^2), by guillotine cuts along hot edges.

    ``hot`` is a list of (name, x0, y0, x1, y1, watts). Appends (name, x0, y0, w, h, watts) to
    ``out``.
    """
    x0, y0, x1, y1 = region
    eps = 1e-12
    if not hot:
        out.append((name, x0, y0, x1 - x0, y1 - y0, density * (x1 - x0) * (y1 - y0)))
        return
    if len(hot) == 1:
        h = hot[0]
        if abs(h[1] - x0) < eps and abs(h[2] - y0) < eps and abs(h[3] - x1) < eps and abs(h[4] - y1) < eps:
            out.append((h[0], x0, y0, x1 - x0, y1 - y0, h[5]))
            return
    # A cut along a hot edge strictly inside the region that no hot rectangle straddles.
    for axis, (lo, hi) in ((0, (x0, x1)), (1, (y0, y1))):
        cuts = sorted({c for h in hot for c in (h[1 + axis], h[3 + axis]) if lo + eps < c < hi - eps})
        for c in cuts:
            if any(h[1 + axis] < c - eps and h[3 + axis] > c + eps for h in hot):
                continue
            if axis == 0:
                a, b = (x0, y0, c, y1), (c, y0, x1, y1)
            else:
                a, b = (x0, y0, x1, c), (x0, c, x1, y1)
            _guillotine(a, [h for h in hot if h[3 + axis] <= c + eps], name + "a", density, out)
            _guillotine(b, [h for h in hot if h[1 + axis] >= c - eps], name + "b", density, out)
            return
    raise ValueError(f"no guillotine cut separates the hot units in {name}")


def synthetic(background, hot):
    """Floorplan from large background blocks (name, x0, y0, x1, y1, watts), mm, and hot units
    (name, x0, y0, width, height, watts), mm; each hot unit lies inside one background block."""
    from thermal import Floorplan

    hot = [(n, x * MM, y * MM, (x + w) * MM, (y + h) * MM, p) for n, x, y, w, h, p in hot]
    blocks = []
    for name, bx0, by0, bx1, by1, watts in background:
        region = (bx0 * MM, by0 * MM, bx1 * MM, by1 * MM)
        inside = [h for h in hot if region[0] <= h[1] and h[3] <= region[2]
                  and region[1] <= h[2] and h[4] <= region[3]]
        density = watts / ((region[2] - region[0]) * (region[3] - region[1]))
        pieces = []
        _guillotine(region, inside, name, density, pieces)
        k = 0
        for piece in pieces:  # background pieces: name_0, name_1, ...
            if piece[0] not in {h[0] for h in inside}:
                piece = (f"{name}_{k}",) + piece[1:] if len(pieces) > 1 else piece
                k += 1
            blocks.append(piece)
    placed = {b[0] for b in blocks}
    missing = [h[0] for h in hot if h[0] not in placed]
    if missing:
        raise ValueError(f"hot units {missing} not inside one background block")
    names, x, y, w, h, p = zip(*blocks)
    fp = Floorplan.from_blocks(names, x, y, w, h, p)
    if not math.isclose(float(fp.blocks.area.sum()), fp.width * fp.height, rel_tol=1e-9):
        raise ValueError("the blocks do not tile the die")
    return fp


def floorplans() -> dict:
    from thermal import read_hotspot

    return {
        "ev6": read_hotspot(ROOT / "examples/ev6.flp", ROOT / "examples/gcc.ptrace"),
        # 16 x 16 mm, 2x2 background of 8 mm blocks (30 W), a 0.2 mm unit of 2.5 W in a corner.
        "corner": synthetic(
            [("bg00", 0, 0, 8, 8, 8.0), ("bg10", 8, 0, 16, 8, 6.0),
             ("bg01", 0, 8, 8, 16, 7.0), ("bg11", 8, 8, 16, 16, 9.0)],
            [("hot", 0.0, 0.0, 0.2, 0.2, 2.5)]),
        # 12 x 10 mm, 3x2 background of 4 x 5 mm blocks (25 W); hot units on the bottom,
        # right and top edges, away from the corners.
        "edges": synthetic(
            [("bg00", 0, 0, 4, 5, 4.0), ("bg10", 4, 0, 8, 5, 5.0), ("bg20", 8, 0, 12, 5, 3.5),
             ("bg01", 0, 5, 4, 10, 3.0), ("bg11", 4, 5, 8, 10, 5.5), ("bg21", 8, 5, 12, 10, 4.0)],
            [("hot_bottom", 2.4, 0.0, 0.2, 0.2, 1.5),
             ("hot_right", 11.9, 7.0, 0.1, 0.1, 0.6),
             ("hot_top", 5.7, 9.7, 0.3, 0.3, 2.0)]),
        # 10 x 10 mm, background of three columns (22 W); a cluster of three units near the
        # centre, 0.1 - 0.2 mm, 0.1 - 0.3 mm apart.
        "middle": synthetic(
            [("bg_left", 0, 0, 3.5, 10, 6.0), ("bg_mid", 3.5, 0, 7, 10, 9.0),
             ("bg_right", 7, 0, 10, 10, 7.0)],
            [("hot_a", 4.70, 4.80, 0.20, 0.20, 1.2),
             ("hot_b", 5.10, 5.05, 0.10, 0.10, 0.5),
             ("hot_c", 4.85, 5.25, 0.15, 0.15, 0.8)]),
    }


# ---------------------------------------------------------------------------------- measuring
def uniform_elements(fp, resolution: int, conform: bool = False) -> int:
    """Elements of ``init_uniform(fp.domain(conform), resolution)`` without building it."""
    import numpy as np

    from meshes.uniform import grid_lines

    x0, y0, x1, y1 = fp.die
    spacing = max(x1 - x0, y1 - y0) / resolution
    edges = fp.domain(conform).edges
    xs = grid_lines(x0, x1, max(1, int(round((x1 - x0) / spacing))), np.concatenate([edges.x0, edges.x1]))
    ys = grid_lines(y0, y1, max(1, int(round((y1 - y0) / spacing))), np.concatenate([edges.y0, edges.y1]))
    return 2 * (xs.size - 1) * (ys.size - 1)


def run_one(fp, model, ref, method: str, param, grid_points: int, conform: bool = False) -> dict:
    """One run measured against the cached reference (:func:`thermal.app.compare.run_method`)."""
    from thermal.app.compare import run_method

    return run_method(fp, model, ref, method, param, grid_points=grid_points, conform=conform)[0]


# ---------------------------------------------------------------------------------- analysis
def summarize(results: dict) -> dict:
    """Cost of each method at each target, per floorplan (:func:`thermal.app.compare.summarize`)."""
    from thermal.app.compare import summarize as summarize_runs

    return {name: summarize_runs(runs, METHODS, TARGETS) for name, runs in results.items()}


def tol_ratios(results: dict, method: str) -> dict:
    """Achieved max error / tol of an adaptive method's runs, per floorplan."""
    import numpy as np

    out = {}
    for name, runs in results.items():
        r = [x["max_error_pct"] / (100 * x["param"]) for x in runs
             if x["method"] == method and "error" not in x]
        if r:
            out[name] = {"ratios": r, "min": float(np.min(r)), "median": float(np.median(r)),
                         "max": float(np.max(r)), "within_3x": int(sum(1 / 3 <= v <= 3 for v in r)),
                         "runs": len(r)}
    return out


# ---------------------------------------------------------------------------------- printing
def _num(v, status, fmt="{:,.0f}"):
    if v is not None:
        return fmt.format(v)
    return "below range" if status == "all runs below target" else status


def _seconds(v):
    return "–" if v is None else f"{v:.3f}"


def _ratio(v, bound=False):
    return "–" if v is None else f"{'> ' if bound else ''}{v:.1f}x"


def print_runs(name, fp, ref_info, runs):
    print(f"\n### `{name}`: {fp.width / MM:g} x {fp.height / MM:g} mm, {len(fp.names)} blocks, "
          f"{fp.total_power:.1f} W, exact peak rise {ref_info['peak_rise_K']:.2f} K "
          f"(series {ref_info['modes'][0]} x {ref_info['modes'][1]} modes, {ref_info['seconds']:.1f} s)\n")
    print("| method | resolution / tol | elements | solves | max error % | time s |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in runs:
        param = str(r["param"]) if r["method"] == "uniform" else f"{r['param']:g}"
        if "error" in r:
            print(f"| {r['method']} | {param} | – | – | FAILED: {r['error'][:120]} | – |")
            continue
        note = "" if r.get("converged") in (None, True) else " (not converged)"
        print(f"| {r['method']} | {param} | {r['elements']:,} | {r['solves']}{note} | "
              f"{r['max_error_pct']:.3g} | {r['time_s']:.3f} |")


def print_summary(summary):
    print("\n### Cost to reach a max error (log-log interpolation between runs)\n")
    print("Elements and seconds at the target by interpolating log(elements) and log(time) "
          "linearly in log(error) between the two runs that bracket it; *not reached*: every "
          "run's error is above the target; *below range*: every run's error is already below "
          "it. Savings and speed-ups are uniform / method; *> N*: uniform meshes did not reach "
          "the target, so the ratio to uniform's finest run is a lower bound.\n")
    print("| floorplan | target | method | elements | time s | element saving | speed-up |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, per_target in summary.items():
        for target, per in per_target.items():
            for method, v in per.items():
                print(f"| {name} | {target} % | {method} | {_num(v['elements'], v['status'])} | "
                      f"{_seconds(v['time_s'])} | {_ratio(v['element_saving'], v['lower_bounds'])} | "
                      f"{_ratio(v['speed_up'], v['lower_bounds'])} |")


def print_amr(ratios):
    print("\n### amr: achieved max error / tol (target: within 3x)\n")
    print("| floorplan | min | median | max | runs within 3x |")
    print("|---|---:|---:|---:|---:|")
    for name, r in ratios.items():
        print(f"| {name} | {r['min']:.2f} | {r['median']:.2f} | {r['max']:.2f} | "
              f"{r['within_3x']} / {r['runs']} |")


def print_tol_ratios(all_ratios):
    print("\n### Every adaptive method: achieved max error / tol, median (min - max)\n")
    names = list(next(iter(all_ratios.values())))
    print("| method | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for method, per in all_ratios.items():
        cells = [f"{per[n]['median']:.2f} ({per[n]['min']:.2f} - {per[n]['max']:.2f})" if n in per else "–"
                 for n in names]
        print(f"| {method} | " + " | ".join(cells) + " |")


def oracle_check(summary) -> dict:
    out = {}
    for name in SMALL_HOT:
        if name in summary:
            v = summary[name][str(TARGETS[0])]["oracle"]
            s = v["element_saving"]
            out[name] = {"element_saving": s, "lower_bound": v["lower_bounds"],
                         "meets_goal": s is not None and s >= ORACLE_SAVING_GOAL}
    return out


def print_oracle(check):
    print(f"\n### oracle element saving vs uniform at {TARGETS[0]} % (goal >= {ORACLE_SAVING_GOAL:g}x)\n")
    print("| floorplan | saving | goal met |")
    print("|---|---:|---|")
    for name, c in check.items():
        print(f"| {name} | {_ratio(c['element_saving'], c['lower_bound'])} | "
              f"{'n/a' if c['element_saving'] is None else ('yes' if c['meets_goal'] else 'no')} |")


# ---------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer resolutions and tolerances")
    parser.add_argument("--conform", action="store_true",
                        help="meshes follow every block edge (thermesh before exact loads)")
    parser.add_argument("--only", nargs="+", help=argparse.SUPPRESS)  # floorplans, for debugging
    args = parser.parse_args()

    from hotspot_ml.loading import cached_predictor
    from thermal import LumpedDie, SeriesSolution
    from thermal.app.compare import REPEAT_BELOW_S, REPEATS, CachedReference
    from thermal.app.output import write_json

    # The ML model is loaded once per process (as in a batch run): keep that out of the timings;
    # it is reported on its own.
    *_, model_load_s = cached_predictor()
    print(f"ML model loaded in {model_load_s:.2f} s (not counted in the 'adaptive' times)")
    wall = time.perf_counter()
    model = LumpedDie()
    resolutions = [r for r in RESOLUTIONS if not args.quick or r <= QUICK_MAX_RESOLUTION]
    tolerances = QUICK_TOLERANCES if args.quick else TOLERANCES
    grid_points = QUICK_ERROR_GRID_POINTS if args.quick else ERROR_GRID_POINTS
    fps = floorplans()
    if args.only:
        fps = {k: v for k, v in fps.items() if k in args.only}

    results, references, skipped = {}, {}, {}
    for name, fp in fps.items():
        start = time.perf_counter()
        series = SeriesSolution(fp, model)
        ref = CachedReference(series)
        references[name] = {"modes": list(series.modes), "error_estimate_K": series.error_estimate,
                            "peak_rise_K": float(ref.peak["rise"]), "peak": ref.peak,
                            "seconds": time.perf_counter() - start}
        runs = []
        for res in resolutions:
            n = uniform_elements(fp, res, args.conform)
            if n > MAX_UNIFORM_ELEMENTS:
                skipped.setdefault(name, []).append({"resolution": res, "elements": n})
                continue
            runs.append(run_one(fp, model, ref, "uniform", res, grid_points, args.conform))
            print(f"  {name} uniform {res}: {_brief(runs[-1])}", file=sys.stderr, flush=True)
        for method in ADAPTIVE:
            for tol in tolerances:
                runs.append(run_one(fp, model, ref, method, tol, grid_points, args.conform))
                print(f"  {name} {method} {tol:g}: {_brief(runs[-1])}", file=sys.stderr, flush=True)
        results[name] = runs
        del series, ref

    summary = summarize(results)
    all_ratios = {m: tol_ratios(results, m) for m in ADAPTIVE}
    ratios = all_ratios["amr"]
    check = oracle_check(summary)
    wall = time.perf_counter() - wall

    print(f"## Meshing benchmark{' (--quick)' if args.quick else ''}"
          f"{' (--conform: meshes follow every block edge)' if args.conform else ''}\n")
    print(f"Max error: over a grid of {grid_points} points along the longer side, "
          "|FE - exact series| in % of the exact peak rise. Time: `thermal.solve` end to end, "
          f"the fastest of {REPEATS} runs for runs under {REPEAT_BELOW_S:g} s (every method alike); "
          "the oracle's time includes "
          "evaluating the series solution it sizes the mesh from.")
    for name, runs in results.items():
        print_runs(name, fps[name], references[name], runs)
        if name in skipped:
            print(f"\nSkipped uniform resolutions (over {MAX_UNIFORM_ELEMENTS:,} elements): "
                  + ", ".join(f"{s['resolution']} ({s['elements']:,})" for s in skipped[name]))
    print_summary(summary)
    print_amr(ratios)
    print_tol_ratios(all_ratios)
    print_oracle(check)
    failures = [(n, r["method"], r["param"], r["error"]) for n, runs in results.items()
                for r in runs if "error" in r]
    if failures:
        print("\n### Failures\n")
        for n, m, p, e in failures:
            print(f"- {n} {m} {p}: {e}")
    print(f"\nWall time {wall:.0f} s.")

    out = ROOT / "benchmarks/results"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / f"meshing{'_conform' if args.conform else ''}.json", {
        "quick": args.quick, "conform": args.conform, "wall_s": wall, "error_grid_points": grid_points,
        "machine": platform.platform(),
        "model": model.as_dict(), "targets_pct": TARGETS,
        "resolutions": resolutions, "tolerances": tolerances,
        "references": references, "skipped_uniform": skipped,
        "runs": results, "summary": summary, "error_over_tol": all_ratios,
        "oracle_saving_at_0.5pct": check,
    })


def _brief(r: dict) -> str:
    if "error" in r:
        return "FAILED " + r["error"]
    return f"{r['elements']:,} el, {r['max_error_pct']:.3g} %, {r['time_s']:.2f} s, {r['solves']} solves"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
