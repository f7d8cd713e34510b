"""A-posteriori error estimation for P1 solutions: recovered Hessians and max-norm indicators.

The gradient of a P1 field is constant per element; averaging it onto the nodes (weighted by
element area, Zienkiewicz-Zhu recovery) gives a continuous gradient whose own element-wise
gradient is a recovered Hessian H. Where an element cuts a jump of power density (meshes need
not follow the sources) the recovery smooths the jump's curvature away; there the equation
itself gives it (:func:`jump_curvature`; for size fields on a grid :func:`equation_curvature`),
and the larger of the two is used. The interpolation error of a quadratic with Hessian H on a
triangle whose smallest enclosing circle has radius r is at most |lambda_max(H)| r^2 / 2 (exact
for an isotropic quadratic), which is the element indicator used here: the FE error in the
maximum norm is of the size of the interpolation error (up to a logarithm). Its inverse gives
element sizes: a right triangle of longest edge h has r = h / 2, so

    h = sqrt(8 tol / |lambda_max|)

meets an error ``tol`` (the 1-D rule h^2 |u''| / 8).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from skfem import MeshTri

from meshes.size_field import SizeField
from thermal.exact.layered import local_sheet
from thermal.physics.solver import ElementGeometry
from thermal.geometry.stack import Stack


def element_gradients(geometry: ElementGeometry, mesh: MeshTri, u: np.ndarray) -> np.ndarray:
    """Gradient of the P1 field ``u`` on each element, shape (2, E)."""
    return np.einsum("die,ie->de", geometry.grad, u[mesh.t])


def nodal_average(mesh: MeshTri, geometry: ElementGeometry, values: np.ndarray) -> np.ndarray:
    """Area-weighted average of element ``values`` (..., E) onto the nodes (..., N)."""
    n = mesh.p.shape[1]
    weights = np.bincount(mesh.t.ravel(), np.tile(geometry.area, 3), minlength=n)
    flat = values.reshape(-1, values.shape[-1])
    out = np.stack([np.bincount(mesh.t.ravel(), np.tile(v * geometry.area, 3), minlength=n)
                    for v in flat]) / weights
    return out.reshape(values.shape[:-1] + (n,))


def recovered_hessian(mesh: MeshTri, u: np.ndarray, geometry: ElementGeometry | None = None):
    """Symmetric Hessian of ``u`` recovered on each element: components (hxx, hxy, hyy), (3, E)."""
    g = geometry or ElementGeometry.of(mesh)
    nodal_grad = nodal_average(mesh, g, element_gradients(g, mesh, u))  # (2, N)
    dgx = element_gradients(g, mesh, nodal_grad[0])  # d/dx, d/dy of the recovered u_x
    dgy = element_gradients(g, mesh, nodal_grad[1])
    return np.stack([dgx[0], 0.5 * (dgx[1] + dgy[0]), dgy[1]])


def max_abs_eigenvalue(h: np.ndarray) -> np.ndarray:
    """Largest |eigenvalue| of symmetric 2x2 matrices given as (hxx, hxy, hyy)."""
    mean = 0.5 * (h[0] + h[2])
    radius = np.hypot(0.5 * (h[0] - h[2]), h[1])
    return np.abs(mean) + radius


def grid_curvature(u: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """|lambda_max| of the Hessian of a gridded field ``u[j, i]`` at (xs[i], ys[j]), by finite
    differences."""
    uy, ux = np.gradient(u, ys, xs)
    uxy, uxx = np.gradient(ux, ys, xs)
    uyy, _ = np.gradient(uy, ys, xs)
    return max_abs_eigenvalue(np.stack([uxx, uxy, uyy]))


def enclosing_radius(mesh: MeshTri) -> np.ndarray:
    """Radius of each triangle's smallest enclosing circle (circumradius, or half the longest
    edge for an obtuse triangle)."""
    p = mesh.p[:, mesh.t]
    edges2 = ((p - np.roll(p, 1, axis=1)) ** 2).sum(axis=0)  # (3, E) squared lengths
    lengths = np.sqrt(edges2)
    longest2 = edges2.max(axis=0)
    area = 0.5 * np.abs((p[0, 1] - p[0, 0]) * (p[1, 2] - p[1, 0])
                        - (p[0, 2] - p[0, 0]) * (p[1, 1] - p[1, 0]))
    circum = lengths.prod(axis=0) / (4.0 * area)
    obtuse = 2.0 * longest2 >= edges2.sum(axis=0)
    return np.where(obtuse, 0.5 * np.sqrt(longest2), circum)


def laplacian_bound(u: np.ndarray, q_low: np.ndarray, q_high: np.ndarray, model) -> np.ndarray:
    """The largest |Laplacian u| the lumped model allows where the power density takes any value
    in [``q_low``, ``q_high``]: ``k t Lap u = h u - q``, so ``max(|h u - q_low|, |h u - q_high|)
    / (k t)``.

    Where the field varies in one direction (across a block's edge) this is the Hessian's one
    eigenvalue, so it bounds the curvature an element must resolve wherever it holds a jump of
    density, which a recovered or finite-difference Hessian smooths over.
    """
    if isinstance(model, (Stack, PowerFace)):
        return np.broadcast_to(stack_jump_bound(model, q_low, q_high), np.shape(u))
    hu = model.htc * np.asarray(u, float)
    return np.maximum(np.abs(hu - q_low), np.abs(hu - q_high)) / model.sheet_conductance


@dataclass(frozen=True, eq=False)
class PowerFace:
    """The top face of a stack's power layer ``face`` (0: the first), as the model a size field
    is estimated for: the bounds below then use that layer's sheet."""

    stack: Stack
    face: int


def stack_jump_bound(model: "Stack | PowerFace", q_low, q_high) -> np.ndarray:
    """On a stack a power layer's face obeys no local equation, but at its hotspots' scale it is
    the layer's sheet (:func:`thermal.exact.layered.local_sheet`, exact as the wavenumber grows):
    across a jump of density the Laplacian jumps by ``(q_high - q_low) / (k t)``. That is the
    part a smooth estimate of the field misses; the smooth part comes from the field's own
    Hessian, which every caller takes the larger of. ``model``: a stack (its first power layer)
    or a :class:`PowerFace`."""
    stack, face = (model.stack, model.face) if isinstance(model, PowerFace) else (model, 0)
    sheet = _cached_sheet(stack, face)
    return (np.asarray(q_high, float) - np.asarray(q_low, float)) / sheet.sheet_conductance


@lru_cache(maxsize=8)
def _cached_sheet(stack: Stack, face: int):
    return local_sheet(stack, face)


#: Half-widths, in grid cells, of the windows over which :func:`equation_curvature` averages the
#: density: windows of 1, 3, 5, 9, 17, ... cells, about doubling.
WINDOW_HALF_WIDTHS = (0, 1, 2, 4, 8, 16, 32, 64)


def equation_curvature(u: np.ndarray, cells, model, tol_abs: float) -> np.ndarray:
    """The curvature an element must resolve, from the equation, at the element's own scale.

    An element of size ``s`` makes an error of about ``s^2 / 8`` times the kernel-weighted mean
    of its curvature ``(h u - q) / (k t)``: it sees the density *averaged over itself*. So a
    block's edge inside it counts with both sides (and an element wholly on the steeper side
    with that side's), cell-level noise averages out as elements grow, and a unit far smaller
    than the element keeps ``p / (8 k t)``, an error no coarser element reduces. Hence, for
    windows of about doubling size ``s`` (:data:`WINDOW_HALF_WIDTHS`) the density is averaged
    over every window around each node; its extremes over the windows inside the largest element
    this scale may give (one the next window's size, around the node: so an element across a
    block's edge also sees the windows wholly on each side) give a curvature ``c_s``
    (:func:`laplacian_bound`), and the size ``h_s = sqrt(8 tol / c_s)`` is consistent if it is
    at least the window it assumed (``h_s >= s``). The coarsest consistent scale wins, up to the
    next window's size; where no scale is (a unit too strong to stay unresolved) the extremes
    of the density inside the node's cell decide, as for an element smaller than the cell.

    Parameters
    ----------
    u : ndarray (ny, nx)
        Estimated rise at the nodes of an evenly spaced grid, K.
    cells : thermal.geometry.raster.Raster
        The sources over the cells of that grid.
    model : LumpedDie
    tol_abs : float
        Target max error, K.

    Returns
    -------
    ndarray (ny, nx)
        ``8 tol / h^2``: the curvature whose size rule gives the chosen ``h``.
    """
    from scipy.ndimage import maximum_filter, minimum_filter

    from thermal.geometry.raster import cell_bounds

    xs, ys = cells.xs, cells.ys
    d = max(xs[1] - xs[0], ys[1] - ys[0])
    # Integrals of the density over each node's cell (edge cells are half cells), summed-area.
    (x0, x1), (y0, y1) = cell_bounds(xs), cell_bounds(ys)
    area = np.outer(y1 - y0, x1 - x0)
    power_table = np.pad(np.cumsum(np.cumsum(cells.mean * area, 0), 1), ((1, 0), (1, 0)))
    area_table = np.pad(np.cumsum(np.cumsum(area, 0), 1), ((1, 0), (1, 0)))
    ny, nx = u.shape
    j, i = np.arange(ny), np.arange(nx)
    # Cells the size of the grid's or smaller: the density's extremes inside the node's cell.
    h = size_from_curvature(laplacian_bound(u, cells.low, cells.high, model), tol_abs)
    for m, m_next in zip(WINDOW_HALF_WIDTHS, WINDOW_HALF_WIDTHS[1:] + (2 * WINDOW_HALF_WIDTHS[-1],)):
        if 2 * m + 1 > max(nx, ny):
            break
        s, s_next = (2 * m + 1) * d, (2 * m_next + 1) * d
        j0, j1 = np.clip(j - m, 0, ny), np.clip(j + m + 1, 0, ny)
        i0, i1 = np.clip(i - m, 0, nx), np.clip(i + m + 1, 0, nx)

        def window(table):
            return (table[j1][:, i1] - table[j0][:, i1] - table[j1][:, i0] + table[j0][:, i0])

        mean = window(power_table) / window(area_table)
        lo = minimum_filter(mean, size=2 * m_next + 1, mode="nearest")
        hi = maximum_filter(mean, size=2 * m_next + 1, mode="nearest")
        h_s = size_from_curvature(laplacian_bound(u, lo, hi, model), tol_abs)
        h = np.where(h_s >= s, np.maximum(h, np.minimum(h_s, s_next)), h)
    return 8.0 * tol_abs / h ** 2


def jump_curvature(mesh: MeshTri, u: np.ndarray, power: np.ndarray, area: np.ndarray,
                   q_low: np.ndarray, q_high: np.ndarray, model) -> np.ndarray:
    """Per element holding a jump of power density (``q_high > q_low``): the equation's
    curvature with the density the element sees, its mean ``power / area``, and the same of
    the elements around it (sharing a vertex), whichever is largest; 0 elsewhere, where the
    recovered Hessian is trusted.

    As in :func:`equation_curvature`: an element's error follows the mean of its curvature, so
    cell noise inside it averages out and a unit far smaller than it keeps its whole power;
    across a block's edge the neighbours wholly on the steeper side carry that side's curvature
    (the mean over the straddling element alone can cancel, curvatures having opposite signs
    on the two sides).
    """
    if isinstance(model, (Stack, PowerFace)):
        return stack_jump_bound(model, q_low, q_high)
    c = np.abs(model.htc * u[mesh.t].mean(axis=0) - power / area) / model.sheet_conductance
    around = np.zeros(mesh.p.shape[1])
    np.maximum.at(around, mesh.t.ravel(), np.tile(c, 3))
    return np.where(q_high > q_low, around[mesh.t].max(axis=0), 0.0)


def indicators(mesh: MeshTri, u: np.ndarray, geometry: ElementGeometry | None = None,
               jump: np.ndarray | None = None) -> np.ndarray:
    """Estimated maximum error of ``u`` on each element (same units as ``u``).

    ``jump`` (per element, see :func:`jump_curvature`) bounds the curvature of elements cut by
    a jump of power density; the larger of it and the recovered Hessian's is used.
    """
    lam = max_abs_eigenvalue(recovered_hessian(mesh, u, geometry))
    if jump is not None:
        lam = np.maximum(lam, jump)
    return 0.5 * lam * enclosing_radius(mesh) ** 2


#: Largest element allowed by the size-field methods, as a fraction of the die's longer side.
H_MAX_FRACTION = 0.125


def size_limits(floorplan) -> tuple[float, float]:
    """Smallest and largest element size a size field may ask for on ``floorplan``'s die, m."""
    size = max(floorplan.width, floorplan.height)
    return 1e-6 * size, H_MAX_FRACTION * size


def field_from_curvature(floorplan, xs, ys, curvature, tol_abs) -> SizeField:
    """Size field h = sqrt(8 tol / |H|) on a grid, limited to :func:`size_limits`."""
    h = size_from_curvature(np.asarray(curvature, float), tol_abs)
    return SizeField(xs, ys, np.clip(h, *size_limits(floorplan)))


def size_from_curvature(curvature: np.ndarray, tol: float) -> np.ndarray:
    """Longest edge meeting an error ``tol`` where |lambda_max(H)| = ``curvature``."""
    with np.errstate(divide="ignore"):
        return np.sqrt(8.0 * tol / curvature)


def dorfler(eta: np.ndarray, theta: float) -> np.ndarray:
    """Dörfler (bulk) marking: the fewest elements whose eta^2 sum to ``theta`` of the total."""
    order = np.argsort(eta)[::-1]
    energy = np.cumsum(eta[order] ** 2)
    count = int(np.searchsorted(energy, theta * energy[-1])) + 1
    return np.sort(order[:count])


def error_indicators(sol) -> np.ndarray:
    """Estimated maximum error on each element of a :class:`~thermal.physics.solution.Solution` (K):
    the recovered Hessian's, or the equation's bound where the element holds a jump of power
    density."""
    mesh, floorplan = sol.mesh, sol.floorplan
    q_low, q_high = floorplan.density_ranges(mesh.p, mesh.t)
    jump = jump_curvature(mesh, sol.rise, sol.element_power, sol.geometry.area, q_low, q_high,
                          sol.model)
    return indicators(mesh, sol.rise, sol.geometry, jump)


def error_estimate(sol) -> dict:
    """The a-posteriori estimate of a solution's maximum error (K and % of its peak rise)."""
    eta = error_indicators(sol)
    return {"max_error_K": float(eta.max()),
            "max_error_pct_of_peak_rise": 100.0 * float(eta.max()) / sol.peak["rise"]}
