"""Train the stack hotspot model on labelled stacks (:mod:`hotspot_ml.stack_labels`).

``thermesh train-stacks --labels DIR [DIR ...] --out model.skops``:

1. every labelled case of the ``DIR`` s (in the order given) is drawn again from its seed (:func:`hotspot_ml.stacks.random_stack`)
   and its features computed (:mod:`hotspot_ml.stack_features`, the cheap physics among them);
2. the last fifth of the cases is held out whole; training takes, per power layer, its
   hottest nodes and a random sample of the rest, the target being what the physics misses,
   (converged - physics) / the physics' peak;
3. a :class:`~hotspot_ml.model.HotspotRegressor` is fitted, and the held-out cases are scored
   for the model, the physics and the series alone side by side, per case and in summary
   (largest error in % of the peak rise, peak within 0.5 mm or at a point within 1 % of the
   peak rise, hotspot recall); the card beside the model holds it all.
"""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

from hotspot_ml.stack_features import STACK_FEATURE_NAMES

#: Training rows per power layer: its hottest nodes, and a random sample of the others.
HOT_ROWS, RANDOM_ROWS = 300, 1200
#: Fraction of the cases held out for validation.
VALIDATION_FRACTION = 0.2
#: The shipped stack model's parameters. On 477 training and 119 validation stacks, 60 trees
#: of 31 leaves held the same validation ratio as 200 of 15 (0.79) at half the walk's cost.
PARAMS = {"max_iter": 60, "learning_rate": 0.15, "max_leaf_nodes": 31, "l2_regularization": 1.0}


def labelled_cases(labels: str | Path) -> list[dict]:
    """The labelled cases of one ``label-stacks`` directory, each drawn again from its seed:
    its floorplan, stack, and converged rise per power layer's face."""
    from hotspot_ml.stacks import random_stack
    from thermal.errors import InputError

    labels = Path(labels)
    try:
        doc = json.loads((labels / "cases.json").read_text())
        with np.load(labels / "labels.npz", allow_pickle=False) as z:
            solved = z["solved"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(labels, f"not a label-stacks directory ({exc.__class__.__name__}: {exc})") from None
    if doc.get("format") != "thermesh-stack-labels":
        raise InputError(labels / "cases.json", "not a thermesh-stack-labels file")
    cases = []
    for c in doc["cases"]:
        if "error" in c:
            continue
        seed = np.random.SeedSequence(int(c["entropy"]), spawn_key=tuple(c["spawn_key"]))
        fp, stack = random_stack(np.random.default_rng(seed), blocks=doc.get("blocks"))
        nx, ny = c["nx"], c["ny"]
        faces = [solved[c["index"], f, :ny, :nx].astype(float) for f in range(c["power_layers"])]
        cases.append({"index": c["index"], "labels": labels.name, "style": c["style"], "floorplan": fp,
                      "stack": stack, "solved": faces, "points": doc["points"]})
    return cases


def case_rows(case: dict, rng: np.random.Generator):
    """Features and targets of one case's training rows, and its features."""
    from hotspot_ml.stack_features import stack_features

    feats = stack_features(case["floorplan"], case["stack"], case["points"])
    X, y = [], []
    for table, (_, rise), peak, solved in zip(feats.tables, feats.physics, feats.peaks, case["solved"]):
        rows = training_rows(solved, rng)
        X.append(table[rows])
        y.append(((solved - rise) / peak).ravel()[rows])
    return np.concatenate(X), np.concatenate(y), feats


def training_rows(solved: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The nodes (flat indices) of one face that train: its hottest, and a random sample."""
    hot = np.argsort(-solved.ravel())[:HOT_ROWS]
    rest = rng.choice(solved.size, size=min(RANDOM_ROWS, solved.size), replace=False)
    return np.union1d(hot, rest)


def score(case: dict, feats, regressor) -> dict:
    """One held-out case: model, physics and series on every power layer's face."""
    from hotspot_ml.predict import corrected_layers
    from hotspot_ml.train import grid_metrics

    stack = case["stack"]
    model = corrected_layers(feats, regressor)
    faces = []
    for f, solved in enumerate(case["solved"]):
        k = feats.physics[f][0]
        fp = stack.layers[k].floorplan
        series = feats.series[f]
        faces.append({name: grid_metrics(feats.xs, feats.ys, field, solved, fp, stack.ambient)
                      for name, field in (("model", model[f][1]), ("physics", feats.physics[f][1]),
                                          ("series", series))})
    return {"labels": case["labels"], "case": case["index"], "style": case["style"], "faces": faces}


def summarise_scores(scores: list[dict]) -> dict:
    """Per predictor over every held-out face: median largest error, the median ratio of the
    model's to the physics', peak-right fraction and hotspot recall."""
    faces = [f for s in scores for f in s["faces"]]
    out = {}
    for name in ("model", "physics", "series"):
        rows = [f[name] for f in faces]
        solved = sum(r["hotspots_solved"] for r in rows)
        out[name] = {"faces": len(rows),
                     "median_max_error_pct": float(np.median([r["max_error_pct"] for r in rows])),
                     "peak_right_fraction": float(np.mean([r["peak_right"] for r in rows])),
                     "hotspot_recall": sum(r["hotspots_recalled"] for r in rows) / max(solved, 1)}
    out["median_ratio_model_to_physics"] = float(np.median(
        [f["model"]["max_error_pct"] / max(f["physics"]["max_error_pct"], 1e-12) for f in faces]))
    return out


def train_stacks(labels: list, out: str | Path, seed: int = 0, progress: bool = True,
                 **params) -> dict:
    """Fit the stack model on the ``labels`` directories and save it with its card; the card."""
    import sklearn
    from tqdm.auto import tqdm

    from hotspot_ml.model import HotspotRegressor, card_path, save_model

    start = time.perf_counter()
    cases = [c for directory in labels for c in labelled_cases(directory)]
    if len(cases) < 5:
        raise ValueError(f"need at least 5 labelled stacks to hold some out, got {len(cases)}")
    n_val = max(1, int(round(VALIDATION_FRACTION * len(cases))))
    rng = np.random.default_rng(seed)
    rows = [case_rows(c, rng) for c in tqdm(cases, desc="features", disable=not progress)]
    X = np.concatenate([r[0] for r in rows[:-n_val]])
    y = np.concatenate([r[1] for r in rows[:-n_val]])
    regressor = HotspotRegressor(**{**PARAMS, **params}).fit(X, y)
    scores = [score(c, r[2], regressor) for c, r in zip(cases[-n_val:], rows[-n_val:])]
    card = {
        "format": "thermesh-model-card", "version": 1, "kind": "stack",
        "command": f"thermesh train-stacks --labels {' '.join(Path(d).name for d in labels)} "
                   f"--out {Path(out).name}",
        "labels": [_labels_command(d) for d in labels], "train_cases": len(cases) - n_val,
        "validation_cases": n_val, "train_rows": int(X.shape[0]),
        "grid_points": cases[0]["points"], "features": list(STACK_FEATURE_NAMES),
        "target": "(converged rise - the physics) / the physics' peak rise, per power layer's face",
        "params": regressor.get_params(),
        "validation": summarise_scores(scores),
        "validation_per_case": [{"labels": s["labels"], "case": s["case"], "style": s["style"], "faces": [
            {name: {k: f[name][k] for k in ("max_error_pct", "peak_right")} for name in f}
            for f in s["faces"]]} for s in scores],
        "sklearn_version": sklearn.__version__, "python": platform.python_version(),
        "seconds": time.perf_counter() - start,
    }
    save_model(regressor, out, card)
    return json.loads(card_path(out).read_text())


def _labels_command(directory) -> str:
    """The command that made a labels directory (from its cases.json)."""
    doc = json.loads((Path(directory) / "cases.json").read_text())
    blocks = f" (blocks {doc['blocks']})" if doc.get("blocks") else ""
    return (f"thermesh label-stacks --samples {doc['samples']} --seed {doc['seed']} --tol {doc['tol']:g} "
            f"--out {Path(directory).name}{blocks}")


def main_train_stacks(args) -> int:
    card = train_stacks(args.labels, args.out)
    v = card["validation"]
    print(f"trained on {card['train_cases']} stacks ({card['train_rows']} rows), "
          f"held out {card['validation_cases']} in {card['seconds']:.1f} s")
    for name in ("model", "physics", "series"):
        s = v[name]
        print(f"  {name:8s} median max error {s['median_max_error_pct']:.2f} % of the peak rise, "
              f"peak right {100 * s['peak_right_fraction']:.0f} %, hotspot recall "
              f"{100 * s['hotspot_recall']:.0f} % over {s['faces']} power layers")
    print(f"  median (model / physics) max error: {v['median_ratio_model_to_physics']:.2f}")
    print(f"  wrote {args.out} and its card")
    return 0
