"""HotSpot text formats: floorplans (``.flp``), power traces (``.ptrace``), steady temperatures.

Floorplan (``.flp``)
    One block per line, ``name width height left-x bottom-y`` in metres, optionally followed by
    the block's own material: its volumetric heat capacity, J/(m^3 K), then its thermal
    resistivity, (m K)/W (HotSpot's 6th and 7th columns, ``specificheat`` and ``resistivity`` in
    flp.c ``flp_populate_blks``, used by its detailed 3D model, ``-detailed_3D on``). Both or
    neither: a row of exactly 6 fields is an error, as in HotSpot (flp.c reads it as a
    connectivity line and stops with "mismatch of number of units"). Rows of 5 and 7 fields may
    mix, as HotSpot allows (each unit has its own ``hasRes``/``hasSh``): :class:`FlpData` then
    holds NaN for the 5-field rows, which keep their layer's material. Fields are separated by
    tabs or spaces; ``#`` starts a comment, whole-line or trailing; blank lines are ignored.

Power trace (``.ptrace``)
    The first non-comment line names the blocks (any order); every following line gives one
    sample of each block's power in watts. The steady power is the mean over the samples, as
    HotSpot computes it for ``-steady_file``.

Steady temperatures (``.steady``)
    ``name<TAB>temperature`` per block, kelvin, as HotSpot writes with ``-steady_file``.

Every problem in a file is raised as one :class:`~thermal.errors.InputError` naming the file and
line. Files are checked whole-file first: the layout (fields per line, names) with a few numpy
passes over the bytes, numbers with one character scan and one C-level conversion, so 10^5-block
floorplans and 10k-row traces read quickly. Only when that finds something wrong (or text it
cannot vouch for, such as non-ASCII names) is the file walked line by line, by the original
checks, to report exactly the first problem.
"""
from __future__ import annotations

import codecs
import math
import os
import re
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Iterable, NoReturn, Sequence, Union

import numpy as np

from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan

PathLike = Union[str, "os.PathLike[str]"]

# A number as C's strtod reads it, restricted to ASCII: Python's float() would also take
# '1_000' and non-ASCII digits, which no other tool reading these files accepts.
# 'inf' and 'nan' are matched so they are reported as "not finite" rather than "not a number".
_NUM = r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf(?:inity)?|nan))"
_NUMBER = re.compile(_NUM)
# Every character a _NUMBER can hold, and the '\n' that joins tokens for one scan.
_NUMERIC_CHARS = b"0123456789eE+-.\ninfatyINFATY"
_COMMENT = re.compile(r"#[^\n]*")
_REPEAT_SAMPLE = 4096  # leading tokens that decide whether values repeat enough to look up
# Below this many characters the line-by-line checks are faster than numpy's per-call cost.
_WHOLE_FILE_MIN = 8192
# Text the whole-file layout check can vouch for: printable ASCII (so names are printable) and
# the only white space str.split() and the byte scan agree on (tab, LF, CR, space).
_PLAIN_CHARS = b"\t\n\r" + bytes(range(32, 127))

_FLP_FIELDS = ("width", "height", "left-x", "bottom-y")
_FLP_EXTRA = ("specific heat", "resistivity")
_MAX_SHOWN = 5  # names listed when blocks are missing from one file


# ---------------------------------------------------------------------- data
@dataclass(frozen=True, eq=False)
class FlpData:
    """The blocks of a HotSpot floorplan file, as read (no geometric validation yet).

    Attributes
    ----------
    names : tuple of str
        Block names, unique, in file order.
    x, y, width, height : ndarray
        Lower-left corner and size of each block, metres.
    lines : tuple of int
        1-based line of each block in ``source``.
    source : str
        The file read.
    heat_capacity, resistivity : ndarray or None
        The optional 6th and 7th columns: each block's volumetric heat capacity, J/(m^3 K), and
        thermal resistivity, (m K)/W; NaN for a block given without them; None when no block
        has them. Read as numbers (finite); their sign is checked where they are used.
    """

    names: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    width: np.ndarray
    height: np.ndarray
    lines: tuple[int, ...]
    source: str = "<flp>"
    heat_capacity: np.ndarray | None = None
    resistivity: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.names)

    @property
    def has_materials(self) -> bool:
        """Whether any block has its own material (7 fields)."""
        return self.resistivity is not None


@dataclass(frozen=True, eq=False)
class PtraceData:
    """A HotSpot power trace: one column of watts per block, one row per sample.

    Attributes
    ----------
    names : tuple of str
        Block names, in column order.
    rows : ndarray, shape (nrows, nblocks)
        Power samples, watts; finite and non-negative.
    source : str
        The file read.
    header_line : int
        Line of the names header in ``source``.
    row_lines : ndarray of int
        Line of each row in ``source``.
    """

    names: tuple[str, ...]
    rows: np.ndarray
    source: str = "<ptrace>"
    header_line: int = 1
    row_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def mean(self) -> np.ndarray:
        """Steady power of each block (W): the mean over the rows, as HotSpot's steady solve."""
        return self.rows.mean(axis=0)


# ---------------------------------------------------------------------- shared text helpers
def _read_text(path: PathLike) -> str:
    """The text of ``path``, or an :class:`InputError` if it is missing, unreadable or binary.

    A UTF-8 byte-order mark is dropped. NUL bytes and invalid UTF-8 are reported with the line
    they are on, since a binary file given by mistake would otherwise fail much later.
    """
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(source, f"cannot read the file: {e.strerror or e}") from e
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputError(source, "binary data (NUL byte): expected a text file",
                         data.count(b"\n", 0, nul) + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(source, f"not UTF-8 text (byte 0x{data[e.start]:02x}): expected a text "
                         "file", data.count(b"\n", 0, e.start) + 1) from None


def _content_lines(text: str) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of every line with content, comments (``#``) removed.

    Lines are split on ``\\n`` only (not ``str.splitlines``, which also breaks at form feeds and
    Unicode separators) so numbers agree with what an editor shows.
    """
    out = []
    for lineno, line in enumerate(text.split("\n"), 1):
        fields = line.split("#", 1)[0].split()
        if fields:
            out.append((lineno, fields))
    return out


def _positive_number(token: str, label: str, source: str, line: int) -> float:
    """``token`` as a positive finite number, or an InputError naming ``label`` (e.g. "thickness
    of layer 2"), the file and the line."""
    if not _NUMBER.fullmatch(token):
        raise InputError(source, f"{label} is not a number: {_show(token)}", line)
    value = float(token)
    if not math.isfinite(value) or value <= 0:
        raise InputError(source, f"{label} must be positive and finite, got {token}", line)
    return value


def _token_grid(text: str) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """The fields of ``text`` as :func:`_content_lines` finds them, but found whole-file.

    Returns
    -------
    tokens : list of str
        Every field of every line with content, comments removed, in file order.
    first : ndarray of int
        Index in ``tokens`` of the first field of each line with content.
    lines : ndarray of int64
        1-based line number of each line with content.

    None if the text is short, has no fields, or holds anything but printable ASCII, tab, LF
    and CR outside comments: then the byte scan below could disagree with ``str.split`` (which
    also splits at e.g. form feeds and Unicode spaces). The caller takes the line-by-line path.
    """
    if len(text) < _WHOLE_FILE_MIN:
        return None
    if "#" in text:
        # Removing '#' up to the line end keeps every line number.
        text = _COMMENT.sub("", text)
    data = text.encode("utf-8")
    if data.translate(None, _PLAIN_CHARS):
        return None
    tokens = text.split()
    if not tokens:
        return None
    count = _fields_per_line(np.frombuffer(data, dtype=np.uint8))
    content = np.flatnonzero(count)
    first = np.cumsum(count)[content] - count[content]
    return tokens, first, content.astype(np.int64) + 1


def _fields_per_line(byte: np.ndarray) -> np.ndarray:
    """Number of fields on each line of ``byte`` (ASCII; white space = bytes up to 32)."""
    solid = np.empty(byte.size + 1, dtype=bool)
    solid[0] = False  # a field may start at byte 0
    np.greater(byte, 32, out=solid[1:])
    starts = np.flatnonzero(solid[1:] > solid[:-1])
    line_bounds = np.concatenate(([0], np.flatnonzero(byte == 10) + 1, [byte.size]))
    return np.diff(np.searchsorted(starts, line_bounds))


def _to_floats(tokens: list[str]) -> tuple[np.ndarray | None, int]:
    """Convert ``tokens`` to floats: ``(values, -1)``, or ``(None, index of the first non-number)``.

    Fast path: :func:`_plain_floats`, on each distinct token only when a sample shows values
    repeating (grid coordinates, equal tile sizes: converting a string costs ~5x looking it up).
    Only if that fails are the tokens matched one by one to find the offending one.
    """
    if not tokens:
        return np.zeros(0), -1
    sample = tokens[:_REPEAT_SAMPLE]
    if len(set(sample)) * 4 <= len(sample):  # at most a quarter distinct: worth a lookup
        distinct = list(dict.fromkeys(tokens))
        values = _plain_floats(distinct)
        if values is not None:
            value_of = dict(zip(distinct, values.tolist()))
            return np.fromiter(map(value_of.__getitem__, tokens), dtype=float,
                               count=len(tokens)), -1
    else:
        values = _plain_floats(tokens)
        if values is not None:
            return values, -1
    for i, t in enumerate(tokens):
        if not _NUMBER.fullmatch(t):
            return None, i
    # Unreachable: the character set and float() accept exactly what _NUMBER does.
    return np.array([float(t) for t in tokens]), -1


def _plain_floats(tokens: list[str]) -> np.ndarray | None:
    """``tokens`` as floats if all are numbers in C's syntax, else None.

    One scan of the joined tokens for characters no number can hold (this excludes what
    ``float`` accepts beyond C's syntax: '_' separators, non-ASCII digits, hex), then a C-level
    ``float`` conversion.
    """
    joined = "\n".join(tokens)
    # bytes.translate deletes the allowed characters ~10x faster than a regex finds the others.
    if joined.isascii() and not joined.encode("ascii").translate(None, _NUMERIC_CHARS):
        try:
            return np.fromiter(map(float, tokens), dtype=float, count=len(tokens))
        except ValueError:
            pass
    return None


def _show(token: str, limit: int = 30) -> str:
    """``token`` quoted for a message, shortened: garbage can be a very long 'word'."""
    return repr(token if len(token) <= limit else token[:limit] + "...")


def _check_name(name: str, source: str, line: int) -> None:
    """Names end up in output files and terminals: no control characters."""
    if not name.isprintable():
        raise InputError(source, f"block name {_show(name)} contains a control character", line)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _name_list(names: Sequence[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:_MAX_SHOWN])
    more = len(names) - _MAX_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _names_ok(names: Iterable[str]) -> tuple[str, ...]:
    """Names for writing: a name with white space, '#' or control characters would not read back."""
    names = tuple(str(n) for n in names)
    for n in names:
        if not n or "#" in n or any(c.isspace() for c in n) or not n.isprintable():
            raise ValueError(f"block name {n!r} cannot be written: empty, or holds white space, "
                             "'#' or a control character")
    return names


def _fmt(v: float) -> str:
    # repr is the shortest string that reads back to the same double: exact round trips.
    return repr(float(v))


# ---------------------------------------------------------------------- floorplan
def read_flp(path: PathLike) -> FlpData:
    """Read a HotSpot floorplan file.

    Parameters
    ----------
    path : str or PathLike
        The ``.flp`` file.

    Returns
    -------
    FlpData
        Names, rectangles (metres), line numbers and, if any row has 7 fields, the blocks'
        heat capacities and resistivities. Geometry (positive sizes, overlaps) is checked later,
        by :meth:`Floorplan.from_blocks`.

    Raises
    ------
    InputError
        Missing/unreadable/binary file, no blocks, a line with fewer than 5, exactly 6 or more
        than 7 fields, a non-numeric or non-finite field, a duplicate block name.
    """
    source = str(path)
    text = _read_text(path)
    names, lines, tokens, extra = _flp_fields_fast(text) or _flp_fields_checked(text, source)
    values, bad = _to_floats(tokens)
    if values is None:
        b, k = divmod(bad, 4)
        raise InputError(source, f"{_FLP_FIELDS[k]} of block '{names[b]}' is not a number: "
                         f"{_show(tokens[bad])}", lines[b])
    values = values.reshape(-1, 4)
    # The first non-finite value in file order: (block, column, problem).
    found = []
    nonfinite = np.flatnonzero(~np.isfinite(values.ravel()))
    if nonfinite.size:
        b, k = divmod(int(nonfinite[0]), 4)
        problem = f"{_FLP_FIELDS[k]} of block '{names[b]}' is not finite ({tokens[nonfinite[0]]})"
        found.append((b, k, problem))
    heat_capacity = resistivity = None
    if extra is not None:
        rows, extra_tokens = extra
        # Both field finders vouched these are numbers (the per-line checks come first).
        pairs = _to_floats(extra_tokens)[0].reshape(-1, 2)
        nonfinite = np.flatnonzero(~np.isfinite(pairs.ravel()))
        if nonfinite.size:
            r, k = divmod(int(nonfinite[0]), 2)
            b = int(rows[r])
            problem = (f"{_FLP_EXTRA[k]} of block '{names[b]}' is not finite "
                       f"({extra_tokens[nonfinite[0]]})")
            found.append((b, 4 + k, problem))
        heat_capacity = np.full(len(names), np.nan)
        resistivity = np.full(len(names), np.nan)
        heat_capacity[rows], resistivity[rows] = pairs[:, 0], pairs[:, 1]
    if found:
        b, _, problem = min(found)
        raise InputError(source, problem, lines[b])
    w, h, x, y = (values[:, k].copy() for k in range(4))
    return FlpData(tuple(names), x, y, w, h, tuple(lines), source, heat_capacity, resistivity)


# Both return (names, line of each block, its 4 number fields in file order, extra); extra is
# None if no row has 7 fields, else (index of each such row, its 6th and 7th fields in file
# order). The numbers are checked after, by read_flp, as the per-line checks all come first in
# file order.
_FlpFields = tuple[list[str], list[int], list[str], "tuple[np.ndarray, list[str]] | None"]


def _flp_fields_fast(text: str) -> _FlpFields | None:
    """The fields of a floorplan whose per-line checks all pass, found whole-file; else None.

    None means "not vouched for", not "wrong": :func:`_flp_fields_checked` then decides, and
    reports the first problem. Must accept nothing that one rejects.
    """
    grid = _token_grid(text)
    if grid is None:
        return None
    tokens, first, lines = grid
    nfields = np.diff(first, append=len(tokens))
    if nfields.min() < 5 or nfields.max() > 7 or (nfields == 6).any():
        return None
    if nfields.max() == 5:
        # The usual layout: every 5th field is a name, plain list slicing.
        names = tokens[::5]
        del tokens[::5]
        numbers, extra = tokens, None
    else:
        names, numbers, extra = _gather_flp_fields(tokens, first, nfields)
    # Names are printable: _token_grid passes printable ASCII only.
    if len(set(names)) < len(names) or (extra is not None and _to_floats(extra[1])[0] is None):
        return None
    return names, lines.tolist(), numbers, extra


def _gather_flp_fields(tokens: list[str], first: np.ndarray, nfields: np.ndarray
                       ) -> tuple[list[str], list[str], tuple[np.ndarray, list[str]]]:
    """Names, the 4 number fields and (rows, 6th and 7th fields) of rows of 5 or 7 fields."""
    tok = np.fromiter(tokens, dtype=object, count=len(tokens))
    rows = np.flatnonzero(nfields == 7)
    extra = tok[(first[rows][:, None] + np.arange(5, 7)).ravel()]
    numbers = tok[(first[:, None] + np.arange(1, 5)).ravel()]
    return tok[first].tolist(), numbers.tolist(), (rows, extra.tolist())


def _flp_fields_checked(text: str, source: str) -> _FlpFields:
    """The fields of a floorplan, line by line; raises on the first line that fails a check."""
    rows = _content_lines(text)
    if not rows:
        raise InputError(source, "no blocks: the file is empty or holds only comments")
    names: list[str] = []
    lines: list[int] = []
    tokens: list[str] = []
    extra_rows: list[int] = []
    extra_tokens: list[str] = []
    first_line: dict[str, int] = {}
    for line, fields in rows:
        if len(fields) < 5:
            raise InputError(source, f"expected 'name width height left-x bottom-y', got "
                             f"{_count(len(fields), 'field')}", line)
        if len(fields) > 7:
            raise InputError(source, f"{len(fields)} fields: expected 'name width height left-x "
                             "bottom-y [specific-heat resistivity]'", line)
        name = fields[0]
        _check_name(name, source, line)
        if name in first_line:
            raise InputError(source, f"duplicate block name '{name}' (also on line "
                             f"{first_line[name]})", line)
        first_line[name] = line
        for label, tok in zip(_FLP_EXTRA, fields[5:]):
            if not _NUMBER.fullmatch(tok):
                raise InputError(source, f"{label} of block '{name}' is not a number: {_show(tok)}",
                                 line)
        if len(fields) == 6:
            raise InputError(source, f"6 columns: block '{name}' has a heat capacity but no "
                             "resistivity: give both the heat capacity and the resistivity, or "
                             "neither", line)
        if len(fields) == 7:
            extra_rows.append(len(names))
            extra_tokens.extend(fields[5:])
        names.append(name)
        lines.append(line)
        tokens.extend(fields[1:5])
    extra = (np.array(extra_rows, dtype=np.int64), extra_tokens) if extra_rows else None
    return names, lines, tokens, extra


def write_flp(path: PathLike, floorplan: Floorplan | FlpData) -> None:
    """Write a HotSpot floorplan file, values exactly as stored (shortest round-trip digits).

    Parameters
    ----------
    path : str or PathLike
    floorplan : Floorplan or FlpData
        For a :class:`Floorplan`, its snapped blocks are written. For an :class:`FlpData` with
        block materials, the blocks that have them get the 6th and 7th columns.

    Raises
    ------
    ValueError
        A name that would not read back (empty, white space, '#', control characters), or a
        block with only one of heat capacity and resistivity.
    """
    materials = None
    if isinstance(floorplan, Floorplan):
        b = floorplan.blocks
        names, x, y, w, h = floorplan.names, b.x0, b.y0, b.width, b.height
    else:
        names, x, y, w, h = (floorplan.names, floorplan.x, floorplan.y, floorplan.width,
                             floorplan.height)
        if floorplan.heat_capacity is not None or floorplan.resistivity is not None:
            materials = [np.asarray(v if v is not None else np.full(len(names), np.nan),
                                    dtype=float).reshape(-1)
                         for v in (floorplan.heat_capacity, floorplan.resistivity)]
    names = _names_ok(names)
    cols = [np.asarray(v, dtype=float).reshape(-1) for v in (w, h, x, y)]
    if any(c.size != len(names) for c in cols + (materials or [])):
        raise ValueError("names, x, y, width, height (and materials) differ in length")
    out = ["# HotSpot floorplan written by thermesh\n",
           "# <unit-name>\t<width>\t<height>\t<left-x>\t<bottom-y>, metres"
           + ("\t[<heat-capacity J/(m^3 K)>\t<resistivity (m K)/W>]" if materials else "")
           + "\n"]
    if materials is None:
        for n, *vals in zip(names, *(c.tolist() for c in cols)):
            out.append(n + "\t" + "\t".join(map(_fmt, vals)) + "\n")
    else:
        heat, res = (m.tolist() for m in materials)
        for n, *vals, cap, rho in zip(names, *(c.tolist() for c in cols), heat, res):
            if np.isnan(cap) != np.isnan(rho):
                raise ValueError(f"block {n!r} has only one of heat capacity and resistivity")
            vals += [] if np.isnan(cap) else [cap, rho]
            out.append(n + "\t" + "\t".join(map(_fmt, vals)) + "\n")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(out)


# ---------------------------------------------------------------------- power trace
def read_ptrace(path: PathLike, names: Sequence[str] | None = None) -> PtraceData:
    """Read a HotSpot power trace.

    Parameters
    ----------
    path : str or PathLike
        The ``.ptrace`` file.
    names : sequence of str, optional
        Expected block names. If given, the columns are reordered to this order, and a name in
        one list but not the other is an error.

    Returns
    -------
    PtraceData
        ``rows`` (nrows, nblocks) of watts; ``mean`` gives the steady power.

    Raises
    ------
    InputError
        Missing/unreadable/binary/empty file, duplicate names in the header, a row whose length
        differs from the header, a non-numeric, non-finite or negative value, no data rows, or
        (with ``names``) a name mismatch.
    """
    source = str(path)
    text = _read_text(path)
    header_line, header, row_lines, tokens = (_trace_fields_fast(text)
                                              or _trace_fields_checked(text, source))
    nb = len(header)
    values, bad = _to_floats(tokens)
    if values is None:
        r, c = divmod(bad, nb)
        raise InputError(source, f"power of block '{header[c]}' is not a number: "
                         f"{_show(tokens[bad])}", int(row_lines[r]))
    values = values.reshape(len(row_lines), nb)
    for mask, problem in ((~np.isfinite(values), "is not finite"), (values < 0, "is negative")):
        hit = np.flatnonzero(mask.ravel())
        if hit.size:
            r, c = divmod(int(hit[0]), nb)
            raise InputError(source, f"power of block '{header[c]}' {problem} "
                             f"({tokens[hit[0]]})", int(row_lines[r]))
    trace = PtraceData(tuple(header), values, source, header_line, row_lines)
    if names is not None:
        trace = match_names(trace, names, "the floorplan")
    return trace


# Both return (header line, names, line of each row, the rows' fields in file order); the
# numbers are checked after, by the reader, as the layout checks all come first. They serve
# every HotSpot trace: power (.ptrace) and temperature (.ttrace, thermal.io.transient_files).
def _trace_fields_fast(text: str) -> tuple[int, list[str], np.ndarray, list[str]] | None:
    """The fields of a trace whose layout checks all pass, found whole-file; else None.

    None means "not vouched for", not "wrong": :func:`_trace_fields_checked` then decides, and
    reports the first problem. Must accept nothing that one rejects.
    """
    grid = _token_grid(text)
    if grid is None or len(grid[1]) < 2:
        return None
    tokens, first, lines = grid
    nb = int(first[1])
    header = tokens[:nb]  # printable: _token_grid allows printable ASCII only
    if len(set(header)) < nb or np.any(np.diff(first[1:], append=len(tokens)) != nb):
        return None
    return int(lines[0]), header, lines[1:], tokens[nb:]


def _trace_fields_checked(text: str, source: str, kind: str = "power trace", unit: str = "watts",
                          rows_required: bool = True) -> tuple[int, list[str], np.ndarray, list[str]]:
    """The fields of a trace, line by line; raises on the first layout problem. ``kind`` and
    ``unit`` name the trace in messages; without ``rows_required`` a header alone is a trace
    of no rows."""
    rows = _content_lines(text)
    if not rows:
        raise InputError(source, f"empty {kind}: expected a line of block names, then rows of {unit}")
    header_line, header = rows[0]
    seen: dict[str, int] = {}
    for col, n in enumerate(header, 1):
        _check_name(n, source, header_line)
        if n in seen:
            raise InputError(source, f"duplicate block name '{n}' in the header (columns "
                             f"{seen[n]} and {col})", header_line)
        seen[n] = col
    data = rows[1:]
    if not data and rows_required:
        raise InputError(source, "no power values: the header is not followed by any row",
                         header_line)
    nb = len(header)
    for line, fields in data:
        if len(fields) != nb:
            raise InputError(source, f"{_count(len(fields), 'value')} for the "
                             f"{_count(nb, 'block')} named in the header (line {header_line})",
                             line)
    row_lines = np.fromiter((line for line, _ in data), dtype=np.int64, count=len(data))
    tokens = list(chain.from_iterable(fields for _, fields in data))
    return header_line, header, row_lines, tokens


def match_names(trace: PtraceData, names: Sequence[str], names_source: str) -> PtraceData:
    """``trace`` with its columns in the order of ``names``; an error if the name sets differ.

    Parameters
    ----------
    trace : PtraceData
    names : sequence of str
        Block names, e.g. a floorplan's, unique.
    names_source : str
        What ``names`` come from, for the message (e.g. ``"floorplan ev6.flp"``).
    """
    names = tuple(names)
    if names == trace.names and len(set(names)) == len(names):
        # Trace written in the floorplan's order (the usual case): nothing to look up.
        order = np.arange(len(names))
    else:
        order = _column_order(trace, names, names_source)
    return PtraceData(names, trace.rows[:, order], trace.source, trace.header_line,
                      trace.row_lines)


def _column_order(trace: PtraceData, names: tuple[str, ...], names_source: str) -> np.ndarray:
    """Column of ``trace`` for each of ``names``; raises unless both hold the same names."""
    col = dict(zip(trace.names, range(len(trace.names))))
    order = np.fromiter(map(col.get, names, repeat(-1)), dtype=np.int64, count=len(names))
    # Each name found, in a different column, and no column left over: the same name sets.
    if len(names) == len(col) and np.all(order >= 0):
        used = np.zeros(len(trace.names), dtype=bool)
        used[order] = True
        if np.count_nonzero(used) == len(names):
            return order
    if len(set(names)) != len(names):
        raise ValueError("names must be unique")
    _raise_name_mismatch(trace, names, names_source)


def _raise_name_mismatch(trace: PtraceData, names: tuple[str, ...], names_source: str
                         ) -> NoReturn:
    """Raise for the names of ``names`` missing from ``trace``, else for those it has extra."""
    # Numbers are legal block names, so a trace without its header line is only suspected.
    hint = ("; is the header line of block names missing?"
            if _to_floats(list(trace.names))[0] is not None else "")
    have = set(trace.names)
    missing = [n for n in names if n not in have]
    if missing:
        raise InputError(trace.source, f"no power for {_count(len(missing), 'block')} of "
                         f"{names_source}: {_name_list(missing)}{hint}", trace.header_line)
    wanted = set(names)
    extra = [n for n in trace.names if n not in wanted]
    raise InputError(trace.source, f"{_count(len(extra), 'block')} not in {names_source}: "
                     f"{_name_list(extra)}{hint}", trace.header_line)


def write_ptrace(path: PathLike, names: Sequence[str], rows: np.ndarray) -> None:
    """Write a HotSpot power trace: a header of names, then one tab-separated row per sample.

    Parameters
    ----------
    path : str or PathLike
    names : sequence of str
    rows : array_like, shape (nrows, nblocks) or (nblocks,)
        Watts; a 1-D array is one row. Values are written as given (exact digits) and only
        checked when read back.
    """
    names = _names_ok(names)
    rows = np.asarray(rows, dtype=float)
    rows = rows.reshape(1, -1) if rows.ndim == 1 else rows
    if rows.ndim != 2 or rows.shape[1] != len(names) or rows.shape[0] == 0:
        raise ValueError(f"rows of shape {rows.shape} do not match {len(names)} names")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(names) + "\n")
        f.writelines("\t".join(map(_fmt, r)) + "\n" for r in rows.tolist())


# ---------------------------------------------------------------------- combined readers
def read_hotspot(flp: PathLike, ptrace: PathLike, **kw) -> Floorplan:
    """A floorplan powered by the mean of a power trace, blocks matched by name.

    Parameters
    ----------
    flp, ptrace : str or PathLike
        HotSpot floorplan and power trace; the trace's columns may be in any order.
    **kw
        Passed to :meth:`Floorplan.from_blocks` (e.g. ``snap=False``).

    Raises
    ------
    InputError
        Any problem in either file, or block names present in one file only.
    """
    f = read_flp(flp)
    p = match_names(read_ptrace(ptrace), f.names, f"floorplan {f.source}")
    return Floorplan.from_blocks(f.names, f.x, f.y, f.width, f.height, power=p.mean,
                                 source=f.source, power_source=p.source, lines=f.lines, **kw)


# ---------------------------------------------------------------------- steady temperatures
def write_steady(path: PathLike, names: Sequence[str], temperatures: Sequence[float]) -> None:
    """Write HotSpot's steady-state block temperatures: ``name<TAB>temperature`` per line.

    Parameters
    ----------
    path : str or PathLike
    names : sequence of str
    temperatures : sequence of float
        Kelvin, one per name; written with 6 decimals (HotSpot writes 2).
    """
    names = _names_ok(names)
    t = np.asarray(temperatures, dtype=float).reshape(-1)
    if t.size != len(names):
        raise ValueError(f"{t.size} temperatures for {len(names)} names")
    if not np.all(np.isfinite(t)):
        raise ValueError("temperatures must be finite")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(f"{n}\t{v:.6f}\n" for n, v in zip(names, t.tolist()))


def write_grid_steady(path: PathLike, layers: Sequence[np.ndarray]) -> None:
    """Write HotSpot's ``.grid.steady``: for each layer ``Layer n:`` then one line per grid cell,
    ``index<TAB>temperature`` with ``index = row * cols + col`` and row 0 at the top of the die
    (``dump_steady_temp_grid`` in HotSpot's temperature_grid.c; we write 6 decimals, not 2)."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for n, grid in enumerate(layers):
            grid = np.asarray(grid, float)
            f.write(f"Layer {n}:\n")
            f.writelines(f"{i}\t{v:.6f}\n" for i, v in enumerate(grid.ravel().tolist()))
