"""The compact finite-volume model of a stack: against the exact series, energy, materials, and
the package correction it gives the cheap physics."""
from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import grid_floorplan
from tests.thermal.exact.test_layered import STACKS
from thermal.exact.series import SeriesSolution
from thermal.geometry.stack import hotspot_package
from thermal.physics.compact import compact_faces, compact_grid, compact_system, package_correction


def _cell_means_of_series(stack, grid, face):
    """The exact series' mean over each die cell of a power layer's top face (a 4 x 4 Gauss
    rule per cell: the series is smooth inside a cell of this floorplan)."""
    exact = SeriesSolution(stack.layers[stack.power_layers[face]].floorplan, stack)
    g, w = np.polynomial.legendre.leggauss(4)
    xe, ye = grid.x_edges[grid.die_x.start:grid.die_x.stop + 1], grid.y_edges[grid.die_y.start:grid.die_y.stop + 1]
    xq = (0.5 * (xe[:-1, None] + xe[1:, None]) + 0.5 * np.diff(xe)[:, None] * g).ravel()
    yq = (0.5 * (ye[:-1, None] + ye[1:, None]) + 0.5 * np.diff(ye)[:, None] * g).ravel()
    X, Y = np.meshgrid(xq, yq)
    r = exact.rise_at(X.ravel(), Y.ravel()).reshape(yq.size, xq.size)
    r = r.reshape(ye.size - 1, 4, xe.size - 1, 4)
    return np.einsum("jaib,a,b->ji", r, w, w) / 4


@pytest.mark.parametrize("name", ["hotspot", "two dies", "two faces"])
def test_converges_to_the_exact_series_on_an_equal_footprint_stack(name):
    # A smooth field (2 x 2 blocks on 4 mm): the cell error falls as the cells shrink.
    stack = STACKS[name]()
    errors = []
    for cells in (8, 16, 32):
        grid, faces = compact_faces(stack, cells)
        exact = _cell_means_of_series(stack, grid, 0)
        errors.append(np.abs(faces[0] - exact).max() / exact.max())
    assert errors[-1] < 0.02
    assert errors[2] < errors[1] < errors[0]


def test_the_power_leaves_through_the_convecting_faces():
    stack = STACKS["two faces"]()
    grid = compact_grid(stack, 12)
    matrix, load = compact_system(stack, grid)
    from scipy.sparse.linalg import spsolve

    rise = spsolve(matrix.tocsc(), load)
    # Row sums of the conductance matrix are the convective conductances: what leaves.
    assert np.isclose((matrix @ np.ones(load.size)) @ rise, load.sum(), rtol=1e-9)
    assert np.isclose(load.sum(), sum(stack.layers[k].floorplan.total_power for k in stack.power_layers))


def test_every_footprint_edge_is_a_grid_line_and_the_die_cells_are_even():
    fp = grid_floorplan(3, 2, size=5e-3)
    stack = hotspot_package({"model_secondary": 1}, floorplan=fp)
    grid = compact_grid(stack, 20)
    for layer in stack.layers:
        x0, y0, x1, y1 = stack.footprint(layer)
        for v, edges in ((x0, grid.x_edges), (x1, grid.x_edges), (y0, grid.y_edges), (y1, grid.y_edges)):
            assert np.min(np.abs(edges - v)) < 1e-12
    die = np.diff(grid.x_edges)[grid.die_x]
    assert np.allclose(die, die[0]) and die.size == 20
    assert np.all(np.diff(grid.x_edges) > 0) and np.all(np.diff(grid.y_edges) > 0)


def test_a_block_of_its_own_material_over_the_whole_layer_is_that_material():
    fp = grid_floorplan(2, 2)
    stack = STACKS["two dies"]()
    tim = stack.layers[1]
    covering = replace(fp, block_power=np.zeros(4), source_power=np.zeros(4))
    own = replace(tim, floorplan=covering, block_conductivity=np.full(4, 40.0))
    plain = replace(tim, conductivity=40.0, conductivity_z=40.0)
    with_blocks = replace(stack, layers=(stack.layers[0], own, *stack.layers[2:]))
    with_layer = replace(stack, layers=(stack.layers[0], plain, *stack.layers[2:]))
    a = compact_faces(with_blocks, 12)[1]
    b = compact_faces(with_layer, 12)[1]
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-8)


def test_no_correction_for_a_stack_with_an_exact_series():
    stack = STACKS["hotspot"]()
    fp = stack.layers[stack.power_layers[0]].floorplan
    xs, ys = np.linspace(0, 4e-3, 5), np.linspace(0, 4e-3, 5)
    cut, package, materials = package_correction(stack, fp, xs, ys)
    assert cut is stack and not any(c.any() for c in package + materials)


def test_a_larger_spreader_cools_the_die_and_the_correction_says_so():
    # HotSpot's package: a 30 mm spreader under a 4 mm die spreads what the cut cannot.
    fp = grid_floorplan(2, 2)
    stack = hotspot_package(floorplan=fp)
    xs, ys = np.linspace(0, 4e-3, 9), np.linspace(0, 4e-3, 9)
    _, (package,), (materials,) = package_correction(stack, fp, xs, ys)
    assert package.max() < 0 and not materials.any()


def test_lateral_conduction_can_be_switched_off():
    # LCF's flag N: no in-plane conduction in a layer (conductivity 0) stays solvable.
    stack = STACKS["two dies"]()
    flagged = replace(stack, layers=(stack.layers[0], replace(stack.layers[1], conductivity=0.0,
                                                              conductivity_z=4.0), *stack.layers[2:]))
    _, faces = compact_faces(flagged, 8)
    assert np.all(np.isfinite(faces[0])) and faces[0].max() > 0


def test_the_physics_of_a_package_is_close_to_the_converged_solve():
    """The cut's series alone misses the spreader; with the compact model's corrections the
    physics is within a few % of the peak rise (measured: 1.2 %, against 8.3 % for the cut)."""
    from hotspot_ml.physics import stack_physics
    from tests.conftest import hot_corner_floorplan
    from thermal.app.simulate import solve

    fp = hot_corner_floorplan()
    stack = hotspot_package(floorplan=fp)
    parts = stack_physics(fp, stack, 65)
    solved = solve(fp, stack, mesh="power", tol=2e-3).face_solution(0).rise_on_grid(parts.physics.xs, parts.physics.ys)
    error = np.abs(parts.physics.rise - solved).max() / solved.max()
    cut_error = np.abs(parts.series.rise - solved).max() / solved.max()
    assert error < 0.03 and error < cut_error / 4, (error, cut_error)


def test_blocks_of_their_own_material_get_their_own_correction():
    fp = grid_floorplan(2, 2)
    stack = STACKS["two dies"]()
    bond = replace(fp, block_power=np.zeros(4), source_power=np.zeros(4))
    # A copper block under one quarter of the upper die, in the TIM between the dies.
    tim = replace(stack.layers[1], floorplan=bond, block_conductivity=np.array([400.0, np.nan, np.nan, np.nan]))
    with_copper = replace(stack, layers=(stack.layers[0], tim, *stack.layers[2:]))
    xs, ys = np.linspace(0, 4e-3, 9), np.linspace(0, 4e-3, 9)
    _, package, (materials, _) = package_correction(with_copper, fp, xs, ys)
    assert not any(p.any() for p in package)  # every layer on the die: no package correction
    # The copper cools the upper die, most over itself (block 0 is the lower-left quarter).
    assert materials.max() <= 1e-12 and materials[0, 0] < materials[-1, -1]


@pytest.mark.parametrize("name", ["hotspot", "two dies", "two faces"])
def test_the_separable_solve_of_a_cut_is_the_sparse_solve(name):
    """A stack with every layer on the die and no block materials is solved by cosine
    transform and tridiagonal elimination: the same discrete system as the sparse one."""
    from scipy.sparse.linalg import spsolve

    from thermal.physics.compact import _separable_solve

    stack = STACKS[name]()
    grid = compact_grid(stack, 10)
    matrix, load = compact_system(stack, grid)
    np.testing.assert_allclose(_separable_solve(stack, grid).ravel(), spsolve(matrix.tocsc(), load),
                               rtol=1e-9, atol=1e-12 * np.abs(load).sum())
