"""The coarsest well-shaped triangle mesh of a die that conforms to a domain's rectangles.

:func:`init_base` builds the starting mesh every later refinement works from. It must

* contain every side of every rectangle of the domain (:meth:`thermal.geometry.floorplan.Floorplan.domain`:
  the material interfaces, none in the lumped model, or with ``conform=True`` every block and
  power source) as a union of mesh edges, so that what the mesh follows is constant on each
  element,
* be as coarse as the geometry allows, so that refinement (and nothing else) decides where the
  unknowns go: a big block gets a handful of big triangles, small blocks force small triangles
  only near themselves,
* have no angle below ``min_angle`` (25 degrees by default), so that every later bisection starts
  from well-shaped elements.

It is Ruppert's Delaunay refinement, run in vectorised batches: every round re-triangulates all
points with :class:`scipy.spatial.Delaunay` (qhull) and then

1. splits at its midpoint every segment that is encroached (a point lies strictly inside its
   diametral circle) or that is missing from the triangulation; while any segment is split this
   way, nothing else happens in the round;
2. otherwise computes, for every triangle with an angle below ``min_angle``, the point that
   removes it: Üngör's off-centre, or the circumcentre when that is nearer. A point encroaching
   a segment is rejected and the segment is split instead (this is what keeps the points inside
   the die and the segments in the mesh); of the remaining points, a batch that are not too
   close to each other is inserted.

Segments start as the rectangle sides and the die boundary, cut at every vertex lying on them
(T-junctions and, for power maps over blocks, crossings), so all input angles are 90 or 180
degrees: no small input angles, so Ruppert's refinement is proven to terminate for bounds up to
20.7 degrees and in practice does so well beyond (see :data:`MAX_MIN_ANGLE`).

:func:`quality` and :func:`conforms` measure a mesh (any :class:`skfem.MeshTri`) against these
requirements; tests and later refinement stages use them.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import skfem
from scipy.spatial import Delaunay, QhullError, cKDTree

from thermal.geometry.floorplan import RectLocator, Rects

__all__ = ["init_base", "quality", "conforms"]

#: Largest ``min_angle`` accepted. Ruppert's refinement is proven to terminate up to 20.7 degrees
#: and in practice does so well beyond. This batched version was stress-tested up to 32 degrees
#: on random floorplans; at 33 it occasionally runs away (ending in RuntimeError) and at 33.8 it
#: does so on ev6. Above 30 degrees meshes get markedly finer and slower to build.
MAX_MIN_ANGLE = 32.0
#: Refinement rounds (re-triangulations) before giving up.
MAX_ROUNDS = 400
#: Refinement gives up before making an edge shorter than this fraction of the die.
MIN_EDGE_FRACTION = 1e-9
#: Two points inserted in the same round must be at least this fraction of the larger of their
#: local spacings apart. Inserted one at a time (plain Ruppert), the second would usually be
#: gone once the first is in; too small a value lets batches create short edges (a finer mesh),
#: too large a value costs rounds.
BATCH_SPACING = 1.0
#: Relative tolerance of the "strictly inside a diametral circle" test: points on the circle
#: itself (cocircular, e.g. the corners of a square block) do not encroach.
_ENCROACH_RTOL = 1e-9
#: A round's new points are added to the last triangulation when it has fewer than
#: INCREMENTAL_BELOW points (3x cheaper than starting over on a few hundred), or when they are
#: at most INCREMENTAL_FRACTION of its points; otherwise a fresh triangulation is cheaper:
#: qhull's insertion has a cost per call that grows with the triangulation (on 16k points,
#: adding 2 % took 0.14 s, adding 20 % 0.26 s, triangulating all 0.23 s).
INCREMENTAL_BELOW = 3000
INCREMENTAL_FRACTION = 0.1
#: Off-centre factor: the off-centre is placed this fraction of the way to the point from which
#: the shortest edge subtends exactly ``min_angle`` (Shewchuk's Triangle uses 0.95); 0 disables
#: off-centres (plain circumcentres).
OFF_CENTRE = 0.95


# ---------------------------------------------------------------------------------- public API
def init_base(domain: Any, min_angle: float = 25.0) -> skfem.MeshTri:
    """Build the coarsest triangle mesh of the die that conforms to ``domain``, with angles
    >= ``min_angle``.

    Parameters
    ----------
    domain : thermal.geometry.floorplan.Domain
        Anything with ``edges`` (a :class:`~thermal.geometry.floorplan.Rects` of every rectangle whose
        sides the mesh must contain) and ``die`` (``(x0, y0, x1, y1)``, metres); a Floorplan
        itself stands for ``floorplan.domain(conform=True)``.
    min_angle : float
        Smallest angle allowed in any triangle, degrees; at most :data:`MAX_MIN_ANGLE`.

    Returns
    -------
    skfem.MeshTri
        Counter-clockwise triangles covering the die exactly; every rectangle side and the die
        boundary are unions of mesh edges. Vertices lying on rectangle sides have exactly the
        side's coordinate (splits of axis-aligned segments are exact in floating point). Built
        with ``sort_t=False`` so the orientation survives.

    Raises
    ------
    ValueError
        If ``min_angle`` is not in ``(0, MAX_MIN_ANGLE]`` or the die is empty.
    RuntimeError
        If the refinement does not finish within :data:`MAX_ROUNDS` rounds.
    """
    min_angle = float(min_angle)
    if not 0.0 < min_angle <= MAX_MIN_ANGLE:
        raise ValueError(f"min_angle must be in (0, {MAX_MIN_ANGLE}] degrees, got {min_angle}")
    die = tuple(float(v) for v in domain.die)
    if not (die[2] > die[0] and die[3] > die[1]):
        raise ValueError(f"empty die {die}")
    points, segments = _input_segments(domain.edges, die)
    points, triangles = _refine(points, segments, die, np.deg2rad(min_angle))
    return _to_mesh(points, triangles)


def quality(mesh: skfem.MeshTri) -> dict:
    """Size and shape statistics of a triangle mesh.

    Parameters
    ----------
    mesh : skfem.MeshTri

    Returns
    -------
    dict
        ``elements`` and ``nodes`` (int); ``min_angle_deg``, the smallest interior angle of any
        triangle (degrees); ``max_aspect_ratio``, the largest circumradius / (2 * inradius), which
        is 1 for an equilateral triangle and grows without bound for slivers; ``h_min`` and
        ``h_max``, the shortest and longest edge lengths (metres).
    """
    p, t = np.asarray(mesh.p, float), np.asarray(mesh.t)
    a, b, c = (p[:, t[k]].T for k in range(3))
    angles = _angles(a, b, c)
    la, lb, lc = (np.hypot(*(v - u).T) for u, v in ((b, c), (c, a), (a, b)))
    area = 0.5 * np.abs(_cross(b - a, c - a))
    # R = abc / (4 area), r = 2 area / (a + b + c)  =>  R / (2r) = abc (a+b+c) / (16 area^2).
    with np.errstate(divide="ignore", invalid="ignore"):
        aspect = la * lb * lc * (la + lb + lc) / (16.0 * area**2)
    # Element edges (each interior edge seen twice); cheaper than building mesh.facets.
    lengths = np.concatenate([la, lb, lc])
    return {
        "elements": int(t.shape[1]),
        "nodes": int(p.shape[1]),
        "min_angle_deg": float(np.rad2deg(angles.min())),
        "max_aspect_ratio": float(np.max(np.where(area > 0, aspect, np.inf))),
        "h_min": float(lengths.min()),
        "h_max": float(lengths.max()),
    }


def conforms(mesh: skfem.MeshTri, rects: Rects) -> bool:
    """Whether every side of every rectangle is exactly a union of mesh edges.

    Three vectorised checks, all of which must pass:

    1. the mesh is a valid tiling of its bounding box: non-degenerate triangles (of either
       orientation) whose areas add up to the box, every edge shared by at most two triangles,
       once in each direction when all are oriented counter-clockwise, and every boundary edge on
       the box (otherwise the following checks could be fooled by overlapping triangles);
    2. for each rectangle side, the mesh edges lying on the side's line within its extent have a
       total length equal to the side's length (relative tolerance 1e-9): the side is covered,
       with no mesh edge straddling either of its ends;
    3. no triangle crosses a rectangle: the centroid of each triangle is located among the
       rectangles (:class:`~thermal.geometry.floorplan.RectLocator`); all three vertices must lie in the
       closure of the rectangle found, or, for a triangle in a gap, outside every rectangle's
       interior. Overlapping rectangles (blocks and power-map cells) are checked in layers of
       mutually disjoint ones.

    Parameters
    ----------
    mesh : skfem.MeshTri
    rects : thermal.geometry.floorplan.Rects

    Returns
    -------
    bool
    """
    p, t = np.asarray(mesh.p, float), np.asarray(mesh.t)
    lo, hi = p.min(axis=1), p.max(axis=1)
    scale = float(np.max(hi - lo))
    tol = 1e-9 * scale
    if not _valid_tiling(p, t, lo, hi):
        return False
    if len(rects) == 0:
        return True
    edges = np.sort(np.asarray(mesh.facets), axis=0)
    for axis in (0, 1):  # axis 0: horizontal sides (constant y), 1: vertical sides
        if not _sides_covered(p, edges, rects, axis, tol):
            return False
    cx, cy = p[:, t].mean(axis=1)
    vx, vy = p[0, t], p[1, t]  # (3, elements)
    for layer in _disjoint_layers(rects):
        sub = Rects(rects.x0[layer], rects.y0[layer], rects.x1[layer], rects.y1[layer])
        locate = RectLocator(sub)
        k = locate(cx, cy)
        inside = k >= 0
        kk = np.maximum(k, 0)
        in_closure = ((vx >= sub.x0[kk] - tol) & (vx <= sub.x1[kk] + tol)
                      & (vy >= sub.y0[kk] - tol) & (vy <= sub.y1[kk] + tol)).all(axis=0)
        if not np.all(in_closure[inside]):
            return False
        kv = locate(vx, vy)
        kv0 = np.maximum(kv, 0)
        in_interior = ((kv >= 0) & (vx > sub.x0[kv0] + tol) & (vx < sub.x1[kv0] - tol)
                       & (vy > sub.y0[kv0] + tol) & (vy < sub.y1[kv0] - tol)).any(axis=0)
        if np.any(in_interior[~inside]):
            return False
    return True


# ---------------------------------------------------------------------------- input segments
def _input_segments(rects: Rects, die: tuple[float, float, float, float]):
    """Points and segments of the planar straight-line graph of the rectangles and the die.

    Everything is done on integer grid indices (position of each coordinate among the sorted
    unique coordinates), so coincidence tests are exact and the points carry the input
    coordinates unchanged.

    Returns
    -------
    points : ndarray, shape (n, 2)
    segments : ndarray of int, shape (m, 2)
        Point indices; no point lies in the interior of any segment, no duplicates.
    """
    x0 = np.concatenate([rects.x0, [die[0]]])
    y0 = np.concatenate([rects.y0, [die[1]]])
    x1 = np.concatenate([rects.x1, [die[2]]])
    y1 = np.concatenate([rects.y1, [die[3]]])
    xs, ys = np.unique(np.concatenate([x0, x1])), np.unique(np.concatenate([y0, y1]))
    nx, ny = xs.size, ys.size
    ix0, ix1 = np.searchsorted(xs, x0), np.searchsorted(xs, x1)
    iy0, iy1 = np.searchsorted(ys, y0), np.searchsorted(ys, y1)

    # Sides as (line, start, end) in grid indices: horizontal ones on rows, vertical on columns.
    h_line, h_a, h_b = np.concatenate([iy0, iy1]), np.tile(ix0, 2), np.tile(ix1, 2)
    v_line, v_a, v_b = np.concatenate([ix0, ix1]), np.tile(iy0, 2), np.tile(iy1, 2)

    # Vertices: the corners, plus proper crossings of a horizontal and a vertical side (only
    # possible when overlapping rectangles, e.g. power-map cells over blocks, are given).
    order = np.argsort(v_line, kind="stable")
    vl = v_line[order]
    start = np.searchsorted(vl, h_a, side="right")
    count = np.searchsorted(vl, h_b, side="left") - start
    h_i, pos = _expand(start, count)
    v_i = order[pos]
    cross = (v_a[v_i] < h_line[h_i]) & (h_line[h_i] < v_b[v_i])
    vx = np.concatenate([ix0, ix1, ix0, ix1, v_line[v_i[cross]]])
    vy = np.concatenate([iy0, iy0, iy1, iy1, h_line[h_i[cross]]])
    keys = np.unique(vy * nx + vx)  # row-major: sorted along each row
    px, py = keys % nx, keys // nx
    points = np.column_stack([xs[px], ys[py]])

    # Cut each side at every vertex on it: consecutive vertices along the line.
    seg_h = _cut(keys, h_line * nx + h_a, h_line * nx + h_b, np.arange(keys.size))
    keys_t = px * ny + py  # column-major keys, for vertical sides
    order_t = np.argsort(keys_t)
    seg_v = _cut(keys_t[order_t], v_line * ny + v_a, v_line * ny + v_b, order_t)
    segments = np.unique(np.sort(np.concatenate([seg_h, seg_v]), axis=1), axis=0)
    return points, segments


def _cut(sorted_keys, key_a, key_b, ids):
    """Segments between consecutive vertices (``ids`` in ``sorted_keys`` order) within [a, b]."""
    lo = np.searchsorted(sorted_keys, key_a, side="left")
    hi = np.searchsorted(sorted_keys, key_b, side="right")
    _, first = _expand(lo, np.maximum(hi - lo - 1, 0))
    return np.column_stack([ids[first], ids[first + 1]])


def _expand(start, count):
    """For ranges ``[start, start + count)``: the range of each item and the items, flattened."""
    count = np.asarray(count, dtype=np.int64)
    owner = np.repeat(np.arange(count.size), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return owner, np.asarray(start, dtype=np.int64)[owner] + offset


# ---------------------------------------------------------------------------- refinement
def _refine(points, segments, die, min_angle):
    """Ruppert refinement in batches. Returns the final points and (unoriented) triangles."""
    scale = max(die[2] - die[0], die[3] - die[1])
    # Ruppert's refinement can run away near its angle limit: a cascade of ever smaller splits
    # towards a corner. Nothing legitimate is this small (snapping merges edges 2e-4 of the die
    # apart), so reaching it means the refinement is not converging; stop before points
    # coincide in floating point.
    floor = MIN_EDGE_FRACTION * scale
    tri = None
    for _ in range(MAX_ROUNDS):
        # 1. Segments encroached by a point. If a point lies strictly inside a diametral circle
        # it is nearer to the centre than the segment's own endpoints, so the nearest neighbour
        # of the centre decides. This needs no triangulation, so it is repeated until no segment
        # is encroached before paying for one.
        while True:
            mid, half = _diametral(points, segments)
            tree = cKDTree(points)
            dist, _ = tree.query(mid, k=1)
            split = dist < half * (1.0 - _ENCROACH_RTOL)
            if not split.any():
                break
            _check_floor(half[split], floor, min_angle)
            points, segments = _split(points, segments, split)
        tri = _triangulated(tri, points)
        simplices = tri.simplices
        # Unencroached segments are Delaunay edges, but with cocircular points (a square's
        # corners) qhull may pick the other diagonal: split those too.
        n = len(points)
        edges = np.sort(_triangle_edge_keys(simplices, n))
        wanted = _edge_keys(segments, n)
        missing = edges[np.minimum(np.searchsorted(edges, wanted), edges.size - 1)] != wanted
        if missing.any():
            _check_floor(half[missing], floor, min_angle)
            points, segments = _split(points, segments, missing)
            continue

        # 2. Bad triangles and the points that remove them.
        pa, pb, pc = (points[simplices[:, k]] for k in range(3))
        worst = _angles(pa, pb, pc).min(axis=0)
        bad = np.flatnonzero(worst < min_angle * (1.0 - 1e-12))
        if bad.size == 0:
            return points, simplices
        centre, radius, clearance = _steiner_points(pa[bad], pb[bad], pc[bad], min_angle, die)
        finite = np.all(np.isfinite(centre), axis=1)
        centre, radius, clearance = centre[finite], radius[finite], clearance[finite]
        worst = worst[bad][finite]

        # A new point inside a diametral circle is not inserted; that segment is split instead.
        split, keep = _encroached_by(mid, half * (1.0 - _ENCROACH_RTOL), centre)
        # In exact arithmetic a circumcentre outside the die always encroaches a boundary segment;
        # this only guards against round-off.
        tol = 1e-12 * scale
        keep &= ((centre[:, 0] >= die[0] + tol) & (centre[:, 0] <= die[2] - tol)
                 & (centre[:, 1] >= die[1] + tol) & (centre[:, 1] <= die[3] - tol))
        # Circumcircles are empty, so a new point is at least its clearance from every point;
        # anything much nearer is a qhull round-off artefact and would make a tiny edge.
        near, _ = tree.query(centre, k=1)
        keep &= near > 0.5 * clearance
        keep &= _batch_filter(centre, radius, worst, keep)
        if not (keep.any() or split.any()):
            raise RuntimeError("mesh refinement made no progress: "
                               f"{bad.size} triangles below {np.rad2deg(min_angle):.1f} degrees")
        _check_floor(np.concatenate([half[split], radius[keep]]), floor, min_angle)
        if split.any():
            points, segments = _split(points, segments, split)
        points = np.concatenate([points, centre[keep]])
    raise RuntimeError(f"mesh refinement did not finish in {MAX_ROUNDS} rounds "
                       f"({len(points)} points); try a smaller min_angle")


def _triangulated(tri, points):
    """Delaunay triangulation of ``points``, extending ``tri`` (of a prefix of them) if possible.

    Points are only ever appended, so qhull can add the new ones to the last triangulation
    instead of starting over (see :data:`INCREMENTAL_BELOW`). Incremental qhull cannot take
    option ``Qz``, without which cocircular input (four corners of a square die) is a precision
    error; then the full triangulation is computed and the incremental one retried next round.
    """
    if tri is not None and len(points) == tri.npoints:
        return tri
    try:
        if tri is not None and (tri.npoints < INCREMENTAL_BELOW
                                or len(points) - tri.npoints <= INCREMENTAL_FRACTION * tri.npoints):
            tri.add_points(points[tri.npoints:])
            return tri
    except (QhullError, RuntimeError):  # RuntimeError: ``tri`` is not incremental
        pass
    try:
        return Delaunay(points, incremental=True)
    except QhullError:
        return Delaunay(points)


def _steiner_points(a, b, c, min_angle, die):
    """Where to insert a point to remove each bad triangle, and the local spacing there.

    Üngör's off-centre: on the bisector of the shortest edge pq, at the point from which pq is
    seen under (slightly more than) ``min_angle``, when that is nearer than the circumcentre;
    else the circumcentre. The new triangle on pq is then just good enough, instead of much
    better than needed, which saves points and gives smoother grading. Off-centres outside the
    die fall back to the circumcentre, whose encroachment of a boundary segment is guaranteed.

    Returns
    -------
    points : ndarray (n, 2)
    spacing : ndarray (n,)
        Distance from each point to the vertices of its triangle's shortest edge (the
        circumradius for a circumcentre): the length of the edges it will make.
    clearance : ndarray (n,)
        Distance from each point to its triangle's circumcircle; in exact arithmetic no
        existing point is nearer, since the circumcircle of a Delaunay triangle is empty.
    """
    centre, radius = _circumcircle(a, b, c)
    if not OFF_CENTRE:
        return centre, radius, radius
    la2, lb2, lc2 = (np.einsum("ij,ij->i", v - u, v - u) for u, v in ((b, c), (c, a), (a, b)))
    shortest = np.argmin(np.stack([la2, lb2, lc2]), axis=0)  # edge opposite a, b or c
    p = np.where((shortest == 0)[:, None], b, np.where((shortest == 1)[:, None], c, a))
    q = np.where((shortest == 0)[:, None], c, np.where((shortest == 1)[:, None], a, b))
    m = 0.5 * (p + q)
    half = 0.5 * np.sqrt(np.minimum(np.minimum(la2, lb2), lc2))
    to_c = centre - m
    dist_c = np.hypot(to_c[:, 0], to_c[:, 1])
    h = OFF_CENTRE * half / np.tan(0.5 * min_angle)
    with np.errstate(divide="ignore", invalid="ignore"):
        off = m + to_c * (h / dist_c)[:, None]
    use = ((h < dist_c) & (off[:, 0] > die[0]) & (off[:, 0] < die[2])
           & (off[:, 1] > die[1]) & (off[:, 1] < die[3]))
    point = np.where(use[:, None], off, centre)
    spacing = np.where(use, np.hypot(h, half), radius)
    clearance = np.where(use, radius - (dist_c - h), radius)
    return point, spacing, clearance


def _check_floor(sizes, floor, min_angle):
    """Raise if the refinement is about to create an edge shorter than ``floor``."""
    if sizes.size and sizes.min() < floor:
        raise RuntimeError(f"mesh refinement does not converge (edges below {floor:.3g} m); "
                           f"try a smaller min_angle than {np.rad2deg(min_angle):.1f} degrees")


def _diametral(points, segments):
    """Centres and radii of the segments' diametral circles."""
    a, b = points[segments[:, 0]], points[segments[:, 1]]
    return 0.5 * (a + b), 0.5 * np.hypot(*(b - a).T)


def _encroached_by(mid, radius, candidates):
    """Which circles (centre ``mid``, ``radius``) contain a candidate, and which candidates are
    in no circle.

    One k-d tree query with per-circle radii counts the candidates in each circle; the member
    lists are only fetched for the (few) circles that contain any.
    """
    if len(candidates) == 0:
        return np.zeros(len(mid), bool), np.ones(0, bool)
    tree = cKDTree(candidates)
    hit = tree.query_ball_point(mid, radius, return_length=True) > 0
    free = np.ones(len(candidates), bool)
    if hit.any():
        members = tree.query_ball_point(mid[hit], radius[hit])
        free[np.concatenate(members).astype(np.int64)] = False
    return hit, free


def _batch_filter(centre, spacing, worst, keep):
    """Drop candidates too near a more urgent one, so one round does not make tiny edges.

    Candidates ``i`` and ``j`` conflict when closer than ``BATCH_SPACING * max(s_i, s_j)`` (``s``
    the local spacing); of each conflicting pair the one from the better-shaped triangle (ties:
    the later one) goes. Every cluster keeps at least its most urgent member, so each round
    makes progress.
    """
    idx = np.flatnonzero(keep)
    out = np.zeros(len(centre), bool)
    if idx.size == 0:
        return out
    c, r = centre[idx], BATCH_SPACING * spacing[idx]
    tree = cKDTree(c)
    # Each candidate finds the ones within its own radius (itself included); only those with
    # company need their lists, which are flattened in one go.
    count = tree.query_ball_point(c, r, return_length=True)
    crowded = np.flatnonzero(count > 1)
    ok = np.ones(idx.size, bool)
    if crowded.size:
        i = np.repeat(crowded, count[crowded])
        j = np.concatenate(tree.query_ball_point(c[crowded], r[crowded])).astype(np.int64)
        i, j = i[i != j], j[i != j]
        rank = np.empty(idx.size, np.int64)
        rank[np.lexsort((np.arange(idx.size), worst[idx]))] = np.arange(idx.size)
        ok[np.where(rank[i] > rank[j], i, j)] = False
    out[idx] = ok
    return out


def _split(points, segments, which):
    """Split the segments flagged in ``which`` at their midpoints.

    The midpoint of an axis-aligned segment keeps its constant coordinate exactly
    (``0.5 * (x + x) == x`` in floating point), so the new vertex lies exactly on the side.
    """
    sel = np.flatnonzero(which)
    a, b = segments[sel, 0], segments[sel, 1]
    new = len(points) + np.arange(sel.size)
    points = np.concatenate([points, 0.5 * (points[a] + points[b])])
    segments = segments.copy()
    segments[sel, 1] = new
    return points, np.concatenate([segments, np.column_stack([new, b])])


# ---------------------------------------------------------------------------- geometry
def _cross(u, v):
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _angles(a, b, c):
    """Interior angles (3, n) at vertices a, b, c of triangles given as (n, 2) arrays.

    ``atan2(|cross|, dot)`` stays accurate for angles near 0 and 180 degrees, unlike acos.
    """
    out = []
    for p, q, r in ((a, b, c), (b, c, a), (c, a, b)):
        u, v = q - p, r - p
        out.append(np.arctan2(np.abs(_cross(u, v)), np.einsum("ij,ij->i", u, v)))
    return np.array(out)


def _circumcircle(a, b, c):
    """Circumcentres (n, 2) and circumradii (n,); non-finite for collinear vertices."""
    u, v = b - a, c - a
    d = 2.0 * _cross(u, v)
    uu, vv = np.einsum("ij,ij->i", u, u), np.einsum("ij,ij->i", v, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.column_stack([v[:, 1] * uu - u[:, 1] * vv, u[:, 0] * vv - v[:, 0] * uu]) / d[:, None]
    return a + off, np.hypot(off[:, 0], off[:, 1])


def _edge_keys(pairs, n):
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    return lo.astype(np.int64) * n + hi


def _triangle_edge_keys(simplices, n):
    return _edge_keys(np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]],
                                      simplices[:, [2, 0]]]), n)


def _to_mesh(points, simplices) -> skfem.MeshTri:
    """Counter-clockwise, compacted :class:`skfem.MeshTri` (``sort_t=False`` keeps orientation)."""
    pa, pb, pc = (points[simplices[:, k]] for k in range(3))
    area = 0.5 * _cross(pb - pa, pc - pa)
    scale = np.ptp(points, axis=0).max()
    if np.any(np.abs(area) <= 1e-14 * scale**2):
        raise RuntimeError("degenerate triangle in the base mesh")
    t = simplices.copy()
    flip = area < 0
    t[flip, 1], t[flip, 2] = simplices[flip, 2], simplices[flip, 1]
    used, inverse = np.unique(t, return_inverse=True)
    t = inverse.reshape(t.shape)
    return skfem.MeshTri(np.ascontiguousarray(points[used].T), np.ascontiguousarray(t.T),
                         sort_t=False)


# ---------------------------------------------------------------------------- conformity checks
def _valid_tiling(p, t, lo, hi) -> bool:
    """Positive triangles tiling the bounding box ``[lo, hi]`` exactly once (see conforms)."""
    a, b, c = (p[:, t[k]] for k in range(3))
    area = 0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
    box = float(np.prod(hi - lo))
    # skfem sorts each element's vertices by default (``sort_t``), so orientation is arbitrary:
    # orient every triangle counter-clockwise before checking.
    if np.any(area == 0) or abs(np.abs(area).sum() - box) > 1e-9 * box:
        return False
    t = np.where(area < 0, t[[0, 2, 1]], t)
    n = p.shape[1]
    directed = np.concatenate([t[[0, 1]], t[[1, 2]], t[[2, 0]]], axis=1)
    keys = _edge_keys(directed.T, n)
    uniq, counts = np.unique(keys, return_counts=True)
    if np.any(counts > 2):
        return False
    # Edges of a single triangle must lie on the box; and an interior edge must be used once in
    # each direction (two triangles on opposite sides), which the directed keys reveal.
    once = uniq[counts == 1]
    ea, eb = p[:, once // n], p[:, once % n]
    tol = 1e-9 * float(np.max(hi - lo))
    on_box = (((np.abs(ea[0] - lo[0]) <= tol) & (np.abs(eb[0] - lo[0]) <= tol))
              | ((np.abs(ea[0] - hi[0]) <= tol) & (np.abs(eb[0] - hi[0]) <= tol))
              | ((np.abs(ea[1] - lo[1]) <= tol) & (np.abs(eb[1] - lo[1]) <= tol))
              | ((np.abs(ea[1] - hi[1]) <= tol) & (np.abs(eb[1] - hi[1]) <= tol)))
    if not np.all(on_box):
        return False
    directed_keys = directed[0].astype(np.int64) * n + directed[1]
    return np.unique(directed_keys).size == directed_keys.size


def _sides_covered(p, edges, rects: Rects, axis: int, tol: float) -> bool:
    """Check 2 of :func:`conforms` for horizontal (``axis=0``) or vertical (``axis=1``) sides."""
    along, across = (0, 1) if axis == 0 else (1, 0)
    if axis == 0:
        line = np.concatenate([rects.y0, rects.y1])
        s0, s1 = np.tile(rects.x0, 2), np.tile(rects.x1, 2)
    else:
        line = np.concatenate([rects.x0, rects.x1])
        s0, s1 = np.tile(rects.y0, 2), np.tile(rects.y1, 2)
    e0, e1 = p[:, edges[0]], p[:, edges[1]]
    flat = np.abs(e1[across] - e0[across]) <= tol
    e_line = 0.5 * (e0[across] + e1[across])[flat]
    e_lo = np.minimum(e0[along], e1[along])[flat]
    e_hi = np.maximum(e0[along], e1[along])[flat]
    # Assign each mesh edge to the side line it lies on (side lines are distinct by far more than
    # the tolerance); edges on no side line are irrelevant.
    lines = np.unique(line)
    j = np.searchsorted(lines, e_line - tol)
    on = j < lines.size
    on[on] = lines[j[on]] <= e_line[on] + tol
    j, e_lo, e_hi = j[on], e_lo[on], e_hi[on]
    # Sort the edges by (line, start); the edges starting within a side are then one contiguous
    # run, found by binary search on a combined key (line index + position scaled into [0, 1)),
    # and their lengths summed from a cumulative sum.
    lo_all = min(s0.min(), e_lo.min(initial=s0.min())) - 2 * tol
    span = max(s1.max(), e_hi.max(initial=s1.max())) + 2 * tol - lo_all
    norm = lambda v: (v - lo_all) / span * 0.5
    ekey = 2.0 * j + norm(e_lo)
    order = np.argsort(ekey, kind="stable")
    ekey, e_hi, e_lo = ekey[order], e_hi[order], e_lo[order]
    length = np.concatenate([[0.0], np.cumsum(e_hi - e_lo)])
    sj = np.searchsorted(lines, line)
    first = np.searchsorted(ekey, 2.0 * sj + norm(s0 - tol), side="left")
    last = np.searchsorted(ekey, 2.0 * sj + norm(s1 - tol), side="left")
    # Mesh edges on one line do not overlap (valid tiling), so covering the side means: the run's
    # lengths add up to the side's, and its last edge ends within the side.
    total = length[last] - length[first]
    ends_inside = np.ones(line.size, bool)
    has = last > first
    ends_inside[has] = e_hi[last[has] - 1] <= s1[has] + tol
    return bool(np.all(ends_inside) and np.allclose(total, s1 - s0, rtol=1e-9, atol=tol))


def _disjoint_layers(rects: Rects) -> list[np.ndarray]:
    """Partition rectangles into groups with pairwise disjoint interiors.

    A :class:`RectLocator` table is filled in index order, so later rectangles overwrite earlier
    ones; a rectangle owning all of its cells overlaps nothing else still in the table. Those
    form one layer and the rest are processed again. Blocks plus power-map cells take two rounds.
    """
    remaining = np.arange(len(rects))
    layers = []
    while remaining.size:
        sub = Rects(rects.x0[remaining], rects.y0[remaining], rects.x1[remaining], rects.y1[remaining])
        loc = RectLocator(sub)
        cells = ((np.searchsorted(loc.xs, sub.x1) - np.searchsorted(loc.xs, sub.x0))
                 * (np.searchsorted(loc.ys, sub.y1) - np.searchsorted(loc.ys, sub.y0)))
        owned = np.bincount(loc.table[loc.table >= 0], minlength=remaining.size)
        whole = owned == cells
        layers.append(remaining[whole])
        remaining = remaining[~whole]
    return layers
