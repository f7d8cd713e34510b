"""Train the hotspot regressor on synthetic floorplans labelled by the exact series.

``thermesh train --samples N --seed S --workers W --out model.skops``:

1. ``N`` floorplans from :func:`hotspot_ml.generate.random_case`, case ``i`` seeded by child
   ``i`` of ``SeedSequence(S)`` (so results do not depend on ``W``);
2. per case, in parallel (joblib, with a progress bar): features on the grid and labels, the
   exact series' rise at the same nodes (``rtol`` 1e-4);
3. the last fifth of the cases is held out whole (never split across train and validation);
   training uses the nodes where prediction consults the trees
   (:func:`hotspot_ml.predict.relevant_nodes`): the hottest of them plus a random sample;
4. a :class:`~hotspot_ml.model.HotspotRegressor` is fitted; validation metrics — for the model
   and for the truncated series alone, so the trees must earn their place — go into the model
   card (JSON) beside the model.
"""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

from hotspot_ml.features import FEATURE_NAMES, POINTS, compute_features
from hotspot_ml.predict import predicted_rise, relevant_nodes
from thermal.physics.hotspots import HOTSPOT_RADIUS, find_hotspots

#: Training rows per case: its hottest nodes, and a random sample of the others.
HOT_ROWS, RANDOM_ROWS = 400, 1600
#: Fraction of cases held out for validation.
VALIDATION_FRACTION = 0.2
#: The labels' cell maxima are taken on a grid this many times finer than the features'.
SUBSAMPLE = 4
#: Label accuracy (relative, of the peak rise) and mode cap of the exact series.
LABEL_RTOL, LABEL_MAX_MODES = 1e-4, 4096


def cell_maxima(exact, nx: int, ny: int, factor: int = SUBSAMPLE) -> np.ndarray:
    """The exact rise's maximum over each node's cell (a spacing wide), shape (ny, nx).

    Node values alone would hide a hot unit smaller than the grid between nodes; the cell
    maximum is what a hotspot map must show. Taken over a grid ``factor`` times finer.
    """
    from scipy.ndimage import maximum_filter

    _, _, fine = exact.rise_on_grid(factor * (nx - 1) + 1, factor * (ny - 1) + 1)
    return maximum_filter(fine, size=factor + 1, mode="nearest")[::factor, ::factor]


def label_case(child: np.random.SeedSequence, index: int, keep_grid: bool, points: int = POINTS) -> dict:
    """Features and exact labels of one generated case."""
    from hotspot_ml.generate import random_case
    from thermal.exact.series import SeriesSolution

    rng = np.random.default_rng(child)
    floorplan, model = random_case(rng)
    feats = compute_features(floorplan, model, points)
    exact = SeriesSolution(floorplan, model, rtol=LABEL_RTOL, max_modes=LABEL_MAX_MODES)
    u = cell_maxima(exact, feats.xs.size, feats.ys.size)
    target = ((u - feats.u_series) / feats.mean_rise).ravel()
    # Train where prediction consults the trees: its hottest nodes and a random sample of the rest.
    relevant = relevant_nodes(feats)
    hot = relevant[np.argsort(-u.ravel()[relevant])[:HOT_ROWS]]
    rest = rng.choice(relevant, size=min(RANDOM_ROWS, relevant.size), replace=False)
    rows = np.union1d(hot, rest)
    out = {"index": index, "X": feats.rows(rows), "y": target[rows], "blocks": len(floorplan.names)}
    if keep_grid:
        out.update(floorplan=floorplan, model=model, features=feats, exact=u)
    return out


def grid_metrics(xs, ys, predicted, exact, floorplan, ambient) -> dict:
    """How well a predicted grid field matches the exact one: errors, peak, hotspot recall."""
    peak = exact.max()
    j, i = np.unravel_index(np.argmax(predicted), predicted.shape)
    je, ie = np.unravel_index(np.argmax(exact), exact.shape)
    distance = float(np.hypot(xs[i] - xs[ie], ys[j] - ys[je]))
    # Right if within 0.5 mm of the true peak, or at a point within 1 % of the peak rise.
    peak_right = distance <= HOTSPOT_RADIUS or exact[j, i] >= 0.99 * peak
    solved = find_hotspots(xs, ys, exact, floorplan, ambient)
    found = find_hotspots(xs, ys, predicted, floorplan, ambient)
    fx, fy = np.array([h["x"] for h in found]), np.array([h["y"] for h in found])
    recalled = sum(bool(np.any(np.hypot(fx - h["x"], fy - h["y"]) <= HOTSPOT_RADIUS)) for h in solved)
    return {"max_error_pct": float(100 * np.abs(predicted - exact).max() / peak),
            "rms_error_pct": float(100 * np.sqrt(np.mean((predicted - exact) ** 2)) / peak),
            "peak_error_pct": float(100 * (predicted.max() - peak) / peak),
            "peak_right": bool(peak_right), "peak_distance_m": distance,
            "hotspots_solved": len(solved), "hotspots_recalled": int(recalled)}


def evaluate(cases: list[dict], regressor) -> tuple[dict, list[dict]]:
    """Validation metrics of the model and of the truncated series alone (the ablation): the
    summaries, and each case's max and peak errors side by side."""
    rows = {"model": [], "series_only": []}
    for c in cases:
        f = c["features"]
        predicted = predicted_rise(f, regressor)
        for name, field in (("model", predicted), ("series_only", f.u_series)):
            rows[name].append(grid_metrics(f.xs, f.ys, field, c["exact"], c["floorplan"],
                                            c["model"].ambient))
    per_case = [{"case": c["index"], "blocks": c["blocks"],
                 **{key: {name: r[i][key] for name, r in rows.items()}
                    for key in ("max_error_pct", "peak_error_pct")}}
                for i, c in enumerate(cases)]
    return {name: summarise(r) for name, r in rows.items()}, per_case


def summarise(rows: list[dict]) -> dict:
    solved = sum(r["hotspots_solved"] for r in rows)
    return {"cases": len(rows),
            "peak_right_fraction": float(np.mean([r["peak_right"] for r in rows])),
            "hotspot_recall": sum(r["hotspots_recalled"] for r in rows) / max(solved, 1),
            "median_max_error_pct": float(np.median([r["max_error_pct"] for r in rows])),
            "median_rms_error_pct": float(np.median([r["rms_error_pct"] for r in rows])),
            "median_abs_peak_error_pct": float(np.median([abs(r["peak_error_pct"]) for r in rows]))}


def train(samples: int, seed: int, out: str | Path, workers: int = 1, progress: bool = True,
          **params) -> dict:
    """Generate, label, fit, validate and save; return the model card."""
    import sklearn
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    from hotspot_ml.model import HotspotRegressor, card_path, save_model

    if samples < 5:
        raise ValueError(f"need at least 5 samples to hold some out, got {samples}")
    start = time.perf_counter()
    children = np.random.SeedSequence(seed).spawn(samples)
    n_val = max(1, int(round(VALIDATION_FRACTION * samples)))
    jobs = (delayed(label_case)(children[i], i, i >= samples - n_val) for i in range(samples))
    cases = list(tqdm(Parallel(n_jobs=workers, return_as="generator")(jobs), total=samples,
                      desc="labelling", disable=not progress))
    cases.sort(key=lambda c: c["index"])
    train_cases, val_cases = cases[:-n_val], cases[-n_val:]
    X = np.concatenate([c["X"] for c in train_cases])
    y = np.concatenate([c["y"] for c in train_cases])
    regressor = HotspotRegressor(**params).fit(X, y)
    validation, per_case = evaluate(val_cases, regressor)
    card = {
        "format": "thermesh-model-card", "version": 1,
        "command": f"thermesh train --samples {samples} --seed {seed} --workers {workers} --out {Path(out).name}",
        "samples": samples, "seed": seed, "train_cases": len(train_cases),
        "validation_cases": len(val_cases), "train_rows": int(X.shape[0]),
        "grid_points": POINTS, "features": list(FEATURE_NAMES),
        "target": "(max over the node's cell of u_exact - the same of u_series) / T0",
        "params": regressor.get_params(),
        "validation": validation,
        "validation_per_case": per_case,
        "label": {"rtol": LABEL_RTOL, "max_modes": LABEL_MAX_MODES},
        "sklearn_version": sklearn.__version__, "python": platform.python_version(),
        "seconds": time.perf_counter() - start,
    }
    save_model(regressor, out, card)
    return json.loads(card_path(out).read_text())


def main_train(args) -> int:
    card = train(args.samples, args.seed, args.out, workers=args.workers, progress=True)
    m, s = card["validation"]["model"], card["validation"]["series_only"]
    print(f"trained on {card['train_cases']} floorplans ({card['train_rows']:,} rows) in "
          f"{card['seconds']:.1f} s; validation on {card['validation_cases']} held-out floorplans:")
    for name, v in (("model", m), ("series alone", s)):
        print(f"  {name:>12}: peak right {100 * v['peak_right_fraction']:.0f} %, hotspot recall "
              f"{100 * v['hotspot_recall']:.0f} %, median max error {v['median_max_error_pct']:.2f} % "
              f"of peak rise")
    print(f"  wrote {args.out} and {Path(args.out).with_suffix('.json')}")
    return 0
