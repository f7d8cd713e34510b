import numpy as np
import pytest

from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan, PowerMap, RectLocator, Rects
from tests.conftest import gap_floorplan, grid_floorplan


def test_snapping_merges_close_edges_and_keeps_power():
    # b's left edge is 1 um right of a's right edge on a 20 mm die: merged, power kept exactly.
    fp = Floorplan.from_blocks(["a", "b"], [0, 10.001e-3], [0, 0], [10e-3, 10e-3], [1e-3, 1e-3],
                               [1.0, 2.0])
    assert fp.snap.count == 2  # 10.000 and 10.001 mm both move to their mean
    assert fp.blocks.x1[0] == fp.blocks.x0[1]
    assert fp.snap.max_shift == pytest.approx(0.5e-6)
    np.testing.assert_array_equal(fp.source_power, [1.0, 2.0])
    np.testing.assert_allclose(fp.source_density * fp.sources.area, [1.0, 2.0], rtol=1e-14)
    assert fp.die == (0.0, 0.0, fp.blocks.x1[1], 1e-3)


def test_snapping_keeps_die_edges():
    fp = Floorplan.from_blocks(["a", "b"], [0, 0.4e-6], [0, 1e-3], [10e-3, 10e-3], [1e-3, 1e-3],
                               [1.0, 1.0])
    assert fp.blocks.x0[1] == 0.0
    assert fp.width == pytest.approx(10e-3 + 0.4e-6)


def test_no_snap_keeps_coordinates():
    fp = Floorplan.from_blocks(["a", "b"], [0, 10.001e-3], [0, 0], [10e-3, 10e-3], [1e-3, 1e-3],
                               [1.0, 2.0], snap=False)
    assert fp.snap.count == 0 and fp.blocks.x0[1] == 10.001e-3


def test_ev6_snapping(ev6):
    assert 0 < ev6.snap.count <= 20
    assert ev6.snap.max_shift <= 1e-6
    assert ev6.total_power == pytest.approx(40.21, abs=0.01)


@pytest.mark.parametrize("x,w,problem", [
    ([0, 0.5e-3], [1e-3, 1e-3], "overlap"),
    ([0, 2e-3], [1e-3, -1e-3], "non-positive width"),
    ([0, 2e-3], [1e-3, np.nan], "non-finite width"),
])
def test_invalid_geometry(x, w, problem):
    with pytest.raises(InputError, match=problem):
        Floorplan.from_blocks(["a", "b"], x, [0, 0], w, [1e-3, 1e-3], [1, 1], source="f.flp", lines=[3, 4])


def test_overlap_message_names_blocks_and_line():
    with pytest.raises(InputError) as exc:
        Floorplan.from_blocks(["a", "b", "c"], [0, 2e-3, 2.5e-3], [0, 0, 0.5e-3], [1e-3] * 3, [1e-3] * 3,
                              [1, 1, 1], source="f.flp", lines=[3, 4, 7])
    assert str(exc.value) == "f.flp:7: blocks 'b' and 'c' overlap (0.0005 m x 0.0005 m)"


def test_touching_blocks_do_not_overlap():
    grid_floorplan(7, 5)


@pytest.mark.parametrize("power,problem", [([1, -1], "negative"), ([1, np.inf], "not finite"),
                                           ([0, 0], "total power is zero")])
def test_invalid_power(power, problem):
    with pytest.raises(InputError, match=problem):
        Floorplan.from_blocks(["a", "b"], [0, 1e-3], [0, 0], [1e-3] * 2, [1e-3] * 2, power)


def test_duplicate_names():
    with pytest.raises(InputError, match="duplicate block name 'a'"):
        Floorplan.from_blocks(["a", "a"], [0, 1e-3], [0, 0], [1e-3] * 2, [1e-3] * 2, [1, 1])


def test_rect_locator_matches_brute_force():
    fp = gap_floorplan()
    rng = np.random.default_rng(1)
    x = rng.uniform(fp.die[0], fp.die[2], 5000)
    y = rng.uniform(fp.die[1], fp.die[3], 5000)
    b = fp.blocks
    inside = (x[:, None] > b.x0) & (x[:, None] < b.x1) & (y[:, None] > b.y0) & (y[:, None] < b.y1)
    expected = np.where(inside.any(1), inside.argmax(1), -1)
    np.testing.assert_array_equal(fp.block_at(x, y), expected)
    assert fp.block_at(np.array([10.0]), np.array([10.0]))[0] == -1


def test_density_is_zero_in_gaps():
    fp = gap_floorplan()
    assert fp.density_at(np.array([2.6e-3]), np.array([2.5e-3]))[0] == 0.0  # between a and b
    assert fp.density_at(np.array([1.1e-3]), np.array([2.1e-3]))[0] == pytest.approx(4.0 / 3e-6)


def test_power_map_block_power_is_exact():
    # 3x4 map over a die split into two blocks at x = 1/3 of the width (not on a cell edge).
    watts = np.arange(12, dtype=float).reshape(3, 4)
    fp = Floorplan.from_blocks(["left", "right"], [0, 1e-3], [0, 0], [1e-3, 2e-3], [3e-3, 3e-3],
                               power_map=PowerMap(watts))
    # Columns are 0.75 mm wide: the left block holds column 0 and a third of column 1.
    expected_left = watts[:, 0].sum() + watts[:, 1].sum() / 3
    np.testing.assert_allclose(fp.block_power, [expected_left, watts.sum() - expected_left], rtol=1e-12)
    assert fp.total_power == watts.sum()
    # Row 0 is the top of the die.
    top_left = fp.density_at(np.array([0.1e-3]), np.array([2.9e-3]))[0]
    assert top_left * (0.75e-3 * 1e-3) == pytest.approx(watts[0, 0])


def test_rects_mapped_and_area():
    r = Rects([0, 1], [0, 0], [1, 3], [2, 1])
    np.testing.assert_array_equal(r.area, [2, 2])
    assert len(RectLocator(r).xs) == 3


def tiles(k: int, t: float = 10e-6, seed: int = 0):
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(k), np.arange(k))
    i, j = i.ravel(), j.ravel()
    return [f"t{a}" for a in range(k * k)], i * t, j * t, np.full(k * k, t), rng.uniform(0, 1e-3, k * k)


def test_large_tile_floorplan_is_validated_and_located():
    # 40,000 tiles: the tensor of their coordinates has 40,000 cells too, but the check must
    # not compare tiles pairwise and the locator must not grow with the coordinate grid.
    names, x, y, w, p = tiles(200)
    fp = Floorplan.from_blocks(names, x, y, w, w, p)
    rng = np.random.default_rng(1)
    px, py = rng.uniform(0, 2e-3, 10_000), rng.uniform(0, 2e-3, 10_000)
    expected = np.floor(py / 10e-6).astype(int) * 200 + np.floor(px / 10e-6).astype(int)
    np.testing.assert_array_equal(fp.block_at(px, py), expected)
    # One tile moved by half a tile onto its neighbour: found, named, with its line.
    x2 = x.copy()
    x2[20_101] += 5e-6
    with pytest.raises(InputError) as exc:
        Floorplan.from_blocks(names, x2, y, w, w, p, source="t.flp", lines=list(range(1, 40_001)))
    assert str(exc.value) == "t.flp:20103: blocks 't20101' and 't20102' overlap (5e-06 m x 1e-05 m)"


def test_domain_says_what_meshes_follow():
    fp = gap_floorplan()
    assert len(fp.domain().edges) == 0 and len(fp.interfaces) == 0
    assert fp.domain().die == fp.die
    assert fp.domain(conform=True).edges is fp.edges


def test_power_moments_are_exact_on_a_mesh_that_cuts_the_map():
    from meshes.uniform import init_tensor
    from thermal.geometry.overlap import clip_triangles

    # A snapped map (one block edge 0.2 um off a cell line) and a mesh at odd offsets.
    watts = np.random.default_rng(2).uniform(0, 1, (7, 11))
    fp = Floorplan.from_blocks(["l", "r"], [0, 1.0002e-3], [0, 0], [1.0002e-3, 1.1998e-3],
                               [1.4e-3, 1.4e-3], power_map=PowerMap(watts))
    assert fp.snap.count > 0 and fp.source_grid is not None
    mesh = init_tensor(np.linspace(0, 2.2e-3, 8), np.linspace(0, 1.4e-3, 6))
    load = fp.power_moments(mesh.p, mesh.t)
    s = fp.sources
    n, m = mesh.t.shape[1], len(s)
    tri, cell = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    pieces = clip_triangles(mesh.p[0][mesh.t[:, tri]], mesh.p[1][mesh.t[:, tri]],
                            s.x0[cell], s.y0[cell], s.x1[cell], s.y1[cell])
    power = np.bincount(tri, pieces.area() * fp.source_density[cell], minlength=n)
    np.testing.assert_allclose(load[0], power, rtol=1e-12)
    assert load[0].sum() == pytest.approx(fp.total_power, rel=1e-13)
    lo, hi = fp.density_ranges(mesh.p, mesh.t)
    assert np.all(lo < hi)  # every element of this mesh holds several cells
