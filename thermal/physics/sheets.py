"""A stack's dies as sheets on a node grid: what its block materials do at the grid's own scale.

Every power layer is one sheet (one node per grid node, conductance k t in its plane); the layers
between two power layers on the die's footprint become a conductance per node between their
sheets (their thicknesses over their through-plane conductivities in series, a cell of several
materials by its parallel-path mean, as :mod:`thermal.physics.compact` takes them), and
everything below the last power layer one uniform conductance to ambient per unit area
(spreading ignored). Layers above the first power layer are left out (an adiabatic top).

This is HotSpot's grid model reduced to the dies, at a much finer grid than the compact model's
24 cells: a thin die's thermal length is a median 1/80 of the die, and bonding layers' TSV
bundles and voids act on that scale. Absolute rises are crude (no spreader), but
:func:`materials_share`, the difference with and without the block materials, carries their
shape at the grid's scale: the difference cancels most of what the sheets leave out.

Without block materials the sheets are uniform and separate in cosine modes (a mirrored node
grid's DCT-I, then an m x m system per mode for m sheets); with them, conjugate gradients on the
difference, preconditioned by a geometric V-cycle over the sheets' grids.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from thermal.geometry.stack import Stack

#: Relative residual of the share's CG (on the share itself, not on the whole rise): a
#: feature's precision, 1e-3 of the share.
SHARE_RTOL = 1e-3


@dataclass(frozen=True, eq=False)
class Sheets:
    """The sheets of a stack on a node grid: per power layer its in-plane conductance k t
    (W/K, per node) and the vertical conductances per unit area (W/(m^2 K), per node) from
    each sheet to the next, the last one's to ambient."""

    xs: np.ndarray
    ys: np.ndarray
    in_plane: tuple  # per sheet (ny * nx,)
    vertical: tuple  # per sheet (ny * nx,): to the next sheet, the last one's to ambient

    @property
    def shape(self) -> tuple[int, int]:
        return self.ys.size, self.xs.size

    @property
    def areas(self) -> np.ndarray:
        """Each node's cell area (half cells on the edges), m^2."""
        return np.outer(_node_widths(self.ys), _node_widths(self.xs)).ravel()

    def matrix(self) -> sp.csr_matrix:
        """The conductance matrix, W/K (symmetric positive definite; sheet ``a``'s node ``p``
        is unknown ``a * nx * ny + p``)."""
        m, n = len(self.in_plane), self.xs.size * self.ys.size
        a, b, across = _node_pairs(self.xs, self.ys)
        area = self.areas
        rows, cols, vals = [], [], []
        diag = np.zeros(m * n)
        for s, kt in enumerate(self.in_plane):
            g = 2.0 / (1.0 / kt[a] + 1.0 / kt[b]) * across  # harmonic mean between two nodes
            rows += [a + s * n, b + s * n]
            cols += [b + s * n, a + s * n]
            vals += [-g, -g]
            diag[s * n:(s + 1) * n] += np.bincount(a, g, n) + np.bincount(b, g, n)
        for s, v in enumerate(self.vertical):
            g = area * v
            diag[s * n:(s + 1) * n] += g
            if s + 1 < m:
                diag[(s + 1) * n:(s + 2) * n] += g
                rows += [np.arange(s * n, (s + 1) * n), np.arange((s + 1) * n, (s + 2) * n)]
                cols += [np.arange((s + 1) * n, (s + 2) * n), np.arange(s * n, (s + 1) * n)]
                vals += [-g, -g]
        rows.append(np.arange(m * n))
        cols.append(np.arange(m * n))
        vals.append(diag)
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(m * n, m * n))


def _node_widths(nodes: np.ndarray) -> np.ndarray:
    """The widths of the nodes' cells, the cells :func:`~thermal.geometry.raster.rasterize`
    averages the power over (halved at both ends)."""
    from thermal.geometry.raster import cell_bounds

    lo, hi = cell_bounds(nodes)
    return hi - lo


def die_sheets(stack: Stack, xs: np.ndarray, ys: np.ndarray, materials: bool = True,
               ratios: dict | None = None) -> Sheets | None:
    """The sheets of ``stack``'s power layers on ``xs`` x ``ys`` (evenly spaced over the die),
    with the block materials or without; None if a power layer is off the die's footprint.
    ``ratios``: :func:`conductivity_ratios` of the stack on this grid, if already computed."""
    layers = _die_layers(stack)
    if layers is None:
        return None
    power = list(stack.power_layers)
    n = xs.size * ys.size
    if not materials:
        ratio = {}
    else:
        ratios = conductivity_ratios(stack, xs, ys) if ratios is None else ratios
        ratio = {i: ratios[i].ravel() for i in layers if i in ratios}

    def through(i):  # m^2 K / W per node
        lay = stack.layers[i]
        return lay.thickness / (lay.conductivity_z * ratio.get(i, np.ones(n)))

    vertical = []
    for a, i in enumerate(power):
        below = power[a + 1] if a + 1 < len(power) else layers[-1] + 1
        r = through(i) / 2 + sum((through(j) for j in range(i + 1, below)), np.zeros(n))
        r = r + (through(below) / 2 if a + 1 < len(power) else _to_ambient(stack, layers[-1]))
        vertical.append(1.0 / r)
    in_plane = tuple(stack.layers[i].conductivity * stack.layers[i].thickness * ratio.get(i, np.ones(n))
                     for i in power)
    return Sheets(xs, ys, in_plane, tuple(vertical))


def materials_share(stack: Stack, xs: np.ndarray, ys: np.ndarray, rtol: float = SHARE_RTOL,
                    densities: list | None = None, ratios: dict | None = None) -> list[np.ndarray]:
    """Per power layer, the rise (K, shape (ny, nx)) the block materials add in the sheet model:
    zeros if the dies carry none, or if a power layer is off the die's footprint.
    ``densities`` (each power layer's mean power density over the node cells, W/m^2) and
    ``ratios`` (:func:`conductivity_ratios`), if already computed on this grid."""
    from thermal.geometry.raster import rasterize
    from thermal.physics.line_multigrid import pcg

    shape = (ys.size, xs.size)
    zeros = [np.zeros(shape) for _ in stack.power_layers]
    layers = _die_layers(stack)
    if layers is None or not any(stack.layers[i].block_conductivity is not None for i in layers):
        return zeros
    plain, sheets = die_sheets(stack, xs, ys, materials=False), die_sheets(stack, xs, ys, ratios=ratios)
    if densities is None:
        densities = [rasterize(stack.layers[i].floorplan, xs, ys).mean for i in stack.power_layers]
    density = np.stack(densities)
    uniform = UniformSheets(plain)
    rise = uniform.solve(density).ravel()
    matrix, area = sheets.matrix(), np.tile(sheets.areas, len(stack.power_layers))
    # The share solves sheets.matrix() share = load - sheets.matrix() rise, by CG with a
    # geometric V-cycle: a tenth of an algebraic set-up, and as few iterations (3-6).
    residual = density.ravel() * area - matrix @ rise
    if not np.any(residual):
        return zeros
    cycle = _geometric_cycle(matrix, xs.size, ys.size, len(stack.power_layers))
    share, iterations = pcg(matrix, residual, cycle, rtol, maxiter=200)
    if not np.linalg.norm(residual - matrix @ share) <= 2 * rtol * np.linalg.norm(residual):
        raise RuntimeError(f"the sheets' materials share did not converge in {iterations} iterations")
    return list(share.reshape(-1, *shape))


def _geometric_cycle(matrix: sp.csr_matrix, nx: int, ny: int, sheets: int):
    """A V-cycle over every sheet's grid coarsened by two (bilinear prolongation, Galerkin
    coarse operators) down to a few hundred unknowns."""
    from thermal.physics.solver import AmgCycle

    return AmgCycle.on_levels(matrix, *_prolongations(nx, ny, sheets))


@lru_cache(maxsize=8)
def _prolongations(nx: int, ny: int, sheets: int, coarsest: int = 300) -> tuple[list, list]:
    """Per level of the cycle, the prolongation from the next coarser grid and its transpose."""
    P = []
    while nx * ny * sheets > coarsest and min(nx, ny) > 3:
        px, py = _interpolation(nx), _interpolation(ny)
        P.append(sp.kron(sp.identity(sheets), sp.kron(py, px)).tocsr())
        nx, ny = px.shape[1], py.shape[1]
    return P, [p.T.tocsr() for p in P]


def _interpolation(n: int) -> sp.csr_matrix:
    """Linear interpolation onto ``n`` evenly spaced nodes from every other one (and the last)."""
    coarse = np.unique(np.append(np.arange(0, n, 2), n - 1))
    fine = np.arange(n)
    right = np.minimum(np.searchsorted(coarse, fine), coarse.size - 1)
    left = np.maximum(right - 1, 0)
    span = np.maximum(coarse[right] - coarse[left], 1)
    w = np.where(coarse[right] == fine, 1.0, (fine - coarse[left]) / span)
    rows = np.concatenate([fine, fine])
    cols = np.concatenate([left, right])
    return sp.csr_matrix((np.concatenate([1.0 - w, w]), (rows, cols)), shape=(n, coarse.size))


class UniformSheets:
    """The exact inverse of sheets uniform in every layer, by cosine modes: a mirrored node
    grid's operator is diagonal in the DCT-I, leaving per mode a tridiagonal system across the
    sheets, eliminated for all modes at once (a loop over the few sheets, not the modes)."""

    def __init__(self, sheets: Sheets):
        kt = [float(c[0]) for c in sheets.in_plane]
        v = [float(c[0]) for c in sheets.vertical]
        lam = _mode_eigenvalues(sheets.xs)[None, :] + _mode_eigenvalues(sheets.ys)[:, None]
        # Thomas' forward sweep on the coefficients: pivots and multipliers per mode.
        self.pivots_, self.coupling_ = [], [-c for c in v[:-1]]
        for a in range(len(kt)):
            diagonal = kt[a] * lam + v[a] + (v[a - 1] if a else 0.0)
            if a:
                diagonal = diagonal - v[a - 1] ** 2 / self.pivots_[-1]
            self.pivots_.append(diagonal)

    def solve(self, density: np.ndarray) -> np.ndarray:
        """Rises (m, ny, nx), K, under power densities (m, ny, nx), W/m^2."""
        import scipy.fft

        modes = scipy.fft.dctn(density, type=1, axes=(1, 2))
        for a in range(1, len(self.pivots_)):
            modes[a] -= self.coupling_[a - 1] / self.pivots_[a - 1] * modes[a - 1]
        modes[-1] /= self.pivots_[-1]
        for a in range(len(self.pivots_) - 2, -1, -1):
            modes[a] = (modes[a] - self.coupling_[a] * modes[a + 1]) / self.pivots_[a]
        return scipy.fft.idctn(modes, type=1, axes=(1, 2))


def _mode_eigenvalues(nodes: np.ndarray) -> np.ndarray:
    """Eigenvalues of -d2/dx2 on mirrored evenly spaced nodes, per DCT-I mode, 1/m^2."""
    h = nodes[1] - nodes[0]
    return 2.0 / h ** 2 * (1.0 - np.cos(np.pi * np.arange(nodes.size) / (nodes.size - 1)))


def _node_pairs(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of neighbouring nodes (flat indices ``a``, ``b``) and the width of their shared
    cell face over their distance: a sheet's conductance between them per unit k t."""
    nx, ny = xs.size, ys.size
    index = np.arange(nx * ny).reshape(ny, nx)
    wx, wy = _node_widths(xs), _node_widths(ys)
    a = np.concatenate([index[:, :-1].ravel(), index[:-1, :].ravel()])
    b = np.concatenate([index[:, 1:].ravel(), index[1:, :].ravel()])
    across = np.concatenate([np.repeat(wy, nx - 1) / (xs[1] - xs[0]), np.tile(wx, ny - 1) / (ys[1] - ys[0])])
    return a, b, across


def _die_layers(stack: Stack) -> list[int] | None:
    """The layers from the first power layer down to the last on the die's footprint; None if
    a power layer is not among them."""
    die = tuple(float(v) for v in stack.die)
    layers = []
    for i in range(stack.power_layers[0], len(stack.layers)):
        if tuple(float(v) for v in stack.footprint(stack.layers[i])) != die:
            break
        layers.append(i)
    return layers if layers and layers[-1] >= stack.power_layers[-1] else None


def _to_ambient(stack: Stack, last: int) -> float:
    """Per unit area, from layer ``last``'s bottom to ambient through the layers below it
    (spreading ignored: each on the die's area), m^2 K / W."""
    x0, y0, x1, y1 = (float(v) for v in stack.die)
    r = sum(lay.thickness / lay.conductivity_z for lay in stack.layers[last + 1:])
    return r + (stack.r_convec * (x1 - x0) * (y1 - y0) if stack.r_convec is not None else 1.0 / stack.htc)


def conductivity_ratios(stack: Stack, xs: np.ndarray, ys: np.ndarray) -> dict:
    """Per layer with block materials, each node cell's mean conductivity over the layer's
    through-plane one, (ny, nx): the parallel-path mean, floored at 1e-3 (a cell all void would
    otherwise conduct nothing)."""
    from thermal.geometry.raster import block_means

    return {i: np.maximum(block_means(layer.floorplan, layer.block_conductivity_ratio, xs, ys), 1e-3)
            for i, layer in enumerate(stack.layers) if layer.block_conductivity is not None}
