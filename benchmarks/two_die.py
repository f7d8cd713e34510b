"""The mesh methods on a stack with a block of its own material: examples/package/two_die.lcf
(two dies, a TSV bundle of k 80 in an underfill of 0.5 between them, HotSpot's package).

No exact answer exists there, so the judge is a uniform mesh of 320 cells along the die (about
0.26 % off itself: its differences halve per refinement, first order, at the bundle's corners).
Each method at two tolerances: its elements and its largest error on every power layer's face,
in % of the peak rise, on a 401 x 401 grid. One run each; times are printed but this is an
accuracy benchmark (the judge alone takes minutes).

    python benchmarks/two_die.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PACKAGE = ROOT / "examples" / "package"
TOLERANCES = (5e-3, 2e-3)
METHODS = ("power", "coarse", "adaptive")


def main() -> int:
    from thermal import solve
    from thermal.io.hotspot_config import read_hotspot_config, read_materials
    from thermal.io.lcf import read_lcf

    stack = read_lcf(PACKAGE / "two_die.lcf", PACKAGE / "two_die.ptrace",
                     read_materials(PACKAGE / "hotspot.materials"), read_hotspot_config(PACKAGE / "hotspot.config"))
    fp = stack.layers[stack.power_layers[0]].floorplan
    x0, y0, x1, y1 = fp.die
    xs, ys = np.linspace(x0, x1, 401), np.linspace(y0, y1, 401)
    start = time.perf_counter()
    judge = solve(fp, stack, mesh="uniform", resolution=320)
    faces = [judge.face_solution(i).rise_on_grid(xs, ys) for i in range(len(stack.power_layers))]
    peak = max(f.max() for f in faces)
    print(f"judge: uniform 320, {judge.mesh.t.shape[1]:,} triangles, {time.perf_counter() - start:.0f} s\n")
    print("| method | tol | triangles | max error % of peak rise | solves | s |")
    print("|---|---:|---:|---:|---:|---:|")
    for method in METHODS:
        for tol in TOLERANCES:
            sol = solve(fp, stack, mesh=method, tol=tol)
            error = max(np.abs(sol.face_solution(i).rise_on_grid(xs, ys) - face).max()
                        for i, face in enumerate(faces))
            print(f"| {method} | {tol:g} | {sol.mesh.t.shape[1]:,} | {100 * error / peak:.3f} | "
                  f"{sol.mesh_info['solves']} | {sol.timing['total_s']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
