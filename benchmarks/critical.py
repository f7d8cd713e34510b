"""``--critical``: a block next to a hot unit held to 0.02 K, against a global tolerance of
0.02 K, on ev6 (the lumped die, whose exact answer is known).

For blocks beside the hot integer register file (IntExec, IntQ, LdStQ) and the methods
``power`` and ``amr``: the method at tol 1e-3 with ``--critical BLOCK --critical-tol 0.02``,
against the same method at the global tolerance 0.02 K / peak rise. Per run: elements, the
block's actual max error (nodes in the block against the exact series), its estimate, and the
time (in-process). Prints a Markdown table.

    python benchmarks/critical.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BLOCKS = ("IntExec", "IntQ", "LdStQ")
TOL_K = 0.02


def main() -> int:
    from thermal.app.simulate import solve
    from thermal.exact.series import SeriesSolution
    from thermal.geometry.lumped import LumpedDie
    from thermal.io.hotspot import read_hotspot

    fp = read_hotspot(ROOT / "examples" / "ev6.flp", ROOT / "examples" / "gcc.ptrace")
    model = LumpedDie()
    exact = SeriesSolution(fp, model)
    peak = exact.peak["rise"]

    def block_error(sol, name):
        nodes = fp.block_at(sol.mesh.p[0], sol.mesh.p[1]) == fp.names.index(name)
        x, y = sol.mesh.p[0, nodes], sol.mesh.p[1, nodes]
        return float(np.abs(sol.rise[nodes] - exact.rise_at(x, y)).max())

    print(f"ev6, lumped die, peak rise {peak:.2f} K; global tolerance {TOL_K} K = {TOL_K / peak:.2e} of it\n")
    print("| block | method | critical: elements | error K (estimate) | s | global: elements | error K | s | elements ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in BLOCKS:
        for method in ("power", "amr"):
            start = time.perf_counter()
            crit = solve(fp, model, mesh=method, tol=1e-3, critical=[name], critical_tol=TOL_K)
            t_crit = time.perf_counter() - start
            start = time.perf_counter()
            whole = solve(fp, model, mesh=method, tol=TOL_K / peak)
            t_whole = time.perf_counter() - start
            n_crit, n_whole = crit.mesh.t.shape[1], whole.mesh.t.shape[1]
            est = crit.extra["critical"]["blocks"][0]["estimated_error_K"]
            print(f"| {name} | {method} | {n_crit:,} | {block_error(crit, name):.4f} ({est:.4f}) | {t_crit:.2f} | "
                  f"{n_whole:,} | {block_error(whole, name):.4f} | {t_whole:.2f} | {n_crit / n_whole:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
