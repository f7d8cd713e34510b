"""thermesh against HotSpot 7.0, side by side on this machine in one run (steady state).

What is measured (wall times by ``time.perf_counter`` around whole subprocesses: HotSpot's binary,
and thermesh's command line ``python -m thermal solve ...`` so that start-up, imports, reading
and writing every output file count; the in-process solves give the layer averages, on the same
meshes, and are checked against the command line's peak):

Part 1 -- ev6 in HotSpot's example2 package (``example.config``, ``example.materials``, silicon
k = 130, aluminium spreader and sink): HotSpot's multigrid build at grids 64, 128, 256 (and 512
without ``--quick``) and its SuperLU build at 128; thermesh's command line with ``--package`` and
``--materials`` at its defaults and at ``--mesh adaptive --tol 1e-3``; a converged thermesh
reference in-process (``power`` mesh, tol 2e-4; its error is bounded by the difference from
tol 4e-4, reported). Per method: die layer-average mean (the area mean of the die's
through-thickness average, what HotSpot's one node per layer means), hottest block (layer-average
mean, HotSpot's ``.steady``), peak of the layer average (HotSpot: its hottest cell), peak of the
die's junction face (thermesh), and the errors against the reference (HotSpot's cells against
the reference's layer average at the cell centres).

Part 2 -- the equal-footprint ev6 stack (every layer cut to the die,
``thermal.geometry.stack.equal_footprint``), which has an exact series solution
(``thermal.exact.series.SeriesSolution``, rtol 1e-5): thermesh ``power`` and ``adaptive`` at tol 1e-3
in-process, and as a command-line run through a thermesh TOML stack file written here; max
error against the series in % of the peak rise; HotSpot's multigrid build on the same package
with ``s_spreader = s_sink`` = the die side (+1e-3: exactly equal gives NaN,
``hotspot_runner.write_equal_footprint_config``) at 128 (and 512 without ``--quick``), against
the series evaluated at HotSpot's cell centres. The series gives the junction face, HotSpot a
layer average: both comparisons are made (face as is, and face + thermesh's own average-minus-
face correction), and the face-vs-average difference is quantified. The ratio reported is
HotSpot's largest grid's wall time over thermesh's whole command-line wall time at 0.1 %.

Part 3 -- HotSpot's example3 (a 3D stack in an LCF: two power layers, each with a TIM, then
the spreader and sink) with the SuperLU build and ``-detailed_3D on`` at 64 and 128, against
thermesh ``--lcf`` (``--package``, ``--materials``): area mean and peak of each power layer
(LCF layers 0 and 2), layer averages and faces, and wall times. Diagnosis rows: HotSpot
without ``-detailed_3D`` and both modes with ``r_convec`` 100x smaller, next to thermesh with the
same r_convec (HotSpot's detailed mode puts half of the sink's vertical resistance, its
convection share included, between spreader and sink as well as under the sink).

Part 4 -- HotSpot's secondary heat path: example2's config with ``-model_secondary 1`` (written
into the work folder, every other key kept), i.e. PCB, solder, substrate, C4 and metal above the
die, the PCB's face convecting through r_convec_sec. HotSpot (grid model only) with its multigrid
build at 64 and 128 and its SuperLU build at 64 (and 128 without ``--quick``); thermesh's command
line at its defaults and the converged in-process reference (as in part 1). Per method: the die's
mean, hottest block and peak, the metal, C4, substrate and PCB means over the die's footprint,
and the heat through the board (thermesh: ``heat["heat_out_W"]["top"]``; HotSpot: from its PCB
temperatures and its conductances to ambient, ``hotspot_heat_out``, checked by its sink + board
heat balance). The effect of the path (``-model_secondary`` 1 minus 0, die mean and peak) per
model, and a diagnosis with r_convec_sec 1e4x larger (the layers without the board's heat).

    python benchmarks/vs_hotspot.py            # everything (HotSpot's 512 grids: several minutes)
    python benchmarks/vs_hotspot.py --quick    # no 512 grids, a lighter reference
    python benchmarks/vs_hotspot.py --parts 4 --out /tmp/vs_hotspot_part4.json   # part 4 alone

HotSpot is built into /tmp by ``benchmarks/hotspot_runner.py`` (reused when present). Writes
benchmarks/results/vs_hotspot.json and prints Markdown tables. Times vary with the machine's
load (recorded); only ratios within one run are meaningful.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import hotspot_runner as hs

EX2, EX3 = hs.EXAMPLES / "example2", hs.EXAMPLES / "example3"
EV6 = {"config": EX2 / "example.config", "flp": EX2 / "ev6.flp", "ptrace": EX2 / "gcc.ptrace",
       "materials": EX2 / "example.materials"}
LCF3 = {"config": EX3 / "example.config", "ptrace": EX3 / "example.ptrace",
        "materials": EX3 / "example.materials", "lcf": EX3 / "example.lcf"}
#: thermesh command-line settings compared: (label, extra arguments).
CLI_SETTINGS = [("default (adaptive, tol 5e-3)", []),
                ("adaptive, tol 1e-3", ["--mesh", "adaptive", "--tol", "1e-3"])]
#: The converged reference (power mesh) and the tolerance it is checked against.
REF_TOLS = {"full": (2e-4, 4e-4), "quick": (5e-4, 1e-3)}
EQ_TOL = 1e-3
#: Grid of cell centres on which thermesh fields are compared with one another.
COMPARE_CELLS = 512
LCF_TARGET_K = 1.0
RATIO_TARGET = 20.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ thermesh side
def run_cli(args: list[str], out: Path) -> dict:
    """``python -m thermal solve ...`` in a subprocess: wall time and what it wrote."""
    cmd = [sys.executable, "-m", "thermal", "solve", *map(str, args), "--out", str(out)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    result = json.loads((out / "result.json").read_text())
    with open(out / "blocks.csv") as fh:
        blocks = list(csv.DictReader(fh))
    steady = hs.read_steady(out / "hotspot.steady")
    return {"wall_s": wall, "command": " ".join(cmd[1:]), "total_s": result["timing"]["total_s"],
            "peak_K": result["peak"]["temperature"], "layer_peaks": result.get("layer_peaks"),
            "mesh": {k: result["mesh"].get(k) for k in ("method", "tol", "elements",
                                                        "plane_elements", "levels", "prisms")},
            "blocks": blocks, "steady": steady}


def cell_centres(die, n: int) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = die
    return (x0 + (np.arange(n) + 0.5) * (x1 - x0) / n, y0 + (np.arange(n) + 0.5) * (y1 - y0) / n)


class Summary:
    """Layer averages and faces of a solved stack over the die (computed once)."""

    def __init__(self, sol):
        self.sol = sol
        self.ambient = sol.model.ambient
        self.averages = sol.layer_averages()
        plane = sol.prisms.plane
        die_face = sol.faces[0]
        self.tris = plane.t[:, die_face.plane_elements]  # plane nodes of the die's triangles
        self.area = die_face.area
        self.nodes = np.unique(self.tris)
        self.names, self.steady = sol.steady_nodes()
        self._grids = {}

    def layer_mean(self, layer: int) -> float:
        """Area mean over the die of the layer's through-thickness average (P1: exact)."""
        v = self.averages[layer][self.tris].mean(axis=0)
        return float((v * self.area).sum() / self.area.sum())

    def layer_peak(self, layer: int) -> float:
        return float(self.averages[layer][self.nodes].max())

    def face(self, layer: int):
        return next(f for f in self.sol.faces if f.layer == layer)

    def face_mean(self, layer: int) -> float:
        f = self.face(layer)
        return float((f.rise[f.mesh.t].mean(axis=0) * f.area).sum() / f.area.sum() + self.ambient)

    def face_peak(self, layer: int) -> float:
        return float(self.face(layer).rise.max() + self.ambient)

    def hottest_block(self, prefix: str, names) -> tuple[str, float]:
        """Hottest block of one layer by its layer-averaged mean (HotSpot's .steady naming)."""
        vals = {n: v for n, v in zip(self.names, self.steady) if n[len(prefix):] in names
                and n.startswith(prefix)}
        name = max(vals, key=vals.get)
        return name, float(vals[name])

    def block(self, name: str) -> float:
        return float(self.steady[self.names.index(name)])

    def face_hottest_block(self, layer: int) -> tuple[str, float]:
        f = self.face(layer)
        mean = f.block_temperatures(self.ambient)[0]
        i = int(np.argmax(mean))
        return f.floorplan.names[i], float(mean[i])

    def grid(self, n: int) -> list[np.ndarray]:
        """Every layer's average at the centres of an n x n grid over the die, row 0 at the
        BOTTOM (flip HotSpot's grids to compare)."""
        if n not in self._grids:
            self._grids[n] = self.sol.layer_grids(*cell_centres(self.sol.floorplan.die, n))
        return self._grids[n]

    def face_grid(self, n: int) -> np.ndarray:
        return self.sol.rise_on_grid(*cell_centres(self.sol.floorplan.die, n)) + self.ambient


def thermesh_in_process(fp, stack, mesh: str, tol: float):
    import thermal

    start = time.perf_counter()
    sol = thermal.solve(fp, stack, mesh=mesh, tol=tol)
    return sol, time.perf_counter() - start


# ------------------------------------------------------------------------------- HotSpot side
def hotspot(binary, label: str, work: Path, **kw) -> dict:
    res = hs.run(binary, workdir=work / label, **kw)
    log(f"  HotSpot {label}: {res['wall_s']:.2f} s")
    return res


def hotspot_layer(res: dict, n: int, names, prefix: str = "") -> dict:
    grid = res["grid"][n]
    blocks = {k[len(prefix):]: v for k, v in res["steady"].items()
              if k.startswith(prefix) and k[len(prefix):] in names}
    hot = max(blocks, key=blocks.get)
    return {"mean_K": float(grid.mean()), "peak_K": float(grid.max()),
            "hottest_block": prefix + hot, "hottest_block_K": float(blocks[hot]),
            "grid_bottom_first": grid[::-1]}


# ------------------------------------------------------------------------------------ part 1
def part1(args, work: Path, mg, slu) -> dict:
    from thermal import read_hotspot
    from thermal.io.hotspot_config import (
        package_stack,
        read_hotspot_config,
        read_materials,
    )
    from thermal.physics.stack_solution import solve_stack_on, uniform_mesh

    fp = read_hotspot(EV6["flp"], EV6["ptrace"])
    stack = package_stack(read_hotspot_config(EV6["config"]), read_materials(EV6["materials"]), fp)
    names = set(fp.names)
    out = {"case": "ev6, HotSpot example2 package", "power_W": fp.total_power, "rows": [],
           "sheet_conductance_W_per_K": {L.name: L.conductivity * L.thickness for L in stack.layers}}

    ref_tol, check_tol = REF_TOLS["quick" if args.quick else "full"]
    log(f"part 1: thermesh reference, power mesh tol {ref_tol:g} and {check_tol:g}")
    ref_sol, ref_s = thermesh_in_process(fp, stack, "power", ref_tol)
    ref = Summary(ref_sol)
    chk_sol, chk_s = thermesh_in_process(fp, stack, "power", check_tol)
    chk = Summary(chk_sol)
    n = COMPARE_CELLS
    diff_face = np.nanmax(np.abs(ref.face_grid(n) - chk.face_grid(n)))
    diff_avg = np.nanmax(np.abs(ref.grid(n)[0] - chk.grid(n)[0]))
    hot_name, hot_ref = ref.hottest_block("", names)
    out["reference"] = {
        "method": f"thermesh power mesh tol {ref_tol:g}, in-process", "seconds": ref_s,
        "prisms": ref_sol.mesh_info["prisms"], "unknowns": ref_sol.heat["unknowns"],
        "layer_mean_K": ref.layer_mean(0), "layer_peak_K": ref.layer_peak(0),
        "face_peak_K": ref.face_peak(0), "face_mean_K": ref.face_mean(0),
        "hottest_block": hot_name, "hottest_block_K": hot_ref,
        "face_hottest_block": ref.face_hottest_block(0),
        "check": {"tol": check_tol, "seconds": chk_s, "prisms": chk_sol.mesh_info["prisms"],
                  "max_face_difference_K": float(diff_face),
                  "max_layer_average_difference_K": float(diff_avg),
                  "peak_difference_K": ref.face_peak(0) - chk.face_peak(0)},
    }
    log(f"  reference {ref_s:.1f} s, {ref_sol.mesh_info['prisms']:,} prisms; vs tol {check_tol:g}: "
        f"max face difference {diff_face:.4f} K")

    # HotSpot's z discretisation alone (one node per layer, real overhangs, no side nodes),
    # solved by thermesh on a uniform mesh (the series needs equal footprints).
    lumped_stack = one_node_per_layer(stack, fp, sheet=FE_SHEET)
    start = time.perf_counter()
    plane = uniform_mesh(fp, lumped_stack, FE_SHEET_RESOLUTION)
    lsol = solve_stack_on(fp, lumped_stack, plane, {"method": "uniform"})
    lumped = Summary(lsol)
    out["one_node_per_layer_fe"] = {
        "seconds": time.perf_counter() - start, "sheet_m": FE_SHEET,
        "resolution": FE_SHEET_RESOLUTION, "prisms": lsol.mesh_info["prisms"],
        "solver": lsol.solver.method, "peak_K": lumped.face_peak(0), "mean_K": lumped.face_mean(0),
        "peak_minus_reference_K": lumped.face_peak(0) - ref.layer_peak(0),
        "mean_minus_reference_K": lumped.face_mean(0) - ref.layer_mean(0)}
    log(f"  one node per layer (thermesh FE): peak {lumped.face_peak(0):.3f} K")

    def hotspot_row(variant, grid, res):
        L = hotspot_layer(res, 0, names)
        refgrid = ref.grid(grid)[0]
        return {"method": f"HotSpot {variant}", "grid": grid, "wall_s": res["wall_s"],
                "layer_mean_K": L["mean_K"], "layer_peak_K": L["peak_K"], "face_peak_K": None,
                "hottest_block": L["hottest_block"], "hottest_block_K": L["hottest_block_K"],
                "err_mean_K": L["mean_K"] - ref.layer_mean(0),
                "err_peak_K": L["peak_K"] - ref.layer_peak(0),
                "err_hottest_block_K": L["hottest_block_K"] - ref.block(L["hottest_block"]),
                "err_field_max_K": float(np.nanmax(np.abs(L["grid_bottom_first"] - refgrid))),
                "sink_mean_K": float(res["grid"][3].mean()),
                "spreader_mean_K": float(res["grid"][2].mean()),
                "peak_minus_one_node_per_layer_K": L["peak_K"] - lumped.face_peak(0),
                "max_difference_vs_one_node_per_layer_K": float(np.nanmax(np.abs(
                    L["grid_bottom_first"] - lumped.face_grid(grid))))}

    log("part 1: HotSpot")
    grids = [64, 128, 256] + ([] if args.quick else [512])
    for g in grids:
        res = hotspot(mg, f"ev6_mg{g}", work, **EV6, grid=g)
        out["rows"].append(hotspot_row("multigrid", g, res))
    if slu is not None:
        res = hotspot(slu, "ev6_slu128", work, **EV6, grid=128)
        out["rows"].append(hotspot_row("SuperLU", 128, res))

    log("part 1: thermesh command line")
    for label, extra in CLI_SETTINGS:
        cli = run_cli([EV6["flp"], "--power", EV6["ptrace"], "--package", EV6["config"],
                       "--materials", EV6["materials"], *extra],
                      work / f"ev6_thermesh_{len(out['rows'])}")
        mesh = extra[extra.index("--mesh") + 1] if "--mesh" in extra else "adaptive"
        tol = float(extra[extra.index("--tol") + 1]) if "--tol" in extra else 5e-3
        sol, _ = thermesh_in_process(fp, stack, mesh, tol)
        s = Summary(sol)
        hot, hot_v = s.hottest_block("", names)
        face_grid = s.face_grid(n)
        out["rows"].append({
            "method": f"thermesh CLI {label}", "grid": None, "wall_s": cli["wall_s"],
            "total_s": cli["total_s"], "prisms": cli["mesh"]["prisms"], "command": cli["command"],
            "layer_mean_K": s.layer_mean(0), "layer_peak_K": s.layer_peak(0),
            "face_peak_K": cli["peak_K"], "hottest_block": hot, "hottest_block_K": hot_v,
            "cli_hottest_block_K": cli["steady"][hot],
            "face_hottest_block": s.face_hottest_block(0),
            "same_as_in_process_K": abs(cli["peak_K"] - s.face_peak(0)),
            "err_mean_K": s.layer_mean(0) - ref.layer_mean(0),
            "err_peak_K": s.layer_peak(0) - ref.layer_peak(0),
            "err_face_peak_K": cli["peak_K"] - ref.face_peak(0),
            "err_hottest_block_K": hot_v - ref.block(hot),
            "err_field_max_K": float(np.nanmax(np.abs(s.grid(n)[0] - ref.grid(n)[0]))),
            "err_face_field_max_K": float(np.nanmax(np.abs(face_grid - ref.face_grid(n)))),
            "sink_mean_K": s.layer_mean(3), "spreader_mean_K": s.layer_mean(2)})
        log(f"  thermesh {label}: {cli['wall_s']:.2f} s wall ({cli['total_s']:.2f} s solve)")
    out["reference"]["spreader_mean_K"] = ref.layer_mean(2)
    out["reference"]["sink_mean_K"] = ref.layer_mean(3)
    out["reference"]["interface_mean_K"] = ref.layer_mean(1)
    out["reference"]["face_minus_average_max_K"] = float(np.nanmax(ref.face_grid(n) - ref.grid(n)[0]))
    return out


# ------------------------------------------------------------------------------------ part 2
PATCHED_SRC, PATCHED_DEST = Path("/tmp/hotspot-nostar-src"), Path("/tmp/hotspot-nostar")
PATCH_ANCHOR = "\tp->r_hs2_x = getr(k_sink"
PATCH_LINE = ("\t/* DIAGNOSTIC PATCH (thermesh benchmarks/vs_hotspot.py, /tmp only): cut the die-edge "
              "cells of the spreader and sink off their side nodes */\n"
              "\tp->r_sp1_x *= 1e12; p->r_sp1_y *= 1e12; p->r_hs1_x *= 1e12; p->r_hs1_y *= 1e12;\n")
PATCH_NOTE = ("temperature.c populate_package_R: r_sp1_x, r_sp1_y, r_hs1_x, r_hs1_y times 1e12, so "
              "the edge cells of the spreader and sink layers (rx/2 + n r_sp1 to their side's "
              "node) no longer connect to the side nodes")


def patched_hotspot() -> tuple[Path, str]:
    """A HotSpot copy in /tmp whose spreader and sink edge cells are cut off their side nodes."""
    import shutil

    if not (PATCHED_SRC / "temperature.c").is_file() or "DIAGNOSTIC PATCH" not in (
            PATCHED_SRC / "temperature.c").read_text():
        shutil.rmtree(PATCHED_SRC, ignore_errors=True)
        shutil.copytree(hs.HOTSPOT_SRC, PATCHED_SRC)
        subprocess.run(["make", "-C", str(PATCHED_SRC), "clean"], capture_output=True, check=False)
        src = (PATCHED_SRC / "temperature.c").read_text()
        if PATCH_ANCHOR not in src:
            raise hs.HotSpotError("temperature.c does not have the line the patch expects")
        (PATCHED_SRC / "temperature.c").write_text(src.replace(PATCH_ANCHOR, PATCH_LINE + PATCH_ANCHOR, 1))
    for variant in ("superlu", "multigrid"):
        try:
            return hs.build(variant, src=PATCHED_SRC, dest=PATCHED_DEST / variant), variant
        except hs.HotSpotError:
            if variant == "multigrid":
                raise
    raise AssertionError("unreachable")


#: Thickness of the conducting sheet standing for a HotSpot node (one_node_per_layer): in the
#: series, and in the finite-element solve of part 1 with its uniform resolution (1e-6 m there
#: made line multigrid miss its tolerance by 3x; 1e-5 m moves the equal-footprint peak 0.04 K).
SHEET = 1e-6
FE_SHEET, FE_SHEET_RESOLUTION = 1e-5, 100


def one_node_per_layer(stack, fp, sheet: float | None = None):
    """``stack`` as HotSpot discretises it in z without -detailed_3D: each layer's node at its
    top, laterally connected through the whole layer's k t, vertically through its whole t / k
    to the next node (a sheet of :data:`SHEET` m, then a slab without lateral flow)."""
    from thermal.geometry.stack import Layer, Stack

    sheet = SHEET if sheet is None else sheet
    layers = []
    for L in stack.layers:
        layers.append(Layer(f"{L.name}_node", sheet, L.conductivity * L.thickness / sheet,
                            L.heat_capacity, conductivity_z=1e3, power=L.power, side=L.side))
        layers.append(Layer(f"{L.name}_rz", L.thickness, 0.0, L.heat_capacity,
                            conductivity_z=L.conductivity_z, side=L.side))
    return Stack(layers, r_convec=stack.r_convec, htc=stack.htc, ambient=stack.ambient).bound_to(fp)


def write_stack_toml(stack, path: Path) -> Path:
    """A thermesh TOML stack file of ``stack`` with every layer on the die's footprint."""
    lines = [f"ambient = {stack.ambient!r}", "", "[sink]"]
    lines.append(f"r_convec = {stack.r_convec!r}" if stack.r_convec is not None
                 else f"htc = {stack.htc!r}")
    for layer in stack.layers:
        lines += ["", "[[layer]]", f'name = "{layer.name}"', f"thickness = {layer.thickness!r}",
                  f"conductivity = {layer.conductivity!r}",
                  f"heat_capacity = {layer.heat_capacity!r}"]
        if layer.conductivity_z != layer.conductivity:
            lines.append(f"conductivity_z = {layer.conductivity_z!r}")
        if layer.power:
            lines.append("power = true")
        if layer.active_thickness is not None:
            lines.append(f"active_thickness = {layer.active_thickness!r}")
    path.write_text("\n".join(lines) + "\n")
    return path


def part2(args, work: Path, mg) -> dict:
    from thermal import read_hotspot
    from thermal.exact.series import SeriesSolution
    from thermal.geometry.stack import equal_footprint
    from thermal.io.hotspot_config import (
        package_stack,
        read_hotspot_config,
        read_materials,
    )
    from thermal.physics.metrics import verify

    fp = read_hotspot(EV6["flp"], EV6["ptrace"])
    stack = equal_footprint(package_stack(read_hotspot_config(EV6["config"]),
                                          read_materials(EV6["materials"]), fp))
    start = time.perf_counter()
    series = SeriesSolution(fp, stack, rtol=1e-5)
    series_s = time.perf_counter() - start
    peak_rise = float(series.peak["rise"])
    amb = stack.ambient
    out = {"case": "ev6, example2 package, every layer cut to the die", "rows": [],
           "series": {"seconds": series_s, "modes": list(series.modes),
                      "peak_K": float(series.peak["temperature"]), "peak_rise_K": peak_rise,
                      "face_mean_K": series.mean_rise + amb,
                      "error_estimate_K": series.error_estimate}}
    log(f"part 2: series {series_s:.2f} s, {series.modes} modes, peak {series.peak['temperature']:.3f} K")

    sols = {}
    for mesh in ("power", "adaptive"):
        sol, seconds = thermesh_in_process(fp, stack, mesh, EQ_TOL)
        v = verify(sol, series)
        sols[mesh] = sol
        out["rows"].append({"method": f"thermesh {mesh} tol {EQ_TOL:g}, in-process",
                            "wall_s": seconds, "total_s": sol.timing["total_s"],
                            "prisms": sol.mesh_info["prisms"],
                            "max_error_pct": v["max_error_pct_of_peak_rise"],
                            "max_error_K": v["max_error_K"], "peak_error_K": v["peak_error_K"]})
    toml = write_stack_toml(stack, work / "ev6_equal_footprint.toml")
    out["stack_toml"] = str(toml)
    for mesh in ("adaptive", "power"):
        cli = run_cli([EV6["flp"], "--power", EV6["ptrace"], "--stack", toml, "--mesh", mesh,
                       "--tol", str(EQ_TOL)], work / f"eq_thermesh_{mesh}")
        sol = sols[mesh]
        same = abs(cli["peak_K"] - sol.peak["temperature"])
        v = next(r for r in out["rows"] if r["method"].startswith(f"thermesh {mesh}"))
        out["rows"].append({"method": f"thermesh CLI --stack TOML --mesh {mesh} --tol {EQ_TOL:g}",
                            "wall_s": cli["wall_s"], "total_s": cli["total_s"],
                            "prisms": cli["mesh"]["prisms"], "command": cli["command"],
                            "max_error_pct": v["max_error_pct"], "max_error_K": v["max_error_K"],
                            "peak_error_K": cli["peak_K"] - float(series.peak["temperature"]),
                            "same_as_in_process_K": same})
        log(f"  thermesh CLI {mesh}: {cli['wall_s']:.2f} s wall, peak differs from in-process "
            f"by {same:.1e} K")

    # Face vs layer average, on thermesh's own solution.
    s = Summary(sols["power"])
    n = COMPARE_CELLS
    face_minus_avg = s.face_grid(n) - s.grid(n)[0]
    out["face_vs_average"] = {
        "from": f"thermesh power tol {EQ_TOL:g}",
        "max_K": float(np.nanmax(face_minus_avg)), "min_K": float(np.nanmin(face_minus_avg)),
        "peak_face_minus_peak_average_K": s.face_peak(0) - s.layer_peak(0),
        "mean_face_minus_mean_average_K": s.face_mean(0) - s.layer_mean(0)}

    def against_exact(label, res, g):
        """HotSpot's silicon grid against the exact series (face, and face corrected to the
        layer average) and against the exact solution of its one-node-per-layer model."""
        _, _, U = series.rise_on_grid(2 * g + 1, 2 * g + 1)
        exact_face = U[1::2, 1::2] + amb  # cell centres, row 0 at the bottom
        exact_avg = exact_face - (s.face_grid(g) - s.grid(g)[0])
        lumped_face = lumped.rise_on_grid(2 * g + 1, 2 * g + 1)[2][1::2, 1::2] + amb
        mine = res["grid"][0][::-1]
        err_face, err_avg, err_lumped = mine - exact_face, mine - exact_avg, mine - lumped_face
        edge = max(1, g // 16)  # 1 mm on ev6
        return {
            "method": label, "grid": g, "wall_s": res["wall_s"], "timed_out": False,
            "layer_mean_K": float(mine.mean()), "layer_peak_K": float(mine.max()),
            "max_error_vs_face_K": float(np.abs(err_face).max()),
            "max_error_vs_face_pct": 100 * float(np.abs(err_face).max()) / peak_rise,
            "max_error_vs_average_K": float(np.abs(err_avg).max()),
            "max_error_vs_average_pct": 100 * float(np.abs(err_avg).max()) / peak_rise,
            "peak_error_vs_face_K": float(mine.max() - exact_face.max()),
            "peak_error_vs_average_K": float(mine.max() - exact_avg.max()),
            "mean_error_K": float(mine.mean() - exact_avg.mean()),
            "max_difference_vs_one_node_per_layer_K": float(np.abs(err_lumped).max()),
            "max_difference_vs_one_node_per_layer_inside_1mm_K":
                float(np.abs(err_lumped[edge:-edge, edge:-edge]).max()),
            "peak_difference_vs_one_node_per_layer_K": float(mine.max() - lumped_face.max())}

    # The exact solution of HotSpot's own discretisation in z (one node per layer): every layer
    # becomes a sheet at its top carrying the layer's whole lateral conductance k t, above a
    # slab of the layer's vertical resistance t / k without lateral flow.
    lumped_stack = one_node_per_layer(stack, fp)
    start = time.perf_counter()
    lumped = SeriesSolution(fp, lumped_stack, rtol=1e-5)
    out["one_node_per_layer_series"] = {
        "seconds": time.perf_counter() - start, "peak_K": float(lumped.peak["temperature"]),
        "face_mean_K": lumped.mean_rise + amb,
        "peak_minus_exact_K": float(lumped.peak["temperature"] - series.peak["temperature"]),
        "note": f"each layer a {SHEET:g} m sheet at its top with in-plane conductivity k t / "
                f"{SHEET:g} m, then the layer's thickness with in-plane conductivity 0 and "
                "through-plane k: HotSpot's z discretisation without its grid and side nodes"}

    w, h = hs.flp_size(EV6["flp"])
    cfg = hs.write_equal_footprint_config(EV6["config"], work / "ev6_equal.config", w, die_height=h)
    out["hotspot_config"] = str(cfg)
    grids = [128] + ([] if args.quick else [512])
    for g in grids:
        timeout = args.hotspot_timeout if g > 128 and args.hotspot_timeout > 0 else None
        try:
            res = hotspot(mg, f"eq_mg{g}", work, **{**EV6, "config": cfg}, grid=g, timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"  HotSpot eq_mg{g}: stopped after {timeout:.0f} s")
            out["rows"].append({"method": "HotSpot multigrid", "grid": g, "wall_s": float(timeout),
                                "timed_out": True})
            continue
        out["rows"].append(against_exact("HotSpot multigrid", res, g))

    # Diagnosis: HotSpot with its spreader's and sink's edge cells cut off their side nodes (a
    # patched copy built in /tmp), against the exact solution of its one-node-per-layer model.
    if not args.no_patched:
        try:
            binary, variant = patched_hotspot()
            g = 128 if variant == "superlu" else 64
            res = hotspot(binary, f"eq_patched_{variant}{g}", work, **{**EV6, "config": cfg}, grid=g)
            name = {"superlu": "SuperLU", "multigrid": "multigrid"}[variant]
            out["side_nodes_cut"] = against_exact(f"HotSpot {name}, side nodes cut (patched "
                                                  "copy, diagnosis only)", res, g)
            out["side_nodes_cut"]["patch"] = PATCH_NOTE
        except (hs.HotSpotError, OSError) as exc:
            out["side_nodes_cut"] = {"skipped": str(exc)}
            log(f"  patched HotSpot unavailable: {exc}")

    done = [r for r in out["rows"] if r["method"].startswith("HotSpot") and not r["timed_out"]]

    hot = [r for r in out["rows"] if r["method"].startswith("HotSpot")][-1]
    cli = next(r for r in out["rows"] if r["method"].startswith("thermesh CLI")
               and "adaptive" in r["method"])
    inproc = next(r for r in out["rows"] if r["method"].startswith("thermesh adaptive"))
    out["ratio"] = {"hotspot": f"multigrid {hot['grid']}", "hotspot_wall_s": hot["wall_s"],
                    "lower_bound": hot["timed_out"],
                    "thermesh_cli_wall_s": cli["wall_s"],
                    "thermesh_max_error_pct": cli["max_error_pct"],
                    "hotspot_max_error_vs_average_pct": done[-1]["max_error_vs_average_pct"],
                    "ratio_vs_cli": hot["wall_s"] / cli["wall_s"],
                    "ratio_vs_in_process_total": hot["wall_s"] / inproc["total_s"],
                    "target": RATIO_TARGET}
    out["ratio"]["met"] = out["ratio"]["ratio_vs_cli"] >= RATIO_TARGET
    return out


# ------------------------------------------------------------------------------------ part 3
def part3(args, work: Path, slu) -> dict:
    from thermal.io.hotspot_config import read_hotspot_config, read_materials
    from thermal.io.lcf import read_lcf

    stack = read_lcf(LCF3["lcf"], LCF3["ptrace"], read_materials(LCF3["materials"]),
                     read_hotspot_config(LCF3["config"]))
    power_layers = stack.power_layers
    names = {i: set(stack.layers[i].floorplan.names) for i in power_layers}
    fp0 = stack.layers[power_layers[0]].floorplan
    x0, y0, x1, y1 = stack.die
    sink = stack.layers[-1]
    out = {"case": "HotSpot example3: LCF with 2 power layers", "power_layers": power_layers,
           "r_convec_die_half_K_per_W": 0.5 * stack.r_convec * sink.side ** 2 / ((x1 - x0) * (y1 - y0)),
           "power_W": sum(stack.layers[i].floorplan.total_power for i in power_layers),
           "rows": []}

    def hs_row(label, res, grid):
        row = {"method": label, "grid": grid, "wall_s": res["wall_s"], "layers": {}}
        for i in power_layers:
            L = hotspot_layer(res, i, names[i], prefix=f"layer_{i}_")
            row["layers"][i] = {k: v for k, v in L.items() if k != "grid_bottom_first"}
        nl = len(res["grid"])
        row["spreader_mean_K"] = float(res["grid"][nl - 2].mean())
        row["sink_mean_K"] = float(res["grid"][nl - 1].mean())
        return row

    def th_row(label, sol, wall=None, total=None, extra=None):
        s = Summary(sol)
        row = {"method": label, "grid": None, "wall_s": wall, "total_s": total,
               "prisms": sol.mesh_info["prisms"], "layers": {}, **(extra or {})}
        for i in power_layers:
            hot, hot_v = s.hottest_block(f"layer_{i}_", names[i])
            row["layers"][i] = {"mean_K": s.layer_mean(i), "peak_K": s.layer_peak(i),
                                "face_mean_K": s.face_mean(i), "face_peak_K": s.face_peak(i),
                                "hottest_block": hot, "hottest_block_K": hot_v}
        nl = len(stack.layers)
        row["spreader_mean_K"] = s.layer_mean(nl - 2)
        row["sink_mean_K"] = s.layer_mean(nl - 1)
        return row

    if slu is None:
        out["skipped"] = "no SuperLU build: HotSpot's -detailed_3D needs it (multigrid is plain Gauss-Seidel)"
        return out
    log("part 3: HotSpot SuperLU -detailed_3D on")
    for g in (64, 128):
        res = hotspot(slu, f"ex3_slu{g}_3d", work, **LCF3, grid=g, detailed_3d=True)
        out["rows"].append(hs_row("HotSpot SuperLU -detailed_3D on", res, g))
    log("part 3: thermesh --lcf")
    for label, extra in CLI_SETTINGS:
        mesh = extra[extra.index("--mesh") + 1] if "--mesh" in extra else "adaptive"
        tol = float(extra[extra.index("--tol") + 1]) if "--tol" in extra else 5e-3
        cli = run_cli(["--lcf", LCF3["lcf"], "--power", LCF3["ptrace"], "--package",
                       LCF3["config"], "--materials", LCF3["materials"], *extra],
                      work / f"ex3_thermesh_{mesh}_{tol:g}")
        sol, _ = thermesh_in_process(fp0, stack, mesh, tol)
        out["rows"].append(th_row(f"thermesh CLI --lcf {label}", sol, cli["wall_s"],
                                  cli["total_s"],
                                  {"command": cli["command"],
                                   "same_as_in_process_K": abs(cli["peak_K"] - sol.peak["temperature"])}))
        log(f"  thermesh {label}: {cli['wall_s']:.2f} s wall")
    ref = next(r for r in out["rows"] if r["method"].startswith("HotSpot") and r["grid"] == 128)
    out["target"] = {"limit_K": LCF_TARGET_K, "against": "HotSpot SuperLU -detailed_3D on, 128",
                     "per_row": {}}
    for r in out["rows"]:
        if r["method"].startswith("thermesh"):
            d = {i: r["layers"][i]["mean_K"] - ref["layers"][i]["mean_K"] for i in power_layers}
            out["target"]["per_row"][r["method"]] = {"differences_K": d,
                                                     "met": all(abs(v) <= LCF_TARGET_K for v in d.values())}

    # Diagnosis: HotSpot's two vertical models, and r_convec 100x smaller.
    log("part 3: diagnosis runs (64 x 64)")
    diag = []
    default_sol = thermesh_in_process(fp0, stack, "adaptive", 5e-3)[0]
    for rc in (stack.r_convec, stack.r_convec / 100):
        for detailed in (True, False):
            res = hotspot(slu, f"ex3_diag_{'3d' if detailed else 'plain'}_{rc:g}", work, **LCF3,
                          grid=64, detailed_3d=detailed, extra=["-r_convec", str(rc)])
            diag.append({**hs_row(f"HotSpot SuperLU{' -detailed_3D on' if detailed else ''}",
                                  res, 64), "r_convec": rc})
        sol = default_sol if rc == stack.r_convec else thermesh_in_process(
            fp0, replace(stack, r_convec=rc), "adaptive", 5e-3)[0]
        diag.append({**th_row("thermesh adaptive tol 5e-3", sol), "r_convec": rc})
    out["diagnosis"] = diag
    return out


# ------------------------------------------------------------------------------------ part 4
#: HotSpot 7.0's model layers with -model_secondary 1 and no LCF, index = its grid layer
#: (populate_default_layers, temperature_grid.c:497-519), and their .steady prefixes (:1393-1428).
SECONDARY_ORDER = ("pcb", "solder", "substrate", "c4", "metal", "die", "interface", "spreader",
                   "sink")
PRIMARY_ORDER = ("die", "interface", "spreader", "sink")
SECONDARY_PREFIX = {"die": "", "metal": "metal_", "c4": "c4_", "substrate": "sub_",
                    "solder": "solder_", "pcb": "pcb_", "interface": "iface_", "spreader": "hsp_",
                    "sink": "hsink_"}
#: Layers shown in Part 4's table (every layer's mean is in the JSON).
SECONDARY_SHOWN = ("die", "metal", "c4", "substrate", "pcb")
#: HotSpot's grids for Part 4 (the multigrid build; SuperLU at the same sizes, 128 not --quick).
SECONDARY_GRIDS = (64, 128)
#: Diagnosis: r_convec_sec multiplied by this (no heat through the board, the layers kept).
NO_BOARD_FACTOR = 1e4


def hotspot_heat_out(res: dict, params: dict, die_w: float, die_h: float,
                     secondary: bool) -> dict:
    """Heat leaving HotSpot's model (W), from its own temperatures and conductances to ambient.

    Board (PCB): every PCB grid cell goes to ambient through r_convec_sec * s_pcb^2 / (cw ch)
    (temperature_grid.c:2563-2567), the PCB_C_* nodes through r_amb_sec_c_per_x/y and the PCB_*
    nodes through r_amb_sec_per (temperature.c:519-522): a uniform h = 1 / (r_convec_sec s_pcb^2)
    over the areas the nodes stand for (die; 4 trapezoids to s_solder; 4 quarters of the rest of
    s_pcb^2), so board = h * sum(A_i (T_i - ambient)). Sink: the same with
    1 / (t_sink / k_sink + r_convec s_sink^2) per unit area (the sink's full rz in series with its
    convection share, :1052-1058 and temperature.c:486-497), nodes SINK_C_* and SINK_*. The
    .steady and grid files have 2 decimals: 0.005 K times the total conductance to ambient
    ("rounding_W") bounds the error of sink + board - power ("closure" in part 4's rows)."""
    amb, w, h = params["ambient"], die_w, die_h
    steady, grids = res["steady"], res["grid"]

    def flux(grid, first_inode, s_in, s_out, per_area):
        node = [steady[f"inode_{first_inode + k}"] - amb for k in range(8)]
        a_we, a_ns = (s_in + h) * (s_in - w) / 4, (s_in + w) * (s_in - h) / 4
        a_out = (s_out ** 2 - s_in ** 2) / 4
        total = (float((grid - amb).mean()) * w * h + (node[0] + node[1]) * a_we
                 + (node[2] + node[3]) * a_ns + sum(node[4:]) * a_out)
        return total * per_area

    sink = flux(grids[len(grids) - 1], 4, params["s_spreader"], params["s_sink"],
                1.0 / (params["t_sink"] / params["k_sink"] + params["r_convec"] * params["s_sink"] ** 2))
    board = (flux(grids[0], 20, params["s_solder"], params["s_pcb"],
                  1.0 / (params["r_convec_sec"] * params["s_pcb"] ** 2)) if secondary else 0.0)
    g_sink = params["s_sink"] ** 2 / (params["t_sink"] / params["k_sink"]
                                      + params["r_convec"] * params["s_sink"] ** 2)
    g_board = 1.0 / params["r_convec_sec"] if secondary else 0.0
    return {"sink_W": sink, "board_W": board, "rounding_W": 0.005 * (g_sink + g_board),
            "board_rounding_W": 0.005 * g_board}


def write_secondary_config(src: Path, dst: Path, secondary: int, r_convec_sec=None) -> Path:
    """``src`` with -model_secondary set (and -r_convec_sec, if given); every other key kept."""
    keys = {"model_secondary": str(secondary)}
    if r_convec_sec is not None:
        keys["r_convec_sec"] = repr(float(r_convec_sec))
    dst.write_text(hs._set_config_keys(src.read_text(), keys))
    return dst


def part4(args, work: Path, mg, slu) -> dict:
    from thermal import read_hotspot
    from thermal.io.hotspot_config import (
        package_parameters,
        package_stack,
        read_hotspot_config,
        read_materials,
    )

    materials = read_materials(EV6["materials"])
    cfg1 = write_secondary_config(EV6["config"], work / "ev6_secondary.config", 1)
    cfg0 = write_secondary_config(EV6["config"], work / "ev6_primary.config", 0)
    p1 = package_parameters(read_hotspot_config(cfg1), materials)
    cfg_nb = write_secondary_config(EV6["config"], work / "ev6_secondary_no_board.config", 1,
                                    p1["r_convec_sec"] * NO_BOARD_FACTOR)
    params = {1: p1, 0: package_parameters(read_hotspot_config(cfg0), materials),
              "no_board": package_parameters(read_hotspot_config(cfg_nb), materials)}
    fp = read_hotspot(EV6["flp"], EV6["ptrace"])
    stacks = {sec: package_stack(read_hotspot_config(c), materials, fp)
              for sec, c in ((1, cfg1), (0, cfg0), ("no_board", cfg_nb))}
    for sec, order in ((1, SECONDARY_ORDER), (0, PRIMARY_ORDER), ("no_board", SECONDARY_ORDER)):
        got = tuple(L.name for L in stacks[sec].layers)
        if got != order:
            raise RuntimeError(f"thermesh's stack with model_secondary {sec}: {got}, expected {order}")
    names = set(fp.names)
    power = fp.total_power
    die_w, die_h = hs.flp_size(EV6["flp"])
    out = {"case": "ev6, HotSpot example2 package with -model_secondary 1", "power_W": power,
           "ambient_K": p1["ambient"],
           "configs": {"secondary": str(cfg1), "primary": str(cfg0), "no_board": str(cfg_nb)},
           "secondary_keys": {k: p1[k] for k in ("r_convec_sec", "t_metal", "t_c4", "s_sub", "t_sub",
                                                 "s_solder", "t_solder", "s_pcb", "t_pcb")},
           "sheet_conductance_W_per_K": {L.name: L.conductivity * L.thickness
                                         for L in stacks[1].layers},
           "rows": [], "primary_rows": [], "diagnosis": []}

    def hs_row(label, res, grid, sec):
        order = PRIMARY_ORDER if sec == 0 else SECONDARY_ORDER
        if len(res["grid"]) != len(order):
            raise hs.HotSpotError(f"HotSpot wrote {len(res['grid'])} grid layers, expected "
                                  f"{len(order)} ({', '.join(order)})")
        die = hotspot_layer(res, order.index("die"), names)
        heat = hotspot_heat_out(res, params[sec], die_w, die_h, bool(sec))
        return {"method": label, "grid": grid, "secondary": sec, "wall_s": res["wall_s"],
                "layers": {L: {"mean_K": float(res["grid"][i].mean()),
                               "peak_K": float(res["grid"][i].max())} for i, L in enumerate(order)},
                "die_mean_K": die["mean_K"], "die_peak_K": die["peak_K"],
                "hottest_block": die["hottest_block"], "hottest_block_K": die["hottest_block_K"],
                "board_W": heat["board_W"], "sink_W": heat["sink_W"],
                "board_share_pct": 100 * heat["board_W"] / power,
                "closure_W": heat["board_W"] + heat["sink_W"] - power,
                "rounding_W": heat["rounding_W"],
                "board_note": "estimated from HotSpot's PCB temperatures (hotspot_heat_out)",
                "_die_grid": die["grid_bottom_first"]}

    def th_row(label, sol, sec, wall=None, total=None, extra=None):
        s = Summary(sol)
        order = tuple(L.name for L in sol.model.layers)
        di = order.index("die")
        hot, hot_v = s.hottest_block("", names)
        heat = sol.heat["heat_out_W"]
        return {"method": label, "grid": None, "secondary": sec, "wall_s": wall, "total_s": total,
                "prisms": sol.mesh_info["prisms"],
                "layers": {L: {"mean_K": s.layer_mean(i), "peak_K": s.layer_peak(i)}
                           for i, L in enumerate(order)},
                "die_mean_K": s.layer_mean(di), "die_peak_K": s.layer_peak(di),
                "die_face_peak_K": s.face_peak(di), "hottest_block": hot, "hottest_block_K": hot_v,
                "board_W": heat.get("top", 0.0), "sink_W": heat["sink"],
                "board_share_pct": 100 * heat.get("top", 0.0) / power,
                "closure_W": heat.get("top", 0.0) + heat["sink"] - power,
                "board_note": "heat['heat_out_W']['top']", **(extra or {}), "_summary": s}

    # thermesh: the converged reference (in-process) with and without the path.
    ref_tol, check_tol = REF_TOLS["quick" if args.quick else "full"]
    log(f"part 4: thermesh reference, power mesh tol {ref_tol:g} (and {check_tol:g})")
    ref_rows = {}
    for sec in (1, 0):
        sol, secs = thermesh_in_process(fp, stacks[sec], "power", ref_tol)
        ref_rows[sec] = th_row(f"thermesh reference (power, tol {ref_tol:g}, in-process)", sol, sec,
                               wall=secs, total=sol.timing["total_s"])
        log(f"  reference model_secondary {sec}: {secs:.1f} s, {sol.mesh_info['prisms']:,} prisms")
    ref = ref_rows[1]
    chk_sol, chk_s = thermesh_in_process(fp, stacks[1], "power", check_tol)
    chk = th_row("check", chk_sol, 1)
    out["reference_check"] = {
        "tol": check_tol, "seconds": chk_s, "prisms": chk["prisms"],
        **{f"{k}_difference_K": ref[k] - chk[k] for k in ("die_mean_K", "die_peak_K",
                                                         "hottest_block_K")},
        "board_W_difference": ref["board_W"] - chk["board_W"]}

    # thermesh: the command line at its defaults (wall time), same settings in-process for the
    # layer averages; with and without the path.
    log("part 4: thermesh command line (defaults)")
    cli_rows = {}
    for sec, cfg in ((1, cfg1), (0, cfg0)):
        cli = run_cli([EV6["flp"], "--power", EV6["ptrace"], "--package", cfg,
                       "--materials", EV6["materials"]], work / f"ev6_secondary{sec}_thermesh")
        sol, _ = thermesh_in_process(fp, stacks[sec], "adaptive", 5e-3)
        cli_rows[sec] = th_row(
            f"thermesh CLI {CLI_SETTINGS[0][0]}", sol, sec, wall=cli["wall_s"],
            total=cli["total_s"],
            extra={"command": cli["command"], "cli_peak_K": cli["peak_K"],
                   "same_as_in_process_K": abs(cli["peak_K"] - sol.peak["temperature"]),
                   "steady_prefixes": sorted({n.split("_")[0] + "_" for n in cli["steady"]
                                              if n.split("_")[0] in ("pcb", "solder", "sub", "c4",
                                                                     "metal")})})
        log(f"  thermesh CLI model_secondary {sec}: {cli['wall_s']:.2f} s wall "
            f"({cli['total_s']:.2f} s solve)")

    # HotSpot: -model_secondary 1 with both builds; 0 with the multigrid build (the effect).
    log("part 4: HotSpot -model_secondary 1")
    hs_rows = {}
    for g in SECONDARY_GRIDS:
        res = hotspot(mg, f"ev6_secondary1_mg{g}", work, **{**EV6, "config": cfg1}, grid=g)
        hs_rows[("multigrid", g)] = hs_row("HotSpot multigrid", res, g, 1)
    if slu is not None:
        for g in SECONDARY_GRIDS if not args.quick else SECONDARY_GRIDS[:1]:
            res = hotspot(slu, f"ev6_secondary1_slu{g}", work, **{**EV6, "config": cfg1}, grid=g)
            hs_rows[("SuperLU", g)] = hs_row("HotSpot SuperLU", res, g, 1)
    log("part 4: HotSpot -model_secondary 0 (multigrid)")
    hs_primary = {}
    for g in SECONDARY_GRIDS:
        res = hotspot(mg, f"ev6_secondary0_mg{g}", work, **{**EV6, "config": cfg0}, grid=g)
        hs_primary[g] = hs_row("HotSpot multigrid", res, g, 0)

    # Errors against the reference (die field at HotSpot's cell centres, as in part 1).
    di = SECONDARY_ORDER.index("die")
    rs = ref["_summary"]
    for r in [*hs_rows.values(), cli_rows[1]]:
        r["err"] = {"die_mean_K": r["die_mean_K"] - ref["die_mean_K"],
                    "die_peak_K": r["die_peak_K"] - ref["die_peak_K"],
                    "hottest_block_K": r["hottest_block_K"] - rs.block(r["hottest_block"]),
                    **{f"{L}_mean_K": r["layers"][L]["mean_K"] - ref["layers"][L]["mean_K"]
                       for L in SECONDARY_ORDER if L != "die"}}
        if r["grid"]:
            r["err"]["die_field_max_K"] = float(np.nanmax(np.abs(
                r["_die_grid"] - rs.grid(r["grid"])[di])))
    out["reference"] = ref
    out["rows"] = [*hs_rows.values(), cli_rows[1]]
    out["primary_rows"] = [*hs_primary.values(), cli_rows[0], ref_rows[0]]

    # The effect of the path: model_secondary 1 minus 0, per model.
    def effect(label, a, b):
        return {"method": label, **{f"{k}_0": b[k] for k in ("die_mean_K", "die_peak_K",
                                                          "hottest_block_K")},
                **{f"{k}_1": a[k] for k in ("die_mean_K", "die_peak_K", "hottest_block_K")},
                "hottest_block_0": b["hottest_block"], "hottest_block_1": a["hottest_block"],
                "d_die_mean_K": a["die_mean_K"] - b["die_mean_K"],
                "d_die_peak_K": a["die_peak_K"] - b["die_peak_K"],
                "d_hottest_block_K": a["hottest_block_K"] - b["hottest_block_K"],
                "d_sink_mean_K": a["layers"]["sink"]["mean_K"] - b["layers"]["sink"]["mean_K"],
                "board_W": a["board_W"]}

    out["effect"] = [effect(f"HotSpot multigrid {g}", hs_rows[("multigrid", g)], hs_primary[g])
                     for g in SECONDARY_GRIDS]
    out["effect"].append(effect("thermesh CLI default", cli_rows[1], cli_rows[0]))
    out["effect"].append(effect(f"thermesh reference (tol {ref_tol:g})", ref, ref_rows[0]))

    # Diagnosis: the layers of the path without heat through the board (r_convec_sec x 1e4):
    # what is left of the effect is the extra lateral conduction above the die.
    log(f"part 4: diagnosis, r_convec_sec x {NO_BOARD_FACTOR:g}")
    g = SECONDARY_GRIDS[0]
    res = hotspot(mg, f"ev6_secondary_no_board_mg{g}", work, **{**EV6, "config": cfg_nb}, grid=g)
    nb_hs = hs_row("HotSpot multigrid", res, g, "no_board")
    nb_th = th_row("thermesh adaptive tol 5e-3", thermesh_in_process(
        fp, stacks["no_board"], "adaptive", 5e-3)[0], "no_board")
    # ... and of that, the metal layer alone (thermesh only: model_secondary 0's stack with the
    # metal layer on the die, its top adiabatic).
    metal = next(L for L in stacks[1].layers if L.name == "metal")
    mo_th = th_row("thermesh adaptive tol 5e-3", thermesh_in_process(
        fp, replace(stacks[0], layers=(metal, *stacks[0].layers)), "adaptive", 5e-3)[0], "metal")
    out["diagnosis"] = [effect(f"HotSpot multigrid {g}, r_convec_sec x {NO_BOARD_FACTOR:g}",
                               nb_hs, hs_primary[g]),
                        effect(f"thermesh default, r_convec_sec x {NO_BOARD_FACTOR:g}",
                               nb_th, cli_rows[0]),
                        effect("thermesh default, metal layer only (adiabatic above)",
                               mo_th, cli_rows[0])]
    out["no_board_factor"] = NO_BOARD_FACTOR
    for r in [*out["rows"], *out["primary_rows"], out["reference"]]:
        r.pop("_die_grid", None)
        r.pop("_summary", None)
    return out


# ---------------------------------------------------------------------------------- printing
def _f(v, fmt=".2f"):
    return "" if v is None else format(v, fmt)


def print_part1(p) -> None:
    ref = p["reference"]
    print(f"\n### 1. {p['case']} ({p['power_W']:.1f} W)\n")
    print(f"Reference: {ref['method']}, {ref['prisms']:,} prisms, {ref['seconds']:.1f} s; its "
          f"difference from tol {ref['check']['tol']:g} ({ref['check']['prisms']:,} prisms): "
          f"{ref['check']['max_face_difference_K']:.4f} K max on the face, "
          f"{ref['check']['max_layer_average_difference_K']:.4f} K on the layer average, peak "
          f"{ref['check']['peak_difference_K']:+.4f} K.\n")
    print("Errors are against the reference's die layer average (the same quantity as HotSpot's "
          "silicon node); 'field' is the max over HotSpot's cell centres (thermesh: 512 x 512 "
          "cell centres).\n")
    print("| method | grid | wall s | layer-avg mean K | hottest block (layer avg) K | layer-avg peak K "
          "| face peak K | err mean K | err block K | err peak K | err field max K |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| reference (in-process) | | {ref['seconds']:.1f} | {ref['layer_mean_K']:.2f} | "
          f"{ref['hottest_block']} {ref['hottest_block_K']:.2f} | {ref['layer_peak_K']:.2f} | "
          f"{ref['face_peak_K']:.2f} | | | | |")
    for r in p["rows"]:
        print(f"| {r['method']} | {r['grid'] or ''} | {r['wall_s']:.2f} | {r['layer_mean_K']:.2f} | "
              f"{r['hottest_block']} {r['hottest_block_K']:.2f} | {r['layer_peak_K']:.2f} | "
              f"{_f(r['face_peak_K'])} | {r['err_mean_K']:+.2f} | {r['err_hottest_block_K']:+.2f} | "
              f"{r['err_peak_K']:+.2f} | {r['err_field_max_K']:.2f} |")
    lf = p["one_node_per_layer_fe"]
    print(f"\nHotSpot's z discretisation alone (one node per layer: a {lf['sheet_m']:g} m sheet "
          f"with the layer's k t at its top, then its t / k without lateral flow; the real "
          f"overhangs, no side nodes), solved by thermesh (uniform {lf['resolution']}, "
          f"{lf['prisms']:,} prisms, {lf['seconds']:.1f} s): peak {lf['peak_K']:.2f} K "
          f"({lf['peak_minus_reference_K']:+.2f} K from the reference's layer average), mean "
          f"{lf['mean_K']:.2f} K ({lf['mean_minus_reference_K']:+.2f} K). HotSpot against it: "
          + ", ".join(f"{r['grid']}: peak {r['peak_minus_one_node_per_layer_K']:+.2f} K, max "
                      f"{r['max_difference_vs_one_node_per_layer_K']:.2f} K"
                      for r in p["rows"] if r["method"] == "HotSpot multigrid") + ".")
    hs_rows = [r for r in p["rows"] if r["method"] == "HotSpot multigrid"]
    if hs_rows:
        big = hs_rows[-1]
        print(f"\nHotSpot multigrid {big['grid']} ({big['wall_s']:.1f} s) / thermesh command line: "
              + ", ".join(f"{big['wall_s'] / r['wall_s']:.0f}x ({r['method'].replace('thermesh CLI ', '')})"
                          for r in p["rows"] if r["method"].startswith("thermesh")) + ".")
    for r in p["rows"]:
        if r["method"].startswith("thermesh"):
            print(f"\n{r['method']}: solve {r['total_s']:.2f} s of {r['wall_s']:.2f} s wall, "
                  f"{r['prisms']:,} prisms; face peak error {r['err_face_peak_K']:+.3f} K, "
                  f"face field max error {r['err_face_field_max_K']:.3f} K; the command line's "
                  f"peak equals the in-process run's to {r['same_as_in_process_K']:.1e} K.")


def print_part2(p) -> None:
    s = p["series"]
    print(f"\n### 2. {p['case']}\n")
    print(f"Exact series: {s['modes'][0]} x {s['modes'][1]} modes in {s['seconds']:.2f} s, peak "
          f"{s['peak_K']:.3f} K (rise {s['peak_rise_K']:.3f} K), face mean {s['face_mean_K']:.3f} K.\n")
    print("| method | grid | wall s | solve s | prisms | max error % of peak rise | max error K | peak error K |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in p["rows"]:
        if r["method"].startswith("thermesh"):
            print(f"| {r['method']} | | {r['wall_s']:.2f} | {r['total_s']:.2f} | {r['prisms']:,} | "
                  f"{r['max_error_pct']:.3f} | {r['max_error_K']:.3f} | {r['peak_error_K']:+.3f} |")
    for r in p["rows"]:
        if r["method"].startswith("HotSpot") and r["timed_out"]:
            print(f"| {r['method']} | {r['grid']} | > {r['wall_s']:.0f} (stopped) | | | | | |")
        elif r["method"].startswith("HotSpot"):
            print(f"| {r['method']} (vs face / vs face + avg correction) | {r['grid']} | "
                  f"{r['wall_s']:.2f} | | | {r['max_error_vs_face_pct']:.2f} / "
                  f"{r['max_error_vs_average_pct']:.2f} | {r['max_error_vs_face_K']:.2f} / "
                  f"{r['max_error_vs_average_K']:.2f} | {r['peak_error_vs_face_K']:+.2f} / "
                  f"{r['peak_error_vs_average_K']:+.2f} |")
    fa = p["face_vs_average"]
    print(f"\nThe series gives the junction face; HotSpot's node is a layer average. thermesh's "
          f"own face minus die layer average ({fa['from']}): {fa['min_K']:.3f} to "
          f"{fa['max_K']:.3f} K over the die, {fa['peak_face_minus_peak_average_K']:.3f} K at the "
          f"peak, {fa['mean_face_minus_mean_average_K']:.4f} K in the mean. HotSpot is compared "
          "with the face as is and with face - (thermesh face - thermesh average).")
    lumped = p["one_node_per_layer_series"]
    print(f"\nHotSpot's z discretisation alone (one node per layer, {lumped['note']}), solved "
          f"exactly by the series: peak {lumped['peak_K']:.3f} K, "
          f"{lumped['peak_minus_exact_K']:+.3f} K from the exact stack's.")
    for r in p["rows"]:
        if r["method"].startswith("HotSpot") and not r["timed_out"]:
            print(f"HotSpot {r['grid']} against it: peak {r['peak_difference_vs_one_node_per_layer_K']:+.2f} K, "
                  f"max {r['max_difference_vs_one_node_per_layer_K']:.2f} K "
                  f"({r['max_difference_vs_one_node_per_layer_inside_1mm_K']:.2f} K more than 1 mm "
                  "from the die's edges).")
    cut = p.get("side_nodes_cut")
    if cut and "skipped" not in cut:
        print(f"{cut['method']} {cut['grid']}: peak {cut['layer_peak_K']:.2f} K, against the "
              f"one-node-per-layer exact answer: peak {cut['peak_difference_vs_one_node_per_layer_K']:+.2f} K, "
              f"max {cut['max_difference_vs_one_node_per_layer_K']:.2f} K; against the exact "
              f"stack: {cut['max_error_vs_average_pct']:.1f} % ({cut['peak_error_vs_average_K']:+.2f} K "
              f"at the peak). Patch: {cut['patch']}.")
    elif cut:
        print(f"Patched HotSpot skipped: {cut['skipped']}")
    q = p["ratio"]
    bound = "> " if q["lower_bound"] else ""
    print(f"\nRatio: HotSpot {q['hotspot']} {bound}{q['hotspot_wall_s']:.1f} s (max error "
          f"{q['hotspot_max_error_vs_average_pct']:.1f} %) / thermesh command line "
          f"{q['thermesh_cli_wall_s']:.2f} s ({q['thermesh_max_error_pct']:.3f} %) = "
          f"{bound}{q['ratio_vs_cli']:.0f}x (in-process solve: {bound}{q['ratio_vs_in_process_total']:.0f}x); "
          f"target >= {q['target']:.0f}x: {'met' if q['met'] else 'NOT met'}.")


def print_part3(p) -> None:
    print(f"\n### 3. {p['case']} ({p['power_W']:.1f} W)\n")
    if "skipped" in p:
        print(f"Skipped: {p['skipped']}")
        return
    pl = p["power_layers"]
    head = " | ".join(f"L{i} mean K | L{i} peak K | L{i} hottest block K" for i in pl)
    print(f"| method | grid | wall s | {head} | spreader mean K | sink mean K |")
    print("|---|---:|---:|" + "---:|" * (3 * len(pl)) + "---:|---:|")

    def line(r, suffix=""):
        cells = " | ".join(f"{r['layers'][i]['mean_K']:.2f} | {r['layers'][i]['peak_K']:.2f} | "
                           f"{r['layers'][i]['hottest_block'].split('_', 2)[-1]} "
                           f"{r['layers'][i]['hottest_block_K']:.2f}" for i in pl)
        print(f"| {r['method']}{suffix} | {r['grid'] or ''} | {_f(r['wall_s'])} | {cells} | "
              f"{r['spreader_mean_K']:.2f} | {r['sink_mean_K']:.2f} |")

    for r in p["rows"]:
        line(r)
    print("\nthermesh values above are layer averages (HotSpot's meaning); the junction-side "
          "faces of the power layers:\n")
    for r in p["rows"]:
        if r["method"].startswith("thermesh"):
            print(f"- {r['method']}: " + "; ".join(
                f"layer {i} face mean {r['layers'][i]['face_mean_K']:.2f} K, face peak "
                f"{r['layers'][i]['face_peak_K']:.2f} K" for i in pl)
                + f" ({r['prisms']:,} prisms, solve {r['total_s']:.2f} s)")
    t = p["target"]
    print(f"\nTarget: every power layer's mean within {t['limit_K']} K of {t['against']}:")
    for method, v in t["per_row"].items():
        print(f"- {method}: " + ", ".join(f"layer {i} {d:+.2f} K" for i, d in v["differences_K"].items())
              + f" -> {'met' if v['met'] else 'NOT met'}")
    print("\nDiagnosis (64 x 64 for HotSpot; r_convec as given and 100x smaller):\n")
    print(f"| method | r_convec K/W | {head} | spreader mean K | sink mean K |")
    print("|---|---:|" + "---:|" * (3 * len(pl)) + "---:|---:|")
    for r in p["diagnosis"]:
        cells = " | ".join(f"{r['layers'][i]['mean_K']:.2f} | {r['layers'][i]['peak_K']:.2f} | "
                           f"{r['layers'][i]['hottest_block_K']:.2f}" for i in pl)
        print(f"| {r['method']} | {r['r_convec']:g} | {cells} | {r['spreader_mean_K']:.2f} | "
              f"{r['sink_mean_K']:.2f} |")


def print_part4(p) -> None:
    ref = p["reference"]
    print(f"\n### 4. {p['case']} ({p['power_W']:.1f} W)\n")
    k = p["secondary_keys"]
    c = p["reference_check"]
    print(f"Secondary path: r_convec_sec {k['r_convec_sec']:g} K/W, PCB {k['s_pcb'] * 1e3:g} mm "
          f"x {k['t_pcb'] * 1e3:g} mm, solder {k['s_solder'] * 1e3:g} mm x "
          f"{k['t_solder'] * 1e3:g} mm, substrate {k['s_sub'] * 1e3:g} mm x "
          f"{k['t_sub'] * 1e3:g} mm, C4 {k['t_c4'] * 1e6:g} um and metal {k['t_metal'] * 1e6:g} um "
          "over the die. Reference: " + ref["method"] + f", {ref['prisms']:,} prisms, "
          f"{ref['wall_s']:.1f} s; against tol {c['tol']:g} ({c['prisms']:,} prisms): die mean "
          f"{c['die_mean_K_difference_K']:+.4f} K, peak {c['die_peak_K_difference_K']:+.4f} K, "
          f"hottest block {c['hottest_block_K_difference_K']:+.4f} K.\n")
    print("Means over the die's footprint (HotSpot's grid covers only the die; thermesh: layer "
          "averages through the thickness); die peak: HotSpot's hottest cell, thermesh's hottest "
          "layer-average node. Board: heat out through the PCB's face (thermesh: "
          "heat_out_W['top']; HotSpot: estimated from its PCB nodes).\n")
    shown = [L for L in SECONDARY_SHOWN if L != "die"]
    print("| method | grid | wall s | die mean K | die hottest block K | die peak K | "
          + " | ".join(f"{L} mean K" for L in shown) + " | board W (% of power) |")
    print("|---|---:|---:|---:|---:|---:|" + "---:|" * len(shown) + "---:|")
    for r in [ref, *p["rows"]]:
        print(f"| {r['method']} | {r['grid'] or ''} | {_f(r['wall_s'])} | {r['die_mean_K']:.2f} | "
              f"{r['hottest_block']} {r['hottest_block_K']:.2f} | {r['die_peak_K']:.2f} | "
              + " | ".join(f"{r['layers'][L]['mean_K']:.2f}" for L in shown)
              + f" | {r['board_W']:.4f} ({r['board_share_pct']:.2f} %) |")
    print("\nAgainst the reference (K; 'field' = max over HotSpot's cell centres of its die grid "
          "against the reference's die layer average):\n")
    print("| method | grid | die mean | die hottest block | die peak | die field max | "
          + " | ".join(f"{L} mean" for L in shown) + " |")
    print("|---|---:|---:|---:|---:|---:|" + "---:|" * len(shown))
    for r in p["rows"]:
        e = r["err"]
        print(f"| {r['method']} | {r['grid'] or ''} | {e['die_mean_K']:+.2f} | "
              f"{e['hottest_block_K']:+.2f} | {e['die_peak_K']:+.2f} | "
              f"{_f(e.get('die_field_max_K'))} | "
              + " | ".join(f"{e[L + '_mean_K']:+.2f}" for L in shown) + " |")
    hot = [r for r in [*p["rows"], *p["primary_rows"]] if r["method"].startswith("HotSpot")]
    print("\nHotSpot's heat balance from its own nodes (sink + board - power; its files' 2 "
          f"decimals allow +-{hot[0]['rounding_W']:.3f} W, of which +-"
          f"{0.005 / p['secondary_keys']['r_convec_sec']:.4f} W on the board): "
          + ", ".join(f"{r['method'].replace('HotSpot ', '')} {r['grid']} model_secondary "
                      f"{r['secondary']}: {r['closure_W']:+.3f} W" for r in hot)
          + ". thermesh: " + ", ".join(f"{r['closure_W']:+.1e} W" for r in [ref, *p["rows"]]
                                       if r["method"].startswith("thermesh")) + ".")
    mg = {r["grid"]: r for r in p["rows"] if r["method"] == "HotSpot multigrid"}
    slu = {r["grid"]: r for r in p["rows"] if r["method"] == "HotSpot SuperLU"}
    if slu:
        print("\nHotSpot wall time, SuperLU / multigrid: " + ", ".join(
            f"{g}: {slu[g]['wall_s']:.1f} / {mg[g]['wall_s']:.1f} s" for g in sorted(slu) if g in mg)
            + "; largest die difference between the builds "
            + f"{max(abs(slu[g]['die_mean_K'] - mg[g]['die_mean_K']) for g in slu if g in mg):.3f} K "
              "(mean). model_secondary 0, multigrid: " + ", ".join(
                f"{r['grid']}: {r['wall_s']:.1f} s" for r in p["primary_rows"]
                if r["method"] == "HotSpot multigrid") + ".")
    cli = next(r for r in p["rows"] if r["method"].startswith("thermesh CLI"))
    print(f"\nthermesh CLI: solve {cli['total_s']:.2f} s of {cli['wall_s']:.2f} s wall, "
          f"{cli['prisms']:,} prisms, its peak equals the in-process run's to "
          f"{cli['same_as_in_process_K']:.1e} K; its hotspot.steady has "
          f"{', '.join(cli['steady_prefixes'])} nodes.")
    print("\nEffect of the path (model_secondary 1 minus 0, same model and settings; HotSpot 0 "
          "with the multigrid build). Diagnosis rows: the path's layers kept, r_convec_sec x "
          f"{p['no_board_factor']:g} (no heat through the board), minus model_secondary 0:\n")
    print("| method | die mean K 0 -> 1 | d mean K | hottest block K 0 -> 1 | d block K | "
          "die peak K 0 -> 1 | d peak K | board W |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in [*p["effect"], *p["diagnosis"]]:
        print(f"| {r['method']} | {r['die_mean_K_0']:.2f} -> {r['die_mean_K_1']:.2f} | "
              f"{r['d_die_mean_K']:+.3f} | {r['hottest_block_K_0']:.2f} -> "
              f"{r['hottest_block_K_1']:.2f} | {r['d_hottest_block_K']:+.2f} | "
              f"{r['die_peak_K_0']:.2f} -> {r['die_peak_K_1']:.2f} | {r['d_die_peak_K']:+.2f} | "
              f"{r['board_W']:.4f} |")
    kt = p["sheet_conductance_W_per_K"]
    print("\nSheet conductance k t (W/K) of the layers above the die: "
          + ", ".join(f"{L} {kt[L]:.4f}" for L in ("metal", "c4", "substrate", "solder", "pcb"))
          + f"; die {kt['die']:.4f}.")


def notes(results) -> list[str]:
    """The differences explained, with this run's numbers."""
    out = []
    p1 = results.get("part1")
    if p1:
        ref = p1["reference"]
        hs128 = next((r for r in p1["rows"] if r["method"] == "HotSpot multigrid" and r["grid"] == 128), None)
        mg = [r for r in p1["rows"] if r["method"] == "HotSpot multigrid"]
        kt = p1["sheet_conductance_W_per_K"]
        if hs128:
            out.append(
                f"ev6, full package: HotSpot 128 is {hs128['err_mean_K']:+.2f} K off in the die's "
                f"mean and {hs128['err_peak_K']:+.2f} K at the peak against the converged layer "
                f"average, and its grid does not close the gap (peak error "
                + ", ".join(f"{r['err_peak_K']:+.2f} K at {r['grid']}" for r in mg)
                + "): the gap is its model, not its grid. Each layer is ONE node thick, and the "
                f"vertical resistance from a node is its whole layer's (no -detailed_3D), so the "
                f"sink spreads heat laterally with its full sheet conductance k t = "
                f"{kt['sink']:.2f} W/K ({kt['sink'] / kt['die']:.0f}x the die's {kt['die']:.4f}) right "
                f"under the spreader: hot spots spread too easily, so HotSpot's peaks are too low. "
                f"That lumping alone, solved by thermesh with the real overhangs, puts the peak "
                f"{p1['one_node_per_layer_fe']['peak_minus_reference_K']:+.2f} K and the mean "
                f"{p1['one_node_per_layer_fe']['mean_minus_reference_K']:+.2f} K from the "
                f"reference; HotSpot 128 is {hs128['peak_minus_one_node_per_layer_K']:+.2f} K from "
                f"that at the peak, the net effect of its lumped overhang (one node per side "
                f"trapezoid, tied to every edge cell; the two effects are separated exactly on "
                f"the equal-footprint stack in part 2); its "
                f"sink and spreader averages are {hs128['sink_mean_K']:.2f} / "
                f"{hs128['spreader_mean_K']:.2f} K against thermesh's {ref['sink_mean_K']:.2f} / "
                f"{ref['spreader_mean_K']:.2f} K. Face vs layer average on the die is only "
                f"{ref['face_minus_average_max_K']:.2f} K at most (thermesh), so it does not "
                "explain the gap.")
    p2 = results.get("part2")
    if p2:
        hot = [r for r in p2["rows"] if r["method"].startswith("HotSpot") and not r["timed_out"]]
        if hot:
            lumped = p2["one_node_per_layer_series"]
            peaks = ", ".join(f"{r['layer_peak_K']:.2f} K at {r['grid']}" for r in hot)
            h = hot[-1]
            out.append(
                f"Equal footprint: against the exact answer HotSpot {h['grid']} is off by "
                f"{h['max_error_vs_average_pct']:.1f} % of the peak rise ({h['peak_error_vs_average_K']:+.2f} K "
                f"at the peak, the mean only {h['mean_error_K']:+.2f} K) and its grid does not "
                f"change that (peak {peaks}): a model error. HotSpot's one node per layer alone, "
                f"solved exactly, costs {lumped['peak_minus_exact_K']:+.2f} K at the peak (the "
                f"sink's whole k t spreads heat at its top); HotSpot lies a further {h['peak_difference_vs_one_node_per_layer_K']:+.2f} K "
                f"below that model's exact answer at the peak, largest at the die's top edge where "
                f"ev6's hottest block sits (max {h['max_difference_vs_one_node_per_layer_K']:.2f} K; "
                f"{h['max_difference_vs_one_node_per_layer_inside_1mm_K']:.2f} K more than 1 mm "
                f"inside): HotSpot's spreader and sink side nodes tie every edge cell of those "
                f"layers to one node per side through rx/2 (+ a near-zero trapezoid here), a near "
                f"short along each edge even in this equal-footprint package"
                + (f"; with those ties cut (patched copy) HotSpot {cut['grid']} is "
                   f"{cut['peak_difference_vs_one_node_per_layer_K']:+.2f} K from the "
                   f"one-node-per-layer exact peak (max {cut['max_difference_vs_one_node_per_layer_K']:.2f} K "
                   f"over the die), so the two effects account for all of HotSpot's error"
                   if (cut := p2.get("side_nodes_cut")) and "skipped" not in cut else
                   " (not isolated in this run)")
                + ". The face-vs-average "
                f"correction is at most {p2['face_vs_average']['max_K']:.2f} K.")
    p3 = results.get("part3")
    if p3 and "diagnosis" in p3:
        d = p3["diagnosis"]
        pl = p3["power_layers"][0]

        def m(method, rc_small):
            rcs = sorted({r["r_convec"] for r in d})
            rc = rcs[0] if rc_small else rcs[-1]
            return next(r for r in d if r["method"] == method and r["r_convec"] == rc)

        a, b = m("HotSpot SuperLU -detailed_3D on", False), m("HotSpot SuperLU", False)
        c, e = m("HotSpot SuperLU -detailed_3D on", True), m("HotSpot SuperLU", True)
        t, ts = m("thermesh adaptive tol 5e-3", False), m("thermesh adaptive tol 5e-3", True)
        out.append(
            f"example3: HotSpot's -detailed_3D mode and its plain mode differ by "
            f"{a['layers'][pl]['mean_K'] - b['layers'][pl]['mean_K']:+.2f} K in layer {pl}'s mean "
            f"(64 x 64) and by {c['layers'][pl]['mean_K'] - e['layers'][pl]['mean_K']:+.2f} K with "
            f"r_convec 100x smaller; thermesh is {t['layers'][pl]['mean_K'] - b['layers'][pl]['mean_K']:+.2f} K "
            f"from the plain mode ({ts['layers'][pl]['mean_K'] - e['layers'][pl]['mean_K']:+.2f} K at the "
            f"small r_convec). The detailed mode's spreader-to-sink drop is "
            f"{a['spreader_mean_K'] - a['sink_mean_K']:.2f} K against {b['spreader_mean_K'] - b['sink_mean_K']:.2f} K "
            f"(plain) and {t['spreader_mean_K'] - t['sink_mean_K']:.2f} K (thermesh): with -detailed_3D "
            f"the coupling between layers n and n+1 is rz_n/2 + rz_n+1/2 (temperature_grid.c:103), "
            f"and the sink's rz already includes its share of r_convec * s_sink^2 / (cell area) "
            f"(temperature_grid.c:1054-1058), while the sink still reaches ambient through its full "
            f"rz: half the convection resistance, {p3['r_convec_die_half_K_per_W']:.2f} K/W over "
            f"the die's footprint, is counted a second time between spreader and sink. The 1 K "
            f"target against -detailed_3D cannot be met without copying that; against HotSpot's "
            f"plain mode the remaining difference is the one-node-per-layer lumping of part 1.")
    p4 = results.get("part4")
    if p4:
        ref = p4["reference"]
        ref0 = p4["primary_rows"][-1]
        h = next(r for r in p4["rows"] if r["method"] == "HotSpot multigrid" and r["grid"] == 128)
        h0 = next(r for r in p4["primary_rows"] if r["method"] == "HotSpot multigrid"
                  and r["grid"] == 128)
        eff = {e["method"]: e for e in p4["effect"]}
        eh, er = eff["HotSpot multigrid 128"], next(e for m, e in eff.items()
                                                    if m.startswith("thermesh reference"))
        dh, dt, dm = p4["diagnosis"]
        kt = p4["sheet_conductance_W_per_K"]
        out.append(
            f"Secondary path (ev6): HotSpot 128 is {h['err']['die_mean_K']:+.2f} K off in the die's "
            f"mean with the path and {h0['die_mean_K'] - ref0['die_mean_K']:+.2f} K without it: "
            f"the gap is the main path's one node per layer (part 1), not the secondary path. "
            f"The path carries {ref['board_share_pct']:.2f} % of the power (thermesh; HotSpot's "
            f"estimate {h['board_share_pct']:.2f} %), so the layers above the die stay within "
            f"{h['die_mean_K'] - h['layers']['pcb']['mean_K']:.2f} K (HotSpot) / "
            f"{ref['die_mean_K'] - ref['layers']['pcb']['mean_K']:.2f} K (thermesh) of the die's "
            f"mean over its footprint and inherit its offset (PCB {h['err']['pcb_mean_K']:+.2f}, "
            f"substrate {h['err']['substrate_mean_K']:+.2f}, C4 {h['err']['c4_mean_K']:+.2f} K). "
            f"HotSpot's die peak is {h['err']['die_peak_K']:+.2f} K off with the path and "
            f"{h0['die_peak_K'] - ref0['die_peak_K']:+.2f} K without, its hottest block "
            f"{h['hottest_block']} {h['err']['hottest_block_K']:+.2f} K with and "
            f"{h0['hottest_block_K'] - ref0['hottest_block_K']:+.2f} K without (the same model "
            f"errors as in part 1, slightly smaller because the path flattens the hot spots). "
            f"The path lowers the die's peak by {-eh['d_die_peak_K']:.2f} K in HotSpot and "
            f"{-er['d_die_peak_K']:.2f} K in thermesh, the hottest block by "
            f"{-eh['d_hottest_block_K']:.2f} / {-er['d_hottest_block_K']:.2f} K and the mean by "
            f"only {-eh['d_die_mean_K']:.3f} / {-er['d_die_mean_K']:.3f} K; with no heat through "
            f"the board the peak still drops by {-dh['d_die_peak_K']:.2f} / "
            f"{-dt['d_die_peak_K']:.2f} K, and by {-dm['d_die_peak_K']:.2f} K (thermesh) with the "
            f"metal layer alone on the die: the effect is lateral conduction right above the "
            f"die, the metal's k t = {kt['metal']:.4f} W/K ({kt['metal'] / kt['die']:.1f}x the "
            f"die's {kt['die']:.4f}), not heat leaving through the board. HotSpot's board heat "
            f"is {100 * (h['board_W'] / ref['board_W'] - 1):+.0f} % from thermesh's because its "
            f"whole chip is colder: its die mean rise is {h['die_mean_K'] - ref['die_mean_K']:+.2f} K "
            f"of {ref['die_mean_K'] - p4['ambient_K']:.2f} K.")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no 512 grids, lighter reference")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "vs_hotspot",
                        help="HotSpot's and thermesh's output folders (default /tmp/vs_hotspot)")
    parser.add_argument("--parts", default="1,2,3,4",
                        help="which parts to run, e.g. --parts 4 (default 1,2,3,4)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/vs_hotspot.json",
                        help="the JSON written (default benchmarks/results/vs_hotspot.json)")
    parser.add_argument("--no-patched", action="store_true",
                        help="skip the diagnosis with a patched HotSpot copy (built in /tmp)")
    parser.add_argument("--hotspot-timeout", type=float, default=240.0,
                        help="stop HotSpot's equal-footprint 512 x 512 multigrid run after this "
                             "many seconds (it converges slowly: about 19 min measured under load; "
                             "0 = let it finish); its time is then a lower bound")
    args = parser.parse_args()
    from thermal.app.output import write_json

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    parts = {int(p) for p in args.parts.split(",") if p.strip()}
    mg = hs.build("multigrid")
    try:
        slu = hs.build("superlu")
    except hs.HotSpotError as exc:
        log(f"SuperLU build unavailable: {exc}")
        slu = None
    load0 = os.getloadavg()
    wall = time.perf_counter()
    results = {}
    if 1 in parts:
        results["part1"] = part1(args, work, mg, slu)
    if 2 in parts:
        results["part2"] = part2(args, work, mg)
    if 3 in parts:
        results["part3"] = part3(args, work, slu)
    if 4 in parts:
        results["part4"] = part4(args, work, mg, slu)
    wall = time.perf_counter() - wall

    print(f"## thermesh vs HotSpot 7.0{' (--quick)' if args.quick else ''}")
    if "part1" in results:
        print_part1(results["part1"])
    if "part2" in results:
        print_part2(results["part2"])
    if "part3" in results:
        print_part3(results["part3"])
    if "part4" in results:
        print_part4(results["part4"])
    explained = notes(results)
    if explained:
        print("\n### Notes\n")
        for n in explained:
            print(f"- {n}")
    load1 = os.getloadavg()
    print(f"\nWall time {wall:.0f} s; load average {load0[0]:.2f} -> {load1[0]:.2f} "
          f"({os.cpu_count()} cores).")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"quick": args.quick, "machine": platform.platform(), "cpus": os.cpu_count(),
           "loadavg_before_after": [load0, load1], "wall_s": wall, **results,
           "notes": explained}
    write_json(args.out, _jsonable(doc))


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


if __name__ == "__main__":
    main()
