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

Neither blocks nor sources change the lumped model's operator (one material everywhere), so a
mesh need not follow them: :meth:`Floorplan.domain` says what a mesh must conform to (the die and
its material interfaces, none in the lumped model; every block and source edge with
``conform=True``), and the sources' power is integrated over each element exactly whatever the
mesh (:meth:`Floorplan.power_moments`). Locating points and integrating go through
:class:`~thermal.geometry.bands.Bands`, whose size grows with the blocks, not with their coordinate grid.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Sequence

import numpy as np

from thermal.geometry.bands import BandField, Bands, first_overlap
from thermal.errors import InputError

_SPACE = re.compile(r"\s")

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

    def grid(self, die: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
        """Cell edges over ``die`` = (x0, y0, x1, y1): x left to right, y bottom to top."""
        nrows, ncols = self.watts.shape
        return np.linspace(die[0], die[2], ncols + 1), np.linspace(die[1], die[3], nrows + 1)


def grid_cells(xs: np.ndarray, ys: np.ndarray) -> Rects:
    """The cells of a power map's grid (edges ``xs``, ``ys`` bottom to top) as rectangles in
    the map's own order: row 0 is the top of the die."""
    nrows, ncols = ys.size - 1, xs.size - 1
    ix = np.tile(np.arange(ncols), nrows)
    iy = np.repeat(np.arange(nrows - 1, -1, -1), ncols)  # top row first
    return Rects(xs[ix], ys[iy], xs[ix + 1], ys[iy + 1])


@dataclass(frozen=True, eq=False)
class Domain:
    """What a mesh must honour: the die, and the rectangles whose sides must be mesh edges.

    Every mesher takes one (:func:`meshes.init_base`, :func:`meshes.init_uniform`,
    :func:`meshes.adapt.adapted`); :meth:`Floorplan.domain` makes it.
    """

    die: tuple[float, float, float, float]
    edges: Rects


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
        Rectangles of uniform power density (the blocks, or the power-map cells, row 0 at the
        top of the die).
    source_power : ndarray
        Watts of each source; density is ``source_power / sources.area``.
    die : tuple of float
        (x0, y0, x1, y1), the bounding box of the blocks.
    snap : SnapReport
        The snapping applied.
    source : str
        Where the floorplan came from, for messages.
    power_source : str
        Where the power came from.
    source_grid : tuple of ndarray or None
        For a power map, the (snapped) cell edges ``(xs, ys)``, y bottom to top: the sources
        form this tensor grid, which integrals and series use instead of the cells one by one.
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
    source_grid: tuple[np.ndarray, np.ndarray] | None = None

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

        grid = None
        if power_map is not None:
            watts = np.asarray(power_map.watts, dtype=float)
            _check_power(watts.ravel(), power_map.source, "power-map cell")
            src_power, grid = watts.ravel(), power_map.grid(die)
            # The map's grid lines, not its cells: the same coordinates, a million times fewer.
            sx, sy = grid
            feature = min(np.diff(sx).min(), np.diff(sy).min())
        else:
            src_power = np.asarray(power, dtype=float).reshape(-1)
            if src_power.size != len(names):
                raise InputError(power_source, f"{src_power.size} power values for {len(names)} blocks")
            _check_power(src_power, power_source, "block", names)
            sx = sy = np.zeros(0)
            feature = np.inf

        report = SnapReport(0.0)
        blocks = raw
        if snap:
            feature = min(raw.width.min(), raw.height.min(), feature)
            tol = min(SNAP_DIE_FRACTION * max(die[2] - die[0], die[3] - die[1]),
                      SNAP_FEATURE_FRACTION * feature)
            xmap, moved_x = _snap_map(np.concatenate([raw.x0, raw.x1, sx]), tol)
            ymap, moved_y = _snap_map(np.concatenate([raw.y0, raw.y1, sy]), tol)
            blocks = raw.mapped(xmap, ymap)
            if grid is not None:
                grid = (xmap(sx), ymap(sy))
            report = SnapReport(tol, moved_x, moved_y)
            thin = np.flatnonzero((blocks.width <= 0) | (blocks.height <= 0))
            if thin.size:
                i = thin[0]
                raise InputError(source, f"block '{names[i]}' collapses when edges closer than "
                                 f"{tol:.3g} m are merged", lines[i])
        _check_overlaps(names, blocks, source, lines)
        die = tuple(float(v) for v in (blocks.x0.min(), blocks.y0.min(), blocks.x1.max(), blocks.y1.max()))
        if grid is None:
            sources, block_power = blocks, src_power
        else:
            sources = grid_cells(*grid)
            block_power = _power_in(blocks, grid, watts)
        return cls(names, blocks, block_power, sources, src_power, die, report, str(source),
                   str(power_map.source if power_map is not None else power_source), grid)

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
        """Every block and source rectangle (blocks first): what a mesh that follows the
        floorplan (``domain(conform=True)``) contains the sides of."""
        if self.sources is self.blocks:
            return self.blocks
        return Rects(*(np.concatenate([getattr(self.blocks, a), getattr(self.sources, a)])
                       for a in ("x0", "y0", "x1", "y1")))

    @property
    def interfaces(self) -> Rects:
        """Rectangles across whose sides the operator changes (material interfaces).

        None in the lumped die model: one conductance and one heat-transfer coefficient
        everywhere. Blocks and sources only change the load, which is integrated exactly
        over any mesh, so a mesh need not follow them.
        """
        return Rects(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))

    def domain(self, conform: bool = False) -> Domain:
        """What a mesh of this floorplan must conform to: the die and its material interfaces,
        or with ``conform`` every block and source edge too (a mesh that follows the floorplan,
        so that power density is constant on each element)."""
        return Domain(self.die, self.edges if conform else self.interfaces)

    @property
    def grid_watts(self) -> np.ndarray:
        """For a power map: watts of each cell as (rows, columns) of ``source_grid``, the bottom
        row first (the map itself lists the top row first)."""
        xs, ys = self.source_grid
        return self.source_power.reshape(ys.size - 1, xs.size - 1)[::-1]

    @property
    def grid_density(self) -> np.ndarray:
        """For a power map: :attr:`grid_watts` per square metre of each cell, W/m^2."""
        xs, ys = self.source_grid
        return self.grid_watts / np.outer(np.diff(ys), np.diff(xs))

    @cached_property
    def block_bands(self) -> Bands:
        """The blocks as :class:`~thermal.geometry.bands.Bands` (owner = block index)."""
        b = self.blocks
        return Bands.from_rects(b.x0, b.y0, b.x1, b.y1, self.die)

    @cached_property
    def power_density(self) -> BandField:
        """Power density over the die (W/m^2, zero in gaps) as a
        :class:`~thermal.geometry.bands.BandField` (owner = source index)."""
        if self.source_grid is None:
            return BandField.of(self.block_bands, self.source_density)
        xs, ys = self.source_grid
        bands = Bands.from_grid(xs, ys)
        # Band j is row j from the bottom; the map's row 0 is the top.
        nrows, ncols = ys.size - 1, xs.size - 1
        cell = np.arange(nrows * ncols)
        owner = (nrows - 1 - cell // ncols) * ncols + cell % ncols
        return BandField(replace(bands, owner=owner), self.source_density[owner])

    def block_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the block containing each point, -1 in a gap or outside the die."""
        return self.block_bands.locate(x, y)

    def density_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Power density (W/m^2) at each point; zero in gaps and outside the die."""
        return np.nan_to_num(self.power_density.at(x, y), nan=0.0)

    def power_moments(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Exact power of each triangle of a mesh and its first moments about the triangle's
        first vertex, (3, triangles) (:meth:`thermal.geometry.bands.BandField.triangle_moments`): the
        load of any mesh, whether it follows the blocks or not. ``p`` (2, nodes), ``t``
        (3, triangles)."""
        return self.power_density.triangle_moments(p, t)

    def density_ranges(self, p: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest power density inside each triangle of a mesh (W/m^2)."""
        return self.power_density.triangle_ranges(p, t)


# ---------------------------------------------------------------------- validation helpers
def _check_blocks(names, x, y, w, h, source, lines) -> None:
    # Whole-list checks first (C-speed for 10^5 names); the loop only finds the culprit.
    if (_SPACE.search("".join(names)) or min(map(len, names)) == 0
            or len(set(names)) != len(names)):
        seen: dict[str, int] = {}
        for i, n in enumerate(names):
            if not n or _SPACE.search(n):
                raise InputError(source, f"block name {n!r} is empty or contains white space",
                                 lines[i])
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
    """Raise on the first pair of blocks whose interiors overlap by more than 1e-9 of the die
    both ways (:func:`thermal.geometry.bands.first_overlap`: one pass over the blocks band by band)."""
    scale = max(r.x1.max() - r.x0.min(), r.y1.max() - r.y0.min())
    hit = first_overlap(r.x0, r.y0, r.x1, r.y1, 1e-9 * scale)
    if hit is not None:
        a, b, ox, oy = hit
        i, j = sorted((a, b))
        raise InputError(source, f"blocks '{names[i]}' and '{names[j]}' overlap "
                         f"({ox:.3g} m x {oy:.3g} m)", lines[j])


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


def _power_in(blocks: Rects, grid: tuple[np.ndarray, np.ndarray], watts: np.ndarray) -> np.ndarray:
    """Power of a (snapped) power map on ``grid`` (edges, y bottom to top) inside each block,
    from its integral table.

    The integral F(x, y) of a piecewise-constant density over [x0, x] x [y0, y] is bilinear inside
    each cell, so interpolating its values at the grid nodes linearly is exact.
    """
    from scipy.interpolate import RegularGridInterpolator

    xs, ys = grid
    w = np.asarray(watts, float)[::-1]  # bottom row first
    table = np.zeros((ys.size, xs.size))
    table[1:, 1:] = w.cumsum(0).cumsum(1)
    F = RegularGridInterpolator((ys, xs), table, bounds_error=False, fill_value=None)
    corner = lambda xx, yy: F(np.column_stack([yy, xx]))
    return (corner(blocks.x1, blocks.y1) - corner(blocks.x0, blocks.y1)
            - corner(blocks.x1, blocks.y0) + corner(blocks.x0, blocks.y0))
