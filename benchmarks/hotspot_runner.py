"""Build and run HotSpot 7.0 (the reference thermal simulator) for side-by-side benchmarks.

HotSpot is never a dependency of thermesh or its tests: this module only drives the binary built
from /work/shared/tools/hotspot-7.0 (commit f18831e; keep its LICENSE with any copy) into /tmp.
numpy only, no thermesh imports. Steady state only.

    build("multigrid") -> /tmp/hotspot/hotspot              (make; grid sides must be powers of 2)
    build("superlu")   -> /tmp/hotspot-superlu/hotspot      (make SUPERLU=1; needs libsuperlu-dev
                                                              and libblas-dev; any grid size)
    run(binary, config=..., flp=..., ptrace=..., materials=..., lcf=None, grid=128,
        detailed_3d=False, workdir=..., extra=()) -> {"wall_s", "steady", "grid", "command", ...}
    write_equal_footprint_config(src, dst, die_width)      s_spreader = s_sink = die side
    python benchmarks/hotspot_runner.py [--out FILE]       the measured table (see main())

What HotSpot 7.0 does (file:line in the HotSpot source tree)
-------------------------------------------------------------
(a) Layers added below an LCF. With -grid_layer_file the stack is the LCF's layers
    (count_num_layers, temperature_grid.c:857) plus DEFAULT_PACK_LAYERS = 2
    (temperature_grid.c:869, temperature_grid.h:46-48): append_package_layers adds ONLY the
    heat spreader (temperature_grid.c:532-541: k_spreader, t_spreader, p_spreader) and the heat
    sink (:543-552: k_sink, t_sink, p_sink). No TIM: the interface layer exists only in the default
    stack without an LCF (populate_default_layers, :486-494), so an LCF must list its own TIM.
    Keys that still apply with an LCF: s_spreader, t_spreader, k_/p_spreader or
    material_spreader, s_sink, t_sink, k_/p_sink or material_sink, r_convec (c_convec for
    transients), ambient, grid_rows/cols, grid_map_mode, and the secondary-path keys
    (temperature.c:300-338 for material_*; package.c is only used with package_model_used).
    Ignored with an LCF: t_chip, k_chip, p_chip, material_chip, t_interface, k_interface,
    p_interface, material_interface, and -f (hotspot.c:473-478 warns "Overriding floorplan file").
    The die must fit: width/height <= s_spreader and <= s_sink (temperature_grid.c:1024-1031); the
    code never checks s_spreader <= s_sink (s_sink < s_spreader gives negative resistances,
    temperature.c:485).

(b) r_convec and the outside of the die. The grid covers only the die (cw = width/cols,
    ch = height/rows, temperature_grid.c:1035-1036); every layer, spreader and sink included, is ONE
    node thick. r_convec is spread over the sink's whole bottom face in proportion to area, i.e. a
    uniform h = 1/(r_convec * s_sink^2): each sink grid cell gets r_convec * s_sink^2/(cw*ch)
    added to its full-thickness vertical resistance rz (temperature_grid.c:1054-1058), so the die
    footprint as a whole sees r_convec * s_sink^2/(w*h); the outside parts get the same rule
    (temperature.c:495-497); these conductances are in parallel and sum to 1/r_convec. Outside
    the die footprint the spreader and sink are lumped "peripheral" nodes, EXTRA = 12
    (temperature.h:38-53): SP_W/E/N/S = the 4 spreader trapezoids around the die, SINK_C_W/E/N/S =
    the sink under those trapezoids, SINK_W/E/N/S = the sink outside the spreader; their R's are
    trapezoid formulas (temperature.c:479-497). Every edge cell of the spreader (sink) layer is
    tied to the side's node through rx/2 + nr*r_sp1_x (temperature_grid.c:2474-2494, sink
    2496-2520; same in build_transient_grid_matrix used by SuperLU, temperature_grid.c:5156).
    Vertical coupling: without -detailed_3D the R between layers n and n+1 is rz of layer n (full
    thickness; temperature_grid.c:117-121), so each node sits at the top of its layer and the sink
    node reaches ambient through its own rz + the r_convec share; with -detailed_3D it is
    rz_n/2 + rz_n+1/2, except layer 0 -> 1 which is rz_0 + rz_1/2 (temperature_grid.c:98-106),
    while the sink still reaches ambient through its full rz (temperature_grid.c:5440).
    The multigrid build (temperature_grid.c:2733-2796) iterates Gauss-Seidel until the largest
    update in a sweep is < 1e-6 K (util.h:18, util.c:17-19); with -detailed_3D and no SuperLU it
    is plain Gauss-Seidel from a heuristic start (temperature_grid.c:2826-2836), very slow.

(c) LCF format (temperature_grid.h:20-27; parser temperature_grid.c:612-760). '#' lines and
    blank lines are skipped; only the first whitespace token of a line is read. A block is 7 lines:
        <layer number>            0..N-1, unique; the stack order (0 = farthest from the sink)
        <lateral heat flow Y/N>   N -> rx = ry = 1e100 (temperature_grid.c:1044-1051)
        <dissipates power Y/N>    Y -> its floorplan's blocks must be in the ptrace
        <volumetric heat capacity J/(m^3 K)>
        <resistivity m K/W>       k = 1/rho (temperature_grid.c:695)
        <thickness m>
        <floorplan file>          opened relative to HotSpot's working directory; '.csv' means a
                                  microchannel network (needs -use_microfluidic_cooling 1)
    HotSpot 7.0 variant (temperature_grid.c:676-690): if line 4 does not parse as a number it is
    a material name from -materials_file; it sets BOTH the heat capacity and k of the layer and
    the resistivity line is omitted, so that block is 6 lines (number, Y/N, Y/N, material,
    thickness, floorplan). An unknown material is not an error: the lookup returns -1
    (materials.c:177-195) and k = capacity = -1 silently (checked: exit 0, that layer 21 K below
    ambient). All floorplans must have the same total width and height
    (temperature_grid.c:736-742).

(d) .flp columns 6 and 7 (flp.c:1080-1095): <specific heat> = volumetric heat capacity in
    J/(m^3 K) and <resistivity> in m K/W of that block. Both or neither: a 6-column line is
    counted as a unit but not parsed: "mismatch of number of units" (flp.c:1097-1117; checked).
    Used only with -detailed_3D on (set_bgmap, temperature_grid.c:390-400), which requires an LCF
    (hotspot.c:494-495): a grid cell >= 95 % covered by one block (OCCUPANCY_THRESHOLD,
    temperature_grid.h:58) takes that block's R's and C; a partly covered cell gets the
    occupancy-weighted sum of the blocks' conductances (temperature_grid.c:203-218, 292-305).
    Blocks without columns 6/7 use the layer's k.

(e) -steady_file (dump_temp_grid, temperature_grid.c:1322-1447): one "<name>\\t%.2f" line per block
    of every layer in stack order, then the lumped nodes. Prefixes: default stack "" (silicon),
    "iface_", "hsp_", "hsink_" (:1371-1381); with an LCF "layer_<n>_<block>" for LCF layer n,
    "hsp_", "hsink_" (:1383-1389); with -model_secondary also "metal_", "c4_" (not with an LCF),
    "sub_", "solder_", "pcb_" (:1393-1428), where <n> is then the model index (LCF layer 0 ->
    "layer_3_"). The spreader and sink rows reuse the block names of the layer above them (the
    silicon / last LCF layer, temperature_grid.c:540-552). Then "inode_0".."inode_11" = SP_W, SP_E,
    SP_N, SP_S, SINK_C_W/E/N/S, SINK_W/E/N/S (+ inode_12..27 with the secondary path). A block's
    value is the plain mean of the grid cells it touches, partial cells included
    (grid_map_mode avg, temperature_grid.c:1968-1990). Kelvin, 2 decimals.
    -grid_steady_file (dump_steady_temp_grid, temperature_grid.c:1262-1295): for every model layer
    n = 0..nl-1: "Layer <n>:" then rows*cols lines "<i*cols + j>\\t%.2f" (K, 2 decimals), row i = 0
    at the TOP of the die (largest y: set_bgmap, temperature_grid.c:362-365), column j = 0 at the
    left. Layers: default stack 0 = silicon, 1 = TIM, 2 = spreader, 3 = sink; LCF: 0..N-1 the LCF
    layers, N = spreader, N+1 = sink. Die footprint only; the peripheral nodes are not written.

(f) -model_secondary 1 (populate_default_layers :497-519, append_package_layers :561-603;
    properties temperature.h:91-112). Model layers, bottom of the secondary path first:
    0 = PCB (k = 3.0, t_pcb, side s_pcb), 1 = solder balls (k = 16.7, t_solder, s_solder),
    2 = package substrate (k = 2.0, t_sub, s_sub), then without an LCF 3 = C4/underfill
    (k = 1.25, t_c4), 4 = metal (k = 400, t_metal), 5 = silicon, 6 = TIM, 7 = spreader,
    8 = sink; with an LCF the LCF layers follow the substrate directly (no C4/metal). n_metal,
    s_c4 and n_c4 are read but unused. r_convec_sec is spread over the PCB bottom in proportion to
    area, s_pcb^2 (temperature_grid.c:2564-2567; temperature.c:520-522); 16 more lumped nodes
    SUB_*, SOLDER_*, PCB_C_*, PCB_* (temperature.h:56-79).

Power trace: the steady state uses the arithmetic MEAN of all rows of the ptrace, every row
weighted equally (hotspot.c:636-665); the header names are matched to blocks by name
(hotspot.c:560-583), so the column order does not matter.

Equal footprint: s_spreader = s_sink = the die side EXACTLY gives NaN everywhere (checked: the
trapezoids get zero width, r_hs2 + r_hs = 0 and 0/0 from temperature_grid.c:2120 on), so
write_equal_footprint_config makes both sides (1 + rel_margin) x the die side, default 1e-3
(16 um on ev6). Do not go much smaller with the multigrid build: with rel_margin 1e-6 it stops
on its 1e-6 K per-sweep test while still ~4 K too cold (ev6 64x64: peak 340.49 K after 326 s,
128x128: 340.57 K after 959 s, against 344.79 / 344.76 K from SuperLU); at 1e-3 both builds agree
to 0.01 K (128x128: 344.78 K, mean 328.36 K; multigrid 30 s, SuperLU 6-9 s) and differ from the
1e-9 limit by 0.02 K. Even so the 4 spreader and 4 sink side nodes remain: every edge cell of a
side is tied to one common node through rx/2 (a star that couples the whole edge), so HotSpot's
"equal footprint" stack is not exactly an adiabatic-sided column.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

HOTSPOT_SRC = Path("/work/shared/tools/hotspot-7.0")
BUILD_DIRS = {"multigrid": Path("/tmp/hotspot"), "superlu": Path("/tmp/hotspot-superlu")}
SUPERLU_HEADER = Path("/usr/include/superlu/slu_ddefs.h")
EXAMPLES = HOTSPOT_SRC / "examples"

__all__ = [
    "HotSpotError",
    "build",
    "flp_size",
    "layer_stats",
    "ptrace_mean_power",
    "read_grid_steady",
    "read_lcf",
    "read_steady",
    "run",
    "write_equal_footprint_config",
    "write_lcf",
]


class HotSpotError(RuntimeError):
    """HotSpot could not be built or a run failed (the message carries HotSpot's stderr)."""


# --------------------------------------------------------------------------------------- build
def _is_superlu_binary(binary: Path) -> bool:
    # a SUPERLU=1 binary links libsuperlu dynamically: dgssv is in its dynamic symbol table
    return b"dgssv" in binary.read_bytes()


def build(variant: str = "multigrid", *, src: Path | str = HOTSPOT_SRC,
          dest: Path | str | None = None, force: bool = False) -> Path:
    """Return the path of a HotSpot binary of `variant`, building it if missing (idempotent).

    variant "multigrid": plain `make` (C99 + libm; grid rows/cols must be powers of 2).
    variant "superlu":   `make SUPERLU=1` (needs /usr/include/superlu and libblas; e.g.
                         `apt-get install -y libsuperlu-dev libblas-dev`).
    The source tree is copied to `dest` (default /tmp/hotspot or /tmp/hotspot-superlu) with its
    LICENSE. An existing binary is reused when it is of the right variant, unless force=True.
    Raises HotSpotError with the reason when it cannot build.
    """
    if variant not in BUILD_DIRS:
        raise ValueError(f"variant must be one of {sorted(BUILD_DIRS)}, not {variant!r}")
    src = Path(src)
    dest = Path(dest) if dest is not None else BUILD_DIRS[variant]
    binary = dest / "hotspot"
    superlu = variant == "superlu"
    lock_path = Path(f"/tmp/hotspot-build-{dest.name}.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and binary.is_file() and os.access(binary, os.X_OK):
            if _is_superlu_binary(binary) == superlu:
                return binary
            force = True  # wrong variant in that folder: rebuild it
        if not (src / "Makefile").is_file():
            raise HotSpotError(f"HotSpot source not found at {src} (expected a Makefile there)")
        if superlu and not SUPERLU_HEADER.is_file():
            raise HotSpotError(
                f"cannot build the SuperLU variant: {SUPERLU_HEADER} is missing; install it with "
                "`apt-get install -y libsuperlu-dev libblas-dev` (root) or use variant='multigrid'")
        if shutil.which("make") is None or shutil.which("gcc") is None:
            raise HotSpotError("cannot build HotSpot: `make` and `gcc` are required")
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dest, dirs_exist_ok=True)
        if force:
            subprocess.run(["make", "-C", str(dest), "clean"], check=False, capture_output=True,
                           text=True)
        cmd = ["make", "-C", str(dest)] + (["SUPERLU=1"] if superlu else [])
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if proc.returncode != 0 or not binary.is_file():
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
            raise HotSpotError(f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n{tail}")
        if _is_superlu_binary(binary) != superlu:
            raise HotSpotError(f"{binary} was built but is not the {variant} variant "
                               "(stale objects? retry with force=True)")
        return binary


# ------------------------------------------------------------------------------------- inputs
def flp_size(flp: Path | str) -> tuple[float, float]:
    """(width, height) in m of a HotSpot .flp, computed as HotSpot does (flp.c:1501-1531)."""
    xs0, xs1, ys0, ys1 = [], [], [], []
    for line in Path(flp).read_text().splitlines():
        tok = line.split()
        if not tok or tok[0].startswith("#") or len(tok) < 5:
            continue
        try:
            w, h, x, y = (float(t) for t in tok[1:5])
        except ValueError:  # connectivity lines "<a> <b> <density>"
            continue
        xs0.append(x), xs1.append(x + w), ys0.append(y), ys1.append(y + h)
    if not xs0:
        raise ValueError(f"no blocks in {flp}")
    return max(xs1) - min(xs0), max(ys1) - min(ys0)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_lcf(lcf: Path | str) -> list[dict]:
    """Parse an LCF the way HotSpot does (temperature_grid.c:612-760).

    Returns one dict per block in file order: {"no", "lateral", "power", "thickness", "flp"} plus
    either {"capacity", "resistivity"} (7-line block) or {"material"} (6-line HotSpot 7.0 block).
    "flp" is the path as written (HotSpot resolves it against its working directory).
    """
    fields = ("no", "lateral", "power", "sp", "rho", "thickness", "flp")
    layers, cur, f = [], {}, 0
    for line in Path(lcf).read_text().splitlines():
        tok = line.split()
        if not tok or tok[0].startswith("#"):
            continue
        t = tok[0]
        name = fields[f]
        if name == "no":
            cur = {"no": int(t)}
        elif name in ("lateral", "power"):
            if t[0] not in "YyNn":
                raise ValueError(f"{lcf}: bad Y/N field {t!r}")
            cur[name] = t[0] in "Yy"
        elif name == "sp":
            if _is_float(t):
                cur["capacity"] = float(t)
            else:
                cur["material"] = t
                f += 1  # the resistivity line is omitted
        elif name == "rho":
            cur["resistivity"] = float(t)
        elif name == "thickness":
            cur["thickness"] = float(t)
        else:
            cur["flp"] = t
            layers.append(cur)
        f = (f + 1) % len(fields)
    if f != 0:
        raise ValueError(f"{lcf}: incomplete last block")
    return layers


def write_lcf(layers: Sequence[dict], path: Path | str) -> Path:
    """Write blocks as read by read_lcf (7-line form, or 6-line when "material" is given)."""
    out = ["# written by benchmarks/hotspot_runner.py"]
    for L in layers:
        out += [str(L["no"]), "Y" if L["lateral"] else "N", "Y" if L["power"] else "N"]
        if "material" in L:
            out.append(L["material"])
        else:
            out += [repr(float(L["capacity"])), repr(float(L["resistivity"]))]
        out += [repr(float(L["thickness"])), str(L["flp"]), ""]
    Path(path).write_text("\n".join(out))
    return Path(path)


def _set_config_keys(text: str, values: dict[str, str]) -> str:
    for key, val in values.items():
        pat = re.compile(rf"^(\s*-{re.escape(key)}\s+)\S+", re.MULTILINE)
        text, n = pat.subn(lambda m, v=val: m.group(1) + v, text)
        if n == 0:
            text = text.rstrip("\n") + f"\n-{key}\t{val}\n"
    return text


def write_equal_footprint_config(src: Path | str, dst: Path | str, die_width: float, *,
                                 die_height: float | None = None,
                                 rel_margin: float = 1e-3) -> Path:
    """Copy HotSpot config `src` to `dst` with s_spreader = s_sink = the die side.

    HotSpot's spreader and sink are square, so the side is max(die_width, die_height). Exact
    equality makes HotSpot return NaN (zero-width trapezoids: 0/0), so the side is multiplied by
    (1 + rel_margin). The default 1e-3 moves ev6's result by 0.02 K from the 1e-9 limit; much
    smaller margins make the multigrid build stop ~4 K short of convergence (module docstring).
    Other keys are left as they are.
    """
    side = max(die_width, die_height if die_height is not None else die_width)
    s = f"{side * (1.0 + rel_margin):.12g}"
    text = _set_config_keys(Path(src).read_text(), {"s_spreader": s, "s_sink": s})
    Path(dst).write_text(text)
    return Path(dst)


def ptrace_mean_power(ptrace: Path | str) -> dict[str, float]:
    """Per-block mean power of a ptrace, exactly what HotSpot's steady state uses."""
    lines = [ln.split() for ln in Path(ptrace).read_text().splitlines() if ln.strip()]
    names, rows = lines[0], np.array([[float(v) for v in r] for r in lines[1:]])
    return dict(zip(names, rows.mean(axis=0).tolist(), strict=True))


# ------------------------------------------------------------------------------------ outputs
def read_steady(path: Path | str) -> dict[str, float]:
    out = {}
    for line in Path(path).read_text().splitlines():
        tok = line.split()
        if len(tok) == 2:
            out[tok[0]] = float(tok[1])
    return out


def read_grid_steady(path: Path | str, rows: int, cols: int) -> dict[int, np.ndarray]:
    """{layer index: (rows, cols) array in K}, row 0 at the top of the die as HotSpot writes it."""
    layers: dict[int, list[float]] = {}
    cur = None
    for line in Path(path).read_text().splitlines():
        if line.startswith("Layer"):
            cur = int(line.split()[1].rstrip(":"))
            layers[cur] = []
        elif line.strip():
            layers[cur].append(float(line.split()[1]))
    out = {}
    for n, vals in layers.items():
        if len(vals) != rows * cols:
            raise HotSpotError(f"{path}: layer {n} has {len(vals)} values, expected {rows * cols}")
        out[n] = np.asarray(vals).reshape(rows, cols)
    return out


def layer_stats(result: dict) -> dict[int, dict[str, float]]:
    """Per grid layer: mean, peak and min (K) over the die-footprint cells."""
    return {n: {"mean": float(a.mean()), "peak": float(a.max()), "min": float(a.min())}
            for n, a in result["grid"].items()}


# ---------------------------------------------------------------------------------------- run
def run(binary: Path | str, *, config: Path | str, flp: Path | str | None = None,
        ptrace: Path | str, materials: Path | str | None = None, lcf: Path | str | None = None,
        grid: int | tuple[int, int] = 128, detailed_3d: bool = False, workdir: Path | str,
        extra: Iterable[str] = (), timeout: float | None = None) -> dict:
    """Run one steady-state HotSpot grid-model simulation and parse its outputs.

    grid: n (n x n) or (rows, cols). With `lcf`, the LCF is rewritten into `workdir` with its
    floorplan paths made absolute (resolved against the LCF's folder), since HotSpot opens them
    relative to its working directory; HotSpot runs with cwd = workdir. `extra` is appended to the
    command line (command-line values override the config file).

    Returns {"wall_s": subprocess wall time (time.perf_counter), "steady": {node: K},
    "grid": {layer index: (rows, cols) K array, row 0 = top of the die}, "command": [...],
    "rows", "cols", "workdir", "stdout", "stderr"}. Raises HotSpotError when HotSpot fails or
    writes a non-finite temperature (HotSpot exits 0 with NaN in some degenerate packages).
    """
    binary = Path(binary).resolve()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    rows, cols = (grid, grid) if isinstance(grid, int) else (int(grid[0]), int(grid[1]))
    steady_file = workdir / "hotspot.steady"
    grid_file = workdir / "hotspot.grid.steady"
    for f in (steady_file, grid_file):
        f.unlink(missing_ok=True)

    cmd = [str(binary), "-c", str(Path(config).resolve()), "-p", str(Path(ptrace).resolve())]
    if lcf is not None:
        lcf = Path(lcf).resolve()
        layers = read_lcf(lcf)
        for L in layers:
            p = Path(L["flp"])
            L["flp"] = str(p if p.is_absolute() else (lcf.parent / p).resolve())
            if any(c.isspace() for c in L["flp"]):
                raise HotSpotError(f"HotSpot cannot read a floorplan path with spaces: {L['flp']}")
        cmd += ["-grid_layer_file", str(write_lcf(layers, workdir / "layers.lcf"))]
    elif flp is not None:
        cmd += ["-f", str(Path(flp).resolve())]
    else:
        raise ValueError("give flp= or lcf=")
    if materials is not None:
        cmd += ["-materials_file", str(Path(materials).resolve())]
    cmd += ["-model_type", "grid", "-grid_rows", str(rows), "-grid_cols", str(cols),
            "-steady_file", str(steady_file), "-grid_steady_file", str(grid_file)]
    if detailed_3d:
        cmd += ["-detailed_3D", "on"]
    cmd += [str(e) for e in extra]

    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, cwd=workdir, capture_output=True, text=True,
                          timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or "error:" in proc.stderr or not grid_file.is_file():
        raise HotSpotError(f"HotSpot failed (exit {proc.returncode}): {proc.stderr.strip()}\n"
                           f"command: {' '.join(cmd)}")
    steady = read_steady(steady_file)
    grids = read_grid_steady(grid_file, rows, cols)
    bad = [k for k, v in steady.items() if not np.isfinite(v)]
    if bad or any(not np.isfinite(a).all() for a in grids.values()):
        raise HotSpotError(f"HotSpot wrote non-finite temperatures (e.g. {bad[:3]}); "
                           f"command: {' '.join(cmd)}")
    return {"wall_s": wall, "steady": steady, "grid": grids, "command": cmd, "rows": rows,
            "cols": cols, "workdir": str(workdir), "stdout": proc.stdout, "stderr": proc.stderr}


# ------------------------------------------------------------------------------ measurements
def _row(case: str, variant: str, res: dict, die_layers: Sequence[int] = (0,)) -> dict:
    st = layer_stats(res)
    row = {"case": case, "variant": variant, "grid": f"{res['rows']}x{res['cols']}",
           "wall_s": round(res["wall_s"], 3)}
    for n in die_layers:
        row[f"layer{n}_peak_K"] = st[n]["peak"]
        row[f"layer{n}_mean_K"] = round(st[n]["mean"], 3)
    row["layers"] = {n: {k: round(v, 3) for k, v in s.items()} for n, s in st.items()}
    return row


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the reference table: python benchmarks/hotspot_runner.py [--out FILE]."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/hotspot_bench/results.json")
    ap.add_argument("--work", default="/tmp/hotspot_bench")
    ap.add_argument("--grids", default="64,128,256", help="multigrid sizes for ev6")
    args = ap.parse_args(argv)
    work = Path(args.work)
    mg = build("multigrid")
    try:
        slu = build("superlu")
    except HotSpotError as e:
        print(f"SuperLU build unavailable: {e}", file=sys.stderr)
        slu = None
    ex2, ex3 = EXAMPLES / "example2", EXAMPLES / "example3"
    ev6 = {"config": ex2 / "example.config", "flp": ex2 / "ev6.flp",
           "ptrace": ex2 / "gcc.ptrace", "materials": ex2 / "example.materials"}
    load0 = os.getloadavg()
    rows, res = [], {}
    for n in (int(g) for g in args.grids.split(",")):
        res[("mg", n)] = run(mg, **ev6, grid=n, workdir=work / f"ev6_mg{n}")
        rows.append(_row("ev6", "multigrid", res[("mg", n)]))
    if slu:
        res[("slu", 128)] = run(slu, **ev6, grid=128, workdir=work / "ev6_slu128")
        rows.append(_row("ev6", "superlu", res[("slu", 128)]))
    w, h = flp_size(ev6["flp"])
    eq_cfg = write_equal_footprint_config(ev6["config"], work / "ev6_equal.config", w,
                                          die_height=h)
    eq = {**ev6, "config": eq_cfg}
    rows.append(_row("ev6 equal footprint", "multigrid",
                     run(mg, **eq, grid=128, workdir=work / "ev6_eq_mg128")))
    if slu:
        rows.append(_row("ev6 equal footprint", "superlu",
                         run(slu, **eq, grid=128, workdir=work / "ev6_eq_slu128")))
    names3 = None
    if slu:
        for n in (64, 128):
            r = run(slu, config=ex3 / "example.config", ptrace=ex3 / "example.ptrace",
                    materials=ex3 / "example.materials", lcf=ex3 / "example.lcf", grid=n,
                    detailed_3d=True, workdir=work / f"ex3_slu{n}")
            rows.append(_row("example3 LCF detailed_3D", "superlu", r, die_layers=(0, 2)))
            names3 = list(r["steady"])
    out = {"ev6_mean_power_W": sum(ptrace_mean_power(ev6["ptrace"]).values()),
           "example3_mean_power_W": sum(ptrace_mean_power(ex3 / "example.ptrace").values()),
           "equal_footprint_side_m": float(re.search(r"-s_sink\s+(\S+)",
                                                     eq_cfg.read_text()).group(1)),
           "loadavg_before_after": [load0, os.getloadavg()],
           "rows": rows, "example3_steady_names": names3}
    if ("slu", 128) in res and ("mg", 128) in res:
        d = np.abs(res[("mg", 128)]["grid"][0] - res[("slu", 128)]["grid"][0])
        out["ev6_128_multigrid_vs_superlu_layer0_max_abs_K"] = float(d.max())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"ev6 gcc.ptrace mean power {out['ev6_mean_power_W']:.2f} W; example3 "
          f"{out['example3_mean_power_W']:.2f} W; load {load0[0]:.2f} -> {os.getloadavg()[0]:.2f}")
    print("| case | build | grid | wall s | layer-0 peak K | layer-0 mean K |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['case']} | {r['variant']} | {r['grid']} | {r['wall_s']:.2f} | "
              f"{r['layer0_peak_K']:.2f} | {r['layer0_mean_K']:.2f} |")
    for r in rows:
        if r["case"].startswith("example3"):
            print(f"example3 {r['grid']} per layer (mean / peak / min K): " + "; ".join(
                f"{n}: {s['mean']:.2f} / {s['peak']:.2f} / {s['min']:.2f}"
                for n, s in r["layers"].items()))
    if "ev6_128_multigrid_vs_superlu_layer0_max_abs_K" in out:
        print(f"ev6 128x128 layer 0, max |multigrid - SuperLU| = "
              f"{out['ev6_128_multigrid_vs_superlu_layer0_max_abs_K']:.2f} K")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
