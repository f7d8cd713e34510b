"""Triangle-rectangle intersections against references that share no code with the module.

References:

* exact rational arithmetic: the same clipping done one pair at a time with
  :class:`fractions.Fraction` on the float inputs (the exact intersection of the triangle and
  rectangle the floats describe), with exact areas, moments, vertex values;
* sampling: the fraction of a fine grid of the rectangle inside the triangle (area), the
  largest and smallest sampled value of the linear function (extremes);
* invariants: pieces of one triangle cut by rectangles tiling the plane around it add up to the
  triangle (area, first moments, integrals of linear functions).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thermal.geometry.overlap as ov
from thermal.geometry.overlap import CAPACITY, Polygons, clip_triangles, linear_extremes, linear_integrals

EPS = np.finfo(float).eps


# ---------------------------------------------------------------------- exact reference
def exact_clip(tx, ty, rect) -> list[tuple[Fraction, Fraction]]:
    """Triangle (3 floats each) clipped to ``rect`` = (x0, y0, x1, y1), exactly, CCW."""
    pts = [(Fraction(x), Fraction(y)) for x, y in zip(tx, ty)]
    if _cross2(pts[0], pts[1], pts[2]) < 0:
        pts = [pts[0], pts[2], pts[1]]
    x0, y0, x1, y1 = map(Fraction, rect)
    for axis, bound, sign in ((0, x0, 1), (0, x1, -1), (1, y0, 1), (1, y1, -1)):
        pts = exact_half_plane(pts, axis, bound, sign)
    return pts


def exact_half_plane(pts, axis, bound, sign):
    """Sutherland-Hodgman against ``sign * (p[axis] - bound) >= 0`` (any polygon)."""
    out = []
    for a, b in zip(pts, pts[1:] + pts[:1]):
        sa, sb = sign * (a[axis] - bound), sign * (b[axis] - bound)
        if sa >= 0:
            out.append(a)
        if sa * sb < 0:
            t = sa / (sa - sb)
            out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
    return out


def _cross2(a, b, c):
    return (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])


def exact_moments(pts):
    """Area, integral of x, integral of y (Fractions) of a polygon (shoelace)."""
    a = mx = my = Fraction(0)
    for p, q in zip(pts, pts[1:] + pts[:1]):
        c = p[0] * q[1] - q[0] * p[1]
        a += c
        mx += (p[0] + q[0]) * c
        my += (p[1] + q[1]) * c
    return a / 2, mx / 6, my / 6


def exact_values(tx, ty, values, pts):
    """The linear function with ``values`` at the triangle's vertices, at points ``pts``."""
    t = [(Fraction(x), Fraction(y)) for x, y in zip(tx, ty)]
    v = [Fraction(f) for f in values]
    d = _cross2(t[0], t[1], t[2])
    out = []
    for p in pts:
        l1 = _cross2(t[0], p, t[2]) / d
        l2 = _cross2(t[0], t[1], p) / d
        out.append(v[0] + l1 * (v[1] - v[0]) + l2 * (v[2] - v[0]))
    return out


def triangle_area(tx, ty) -> float:
    t = [(Fraction(x), Fraction(y)) for x, y in zip(tx, ty)]
    return float(abs(_cross2(*t)) / 2)


# ---------------------------------------------------------------------- generated pairs
GRID = st.integers(-4, 8).map(lambda k: k / 4)            # coincidences: shared edges, vertices
# Floorplan-like magnitudes: no coordinates of 1e-300 next to ones of 1 (the triangles they
# make can be thinner than eps times their length, which no double computation resolves).
FREE = st.floats(-1.0, 3.0).map(lambda x: x if abs(x) > 1e-9 else 0.0)
UNIT = st.one_of(GRID, FREE)
WEIGHT = st.floats(0.0, 1.0)


@st.composite
def pair(draw):
    """One (triangle, rectangle) in unit coordinates: (tx, ty, x0, y0, x1, y1)."""
    kind = draw(st.sampled_from(["any", "any", "any", "small_rect", "small_tri", "thin"]))
    tx = np.array([draw(UNIT) for _ in range(3)])
    ty = np.array([draw(UNIT) for _ in range(3)])
    if kind == "thin":  # nearly collinear, any direction
        along, width = draw(WEIGHT), draw(st.sampled_from([1e-3, 1e-6, 1e-9, 1e-12]))
        tx[2] = tx[0] + along * (tx[1] - tx[0]) - width * (ty[1] - ty[0])
        ty[2] = ty[0] + along * (ty[1] - ty[0]) + width * (tx[1] - tx[0])
    if kind == "small_rect":  # centred at a point of the triangle (or near it)
        w = np.array([draw(WEIGHT) for _ in range(3)]) + 1e-3
        cx, cy = w @ tx / w.sum(), w @ ty / w.sum()
        size = draw(st.sampled_from([1e-2, 1e-4, 1e-7]))
        hw, hh = size * draw(st.floats(0.2, 1.0)), size * draw(st.floats(0.2, 1.0))
        return tx, ty, cx - hw, cy - hh, cx + hw, cy + hh
    x0, x1 = sorted([draw(UNIT), draw(UNIT)])
    y0, y1 = sorted([draw(UNIT), draw(UNIT)])
    if kind == "small_tri":  # shrunk towards a point of the rectangle
        size = draw(st.sampled_from([1e-2, 1e-4, 1e-7]))
        cx = x0 + draw(WEIGHT) * (x1 - x0)
        cy = y0 + draw(WEIGHT) * (y1 - y0)
        tx, ty = cx + size * (tx - tx[0]), cy + size * (ty - ty[0])
    return tx, ty, x0, y0, x1, y1


@st.composite
def batches(draw, max_pairs=12):
    """Pairs in metres: ``offset + scale * unit`` (same expression, so coincidences survive)."""
    offset = draw(st.sampled_from([0.0, 3e-2, -1.7e-2]))
    scale = draw(st.sampled_from([1.0, 1e-3, 1e-6]))
    pairs = draw(st.lists(pair(), min_size=1, max_size=max_pairs))
    px = np.array([p[0] for p in pairs]).T * scale + offset
    py = np.array([p[1] for p in pairs]).T * scale + offset
    rect = np.array([p[2:] for p in pairs]).T * scale + offset
    values = np.array(draw(st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3)))
    return px, py, rect, 300.0 + values[:, None] * np.linspace(1, 2, len(pairs))


def compare_with_exact(px, py, rect, values):
    """Everything the module computes, pair by pair against exact arithmetic."""
    pol = clip_triangles(px, py, *rect)
    area, mx, my = pol.moments()
    cx, cy = pol.centroid()
    lo, hi = linear_extremes(pol, values)
    integral = linear_integrals(pol, values)
    np.testing.assert_array_equal(pol.area(), area)
    for i in range(px.shape[1]):
        tri_area = triangle_area(px[:, i], py[:, i])
        size = max(np.ptp(px[:, i]), np.ptp(py[:, i]))
        pts = exact_clip(px[:, i], py[:, i], rect[:, i])
        ea, emx, emy = exact_moments(pts) if len(pts) >= 3 else (Fraction(0),) * 3
        tol_area = 1e-12 * tri_area
        assert abs(area[i] - float(ea)) <= tol_area, (i, area[i], float(ea), tri_area)
        if pol.count[i] == 0:
            assert area[i] == 0 and integral[i] == 0 and np.isnan([cx[i], hi[i], lo[i]]).all()
            continue
        # Never a polygon where the exact intersection has no area.
        assert ea > 0, (i, area[i])
        assert 3 <= pol.count[i] <= CAPACITY
        # Inside the rectangle (exactly, in the pair's frame), counter-clockwise.
        k = pol.count[i]
        dx, dy = pol.dx[i, :k], pol.dy[i, :k]
        assert (dx >= rect[0, i] - pol.ox[i]).all() and (dx <= rect[2, i] - pol.ox[i]).all()
        assert (dy >= rect[1, i] - pol.oy[i]).all() and (dy <= rect[3, i] - pol.oy[i]).all()
        shoelace = 0.5 * np.sum(dx * np.roll(dy, -1) - np.roll(dx, -1) * dy)
        assert shoelace > -8 * EPS * size**2
        # Unused slots repeat the first vertex.
        assert (pol.dx[i, k:] == dx[0]).all() and (pol.dy[i, k:] == dy[0]).all()
        # Centroid: error weighted by the area, on the triangle's scale; tight for big pieces.
        ecx, ecy = emx / ea, emy / ea
        for c, ec in ((cx[i], ecx), (cy[i], ecy)):
            assert float(ea) * abs(c - float(ec)) <= (1e-11 * tri_area * size
                                                       + 4 * EPS * float(ea) * abs(float(ec)))
            if ea > 1e-3 * Fraction(tri_area):
                assert abs(c - float(ec)) <= 1e-9 * size + 4 * EPS * abs(float(ec))
        if ea > 1e-3 * Fraction(tri_area):
            assert area[i] == pytest.approx(float(ea), rel=1e-9)
        # Moments: the area's error times the position, plus the centroid's times the area.
        for m, em, ec in ((mx[i], emx, ecx), (my[i], emy, ecy)):
            assert abs(m - float(em)) <= (tol_area * abs(float(ec)) + 1e-11 * tri_area * size
                                          + 8 * EPS * abs(float(em)))
        # Linear function: extremes at the exact vertices, integral = area * centroid value.
        ev = exact_values(px[:, i], py[:, i], values[:, i], pts)
        vscale = np.abs(values[:, i]).max()
        assert hi[i] == pytest.approx(float(max(ev)), abs=1e-12 * vscale)
        assert lo[i] == pytest.approx(float(min(ev)), abs=1e-12 * vscale)
        [ec] = exact_values(px[:, i], py[:, i], values[:, i], [(ecx, ecy)])
        assert abs(integral[i] - float(ea * ec)) <= 1e-12 * tri_area * vscale
    return pol


@settings(derandomize=True, max_examples=60, deadline=None)
@given(batches())
def test_generated_pairs_match_exact_arithmetic(batch):
    compare_with_exact(*batch)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(batches(max_pairs=4))
def test_orientation_does_not_matter(batch):
    px, py, rect, values = batch
    ref = clip_triangles(px, py, *rect)
    # Clockwise (last two vertices swapped): the same polygons, bit for bit.
    cw = [0, 2, 1]
    pol = clip_triangles(px[cw], py[cw], *rect)
    for name in ("dx", "dy", "fan", "count", "ox", "oy"):
        np.testing.assert_array_equal(getattr(pol, name), getattr(ref, name))
    np.testing.assert_array_equal(pol.bary[cw], ref.bary)
    np.testing.assert_allclose(linear_integrals(pol, values[cw]), linear_integrals(ref, values),
                               rtol=1e-15)
    np.testing.assert_allclose(linear_extremes(pol, values[cw]), linear_extremes(ref, values),
                               rtol=1e-15)
    # Rotated (another first vertex, so maybe another origin): equal up to rounding.
    rot = [1, 2, 0]
    pol = clip_triangles(px[rot], py[rot], *rect)
    tri_area = np.array([triangle_area(px[:, i], py[:, i]) for i in range(px.shape[1])])
    np.testing.assert_allclose(pol.area(), ref.area(), rtol=0, atol=1e-12 * tri_area.max())
    scale = np.abs(values).max()
    np.testing.assert_allclose(linear_integrals(pol, values[rot]), linear_integrals(ref, values),
                               rtol=0, atol=1e-12 * tri_area.max() * scale)
    both = (pol.count > 0) & (ref.count > 0)
    for a, b in zip(linear_extremes(pol, values[rot]), linear_extremes(ref, values)):
        np.testing.assert_allclose(a[both], b[both], rtol=0, atol=1e-12 * scale)


# ---------------------------------------------------------------------- tiling invariant
@st.composite
def tiled_triangle(draw):
    """A triangle and a grid of cuts covering its bounding box (cuts through its vertices
    sometimes, and beyond it), in metres."""
    tx, ty, *_ = draw(pair())
    offset = draw(st.sampled_from([0.0, 3e-2]))
    scale = draw(st.sampled_from([1.0, 1e-3, 1e-6]))
    cuts = []
    for t in (tx, ty):
        inner = draw(st.lists(st.floats(0.0, 1.0), max_size=5))
        c = [t.min() + f * np.ptp(t) for f in inner] + draw(st.lists(st.sampled_from(list(t)),
                                                                  max_size=2))
        c += [t.min() - 0.5 * np.ptp(t) - 1, t.max() + draw(st.floats(0.0, 1.0)) + 1e-9]
        cuts.append(np.unique(np.array(c) * scale + offset))
    return tx * scale + offset, ty * scale + offset, cuts[0], cuts[1]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(tiled_triangle(), st.lists(st.floats(-3.0, 3.0), min_size=3, max_size=3))
def test_pieces_of_a_tiling_add_up_to_the_triangle(tiling, values):
    tx, ty, xc, yc = tiling
    i, j = np.meshgrid(np.arange(xc.size - 1), np.arange(yc.size - 1))
    i, j = i.ravel(), j.ravel()
    n = i.size
    pol = clip_triangles(np.repeat(tx[:, None], n, 1), np.repeat(ty[:, None], n, 1),
                         xc[i], yc[j], xc[i + 1], yc[j + 1])
    area, mx, my = pol.moments()
    t = [(Fraction(x), Fraction(y)) for x, y in zip(tx, ty)]
    exact = abs(_cross2(*t)) / 2
    size = max(np.ptp(tx), np.ptp(ty))
    assert abs(area.sum() - float(exact)) <= 1e-12 * float(exact)
    for m, c in ((mx, tx), (my, ty)):
        em = exact * sum(map(Fraction, c)) / 3
        assert abs(m.sum() - float(em)) <= 1e-12 * float(exact) * size + 16 * EPS * abs(float(em))
    v = np.array(values) + 1.0
    integral = linear_integrals(pol, np.repeat(v[:, None], n, 1)).sum()
    ei = exact * sum(map(Fraction, v)) / 3
    assert abs(integral - float(ei)) <= 1e-12 * float(exact) * np.abs(v).max()
    # The pieces' extremes are the triangle's (the tiling covers it).
    lo, hi = linear_extremes(pol, np.repeat(v[:, None], n, 1))
    if exact > 0:
        assert np.nanmax(hi) == pytest.approx(v.max(), abs=1e-14 * np.abs(v).max())
        assert np.nanmin(lo) == pytest.approx(v.min(), abs=1e-14 * np.abs(v).max())


# ---------------------------------------------------------------------- sampling
@settings(derandomize=True, max_examples=30, deadline=None)
@given(batches(max_pairs=3))
def test_area_and_extremes_against_grid_sampling(batch):
    px, py, rect, values = batch
    pol = clip_triangles(px, py, *rect)
    lo, hi = linear_extremes(pol, values)
    area = pol.area()
    ns = 300
    for i in range(px.shape[1]):
        x0, y0, x1, y1 = rect[:, i]
        if not (x1 > x0 and y1 > y0):
            continue
        # Cell midpoints of an ns x ns grid over the rectangle, barycentric in the triangle.
        hx, hy = (x1 - x0) / ns, (y1 - y0) / ns
        gx, gy = np.meshgrid(x0 + hx * (np.arange(ns) + 0.5), y0 + hy * (np.arange(ns) + 0.5))
        ax, ay = px[:, i] - px[0, i], py[:, i] - py[0, i]
        d = ax[1] * ay[2] - ax[2] * ay[1]
        if d == 0:
            assert pol.count[i] == 0
            continue
        qx, qy = gx - px[0, i], gy - py[0, i]
        l1 = (qx * ay[2] - ax[2] * qy) / d
        l2 = (ax[1] * qy - qx * ay[1]) / d
        inside = (l1 >= 0) & (l2 >= 0) & (l1 + l2 <= 1)
        # Area: midpoint counting is off by at most the cells the boundary crosses.
        perimeter = 2 * (x1 - x0 + y1 - y0) + np.hypot(np.diff(px[:, i], append=px[0, i]),
                                                        np.diff(py[:, i], append=py[0, i])).sum()
        assert abs(area[i] - inside.sum() * hx * hy) <= 2 * perimeter * np.hypot(hx, hy)
        if not inside.any():
            continue
        f = values[0, i] + l1 * (values[1, i] - values[0, i]) + l2 * (values[2, i] - values[0, i])
        fin = f[inside]
        assert pol.count[i] > 0
        tol = 1e-12 * np.abs(values[:, i]).max()
        assert hi[i] >= fin.max() - tol and lo[i] <= fin.min() + tol
        # Up to sampling: the grid comes within a few cells of the extreme vertex when the
        # piece is not much thinner than a cell.
        if area[i] > 0.2 * (x1 - x0) * (y1 - y0):
            dv = values[:, i] - values[0, i]
            grad = (abs(dv[1]) * np.hypot(ax[2], ay[2]) + abs(dv[2]) * np.hypot(ax[1], ay[1]))
            reach = 40 * np.hypot(hx, hy) * grad / abs(d) + tol
            assert hi[i] - fin.max() <= reach and fin.min() - lo[i] <= reach


# ---------------------------------------------------------------------- a mesh over blocks
def test_nonconforming_mesh_over_blocks():
    """The intended use: a Delaunay mesh that ignores a floorplan's block edges, a P1 field
    that is linear overall, block areas, means and maxima from the pieces."""
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(3)
    ox, size = 3e-2, 4e-3                                   # offset die, metres
    pts = np.vstack([rng.uniform(0, size, (300, 2)),
                     [[0, 0], [size, 0], [0, size], [size, size]]]) + ox
    tri = Delaunay(pts).simplices.T                         # (3, ntri)
    xc = ox + np.array([0, 0.7e-3, 1.3e-3, 2.9e-3, size])   # block edges, not mesh edges
    yc = ox + np.array([0, 1.1e-3, 2.5e-3, size])
    i, j = np.meshgrid(np.arange(4), np.arange(3))
    bx0, bx1, by0, by1 = xc[i.ravel()], xc[i.ravel() + 1], yc[j.ravel()], yc[j.ravel() + 1]
    t, b = np.meshgrid(np.arange(tri.shape[1]), np.arange(bx0.size))
    t, b = t.ravel(), b.ravel()                             # all (triangle, block) pairs
    px, py = pts[tri[:, t], 0], pts[tri[:, t], 1]
    pol = clip_triangles(px, py, bx0[b], by0[b], bx1[b], by1[b])

    block_area = (bx1 - bx0) * (by1 - by0)
    area = np.bincount(b, pol.area(), minlength=bx0.size)
    np.testing.assert_allclose(area, block_area, rtol=1e-12)
    tri_area = np.bincount(t, pol.area())
    exact = 0.5 * np.abs((px[1] - px[0]) * (py[2] - py[0]) - (px[2] - px[0]) * (py[1] - py[0]))
    np.testing.assert_allclose(tri_area, exact[:tri.shape[1]], rtol=1e-12)

    def u(x, y):
        return 300.0 + 2e4 * (x - ox) - 7e3 * (y - ox)

    vals = u(px, py)
    mean = np.bincount(b, linear_integrals(pol, vals), minlength=bx0.size) / area
    np.testing.assert_allclose(mean, u((bx0 + bx1) / 2, (by0 + by1) / 2), rtol=1e-14)
    lo, hi = linear_extremes(pol, vals)
    peak = np.full(bx0.size, -np.inf)
    np.fmax.at(peak, b, hi)
    np.testing.assert_allclose(peak, u(bx1, by0), rtol=1e-14)        # the lower-right corner
    low = np.full(bx0.size, np.inf)
    np.fmin.at(low, b, lo)
    np.testing.assert_allclose(low, u(bx0, by1), rtol=1e-14)


# ---------------------------------------------------------------------- explicit cases
def one(tri, rect, values=(1.0, 2.0, 4.0)) -> tuple[Polygons, np.ndarray, np.ndarray, float]:
    """Clip a single triangle [(x, y)] * 3 by rect (x0, y0, x1, y1); exact checks included."""
    px = np.array([[p[0]] for p in tri], dtype=float)
    py = np.array([[p[1]] for p in tri], dtype=float)
    r = np.array(rect, dtype=float)[:, None]
    v = np.array(values, dtype=float)[:, None]
    pol = compare_with_exact(px, py, r, v)
    lo, hi = linear_extremes(pol, v)
    return pol, lo, hi, float(pol.area()[0])


def vertices(pol: Polygons) -> set:
    k = pol.count[0]
    return set(zip(pol.x[0, :k].tolist(), pol.y[0, :k].tolist()))


def test_triangle_inside_rectangle_is_the_triangle():
    tri = [(0.1, 0.1), (0.9, 0.2), (0.2, 0.8)]
    pol, lo, hi, area = one(tri, (0, 0, 1, 1))
    assert pol.count[0] == 3 and vertices(pol) == set(tri)
    assert area == pytest.approx(0.275, rel=1e-15)
    assert (lo[0], hi[0]) == (1.0, 4.0)
    # Its barycentric coordinates are the unit vectors, exactly.
    np.testing.assert_array_equal(np.sort(pol.bary[:, 0, :3], axis=1)[:, ::-1],
                                  [[1, 0, 0]] * 3)


def test_rectangle_inside_triangle_is_the_rectangle():
    for offset in (0.0, 3e-2):
        x0, y0, x1, y1 = offset + 1e-4, offset + 2e-4, offset + 3e-4, offset + 5e-4
        tri = [(offset - 1e-2, offset - 1e-2), (offset + 1e-2, offset - 1e-2),
               (offset, offset + 1e-2)]
        pol, _, _, area = one(tri, (x0, y0, x1, y1))
        assert pol.count[0] == 4
        assert vertices(pol) == {(x0, y0), (x1, y0), (x1, y1), (x0, y1)}
        assert area == pytest.approx((x1 - x0) * (y1 - y0), rel=1e-14)


def test_no_overlap():
    pol, lo, hi, area = one([(2, 2), (3, 2), (2, 3)], (0, 0, 1, 1))
    assert pol.count[0] == 0 and area == 0 and np.isnan([lo[0], hi[0]]).all()
    assert np.isnan(pol.dx).all() and np.isnan(pol.bary).all()
    assert linear_integrals(pol, np.ones((3, 1)))[0] == 0
    assert np.isnan(pol.centroid()).all()


@pytest.mark.parametrize("tri", [
    [(1, 0), (2, 0), (1, 1)],                    # along the right edge, outside
    [(1, 0.25), (2, 0), (1, 0.75)],              # along part of the right edge
    [(0, 1), (1, 1), (0.5, 2)],                  # along the top edge
    [(-1, -1), (0, 0), (-1, 0.5)],               # at the lower-left corner
    [(0.5, 1), (0, 2), (1, 2)],                  # a vertex on the top edge
    [(0.3, 0), (0.6, -1), (0.1, -1)],            # a vertex on the bottom edge
    [(-0.1, 0.1), (0.1, -0.1), (-1, -1)],        # an edge through the corner (0, 0), outside
    [(1 / 3, 0), (1 / 3, -1), (2, -1 / 7)],      # a vertex at (1/3, 0)
    [(1.3, 0.9), (0.7, 1.1), (2, 2)],            # an edge through (1, 1), inexact floats
])
def test_touching_has_no_area(tri):
    pol, lo, hi, area = one(tri, (0, 0, 1, 1))
    assert pol.count[0] == 0 and area == 0 and np.isnan(hi[0])


def test_touching_with_offsets_and_thirds():
    # Edge from (x0 - a, y0 + b) to (x0 + a, y0 - b) passes through the corner (x0, y0) in
    # exact arithmetic, with coordinates that are not representable: nothing or a sliver.
    x0, y0 = 3e-2 + 1e-3 / 3, 1.7e-2 + 1e-3 / 7
    pol, _, _, area = one([(x0 - 1e-4, y0 + 1e-4), (x0 + 1e-4, y0 - 1e-4), (x0 - 2e-4, y0 - 2e-4)],
                          (x0, y0, x0 + 1e-3, y0 + 1e-3))
    assert area <= 1e-20


def test_vertices_on_rectangle_edges():
    tri = [(0.5, 0), (1, 0.5), (0, 1)]
    pol, lo, hi, area = one(tri, (0, 0, 1, 1))
    assert pol.count[0] == 3 and vertices(pol) == set(tri) and area == pytest.approx(0.375)
    assert (lo[0], hi[0]) == (1.0, 4.0)


def test_edges_collinear_with_rectangle_edges():
    # Legs along the bottom and left edges, reaching beyond the rectangle.
    pol, _, _, area = one([(0, 0), (2, 0), (0, 2)], (0, 0, 1, 1))
    assert pol.count[0] == 4 and vertices(pol) == {(0, 0), (1, 0), (1, 1), (0, 1)}
    assert area == 1.0
    # Legs along the top and right edges, the hypotenuse x + y = 0.5 cuts a corner: a pentagon.
    pol, _, _, area = one([(-0.5, 1), (1, 1), (1, -0.5)], (0, 0, 1, 1))
    assert pol.count[0] == 5 and area == 0.875
    # A leg along part of the top edge, another inside: a quadrilateral.
    pol, _, _, area = one([(-0.5, 1), (0.5, 1), (0.5, -1)], (0, 0, 1, 1))
    assert vertices(pol) == {(0, 0), (0.5, 0), (0.5, 1), (0, 1)} and area == 0.5
    # The whole triangle is the rectangle's lower-right half.
    pol, _, _, area = one([(0, 0), (1, 0), (1, 1)], (0, 0, 1, 1))
    assert pol.count[0] == 3 and area == 0.5


def test_seven_vertices():
    # Each edge cuts off one corner of the square (x + y >= 0.2, x - y <= 0.8,
    # -x + 1.5 y <= 1.3): the square minus three corners, 7 vertices.
    pol, _, _, area = one([(0.5, -0.3), (-0.4, 0.6), (5.0, 4.2)], (0, 0, 1, 1))
    assert pol.count[0] == 7
    assert area == pytest.approx(1 - 0.2**2 / 2 - 0.2**2 / 2 - 0.2 * (0.2 / 1.5) / 2, rel=1e-14)


@pytest.mark.parametrize("width", [1e-4, 1e-8, 1e-12])
@pytest.mark.parametrize("offset", [0.0, 3e-2])
def test_very_thin_triangles(width, offset):
    # Apex at (offset, offset), the opposite side vertical at x = offset + s: the piece between
    # x = a and x = b is ((b - o)**2 - (a - o)**2) / s**2 of the triangle (similar triangles),
    # computed exactly for the float inputs.
    s = 1e-3
    a, b = offset + 0.25 * s, offset + 0.5 * s
    apex, far = (offset, offset), offset + s
    for tri in ([apex, (far, offset + s), (far, offset + s * (1 + width))],
                [apex, (far, offset), (far, offset + s * width)]):
        pol, lo, hi, area = one(tri, (a, offset - s, b, offset + 2 * s))
        o, xs = Fraction(offset), Fraction(tri[1][0])
        fraction = ((Fraction(b) - o) ** 2 - (Fraction(a) - o) ** 2) / (xs - o) ** 2
        expected = float(fraction * Fraction(triangle_area(*zip(*tri))))
        assert area == pytest.approx(expected, rel=1e-13)
        assert pol.count[0] == 4


def test_large_triangle_small_rectangle_and_vice_versa():
    big = [(-1.0, -1.0), (2.0, -0.5), (0.2, 3.0)]
    rect = (0.1 + 1e-9, 0.2, 0.1 + 3e-9, 0.2 + 1e-9)
    pol, _, _, area = one(big, rect)
    assert pol.count[0] == 4 and area == pytest.approx(2e-18, rel=1e-9)
    small = [(0.3, 0.3), (0.3 + 1e-9, 0.3), (0.3, 0.3 + 2e-9)]
    pol, _, _, area = one(small, (-1.0, -1.0, 2.0, 2.0))
    assert pol.count[0] == 3 and area == pytest.approx(1e-18, rel=1e-12)
    # Small triangle straddling a big rectangle's edge, far from the origin.
    small = [(3e-2 - 1e-9, 3e-2), (3e-2 + 1e-9, 3e-2), (3e-2, 3e-2 + 1e-9)]
    pol, _, _, area = one(small, (3e-2, 0.0, 4e-2, 4e-2))
    assert area == pytest.approx(0.5e-18, rel=1e-9)


def test_degenerate_triangle_is_empty():
    pol, _, _, area = one([(0, 0), (0.5, 0.5), (1, 1)], (0, 0, 1, 1))
    assert pol.count[0] == 0 and area == 0
    pol, _, _, area = one([(0.2, 0.2), (0.2, 0.2), (0.7, 0.3)], (0, 0, 1, 1))
    assert pol.count[0] == 0


def test_empty_rectangle_and_empty_input():
    pol, _, _, area = one([(0, 0), (1, 0), (0, 1)], (0.5, 0, 0.5, 1))
    assert pol.count[0] == 0
    pol = clip_triangles(np.zeros((3, 0)), np.zeros((3, 0)), 0, 0, 1, 1)
    assert len(pol) == 0 and pol.dx.shape == (0, CAPACITY) and pol.area().shape == (0,)


def test_scalar_rectangle_broadcasts_and_shapes():
    rng = np.random.default_rng(1)
    px, py = rng.uniform(-1, 2, (2, 3, 50))
    pol = clip_triangles(px, py, 0.0, 0.0, 1.0, 1.0)
    full = clip_triangles(px, py, np.zeros(50), np.zeros(50), np.ones(50), np.ones(50))
    np.testing.assert_array_equal(pol.fan, full.fan)
    assert pol.dx.shape == (50, CAPACITY) and pol.bary.shape == (3, 50, CAPACITY)
    with pytest.raises(ValueError):
        clip_triangles(px[:2], py[:2], 0, 0, 1, 1)
    with pytest.raises(ValueError):
        linear_extremes(pol, np.zeros((3, 49)))


def test_chunks_and_wider_polygons_are_assembled(monkeypatch):
    rng = np.random.default_rng(2)
    px, py = rng.uniform(-1, 2, (2, 3, 200))
    x0, y0 = rng.uniform(-0.5, 0.5, (2, 200))
    rect = (x0, y0, x0 + rng.uniform(0.1, 1.5, 200), y0 + rng.uniform(0.1, 1.5, 200))
    ref = clip_triangles(px, py, *rect)
    monkeypatch.setattr(ov, "CHUNK", 7)
    chunked = clip_triangles(px, py, *rect)
    for name in ("dx", "dy", "bary", "fan", "count", "ox", "oy"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(ref, name))
    # Chunks whose polygons need more slots than the output has (forced here by a smaller
    # capacity): the output widens, unused slots still repeat the first vertex.
    monkeypatch.setattr(ov, "CAPACITY", 3)
    narrow = clip_triangles(px, py, *rect)
    m = narrow.dx.shape[1]
    assert m == ref.count.max() and m > 3
    np.testing.assert_array_equal(narrow.count, ref.count)
    np.testing.assert_array_equal(narrow.area(), ref.area())
    np.testing.assert_array_equal(narrow.dx, ref.dx[:, :m])


def test_more_crossings_than_a_convex_polygon_has():
    # Rounding can make a nearly degenerate polygon slightly non-convex; the clipping step then
    # needs more slots than a convex polygon would, and must still clip like the reference.
    for zx, zy in (([0, 1, 2, 3, 4, 2], [-1, 1, -1, 1, -1, -3]),
                   ([0, 1, 2, 3, 4, 5, 6], [1, -1, 1, -1, 1, -1, -5])):
        w = len(zx)
        v = np.array([zy, zx, zy], dtype=float)[:, :, None]  # distance to y = 0, x, y
        count = np.array([w])
        out = ov._clip_half_plane(v, count, 0)
        ref = exact_half_plane([(Fraction(x), Fraction(y)) for x, y in zip(zx, zy)], 1, 0, 1)
        assert count[0] == len(ref) and out.shape[1] >= len(ref)
        assert [(out[1, k, 0], out[2, k, 0]) for k in range(count[0])] == \
            [(float(x), float(y)) for x, y in ref]
        assert (out[0, :count[0], 0] == out[2, :count[0], 0]).all()
    assert len(ref) == 9 > w  # more vertices than the input had slots
