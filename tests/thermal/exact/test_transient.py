"""The exact transient references against closed forms, the steady series and their own
discretisation.

Independent references used here:

* a lumped mode: ``a(t) = sum_j q_j / g (e^{-(t - t_{j+1}) / tau} - e^{-(t - t_j) / tau})``
  with ``q_j`` the block's cosine integral written out (``sin`` differences), not the code's;
* one slab on a convecting face, power through its thickness: the classical eigenfunction
  series ``cos(kappa_n z)``, ``kappa d tan(kappa d) = h d / k``;
* any stack per lateral mode: the exact 1D solution in the Laplace domain (each slab's
  ``cosh``/``sinh`` of ``sqrt((kx lambda^2 + c s) / kz) z`` joined by continuity), inverted by
  the fixed Talbot contour.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import brentq

from tests.conftest import grid_floorplan
from tests.thermal.exact.test_layered import two_die_stack, two_faces_stack
from thermal.errors import InputError
from thermal.exact.layered import face_responses, slabs
from thermal.exact.series import truncated_rises_on_grid
from thermal.exact.transient import TransientSeries, _stack_dynamics, z_column
from thermal.geometry.floorplan import Floorplan
from thermal.geometry.lumped import LumpedDie
from thermal.geometry.stack import Layer, Stack, equal_footprint, hotspot_package

DIE = LumpedDie(conductivity=100.0, thickness=0.15e-3, htc=2e3)
C_SI = 1.75e6


def _rows(fp: Floorplan, count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 2.0, (count, len(fp.names)))


def _stack_rows(stack: Stack, count: int, seed: int = 0) -> np.ndarray:
    blocks = sum(len(stack.layers[k].floorplan.names) for k in stack.power_layers)
    return np.random.default_rng(seed).uniform(0.0, 2.0, (count, blocks))


# ---------------------------------------------------------------------- lumped die
def test_lumped_mode_matches_the_closed_form_at_every_row_end():
    fp = grid_floorplan(3, 2, seed=3)
    dt, rows = 0.0137, _rows(fp, 12)
    ts = TransientSeries(fp, DIE, rows, dt, heat_capacity=C_SI, modes=(8, 8))
    W, H = fp.width, fp.height
    b = fp.blocks
    for m, n in [(0, 0), (1, 2), (5, 3), (7, 7)]:
        def cos_integral(a0, a1, k, size):
            if k == 0:
                return (a1 - a0) / size
            return 2 / (k * np.pi) * (np.sin(k * np.pi * a1 / size) - np.sin(k * np.pi * a0 / size))
        pattern = cos_integral(b.x0, b.x1, m, W) * cos_integral(b.y0, b.y1, n, H) / b.area  # per W
        g = DIE.conductivity * DIE.thickness * ((m * np.pi / W) ** 2 + (n * np.pi / H) ** 2) + DIE.htc
        tau = C_SI * DIE.thickness / g
        q = rows @ pattern
        for r in range(len(rows)):
            t = (r + 1) * dt
            starts = np.arange(r + 1) * dt
            exact = np.sum(q[:r + 1] / g * (np.exp(-(t - starts - dt) / tau) - np.exp(-(t - starts) / tau)))
            assert ts.coefficients(r)[m, n] == pytest.approx(exact, rel=1e-12, abs=1e-14 * abs(q).max() / g)


def test_lumped_superposition_across_rows_and_blocks():
    fp = grid_floorplan(2, 2)
    a, b = _rows(fp, 6, seed=1), _rows(fp, 6, seed=2)
    make = lambda rows: TransientSeries(fp, DIE, rows, 2e-3, modes=(12, 10))  # noqa: E731
    both, ta, tb = make(2.0 * a - b), make(a), make(b)
    for r in range(6):
        np.testing.assert_allclose(both.coefficients(r), 2.0 * ta.coefficients(r) - tb.coefficients(r),
                                   rtol=1e-12, atol=1e-12 * np.abs(both.coefficients(r)).max())
    # A trace is the sum of its rows' separate pulses: row 2 alone, then nothing.
    pulse = np.zeros_like(a)
    pulse[2] = a[2]
    later = make(pulse)
    assert np.all(later.coefficients(1) == 0.0)
    decay = np.exp(-3 * 2e-3 * DIE.htc / (C_SI * DIE.thickness))  # the (0, 0) mode, three rows on
    assert later.coefficients(5)[0, 0] == pytest.approx(later.coefficients(2)[0, 0] * decay, rel=1e-12)


def test_lumped_steady_start_with_constant_rows_stays_steady():
    fp = grid_floorplan(3, 3, seed=5)
    rows = np.tile(fp.block_power, (5, 1))
    ts = TransientSeries(fp, DIE, rows, 1e-3, initial="steady", modes=(16, 16))
    steady = truncated_rises_on_grid(fp, DIE, [(16, 16)], [(33, 17)])[0]
    for r in range(5):
        np.testing.assert_allclose(ts.rise_on_grid(r, 33, 17)[2], steady, rtol=1e-12)
    # Starting from a given row's steady state, or its mode amplitudes, is the same.
    again = TransientSeries(fp, DIE, rows, 1e-3, initial=fp.block_power, modes=(16, 16))
    amplitudes = TransientSeries(fp, DIE, rows, 1e-3, initial=ts.coefficients(0), modes=(16, 16))
    np.testing.assert_allclose(again.coefficients(4), ts.coefficients(4), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(amplitudes.coefficients(4), ts.coefficients(4), rtol=1e-13, atol=1e-13)


def test_lumped_tends_to_the_steady_series():
    fp = grid_floorplan(3, 2, seed=4)
    tau = C_SI * DIE.thickness / DIE.htc  # the slowest mode's, 0.13 s
    rows = np.tile(fp.block_power, (30, 1))
    ts = TransientSeries(fp, DIE, rows, tau, modes=(64, 64))
    steady = truncated_rises_on_grid(fp, DIE, [(64, 64)], [(65, 65)])[0]
    u = [ts.rise_on_grid(r, 65, 65)[2] for r in (4, 29)]
    assert np.abs(u[0] - steady).max() > 1e-3 * steady.max()  # e^-5 away after five tau
    np.testing.assert_allclose(u[1], steady, rtol=1e-10)       # e^-30 after thirty
    assert ts.peaks()[-1] == pytest.approx(steady.max(), rel=1e-6)


# ---------------------------------------------------------------------- the z column
def test_one_slab_time_constant_is_the_analytic_one():
    k, d, c, h = 100.0, 0.5e-3, 1.75e6, 2e5
    fp = Floorplan.from_blocks(["all"], [0.0], [0.0], [2e-3], [2e-3], [1.0])
    stack = Stack((Layer("die", d, k, c, power=True),), htc=h).bound_to(fp)
    biot = h * d / k
    kd = [brentq(lambda x: x * np.sin(x) - biot * np.cos(x), n * np.pi + 1e-12, n * np.pi + np.pi / 2 - 1e-12)
          for n in range(3)]
    mu_exact = k * (np.array(kd) / d) ** 2 / c
    mu, _ = z_column(stack, dt=1e-3).modes(0.0)
    assert mu[0] == pytest.approx(mu_exact[0], rel=1e-10)  # the time constant
    np.testing.assert_allclose(mu[1:3], mu_exact[1:], rtol=1e-6)  # faster ones, still close

    # The face rise under uniform power: the eigenfunction series, term by term.
    q = 1.0 / (2e-3 * 2e-3)  # 1 W over the die
    ss = lambda z: q / h + q / (2 * k * d) * (d * d - z * z)  # noqa: E731
    roots = [brentq(lambda x: x * np.sin(x) - biot * np.cos(x), n * np.pi + 1e-12, n * np.pi + np.pi / 2 - 1e-12)
             for n in range(200)]
    # Projections of the steady profile on cos(r z / d), integrated by parts.
    top, curv = q / h + q * d / (2 * k), q / (2 * k * d)  # ss(z) = top - curv z^2
    amp = [(top * d * np.sin(r) / r - curv * d ** 3 * (np.sin(r) / r + 2 * np.cos(r) / r ** 2
                                                         - 2 * np.sin(r) / r ** 3))
           / (d / 2 + d * np.sin(2 * r) / (4 * r)) for r in roots]
    dt = 2e-4
    ts = TransientSeries(fp, stack, np.ones((8, 1)), dt, modes=(1, 1))
    for row in range(8):
        t = (row + 1) * dt
        exact = ss(0.0) - sum(a * np.exp(-k * (r / d) ** 2 / c * t) for a, r in zip(amp, roots))
        assert ts.coefficients(row)[0, 0] == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize("make", [lambda fp: equal_footprint(hotspot_package(floorplan=fp)),
                                  lambda fp: two_faces_stack()])
def test_energy_of_mode_zero_balances_over_a_row(make):
    stack = make(grid_floorplan(2, 2))
    dt = 1e-3
    col = z_column(stack, dt)
    np.testing.assert_allclose(col.sources.sum(axis=0), 1.0, rtol=1e-13)  # 1 W/m^2 each
    mu, v = col.modes(0.0)
    np.testing.assert_allclose(v.T @ (col.capacity[:, None] * v), np.eye(col.nodes), atol=1e-9)
    rng = np.random.default_rng(0)
    q = rng.uniform(0.5, 2.0, col.sources.shape[1])
    theta0 = v @ rng.normal(size=col.nodes) * 1e-3   # any start
    w0 = v.T @ (col.capacity * theta0)
    force = v.T @ (col.sources @ q)
    e = np.exp(-mu * dt)
    w1 = w0 * e + force / mu * (1 - e)
    integral = w0 * (1 - e) / mu + force / mu * (dt - (1 - e) / mu)  # of w over the row
    stored = col.capacity @ (v @ w1) - col.capacity @ theta0
    out = col.heat_out(v @ integral)
    assert stored + out == pytest.approx(q.sum() * dt, rel=1e-9)
    # Instantaneously too: d(stored)/dt + heat out = power in.
    rate = col.capacity @ (v @ (-mu * w1 + force))
    assert rate + col.heat_out(v @ w1) == pytest.approx(q.sum(), rel=1e-9)


def _talbot_step(stack: Stack, lam2: float, t: float, face: int, src: int, m: int = 32) -> float:
    """Step response (unit flux in power layer ``src`` from t = 0) at the top of power layer
    ``face``: the exact 1D solution in the Laplace domain, fixed Talbot inversion."""
    sl = slabs(stack)
    caps = []
    for layer in stack.layers:
        split = layer.power and layer.active_thickness is not None and layer.active_thickness < layer.thickness
        caps += [layer.heat_capacity] * (2 if split else 1)
    n = len(sl)
    top = [i for i in range(n) if sl[i].top_of == face][0]

    def transfer(s):
        # theta_i(z) = P_i + a_i e^{-k_i z} + b_i e^{-k_i (d_i - z)}, z from the slab's top.
        a = np.zeros((2 * n, 2 * n), complex)
        rhs = np.zeros(2 * n, complex)
        k = [np.sqrt((l.kx * lam2 + c * s) / l.kz) for l, c in zip(sl, caps)]
        e = [np.exp(-ki * l.thickness) for ki, l in zip(k, sl)]
        p = [1 / l.thickness / (l.kx * lam2 + c * s) if l.source == src else 0 for l, c in zip(sl, caps)]
        ht, hs = stack.top_htc, stack.sink_htc
        a[0, 0], a[0, 1], rhs[0] = -sl[0].kz * k[0] - ht, (sl[0].kz * k[0] - ht) * e[0], ht * p[0]
        for i in range(n - 1):
            j, r = i + 1, 2 * i + 1
            a[r, 2 * i], a[r, 2 * i + 1], a[r, 2 * j], a[r, 2 * j + 1] = e[i], 1, -1, -e[j]
            rhs[r] = p[j] - p[i]
            a[r + 1, 2 * i], a[r + 1, 2 * i + 1] = -sl[i].kz * k[i] * e[i], sl[i].kz * k[i]
            a[r + 1, 2 * j], a[r + 1, 2 * j + 1] = sl[j].kz * k[j], -sl[j].kz * k[j] * e[j]
        i = n - 1
        a[-1, 2 * i], a[-1, 2 * i + 1] = (sl[i].kz * k[i] - hs) * e[i], -sl[i].kz * k[i] - hs
        rhs[-1] = hs * p[i]
        x = np.linalg.solve(a, rhs)
        return (p[top] + x[2 * top] + x[2 * top + 1] * e[top]) / s

    r = 2 * m / (5 * t)
    th = np.arange(1, m) * np.pi / m
    cot = 1 / np.tan(th)
    total = 0.5 * np.exp(r * t) * transfer(r).real
    for s, sigma in zip(r * th * (cot + 1j), th + (th * cot - 1) * cot):
        total += (np.exp(t * s) * transfer(s) * (1 + 1j * sigma)).real
    return r / m * total


@pytest.mark.parametrize("dt", [1e-5, 1e-3])
def test_stack_modes_match_the_inverse_laplace_transform(dt):
    stack = two_faces_stack()  # convecting top, two power layers, an active slice
    lams = np.array([0.0, 3.0, 23.0]) * np.pi / (stack.die[2] - stack.die[0])
    # The modes as a run of 24 x 24 modes builds them: its z-grid, its dynamics.
    dyn = _stack_dynamics(stack, z_column(stack, dt, np.sqrt(2) * lams[-1]), lams ** 2, dt, face=1)
    rows = [1, 3, 20]
    for i, lam in enumerate(lams):
        g = face_responses(stack, np.array([lam ** 2]))[1].max()
        for src in (0, 1):
            q = np.zeros((3, 2))
            q[:, src] = 1.0
            state = np.zeros_like(dyn.decay)
            got = []
            for _ in range(max(rows)):
                state = dyn.step(state, q)
                got.append(dyn.face(state, q)[i])
            exact = [_talbot_step(stack, lam ** 2, r * dt, 1, src) for r in rows]
            np.testing.assert_allclose(np.array(got)[np.array(rows) - 1], exact, rtol=0, atol=1e-5 * g)


def test_stack_z_grid_converges():
    stack = two_faces_stack()
    fp = stack.layers[stack.power_layers[0]].floorplan
    rows = _stack_rows(stack, 6, seed=7)
    runs = [TransientSeries(fp, stack, rows, 5e-4, modes=(8, 8), z_refine=r, face=1) for r in (1, 2)]
    assert runs[1].column.nodes > 1.4 * runs[0].column.nodes
    peak = max(np.abs(runs[1].coefficients(r)).sum() for r in range(6))
    for r in range(6):
        np.testing.assert_allclose(runs[0].rise_on_grid(r, 9, 9)[2], runs[1].rise_on_grid(r, 9, 9)[2],
                                   rtol=0, atol=1e-5 * peak)


@pytest.mark.parametrize("make", [lambda fp: equal_footprint(hotspot_package(floorplan=fp)),
                                  lambda fp: two_die_stack()])
def test_stack_tends_to_the_steady_series_and_steady_start_stays(make):
    fp = grid_floorplan(2, 2)
    stack = make(fp)
    rows = np.tile(_stack_rows(stack, 1, seed=1)[0], (12, 1))
    modes = (12, 12)
    faces = range(len(stack.power_layers))
    for face in faces:
        long = TransientSeries(fp, stack, rows, 2.0, modes=modes, face=face)
        plans = [long.model.layers[k].floorplan for k in long.model.power_layers]
        # The steady series of these watts (the stack's own floorplans carry other powers).
        start, layers = 0, list(long.model.layers)
        for k, plan in zip(long.model.power_layers, plans):
            watts = rows[0, start:start + len(plan.names)]
            start += len(plan.names)
            layers[k] = replace(layers[k], floorplan=replace(plan, block_power=watts, source_power=watts))
        bound = replace(long.model, layers=tuple(layers))
        steady = truncated_rises_on_grid(plans[face], bound, [modes], [(17, 17)], face)[0]
        np.testing.assert_allclose(long.rise_on_grid(-1, 17, 17)[2], steady, rtol=1e-6)
        early = TransientSeries(fp, stack, rows[:1], 1e-2, modes=modes, face=face).rise_on_grid(0, 17, 17)[2]
        assert np.abs(early - steady).max() > 0.1 * steady.max()  # not there after one short row
        kept = TransientSeries(fp, stack, rows[:3], 1e-3, modes=modes, face=face, initial="steady")
        for r in range(3):
            np.testing.assert_allclose(kept.rise_on_grid(r, 17, 17)[2], steady, rtol=1e-11)


# ---------------------------------------------------------------------- switching traces
@pytest.mark.parametrize("model", ["lumped", "stack"])
def test_switching_trace_moves_and_pulses_the_peak(model):
    fp = grid_floorplan(2, 1)
    m = DIE if model == "lumped" else equal_footprint(hotspot_package(floorplan=fp))
    # Two blocks taking turns: the hottest point is on the block that is on.
    alternate = np.array([[3.0, 0.3] if r % 2 == 0 else [0.3, 3.0] for r in range(10)])
    ts = TransientSeries(fp, m, alternate, 1e-3, modes=(16, 16))
    peaks = ts.peaks()
    assert np.all(peaks > 0) and peaks[-1] > peaks[0]
    on_left = ts.peak_xy[:, 0] < fp.width / 2
    assert np.array_equal(on_left, np.arange(10) % 2 == 0)
    # One block on and off: the peak rises and falls with it.
    pulse = np.array([[3.0, 0.0] if r % 2 == 0 else [0.0, 0.0] for r in range(10)])
    steps = np.diff(TransientSeries(fp, m, pulse, 1e-3, modes=(16, 16)).peaks())
    assert np.all(steps[0::2] < 0) and np.all(steps[1::2] > 0)
    # The peak is the field's maximum: above every grid node, and equal to the series there.
    for r in (0, 5, 9):
        grid = ts.rise_on_grid(r, 65, 33)[2]
        assert grid.max() <= peaks[r] * (1 + 1e-12)
        assert peaks[r] - grid.max() < 1e-3 * peaks[r]
        assert ts.rise_at(r, *ts.peak_xy[r]) == pytest.approx(peaks[r], rel=1e-12)
    assert np.all(ts.peak_truncation < 0.05 * peaks)


def test_bad_inputs_are_refused():
    fp = grid_floorplan(2, 2)
    with pytest.raises(ValueError, match="rows"):
        TransientSeries(fp, DIE, np.ones((3, 5)), 1e-3)
    with pytest.raises(ValueError, match="dt"):
        TransientSeries(fp, DIE, np.ones((3, 4)), 0.0)
    with pytest.raises(ValueError, match="initial"):
        TransientSeries(fp, DIE, np.ones((3, 4)), 1e-3, initial="cold")
    with pytest.raises(InputError, match="no exact solution"):
        TransientSeries(fp, hotspot_package(floorplan=fp), np.ones((3, 4)), 1e-3)


def test_rows_per_power_layer_are_concatenated_in_layer_order():
    stack = two_die_stack()
    fp = stack.layers[stack.power_layers[0]].floorplan
    top, bottom = _rows(fp, 4, seed=1), _rows(fp, 4, seed=2)
    split = TransientSeries(fp, stack, [top, bottom], 1e-3, modes=(6, 6), face=1)
    joined = TransientSeries(fp, stack, np.hstack([top, bottom]), 1e-3, modes=(6, 6), face=1)
    swapped = TransientSeries(fp, stack, np.hstack([bottom, top]), 1e-3, modes=(6, 6), face=1)
    np.testing.assert_array_equal(split.coefficients(3), joined.coefficients(3))
    assert not np.allclose(swapped.coefficients(3), joined.coefficients(3))
