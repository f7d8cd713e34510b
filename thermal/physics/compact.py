"""A compact finite-volume model of a whole stack: coarse, cheap, and aware of the package.

The exact series (:mod:`thermal.exact.series`) needs every layer on the die's footprint and no
blocks of their own material; cut to that, a real package loses the spreader and sink it
spreads into, and 3D stacks lose their TSVs and voids (tens of % of the peak rise). This model
keeps all of it, on a coarse grid:

* in plane, a tensor grid: ``cells`` cells along the die's longer side (the same count over
  the die whatever the package, so two stacks on one die share the die's cells), then cells
  growing geometrically by :data:`GROWTH` out to the outline, with a line on every footprint's
  edge;
* through the stack, each layer split in 1 to :data:`MAX_SLABS` slabs about one die cell thick;
* per cell, the layer's conductivity, or the area-weighted mean over the blocks of their own
  material (parallel paths: exact through plane, an upper bound in plane); per cell, the power
  that falls in it, integrated exactly over the sources and spread through the layer's
  thickness (or its active slice);
* 7-point conductances (harmonic between cells, half a cell and the film in series at the
  convecting faces), one sparse solve.

:func:`compact_faces` returns the rise at the top of every power layer over the die's cells;
:func:`package_correction` turns it into what the package and the block materials add to the
exact series of the stack's cut, as differences between models on the same die cells, whose
grid error largely cancels. :func:`hotspot_ml.physics.stack_physics` adds them to that series:
the series keeps the detail, the differences the package and the materials.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from thermal.geometry.floorplan import Floorplan
from thermal.geometry.raster import interval_overlaps
from thermal.geometry.stack import Stack

#: Cells along the die's longer side.
CELLS = 24
#: Ratio of neighbouring cells' sizes outside the die.
GROWTH = 1.6
#: Most slabs a layer is split into.
MAX_SLABS = 3


@dataclass(frozen=True, eq=False)
class CompactGrid:
    """The tensor grid of a stack: cell edges in x and y, slabs through the stack."""

    x_edges: np.ndarray
    y_edges: np.ndarray
    die_x: slice  # the die's cells along x
    die_y: slice
    slab_layer: np.ndarray  # layer index of each slab, top (layer 0) first
    slab_dz: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.slab_dz.size, self.y_edges.size - 1, self.x_edges.size - 1

    @property
    def die_centres(self) -> tuple[np.ndarray, np.ndarray]:
        xc = 0.5 * (self.x_edges[1:] + self.x_edges[:-1])
        yc = 0.5 * (self.y_edges[1:] + self.y_edges[:-1])
        return xc[self.die_x], yc[self.die_y]


def compact_grid(stack: Stack, cells: int = CELLS) -> CompactGrid:
    """The grid of ``stack`` (bound to its die) with ``cells`` cells along the die's longer side."""
    x0, y0, x1, y1 = stack.die
    h = max(x1 - x0, y1 - y0) / cells
    boxes = np.array([stack.footprint(layer) for layer in stack.layers])
    x_edges, die_x = _axis_edges(x0, x1, h, boxes[:, 0], boxes[:, 2])
    y_edges, die_y = _axis_edges(y0, y1, h, boxes[:, 1], boxes[:, 3])
    cuts = [(i, cut) for i, lay in enumerate(stack.layers) for cut in _layer_cuts(lay, h)]
    layer, dz = (np.array(v) for v in zip(*cuts))
    return CompactGrid(x_edges, y_edges, die_x, die_y, layer, dz)


def _layer_cuts(layer, h: float) -> list[float]:
    """Slab thicknesses of one layer, top first: about ``h`` each, at most MAX_SLABS, with the
    active slice (if any) its own slab."""
    t, active = layer.thickness, layer.active_thickness
    if active is not None and active < t:
        return [active] + _even_cuts(t - active, h)
    return _even_cuts(t, h)


def _even_cuts(t: float, h: float) -> list[float]:
    n = int(min(MAX_SLABS, max(1, math.ceil(t / h - 1e-9))))
    return [t / n] * n


def _axis_edges(lo: float, hi: float, h: float, starts: np.ndarray, ends: np.ndarray):
    """Edges along one axis: uniform over the die [lo, hi], then growing outwards through every
    footprint edge beyond it. (Lines through the edges of blocks of their own material as well
    made the physics worse on generated 3D stacks: median 7.0 against 5.1 % of the peak rise.)"""
    n = max(2, int(round((hi - lo) / h)))
    die = np.linspace(lo, hi, n + 1)
    step = (hi - lo) / n
    left = _grown(lo, np.unique(starts[starts < lo - 1e-12 * step])[::-1], step)
    right = _grown(hi, np.unique(ends[ends > hi + 1e-12 * step]), step)
    edges = np.concatenate([left[::-1], die, right])
    return edges, slice(left.size, left.size + n)


def _grown(start: float, stops: np.ndarray, step: float) -> np.ndarray:
    """Edges from ``start`` (excluded) out through each of ``stops`` in turn, cells growing by
    GROWTH from ``step``."""
    out = []
    for stop in stops:
        span = abs(stop - start)
        n = max(1, math.ceil(math.log(1 + span * (GROWTH - 1) / step) / math.log(GROWTH)))
        sizes = step * GROWTH ** np.arange(1, n + 1)
        offsets = np.cumsum(sizes) * (span / sizes.sum())
        out.append(start + math.copysign(1.0, stop - start) * offsets)
        step, start = span * sizes[-1] / sizes.sum(), stop
    return np.concatenate(out) if out else np.empty(0)


def compact_faces(stack: Stack, cells: int = CELLS) -> tuple[CompactGrid, list[np.ndarray]]:
    """Rise (K) at the top slab of every power layer over the die's cells, (ny, nx) each."""
    grid, faces, _ = _solved_faces(stack, cells)
    return grid, faces


def _solved_faces(stack: Stack, cells: int, like=None):
    """:func:`compact_faces`, and the AMG cycle of the solve (None where the system
    separates); ``like``, a cycle on the same grid, lends its levels (:func:`_solve`)."""
    grid = compact_grid(stack, cells)
    cycle = None
    if stack.equal_footprints and stack.homogeneous:
        rise = _separable_solve(stack, grid)
    else:
        matrix, load = compact_system(stack, grid)
        rise = np.zeros(grid.shape)
        rise[_active(stack, grid)], cycle = _solve(matrix, load, like)
    faces = []
    for k in stack.power_layers:
        top = int(np.flatnonzero(grid.slab_layer == k)[0])
        faces.append(rise[top, grid.die_y, grid.die_x])
    return grid, faces, cycle


#: Relative residual the compact solve reaches: far below the model's own error of a few % of
#: the peak rise. On a 1600 + 1600-block 3D stack 1e-6 moved the physics by under 1e-6 of the
#: peak rise from 1e-7's, and saved a tenth of its time; 1e-10 cost twice the iterations.
RTOL = 1e-6


def _solve(matrix: sp.csr_matrix, load: np.ndarray, like=None):
    """Classical AMG and CG (3-8x faster than a sparse LU here, whose fill grows with the
    package's layers), checked: a solve that stalls falls back to the LU. (solution, the AMG
    cycle.) ``like``, the cycle of another stack on the same grid, lends its prolongations
    (:meth:`~thermal.physics.solver.AmgCycle.galerkin`): a stack from its plain twin's took
    10-18 CG iterations against 10-23 from its own, for half the set-up."""
    from thermal.physics.line_multigrid import pcg
    from thermal.physics.solver import AmgCycle
    from thermal.threads import one_thread

    with one_thread("blas"):
        # Direct interpolation: the same iterations as classical on the 1600 + 1600-block 3D
        # stacks of benchmarks/stack_model.py, for a fifth less time in all (package_correction
        # 79 against 96 ms, interleaved), the answers 5e-6 K apart. Coarsest level 300
        # unknowns: 100 or 1000 were slower.
        cycle = (like.galerkin(matrix) if like is not None
                 else AmgCycle.of(matrix, max_coarse=300, interpolation="direct"))
        x, _ = pcg(matrix, load, cycle, RTOL, maxiter=200)
        if np.linalg.norm(load - matrix @ x) <= 10 * RTOL * np.linalg.norm(load):
            return x, cycle
        from scipy.sparse.linalg import splu

        return splu(matrix.tocsc()).solve(load), cycle


def _separable_solve(stack: Stack, grid: CompactGrid) -> np.ndarray:
    """The same discrete system, solved exactly and fast where it separates (every layer on the
    die, homogeneous: the cut): the cosine transform (DCT-II) diagonalises each slab's lateral
    operator on the uniform cells, leaving one tridiagonal system through the slabs per mode,
    all eliminated at once. The rise (slabs, ny, nx)."""
    import scipy.fft

    ns, ny, nx = grid.shape
    dx, dy, dz = np.diff(grid.x_edges)[0], np.diff(grid.y_edges)[0], grid.slab_dz
    kx, kz, power = _cell_properties(stack, grid)
    kx, kz = kx[:, 0, 0], kz[:, 0, 0]
    lam = (dy / dx) * (4 * np.sin(np.pi * np.arange(nx) / (2 * nx)) ** 2)[None, :] \
        + (dx / dy) * (4 * np.sin(np.pi * np.arange(ny) / (2 * ny)) ** 2)[:, None]
    area = dx * dy
    half = dz / 2 / kz
    gz = area / (half[:-1] + half[1:])  # between slab s and s + 1
    diag = (kx * dz)[:, None, None] * lam[None]
    diag[:-1] += gz[:, None, None]
    diag[1:] += gz[:, None, None]
    diag[-1] += area / (half[-1] + 1 / stack.sink_htc)
    if stack.top_htc > 0:
        diag[0] += area / (half[0] + 1 / stack.top_htc)
    rhs = scipy.fft.dctn(power, type=2, norm="ortho", axes=(1, 2))
    # Thomas elimination through the slabs, every mode at once (the matrix is an M-matrix:
    # no pivoting needed).
    for s in range(1, ns):
        factor = -gz[s - 1] / diag[s - 1]
        diag[s] += factor * gz[s - 1]
        rhs[s] -= factor * rhs[s - 1]
    out = np.empty_like(rhs)
    out[-1] = rhs[-1] / diag[-1]
    for s in range(ns - 2, -1, -1):
        out[s] = (rhs[s] + gz[s] * out[s + 1]) / diag[s]
    return scipy.fft.idctn(out, type=2, norm="ortho", axes=(1, 2))


def _active(stack: Stack, grid: CompactGrid) -> np.ndarray:
    """Cells inside their layer's footprint, (slabs, ny, nx)."""
    xc = 0.5 * (grid.x_edges[1:] + grid.x_edges[:-1])
    yc = 0.5 * (grid.y_edges[1:] + grid.y_edges[:-1])
    boxes = np.array([stack.footprint(layer) for layer in stack.layers])[grid.slab_layer]
    inside_x = (xc > boxes[:, 0, None]) & (xc < boxes[:, 2, None])
    inside_y = (yc > boxes[:, 1, None]) & (yc < boxes[:, 3, None])
    return inside_y[:, :, None] & inside_x[:, None, :]


def compact_system(stack: Stack, grid: CompactGrid) -> tuple[sp.csr_matrix, np.ndarray]:
    """The conductance matrix (W/K) over the active cells and the power (W) in each.

    Written row by row straight into CSR: the active cells are numbered in the grid's order,
    so each row's six neighbours (slab above, row before, cell before, after, row after, slab
    below) come in the order of their columns (a COO assembly and its symmetrisation took 2.6
    of 4.4 ms, three times per stack prediction)."""
    active = _active(stack, grid)
    dx, dy, dz = np.diff(grid.x_edges), np.diff(grid.y_edges), grid.slab_dz
    kx, kz, power = _cell_properties(stack, grid)
    half_x = _resistance(dx[None, None, :] / 2, kx)
    half_y = _resistance(dy[None, :, None] / 2, kx)
    area = dy[:, None] * dx[None, :]
    half_z = dz[:, None, None] / 2 / kz
    # Each cell's conductance to each neighbour, 0 where either is outside its footprint.
    g = np.zeros((6,) + active.shape)
    g[5, :-1] = g[0, 1:] = np.where(active[:-1] & active[1:], area / (half_z[:-1] + half_z[1:]), 0.0)
    g[4, :, :-1] = g[1, :, 1:] = np.where(active[:, :-1] & active[:, 1:], (dz[:, None, None] * dx[None, None, :])
                                          / (half_y[:, :-1, :] + half_y[:, 1:, :]), 0.0)
    g[3, :, :, :-1] = g[2, :, :, 1:] = np.where(active[:, :, :-1] & active[:, :, 1:], (dz[:, None, None] * dy[None, :, None])
                                                / (half_x[:, :, :-1] + half_x[:, :, 1:]), 0.0)
    diag = g.sum(axis=0)
    # The sink's bottom face and layer 0's top face convect through half a slab and the film.
    diag[-1] += np.where(active[-1], area / (half_z[-1] + 1 / stack.sink_htc), 0.0)
    if stack.top_htc > 0:
        diag[0] += np.where(active[0], area / (half_z[0] + 1 / stack.top_htc), 0.0)
    cells = np.flatnonzero(active)
    number = np.cumsum(active.ravel()) - 1  # of each active cell
    _, ny, nx = active.shape
    steps = (-ny * nx, -nx, -1, 0, 1, nx, ny * nx)  # the neighbours' and the cell's own, in column order
    values = np.concatenate([-g[:3], diag[None], -g[3:]]).reshape(7, -1)[:, cells].T
    columns = number[np.clip(cells[:, None] + np.array(steps), 0, active.size - 1)]
    stored = values != 0
    stored[:, 3] = True
    indptr = np.concatenate([[0], np.cumsum(stored.sum(axis=1))])
    matrix = sp.csr_matrix((values[stored], columns[stored], indptr), shape=(cells.size, cells.size))
    return matrix, power[active]


def _resistance(length: np.ndarray, k: np.ndarray) -> np.ndarray:
    """length / k, infinite where k is 0 (no lateral conduction: LCF's flag N)."""
    with np.errstate(divide="ignore"):
        return np.where(k > 0, length / np.where(k > 0, k, 1.0), np.inf)


def _cell_properties(stack: Stack, grid: CompactGrid):
    """Per cell (slabs, ny, nx): in-plane and through-plane conductivity, and power (W)."""
    kx, kz, power = np.empty(grid.shape), np.empty(grid.shape), np.zeros(grid.shape)
    for i, layer in enumerate(stack.layers):
        slabs = np.flatnonzero(grid.slab_layer == i)
        kx[slabs], kz[slabs] = layer.conductivity, layer.conductivity_z
        if layer.block_conductivity is not None:
            # Parallel paths: the blocks' share of each cell at their own conductivity, the
            # rest at the layer's.
            own = ~np.isnan(layer.block_conductivity)
            b = layer.floorplan.blocks
            rects = (b.x0[own], b.y0[own], b.x1[own], b.y1[own])
            area = _cell_areas(grid)
            rest = 1 - _overlap_sums(grid, *rects, np.ones(own.sum())) / area
            blocks = _overlap_sums(grid, *rects, layer.block_conductivity[own]) / area
            kx[slabs] = layer.conductivity * rest + blocks
            kz[slabs] = layer.conductivity_z * rest + blocks
        if layer.power:
            watts = _power_in_cells(grid, layer.floorplan)
            share = _active_shares(layer, grid.slab_dz[slabs])
            power[slabs] = share[:, None, None] * watts[None]
    return kx, kz, power


def _active_shares(layer, dz: np.ndarray) -> np.ndarray:
    """Share of a power layer's power in each of its slabs (top first)."""
    if layer.active_thickness is None or layer.active_thickness >= layer.thickness:
        return dz / dz.sum()
    share = np.zeros(dz.size)
    share[0] = 1.0  # the active slice is the layer's first slab (_layer_cuts)
    return share


def _cell_areas(grid: CompactGrid) -> np.ndarray:
    return np.diff(grid.y_edges)[:, None] * np.diff(grid.x_edges)[None, :]


def _power_in_cells(grid: CompactGrid, floorplan: Floorplan) -> np.ndarray:
    """Watts of ``floorplan``'s sources falling in each cell, integrated exactly, (ny, nx)."""
    if floorplan.source_grid is not None:
        xs, ys = floorplan.source_grid
        density = floorplan.grid_density  # (rows from y's start, columns)
        ox = interval_overlaps(xs[:-1], xs[1:], grid.x_edges)  # (source columns, cells)
        oy = interval_overlaps(ys[:-1], ys[1:], grid.y_edges)
        return oy.T @ density @ ox
    s = floorplan.sources
    return _overlap_sums(grid, s.x0, s.y0, s.x1, s.y1, floorplan.source_density)


def _overlap_sums(grid: CompactGrid, x0, y0, x1, y1, density) -> np.ndarray:
    """Sum over rectangles of density x (rectangle ∩ cell) area, per cell, (ny, nx)."""
    ox = interval_overlaps(np.asarray(x0), np.asarray(x1), grid.x_edges)
    oy = interval_overlaps(np.asarray(y0), np.asarray(y1), grid.y_edges)
    return (oy * np.asarray(density)[:, None]).T @ ox


def package_correction(stack: Stack, floorplan: Floorplan, xs: np.ndarray, ys: np.ndarray,
                       cells: int = CELLS) -> tuple[Stack, list[np.ndarray], list[np.ndarray]]:
    """The cut of ``stack`` that has an exact series, and what the package and the blocks of
    their own material add to that series: ``(cut, package, materials)``, the last two per power
    layer's face on the nodes ``xs`` x ``ys`` of the die, (ny, nx) K each.

    The cut (:func:`thermal.exact.series.exact_stack`): every layer on the die's footprint,
    blocks of their own material ignored. With ``plain`` the stack without its block
    materials, from this model on the die's cells (interpolated bilinearly from their centres,
    linearly extrapolated over the outer half cells):

    * ``package`` = plain - cut, extrapolated from ``cells`` and ``cells // 2`` as a
      first-order method (2 fine - coarse): the difference converges at first order (the face
      is half a slab above the top cells' centres). On 200 generated stacks this halved the
      median error on packages (1.8 -> 1.0 % of the peak rise), where second order gave 1.5 %;
    * ``materials`` = stack - plain on ``cells``, not extrapolated: bond materials vary on the
      thin dies' thermal length, far below any cheap grid's cells, and extrapolating them
      made 3D stacks worse (5.1 -> 10 %).

    (The cut with the block materials replaced by their layer's mean, rather than ignored, was
    worse too: median 7.0 against 5.1 % on the 3D stacks.)
    """
    from dataclasses import replace

    from thermal.exact.series import exact_stack

    cut = exact_stack(stack, floorplan, strict=False)
    zero = [np.zeros((ys.size, xs.size)) for _ in stack.power_layers]
    plain = replace(stack, layers=tuple(replace(layer, block_conductivity=None, block_heat_capacity=None)
                                        for layer in stack.layers))

    faces: dict = {}

    def solved(which: str, model: Stack, n: int, like=None):
        # Each model on each grid once: the plain stack serves both differences.
        if (which, n) not in faces:
            faces[which, n] = _solved_faces(model, n, like)
        return faces[which, n]

    def difference(a: tuple, b: tuple, n: int, same_grid: bool = False) -> list[np.ndarray]:
        # On the same grid the upper model borrows the lower one's AMG levels.
        _, lower, cycle = solved(*b, n)
        grid, upper, _ = solved(*a, n, cycle if same_grid else None)
        cx, cy = grid.die_centres
        wx, wy = linear_weights(cx, xs), linear_weights(cy, ys)
        return [wy @ (u - v) @ wx.T for u, v in zip(upper, lower)]

    package, materials = zero, zero
    if not stack.equal_footprints:
        fine = difference(("plain", plain), ("cut", cut), cells)
        coarse = difference(("plain", plain), ("cut", cut), cells // 2)
        package = [2 * f - c for f, c in zip(fine, coarse)]
    if not stack.homogeneous:
        materials = difference(("stack", stack), ("plain", plain), cells, same_grid=True)
    return cut, package, materials


def linear_weights(centres: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(points, centres) weights of linear interpolation from values at ``centres`` (increasing)
    to ``points``, extrapolating past the ends."""
    j = np.clip(np.searchsorted(centres, points) - 1, 0, centres.size - 2)
    t = (points - centres[j]) / (centres[j + 1] - centres[j])
    w = np.zeros((points.size, centres.size))
    rows = np.arange(points.size)
    w[rows, j], w[rows, j + 1] = 1 - t, t
    return w
