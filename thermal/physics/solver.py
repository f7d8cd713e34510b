"""P1 finite elements for the lumped die model: assembly, linear solve, energy balance.

Assembly is closed-form and vectorised over elements (the P1 element matrices of a triangle are
known exactly), which is several times faster than scikit-fem's quadrature-based
``BilinearForm.assemble`` and gives the same matrix to round-off (``tests/thermal/test_solver.py``
checks this). For element ``e`` with area ``A`` and shape-function gradients ``g_i``::

    K_ij = k t A g_i . g_j,      M_ij = h A (1 + delta_ij) / 12,      f_i = int_e q phi_i.

The load is exact for any piecewise-constant power density, whether the mesh follows the
sources or cuts through them: ``phi_i`` is linear, so ``int_e q phi_i = P_e phi_i(c_e)`` with
``P_e`` the element's power and ``c_e`` its power centroid, both from the element's exact power
moments (:meth:`thermal.geometry.floorplan.Floorplan.power_moments`). The loads of an element add up to
its power, so heat out equals power in to the solver's tolerance on every mesh.

The system ``(K + M) u = f`` is symmetric positive definite; it is solved for the temperature
rise ``u`` by conjugate gradients preconditioned with algebraic multigrid (pyamg), and the true
residual is checked. A direct solve is the fallback; if that fails too, :class:`SolverError`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from skfem import MeshTri

from thermal.errors import SolverError
from thermal.threads import one_thread

#: Relative residual ||b - A u|| / ||b|| the iterative solve must reach.
RTOL = 1e-11
#: Below this many unknowns a sparse LU is faster than AMG's setup (measured: 10 ms against
#: 29 ms at 2.9k unknowns; at 10.6k AMG wins on a uniform mesh, 37 against 54 ms, while LU
#: still wins on graded adaptive meshes).
DIRECT_BELOW = 8000


@dataclass(frozen=True)
class ElementGeometry:
    """Areas and shape-function gradients of every triangle of a mesh (vectorised)."""

    area: np.ndarray  # (E,)
    grad: np.ndarray  # (2, 3, E): d(phi_i)/dx, d(phi_i)/dy

    @classmethod
    def of(cls, mesh: MeshTri) -> "ElementGeometry":
        x, y = mesh.p[0][mesh.t], mesh.p[1][mesh.t]  # (3, E)
        # grad[0, i] = b_i = y_j - y_k and grad[1, i] = c_i = x_k - x_j over cyclic (i, j, k),
        # written in place: allocation dominates at 1e6 elements.
        grad = np.empty((2, 3, x.shape[1]))
        for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
            np.subtract(y[j], y[k], out=grad[0, i])
            np.subtract(x[k], x[j], out=grad[1, i])
        # Signed: scikit-fem sorts each element's nodes, so orientation is arbitrary; the
        # gradient formula holds for either orientation with the signed area.
        twice_area = grad[1, 2] * grad[0, 1] - grad[1, 1] * grad[0, 2]
        if np.any(twice_area == 0) or not np.all(np.isfinite(twice_area)):
            raise ValueError("mesh has degenerate (zero-area) triangles")
        grad /= twice_area
        return cls(np.abs(twice_area) / 2, grad)


def assemble(mesh: MeshTri, model, load: np.ndarray,
             geometry: ElementGeometry | None = None) -> tuple[sp.csr_matrix, np.ndarray]:
    """Matrix and load vector of the lumped die model on ``mesh``.

    Parameters
    ----------
    mesh : MeshTri
        Triangles of either orientation.
    model : LumpedDie
        Supplies ``sheet_conductance`` (k t) and ``htc`` (h).
    load : ndarray, shape (3, E)
        Each element's power (W) and its first moments about the element's first vertex
        ``mesh.t[0]`` (W m): ``int q``, ``int q (x - x_0)``, ``int q (y - y_0)``, as
        :meth:`thermal.geometry.floorplan.Floorplan.power_moments` gives them.
    """
    g = geometry or ElementGeometry.of(mesh)
    kt, h = model.sheet_conductance, model.htc
    stiff = kt * g.area * np.einsum("die,dje->ije", g.grad, g.grad)  # (3, 3, E)
    mass = (h * g.area / 12.0) * (np.ones((3, 3)) + np.eye(3))[:, :, None]
    rows = np.broadcast_to(mesh.t[:, None, :], stiff.shape)
    cols = np.broadcast_to(mesh.t[None, :, :], stiff.shape)
    n = mesh.p.shape[1]
    A = sp.csr_matrix(((stiff + mass).ravel(), (rows.ravel(), cols.ravel())), shape=(n, n))
    # phi_i(x) = phi_i(x_0) + g_i . (x - x_0): the first moments carry the centroid.
    f_e = np.einsum("die,de->ie", g.grad, load[1:])
    f_e[0] += load[0]
    f = np.bincount(mesh.t.ravel(), weights=f_e.ravel(), minlength=n)
    return A, f


def heat_out(mesh: MeshTri, model, rise: np.ndarray, geometry: ElementGeometry | None = None) -> float:
    """Heat leaving through the package, the integral of h u over the die (W), exact for P1."""
    g = geometry or ElementGeometry.of(mesh)
    return float(model.htc * np.sum(g.area * rise[mesh.t].mean(axis=0)))


@dataclass(frozen=True)
class SolveInfo:
    """How the linear system was solved."""

    method: str
    iterations: int
    residual: float
    seconds: float

    def as_dict(self) -> dict:
        return {"method": self.method, "iterations": self.iterations,
                "relative_residual": self.residual, "seconds": self.seconds}


def _relative_residual(A, u, b) -> float:
    return float(np.linalg.norm(b - A @ u) / np.linalg.norm(b))


def solve_linear(A: sp.csr_matrix, b: np.ndarray, rtol: float = RTOL) -> tuple[np.ndarray, SolveInfo]:
    """Solve the SPD system ``A u = b``; never return an unconverged answer.

    Sparse LU below :data:`DIRECT_BELOW` unknowns; above, Ruge-Stuben AMG preconditioned CG
    (about 2.3 s for 1e6 P1 triangles here) and, if its true residual misses ``rtol`` by more
    than 10x, the sparse LU as fallback.

    Raises
    ------
    SolverError
        If neither reaches the tolerance.
    """
    start = time.perf_counter()
    if not np.all(np.isfinite(A.data)) or not np.all(np.isfinite(b)):
        raise SolverError("the system has non-finite entries (degenerate mesh?)")
    if not np.any(b):
        return np.zeros_like(b), SolveInfo("trivial", 0, 0.0, time.perf_counter() - start)
    if A.shape[0] >= DIRECT_BELOW:
        attempt = _amg_cg(A, b, rtol)
        if attempt is not None:
            u, iterations = attempt
            res = _relative_residual(A, u, b)
            if np.isfinite(res) and res <= 10 * rtol:
                return u, SolveInfo("amg-cg", iterations, res, time.perf_counter() - start)
    u = _direct(A, b)
    res = _relative_residual(A, u, b)
    if np.isfinite(res) and res <= 10 * rtol:
        return u, SolveInfo("direct", 0, res, time.perf_counter() - start)
    raise SolverError(f"linear solve did not converge: relative residual {res:.3g} > {10 * rtol:.1g}")


def _amg_cg(A: sp.csr_matrix, b: np.ndarray, rtol: float):
    """AMG-preconditioned CG: (solution, iterations), or None if pyamg failed outright."""
    try:
        # One BLAS thread: the vector operations of CG are memory-bound, and a second OpenBLAS
        # thread competing with any other process on a 2-core machine made them 20x slower.
        with one_thread("blas"), np.errstate(all="ignore"):
            return amg_cg(A, b, rtol, maxiter=400, max_coarse=500)
    except (ArithmeticError, ValueError, RuntimeError, np.linalg.LinAlgError):
        return None


def amg_cg(A: sp.csr_matrix, b: np.ndarray, rtol: float, maxiter: int, **hierarchy) -> tuple[np.ndarray, int]:
    """CG preconditioned by :class:`AmgCycle` (``hierarchy``: pyamg's Ruge-Stuben options), to
    a recursive relative residual of ``rtol``: (solution, iterations). Not checked: callers
    test the true residual."""
    from thermal.physics.line_multigrid import pcg

    return pcg(A, b, AmgCycle.of(A, **hierarchy), rtol, maxiter)


class AmgCycle:
    """One V-cycle over an algebraic multigrid hierarchy, as a preconditioner: a forward
    Gauss-Seidel sweep before each coarse correction and a backward one after, so the cycle
    stays symmetric (as CG needs) at half the cost of symmetric sweeps on both sides (1.8 ->
    1.5 s at 1e6 elements), and a sparse LU on the coarsest level.

    pyamg's own cycle (``solve(accel="cg")``, ``aspreconditioner``) checks and converts its
    arguments at every sweep and product: on the compact model's 5000 unknowns
    (:mod:`thermal.physics.compact`) that cost more than the arithmetic, and this cycle made a
    stack prediction's three solves 65 -> 49 ms.

    Parameters
    ----------
    matrices : list of csr_matrix
        The operator on every level, finest first.
    P, R : list of csr_matrix
        Prolongation and restriction from each level but the coarsest.
    """

    def __init__(self, matrices: list, P: list, R: list):
        from scipy.sparse.linalg import splu

        # The sweeps run in pyamg's compiled kernel, which takes 32-bit indices and doubles.
        self.matrices = [sp.csr_matrix((A.data.astype(float), A.indices.astype(np.int32),
                                        A.indptr.astype(np.int32)), shape=A.shape) for A in matrices]
        self.P, self.R = [p.tocsr() for p in P], [r.tocsr() for r in R]
        self.coarse = splu(self.matrices[-1].tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                           options={"SymmetricMode": True})

    @classmethod
    def of(cls, A: sp.csr_matrix, **hierarchy) -> "AmgCycle":
        """The cycle of pyamg's Ruge-Stuben hierarchy of ``A`` (``hierarchy``: its options)."""
        import pyamg

        levels = pyamg.ruge_stuben_solver(A, **hierarchy).levels
        return cls([lvl.A for lvl in levels], [lvl.P for lvl in levels[:-1]], [lvl.R for lvl in levels[:-1]])

    @classmethod
    def on_levels(cls, A: sp.csr_matrix, P: list, R: list) -> "AmgCycle":
        """The cycle of ``A`` over given prolongations ``P`` and restrictions ``R`` (finest
        first), with the Galerkin coarse operators ``R A P``."""
        matrices = [A.tocsr()]
        for p, r in zip(P, R):
            matrices.append((r @ matrices[-1] @ p).tocsr())
        return cls(matrices, P, R)

    def galerkin(self, A: sp.csr_matrix) -> "AmgCycle":
        """The cycle for another operator ``A`` on the same unknowns: these prolongations, and
        the Galerkin coarse operators of ``A``. A tenth of a Ruge-Stuben set-up, and as good
        where the operators differ in coefficients more than in their graph."""
        return AmgCycle.on_levels(A, self.P, self.R)

    def __call__(self, b: np.ndarray, level: int = 0) -> np.ndarray:
        from pyamg import amg_core

        if level == len(self.P):
            return self.coarse.solve(b)
        A = self.matrices[level]
        n = A.shape[0]
        x = np.zeros_like(b)
        amg_core.gauss_seidel(A.indptr, A.indices, A.data, x, b, 0, n, 1)
        x += self.P[level] @ self(self.R[level] @ (b - A @ x), level + 1)
        amg_core.gauss_seidel(A.indptr, A.indices, A.data, x, b, n - 1, -1, -1)
        return x


def _direct(A: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
    """Sparse LU; a singular matrix shows up as a non-finite or large residual, checked by the caller."""
    import warnings

    from scipy.sparse.linalg import splu

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            # The matrix is symmetric positive definite: a symmetric fill-reducing ordering
            # with diagonal pivots keeps it (partial pivoting would undo the ordering's
            # sparsity; 3-20x slower on adaptive meshes of 2-12k unknowns).
            return splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                        options={"SymmetricMode": True}).solve(b)
        except RuntimeError:  # "Factor is exactly singular"
            return np.full_like(b, np.nan)
