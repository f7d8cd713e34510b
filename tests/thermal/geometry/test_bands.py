"""Bands: location, overlaps and exact integrals, against brute force and exact clipping."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thermal.geometry.bands as bands_module
from thermal.geometry.bands import BandField, Bands, first_overlap
from thermal.geometry.overlap import clip_triangles


def guillotine(rng, region, depth, out):
    """Rectangles tiling ``region`` by random guillotine cuts."""
    x0, y0, x1, y1 = region
    if depth == 0 or rng.random() < 0.15:
        out.append(region)
        return out
    u = rng.uniform(0.2, 0.8)
    if rng.random() < 0.5:
        c = x0 + (x1 - x0) * u
        guillotine(rng, (x0, y0, c, y1), depth - 1, out)
        guillotine(rng, (c, y0, x1, y1), depth - 1, out)
    else:
        c = y0 + (y1 - y0) * u
        guillotine(rng, (x0, y0, x1, c), depth - 1, out)
        guillotine(rng, (x0, c, x1, y1), depth - 1, out)
    return out


def random_layout(seed, gaps=0.2, origin=(5e-3, -2e-3), size=(3e-3, 2e-3)):
    """Rectangles of a random guillotine floorplan with some removed (gaps), offset die."""
    rng = np.random.default_rng(seed)
    die = (origin[0], origin[1], origin[0] + size[0], origin[1] + size[1])
    rects = np.array(guillotine(rng, die, 7, []))
    keep = rng.random(len(rects)) > gaps
    keep[0] = keep[-1] = True
    return rects[keep], die, rng


def brute_locate(rects, x, y):
    out = np.full(x.size, -1)
    for i, (x0, y0, x1, y1) in enumerate(rects):
        out[(x >= x0) & (x < x1) & (y >= y0) & (y < y1)] = i
    return out


@pytest.fixture(params=["table", "keys"])
def lookup(request, monkeypatch):
    """Run each test with the dense lookup table and with the sorted-key search."""
    if request.param == "keys":
        monkeypatch.setattr(bands_module, "MAX_TABLE", 0)
    return request.param


@pytest.mark.parametrize("seed", range(4))
def test_locate_matches_brute_force(seed, lookup):
    rects, die, rng = random_layout(seed)
    b = Bands.from_rects(*rects.T, die)
    assert (b._lookup[1] is None) == (lookup == "keys")
    x = rng.uniform(die[0], die[2], 20000)
    y = rng.uniform(die[1], die[3], 20000)
    # Points on edges too: the corners of every rectangle.
    x = np.concatenate([x, rects[:, 0], rects[:, 2]])
    y = np.concatenate([y, rects[:, 1], rects[:, 3]])
    expected = brute_locate(rects, x, y)
    # Points on the die's right/top edge belong to the last rectangles.
    got = b.locate(x, y)
    inner = (x < die[2]) & (y < die[3])
    np.testing.assert_array_equal(got[inner], expected[inner])
    assert b.locate(np.array([die[0] - 1e-9, die[2] + 1e-9]), np.array([die[1], die[3]])).tolist() == [-1, -1]


@pytest.mark.parametrize("seed", range(3))
def test_segments_partition_every_band(seed):
    rects, die, _ = random_layout(seed)
    b = Bands.from_rects(*rects.T, die)
    width = die[2] - die[0]
    for j in range(b.ys.size - 1):
        s = slice(b.start[j], b.start[j + 1])
        assert b.x0[s][0] == 0 and b.x1[s][-1] == pytest.approx(width, rel=1e-15)
        np.testing.assert_array_equal(b.x0[s][1:], b.x1[s][:-1])
        assert np.all(b.x1[s] > b.x0[s])


def test_from_grid_equals_from_rects_of_its_cells():
    xs, ys = np.linspace(1.0, 4.0, 7), np.linspace(-1.0, 1.0, 5)
    g = Bands.from_grid(xs, ys)
    col, row = np.tile(np.arange(6), 4), np.repeat(np.arange(4), 6)
    r = Bands.from_rects(xs[col], ys[row], xs[col + 1], ys[row + 1], g.die)
    for name in ("ys", "start", "x0", "x1", "band", "owner"):
        np.testing.assert_array_equal(getattr(g, name), getattr(r, name))


def test_first_overlap_finds_the_pair_and_ignores_touching():
    x0, y0 = np.array([0.0, 2.0, 2.5, 5.0]), np.array([0.0, 0.0, 0.5, 0.0])
    w = np.array([1.0, 1.0, 1.0, 1.0])
    assert first_overlap(x0, y0, x0 + w, y0 + w, 1e-9) == (1, 2, 0.5, 0.5)
    # Touching along an edge or at a corner, or overlapping by less than eps, is no overlap.
    x0 = np.array([0.0, 1.0, 2.0, 3.0 - 1e-12])
    y0 = np.array([0.0, 0.0, 1.0, 1.0])
    assert first_overlap(x0, y0, x0 + 1, y0 + 1, 1e-9) is None


def test_first_overlap_sees_a_rectangle_inside_another_behind_a_thin_one():
    # The running maximum of right edges, not the neighbour, decides: c lies inside a even
    # though the thin b starts between them.
    x0 = np.array([0.0, 0.1, 0.5])
    x1 = np.array([2.0, 0.1 + 1e-12, 1.0])
    y0, y1 = np.zeros(3), np.ones(3)
    i, j, ox, oy = first_overlap(x0, y0, x1, y1, 1e-9)
    assert (i, j) == (0, 2) and ox == pytest.approx(0.5) and oy == pytest.approx(1.0)


def random_triangles(rng, die, n):
    """Triangles of every size inside the die: die-sized, element-sized, thin."""
    w, h = die[2] - die[0], die[3] - die[1]
    c = rng.uniform([die[0], die[1]], [die[2], die[3]], (n, 2))
    scale = np.exp(rng.uniform(np.log(1e-3), np.log(1.0), n)) * max(w, h)
    p = c[:, None, :] + scale[:, None, None] * rng.uniform(-0.5, 0.5, (n, 3, 2))
    p[..., 0] = np.clip(p[..., 0], die[0], die[2])
    p[..., 1] = np.clip(p[..., 1], die[1], die[3])
    # Some vertices exactly on rectangle edges and corners (the hard cases for location).
    return p.transpose(2, 1, 0).reshape(2, -1), np.arange(3 * n).reshape(n, 3).T


def clipped_truth(rects, values, p, t):
    """Power and first moments about each triangle's first vertex, and the density range,
    by exact clipping of every (triangle, rectangle) pair."""
    n, m = t.shape[1], len(rects)
    tri = np.repeat(np.arange(n), m)
    rect = np.tile(np.arange(m), n)
    px, py = p[0][t[:, tri]], p[1][t[:, tri]]
    pieces = clip_triangles(px, py, *rects[rect].T)
    area, mx, my = pieces.moments()
    v = values[rect]
    out = np.stack([np.bincount(tri, v * area, minlength=n),
                    np.bincount(tri, v * (mx - area * px[0]), minlength=n),
                    np.bincount(tri, v * (my - area * py[0]), minlength=n)])
    lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
    hit = pieces.count > 0
    np.minimum.at(lo, tri[hit], v[hit])
    np.maximum.at(hi, tri[hit], v[hit])
    tri_area = 0.5 * np.abs((p[0][t[1]] - p[0][t[0]]) * (p[1][t[2]] - p[1][t[0]])
                            - (p[0][t[2]] - p[0][t[0]]) * (p[1][t[1]] - p[1][t[0]]))
    covered = np.bincount(tri, area, minlength=n)
    gap = covered < tri_area * (1 - 1e-9)  # part of the triangle lies in a gap (value 0)
    lo[gap], hi[gap] = np.minimum(lo[gap], 0.0), np.maximum(hi[gap], 0.0)
    return out, lo, hi


@pytest.mark.parametrize("seed", range(3))
def test_triangle_moments_and_ranges_are_exact(seed, lookup):
    rects, die, rng = random_layout(seed)
    values = rng.uniform(0.5, 5.0, len(rects))
    field = BandField.of(Bands.from_rects(*rects.T, die), values)
    p, t = random_triangles(rng, die, 300)
    # Triangles with two vertices on rectangle corners (the hard cases for location).
    m = min(40, len(rects))
    p = np.concatenate([p, rects[:m, :2].T, rects[:m, 2:].T], axis=1)
    t = np.concatenate([t, np.stack([900 + np.arange(m), 900 + m + np.arange(m),
                                     rng.integers(0, 900, m)])], axis=1)
    got = field.triangle_moments(p, t)
    truth, lo, hi = clipped_truth(rects, values, p, t)
    scale = np.abs(truth).max(axis=1, keepdims=True)
    assert np.abs(got - truth).max() <= 1e-12 * scale.max()
    np.testing.assert_allclose(got, truth, rtol=1e-9, atol=1e-12 * scale.max())
    glo, ghi = field.triangle_ranges(p, t)
    np.testing.assert_array_equal(glo, lo)
    np.testing.assert_array_equal(ghi, hi)


def test_moments_do_not_depend_on_orientation():
    rects, die, rng = random_layout(5)
    field = BandField.of(Bands.from_rects(*rects.T, die), rng.uniform(0, 1, len(rects)))
    p, t = random_triangles(rng, die, 200)
    a, b = field.triangle_moments(p, t), field.triangle_moments(p, t[[0, 2, 1]])
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15 * np.abs(a).max())


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 40), st.integers(2, 40), st.integers(1, 60), st.integers(0, 2 ** 32 - 1))
def test_a_mesh_carries_the_total_exactly(nx, ny, res, seed):
    """Over any triangulation of the die the integrals add up to the field's integral."""
    from meshes.uniform import init_tensor

    rng = np.random.default_rng(seed)
    xs = np.concatenate([[0.0], np.sort(rng.uniform(0, 1, nx - 1)), [1.0]]) * 7e-3
    ys = np.concatenate([[0.0], np.sort(rng.uniform(0, 1, ny - 1)), [1.0]]) * 3e-3
    xs, ys = np.unique(xs), np.unique(ys)
    bands = Bands.from_grid(xs, ys)
    values = rng.uniform(0, 1e6, bands.x0.size)
    field = BandField(bands, values)
    mesh = init_tensor(np.linspace(0, 7e-3, res + 1), np.linspace(0, 3e-3, max(1, res // 2) + 1))
    total = (values * (bands.x1 - bands.x0) * np.diff(bands.ys)[bands.band]).sum()
    assert field.triangle_moments(mesh.p, mesh.t)[0].sum() == pytest.approx(total, rel=1e-12)

