"""Non-overlapping rectangles cut into horizontal bands: location, overlap checks, and exact
integrals of piecewise-constant values over triangles and rectangles.

Every y-coordinate of a rectangle edge (and the die's bottom and top) cuts the die into
horizontal *bands*. Inside a band each rectangle crossing it is an x-interval; those intervals
and the gaps between them partition the band's width into *segments*. Stored band after band,
sorted by x, the partition is a few flat arrays: a run-length encoding of the tensor table
(one cell per pair of consecutive x and y edge coordinates) a plain locator would need, which
for 10^5 blocks in rows or tiles has 10^5 entries instead of up to 10^10.

With it, everything a mesh needs from a piecewise-constant field ``v`` (power density: watts
per square metre of each block or power-map cell, zero in gaps; a :class:`BandField` is bands
and one value per segment) is vectorised:

* :meth:`Bands.locate` -- the rectangle containing each point: two binary searches, or one
  and a table lookup;
* :meth:`BandField.triangle_moments` -- the exact integrals of ``v``, ``v x`` and ``v y`` over
  triangles. By Green's theorem ``int_T v dA`` is the line integral of ``Phi dy`` around
  ``T``, with ``Phi(x, y)`` the integral of ``v`` along the band from its left end to ``x``
  (piecewise linear in x, constant in y within a band). Each triangle edge is cut where it
  crosses a band edge or a segment edge (:meth:`Bands.edge_pieces`); on each piece ``Phi`` is
  a polynomial in the edge's parameter, integrated in closed form. The cost follows the
  triangles' *perimeters* in cells, not their areas: a coarse mesh over a 1024 x 1024 power
  map visits about as many pieces as its edges cross map cells. Triangles inside one segment
  (almost all, on fine meshes) skip this: their integral is the value times the area;
* :meth:`BandField.triangle_ranges` -- the smallest and largest value in each triangle's
  interior (:meth:`Bands.triangle_segments`);
* :func:`first_overlap` -- overlapping rectangles found band by band, without comparing pairs.

Coordinates are stored relative to the die's lower-left corner.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["Bands", "BandField", "expand", "first_overlap"]

#: :meth:`Bands._segment_of` looks segments up in a dense (band, x breakpoint interval) table
#: when it has at most this many entries per segment (tiled floorplans and power maps have 1)
#: and at most MAX_TABLE in all; otherwise by a binary search over sorted keys (2-3x slower).
TABLE_PER_SEGMENT = 8
MAX_TABLE = 2 ** 25
#: Relative tolerance (of the die's larger side) under which a triangle is taken to touch,
#: not enter, a segment (so rounding never adds a neighbour's value to a range).
TOUCH_RTOL = 1e-12


def expand(count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For items with ``count`` entries each: the item of every entry and its rank in the item."""
    count = np.asarray(count, dtype=np.int64)
    owner = np.repeat(np.arange(count.size), count)
    rank = np.arange(owner.size) - np.repeat(np.cumsum(count) - count, count)
    return owner, rank


def _rect_bands(x0, y0, x1, y1, ys):
    """(rectangle, band) pairs of every band each rectangle crosses, sorted by band then x0."""
    iy0, iy1 = np.searchsorted(ys, y0), np.searchsorted(ys, y1)
    rect, rank = expand(iy1 - iy0)
    band = iy0[rect] + rank
    order = np.lexsort((x1[rect], x0[rect], band))
    return rect[order], band[order]


def _running_argmax_by_band(values: np.ndarray, band: np.ndarray, span: float) -> np.ndarray:
    """Where the running maximum of ``values`` is attained, restarting at each band (``band``
    sorted). Offsetting band ``j`` by ``2 j span`` (values lie in [0, span]) makes one global
    ``maximum.accumulate`` do every band at once; the maxima themselves are read back from
    ``values`` at these indices, exactly (the offset sums are rounded)."""
    shifted = values + 2.0 * span * band
    cm = np.maximum.accumulate(shifted)
    return np.maximum.accumulate(np.where(shifted == cm, np.arange(values.size), 0))


def first_overlap(x0, y0, x1, y1, eps: float):
    """The first pair of rectangles whose interiors overlap by more than ``eps`` both ways.

    Within a band, rectangles sorted by left edge overlap iff one starts before the running
    maximum of the right edges of those before it, so one pass over the (rectangle, band) pairs
    finds every overlap without comparing all pairs.

    Returns
    -------
    tuple or None
        ``(i, j, overlap_x, overlap_y)`` with ``i`` the rectangle already there and ``j`` the
        one starting inside it, for the overlap first in band order (lowest band, then
        leftmost); None if there is none.
    """
    x0, y0, x1, y1 = (np.asarray(v, float) for v in (x0, y0, x1, y1))
    ys = np.unique(np.concatenate([y0, y1]))
    rect, band = _rect_bands(x0, y0, x1, y1, ys)
    if rect.size < 2:
        return None
    lo = x0.min()
    where = _running_argmax_by_band(x1[rect] - lo, band, float(x1.max() - lo))
    same = band[1:] == band[:-1]
    prev, cur = rect[where[:-1]], rect[1:]
    ox = np.minimum(x1[prev], x1[cur]) - x0[cur]
    oy = np.minimum(y1[prev], y1[cur]) - np.maximum(y0[prev], y0[cur])
    hit = np.flatnonzero(same & (ox > eps) & (oy > eps))
    if hit.size == 0:
        return None
    k = hit[0]
    return int(prev[k]), int(cur[k]), float(ox[k]), float(oy[k])


@dataclass(frozen=True, eq=False)
class Bands:
    """A partition of the die into segments, band by band (see the module docstring).

    Attributes
    ----------
    die : tuple of float
        (x0, y0, x1, y1), metres.
    ys : ndarray (bands + 1,)
        Band edges, die-relative, from 0 to the die's height.
    start : ndarray of int (bands + 1,)
        Band ``j`` holds segments ``start[j]`` to ``start[j + 1] - 1``.
    x0, x1 : ndarray (segments,)
        Segment ends, die-relative; in each band they run from 0 to the die's width.
    band : ndarray of int (segments,)
    owner : ndarray of int (segments,)
        The rectangle each segment belongs to, -1 for gaps.
    """

    die: tuple
    ys: np.ndarray
    start: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    band: np.ndarray
    owner: np.ndarray

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_rects(cls, x0, y0, x1, y1, die) -> "Bands":
        """Bands of rectangles (absolute coordinates, within ``die``) that do not overlap.

        Overlaps are not checked here (see :func:`first_overlap`); should rectangles overlap
        anyway, within each band the one starting first keeps the shared part.
        """
        X0, Y0, X1, Y1 = (float(v) for v in die)
        x0, x1 = np.asarray(x0, float) - X0, np.asarray(x1, float) - X0
        y0, y1 = np.asarray(y0, float) - Y0, np.asarray(y1, float) - Y0
        ys = np.unique(np.concatenate([y0, y1, [0.0, Y1 - Y0]]))
        rect, band = _rect_bands(x0, y0, x1, y1, ys)
        width = X1 - X0
        if rect.size:
            # Trim each interval to start after everything before it in its band.
            reach = x1[rect][_running_argmax_by_band(x1[rect], band, width)]
            first = np.ones(rect.size, bool)
            first[1:] = band[1:] != band[:-1]
            seg_x0 = np.where(first, x0[rect], np.maximum(x0[rect], np.concatenate([[0.0], reach[:-1]])))
            keep = x1[rect] > seg_x0
            rect, band, seg_x0 = rect[keep], band[keep], seg_x0[keep]
        else:
            seg_x0 = np.zeros(0)
        return cls._with_gaps((X0, Y0, X1, Y1), ys, seg_x0, x1[rect], band, rect)

    @classmethod
    def from_grid(cls, xs, ys) -> "Bands":
        """Bands of the cells of a tensor grid (edges ``xs`` left to right and ``ys`` bottom to
        top, absolute), which is the die: band ``j`` is row ``j`` and cell ``(j, i)`` is
        owner ``j * (len(xs) - 1) + i``. Built directly: no sorting, no gaps."""
        xs, ys = np.asarray(xs, float), np.asarray(ys, float)
        ncols, nrows = xs.size - 1, ys.size - 1
        rx = xs - xs[0]
        cells = np.arange(nrows * ncols, dtype=np.int64)
        bands = cls((float(xs[0]), float(ys[0]), float(xs[-1]), float(ys[-1])), ys - ys[0],
                    np.arange(0, nrows * ncols + 1, ncols), np.tile(rx[:-1], nrows),
                    np.tile(rx[1:], nrows), np.repeat(np.arange(nrows), ncols), cells)
        # The lookup table is the grid itself (cached_property storage).
        bands.__dict__["_lookup"] = (rx, cells.reshape(nrows, ncols), None)
        return bands

    @classmethod
    def _with_gaps(cls, die, ys, x0, x1, band, owner) -> "Bands":
        """Add the gaps (owner -1) that complete each band's partition of [0, width]."""
        width = die[2] - die[0]
        nb = ys.size - 1
        first = np.ones(band.size, bool)
        first[1:] = band[1:] != band[:-1]
        last = np.ones(band.size, bool)
        last[:-1] = band[1:] != band[:-1]
        before = np.where(first, 0.0, np.concatenate([[0.0], x1[:-1]]))
        empty = np.setdiff1d(np.arange(nb), band)
        gaps = (np.concatenate([before, x1[last], np.zeros(empty.size)]),
                np.concatenate([x0, np.full(last.sum(), width), np.full(empty.size, width)]),
                np.concatenate([band, band[last], empty]))
        real = gaps[1] > gaps[0]
        gx0, gx1, gband = (g[real] for g in gaps)
        x0 = np.concatenate([x0, gx0])
        x1 = np.concatenate([x1, gx1])
        band = np.concatenate([band, gband])
        owner = np.concatenate([owner, np.full(gx0.size, -1, dtype=np.int64)])
        order = np.lexsort((x0, band))
        band = band[order]
        start = np.searchsorted(band, np.arange(nb + 1))
        return cls(tuple(float(v) for v in die), ys, start, x0[order], x1[order], band,
                   owner[order].astype(np.int64))

    # ------------------------------------------------------------------ location
    @property
    def size(self) -> tuple[float, float]:
        return self.die[2] - self.die[0], self.die[3] - self.die[1]

    @cached_property
    def _lookup(self):
        """What :meth:`_segment_of` searches: the sorted x breakpoints ``xb``, and either the
        dense table (band, breakpoint interval) -> segment, or each segment's sort key
        ``band * len(xb) + index of x0`` when the table would be too large."""
        xb = np.unique(np.concatenate([self.x0, [self.size[0]]]))
        ix0 = np.searchsorted(xb, self.x0)
        cells = (self.ys.size - 1) * (xb.size - 1)
        if cells <= max(TABLE_PER_SEGMENT * self.x0.size, 2 ** 20) and cells <= MAX_TABLE:
            # Segments partition each band in order, so repeating each over the breakpoint
            # intervals it spans writes the table row after row.
            span = np.searchsorted(xb, self.x1) - ix0
            table = np.repeat(np.arange(self.x0.size, dtype=np.int32 if self.x0.size < 2 ** 31
                                        else np.int64), span)
            return xb, table.reshape(self.ys.size - 1, xb.size - 1), None
        return xb, None, self.band * xb.size + ix0

    def _band_of(self, y: np.ndarray, side: str = "right") -> np.ndarray:
        """Band holding die-relative ``y``; with ``side='left'`` the one ending at a band edge
        rather than the one starting there."""
        return np.clip(np.searchsorted(self.ys, y, side) - 1, 0, self.ys.size - 2)

    def _segment_of(self, band: np.ndarray, x: np.ndarray, side: str = "right") -> np.ndarray:
        """Segment of ``band`` holding die-relative ``x``; with ``side='left'`` the one ending
        at a breakpoint rather than the one starting there."""
        xb, table, key = self._lookup
        ix = np.clip(np.searchsorted(xb, x, side) - 1, 0, xb.size - 2)
        if table is not None:
            return table[band, ix]
        k = np.searchsorted(key, band * xb.size + ix, "right") - 1
        return np.clip(k, self.start[band], self.start[band + 1] - 1)

    def segment_at(self, x, y) -> np.ndarray:
        """Segment containing each point (absolute coordinates); -1 outside the die.

        A point on a shared edge belongs to the segment to its right / above; points on the
        die's right and top edges to the last ones.
        """
        x = np.asarray(x, float) - self.die[0]
        y = np.asarray(y, float) - self.die[1]
        w, h = self.size
        inside = (x >= 0) & (x <= w) & (y >= 0) & (y <= h)
        out = np.full(np.shape(x), -1, dtype=np.int64)
        out[inside] = self._segment_of(self._band_of(y[inside]), x[inside])
        return out

    def locate(self, x, y) -> np.ndarray:
        """The rectangle containing each point; -1 in gaps and outside the die."""
        seg = self.segment_at(x, y)
        return np.where(seg >= 0, self.owner[np.maximum(seg, 0)], -1)

    # ------------------------------------------------------------------ enumerations
    def vertex_segments(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Segment of each vertex of each triangle, (3, triangles); ``p`` (2, nodes) absolute
        node coordinates inside the die, ``t`` (3, triangles) node indices."""
        x = np.asarray(p[0], float) - self.die[0]
        y = np.asarray(p[1], float) - self.die[1]
        return self._segment_of(self._band_of(y), x)[t]

    def edge_pieces(self, ax, ay, bx, by):
        """Cut line segments a -> b (die-relative, ``ay != by``) where they cross band and
        segment edges.

        Returns
        -------
        edge, segment : ndarray of int
            For every piece, the line segment it belongs to and the segment it lies in.
        t0, t1 : ndarray
            The piece's parameter range along its line segment (0 at a, 1 at b), t0 <= t1.
        """
        dx, dy = bx - ax, by - ay
        ylo, yhi = np.minimum(ay, by), np.maximum(ay, by)
        jlo = self._band_of(ylo)
        jhi = np.maximum(self._band_of(yhi, "left"), jlo)
        e, rank = expand(jhi - jlo + 1)
        j = jlo[e] + rank
        ta = (np.clip(self.ys[j], ylo[e], yhi[e]) - ay[e]) / dy[e]
        tb = (np.clip(self.ys[j + 1], ylo[e], yhi[e]) - ay[e]) / dy[e]
        t0, t1 = np.minimum(ta, tb), np.maximum(ta, tb)
        xa, xb = ax[e] + t0 * dx[e], ax[e] + t1 * dx[e]
        klo = self._segment_of(j, np.minimum(xa, xb))
        khi = np.maximum(self._segment_of(j, np.maximum(xa, xb), "left"), klo)
        piece, rank = expand(khi - klo + 1)
        k = klo[piece] + rank
        e, t0, t1 = e[piece], t0[piece], t1[piece]
        edx, eax = dx[e], ax[e]
        with np.errstate(divide="ignore", invalid="ignore"):
            s0 = (self.x0[k] - eax) / edx
            s1 = (self.x1[k] - eax) / edx
        slanted = edx != 0
        t0 = np.where(slanted, np.maximum(t0, np.minimum(s0, s1)), t0)
        t1 = np.where(slanted, np.minimum(t1, np.maximum(s0, s1)), t1)
        return e, k, t0, np.maximum(t1, t0)

    def triangle_segments(self, px: np.ndarray, py: np.ndarray):
        """Every (triangle, segment) pair whose interiors meet.

        ``px``, ``py`` (3, n): die-relative vertices. Segments narrower or in bands thinner than
        ``TOUCH_RTOL`` of the die (rounding slivers) and mere contacts along an edge or at a
        corner are left out.

        Returns
        -------
        triangle, segment : ndarray of int
        """
        tol = TOUCH_RTOL * max(self.size)
        ylo, yhi = py.min(axis=0), py.max(axis=0)
        jlo = self._band_of(ylo + tol)
        jhi = np.maximum(self._band_of(yhi - tol, "left"), jlo)
        tri, rank = expand(jhi - jlo + 1)
        j = jlo[tri] + rank
        b0 = np.maximum(self.ys[j], ylo[tri])
        b1 = np.minimum(self.ys[j + 1], yhi[tri])
        xmin, xmax = _slab_extent(px[:, tri], py[:, tri], b0, b1)
        k0 = self._segment_of(j, xmin + tol)
        k1 = np.maximum(self._segment_of(j, xmax - tol, "left"), k0)
        pair, rank = expand(k1 - k0 + 1)
        k, j = k0[pair] + rank, j[pair]
        wide = (self.x1[k] - self.x0[k] > tol) & (self.ys[j + 1] - self.ys[j] > tol)
        return tri[pair][wide], k[wide]


@dataclass(frozen=True, eq=False)
class BandField:
    """A piecewise-constant field: one value per segment of :class:`Bands` (0 in gaps, say).

    Attributes
    ----------
    bands : Bands
    values : ndarray (segments,)
    """

    bands: Bands
    values: np.ndarray

    @classmethod
    def of(cls, bands: Bands, owner_values: np.ndarray, gap: float = 0.0) -> "BandField":
        """The field worth ``owner_values[i]`` on rectangle ``i`` and ``gap`` elsewhere."""
        v = np.asarray(owner_values, float)
        return cls(bands, np.where(bands.owner >= 0, v[np.maximum(bands.owner, 0)], gap))

    def at(self, x, y) -> np.ndarray:
        """Value at points (absolute coordinates); NaN outside the die."""
        seg = self.bands.segment_at(x, y)
        return np.where(seg >= 0, self.values[np.maximum(seg, 0)], np.nan)

    @cached_property
    def _antiderivatives(self):
        """``c`` and ``d`` per segment such that, inside segment ``k``, the integrals of ``v``
        and ``v x`` along its band from the band's left end to ``x`` are ``c[k] + v[k] x`` and
        ``d[k] + v[k] x^2 / 2``."""
        b, v = self.bands, self.values
        a = v * (b.x1 - b.x0)
        m = v * 0.5 * (b.x1 * b.x1 - b.x0 * b.x0)
        # Cumulative sums restarted at each band's first segment.
        first = b.start[b.band]
        ca, cm = np.cumsum(a), np.cumsum(m)
        before_a = ca - a - np.where(first > 0, ca[first - 1], 0.0)
        before_m = cm - m - np.where(first > 0, cm[first - 1], 0.0)
        return before_a - v * b.x0, before_m - 0.5 * v * b.x0 * b.x0

    def triangle_moments(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Exact integrals of the field over the triangles of a mesh.

        Parameters
        ----------
        p : ndarray (2, nodes)
            Node coordinates, absolute, inside the die.
        t : ndarray of int (3, triangles)
            Each triangle's nodes, either orientation.

        Returns
        -------
        ndarray (3, triangles)
            ``int v``, ``int v (x - x_0)``, ``int v (y - y_0)`` over each triangle, with
            ``(x_0, y_0)`` its first vertex ``t[0]`` (a local frame: no cancellation however
            small the triangle).
        """
        b = self.bands
        x = np.asarray(p[0], float) - b.die[0]
        y = np.asarray(p[1], float) - b.die[1]
        seg = b.vertex_segments(p, t)
        px, py = x[t], y[t]
        area2 = (px[1] - px[0]) * (py[2] - py[0]) - (px[2] - px[0]) * (py[1] - py[0])
        # A triangle whose vertices lie in one segment lies in it (segments are convex).
        inside = (seg[0] == seg[1]) & (seg[1] == seg[2])
        out = np.empty((3, t.shape[1]))
        v = self.values[seg[0, inside]] * 0.5 * np.abs(area2[inside])
        out[0, inside] = v
        out[1, inside] = v * (px[1, inside] + px[2, inside] - 2 * px[0, inside]) / 3
        out[2, inside] = v * (py[1, inside] + py[2, inside] - 2 * py[0, inside]) / 3
        cross = np.flatnonzero(~inside)
        if cross.size:
            m = np.sign(area2[cross]) * self._around(x, y, t[:, cross])
            m[1] -= m[0] * px[0, cross]
            m[2] -= m[0] * py[0, cross]
            out[:, cross] = m
        return out

    def _around(self, x, y, t) -> np.ndarray:
        """Integrals of ``Phi dy``, ``Phi_x dy`` and ``y Phi dy`` around triangles ``t``
        traversed in the order of their vertices (counter-clockwise: the integrals of ``v``,
        ``v x`` and ``v y`` over them). Each edge is integrated once, from its lower-numbered
        node, and added to its triangles with the sign of their direction along it."""
        a, b = t.ravel(), np.roll(t, -1, axis=0).ravel()
        n = x.size
        key = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)
        edges, which = np.unique(key, return_inverse=True)
        ia, ib = edges // n, edges % n
        ints = np.zeros((3, edges.size))
        slanted = np.flatnonzero(y[ia] != y[ib])  # horizontal edges add nothing to a dy integral
        ints[:, slanted] = self._along(x[ia[slanted]], y[ia[slanted]], x[ib[slanted]],
                                       y[ib[slanted]])
        signed = np.where(a < b, 1.0, -1.0) * ints[:, which]
        owner = np.tile(np.arange(t.shape[1]), 3)
        return np.stack([np.bincount(owner, s, minlength=t.shape[1]) for s in signed])

    def _along(self, ax, ay, bx, by) -> np.ndarray:
        """Integrals of ``Phi dy``, ``Phi_x dy``, ``y Phi dy`` along line segments a -> b."""
        e, k, t0, t1 = self.bands.edge_pieces(ax, ay, bx, by)
        # On a piece Phi = c + v x and Phi_x = d + v x^2 / 2, with x and y linear along it:
        # the midpoint and the piece's extents integrate them exactly.
        c, d = self._antiderivatives
        dx, dy = (bx - ax)[e], (by - ay)[e]
        mid = 0.5 * (t0 + t1)
        xm, ym = ax[e] + mid * dx, ay[e] + mid * dy
        wx, wy = dx * (t1 - t0), dy * (t1 - t0)
        vk, ck = self.values[k], c[k]
        out = (wy * (ck + vk * xm),
               wy * (d[k] + 0.5 * vk * (xm * xm + wx * wx / 12.0)),
               wy * (ck * ym + vk * (xm * ym + wx * wy / 12.0)))
        return np.stack([np.bincount(e, o, minlength=ax.size) for o in out])

    def triangle_ranges(self, p: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest value inside each triangle (interiors: touching an edge or a
        corner does not count). ``p`` and ``t`` as for :meth:`triangle_moments`."""
        b = self.bands
        seg = b.vertex_segments(p, t)
        lo = self.values[seg[0]].copy()
        hi = lo.copy()
        cross = np.flatnonzero(~((seg[0] == seg[1]) & (seg[1] == seg[2])))
        if cross.size == 0:
            return lo, hi
        x = np.asarray(p[0], float) - b.die[0]
        y = np.asarray(p[1], float) - b.die[1]
        tri, k = b.triangle_segments(x[t[:, cross]], y[t[:, cross]])
        v = self.values[k]
        rlo, rhi = np.full(cross.size, np.inf), np.full(cross.size, -np.inf)
        np.minimum.at(rlo, tri, v)
        np.maximum.at(rhi, tri, v)
        found = np.isfinite(rlo)
        lo[cross[found]], hi[cross[found]] = rlo[found], rhi[found]
        return lo, hi


def _slab_extent(px, py, y0, y1):
    """x-extent of each triangle (px, py: (3, n)) within the slab y0 <= y <= y1: over the
    vertices inside the slab and the points where edges cross its two lines."""
    cand = [np.where((py[i] >= y0) & (py[i] <= y1), px[i], np.nan) for i in range(3)]
    for i in range(3):
        ax, ay = px[i], py[i]
        bx, by = px[(i + 1) % 3], py[(i + 1) % 3]
        lo, hi = np.minimum(ay, by), np.maximum(ay, by)
        with np.errstate(divide="ignore", invalid="ignore"):
            for line in (y0, y1):
                t = (line - ay) / (by - ay)
                cand.append(np.where((line >= lo) & (line <= hi) & (by != ay),
                                     ax + np.clip(t, 0, 1) * (bx - ax), np.nan))
    c = np.stack(cand)
    return np.nanmin(c, axis=0), np.nanmax(c, axis=0)
