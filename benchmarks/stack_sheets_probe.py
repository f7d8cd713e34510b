"""What the stack model misses on 3D stacks, and what the dies' sheet model gives the trees.

Two measurements on labelled stacks (``thermesh label-stacks`` directories), by K-fold
cross-validation (whole stacks held out, the shipped model's parameters and training rows):

1. **Where the physics' error lives.** Each power layer's residual (converged - physics) / the
   converged peak rise is split into its smooth part (a 5 x 5-node box average) and the rough
   rest; the largest of each is reported per style, for the physics and for the model without
   the sheet features.
2. **What the sheet features earn.** The median model/physics ratio with the features before
   the sheet model's two (``u_sheets``, ``sheets_fine``: :mod:`thermal.physics.sheets`) and
   with them; and the physics' own median error if the sheets' materials share replaced the
   compact model's (it is not: the physics baseline stays the compact model's), and the
   model's ratio against that physics too.

    python benchmarks/stack_sheets_probe.py --labels DIR [DIR ...] [--folds 4]

Results are in README.md (stack model section).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

#: Box (nodes) whose average is a residual's smooth part.
SMOOTH_BOX = 5


def probe_cases(labels: list) -> list[dict]:
    """Every labelled case with its features per power layer."""
    from tqdm.auto import tqdm

    from hotspot_ml.stack_features import STACK_FEATURE_NAMES, stack_features
    from hotspot_ml.stack_train import labelled_cases

    cases = [c for d in labels for c in labelled_cases(d)]
    share, compact = STACK_FEATURE_NAMES.index("u_sheets"), STACK_FEATURE_NAMES.index("u_materials")
    for c in tqdm(cases, desc="features"):
        f = stack_features(c["floorplan"], c["stack"], c["points"])
        c["faces"] = [{"table": table, "physics": physics, "peak": peak, "solved": solved,
                       "sheets_physics": physics + peak * (table[:, share] - table[:, compact]).reshape(physics.shape)}
                      for table, (_, physics), peak, solved in zip(f.tables, f.physics, f.peaks, c["solved"])]
    return cases


def cross_validate(cases: list[dict], folds: int, with_sheets: bool) -> list[dict]:
    """Per held-out face: model and physics max errors (fraction of the converged peak rise)
    and the model's residual."""
    from hotspot_ml.model import HotspotRegressor
    from hotspot_ml.stack_features import STACK_FEATURE_NAMES
    from hotspot_ml.stack_train import PARAMS, training_rows

    columns = len(STACK_FEATURE_NAMES) if with_sheets else STACK_FEATURE_NAMES.index("u_sheets")

    def table(face):
        return face["table"][:, :columns]

    out = []
    n = len(cases)
    for k in range(folds):
        held = range(k * n // folds, (k + 1) * n // folds)
        rng = np.random.default_rng(0)
        X, y = [], []
        for i in (i for i in range(n) if i not in held):
            for face in cases[i]["faces"]:
                rows = training_rows(face["solved"], rng)
                X.append(table(face)[rows])
                y.append(((face["solved"] - face["physics"]) / face["peak"]).ravel()[rows])
        regressor = HotspotRegressor(**PARAMS).fit(np.concatenate(X), np.concatenate(y))
        for i in held:
            for face in cases[i]["faces"]:
                model = face["physics"] + face["peak"] * regressor.predict(table(face)).reshape(face["physics"].shape)
                peak = face["solved"].max()
                out.append({"style": cases[i]["style"], "model": np.abs(model - face["solved"]).max() / peak,
                            "physics": np.abs(face["physics"] - face["solved"]).max() / peak,
                            "sheets_physics": np.abs(face["sheets_physics"] - face["solved"]).max() / peak,
                            "model_residual": (face["solved"] - model) / peak,
                            "physics_residual": (face["solved"] - face["physics"]) / peak})
    return out


def rough_and_smooth(residual: np.ndarray) -> tuple[float, float]:
    """Largest smooth (box-averaged) and rough (the rest) parts of a residual field."""
    from scipy.ndimage import uniform_filter

    smooth = uniform_filter(residual, SMOOTH_BOX, mode="nearest")
    return float(np.abs(smooth).max()), float(np.abs(residual - smooth).max())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", nargs="+", required=True)
    ap.add_argument("--folds", type=int, default=4)
    args = ap.parse_args(argv)
    start = time.perf_counter()
    cases = probe_cases(args.labels)
    print(f"{len(cases)} stacks, features and sheets in {time.perf_counter() - start:.0f} s")
    runs = {flag: cross_validate(cases, args.folds, flag) for flag in (False, True)}
    styles = sorted({c["style"] for c in cases})
    print("\nmedian over held-out faces, % of the peak rise: physics max | smooth | rough;"
          " model without the sheets' features max | smooth | rough")
    for style in styles:
        faces = [f for f in runs[False] if f["style"] == style]
        p = np.median([(f["physics"], *rough_and_smooth(f["physics_residual"])) for f in faces], axis=0)
        m = np.median([(f["model"], *rough_and_smooth(f["model_residual"])) for f in faces], axis=0)
        print(f"  {style:10s} {len(faces):4d} faces  physics {100 * p[0]:.2f} | {100 * p[1]:.2f} | {100 * p[2]:.2f}"
              f"   model {100 * m[0]:.2f} | {100 * m[1]:.2f} | {100 * m[2]:.2f}")
    print("\nmedian model/physics max error, without -> with the sheets' two features;"
          " physics' median max error, compact -> sheets' materials share")
    for style in [*styles, None]:
        rows = {flag: [f for f in r if style in (None, f["style"])] for flag, r in runs.items()}
        ratio = {flag: np.median([f["model"] / f["physics"] for f in r]) for flag, r in rows.items()}
        against_sheets = np.median([f["model"] / f["sheets_physics"] for f in rows[True]])
        print(f"  {style or 'all':10s} {ratio[False]:.3f} -> {ratio[True]:.3f}   physics "
              f"{100 * np.median([f['physics'] for f in rows[False]]):.2f} -> "
              f"{100 * np.median([f['sheets_physics'] for f in rows[False]]):.2f} %   "
              f"model with the sheets / that physics {against_sheets:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
