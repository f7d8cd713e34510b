"""Labels for learning stacks: generated packages and 3D stacks, each solved to convergence, with
the cheap physics beside every label.

``thermesh label-stacks --samples N --seed S --workers W --out DIR``:

1. ``N`` stacks from :func:`hotspot_ml.stacks.random_stack`, case ``i`` seeded by child ``i`` of
   ``SeedSequence(S)`` (so results do not depend on ``W``, and any case is drawn again from its
   seed alone: the files keep the seed, not the stack);
2. per case, in parallel (joblib, with a progress bar): the converged solve (the ``power`` mesh
   at ``--tol``, 2e-3 of the peak rise by default, with its second pass where blocks have
   their own material: without it a generated 3D stack's labels were 1.1 % of the peak rise
   off; its energy balance is recorded), the
   physics (:func:`hotspot_ml.physics.physics_prediction`) and the series alone
   (:func:`hotspot_ml.physics.series_prediction`), all on the same ``points`` x
   ``points`` grid over the die on every power layer's face (``points`` along the die's longer
   side, ``nx`` x ``ny`` in all);
3. ``DIR/labels.npz``: ``solved``, ``physics`` and ``series`` (cases x faces x points x points, K of rise,
   float32; a case's grid in ``[:ny, :nx]``, NaN elsewhere and for the faces a case has not),
   ``power_layers`` per case; ``DIR/cases.json``: per case its seed
   (entropy and spawn key), style, blocks, power layers, die and grid, peak rise, the physics'
   and the series' largest errors in % of the peak rise per face, solve time and mesh size. A case whose solve fails is listed
   with its error and has NaN labels.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

#: Grid points along each die side.
POINTS = 65
#: Relative tolerance of the converged solves.
LABEL_TOL = 2e-3
#: Most power layers a generated stack has (the labels' face axis).
MAX_FACES = 4


def label_stack(child: np.random.SeedSequence, index: int, points: int = POINTS,
                tol: float = LABEL_TOL, blocks: int | None = None) -> dict:
    """One generated stack, solved and predicted on its power layers' faces."""
    from hotspot_ml.physics import physics_prediction, series_prediction
    from hotspot_ml.stacks import random_stack
    from thermal.physics.adaptive import solve_power
    from thermal.threads import one_thread

    rng = np.random.default_rng(child)
    fp, stack = random_stack(rng, blocks=blocks)
    style = stack.source.split()[1]
    out = {"index": index, "entropy": str(child.entropy), "spawn_key": list(child.spawn_key),
           "style": style, "blocks": len(fp.names), "power_layers": len(stack.power_layers)}
    solved = np.full((MAX_FACES, points, points), np.nan, np.float32)
    physics = np.full((MAX_FACES, points, points), np.nan, np.float32)
    series = np.full((MAX_FACES, points, points), np.nan, np.float32)
    start = time.perf_counter()
    try:
        with one_thread("blas"):
            sol = solve_power(fp, stack, tol)
        out.update(solve_s=time.perf_counter() - start, prisms=int(sol.mesh_info.get("prisms", 0)),
                   energy_balance_rel=float(sol.energy_balance_rel))
        pred, cut = physics_prediction(fp, stack, points), series_prediction(fp, stack, points)
        errors, cut_errors = [], []
        ny, nx = pred.rise.shape  # points along the die's longer side
        out.update(nx=nx, ny=ny, die=[float(v) for v in fp.die])
        for i, ((_, rise), (_, plain)) in enumerate(zip(pred.layers, cut.layers)):
            face = sol.face_solution(i).rise_on_grid(pred.xs, pred.ys)
            solved[i, :ny, :nx], physics[i, :ny, :nx], series[i, :ny, :nx] = face, rise, plain
            errors.append(100 * float(np.abs(rise - face).max() / face.max()))
            cut_errors.append(100 * float(np.abs(plain - face).max() / face.max()))
        out.update(peak_rise=float(np.nanmax(solved)), physics_max_error_pct=errors,
                   series_max_error_pct=cut_errors)
    except Exception as exc:  # a case that cannot be solved is reported, not fatal to the run
        out.update(error=f"{exc.__class__.__name__}: {exc}")
    out["solved"], out["physics"], out["series"] = solved, physics, series
    return out


def label_stacks(samples: int, seed: int, out: str | Path, workers: int = 1, progress: bool = True,
                 points: int = POINTS, tol: float = LABEL_TOL, blocks: int | None = None) -> list[dict]:
    """Label ``samples`` generated stacks into ``out`` (see the module notes); the cases'
    records (``cases.json``)."""
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    children = np.random.SeedSequence(seed).spawn(samples)
    jobs = (delayed(label_stack)(children[i], i, points, tol, blocks) for i in range(samples))
    cases = list(tqdm(Parallel(n_jobs=workers, return_as="generator")(jobs), total=samples,
                      desc="labelling stacks", disable=not progress))
    cases.sort(key=lambda c: c["index"])
    arrays = {"solved": np.stack([c.pop("solved") for c in cases]),
              "physics": np.stack([c.pop("physics") for c in cases]),
              "series": np.stack([c.pop("series") for c in cases]),
              "power_layers": np.array([c["power_layers"] for c in cases], np.int8)}
    tmp = out / "labels.npz.partial"
    with open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    tmp.replace(out / "labels.npz")
    doc = {"format": "thermesh-stack-labels", "version": 1, "seed": seed, "samples": samples,
           "points": points, "tol": tol, "blocks": blocks, "cases": cases}
    (out / "cases.json").write_text(json.dumps(doc, indent=1) + "\n")
    return cases


def main_label_stacks(args) -> int:
    start = time.perf_counter()
    cases = label_stacks(args.samples, args.seed, args.out, workers=args.workers, tol=args.tol)
    ok = [c for c in cases if "error" not in c]
    errors = [e for c in ok for e in c["physics_max_error_pct"]]
    print(f"labelled {len(ok)} of {len(cases)} stacks in {time.perf_counter() - start:.1f} s"
          + (f"; the physics' max error: median {np.median(errors):.1f} % of the peak rise over "
             f"{len(errors)} power layers" if errors else ""))
    for c in cases:
        if "error" in c:
            print(f"  case {c['index']} ({c['style']}): {c['error']}")
    print(f"  wrote {Path(args.out) / 'labels.npz'} and {Path(args.out) / 'cases.json'}")
    return 0
