"""Readers and writers of floorplan and power files, one small module per format.

* :mod:`thermal.io.hotspot` — HotSpot ``.flp`` floorplans, ``.ptrace`` power traces, ``.steady``
  temperatures.
* :mod:`thermal.io.json_floorplan` — one JSON file with blocks, power and model parameters.
* :mod:`thermal.io.power_map` — gridded power maps, CSV or ``.npy``.

:func:`read_floorplan` picks the reader from the file extensions. Every problem in a user's file
is raised as one :class:`~thermal.errors.InputError` (``file:line: problem``), never as a bare
``FileNotFoundError`` or parser traceback.
"""
from __future__ import annotations

from pathlib import Path

from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan
from thermal.io.hotspot import (FlpData, PtraceData, read_flp, read_hotspot, read_ptrace, write_flp,
                                write_ptrace, write_steady)
from thermal.io.json_floorplan import read_json, write_json
from thermal.io.power_map import read_flp_with_power_map, read_power_map, write_power_map

__all__ = ["FlpData", "PtraceData", "read_flp", "read_ptrace", "read_hotspot",
           "read_flp_with_power_map", "write_steady", "write_flp", "write_ptrace", "read_json",
           "write_json", "read_power_map", "write_power_map", "read_floorplan"]

_POWER_TRACE = {".ptrace"}
_POWER_MAP = {".csv", ".npy"}


def read_floorplan(path, power=None, **kw) -> tuple[Floorplan, dict]:
    """Read a floorplan and its power, choosing the reader from the extensions.

    Parameters
    ----------
    path : str or PathLike
        ``.json`` (blocks and power in one file) or ``.flp`` (HotSpot floorplan).
    power : str or PathLike, optional
        For a ``.flp``: a ``.ptrace`` power trace (steady power = its mean) or a ``.csv``/``.npy``
        power map. Must not be given with a ``.json``, which holds its own power.
    **kw
        Passed to :meth:`Floorplan.from_blocks` (e.g. ``snap=False``).

    Returns
    -------
    floorplan : Floorplan
    parameters : dict
        Model parameters stored in a JSON file (possibly empty); empty for HotSpot files.

    Raises
    ------
    InputError
        Unknown extension, a ``.flp`` without power file, a ``.json`` with one, or any problem
        in the files themselves.
    """
    ext = Path(path).suffix.lower()
    if ext == ".json":
        if power is not None:
            raise InputError(power, f"{path} holds its own block power: give no power file "
                             "with a JSON floorplan")
        return read_json(path, **kw)
    if ext == ".flp":
        if power is None:
            raise InputError(path, "a HotSpot floorplan needs a power file (.ptrace, .csv or "
                             ".npy)")
        pext = Path(power).suffix.lower()
        if pext in _POWER_TRACE:
            return read_hotspot(path, power, **kw), {}
        if pext in _POWER_MAP:
            return read_flp_with_power_map(path, power, **kw), {}
        raise InputError(power, f"unknown power file type '{pext or '(none)'}': expected "
                         ".ptrace, .csv or .npy")
    raise InputError(path, f"unknown floorplan file type '{ext or '(none)'}': expected .flp or "
                     ".json")
