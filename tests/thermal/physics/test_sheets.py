"""The dies' sheet model: its uniform solve, its materials' share, against exact and direct
answers."""
from dataclasses import replace

import numpy as np
import pytest
from scipy.sparse.linalg import spsolve

from tests.conftest import grid_floorplan
from tests.thermal.exact.test_layered import two_die_stack
from thermal.geometry.stack import Layer, Stack
from thermal.physics.sheets import UniformSheets, _interpolation, die_sheets, materials_share

XS, YS = np.linspace(0, 4e-3, 33), np.linspace(0, 4e-3, 21)


def _with_bond_blocks(conductivity: np.ndarray, blocks: int = 4):
    """The two-die stack with its TIM split into ``blocks`` x ``blocks`` blocks of their own
    conductivity (NaN: the TIM's)."""
    stack = two_die_stack()
    plan = grid_floorplan(blocks, blocks)
    plan = replace(plan, block_power=np.zeros(blocks ** 2), source_power=np.zeros(blocks ** 2))
    tim = replace(stack.layers[1], floorplan=plan, block_conductivity=np.asarray(conductivity, float))
    return replace(stack, layers=(stack.layers[0], tim, *stack.layers[2:]))


def _density(stack):
    from thermal.geometry.raster import rasterize

    return np.stack([rasterize(stack.layers[i].floorplan, XS, YS).mean for i in stack.power_layers])


def _three_dies():
    layers = (Layer("top", 100e-6, 120.0, 1.6e6, power=True), Layer("bond", 20e-6, 2.0, 2e6),
              Layer("middle", 50e-6, 120.0, 1.6e6, power=True), Layer("bond_2", 30e-6, 1.0, 2e6),
              Layer("bottom", 100e-6, 100.0, 1.6e6, power=True), Layer("sink", 3e-3, 300.0, 3e6))
    stack = Stack(layers, htc=2e4).bound_to(grid_floorplan(2, 2))
    plans = [grid_floorplan(3, 3, seed=s) for s in (1, 2, 3)]
    return replace(stack, layers=tuple(replace(lay, floorplan=plans.pop()) if lay.power else lay
                                       for lay in stack.layers))


@pytest.mark.parametrize("make", [two_die_stack, _three_dies])
def test_the_uniform_solve_is_the_sparse_solve(make):
    stack = make()
    sheets = die_sheets(stack, XS, YS, materials=False)
    density = _density(stack)
    fast = UniformSheets(sheets).solve(density).ravel()
    direct = spsolve(sheets.matrix().tocsc(), density.ravel() * np.tile(sheets.areas, len(stack.power_layers)))
    np.testing.assert_allclose(fast, direct, rtol=1e-10, atol=1e-12 * direct.max())


def test_every_watt_leaves_through_the_last_sheet():
    stack = _with_bond_blocks(np.array([400.0, np.nan, 0.05, np.nan] * 4))
    sheets = die_sheets(stack, XS, YS)
    density = _density(stack)
    rise = spsolve(sheets.matrix().tocsc(), density.ravel() * np.tile(sheets.areas, 2))
    out = np.sum(sheets.areas * sheets.vertical[-1] * rise[XS.size * YS.size:])
    assert out == pytest.approx(np.sum(density * sheets.areas.reshape(YS.size, XS.size)), rel=1e-10)


def test_no_share_without_block_materials():
    assert not any(s.any() for s in materials_share(two_die_stack(), XS, YS))


def test_a_bond_of_one_material_changes_the_upper_die_by_its_resistance():
    # Uniform power in both dies and every block of the TIM at k': no lateral flow, and the upper
    # die's heat crosses the TIM whole (the top is adiabatic), so its sheet rises by its power
    # density times t (1/k' - 1/k), and the lower one not at all.
    stack = _with_bond_blocks(np.full(4, 40.0), blocks=2)
    tim = two_die_stack().layers[1]
    uniform = replace(stack.layers[0].floorplan, block_power=np.ones(4), source_power=np.ones(4))
    top, tim_blocks, bottom, *rest = stack.layers
    stack = replace(stack, layers=(replace(top, floorplan=uniform), tim_blocks, replace(bottom, floorplan=uniform), *rest))
    share = materials_share(stack, XS, YS, rtol=1e-10)
    q = 4.0 / (4e-3 * 4e-3)
    np.testing.assert_allclose(share[0], q * tim.thickness * (1 / 40.0 - 1 / tim.conductivity_z), rtol=1e-7)
    np.testing.assert_allclose(share[1], 0.0, atol=1e-9 * abs(share[0]).max())


def test_the_share_is_the_difference_of_two_direct_solves():
    stack = _with_bond_blocks(np.array([400.0, np.nan, 0.05, np.nan, np.nan, 40.0, np.nan, np.nan] * 2))
    density = _density(stack)
    load = density.ravel() * np.tile(die_sheets(stack, XS, YS).areas, 2)
    rises = [spsolve(die_sheets(stack, XS, YS, materials=m).matrix().tocsc(), load) for m in (True, False)]
    direct = (rises[0] - rises[1]).reshape(2, YS.size, XS.size)
    tight = materials_share(stack, XS, YS, rtol=1e-10)
    np.testing.assert_allclose(tight, direct, atol=1e-7 * np.abs(direct).max())
    # At the features' precision, within a few per cent of the share's largest value.
    loose = materials_share(stack, XS, YS)
    assert np.abs(np.array(loose) - direct).max() <= 0.05 * np.abs(direct).max()
    # Copper (block 0, lower left) cools the upper die over itself; a void (block 2) heats it.
    assert direct[0, 1, 1] < 0 < direct[0, 1, 18]


@pytest.mark.parametrize("n", [5, 6, 33, 38])
def test_the_coarse_grid_interpolation_is_exact_for_linear_fields(n):
    P = _interpolation(n)
    coarse = np.unique(np.append(np.arange(0, n, 2), n - 1))
    x = np.linspace(0.0, 1.0, n)
    np.testing.assert_allclose(P @ x[coarse], x, rtol=0, atol=1e-15)
