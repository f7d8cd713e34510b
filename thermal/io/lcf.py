"""HotSpot layer configuration files (``.lcf``, ``-grid_layer_file``): a 3D stack of layers.

Format (temperature_grid.c ``parse_layer_file``, lines 612-760)
    Blocks of 7 lines with content, one field each; ``#`` starts a comment; blank lines are
    ignored::

        <layer number>                      0, 1, 2... from the top (farthest from the sink)
        <lateral heat flow: Y or N>
        <power dissipation: Y or N>
        <volumetric heat capacity J/(m^3 K)>
        <resistivity (m K)/W>
        <thickness m>
        <floorplan file>

    HotSpot 7.0's variant gives a material name (of its ``-materials_file``) on the 4th line
    instead of a number: the layer then takes the material's heat capacity and conductivity,
    and the resistivity line is left out, a block of 6 lines (temperature_grid.c:676-696: a 4th
    line that ``sscanf("%lf")`` cannot read is a material name, and the parser jumps to the
    thickness). Conductivity is 1 / resistivity; a layer without lateral heat flow (``N``) has
    in-plane conductivity 0 here (HotSpot: infinite rx and ry, temperature_grid.c:1044-1050) and
    keeps its through-plane conductivity. A floorplan of 7-column rows (heat capacity and
    resistivity per block, :mod:`thermal.io.hotspot`) gives those blocks their own material
    (``Layer.block_conductivity = 1 / resistivity``, ``block_heat_capacity``), as HotSpot does
    with ``-detailed_3D on`` (temperature_grid.c:392-399; without it HotSpot ignores them, and
    in its detailed 3D mode it also computes the lateral resistance of every cell a block covers
    from a conductivity, so there the ``N`` flag only holds outside the blocks).

What HotSpot simulates under an LCF
    The LCF replaces the die and the TIM: ``populate_layers_grid`` (temperature_grid.c:835-893)
    counts the LCF's layers (line 857), adds ``DEFAULT_PACK_LAYERS`` = 2 (line 869), reads the
    LCF (line 882) instead of ``populate_default_layers`` (line 885, the only place the chip and
    interface keys ``t_chip k_chip p_chip t_interface k_interface p_interface`` are used), then
    ``append_package_layers`` (line 889, body lines 523-551) appends the **spreader**
    (``t_spreader k_spreader p_spreader``, side ``s_spreader``) and the **heat sink**
    (``t_sink k_sink p_sink``, side ``s_sink``, whose face convects through ``r_convec``,
    lines 1054-1057). So the TIM, if any, must be a layer of the LCF (example3's layers 1 and 3),
    and :func:`read_lcf` appends the same two layers, from ``config`` or HotSpot's defaults (with
    ``material_spreader``/``material_sink`` resolved as HotSpot does); the chip and interface
    keys go to ``Stack.ignored``. HotSpot stops if the die is larger than the spreader or the
    sink ("inordinate floorplan size", lines 1024-1031); so do we.

Layer names
    ``layer_<n>`` for LCF layer n, as HotSpot prefixes their blocks in its steady file
    (``layer_%d_``, temperature_grid.c:1389); the package layers are ``spreader`` and ``sink``
    as in :func:`~thermal.geometry.stack.hotspot_package` (HotSpot's ``hsp_`` and ``hsink_``).

Power
    The power trace has one column per block of every power layer (hotspot.c:545-560).
    HotSpot takes the columns layer by layer, in layer order, by position (hotspot.c:576-586);
    here they are matched by name, in any order, so block names must be unique across the power
    layers (an error otherwise). The steady power is the mean of the rows, as for one die.

Differences from HotSpot, all stricter: layers must be numbered 0, 1, 2... in file order (HotSpot
places them by number); a flag is ``Y``, ``y``, ``N`` or ``n`` (HotSpot reads the first
character of the field); one field per line; a blank line inside a block is an error (it
points at the missing line); numbers must be positive and finite; an unknown material is an
error (HotSpot sets conductivity and heat capacity to -1); floorplan files are found relative to
the LCF's folder (HotSpot opens them relative to its working directory, temperature_grid.c:732,
which is the LCF's folder in its examples); every floorplan must have the same outline, position
included (HotSpot compares widths and heights to 1 um, lines 737-742, and maps blocks from the
origin).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np

from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan
from thermal.io.hotspot import (FlpData, PtraceData, _NUMBER, _count, _name_list, _positive_number,
                                _read_text, _show, read_flp, read_ptrace)
from thermal.io.hotspot_config import (HotspotConfig, _named, check_package_fit,
                                       package_parameters, unused_keys)
from thermal.geometry.stack import Layer, Material, Stack, hotspot_package, secondary_layers

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["read_lcf", "LCF_PACKAGE_KEYS"]

#: Configuration keys HotSpot uses under an LCF (the spreader, the sink and the convection).
LCF_PACKAGE_KEYS = ("s_spreader", "t_spreader", "k_spreader", "p_spreader", "material_spreader",
                    "s_sink", "t_sink", "k_sink", "p_sink", "material_sink", "r_convec",
                    "c_convec", "ambient")

_FIELDS = ("layer number", "lateral heat flow flag (Y/N)", "power dissipation flag (Y/N)",
           "heat capacity (or material)", "resistivity", "thickness", "floorplan file")
_SHAPE = ("a layer is 7 lines: number, lateral Y/N, power Y/N, heat capacity, resistivity, "
          "thickness, floorplan; or 6 with a material name instead of heat capacity and "
          "resistivity")
_LOOKS_NUMERIC = re.compile(r"[+-]?\.?[0-9]")


@dataclass
class _LayerSpec:
    """One block of an LCF, as read."""

    number: int
    line: int
    lateral: bool = True
    power: bool = False
    heat_capacity: float = 0.0
    conductivity: float = 0.0
    material: str | None = None
    thickness: float = 0.0
    floorplan: Path | None = None
    floorplan_line: int = 0


# ---------------------------------------------------------------------- reader
def read_lcf(path: PathLike, power: PathLike | PtraceData | None = None,
             materials: Mapping[str, Material] | None = None,
             config: HotspotConfig | None = None, **kw) -> Stack:
    """Read a HotSpot layer configuration file into the stack HotSpot simulates.

    Parameters
    ----------
    path : str or PathLike
        The ``.lcf`` file; its floorplan files are found relative to its folder.
    power : str or PathLike or PtraceData, optional
        The power trace (``.ptrace``): one column per block of every power layer; the steady
        power is its mean. Without it, the power layers' floorplans carry zero power (enough to
        inspect the stack, not to solve it).
    materials : dict, optional
        Name -> Material (:func:`~thermal.io.hotspot_config.read_materials`), for layers and
        package keys that name a material.
    config : HotspotConfig, optional
        The spreader, sink, ``r_convec`` and ``ambient`` (HotSpot's defaults if None); with
        ``model_secondary 1``, the secondary path's PCB, solder and substrate above the LCF's
        layers and ``r_convec_sec``.
    **kw
        Passed to :meth:`Floorplan.from_blocks` (e.g. ``snap=False``).

    Returns
    -------
    Stack
        ``layer_0``, ``layer_1``... then ``spreader`` and ``sink``, bound to the LCF's die
        (with the secondary path: ``pcb``, ``solder``, ``substrate``, then the LCF's layers
        numbered from 3 as HotSpot numbers them).

    Raises
    ------
    InputError
        Any problem in the LCF (naming its line), its floorplans, the power trace (a power
        layer's block without power, a column of no power layer's block, zero total power) or
        the configuration; a die larger than the spreader.
    """
    source = str(path)
    specs = _parse(_read_text(path), source, Path(path).parent, materials)

    if not any(spec.power for spec in specs):
        raise InputError(source, "no power layer: no layer has Y on its power line (the 3rd "
                         "of its block)")
    flps = [read_flp(spec.floorplan) for spec in specs]
    _check_outlines(specs, flps, source)
    watts, power_source = trace_power(power, [f"layer {s.number}" for s in specs], flps,
                                      [s.power for s in specs],
                                      [s.floorplan_line for s in specs], source)

    layers = []
    floorplans = []
    for spec, flp, w in zip(specs, flps, watts):
        k_blocks, c_blocks = block_materials(flp)
        fp = layer_floorplan(flp, w, power_source, **kw)
        floorplans.append(fp)
        keep = spec.power or k_blocks is not None
        layers.append(Layer(f"layer_{spec.number}", spec.thickness,
                            spec.conductivity if spec.lateral else 0.0, spec.heat_capacity,
                            conductivity_z=spec.conductivity, floorplan=fp if keep else None,
                            power=spec.power, block_conductivity=k_blocks,
                            block_heat_capacity=c_blocks, material=spec.material))

    params = package_parameters(config, materials)
    die = floorplans[0].die
    check_package_fit(params, config, die, source)
    spreader, sink = hotspot_package({**params, "model_secondary": 0}).layers[2:]
    ignored = unused_keys(config, params, LCF_PACKAGE_KEYS)
    top, c_top = None, 0.0
    if params["model_secondary"]:
        # HotSpot puts PCB, solder and substrate above the LCF's layers (no C4 or metal: the
        # LCF describes the chip) and numbers the LCF's layers after them.
        secondary = secondary_layers(params, chip_layers=False)
        layers = [*secondary, *(replace(layer, name=f"layer_{len(secondary) + spec.number}")
                                for spec, layer in zip(specs, layers))]
        top, c_top = params["r_convec_sec"], params["c_convec_sec"]
    with _named(source):
        stack = Stack((*layers, spreader, sink), r_convec=params["r_convec"],
                      ambient=params["ambient"], r_convec_top=top, c_convec=params["c_convec"],
                      c_convec_top=c_top, source=source, ignored=ignored)
        return stack.bound_to(floorplans[0])


def _parse(text: str, source: str, folder: Path, materials: Mapping[str, Material] | None
           ) -> list[_LayerSpec]:
    """The layer blocks of an LCF, checked field by field."""
    specs: list[_LayerSpec] = []
    spec: _LayerSpec | None = None
    field = 0  # index in _FIELDS of the next field expected
    count = 0  # fields read in the current block
    blank_since_block = True  # a blank line (or the file start) since the last block ended
    last_line = 0
    for lineno, line in enumerate(_lines(text), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            if not line.strip():
                if spec is not None:
                    _cut_short(spec, count, field, source, lineno, "the blank line")
                blank_since_block = True
            continue
        last_line = lineno
        if len(fields) > 1:
            raise InputError(source, f"expected one field per line ({_whose(spec)}"
                             f"{_FIELDS[field]}), got {len(fields)}", lineno)
        token = fields[0]
        if field == 0:
            spec = _LayerSpec(_layer_number(token, len(specs), source, lineno,
                                            blank_since_block), lineno)
        elif field in (1, 2):
            flag = _flag(token, spec, field, source, lineno)
            if field == 1:
                spec.lateral = flag
            else:
                spec.power = flag
        elif field == 3:
            if _NUMBER.fullmatch(token) or _LOOKS_NUMERIC.match(token):
                spec.heat_capacity = _positive_number(token, f"heat capacity of layer {spec.number}", source, lineno)
            else:
                material = _material(token, spec, materials, source, lineno)
                spec.material = material.name
                spec.heat_capacity = material.heat_capacity
                spec.conductivity = material.conductivity
                field = 4  # the resistivity line is left out
        elif field == 4:
            spec.conductivity = 1.0 / _positive_number(token, f"resistivity of layer {spec.number}", source, lineno)
        elif field == 5:
            spec.thickness = _positive_number(token, f"thickness of layer {spec.number}", source, lineno)
        else:
            spec.floorplan = _floorplan_path(token, folder, spec, source, lineno)
            spec.floorplan_line = lineno
        count += 1
        field += 1
        if field == len(_FIELDS):
            specs.append(spec)
            spec, field, count, blank_since_block = None, 0, 0, False
    if spec is not None:
        _cut_short(spec, count, field, source, last_line, "the end of the file")
    if not specs:
        raise InputError(source, "no layers: the file is empty or holds only comments")
    return specs


def _lines(text: str) -> list[str]:
    """The lines of ``text``, split at '\\n' only (numbers as an editor shows them); a final
    newline ends the last line rather than starting an empty one."""
    lines = text.split("\n")
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def _whose(spec: _LayerSpec | None) -> str:
    return "" if spec is None else f"layer {spec.number}'s "


def _cut_short(spec: _LayerSpec, count: int, field: int, source: str, line: int, at: str):
    total = 6 if spec.material is not None else 7
    raise InputError(source, f"layer {spec.number} (line {spec.line}) has {count} of its {total} "
                     f"lines before {at}: its {_FIELDS[field]} is missing ({_SHAPE})", line)


def _layer_number(token: str, expected: int, source: str, line: int, blank_before: bool) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", token):
        hint = "" if blank_before else (f" (one line too many in layer {expected - 1}'s block? "
                                        f"{_SHAPE})")
        raise InputError(source, f"layer number must be an integer, got {_show(token)}{hint}",
                         line)
    number = int(token)
    if number != expected:
        raise InputError(source, f"layer number {number} out of order: expected {expected} "
                         "(layers are numbered 0, 1, 2... in file order, from the top)", line)
    return number


def _flag(token: str, spec: _LayerSpec, field: int, source: str, line: int) -> bool:
    if token in ("Y", "y"):
        return True
    if token in ("N", "n"):
        return False
    raise InputError(source, f"{_FIELDS[field].split(' (')[0]} of layer {spec.number} must be Y "
                     f"or N, got {_show(token)}", line)


def _material(name: str, spec: _LayerSpec, materials: Mapping[str, Material] | None,
              source: str, line: int) -> Material:
    known = materials or {}
    if name not in known:
        listed = (f"known materials: {', '.join(known)}" if known else
                  "no materials were given (HotSpot has no built-in materials: give its "
                  "-materials_file)")
        raise InputError(source, f"layer {spec.number}: unknown material '{name}'; {listed}",
                         line)
    return known[name]


def _floorplan_path(token: str, folder: Path, spec: _LayerSpec, source: str, line: int) -> Path:
    path = Path(token)
    path = path if path.is_absolute() else folder / path
    if not path.is_file():
        raise InputError(source, f"floorplan file '{token}' of layer {spec.number} not found "
                         f"({path})", line)
    return path


# ---------------------------------------------------------------------- floorplans
def _outline(flp: FlpData) -> tuple[float, float, float, float]:
    return (float(flp.x.min()), float(flp.y.min()), float((flp.x + flp.width).max()),
            float((flp.y + flp.height).max()))


def _check_outlines(specs: Sequence[_LayerSpec], flps: Sequence[FlpData], source: str) -> None:
    ref = _outline(flps[0])
    tol = 1e-9 * max(ref[2] - ref[0], ref[3] - ref[1])
    for spec, flp in zip(specs[1:], flps[1:]):
        box = _outline(flp)
        if any(abs(a - b) > tol for a, b in zip(box, ref)):
            raise InputError(source, f"the floorplan of layer {spec.number} ({flp.source}) "
                             f"covers {_box(box)}, layer 0's ({flps[0].source}) {_box(ref)}: "
                             "every layer must have the same outline", spec.floorplan_line)


def _box(b) -> str:
    return (f"{(b[2] - b[0]) * 1e3:.6g} x {(b[3] - b[1]) * 1e3:.6g} mm from "
            f"({b[0] * 1e3:.6g}, {b[1] * 1e3:.6g}) mm")


def block_materials(flp: FlpData) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-block conductivity (1 / resistivity) and heat capacity of a floorplan's 7-column
    rows, NaN for the others; (None, None) if it has none. Raises, naming the floorplan file and
    line, for a value that is not positive."""
    if not flp.has_materials:
        return None, None
    for values, label in ((flp.heat_capacity, "heat capacity"),
                          (flp.resistivity, "resistivity")):
        bad = np.flatnonzero(values <= 0)  # NaN compares False: rows without a material
        if bad.size:
            i = int(bad[0])
            raise InputError(flp.source, f"{label} of block '{flp.names[i]}' must be positive, "
                             f"got {values[i]:g}", flp.lines[i])
    return 1.0 / flp.resistivity, flp.heat_capacity.copy()


def layer_floorplan(flp: FlpData, watts: np.ndarray | None, power_source: str = "<no power>",
                    **kw) -> Floorplan:
    """A :class:`Floorplan` of ``flp`` powered by ``watts`` per block, which may all be zero
    (a layer that dissipates nothing: :meth:`Floorplan.from_blocks` wants some power, so the
    floorplan is built with 1 W per block and its power then set to zero)."""
    n = len(flp)
    w = np.zeros(n) if watts is None else np.asarray(watts, dtype=float).reshape(-1)
    zero = not w.sum() > 0
    fp = Floorplan.from_blocks(flp.names, flp.x, flp.y, flp.width, flp.height,
                               power=np.ones(n) if zero else w, source=flp.source,
                               power_source=power_source, lines=flp.lines, **kw)
    return replace(fp, block_power=w.copy(), source_power=w.copy()) if zero else fp


# ---------------------------------------------------------------------- power
def trace_power(power: PathLike | PtraceData | None, labels: Sequence[str],
                flps: Sequence[FlpData | None], is_power: Sequence[bool],
                lines: Sequence[int | None], source: str
                ) -> tuple[list[np.ndarray | None], str]:
    """Watts per block of every power layer with a floorplan, from one power trace.

    Parameters
    ----------
    power : path or PtraceData or None
        The trace; None gives every power layer zero watts.
    labels : sequence of str
        How messages name each layer (``"layer 2"``).
    flps : sequence of FlpData or None
        Each layer's floorplan.
    is_power : sequence of bool
        Whether each layer dissipates power.
    lines : sequence of int or None
        Line of each layer's floorplan in ``source``, for messages.
    source : str
        The stack's file.

    Returns
    -------
    watts : list
        Per layer: the mean power of each of its blocks, in floorplan order, or None for a layer
        that is not a power layer or has no floorplan.
    power_source : str

    Raises
    ------
    InputError
        A block name in two power layers, a power layer's block missing from the trace, a trace
        column of no power layer's block, a total power of zero.
    """
    powered = [i for i, (flp, p) in enumerate(zip(flps, is_power)) if p and flp is not None]
    owner: dict[str, int] = {}
    for i in powered:
        for name, line in zip(flps[i].names, flps[i].lines):
            if name in owner:
                j = owner[name]
                raise InputError(source, f"block '{name}' is in the floorplans of two power "
                                 f"layers, {labels[j]} ({flps[j].source}) and {labels[i]} "
                                 f"({flps[i].source}:{line}): a power trace names blocks, so "
                                 "the blocks of power layers need different names", lines[i])
            owner[name] = i
    watts: list[np.ndarray | None] = [None] * len(flps)
    if power is None:
        for i in powered:
            watts[i] = np.zeros(len(flps[i]))
        return watts, "<no power>"
    trace = power if isinstance(power, PtraceData) else read_ptrace(power)
    mean = trace.mean
    column = {name: c for c, name in enumerate(trace.names)}
    for i in powered:
        missing = [n for n in flps[i].names if n not in column]
        if missing:
            raise InputError(trace.source, f"no power for {_count(len(missing), 'block')} of "
                             f"{labels[i]} ({flps[i].source}): {_name_list(missing)}",
                             trace.header_line)
        watts[i] = mean[[column[n] for n in flps[i].names]]
    extra = [n for n in trace.names if n not in owner]
    if extra:
        unpowered = {n: labels[i] for i, flp in enumerate(flps) if flp is not None
                     and not is_power[i] for n in flp.names}
        shown = [n for n in extra if n in unpowered][:1]
        hint = "".join(f"; '{n}' is a block of {unpowered[n]}, which dissipates no power"
                       for n in shown)
        raise InputError(trace.source, f"{_count(len(extra), 'block')} in no power layer's "
                         f"floorplan: {_name_list(extra)}{hint}", trace.header_line)
    if not sum(float(watts[i].sum()) for i in powered) > 0:
        raise InputError(trace.source, "total power is zero: nothing to simulate")
    return watts, trace.source
