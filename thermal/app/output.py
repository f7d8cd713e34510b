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
    from thermal.version import __version__

    fp = sol.floorplan
    x0, y0, x1, y1 = fp.die
    stack = _stack_results(sol)
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
        "error_estimate": sol.error_estimate,
        "hotspots": _hotspots(sol),
        **stack,
        **{k: v for k, v in sol.extra.items() if k != "predicted_hotspots"},
    }


def _stack_results(sol) -> dict:
    """For a stack: the peak of every power layer's face and the heat balance per face."""
    if not hasattr(sol, "faces"):
        return {}
    return {"layer_peaks": sol.layer_peaks(), "heat": sol.heat}


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
    """``layer,name,power,mean,max,min``: watts and kelvin per block of every power layer (the
    lumped die is layer 0), on the layer's junction-side face."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["layer", "name", "power", "mean", "max", "min"])
        for layer, fp, (mean, peak, low) in _block_tables(sol):
            w.writerows(zip([layer] * len(fp.names), fp.names, fp.block_power.round(12),
                            mean.round(6), peak.round(6), low.round(6)))


def _block_tables(sol):
    """(layer index, floorplan, (mean, max, min)) for each power layer's face."""
    if hasattr(sol, "faces"):
        return [(f.layer, f.floorplan, f.block_temperatures(sol.model.ambient)) for f in sol.faces]
    return [(0, sol.floorplan, sol.block_temperatures())]


def write_solution(sol, directory: str | Path, *, png: bool | str = True,
                   grid_steady: int | None = None) -> list[Path]:
    """Write all result files of ``sol`` into ``directory`` atomically; return their paths.

    ``temperature.vtu`` is the 3D field for a stack (wedges; ``layer`` and ``block`` per cell),
    the sheet for the lumped die; ``die.vtu`` the junction-side face of layer 0 (the sheet
    itself for the lumped die) and ``layer_<n>.vtu`` that of every other power layer ``n``;
    ``grid_steady``: HotSpot's ``.grid.steady`` of every layer on an N x N grid over the die.
    ``png``: ``temperature.png`` of the hottest power layer's face; ``"all"`` also
    ``layer_<n>.png`` of every other power layer.
    """
    from meshes.io import write_vtu
    from thermal.io.hotspot import write_steady

    names = ["result.json", "temperature.vtu", "die.vtu", "blocks.csv", "hotspot.steady"]
    with staged(directory) as stage:
        write_json(stage / "result.json", result_dict(sol))
        die_data = ({"temperature": sol.temperature, "rise": sol.rise},
                    {"block": sol.element_block.astype(np.int32)})
        write_vtu(stage / "die.vtu", sol.mesh, point_data=die_data[0], cell_data=die_data[1])
        if hasattr(sol, "faces"):
            _write_stack_vtu(stage / "temperature.vtu", sol)
            for face in sol.faces[1:]:
                name = f"layer_{face.layer}.vtu"
                block = face.floorplan.block_at(*face.mesh.p[:, face.mesh.t].mean(axis=1))
                write_vtu(stage / name, face.mesh,
                          point_data={"temperature": face.rise + sol.model.ambient, "rise": face.rise},
                          cell_data={"block": block.astype(np.int32)})
                names.append(name)
            steady_names, steady_values = sol.steady_nodes()
        else:
            write_vtu(stage / "temperature.vtu", sol.mesh, point_data=die_data[0], cell_data=die_data[1])
            steady_names, steady_values = sol.floorplan.names, sol.block_temperatures()[0]
        write_block_csv(stage / "blocks.csv", sol)
        write_steady(stage / "hotspot.steady", steady_names, steady_values)
        if grid_steady:
            from thermal.io.hotspot import write_grid_steady

            write_grid_steady(stage / "hotspot.grid.steady", _grid_layers(sol, grid_steady))
            names.append("hotspot.grid.steady")
        if png:
            names += _write_pictures(sol, stage, every=png == "all")
    return [Path(directory) / n for n in names]


def _write_pictures(sol, stage: Path, every: bool) -> list[str]:
    """``temperature.png`` of the hottest power layer's face (the die for the lumped model);
    with ``every``, ``layer_<n>.png`` of the others."""
    from thermal.app.plots import plot_temperature

    if not hasattr(sol, "faces"):
        plot_temperature(sol, stage / "temperature.png")
        return ["temperature.png"]
    hottest = max(range(len(sol.faces)), key=lambda i: sol.faces[i].rise.max())
    names = []
    for i, face in enumerate(sol.faces):
        if i != hottest and not every:
            continue
        name = "temperature.png" if i == hottest else f"layer_{face.layer}.png"
        title = None if len(sol.faces) == 1 else f"Power layer {face.layer} ({sol.model.layers[face.layer].name})"
        plot_temperature(sol.face_solution(i), stage / name, title=title)
        names.append(name)
    return names


def _write_stack_vtu(path: Path, sol) -> None:
    from meshes.io import write_wedges_vtu

    prisms = sol.prisms
    active = np.flatnonzero(prisms.active_nodes)
    renumber = np.full(prisms.n_nodes, -1)
    renumber[active] = np.arange(active.size)
    wedges = renumber[prisms.wedges]
    sub, tri = prisms.prisms
    from thermal.physics.stack_solver import regions

    layer_of_region = np.array([r.layer for r in regions(sol.model)])
    layer = layer_of_region[prisms.sublayer_region[sub]]
    block = np.full(sub.size, -1)
    plane = prisms.plane
    c = plane.p[:, plane.t].mean(axis=1)
    for n, l in enumerate(sol.model.layers):
        if l.floorplan is not None:
            here = layer == n
            block[here] = l.floorplan.block_at(c[0][tri[here]], c[1][tri[here]])
    rise = sol.rise3d[active]
    write_wedges_vtu(path, prisms.points()[active], wedges,
                     point_data={"temperature": rise + sol.model.ambient, "rise": rise},
                     cell_data={"layer": layer.astype(np.int32), "block": block.astype(np.int32)})


def _grid_layers(sol, n: int) -> list[np.ndarray]:
    """Every layer's temperature on an n x n grid of cell centres over the die, row 0 at the
    top (HotSpot's layout); the lumped die has one layer."""
    x0, y0, x1, y1 = sol.floorplan.die
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y1 - (np.arange(n) + 0.5) * (y1 - y0) / n
    if not hasattr(sol, "faces"):
        return [sol.locator.interpolate_grid(sol.rise, xs, ys[::-1])[::-1] + sol.model.ambient]
    return [grid[::-1] for grid in sol.layer_grids(xs, ys[::-1])]
