"""The transient integrators against the exact transient, one run: the lumped die and an
equal-footprint stack under 60 rows of 1 ms that switch a small die's hot units every 5 rows,
on a uniform mesh (64) and the power and adaptive meshes (tol 5e-3), started from the ambient.

Per case: the largest error over every row and the die face (the exact series on a 61 x 46 grid,
the solution interpolated there), and of the peak alone, in % of the largest peak rise of the
exact answer; the run's time (mesh, set-up and integration, in-process); and for the reduced
integrator its own error estimate. Prints a Markdown table.

    python benchmarks/transient_exact.py [--substeps 4]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROWS = 60


def main(argv=None) -> int:
    from meshes.locate import PointLocator
    from tests.thermal.app.test_transient_exact import switching_rows
    from tests.thermal.physics.test_stack_solver import small_floorplan, three_layers
    from thermal.app.transient import prepare_transient
    from thermal.exact.transient import TransientSeries
    from thermal.geometry.lumped import LumpedDie

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--substeps", type=int, default=4, help="TR-BDF2 steps per row")
    args = ap.parse_args(argv)
    rows, fp = switching_rows(ROWS), small_floorplan()
    cases = [("uniform", {"resolution": 64}), ("power", {"tol": 5e-3}), ("adaptive", {"tol": 5e-3})]
    table = {}
    for name in ("lumped", "stack"):
        model = LumpedDie(htc=2e4) if name == "lumped" else three_layers().bound_to(fp)
        exact = TransientSeries(fp, model, rows, 1e-3, initial="ambient", modes=(96, 96))
        grids = [exact.rise_on_grid(r, 61, 46) for r in range(ROWS)]
        largest = max(u.max() for _, _, u in grids)
        for integrator in ("reduced", "trbdf2"):
            for mesh, options in cases:
                start = time.perf_counter()
                run = prepare_transient(fp, model, rows, 1e-3, mesh=mesh, init="ambient",
                                        integrator=integrator, substeps=args.substeps, **options)
                saved = {}

                def keep(first, states):
                    for k, state in enumerate(states):
                        saved[first + k] = run.temperature(state)

                run.advance(rows, keep)
                seconds = time.perf_counter() - start
                locator = PointLocator(run.faces.meshes[0])
                worst = peak = 0.0
                for r, (x, y, u) in enumerate(grids):
                    face = saved[r][run.faces.nodes[0]]
                    worst = max(worst, np.abs(locator.interpolate_grid(face, x, y) - u).max())
                    peak = max(peak, abs(face.max() - u.max()))
                estimate = run.integrator.info.get("estimated_error_rel")
                table[integrator, name, mesh] = (100 * worst / largest, 100 * peak / largest, seconds, estimate)
                print(f"  {integrator} {name} {mesh}: {100 * worst / largest:.3f} %, {seconds:.2f} s",
                      file=sys.stderr, flush=True)
    print(f"| integrator | {' | '.join(f'{n}, {m}' for n in ('lumped', 'stack') for m, _ in cases)} |")
    print("|---|" + "---:|" * (2 * len(cases)))
    for integrator, label in (("reduced", "reduced (default)"), ("trbdf2", f"TR-BDF2, {args.substeps} sub-steps")):
        cells = []
        for name in ("lumped", "stack"):
            for mesh, _ in cases:
                worst, peak, seconds, estimate = table[integrator, name, mesh]
                est = f", estimate {100 * estimate:.2f}" if estimate is not None else ""
                cells.append(f"{worst:.2f} (peak {peak:.2f}{est}), {seconds:.1f} s")
        print(f"| {label} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
