"""Files of a transient run: HotSpot temperature traces, initial temperatures, the peak over time.

Temperature trace (``.ttrace``), as HotSpot 7.0 writes it with ``-o``
    The first line names the blocks, then one line per row of the power trace, each holding every
    block's temperature at the *end* of that sampling interval (row ``k`` is at time
    ``(k + 1) * sampling_intvl``; there is no time column). References are to HotSpot 7.0's
    sources (``/work/shared/tools/hotspot-7.0``):

    * Which blocks, in which order: the names of the *power trace's* header, in its column order
      (hotspot.c:560 ``read_names(pin, names)``, then hotspot.c:565 ``write_names(tout, names,
      n)``; the temperatures are permuted back to that order at hotspot.c:616-630). So only the
      blocks that dissipate power: the silicon layer of the block model; for the grid model the
      blocks of every layer with ``has_power`` (the layers' floorplans one after the other,
      hotspot.c:546-551). No layer prefixes, no interface/spreader/sink blocks, no internal
      nodes.
    * Separators and number format: names joined by a tab, ``"%s\\t"`` ... ``"%s\\n"``
      (hotspot.c:250-256 ``write_names``); values ``"%.2f\\t"`` ... ``"%.2f\\n"``, i.e. two
      decimals, tab-separated, one ``\\n``-terminated line per row (hotspot.c:258-265
      ``write_vals``).
    * Units: kelvin. The comment above ``write_vals`` (hotspot.c:258) says "in degree C", but the
      values written are the model's node temperatures, which are kelvin throughout (the main
      comment, hotspot.c:346-347, "outputs instantaneous temperature values (in K)"; ambient
      and ``init_temp`` are 318.15 in template.config). Checked by running the built HotSpot on
      examples/example1 (block model) and example3 (grid model with a layer file): the rows are
      e.g. ``318.70\\t318.58\\t...``.
    * A row is written after each ``compute_temp`` call for one ``sampling_intvl``
      (hotspot.c:606-609, written at hotspot.c:632); the time printed before the step is
      ``lines * sampling_intvl`` (hotspot.c:598), the step's start.

    :class:`TtraceWriter` writes this layout (header, tab-separated rows) with 6 decimals by
    default (thermesh's ``.steady`` also has 6; ``decimals=2`` gives HotSpot's bytes exactly);
    :func:`read_ttrace` reads it back.

Initial temperatures (``.init``, a ``.steady`` file), HotSpot's ``-init_file``
    One node per line, ``name temperature`` (kelvin). HotSpot writes it with ``dump_temp``
    (``"%s%s\\t%.2f\\n"``: prefix, block name, value) and reads it with ``read_temp``:

    * Block model (temperature_block.c:533-575 ``dump_temp_block``, 587-695 ``read_temp_block``):
      the silicon blocks under their own names, then ``iface_<name>`` (thermal interface),
      ``hsp_<name>`` (spreader), ``hsink_<name>`` (sink) for every block, then the package's
      internal nodes ``inode_0`` ... ``inode_11`` (``EXTRA`` = 12, temperature.h:38).
    * Grid model (temperature_grid.c:1322-1447 ``dump_temp_grid``, 1462-1642
      ``read_temp_grid``): without a layer file the same prefixes ('' for silicon,
      ``iface_``, ``hsp_``, ``hsink_``); with a layer file (``-grid_layer_file``) every layer
      ``n`` of the file is ``layer_<n>_<name>`` -- the silicon too -- and the two package layers
      ``hsp_`` and ``hsink_``; with ``-model_secondary 1`` also ``metal_``, ``c4_``, ``sub_``,
      ``solder_``, ``pcb_`` and 28 internal nodes (``EXTRA + EXTRA_SEC``, temperature.h:56).
    * HotSpot's reader is strict about order and count but loose about content: the layers must
      come in order (blocks within a layer in any order), a line's first token starting with
      ``#`` and blank lines are skipped, the name and number are read with ``sscanf("%s%lf")``
      so anything after the number is ignored, ``inode_<k>`` must come in order (compared
      case-insensitively), a duplicate block silently overwrites (leaving another block at its
      uninitialised value), ``nan`` is accepted, and any line after the last node -- even a
      blank one -- is "too many lines in temperature file" (temperature_block.c:677-679), and a
      last line without its newline is "not enough lines".
    * With DTM on, HotSpot scales the values down to ``thermal_threshold`` (``clip``,
      hotspot.c:531-534); thermesh has no DTM and reads the values as they are.

    :func:`read_block_temperatures` matches by name instead of by position: every expected
    name must be present exactly once; other names (e.g. ``inode_<k>``, which thermesh's model
    does not have, or layers the caller does not use) are ignored unless ``allow_extra=False``;
    order and trailing blank lines do not matter; a duplicate name, a line that is not
    ``name temperature``, or a temperature that is not a finite positive number (kelvin) is an
    error naming the file and line. It reads HotSpot's files and the ``hotspot.steady`` that
    thermesh writes (:func:`thermal.io.hotspot.write_steady`: the same names, 6 decimals, no
    internal nodes -- so HotSpot itself stops on that file with "not enough lines in
    temperature file").

Peak temperature over time (``peak.csv``)
    Comma-separated, a header ``time_s,temperature_K,x,y,layer,block``, then one row per trace
    row: time (s), the peak temperature (K), where it is (x, y in metres), the layer index and
    the block name there (empty when the point is in no block). Written by
    :class:`PeakCsvWriter`, read by :func:`read_peak_csv`.

Both writers stream (open once, one row per call) into a temporary file in the target's folder
and rename it into place only when closed without error (:class:`AtomicTextFile`): a run that
fails or is interrupted leaves neither a truncated file nor the temporary one.
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
import secrets
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Sequence, Union

import numpy as np

from thermal.errors import InputError
from thermal.io.hotspot import (_NUMBER, _check_name, _content_lines, _count, _name_list,
                                _names_ok, _read_text, _show, _to_floats, _token_grid,
                                _trace_fields_checked, _trace_fields_fast)

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["AtomicTextFile", "TtraceWriter", "read_ttrace", "read_block_temperatures",
           "PeakCsvWriter", "PeakTrace", "read_peak_csv", "PEAK_COLUMNS"]

#: Columns of ``peak.csv``, in order.
PEAK_COLUMNS = ("time_s", "temperature_K", "x", "y", "layer", "block")
_LAYER = re.compile(r"[0-9]+")


# ---------------------------------------------------------------------- atomic streaming file
def _discard_temp(fh: IO[str], temp: str) -> None:
    """Close ``fh`` and delete ``temp``; quiet, as it also runs from a finalizer."""
    try:
        fh.close()
    except OSError:
        pass
    try:
        os.unlink(temp)
    except FileNotFoundError:
        pass


class AtomicTextFile:
    """A text file streamed to a temporary name in its folder, renamed into place on close.

    The temporary file is ``.<name>.<random>.tmp`` next to ``path`` (same file system, so the
    rename is atomic), created with the permissions a plain ``open(path, "w")`` would give.
    :meth:`close` flushes it to disk and renames it over ``path``; :meth:`discard` deletes it.
    As a context manager it is closed on success and discarded on an exception; a writer that
    is neither closed nor discarded deletes its temporary file when garbage-collected. Until
    :meth:`close` succeeds, ``path`` itself is untouched (an older file there stays as it was).

    Parameters
    ----------
    path : str or PathLike
        The file to create or replace. Its folder must exist.
    fsync : bool, default True
        Flush the data to disk before the rename, so that after a crash ``path`` holds either
        the old or the complete new file.
    """

    def __init__(self, path: PathLike, *, fsync: bool = True):
        self.path = Path(path)
        self._fsync = fsync
        folder = self.path.parent
        while True:
            temp = folder / f".{self.path.name}.{secrets.token_hex(4)}.tmp"
            try:
                # 0o666 with O_CREAT honours the umask, as open(path, "w") does (mkstemp: 0o600).
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
                fd = os.open(temp, flags, 0o666)
                break
            except FileExistsError:
                continue
        self.temp_path = temp
        self._fh: IO[str] = open(fd, "w", encoding="utf-8", newline="\n")
        self._finalizer = weakref.finalize(self, _discard_temp, self._fh, str(temp))

    @property
    def closed(self) -> bool:
        """Whether the file was closed (renamed into place) or discarded."""
        return not self._finalizer.alive

    def write(self, text: str) -> int:
        """Write ``text`` to the temporary file."""
        if self.closed:
            raise ValueError(f"{self.path}: write to a closed file")
        return self._fh.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        """Write each of ``lines`` (no newlines are added)."""
        if self.closed:
            raise ValueError(f"{self.path}: write to a closed file")
        self._fh.writelines(lines)

    def close(self) -> None:
        """Finish the file and rename it to ``path``; on failure delete it and re-raise.

        Does nothing if already closed or discarded.
        """
        if self.closed:
            return
        try:
            self._fh.flush()
            if self._fsync:
                os.fsync(self._fh.fileno())
            self._fh.close()
            os.replace(self.temp_path, self.path)
        except BaseException:
            self.discard()
            raise
        self._finalizer.detach()

    def discard(self) -> None:
        """Delete the temporary file, leaving ``path`` untouched. Does nothing if closed."""
        self._finalizer()

    def __enter__(self) -> AtomicTextFile:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


class _RowWriter:
    """Context-manager plumbing shared by the streaming writers: an :class:`AtomicTextFile`."""

    _file: AtomicTextFile

    @property
    def path(self) -> Path:
        """The file written (created on :meth:`close`)."""
        return self._file.path

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        """Finish the file and move it into place."""
        self._file.close()

    def discard(self) -> None:
        """Drop everything written: no file is created (an older one stays untouched)."""
        self._file.discard()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._file.__exit__(exc_type, exc, tb)


# ---------------------------------------------------------------------- .ttrace
class TtraceWriter(_RowWriter):
    """Stream a HotSpot temperature trace (``.ttrace``): a header of names, one row per step.

    Parameters
    ----------
    path : str or PathLike
        The ``.ttrace`` file; it appears only when the writer is closed without error.
    names : sequence of str
        Block names, in column order (HotSpot: the power trace's header order). Unique, and
        each must read back (no white space, ``#`` or control characters).
    decimals : int or None, default 6
        Digits after the point; HotSpot writes 2. None writes the shortest digits that read
        back to the same double.

    Examples
    --------
    >>> with TtraceWriter(out / "run.ttrace", ["core", "cache"]) as w:   # doctest: +SKIP
    ...     for t in steps:
    ...         w.write_row(block_temperatures(t))
    """

    def __init__(self, path: PathLike, names: Sequence[str], *, decimals: int | None = 6):
        names = _names_ok(names)
        if not names:
            raise ValueError("a temperature trace needs at least one block name")
        if len(set(names)) != len(names):
            dup = next(n for i, n in enumerate(names) if n in names[:i])
            raise ValueError(f"duplicate block name {dup!r}")
        if decimals is not None and (int(decimals) != decimals or decimals < 0):
            raise ValueError(f"decimals must be a non-negative integer or None, got {decimals!r}")
        self.names = names
        self.rows_written = 0
        self._format = repr if decimals is None else f"{{:.{int(decimals)}f}}".format
        self._file = AtomicTextFile(path)
        self._file.write("\t".join(names) + "\n")

    def write_row(self, temperatures: Sequence[float] | np.ndarray) -> None:
        """Append one row: each block's temperature, kelvin, in the order of ``names``.

        Raises
        ------
        ValueError
            Wrong length, or a value that is not finite and positive (nothing is written).
        """
        t = _kelvin_row(temperatures, len(self.names), self.names, self.rows_written)
        self._file.write("\t".join(map(self._format, t.tolist())) + "\n")
        self.rows_written += 1

    def write_rows(self, rows: np.ndarray) -> None:
        """Append several rows: ``rows`` of shape (nrows, nblocks)."""
        rows = np.asarray(rows, dtype=float)
        if rows.ndim != 2:
            raise ValueError(f"rows must be 2-D (nrows, nblocks), got shape {rows.shape}")
        for r in rows:
            self.write_row(r)


def _kelvin_row(values, n: int, names: Sequence[str], row: int) -> np.ndarray:
    """``values`` as n finite positive temperatures, or a ValueError naming the block and row."""
    t = np.asarray(values, dtype=float)
    if t.shape != (n,):
        raise ValueError(f"row {row}: {t.size} temperatures for {n} blocks")
    bad = np.flatnonzero(~(np.isfinite(t) & (t > 0)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"row {row}: temperature of block {names[i]!r} must be finite and "
                         f"positive (kelvin), got {t[i]}")
    return t


def read_ttrace(path: PathLike) -> tuple[tuple[str, ...], np.ndarray]:
    """Read a temperature trace (``.ttrace``), HotSpot's or :class:`TtraceWriter`'s.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    names : tuple of str
        The header's block names, in column order.
    rows : ndarray, shape (nrows, nblocks)
        Kelvin; finite and positive. ``nrows`` may be 0 (a header only).

    Raises
    ------
    InputError
        Missing/unreadable/binary/empty file, a duplicate name, a row whose length differs from
        the header, a value that is not a number, not finite or not positive.

    Notes
    -----
    White space of any kind separates fields and ``#`` starts a comment, as in power traces.
    """
    source = str(path)
    text = _read_text(path)
    _, names, row_lines, tokens = (_trace_fields_fast(text)
                                   or _trace_fields_checked(text, source, "temperature trace",
                                                            "kelvin", rows_required=False))
    nb = len(names)
    values, bad = _to_floats(tokens)
    if values is None:
        r, c = divmod(bad, nb)
        raise InputError(source, f"temperature of block '{names[c]}' is not a number: "
                         f"{_show(tokens[bad])}", int(row_lines[r]))
    values = values.reshape(len(row_lines), nb)
    hit = np.flatnonzero(~(np.isfinite(values) & (values > 0)).ravel())
    if hit.size:
        r, c = divmod(int(hit[0]), nb)
        raise InputError(source, f"temperature of block '{names[c]}' must be finite and "
                         f"positive (kelvin), got {tokens[hit[0]]}", int(row_lines[r]))
    return tuple(names), values


# ---------------------------------------------------------------------- .init / .steady
def read_block_temperatures(path: PathLike, expected_names: Sequence[str], *,
                            allow_extra: bool = True) -> dict[str, float]:
    """Initial temperatures from a HotSpot ``.steady`` / ``.init`` file (``-init_file``).

    Parameters
    ----------
    path : str or PathLike
        ``name temperature`` per line (kelvin): HotSpot's ``-steady_file`` output or thermesh's
        ``hotspot.steady``. Blank lines and ``#`` comments are skipped.
    expected_names : sequence of str
        The nodes needed, with HotSpot's prefixes where they apply (``core``, ``iface_core``,
        ``hsp_core``, ``hsink_core``, ``layer_2_core``, ``inode_0``, ...). Unique.
    allow_extra : bool, default True
        Ignore names not in ``expected_names`` (HotSpot's ``inode_<k>``, layers the caller does
        not model). If False, such a name is an error at its line.

    Returns
    -------
    dict
        ``{name: temperature}`` for each of ``expected_names``, in that order; kelvin.

    Raises
    ------
    InputError
        Missing/unreadable/binary/empty file; a line that is not ``name temperature``; a name
        given twice; a temperature that is not a number, not finite or not positive; (with
        ``allow_extra=False``) a name not expected -- each naming the file and line. An expected
        name that the file lacks names the file only.
    ValueError
        ``expected_names`` holds a name twice.
    """
    expected = tuple(expected_names)
    if len(set(expected)) != len(expected):
        raise ValueError("expected_names must be unique")
    source = str(path)
    text = _read_text(path)
    found = _node_fields_fast(text) or _node_fields_checked(text, source)
    names, values, lines = found
    row = dict(zip(names, range(len(names))))
    missing = [n for n in expected if n not in row]
    if missing:
        raise InputError(source, f"no temperature for {_count(len(missing), 'node')}: "
                         f"{_name_list(missing)}{_prefix_hint(missing[0], names)}")
    if not allow_extra and len(names) > len(expected):
        wanted = set(expected)
        i = next(i for i, n in enumerate(names) if n not in wanted)
        raise InputError(source, f"'{names[i]}' is not one of the {_count(len(expected), 'node')}"
                         " expected", int(lines[i]))
    return {n: values[row[n]] for n in expected}


def _node_fields_fast(text: str) -> tuple[list[str], list[float], np.ndarray] | None:
    """Names, temperatures and lines of a file whose every check passes, found whole-file; None
    when not vouched for (then :func:`_node_fields_checked` reports the first problem)."""
    grid = _token_grid(text)
    if grid is None:
        return None
    tokens, first, lines = grid
    if len(tokens) != 2 * len(first) or np.any(np.diff(first) != 2):
        return None
    names = tokens[0::2]
    if len(set(names)) != len(names):
        return None
    values, _ = _to_floats(tokens[1::2])
    if values is None or not np.all(np.isfinite(values) & (values > 0)):
        return None
    return names, values.tolist(), lines


def _node_fields_checked(text: str, source: str) -> tuple[list[str], list[float], np.ndarray]:
    """The same, line by line; raises on the first line that fails a check."""
    rows = _content_lines(text)
    if not rows:
        raise InputError(source, "no temperatures: the file is empty or holds only comments "
                         "(expected 'name temperature' per line)")
    names: list[str] = []
    values: list[float] = []
    first_line: dict[str, int] = {}
    for k, (line, fields) in enumerate(rows):
        if len(fields) != 2:
            hint = ("; this looks like a trace's header of block names (.ttrace/.ptrace), not "
                    "a .steady/.init file" if k == 0 and len(fields) > 2
                    and not any(_NUMBER.fullmatch(f) for f in fields) else "")
            raise InputError(source, f"expected 'name temperature', got "
                             f"{_count(len(fields), 'field')}{hint}", line)
        name, token = fields
        _check_name(name, source, line)
        if name in first_line:
            raise InputError(source, f"duplicate node '{name}' (also on line "
                             f"{first_line[name]})", line)
        first_line[name] = line
        if not _NUMBER.fullmatch(token):
            raise InputError(source, f"temperature of '{name}' is not a number: {_show(token)}",
                             line)
        value = float(token)
        if not (math.isfinite(value) and value > 0):
            raise InputError(source, f"temperature of '{name}' must be finite and positive "
                             f"(kelvin), got {token}", line)
        names.append(name)
        values.append(value)
    return names, values, np.array(list(first_line.values()), dtype=np.int64)


def _prefix_hint(missing: str, names: Sequence[str]) -> str:
    """A hint when the file has ``missing`` under a layer prefix (e.g. ``layer_0_core``)."""
    suffix = "_" + missing
    near = next((n for n in names if n.endswith(suffix)), None)
    if near is None:
        return ""
    return (f" (the file has '{near}': HotSpot prefixes each layer's nodes, e.g. layer_<n>_ "
            "with a layer file)")


# ---------------------------------------------------------------------- peak.csv
class PeakCsvWriter(_RowWriter):
    """Stream ``peak.csv``: the peak temperature, where it is, once per trace row.

    Columns ``time_s,temperature_K,x,y,layer,block``; times and coordinates are written with
    the shortest digits that read back exactly, temperatures with 6 decimals.

    Parameters
    ----------
    path : str or PathLike
        The file; it appears only when the writer is closed without error.
    """

    #: The header row.
    COLUMNS = PEAK_COLUMNS

    def __init__(self, path: PathLike):
        self.rows_written = 0
        self._file = AtomicTextFile(path)
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(self.COLUMNS)

    def write_row(self, time_s: float, temperature_K: float, x: float, y: float, layer: int,
                  block: str | None) -> None:
        """Append one row.

        Parameters
        ----------
        time_s : float
            Time, seconds; finite.
        temperature_K : float
            Peak temperature, kelvin; finite and positive.
        x, y : float
            Where the peak is, metres; finite.
        layer : int
            Index of the layer the peak is in; non-negative.
        block : str or None
            Name of the block there; None (written empty) when the point is in no block.

        Raises
        ------
        ValueError
            A value out of range (nothing is written).
        """
        self._csv.writerow(self._fields(time_s, temperature_K, x, y, layer, block))
        self.rows_written += 1

    def _fields(self, time_s, temperature_K, x, y, layer, block) -> tuple:
        """The row's fields in :data:`PEAK_COLUMNS` order, checked (see :meth:`write_row`)."""
        t, temp, px, py = (float(v) for v in (time_s, temperature_K, x, y))
        if not all(map(math.isfinite, (t, temp, px, py))) or temp <= 0:
            raise ValueError(f"peak row {self.rows_written}: time, temperature and position must "
                             f"be finite and the temperature positive, got "
                             f"{(time_s, temperature_K, x, y)}")
        if int(layer) != layer or layer < 0:
            raise ValueError(f"peak row {self.rows_written}: layer must be a non-negative "
                             f"integer, got {layer!r}")
        block = "" if block is None else str(block)
        if not block.isprintable():
            raise ValueError(f"peak row {self.rows_written}: block name {block!r} holds a "
                             "control character")
        return repr(t), f"{temp:.6f}", repr(px), repr(py), int(layer), block


#: Columns of ``hotspots.csv`` (``thermesh predict --trace``).
HOTSPOT_COLUMNS = ("row", "time_s", "x", "y", "layer", "block", "temperature_K")


class HotspotsCsvWriter(PeakCsvWriter):
    """Stream ``hotspots.csv``: per trace row, its number and the hottest point at its end.

    Columns ``row,time_s,x,y,layer,block,temperature_K``; the values as :class:`PeakCsvWriter`
    writes and checks them.
    """

    COLUMNS = HOTSPOT_COLUMNS

    def write_row(self, time_s: float, temperature_K: float, x: float, y: float, layer: int,
                  block: str | None) -> None:
        """Append the next row (numbered from 0); arguments as :meth:`PeakCsvWriter.write_row`."""
        t, temp, px, py, lay, name = self._fields(time_s, temperature_K, x, y, layer, block)
        self._csv.writerow((self.rows_written, t, px, py, lay, name, temp))
        self.rows_written += 1


@dataclass(frozen=True, eq=False)
class PeakTrace:
    """The rows of a ``peak.csv``.

    Attributes
    ----------
    time_s, temperature_K, x, y : ndarray of float
    layer : ndarray of int
    block : tuple of (str or None)
        None where the file's block field is empty.
    """

    time_s: np.ndarray
    temperature_K: np.ndarray
    x: np.ndarray
    y: np.ndarray
    layer: np.ndarray
    block: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.block)


def read_peak_csv(path: PathLike) -> PeakTrace:
    """Read a ``peak.csv`` written by :class:`PeakCsvWriter`.

    Raises
    ------
    InputError
        Missing/unreadable/binary file, a header other than ``time_s,temperature_K,x,y,layer,
        block``, a row of another length, or a value out of range -- naming the file and line.
    """
    source = str(path)
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    header = next(reader, None)
    if header != list(PEAK_COLUMNS):
        raise InputError(source, f"expected the header '{','.join(PEAK_COLUMNS)}', got "
                         f"{_show(','.join(header or []), 80)}", 1)
    cols: list[list] = [[] for _ in PEAK_COLUMNS]
    for fields in reader:
        line = reader.line_num
        if not fields:
            continue
        if len(fields) != len(PEAK_COLUMNS):
            raise InputError(source, f"{_count(len(fields), 'field')}: expected "
                             f"{len(PEAK_COLUMNS)} ({','.join(PEAK_COLUMNS)})", line)
        for k, (label, token) in enumerate(zip(PEAK_COLUMNS[:4], fields)):
            if not _NUMBER.fullmatch(token) or not math.isfinite(float(token)):
                raise InputError(source, f"{label} is not a finite number: {_show(token)}", line)
            cols[k].append(float(token))
        if cols[1][-1] <= 0:
            raise InputError(source, f"temperature_K must be positive, got {fields[1]}", line)
        if not _LAYER.fullmatch(fields[4]):
            raise InputError(source, f"layer is not a non-negative integer: {_show(fields[4])}",
                             line)
        cols[4].append(int(fields[4]))
        cols[5].append(fields[5] or None)
    return PeakTrace(*(np.array(c, dtype=float) for c in cols[:4]),
                     np.array(cols[4], dtype=np.int64), tuple(cols[5]))
