"""Write a solution to disk: JSON for programs, VTU for ParaView, PNG for people, CSV for pandas and
HotSpot's ``.steady`` block format for existing HotSpot scripts.

Every file is first written to a staging folder beside the destination and moved into place only
once all of them succeeded, so an error never leaves partial output.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

UNITS = {"length": "m", "temperature": "K", "power": "W", "time": "s",
         "conductivity": "W/(m K)", "htc": "W/(m^2 K)"}


@contextmanager
def staged(directory: str | Path):
    """Yield a staging folder; on success move its files into ``directory``, else delete it."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{directory.name}.partial-", dir=directory.parent))
    try:
        yield stage
        directory.mkdir(exist_ok=True)
        for item in sorted(stage.iterdir()):
            target = directory / item.name
            if target.is_dir() and not target.is_symlink():
                # A folder (e.g. figures/) replaces the one of an earlier run: os.replace cannot
                # move a directory onto a non-empty one.
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def result_dict(sol) -> dict:
    """Every number of a solution that ``result.json`` records."""
    from thermal import __version__

    from thermal.estimate import error_estimate

    fp = sol.floorplan
    x0, y0, x1, y1 = fp.die
    return {
        "thermesh_version": __version__,
        "units": UNITS,
        "inputs": {"floorplan": fp.source, "power": fp.power_source},
        "parameters": sol.model.as_dict(),
        "die": {"x0": x0, "y0": y0, "width": x1 - x0, "height": y1 - y0},
        "blocks": len(fp.names),
        "total_power": fp.total_power,
        "snapping": fp.snap.as_dict(),
        "mesh": sol.mesh_info,
        "timing": sol.timing,
        "solver": sol.solver.as_dict(),
        "peak": sol.peak,
        "energy_balance_rel": sol.energy_balance_rel,
        "error_estimate": error_estimate(sol),
        "hotspots": _hotspots(sol),
        **{k: v for k, v in sol.extra.items() if k != "predicted_hotspots"},
    }


def _hotspots(sol) -> dict:
    """The solved field's hotspots, and the predicted ones when the ML model placed the mesh."""
    found = {"solved": sol.hotspots()}
    if "predicted_hotspots" in sol.extra:
        found["predicted"] = sol.extra["predicted_hotspots"]
    return found


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, default=_to_builtin) + "\n")


def _to_builtin(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_block_csv(path: Path, sol) -> None:
    mean, peak = sol.block_temperatures()
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "power_W", "mean_temperature_K", "max_temperature_K"])
        w.writerows(zip(sol.floorplan.names, sol.floorplan.block_power.round(12),
                        mean.round(6), peak.round(6)))


def write_solution(sol, directory: str | Path, *, png: bool = True) -> list[Path]:
    """Write all result files of ``sol`` into ``directory`` atomically; return their paths."""
    from meshes.io import write_vtu
    from thermal.io.hotspot import write_steady

    names = ["result.json", "temperature.vtu", "blocks.csv", "hotspot.steady"]
    with staged(directory) as stage:
        write_json(stage / "result.json", result_dict(sol))
        write_vtu(stage / "temperature.vtu", sol.mesh,
                  point_data={"temperature": sol.temperature, "rise": sol.rise},
                  cell_data={"block": sol.element_block.astype(np.int32)})
        write_block_csv(stage / "blocks.csv", sol)
        mean, _ = sol.block_temperatures()
        write_steady(stage / "hotspot.steady", sol.floorplan.names, mean)
        if png:
            from thermal.plots import plot_temperature

            plot_temperature(sol, stage / "temperature.png")
            names.append("temperature.png")
    return [Path(directory) / n for n in names]
