"""TR-BDF2 on the lumped die and on stacks: the steady limit, second order in time, energy."""
import numpy as np
import pytest

from tests.thermal.physics.test_stack_solver import small_floorplan, three_layers
from thermal.app.simulate import solve
from thermal.geometry.lumped import LumpedDie
from thermal.physics.transient import EnergyLedger, TRBDF2, lumped_system, stack_system


def run(system, f, h, steps, u=None):
    integrator, ledger = TRBDF2(system, h), EnergyLedger()
    u = np.zeros(system.K.shape[0]) if u is None else u
    for _ in range(steps):
        u = integrator.step(u, f, ledger)
    return u, ledger


def test_lumped_die_tends_to_its_steady_state_and_balances_energy():
    fp = small_floorplan()
    model = LumpedDie(htc=2e4)
    steady = solve(fp, model, mesh="uniform", resolution=24)
    system = lumped_system(fp, model, steady.mesh)
    f = system.loads @ fp.block_power
    assert f.sum() == pytest.approx(fp.total_power)
    tau = model.heat_capacity * model.thickness / model.htc
    u, ledger = run(system, f, tau / 4, 200)
    assert np.abs(u - steady.rise).max() < 1e-9 * steady.rise.max()
    assert ledger.imbalance_rel < 1e-10
    assert ledger.energy_in == pytest.approx(fp.total_power * 50 * tau)


def test_second_order_in_time_against_the_exact_uniform_mode():
    # Uniform power density excites the zero mode alone: rise = q/h (1 - exp(-t / tau)) exactly.
    from thermal.geometry.floorplan import Floorplan

    fp = Floorplan.from_blocks(["all"], [0.0], [0.0], [2e-3], [2e-3], [1.0])
    model = LumpedDie(htc=1e4)
    mesh = solve(fp, model, mesh="uniform", resolution=4).mesh
    system = lumped_system(fp, model, mesh)
    f = system.loads @ fp.block_power
    tau = model.heat_capacity * model.thickness / model.htc
    exact = 1.0 / (4e-6 * model.htc) * (1 - np.exp(-1.0))
    errors = [abs(run(system, f, tau / n, n)[0].mean() - exact) for n in (4, 8, 16)]
    assert errors[0] / errors[1] > 3.5 and errors[1] / errors[2] > 3.5


def test_stack_tends_to_its_steady_state_and_balances_energy():
    fp = small_floorplan()
    stack = three_layers().bound_to(fp)
    steady = solve(fp, stack, mesh="uniform", resolution=16)
    system = stack_system(stack, steady.prisms)
    f = system.loads @ fp.block_power
    assert f.sum() == pytest.approx(fp.total_power)
    u, ledger = run(system, f, 0.5, 100)
    assert np.nanmax(np.abs(np.where(system.active, u, np.nan) - steady.rise3d)) < 1e-8 * np.nanmax(steady.rise3d)
    assert ledger.imbalance_rel < 1e-9 and set(ledger.heat_out) == {"sink"}


def test_power_steps_do_not_ring():
    # L-stability: after one step far longer than the die's time constants the answer is the
    # new steady state up to R(z) ~ 1/z of the jump (the trapezoidal rule alone would keep
    # R = -1: the whole jump, flipped).
    fp = small_floorplan()
    model = LumpedDie(htc=2e4)
    steady = solve(fp, model, mesh="uniform", resolution=16)
    system = lumped_system(fp, model, steady.mesh)
    f = system.loads @ fp.block_power
    tau = model.heat_capacity * model.thickness / model.htc
    misses = [np.abs(run(system, f, n * tau, 1)[0] - steady.rise).max() / steady.rise.max()
              for n in (100, 1000)]
    assert misses[1] < 0.01 and misses[0] / misses[1] > 8


def test_capacity_is_every_layers_and_the_convections():
    # Total heat capacity (1^T C 1): every layer's volume times its rho c, plus HotSpot's
    # c_convec (and c_convec_sec with the secondary path) spread over the convecting faces.
    from thermal.geometry.stack import hotspot_package

    fp = small_floorplan()
    stack = hotspot_package({"s_spreader": 0.01, "s_sink": 0.02, "model_secondary": 1,
                             "s_sub": 0.006, "s_solder": 0.008, "s_pcb": 0.03}, floorplan=fp)
    prisms = solve(fp, stack, mesh="uniform", resolution=8).prisms
    system = stack_system(stack, prisms)
    expected = stack.c_convec + stack.c_convec_top
    for layer in stack.layers:
        x0, y0, x1, y1 = stack.footprint(layer)
        expected += layer.heat_capacity * layer.thickness * (x1 - x0) * (y1 - y0)
    assert system.C.sum() == pytest.approx(expected, rel=1e-12)
    assert stack.c_convec == 140.4 and stack.c_convec_top == 140.4
