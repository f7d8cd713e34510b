"""The line multigrid on blocks of right-hand sides, from shared Galerkin levels, and in single
precision (what the reduced-order transient's basis solves use)."""
import numpy as np

from tests.thermal.physics.test_reduced_order import package
from thermal.physics.line_multigrid import LineHierarchy, LineMultigrid, _Lines, pcg, plane_prolongators
from thermal.physics.solver import ElementGeometry
from thermal.physics.stack_solver import _plane_matrices
from thermal.threads import one_thread

SHIFT = 300.0  # 1/s: K + s C as the reduced basis solves it


def operators():
    """The package's K, C and its plane's prolongators."""
    system, prisms = package()
    plane = prisms.plane
    ones = np.ones(plane.t.shape[1])
    size = max(np.ptp(plane.p[0]), np.ptp(plane.p[1]))
    K, M = _plane_matrices(plane, ElementGeometry.of(plane), ones, ones / size ** 2)
    return system, plane_prolongators(K + M)


def loads(system, columns: int = 3) -> np.ndarray:
    return np.asarray(system.loads[:, :columns].todense())


def test_lines_solve_columns_as_they_solve_each():
    system, _ = operators()
    A = (system.K + SHIFT * system.C).tocsr()
    lines = _Lines(A, system.levels, A.shape[0] // system.levels)
    B = np.random.default_rng(1).random((A.shape[0], 3))
    np.testing.assert_allclose(lines.solve(B), np.column_stack([lines.solve(b) for b in B.T]), rtol=1e-12)


def test_block_cg_meets_the_tolerance_in_every_column():
    system, prolongators = operators()
    A = (system.K + SHIFT * system.C).tocsr()
    B = loads(system)
    with one_thread("blas"):
        mg = LineMultigrid(A, system.levels, prolongators, system.active)
        X, iterations = pcg(A, B, mg.cycle, 1e-9)
    residual = np.linalg.norm(B - A @ X, axis=0) / np.linalg.norm(B, axis=0)
    assert residual.max() < 1e-8 and iterations < 40
    single, _ = pcg(A, B[:, 1], mg.cycle, 1e-9)
    np.testing.assert_allclose(X[:, 1], single, rtol=1e-6, atol=1e-9 * np.abs(single).max())


def test_levels_of_a_sum_are_the_sum_of_the_levels():
    """Galerkin levels are linear in the operator: the cycle for K + sC from K's and C's levels
    is the cycle built for K + sC itself."""
    system, prolongators = operators()
    A = (system.K + SHIFT * system.C).tocsr()
    direct = LineMultigrid(A, system.levels, prolongators, system.active)
    hierarchy = LineHierarchy(system.levels, prolongators, A.shape[0], system.active)
    summed = LineMultigrid.of_sum(hierarchy, hierarchy.galerkin(system.K), hierarchy.galerkin(system.C), SHIFT)
    r = np.random.default_rng(2).random(A.shape[0])
    np.testing.assert_allclose(summed.cycle(r), direct.cycle(r), rtol=1e-9, atol=1e-12 * np.abs(direct.cycle(r)).max())


def test_single_precision_cycle_reaches_three_digits():
    system, prolongators = operators()
    A = (system.K + SHIFT * system.C).tocsr()
    B = loads(system)
    with one_thread("blas"):
        single = LineMultigrid(A, system.levels, prolongators, system.active).single()
        X, _ = pcg(single.ops[0], B.astype(np.float32), single.cycle, 1e-3)
    assert X.dtype == np.float32
    residual = np.linalg.norm(B - A @ X.astype(float), axis=0) / np.linalg.norm(B, axis=0)
    assert residual.max() < 2e-3


def test_plane_prolongators_are_the_same_every_time():
    """pyamg's default prolongation smoother starts a spectral-radius estimate from a random
    vector: CG's iterations then changed run to run (19-111 on one stack, or divergence)."""
    _, first = operators()
    np.random.seed(12345)  # whatever numpy's global state
    _, second = operators()
    assert all((a != b).nnz == 0 for a, b in zip(first, second))


def test_coarse_functions_almost_outside_the_active_unknowns_are_dropped():
    """Two plane nodes, one aggregate: active only where the aggregate holds 0.5 % of its
    weight, the coarse function is dropped (its Galerkin row would be near-singular); at 50 %
    it is kept."""
    import scipy.sparse as sp

    plane_P = sp.csr_matrix(np.array([[0.995], [0.005]]))
    for weight_active, kept in ((np.array([False, True]), False), (np.array([True, False]), True)):
        hierarchy = LineHierarchy(1, [plane_P], 2, weight_active)
        assert hierarchy.active[1].tolist() == [kept]
        assert hierarchy.P[0].nnz == int(kept)
