"""Solve the lumped die model on a mesh and hold the result.

``solve(floorplan, model, mesh=...)`` builds (or takes) a block-conforming mesh, assembles, solves
and returns a :class:`Solution`: the nodal temperature rise plus everything needed to query,
judge and write it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from skfem import MeshTri

from thermal.floorplan import Floorplan
from thermal.physics import LumpedDie
from thermal.solver import ElementGeometry, SolveInfo, assemble, heat_out, solve_linear

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
        Block index of each element, -1 in gaps.
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
        """Hotspots of the solved field (:func:`thermal.hotspots.find_hotspots`), found on a
        grid of ``points`` nodes along the die's longer side (the grid predictions use)."""
        from meshes.size_field import grid_over
        from thermal.hotspots import find_hotspots

        xs, ys = grid_over(self.floorplan.die, points)
        return find_hotspots(xs, ys, self.rise_on_grid(xs, ys), self.floorplan, self.model.ambient)

    @cached_property
    def energy_balance_rel(self) -> float:
        """|heat out - power in| / power in; zero up to solver tolerance on a conforming mesh."""
        total = self.floorplan.total_power
        return abs(heat_out(self.mesh, self.model, self.rise, self.geometry) - total) / total

    def block_temperatures(self) -> tuple[np.ndarray, np.ndarray]:
        """Area-weighted mean and maximum temperature of each block, K."""
        n = len(self.floorplan.names)
        inside = self.element_block >= 0
        eb, area = self.element_block[inside], self.geometry.area[inside]
        u = self.rise[self.mesh.t[:, inside]]
        mean = np.bincount(eb, weights=area * u.mean(axis=0), minlength=n) / \
            np.bincount(eb, weights=area, minlength=n)
        peak = np.full(n, -np.inf)
        np.maximum.at(peak, eb, u.max(axis=0))
        return mean + self.model.ambient, peak + self.model.ambient

    def write(self, directory: str | Path, **kwargs) -> list[Path]:
        """Write result.json, temperature.vtu, temperature.png, blocks.csv and hotspot.steady."""
        from thermal.output import write_solution

        return write_solution(self, directory, **kwargs)


def element_centroids(mesh: MeshTri) -> tuple[np.ndarray, np.ndarray]:
    return mesh.p[0][mesh.t].mean(axis=0), mesh.p[1][mesh.t].mean(axis=0)


def make_mesh(floorplan: Floorplan, mesh: str | MeshTri = "uniform", *, resolution: int = 100):
    """The mesh a method asks for, and its description for ``result.json``."""
    from meshes import init_base, init_uniform

    if isinstance(mesh, MeshTri):
        return mesh, {"method": "given"}
    if mesh == "uniform":
        return init_uniform(floorplan, resolution), {"method": "uniform", "resolution": int(resolution)}
    if mesh == "base":
        return init_base(floorplan), {"method": "base"}
    raise ValueError(f"unknown mesh method {mesh!r}")


def solve_on(floorplan: Floorplan, model: LumpedDie, mesh: MeshTri, mesh_info: dict,
             timing: dict | None = None) -> Solution:
    """Assemble and solve on a given block-conforming mesh."""
    from meshes import quality

    timing = dict(timing or {})
    start = time.perf_counter()
    geometry = ElementGeometry.of(mesh)
    cx, cy = element_centroids(mesh)
    density = floorplan.density_at(cx, cy)
    A, f = assemble(mesh, model, density, geometry)
    timing["assemble_s"] = time.perf_counter() - start
    rise, info = solve_linear(A, f)
    timing["solve_s"] = info.seconds
    sol = Solution(floorplan, model, mesh, rise, floorplan.block_at(cx, cy), timing,
                   {**mesh_info, **quality(mesh)}, info)
    sol.__dict__["geometry"] = geometry  # reuse, cached_property storage
    return sol


def solve(floorplan: Floorplan, model: LumpedDie | None = None, *,
          mesh: str | MeshTri = "uniform", resolution: int = 100, tol: float = 1e-3,
          budget: int | None = None) -> Solution:
    """Temperature field of ``floorplan`` under ``model``.

    Parameters
    ----------
    floorplan : Floorplan
    model : LumpedDie, optional
        Defaults to :class:`LumpedDie` ().
    mesh : str or MeshTri
        ``'uniform'`` (``resolution`` cells along the die's longer side), ``'base'`` (the
        coarsest block-conforming mesh), an adaptive method aiming at ``tol`` — ``'amr'``,
        ``'power'``, ``'coarse'``, ``'oracle'`` (see :mod:`thermal.adaptive`) — or a mesh you
        built (it must conform to the floorplan's block and source edges).
    resolution : int
        Cells along the die's longer side for ``mesh='uniform'``.
    tol : float
        Target maximum error relative to the peak temperature rise, for adaptive methods.
    budget : int, optional
        Maximum number of elements for adaptive methods.

    Examples
    --------
    >>> import thermal
    >>> fp = thermal.read_hotspot("examples/ev6.flp", "examples/gcc.ptrace")  # doctest: +SKIP
    >>> sol = thermal.solve(fp, mesh="amr", tol=1e-3)                         # doctest: +SKIP
    >>> sol.peak["temperature"]                                               # doctest: +SKIP
    """
    from thermal.adaptive import METHODS

    model = model or LumpedDie()
    start = time.perf_counter()
    if isinstance(mesh, str) and mesh in METHODS:
        if not 0 < tol < 1:
            raise ValueError(f"tol must be between 0 and 1 (relative to the peak rise), got {tol}")
        sol = METHODS[mesh](floorplan, model, tol, budget=budget)
    else:
        m, info = make_mesh(floorplan, mesh, resolution=resolution)
        sol = solve_on(floorplan, model, m, {**info, "solves": 1},
                       {"estimate_s": 0.0, "mesh_s": time.perf_counter() - start})
    sol.timing["total_s"] = time.perf_counter() - start
    return sol
