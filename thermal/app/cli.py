"""The ``thermesh`` command line.

Every problem with the user's input is one line on stderr and exit status 2, without a traceback
and without partial output files; a solver failure is exit status 1.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from thermal.app.inputs import load_inputs
from thermal.app.options import (COMPARE_METHODS, MESH_METHODS, mesh_defaults, method_list,
                                 name_list, positive_int, positive_number, relative_tolerance,
                                 resolution_list, tolerance_list)
from thermal.errors import InputError, SolverError, ThermeshError
from thermal.geometry.lumped import PARAMETERS


def add_model_arguments(parser: argparse.ArgumentParser, lcf: bool = True) -> None:
    """The model options, shared by every sub-command (:mod:`thermal.app.inputs`)."""
    group = parser.add_argument_group(
        "model: the package stack (default: HotSpot's package around the die) or the lumped die")
    group.add_argument("--model", choices=["stack", "lumped"], default="stack",
                       help="stack: die, TIM, spreader, sink (and more dies) on a 3D mesh (default); "
                            "lumped: one sheet with an effective heat-transfer coefficient")
    group.add_argument("--package", type=Path, metavar="CONFIG",
                       help="HotSpot configuration file: the package keys (t_chip, k_sink, "
                            "s_spreader, r_convec, material_*...) set the stack")
    group.add_argument("--materials", type=Path, help="HotSpot materials file (for material_* names and LCF materials)")
    group.add_argument("--stack", type=Path, metavar="TOML", help="thermesh stack file (layers, materials, sink)")
    if lcf:
        group.add_argument("--lcf", type=Path,
                           help="HotSpot layer configuration file: a 3D stack whose layers carry "
                                "their own floorplans (then give no floorplan argument; --power "
                                "lists every power layer's blocks)")
    group = parser.add_argument_group("lumped die parameters (--model lumped; --ambient for both)")
    for name, unit in PARAMETERS.items():
        group.add_argument(f"--{name.replace('_', '-')}", type=float, metavar=unit.replace("%", "%%"),
                           help=f"{name} in {unit}")
    group.add_argument("--config", type=Path, help="TOML file with the lumped die's keys")


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("floorplan", type=Path, nargs="?",
                        help="HotSpot .flp or thermesh .json floorplan (none with --lcf)")
    parser.add_argument("--power", type=Path,
                        help="HotSpot .ptrace (mean of rows), or a power map .csv/.npy (W per cell)")
    parser.add_argument("--no-snap", action="store_true",
                        help="use block edges exactly as given (may produce slivers)")
    add_model_arguments(parser)


def cmd_solve(args) -> int:
    from thermal.app.tasks import solve_to

    start = time.perf_counter()
    floorplan, model = load_inputs(args)
    mesh, tol = mesh_defaults(model, args.mesh, args.tol)
    sol = solve_to(floorplan, model, args.out, mesh=mesh, resolution=args.resolution,
                   tol=tol, budget=args.budget, conform=args.conform, verify=args.verify,
                   png=False if args.no_png else args.png, start=start, grid_steady=args.grid_steady,
                   critical=args.critical, critical_tol=args.critical_tol)
    pk = sol.peak
    print(f"{floorplan.source}: {sol.mesh_info['elements']:,} elements, peak {pk['temperature']:.3f} K "
          f"at ({pk['x'] * 1e3:.3f}, {pk['y'] * 1e3:.3f}) mm in {pk['block']}, "
          f"energy balance {sol.energy_balance_rel:.1e}, {sol.timing['total_s']:.2f} s")
    for layer in getattr(sol, "layer_peaks", lambda: [])()[1:]:
        print(f"  power layer {layer['layer']} ({layer['name']}): peak {layer['temperature']:.3f} K "
              f"at ({layer['x'] * 1e3:.3f}, {layer['y'] * 1e3:.3f}) mm")
    for block in sol.extra.get("critical", {}).get("blocks", []):
        print(f"  critical {block['block']}: {block['min_K']:.3f}-{block['max_K']:.3f} K, gradient up to "
              f"{block['max_gradient_K_per_m'] / 1e3:.2f} K/mm, estimated error {block['estimated_error_K']:.4f} K")
    if args.verify:
        v = sol.extra["verification"]
        against = "exact series" if v["reference"]["method"] == "cosine series" else "refined mesh"
        print(f"  vs {against}: max error {v['max_error_K']:.4f} K "
              f"({v['max_error_pct_of_peak_rise']:.3f} % of peak rise)")
    print(f"  results in {args.out}/")
    return 0


def cmd_predict(args) -> int:
    from thermal.app.tasks import predict_to

    if args.trace:
        from thermal.app.transient import require_trace

        require_trace(args.power)
    floorplan, model = load_inputs(args)
    trace = None
    if args.trace:
        from thermal.app.transient import trace_rows

        trace = trace_rows(args, floorplan, model)[1:]
    doc = predict_to(floorplan, model, args.out, model_path=args.hotspot_model, png=not args.no_png,
                     trace=trace, predictor=args.predictor)
    hotspots, seconds = doc["hotspots"], doc["timing"]["predict_s"]
    top = hotspots[0]
    print(f"{floorplan.source}: {len(hotspots)} hotspots predicted in {1e3 * seconds:.0f} ms; "
          f"hottest {top['temperature']:.2f} K at ({top['x'] * 1e3:.3f}, {top['y'] * 1e3:.3f}) mm "
          f"in {top['block']}")
    if trace is not None:
        t = doc["trace"]
        h = t["hottest"]
        print(f"  trace: {t['rows']} rows screened in {t['timing']['rows_s']:.2f} s "
              f"({t['timing']['per_row_ms']:.3f} ms per row after {t['timing']['set_up_s']:.2f} s of "
              f"set-up); hottest row {h['row']} at {h['time_s']:g} s: {h['temperature']:.2f} K at "
              f"({h['x'] * 1e3:.3f}, {h['y'] * 1e3:.3f}) mm in {h['block']}")
    print(f"  results in {args.out}/")
    return 0


def cmd_transient(args) -> int:
    from thermal.app.transient import main_transient

    return main_transient(args)


def cmd_generate(args) -> int:
    from hotspot_ml.generate import main_generate

    return main_generate(args)


def cmd_label_stacks(args) -> int:
    from hotspot_ml.stack_labels import main_label_stacks

    return main_label_stacks(args)


def cmd_train_stacks(args) -> int:
    from hotspot_ml.stack_train import main_train_stacks

    return main_train_stacks(args)


def cmd_train(args) -> int:
    from hotspot_ml.train import main_train

    return main_train(args)


def cmd_compare(args) -> int:
    from thermal.app.compare import main_compare

    return main_compare(args)


def cmd_batch(args) -> int:
    from thermal.app.batch import main_batch

    return main_batch(args)


def add_solve_arguments(parser: argparse.ArgumentParser) -> None:
    """Mesh choice and tolerance, shared by ``solve`` and ``batch --task solve``."""
    parser.add_argument("--mesh", default=None, choices=MESH_METHODS,
                        help="meshing method: uniform (--resolution), base (the coarsest mesh), "
                             "or an adaptive method aiming at --tol; 'adaptive' is sized by the "
                             "hotspot model (lumped die) or the stack's physics (default: "
                             "adaptive for a stack, uniform for the lumped die)")
    parser.add_argument("--tol", type=relative_tolerance, default=None,
                        help="adaptive methods: target max error relative to the peak temperature "
                             "rise (default 5e-3 for a stack, 1e-3 for the lumped die)")
    parser.add_argument("--budget", type=positive_int, help="adaptive methods: at most this many elements")
    parser.add_argument("--resolution", type=positive_int, default=200,
                        help="cells along the die's longer side for --mesh uniform (default 200)")
    parser.add_argument("--verify", action="store_true",
                        help="also compute the exact series solution (lumped die, equal-footprint "
                             "stacks) or, where none exists, solve again on a mesh refined in "
                             "every direction, and record the error")
    add_conform_argument(parser)


def add_conform_argument(parser: argparse.ArgumentParser) -> None:
    """``--conform``: meshes follow every block and power-source edge (before exact loads, the
    only way); by default they follow the die alone and the field decides their sizes."""
    parser.add_argument("--conform", action="store_true",
                        help="make every mesh follow every block and power-map cell edge "
                             "(slower on fine floorplans and maps; the default meshes follow the "
                             "die and the temperature field only, with the power integrated "
                             "exactly over each element)")


def add_interval_argument(parser: argparse.ArgumentParser) -> None:
    from thermal.app.options import positive_number

    parser.add_argument("--sampling-interval", type=positive_number, metavar="S",
                        help="length of a trace row, s (default: --package's sampling_intvl, "
                             "else HotSpot's 3.333e-6)")


def add_transient_arguments(parser: argparse.ArgumentParser) -> None:
    """Time stepping, initial state and outputs of ``thermesh transient``."""
    from thermal.app.options import init_state, positive_number

    add_interval_argument(parser)
    parser.add_argument("--init", type=init_state, default="steady",
                        help="state before the first row: ambient, steady (of the mean row, "
                             "HotSpot's usual start; default), a temperature in K, or a HotSpot "
                             ".steady/.init block file or a thermesh result folder")
    parser.add_argument("--integrator", default="reduced", choices=["reduced", "trbdf2"],
                        help="reduced (default): every row integrated exactly in a basis of fields "
                             "fitted to the trace (rational Krylov), refined until its estimated "
                             "error is below half --tol; trbdf2: --substeps TR-BDF2 steps per row on "
                             "the whole mesh")
    parser.add_argument("--substeps", type=positive_int, default=4,
                        help="--integrator trbdf2: steps per row (default 4: within 0.5 %% of the "
                             "exact answer on 1 ms rows that switch the hot units)")
    parser.add_argument("--mesh", default="power", choices=["power", "adaptive", "coarse", "amr", "uniform", "base"],
                        help="one mesh for the whole trace, the steady method's for the envelope of "
                             "the rows (every block at its largest power): power (from the power "
                             "density; default; on a stack with blocks of their own material also "
                             "from the envelope's steady solution), adaptive (from the trace's "
                             "screened hottest moments, as predict --trace), coarse, amr (these "
                             "solve the envelope's steady state to place elements), uniform, base")
    parser.add_argument("--tol", type=relative_tolerance, default=5e-3,
                        help="adaptive meshes: target max error relative to the peak rise, and "
                             "twice the reduced integrator's (default 5e-3)")
    parser.add_argument("--resolution", type=positive_int, default=100,
                        help="--mesh uniform: cells along the die's longer side (default 100)")
    parser.add_argument("--save-every", type=positive_int, default=10, metavar="N",
                        help="write the die (and for a stack the 3D field) every N rows and the last (default 10)")
    parser.add_argument("--threshold", type=positive_number, metavar="KELVIN",
                        help="report when each block first exceeds this temperature")
    parser.add_argument("--no-png", action="store_true", help="skip transient.png")


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    """Methods, tolerances and resolutions, shared by ``compare`` and ``batch --task compare``."""
    parser.add_argument("--methods", type=method_list,
                        default=list(COMPARE_METHODS),
                        help=f"adaptive methods to run (default {','.join(COMPARE_METHODS)})")
    parser.add_argument("--tolerances", type=tolerance_list, default=[2e-2, 1e-2, 5e-3, 2e-3, 1e-3],
                        help="relative tolerances for the adaptive methods (default 2e-2,1e-2,5e-3,2e-3,1e-3)")
    parser.add_argument("--resolutions", type=resolution_list, default=[25, 50, 100, 200, 400],
                        help="uniform mesh resolutions (default 25,50,100,200,400)")


def build_parser() -> argparse.ArgumentParser:
    from thermal.version import __version__

    parser = argparse.ArgumentParser(
        prog="thermesh", description="Chip temperature from a floorplan, meshed finely only where it matters.")
    parser.add_argument("--version", action="version", version=f"thermesh {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="solve the steady temperature field of a floorplan")
    add_input_arguments(p)
    add_solve_arguments(p)
    p.add_argument("--no-png", action="store_true", help="skip the PNG picture")
    p.add_argument("--png", choices=["hottest", "all"], default="hottest",
                   help="temperature.png shows the hottest power layer's face; 'all' also writes "
                        "layer_<n>.png for every other power layer")
    p.add_argument("--grid-steady", type=positive_int, metavar="N",
                   help="also write HotSpot's hotspot.grid.steady: every layer on an N x N grid "
                        "over the die, row 0 at the top")
    p.add_argument("--critical", type=name_list, metavar="NAME[,NAME...]",
                   help="temperature-sensitive blocks (of any power layer): refine inside them "
                        "until their estimated max error is below --critical-tol, whatever --tol "
                        "asks elsewhere; result.json reports each one's range, largest gradient "
                        "and estimated error")
    p.add_argument("--critical-tol", type=positive_number, default=0.02, metavar="KELVIN",
                   help="--critical: the estimated max error allowed inside those blocks "
                        "(default 0.02 K)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.set_defaults(run=cmd_solve)

    p = sub.add_parser("predict", help="predict hotspots from the floorplan alone (no solve)")
    add_input_arguments(p)
    p.add_argument("--hotspot-model", type=Path,
                   help="hotspot model file (.skops with its .json card), of the problem's kind "
                        "(lumped die or stack); default: the shipped one")
    p.add_argument("--predictor", choices=["model", "physics"], default="model",
                   help="model (default: the hotspot model, the lumped die's or the stack model) "
                        "or physics (the cheap physics alone: the baseline the model must beat)")
    p.add_argument("--trace", action="store_true",
                   help="also screen every row of the .ptrace as a transient (the reduced "
                        "transient on a coarse mesh, from the steady state of the mean row): "
                        "hotspots.csv, each row's hottest point")
    add_interval_argument(p)
    p.add_argument("--no-png", action="store_true", help="skip the PNG map")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("compare", help="every meshing method against the exact solution: "
                                        "accuracy/runtime table, plots, report.html")
    add_input_arguments(p)
    add_compare_arguments(p)
    add_conform_argument(p)
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.set_defaults(run=cmd_compare)

    p = sub.add_parser("batch", help="run solve, compare or predict over many floorplans")
    p.add_argument("input", help="a directory of .flp files (each with a same-stem .ptrace), "
                                 "a quoted glob of .flp files, or a CSV manifest (columns flp, ptrace "
                                 "and optionally any model parameter, mesh, tol, resolution)")
    p.add_argument("--task", choices=["solve", "compare", "predict"], default="solve")
    add_model_arguments(p, lcf=False)
    add_solve_arguments(p)
    add_compare_arguments(p)
    p.add_argument("--hotspot-model", type=Path,
                   help="--task predict: hotspot model file (.skops with its .json card); default: shipped")
    p.add_argument("--predictor", choices=["model", "physics"], default="model",
                   help="--task predict: the hotspot model (default) or the physics baseline alone")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="local parallel processes (joblib; default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a dask.distributed cluster, e.g. tcp://host:8786 "
                        "(pip install 'thermesh[distributed]')")
    p.add_argument("--no-png", action="store_true", help="skip per-case PNG pictures")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.set_defaults(run=cmd_batch)

    p = sub.add_parser("transient", help="the temperature over a power trace, row by row")
    add_input_arguments(p)
    add_transient_arguments(p)
    p.add_argument("--out", type=Path, default=Path("out"), help="output directory (default out/)")
    p.set_defaults(run=cmd_transient)

    p = sub.add_parser("generate", help="write synthetic floorplans (.flp, .ptrace, .toml)")
    p.add_argument("--count", type=positive_int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=positive_int, default=1)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(run=cmd_generate)

    p = sub.add_parser("label-stacks", help="generated packages and 3D stacks, solved to convergence "
                                             "beside their cheap physics (labels for a stack model)")
    p.add_argument("--samples", type=positive_int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=positive_int, default=1)
    p.add_argument("--tol", type=relative_tolerance, default=2e-3,
                   help="the converged solves' tolerance, relative to the peak rise (default 2e-3)")
    p.add_argument("--out", type=Path, required=True, help="directory for labels.npz and cases.json")
    p.set_defaults(run=cmd_label_stacks)

    p = sub.add_parser("train-stacks", help="train the stack hotspot model on label-stacks' labels")
    p.add_argument("--labels", type=Path, nargs="+", required=True,
                   help="label-stacks --out directories (the last fifth of their cases is held out)")
    p.add_argument("--out", type=Path, required=True, help="the model file (.skops; its trees and "
                   "card are written beside it)")
    p.set_defaults(run=cmd_train_stacks)

    p = sub.add_parser("train", help="train the hotspot model on synthetic floorplans")
    p.add_argument("--samples", type=positive_int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=positive_int, default=1)
    p.add_argument("--out", type=Path, required=True, help="model file, e.g. model.skops")
    p.set_defaults(run=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InputError as exc:
        print(f"thermesh: error: {exc}", file=sys.stderr)
        return 2
    except SolverError as exc:
        print(f"thermesh: solver error: {exc}", file=sys.stderr)
        return 1
    except ThermeshError as exc:
        print(f"thermesh: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
