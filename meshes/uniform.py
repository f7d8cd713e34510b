"""Uniform meshes of a die that conform to a domain's edges.

The mesh is a tensor grid: evenly spaced lines (``resolution`` cells along the die's longer side,
square-ish cells) merged with the x and y coordinates of every edge the domain asks for
(:meth:`thermal.geometry.floorplan.Floorplan.domain`: none but the die's in the lumped model; every block
and heat-source edge with ``conform=True``), each grid cell cut into two triangles. An even grid
line closer than a third of the spacing to an edge coordinate is dropped (the edge stays):
merging without that rule creates cells of width ~1e-18 m, whose matrix is singular in practice.
"""
from __future__ import annotations

import numpy as np
from skfem import MeshTri

#: Even grid lines closer than this fraction of the spacing to a block edge are dropped.
MERGE_FRACTION = 1.0 / 3.0


def grid_lines(lo: float, hi: float, cells: int, edges: np.ndarray) -> np.ndarray:
    """Sorted coordinates: ``cells`` even intervals over [lo, hi] merged with ``edges``."""
    spacing = (hi - lo) / cells
    edges = np.unique(np.clip(np.concatenate([edges, [lo, hi]]), lo, hi))
    even = np.linspace(lo, hi, cells + 1)
    near = _near_sorted(even, edges, MERGE_FRACTION * spacing)
    return np.union1d(even[~near], edges)


def _near_sorted(points: np.ndarray, sorted_edges: np.ndarray, tol: float) -> np.ndarray:
    """Whether each point lies within ``tol`` of an entry of a sorted array."""
    if sorted_edges.size == 1:
        return np.abs(points - sorted_edges[0]) < tol
    i = np.clip(np.searchsorted(sorted_edges, points), 1, sorted_edges.size - 1)
    return np.minimum(np.abs(points - sorted_edges[i - 1]), np.abs(points - sorted_edges[i])) < tol


def init_tensor(xs: np.ndarray, ys: np.ndarray) -> MeshTri:
    """Triangulate the tensor grid ``xs`` x ``ys``: each cell split along a diagonal.

    Diagonals alternate in a checkerboard so the mesh has no preferred direction.
    """
    nx, ny = xs.size, ys.size
    X, Y = np.meshgrid(xs, ys)  # node (j, i) has index j * nx + i
    p = np.vstack([X.ravel(), Y.ravel()])
    i, j = np.meshgrid(np.arange(nx - 1), np.arange(ny - 1))
    i, j = i.ravel(), j.ravel()
    sw, se = j * nx + i, j * nx + i + 1
    nw, ne = sw + nx, se + nx
    flip = (i + j) % 2 == 1
    # Counter-clockwise as built (MeshTri sorts node indices, so orientation is not kept).
    t1 = np.where(flip, [sw, se, nw], [sw, se, ne])
    t2 = np.where(flip, [se, ne, nw], [sw, ne, nw])
    return MeshTri(p, np.hstack([t1, t2]))


def init_uniform(domain, resolution: int) -> MeshTri:
    """A uniform mesh with ``resolution`` cells along the die's longer side.

    Parameters
    ----------
    domain : thermal.geometry.floorplan.Domain
        The die and the rectangles whose edges become grid lines (anything with ``die`` and
        ``edges``; a Floorplan itself stands for ``floorplan.domain(conform=True)``).
    resolution : int
        Cells along the longer die side (>= 1); the shorter side gets as many as keeps cells square.
    """
    if int(resolution) != resolution or resolution < 1:
        raise ValueError(f"resolution must be a positive integer, got {resolution!r}")
    x0, y0, x1, y1 = domain.die
    spacing = max(x1 - x0, y1 - y0) / resolution
    nx = max(1, int(round((x1 - x0) / spacing)))
    ny = max(1, int(round((y1 - y0) / spacing)))
    r = domain.edges
    xs = grid_lines(x0, x1, nx, np.concatenate([r.x0, r.x1]))
    ys = grid_lines(y0, y1, ny, np.concatenate([r.y0, r.y1]))
    return init_tensor(xs, ys)
