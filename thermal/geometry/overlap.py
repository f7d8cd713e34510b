"""Exact intersections of triangles with axis-aligned rectangles, many pairs at once.

A P1 field on a triangle mesh that does not conform to a floorplan's blocks is linear on each
triangle, so over a block it is integrated exactly triangle piece by triangle piece, and it
peaks at a vertex of some piece ``triangle ∩ rectangle`` (a convex polygon). This module
computes those pieces for ``n`` (triangle, rectangle) pairs with whole-array numpy operations
(Sutherland-Hodgman clipping against the rectangle's four half-planes; Python loops only over
the planes and over chunks of pairs), and their areas, first moments, and the integrals and
extremes of linear functions over them::

    pieces = clip_triangles(px[:, tri], py[:, tri], x0[blk], y0[blk], x1[blk], y1[blk])
    vals = u[nodes[:, tri]]                                  # (3, n) P1 values
    area = np.bincount(blk, pieces.area(), minlength=nblocks)
    mean = np.bincount(blk, linear_integrals(pieces, vals), minlength=nblocks) / area
    lo, hi = linear_extremes(pieces, vals)                   # NaN where a pair does not overlap
    peak = np.full(nblocks, -np.inf)
    np.fmax.at(peak, blk, hi)

How it stays exact in floating point (areas agree with rational arithmetic on the same float
inputs to a few ulps of the triangle's area, for triangles as thin as 1e-12 of their length;
see ``tests/thermal/test_overlap.py``):

* Vertices are not carried as coordinates but as their distances to the four lines
  ``x = x0``, ``x = x1``, ``y = y0``, ``y = y1`` (positive inside), computed from the inputs
  with one rounding each, relative to themselves, and as barycentric coordinates in the
  triangle. Both are affine in position, so where an edge crosses a line the new vertex
  interpolates them all along the edge (from the edge's nearer end, so the point does not
  depend on the direction the edge is traversed in), and its distance to that line is set to
  0. Moving the inputs to a common origin first would round the triangle itself by ``eps *
  size``, which changes the area of a thin triangle by ``eps`` times its aspect ratio.
* Areas are sums over the polygon's fan from its first vertex, computed in barycentric
  coordinates times the triangle's area (itself to a few ulps: the differences and products
  are split exactly, :func:`_doubled_area`). Points on a triangle edge stay exactly on it there,
  so the polygon's area is a fraction of the triangle's to a few ulps. When the rectangle is
  smaller than a triangle that is not thin, the fan is computed from positions instead, which
  keeps a rectangle inside the triangle exact (its corners are exact distances).
* Positions (for moments and centroids) are taken relative to a per-pair origin: the
  rectangle's corner when the rectangle is the smaller (from the distances), else the
  triangle's first vertex (from the barycentric coordinates), so far-off origins and floorplan
  offsets cost nothing.
* Function values at the polygon's vertices combine the triangle's values with the carried
  barycentric coordinates: a triangle vertex has exactly ``(1, 0, 0)`` etc., so the extremes
  stay in the range of the triangle's values (up to rounding), and thin triangles lose nothing to an
  ill-conditioned gradient.
* A polygon with fewer than 3 vertices, or thinner than a few roundings (``DEGENERATE``), is
  empty: touching along an edge or at a point gives ``count == 0`` and area 0 even when the
  touching point is not representable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Vertex slots per polygon: a triangle clipped by four half-planes has at most 7 vertices.
CAPACITY = 7
#: Triangles with ``extent**2 > THIN * 2 * area`` (``extent`` the longer side of the bounding
#: box) are thin: the areas of their pieces always come from barycentric coordinates.
THIN = 16.0
#: A polygon is empty when its area is at most ``DEGENERATE * eps * size``: ``size`` is
#: ``s * (w + h)`` when the area comes from positions (``s`` the triangle's extent plus the
#: rectangle's, ``w``, ``h`` the polygon's bounding box), else ``2 * |triangle area| * (sum of
#: the ranges of the barycentric coordinates)``. It is then thinner than a few roundings.
DEGENERATE = 4.0
#: Pairs clipped at a time: the temporaries stay in cache (2x faster than all at once for a
#: million pairs).
CHUNK = 16384

_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True, eq=False)
class Polygons:
    """Convex polygons, one per (triangle, rectangle) pair, vertices counter-clockwise.

    Attributes
    ----------
    ox, oy : (n,) float arrays
        The pair's origin: the rectangle's lower-left corner if the rectangle is smaller than
        the triangle (its bounding box), else the triangle's first vertex.
    dx, dy : (n, m) float arrays, ``m >= CAPACITY``
        Vertices relative to the origin (:attr:`x`, :attr:`y` are absolute), counter-clockwise,
        in the first ``count[i]`` slots of row ``i``, clamped into the rectangle. Unused slots
        repeat the polygon's first vertex, so reductions over whole rows (maxima, ...) need no
        mask. Rows of empty polygons are all NaN. ``m`` is ``CAPACITY`` unless rounding in a
        nearly degenerate pair produced extra (nearly coincident) vertices, which exact
        arithmetic never does.
    bary : (3, n, m) float array
        Barycentric coordinates of each vertex in its triangle, with respect to the triangle's
        vertices in input order (whatever the input's orientation); same filling as ``dx``.
    fan : (n, m) float array
        ``fan[i, k]``: area of the triangle (v0, v_k, v_k+1) of polygon ``i``, so that the
        polygon's area is ``fan[i].sum()``; 0 past the polygon and for empty ones.
    count : (n,) int array
        Number of vertices, 0 when the intersection is empty or has zero area.
    """

    ox: np.ndarray
    oy: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    bary: np.ndarray
    fan: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return int(self.count.shape[0])

    @property
    def x(self) -> np.ndarray:
        """(n, m) absolute x of the vertices (same filling as ``dx``), rounded once."""
        return self.ox[:, None] + self.dx

    @property
    def y(self) -> np.ndarray:
        """(n, m) absolute y of the vertices (same filling as ``dy``), rounded once."""
        return self.oy[:, None] + self.dy

    def area(self) -> np.ndarray:
        """(n,) area of each polygon (> 0, or 0 for empty ones)."""
        return self.fan.sum(axis=1)

    def _fan_sums(self, q: np.ndarray) -> np.ndarray:
        """(n,) sum over the fan of ``fan[:, k] * (q_0 + q_k + q_k+1) / 3``: the integral of
        the linear function with values ``q`` (n, m) at the vertices; 0 for empty polygons."""
        with np.errstate(invalid="ignore"):
            out = (self.fan * (q[:, :1] + q + np.roll(q, -1, axis=1))).sum(axis=1) / 3.0
        out[self.count == 0] = 0.0
        return out

    def moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Area and integrals of ``x`` and of ``y`` over each polygon, each (n,), 0 if empty."""
        area = self.area()
        empty = self.count == 0
        # Moments about the first vertex, then one shift to absolute coordinates.
        x0 = np.where(empty, 0.0, self.ox + self.dx[:, 0])
        y0 = np.where(empty, 0.0, self.oy + self.dy[:, 0])
        mx = self._fan_sums(self.dx - self.dx[:, :1])
        my = self._fan_sums(self.dy - self.dy[:, :1])
        return area, area * x0 + mx, area * y0 + my

    def centroid(self) -> tuple[np.ndarray, np.ndarray]:
        """(n,) absolute centroid coordinates, NaN for empty polygons.

        Clamped into the polygon's bounding box (which matters only for slivers near the
        degeneracy threshold, whose centroid is dominated by rounding).
        """
        area = self.area()
        with np.errstate(invalid="ignore", divide="ignore"):
            cu = self._fan_sums(self.dx - self.dx[:, :1]) / area
            cw = self._fan_sums(self.dy - self.dy[:, :1]) / area
        empty = self.count == 0
        cx = self.ox + np.clip(self.dx[:, 0] + cu, self.dx.min(axis=1), self.dx.max(axis=1))
        cy = self.oy + np.clip(self.dy[:, 0] + cw, self.dy.min(axis=1), self.dy.max(axis=1))
        cx[empty] = np.nan
        cy[empty] = np.nan
        return cx, cy

    def values_at_vertices(self, values) -> np.ndarray:
        """(n, m) linear function with ``values`` (3, n) at the triangles' vertices (input
        order), evaluated at the polygons' vertex slots (NaN rows for empty polygons)."""
        values = np.asarray(values, dtype=float)
        if values.shape != (3, len(self)):
            raise ValueError(f"values must have shape (3, {len(self)}), got {values.shape}")
        b = self.bary
        return values[0][:, None] * b[0] + values[1][:, None] * b[1] + values[2][:, None] * b[2]


def clip_triangles(px, py, x0, y0, x1, y1) -> Polygons:
    """Intersect triangle ``i`` with rectangle ``i`` for every ``i``.

    Parameters
    ----------
    px, py : (3, n) array_like
        Triangle vertices, either orientation.
    x0, y0, x1, y1 : (n,) array_like or float
        Rectangle bounds (``x0 < x1``, ``y0 < y1``; empty rectangles give empty polygons);
        scalars are broadcast to all pairs.

    Returns
    -------
    Polygons
        Counter-clockwise intersection polygons; ``count == 0`` where the intersection is empty
        or has zero area (touching along an edge or at a point, degenerate triangle).
    """
    px = np.asarray(px, dtype=float)
    py = np.asarray(py, dtype=float)
    if px.ndim != 2 or px.shape[0] != 3 or py.shape != px.shape:
        raise ValueError(f"px and py must have the same shape (3, n), got {px.shape}, {py.shape}")
    n = px.shape[1]
    x0, y0, x1, y1 = (np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in (x0, y0, x1, y1))

    ox, oy = np.empty(n), np.empty(n)
    v = np.empty((5, n, CAPACITY))      # dx, dy, 3 barycentric coordinates
    fan = np.empty((n, CAPACITY))
    count = np.empty(n, dtype=np.intp)
    for a in range(0, n, CHUNK):
        b = slice(a, min(a + CHUNK, n))
        ox[b], oy[b], vb, fb, count[b] = _clip_chunk(px[:, b], py[:, b], x0[b], y0[b], x1[b], y1[b])
        m = vb.shape[2]
        if m > v.shape[2]:  # rare: see Polygons.dx
            extra = m - v.shape[2]
            v = np.concatenate([v, np.repeat(v[:, :, :1], extra, axis=2)], axis=2)
            fan = np.concatenate([fan, np.zeros((n, extra))], axis=1)
        v[:, b, :m] = vb
        v[:, b, m:] = vb[:, :, :1]
        fan[b, :m] = fb
        fan[b, m:] = 0.0
    return Polygons(ox=ox, oy=oy, dx=v[0], dy=v[1], bary=v[2:], fan=fan, count=count)


def _clip_chunk(px, py, x0, y0, x1, y1):
    """:func:`clip_triangles` for one chunk: origins (n,) twice, (dx, dy, 3 barycentric
    coordinates) as (5, n, m) with ``m >= CAPACITY``, fan areas (n, m), counts (n,)."""
    n = px.shape[1]
    area2 = _doubled_area(px, py)
    # Counter-clockwise: swap the last two vertices of clockwise triangles.
    order = np.where(area2 < 0, np.array([[0], [2], [1]]), np.array([[0], [1], [2]]))  # (3, n)
    tx = np.take_along_axis(px, order, 0)
    ty = np.take_along_axis(py, order, 0)

    # Per-vertex quantities (quantity, slot, pair), so that work across pairs is contiguous:
    # distances to the four lines (>= 0 inside), then barycentric coordinates.
    v = np.empty((7, 3, n))
    v[0] = tx - x0
    v[1] = x1 - tx
    v[2] = ty - y0
    v[3] = y1 - ty
    v[4:] = order[None, :, :] == np.arange(3)[:, None, None]
    count = np.full(n, 3, dtype=np.intp)
    for plane in range(4):
        v = _clip_half_plane(v, count, plane)

    # Unused slots repeat the first vertex.
    width = max(CAPACITY, v.shape[1])
    if v.shape[1] < width:
        v = np.concatenate([v, np.zeros((7, width - v.shape[1], n))], axis=1)
    v = np.where(np.arange(width)[:, None] >= count, v[:, :1], v)
    out = np.empty((5, width, n))
    out[2:] = v[4:]
    dx, dy, bary = out[0], out[1], out[2:]

    # Positions relative to the rectangle's corner from the nearer side's distance, or relative
    # to the triangle's first vertex from barycentric coordinates (the smaller shape's frame).
    w, h = x1 - x0, y1 - y0
    extent = np.maximum(np.ptp(px, axis=0), np.ptp(py, axis=0))
    rect_small = np.maximum(w, h) < extent
    ox = np.where(rect_small, x0, px[0])
    oy = np.where(rect_small, y0, py[0])
    dx[:] = np.where(rect_small, np.where(v[0] <= v[1], v[0], w - v[1]),
                     bary[1] * (px[1] - px[0]) + bary[2] * (px[2] - px[0]))
    dy[:] = np.where(rect_small, np.where(v[2] <= v[3], v[2], h - v[3]),
                     bary[1] * (py[1] - py[0]) + bary[2] * (py[2] - py[0]))
    np.clip(dx, x0 - ox, x1 - ox, out=dx)
    np.clip(dy, y0 - oy, y1 - oy, out=dy)

    # Fan areas from barycentric coordinates, or from positions for a rectangle smaller than a
    # triangle that is not thin (see the module's notes).
    from_xy = rect_small & (extent**2 <= THIN * np.abs(area2))
    fan = _fan_areas(bary[1], bary[2], 0.5 * area2)
    fan[:, from_xy] = _fan_areas(dx[:, from_xy], dy[:, from_xy], 0.5)
    area = fan.sum(axis=0)
    spread = np.ptp(dx, axis=0) + np.ptp(dy, axis=0)
    size = np.where(from_xy, (extent + np.maximum(w, h)) * spread,
                    np.abs(area2) * np.ptp(bary, axis=1).sum(axis=0))
    empty = (count < 3) | ~(area > DEGENERATE * _EPS * size)
    count[empty] = 0
    np.copyto(out, np.nan, where=empty)
    np.copyto(fan, 0.0, where=empty)
    return ox, oy, out.transpose(0, 2, 1), fan.T, count


def _clip_half_plane(v: np.ndarray, count: np.ndarray, plane: int) -> np.ndarray:
    """One Sutherland-Hodgman step on all pairs: keep ``v[plane] >= 0``.

    ``v`` is (q, w, n): per-vertex quantities affine in position (``v[plane]`` the signed
    distance to the line) in ``w`` vertex slots of ``n`` polygons; polygon ``i`` has its vertices
    in the first ``count[i]`` slots. ``count`` is updated in place; returns the new ``v`` (``v``
    itself, modified, unless some polygon needs more slots). Polygons entirely on the kept side
    are not touched.
    """
    q, w, n = v.shape
    s = v[plane]
    valid = np.arange(w)[:, None] < count
    n_out = (valid & (s < 0)).sum(axis=0)
    count[(n_out == count) & (count > 0)] = 0
    rows = np.flatnonzero((n_out > 0) & (n_out < count))
    if rows.size == 0:
        return v
    # Polygons straddling the line, compacted: r of them.
    r = rows.size
    s = np.take(s, rows, axis=1)
    sub = np.take(v, rows, axis=2)
    m = count[rows]
    valid = np.arange(w)[:, None] < m
    nxt = np.where(np.arange(1, w + 1)[:, None] < m, np.arange(1, w + 1)[:, None], 0)
    sn = np.take_along_axis(s, nxt, axis=0)
    inside = valid & (s >= 0)
    cross = valid & (((s > 0) & (sn < 0)) | ((s < 0) & (sn > 0)))
    emit = inside.astype(np.intp) + cross
    pos = np.cumsum(emit, axis=0) - emit
    new_m = pos[-1] + emit[-1]
    width = max(w, int(new_m.max()))
    res = np.zeros((q, width * r))
    sub = sub.reshape(q, w * r)
    s = s.ravel()

    # Vertices inside (or on the line) are kept in order ...
    src = np.flatnonzero(inside)
    dst = pos.ravel()[src] * r + src % r
    vals = np.take(sub, src, axis=1)
    for i in range(q):
        res[i, dst] = vals[i]
    # ... each followed by the crossing of its outgoing edge, if that edge crosses the line.
    src = np.flatnonzero(cross)
    row = src % r
    nsrc = nxt.ravel()[src] * r + row
    dst = (pos.ravel()[src] + inside.ravel()[src]) * r + row
    sa = s[src]
    sb = s[nsrc]
    # sa, sb have opposite signs: no cancellation. Interpolate from the nearer end, so the
    # point does not depend on the direction the edge is traversed in.
    from_a = np.abs(sa) <= np.abs(sb)
    near = np.where(from_a, src, nsrc)
    far = np.where(from_a, nsrc, src)
    t = np.abs(np.where(from_a, sa, sb) / (sa - sb))
    va, vb = np.take(sub, near, axis=1), np.take(sub, far, axis=1)
    vals = va + t * (vb - va)
    vals[plane] = 0.0
    for i in range(q):
        res[i, dst] = vals[i]

    count[rows] = new_m
    if width > w:
        v = np.concatenate([v, np.zeros((q, width - w, n))], axis=1)
    for dst_row, src_row in zip(v.reshape(q * width, n), res.reshape(q * width, r)):
        dst_row[rows] = src_row  # row by row: 1-d scatters are 2x faster than one 2-d one
    return v


def _fan_areas(x: np.ndarray, y: np.ndarray, factor) -> np.ndarray:
    """(w, n) signed areas (times ``factor``) of the triangles (v0, v_k, v_k+1) of polygons
    with vertices ``x``, ``y`` (w, n), unused slots repeating v0 (their terms are 0)."""
    u = x - x[:1]
    w = y - y[:1]
    return factor * (u * np.roll(w, -1, axis=0) - np.roll(u, -1, axis=0) * w)


def _doubled_area(px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Twice the signed area of triangles (3, n), to a few ulps even for slivers (0 for
    collinear vertices and below ``8 eps**2 size**2``).

    Plain ``cross(p1 - p0, p2 - p0)`` loses ``eps * size**2`` to the rounding of the
    differences and products (a relative error of ``eps`` times the aspect ratio); here the
    differences are split exactly into two doubles (TwoSum) and the leading products are
    computed exactly (TwoProduct by Veltkamp splitting).
    """
    ax, ax_ = _two_sum(px[1], -px[0])
    ay, ay_ = _two_sum(py[1], -py[0])
    bx, bx_ = _two_sum(px[2], -px[0])
    by, by_ = _two_sum(py[2], -py[0])
    p, pe = _two_product(ax, by)
    q, qe = _two_product(bx, ay)
    # Grouped so that swapping the last two vertices negates the result exactly.
    tail = (pe - qe) + ((ax * by_ - bx * ay_) + (ax_ * by - bx_ * ay)) + (ax_ * by_ - bx_ * ay_)
    area2 = (p - q) + tail
    # Below what the terms above resolve (about eps**2 times the products): collinear.
    area2[np.abs(area2) <= 8 * _EPS**2 * (np.abs(p) + np.abs(q))] = 0.0
    return area2


def _two_sum(a, b):
    """``a + b = s + e`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_product(a, b):
    """``a * b = p + e`` exactly (Dekker, Veltkamp splitting; no overflow at these scales)."""
    p = a * b
    ca = 134217729.0 * a
    ah = ca - (ca - a)
    al = a - ah
    cb = 134217729.0 * b
    bh = cb - (cb - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def linear_extremes(polygons: Polygons, values) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum over each polygon of a function linear on its triangle.

    Parameters
    ----------
    polygons : Polygons
        From :func:`clip_triangles`.
    values : (3, n) array_like
        The function at the triangles' vertices, in the order they were given.

    Returns
    -------
    lo, hi : (n,) float arrays
        Extremes over the polygon's vertices (where a linear function has them); NaN where
        the polygon is empty.
    """
    f = polygons.values_at_vertices(values)
    return f.min(axis=1), f.max(axis=1)


def linear_integrals(polygons: Polygons, values) -> np.ndarray:
    """(n,) integral over each polygon of the function linear on its triangle with ``values``
    (3, n) at the triangle's vertices (input order); 0 for empty polygons.

    Equal to ``area * value at the centroid``; summed over the polygon's fan.
    """
    return polygons._fan_sums(polygons.values_at_vertices(values))
