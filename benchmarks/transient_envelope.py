"""Where one mesh for a whole trace (the envelope of its rows) stops paying off: plane elements
of the transient's mesh for ev6 under HotSpot's package at tol 5e-3, against the mesh one row
needs and a uniform mesh of the same accuracy.

Traces (all from gcc.ptrace's rows): the mean row alone (a steady solve's mesh); gcc.ptrace
itself (its hot units stay hot: the envelope is the mean row's hotspots a little hotter);
"bursts": each block in turn at ``--burst`` times its mean power for one row (a hotspot that
visits every block: the envelope is every block hot at once). The uniform mesh is the
resolution that holds the die face's error to 0.5 % of the peak rise on ev6 (200, README's
accuracy table). Meshing only, no solves; prints a Markdown table.

    python benchmarks/transient_envelope.py [--burst 4]
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
    from thermal.app.transient import trace_sources, transient_mesh
    from thermal.io.hotspot import read_hotspot, read_ptrace
    from thermal.app.simulate import bind

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--burst", type=float, default=4.0)
    ap.add_argument("--tol", type=float, default=5e-3)
    ap.add_argument("--resolution", type=int, default=200)
    args = ap.parse_args(argv)
    fp = read_hotspot(ROOT / "examples" / "ev6.flp", ROOT / "examples" / "gcc.ptrace")
    model = bind(fp, None)
    names = [n for _, n in trace_sources(model, fp)]
    rows = read_ptrace(ROOT / "examples" / "gcc.ptrace", names).rows
    mean = rows.mean(axis=0)
    bursts = np.repeat(mean[None, :], len(names), axis=0)
    bursts[np.arange(len(names)), np.arange(len(names))] *= args.burst
    sources = trace_sources(model, fp)
    traces = {"mean row only (one steady solve)": mean[None, :], "gcc.ptrace (100 rows)": rows,
              f"bursts: each block in turn at {args.burst:g}x its mean": bursts}
    print("| trace | mesh | plane elements | x the mean row's | meshing s |")
    print("|---|---|---:|---:|---:|")
    base = None
    for label, trace in traces.items():
        start = time.perf_counter()
        plane, _ = transient_mesh(fp, model, trace, sources, mesh="power", tol=args.tol, resolution=0)
        seconds = time.perf_counter() - start
        n = plane.t.shape[1]
        base = base or n
        print(f"| {label} | power, tol {args.tol:g} | {n} | {n / base:.2f} | {seconds:.2f} |")
    own = [transient_mesh(fp, model, row[None, :], sources, mesh="power", tol=args.tol,
                          resolution=0)[0].t.shape[1] for row in bursts]
    print(f"| each burst row alone (its own mesh) | power, tol {args.tol:g} | {min(own)}-{max(own)} "
          f"| {min(own) / base:.2f}-{max(own) / base:.2f} | |")
    plane, _ = transient_mesh(fp, model, rows, sources, mesh="uniform", tol=args.tol, resolution=args.resolution)
    n = plane.t.shape[1]
    print(f"| any | uniform {args.resolution} | {n} | {n / base:.2f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
