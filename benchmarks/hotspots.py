"""Hotspot prediction on floorplans held out from training, judged by the exact series.

Floorplans (none seen in training, which used ``SeedSequence(0)``):

* ``gen_00`` ... ``gen_39``: :func:`hotspot_ml.generate.random_case` from children of
  ``SeedSequence(12345)`` (10 with --quick);
* hand-made styles the generator does not produce, built here (deterministic):
  ``manycore_8x8`` (64 tiles of ALU/FPU/L1/L2 sub-blocks, one hot core), ``gpu_12x8`` (96
  near-identical SMs, power within ~0.5 %, and a shared L2 strip across the middle),
  ``sparse_25mm`` (25 mm die, four small hot units far apart, mostly white space),
  ``chiplet`` (two 7 x 9 mm chiplets' worth of blocks separated by an unpowered 1 mm channel,
  a hot unit on the channel's edge), ``corner_50um`` (a 50 um hot unit in a corner of a cool
  10 x 8 mm die), ``memory_stripe`` (low uniform power in 16 banks, one hot PHY stripe on the
  left edge), and ``ev6`` (examples/ev6.flp with examples/gcc.ptrace).

For each: ground truth = :func:`hotspot_ml.train.cell_maxima` of
``SeriesSolution(fp, model, rtol=1e-4, max_modes=4096)`` on the prediction's grid; metrics
(:func:`hotspot_ml.train.grid_metrics`) for the model and for the truncated series alone
(``prediction.features.u_series``, the ablation). ``predict()`` is timed once per floorplan
after a warm-up call (the model is loaded once, its load time reported apart); the largest
floorplan and two 1600-block ones (slicing and tiled, ``default_rng(6)``) are timed best of 3.

    python benchmarks/hotspots.py            # 40 generated + 7 hand-made (under a minute on 2 cores)
    python benchmarks/hotspots.py --quick    # 10 generated + 7 hand-made
    python benchmarks/hotspots.py --model path/to/model.skops

Prints Markdown tables and writes benchmarks/results/hotspots.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SEED = 12345
GENERATED, QUICK_GENERATED = 40, 10
LABEL_RTOL, LABEL_MAX_MODES = 1e-4, 4096
#: Targets: fraction of floorplans whose predicted peak is right, and hotspot recall.
PEAK_RIGHT_TARGET, RECALL_TARGET = 0.95, 0.90
#: predict() target once the model is loaded, seconds.
PREDICT_TARGET_S = 0.100
BIG_BLOCKS, BIG_SEED, REPEATS = 1600, 6, 3

MM = 1e-3
WCM2 = 1e4   # W/m^2 per W/cm^2


# ---------------------------------------------------------------------------------- helpers
def _build(blocks, tiles: bool = True, source: str = "<hand-made>"):
    """Floorplan from (name, x0, y0, width, height, watts) in mm. ``tiles``: check that the blocks
    cover the die exactly (no white space); overlaps are always refused by ``from_blocks``."""
    from thermal import Floorplan

    names, x, y, w, h, p = zip(*blocks)
    fp = Floorplan.from_blocks(names, np.array(x) * MM, np.array(y) * MM, np.array(w) * MM,
                               np.array(h) * MM, p, source=source, power_source=source)
    if tiles and not math.isclose(float(fp.blocks.area.sum()), fp.width * fp.height, rel_tol=1e-9):
        raise ValueError(f"{source}: the blocks do not tile the die")
    return fp


def _watts(density_wcm2: float, w_mm: float, h_mm: float) -> float:
    return density_wcm2 * WCM2 * (w_mm * MM) * (h_mm * MM)


def _carve(region, hot, name, density, out):
    """Tile ``region`` = (x0, y0, x1, y1) (mm) exactly: the ``hot`` rectangles inside it
    ((name, x0, y0, x1, y1, watts)) plus background pieces of ``density`` W/cm^2, by guillotine
    cuts along hot edges. Appends (name, x0, y0, w, h, watts) to ``out``."""
    x0, y0, x1, y1 = region
    eps = 1e-9
    if not hot:
        out.append((name, x0, y0, x1 - x0, y1 - y0, _watts(density, x1 - x0, y1 - y0)))
        return
    if len(hot) == 1:
        h = hot[0]
        if max(abs(h[1] - x0), abs(h[2] - y0), abs(h[3] - x1), abs(h[4] - y1)) < eps:
            out.append((h[0], x0, y0, x1 - x0, y1 - y0, h[5]))
            return
    for axis, (lo, hi) in ((0, (x0, x1)), (1, (y0, y1))):
        for c in sorted({c for h in hot for c in (h[1 + axis], h[3 + axis]) if lo + eps < c < hi - eps}):
            if any(h[1 + axis] < c - eps and h[3 + axis] > c + eps for h in hot):
                continue
            a, b = ((x0, y0, c, y1), (c, y0, x1, y1)) if axis == 0 else ((x0, y0, x1, c), (x0, c, x1, y1))
            _carve(a, [h for h in hot if h[3 + axis] <= c + eps], name + "a", density, out)
            _carve(b, [h for h in hot if h[1 + axis] >= c - eps], name + "b", density, out)
            return
    raise ValueError(f"no guillotine cut separates the hot units in {name}")


# ---------------------------------------------------------------------------------- hand-made
def manycore_8x8():
    """14.4 mm square, 8 x 8 tiles of 1.8 mm: ALU, FPU, L1 over an L2 slice; core (5, 2) hot."""
    from thermal import LumpedDie

    rng = np.random.default_rng(101)
    tile = 1.8
    # Sub-blocks in tile coordinates (x0, y0, w, h) and density in W/cm^2.
    subs = {"l2": (0.0, 0.0, 1.8, 0.7, 8.0), "alu": (0.0, 0.7, 0.7, 1.1, 60.0),
            "fpu": (0.7, 0.7, 0.6, 1.1, 45.0), "l1": (1.3, 0.7, 0.5, 1.1, 15.0)}
    hot_core = (5, 2)
    blocks = []
    for cy in range(8):
        for cx in range(8):
            activity = rng.uniform(0.85, 1.15)
            for sub, (x, y, w, h, d) in subs.items():
                if (cx, cy) == hot_core:
                    d = {"alu": 260.0, "fpu": 150.0}.get(sub, d)
                else:
                    d *= activity
                blocks.append((f"c{cy}{cx}_{sub}", cx * tile + x, cy * tile + y, w, h, _watts(d, w, h)))
    return _build(blocks, source="<manycore_8x8>"), LumpedDie()


def gpu_12x8():
    """12 x 11.6 mm: 12 x 8 SMs of 1.0 x 1.3 mm (50 W/cm^2 within ~0.5 %) and an L2 strip of 12
    slices across the middle; a big cooler (h = 2e4) and a 0.3 mm die."""
    from thermal import LumpedDie

    rng = np.random.default_rng(102)
    w, h, l2 = 1.0, 1.3, 1.2
    blocks = []
    for row in range(8):
        y = row * h + (l2 if row >= 4 else 0.0)
        for col in range(12):
            d = 50.0 * (1.0 + 0.005 * rng.standard_normal())
            blocks.append((f"sm_{row}_{col}", col * w, y, w, h, _watts(d, w, h)))
    for col in range(12):
        blocks.append((f"l2_{col}", col * w, 4 * h, w, l2, _watts(10.0 * rng.uniform(0.95, 1.05), w, l2)))
    return _build(blocks, source="<gpu_12x8>"), LumpedDie(thickness=0.3e-3, htc=2.0e4)


def sparse_25mm():
    """25 mm square die, mostly white space: four I/O blocks in the corners (2 W/cm^2), a
    controller (20 W/cm^2) and four small hot units 0.25-0.6 mm far apart; weak cooling."""
    from thermal import LumpedDie

    blocks = [
        ("io_sw", 0.0, 0.0, 1.5, 1.5, _watts(2.0, 1.5, 1.5)),
        ("io_se", 23.5, 0.0, 1.5, 1.5, _watts(2.0, 1.5, 1.5)),
        ("io_nw", 0.0, 23.5, 1.5, 1.5, _watts(2.0, 1.5, 1.5)),
        ("io_ne", 23.5, 23.5, 1.5, 1.5, _watts(2.0, 1.5, 1.5)),
        ("ctrl", 8.0, 3.0, 3.0, 2.0, _watts(20.0, 3.0, 2.0)),
        ("hot_a", 4.0, 19.0, 0.4, 0.4, 1.2),
        ("hot_b", 20.0, 5.0, 0.3, 0.6, 0.8),
        ("hot_c", 12.0, 11.5, 0.5, 0.5, 1.5),
        ("hot_d", 21.5, 21.0, 0.25, 0.25, 0.4),
    ]
    return _build(blocks, tiles=False, source="<sparse_25mm>"), LumpedDie(conductivity=120.0,
                                                                          thickness=0.2e-3, htc=5.0e3)


def chiplet():
    """15 x 9 mm: two 7 x 9 mm chiplets of 3 x 3 uneven blocks (lognormal ~30 W/cm^2, a cache
    column at 8 W/cm^2) separated by an unpowered 1 mm channel (white space); a 0.4 mm hot unit
    (800 W/cm^2) on chiplet B's edge facing the channel."""
    from thermal import LumpedDie

    rng = np.random.default_rng(104)
    cols, rows = [2.5, 2.5, 2.0], [3.5, 3.0, 2.5]
    hot = [("hot_b", 8.0, 4.0, 8.4, 4.4, _watts(800.0, 0.4, 0.4))]
    blocks = []
    for tag, x_off in (("A", 0.0), ("B", 8.0)):
        x = x_off
        for i, cw in enumerate(cols):
            y = 0.0
            for j, rh in enumerate(rows):
                d = 8.0 if (tag == "A" and i == 2) else 30.0 * math.exp(0.4 * rng.standard_normal())
                region = (x, y, x + cw, y + rh)
                inside = [hu for hu in hot if region[0] <= hu[1] and hu[3] <= region[2]
                          and region[1] <= hu[2] and hu[4] <= region[3]]
                pieces = []
                _carve(region, inside, f"{tag}_{i}{j}", d, pieces)
                blocks += pieces
                y += rh
            x += cw
    fp = _build(blocks, tiles=False, source="<chiplet>")
    if not math.isclose(float(fp.blocks.area.sum()), 2 * 7.0 * 9.0 * MM * MM, rel_tol=1e-9):
        raise ValueError("<chiplet>: the chiplets' blocks do not tile them")
    return fp, LumpedDie(conductivity=130.0, thickness=0.1e-3, htc=1.5e4)


def corner_50um():
    """10 x 8 mm of four cool blocks (4-6 W/cm^2) and a 50 um hot unit (2000 W/cm^2, 0.05 W)
    in the top-right corner."""
    from thermal import LumpedDie

    s = 0.05
    hot = [("hot", 10.0 - s, 8.0 - s, 10.0, 8.0, _watts(2000.0, s, s))]
    blocks = []
    for name, region, d in (("bg_sw", (0, 0, 5, 4), 5.0), ("bg_se", (5, 0, 10, 4), 4.0),
                            ("bg_nw", (0, 4, 5, 8), 6.0), ("bg_ne", (5, 4, 10, 8), 4.5)):
        inside = [hu for hu in hot if region[0] <= hu[1] and hu[3] <= region[2]
                  and region[1] <= hu[2] and hu[4] <= region[3]]
        _carve(region, inside, name, d, blocks)
    return _build(blocks, source="<corner_50um>"), LumpedDie()


def memory_stripe():
    """12 x 9 mm memory die: 4 x 4 banks at 3 W/cm^2 (+-2 %), a 0.4 x 6 mm PHY stripe at
    150 W/cm^2 on the left edge between two cool I/O blocks; modest cooling (h = 5e3)."""
    from thermal import LumpedDie

    rng = np.random.default_rng(106)
    stripe = 0.4
    bw, bh = (12.0 - stripe) / 4, 9.0 / 4
    blocks = [("io_lo", 0.0, 0.0, stripe, 1.5, _watts(5.0, stripe, 1.5)),
              ("phy", 0.0, 1.5, stripe, 6.0, _watts(150.0, stripe, 6.0)),
              ("io_hi", 0.0, 7.5, stripe, 1.5, _watts(5.0, stripe, 1.5))]
    for r in range(4):
        for c in range(4):
            blocks.append((f"bank_{r}{c}", stripe + c * bw, r * bh, bw, bh,
                           _watts(3.0 * rng.uniform(0.98, 1.02), bw, bh)))
    return _build(blocks, source="<memory_stripe>"), LumpedDie(htc=5.0e3)


def ev6():
    from thermal import LumpedDie, read_hotspot

    return read_hotspot(ROOT / "examples/ev6.flp", ROOT / "examples/gcc.ptrace"), LumpedDie()


HAND_MADE = {"manycore_8x8": manycore_8x8, "gpu_12x8": gpu_12x8, "sparse_25mm": sparse_25mm,
             "chiplet": chiplet, "corner_50um": corner_50um, "memory_stripe": memory_stripe,
             "ev6": ev6}


def cases(generated: int):
    """(name, group, builder) for every floorplan; builders are called lazily (errors per case)."""
    from hotspot_ml.generate import random_case

    out = []
    for i, child in enumerate(np.random.SeedSequence(SEED).spawn(generated)):
        out.append((f"gen_{i:02d}", "generated",
                    lambda c=child: random_case(np.random.default_rng(c))))
    out += [(name, "hand-made", fn) for name, fn in HAND_MADE.items()]
    return out


# ---------------------------------------------------------------------------------- evaluation
def _error(exc: BaseException) -> str:
    """The exception and the innermost frame that raised it (file:line in function)."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(tb[-1].filename).relative_to(ROOT) if tb[-1].filename.startswith(str(ROOT)) else tb[-1].filename}:{tb[-1].lineno} in {tb[-1].name}" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def evaluate(name: str, group: str, build, regressor) -> tuple[dict, tuple | None]:
    """Metrics row of one floorplan, and (floorplan, package) if it could be built."""
    from hotspot_ml.predict import predict
    from thermal.physics.hotspots import find_hotspots
    from hotspot_ml.train import grid_metrics, cell_maxima
    from thermal import SeriesSolution

    row = {"name": name, "group": group}
    stage = "build"
    try:
        fp, model = build()
        row.update(blocks=len(fp.names), die_mm=[fp.width / MM, fp.height / MM],
                   power_W=fp.total_power, package=model.as_dict())
        stage = "predict"
        start = time.perf_counter()
        pred = predict(fp, model, regressor)
        row["predict_ms"] = 1e3 * (time.perf_counter() - start)
        row["predict_internal_ms"] = 1e3 * pred.seconds
        row["grid"] = [int(pred.xs.size), int(pred.ys.size)]
        stage = "series"
        start = time.perf_counter()
        exact = SeriesSolution(fp, model, rtol=LABEL_RTOL, max_modes=LABEL_MAX_MODES)
        truth = cell_maxima(exact, pred.xs.size, pred.ys.size)
        row["series_s"] = time.perf_counter() - start
        row.update(series_modes=list(exact.modes), series_capped=bool(exact.capped),
                   series_error_estimate_K=float(exact.error_estimate),
                   peak_rise_K=float(truth.max()), mean_rise_K=float(pred.features.mean_rise))
        stage = "metrics"
        for label, field in (("model", pred.rise), ("series", pred.features.u_series)):
            m = grid_metrics(pred.xs, pred.ys, field, truth, fp, model.ambient)
            m["hotspots_predicted"] = len(find_hotspots(pred.xs, pred.ys, field, fp, model.ambient))
            row[label] = m
        return row, (fp, model)
    except Exception as exc:  # library failures are recorded per floorplan, never fixed here
        row["error"] = f"{stage}: {_error(exc)}"
        return row, None


def summarise_group(rows: list[dict]) -> dict:
    from hotspot_ml.train import summarise

    ok = [r for r in rows if "model" in r]
    out = {"floorplans": len(rows), "evaluated": len(ok)}
    if ok:
        for label in ("model", "series"):
            s = summarise([r[label] for r in ok])
            s["hotspots_solved"] = sum(r[label]["hotspots_solved"] for r in ok)
            s["hotspots_recalled"] = sum(r[label]["hotspots_recalled"] for r in ok)
            s["hotspots_predicted"] = sum(r[label]["hotspots_predicted"] for r in ok)
            out[label] = s
    return out


def best_of(fp, model, regressor, repeats: int = REPEATS) -> dict:
    from hotspot_ml.predict import predict

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(fp, model, regressor)
        times.append(time.perf_counter() - start)
    return {"blocks": len(fp.names), "best_ms": 1e3 * min(times), "runs_ms": [1e3 * t for t in times]}


# ---------------------------------------------------------------------------------- output
def _yn(v: bool) -> str:
    return "yes" if v else "**no**"


def print_rows(rows: list[dict]) -> None:
    print("| floorplan | blocks | peak right model / series | hotspots solved | recalled model / series "
          "| peak error % model / series | max error % model / series | predict ms |")
    print("|---|--:|:-:|--:|:-:|--:|--:|--:|")
    for r in rows:
        if "model" not in r:
            ms = f"{r['predict_ms']:.1f}" if "predict_ms" in r else ""
            print(f"| {r['name']} | {r.get('blocks', '-')} | failed (see Failures) | | | | | {ms} |")
            continue
        m, s = r["model"], r["series"]
        print(f"| {r['name']} | {r['blocks']} | {_yn(m['peak_right'])} / {_yn(s['peak_right'])} "
              f"| {m['hotspots_solved']} | {m['hotspots_recalled']} / {s['hotspots_recalled']} "
              f"| {m['peak_error_pct']:+.2f} / {s['peak_error_pct']:+.2f} "
              f"| {m['max_error_pct']:.2f} / {s['max_error_pct']:.2f} | {r['predict_ms']:.1f} |")


def print_summary(summary: dict) -> None:
    print("| floorplans | evaluated | peak right model | peak right series | hotspot recall model "
          "| hotspot recall series | hotspots predicted model / series (solved) "
          "| median max error % model / series | median abs peak error % model / series |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for group, g in summary.items():
        if "model" not in g:
            print(f"| {group} | 0 of {g['floorplans']} | | | | | | | |")
            continue
        m, s = g["model"], g["series"]
        print(f"| {group} | {g['evaluated']} of {g['floorplans']} "
              f"| {100 * m['peak_right_fraction']:.1f} % | {100 * s['peak_right_fraction']:.1f} % "
              f"| {100 * m['hotspot_recall']:.1f} % ({m['hotspots_recalled']}/{m['hotspots_solved']}) "
              f"| {100 * s['hotspot_recall']:.1f} % ({s['hotspots_recalled']}/{s['hotspots_solved']}) "
              f"| {m['hotspots_predicted']} / {s['hotspots_predicted']} ({m['hotspots_solved']}) "
              f"| {m['median_max_error_pct']:.2f} / {s['median_max_error_pct']:.2f} "
              f"| {m['median_abs_peak_error_pct']:.2f} / {s['median_abs_peak_error_pct']:.2f} |")


def worse_than_series(rows: list[dict]) -> list[str]:
    """Where the model does worse than the truncated series it corrects."""
    notes = []
    for r in rows:
        if "model" not in r:
            continue
        m, s = r["model"], r["series"]
        bits = []
        if s["peak_right"] and not m["peak_right"]:
            bits.append(f"peak wrong (series right; model's peak {1e3 * m['peak_distance_m']:.2f} mm "
                        f"from the true one)")
        if m["hotspots_recalled"] < s["hotspots_recalled"]:
            bits.append(f"recalls {m['hotspots_recalled']} of {m['hotspots_solved']} hotspots, "
                        f"series {s['hotspots_recalled']}")
        if m["max_error_pct"] > s["max_error_pct"] + 0.05:
            bits.append(f"max error {m['max_error_pct']:.2f} % vs {s['max_error_pct']:.2f} % "
                        f"(+{m['max_error_pct'] - s['max_error_pct']:.2f} points)")
        if abs(m["peak_error_pct"]) > abs(s["peak_error_pct"]) + 0.05:
            bits.append(f"peak error {m['peak_error_pct']:+.2f} % vs {s['peak_error_pct']:+.2f} %")
        if bits:
            notes.append(f"- {r['name']}: " + "; ".join(bits))
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_GENERATED} generated floorplans")
    parser.add_argument("--model", help="model file (.skops with its .json card); default: shipped model")
    parser.add_argument("--only", nargs="+", help=argparse.SUPPRESS)  # floorplan names, for debugging
    args = parser.parse_args()

    from hotspot_ml.generate import random_case
    from hotspot_ml.model import load_model
    from hotspot_ml.predict import predict

    wall = time.perf_counter()
    load = [os.getloadavg()[0]]
    start = time.perf_counter()
    try:
        regressor, card = load_model(args.model)
    except Exception as exc:
        sys.exit(f"cannot load the model: {exc}")
    load_s = time.perf_counter() - start

    todo = cases(QUICK_GENERATED if args.quick else GENERATED)
    if args.only:
        todo = [c for c in todo if c[0] in args.only]

    # Warm-up: the first predict() pays one-off imports and allocations; time it apart.
    warm_fp, warm_model = ev6()
    start = time.perf_counter()
    predict(warm_fp, warm_model, regressor)
    first_ms = 1e3 * (time.perf_counter() - start)

    rows, largest = [], None
    for name, group, build in todo:
        row, built = evaluate(name, group, build, regressor)
        rows.append(row)
        if built is not None and (largest is None or len(built[0].names) > len(largest[1][0].names)):
            largest = (name, built)
        brief = row.get("error") or (f"{row['blocks']} blocks, predict {row['predict_ms']:.0f} ms, "
                                     f"series {row['series_s']:.1f} s {row['series_modes']}")
        print(f"  {name}: {brief}", file=sys.stderr, flush=True)

    timings = {"model_load_s": load_s, "first_predict_ms (ev6, cold)": first_ms}
    timing_errors = {}
    if largest is not None:
        timings["largest"] = {"name": largest[0], **best_of(*largest[1], regressor)}
    for style in ("slicing", "tiled"):
        try:
            fp, model = random_case(np.random.default_rng(BIG_SEED), style=style, blocks=BIG_BLOCKS)
            timings[f"{style}_{BIG_BLOCKS}"] = best_of(fp, model, regressor)
        except Exception as exc:
            timing_errors[f"{style}_{BIG_BLOCKS}"] = _error(exc)

    groups = {"generated": [r for r in rows if r["group"] == "generated"],
              "hand-made": [r for r in rows if r["group"] == "hand-made"], "all": rows}
    summary = {k: summarise_group(v) for k, v in groups.items() if v}
    load.append(os.getloadavg()[0])
    wall = time.perf_counter() - wall

    model_name = args.model or "hotspot_ml/models/default.skops (shipped)"
    print(f"## Hotspot prediction on held-out floorplans{' (--quick)' if args.quick else ''}\n")
    print(f"Model: `{model_name}` (trained: `{card.get('command', '?')}`). Ground truth: exact series "
          f"(rtol {LABEL_RTOL:g}, max {LABEL_MAX_MODES} modes), maximum over each grid node's cell. "
          "Errors in % of the true peak rise; \"series\" = the truncated series alone (the model's "
          f"first feature, the ablation). Generated floorplans: `SeedSequence({SEED})`, never used "
          "in training.\n")
    print("### Per floorplan\n")
    print_rows(rows)
    print("\n### Summary\n")
    print_summary(summary)
    if "all" in summary and "model" in summary["all"]:
        a = summary["all"]
        print(f"\nTargets (all floorplans): peak right >= {100 * PEAK_RIGHT_TARGET:.0f} %: model "
              f"{100 * a['model']['peak_right_fraction']:.1f} % "
              f"({'met' if a['model']['peak_right_fraction'] >= PEAK_RIGHT_TARGET else 'NOT met'}), "
              f"series {100 * a['series']['peak_right_fraction']:.1f} % "
              f"({'met' if a['series']['peak_right_fraction'] >= PEAK_RIGHT_TARGET else 'NOT met'}); "
              f"hotspot recall >= {100 * RECALL_TARGET:.0f} %: model {100 * a['model']['hotspot_recall']:.1f} % "
              f"({'met' if a['model']['hotspot_recall'] >= RECALL_TARGET else 'NOT met'}), "
              f"series {100 * a['series']['hotspot_recall']:.1f} % "
              f"({'met' if a['series']['hotspot_recall'] >= RECALL_TARGET else 'NOT met'}).")

    print("\n### Prediction time\n")
    print(f"Model load {load_s:.2f} s; first predict() (ev6, cold) {first_ms:.0f} ms. "
          f"Target: < {1e3 * PREDICT_TARGET_S:.0f} ms once the model is loaded. Load average "
          f"(1 min) {load[0]:.2f} at the start, {load[1]:.2f} at the end, on {os.cpu_count()} cores.\n")
    print("| floorplan | blocks | best of 3, ms | runs, ms | target |")
    print("|---|--:|--:|---|:-:|")
    for key in ["largest", f"slicing_{BIG_BLOCKS}", f"tiled_{BIG_BLOCKS}"]:
        if key in timings:
            t = timings[key]
            label = f"largest evaluated ({t['name']})" if key == "largest" else \
                f"random_case(default_rng({BIG_SEED}), '{key.split('_')[0]}', {BIG_BLOCKS})"
            print(f"| {label} | {t['blocks']} | {t['best_ms']:.1f} | "
                  f"{', '.join(f'{v:.0f}' for v in t['runs_ms'])} | "
                  f"{'met' if t['best_ms'] < 1e3 * PREDICT_TARGET_S else 'NOT met'} |")
        elif key in timing_errors:
            print(f"| {key} | | failed: {timing_errors[key]} | | |")
    ok = [r["predict_ms"] for r in rows if "predict_ms" in r]
    if ok:
        print(f"\nSingle predict() per floorplan: median {np.median(ok):.1f} ms, max {max(ok):.1f} ms "
              f"over {len(ok)} floorplans.")

    notes = worse_than_series(rows)
    if notes:
        print("\n### Where the model is worse than the series alone\n")
        print("\n".join(notes))
    capped = [r["name"] for r in rows if r.get("series_capped")]
    if capped:
        print(f"\nGround truth capped at {LABEL_MAX_MODES} modes (less accurate than rtol): "
              + ", ".join(capped))
    failures = [r for r in rows if "error" in r]
    if failures or timing_errors:
        print("\n### Failures\n")
        for r in failures:
            print(f"- {r['name']}: {r['error']}")
        for k, e in timing_errors.items():
            print(f"- timing {k}: {e}")
    print(f"\nWall time {wall:.0f} s.")

    out = ROOT / "benchmarks/results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "hotspots.json").write_text(json.dumps({
        "quick": args.quick, "wall_s": wall, "machine": platform.platform(),
        "python": platform.python_version(), "model": model_name, "model_card": card,
        "seed": SEED, "label": {"rtol": LABEL_RTOL, "max_modes": LABEL_MAX_MODES},
        "targets": {"peak_right_fraction": PEAK_RIGHT_TARGET, "hotspot_recall": RECALL_TARGET,
                    "predict_s": PREDICT_TARGET_S},
        "load_average_1min": load, "cpu_count": os.cpu_count(),
        "rows": rows, "summary": summary, "timings": timings, "timing_errors": timing_errors,
    }, indent=2, default=float))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
