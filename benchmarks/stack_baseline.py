"""The cheap physics on generated packages and 3D stacks, against converged solves: the
baseline a hotspot model for stacks must beat (issue 14).

Cases from :func:`hotspot_ml.stacks.random_stack` (seeded; ``--per-style`` of each style,
40-300 blocks a die). Per case and power layer: the physics prediction
(:func:`hotspot_ml.physics.physics_prediction`: the exact series of the stack's equal-footprint,
homogeneous cut plus the compact model's corrections for the package and the block materials)
and that series alone, against the converged solve (``power`` at ``--tol``, 2e-3 by default,
itself within ~0.1 % of the peak rise on the stacks measured) on the prediction's 129 x 129 grid:
the largest error in % of the layer's peak rise (physics, and the series alone), how far the
physics' peak is from the solved one (mm), and whether its point is within 1 % of the peak rise
there.
Prints a Markdown table and the medians.

    python benchmarks/stack_baseline.py [--per-style 3] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    from hotspot_ml.physics import stack_physics
    from hotspot_ml.stacks import STACK_STYLES, random_stack
    from thermal.app.simulate import solve
    from thermal.threads import one_thread

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-style", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=2e-3)
    args = ap.parse_args(argv)
    rows = []
    seeds = np.random.SeedSequence(args.seed).spawn(args.per_style * len(STACK_STYLES))
    print("| case | style | power layers | layer | peak rise K | physics max error % | series alone % | peak apart mm | peak point within 1 % | solve s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for k, seq in enumerate(seeds):
        style = STACK_STYLES[k % len(STACK_STYLES)]
        rng = np.random.default_rng(seq)
        fp, stack = random_stack(rng, style, blocks=int(rng.integers(40, 301)))
        start = time.perf_counter()
        with one_thread("blas"):
            sol = solve(fp, stack, mesh="power", tol=args.tol)
        seconds = time.perf_counter() - start
        parts = stack_physics(fp, stack, 129)
        pred = parts.physics
        xs, ys = pred.xs, pred.ys
        for i, ((layer, rise), (_, cut)) in enumerate(zip(pred.layers, parts.series.layers)):
            solved = sol.face_solution(i).rise_on_grid(xs, ys)
            top = float(solved.max())
            error = 100 * float(np.abs(rise - solved).max()) / top
            cut_error = 100 * float(np.abs(cut - solved).max()) / top
            jp, ip = np.unravel_index(np.argmax(rise), rise.shape)
            js, is_ = np.unravel_index(np.argmax(solved), solved.shape)
            apart = 1e3 * float(np.hypot(xs[ip] - xs[is_], ys[jp] - ys[js]))
            close = bool(solved[jp, ip] >= 0.99 * top)
            rows.append((style, error, apart, close, cut_error))
            print(f"| {k} | {style} | {len(pred.layers)} | {layer} | {top:.1f} | {error:.2f} | {cut_error:.2f} | {apart:.2f} | "
                  f"{'yes' if apart <= 0.5 or close else 'no'} | {seconds:.1f} |", flush=True)
    errors = np.array([r[1] for r in rows])
    right = np.mean([r[2] <= 0.5 or r[3] for r in rows])
    print(f"\n{len(rows)} power layers of {len(seeds)} stacks: physics max error median {np.median(errors):.2f} % "
          f"of the peak rise (range {errors.min():.2f}-{errors.max():.2f} %); peak right (within 0.5 mm, or "
          f"at a point within 1 % of the peak rise) on {100 * right:.0f} % of power layers; the series alone: "
          f"median {np.median([r[4] for r in rows]):.2f} %.")
    for style in STACK_STYLES:
        e = np.array([r[1] for r in rows if r[0] == style])
        c = np.array([r[4] for r in rows if r[0] == style])
        print(f"- {style}: median {np.median(e):.2f} %, max {e.max():.2f} % ({e.size} layers); "
              f"series alone median {np.median(c):.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
