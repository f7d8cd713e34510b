"""A solved temperature field, and solving the lumped die model on a given mesh.

:func:`solve_on` assembles (the sources' power integrated exactly over each element, whether or
not the mesh follows them), solves and returns a :class:`Solution`: the nodal temperature rise
plus everything needed to query, judge and write it. Choosing the mesh is
:func:`thermal.app.simulate.solve`'s (and :mod:`thermal.physics.adaptive`'s).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from skfem import MeshTri

from thermal.geometry.floorplan import Floorplan
from thermal.geometry.lumped import LumpedDie
from thermal.physics.solver import ElementGeometry, SolveInfo, assemble, heat_out, solve_linear

#: Grid for :meth:`Solution.hotspots`: that of :data:`hotspot_ml.features.POINTS`, so solved and
#: predicted hotspots are found alike.
HOTSPOT_GRID_POINTS = 129


@dataclass(eq=False)
class Solution:
    """A solved temperature field.

    Attributes
    ----------
    floorplan : Floorplan
    model : LumpedDie
    mesh : MeshTri
    rise : ndarray, shape (nodes,)
        Temperature rise above ambient at the mesh nodes, K.
    element_block : ndarray, shape (elements,)
        Block index of each element's centroid, -1 in gaps (meshes need not follow the
        blocks: an element may lie across several).
    timing : dict
        Seconds per stage: ``mesh_s``, ``assemble_s``, ``solve_s``, ``total_s`` (and more for
        adaptive methods).
    mesh_info : dict
        Method, its parameters and mesh statistics.
    solver : SolveInfo
    """

    floorplan: Floorplan
    model: LumpedDie
    mesh: MeshTri
    rise: np.ndarray
    element_block: np.ndarray
    timing: dict
    mesh_info: dict
    solver: SolveInfo
    extra: dict = field(default_factory=dict)

    @property
    def temperature(self) -> np.ndarray:
        """Nodal temperature, K."""
        return self.rise + self.model.ambient

    @cached_property
    def geometry(self) -> ElementGeometry:
        return ElementGeometry.of(self.mesh)

    @cached_property
    def element_power(self) -> np.ndarray:
        """Exact power of each element, W (:meth:`Floorplan.power_moments`)."""
        return self.floorplan.power_moments(self.mesh.p, self.mesh.t)[0]

    @cached_property
    def locator(self):
        from meshes.locate import PointLocator

        return PointLocator(self.mesh)

    def rise_at(self, x, y) -> np.ndarray:
        """Temperature rise (K) at points, P1 interpolation; NaN outside the die."""
        return self.locator.interpolate(self.rise, x, y)

    def rise_on_grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Temperature rise (K) on the tensor grid ``xs`` x ``ys`` (sorted), shape (ny, nx)."""
        return self.locator.interpolate_grid(self.rise, xs, ys)

    def temperature_at(self, x, y) -> np.ndarray:
        """Temperature (K) at points, P1 interpolation; NaN outside the die."""
        return self.rise_at(x, y) + self.model.ambient

    @cached_property
    def peak(self) -> dict:
        """Hottest point of the field (a P1 field peaks at a node)."""
        i = int(np.argmax(self.rise))
        x, y = self.mesh.p[:, i]
        block = int(self.floorplan.block_at(np.array([x]), np.array([y]))[0])
        return {"temperature": float(self.temperature[i]), "rise": float(self.rise[i]),
                "x": float(x), "y": float(y),
                "block": self.floorplan.names[block] if block >= 0 else None}

    def hotspots(self, points: int = HOTSPOT_GRID_POINTS) -> list[dict]:
        """Hotspots of the solved field (:func:`thermal.physics.hotspots.find_hotspots`), found on a
        grid of ``points`` nodes along the die's longer side (the grid predictions use)."""
        from meshes.size_field import grid_over
        from thermal.physics.hotspots import find_hotspots

        xs, ys = grid_over(self.floorplan.die, points)
        return find_hotspots(xs, ys, self.rise_on_grid(xs, ys), self.floorplan, self.model.ambient)

    @cached_property
    def energy_balance_rel(self) -> float:
        """|heat out - power in| / power in; zero up to solver tolerance on a conforming mesh."""
        total = self.floorplan.total_power
        return abs(heat_out(self.mesh, self.model, self.rise, self.geometry) - total) / total

    def block_temperatures(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact mean, maximum and minimum temperature of each block, K (of the P1 field, over
        the block's rectangle, whether or not the mesh follows it: :func:`block_statistics`)."""
        stats = block_statistics(self.floorplan, self.mesh, self.rise, self.geometry.area)
        return tuple(v + self.model.ambient for v in stats)

    @cached_property
    def error_estimate(self) -> dict:
        """A-posteriori estimate of the max error (:func:`thermal.physics.estimate.error_estimate`)."""
        from thermal.physics.estimate import error_estimate

        return error_estimate(self)


def block_statistics(floorplan: Floorplan, mesh: MeshTri, u: np.ndarray,
                     area: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, maximum and minimum of the P1 field ``u`` over each block's rectangle, exactly
    (``area``: the elements' areas).

    Elements inside one block count whole; every other element is clipped against each block
    its interior meets (:func:`thermal.geometry.overlap.clip_triangles`), and the linear field is
    integrated over the piece and maximised at its vertices.
    """
    from thermal.geometry.overlap import linear_extremes, linear_integrals

    n = len(floorplan.names)
    owner, whole, tri, block, pieces = _block_pieces(floorplan, mesh)
    values = u[mesh.t]
    total = np.bincount(owner[whole], area[whole] * values[:, whole].mean(axis=0),
                        minlength=n).astype(float)
    peak = np.full(n, -np.inf)
    low = np.full(n, np.inf)
    np.maximum.at(peak, owner[whole], values[:, whole].max(axis=0))
    np.minimum.at(low, owner[whole], values[:, whole].min(axis=0))
    if tri.size:
        total += np.bincount(block, linear_integrals(pieces, values[:, tri]), minlength=n)
        lo, hi = linear_extremes(pieces, values[:, tri])
        np.fmax.at(peak, block, hi)
        np.fmin.at(low, block, lo)
    return total / floorplan.blocks.area, peak, low


def block_mean_matrix(floorplan: Floorplan, mesh: MeshTri, area: np.ndarray) -> sp.csr_matrix:
    """The linear map from a P1 field to its exact mean over each block (blocks x nodes): the
    mean of :func:`block_statistics`, once for many fields (a transient's every row)."""
    from thermal.geometry.overlap import linear_integrals

    n, nodes = len(floorplan.names), mesh.p.shape[1]
    owner, whole, tri, block, pieces = _block_pieces(floorplan, mesh)
    rows = [np.repeat(owner[whole], 3)]
    cols = [mesh.t[:, whole].T.ravel()]
    vals = [np.repeat(area[whole] / 3.0, 3)]
    for v in range(3):  # the integral of the linear field is linear in each vertex's value
        unit = np.zeros((3, tri.size))
        unit[v] = 1.0
        rows.append(block)
        cols.append(mesh.t[v, tri])
        vals.append(linear_integrals(pieces, unit) if tri.size else np.zeros(0))
    W = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, nodes))
    return sp.diags(1.0 / floorplan.blocks.area) @ W


def _block_pieces(floorplan: Floorplan, mesh: MeshTri):
    """Triangles wholly in one block (their owner), and the pieces of the others clipped
    against each block they meet: (owner, whole, cut triangle, its block, pieces)."""
    from thermal.geometry.overlap import clip_triangles

    bands = floorplan.block_bands
    seg = bands.vertex_segments(mesh.p, mesh.t)
    owner = bands.owner[seg[0]]
    whole = (seg[0] == seg[1]) & (seg[1] == seg[2]) & (owner >= 0)
    cut = np.flatnonzero(~whole)
    if not cut.size:
        return owner, whole, cut, cut, None
    px = mesh.p[0][mesh.t[:, cut]] - floorplan.die[0]
    py = mesh.p[1][mesh.t[:, cut]] - floorplan.die[1]
    tri, k = bands.triangle_segments(px, py)
    block = bands.owner[k]
    # A block split across bands meets a triangle once per band: clip each pair once.
    pairs = np.unique(np.stack([tri[block >= 0], block[block >= 0]]), axis=1)
    tri, block = cut[pairs[0]], pairs[1]
    b = floorplan.blocks
    pieces = clip_triangles(mesh.p[0][mesh.t[:, tri]], mesh.p[1][mesh.t[:, tri]],
                            b.x0[block], b.y0[block], b.x1[block], b.y1[block])
    return owner, whole, tri, block, pieces


def element_centroids(mesh: MeshTri) -> tuple[np.ndarray, np.ndarray]:
    return mesh.p[0][mesh.t].mean(axis=0), mesh.p[1][mesh.t].mean(axis=0)


def solve_on(floorplan: Floorplan, model: LumpedDie, mesh: MeshTri, mesh_info: dict,
             timing: dict | None = None) -> Solution:
    """Assemble (the sources' power integrated exactly over each element) and solve on a
    given mesh of the die."""
    from meshes import quality

    timing = dict(timing or {})
    start = time.perf_counter()
    geometry = ElementGeometry.of(mesh)
    load = floorplan.power_moments(mesh.p, mesh.t)
    A, f = assemble(mesh, model, load, geometry)
    timing["assemble_s"] = time.perf_counter() - start
    rise, info = solve_linear(A, f)
    timing["solve_s"] = info.seconds
    sol = Solution(floorplan, model, mesh, rise, floorplan.block_at(*element_centroids(mesh)),
                   timing, {**mesh_info, **quality(mesh)}, info)
    sol.__dict__["geometry"] = geometry  # reuse, cached_property storage
    sol.__dict__["element_power"] = load[0]
    return sol
