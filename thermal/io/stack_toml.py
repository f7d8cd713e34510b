"""A chip's package or 3D stack in a small TOML file of our own, for those not using HotSpot.

Example: HotSpot's default package (examples/package/stack.toml is the same with the built-in
``tim`` instead of ``my_tim``)::

    ambient = 318.15              # K (default: 318.15, HotSpot's)

    [sink]                        # the last layer's bottom face convects to ambient:
    r_convec = 0.1                # K/W over the whole face; or
    # htc = 2000.0                # W/(m^2 K). Exactly one of the two.

    # [top]                       # optional: layer 0's top face convects too (a board),
    # r_convec = 1.0              # K/W over that face, or htc; default adiabatic

    [materials.my_tim]            # materials of your own (a built-in name is replaced)
    conductivity = 4.0            # W/(m K)
    heat_capacity = 4.0e6         # J/(m^3 K)

    [[layer]]                     # layers from the top (farthest from the sink) down
    name = "die"
    thickness = 0.15e-3           # m
    material = "silicon"
    power = true                  # dissipates the floorplan's power

    [[layer]]
    name = "tim"
    thickness = 20e-6
    material = "my_tim"

    [[layer]]
    name = "spreader"
    thickness = 1e-3
    material = "copper"
    side = 0.03                   # a centred square of this side, m; omit: the die's footprint

    [[layer]]
    name = "sink"
    thickness = 6.9e-3
    material = "copper"
    side = 0.06

Top-level keys: ``ambient`` (K, optional), ``[sink]`` (required), ``[top]`` (optional: one of
``r_convec`` and ``htc`` for layer 0's top face, as HotSpot's secondary path ends in
``r_convec_sec`` over the PCB; without it that face is adiabatic), ``[materials.<name>]``
(optional), ``[[layer]]`` (one or more). A layer's keys:

``name`` (required, unique), ``thickness`` (m, required)
    The layer.
``material``, or ``conductivity`` and ``heat_capacity``
    Its material: a built-in or ``[materials]`` name, or the numbers inline.
``conductivity_z`` (optional)
    Through-plane conductivity, W/(m K), if it differs from the in-plane ``conductivity``
    (which may then be 0: no lateral heat flow, HotSpot's LCF flag ``N``).
``side`` (optional)
    A centred square footprint, m (a spreader, a sink); by default the die's rectangle.
``power`` (optional, default false)
    The layer dissipates its floorplan's power, uniformly through its thickness.
``active_thickness`` (optional)
    Or only in this top slice of the layer, m (3D-ICE's active layer).
``floorplan`` (optional)
    A HotSpot ``.flp`` for this layer (relative to ``floorplan_dir``, by default the TOML's
    folder). A power layer without one takes the floorplan the stack is solved for; a power
    layer with one gets its blocks' power from the power trace given to
    :func:`read_stack_toml` (its columns name the blocks of every such layer). 7-column rows
    give blocks their own material (a TSV bundle in a bond layer).

Built-in materials (:data:`BUILTIN_MATERIALS`): ``silicon`` 100 W/(m K), 1.75e6 J/(m^3 K)
(HotSpot's default die: silicon's conductivity near 100 C, not room temperature's ~130 of
HotSpot's example.materials); ``copper`` 400, 3.55e6; ``aluminium`` (also ``aluminum``) 237,
2.422e6 (HotSpot's example.materials); ``tim`` 4, 4.0e6 (HotSpot's default interface material).

Every problem is an :class:`~thermal.errors.InputError` naming the file and line: invalid TOML,
an unknown key, a value of the wrong type, a number not positive and finite (``conductivity``
may be 0), an unknown material, neither or both of ``material`` and the numbers, repeated layer
names, no power layer, ``r_convec`` and ``htc`` both or neither (in ``[top]``: both).
"""
from __future__ import annotations

import math
import os
import re
import sys
from pathlib import Path
from typing import Any, Union

from thermal.errors import InputError
from thermal.io.hotspot import PtraceData, _read_text, read_flp
from thermal.io.lcf import block_materials, layer_floorplan, trace_power
from thermal.geometry.stack import HOTSPOT_DEFAULTS, Layer, Material, Stack

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["read_stack_toml", "BUILTIN_MATERIALS"]

#: Materials every stack file knows (a ``[materials]`` entry of the same name replaces one).
BUILTIN_MATERIALS: dict[str, Material] = {
    "silicon": Material("silicon", 100.0, 1.75e6),
    "copper": Material("copper", 400.0, 3.55e6),
    "aluminium": Material("aluminium", 237.0, 2.422e6),
    "aluminum": Material("aluminum", 237.0, 2.422e6),
    "tim": Material("tim", 4.0, 4.0e6),
}

_TOP_KEYS = ("ambient", "sink", "top", "materials", "layer")
_SINK_KEYS = ("r_convec", "htc")
_MATERIAL_KEYS = ("conductivity", "heat_capacity")
_LAYER_KEYS = ("name", "thickness", "material", "conductivity", "heat_capacity",
               "conductivity_z", "side", "power", "active_thickness", "floorplan")
_NUMBER_KEYS = ("thickness", "conductivity", "heat_capacity", "conductivity_z", "side",
                "active_thickness")


def read_stack_toml(path: PathLike, floorplan_dir: PathLike | None = None,
                    power: PathLike | PtraceData | None = None, **kw) -> Stack:
    """Read a stack file (the format above).

    Parameters
    ----------
    path : str or PathLike
        The ``.toml`` file.
    floorplan_dir : str or PathLike, optional
        Where layers' ``floorplan`` files are found (default: the TOML's folder).
    power : str or PathLike or PtraceData, optional
        Power trace for the power layers that have a floorplan of their own (their blocks'
        steady power is its mean). Without it such layers carry zero power.
    **kw
        Passed to :meth:`Floorplan.from_blocks` (e.g. ``snap=False``).

    Returns
    -------
    Stack
        Bound to a die (:meth:`Stack.bound_to`) if every power layer has a floorplan, else
        unbound: bind it to the floorplan to solve.

    Raises
    ------
    InputError
        Any problem in the file, its floorplans or the power trace, naming the file and line.
    """
    source = str(path)
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        at = re.search(r"\(at line (\d+), column \d+\)", message)
        raise InputError(source, f"invalid TOML: {message.split(' (at ')[0]}",
                         int(at.group(1)) if at else None) from None
    lines = _key_lines(text)

    def line_of(*key) -> int | None:
        for n in range(len(key), 0, -1):
            if key[:n] in lines:
                return lines[key[:n]]
        return None

    def fail(problem: str, *key):
        raise InputError(source, problem, line_of(*key))

    _unknown(data, _TOP_KEYS, (), fail)
    ambient = _number(data, "ambient", (), fail, default=HOTSPOT_DEFAULTS["ambient"])

    sink = _table(data, "sink", (), fail, required=True)
    _unknown(sink, _SINK_KEYS, ("sink",), fail)
    given = [k for k in _SINK_KEYS if k in sink]
    if len(given) != 1:
        fail("[sink] needs exactly one of r_convec (K/W) and htc (W/(m^2 K)), got "
             + (" and ".join(given) or "neither"), "sink", *given[1:2])
    convection = {given[0]: _number(sink, given[0], ("sink",), fail)}
    top = _table(data, "top", (), fail)
    _unknown(top, _SINK_KEYS, ("top",), fail)
    given = [k for k in _SINK_KEYS if k in top]
    if len(given) > 1:
        fail("[top] takes one of r_convec (K/W) and htc (W/(m^2 K)), not both", "top", given[1])
    convection.update({f"{k}_top": _number(top, k, ("top",), fail) for k in given})

    materials = dict(BUILTIN_MATERIALS)
    for name, spec in _table(data, "materials", (), fail).items():
        where = ("materials", name)
        if not isinstance(spec, dict):
            fail(f"materials.{name} must be a table of conductivity and heat_capacity", *where)
        _unknown(spec, _MATERIAL_KEYS, where, fail)
        k, c = (_number(spec, key, where, fail, required=True) for key in _MATERIAL_KEYS)
        materials[name] = Material(name, k, c)

    layer_specs = data.get("layer")
    if not isinstance(layer_specs, list) or not layer_specs:
        fail("no layers: give one [[layer]] table per layer, from the top down", "layer")
    folder = Path(floorplan_dir) if floorplan_dir is not None else Path(path).parent
    rows = [_layer_args(spec, i, materials, folder, fail) for i, spec in enumerate(layer_specs)]

    names: dict[str, int] = {}
    for i, (args, _) in enumerate(rows):
        if args["name"] in names:
            fail(f"layer name '{args['name']}' repeats (also layer {names[args['name']] + 1})",
                 "layer", i, "name")
        names[args["name"]] = i
    if not any(args["power"] for args, _ in rows):
        fail("no layer has power = true: which layer dissipates the power?", "layer")

    flps = [read_flp(fp) if fp is not None else None for _, fp in rows]
    labels = [f"layer '{args['name']}'" for args, _ in rows]
    watts, power_source = trace_power(power, labels, flps, [args["power"] for args, _ in rows],
                                      [line_of("layer", i, "floorplan") for i in range(len(rows))],
                                      source)
    layers = []
    for i, ((args, _), flp, w) in enumerate(zip(rows, flps, watts)):
        if flp is not None:
            k_blocks, c_blocks = block_materials(flp)
            args.update(floorplan=layer_floorplan(flp, w, power_source, **kw),
                        block_conductivity=k_blocks, block_heat_capacity=c_blocks)
        try:
            layers.append(Layer(**args))
        except InputError as e:
            if e.source != "<stack>":
                raise
            fail(e.problem, "layer", i)
    try:
        stack = Stack(layers, ambient=ambient, source=source, **convection)
        first = next((layer.floorplan for layer in layers if layer.floorplan is not None), None)
        if first is not None and all(layer.floorplan is not None
                                     for layer in layers if layer.power):
            stack = stack.bound_to(first)
    except InputError as e:
        if e.source not in ("<stack>", source):
            raise
        named = re.match(r"layer '(.*?)'", e.problem)
        fail(e.problem, *(("layer", names[named.group(1)]) if named and named.group(1) in names
                          else ()))
    return stack


# ---------------------------------------------------------------------- values
def _unknown(table: dict, allowed: tuple[str, ...], where: tuple, fail) -> None:
    for key in table:
        if key not in allowed:
            scope = f"[{'.'.join(map(str, where[:2]))}]" if where else "at the top level"
            if where[:1] == ("layer",):
                scope = "in a [[layer]]"
            fail(f"unknown key '{key}' {scope}: expected {', '.join(allowed)}", *where, key)


def _table(data: dict, key: str, where: tuple, fail, required: bool = False) -> dict:
    if key not in data:
        if required:
            fail(f"no [{key}] table", *where)
        return {}
    value = data[key]
    if not isinstance(value, dict):
        fail(f"'{key}' must be a table ([{key}]), got {_type(value)}", *where, key)
    return value


def _number(table: dict, key: str, where: tuple, fail, *, default: float | None = None,
            required: bool = False, zero: bool = False) -> float | None:
    if key not in table:
        if required:
            fail(f"'{key}' is missing", *where)
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(f"'{key}' must be a number, got {_type(value)}", *where, key)
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        fail(f"'{key}' must be {'non-negative' if zero else 'positive'} and finite, got "
             f"{value!r}", *where, key)
    return float(value)


def _type(value: Any) -> str:
    return {bool: "a boolean", str: "a string", list: "an array", dict: "a table"}.get(
        type(value), type(value).__name__) + (f" {value!r}" if isinstance(value, (str, bool)) else "")


def _layer_args(spec: Any, i: int, materials: dict[str, Material], folder: Path, fail
                ) -> tuple[dict, Path | None]:
    """Keyword arguments of :class:`Layer` for one ``[[layer]]`` table, and its floorplan
    file."""
    where = ("layer", i)
    if not isinstance(spec, dict):
        fail("'layer' must be an array of tables ([[layer]])", *where)
    _unknown(spec, _LAYER_KEYS, where, fail)
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        fail(f"layer {i + 1} needs a name (a non-empty string)", *where, "name")
    args: dict = {"name": name}
    for key in _NUMBER_KEYS:
        value = _number(spec, key, where, fail, required=(key == "thickness"),
                        zero=(key == "conductivity"))
        if value is not None:
            args[key] = value
    material = spec.get("material")
    inline = [k for k in ("conductivity", "heat_capacity") if k in spec]
    if material is not None:
        if not isinstance(material, str):
            fail(f"'material' must be a string, got {_type(material)}", *where, "material")
        if inline:
            fail(f"layer '{name}': give either material or conductivity and heat_capacity, not "
                 "both", *where, inline[0])
        if material not in materials:
            fail(f"layer '{name}': unknown material '{material}'; known materials: "
                 f"{', '.join(materials)}", *where, "material")
        args.update(conductivity=materials[material].conductivity,
                    heat_capacity=materials[material].heat_capacity, material=material)
    elif len(inline) != 2:
        fail(f"layer '{name}' needs a material, or both conductivity and heat_capacity", *where,
             *inline[:1])
    if args.get("conductivity") == 0 and "conductivity_z" not in args:
        fail(f"layer '{name}': conductivity 0 (no lateral heat flow) needs conductivity_z, the "
             "through-plane conductivity", *where, "conductivity")
    power = spec.get("power", False)
    if not isinstance(power, bool):
        fail(f"'power' must be true or false, got {_type(power)}", *where, "power")
    args["power"] = power
    floorplan = spec.get("floorplan")
    path = None
    if floorplan is not None:
        if not isinstance(floorplan, str):
            fail(f"'floorplan' must be a file name, got {_type(floorplan)}", *where, "floorplan")
        path = Path(floorplan) if Path(floorplan).is_absolute() else folder / floorplan
        if not path.is_file():
            fail(f"floorplan file '{floorplan}' of layer '{name}' not found ({path})", *where,
                 "floorplan")
    return args, path


# ---------------------------------------------------------------------- line numbers
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _split_key(key: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", key)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def _key_lines(text: str) -> dict[tuple, int]:
    """Line of every table and key of a TOML text, by path: ``("sink", "htc")``,
    ``("layer", 2, "side")`` (the third ``[[layer]]``). A line scan, for messages only: keys
    inside multi-line strings may be misplaced, which costs a line number, never a value."""
    lines: dict[tuple, int] = {}
    arrays: dict[tuple, int] = {}
    table: tuple = ()
    in_string = None
    for lineno, line in enumerate(text.split("\n"), 1):
        if in_string:
            if line.count(in_string) % 2:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header:
            path = _split_key(header.group(2))
            if header.group(1) == "[[":
                arrays[path] = arrays.get(path, -1) + 1
                path = path + (arrays[path],)
            else:
                # A sub-table of the last element of an array of tables: [layer.x] after [[layer]]
                for n in range(len(path), 0, -1):
                    if path[:n] in arrays:
                        path = path[:n] + (arrays[path[:n]],) + path[n:]
                        break
            table = path
            lines.setdefault(table, lineno)
            continue
        key = _KEY.match(line)
        if key:
            path = table + _split_key(key.group(1))
            for n in range(len(table) + 1, len(path) + 1):
                lines.setdefault(path[:n], lineno)
            rest = line[key.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2:
                    in_string = quote
    return lines
