"""Assembly + solve time and peak memory on uniform ev6 meshes, 1e4 to 1e6 elements.

Each size runs in its own subprocess so that its peak resident memory (ru_maxrss) is its own.
The baseline in the same run is scikit-fem's quadrature assembly plus scipy's ``spsolve``.

    python benchmarks/solver.py            # full table (about 1 minute)
    python benchmarks/solver.py --quick    # up to 1e5 elements
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESOLUTIONS = [70, 220, 700]  # about 1e4, 1e5 and 1e6 elements on ev6


def run_one(resolution: int, method: str) -> dict:

    from meshes import init_uniform
    from thermal import LumpedDie, read_hotspot
    from thermal.solver import ElementGeometry, assemble, heat_out, solve_linear

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


def measure(resolution: int, method: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(resolution), method],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(int(args.one[0]), args.one[1])))
        return
    sys.path.insert(0, str(ROOT))
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
    out = ROOT / "benchmarks/results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "solver.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
