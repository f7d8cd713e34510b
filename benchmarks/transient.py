"""thermesh's ``transient`` against HotSpot 7.0's transient, side by side on this machine, one run.

The case is HotSpot's example2 transient (``examples/example2/run.sh``): ev6 in example2's
package (``example.config``, ``example.materials``: silicon die, TIM, aluminium spreader and sink,
``sampling_intvl`` 0.01 s), the 100 rows of ``gcc.ptrace``, started from the steady state of the
mean row. HotSpot runs as run.sh does: its steady solve writes ``gcc.steady``, copied to
``gcc.init``, then ``-init_file gcc.init -o gcc.ttrace -grid_transient_file gcc.grid.ttrace`` on
the grid model (64 x 64 by default, ``--hotspot-grid``). thermesh runs ``python -m thermal
transient ev6.flp --power gcc.ptrace --package example.config --materials example.materials
--no-png`` (``--init steady``, its default: the steady state of the mean row on its own mesh).

Times. Every timed run is a whole process around ``time.perf_counter``: HotSpot's binaries (its
steady run and its transient run, reported separately and summed) and thermesh's command line
(start-up, imports, reading, the steady start, writing ``peak.csv``, ``blocks.ttrace``, the
ParaView series and ``result.json`` all count; ``result.json``'s timing split shows where the
time goes). The machine's load average is recorded before and after every run: other work on
the machine slows every run, so only ratios within one run mean anything.

Accuracy. Against a converged thermesh reference run in-process (``--mesh power --tol 1e-3``,
the reduced integrator, exact in time, its basis refined to 5e-4 of the peak rise; ``--quick``:
tol 2e-3), itself checked against a run coarser in space (tol 2e-3) and, on that run's mesh,
against TR-BDF2 with 8 sub-steps per row (the integrators' difference): those differences are
reported and bound the reference's own error. Per row of the trace, and then the worst over the rows:

* peak error: thermesh's ``peak.csv`` (the junction face's hottest point) against the
  reference's junction-face peak; HotSpot's hottest silicon cell (``-grid_transient_file``,
  layer 0: a node for the die's whole thickness) against the reference's peak of the die's
  through-thickness average (like for like), and against its junction-face peak (what the die
  really reaches);
* block error: the largest over the blocks of |block temperature - reference|, where a block's
  temperature is the mean over the block of the die's through-thickness average: HotSpot's
  ``.ttrace`` (its layer node, ``grid_map_mode avg``) and thermesh's ``blocks.ttrace`` are the
  same quantity.

Errors are in K of temperature (= K of rise: the ambient is the same) and in % of the row's
reference peak rise (junction face minus ambient), never % of an absolute temperature.
HotSpot writes two decimals (0.005 K rounding).

Diagnosis: HotSpot scales every heat capacity by ``C_FACTOR = 0.333`` ("fitting factor to match
floworks (due to lumping)", temperature.h:116, RCutil.c:29, also on ``c_convec``), and its
SuperLU build takes ONE backward-Euler step per row (``backward_euler``,
temperature_grid.c:3662) where the default build integrates each row with adaptive RK4. thermesh
uses the physical capacities and has no ``c_convec``. So HotSpot is also run from a copy of its
source with ``C_FACTOR 1.0`` and ``-c_convec 0`` (thermesh's physics; built into
/tmp/hotspot[-superlu]-cfactor1): the remaining difference is HotSpot's discretisation. And
thermesh is also run from HotSpot's own block-constant ``gcc.init`` (``--init gcc.init``)
instead of its steady state on its mesh.

Linear cost: thermesh on the 1000-row trace (gcc.ptrace's rows tiled 10 times; same envelope, so
the same mesh) against the 100-row trace at the same settings (defaults; ``--quick``: the
cheapest setting): the wall-time and integration-time ratios (linear = 10 at most), and a check
that the first 100 rows agree with the 100-row run.

    python benchmarks/transient.py           # everything: HotSpot's default (multigrid) build
                                             # takes minutes per run (--hotspot-timeout)
    python benchmarks/transient.py --quick   # no multigrid build, lighter reference, cheap
                                             # linear-cost test
    python benchmarks/transient.py --rows 5 --quick --out /tmp/t.json   # smoke test

HotSpot is built into /tmp by ``benchmarks/hotspot_runner.py`` (reused when present). Writes
benchmarks/results/transient.json (ignored by git) and prints Markdown tables on stdout
(progress on stderr).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import hotspot_runner as hs

FLP = ROOT / "examples" / "ev6.flp"
PTRACE = ROOT / "examples" / "gcc.ptrace"
EX2 = ROOT / "tests" / "data" / "hotspot" / "example2"
CONFIG = EX2 / "example.config"
MATERIALS = EX2 / "example.materials"

#: thermesh command-line settings timed and compared, besides its defaults (read from its parser
#: and run without options): (integrator, tol, substeps); one equal to the defaults is not run
#: twice.
CLI_SETTINGS = [("reduced", 5e-3, None), ("reduced", 1e-2, None), ("reduced", 2e-2, None),
                ("trbdf2", 2e-2, 2), ("trbdf2", 2e-2, 1)]
#: Reference (integrator, tol, substeps), its space check (the same, coarser) and its
#: integrator check (TR-BDF2 on the space check's mesh, against it).
REFERENCE = {"full": {"ref": ("reduced", 1e-3, None), "space": ("reduced", 2e-3, None),
                      "integrator": ("trbdf2", 2e-3, 8)},
             "quick": {"ref": ("reduced", 2e-3, None), "space": ("reduced", 4e-3, None),
                       "integrator": ("trbdf2", 4e-3, 4)}}
#: The linear-cost test's settings: the defaults, or (--quick) the cheapest setting.
LINEAR = {"full": None, "quick": CLI_SETTINGS[2]}
TILES = 10
SPEED_TARGET = 10.0
MESH_KEYS = ("method", "tol", "plane_elements", "levels", "prisms")
#: Errors are also given from this row on (0-based), after the initial state's transient.
LATE = 10
SNAPSHOT_TIMES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def setting_label(integrator: str, tol: float, substeps: int | None) -> str:
    if integrator == "reduced":
        return f"reduced, tol {tol:g}"
    return f"TR-BDF2, tol {tol:g}, {substeps} substep{'s' if substeps > 1 else ''}"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def git_state() -> str:
    proc = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "unknown"


# ----------------------------------------------------------------------------------- inputs
def write_traces(work: Path, n_rows: int | None) -> tuple[Path, Path]:
    """The trace every run reads (gcc.ptrace, or its first ``n_rows``) and it tiled TILES times."""
    lines = [ln for ln in PTRACE.read_text().splitlines() if ln.strip()]
    header, rows = lines[0], lines[1:]
    if n_rows is not None:
        rows = rows[:n_rows]
    short, long_ = work / "gcc.ptrace", work / f"gcc_x{TILES}.ptrace"
    short.write_text("\n".join([header, *rows]) + "\n")
    long_.write_text("\n".join([header, *rows * TILES]) + "\n")
    return short, long_


# ------------------------------------------------------------------------------ thermesh side
def thermesh_cli(label: str, ptrace: Path, opts: list[str], out: Path) -> dict:
    """``python -m thermal transient ...`` as a subprocess: wall time and what it wrote."""
    from thermal.io.transient_files import read_peak_csv, read_ttrace

    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "thermal", "transient", str(FLP), "--power", str(ptrace),
           "--package", str(CONFIG), "--materials", str(MATERIALS), "--no-png", *opts,
           "--out", str(out)]
    before = load()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    doc = json.loads((out / "result.json").read_text())
    names, blocks = read_ttrace(out / "blocks.ttrace")
    peak = read_peak_csv(out / "peak.csv")
    mesh = doc["mesh"]
    run = {"label": label, "kind": "thermesh", "command": " ".join(cmd[1:]), "wall_s": wall,
           "load_before_after": [before, load()], "timing": doc["timing"], "solver": doc["solver"],
           "steps": doc["steps"], "rows": doc["rows"],
           "mesh": {k: mesh.get(k) for k in MESH_KEYS},
           "energy_imbalance_rel": doc["energy"]["imbalance_rel"],
           "peak_K": peak.temperature_K, "names": list(names), "blocks_K": blocks}
    log(f"  thermesh {label}: {wall:.1f} s (integrate {doc['timing']['integrate_s']:.1f} s, "
        f"{mesh.get('prisms')} prisms, {doc['steps']} steps), load {run['load_before_after']}")
    return run


def reference_run(label: str, ptrace: Path, integrator: str, tol: float, substeps: int | None,
                  out: Path) -> dict:
    """thermesh in-process at these settings: the same outputs as the command line (its row
    writer), plus per row the peak of the die's through-thickness average (HotSpot's node)."""
    import scipy.sparse as sp

    from thermal.app.cli import build_parser
    from thermal.app.inputs import load_inputs
    from thermal.app.transient import (
        Faces,
        RowOutputs,
        _layer_block_operator,
        _package_interval,
        prepare_transient,
        trace_sources,
    )
    from thermal.io.hotspot import read_ptrace
    from thermal.io.transient_files import read_peak_csv, read_ttrace

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    args = build_parser().parse_args(["transient", str(FLP), "--power", str(ptrace), "--package",
                                      str(CONFIG), "--materials", str(MATERIALS)])
    before = load()
    start = time.perf_counter()
    floorplan, model = load_inputs(args)
    names = [name for _, name in trace_sources(model, floorplan)]
    rows = read_ptrace(ptrace, names).rows
    interval = _package_interval(args)
    prepared = prepare_transient(floorplan, model, rows, interval, mesh="power", tol=tol,
                                 integrator=integrator, substeps=substeps or 1, init="steady")
    writer = RowOutputs(out, prepared, model, names, len(rows), 10**9, None)
    f = prepared.faces
    # the die's through-thickness average at its face's nodes (block means -> identity)
    one = Faces([f.layers[0]], [f.floorplans[0]], [f.meshes[0]], [f.nodes[0]],
                [sp.identity(len(f.nodes[0]), format="csr")])
    average = prepared.integrator.observer(
        _layer_block_operator(one, 0, model, prepared.prisms, prepared.system.K.shape[0]))
    average_peak: list[float] = []

    def on_rows(first, states):
        writer(first, states)
        average_peak.extend((average @ states.T).max(axis=0) + model.ambient)

    energy = prepared.advance(rows, on_rows)
    writer.finish()
    result = {**prepared.summary(len(rows)), "energy": energy}
    wall = time.perf_counter() - start
    names_read, blocks = read_ttrace(out / "blocks.ttrace")
    mesh = result["mesh"]
    run = {"label": label, "kind": "reference", "integrator": integrator, "tol": tol,
           "substeps": substeps,
           "wall_s_in_process": wall, "load_before_after": [before, load()],
           "timing": result["timing"], "solver": result["solver"], "steps": result["steps"],
           "mesh": {k: mesh.get(k) for k in MESH_KEYS},
           "energy_imbalance_rel": result["energy"]["imbalance_rel"],
           "ambient_K": model.ambient, "interval_s": interval,
           "peak_K": read_peak_csv(out / "peak.csv").temperature_K,
           "average_peak_K": np.array(average_peak), "names": list(names_read), "blocks_K": blocks}
    log(f"  reference {label}: {wall:.1f} s in-process ({mesh.get('prisms')} prisms, "
        f"{result['steps']} steps), load {run['load_before_after']}")
    return run


# ------------------------------------------------------------------------------- HotSpot side
def cfactor1_build(variant: str) -> Path:
    """A HotSpot binary with C_FACTOR 1.0 (physical heat capacities), from a patched copy of the
    source in /tmp."""
    src = Path("/tmp/hotspot-src-cfactor1")
    if not (src / "Makefile").is_file():
        shutil.copytree(hs.HOTSPOT_SRC, src, dirs_exist_ok=True)
    header = src / "temperature.h"
    text = header.read_text()
    patched = re.sub(r"(#define\s+C_FACTOR\s+)0\.333", r"\g<1>1.0", text)
    if patched != text:
        header.write_text(patched)
    if not re.search(r"#define\s+C_FACTOR\s+1\.0\b", header.read_text()):
        raise hs.HotSpotError(f"could not set C_FACTOR 1.0 in {header}")
    dest = Path(str(hs.BUILD_DIRS[variant]) + "-cfactor1")
    built = dest / "temperature.h"
    force = built.is_file() and not re.search(r"#define\s+C_FACTOR\s+1\.0\b", built.read_text())
    return hs.build(variant, src=src, dest=dest, force=force)


def read_grid_transient_layer0(path: Path, cells: int) -> np.ndarray:
    """(rows, cells) of layer 0 from HotSpot's -grid_transient_file ("t = ..." then every layer's
    "Layer n:" and its cells, per row)."""
    lines = path.read_text().splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.startswith("t =")]
    out = np.empty((len(starts), cells))
    for k, i in enumerate(starts):
        if lines[i + 1].strip() != "Layer 0:":
            raise hs.HotSpotError(f"{path}: expected 'Layer 0:' at line {i + 2}")
        out[k] = [float(ln.split()[1]) for ln in lines[i + 2:i + 2 + cells]]
    return out


def hotspot_transient(binary: Path, label: str, ptrace: Path, grid: int, work: Path,
                      extra: list[str], timeout: float | None) -> dict:
    """run.sh's two HotSpot processes, each timed: the steady state (its .steady becomes the
    init file), then the transient with -o and -grid_transient_file."""
    from thermal.io.transient_files import read_ttrace

    work.mkdir(parents=True, exist_ok=True)
    for f in ("gcc.steady", "gcc.grid.steady", "gcc.init", "gcc.ttrace", "gcc.grid.ttrace"):
        (work / f).unlink(missing_ok=True)  # -grid_transient_file appends
    common = [str(binary), "-c", str(CONFIG), "-f", str(FLP), "-p", str(ptrace), "-materials_file",
              str(MATERIALS), "-model_type", "grid", "-grid_rows", str(grid),
              "-grid_cols", str(grid)]
    steady_cmd = common + ["-steady_file", "gcc.steady", "-grid_steady_file", "gcc.grid.steady",
                           *extra]
    trans_cmd = common + ["-init_file", "gcc.init", "-o", "gcc.ttrace", "-grid_transient_file",
                          "gcc.grid.ttrace", *extra]
    walls = {}
    before = load()
    for name, cmd in (("steady", steady_cmd), ("transient", trans_cmd)):
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, check=False,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise hs.HotSpotError(f"HotSpot {label} {name} did not finish in {timeout} s") from None
        walls[name] = time.perf_counter() - start
        if proc.returncode != 0 or "error" in proc.stderr.lower():
            raise hs.HotSpotError(f"HotSpot {label} {name} failed ({proc.returncode}): "
                                  f"{proc.stderr.strip()}\ncommand: {' '.join(cmd)}")
        if name == "steady":
            shutil.copy(work / "gcc.steady", work / "gcc.init")
    names, blocks = read_ttrace(work / "gcc.ttrace")
    layer0 = read_grid_transient_layer0(work / "gcc.grid.ttrace", grid * grid)
    run = {"label": label, "kind": "hotspot", "binary": str(binary), "grid": grid,
           "commands": [" ".join(steady_cmd), " ".join(trans_cmd)],
           "steady_s": walls["steady"], "transient_s": walls["transient"],
           "wall_s": walls["steady"] + walls["transient"], "load_before_after": [before, load()],
           "peak_K": layer0.max(axis=1), "names": list(names), "blocks_K": blocks,
           "init": str(work / "gcc.init")}
    log(f"  HotSpot {label}: steady {walls['steady']:.1f} s + transient "
        f"{walls['transient']:.1f} s, "
        f"load {run['load_before_after']}")
    return run


# --------------------------------------------------------------------------------- accuracy
def aligned(run: dict, names: list[str]) -> np.ndarray:
    index = {n: i for i, n in enumerate(run["names"])}
    return run["blocks_K"][:, [index[n] for n in names]]


def errors(run: dict, ref: dict, peak_key: str = "peak_K", ref_peak_key: str = "peak_K") -> dict:
    """Per row and worst over rows: peak and block errors of ``run`` against ``ref``, in K and in
    % of the row's reference junction-face peak rise."""
    n = min(len(run["peak_K"]), len(ref["peak_K"]))
    rise = ref["peak_K"][:n] - ref["ambient_K"]
    dp = run[peak_key][:n] - ref[ref_peak_key][:n]
    db = aligned(run, ref["names"])[:n] - ref["blocks_K"][:n]
    row_block = np.abs(db).max(axis=1)
    rp, rb = int(np.argmax(np.abs(dp))), int(np.argmax(row_block))
    return {
        "peak_worst_K": float(dp[rp]), "peak_worst_row": rp,
        "peak_max_pct": float((np.abs(dp) / rise).max() * 100),
        "peak_mean_abs_K": float(np.abs(dp).mean()), "peak_last_K": float(dp[-1]),
        "block_max_abs_K": float(row_block[rb]), "block_worst_row": rb,
        "block_worst_name": ref["names"][int(np.argmax(np.abs(db[rb])))],
        "block_max_pct": float((row_block / rise).max() * 100),
        "block_rms_K": float(np.sqrt((db ** 2).mean())),
        # after the start's transient (HotSpot's init file is block-constant)
        f"peak_max_abs_K_rows_from_{LATE}": float(np.abs(dp[LATE:]).max(initial=0.0)),
        f"block_max_abs_K_rows_from_{LATE}": float(row_block[LATE:].max(initial=0.0)),
        "per_row_peak_K": dp.tolist(), "per_row_block_max_abs_K": row_block.tolist(),
    }


def pair(a: dict, b: dict) -> dict:
    """Blocks of ``a`` against ``b`` (no reference): worst over rows and blocks, and RMS."""
    n = min(len(a["peak_K"]), len(b["peak_K"]))
    db = aligned(a, b["names"])[:n] - b["blocks_K"][:n]
    r = int(np.argmax(np.abs(db).max(axis=1)))
    return {"block_max_abs_K": float(np.abs(db).max()), "block_worst_row": r,
            "block_rms_K": float(np.sqrt((db ** 2).mean())),
            "per_row_block_max_abs_K": np.abs(db).max(axis=1).tolist()}


# ------------------------------------------------------------------------------------ report
def jsonable(obj):
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def fmt(v, d=2):
    return "—" if v is None else f"{v:.{d}f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="skip HotSpot's default (multigrid) build, lighter reference, cheap "
                         "linear-cost test")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "transient.json"))
    ap.add_argument("--work", default="/tmp/thermesh_transient_bench")
    ap.add_argument("--hotspot-grid", type=int, default=64)
    ap.add_argument("--hotspot-timeout", type=float, default=3600.0,
                    help="seconds per HotSpot process (the multigrid transient takes minutes)")
    ap.add_argument("--rows", type=int, default=None, help="first N rows only (a smoke test)")
    ap.add_argument("--no-linear", action="store_true", help="skip the 1000-row test")
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "full"
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    ptrace, ptrace_long = write_traces(work, args.rows)
    load0, git0 = load(), git_state()
    log(f"mode {mode}, work {work}, load {load0}, {os.cpu_count()} CPUs")

    # HotSpot ----------------------------------------------------------------------------
    binaries = {"HotSpot SuperLU": (hs.build("superlu"), [])}
    if not args.quick:
        binaries["HotSpot default (multigrid)"] = (hs.build("multigrid"), [])
    diag_binaries = {"HotSpot SuperLU, C_FACTOR 1, c_convec 0": (cfactor1_build("superlu"),
                                                                  ["-c_convec", "0"])}
    if not args.quick:
        diag_binaries["HotSpot multigrid, C_FACTOR 1, c_convec 0"] = (
            cfactor1_build("multigrid"), ["-c_convec", "0"])
    hot, failures = {}, {}
    for group in (binaries, diag_binaries):
        for label, (binary, extra) in group.items():
            tag = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
            try:
                hot[label] = hotspot_transient(binary, label, ptrace, args.hotspot_grid,
                                               work / tag, extra, args.hotspot_timeout)
                hot[label]["diagnosis"] = group is diag_binaries
            except hs.HotSpotError as e:
                log(f"  {label}: {e}")
                failures[label] = str(e)
    hs_init = hot["HotSpot SuperLU"]["init"]

    # thermesh command line ----------------------------------------------------------------
    from thermal.app.cli import build_parser

    parsed = build_parser().parse_args(["transient"])
    default = (parsed.integrator, parsed.tol, None if parsed.integrator == "reduced" else parsed.substeps)
    default_label = f"default ({setting_label(*default)})"
    settings = [(default_label, default, [])] + [
        (setting_label(*x), x, ["--integrator", x[0], "--tol", f"{x[1]:g}"]
         + (["--substeps", str(x[2])] if x[2] else []))
        for x in CLI_SETTINGS if x != default]
    runs = {}
    for label, _, opts in settings:
        runs[label] = thermesh_cli(label, ptrace, opts, work / "cli" / re.sub(r"\W+", "_", label))
    diag_label = "default, --init HotSpot's gcc.init"
    runs[diag_label] = thermesh_cli(diag_label, ptrace, ["--init", hs_init],
                                    work / "cli" / "default_hotspot_init")
    runs[diag_label]["diagnosis"] = True

    # reference ----------------------------------------------------------------------------
    refs = {}
    for key, (integrator, tol, sub) in REFERENCE[mode].items():
        refs[key] = reference_run(setting_label(integrator, tol, sub), ptrace, integrator, tol, sub,
                                  work / f"reference_{key}")
    ref = refs["ref"]
    for r in refs.values():
        r["ambient_K"] = ref["ambient_K"]
    convergence = {}
    for key, against in (("space", "ref"), ("integrator", "space")):
        e = errors(refs[key], refs[against])
        ea = errors(refs[key], refs[against], "average_peak_K", "average_peak_K")
        convergence[key] = {"label": f"{refs[key]['label']} vs {refs[against]['label']}", **e,
                            "average_peak_worst_K": ea["peak_worst_K"]}

    # accuracy ---------------------------------------------------------------------------
    acc = {}
    for label, r in runs.items():
        acc[label] = errors(r, ref)
    for label, r in hot.items():
        like = errors(r, ref, "peak_K", "average_peak_K")
        junction = errors(r, ref)
        acc[label] = {**like, "peak_vs_junction_worst_K": junction["peak_worst_K"],
                      "peak_vs_junction_max_pct": junction["peak_max_pct"]}
    vs_hotspot = {label: pair(r, runs[default_label]) for label, r in hot.items()}

    # linear cost ------------------------------------------------------------------------
    linear = None
    if not args.no_linear:
        pick = default if LINEAR[mode] is None else LINEAR[mode]
        lin_label, _, lin_opts = next(x for x in settings if x[1] == pick)
        long_run = thermesh_cli(f"{lin_label}, {TILES}x rows", ptrace_long, lin_opts,
                                work / "cli" / "linear_long")
        short = runs[lin_label]
        n = len(short["peak_K"])
        first = aligned(long_run, short["names"])[:n] - short["blocks_K"]
        integrate = [short["timing"]["integrate_s"], long_run["timing"]["integrate_s"]]
        linear = {"settings": lin_label, "rows": [short["rows"], long_run["rows"]],
                  "wall_s": [short["wall_s"], long_run["wall_s"]], "integrate_s": integrate,
                  "wall_ratio": long_run["wall_s"] / short["wall_s"],
                  "integrate_ratio": integrate[1] / integrate[0],
                  "first_rows_max_abs_diff_K": float(np.abs(first).max()),
                  "long_run": {k: long_run[k] for k in ("command", "timing", "solver", "mesh",
                                                        "load_before_after", "steps")}}

    # verdict ----------------------------------------------------------------------------
    slu = hot["HotSpot SuperLU"]
    slu_acc = acc["HotSpot SuperLU"]
    speed = {label: {"vs_superlu_total": slu["wall_s"] / r["wall_s"],
                     "vs_superlu_transient_only": slu["transient_s"] / r["wall_s"]}
             for label, r in runs.items()}
    at_least_as_accurate = [
        label for label, _, _ in settings
        if acc[label]["block_max_abs_K"] <= slu_acc["block_max_abs_K"]
        and abs(acc[label]["peak_worst_K"]) <= abs(slu_acc["peak_worst_K"])]
    best = max(at_least_as_accurate, key=lambda k: speed[k]["vs_superlu_total"], default=None)
    verdict = {"target_speedup": SPEED_TARGET, "settings_at_least_as_accurate_as_superlu":
               at_least_as_accurate, "fastest_of_those": best,
               "its_speedup_vs_superlu_total": speed[best]["vs_superlu_total"] if best else None,
               "meets_target": bool(best and speed[best]["vs_superlu_total"] >= SPEED_TARGET)}

    load1 = load()
    doc = {"benchmark": "benchmarks/transient.py", "mode": mode,
           "git_before_after": [git0, git_state()],
           "machine": {"platform": platform.platform(), "python": platform.python_version(),
                       "cpus": os.cpu_count()},
           "loadavg_before_after": [load0, load1],
           "inputs": {"floorplan": str(FLP), "ptrace": str(PTRACE), "rows": len(ref["peak_K"]),
                      "config": str(CONFIG), "materials": str(MATERIALS),
                      "sampling_interval_s": ref["interval_s"], "ambient_K": ref["ambient_K"],
                      "hotspot_grid": args.hotspot_grid},
           "reference": {k: {kk: v for kk, v in r.items() if kk != "names"}
                         for k, r in refs.items()},
           "reference_convergence": convergence,
           "thermesh": {k: {kk: v for kk, v in r.items() if kk not in ("names", "blocks_K")}
                        for k, r in runs.items()},
           "hotspot": {k: {kk: v for kk, v in r.items() if kk not in ("names", "blocks_K")}
                       for k, r in hot.items()},
           "hotspot_failures": failures,
           "accuracy_vs_reference": acc, "hotspot_vs_thermesh_default": vs_hotspot,
           "speedup": speed, "linear_cost": linear, "verdict": verdict,
           "block_names": ref["names"]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(jsonable(doc), indent=1))

    # tables -----------------------------------------------------------------------------
    rows_n = len(ref["peak_K"])
    print(f"## thermesh transient vs HotSpot 7.0 ({mode}; ev6, {rows_n} rows of gcc.ptrace x "
          f"{ref['interval_s']:g} s, from the steady state; HotSpot grid {args.hotspot_grid} x "
          f"{args.hotspot_grid})\n")
    print(f"git {' -> '.join(dict.fromkeys(doc['git_before_after']))}; {os.cpu_count()} CPUs; "
          f"load average (1/5/15 min) {load0} before, "
          f"{load1} after. Wall times are whole processes.\n")
    print("### Time\n")
    print("Reduced runs: 'basis / steps' is the basis size, 'set-up' the basis's construction "
          "(its solves are block solves of all input directions at once, 'solves' counts "
          "columns). TR-BDF2 runs: steps, and set-up + initial steady solve.\n")
    print("| method | wall s | HotSpot steady s | transient s | mesh s | set-up s | integrate s | "
          "prisms | basis / steps | solves | CG its | SuperLU total / this |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in hot.items():
        print(f"| {label} | {r['wall_s']:.1f} | {r['steady_s']:.2f} | {r['transient_s']:.1f} | "
              f"| | | | | | | {slu['wall_s'] / r['wall_s']:.2f} |")
    for label, r in list(runs.items()) + [(f"reference ({k}) {r['label']}, in-process", r)
                                          for k, r in refs.items()]:
        t, s = r["timing"], r["solver"]
        wall = r.get("wall_s", r.get("wall_s_in_process"))
        set_up = t.get("reduce_s", t.get("setup_s", 0.0) + t.get("init_s", 0.0))
        size = s.get("basis", r["steps"])
        name = label if label.startswith("reference") else f"thermesh {label}"
        print(f"| {name} | {wall:.1f} | | | {t['mesh_s']:.2f} | {set_up:.2f} | "
              f"{t['integrate_s']:.2f} | {r['mesh']['prisms']} | {size} | {s['solves']} | "
              f"{s['cg_iterations']} | {slu['wall_s'] / wall:.2f} |")
    for label, msg in failures.items():
        print(f"| {label} | failed: {msg.splitlines()[0]} |")
    print(f"\n### Accuracy against the reference ({ref['label']}), worst over the rows\n")
    print("Peak: thermesh's junction face vs the reference's; HotSpot's hottest layer-0 cell vs "
          "the reference's peak of the die's through-thickness average (and vs its junction "
          "face). Blocks: block means of the die's through-thickness average (HotSpot's .ttrace, "
          "thermesh's blocks.ttrace). % of the row's reference junction peak rise "
          f"(rows' rises {np.min(ref['peak_K'] - ref['ambient_K']):.1f} to "
          f"{np.max(ref['peak_K'] - ref['ambient_K']):.1f} K).\n")
    print(f"| method | worst Δpeak K (row) | % | mean abs Δpeak K | Δpeak last row K | "
          f"max abs Δpeak K, rows >= {LATE} | HotSpot Δpeak vs junction K (%) | "
          f"max abs Δblock K (row, block) | % | RMS Δblock K | "
          f"max abs Δblock K, rows >= {LATE} |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, e in acc.items():
        is_hot = label in hot
        junction = (f"{e['peak_vs_junction_worst_K']:+.2f} ({e['peak_vs_junction_max_pct']:.1f})"
                    if is_hot else "")
        name = label if is_hot else f"thermesh {label}"
        print(f"| {name} | {e['peak_worst_K']:+.3f} ({e['peak_worst_row']}) | "
              f"{e['peak_max_pct']:.2f} | {e['peak_mean_abs_K']:.3f} | {e['peak_last_K']:+.3f} | "
              f"{e[f'peak_max_abs_K_rows_from_{LATE}']:.3f} | "
              f"{junction} | {e['block_max_abs_K']:.3f} ({e['block_worst_row']}, "
              f"{e['block_worst_name']}) | {e['block_max_pct']:.2f} | {e['block_rms_K']:.3f} | "
              f"{e[f'block_max_abs_K_rows_from_{LATE}']:.3f} |")
    print("\n### The reference's own convergence (difference from it)\n")
    print("| run | worst Δpeak junction K (row) | % | worst Δpeak average K | "
          "max abs Δblock K (row) | % |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, c in convergence.items():
        print(f"| {key}: {c['label']} | {c['peak_worst_K']:+.4f} ({c['peak_worst_row']}) | "
              f"{c['peak_max_pct']:.3f} | {c['average_peak_worst_K']:+.4f} | "
              f"{c['block_max_abs_K']:.4f} ({c['block_worst_row']}) | {c['block_max_pct']:.3f} |")
    print("\n### HotSpot's blocks against thermesh's default blocks.ttrace\n")
    print("| HotSpot | max abs Δblock K (row) | RMS K |")
    print("|---|---:|---:|")
    for label, p in vs_hotspot.items():
        print(f"| {label} | {p['block_max_abs_K']:.3f} ({p['block_worst_row']}) | "
              f"{p['block_rms_K']:.3f} |")
    dt = ref["interval_s"]
    idx = [round(t / dt) - 1 for t in SNAPSHOT_TIMES if round(t / dt) - 1 < rows_n]
    print("\n### Peak temperature (K) at some rows\n")
    print("| method | " + " | ".join(f"t = {(i + 1) * dt:g} s" for i in idx) + " |")
    print("|---|" + "---:|" * len(idx))
    def cells(values):
        return " | ".join(f"{values[i]:.2f}" for i in idx) + " |"

    print("| reference, junction face | " + cells(ref["peak_K"]))
    print("| reference, through-thickness average | " + cells(ref["average_peak_K"]))
    for label, r in runs.items():
        print(f"| thermesh {label} (junction) | " + cells(r["peak_K"]))
    for label, r in hot.items():
        print(f"| {label} (layer 0) | " + cells(r["peak_K"]))
    if linear:
        print("\n### Linear cost (thermesh, whole process)\n")
        print("| settings | rows | wall s | integrate s | integrate ms per row | first rows max "
              "abs Δ K vs the short run |")
        print("|---|---:|---:|---:|---:|---:|")
        for k in range(2):
            print(f"| {linear['settings']} | {linear['rows'][k]} | {linear['wall_s'][k]:.1f} | "
                  f"{linear['integrate_s'][k]:.1f} | "
                  f"{1e3 * linear['integrate_s'][k] / linear['rows'][k]:.1f} | "
                  f"{'' if k == 0 else fmt(linear['first_rows_max_abs_diff_K'], 6)} |")
        print(f"\nRatio {linear['rows'][1] // linear['rows'][0]}x rows: wall "
              f"{linear['wall_ratio']:.2f}x, integration {linear['integrate_ratio']:.2f}x.")
    print(f"\n### Verdict\n\nthermesh settings at least as accurate as HotSpot SuperLU "
          f"(max block error <= {slu_acc['block_max_abs_K']:.2f} K and |peak error| <= "
          f"{abs(slu_acc['peak_worst_K']):.2f} K): {', '.join(at_least_as_accurate) or 'none'}. "
          + (f"Fastest: {best}, {speed[best]['vs_superlu_total']:.2f}x HotSpot SuperLU's "
             f"steady + transient ({speed[best]['vs_superlu_transient_only']:.2f}x its transient "
             f"alone); target {SPEED_TARGET:g}x: "
             f"{'met' if verdict['meets_target'] else 'NOT met'}." if best else ""))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
