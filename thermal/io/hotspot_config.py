"""HotSpot configuration files (``-c``), materials files (``-materials_file``) and the package.

Configuration file (``example.config``, ``hotspot.config``)
    One option per line, ``-key value``, separated by blanks or tabs; ``#`` starts a comment,
    whole-line or after the value; blank lines are ignored (util.c ``read_str_pairs``). HotSpot
    looks keys up case-insensitively (util.c ``get_str_index``, ``strcasecmp``), and so do we;
    :class:`HotspotConfig` stores them as HotSpot spells them. Stricter than HotSpot, which
    silently ignores what it does not look up and keeps the first of repeated keys
    (``str_pairs_remove_duplicates``): a key no HotSpot 7.0 reader or writer knows, a key given
    twice, a third field on a line and a non-number for a numeric key are errors here. The one
    unknown key accepted is ``use_microfluidic_cooling``, which HotSpot's own template.config
    and example configs carry although no HotSpot 7.0 code reads it (microchannels are switched on
    by ``-use_microchannels``).

Materials file (``example.materials``)
    Blocks of lines: name, ``solid`` or ``fluid``, thermal conductivity W/(m K), volumetric heat
    capacity J/(m^3 K), and for a fluid its dynamic viscosity Pa s (materials.c
    ``materials_add_from_file``, which reads the first field of each line with content). HotSpot
    7.0 has no built-in materials (materials.c ``default_materials`` empties the list): without
    a materials file, every ``material_*`` name is unknown. Here, blocks are separated by blank
    lines and a blank line inside a block is an error (it points at the missing line); numbers
    must be positive (HotSpot accepts zero); names must be unique (HotSpot takes the first).

The package (:func:`package_stack`)
    HotSpot's default package around one die: die, TIM, spreader, sink (thermal.geometry.stack
    :func:`~thermal.geometry.stack.hotspot_package`), from the package keys of a configuration. A
    ``material_<part>`` key replaces ``k_<part>`` and ``p_<part>`` whatever their order in the
    file: temperature.c ``thermal_config_add_from_strs`` reads every ``k_``/``p_`` key first
    (lines 118-166) and the ``material_`` keys last (lines 300-338), overwriting both values. With
    ``model_secondary 1`` the secondary heat path is built above the die as HotSpot's grid model
    builds it (:func:`~thermal.geometry.stack.secondary_layers`; its ``n_metal``, ``s_c4`` and
    ``n_c4`` feed only HotSpot's block model and are listed as ignored). The heat-sink model
    (``package_model_used 1``, which computes ``r_convec`` from a ``package_config_file``,
    hotspot.c:450-456 and package.c ``package_model``) is not supported and is an error. Every other key HotSpot knows (DTM,
    leakage, grid size, files, microchannels, the floorplanner's keys) is read, checked for
    nothing more, and listed in :attr:`Stack.ignored <thermal.geometry.stack.Stack.ignored>`.

Note that HotSpot reads ``-materials_file`` (and ``-f``, ``-p``, ``-o``, ``-c``, ``-d``,
``-detailed_3D``, ``-use_microchannels``) from its command line only: hotspot.c calls
``global_config_from_strs`` (line 402) before it reads the configuration file (line 410), so
these keys in a file have no effect there, and none here: give the materials to
:func:`package_stack` explicitly.
"""
from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from typing import Mapping, Union


from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan
from thermal.io.hotspot import _NUMBER, _content_lines, _positive_number, _read_text, _show
from thermal.geometry.stack import (HOTSPOT_DEFAULTS, HOTSPOT_SECONDARY_DEFAULTS, Material, Stack,
                                    hotspot_package)

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["HotspotConfig", "FluidMaterial", "read_hotspot_config", "read_materials",
           "package_parameters", "package_stack", "PACKAGE_KEYS", "MATERIAL_KEYS",
           "SECONDARY_KEYS", "HOTSPOT_SECONDARY_DEFAULTS", "HOTSPOT_KEYS"]

#: Parts of HotSpot's package, as its keys name them.
PARTS = ("chip", "interface", "spreader", "sink")
#: Numeric package keys (:data:`thermal.geometry.stack.HOTSPOT_DEFAULTS`).
PACKAGE_KEYS = tuple(HOTSPOT_DEFAULTS)
#: Material names for the package's parts (temperature.c:300-338).
MATERIAL_KEYS = tuple(f"material_{part}" for part in PARTS)

#: HotSpot 7.0's secondary heat path (C4/underfill, substrate, solder balls, PCB): its keys
#: (defaults in :data:`~thermal.geometry.stack.HOTSPOT_SECONDARY_DEFAULTS`). Integers where
#: HotSpot reads them with ``%d``.
SECONDARY_KEYS = tuple(HOTSPOT_SECONDARY_DEFAULTS)
#: The secondary-path keys the grid model (HotSpot's and ours) uses when the path is modelled.
SECONDARY_USED = tuple(k for k in SECONDARY_KEYS if k not in ("n_metal", "s_c4", "n_c4"))
_INTEGER_KEYS = {"model_secondary", "n_metal", "n_c4", "package_model_used"}

# Every key a HotSpot 7.0 reader looks up (get_str_index) or a writer dumps (*_to_strs, so that
# a file written with -d reads back).
_THERMAL_KEYS = (  # temperature.c thermal_config_add_from_strs / thermal_config_to_strs
    *PACKAGE_KEYS, *MATERIAL_KEYS, *SECONDARY_KEYS, "thermal_threshold", "init_file",
    "init_temp", "steady_file", "grid_transient_file", "sampling_intvl", "base_proc_freq",
    "dtm_used", "model_type", "leakage_used", "leakage_mode", "package_model_used",
    "package_config_file", "block_omit_lateral", "grid_rows", "grid_cols", "grid_layer_file",
    "grid_steady_file", "grid_map_mode", "detailed_3D_used")
_GLOBAL_KEYS = (  # hotspot.c global_config_from_strs / global_config_to_strs
    "f", "p", "o", "c", "d", "detailed_3D", "use_microchannels", "materials_file")
_HEATSINK_KEYS = (  # package.c package_config_add_from_strs (a package_config_file's keys)
    "natural_convec", "flow_type", "sink_type", "fin_height", "fin_width", "channel_width",
    "pin_height", "pin_diam", "pin_dist", "fan_radius", "motor_radius", "rpm")
_MICROCHANNEL_KEYS = (  # microchannel.c microchannel_config_add_from_strs / _to_strs
    "pumping_pressure", "pump_internal_res", "inlet_temperature", "coolant_material",
    "coolant_capac", "coolant_res", "coolant_visc", "wall_material", "wall_capac", "wall_res",
    "htc", "network_file", "cell_width", "cell_height", "cell_thickness", "floorplan_file",
    "num_rows", "num_columns", "n_fluid_cells")
_FLOORPLANNER_KEYS = (  # flp.c flp_config_add_from_strs (HotFloorplan)
    "wrap_l2", "l2_label", "model_rim", "rim_thickness", "compact_ratio", "n_orients", "P0",
    "Davg", "Kmoves", "Rcool", "Rreject", "Nmax", "lambdaA", "lambdaT", "lambdaW")
_UNREAD_KEYS = ("use_microfluidic_cooling",)  # template.config:131, read by no HotSpot code
#: Every key accepted in a HotSpot configuration file, spelled as HotSpot spells it.
HOTSPOT_KEYS = tuple(dict.fromkeys((*_THERMAL_KEYS, *_GLOBAL_KEYS, *_HEATSINK_KEYS,
                                    *_MICROCHANNEL_KEYS, *_FLOORPLANNER_KEYS, *_UNREAD_KEYS)))
_CANONICAL = {k.lower(): k for k in HOTSPOT_KEYS}

_UNSUPPORTED = {
    "package_model_used": "package_model_used 1 (HotSpot's heat-sink and fan model, which "
                          "computes r_convec from package_config_file) is not supported: set it "
                          "to 0 and give r_convec",
}


# ---------------------------------------------------------------------- data
@dataclass(frozen=True, eq=False)
class HotspotConfig:
    """A HotSpot configuration file, as read.

    Attributes
    ----------
    source : str
        The file read.
    values : dict
        Every key given (spelled as HotSpot spells it, without the '-') and its value as
        written, in file order.
    lines : dict
        1-based line of each key.
    package : dict
        The package keys given (:data:`PACKAGE_KEYS` as floats, :data:`MATERIAL_KEYS` as names).
    secondary : dict
        The secondary-path keys given (:data:`SECONDARY_KEYS`), numbers; HotSpot's defaults are
        :data:`HOTSPOT_SECONDARY_DEFAULTS`.
    sampling_interval : float or None
        ``sampling_intvl``, seconds between the rows of a power trace (HotSpot's default,
        3.333 us, applies when None).
    """

    source: str
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    package: dict[str, float | str] = field(default_factory=dict)
    secondary: dict[str, float | int] = field(default_factory=dict)
    sampling_interval: float | None = None

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def line(self, key: str) -> int | None:
        """Line of ``key`` in the file, None if not given."""
        return self.lines.get(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.values)


@dataclass(frozen=True)
class FluidMaterial(Material):
    """A fluid of a HotSpot materials file: a material with a dynamic viscosity, Pa s."""

    viscosity: float = 0.0


# ---------------------------------------------------------------------- configuration
def read_hotspot_config(path: PathLike) -> HotspotConfig:
    """Read a HotSpot configuration file.

    Parameters
    ----------
    path : str or PathLike
        A file of ``-key value`` lines (``hotspot -c``; a ``package_config_file`` reads too).

    Returns
    -------
    HotspotConfig

    Raises
    ------
    InputError
        Missing/unreadable/binary file; a line not of the form ``-key value``; a key HotSpot 7.0
        does not know; a key given twice; a package or secondary-path value that is not a
        number, not finite or out of range (thicknesses, sides, conductivities, heat capacities,
        ``r_convec``, ``ambient``, ``sampling_intvl`` positive; ``c_convec`` not negative);
        ``model_secondary`` or ``package_model_used`` not 0.
    """
    source = str(path)
    text = _read_text(path)
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    package: dict[str, float | str] = {}
    secondary: dict[str, float | int] = {}
    for line, fields in _content_lines(text):
        key = _key(fields, source, line)
        if key in values:
            raise InputError(source, f"-{key} given twice (also on line {lines[key]})", line)
        value = fields[1]
        values[key], lines[key] = value, line
        if key in MATERIAL_KEYS:
            package[key] = value
        elif key in PACKAGE_KEYS:
            package[key] = _number(key, value, source, line)
        elif key in SECONDARY_KEYS or key in ("sampling_intvl", "package_model_used"):
            number = _number(key, value, source, line)
            if key in SECONDARY_KEYS:
                secondary[key] = number
            if key in _UNSUPPORTED and number != 0:
                raise InputError(source, _UNSUPPORTED[key], line)
            if key == "model_secondary" and number not in (0, 1):
                raise InputError(source, f"-model_secondary must be 0 or 1, got {value}", line)
    interval = values.get("sampling_intvl")
    return HotspotConfig(source, values, lines, package, secondary,
                         None if interval is None else float(interval))


def _key(fields: list[str], source: str, line: int) -> str:
    """The key of a ``-key value`` line, as HotSpot spells it; raises on a malformed line."""
    first = fields[0]
    if not first.startswith("-") or len(first) == 1:
        raise InputError(source, f"expected '-key value', got {_show(' '.join(fields))}", line)
    key = _CANONICAL.get(first[1:].lower())
    if key is None:
        hint = difflib.get_close_matches(first[1:], HOTSPOT_KEYS, n=1)
        raise InputError(source, f"unknown key {first}: not a HotSpot 7.0 option"
                         + (f" (did you mean -{hint[0]}?)" if hint else ""), line)
    if len(fields) == 1:
        raise InputError(source, f"-{key} has no value: expected '-{key} value'", line)
    if len(fields) > 2:
        raise InputError(source, f"expected '-{key} value', got {len(fields)} fields (a comment "
                         "starts with '#')", line)
    return key


def _number(key: str, value: str, source: str, line: int) -> float | int:
    """``value`` of numeric ``key``, checked for HotSpot's range."""
    if key in _INTEGER_KEYS:
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            raise InputError(source, f"-{key} must be an integer, got {_show(value)}", line)
        number: float | int = int(value)
        if key in ("n_metal", "n_c4") and number <= 0:
            raise InputError(source, f"-{key} must be positive, got {value}", line)
        return number
    if not _NUMBER.fullmatch(value):
        raise InputError(source, f"-{key} must be a number, got {_show(value)}", line)
    number = float(value)
    if not math.isfinite(number):
        raise InputError(source, f"-{key} must be finite, got {value}", line)
    if key == "c_convec":
        if number < 0:
            raise InputError(source, f"-{key} must not be negative, got {value}", line)
    elif number <= 0:
        raise InputError(source, f"-{key} must be positive, got {value}", line)
    return number


# ---------------------------------------------------------------------- materials
_MATERIAL_FIELDS = ("name", "type (solid or fluid)", "thermal conductivity",
                    "volumetric heat capacity", "dynamic viscosity")


def read_materials(path: PathLike) -> dict[str, Material]:
    """Read a HotSpot materials file.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    dict
        Name -> :class:`~thermal.geometry.stack.Material` (a :class:`FluidMaterial` for a fluid), in file
        order. HotSpot has no built-in materials, so this is every material HotSpot knows.

    Raises
    ------
    InputError
        Missing/unreadable/binary file; a type other than ``solid``/``fluid``; a block cut short
        (by a blank line or the end of the file); more than one field on a line; a number that
        is not one, not finite or not positive; a name given twice.
    """
    source = str(path)
    text = _read_text(path)
    materials: dict[str, Material] = {}
    first_line: dict[str, int] = {}
    block: list[tuple[int, str]] = []  # (line, field) of the block being read

    def expected(block) -> int:
        return 5 if len(block) > 1 and block[1][1] == "fluid" else 4

    def finish(block) -> None:
        (name_line, name), _, (kl, k), (cl, c), *rest = block
        k = _positive_number(k, f"thermal conductivity of material '{name}'", source, kl)
        c = _positive_number(c, f"volumetric heat capacity of material '{name}'", source, cl)
        if rest:
            mu = _positive_number(rest[0][1], f"dynamic viscosity of material '{name}'", source,
                                  rest[0][0])
            materials[name] = FluidMaterial(name, k, c, mu)
        else:
            materials[name] = Material(name, k, c)
        first_line[name] = name_line

    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # a final newline ends the last line rather than starting an empty one
    for lineno, line in enumerate(lines, 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            if block and not line.strip():
                _cut_short(block, expected(block), source, lineno, "the blank line")
            continue
        if len(fields) > 1:
            what = _MATERIAL_FIELDS[len(block)] if len(block) < 5 else "field"
            raise InputError(source, f"expected one field per line (the material's {what}), "
                             f"got {len(fields)}", lineno)
        value = fields[0]
        if not block:
            if value in materials:
                raise InputError(source, f"material '{value}' defined twice (also on line "
                                 f"{first_line[value]})", lineno)
            if not value.isprintable():
                raise InputError(source, f"material name {_show(value)} contains a control "
                                 "character", lineno)
        elif len(block) == 1 and value not in ("solid", "fluid"):
            raise InputError(source, f"material '{block[0][1]}': unknown type {_show(value)}: "
                             "expected solid or fluid", lineno)
        block.append((lineno, value))
        if len(block) == expected(block):
            finish(block)
            block = []
    if block:
        _cut_short(block, expected(block), source, None, "the end of the file")
    return materials


def _cut_short(block, n: int, source: str, line: int | None, at: str):
    name_line, name = block[0]
    raise InputError(source, f"material '{name}' (line {name_line}) has {len(block)} of its {n} "
                     f"lines before {at}: its {_MATERIAL_FIELDS[len(block)]} is missing (a block "
                     "is name, solid|fluid, conductivity, heat capacity[, viscosity for a "
                     "fluid])", line if line is not None else block[-1][0])


# ---------------------------------------------------------------------- the package
def package_parameters(config: HotspotConfig | None = None,
                       materials: Mapping[str, Material] | None = None) -> dict:
    """HotSpot's package parameters: its defaults, overridden by ``config``'s keys, with every
    ``material_<part>`` name resolved into ``k_<part>`` and ``p_<part>`` (and kept).

    Raises
    ------
    InputError
        A material name not in ``materials`` (naming the configuration file, the line and the
        known materials).
    """
    params: dict = {**HOTSPOT_DEFAULTS, **HOTSPOT_SECONDARY_DEFAULTS}
    if config is None:
        return params
    params.update({k: v for k, v in config.package.items() if k in PACKAGE_KEYS})
    params.update(config.secondary)
    known = materials or {}
    for part in PARTS:
        key = f"material_{part}"
        if key not in config.package:
            continue
        name = str(config.package[key])
        material = known.get(name)
        if material is None:
            listed = (f"known materials: {', '.join(known)}" if known else
                      "no materials were given (HotSpot has no built-in materials: give its "
                      "-materials_file)")
            raise InputError(config.source, f"-{key}: unknown material '{name}'; {listed}",
                             config.line(key))
        params[f"k_{part}"] = material.conductivity
        params[f"p_{part}"] = material.heat_capacity
        params[key] = name
    return params


def package_stack(config: HotspotConfig | None = None,
                  materials: Mapping[str, Material] | None = None,
                  floorplan: Floorplan | None = None) -> Stack:
    """HotSpot's package (die, TIM, spreader, sink) as a configuration file sets it.

    Parameters
    ----------
    config : HotspotConfig, optional
        From :func:`read_hotspot_config`; None: HotSpot's defaults.
    materials : dict, optional
        From :func:`read_materials`, for the ``material_*`` keys.
    floorplan : Floorplan, optional
        The die: if given, the stack is bound to it and the spreader and sink checked to cover
        it (HotSpot stops with "inordinate floorplan size" otherwise).

    Returns
    -------
    Stack
        Its ``ignored`` lists every key of ``config`` the package does not use, in file order.

    Raises
    ------
    InputError
        An unknown material; a sink smaller than the spreader; a die larger than the spreader.
        Messages name the configuration file and the key's line.
    """
    params = package_parameters(config, materials)
    source = config.source if config is not None else "HotSpot defaults"
    ignored = unused_keys(config, params, (*PACKAGE_KEYS, *MATERIAL_KEYS))
    check_package_fit(params, config, None if floorplan is None else floorplan.die, source)
    with _named(source):
        return hotspot_package(params, floorplan=floorplan, source=source, ignored=ignored)


def unused_keys(config: HotspotConfig | None, params: Mapping, used: tuple[str, ...]) -> tuple[str, ...]:
    """``config``'s keys, in file order, that are neither in ``used`` nor secondary-path keys
    the model uses (``model_secondary`` always; the others only when it is 1)."""
    secondary = SECONDARY_USED if params["model_secondary"] else ("model_secondary",)
    return tuple(k for k in (config.keys if config is not None else ())
                 if k not in used and k not in secondary)


def check_package_fit(params: Mapping, config: HotspotConfig | None,
                      die: tuple[float, float, float, float] | None, source: str) -> None:
    """Raise unless the sink is at least as large as the spreader and the spreader covers the
    die, and (``model_secondary``) the substrate covers the die, the solder the substrate and
    the PCB the solder; the message names ``config``'s file and the key's line, or ``source``
    for defaults."""

    def where(key: str) -> tuple[str, int | None, str]:
        if config is not None and key in config:
            return config.source, config.line(key), f"-{key} {params[key]:g} m"
        return source, None, f"HotSpot's default {key} {params[key]:g} m"

    if params["s_sink"] < params["s_spreader"]:
        file, line, what = where("s_sink")
        raise InputError(file, f"{what} is smaller than the spreader (s_spreader "
                         f"{params['s_spreader']:g} m): the sink must cover the spreader", line)
    if die is not None:
        w, h = die[2] - die[0], die[3] - die[1]
        if max(w, h) > params["s_spreader"] * (1 + 1e-9):
            file, line, what = where("s_spreader")
            raise InputError(file, f"{what} is smaller than the die ({w * 1e3:.4g} x "
                             f"{h * 1e3:.4g} mm): the spreader must cover the die (HotSpot stops "
                             "with 'inordinate floorplan size')", line)
    if not params["model_secondary"]:
        return
    for key, inner in (("s_solder", "s_sub"), ("s_pcb", "s_solder")):
        if params[key] < params[inner]:
            file, line, what = where(key)
            raise InputError(file, f"{what} is smaller than {inner} ({params[inner]:g} m): the "
                             "secondary path widens from the die to the board", line)
    if die is not None and max(die[2] - die[0], die[3] - die[1]) > params["s_sub"] * (1 + 1e-9):
        file, line, what = where("s_sub")
        raise InputError(file, f"{what} is smaller than the die: the package substrate must "
                         "cover it", line)


class _named:
    """Re-raise an InputError of the stack's own checks (source '<stack>') as ``source``'s."""

    def __init__(self, source: str):
        self.source = source

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if isinstance(error, InputError) and error.source == "<stack>":
            raise InputError(self.source, error.problem, error.line) from error
        return False
