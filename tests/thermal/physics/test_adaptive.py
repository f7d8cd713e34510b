"""Adaptive methods against the exact series: tolerance met, energy conserved, savings real."""
import numpy as np
import pytest

from meshes import conforms
from thermal.physics.estimate import error_estimate
from thermal.physics.estimate import dorfler, indicators, recovered_hessian
from thermal.physics.metrics import verify
from thermal.geometry.lumped import LumpedDie
from thermal.exact.series import SeriesSolution
from thermal.app.simulate import solve
from tests.conftest import gap_floorplan, hot_corner_floorplan


@pytest.fixture(scope="module")
def corner():
    fp = hot_corner_floorplan()
    return fp, SeriesSolution(fp, LumpedDie())


@pytest.mark.parametrize("conform", [False, True])
@pytest.mark.parametrize("method", ["amr", "oracle", "coarse", "power"])
def test_methods_reach_tolerance_within_3x(corner, method, conform):
    fp, exact = corner
    tol = 2e-3
    sol = solve(fp, LumpedDie(), mesh=method, tol=tol, conform=conform)
    v = verify(sol, exact)
    # A tiling of the die; with conform, one that follows every block edge as well.
    assert conforms(sol.mesh, fp.domain(conform).edges)
    assert conforms(sol.mesh, fp.edges) == conform and sol.mesh_info["conform"] == conform
    assert sol.energy_balance_rel < 1e-9
    assert v["max_error_pct_of_peak_rise"] / 100 < 3 * tol
    assert sol.mesh_info["method"] == method and sol.mesh_info["solves"] >= 1
    assert {"estimate_s", "mesh_s", "assemble_s", "solve_s", "total_s"} <= set(sol.timing)


@pytest.mark.parametrize("method", ["amr", "oracle"])
def test_error_below_tolerance_small_case(method):
    fp = gap_floorplan()
    exact = SeriesSolution(fp, LumpedDie())
    sol = solve(fp, LumpedDie(), mesh=method, tol=5e-3)
    assert verify(sol, exact)["max_error_pct_of_peak_rise"] < 0.5 * 1.5


def test_adaptive_beats_uniform_on_a_small_hot_unit(corner):
    fp, exact = corner
    adaptive = solve(fp, LumpedDie(), mesh="oracle", tol=1e-3)
    err = verify(adaptive, exact)["max_error_K"]
    uniform = solve(fp, LumpedDie(), resolution=200)
    assert verify(uniform, exact)["max_error_K"] > err  # 80k uniform elements are still worse
    assert adaptive.mesh.t.shape[1] * 10 < uniform.mesh.t.shape[1]


def test_amr_records_solves_and_respects_budget(corner):
    fp, _ = corner
    sol = solve(fp, LumpedDie(), mesh="amr", tol=1e-4, budget=3000)
    assert sol.mesh.t.shape[1] <= 3000
    assert sol.mesh_info["solves"] == len(sol.mesh_info["history"]) > 1
    assert not sol.mesh_info["converged"]


def test_estimator_tracks_true_error(corner):
    fp, exact = corner
    for tol in (1e-2, 1e-3):
        sol = solve(fp, LumpedDie(), mesh="amr", tol=tol)
        true = verify(sol, exact)["max_error_K"]
        est = error_estimate(sol)["max_error_K"]
        assert 0.2 < est / true < 5


def test_recovered_hessian_exact_for_quadratics():
    from skfem import MeshTri

    mesh = MeshTri.init_sqsymmetric().refined(4)
    x, y = mesh.p
    u = 3 * x ** 2 - 2 * x * y + 0.5 * y ** 2
    h = recovered_hessian(mesh, u)
    interior = (mesh.p[:, mesh.t].min(axis=(0, 1)) > 0.2) & (mesh.p[:, mesh.t].max(axis=(0, 1)) < 0.8)
    np.testing.assert_allclose(h[:, interior].mean(axis=1), [6, -2, 1], rtol=1e-2)
    assert indicators(mesh, u).max() > 0


def test_dorfler_marks_the_bulk():
    eta = np.array([5.0, 1.0, 4.0, 0.5, 3.0])
    marked = dorfler(eta, 0.5)
    assert list(marked) == [0, 2]  # 25 + 16 >= 0.5 * 51.25
    assert list(dorfler(eta, 1.0)) == [0, 1, 2, 3, 4]


def test_invalid_tolerance():
    with pytest.raises(ValueError, match="tol"):
        solve(gap_floorplan(), mesh="amr", tol=0)
