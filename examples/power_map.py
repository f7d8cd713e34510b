"""Power maps: a 256 x 256 map over ev6, meshed where the field needs it, not cell by cell.

Writes the map (watts per cell, ev6's block densities with cell-level noise) as ``map.npy``,
solves it on a mesh sized by the ``power`` method, on a uniform mesh and on a mesh that follows
every cell (``conform=True``), checks each against the exact solution, and writes the results.

    python examples/power_map.py [OUT_DIR]
"""
import sys
from pathlib import Path

import numpy as np

import thermal
from thermal.io import write_power_map
from thermal.physics.metrics import verify
from thermal.app.output import write_solution

HERE = Path(__file__).resolve().parent
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/power_map")
out.mkdir(parents=True, exist_ok=True)

# ev6's power density sampled at the centres of 256 x 256 cells, row 0 at the top of the die.
ev6 = thermal.read_hotspot(HERE / "ev6.flp", HERE / "gcc.ptrace")
n = 256
x0, y0, x1, y1 = ev6.die
xs, ys = np.linspace(x0, x1, n + 1), np.linspace(y1, y0, n + 1)
cx, cy = np.meshgrid(0.5 * (xs[1:] + xs[:-1]), 0.5 * (ys[1:] + ys[:-1]))
noise = np.random.default_rng(0).lognormal(0.0, 0.3, (n, n))
write_power_map(out / "map.npy", ev6.density_at(cx, cy) * (xs[1] - xs[0]) * (ys[0] - ys[1]) * noise)

floorplan, _ = thermal.read_floorplan(HERE / "ev6.flp", out / "map.npy")
floorplan.power_density  # the map's bands, built once on first use: not part of any run below
model = thermal.LumpedDie()
exact = thermal.SeriesSolution(floorplan, model)
print(f"{n} x {n} map, {floorplan.total_power:.2f} W, exact peak rise {exact.peak['rise']:.3f} K")
print(f"{'mesh':>24} {'elements':>9} {'max error %':>11} {'seconds':>8}")
runs = {"power, tol 1e-3": dict(mesh="power", tol=1e-3),
        "uniform 200": dict(mesh="uniform", resolution=200),
        "uniform 64, every cell": dict(mesh="uniform", resolution=64, conform=True)}
for label, options in runs.items():
    sol = thermal.solve(floorplan, model, **options)
    v = verify(sol, exact)
    print(f"{label:>24} {sol.mesh.t.shape[1]:>9,} {v['max_error_pct_of_peak_rise']:>11.3f} "
          f"{sol.timing['total_s']:>8.3f}")
    if label.startswith("power"):
        write_solution(sol, out / "power")
print(f"wrote {out / 'map.npy'} and {out / 'power'}/")
