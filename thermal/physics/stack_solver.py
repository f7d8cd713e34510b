"""P1 prism finite elements for a stack: extrusion, assembly, solve, energy balance.

The plane is meshed once (any method: it covers the stack's largest footprint and follows every
footprint outline and every block of its own material, :func:`plane_domain`); the mesh is
extruded through the layers (:func:`meshes.prism.graded_levels`: sub-layers thin in the power
layers, thickening away from them) and prisms outside a layer's footprint are dropped.

A P1 prism's shape functions are the triangle's times the segment's, so with ``kx`` the
in-plane and ``kz`` the through-plane conductivity its matrix is the tensor sum::

    K_prism = kx K_tri (x) M_seg + kz M_tri (x) K_seg,
    K_seg = [[1, -1], [-1, 1]] / d,   M_seg = d [[2, 1], [1, 2]] / 6.

Summed over a layer's sub-layers (same materials) that is two Kronecker products per layer of
a tridiagonal level matrix with the plane's assembled stiffness and mass weighted by the
layer's per-triangle conductivity: assembly costs a few plane assemblies, not a loop over
prisms. The sink's bottom face adds ``h M_tri`` on the lowest level. A power layer's load is
the plane's exact load (:meth:`thermal.geometry.floorplan.Floorplan.power_moments`) spread over its
levels in proportion to each sub-layer's thickness (uniform through the layer, HotSpot's
convention, or through its active slice). Power in equals heat out through the sink face to the
solver's tolerance on every mesh, and that balance is recorded.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg  # noqa: F401  (sp.linalg.norm)
from skfem import MeshTri

from meshes.prism import PrismMesh, graded_levels, init_prism
from meshes.size_field import SizeField
from thermal.geometry.floorplan import Domain, Floorplan, Rects
from thermal.physics.solver import DIRECT_BELOW, ElementGeometry, SolveInfo
from thermal.geometry.stack import Stack

#: Gradation of sub-layer thickness away from the power layers. Measured on ev6's equal-footprint
#: stack (power mesh, tol 1e-3): 0.5 -> 0.13 % max error, 0.3 -> 0.086 %, 0.2 -> 0.082 %;
#: 1.0 -> 0.26 %: the spreader's and sink's z resolution matters, more sub-layers in the die
#: (2 -> 4) did not.
Z_GRADATION = 0.3
#: Sub-layers of a power layer: at least this many (its heat is generated through it).
MIN_POWER_SUBLAYERS = 2
#: Largest element outside the die, as a fraction of the outline's longer side.
RIM_FRACTION = 0.125


@dataclass(frozen=True)
class Region:
    """A slab of one layer in the prism mesh: its layer, and whether it dissipates power."""

    layer: int
    thickness: float
    source: bool


def regions(stack: Stack) -> list[Region]:
    """The stack's slabs bottom (sink) first; an active slice is a region of its own, on top."""
    out = []
    for i in range(len(stack.layers) - 1, -1, -1):
        layer = stack.layers[i]
        active = layer.active_thickness
        if layer.power and active is not None and active < layer.thickness:
            out += [Region(i, layer.thickness - active, False), Region(i, active, True)]
        else:
            out.append(Region(i, layer.thickness, layer.power))
    return out


def plane_domain(stack: Stack, extra: Rects | None = None) -> Domain:
    """What the plane mesh must follow: the outline, every footprint, every material block
    (and ``extra`` rectangles: a power layer's blocks when the mesh must conform to them)."""
    return Domain(stack.outline, stack.interfaces if extra is None else _joined(stack.interfaces, extra))


def extended_field(field: SizeField, stack: Stack, gradation: float = 0.5) -> SizeField:
    """A die's size field carried over the stack's outline: unchanged on the die, growing
    away from it with slope ``gradation`` up to :data:`RIM_FRACTION` of the outline."""
    x0, y0, x1, y1 = stack.outline
    if (x0, y0, x1, y1) == tuple(stack.die):
        return field
    h_rim = RIM_FRACTION * max(x1 - x0, y1 - y0)
    xs = _extended_axis(field.xs, x0, x1, h_rim)
    ys = _extended_axis(field.ys, y0, y1, h_rim)
    X, Y = np.meshgrid(xs, ys)
    inside = ((X >= field.xs[0]) & (X <= field.xs[-1]) & (Y >= field.ys[0]) & (Y <= field.ys[-1]))
    values = np.where(inside, field(X, Y), h_rim)
    return SizeField(xs, ys, values).graded(gradation)


def _extended_axis(axis: np.ndarray, lo: float, hi: float, h_rim: float) -> np.ndarray:
    """``axis`` with points added out to ``lo`` and ``hi``, spacing growing by 1.5x a step."""
    step = axis[1] - axis[0]
    left, right = [], []
    pos, s = axis[0], step
    while pos - s > lo + 0.5 * s:
        s = min(1.5 * s, h_rim)
        pos -= s
        left.append(pos)
    pos, s = axis[-1], step
    while pos + s < hi - 0.5 * s:
        s = min(1.5 * s, h_rim)
        pos += s
        right.append(pos)
    return np.concatenate([[lo] if axis[0] > lo else [], left[::-1], axis, right,
                           [hi] if axis[-1] < hi else []])


def z_size(stack: Stack, plane: MeshTri) -> float:
    """Sub-layer thickness in the power layers: the plane's typical size on the die (median
    longest edge), within [thinnest power slab / 8, / 2]. Two sub-layers in ev6's die were as
    accurate as four (the error is the plane's); thinner ones follow finer planes."""
    from meshes.adapt import longest_edges

    x0, y0, x1, y1 = stack.die
    c = plane.p[:, plane.t].mean(axis=1)
    on_die = (c[0] > x0) & (c[0] < x1) & (c[1] > y0) & (c[1] < y1)
    h_plane = float(np.median(longest_edges(plane)[on_die]))
    thinnest = min(r.thickness for r in regions(stack) if r.source)
    return float(np.clip(h_plane, thinnest / 8, thinnest / MIN_POWER_SUBLAYERS))


def extrude(stack: Stack, plane: MeshTri, h0: float | None = None) -> PrismMesh:
    """The plane mesh extruded through the stack (regions as :func:`regions`)."""
    regs = regions(stack)
    h0 = z_size(stack, plane) if h0 is None else h0
    bounds = np.concatenate([[0.0], np.cumsum([r.thickness for r in regs])])
    z, sub_region = graded_levels(bounds, np.array([r.source for r in regs]), h0, Z_GRADATION)
    c = plane.p[:, plane.t].mean(axis=1)
    present = np.empty((len(regs), plane.t.shape[1]), bool)
    for k, r in enumerate(regs):
        fx0, fy0, fx1, fy1 = stack.footprint(stack.layers[r.layer])
        present[k] = (c[0] > fx0) & (c[0] < fx1) & (c[1] > fy0) & (c[1] < fy1)
    return init_prism(plane, z, sub_region, present)


# ---------------------------------------------------------------------------------- assembly
def region_conductivity(stack: Stack, mesh: PrismMesh) -> tuple[np.ndarray, np.ndarray]:
    """(kx, kz), each (regions, triangles): the layer's, or a block's own where it has one
    (triangles follow material blocks, so the centroid decides), 0 where the region is absent."""
    regs = regions(stack)
    plane = mesh.plane
    c = plane.p[:, plane.t].mean(axis=1)
    kx = np.zeros(mesh.region_present.shape)
    kz = np.zeros(mesh.region_present.shape)
    for k, r in enumerate(regs):
        layer = stack.layers[r.layer]
        kx[k], kz[k] = layer.conductivity, layer.conductivity_z
        if layer.block_conductivity is not None:
            value = block_values(layer.floorplan, layer.block_conductivity, c)
            set_ = ~np.isnan(value)
            kx[k, set_] = kz[k, set_] = value[set_]
        kx[k, ~mesh.region_present[k]] = 0.0
        kz[k, ~mesh.region_present[k]] = 0.0
    return kx, kz


def block_values(floorplan: Floorplan, values: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Per triangle (centroids ``c``, which decide: triangles follow material blocks) the value
    of the block it lies in, NaN outside every block or where the block keeps the layer's."""
    block = floorplan.block_at(c[0], c[1])
    out = np.full(block.shape, np.nan)
    out[block >= 0] = values[block[block >= 0]]
    return out


def _plane_matrices(plane: MeshTri, g: ElementGeometry, weight_k: np.ndarray,
                    weight_m: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Plane stiffness with per-triangle weights ``weight_k`` and mass with ``weight_m``."""
    pattern = PlanePattern.of(plane)
    return pattern.matrix(pattern.stiffness(g, weight_k)), pattern.matrix(pattern.mass(g, weight_m))


@dataclass(frozen=True)
class PlanePattern:
    """The sparsity of the plane's P1 matrices (CSR, sorted) and where each element entry goes,
    so every weighted stiffness or mass is a ``bincount`` onto the same pattern."""

    indptr: np.ndarray
    indices: np.ndarray
    slot: np.ndarray  # (9 E,) position in the pattern of each element entry (i, j, e)

    @classmethod
    def of(cls, plane: MeshTri) -> "PlanePattern":
        n, t = plane.p.shape[1], plane.t
        rows = np.broadcast_to(t[:, None, :], (3, 3, t.shape[1])).ravel()
        cols = np.broadcast_to(t[None, :, :], (3, 3, t.shape[1])).ravel()
        keys, slot = np.unique(rows.astype(np.int64) * n + cols, return_inverse=True)
        indptr = np.searchsorted(keys // n, np.arange(n + 1))
        return cls(indptr, (keys % n).astype(np.int32), slot.reshape(-1))

    @property
    def nnz(self) -> int:
        return self.indices.size

    @property
    def diagonal_slots(self) -> np.ndarray:
        """Position of each row's diagonal entry."""
        row = np.repeat(np.arange(self.indptr.size - 1), np.diff(self.indptr))
        return np.flatnonzero(self.indices == row)

    def stiffness(self, g: ElementGeometry, weight: np.ndarray) -> np.ndarray:
        local = (weight * g.area) * np.einsum("die,dje->ije", g.grad, g.grad)
        return np.bincount(self.slot, weights=local.ravel(), minlength=self.nnz)

    def mass(self, g: ElementGeometry, weight: np.ndarray) -> np.ndarray:
        local = (weight * g.area / 12.0) * (np.ones((3, 3)) + np.eye(3))[:, :, None]
        return np.bincount(self.slot, weights=local.ravel(), minlength=self.nnz)

    def matrix(self, data: np.ndarray) -> sp.csr_matrix:
        n = self.indptr.size - 1
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(n, n))

    def tridiagonal(self, diagonal: list[np.ndarray], upper: list[np.ndarray]) -> sp.csr_matrix:
        """The level-major matrix with plane blocks ``diagonal[k]`` at (k, k) and ``upper[k]``
        at (k, k+1) and (k+1, k) (plane blocks are symmetric), built straight into CSR: each
        row of level k holds its row of block (k, k-1), then (k, k), then (k, k+1), so the
        columns stay sorted; the scatter pattern is computed once for all levels."""
        n, L = self.indptr.size - 1, len(diagonal)
        deg = np.diff(self.indptr)
        row_of = np.repeat(np.arange(n), deg)
        within = np.arange(self.nnz) - self.indptr[row_of]
        layouts = {}

        def layout(blocks: int):
            """Where the b-th block's entries go in a level's row-major data, and their columns
            relative to the first block's level."""
            if blocks not in layouts:
                base = blocks * self.indptr[row_of] + within
                target = np.concatenate([base + b * deg[row_of] for b in range(blocks)])
                cols = np.empty(blocks * self.nnz, np.int64)
                cols[target] = np.concatenate([self.indices + b * n for b in range(blocks)])
                layouts[blocks] = (target, cols)
            return layouts[blocks]

        data, indices, counts = [], [], []
        for k in range(L):
            values = ([upper[k - 1]] if k > 0 else []) + [diagonal[k]] + ([upper[k]] if k < L - 1 else [])
            target, cols = layout(len(values))
            d = np.empty(target.size)
            d[target] = np.concatenate(values)
            data.append(d)
            indices.append(cols + (k - (k > 0)) * n)
            counts.append(len(values) * deg)
        indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))])
        return sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr),
                             shape=(L * n, L * n))


@dataclass
class StackSystem:
    """The assembled prism system on the active nodes, and what energy bookkeeping needs."""

    A: sp.csr_matrix         # (n_nodes, n_nodes), level-major; inactive rows decoupled
    f: np.ndarray
    active: np.ndarray       # (n_nodes,) bool
    sink_mass: sp.csr_matrix  # plane mass over the sink's face, times h
    top_mass: sp.csr_matrix | None  # the same over layer 0's top face if it convects
    power: float             # watts in




def assemble_stack(stack: Stack, mesh: PrismMesh, geometry: ElementGeometry | None = None) -> StackSystem:
    """Matrix and exact load of the stack on ``mesh``.

    Every plane block of the level-major matrix is a combination of the regions' weighted
    plane stiffness and mass on one sparsity pattern, so assembly is a few ``bincount`` s and
    one direct CSR build (no sparse sums, no sorting of 10^7 entries).
    """
    plane = mesh.plane
    g = geometry or ElementGeometry.of(plane)
    pattern = PlanePattern.of(plane)
    regs = regions(stack)
    kx, kz = region_conductivity(stack, mesh)
    L = mesh.n_levels
    diagonal = [np.zeros(pattern.nnz) for _ in range(L)]
    upper = [np.zeros(pattern.nnz) for _ in range(L - 1)]
    f = np.zeros(mesh.n_nodes)
    power = 0.0
    for k, r in enumerate(regs):
        stiff, mass = pattern.stiffness(g, kx[k]), pattern.mass(g, kz[k])
        subs = np.flatnonzero(mesh.sublayer_region == k)
        for s in subs:
            d = mesh.z[s + 1] - mesh.z[s]
            # kx K_tri (x) M_seg + kz M_tri (x) K_seg on levels (s, s + 1).
            diagonal[s] += stiff * (d / 3) + mass / d
            diagonal[s + 1] += stiff * (d / 3) + mass / d
            upper[s] += stiff * (d / 6) - mass / d
        layer = stack.layers[r.layer]
        if r.source and layer.floorplan is not None and layer.floorplan.total_power != 0:
            f_plane = _plane_load(layer.floorplan, plane, g)
            f += np.kron(level_weights(mesh, subs), f_plane)
            power += layer.floorplan.total_power
    bottom = mesh.region_present[mesh.sublayer_region[0]].astype(float)
    sink = pattern.mass(g, stack.sink_htc * bottom)
    diagonal[0] = diagonal[0] + sink
    top = None
    if stack.top_htc > 0:
        top = pattern.mass(g, stack.top_htc * mesh.region_present[mesh.sublayer_region[-1]])
        diagonal[L - 1] = diagonal[L - 1] + top
    # Nodes outside every footprint stay as decoupled rows (the tensor layout the multigrid
    # relies on), with a diagonal of the matrix's own scale.
    active = mesh.active_nodes.reshape(L, -1)
    on_diagonal = pattern.diagonal_slots
    scale = np.median(np.concatenate([diagonal[k][on_diagonal][active[k]] for k in range(L)]))
    for k in range(L):
        diagonal[k][on_diagonal[~active[k]]] = scale
    A = pattern.tridiagonal(diagonal, upper)
    return StackSystem(A, f, active.reshape(-1), pattern.matrix(sink),
                       None if top is None else pattern.matrix(top), power)


def level_weights(mesh: PrismMesh, subs: np.ndarray) -> np.ndarray:
    """(levels,) weights of the sub-layers ``subs`` on their levels, summing to one: the
    through-thickness mean of a P1 field (trapezoid per sub-layer), and how a load spread
    uniformly through those sub-layers falls on the levels."""
    d = mesh.z[subs + 1] - mesh.z[subs]
    weights = np.zeros(mesh.n_levels)
    np.add.at(weights, subs, d / (2 * d.sum()))
    np.add.at(weights, subs + 1, d / (2 * d.sum()))
    return weights


def _plane_load(floorplan: Floorplan, plane: MeshTri, g: ElementGeometry) -> np.ndarray:
    """Exact nodal load of a floorplan's power on the plane mesh (W per node). Only triangles
    on the floorplan's die (the mesh follows its outline) can hold its power."""
    x0, y0, x1, y1 = floorplan.die
    c = plane.p[:, plane.t].mean(axis=1)
    on = np.flatnonzero((c[0] > x0) & (c[0] < x1) & (c[1] > y0) & (c[1] < y1))
    t = plane.t[:, on]
    load = floorplan.power_moments(plane.p, t)
    f_e = np.einsum("die,de->ie", g.grad[:, :, on], load[1:])
    f_e[0] += load[0]
    return np.bincount(t.ravel(), weights=f_e.ravel(), minlength=plane.p.shape[1])


def solve_stack(stack: Stack, mesh: PrismMesh,
                geometry: ElementGeometry | None = None) -> tuple[np.ndarray, SolveInfo, dict]:
    """Rise at every node of ``mesh`` (NaN at inactive nodes), how it was solved, and the
    energy balance ``{"power_in_W", "heat_out_W", "faces": {...}, "energy_balance_rel"}``."""
    start = time.perf_counter()
    system = assemble_stack(stack, mesh, geometry)
    assemble_s = time.perf_counter() - start
    u, info = solve_prisms(system.A, system.f, mesh, geometry or ElementGeometry.of(mesh.plane),
                           active=system.active)
    rise = np.where(system.active, u, np.nan)
    faces = {"sink": float(np.sum(system.sink_mass @ np.nan_to_num(rise[:mesh.n_plane])))}
    if system.top_mass is not None:
        faces["top"] = float(np.sum(system.top_mass @ np.nan_to_num(rise[-mesh.n_plane:])))
    out = sum(faces.values())
    balance = {"power_in_W": system.power, "heat_out_W": faces,
               "energy_balance_rel": abs(out - system.power) / system.power if system.power else 0.0,
               "assemble_s": assemble_s, "unknowns": int(system.A.shape[0])}
    return rise, info, balance


#: Relative residual the prism solve must reach. Measured against a solve to 1e-13 on ev6 under
#: HotSpot's package, and with a TIM of k = 0.05: at 1e-9 the largest error is 4e-12 and 1e-11
#: of the peak rise (1e-8: 8e-11 and 4e-11), eight orders below the discretisation's; the
#: lumped die's 1e-11 cost four more iterations of about 22 here.
STACK_RTOL = 1e-9
#: Restarts of CG from its last iterate when its recursive residual met the tolerance but the
#: true one did not (round-off on stiff stacks: measured 2.8e-10 against 1e-10).
RESTARTS = 3
#: Largest system the sparse LU fallback takes on (3D fill grows fast: at 700k unknowns it ran
#: for minutes); above it a missed tolerance is a SolverError, never an unconverged answer.
DIRECT_FALLBACK_MAX = 200_000


def solve_prisms(A: sp.csr_matrix, b: np.ndarray, mesh: PrismMesh, geometry: ElementGeometry,
                 rtol: float = STACK_RTOL, active: np.ndarray | None = None) -> tuple[np.ndarray, SolveInfo]:
    """CG preconditioned by line multigrid (:mod:`thermal.physics.line_multigrid`), restarted on
    the true residual until it meets the tolerance; a sparse LU below :data:`DIRECT_BELOW`
    unknowns or if CG fails; never an unconverged answer (:class:`SolverError`)."""
    from thermal.errors import SolverError
    from thermal.physics.line_multigrid import LineMultigrid, pcg
    from thermal.physics.solver import _direct, _relative_residual
    from thermal.threads import one_thread

    start = time.perf_counter()
    res = np.inf
    if A.shape[0] >= DIRECT_BELOW:
        ones = np.ones(mesh.plane.t.shape[1])
        p = mesh.plane.p
        size = max(np.ptp(p[0]), np.ptp(p[1]))
        K, M = _plane_matrices(mesh.plane, geometry, ones, ones / size ** 2)
        with one_thread("blas"), np.errstate(all="ignore"):
            mg = LineMultigrid(A, mesh.n_levels, K + M, active)
            u, iterations = pcg(A, b, mg.cycle, rtol)
            res = _relative_residual(A, u, b)
            for _ in range(RESTARTS):
                if not np.isfinite(res) or res <= rtol:
                    break
                # Solve for the correction from the true residual, to the tolerance left.
                r = b - A @ u
                du, more = pcg(A, r, mg.cycle, 0.5 * rtol * np.linalg.norm(b) / np.linalg.norm(r))
                u, iterations = u + du, iterations + more
                res = _relative_residual(A, u, b)
        if np.isfinite(res) and (res <= 10 * rtol or _backward_error(A, u, b) <= rtol):
            return u, SolveInfo("line-multigrid-cg", iterations, res, time.perf_counter() - start)
    if A.shape[0] > DIRECT_FALLBACK_MAX:
        raise SolverError(f"line multigrid CG stopped at relative residual {res:.3g} > {10 * rtol:.1g} "
                          f"and {A.shape[0]:,} unknowns are too many for the direct fallback")
    u = _direct(A, b)
    direct = _relative_residual(A, u, b)
    if np.isfinite(direct) and direct <= 10 * rtol:
        method = "direct" if A.shape[0] < DIRECT_BELOW else f"direct (line multigrid missed: {res:.1e})"
        return u, SolveInfo(method, 0, direct, time.perf_counter() - start)
    raise SolverError(f"linear solve did not converge: relative residual {min(res, direct):.3g} > {10 * rtol:.1g}")


def _backward_error(A: sp.csr_matrix, u: np.ndarray, b: np.ndarray) -> float:
    """||b - A u|| / (||A|| ||u|| + ||b||) (Frobenius norm of A): the relative change of the data
    that makes ``u`` exact. Layers a micrometre thick with in-plane conductivities of 1e6
    (HotSpot's one-node-per-layer stand-in) put the relative residual's round-off floor near
    2e-10, above the 1e-11 asked; the backward error then still says the answer is as good as
    double precision allows."""
    return float(np.linalg.norm(b - A @ u) / (sp.linalg.norm(A) * np.linalg.norm(u) + np.linalg.norm(b)))


# ---------------------------------------------------------------------------------- plane meshes
def uniform_plane(stack: Stack, resolution: int, extra: Rects | None = None) -> MeshTri:
    """Elements of one size over the die, about that of a tensor grid of ``resolution`` square
    cells along its longer side (longest edges between ``W / resolution`` and twice that: the
    grid's diagonal is ``sqrt(2) W / resolution``), graded out over the spreader and sink
    (:func:`extended_field`). With equal footprints, that tensor grid itself.

    Not a tensor grid over the whole outline: the die's lines would cross the rim as strips of
    aspect ratio 30 and more, which cost nothing in accuracy but 5x in solver iterations.
    """
    from meshes.uniform import init_uniform

    if stack.outline == tuple(stack.die):
        return init_uniform(plane_domain(stack, extra), resolution)
    x0, y0, x1, y1 = stack.die
    h = 2.0 * max(x1 - x0, y1 - y0) / resolution
    return field_plane(stack, SizeField.constant(h, stack.die), None, extra)[0]


def field_plane(stack: Stack, field: SizeField, budget: int | None = None,
                extra: Rects | None = None):
    """The plane mesh following a die's size field, carried over the outline: (mesh, stats)."""
    from meshes.adapt import adapted

    return adapted(plane_domain(stack, extra), extended_field(field, stack), budget=budget)


def base_plane(stack: Stack, extra: Rects | None = None) -> MeshTri:
    from meshes.base import init_base

    return init_base(plane_domain(stack, extra))


def _joined(a: Rects, b: Rects) -> Rects:
    return Rects(*(np.concatenate([getattr(a, k), getattr(b, k)]) for k in ("x0", "y0", "x1", "y1")))
