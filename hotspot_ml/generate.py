"""Synthetic HotSpot-style floorplans for training hotspot predictors.

:func:`random_case` draws one floorplan and package; :func:`generate` writes many of them as
``case_00000.flp`` / ``.ptrace`` / ``.toml`` triples, in parallel, reproducibly by seed.

Distributions
-------------
Block count ``n``
    Log-uniform on [5, 2000] (so tens of blocks are common, thousands occur), unless the caller
    forces it with ``blocks`` (1 to 20000). The count is exact: every case has ``n`` blocks.
Die
    Width log-uniform on [2, 30] mm, height = width times an aspect ratio log-uniform on
    [1/2, 2], redrawn until both sides are in [2, 30] mm and the area is at least
    ``n * (200 um)^2`` (so 2000 blocks get a die of at least ~9 mm: no block needs to be thinner
    than 50 um). Block corners are then put on the lattice below.
Lattice
    Every coordinate is an integer multiple of a pitch ``q`` chosen so the die's longer side is at
    most 4096 pitches. Two distinct edges are therefore at least ``q`` apart, which is more than
    the floorplan's snapping tolerance (at most ``2e-4 * 4096 q = 0.82 q``): snapping never moves
    anything. ``q`` is itself a multiple of 2**-24 m (60 nm), so coordinates, widths and their sums
    are exact in double precision and ``x + width`` reproduces a neighbour's ``x`` bit for bit.
Block shapes
    Every side is at least 50 um (rounded up to the lattice) and every aspect ratio is at most 50;
    ordinary blocks are cut with a per-case aspect limit drawn from [3, 10].
Layout style (uniform over :data:`STYLES` unless given)
    ``slicing``
        Recursive guillotine cuts: a block chosen with probability ~ area**alpha (alpha in
        [0.5, 2] per case: small alpha gives mixed sizes, large alpha even ones) is cut across its
        longer side more often than its shorter, at 15-85 % of its length. Gaps: 1 leaf plus up
        to 15 % of them removed (none in 10 % of cases).
    ``tiled``
        A manycore: an ``nx x ny`` array of identical, nearly square tiles ("cores"), each cut
        into 1-12 named sub-blocks (``c4_alu``, ``c4_l1d``...; caches at 30 % of the logic's
        density) by one random guillotine template shared by all tiles, mirrored in odd columns
        in half the cases and in odd rows in a quarter; in 30 % of cases the template has an empty
        slot (white space in every tile); routing channels 1-3 minimum sides wide between tiles in
        half the cases; in 70 % of cases a cache or IO strip 6-20 % of the die high along one side,
        cut into segments (``cache3``, ``io7``). In half the cases 0-40 % of the tiles are dark
        (zero power); the others run at 40-130 % activity.
    ``irregular``
        Non-guillotine: either a recursive partition mixing guillotine cuts with pinwheels (five
        blocks around a centre, which no guillotine cut separates), or a grid of uneven rows and
        columns whose cells are merged at random into larger rectangles. Gaps: 1 block plus up to
        20 % of them removed (none in 20 % of cases), and in half the cases 10-80 % of the blocks
        shrunk inside their cell (a "scatter" of rectangles with white space between them).
    Every style keeps a few blocks in reserve for the hot units; reserve they do not use is made
    up by guillotine cuts of random (mostly large) blocks. The layout is finally rotated/mirrored
    by one of the eight symmetries of the rectangle. Removed blocks are never the last ones on a
    die side, so blocks always touch all four sides (the die is their bounding box). About 80 %
    of cases have white space.
Power density (W/m^2; 1 W/cm^2 = 1e4 W/m^2)
    Ordinary blocks: lognormal with a per-case median log-uniform on [5, 40] W/cm^2 and sigma in
    [0.3, 1], clipped to [1, 100] W/cm^2; caches at 30 % of that; in 70 % of cases a fraction
    (up to 20 %) of the blocks has zero power. Hot units: 1-6 groups per case (none in 15 % of
    cases), each a single unit or (30 %) a cluster of 2x1 to 3x3 abutting cells, 75 % of them
    hot; one side log-uniform from 50 um to min(800 um, 15 % of the die), the other 1-2 times
    that; at a die corner (25 %), on a die edge (30 %) or in the middle (45 %); density
    log-uniform on [100, 2000] W/cm^2 (70-100 % of it for each cell of a cluster). A hot unit
    is carved out of the block under it (the rest of that block is cut into rectangles, with
    intermediate "halo" blocks where needed so that no piece is a sliver) or, if it falls in
    white space at least 50 um from any block, stands alone.
Total power
    If the mean rise ``P / (htc * die area)`` is outside [1, 150] K, all powers are scaled to a
    rise log-uniform on [1, 5] K (too cold) or [30, 150] K (too hot). Densities are then capped
    at 2000 W/cm^2.
Power trace
    One row in half the cases, else 2-6 rows of per-block lognormal fluctuations (sigma 0.05-0.5)
    whose mean is the block's power; the floorplan's power is exactly the mean of the written rows.
Package (:class:`~thermal.geometry.lumped.LumpedDie`)
    conductivity uniform on [100, 150] W/(m K); thickness log-uniform on [50 um, 0.8 mm];
    htc log-uniform on [2e3, 1e5] W/(m^2 K); ambient uniform on [298, 330] K; 4 significant digits.
"""
from __future__ import annotations

import math
import os
import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from thermal.geometry.floorplan import Floorplan
from thermal.io.hotspot import write_flp, write_ptrace
from thermal.geometry.lumped import LumpedDie

__all__ = ["STYLES", "random_case", "generate", "main_generate"]

#: Layout styles, see the module docstring.
STYLES = ("slicing", "tiled", "irregular")

# ---------------------------------------------------------------------- ranges (SI units)
BLOCK_RANGE = (5, 2000)          # sampled block counts
MAX_BLOCKS = 20000               # forced counts: above this no die in range holds them
DIE_RANGE = (2e-3, 30e-3)        # die side, m
DIE_ASPECT = 2.0                 # max die aspect ratio
AREA_PER_BLOCK = (200e-6) ** 2   # die area needed per block, m^2
MIN_SIDE = 50e-6                 # smallest block side, m
MAX_ASPECT = 50.0                # hard limit on any block's aspect ratio
HOT_ASPECT = 20.0                # limit on the pieces left around a carved hot unit
LATTICE = 4096                   # max pitches along the die's longer side
UNIT = 2.0 ** -24                # the pitch is a multiple of this (m): exact binary fractions
MAX_DENSITY = 2e7                # W/m^2 (2000 W/cm^2)
RISE_RANGE = (1.0, 150.0)        # K, mean rise P / (htc A)
PACKAGE_RANGES = {
    "conductivity": (100.0, 150.0),  # W/(m K), uniform
    "thickness": (50e-6, 0.8e-3),    # m, log-uniform
    "htc": (2e3, 1e5),               # W/(m^2 K), log-uniform
    "ambient": (298.0, 330.0),       # K, uniform
}

# Tile sub-block names; all end with a letter so that numbering duplicates stays unique.
_SUBS = ("alu", "fpu", "lsu", "rf", "ifu", "dec", "rob", "bpu", "mmu", "vec", "noc", "l1i",
         "l1d", "l2c")
_COOL = {"l1i", "l1d", "l2c"}   # caches run cooler than logic

Rect = tuple[int, int, int, int]   # (x0, y0, x1, y1) in lattice pitches


class _Retry(Exception):
    """A random construction painted itself into a corner; draw again (rare)."""


# ---------------------------------------------------------------------- small helpers
def _log_uniform(rng: np.random.Generator, lo: float, hi: float, size=None):
    return np.exp(rng.uniform(math.log(lo), math.log(hi), size))


def _aspect(r: Rect) -> float:
    w, h = r[2] - r[0], r[3] - r[1]
    return max(w / h, h / w)


def _worst(rects: Sequence[Rect]) -> float:
    return max((_aspect(r) for r in rects), default=1.0)


def _pick(want: float, d: int, m: int) -> int:
    """The integer in {0, d} U [m, d - m] nearest ``want``.

    Used for every offset between two edges that must be either identical or at least ``m``
    apart: a smaller gap would leave a sliver block (or a sliver of white space).
    """
    assert d == 0 or d >= m, "the outer offset itself must be legal"
    cands = [0, d]
    if d - m >= m:
        cands.append(int(min(max(round(want), m), d - m)))
    return min(cands, key=lambda v: (abs(v - want), v))


def _split_1d(rng: np.random.Generator, length: int, k: int, lmin: int, conc: float = 4.0) -> np.ndarray:
    """``k + 1`` increasing integer boundaries from 0 to ``length``, parts at least ``lmin`` long."""
    extra = length - k * lmin
    if extra < 0:
        raise _Retry
    share = np.floor(rng.dirichlet(np.full(k, conc)) * extra).astype(np.int64)
    share[-1] += extra - share.sum()
    return np.concatenate([[0], np.cumsum(share + lmin)])


# ---------------------------------------------------------------------- the layout being built
class _Layout:
    """Blocks on an integer lattice: rectangles, labels, densities (W/m^2) and hot flags.

    Plain lists: layouts are built by a few thousand local edits, where lists are the clearest.
    """

    def __init__(self, W: int, H: int):
        self.W, self.H = W, H
        self.rects: list[Rect] = []
        self.labels: list[str] = []
        self.density: list[float] = []
        self.hot: list[bool] = []

    def __len__(self) -> int:
        return len(self.rects)

    def add(self, rect: Rect, label: str, density: float, hot: bool = False) -> None:
        self.rects.append(tuple(int(v) for v in rect))
        self.labels.append(label)
        self.density.append(float(density))
        self.hot.append(hot)

    def remove(self, idx: Sequence[int]) -> None:
        drop = set(int(i) for i in idx)
        keep = [i for i in range(len(self)) if i not in drop]
        self.rects = [self.rects[i] for i in keep]
        self.labels = [self.labels[i] for i in keep]
        self.density = [self.density[i] for i in keep]
        self.hot = [self.hot[i] for i in keep]

    def array(self) -> np.ndarray:
        return np.array(self.rects, dtype=np.int64).reshape(-1, 4)


class _Densities:
    """Per-case distribution of ordinary power densities (W/m^2)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.median = float(_log_uniform(rng, 5e4, 4e5))   # 5-40 W/cm^2
        self.sigma = float(rng.uniform(0.3, 1.0))
        self.p_zero = 0.0 if rng.random() < 0.3 else float(rng.uniform(0.0, 0.2))

    def sample(self, k: int, scale: float = 1.0) -> np.ndarray:
        d = self.median * np.exp(self.sigma * self.rng.standard_normal(k))
        d = np.clip(d, 1e4, 1e6) * scale                   # 1-100 W/cm^2: "most blocks"
        return np.where(self.rng.random(k) < self.p_zero, 0.0, d)


# ---------------------------------------------------------------------- partitions
def _cut(rng: np.random.Generator, r: Rect, m: int, amax: float, along_x: bool) -> tuple[Rect, Rect]:
    """Guillotine cut of ``r`` across x (``along_x``) or y at 15-85 %, both pieces legal."""
    x0, y0, x1, y1 = r
    L, other = (x1 - x0, y1 - y0) if along_x else (y1 - y0, x1 - x0)
    lo = max(m, math.ceil(other / amax))
    a = int(min(max(round(L * rng.uniform(0.15, 0.85)), lo), L - lo))
    if along_x:
        return (x0, y0, x0 + a, y1), (x0 + a, y0, x1, y1)
    return (x0, y0, x1, y0 + a), (x0, y0 + a, x1, y1)


def _pinwheel(rng: np.random.Generator, r: Rect, m: int, amax: float) -> list[Rect] | None:
    """Five blocks: a centre and four arms turning around it (not separable by any straight cut)."""
    x0, y0, x1, y1 = r
    w, h = x1 - x0, y1 - y0
    a, b = round(w * rng.uniform(0.2, 0.45)), round(w * rng.uniform(0.55, 0.8))
    c, d = round(h * rng.uniform(0.2, 0.45)), round(h * rng.uniform(0.55, 0.8))
    local = [(0, 0, b, c), (b, 0, w, d), (a, d, w, h), (0, c, a, h), (a, c, b, d)]
    if rng.random() < 0.5:   # the other sense of rotation
        local = [(w - p[2], p[1], w - p[0], p[3]) for p in local]
    pieces = [(x0 + p[0], y0 + p[1], x0 + p[2], y0 + p[3]) for p in local]
    if any(min(p[2] - p[0], p[3] - p[1]) < m for p in pieces) or _worst(pieces) > amax:
        return None
    return pieces


def _grow(rng: np.random.Generator, rects: Sequence[Rect], n: int, m: int, amax: float,
          alpha: float = 1.0, p_pin: float = 0.0,
          frozen: Sequence[int] = ()) -> tuple[list[Rect], list[int]]:
    """Cut leaves of ``rects`` until there are ``n``: guillotine cuts, and pinwheels if p_pin > 0.

    The leaf cut next is drawn with probability ~ area**alpha among those that can be cut into
    legal pieces (sides >= m, aspect <= max(amax, the leaf's own)); a leaf is cut across its
    longer side with probability w^2 / (w^2 + h^2), so leaves stay compact. Leaves in ``frozen``
    are never cut.

    Returns
    -------
    rects : list of Rect
        A cut leaf keeps its index (first piece); further pieces are appended.
    parent : list of int
        For each output rectangle, the index of the input rectangle it was cut from.
    """
    rl = [tuple(int(v) for v in r) for r in rects]
    parent = list(range(len(rl)))
    weight = np.zeros(max(n, len(rl)) + 4)
    frozen = set(int(i) for i in frozen)

    def legal(i: int) -> tuple[bool, bool, float]:
        x0, y0, x1, y1 = rl[i]
        w, h = x1 - x0, y1 - y0
        am = max(amax, w / h, h / w)
        return w >= 2 * max(m, math.ceil(h / am)), h >= 2 * max(m, math.ceil(w / am)), am

    def update(i: int) -> None:
        can_x, can_y, _ = legal(i)
        x0, y0, x1, y1 = rl[i]
        ok = (can_x or can_y) and i not in frozen
        weight[i] = float((x1 - x0) * (y1 - y0)) ** alpha if ok else 0.0

    for i in range(len(rl)):
        update(i)
    while len(rl) < n:
        k = len(rl)
        cum = np.cumsum(weight[:k])
        if cum[-1] <= 0:
            raise _Retry
        i = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), k - 1)
        can_x, can_y, am = legal(i)
        pieces = None
        if p_pin > 0 and n - k >= 4 and rng.random() < p_pin:
            pieces = _pinwheel(rng, rl[i], m, am)
        if pieces is None:
            x0, y0, x1, y1 = rl[i]
            w, h = float(x1 - x0), float(y1 - y0)
            along_x = can_x and (not can_y or rng.random() < w * w / (w * w + h * h))
            pieces = list(_cut(rng, rl[i], m, am, along_x))
        rl[i] = pieces[0]
        update(i)
        for p in pieces[1:]:
            rl.append(p)
            parent.append(parent[i])
            update(len(rl) - 1)
    return rl, parent


def _partition(rng: np.random.Generator, W: int, H: int, n: int, m: int, amax: float,
               alpha: float = 1.0, p_pin: float = 0.0) -> list[Rect]:
    """A ``W x H`` rectangle cut into ``n`` leaves by :func:`_grow`."""
    return _grow(rng, [(0, 0, W, H)], n, m, amax, alpha, p_pin)[0]


def _merged_grid(rng: np.random.Generator, W: int, H: int, n: int, m: int, amax: float) -> list[Rect]:
    """An uneven grid whose cells are merged at random into larger rectangles, down to ``n`` blocks.

    Two blocks merge when they share a whole edge. Merges in both directions interleave, so the
    result is in general not a slicing floorplan.
    """
    cells = n * rng.uniform(1.3, 2.5)
    nx = int(np.clip(round(math.sqrt(cells * W / H)), 1, W // m))
    ny = int(np.clip(round(cells / nx), 1, H // m))
    xs = _split_1d(rng, W, nx, m, conc=rng.uniform(3, 10))
    ys = _split_1d(rng, H, ny, m, conc=rng.uniform(3, 10))
    rects: dict[int, Rect] = {}
    for i in range(nx):
        for j in range(ny):
            rects[len(rects)] = (int(xs[i]), int(ys[j]), int(xs[i + 1]), int(ys[j + 1]))
    amax = max(amax, _worst(list(rects.values())))
    if amax > MAX_ASPECT:
        raise _Retry
    next_id = len(rects)
    # Look-ups of a block by one of its edges, so a neighbour sharing a whole edge is O(1) away.
    left = {(r[0], r[1], r[3]): i for i, r in rects.items()}
    bottom = {(r[1], r[0], r[2]): i for i, r in rects.items()}
    alive = list(rects)
    pos = {i: k for k, i in enumerate(alive)}

    def drop(i: int) -> None:
        r = rects.pop(i)
        del left[(r[0], r[1], r[3])], bottom[(r[1], r[0], r[2])]
        k = pos.pop(i)
        last = alive.pop()
        if last != i:
            alive[k], pos[last] = last, k

    attempts = 0
    while len(alive) > n and attempts < 200 * (nx * ny + 10):
        attempts += 1
        i = alive[int(rng.integers(len(alive)))]
        r = rects[i]
        # The neighbour to the right or above; merging with the left/below one is the same pair.
        j = left.get((r[2], r[1], r[3])) if rng.random() < 0.5 else bottom.get((r[3], r[0], r[2]))
        if j is None:
            continue
        s = rects[j]
        merged = (min(r[0], s[0]), min(r[1], s[1]), max(r[2], s[2]), max(r[3], s[3]))
        if _aspect(merged) > amax:
            continue
        drop(i)
        drop(j)
        new, next_id = next_id, next_id + 1
        rects[new] = merged
        left[(merged[0], merged[1], merged[3])] = new
        bottom[(merged[1], merged[0], merged[2])] = new
        pos[new] = len(alive)
        alive.append(new)
    return [rects[i] for i in sorted(rects)]


# ---------------------------------------------------------------------- gaps
def _remove_gaps(rng: np.random.Generator, lay: _Layout, k: int) -> None:
    """Remove up to ``k`` random non-hot blocks, keeping a block on each of the four die sides."""
    if k <= 0:
        return
    a = lay.array()
    touch = np.stack([a[:, 0] == 0, a[:, 1] == 0, a[:, 2] == lay.W, a[:, 3] == lay.H], axis=1)
    left = touch.sum(axis=0)
    removed: list[int] = []
    for i in rng.permutation(len(lay)):
        if len(removed) == k:
            break
        if lay.hot[i] or np.any(touch[i] & (left <= 1)):
            continue
        removed.append(int(i))
        left -= touch[i]
    lay.remove(removed)


def _shrink(rng: np.random.Generator, lay: _Layout, frac: float, m: int, amax: float) -> None:
    """Shrink a fraction of the blocks to a random sub-rectangle of their cell (white space around).

    Sides on the die boundary stay there, so the die does not change; every new gap is either
    zero or at least ``m`` wide.
    """
    die = (0, 0, lay.W, lay.H)
    for i in np.flatnonzero(rng.random(len(lay)) < frac):
        r = lay.rects[i]
        new = list(r)
        for ax in (0, 1):
            lo, hi = r[ax], r[ax + 2]
            L = hi - lo
            size = max(m, round(L * rng.uniform(0.5, 1.0)))
            slack = L - size
            if slack < m:
                continue
            if lo == die[ax] and hi == die[ax + 2]:
                continue
            if lo == die[ax]:
                off = 0
            elif hi == die[ax + 2]:
                off = slack
            else:
                off = _pick(rng.uniform(0, slack), slack, m)
            new[ax], new[ax + 2] = lo + off, lo + off + size
        new = tuple(new)
        if _aspect(new) <= amax:
            lay.rects[i] = new


# ---------------------------------------------------------------------- layout styles
def _slicing(rng: np.random.Generator, W: int, H: int, n: int, m: int, dens: _Densities) -> _Layout:
    k_gap = 0 if rng.random() < 0.1 or n < 4 else 1 + int(n * rng.uniform(0.0, 0.15))
    leaves = _partition(rng, W, H, n + k_gap, m, rng.uniform(3, 10), alpha=rng.uniform(0.5, 2.0))
    lay = _Layout(W, H)
    for r, d in zip(leaves, dens.sample(len(leaves))):
        lay.add(r, "b", d)
    _remove_gaps(rng, lay, k_gap)
    return lay


def _irregular(rng: np.random.Generator, W: int, H: int, n: int, m: int, dens: _Densities) -> _Layout:
    amax = rng.uniform(3, 10)
    k_gap = 0 if rng.random() < 0.2 or n < 4 else 1 + int(n * rng.uniform(0.0, 0.2))
    if rng.random() < 0.5:
        leaves = _partition(rng, W, H, n + k_gap, m, amax, alpha=rng.uniform(0.5, 2.0),
                            p_pin=rng.uniform(0.3, 0.9))
    else:
        leaves = _merged_grid(rng, W, H, n + k_gap, m, amax)
    lay = _Layout(W, H)
    for r, d in zip(leaves, dens.sample(len(leaves))):
        lay.add(r, "b", d)
    _remove_gaps(rng, lay, k_gap)
    if rng.random() < 0.5:
        _shrink(rng, lay, rng.uniform(0.1, 0.8), m, max(amax, 10.0))
    return lay


def _tile_grid(T: int, W: int, H: int) -> tuple[int, int]:
    """(nx, ny) with nx * ny <= T, close to T, and tiles closest to square."""
    best, best_key = (1, 1), None
    for nx in range(1, T + 1):
        ny = T // nx
        if ny < 1:
            break
        key = (abs(math.log((W / nx) / (H / ny))) - 0.5 * (nx * ny) / T, nx)
        if best_key is None or key < best_key:
            best, best_key = (nx, ny), key
    return best


def _tiled(rng: np.random.Generator, W: int, H: int, n: int, m: int, dens: _Densities) -> _Layout:
    lay = _Layout(W, H)
    has_strip = n >= 3 and rng.random() < 0.7
    s = int(rng.integers(1, min(12, max(1, (n - has_strip) // 2)) + 1))
    subs = list(rng.choice(_SUBS, s, replace=False)) if s > 1 else ["core"]

    # A cache/IO strip along the bottom (the final symmetry moves it to any side).
    Ha, y_base = H, 0
    if has_strip:
        hs = max(m, round(H * rng.uniform(0.06, 0.2)))
        gs = 0 if rng.random() < 0.5 else int(rng.integers(1, 4)) * m
        Ha, y_base = H - hs - gs, hs + gs
        if Ha < m:
            raise _Retry

    T = max(1, (n - has_strip) // s)
    nx, ny = _tile_grid(T, W, Ha)
    # Routing channels: none, or 1-3 minimum sides but at most a tenth of the tile pitch.
    c = 0
    if rng.random() < 0.5:
        c = min(int(rng.integers(1, 4)) * m, min(W // nx, Ha // ny) // 10)
        c = c if c >= m else 0
    tw, th = (W - (nx - 1) * c) // nx, (Ha - (ny - 1) * c) // ny
    rx, ry = W - nx * tw - (nx - 1) * c, Ha - ny * th - (ny - 1) * c   # pitches left over
    if tw < m or th < m:
        raise _Retry

    # One template for all tiles; optionally with an empty slot (white space in every tile).
    hole = s >= 3 and rng.random() < 0.3
    template = _partition(rng, tw, th, s + hole, m, rng.uniform(3, 10), alpha=rng.uniform(0.5, 2.0))
    hole_at = -1
    if hole:
        t = np.array(template)
        touch = np.stack([t[:, 0] == 0, t[:, 1] == 0, t[:, 2] == tw, t[:, 3] == th], axis=1)
        ok = [i for i in range(len(t)) if not np.any(touch[i] & (touch.sum(axis=0) <= 1))]
        if not ok:
            raise _Retry
        hole_at = int(rng.choice(ok))
    slots = [r for i, r in enumerate(template) if i != hole_at]
    base = dens.sample(s)
    if not base.any():   # a template of only unpowered slots would make every tile dark
        base[int(rng.integers(s))] = dens.median
    base = [float(d) for d in base]
    base = [d * (0.3 if name in _COOL else 1.0) for d, name in zip(base, subs)]
    mirror_x, mirror_y = rng.random() < 0.5, rng.random() < 0.25
    p_dark = 0.0 if rng.random() < 0.5 else rng.uniform(0.0, 0.4)

    t = 0
    for j in range(ny):
        for i in range(nx):
            # Tiles take the left-over pitches one each, so channels stay exactly c wide; the
            # template stretches by moving its right/top edges.
            wi, hj = tw + (i < rx), th + (j < ry)
            x0 = i * tw + min(i, rx) + i * c
            y0 = y_base + j * th + min(j, ry) + j * c
            act = 0.0 if rng.random() < p_dark else rng.uniform(0.4, 1.3)
            for (a, b, e, f), name, d in zip(slots, subs, base):
                e, f = e + (wi - tw) * (e == tw), f + (hj - th) * (f == th)
                if mirror_x and i % 2:
                    a, e = wi - e, wi - a
                if mirror_y and j % 2:
                    b, f = hj - f, hj - b
                lay.add((x0 + a, y0 + b, x0 + e, y0 + f), f"c{t}_{name}", d * act)
            t += 1

    if has_strip:
        kind = "cache" if rng.random() < 0.6 else "io"
        lmin = max(m, math.ceil(hs / 40))
        k = int(min(max(1, n - len(lay)), W // lmin, 256))
        xs = _split_1d(rng, W, k, lmin, conc=rng.uniform(2, 20))
        ds = dens.sample(k, 0.3 if kind == "cache" else 1.0)
        for i in range(k):
            lay.add((xs[i], 0, xs[i + 1], hs), kind, ds[i])
    return lay


_BUILDERS: dict[str, Callable[..., _Layout]] = {
    "slicing": _slicing, "tiled": _tiled, "irregular": _irregular}


# ---------------------------------------------------------------------- hot units
def _frame(H: Rect, R: Rect, vertical: bool) -> list[Rect]:
    """``H`` minus ``R`` (inside it) as at most four rectangles: full-height sides if vertical."""
    hx0, hy0, hx1, hy1 = H
    rx0, ry0, rx1, ry1 = R
    if vertical:
        pieces = [(hx0, hy0, rx0, hy1), (rx1, hy0, hx1, hy1), (rx0, hy0, rx1, ry0), (rx0, ry1, rx1, hy1)]
    else:
        pieces = [(hx0, hy0, hx1, ry0), (hx0, ry1, hx1, hy1), (hx0, ry0, rx0, ry1), (rx1, ry0, hx1, ry1)]
    return [p for p in pieces if p[2] > p[0] and p[3] > p[1]]


def _halo(H: Rect, R: Rect, m: int, factor: float = 4.0) -> Rect:
    """A rectangle between ``R`` and ``H``, about ``factor`` times ``R``; legal offsets on all sides."""
    out = list(R)
    for ax in (0, 1):
        want = (factor - 1) / 2 * (R[ax + 2] - R[ax])
        out[ax] = R[ax] - _pick(want, R[ax] - H[ax], m)
        out[ax + 2] = R[ax + 2] + _pick(want, H[ax + 2] - R[ax + 2], m)
    return tuple(out)


def _carve(H: Rect, R: Rect, m: int, depth: int = 0) -> list[Rect] | None:
    """Rectangles covering ``H`` minus ``R``, none with aspect above HOT_ASPECT; None if impossible.

    A small unit in a large block would leave thin pieces beside it, so intermediate halos
    (each ~4x the one inside) grade the block sizes from the host down to the unit.
    """
    best = min((_frame(H, R, v) for v in (True, False)), key=lambda ps: (_worst(ps), len(ps)))
    if _worst(best) <= HOT_ASPECT:
        return best
    M = _halo(H, R, m)
    if depth >= 6 or M == H or M == R:
        return best if _worst(best) <= MAX_ASPECT else None
    outer, inner = _carve(H, M, m, depth + 1), _carve(M, R, m, depth + 1)
    if outer is None or inner is None:
        return None
    return outer + inner


def _add_hot_units(rng: np.random.Generator, lay: _Layout, n: int, m: int, q: float) -> None:
    """Carve 0-6 hot units or clusters into the layout, never exceeding ``n`` blocks."""
    groups = 0 if rng.random() < 0.15 else int(rng.integers(1, 7))
    W, H = lay.W, lay.H
    smax = min(800e-6, 0.15 * min(W, H) * q)
    for _ in range(groups):
        cluster = rng.random() < 0.3
        a, b = (int(rng.integers(1, 4)), int(rng.integers(1, 4))) if cluster else (1, 1)
        if a * b == 1 and cluster:
            a = 2
        sw = max(m, round(float(_log_uniform(rng, MIN_SIDE, smax)) / q))
        sh = max(m, round(sw * rng.uniform(1.0, 2.0)))
        if rng.random() < 0.5:
            sw, sh = sh, sw
        Rw, Rh = a * sw, b * sh
        if Rw > W or Rh > H:
            continue
        hot_cell = rng.random(a * b) < 0.75
        hot_cell[int(rng.integers(a * b))] = True
        density = float(_log_uniform(rng, 1e6, MAX_DENSITY))
        cell_density = density * rng.uniform(0.7, 1.0, a * b)
        where = rng.choice(["corner", "edge", "middle"], p=[0.25, 0.3, 0.45])
        if where == "corner":
            x0 = 0 if rng.random() < 0.5 else W - Rw
            y0 = 0 if rng.random() < 0.5 else H - Rh
        elif where == "edge":
            x0, y0 = round(rng.uniform(0, W - Rw)), round(rng.uniform(0, H - Rh))
            side = int(rng.integers(4))
            x0 = 0 if side == 0 else W - Rw if side == 1 else x0
            y0 = 0 if side == 2 else H - Rh if side == 3 else y0
        else:
            x0 = round(rng.uniform(0.1 * W, max(0.1 * W, 0.9 * W - Rw)))
            y0 = round(rng.uniform(0.1 * H, max(0.1 * H, 0.9 * H - Rh)))
        x0, y0 = min(max(x0, 0), W - Rw), min(max(y0, 0), H - Rh)

        arr = lay.array()
        ox = np.minimum(arr[:, 2], x0 + Rw) - np.maximum(arr[:, 0], x0)
        oy = np.minimum(arr[:, 3], y0 + Rh) - np.maximum(arr[:, 1], y0)
        overlap = np.where((ox > 0) & (oy > 0), ox * oy, 0)
        cells = [(x0 + u * sw, y0 + v * sh, x0 + (u + 1) * sw, y0 + (v + 1) * sh)
                 for v in range(b) for u in range(a)]
        if not overlap.any():
            # In white space: the unit stands alone if nothing is nearer than m (no sliver gaps);
            # cold cells of a cluster stay white space.
            gx0, gy0 = max(x0 - m, 0), max(y0 - m, 0)
            gx1, gy1 = min(x0 + Rw + m, W), min(y0 + Rh + m, H)
            near = (np.minimum(arr[:, 2], gx1) > np.maximum(arr[:, 0], gx0)) & \
                   (np.minimum(arr[:, 3], gy1) > np.maximum(arr[:, 1], gy0))
            if near.any() or len(lay) + int(hot_cell.sum()) > n:
                continue
            for cell, is_hot, d in zip(cells, hot_cell, cell_density):
                if is_hot:
                    lay.add(cell, "hot", d, hot=True)
            continue

        host = int(np.argmax(overlap))
        if any(lay.hot[i] for i in np.flatnonzero(overlap)):
            continue
        hx0, hy0, hx1, hy1 = lay.rects[host]
        dx, dy = hx1 - hx0 - Rw, hy1 - hy0 - Rh
        if min(dx, dy) < 0 or 0 < dx < m or 0 < dy < m:   # would leave a sliver beside the unit
            continue
        # Move the unit inside its host, as near the intended place as legal offsets allow.
        nx0 = hx0 + _pick(x0 - hx0, hx1 - hx0 - Rw, m)
        ny0 = hy0 + _pick(y0 - hy0, hy1 - hy0 - Rh, m)
        R = (nx0, ny0, nx0 + Rw, ny0 + Rh)
        pieces = _carve(lay.rects[host], R, m)
        if pieces is None or len(lay) - 1 + len(pieces) + a * b > n:
            continue
        label, hd = lay.labels[host], lay.density[host]
        lay.remove([host])
        for p in pieces:
            lay.add(p, label, hd)
        for (cx0, cy0, cx1, cy1), is_hot, d in zip(cells, hot_cell, cell_density):
            cell = (cx0 - x0 + nx0, cy0 - y0 + ny0, cx1 - x0 + nx0, cy1 - y0 + ny0)
            if is_hot:
                lay.add(cell, "hot", d, hot=True)
            else:
                lay.add(cell, label, hd)


# ---------------------------------------------------------------------- final touches
def _split_to(rng: np.random.Generator, lay: _Layout, n: int, m: int, amax: float = 10.0) -> None:
    """Cut random non-hot blocks (mostly large ones) until there are ``n``; pieces keep their
    block's label and density."""
    if len(lay) >= n:
        return
    rects, parent = _grow(rng, lay.rects, n, m, amax, frozen=[i for i, h in enumerate(lay.hot) if h])
    lay.rects = rects
    lay.labels = [lay.labels[i] for i in parent]
    lay.density = [lay.density[i] for i in parent]
    lay.hot = [lay.hot[i] for i in parent]


def _symmetry(rng: np.random.Generator, lay: _Layout) -> np.ndarray:
    """The blocks under one of the 8 symmetries of the rectangle; returns the (n, 4) array."""
    a = lay.array()
    W, H = lay.W, lay.H
    k = int(rng.integers(8))
    if k & 1:
        a[:, [0, 2]] = W - a[:, [2, 0]]
    if k & 2:
        a[:, [1, 3]] = H - a[:, [3, 1]]
    if k & 4:
        a = a[:, [1, 0, 3, 2]]
        lay.W, lay.H = H, W
    return a


def _check(a: np.ndarray, W: int, H: int, n: int, m: int) -> None:
    """Internal consistency: a failure here is a bug in this module, not bad luck."""
    w, h = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    problems = []
    if len(a) != n:
        problems.append(f"{len(a)} blocks instead of {n}")
    if w.min() < m or h.min() < m:
        problems.append("a side below the minimum")
    if np.max(np.maximum(w / h, h / w)) > MAX_ASPECT:
        problems.append("an aspect ratio above the maximum")
    if (a[:, 0].min(), a[:, 1].min(), a[:, 2].max(), a[:, 3].max()) != (0, 0, W, H):
        problems.append("the blocks do not touch all four die sides")
    if problems:
        raise RuntimeError("generator bug: " + "; ".join(problems))


def _names(labels: Sequence[str]) -> list[str]:
    """Unique names: a label used once stays as is, repeated labels are numbered (b0, b1, ...)."""
    total, seen = Counter(labels), Counter()
    out = []
    for lab in labels:
        if total[lab] == 1:
            out.append(lab)
        else:
            out.append(f"{lab}{seen[lab]}")
            seen[lab] += 1
    return out


def _package(rng: np.random.Generator) -> LumpedDie:
    def sig(v: float) -> float:   # 4 significant digits: readable files, still within the ranges
        return float(f"{v:.4g}")

    return LumpedDie(
        conductivity=sig(rng.uniform(*PACKAGE_RANGES["conductivity"])),
        thickness=sig(float(_log_uniform(rng, *PACKAGE_RANGES["thickness"]))),
        htc=sig(float(_log_uniform(rng, *PACKAGE_RANGES["htc"]))),
        ambient=sig(rng.uniform(*PACKAGE_RANGES["ambient"])),
    )


def _die(rng: np.random.Generator, n: int) -> tuple[int, int, float, int]:
    """Die sides in pitches, the pitch (m) and the minimum block side in pitches."""
    lo, hi = DIE_RANGE
    need = max(lo * lo, n * AREA_PER_BLOCK)
    for _ in range(10000):
        w = float(_log_uniform(rng, lo, hi))
        h = w * float(_log_uniform(rng, 1 / DIE_ASPECT, DIE_ASPECT))
        if lo <= h <= hi and w * h >= need:
            break
    else:  # pragma: no cover - only for counts far beyond MAX_BLOCKS
        raise ValueError(f"no die in range holds {n} blocks")
    q = math.ceil(max(w, h) / LATTICE / UNIT) * UNIT
    nmin, nmax = math.ceil(lo / q), min(math.floor(hi / q), LATTICE)
    W = int(np.clip(round(w / q), nmin, nmax))
    H = int(np.clip(round(h / q), nmin, nmax))
    return W, H, q, math.ceil(MIN_SIDE / q)


def _powers(rng: np.random.Generator, density: np.ndarray, area: np.ndarray, die_area: float,
            htc: float) -> np.ndarray:
    """Block powers (W) rescaled to a plausible mean rise, then the trace rows (nrows, nblocks)."""
    cap = MAX_DENSITY * area * (1 - 1e-9)   # a hair below: the trace mean's rounding stays <= cap
    watts = np.minimum(density * area, cap)
    if watts.sum() <= 0:   # everything dark: light the largest block so there is something to solve
        watts[np.argmax(area)] = 1e5 * area[np.argmax(area)]
    rise = watts.sum() / (htc * die_area)
    target = float(_log_uniform(rng, 30.0, 150.0) if rise > RISE_RANGE[1] else _log_uniform(rng, 1.0, 5.0))
    for _ in range(10):   # capping hot units after a scale-up lowers the rise: a few rounds
        rise = watts.sum() / (htc * die_area)
        if RISE_RANGE[0] <= rise <= RISE_RANGE[1]:
            break
        watts = np.minimum(watts * (target / rise), cap)
    wanted = target * htc * die_area
    if watts.sum() < RISE_RANGE[0] * htc * die_area:
        # Every powered block is at the density cap (a few tiny hot units on a dark die): light
        # the others' headroom in proportion until the die is warm enough.
        headroom = cap - watts
        watts = watts + headroom * min(1.0, (wanted - watts.sum()) / headroom.sum())

    nrows = 1 if rng.random() < 0.5 else int(rng.integers(2, 7))
    if nrows == 1:
        return watts[None, :]
    f = np.exp(rng.uniform(0.05, 0.5) * rng.standard_normal((nrows, watts.size)))
    f /= f.mean(axis=0)
    f[:, watts * f.max(axis=0) > cap] = 1.0   # no sample above the density cap either
    return watts[None, :] * f


def _case(rng: np.random.Generator, style: str | None = None,
          blocks: int | None = None) -> tuple[Floorplan, LumpedDie, np.ndarray, str]:
    """:func:`random_case` plus the power-trace rows and the style used."""
    if style is None:
        style = STYLES[int(rng.integers(len(STYLES)))]
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {', '.join(STYLES)}")
    if blocks is None:
        n = int(round(float(_log_uniform(rng, *BLOCK_RANGE))))
    else:
        n = int(blocks)
        if n != blocks or not 1 <= n <= MAX_BLOCKS:
            raise ValueError(f"blocks must be an integer in [1, {MAX_BLOCKS}], got {blocks!r}")
    package = _package(rng)
    W0, H0, q, m = _die(rng, n)
    dens = _Densities(rng)
    for _ in range(50):
        try:
            # Keep some blocks in reserve for the hot units; cuts make up any remainder.
            reserve = 0 if n < 3 else min(n // 2, int(rng.integers(1, 12)) + round(n * rng.uniform(0.0, 0.1)))
            lay = _BUILDERS[style](rng, W0, H0, n - reserve, m, dens)
            if len(lay) > n:
                raise _Retry
            _add_hot_units(rng, lay, n, m, q)
            _split_to(rng, lay, n, m)
            break
        except _Retry:
            continue
    else:  # pragma: no cover - would need 50 unlucky draws in a row
        raise RuntimeError(f"could not build a {style} floorplan of {n} blocks")
    a = _symmetry(rng, lay)
    W, H = lay.W, lay.H
    _check(a, W, H, n, m)

    # Metres: integers times a binary-fraction pitch, exact (see the module docstring).
    x, y = a[:, 0] * q, a[:, 1] * q
    w, h = (a[:, 2] - a[:, 0]) * q, (a[:, 3] - a[:, 1]) * q
    rows = _powers(rng, np.array(lay.density), w * h, W * H * q * q, package.htc)
    names = _names(lay.labels)
    fp = Floorplan.from_blocks(names, x, y, w, h, rows.mean(axis=0),
                               source=f"<{style} floorplan>", power_source=f"<{style} power>")
    return fp, package, rows, style


# ---------------------------------------------------------------------- public API
def random_case(rng: np.random.Generator, style: str | None = None,
                blocks: int | None = None) -> tuple[Floorplan, LumpedDie]:
    """Draw one synthetic floorplan and package (distributions in the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness: the same generator state gives the same case.
    style : {"slicing", "tiled", "irregular"}, optional
        Layout style; drawn uniformly from :data:`STYLES` if omitted.
    blocks : int, optional
        Exact number of blocks (1 to 20000); log-uniform on [5, 2000] if omitted.

    Returns
    -------
    floorplan : Floorplan
        Validated, with no edge moved by snapping; block power is the mean of the trace rows
        :func:`generate` writes.
    package : LumpedDie
        Conductivity, thickness, heat-transfer coefficient and ambient.

    Raises
    ------
    ValueError
        Unknown style, or ``blocks`` out of range.
    """
    fp, package, _, _ = _case(rng, style, blocks)
    return fp, package


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Write via a temporary file in the same directory, then rename over ``path``.

    A reader never sees a half-written file, and an interrupted run leaves no partial case.
    The temporary name uses OS randomness, never the case's generator, so outputs stay
    reproducible.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write(str(tmp))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _toml(package: LumpedDie, header: str) -> str:
    lines = [f"# {header}"] + [f"{k} = {getattr(package, k)!r}" for k in PACKAGE_RANGES]
    return "\n".join(lines) + "\n"


def _write_case(out: Path, index: int, seed: np.random.SeedSequence) -> tuple[Path, int, str]:
    """Draw case ``index`` from its own seed and write its three files; the .flp last."""
    fp, package, rows, style = _case(np.random.default_rng(seed))
    stem = out / f"case_{index:05d}"
    header = f"thermesh generate: {stem.name}, style {style}, {len(fp.names)} blocks"
    _atomic_write(stem.with_suffix(".toml"), lambda p: Path(p).write_text(
        _toml(package, header), encoding="utf-8"))
    _atomic_write(stem.with_suffix(".ptrace"), lambda p: write_ptrace(p, fp.names, rows))
    # Written last: an existing .flp means its .ptrace and .toml are complete.
    _atomic_write(stem.with_suffix(".flp"), lambda p: write_flp(p, fp))
    return stem.with_suffix(".flp"), len(fp.names), style


def _generate(count: int, seed: int, out: str | Path, workers: int,
              progress: bool) -> list[tuple[Path, int, str]]:
    from joblib import Parallel, delayed
    from tqdm import tqdm

    if int(count) != count or count < 0:
        raise ValueError(f"count must be a non-negative integer, got {count!r}")
    if int(workers) != workers or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # One child seed per case: case i is the same whatever the number of workers or the order
    # in which they finish.
    children = np.random.SeedSequence(int(seed)).spawn(int(count))
    tasks = (delayed(_write_case)(out, i, c) for i, c in enumerate(children))
    results = []
    with tqdm(total=int(count), desc="generate", unit="case", disable=not progress) as bar:
        for res in Parallel(n_jobs=int(workers), backend="loky", return_as="generator")(tasks):
            results.append(res)
            bar.update()
    return results


def generate(count: int, seed: int, out: str | Path, workers: int = 1,
             progress: bool = True) -> list[Path]:
    """Write ``count`` random cases to ``out`` as ``case_00000.flp``, ``.ptrace`` and ``.toml``.

    Parameters
    ----------
    count : int
        Number of cases (>= 0).
    seed : int
        Non-negative seed. Case ``i`` is drawn from child ``i`` of
        ``numpy.random.SeedSequence(seed)``, so outputs are byte-identical for a given seed
        whatever ``workers`` is, and the first cases of a larger run equal a smaller run's.
    out : str or Path
        Directory, created if needed; existing files of the same names are replaced.
    workers : int
        Parallel processes (joblib, loky backend).
    progress : bool
        Show a tqdm progress bar (on stderr).

    Returns
    -------
    list of Path
        The ``.flp`` files, in case order. The ``.ptrace`` holds a header of block names and one
        or a few rows of watts (steady power = their mean); the ``.toml`` holds the package
        parameters ``conductivity``, ``thickness``, ``htc`` and ``ambient``, readable by
        :func:`thermal.app.config.read_config`. Each file is written to a temporary name and renamed.
    """
    return [p for p, _, _ in _generate(count, seed, out, workers, progress)]


def main_generate(args) -> int:
    """CLI entry: ``thermesh generate --count N --seed S --out DIR [--workers W]``.

    Parameters
    ----------
    args : argparse.Namespace
        ``count``, ``seed``, ``out`` and optionally ``workers`` (default 1) and ``progress``
        (default True).

    Returns
    -------
    int
        Exit status 0; prints one summary line.
    """
    t0 = time.perf_counter()
    workers = getattr(args, "workers", None) or 1
    res = _generate(args.count, args.seed, args.out, workers, getattr(args, "progress", True))
    styles = Counter(s for _, _, s in res)
    sizes = [k for _, k, _ in res]
    span = f"{min(sizes)}-{max(sizes)} blocks" if sizes else "no blocks"
    mix = ", ".join(f"{styles[s]} {s}" for s in STYLES)
    print(f"generated {len(res)} cases in {args.out} (seed {args.seed}, {workers} workers, "
          f"{time.perf_counter() - t0:.1f} s): {span}; {mix}")
    return 0
