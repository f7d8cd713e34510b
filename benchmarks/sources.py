"""Sources that do not dictate the mesh: power maps and tile floorplans, and their scale.

Cases, built here and deterministic:

``map512``
    HotSpot's ev6 floorplan (16 mm die) rasterised onto a 512 x 512 power map, W per cell = the
    block's density x the cell's area, every cell scaled by lognormal noise (sigma 0.3):
    an ev6-like raster with cell-level variation (262,144 sources).
``tiles16k``
    An OpenROAD-style export: 128 x 128 tiles of 8 um (1.024 mm die), tile power from three hot
    macros on a warm background times lognormal noise (sigma 0.5): 16,384 blocks.

Part 1 -- accuracy and cost, every run measured against the exact series (max |FE - exact| over
a 1601-point grid, % of the exact peak rise; time = ``thermal.solve`` end to end, the fastest of
3 runs under 2 s, the ML model loaded once beforehand): uniform meshes (which now cut through
cells) over resolutions, ``adaptive`` and ``power`` over tolerances, and the meshes that follow
every cell or tile (``--conform``). Elements and seconds needed for 0.1 % (log-log
interpolation, :func:`thermal.app.compare.needed`) give the targets' ratios.

Part 2 -- scale: reading a 1024 x 1024 map (.npy and CSV) and integrating it over meshes; the
coefficients of its exact series (two matrix products); a 10^5-tile floorplan read, validated
and located; the base mesh against the block count, with and without ``--conform``.

    python benchmarks/sources.py            # about 6 minutes on 2 cores
    python benchmarks/sources.py --quick    # fewer runs, no conforming runs on the map

Writes benchmarks/results/sources.json and prints Markdown tables.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ERROR_GRID_POINTS = 1601
TARGET_PCT = 0.1
#: Part 1 runs: (method, resolutions or tolerances) per case.
MAP_RUNS = {"uniform": [100, 150, 200, 300, 400], "adaptive": [3e-3, 2e-3, 1.5e-3, 1e-3, 7e-4],
            "power": [3e-3, 2e-3, 1.5e-3, 1e-3, 7e-4]}
TILE_RUNS = {"uniform": [32, 64, 128], "adaptive": [2e-3, 1e-3], "power": [2e-3, 1e-3]}
QUICK_RUNS = {"map512": {"uniform": [200, 400], "adaptive": [2e-3, 1e-3]},
              "tiles16k": {"uniform": [64, 128], "adaptive": [1e-3]}}
#: The tile target: --tol 1e-3 within this max error (%) with at most this fraction of the
#: tile mesh's elements.
TILE_TOL, TILE_ERROR_PCT, TILE_ELEMENT_FRACTION = 1e-3, 0.2, 0.25


# ---------------------------------------------------------------------------------- cases
def ev6_map_watts(n: int, seed: int = 0, sigma: float = 0.3) -> np.ndarray:
    """ev6's block densities sampled at the centres of an n x n grid over its die, as watts per
    cell (row 0 at the top), times lognormal cell noise."""
    from thermal import read_hotspot

    ev6 = read_hotspot(ROOT / "examples/ev6.flp", ROOT / "examples/gcc.ptrace")
    x0, y0, x1, y1 = ev6.die
    xs, ys = np.linspace(x0, x1, n + 1), np.linspace(y1, y0, n + 1)
    cx, cy = np.meshgrid(0.5 * (xs[1:] + xs[:-1]), 0.5 * (ys[1:] + ys[:-1]))
    cell = (xs[1] - xs[0]) * (ys[0] - ys[1])
    noise = np.random.default_rng(seed).lognormal(0.0, sigma, (n, n))
    return ev6.density_at(cx, cy) * cell * noise


def map_floorplan(n: int):
    from thermal.geometry.floorplan import PowerMap
    from thermal.io import read_flp
    from thermal import Floorplan

    f = read_flp(ROOT / "examples/ev6.flp")
    return Floorplan.from_blocks(f.names, f.x, f.y, f.width, f.height,
                                 power_map=PowerMap(ev6_map_watts(n), f"ev6 {n}x{n} map"),
                                 source=f.source)


def tile_power(k: int, tile: float, seed: int = 0) -> np.ndarray:
    """Watts per tile (row-major from the bottom left): three hot macros on a warm background."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(k), np.arange(k))
    x, y = (i.ravel() + 0.5) / k, (j.ravel() + 0.5) / k  # fractions of the die
    q = np.full(k * k, 20e4)  # W/m^2: 20 W/cm^2
    for cx, cy, r, extra in [(0.30, 0.70, 0.12, 150e4), (0.75, 0.30, 0.08, 300e4), (0.5, 0.5, 0.3, 40e4)]:
        q += extra * (np.hypot(x - cx, y - cy) < r)
    return q * rng.lognormal(0.0, 0.5, k * k) * tile * tile


def tile_floorplan(k: int, tile: float = 8e-6):
    from thermal import Floorplan

    i, j = np.meshgrid(np.arange(k), np.arange(k))
    i, j = i.ravel(), j.ravel()
    return Floorplan.from_blocks([f"t{a}_{b}" for a, b in zip(i, j)], i * tile, j * tile,
                                 np.full(k * k, tile), np.full(k * k, tile), tile_power(k, tile),
                                 source=f"{k}x{k} tiles")


# ---------------------------------------------------------------------------------- part 1
def accuracy_runs(name, fp, runs, conform_runs, log) -> dict:
    from thermal import LumpedDie, SeriesSolution
    from thermal.app.compare import CachedReference, run_method

    model = LumpedDie()
    start = time.perf_counter()
    series = SeriesSolution(fp, model)
    ref = CachedReference(series)
    reference = {"modes": list(series.modes), "error_estimate_K": series.error_estimate,
                 "peak_rise_K": float(series.peak["rise"]), "seconds": time.perf_counter() - start}
    log(f"  {name}: exact series {series.modes} modes, peak rise {reference['peak_rise_K']:.2f} K")
    rows = []
    for conform, plan in ((False, runs), (True, conform_runs)):
        for method, params in plan.items():
            for p in params:
                row = run_method(fp, model, ref, method, p, grid_points=ERROR_GRID_POINTS,
                                 conform=conform)[0]
                row["conform"] = conform
                rows.append(row)
                log(f"  {name} {method} {p}{' conform' if conform else ''}: " + _brief(row))
    return {"reference": reference, "rows": rows}


def map_summary(result) -> dict:
    """Elements and time for 0.1 % of each method (interpolated), and the targets' ratios."""
    from thermal.app.compare import needed

    out = {}
    for method in ("uniform", "adaptive", "power"):
        runs = [r for r in result["rows"] if r["method"] == method and not r["conform"] and "error" not in r]
        elements, status = needed(runs, TARGET_PCT, "elements")
        seconds, _ = needed(runs, TARGET_PCT, "time_s")
        out[method] = {"elements": elements, "time_s": seconds, "status": status}
    u = out["uniform"]
    for method in ("adaptive", "power"):
        m = out[method]
        if u["elements"] and m["elements"]:
            m["element_ratio"] = m["elements"] / u["elements"]
            m["time_ratio"] = m["time_s"] / u["time_s"]
    return out


def tile_summary(result, fp) -> dict:
    tile_mesh = 2 * len(fp.names)
    run = next(r for r in result["rows"] if r["method"] == "adaptive" and r["param"] == TILE_TOL
               and not r["conform"])
    return {"tile_mesh_elements": tile_mesh, "elements": run["elements"],
            "max_error_pct": run["max_error_pct"], "element_fraction": run["elements"] / tile_mesh,
            "met": run["max_error_pct"] <= TILE_ERROR_PCT
            and run["elements"] <= TILE_ELEMENT_FRACTION * tile_mesh}


# ---------------------------------------------------------------------------------- part 2
def _rebuilt(obj, name):
    """A cached property of ``obj`` computed afresh."""
    obj.__dict__.pop(name, None)
    return getattr(obj, name)


def best_of(fn, repeats=3):
    """(result, fastest seconds) of ``repeats`` calls."""
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def scale_map(n: int, log) -> dict:
    """Read an n x n map (.npy, CSV), build its density bands, integrate it over meshes."""
    from meshes.uniform import init_uniform
    from thermal import solve
    from thermal.io import read_floorplan, write_power_map
    from thermal.exact.series import _coefficient_matrix, _SourceIntervals, _Sources

    watts = ev6_map_watts(n, seed=1)
    out = {"cells": n * n}
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("npy", "csv"):
            path = Path(tmp) / f"map.{ext}"
            write_power_map(path, watts)
            out[f"file_MB_{ext}"] = path.stat().st_size / 2 ** 20
            fp, out[f"read_{ext}_s"] = best_of(lambda: read_floorplan(ROOT / "examples/ev6.flp", path)[0])
    _, out["density_bands_s"] = best_of(lambda: _rebuilt(fp, "power_density"))
    for res in (100, 400):
        mesh = init_uniform(fp.domain(), res)
        load, seconds = best_of(lambda: fp.power_moments(mesh.p, mesh.t))
        out[f"integrate_uniform{res}"] = {"elements": int(mesh.t.shape[1]), "seconds": seconds,
                                           "power_rel_error": abs(load[0].sum() / fp.total_power - 1)}
    sol = solve(fp, mesh="power", tol=1e-3)
    load, seconds = best_of(lambda: fp.power_moments(sol.mesh.p, sol.mesh.t))
    out["integrate_power_1e-3"] = {"elements": int(sol.mesh.t.shape[1]), "seconds": seconds,
                                   "power_rel_error": abs(load[0].sum() / fp.total_power - 1)}
    src = _Sources([(_SourceIntervals(fp), 0)])
    w, h = fp.width, fp.height
    from thermal import LumpedDie

    for modes in (256, 1024):
        _, out[f"series_coefficients_{modes}_s"] = best_of(
            lambda: _coefficient_matrix(src, (w, h), LumpedDie(), modes, modes))
    log(f"  map {n}x{n}: " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                       for k, v in out.items() if not isinstance(v, dict)))
    return out


def scale_blocks(k: int, log) -> dict:
    """Write a k x k tile floorplan, then read + validate it and locate 10^5 points in it."""
    from thermal.io import read_hotspot, write_flp, write_ptrace

    fp = tile_floorplan(k, tile=10e-3 / k)
    out = {"blocks": k * k}
    with tempfile.TemporaryDirectory() as tmp:
        flp, ptrace = Path(tmp) / "t.flp", Path(tmp) / "t.ptrace"
        write_flp(flp, fp)
        write_ptrace(ptrace, fp.names, fp.block_power)
        fp, out["read_and_validate_s"] = best_of(lambda: read_hotspot(flp, ptrace))
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, fp.width, 100_000), rng.uniform(0, fp.height, 100_000)
    _, out["first_locate_1e5_points_s"] = best_of(lambda: (_rebuilt(fp, "block_bands"),
                                                           fp.block_at(x, y)))
    _, out["locate_1e5_points_s"] = best_of(lambda: fp.block_at(x, y))
    log(f"  {k}x{k} tiles: " + ", ".join(f"{a} {b:.3g}" for a, b in out.items()))
    return out


def base_mesh_growth(log) -> list[dict]:
    from meshes import init_base

    rows = []
    for k in (16, 32, 64, 128):
        fp = tile_floorplan(k)
        row = {"blocks": k * k}
        for conform in (False, True):
            mesh, seconds = best_of(lambda: init_base(fp.domain(conform)), repeats=1 if conform else 3)
            row[f"{'conform' if conform else 'default'}_elements"] = int(mesh.t.shape[1])
            row[f"{'conform' if conform else 'default'}_s"] = seconds
        rows.append(row)
        log(f"  base mesh, {k}x{k} tiles: {row}")
    return rows


# ---------------------------------------------------------------------------------- printing
def _brief(r):
    if "error" in r:
        return "FAILED " + r["error"]
    return f"{r['elements']:,} el, {r['max_error_pct']:.3g} %, {r['time_s']:.3f} s"


def print_runs(name, result):
    ref = result["reference"]
    print(f"\n### `{name}`: exact series {ref['modes'][0]} x {ref['modes'][1]} modes, peak rise "
          f"{ref['peak_rise_K']:.2f} K\n")
    print("| method | resolution / tol | mesh follows | elements | max error % | time s | estimate / mesh / assemble / solve s |")
    print("|---|---:|---|---:|---:|---:|---|")
    for r in result["rows"]:
        if "error" in r:
            print(f"| {r['method']} | {r['param']} | | FAILED: {r['error'][:100]} | | | |")
            continue
        st = r["stages_s"]
        print(f"| {r['method']} | {r['param']:g} | {'every cell' if r['conform'] else 'die'} | "
              f"{r['elements']:,} | {r['max_error_pct']:.3g} | {r['time_s']:.3f} | "
              f"{st['estimate']:.3f} / {st['mesh']:.3f} / {st['assemble']:.3f} / {st['solve']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    from hotspot_ml.loading import cached_predictor
    from thermal.app.output import write_json

    cached_predictor()  # once per process, as in a batch run: not in adaptive's times

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    wall = time.perf_counter()
    map_fp, tiles_fp = map_floorplan(512), tile_floorplan(128)
    if args.quick:
        plans = {"map512": (QUICK_RUNS["map512"], {}), "tiles16k": (QUICK_RUNS["tiles16k"], {})}
    else:
        plans = {"map512": (MAP_RUNS, {"uniform": [100]}),
                 "tiles16k": (TILE_RUNS, {"uniform": [128], "adaptive": [TILE_TOL]})}
    results = {"map512": accuracy_runs("map512", map_fp, *plans["map512"], log)}
    results["tiles16k"] = accuracy_runs("tiles16k", tiles_fp, *plans["tiles16k"], log)
    summary = {"map512": map_summary(results["map512"]),
               "tiles16k": tile_summary(results["tiles16k"], tiles_fp)}
    scale = {"map1024": scale_map(1024, log), "blocks": scale_blocks(316, log),
             "base_mesh": base_mesh_growth(log)}
    wall = time.perf_counter() - wall

    print(f"## Sources benchmark{' (--quick)' if args.quick else ''}\n")
    for name, result in results.items():
        print_runs(name, result)
    s = summary["map512"]
    print(f"\n### `map512`: cost of {TARGET_PCT} % max error (targets: adaptive <= 1/5 of uniform's "
          "elements and <= 1/3 of its time)\n")
    print("| method | elements | time s | elements / uniform | time / uniform |")
    print("|---|---:|---:|---:|---:|")
    for method, v in s.items():
        if v["elements"] is None:
            print(f"| {method} | {v['status']} | | | |")
            continue
        print(f"| {method} | {v['elements']:,.0f} | {v['time_s']:.3f} | "
              f"{v.get('element_ratio', 1.0):.3f} | {v.get('time_ratio', 1.0):.3f} |")
    t = summary["tiles16k"]
    print(f"\n### `tiles16k`: --tol {TILE_TOL:g} -> {t['max_error_pct']:.3g} % with {t['elements']:,} "
          f"elements, {t['element_fraction']:.3f} of the tile mesh's {t['tile_mesh_elements']:,} "
          f"(target <= {TILE_ERROR_PCT} % with <= {TILE_ELEMENT_FRACTION}): "
          f"{'met' if t['met'] else 'NOT met'}")
    m = scale["map1024"]
    print("\n### Scale\n")
    print(f"1024 x 1024 map: read .npy {m['read_npy_s']:.3f} s ({m['file_MB_npy']:.0f} MB), CSV "
          f"{m['read_csv_s']:.3f} s ({m['file_MB_csv']:.0f} MB) (each with ev6.flp, validation and "
          f"snapping); density bands {m['density_bands_s']:.3f} s; exact power of every element of "
          + "; ".join(f"{v['elements']:,} elements ({k.replace('integrate_', '')}) in {v['seconds']:.3f} s "
                      f"(total power to {v['power_rel_error']:.1e})"
                      for k, v in m.items() if k.startswith("integrate_"))
          + f"; series coefficients, 256 x 256 modes {m['series_coefficients_256_s']:.3f} s, "
            f"1024 x 1024 {m['series_coefficients_1024_s']:.3f} s.")
    b = scale["blocks"]
    print(f"\n{b['blocks']:,}-block tile floorplan: read + validated in {b['read_and_validate_s']:.3f} s; "
          f"1e5 points located in {b['locate_1e5_points_s']:.3f} s ({b['first_locate_1e5_points_s']:.3f} s "
          "with building the index).")
    print("\n| tiles | base mesh elements (default) | s | following every tile (--conform) | s |")
    print("|---:|---:|---:|---:|---:|")
    for r in scale["base_mesh"]:
        print(f"| {r['blocks']:,} | {r['default_elements']:,} | {r['default_s']:.4f} | "
              f"{r['conform_elements']:,} | {r['conform_s']:.3f} |")
    print(f"\nWall time {wall:.0f} s.")
    out = ROOT / "benchmarks/results"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "sources.json", {"quick": args.quick, "machine": platform.platform(),
                                      "wall_s": wall, "runs": results, "summary": summary,
                                      "scale": scale})


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
