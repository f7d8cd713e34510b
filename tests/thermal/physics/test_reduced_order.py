"""The reduced-order transient: energy, exactness in time, the steady limit, the initial field,
agreement with TR-BDF2 on the same mesh, footprints, and the helpers that pick inputs and shifts."""
import math
from functools import lru_cache

import numpy as np
import pytest
import scipy.linalg
from scipy.sparse.linalg import spsolve

from tests.thermal.app.test_transient_exact import switching_rows
from tests.thermal.physics.test_stack_solver import small_floorplan, three_layers
from thermal.app.simulate import solve
from thermal.geometry.lumped import LumpedDie
from thermal.geometry.stack import hotspot_package
from thermal.physics.reduced_order import (ReducedModel, build_reduced_model, decade_shifts,
                                           input_directions, midpoints)
from thermal.physics.solver import ElementGeometry
from thermal.physics.stack_solver import solve_prisms
from thermal.physics.transient import EnergyLedger, TRBDF2, lumped_system, stack_system
from thermal.threads import one_thread

INTERVAL = 1e-3  # s per row


def trace() -> np.ndarray:
    """20 rows of 1 ms: the hot and warm units take turns every 5 rows, the rest always on."""
    return switching_rows()[:20]


@lru_cache(maxsize=None)
def lumped():
    """The lumped die on a uniform mesh: (system, mesh)."""
    fp = small_floorplan()
    model = LumpedDie(htc=2e4)
    mesh = solve(fp, model, mesh="uniform", resolution=24).mesh
    return lumped_system(fp, model, mesh), mesh


@lru_cache(maxsize=None)
def stack():
    """Die, TIM and sink of the die's footprint on prisms: (system, prisms)."""
    fp = small_floorplan()
    s = three_layers().bound_to(fp)
    prisms = solve(fp, s, mesh="uniform", resolution=16).prisms
    return stack_system(s, prisms), prisms


@lru_cache(maxsize=None)
def package():
    """HotSpot's package with a spreader and sink wider than the die: (system, prisms)."""
    fp = small_floorplan()
    s = hotspot_package({"s_spreader": 0.01, "s_sink": 0.02}, floorplan=fp)
    assert not s.equal_footprints
    prisms = solve(fp, s, mesh="uniform", resolution=16).prisms
    return stack_system(s, prisms), prisms


SYSTEMS = {"lumped": lumped, "stack": stack, "package": package}


def build(system, rows: np.ndarray, **options):
    """build_reduced_model as the app calls it: BLAS on one thread (a second one made the
    package's CG 6x slower on two cores)."""
    with one_thread("blas"):
        return build_reduced_model(system, rows, INTERVAL, **options)


def rises(model: ReducedModel, states: np.ndarray) -> np.ndarray:
    """(rows, nodes) rises of (rows, m) modal states."""
    return model.temperature(states.T).T


# ------------------------------------------------------------------------------ energy
@pytest.mark.parametrize("init", ["ambient", "steady"])
@pytest.mark.parametrize("name", ["lumped", "stack", "package"])
def test_energy_balances_to_round_off(name, init):
    """Power in = heat out + change of stored heat, to round-off: the uniform field is in the basis."""
    system, _ = SYSTEMS[name]()
    rows = trace()
    model, q = build(system, rows, init=init)
    ledger = EnergyLedger()
    for first in range(0, len(rows), 7):  # in chunks, as the run advances
        q = model.rows(q, rows[first:first + 7], ledger)[-1]
    assert ledger.energy_in == pytest.approx(INTERVAL * rows.sum(), rel=1e-14)
    assert set(ledger.heat_out) == set(system.outflow)
    assert ledger.stored_change != 0 and all(v != 0 for v in ledger.heat_out.values())
    assert ledger.imbalance_rel < 1e-10, ledger.as_dict()


# ------------------------------------------------------------------------------ exact in time
def test_rows_compose_exactly():
    """N rows of h of constant power give what one row of N h gives (exact flow: e^-rNh = (e^-rh)^N)."""
    system, _ = lumped()
    rows = trace()
    model, q0 = build(system, rows, init="steady")
    hot = rows[0]           # start from the mean row's steady state (a decaying part) under a new row
    n = 10
    long = ReducedModel(model.basis, model.coefficients, model.rates, model.loads, model.capacity,
                        model.outflow, n * INTERVAL, model.C)
    many = model.rows(q0, np.tile(hot, (n, 1)))[-1]
    once = long.rows(q0, hot[None, :])[-1]
    u_many, u_once = model.temperature(many), model.temperature(once)
    assert np.abs(u_many - u_once).max() < 1e-12 * np.abs(u_once).max()
    # and the row moved the state: the check is not of a steady state against itself
    assert np.abs(u_once - model.temperature(q0)).max() > 0.05 * np.abs(u_once).max()


@pytest.mark.parametrize("name", ["lumped", "stack"])
def test_rows_are_the_exponential_of_the_projected_system(name):
    """Each row is the matrix exponential of the Galerkin system (W^T C W, W^T K W, W^T F) on the modes."""
    system, _ = SYSTEMS[name]()
    rows = trace()
    model, q0 = build(system, rows, init="steady")
    W = model.modes
    M = W.T @ (system.C @ W)                      # projected afresh, not the model's rates/loads
    A = np.linalg.solve(M, W.T @ (system.K @ W))
    B = np.linalg.solve(M, np.asarray(system.loads.T @ W).T)
    m = A.shape[0]
    x, expected = q0.copy(), []
    for p in rows:  # x' = -A x + B p, constant over the row: one exponential of the affine system
        Z = np.zeros((m + 1, m + 1))
        Z[:m, :m], Z[:m, m] = -A, B @ p
        E = scipy.linalg.expm(Z * INTERVAL)
        x = E[:m, :m] @ x + E[:m, m]
        expected.append(W @ x)
    got = rises(model, model.rows(q0, rows))
    # The modes are C-orthonormal to ~1e-7 (round-off through the basis' Gram matrix), which
    # moves the trajectory by ~1e-10 of its peak; an inexact row (backward Euler's) is far off.
    assert np.abs(got - np.array(expected)).max() < 1e-8 * np.abs(got).max()


# ------------------------------------------------------------------------------ steady state
@pytest.mark.parametrize("name", ["lumped", "stack"])
def test_constant_power_from_its_steady_state_stays_put(name):
    """Rows of constant power started from that power's (reduced) steady state leave it unchanged."""
    system, _ = SYSTEMS[name]()
    rows = np.tile(trace().mean(axis=0), (500, 1))
    model, q0 = build(system, rows, init="steady")
    u0 = model.temperature(q0)
    drift = np.abs(rises(model, model.rows(q0, rows)) - u0).max()
    assert u0.max() > 1.0 and drift < 1e-10 * u0.max()


def full_steady(name: str, watts: np.ndarray) -> np.ndarray:
    system, mesh = SYSTEMS[name]()
    f = system.loads @ watts
    if name == "lumped":
        return spsolve(system.K.tocsc(), f)
    u, _ = solve_prisms(system.K, f, mesh, ElementGeometry.of(mesh.plane), rtol=1e-11, active=system.active)
    return np.where(system.active, u, 0.0)


# The lumped die's basis vectors are solved by sparse LU (to ~1e-15) and K^-1 F w is one of them
# for any w in the rows' span, so the Galerkin steady state is that vector up to round-off
# (with the Gram cutoff at 1e-12 instead of 1e-10 it is 7e-12). Prisms' vectors are solved by
# single-precision CG to BASIS_RTOL = 1e-3: the steady state is good to that, or better.
STEADY_RTOL = {"lumped": 1e-8, "stack": 1e-3, "package": 1e-3}


@pytest.mark.parametrize("name", ["lumped", "stack", "package"])
def test_steady_state_matches_the_full_solve(name):
    """The reduced steady state of a row in the trace's span is the full mesh's K^-1 F p."""
    system, _ = SYSTEMS[name]()
    rows = trace()
    model, q0 = build(system, rows, init="steady")
    for watts in (rows.mean(axis=0), rows[0], rows[5], 2 * rows[0] - rows[5]):
        exact = full_steady(name, watts)
        error = np.abs(model.temperature(model.steady(watts)) - exact).max()
        assert error < STEADY_RTOL[name] * exact.max(), (watts, error / exact.max())
    np.testing.assert_array_equal(q0, model.steady(rows.mean(axis=0)))


# ------------------------------------------------------------------------------ against TR-BDF2
def test_lumped_die_follows_fine_trbdf2_on_the_same_mesh():
    """Every row within 0.2 % of the peak of TR-BDF2 (16 substeps) on the mesh; estimate >= error / 10."""
    system, _ = lumped()
    rows = trace()
    model, q0 = build(system, rows, init="ambient")
    reduced = rises(model, model.rows(q0, rows))
    stepped = TRBDF2(system, INTERVAL / 16, substeps=16).rows(np.zeros(system.K.shape[0]), rows)
    peak = stepped.max()
    error = np.abs(reduced - stepped).max()
    # TR-BDF2 with 16 substeps is within 4e-5 of the peak of 256 substeps: the difference is
    # the reduced model's.
    assert error < 2e-3 * peak, error / peak
    assert model.info["converged"] and model.info["estimated_error_K"] >= 0.1 * error, (
        model.info["estimated_error_K"], error)


# ------------------------------------------------------------------------------ initial field
def bump(mesh) -> np.ndarray:
    """A 10 K Gaussian rise, 0.5 mm wide, off the die's centre."""
    x, y = mesh.p
    return 10.0 * np.exp(-((x - 1.5e-3) ** 2 + (y - 1.5e-3) ** 2) / (2 * 0.5e-3 ** 2))


def test_initial_field_is_reproduced():
    """A given initial field is in the basis, so its C-projection returns it up to round-off."""
    system, mesh = lumped()
    u0 = bump(mesh)
    model, q0 = build(system, np.zeros((20, 3)), init=u0)
    assert model.info["initial_field"]
    miss = np.abs(model.temperature(q0) - u0).max()
    assert miss < 1e-8 * u0.max(), miss / u0.max()


def test_initial_field_decays_as_on_the_full_mesh():
    """Without power, a bump's decay follows TR-BDF2 (64 substeps) within 0.5 % of its initial max."""
    system, mesh = lumped()
    u0 = bump(mesh)
    rows = np.zeros((20, 3))
    model, q0 = build(system, rows, init=u0)
    reduced = rises(model, model.rows(q0, rows))
    stepped = TRBDF2(system, INTERVAL / 64, substeps=64).rows(u0, rows)
    assert stepped[-1].max() < 0.1 * u0.max()  # it has decayed: the rows test more than the start
    assert np.abs(reduced - stepped).max() < 5e-3 * u0.max()


# ------------------------------------------------------------------------------ footprints
def test_nodes_outside_a_footprint_stay_at_zero():
    """Nodes that do not exist (a narrower layer's prisms under a wider sink's) keep exactly zero rise."""
    system, _ = package()
    inactive = ~system.active
    assert inactive.any()
    rows = trace()
    model, q0 = build(system, rows, init="steady")
    u = rises(model, np.vstack([q0, model.rows(q0, rows)]))
    assert np.all(u[:, inactive] == 0.0)
    assert u[:, system.active].min() > 0  # heated everywhere else
    np.testing.assert_array_equal(model.observer(np.flatnonzero(inactive)), 0.0)


# ------------------------------------------------------------------------------ helpers
def test_input_directions_span_the_rows():
    """Rows combining k independent power vectors give k orthonormal directions that rebuild every row."""
    rng = np.random.default_rng(7)
    sources, k = 9, 3
    powers = rng.uniform(0, 2, (k, sources))
    rows = rng.uniform(0, 1, (50, k)) @ powers
    rows[10] = 0.0                                         # an idle row changes nothing
    for trace_rows in (rows, rows + 1e-14 * rng.standard_normal(rows.shape)):  # round-off: same span
        Q, weight = input_directions(trace_rows)
        assert Q.shape == (sources, k) and weight.shape == (k,)
        np.testing.assert_allclose(Q.T @ Q, np.eye(k), atol=1e-12)
        assert np.abs(trace_rows @ Q @ Q.T - trace_rows).max() < 1e-12 * np.abs(trace_rows).max()
        assert np.all(weight > 0) and np.all(weight <= np.linalg.norm(trace_rows, axis=1).max() * (1 + 1e-12))
    # the switching trace: three sources, two patterns of power
    assert input_directions(trace())[0].shape == (3, 2)
    Q, weight = input_directions(np.zeros((5, sources)))
    assert Q.shape == (sources, 0) and weight.shape == (0,)


def test_decade_shifts_run_down_in_decades_to_the_bottom():
    """decade_shifts: top, then down by 10s to the first at or below bottom; just top if already there."""
    for top, bottom in ((1e4, 3.0), (5e3, 0.2), (1e4, 1.0), (2.5e5, 2.49e5)):
        s = decade_shifts(top, bottom)
        assert s[0] == top and s[-1] <= bottom
        assert len(s) == 1 or s[-2] > bottom
        np.testing.assert_allclose(np.array(s[:-1]) / np.array(s[1:]), 10.0, rtol=1e-12)
    assert decade_shifts(1e4, 3.0) == pytest.approx([1e4, 1e3, 1e2, 1e1, 1e0])
    assert decade_shifts(5.0, 5.0) == [5.0] and decade_shifts(5.0, 50.0) == [5.0]


def test_midpoints_are_geometric_means_of_neighbours():
    """midpoints: geometric means of adjacent nonzero shifts (any order), or half a decade about one."""
    shifts = [1e3, 0.0, 10.0, 40.0]
    assert midpoints(shifts) == pytest.approx([20.0, 200.0], rel=1e-14)
    assert midpoints([0.0, 100.0]) == pytest.approx([100 / math.sqrt(10), 100 * math.sqrt(10)], rel=1e-14)
    assert midpoints([0.0]) == []


def test_unknown_initial_state_is_refused():
    """An init that is neither 'steady', 'ambient' nor an array is an error, not a silent ambient start."""
    system, _ = lumped()
    with pytest.raises(ValueError, match="initial state"):
        build(system, trace(), init="hot")


@pytest.mark.parametrize("name", ["lumped", "package"])
def test_a_trace_without_power_decays_from_a_uniform_start(name):
    """No power: no input directions; a uniform start (in the basis) only cools, conserving energy."""
    system, _ = SYSTEMS[name]()
    rows = np.zeros((5, system.loads.shape[1]))
    active = np.ones(system.K.shape[0], bool) if system.active is None else system.active
    start = np.where(active, 10.0, 0.0)
    model, q0 = build(system, rows, init=start)
    assert model.info["inputs"] == 0
    np.testing.assert_allclose(model.temperature(q0), start, atol=1e-9)
    ledger = EnergyLedger()
    states = model.rows(q0, rows, ledger)
    stored = model.stored(states[-1])
    assert 0 < stored < model.stored(q0)
    assert abs(ledger.imbalance) < 1e-10 * model.stored(q0)
