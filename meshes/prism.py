"""Prism meshes: a triangle mesh of the plane extruded through a stack of regions.

A :class:`PrismMesh` is the plane's triangles times the intervals between ``z`` levels (bottom
first). Every sub-layer (interval) belongs to a *region* (a layer of the stack), and a region
may be absent over some triangles (outside its footprint): those prisms do not exist. Node
``(level k, plane node i)`` has index ``k * n_plane + i``; nodes that no prism touches are not
part of the mesh (:attr:`PrismMesh.active_nodes`).

Like scikit-fem's meshes it is immutable; :func:`init_prism` builds one and
:func:`graded_levels` chooses the levels: each region split into sub-layers no thicker than a
size that grows linearly away from given hot levels, so sub-layers are thin near the sources
and thick in the sink.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from skfem import MeshTri


@dataclass(frozen=True, eq=False)
class PrismMesh:
    """Triangles ``plane`` extruded between levels ``z`` (ascending).

    Attributes
    ----------
    plane : MeshTri
    z : ndarray (L,)
        Level heights, bottom first (metres).
    sublayer_region : ndarray (L - 1,)
        Region (stack layer) of each sub-layer.
    region_present : ndarray (R, T) of bool
        Whether region ``r`` exists over triangle ``t``.
    """

    plane: MeshTri
    z: np.ndarray
    sublayer_region: np.ndarray
    region_present: np.ndarray

    @property
    def n_plane(self) -> int:
        return self.plane.p.shape[1]

    @property
    def n_levels(self) -> int:
        return self.z.size

    @property
    def n_nodes(self) -> int:
        return self.n_levels * self.n_plane

    @cached_property
    def prisms(self) -> tuple[np.ndarray, np.ndarray]:
        """(sub-layer, triangle) of every existing prism, sub-layer by sub-layer."""
        present = self.region_present[self.sublayer_region]  # (S, T)
        s, t = np.nonzero(present)
        return s, t

    @property
    def n_prisms(self) -> int:
        return self.prisms[0].size

    @cached_property
    def wedges(self) -> np.ndarray:
        """(6, P) node indices of each prism: its bottom triangle, then its top, in VTK's wedge
        order (the bottom triangle's right-hand normal points away from the top one)."""
        s, t = self.prisms
        tri = self.plane.t[:, t]
        # Clockwise seen from above: the normal points down, away from the top triangle.
        p = self.plane.p
        cross = ((p[0, tri[1]] - p[0, tri[0]]) * (p[1, tri[2]] - p[1, tri[0]])
                 - (p[1, tri[1]] - p[1, tri[0]]) * (p[0, tri[2]] - p[0, tri[0]]))
        tri = np.where(cross > 0, tri[[0, 2, 1]], tri)
        bottom = s * self.n_plane + tri
        return np.vstack([bottom, bottom + self.n_plane])

    @cached_property
    def active_nodes(self) -> np.ndarray:
        """Boolean (n_nodes,): nodes some prism touches (per region, then per level: no prism
        is built)."""
        touched = np.zeros((self.region_present.shape[0], self.n_plane), bool)
        for r, present in enumerate(self.region_present):
            touched[r, self.plane.t[:, present].ravel()] = True
        by_sublayer = touched[self.sublayer_region]  # (S, n_plane)
        out = np.zeros((self.n_levels, self.n_plane), bool)
        out[:-1] |= by_sublayer
        out[1:] |= by_sublayer
        return out.reshape(-1)

    def points(self) -> np.ndarray:
        """(n_nodes, 3) coordinates of every node (inactive ones included)."""
        x = np.tile(self.plane.p[0], self.n_levels)
        y = np.tile(self.plane.p[1], self.n_levels)
        z = np.repeat(self.z, self.n_plane)
        return np.column_stack([x, y, z])

    def region_levels(self, region: int) -> tuple[int, int]:
        """(first, last) level of a region: its bottom and top faces."""
        subs = np.flatnonzero(self.sublayer_region == region)
        return int(subs[0]), int(subs[-1] + 1)


def init_prism(plane: MeshTri, z: np.ndarray, sublayer_region: np.ndarray,
               region_present: np.ndarray) -> PrismMesh:
    """A prism mesh, checked: ascending levels, one region per sub-layer, a presence mask per
    region and triangle."""
    z = np.asarray(z, float)
    sublayer_region = np.asarray(sublayer_region, int)
    region_present = np.asarray(region_present, bool)
    if z.ndim != 1 or z.size < 2 or np.any(np.diff(z) <= 0):
        raise ValueError("prism levels must be at least two, strictly ascending")
    if sublayer_region.shape != (z.size - 1,):
        raise ValueError(f"{z.size - 1} sub-layers but {sublayer_region.size} regions given")
    if region_present.ndim != 2 or region_present.shape[1] != plane.t.shape[1]:
        raise ValueError("region_present must be (regions, triangles)")
    return PrismMesh(plane, z, sublayer_region, region_present)


def graded_levels(bounds: np.ndarray, hot: np.ndarray, h0: float,
                  gradation: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Levels splitting each region ``[bounds[r], bounds[r + 1]]`` (ascending) into sub-layers.

    Inside the ``hot`` regions (boolean per region: the power layers) sub-layers are at most
    ``h0`` thick; elsewhere at most ``h0 + gradation * d``, with ``d`` the distance from the
    nearest hot region measured at the sub-layer's side nearer to it, so they thicken
    geometrically away from the sources. Every region gets at least one sub-layer.

    Returns
    -------
    z : ndarray
        Levels, ascending, including every bound exactly.
    region : ndarray
        Region of each sub-layer.
    """
    bounds = np.asarray(bounds, float)
    hot = np.asarray(hot, bool)
    n = bounds.size - 1
    if hot.shape != (n,) or not hot.any():
        raise ValueError("hot must flag at least one of the regions")
    hot_ends = np.concatenate([bounds[:-1][hot], bounds[1:][hot]])
    levels, region = [bounds[:1]], []
    for r in range(n):
        a, b = bounds[r], bounds[r + 1]
        thickness = b - a
        if hot[r]:
            count = int(np.ceil(thickness / h0 * (1 - 1e-9)))
            steps = np.full(count, thickness / count)
        else:
            da, db = np.min(np.abs(hot_ends - a)), np.min(np.abs(hot_ends - b))
            steps, pos = [], 0.0
            while pos < thickness * (1 - 1e-9):
                steps.append(h0 + gradation * (min(da, db) + pos))
                pos += steps[-1]
            steps = np.asarray(steps) * (thickness / pos)  # shrink all to fit exactly
            if db < da:  # graded from the top end
                steps = steps[::-1]
        levels.append(a + np.cumsum(steps))
        region += [r] * steps.size
    z = np.concatenate(levels)
    region = np.asarray(region)
    z[np.r_[0, np.cumsum(np.bincount(region, minlength=n))]] = bounds  # exact bounds
    return z, region
