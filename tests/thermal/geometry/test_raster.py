import numpy as np
import pytest

from meshes.size_field import grid_over
from thermal.geometry.floorplan import Floorplan, PowerMap
from thermal.geometry.raster import block_means, rasterize
from tests.conftest import gap_floorplan, grid_floorplan, hot_corner_floorplan


def _node_weights(n):
    return np.where((np.arange(n) == 0) | (np.arange(n) == n - 1), 0.5, 1.0)


def test_cells_conserve_power_and_see_subgrid_sources():
    fp = hot_corner_floorplan()
    xs, ys = grid_over(fp.die, 33)
    cells = rasterize(fp, xs, ys)
    area = np.outer(_node_weights(ys.size), _node_weights(xs.size)) * (xs[1] - xs[0]) * (ys[1] - ys[0])
    assert (cells.mean * area).sum() == pytest.approx(fp.total_power, rel=1e-12)
    # The 0.3 mm hot unit is smaller than a cell (0.31 mm) but its density shows at the corner.
    hot = fp.source_density[fp.names.index("hot")]
    assert cells.high[0, 0] == pytest.approx(hot) and cells.high[1, 1] == pytest.approx(hot)
    assert cells.low[1, 1] < hot  # the cell from 0.16 to 0.47 mm holds the unit's edge
    assert cells.strongest[0, 0] == pytest.approx(3.0)
    assert cells.strongest_side[0, 0] == pytest.approx(0.3e-3)
    assert cells.strongest[1, 1] == pytest.approx(20.0)  # the big background block touches it


def test_gaps_count_as_zero_density_and_extremes_bracket_the_mean():
    fp = gap_floorplan()
    xs, ys = grid_over(fp.die, 41)
    cells = rasterize(fp, xs, ys)
    assert np.all(cells.low <= cells.mean + 1e-9 * cells.high.max())
    assert np.all(cells.mean <= cells.high + 1e-9 * cells.high.max())
    # Some cells hold a gap between blocks (density 0) next to a powered block.
    assert np.any((cells.low == 0) & (cells.high > 0))
    X, Y = np.meshgrid(xs, ys)
    q = fp.density_at(X, Y)
    assert np.all((cells.low <= q) & (q <= cells.high))


def test_power_map_cells_match_brute_force_averages():
    rng = np.random.default_rng(3)
    watts = rng.uniform(0, 1, (40, 56))
    fp = Floorplan.from_blocks(["die"], [0], [0], [7e-3], [5e-3], power_map=PowerMap(watts))
    xs, ys = grid_over(fp.die, 13)
    cells = rasterize(fp, xs, ys)
    # Brute force: the density sampled finely over a few cells.
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    for j, i in [(0, 0), (3, 5), (len(ys) - 1, len(xs) - 1), (4, 12)]:
        x0, x1 = max(xs[i] - dx / 2, xs[0]), min(xs[i] + dx / 2, xs[-1])
        y0, y1 = max(ys[j] - dy / 2, ys[0]), min(ys[j] + dy / 2, ys[-1])
        sx = np.linspace(x0, x1, 801)[:-1] + (x1 - x0) / 1600
        sy = np.linspace(y0, y1, 801)[:-1] + (y1 - y0) / 1600
        q = fp.density_at(*np.meshgrid(sx, sy))
        assert cells.mean[j, i] == pytest.approx(q.mean(), rel=5e-3)
        assert cells.high[j, i] == pytest.approx(q.max(), rel=1e-12)
        assert cells.low[j, i] == pytest.approx(q.min(), rel=1e-12)


def test_a_map_read_through_its_grid_equals_its_cells_as_sources():
    # The separable path for power maps against the general one, on a snapped map (columns of
    # unequal width) with ties between equally strong cells.
    from thermal.geometry.raster import _rasterize_rects, _rasterize_map

    rng = np.random.default_rng(0)
    watts = rng.lognormal(0, 1, (37, 53))
    watts[3:5, 7:9] = 5.0
    watts[10, 10:12] = watts[10, 9]
    edge = 6e-3 * 26 / 53 + 0.5e-6  # half a micron off a map line: the line moves
    fp = Floorplan.from_blocks(["a", "b"], [0, edge], [0, 0], [edge, 6e-3 - edge],
                               [4e-3, 4e-3], power_map=PowerMap(watts))
    assert fp.snap.count > 0 and np.ptp(np.diff(fp.source_grid[0])) > 1e-7
    for points in (9, 33, 129):
        xs, ys = grid_over(fp.die, points)
        grid, bands = _rasterize_map(fp, xs, ys), _rasterize_rects(fp, xs, ys)
        np.testing.assert_allclose(grid.mean, bands.mean, rtol=1e-12)
        for name in ("low", "high", "strongest", "strongest_side"):
            np.testing.assert_array_equal(getattr(grid, name), getattr(bands, name))


def test_cells_whose_edges_lie_on_tile_edges_hold_only_their_own_tiles():
    # 8 x 8 tiles with edges k * w / 8 (rounded) and nodes every w / 4: each interior cell
    # spans exactly 2 x 2 tiles, its edges on tile edges up to rounding. No cell may see a gap
    # (low 0) or take a neighbouring tile's density as its extreme.
    w = 7e-3
    edges = np.arange(9) * (w / 8)
    X0, Y0 = np.meshgrid(edges[:-1], edges[:-1])
    X1, Y1 = np.meshgrid(edges[1:], edges[1:])
    power = np.random.default_rng(4).permutation(64) + 1.0
    fp = Floorplan.from_blocks([f"t{k}" for k in range(64)], X0.ravel(), Y0.ravel(),
                               (X1 - X0).ravel(), (Y1 - Y0).ravel(), power)
    cells = rasterize(fp, *grid_over(fp.die, 5))
    density = (power / (w / 8) ** 2).reshape(8, 8)  # [row j, column i]
    quads = density[1:7].reshape(3, 2, 8)[:, :, 1:7].reshape(3, 2, 3, 2)  # the interior cells' 2 x 2
    np.testing.assert_allclose(cells.high[1:4, 1:4], quads.max(axis=(1, 3)), rtol=1e-12)
    np.testing.assert_allclose(cells.low[1:4, 1:4], quads.min(axis=(1, 3)), rtol=1e-12)
    np.testing.assert_allclose(cells.mean[1:4, 1:4], quads.mean(axis=(1, 3)), rtol=1e-12)
    assert np.all(cells.low > 0)


def test_block_means_average_a_per_block_value_over_each_cell():
    # 2 x 2 blocks of 2 mm; nodes every 1 mm, so the middle node's cell straddles all four
    # blocks equally and every other cell lies in one block or straddles two.
    fp = grid_floorplan(2, 2)
    values = np.array([1.0, 2.0, 3.0, 4.0])  # lower left, lower right, upper left, upper right
    nodes = np.linspace(0, 4e-3, 5)
    means = block_means(fp, values, nodes, nodes)
    assert means[2, 2] == pytest.approx(2.5)
    assert means[0, 0] == pytest.approx(1.0) and means[4, 4] == pytest.approx(4.0)
    assert means[0, 2] == pytest.approx(1.5) and means[2, 0] == pytest.approx(2.0)
