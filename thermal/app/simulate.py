"""Solve a floorplan under a model -- a stack (by default HotSpot's package) or the lumped die:
choose the mesh, then :func:`thermal.physics.stack_solution.solve_model_on`.

``solve(floorplan, model, mesh=...)`` builds (or takes) a mesh -- uniform, the coarsest, or one
sized by an adaptive method -- assembles with the sources' power integrated exactly over each
element, solves and returns a :class:`~thermal.physics.solution.Solution`. Meshes follow the die and its
material interfaces only (none in the lumped model), or with ``conform=True`` every block and
source edge, as thermesh did before sources were integrated exactly.
"""
from __future__ import annotations

import time

from skfem import MeshTri

from hotspot_ml.mesh import solve_adaptive
from thermal.physics.adaptive import METHODS as PHYSICS_METHODS
from thermal.geometry.floorplan import Floorplan
from thermal.geometry.lumped import LumpedDie
from thermal.physics.solution import Solution, element_centroids, solve_on
from thermal.geometry.stack import Stack, hotspot_package
from thermal.physics.stack_solution import base_mesh, solve_model_on, uniform_mesh

__all__ = ["solve", "make_mesh", "default_model", "Solution", "solve_on", "element_centroids"]

#: Every adaptive meshing method by name (:mod:`thermal.physics.adaptive`, and the hotspot model's).
METHODS = {**PHYSICS_METHODS, "adaptive": solve_adaptive}


def default_model() -> Stack:
    """HotSpot's built-in package (:func:`thermal.geometry.stack.hotspot_package`): die, TIM, spreader,
    sink, convection; what every run uses unless told otherwise."""
    return hotspot_package()


def bind(floorplan: Floorplan, model) -> LumpedDie | Stack:
    """The model ready for ``floorplan``: a stack not yet around a die is put around it."""
    model = default_model() if model is None else model
    if isinstance(model, Stack) and model.die is None:
        model = model.bound_to(floorplan)
    return model


def make_mesh(floorplan: Floorplan, mesh: str | MeshTri = "uniform", *, resolution: int = 100,
              conform: bool = False, model=None):
    """The mesh a method asks for, and its description for ``result.json`` (for a stack, the
    plane mesh over its outline)."""
    if isinstance(mesh, MeshTri):
        return mesh, {"method": "given"}
    info = {"method": mesh, "conform": bool(conform)}
    if mesh == "uniform":
        return uniform_mesh(floorplan, model, resolution, conform), {**info, "resolution": int(resolution)}
    if mesh == "base":
        return base_mesh(floorplan, model, conform), info
    raise ValueError(f"unknown mesh method {mesh!r}")


def solve(floorplan: Floorplan, model: LumpedDie | Stack | None = None, *,
          mesh: str | MeshTri = "uniform", resolution: int = 100, tol: float = 1e-3,
          budget: int | None = None, conform: bool = False, critical=None,
          critical_tol: float = 0.02) -> Solution:
    """Temperature field of ``floorplan`` under ``model``.

    Parameters
    ----------
    floorplan : Floorplan
    model : Stack or LumpedDie, optional
        Defaults to HotSpot's package around the die (:func:`default_model`). A stack whose
        power layers have no floorplan of their own takes ``floorplan``.
    mesh : str or MeshTri
        ``'uniform'`` (``resolution`` cells along the die's longer side), ``'base'`` (the
        coarsest mesh of the domain: two triangles, or with ``conform`` the coarsest that
        follows every block), an adaptive method aiming at ``tol`` — ``'amr'``, ``'power'``,
        ``'coarse'``, ``'oracle'``, ``'adaptive'`` (see :mod:`thermal.physics.adaptive`) — or a mesh
        of the die you built (any: the load is integrated exactly).
    resolution : int
        Cells along the die's longer side for ``mesh='uniform'``.
    tol : float
        Target maximum error relative to the peak temperature rise, for adaptive methods.
    budget : int, optional
        Maximum number of elements for adaptive methods.
    conform : bool
        Make the mesh follow every block and power-source edge (what thermesh did before the
        load was integrated exactly; a 512 x 512 power map then means 524k elements at least).
        By default meshes follow only the die and material interfaces, and the field alone
        decides where elements are small.
    critical : list of str, optional
        Blocks (of any power layer) whose temperature must be known to ``critical_tol``
        kelvin whatever ``tol`` asks elsewhere: the mesh is refined inside them until their
        elements' estimated error is below it (:func:`thermal.physics.adaptive.refine_critical`;
        ``sol.extra["critical"]``).

    Examples
    --------
    >>> import thermal
    >>> fp = thermal.read_hotspot("examples/ev6.flp", "examples/gcc.ptrace")  # doctest: +SKIP
    >>> sol = thermal.solve(fp, mesh="amr", tol=1e-3)                         # doctest: +SKIP
    >>> sol.peak["temperature"]                                               # doctest: +SKIP
    """
    model = bind(floorplan, model)
    start = time.perf_counter()
    if isinstance(mesh, str) and mesh in METHODS:
        if not 0 < tol < 1:
            raise ValueError(f"tol must be between 0 and 1 (relative to the peak rise), got {tol}")
        sol = METHODS[mesh](floorplan, model, tol, budget=budget, conform=conform)
    else:
        m, info = make_mesh(floorplan, mesh, resolution=resolution, conform=conform, model=model)
        sol = solve_model_on(floorplan, model, m, {**info, "solves": 1},
                             {"estimate_s": 0.0, "mesh_s": time.perf_counter() - start})
    if critical:
        from thermal.physics.adaptive import refine_critical

        if not critical_tol > 0:
            raise ValueError(f"critical_tol must be positive (kelvin), got {critical_tol}")
        sol = refine_critical(sol, list(critical), critical_tol, budget)
    sol.timing["total_s"] = time.perf_counter() - start
    return sol
