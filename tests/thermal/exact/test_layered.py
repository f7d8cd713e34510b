"""The layered stack's per-mode face responses: closed form against a fine 1D solve."""
import numpy as np
import pytest

from tests.conftest import grid_floorplan
from thermal.exact.layered import face_responses, local_sheet, responses_1d, slabs
from thermal.geometry.stack import Layer, Stack, equal_footprint, hotspot_package


def two_die_stack():
    """Two power layers (the lower one with a thin active slice), a TIM between, an
    anisotropic sink."""
    layers = (Layer("top", 150e-6, 120.0, 1.6e6, power=True),
              Layer("tim", 20e-6, 4.0, 4e6),
              Layer("bottom", 100e-6, 100.0, 1.6e6, power=True, active_thickness=5e-6),
              Layer("sink", 3e-3, 300.0, 3e6, conductivity_z=150.0))
    return Stack(layers, htc=2e4).bound_to(grid_floorplan(2, 2))


def two_faces_stack():
    """Two power layers between a convecting top (a board) and the sink."""
    layers = (Layer("board", 1e-3, 3.0, 1.3e6), Layer("bumps", 1e-4, 1.25, 1.6e6),
              *two_die_stack().layers)
    return Stack(layers, htc=2e4, htc_top=2e3).bound_to(grid_floorplan(2, 2))


STACKS = {"hotspot": lambda: equal_footprint(hotspot_package(floorplan=grid_floorplan(2, 2))),
          "two dies": two_die_stack, "two faces": two_faces_stack,
          "secondary": lambda: equal_footprint(hotspot_package({"model_secondary": 1},
                                                               floorplan=grid_floorplan(2, 2)))}


@pytest.mark.parametrize("name", STACKS)
@pytest.mark.parametrize("lam", [0.0, 30.0, 1e3, 2e4, 3e5])
def test_closed_form_matches_a_fine_1d_solve(name, lam):
    stack = STACKS[name]()
    exact = face_responses(stack, np.array([lam ** 2]))[..., 0]
    fine = responses_1d(stack, lam ** 2, cells_per_slab=6400)
    # The finite-volume solve is second order: 6400 cells per slab leave ~1e-6 of the largest
    # response (responses far below it, across several layers at high modes, decay to ~0); at
    # 1600 the 10 um metal over the secondary path's die still left 1.5e-3 at lambda = 3e5.
    np.testing.assert_allclose(exact, fine, rtol=2e-4, atol=1e-5 * exact.max())


def test_zero_mode_is_the_sum_of_resistances():
    stack = STACKS["hotspot"]()
    w = stack.die[2] - stack.die[0]
    g0 = face_responses(stack, np.array([0.0]))[0, 0, 0]
    layers = stack.layers
    resistance = (1 / stack.sink_htc + sum(l.thickness / l.conductivity_z for l in layers[1:])
                  + layers[0].thickness / (2 * layers[0].conductivity_z))
    assert g0 == pytest.approx(resistance, rel=1e-12)
    assert stack.sink_htc == pytest.approx(1 / (0.1 * w * w))


def test_zero_mode_with_two_convecting_faces_is_the_parallel_paths():
    stack = two_faces_stack()
    # 1D: a share a = (D + r/2) / (U + D + r) of the die's power leaves through the top
    # resistance U, the rest through D below; the die's top face is at a U (r: the die's own).
    top = stack.layers[2]
    up = 1 / stack.top_htc + sum(l.thickness / l.conductivity_z for l in stack.layers[:2])
    down = 1 / stack.sink_htc + sum(l.thickness / l.conductivity_z for l in stack.layers[3:])
    r = top.thickness / top.conductivity_z
    g = face_responses(stack, np.array([0.0]))[0, 0, 0]
    assert g == pytest.approx(up * (down + r / 2) / (up + down + r), rel=1e-12)
    assert g == pytest.approx(responses_1d(stack, 0.0, cells_per_slab=1600)[0, 0], rel=1e-6)


@pytest.mark.parametrize("make", [two_die_stack, two_faces_stack])
def test_no_overflow_or_cancellation_at_extreme_modes(make):
    stack = make()
    lam2 = np.logspace(-6, 16, 200)
    g = face_responses(stack, lam2)
    assert np.all(np.isfinite(g)) and np.all(g >= 0)
    # Each face's response to its own power falls monotonically with the mode.
    assert np.all(np.diff(g[0, 0]) <= 0) and np.all(np.diff(g[1, 1]) <= 0)
    # At high modes a uniform source through the thickness acts as a sheet: 1 / (k d lambda^2),
    # shared with a layer above in the ratio of their sqrt(kx kz) (both admittances ~ lambda).
    i = stack.power_layers[0]
    top = stack.layers[i]
    share = 1.0
    if i > 0:
        above = stack.layers[i - 1]
        share = 1 / (1 + np.sqrt(above.conductivity * above.conductivity_z / (top.conductivity * top.conductivity_z)))
    assert g[0, 0, -1] * top.conductivity * top.thickness * lam2[-1] == pytest.approx(share, rel=1e-6)
    # Reciprocity: the response of face i to layer j's power equals j's to i's only for
    # symmetric faces; here check the active slice keeps the bottom die's face hotter.
    assert g[1, 1, 100] > g[1, 0, 100]


def test_active_slice_is_a_slab_of_its_own():
    stack = two_die_stack()
    kinds = [(s.thickness, s.source) for s in slabs(stack)]
    assert kinds[2] == (5e-6, 1) and kinds[3] == (95e-6, -1)


def test_local_sheet_recovers_a_lumped_die():
    # One thin layer on a convective face is nearly the lumped die: the knee is where
    # k t lambda^2 = h.
    stack = Stack((Layer("die", 1e-6, 100.0, 1e6, power=True),), htc=1e4).bound_to(grid_floorplan(2, 2))
    sheet = local_sheet(stack)
    assert sheet.sheet_conductance == pytest.approx(1e-4)
    assert sheet.htc == pytest.approx(1e4, rel=0.05)
