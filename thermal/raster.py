"""A floorplan's heat sources seen through the cells of a node grid.

Every estimate made before a solve -- the hotspot features, the size fields of the ``power`` and
``adaptive`` meshes -- looks at the power density through a grid over the die whose nodes are
far coarser than a power map's cells or a tile floorplan's tiles. :func:`rasterize` summarises,
for the cell around each node (half a spacing either side, clipped to the die), what a mesh
element of about that size holds: the mean density, the smallest and largest density present
(a jump of density inside an element is what the size fields must see), and the strongest
source touching the cell with its size (a hot unit smaller than the cell).

It is exact, not sampled: the overlap of every source segment with every cell
(:meth:`thermal.bands.Bands.rect_overlaps`), so a 50 um unit between nodes 125 um apart is seen,
and a 1024 x 1024 power map costs about one pass over its cells.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Raster", "rasterize", "node_cells"]


@dataclass(frozen=True, eq=False)
class Raster:
    """Source statistics over the cell of each node of a grid, arrays (ny, nx).

    Attributes
    ----------
    xs, ys : ndarray
        The grid's nodes.
    mean, low, high : ndarray
        Mean, smallest and largest power density in each cell (W/m^2; gaps count as 0).
    strongest : ndarray
        Power of the strongest source touching each cell (W); 0 if none.
    strongest_side : ndarray
        The shorter side of that source (m; the smallest among equally strong ones); inf if none.
    """

    xs: np.ndarray
    ys: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    strongest: np.ndarray
    strongest_side: np.ndarray


def node_cells(xs: np.ndarray, ys: np.ndarray):
    """Cells around the nodes of an evenly spaced grid, clipped to its extent: (x0, y0, x1, y1),
    flat arrays in node order ``j * nx + i``."""
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    cx0, cx1 = np.maximum(xs - dx / 2, xs[0]), np.minimum(xs + dx / 2, xs[-1])
    cy0, cy1 = np.maximum(ys - dy / 2, ys[0]), np.minimum(ys + dy / 2, ys[-1])
    X0, Y0 = np.meshgrid(cx0, cy0)
    X1, Y1 = np.meshgrid(cx1, cy1)
    return X0.ravel(), Y0.ravel(), X1.ravel(), Y1.ravel()


def rasterize(floorplan, xs: np.ndarray, ys: np.ndarray) -> Raster:
    """Source statistics of ``floorplan`` over the node cells of the grid ``xs`` x ``ys``
    (evenly spaced, spanning the die)."""
    field = floorplan.power_density
    bands = field.bands
    x0, y0, x1, y1 = node_cells(xs, ys)
    cell, seg, area = bands.rect_overlaps(x0, y0, x1, y1)
    # Pairs come grouped by cell, in cell order, and every cell overlaps something (gaps are
    # segments too): reduce each group in one call.
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    v = field.values[seg]
    owner = bands.owner[seg]
    power = np.where(owner >= 0, floorplan.source_power[np.maximum(owner, 0)], 0.0)
    s = floorplan.sources
    side = np.where(owner >= 0, np.minimum(s.width, s.height)[np.maximum(owner, 0)], np.inf)
    shape = (ys.size, xs.size)
    cell_area = (x1 - x0) * (y1 - y0)
    mean = np.add.reduceat(v * area, starts) / cell_area
    strongest = np.maximum.reduceat(power, starts)
    # Of the sources as strong as the strongest, the smallest side (a unit smaller than a cell).
    side = np.where((power == np.repeat(strongest, np.diff(np.r_[starts, cell.size])))
                    & (power > 0), side, np.inf)
    return Raster(xs, ys, mean.reshape(shape), np.minimum.reduceat(v, starts).reshape(shape),
                  np.maximum.reduceat(v, starts).reshape(shape), strongest.reshape(shape),
                  np.minimum.reduceat(side, starts).reshape(shape))
