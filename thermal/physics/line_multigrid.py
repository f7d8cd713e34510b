"""Multigrid for extruded (prism) meshes: coarsen the plane only, relax whole z-lines at once.

Thin layers make the prism system strongly anisotropic, and in both directions: in the die and
the TIM the vertical coupling dominates (sub-layers of 20-75 um under elements of 100+ um), in
the sink's thick bottom sub-layers the horizontal one. Point smoothers cannot damp errors smooth
along the strong direction, so black-box AMG needs 70-100 CG iterations here (measured on ev6:
Ruge-Stuben 95, smoothed aggregation 67, at 143k unknowns).

The textbook cure for grid-aligned anisotropy is *semicoarsening with line relaxation*, and the
extruded mesh makes it exact and cheap:

* every level keeps all ``z`` levels and coarsens the plane only: ``P = I_z (x) P_plane``, with
  ``P_plane`` the smoothed-aggregation prolongators of the plane's own Laplacian (pyamg), and
  Galerkin coarse operators ``P^T A P``;
* the smoother solves every vertical line exactly (a tridiagonal system per plane node, all
  lines at once by a batched Thomas algorithm: a loop over the few levels, vectorised over the
  plane), damped Jacobi between lines, so the vertical coupling, however strong, is handled
  exactly and the coarse plane levels take the horizontal one. (A multicolour line Gauss-Seidel,
  tried, took fewer iterations but no less time.)

Used as the preconditioner of conjugate gradients (a symmetric V-cycle), in double precision:
a single-precision cycle (built in double, cast) was 20 % faster on ev6 but stagnated at 300
iterations in 3 of 4 runs on HotSpot's secondary path, where the residual ``b - A x`` of a
10 um metal layer cancels below single precision's seven digits. Where three digits are enough
(the reduced-order transient's basis vectors, :mod:`thermal.physics.reduced_order`),
:meth:`LineMultigrid.single` gives that cycle: half the memory traffic, twice the speed. Every
function here takes a block of right-hand sides (columns) as readily as one. Unknowns outside a
layer's footprint are kept as decoupled rows with a unit-scale diagonal so every level keeps
the tensor layout ``level * n_plane + node``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: Damping of the line-Jacobi smoother (between lines; each line is solved exactly): this over
#: the spectral radius rho of (line diagonal)^-1 A on its level. Jacobi diverges on the highest
#: modes for omega > 2 / rho; 1.7 keeps 15 % from that edge. Measured: on ev6 under HotSpot's
#: package (rho 1.88) it is the fixed 0.9 used before (17-18 CG iterations); a substrate 21 mm
#: wide over the 16 mm die (rho 2.1) took 40 iterations with 0.9, 20 with 1.7 / rho, 24 with
#: pyamg's 4/3 / rho (which costs ev6 3 more).
OMEGA_RHO = 1.7
#: Power iterations for rho (on a similar symmetric matrix: they converge from below, within a
#: few per cent at 15; 8 % under on a secondary-path stack at 282k unknowns, 2.04 against 2.22,
#: still inside OMEGA_RHO's margin; twenty Lanczos steps, within 0.2 % there, saved no
#: iteration and cost 7 % of the solve).
RHO_ITERATIONS = 15

#: Smoothing sweeps before and after each coarse correction.
SWEEPS = 2
#: Strength threshold of the plane's aggregation. pyamg's default (0) coarsens the plane 12x per
#: level; 0.08 keeps about twice as many coarse nodes. Measured on ev6's equal-footprint stack at
#: 492k unknowns: 43 -> 19 iterations, solve 4.7 -> 1.9 s (0.25 broke down: 300 iterations).
PLANE_THETA = 0.08
#: Share of a coarse function's weight that must lie on active unknowns for it to be kept.
RETAINED = 1e-2
#: Stop coarsening the plane below this many plane nodes (then sparse LU).
MAX_COARSE_PLANE = 300


class _Lines:
    """The vertical tridiagonal blocks of a level-major matrix, factorised for batched solves."""

    def __init__(self, A: sp.csr_matrix, levels: int, n_plane: int):
        diag = A.diagonal().reshape(levels, n_plane)
        upper = A.diagonal(n_plane).reshape(levels - 1, n_plane) if levels > 1 else np.zeros((0, n_plane))
        # Thomas factorisation: c'_k and the pivots, once.
        self.levels = levels
        self.upper = upper
        piv = np.empty_like(diag)
        cp = np.empty_like(upper)
        piv[0] = diag[0]
        for k in range(levels - 1):
            cp[k] = upper[k] / piv[k]
            piv[k + 1] = diag[k + 1] - upper[k] * cp[k]
        self.piv = piv
        self.cp = cp

    def solve(self, r: np.ndarray) -> np.ndarray:
        """Every line solved for its part of ``r`` (level-major; a vector, or columns)."""
        L = self.levels
        upper, piv, cp = self.upper, self.piv, self.cp
        y = r.reshape(L, -1, *r.shape[1:]).copy()
        if r.ndim > 1:  # columns: the coefficients broadcast along them
            upper, piv, cp = upper[..., None], piv[..., None], cp[..., None]
        y[0] /= piv[0]
        for k in range(1, L):
            y[k] -= upper[k - 1] * y[k - 1]
            y[k] /= piv[k]
        for k in range(L - 2, -1, -1):
            y[k] -= cp[k] * y[k + 1]
        return y.reshape(r.shape)

    def astype(self, dtype) -> "_Lines":
        out = object.__new__(_Lines)
        out.levels = self.levels
        out.upper, out.piv, out.cp = (a.astype(dtype) for a in (self.upper, self.piv, self.cp))
        return out


class LineMultigrid:
    """Symmetric V-cycle for a level-major prism matrix ``A`` (``levels * n_plane`` unknowns).

    Parameters
    ----------
    A : csr_matrix
        SPD, unknown ``k * n_plane + i`` at level ``k`` and plane node ``i``.
    levels : int
    plane_laplacian : csr_matrix or list of csr_matrix
        An SPD operator on the plane nodes whose graph and coefficients represent horizontal
        coupling (the plane's stiffness plus a small mass); its aggregation coarsens the plane.
        Or the plane's prolongators themselves (:func:`plane_prolongators`), to share them
        between operators on the same mesh.
    """

    def __init__(self, A: sp.csr_matrix, levels: int, plane_laplacian, active: np.ndarray | None = None):
        prolongators = (plane_laplacian if isinstance(plane_laplacian, list)
                        else plane_prolongators(plane_laplacian))
        hierarchy = LineHierarchy(levels, prolongators, A.shape[0], active)
        self._set_up(hierarchy, hierarchy.galerkin(A))

    @classmethod
    def of_sum(cls, hierarchy: "LineHierarchy", first: list, second: list, weight: float) -> "LineMultigrid":
        """The cycle for ``A + weight B`` from the Galerkin operators of ``A`` and ``B``
        (:meth:`LineHierarchy.galerkin`, which is linear): no sparse products per weight."""
        out = object.__new__(cls)
        out._set_up(hierarchy, [a + weight * b for a, b in zip(first, second)])
        return out

    def _set_up(self, hierarchy: "LineHierarchy", galerkin: list) -> None:
        from scipy.sparse.linalg import splu

        self.levels, self.P = hierarchy.levels, hierarchy.P
        self.ops, self.lines, self.omega = [], [], []
        for k, op in enumerate(galerkin):
            active = hierarchy.active[k]
            if k > 0:  # coarse unknowns that see no active one: decoupled rows of unit scale
                scale = float(np.median(op.diagonal()[active])) if active.any() else 1.0
                op = (op + sp.diags(np.where(active, 0.0, scale))).tocsr()
            self.ops.append(op)
            if k < len(self.P):
                self.lines.append(_Lines(op, self.levels, hierarchy.n_plane[k]))
                self.omega.append(OMEGA_RHO / _line_jacobi_radius(op, self.lines[-1]))
        self.coarse = splu(self.ops[-1].tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                           options={"SymmetricMode": True})

    def single(self) -> "LineMultigrid":
        """This cycle in single precision (the coarsest solve stays double): for right-hand
        sides wanted to about three digits, at half the memory traffic."""
        out = object.__new__(LineMultigrid)
        out.levels, out.omega = self.levels, self.omega
        out.ops = [op.astype(np.float32) for op in self.ops]
        out.P = [P.astype(np.float32) for P in self.P]
        out.lines = [lines.astype(np.float32) for lines in self.lines]
        out.coarse = _SinglePrecision(self.coarse)
        return out

    def _smooth(self, level: int, x: np.ndarray | None, b: np.ndarray) -> np.ndarray:
        """Damped line Jacobi: every vertical line solved exactly for its residual. ``x`` None
        is a zero first guess, whose residual is ``b`` (one product with the operator saved:
        a sixth of the work of a fine-level cycle)."""
        sweeps, omega = SWEEPS, self.omega[level]
        if x is None:
            x = omega * self.lines[level].solve(b)
            sweeps -= 1
        for _ in range(sweeps):
            x = x + omega * self.lines[level].solve(b - self.ops[level] @ x)
        return x

    def cycle(self, b: np.ndarray, level: int = 0) -> np.ndarray:
        if level == len(self.P):
            return self.coarse.solve(b)
        x = self._smooth(level, None, b)
        r = b - self.ops[level] @ x
        x = x + self.P[level] @ self.cycle(self.P[level].T @ r, level + 1)
        return self._smooth(level, x, b)

    @property
    def complexity(self) -> float:
        """Nonzeros of all operators over the finest's."""
        return sum(op.nnz for op in self.ops) / self.ops[0].nnz


class LineHierarchy:
    """The semicoarsening's prolongators ``I_z (x) P_plane``, restricted to the active unknowns
    of each level: interpolating into active unknowns only makes the coarse operators exactly
    the Galerkin ones of the real problem."""

    def __init__(self, levels: int, prolongators: list, n: int, active: np.ndarray | None = None):
        self.levels = levels
        active = np.ones(n, bool) if active is None else np.asarray(active, bool)
        self.P, self.active, self.n_plane = [], [active], []
        for plane_P in prolongators:
            self.n_plane.append(plane_P.shape[0])
            full = sp.kron(sp.identity(levels, format="csr"), plane_P, format="csr")
            P = (sp.diags(active.astype(float)) @ full).tocsr()
            # A coarse function with almost all its weight on inactive unknowns is almost zero:
            # its Galerkin row is near-singular (down to 1e-13 of the median diagonal on a 3D
            # stack), and the coarsest LU then returned 1e34 and CG diverged. Dropped.
            weight = np.asarray(abs(P).sum(axis=0)).ravel()
            total = np.asarray(abs(full).sum(axis=0)).ravel()
            P = (P @ sp.diags((weight >= RETAINED * total).astype(float))).tocsr()
            P.eliminate_zeros()
            active = np.diff(P.tocsc().indptr) > 0
            self.P.append(P)
            self.active.append(active)

    def galerkin(self, A: sp.csr_matrix) -> list:
        """``A`` and its Galerkin coarse operators, finest first (linear in ``A``: the
        prolongators vanish on inactive unknowns, where the coarse levels add their unit rows)."""
        ops = [A.tocsr()]
        for P in self.P:
            ops.append((P.T @ ops[-1] @ P).tocsr())
        return ops


class _SinglePrecision:
    """A double-precision factorisation behind a single-precision interface."""

    def __init__(self, lu):
        self.lu = lu

    def solve(self, b: np.ndarray) -> np.ndarray:
        return self.lu.solve(b.astype(np.float64)).astype(b.dtype)


def plane_prolongators(plane_laplacian: sp.csr_matrix) -> list:
    """The plane's smoothed-aggregation prolongators, finest first (pyamg)."""
    import pyamg

    # Local (Gershgorin) weights for the prolongation smoother: pyamg's default estimates a
    # spectral radius from a random start, which made the prolongators, and so CG's iteration
    # count, change run to run.
    plane = pyamg.smoothed_aggregation_solver(plane_laplacian.tocsr(), max_coarse=MAX_COARSE_PLANE,
                                              max_levels=12,
                                              strength=("symmetric", {"theta": PLANE_THETA}),
                                              smooth=("jacobi", {"weighting": "local"}))
    return [lvl.P for lvl in plane.levels[:-1]]


def _line_jacobi_radius(A: sp.csr_matrix, lines: _Lines) -> float:
    """Spectral radius of (line diagonal)^-1 A by power iteration (its eigenvalues are real and
    positive: it is similar to a symmetric positive definite matrix)."""
    x = np.random.default_rng(0).random(A.shape[0])
    rho = 1.0
    for _ in range(RHO_ITERATIONS):
        y = lines.solve(A @ x)
        rho = float(np.linalg.norm(y) / np.linalg.norm(x))
        x = y / np.linalg.norm(y)
    return rho


def pcg(A: sp.csr_matrix, b: np.ndarray, precondition, rtol: float, maxiter: int = 300):
    """Preconditioned conjugate gradients to ``||b - A x|| <= rtol ||b||`` (recursive
    residual, then checked by the caller): ``(x, iterations)``. ``b`` may be columns, each
    its own CG (all move together until the last has converged)."""
    x = np.zeros_like(b)
    r = b.copy()
    norm_b = np.linalg.norm(b, axis=0)
    z = precondition(r)
    p = z.copy()
    rz = _dot(r, z)
    for it in range(1, maxiter + 1):
        Ap = A @ p
        pAp = _dot(p, Ap)
        alpha = np.divide(rz, pAp, out=np.zeros_like(rz), where=pAp != 0)
        x += alpha * p
        r -= alpha * Ap
        if np.all(np.linalg.norm(r, axis=0) <= rtol * norm_b):
            return x, it
        z = precondition(r)
        rz_new = _dot(r, z)
        p = z + np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz != 0) * p
        rz = rz_new
    return x, maxiter


def _dot(a: np.ndarray, b: np.ndarray):
    """Column-wise inner products (a scalar for vectors)."""
    return a @ b if a.ndim == 1 else np.einsum("ij,ij->j", a, b)
