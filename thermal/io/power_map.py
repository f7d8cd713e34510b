"""Gridded power maps: watts per cell of a uniform grid over the die.

Two formats, chosen by extension:

``.npy``
    A 2-D array of integers or floats saved with ``numpy.save``. It is loaded with
    ``allow_pickle=False``: object arrays (which would need unpickling, i.e. running code from
    the file) are refused, as are non-2-D, boolean, complex, string and structured arrays.

anything else (``.csv``, ``.txt``)
    Text, one grid row per line, values separated by commas or by white space; ``#`` starts a
    comment; blank lines are ignored. The first row is the top of the die (as an image, and as
    :class:`~thermal.geometry.floorplan.PowerMap` stores it).

Values must be finite and non-negative. Problems are :class:`~thermal.errors.InputError` naming
the file and, for text, the line and column.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan, PowerMap
from thermal.io.hotspot import PathLike, _count, _read_text, _show, _to_floats, read_flp

_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_REFUSED = ("refused: the array has object dtype, and loading it would unpickle (run) "
                   "code from the file; save a numeric array")


def read_power_map(path: PathLike) -> PowerMap:
    """Read a power map (CSV/text or ``.npy``).

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    PowerMap
        ``watts`` of shape (rows, cols), float, row 0 the top of the die; ``source`` the file.

    Raises
    ------
    InputError
        Missing/unreadable/binary/empty file, ragged rows, a non-numeric, non-finite or negative
        value, or a ``.npy`` that is not a plain 2-D numeric array.
    """
    ext = Path(path).suffix.lower()
    if ext == ".npz":
        raise InputError(path, "a .npz archive holds several arrays: save the map alone with "
                         "numpy.save (.npy)")
    if ext == ".npy":
        return PowerMap(_read_npy(path), str(path))
    return PowerMap(_read_csv(path), str(path))


def read_flp_with_power_map(flp: PathLike, map_path: PathLike, **kw) -> Floorplan:
    """A floorplan powered by a gridded power map (CSV or ``.npy``) over its die.

    Parameters
    ----------
    flp : str or PathLike
        HotSpot floorplan.
    map_path : str or PathLike
        Power map, see :func:`thermal.io.power_map.read_power_map`.
    **kw
        Passed to :meth:`Floorplan.from_blocks`.
    """
    f = read_flp(flp)
    pm = read_power_map(map_path)
    return Floorplan.from_blocks(f.names, f.x, f.y, f.width, f.height, power_map=pm,
                                 source=f.source, lines=f.lines, **kw)


def _read_csv(path: PathLike) -> np.ndarray:
    source = str(path)
    text = _read_text(path)
    lines: list[int] = []
    rows: list[list[str]] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        # A comma anywhere makes the line comma-separated, so an empty field (',,') is an
        # error rather than being silently skipped as white space would be.
        fields = [f.strip() for f in content.split(",")] if "," in content else content.split()
        if rows and len(fields) != len(rows[0]):
            raise InputError(source, f"{_count(len(fields), 'value')}, but the first row "
                             f"(line {lines[0]}) has {len(rows[0])}", lineno)
        lines.append(lineno)
        rows.append(fields)
    if not rows:
        raise InputError(source, "empty power map: no rows of values")
    ncols = len(rows[0])
    tokens = [t for r in rows for t in r]
    values, bad = _to_floats(tokens)
    if values is None:
        r, c = divmod(bad, ncols)
        what = "is empty" if not tokens[bad] else f"is not a number: {_show(tokens[bad])}"
        raise InputError(source, f"column {c + 1} {what} (separate values with commas or "
                         "spaces)", lines[r])
    values = values.reshape(len(rows), ncols)
    for mask, problem in ((~np.isfinite(values), "is not finite"), (values < 0, "is negative")):
        hit = np.flatnonzero(mask.ravel())
        if hit.size:
            r, c = divmod(int(hit[0]), ncols)
            raise InputError(source, f"power in column {c + 1} {problem} ({tokens[hit[0]]})",
                             lines[r])
    return values


def _read_npy(path: PathLike) -> np.ndarray:
    source = str(path)
    try:
        with open(path, "rb") as f:
            # Checked first so that a pickle or a text file named .npy is reported as what it
            # is; np.load below never falls back to unpickling anyway (allow_pickle=False).
            if f.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
                raise InputError(source, "not a NumPy .npy file (no .npy header)")
            f.seek(0)
            size = _check_npy_header(f, source, os.fstat(f.fileno()).st_size)
            f.seek(0)
            try:
                # Memory-mapped: a large float64 map is used in place, never copied.
                arr = (np.load(path, mmap_mode="r", allow_pickle=False) if size
                       else np.load(f, allow_pickle=False))
            except ValueError as e:
                # numpy: "Object arrays cannot be loaded when allow_pickle=False"
                if "allow_pickle" in str(e):
                    raise InputError(source, _PICKLE_REFUSED) from None
                raise InputError(source, f"corrupt .npy file: {e}") from None
            except Exception as e:  # noqa: BLE001 - a damaged file can fail in many ways
                raise InputError(source, f"corrupt .npy file: {type(e).__name__}: {e}") from None
    except OSError as e:
        raise InputError(source, f"cannot read the file: {e.strerror or e}") from e
    if not isinstance(arr, np.ndarray):
        raise InputError(source, "not a single array")
    if arr.dtype.kind not in "iuf":
        raise InputError(source, f"power map must hold integers or floats, not dtype "
                         f"{arr.dtype}")
    if arr.ndim != 2:
        raise InputError(source, f"power map must be 2-D (rows, columns), got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(source, f"empty power map (shape {arr.shape})")
    watts = arr.astype(float, copy=False)
    for mask, problem in ((~np.isfinite(watts), "is not finite"), (watts < 0, "is negative")):
        hit = np.argwhere(mask)
        if hit.size:
            r, c = hit[0]
            raise InputError(source, f"power at row {r + 1}, column {c + 1} {problem} "
                             f"({watts[r, c]})")
    return watts


def _check_npy_header(f, source: str, file_size: int) -> int:
    """Refuse object dtypes, and shapes bigger than the file, before numpy allocates anything;
    return the number of data bytes (0 when the header cannot be read here).

    A damaged or hostile header claiming, say, (100000, 100000) would otherwise make np.load
    try to allocate tens of GB before noticing the data is missing.
    """
    fmt = np.lib.format
    readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
    try:
        version = fmt.read_magic(f)
        if version not in readers:
            return 0  # e.g. version 3.0: np.load (allow_pickle=False) still guards it
        shape, _, dtype = readers[version](f)
    except Exception as e:  # noqa: BLE001 - header parsing raises various types
        raise InputError(source, f"corrupt .npy file: bad header ({e})") from None
    if dtype.hasobject:
        raise InputError(source, _PICKLE_REFUSED)
    need = dtype.itemsize * math.prod(shape)  # Python ints: no overflow
    have = file_size - f.tell()
    if need > have:
        raise InputError(source, f"corrupt .npy file: the header claims shape {shape} of "
                         f"{dtype} ({need} bytes) but the file holds {have} bytes of data")
    return need


def write_power_map(path: PathLike, watts: np.ndarray) -> None:
    """Write a power map: ``.npy`` (float64, no pickling) or CSV (any other extension).

    Parameters
    ----------
    path : str or PathLike
    watts : array_like, shape (rows, cols)
        Watts per cell, row 0 the top of the die. CSV values are written with shortest
        round-trip digits, so reading back gives the same doubles.
    """
    w = np.asarray(watts, dtype=float)
    if w.ndim != 2 or w.size == 0:
        raise ValueError(f"a power map is a non-empty 2-D array, got shape {w.shape}")
    if Path(path).suffix.lower() == ".npy":
        with open(path, "wb") as f:  # a file object: np.save would append '.npy' to other names
            np.save(f, w, allow_pickle=False)
        return
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# power map, W per cell, {w.shape[0]} rows x {w.shape[1]} columns; "
                "first row = top of the die\n")
        f.writelines(",".join(map(repr, r)) + "\n" for r in w.tolist())
