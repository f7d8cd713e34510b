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


# ---------------------------------------------------------------------------------- critical regions
def _block_error(sol, exact, name):
    fp = sol.floorplan
    nodes = fp.block_at(sol.mesh.p[0], sol.mesh.p[1]) == fp.names.index(name)
    return float(np.abs(sol.rise[nodes] - exact.rise_at(sol.mesh.p[0, nodes], sol.mesh.p[1, nodes])).max())


@pytest.mark.parametrize("method", ["power", "amr"])
def test_a_critical_block_is_held_to_its_tolerance_with_far_fewer_elements(method):
    """Beside the hot unit, 0.02 K inside the block (against the exact series) with under half
    the elements a global tolerance of 0.02 K takes."""
    from tests.thermal.physics.test_stack_solver import small_floorplan

    fp, model = small_floorplan(), LumpedDie(htc=2e4)
    exact = SeriesSolution(fp, model)
    name = "warm"
    sol = solve(fp, model, mesh=method, tol=2e-3, critical=[name], critical_tol=0.02)
    report = sol.extra["critical"]
    assert report["converged"] and [b["block"] for b in report["blocks"]] == [name]
    block = report["blocks"][0]
    assert block["estimated_error_K"] <= 0.02 and block["min_K"] < block["max_K"]
    assert block["max_gradient_K_per_m"] > 0
    assert _block_error(sol, exact, name) <= 0.02
    whole = solve(fp, model, mesh=method, tol=0.02 / exact.peak["rise"])
    assert sol.mesh.t.shape[1] < 0.5 * whole.mesh.t.shape[1]


def test_an_unknown_critical_block_is_refused():
    from tests.thermal.physics.test_stack_solver import small_floorplan

    with pytest.raises(ValueError, match="no block named 'nope'"):
        solve(small_floorplan(), LumpedDie(), mesh="power", tol=1e-2, critical=["nope"])
