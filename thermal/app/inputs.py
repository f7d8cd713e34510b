"""From file names and flags to a floorplan and its model: the stack (default) or the lumped die.

Shared by every command and by batch runs, so ``solve``, ``predict``, ``compare`` and ``batch``
take the same options:

``--model stack`` (default)
    HotSpot's package around the die (:func:`thermal.geometry.stack.hotspot_package`), or the one a
    HotSpot configuration file sets (``--package``, with ``--materials``), or a thermesh TOML
    stack (``--stack``), or a HotSpot layer configuration file (``--lcf``: a 3D stack whose
    layers carry their own floorplans; the power trace then lists every power layer's blocks).
    ``--ambient`` applies.
``--model lumped``
    The single sheet with an effective heat-transfer coefficient: ``--conductivity
    --thickness --htc --ambient``, ``--config`` (TOML), a JSON floorplan's own parameters.

Lumped-only parameters given explicitly with a stack are an error (they would be ignored); a
JSON floorplan's stored lumped parameters are ignored by a stack, which ``result.json`` says.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from thermal.errors import InputError
from thermal.geometry.lumped import PARAMETERS

#: The physics models a run can use.
MODELS = ("stack", "lumped")
#: Parameters of the lumped die that a stack does not take.
LUMPED_ONLY = tuple(k for k in PARAMETERS if k != "ambient")


def model_options(args) -> dict:
    """The model options of parsed arguments, JSON-compatible (paths absolute)."""
    def path(name):
        value = getattr(args, name, None)
        return str(Path(value).expanduser().resolve()) if value else None

    return {"model": getattr(args, "model", None) or "stack",
            "package": path("package"), "materials": path("materials"), "stack": path("stack"),
            "lcf": path("lcf"), "config": path("config"),
            "parameters": {k: float(v) for k in PARAMETERS if (v := getattr(args, k, None)) is not None}}


def check_model_options(options: dict) -> None:
    """Refuse combinations that cannot mean anything, before any file is read."""
    kind = options["model"]
    stack_files = [f"--{k}" for k in ("package", "stack", "lcf") if options.get(k)]
    if kind == "lumped":
        if stack_files or options.get("materials"):
            raise InputError("command line", f"{', '.join(stack_files or ['--materials'])} "
                             "describes a stack: not with --model lumped")
        return
    lumped = [f"--{k.replace('_', '-')}" for k in LUMPED_ONLY if k in options["parameters"]]
    if lumped or options.get("config"):
        given = ", ".join(lumped or ["--config"])
        raise InputError("command line", f"{given} sets the lumped die: add --model lumped "
                         "(the default model is the package stack; --package, --stack or --lcf "
                         "change it)")
    if options.get("stack") and len(stack_files) > 1:
        raise InputError("command line", "--stack describes the whole stack: not with --package or --lcf")


def read_problem(floorplan_path, power_path, options: dict, *, snap: bool = True,
                 extra_parameters: tuple[dict, ...] = ()):
    """The floorplan and model a run solves.

    ``extra_parameters``: lumped-model parameter dicts applied after ``--config`` and before
    the flags (a batch case's own TOML), then the flags; for a stack only ``ambient`` may be
    among them.
    """
    from thermal.app.config import build_model, read_config
    from thermal.io import read_floorplan

    check_model_options(options)
    if options.get("lcf"):
        if floorplan_path is not None:
            raise InputError("command line", "with --lcf the floorplans come from the LCF file: "
                             "give no floorplan argument")
        stack = _read_lcf(options, power_path, snap)
        return stack.layers[stack.power_layers[0]].floorplan, _with_ambient(stack, options, extra_parameters)
    if floorplan_path is None:
        raise InputError("command line", "a floorplan is needed (or --lcf)")
    floorplan, file_params = read_floorplan(floorplan_path, power_path, snap=snap)
    if options["model"] == "lumped":
        config = read_config(options["config"]) if options.get("config") else {}
        try:
            model = build_model(file_params, config, *extra_parameters, options["parameters"])
        except InputError as exc:
            raise InputError("command line", exc.problem) from None
        return floorplan, model
    for extra in extra_parameters:
        lumped = [k for k in LUMPED_ONLY if k in extra]
        if lumped:
            raise InputError("command line", f"{', '.join(lumped)} set the lumped die: add --model lumped")
    stack = _read_stack(options, floorplan, snap)
    return floorplan, _with_ambient(stack, options, (file_params, *extra_parameters))


def _with_ambient(stack, options: dict, sources) -> object:
    ambient = None
    for src in (*sources, options["parameters"]):
        if src and src.get("ambient") is not None:
            ambient = float(src["ambient"])
    ignored = [k for src in sources if src for k in src if k in LUMPED_ONLY]
    if ignored:
        stack = replace(stack, ignored=tuple(dict.fromkeys((*stack.ignored, *(f"lumped {k}" for k in ignored)))))
    if ambient is None:
        return stack
    if not ambient > 0:
        raise InputError("command line", f"ambient must be positive, got {ambient}")
    return replace(stack, ambient=ambient)


def _materials(options: dict):
    from thermal.io.hotspot_config import read_materials

    return read_materials(options["materials"]) if options.get("materials") else None


def _config(options: dict):
    from thermal.io.hotspot_config import read_hotspot_config

    return read_hotspot_config(options["package"]) if options.get("package") else None


def _read_stack(options: dict, floorplan, snap: bool):
    if options.get("stack"):
        from thermal.io.stack_toml import read_stack_toml

        stack = read_stack_toml(options["stack"], snap=snap)
        return stack if stack.die is not None else stack.bound_to(floorplan)
    from thermal.io.hotspot_config import package_stack

    return package_stack(_config(options), _materials(options), floorplan)


def _read_lcf(options: dict, power_path, snap: bool):
    from thermal.io.lcf import read_lcf

    if power_path is None:
        raise InputError("command line", "--lcf needs --power: a trace listing every power layer's blocks")
    return read_lcf(options["lcf"], power_path, _materials(options), _config(options), snap=snap)


def load_inputs(args):
    """Floorplan and model from the parsed arguments (:func:`thermal.app.inputs.read_problem`)."""
    return read_problem(args.floorplan, args.power, model_options(args), snap=not args.no_snap)
