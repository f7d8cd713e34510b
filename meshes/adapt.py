"""Refine the base mesh of a domain until element sizes follow a size field.

Starting from :func:`meshes.base.init_base` (as coarse as the domain allows, angles >= 25 deg;
for the lumped die model's domain, two triangles),
every element whose longest edge exceeds the field anywhere on it (at its vertices and centroid)
is marked and refined by red-green-blue refinement (:func:`meshes.refine.rgb_refined`, the
same result as scikit-fem's ``MeshTri.refined`` 4x faster: conforming, angles at least half the
base mesh's). Repeating until nothing is marked
leaves every element between half and all of the size asked — except where the domain's
geometry (a mesh following every block, say) forces smaller elements, which the statistics
report. With the field graded
(|grad h| <= 0.5), neighbours differ in size by about 2x at most.

Named boundaries are not needed (all edges are adiabatic), so that refinement drops them is
harmless. ``.smoothed()`` is never called: it would move nodes off the domain's edges and ruin
angles.
"""
from __future__ import annotations

import time

import numpy as np
from skfem import MeshTri

from meshes.refine import rgb_refined
from meshes.size_field import GRADATION, SizeField, SizeFieldError, as_size_field

#: Refuse fields that would need more elements than this (about 2 GB of mesh and matrix).
MAX_ELEMENTS = 20_000_000
#: Bisection rounds before giving up (each halves the largest marked elements).
MAX_ROUNDS = 60


def longest_edges(mesh: MeshTri) -> np.ndarray:
    """Length of each element's longest edge."""
    p = mesh.p[:, mesh.t]  # (2, 3, E)
    return np.sqrt(((p - np.roll(p, 1, axis=1)) ** 2).sum(axis=0)).max(axis=0)


def neighbour_size_ratio(mesh: MeshTri, h: np.ndarray | None = None) -> float:
    """Largest ratio of longest edges between two elements sharing an edge."""
    h = longest_edges(mesh) if h is None else h
    t = mesh.t
    edges = np.sort(np.hstack([t[[0, 1]], t[[1, 2]], t[[2, 0]]]), axis=0)  # (2, 3E)
    key = edges[0].astype(np.int64) * mesh.p.shape[1] + edges[1]
    order = np.argsort(key, kind="stable")
    owner = np.tile(np.arange(t.shape[1]), 3)[order]
    shared = np.flatnonzero(key[order][1:] == key[order][:-1])  # interior edges: adjacent pairs
    if shared.size == 0:
        return 1.0
    a, b = h[owner[shared]], h[owner[shared + 1]]
    return float((np.maximum(a, b) / np.minimum(a, b)).max())


def field_on_elements(mesh: MeshTri, field: SizeField, at_nodes: np.ndarray | None = None) -> np.ndarray:
    """The smallest size the field asks for at each element's vertices and centroid
    (``at_nodes``: the field at the mesh nodes, if already known)."""
    at_nodes = field(mesh.p[0], mesh.p[1]) if at_nodes is None else at_nodes
    c = mesh.p[:, mesh.t].mean(axis=1)
    return np.minimum(at_nodes[mesh.t].min(axis=0), field(c[0], c[1]))


def adapted(domain, size_field, *, budget: int | None = None, base: MeshTri | None = None,
            gradation: float | None = GRADATION) -> tuple[MeshTri, dict]:
    """A mesh of ``domain`` whose element sizes follow ``size_field``.

    Parameters
    ----------
    domain : thermal.geometry.floorplan.Domain
        The die, and the rectangles whose edges are kept as mesh edges (a Floorplan itself
        stands for ``floorplan.domain(conform=True)``).
    size_field : SizeField, callable h(x, y) or float
        Target longest edge in metres.
    budget : int, optional
        Maximum number of elements: the field is scaled up (coarser everywhere, same shape)
        until the mesh fits.
    base : MeshTri, optional
        Start from this mesh of the domain instead of building the base mesh.
    gradation : float or None
        Bound on |grad h| applied to the field first; None to use the field as given.

    Returns
    -------
    mesh : MeshTri
    stats : dict
        Rounds, scaling applied for the budget, and how many elements are finer than asked
        because of the geometry (``forced_by_geometry``) or the refinement's closure.

    Raises
    ------
    SizeFieldError
        For NaN, infinite, zero or negative sizes, or a field needing more than
        :data:`MAX_ELEMENTS` elements (give a budget or a coarser field).
    """
    from meshes.base import init_base

    start = time.perf_counter()
    field = as_size_field(size_field, domain.die)
    if gradation is not None:
        field = field.graded(gradation)
    scale = 1.0
    expected = field.expected_elements()
    if budget is not None:
        if budget < 1:
            raise SizeFieldError(f"element budget must be positive, got {budget}")
        if expected > budget:
            scale = float(np.sqrt(expected / budget))
    if expected / scale ** 2 > MAX_ELEMENTS:
        raise SizeFieldError(f"size field asks for about {expected:.3g} elements (min size "
                             f"{field.min:.3g} m); the limit is {MAX_ELEMENTS:.0e}: give a budget "
                             "or a coarser field")
    base = base if base is not None else init_base(domain)
    while True:
        mesh, rounds, h, target = _refine_to(base, field.scaled(scale))
        n = mesh.t.shape[1]
        if budget is None or n <= budget:
            break
        scale *= float(np.sqrt(n / budget)) * 1.02  # the prediction was off: coarsen and redo
    base_h, base_target = longest_edges(base), field_on_elements(base, field.scaled(scale))
    stats = {
        "rounds": rounds,
        "budget": budget,
        "field_scale": scale,
        "expected_elements": expected / scale ** 2,
        "finer_than_asked": int(np.sum(h < 0.5 * target)),
        "forced_by_geometry": int(np.sum(base_h < 0.5 * base_target)),
        "max_size_ratio": float((h / target).max()),
        "max_neighbour_ratio": neighbour_size_ratio(mesh, h),
        "mesh_s": time.perf_counter() - start,
    }
    return mesh, stats


def _refine_to(mesh: MeshTri, field: SizeField) -> tuple[MeshTri, int, np.ndarray, np.ndarray]:
    """Refine until no element is larger than asked: the mesh, the rounds, and each element's
    longest edge and target size."""
    # Refinement keeps the old nodes first and appends midpoints: only new nodes are evaluated.
    at_nodes = field(mesh.p[0], mesh.p[1])
    for rounds in range(MAX_ROUNDS):
        h, target = longest_edges(mesh), field_on_elements(mesh, field, at_nodes)
        marked = np.flatnonzero(h > target)
        if marked.size == 0:
            return mesh, rounds, h, target
        if mesh.t.shape[1] > MAX_ELEMENTS:
            raise SizeFieldError(f"refinement passed {MAX_ELEMENTS:.0e} elements")
        mesh = rgb_refined(mesh, marked)
        new = mesh.p[:, at_nodes.size:]
        at_nodes = np.concatenate([at_nodes, field(new[0], new[1])])
    raise SizeFieldError(f"mesh did not reach the size field in {MAX_ROUNDS} rounds")
