"""The floorplan: named rectangular blocks on a die, and the heat sources that power it.

A :class:`Floorplan` is immutable. It holds

* the blocks (names and rectangles, in metres, in the file's own coordinates),
* the heat sources: rectangles of uniform power density. They are the blocks themselves when
  power is given per block (HotSpot ``.ptrace``), or the cells of a gridded power map,
* the die: the bounding box of the blocks; gaps between blocks carry no power unless a power map
  puts some there.

Every floorplan is validated and snapped when it is built (:meth:`Floorplan.from_blocks`): block
edges closer than a tolerance are merged so that a mesh conforming to them stays well shaped, and
each source keeps its total power exactly (its density becomes power / snapped area).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np

from thermal.errors import InputError

#: Edges closer than this fraction of the die's longer side are merged ...
SNAP_DIE_FRACTION = 2e-4
#: ... unless that is more than this fraction of the smallest block or power-map cell side.
SNAP_FEATURE_FRACTION = 0.05


@dataclass(frozen=True, eq=False)
class Rects:
    """Axis-aligned rectangles stored as arrays of corners (metres)."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray

    def __post_init__(self) -> None:
        for name in ("x0", "y0", "x1", "y1"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float).reshape(-1))

    def __len__(self) -> int:
        return self.x0.size

    @property
    def width(self) -> np.ndarray:
        return self.x1 - self.x0

    @property
    def height(self) -> np.ndarray:
        return self.y1 - self.y0

    @property
    def area(self) -> np.ndarray:
        return self.width * self.height

    def mapped(self, xmap, ymap) -> "Rects":
        """The rectangles with x and y coordinates passed through ``xmap`` and ``ymap``."""
        return Rects(xmap(self.x0), ymap(self.y0), xmap(self.x1), ymap(self.y1))


class RectLocator:
    """Find which of a set of non-overlapping rectangles contains each point (vectorised).

    The rectangles' edges cut the plane into a tensor grid of cells; a table maps each cell to
    the rectangle covering it (or -1), so a query is two ``searchsorted`` calls and a lookup.
    """

    def __init__(self, rects: Rects):
        self.xs = np.unique(np.concatenate([rects.x0, rects.x1]))
        self.ys = np.unique(np.concatenate([rects.y0, rects.y1]))
        table = np.full((self.ys.size - 1, self.xs.size - 1), -1, dtype=np.int64)
        ix0, ix1 = np.searchsorted(self.xs, rects.x0), np.searchsorted(self.xs, rects.x1)
        iy0, iy1 = np.searchsorted(self.ys, rects.y0), np.searchsorted(self.ys, rects.y1)
        ncols, nrows = ix1 - ix0, iy1 - iy0
        counts = ncols * nrows
        owner = np.repeat(np.arange(len(rects)), counts)
        k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        table[iy0[owner] + k // ncols[owner], ix0[owner] + k % ncols[owner]] = owner
        self.table = table

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the rectangle containing each point; -1 outside all of them.

        A point on a shared edge belongs to the rectangle to its right / above.
        """
        x, y = np.asarray(x, float), np.asarray(y, float)
        ix = np.searchsorted(self.xs, x, side="right") - 1
        iy = np.searchsorted(self.ys, y, side="right") - 1
        # Points on the far die edges belong to the last cell.
        ix = np.where(x == self.xs[-1], self.xs.size - 2, ix)
        iy = np.where(y == self.ys[-1], self.ys.size - 2, iy)
        inside = (ix >= 0) & (ix < self.xs.size - 1) & (iy >= 0) & (iy < self.ys.size - 1)
        out = np.full(x.shape, -1, dtype=np.int64)
        out[inside] = self.table[iy[inside], ix[inside]]
        return out


@dataclass(frozen=True)
class SnapReport:
    """What snapping changed: the tolerance used and every coordinate that moved."""

    tolerance: float
    moved_x: tuple[tuple[float, float], ...] = ()
    moved_y: tuple[tuple[float, float], ...] = ()

    @property
    def count(self) -> int:
        return len(self.moved_x) + len(self.moved_y)

    @property
    def max_shift(self) -> float:
        shifts = [abs(a - b) for a, b in self.moved_x + self.moved_y]
        return max(shifts, default=0.0)

    def as_dict(self) -> dict:
        return {
            "tolerance_m": self.tolerance,
            "coordinates_moved": self.count,
            "max_shift_m": self.max_shift,
            "moved_x_m": [list(p) for p in self.moved_x],
            "moved_y_m": [list(p) for p in self.moved_y],
        }


@dataclass(frozen=True)
class PowerMap:
    """Watts per cell of a uniform grid over the die; row 0 is the top of the die."""

    watts: np.ndarray
    source: str = "<power map>"

    def cells(self, die: tuple[float, float, float, float]) -> Rects:
        """The map's cells as rectangles over ``die`` = (x0, y0, x1, y1), in ``watts.ravel()`` order."""
        nrows, ncols = self.watts.shape
        xs = np.linspace(die[0], die[2], ncols + 1)
        ys = np.linspace(die[3], die[1], nrows + 1)  # top row first
        ix, iy = np.meshgrid(np.arange(ncols), np.arange(nrows))
        ix, iy = ix.ravel(), iy.ravel()
        return Rects(xs[ix], ys[iy + 1], xs[ix + 1], ys[iy])


@dataclass(frozen=True, eq=False)
class Floorplan:
    """Blocks on a die and the heat sources powering them. Build with :meth:`from_blocks`.

    Attributes
    ----------
    names : tuple of str
        Block names, unique.
    blocks : Rects
        Block rectangles after snapping (metres).
    block_power : ndarray
        Power dissipated inside each block (W); with a power map, the map's power falling in it.
    sources : Rects
        Rectangles of uniform power density (the blocks, or the power-map cells).
    source_power : ndarray
        Watts of each source; density is ``source_power / sources.area``.
    die : tuple of float
        (x0, y0, x1, y1), the bounding box of the blocks.
    snap : SnapReport
        The snapping applied.
    source : str
        Where the floorplan came from, for messages.
    """

    names: tuple[str, ...]
    blocks: Rects
    block_power: np.ndarray
    sources: Rects
    source_power: np.ndarray
    die: tuple[float, float, float, float]
    snap: SnapReport
    source: str = "<floorplan>"
    power_source: str = "<power>"

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_blocks(
        cls,
        names: Sequence[str],
        x: Sequence[float],
        y: Sequence[float],
        width: Sequence[float],
        height: Sequence[float],
        power: Sequence[float] | None = None,
        *,
        power_map: PowerMap | None = None,
        source: str = "<floorplan>",
        power_source: str = "<power>",
        lines: Sequence[int] | None = None,
        snap: bool = True,
    ) -> "Floorplan":
        """Validate, snap and build a floorplan.

        Parameters
        ----------
        names : sequence of str
            Unique block names.
        x, y, width, height : sequence of float
            Lower-left corner and size of each block, metres.
        power : sequence of float, optional
            Watts per block. Exactly one of ``power`` and ``power_map`` must be given.
        power_map : PowerMap, optional
            Watts per cell of a uniform grid over the die.
        source, power_source : str
            File names used in error messages.
        lines : sequence of int, optional
            Line of each block in ``source``, for error messages.
        snap : bool
            Merge near-coincident edges (default). Without it, edges are used as given.

        Raises
        ------
        InputError
            On any invalid input, naming the file, line and problem.
        """
        names = tuple(str(n) for n in names)
        lines = list(lines) if lines is not None else [None] * len(names)
        if not names:
            raise InputError(source, "no blocks in the floorplan")
        if (power is None) == (power_map is None):
            raise InputError(power_source, "give exactly one of block power and a power map")
        geom = [np.asarray(v, dtype=float).reshape(-1) for v in (x, y, width, height)]
        if any(g.size != len(names) for g in geom):
            raise InputError(source, "names, x, y, width and height differ in length")
        _check_blocks(names, *geom, source, lines)
        raw = Rects(geom[0], geom[1], geom[0] + geom[2], geom[1] + geom[3])
        die = (raw.x0.min(), raw.y0.min(), raw.x1.max(), raw.y1.max())

        if power_map is not None:
            watts = np.asarray(power_map.watts, dtype=float)
            _check_power(watts.ravel(), power_map.source, "power-map cell")
            src_raw, src_power = power_map.cells(die), watts.ravel()
        else:
            src_power = np.asarray(power, dtype=float).reshape(-1)
            if src_power.size != len(names):
                raise InputError(power_source, f"{src_power.size} power values for {len(names)} blocks")
            _check_power(src_power, power_source, "block", names)
            src_raw = raw

        report = SnapReport(0.0)
        blocks, sources = raw, src_raw
        if snap:
            feature = min(raw.width.min(), raw.height.min(), src_raw.width.min(), src_raw.height.min())
            tol = min(SNAP_DIE_FRACTION * max(die[2] - die[0], die[3] - die[1]),
                      SNAP_FEATURE_FRACTION * feature)
            xmap, moved_x = _snap_map(np.concatenate([raw.x0, raw.x1, src_raw.x0, src_raw.x1]), tol)
            ymap, moved_y = _snap_map(np.concatenate([raw.y0, raw.y1, src_raw.y0, src_raw.y1]), tol)
            blocks = raw.mapped(xmap, ymap)
            sources = blocks if power_map is None else src_raw.mapped(xmap, ymap)
            report = SnapReport(tol, moved_x, moved_y)
            thin = np.flatnonzero((blocks.width <= 0) | (blocks.height <= 0))
            if thin.size:
                i = thin[0]
                raise InputError(source, f"block '{names[i]}' collapses when edges closer than "
                                 f"{tol:.3g} m are merged", lines[i])
        _check_overlaps(names, blocks, source, lines)
        die = tuple(float(v) for v in (blocks.x0.min(), blocks.y0.min(), blocks.x1.max(), blocks.y1.max()))
        block_power = src_power if power_map is None else _power_in(blocks, sources, src_power, watts.shape)
        return cls(names, blocks, block_power, sources, src_power, die, report, str(source),
                   str(power_map.source if power_map is not None else power_source))

    # ------------------------------------------------------------------ derived quantities
    @property
    def width(self) -> float:
        return self.die[2] - self.die[0]

    @property
    def height(self) -> float:
        return self.die[3] - self.die[1]

    @property
    def total_power(self) -> float:
        return float(self.source_power.sum())

    @property
    def source_density(self) -> np.ndarray:
        """Power density of each source, W/m^2."""
        return self.source_power / self.sources.area

    @property
    def edges(self) -> Rects:
        """Every rectangle whose sides a conforming mesh must contain (blocks, then sources)."""
        if self.sources is self.blocks:
            return self.blocks
        return Rects(*(np.concatenate([getattr(self.blocks, a), getattr(self.sources, a)])
                       for a in ("x0", "y0", "x1", "y1")))

    @cached_property
    def _block_locator(self) -> RectLocator:
        return RectLocator(self.blocks)

    @cached_property
    def _source_locator(self) -> RectLocator:
        return self._block_locator if self.sources is self.blocks else RectLocator(self.sources)

    def block_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the block containing each point, -1 in a gap or outside the die."""
        return self._block_locator(x, y)

    def density_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Power density (W/m^2) at each point; zero in gaps."""
        idx = self._source_locator(x, y)
        return np.where(idx >= 0, self.source_density[np.maximum(idx, 0)], 0.0)


# ---------------------------------------------------------------------- validation helpers
def _check_blocks(names, x, y, w, h, source, lines) -> None:
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if not n or any(c.isspace() for c in n):
            raise InputError(source, f"block name {n!r} is empty or contains white space", lines[i])
        if n in seen:
            raise InputError(source, f"duplicate block name '{n}'", lines[i])
        seen[n] = i
    for label, v in (("x", x), ("y", y), ("width", w), ("height", h)):
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            i = bad[0]
            raise InputError(source, f"block '{names[i]}' has a non-finite {label} ({v[i]})", lines[i])
    for label, v in (("width", w), ("height", h)):
        bad = np.flatnonzero(v <= 0)
        if bad.size:
            i = bad[0]
            raise InputError(source, f"block '{names[i]}' has non-positive {label} {v[i]:g} m", lines[i])


def _check_power(p: np.ndarray, source: str, what: str, names=None) -> None:
    for bad, problem in ((~np.isfinite(p), "is not finite"), (np.isfinite(p) & (p < 0), "is negative")):
        idx = np.flatnonzero(bad)
        if idx.size:
            i = idx[0]
            label = f"{what} '{names[i]}'" if names is not None else f"{what} {i}"
            raise InputError(source, f"power of {label} {problem} ({p[i]})")
    if p.sum() <= 0:
        raise InputError(source, "total power is zero: nothing to simulate")


def _check_overlaps(names, r: Rects, source, lines) -> None:
    """Raise on the first pair of blocks whose interiors overlap (sweep over sorted x0)."""
    n = len(r)
    scale = max(r.x1.max() - r.x0.min(), r.y1.max() - r.y0.min())
    eps = 1e-9 * scale
    order = np.argsort(r.x0, kind="stable")
    x0, x1 = r.x0[order], r.x1[order]
    # Each block can only overlap blocks that start before it ends: candidates in a sorted window.
    stop = np.searchsorted(x0, x1 - eps, side="left")
    counts = np.maximum(stop - np.arange(n) - 1, 0)
    a = np.repeat(np.arange(n), counts)
    b = a + 1 + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    ia, ib = order[a], order[b]
    ox = np.minimum(r.x1[ia], r.x1[ib]) - np.maximum(r.x0[ia], r.x0[ib])
    oy = np.minimum(r.y1[ia], r.y1[ib]) - np.maximum(r.y0[ia], r.y0[ib])
    hit = np.flatnonzero((ox > eps) & (oy > eps))
    if hit.size:
        i, j = sorted((ia[hit[0]], ib[hit[0]]))
        raise InputError(source, f"blocks '{names[i]}' and '{names[j]}' overlap "
                         f"({ox[hit[0]]:.3g} m x {oy[hit[0]]:.3g} m)", lines[j])


def _snap_map(coords: np.ndarray, tol: float):
    """A monotone map merging coordinates closer than ``tol``; and the list of moves.

    Sorted unique coordinates are grouped where consecutive gaps are below ``tol``; each group
    maps to its mean, except that a group holding the smallest or largest coordinate (a die edge)
    keeps that edge, so the die never changes size.
    """
    u = np.unique(coords)
    group = np.concatenate([[0], np.cumsum(np.diff(u) > tol)])
    target = np.bincount(group, weights=u) / np.bincount(group)
    target[group[0]], target[group[-1]] = u[0], u[-1]
    mapped = target[group]
    moved = tuple((float(a), float(b)) for a, b in zip(u[mapped != u], mapped[mapped != u]))

    def apply(v: np.ndarray) -> np.ndarray:
        return mapped[np.searchsorted(u, v)]

    return apply, moved


def _power_in(blocks: Rects, cells: Rects, watts: np.ndarray, shape) -> np.ndarray:
    """Power of a (snapped) power map falling inside each block, from its integral table.

    The integral F(x, y) of a piecewise-constant density over [x0, x] x [y0, y] is bilinear inside
    each cell, so interpolating its values at the grid nodes linearly is exact.
    """
    from scipy.interpolate import RegularGridInterpolator

    nrows, ncols = shape
    w = np.asarray(watts, float).reshape(nrows, ncols)[::-1]  # bottom row first
    xs = np.unique(np.concatenate([cells.x0, cells.x1]))
    ys = np.unique(np.concatenate([cells.y0, cells.y1]))
    table = np.zeros((ys.size, xs.size))
    table[1:, 1:] = w.cumsum(0).cumsum(1)
    F = RegularGridInterpolator((ys, xs), table, bounds_error=False, fill_value=None)
    corner = lambda xx, yy: F(np.column_stack([yy, xx]))
    return (corner(blocks.x1, blocks.y1) - corner(blocks.x0, blocks.y1)
            - corner(blocks.x1, blocks.y0) + corner(blocks.x0, blocks.y0))
