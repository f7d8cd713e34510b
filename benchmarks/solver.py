"""Assembly + solve time and peak memory on uniform ev6 meshes: the lumped die (2D, 1e4 to 1e6
elements) and HotSpot's package stack (3D prisms, 1e4 to 2e6).

Each size runs in its own subprocess so that its peak resident memory (``ru_maxrss`` of that
process, ``RUSAGE_SELF`` read in the child: the whole process, Python and imports included) is
its own. The 2D baseline in the same run is scikit-fem's quadrature assembly plus scipy's
``spsolve``.

The 3D table: HotSpot's built-in package (die, TIM, 30 mm spreader, 60 mm sink) around ev6,
the plane meshed uniformly over the die and graded out over the spreader and sink
(``thermal.physics.stack_solution.uniform_mesh``), extruded into prisms and solved by
``thermal.physics.stack_solution.solve_stack_on`` (line-multigrid CG); prisms, unknowns, levels, plane
mesh / extrusion / assembly / solve seconds, CG iterations, peak memory, energy balance.
Target: 1e6 prisms in <= 10 s and <= 4 GB.

    python benchmarks/solver.py            # both tables (about 2 minutes)
    python benchmarks/solver.py --quick    # 2D up to 1e5 elements, 3D up to about 5e5 prisms
    python benchmarks/solver.py --part 3d  # only the 3D table (2d: only the 2D one)

Writes benchmarks/results/solver.json (2D rows, as before) and solver_3d.json (3D rows).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESOLUTIONS = [70, 220, 700]  # about 1e4, 1e5 and 1e6 elements on ev6
#: Cells along the die for the stack's plane: about 1.2e4, 1e5, 5.5e5, 1e6 and 1.9e6 prisms
#: (18 levels) with HotSpot's package around ev6.
STACK_RESOLUTIONS = [10, 40, 100, 150, 200]
STACK_QUICK = 3
STACK_TARGET = {"prisms": 1e6, "seconds": 10.0, "GB": 4.0}


def run_one(resolution: int, method: str) -> dict:

    from meshes import init_uniform
    from thermal import LumpedDie, read_hotspot
    from thermal.physics.solver import ElementGeometry, assemble, heat_out, solve_linear

    fp = read_hotspot(ROOT / "examples/ev6.flp", ROOT / "examples/gcc.ptrace")
    model = LumpedDie()
    mesh = init_uniform(fp.domain(), resolution)
    start = time.perf_counter()
    if method == "thermesh":
        geometry = ElementGeometry.of(mesh)
        # The exact load of every element, from the block power (the mesh cuts the blocks).
        A, f = assemble(mesh, model, fp.power_moments(mesh.p, mesh.t), geometry)
        t_assemble = time.perf_counter() - start
        u, _ = solve_linear(A, f)
    else:
        from scipy.sparse.linalg import spsolve
        from skfem import Basis, BilinearForm, ElementTriP1, LinearForm
        from skfem.helpers import dot, grad

        kt, h = model.sheet_conductance, model.htc

        @BilinearForm
        def form(u, v, w):
            return kt * dot(grad(u), grad(v)) + h * u * v

        @LinearForm
        def load(v, w):
            # The density at the quadrature points: what quadrature gives (inexact where an
            # element straddles a block edge; the energy balance column shows it).
            return fp.density_at(*w.x) * v

        basis = Basis(mesh, ElementTriP1())
        A = form.assemble(basis)
        f = load.assemble(basis)
        t_assemble = time.perf_counter() - start
        u = spsolve(A.tocsc(), f)
        geometry = ElementGeometry.of(mesh)
    total = time.perf_counter() - start
    balance = abs(heat_out(mesh, model, u, geometry) - fp.total_power) / fp.total_power
    return {"method": method, "resolution": resolution, "elements": int(mesh.t.shape[1]),
            "assemble_s": t_assemble, "solve_s": total - t_assemble, "total_s": total,
            "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "energy_balance_rel": balance}


def run_stack(resolution: int) -> dict:
    """One uniform stack solve (in a child process: its peak RSS is this size's)."""
    from thermal import read_hotspot
    from thermal.geometry.stack import hotspot_package
    from thermal.physics.stack_solution import solve_stack_on, uniform_mesh

    fp = read_hotspot(ROOT / "examples/ev6.flp", ROOT / "examples/gcc.ptrace")
    stack = hotspot_package(floorplan=fp)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    plane = uniform_mesh(fp, stack, resolution)
    plane_s = time.perf_counter() - start
    sol = solve_stack_on(fp, stack, plane, {"method": "uniform", "resolution": resolution},
                         {"mesh_s": 0.0})
    total = time.perf_counter() - start
    info = sol.mesh_info
    return {"resolution": resolution, "plane_elements": info["plane_elements"],
            "levels": info["levels"], "prisms": info["prisms"], "unknowns": sol.heat["unknowns"],
            "active_unknowns": int(np.isfinite(sol.rise3d).sum()),
            "plane_mesh_s": plane_s, "extrude_s": sol.timing["mesh_s"],
            "assemble_s": sol.timing["assemble_s"], "solve_s": sol.timing["solve_s"],
            "total_s": total, "iterations": sol.solver.iterations, "solver": sol.solver.method,
            "residual": sol.solver.residual, "peak_K": sol.peak["temperature"],
            "energy_balance_rel": sol.energy_balance_rel,
            "rss_after_imports_MB": rss_before,
            "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(resolution: int, method: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(resolution), method],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_stack_table(rows: list[dict]) -> None:
    print(f"\nHotSpot's package around ev6, uniform plane meshes, prisms (target: "
          f"{STACK_TARGET['prisms']:.0e} prisms in <= {STACK_TARGET['seconds']:.0f} s and "
          f"<= {STACK_TARGET['GB']:.0f} GB):\n")
    print("| prisms | unknowns (active) | plane elements | levels | plane mesh s | extrude s | assemble s "
          "| solve s | total s | us/prism | CG iterations | peak MB (imports) | balance | peak K |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['prisms']:,} | {r['unknowns']:,} ({r['active_unknowns']:,}) | "
              f"{r['plane_elements']:,} | {r['levels']} | "
              f"{r['plane_mesh_s']:.3f} | {r['extrude_s']:.3f} | {r['assemble_s']:.3f} | "
              f"{r['solve_s']:.3f} | {r['total_s']:.3f} | {1e6 * r['total_s'] / r['prisms']:.2f} | "
              f"{r['iterations']} | {r['peak_rss_MB']:.0f} ({r['rss_after_imports_MB']:.0f}) | "
              f"{r['energy_balance_rel']:.1e} | {r['peak_K']:.3f} |")
    print("\nUnknowns: the matrix's rows, level-major over every plane node (nodes outside a "
          "layer's footprint are decoupled rows); active: those inside a footprint.")
    big = [r for r in rows if r["prisms"] >= 0.9 * STACK_TARGET["prisms"]]
    if big:
        r = min(big, key=lambda r: r["prisms"])
        met = (r["total_s"] <= STACK_TARGET["seconds"]
               and r["peak_rss_MB"] / 1024 <= STACK_TARGET["GB"])
        print(f"\n{r['prisms']:,} prisms: {r['total_s']:.2f} s (plane mesh to solution), "
              f"{r['peak_rss_MB'] / 1024:.2f} GB peak for the whole process: target "
              f"{'met' if met else 'NOT met'}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--part", choices=["2d", "3d", "all"], default="all")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.one[1] == "stack":
            print(json.dumps(run_stack(int(args.one[0]))))
        else:
            print(json.dumps(run_one(int(args.one[0]), args.one[1])))
        return
    sys.path.insert(0, str(ROOT))
    out = ROOT / "benchmarks/results"
    out.mkdir(parents=True, exist_ok=True)
    if args.part in ("2d", "all"):
        main_2d(args, out)
    if args.part in ("3d", "all"):
        stack_rows = [measure(res, "stack")
                      for res in (STACK_RESOLUTIONS[:STACK_QUICK] if args.quick else STACK_RESOLUTIONS)]
        print_stack_table(stack_rows)
        (out / "solver_3d.json").write_text(json.dumps(
            {"quick": args.quick, "target": STACK_TARGET,
             "memory": "ru_maxrss of the child process that ran the size (RUSAGE_SELF, whole process)",
             "rows": stack_rows}, indent=2))


def main_2d(args, out: Path) -> None:
    rows = []
    for res in RESOLUTIONS[:2] if args.quick else RESOLUTIONS:
        ours, base = measure(res, "thermesh"), measure(res, "skfem+spsolve")
        rows.append({"ours": ours, "baseline": base})
    print(f"{'elements':>10} {'assemble s':>10} {'solve s':>8} {'total s':>8} {'us/elem':>8} "
          f"{'peak MB':>8} {'balance':>8} | {'baseline s':>10} {'base MB':>8} {'speed-up':>8}")
    for r in rows:
        o, b = r["ours"], r["baseline"]
        print(f"{o['elements']:>10,} {o['assemble_s']:>10.3f} {o['solve_s']:>8.3f} {o['total_s']:>8.3f} "
              f"{1e6 * o['total_s'] / o['elements']:>8.2f} {o['peak_rss_MB']:>8.0f} "
              f"{o['energy_balance_rel']:>8.1e} | {b['total_s']:>10.3f} {b['peak_rss_MB']:>8.0f} "
              f"{b['total_s'] / o['total_s']:>7.1f}x")
    (out / "solver.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
