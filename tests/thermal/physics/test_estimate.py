"""The equation's curvature at the elements' own scale: noise averages out, jumps and strong
small units do not."""
import numpy as np
import pytest

from meshes.size_field import grid_over
from thermal.physics.estimate import equation_curvature, laplacian_bound, size_from_curvature
from thermal.geometry.floorplan import Floorplan, PowerMap
from thermal.geometry.lumped import LumpedDie
from thermal.geometry.raster import rasterize

MODEL = LumpedDie()
SIZE = 8e-3


def uniform_field(fp, points=65):
    """The grid, its cells, and the rise of a uniform density (the die's mean) on it."""
    xs, ys = grid_over(fp.die, points)
    cells = rasterize(fp, xs, ys)
    u = np.full((ys.size, xs.size), fp.total_power / (MODEL.htc * fp.width * fp.height))
    return cells, u


def map_floorplan(watts):
    return Floorplan.from_blocks(["die"], [0], [0], [SIZE], [SIZE], power_map=PowerMap(watts))


def test_cell_noise_averages_out():
    # 256 x 256 cells of +-50 % noise around 50 W/cm^2: inside every grid cell the density
    # ranges widely, but elements larger than a few map cells see its mean.
    rng = np.random.default_rng(0)
    q = 50e4 * rng.uniform(0.5, 1.5, (256, 256))
    fp = map_floorplan(q * (SIZE / 256) ** 2)
    cells, u = uniform_field(fp)
    tol = 1e-3 * u.max()
    extremes = size_from_curvature(laplacian_bound(u, cells.low, cells.high, MODEL), tol)
    h = size_from_curvature(equation_curvature(u, cells, MODEL, tol), tol)
    assert np.median(h) > 2.5 * np.median(extremes)


def test_a_block_edge_keeps_the_steeper_side():
    # A hot half and a cool half, the rise blurred over the thermal length (as the power method
    # estimates it): at the edge, elements see both sides, as an element inside the cell would.
    from thermal.exact.series import reflected_blurs

    watts = np.full((64, 64), 5e4 * (SIZE / 64) ** 2)
    watts[:, :32] *= 20.0
    fp = map_floorplan(watts)
    xs, ys = grid_over(fp.die, 65)
    cells = rasterize(fp, xs, ys)
    u = reflected_blurs(cells.mean, [MODEL.thermal_length / (xs[1] - xs[0])])[0] / MODEL.htc
    tol = 1e-3 * u.max()
    h = size_from_curvature(equation_curvature(u, cells, MODEL, tol), tol)
    inside_cell = size_from_curvature(laplacian_bound(u, cells.low, cells.high, MODEL), tol)
    edge = np.argmin(np.abs(xs - SIZE / 2))
    np.testing.assert_array_equal(h[:, edge], inside_cell[:, edge])
    assert np.all(h[:, edge - 1:edge + 2] < 1.01 * inside_cell[:, edge - 1:edge + 2])
    # Far from the edge, where the rise has settled to q / h on either side, it is coarse.
    assert h[:, [2, 62]].min() > 4 * h[:, edge].max()


@pytest.mark.parametrize("watts,resolved", [(2.0, True), (1e-5, False)])
def test_a_small_unit_is_resolved_only_if_it_matters(watts, resolved):
    # A 40 um unit inside one 125 um grid cell: 2 W (p / 8 k t = 1.7 K, far above tol) must be
    # resolved below the cell; 10 uW (an error no element can see) must not refine anything.
    names = ["unit", "left", "right", "below", "above"]
    c, a = 4e-3, 40e-6
    x = [c, 0, c + a, c, c]
    y = [c, 0, 0, 0, c + a]
    w = [a, c, SIZE - c - a, a, a]
    h = [a, SIZE, SIZE, c, SIZE - c - a]
    background = 3e4 * np.array(w[1:]) * np.array(h[1:])  # 3 W/cm^2 around the unit
    fp = Floorplan.from_blocks(names, x, y, w, h, [watts, *background])
    cells, u = uniform_field(fp)
    tol = 1e-3 * u.max()
    size = size_from_curvature(equation_curvature(u, cells, MODEL, tol), tol)
    j, i = np.argmin(np.abs(cells.ys - c - a / 2)), np.argmin(np.abs(cells.xs - c - a / 2))
    d = cells.xs[1] - cells.xs[0]
    unit = size_from_curvature(laplacian_bound(u[j, i], fp.source_density[0], fp.source_density[0],
                                               MODEL), tol)
    if resolved:
        assert size[j, i] == pytest.approx(unit, rel=1e-12) and size[j, i] < d
    else:
        assert size[j, i] > 4 * d
