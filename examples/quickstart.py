"""Quickstart: solve HotSpot's ev6 example, check it against the exact solution, write results.

    python examples/quickstart.py [OUT_DIR]
"""
import sys
from pathlib import Path

import thermal
from thermal.physics.metrics import verify
from thermal.app.output import write_solution

HERE = Path(__file__).resolve().parent
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/quickstart")

floorplan = thermal.read_hotspot(HERE / "ev6.flp", HERE / "gcc.ptrace")
model = thermal.LumpedDie()  # k = 100 W/(m K), t = 0.15 mm, h = 1e4 W/(m^2 K), 318.15 K
exact = thermal.SeriesSolution(floorplan, model)
print(f"{len(floorplan.names)} blocks, {floorplan.total_power:.2f} W, "
      f"exact peak rise {exact.peak['rise']:.3f} K")
print(f"{'resolution':>10} {'elements':>9} {'peak K':>9} {'max error K':>11} {'% of peak rise':>14}")
for resolution in (25, 50, 100, 200, 400):
    sol = thermal.solve(floorplan, model, mesh="uniform", resolution=resolution)
    v = verify(sol, exact)
    print(f"{resolution:>10} {sol.mesh.t.shape[1]:>9,} {sol.peak['temperature']:>9.3f} "
          f"{v['max_error_K']:>11.4f} {v['max_error_pct_of_peak_rise']:>14.3f}")

# Query anywhere, vectorised: the temperature along the die's top edge.
x = [0.002, 0.008, 0.0101, 0.014]
print("T along y = 16 mm:", sol.temperature_at(x, [0.016] * 4).round(2))
write_solution(sol, out)
print(f"wrote {sorted(p.name for p in out.iterdir())} to {out}")
