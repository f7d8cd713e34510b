"""Mesh files: VTK XML unstructured grid (``.vtu``), for ParaView and round trips.

Written here, not through meshio: importing meshio cost 0.1 s of every one-shot command, and
its writer builds the XML tree in Python. The format is VTK's own (``UnstructuredGrid``,
version 1.0, little-endian, ``UInt64`` block headers), every array in one raw appended block,
so ParaView, VTK and meshio read it (the tests read every file back with meshio). Reading goes
through meshio, imported only then.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from skfem import MeshTri

#: VTK cell type numbers (vtkCellType.h).
VTK_TRIANGLE, VTK_WEDGE = 5, 13
_VTK_TYPES = {np.dtype(np.float64): "Float64", np.dtype(np.float32): "Float32",
              np.dtype(np.int64): "Int64", np.dtype(np.int32): "Int32", np.dtype(np.uint8): "UInt8"}


def write_vtu(path: str | Path, mesh: MeshTri, point_data: dict | None = None,
              cell_data: dict | None = None) -> None:
    """Write ``mesh`` with nodal ``point_data`` and per-triangle ``cell_data`` arrays.

    Points are written in 3-D (z = 0) in the mesh's own coordinates, metres.
    """
    points = np.column_stack([mesh.p.T, np.zeros(mesh.p.shape[1])])
    write_cells_vtu(path, points, mesh.t, VTK_TRIANGLE, point_data, cell_data)


def write_wedges_vtu(path: str | Path, points: np.ndarray, wedges: np.ndarray,
                     point_data: dict | None = None, cell_data: dict | None = None) -> None:
    """Write a prism (VTK wedge) mesh: ``points`` (N, 3), ``wedges`` (6, P) in VTK's order."""
    write_cells_vtu(path, points, wedges, VTK_WEDGE, point_data, cell_data)


def write_cells_vtu(path: str | Path, points: np.ndarray, cells: np.ndarray, cell_type: int,
                    point_data: dict | None = None, cell_data: dict | None = None) -> None:
    """Write cells of one VTK type: ``points`` (N, 3), ``cells`` (nodes per cell, C)."""
    points = np.ascontiguousarray(points, np.float64)
    cells = np.asarray(cells)
    per_cell, n_cells = cells.shape
    arrays = [("Points", None, points),
              ("Cells", "connectivity", np.ascontiguousarray(cells.T, np.int64).ravel()),
              ("Cells", "offsets", np.arange(1, n_cells + 1, dtype=np.int64) * per_cell),
              ("Cells", "types", np.full(n_cells, cell_type, np.uint8))]
    arrays += [("PointData", name, _array(v, points.shape[0], name)) for name, v in (point_data or {}).items()]
    arrays += [("CellData", name, _array(v, n_cells, name)) for name, v in (cell_data or {}).items()]
    sections: dict[str, list[str]] = {"Points": [], "Cells": [], "PointData": [], "CellData": []}
    blocks, offset = [], 0
    for section, name, values in arrays:
        attrs = f'type="{_VTK_TYPES[values.dtype]}"' + (f' Name="{name}"' if name else "")
        if values.ndim == 2:  # vectors; scalars take VTK's default of one component
            attrs += f' NumberOfComponents="{values.shape[1]}"'
        sections[section].append(f'<DataArray {attrs} format="appended" offset="{offset}"/>')
        data = values.tobytes()
        blocks += [np.uint64(len(data)).tobytes(), data]
        offset += 8 + len(data)
    xml = ['<?xml version="1.0"?>',
           '<VTKFile type="UnstructuredGrid" version="1.0" byte_order="LittleEndian" header_type="UInt64">',
           "<UnstructuredGrid>", f'<Piece NumberOfPoints="{points.shape[0]}" NumberOfCells="{n_cells}">']
    for section, lines in sections.items():
        if lines or section in ("Points", "Cells"):
            xml += [f"<{section}>", *lines, f"</{section}>"]
    xml += ["</Piece>", "</UnstructuredGrid>", '<AppendedData encoding="raw">']
    with open(path, "wb") as f:
        f.write(("\n".join(xml) + "\n_").encode())
        for block in blocks:
            f.write(block)
        f.write(b"\n</AppendedData>\n</VTKFile>\n")


def _array(values, size: int, name: str) -> np.ndarray:
    """A data array as written: little-endian float64 (integers as int32), one row per item."""
    a = np.asarray(values)
    if a.shape[0] != size:
        raise ValueError(f"data array '{name}' has {a.shape[0]} rows, expected {size}")
    dtype = np.int32 if np.issubdtype(a.dtype, np.integer) or a.dtype == bool else np.float64
    return np.ascontiguousarray(a, dtype)


def read_vtu(path: str | Path) -> tuple[MeshTri, dict, dict]:
    """Read a triangle mesh written by :func:`write_vtu`: mesh, point data, cell data."""
    import meshio

    m = meshio.read(str(path), file_format="vtu")
    tri = m.get_cells_type("triangle")
    cell_data = {k: v[0] for k, v in m.cell_data.items()}
    return MeshTri(m.points[:, :2].T.copy(), tri.T.copy()), dict(m.point_data), cell_data


def write_pvd(path: str | Path, entries: list[tuple[float, str | Path]]) -> None:
    """Write a ParaView time series (``.pvd``): a VTK ``Collection`` of one file per time.

    Parameters
    ----------
    path : str or Path
        The ``.pvd`` file. Written under a temporary name and renamed into place, so a reader
        never sees half a file.
    entries : iterable of (float, str or Path)
        ``(time in seconds, data file)`` per step, in the order given (ParaView sorts by time).
        A relative file name is taken as relative to the ``.pvd``'s folder and written as given;
        an absolute one is written relative to that folder, so the series can be moved whole.
        Written with ``/`` separators, as VTK's readers expect on every platform.

    Raises
    ------
    ValueError
        No entries, a time that is not finite, or an empty file name.

    Notes
    -----
    The layout is VTK's (``vtkXMLCollectionReader``): ``<VTKFile type="Collection"
    version="0.1">``, one ``<DataSet timestep=".." group="" part="0" file=".."/>`` per entry.
    """
    import math
    import os
    from xml.sax.saxutils import quoteattr

    from thermal.io.transient_files import AtomicTextFile

    folder = os.path.abspath(Path(path).parent)
    rows = []
    for time, name in entries:
        t = float(time)
        if not math.isfinite(t):
            raise ValueError(f"time step {time!r} of {name!r} is not finite")
        name = Path(name)
        if not str(name) or name == Path("."):
            raise ValueError(f"empty file name at time {t!r}")
        if name.is_absolute():
            name = Path(os.path.relpath(name, folder))
        file = quoteattr(name.as_posix())
        rows.append(f'<DataSet timestep="{t!r}" group="" part="0" file={file}/>')
    if not rows:
        raise ValueError("a .pvd needs at least one (time, file) entry")
    xml = ['<?xml version="1.0"?>',
           '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">',
           "<Collection>", *rows, "</Collection>", "</VTKFile>"]
    with AtomicTextFile(path) as f:
        f.write("\n".join(xml) + "\n")
