"""A-posteriori error estimation for P1 solutions: recovered Hessians and max-norm indicators.

The gradient of a P1 field is constant per element; averaging it onto the nodes (weighted by
element area, Zienkiewicz-Zhu recovery) gives a continuous gradient whose own element-wise
gradient is a recovered Hessian H. The interpolation error of a quadratic with Hessian H on a
triangle whose smallest enclosing circle has radius r is at most |lambda_max(H)| r^2 / 2 (exact
for an isotropic quadratic), which is the element indicator used here: the FE error in the
maximum norm is of the size of the interpolation error (up to a logarithm). Its inverse gives
element sizes: a right triangle of longest edge h has r = h / 2, so

    h = sqrt(8 tol / |lambda_max|)

meets an error ``tol`` (the 1-D rule h^2 |u''| / 8).
"""
from __future__ import annotations

import numpy as np
from skfem import MeshTri

from thermal.solver import ElementGeometry


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


def indicators(mesh: MeshTri, u: np.ndarray, geometry: ElementGeometry | None = None) -> np.ndarray:
    """Estimated maximum error of ``u`` on each element (same units as ``u``)."""
    lam = max_abs_eigenvalue(recovered_hessian(mesh, u, geometry))
    return 0.5 * lam * enclosing_radius(mesh) ** 2


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
