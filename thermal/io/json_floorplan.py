"""A floorplan, its power and model parameters in one JSON file, for scripts.

Schema (version 1)::

    {
      "format": "thermesh-floorplan",          required, exactly this string
      "version": 1,                             required, integer
      "units": "m",                             optional, "m" (default), "mm" or "um"
      "blocks": [                               required, at least one block
        {"name": "L2", "x": 0.0, "y": 0.0, "width": 0.016, "height": 0.0098, "power": 7.37},
        ...
      ],
      "parameters": {                           optional, SI units whatever "units" says
        "conductivity": 100.0,                  W/(m K)
        "thickness": 0.00015,                   m
        "htc": 10000.0,                         W/(m^2 K)
        "ambient": 318.15                       K
      }
    }

Each block needs exactly the keys ``name`` (string), ``x`` and ``y`` (lower-left corner),
``width``, ``height`` (in ``units``) and ``power`` (W, finite, >= 0). Numbers are JSON numbers
(``true``/``false`` are not numbers). Unknown keys, at any level, are errors, so a typo such as
``"widht"`` is never silently ignored; so are duplicate keys, which JSON parsers otherwise resolve
by keeping the last. Parameters, when present, must be positive and finite; the caller decides
what to do with them (e.g. ``LumpedDie(**parameters)``).

Errors are :class:`~thermal.errors.InputError` naming the line: the decoder's line for syntax
errors, the line of the offending key, or the line of the block's ``"name"``.
:func:`write_json` puts one block per line, so a block's line is easy to find.
"""
from __future__ import annotations

import bisect
import difflib
import json
import math
import re

import numpy as np

from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan
from thermal.io.hotspot import PathLike, _check_name, _read_text
from thermal.geometry.lumped import PARAMETERS

FORMAT = "thermesh-floorplan"
VERSION = 1
#: Length units accepted for block geometry, and their size in metres.
UNITS = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "\u00b5m": 1e-6}

_TOP_KEYS = ("format", "version", "units", "blocks", "parameters")
_BLOCK_KEYS = ("name", "x", "y", "width", "height", "power")
_WS = re.compile(r"[ \t\n\r]*")


class _Where:
    """Positions in a JSON text that :func:`json.loads` has already accepted.

    ``json`` gives no positions for values, so the few containers whose members need a line
    (the top level, each block, the parameters) are walked with ``JSONDecoder.raw_decode``,
    which parses one value at an offset and returns where it ends. Strings holding braces or
    brackets therefore cannot confuse the walk, as they would a character scan.
    """

    def __init__(self, text: str):
        self.text = text
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        self._decoder = json.JSONDecoder()

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def skip(self, i: int) -> int:
        return _WS.match(self.text, i).end()

    def members(self, i: int) -> list[tuple[str, int, int]]:
        """``(key, key position, value position)`` of the object starting at ``text[i]``."""
        t, out = self.text, []
        i = self.skip(i + 1)
        if t[i] == "}":
            return out
        while True:
            key, j = self._decoder.raw_decode(t, i)
            value = self.skip(self.skip(j) + 1)  # past ':'
            _, end = self._decoder.raw_decode(t, value)
            out.append((key, i, value))
            i = self.skip(end)
            if t[i] == "}":
                return out
            i = self.skip(i + 1)  # past ','

    def elements(self, i: int) -> list[int]:
        """Position of each element of the array starting at ``text[i]``."""
        t, out = self.text, []
        i = self.skip(i + 1)
        if t[i] == "]":
            return out
        while True:
            out.append(i)
            _, end = self._decoder.raw_decode(t, i)
            i = self.skip(end)
            if t[i] == "]":
                return out
            i = self.skip(i + 1)


def _jtype(v) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return {str: "a string", list: "an array", dict: "an object"}.get(type(v), "a number")


def _keys(members, allowed, required, what, source, where, obj_line) -> dict[str, int]:
    """Line of each key of an object; errors for duplicate, unknown and missing keys."""
    lines: dict[str, int] = {}
    for key, kpos, _ in members:
        line = where.line(kpos)
        if key in lines:
            raise InputError(source, f"duplicate key '{key}' in {what} (also on line "
                             f"{lines[key]})", line)
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(source, f"unknown key {json.dumps(key)} in {what}{hint}; allowed: "
                             f"{', '.join(allowed)}", line)
        lines[key] = line
    missing = [k for k in required if k not in lines]
    if missing:
        raise InputError(source, f"{what} has no {', '.join(repr(k) for k in missing)}", obj_line)
    return lines


def _number(v, what: str, source: str, line: int | None) -> float:
    """``v`` as a finite float; JSON's true/false and strings are refused."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(source, f"{what} must be a number, got {_jtype(v)}", line)
    try:
        f = float(v)
    except OverflowError:  # a huge JSON integer
        raise InputError(source, f"{what} is out of range", line) from None
    if not math.isfinite(f):
        raise InputError(source, f"{what} is not finite ({v})", line)
    return f


def _parameters(params, source: str, lines: dict[str, int] | None = None) -> dict[str, float]:
    """Validated model parameters: known names, positive finite numbers."""
    lines = lines or {}
    out = {}
    for key, v in params.items():
        if key not in PARAMETERS:
            raise InputError(source, f"unknown parameter {json.dumps(key)}; allowed: "
                             f"{', '.join(PARAMETERS)}", lines.get(key))
        f = _number(v, f"parameter '{key}'", source, lines.get(key))
        if f <= 0:
            raise InputError(source, f"parameter '{key}' must be positive, got {v}",
                             lines.get(key))
        out[key] = f
    return out


def _decode(text: str, source: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(source, f"invalid JSON: {e.msg} (column {e.colno})", e.lineno) from None
    except RecursionError:
        raise InputError(source, "invalid JSON: nested too deeply") from None
    except ValueError as e:  # e.g. an integer literal longer than Python's digit limit
        raise InputError(source, f"invalid JSON: {e}") from None


def read_json(path: PathLike, **kw) -> tuple[Floorplan, dict]:
    """Read a thermesh JSON floorplan (schema in the module docstring).

    Parameters
    ----------
    path : str or PathLike
    **kw
        Passed to :meth:`Floorplan.from_blocks` (e.g. ``snap=False``).

    Returns
    -------
    floorplan : Floorplan
        Blocks in metres, powered per block.
    parameters : dict
        The file's ``parameters`` (floats, SI units), possibly empty.

    Raises
    ------
    InputError
        Any syntax or schema problem, naming the line.
    """
    source = str(path)
    text = _read_text(path)
    doc = _decode(text, source)
    where = _Where(text)
    start = where.skip(0)
    if not isinstance(doc, dict):
        raise InputError(source, f"expected a JSON object {{...}} at the top level, got "
                         f"{_jtype(doc)}", where.line(start))
    top = where.members(start)
    top_lines = _keys(top, _TOP_KEYS, ("format", "version", "blocks"), "the top level", source,
                      where, where.line(start))
    if doc["format"] != FORMAT:
        raise InputError(source, f"not a thermesh floorplan: \"format\" must be \"{FORMAT}\"",
                         top_lines["format"])
    version = doc["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version != VERSION:
        raise InputError(source, f"unsupported version {json.dumps(version)}: this thermesh "
                         f"reads version {VERSION}", top_lines["version"])
    units = doc.get("units", "m")
    if not isinstance(units, str) or units not in UNITS:
        raise InputError(source, "units must be \"m\", \"mm\" or \"um\", "
                         f"got {json.dumps(units)}", top_lines.get("units"))
    scale = UNITS[units]

    blocks = doc["blocks"]
    if not isinstance(blocks, list):
        raise InputError(source, f"\"blocks\" must be an array, got {_jtype(blocks)}",
                         top_lines["blocks"])
    if not blocks:
        raise InputError(source, "no blocks: \"blocks\" is empty", top_lines["blocks"])
    value_pos = {k: v for k, _, v in top}
    positions = where.elements(value_pos["blocks"])

    n = len(blocks)
    names: list[str] = []
    lines: list[int] = []
    geom = np.empty((n, 4))
    power = np.empty(n)
    for i, (b, pos) in enumerate(zip(blocks, positions)):
        if not isinstance(b, dict):
            raise InputError(source, f"block {i + 1} must be an object {{...}}, got {_jtype(b)}",
                             where.line(pos))
        members = where.members(pos)
        # A block is located by its name's line; that is where people look for it.
        name_pos = next((kp for k, kp, _ in members if k == "name"), pos)
        line = where.line(name_pos)
        klines = _keys(members, _BLOCK_KEYS, _BLOCK_KEYS, f"block {i + 1}", source, where, line)
        name = b["name"]
        if not isinstance(name, str):
            raise InputError(source, f"name of block {i + 1} must be a string, got {_jtype(name)}",
                             klines["name"])
        _check_name(name, source, klines["name"])
        label = f"block '{name}'"
        for j, key in enumerate(("x", "y", "width", "height")):
            geom[i, j] = _number(b[key], f"{key} of {label}", source, klines[key])
        power[i] = _number(b["power"], f"power of {label}", source, klines["power"])
        if power[i] < 0:
            raise InputError(source, f"power of {label} is negative ({b['power']})",
                             klines["power"])
        names.append(name)
        lines.append(line)

    params: dict[str, float] = {}
    if "parameters" in doc:
        p = doc["parameters"]
        if not isinstance(p, dict):
            raise InputError(source, f"\"parameters\" must be an object, got {_jtype(p)}",
                             top_lines["parameters"])
        plines = _keys(where.members(value_pos["parameters"]), tuple(PARAMETERS), (),
                       "\"parameters\"", source, where, top_lines["parameters"])
        params = _parameters(p, source, plines)

    geom *= scale  # scale <= 1: finite values stay finite
    fp = Floorplan.from_blocks(names, geom[:, 0], geom[:, 1], geom[:, 2], geom[:, 3], power,
                               source=source, power_source=source, lines=lines, **kw)
    return fp, params


def _per_block(fp: Floorplan) -> bool:
    """Whether the heat sources are the blocks themselves (per-block power, no power map)."""
    s, b = fp.sources, fp.blocks
    return len(s) == len(b) and all(np.array_equal(getattr(s, a), getattr(b, a))
                                    for a in ("x0", "y0", "x1", "y1"))


def write_json(path: PathLike, floorplan: Floorplan, parameters: dict | None = None) -> None:
    """Write ``floorplan`` (units "m") and optional model ``parameters`` as thermesh JSON.

    Numbers are written with shortest round-trip digits, one block per line, so
    :func:`read_json` gives back the same blocks and power exactly.

    Parameters
    ----------
    path : str or PathLike
    floorplan : Floorplan
        Must be powered per block: a power map does not fit in the schema.
    parameters : dict, optional
        Subset of ``conductivity``, ``thickness``, ``htc``, ``ambient`` (SI units).

    Raises
    ------
    ValueError
        A floorplan powered by a power map, or invalid parameters (:class:`InputError`).
    """
    if not _per_block(floorplan):
        raise ValueError("this floorplan is powered by a power map, which the JSON format cannot "
                         "hold; write its blocks with write_flp and the map with write_power_map")
    params = _parameters(dict(parameters or {}), "<parameters>")
    b = floorplan.blocks
    _dump(path, floorplan.names, b.x0, b.y0, b.width, b.height, floorplan.block_power, params)


def _dump(path: PathLike, names, x, y, width, height, power, params: dict) -> None:
    """Write blocks (metres, W) and validated parameters, one block per line."""
    cols = [np.asarray(v, dtype=float).reshape(-1).tolist() for v in (x, y, width, height, power)]
    rows = []
    for n, *vals in zip(names, *cols):
        fields = [("name", n)] + list(zip(("x", "y", "width", "height", "power"), vals))
        # json.dumps of a float is its repr: shortest digits that read back exactly.
        rows.append("    {" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in fields)
                    + "}")
    out = ("{\n"
           f'  "format": "{FORMAT}",\n'
           f'  "version": {VERSION},\n'
           '  "units": "m",\n'
           '  "blocks": [\n' + ",\n".join(rows) + "\n  ],\n"
           f'  "parameters": {json.dumps(params)}\n'
           "}\n")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(out)
