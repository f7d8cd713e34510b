"""Target element sizes: the one kind of object every meshing method hands to the mesher.

A :class:`SizeField` is the longest edge (metres) an element should have at each point of the
die, stored as values on a tensor grid and interpolated bilinearly. Every method — uniform,
power heuristic, coarse solve, exact oracle, the ML model — produces one, so the mesher has one
input. A callable ``h(x, y)`` or a number is turned into one by :func:`as_size_field`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

#: Grid points along the die's longer side when a callable or number becomes a grid.
DEFAULT_POINTS = 257
#: Default bound on |grad h|: neighbouring elements then differ in size by at most about 2x.
GRADATION = 0.5
#: Area of an element per unit h^2 after longest-edge bisection to the field (elements end with
#: longest edge between h/2 and h; measured ~0.2 to 0.3 on graded meshes), used to predict counts.
AREA_PER_H2 = 0.25


class SizeFieldError(ValueError):
    """A size field that cannot be meshed: NaN, infinite, zero or negative, or far too fine."""


@dataclass(frozen=True, eq=False)
class SizeField:
    """Target longest edge ``values[j, i]`` at (``xs[i]``, ``ys[j]``), bilinear in between."""

    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        v = np.asarray(self.values, float)
        if v.shape != (np.size(self.ys), np.size(self.xs)):
            raise SizeFieldError(f"size field values have shape {v.shape}, expected "
                                 f"{(np.size(self.ys), np.size(self.xs))}")
        bad = ~np.isfinite(v)
        if bad.any():
            raise SizeFieldError(f"size field has {bad.sum()} NaN or infinite values")
        if (v <= 0).any():
            raise SizeFieldError(f"size field has {(v <= 0).sum()} zero or negative values "
                                 f"(minimum {v.min():.3g} m)")
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "xs", np.asarray(self.xs, float))
        object.__setattr__(self, "ys", np.asarray(self.ys, float))
        # On evenly spaced axes (every grid built here) the cell index is arithmetic, 3x
        # cheaper than a binary search; the mesher evaluates fields millions of times.
        object.__setattr__(self, "_even", all(_evenly_spaced(a) for a in (self.xs, self.ys)))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_function(cls, func: Callable, die, points: int = DEFAULT_POINTS) -> "SizeField":
        """Sample ``func(x, y)`` (vectorised) on a grid over ``die`` = (x0, y0, x1, y1)."""
        xs, ys = grid_over(die, points)
        X, Y = np.meshgrid(xs, ys)
        return cls(xs, ys, np.broadcast_to(np.asarray(func(X, Y), float), X.shape))

    @classmethod
    def constant(cls, h: float, die) -> "SizeField":
        return cls(np.array([die[0], die[2]]), np.array([die[1], die[3]]), np.full((2, 2), float(h)))

    # ------------------------------------------------------------------ evaluation
    def __call__(self, x, y) -> np.ndarray:
        """Target size at points (bilinear; constant extrapolation outside the grid)."""
        x = np.clip(np.asarray(x, float), self.xs[0], self.xs[-1])
        y = np.clip(np.asarray(y, float), self.ys[0], self.ys[-1])
        i, j = _cell(self.xs, x, self._even), _cell(self.ys, y, self._even)
        tx = (x - self.xs[i]) / (self.xs[i + 1] - self.xs[i])
        ty = (y - self.ys[j]) / (self.ys[j + 1] - self.ys[j])
        v = self.values
        return ((1 - ty) * ((1 - tx) * v[j, i] + tx * v[j, i + 1])
                + ty * ((1 - tx) * v[j + 1, i] + tx * v[j + 1, i + 1]))

    @property
    def min(self) -> float:
        return float(self.values.min())

    def expected_elements(self) -> float:
        """Elements a mesh following this field should have: the integral of 1 / (c h^2)."""
        w = np.diff(self.xs)
        hgt = np.diff(self.ys)
        inv = 1.0 / self.values ** 2
        cell = 0.25 * (inv[:-1, :-1] + inv[1:, :-1] + inv[:-1, 1:] + inv[1:, 1:])
        return float((cell * hgt[:, None] * w[None, :]).sum() / AREA_PER_H2)

    # ------------------------------------------------------------------ new fields
    def scaled(self, factor: float) -> "SizeField":
        return SizeField(self.xs, self.ys, self.values * factor)

    def clipped(self, h_min: float | None = None, h_max: float | None = None) -> "SizeField":
        return SizeField(self.xs, self.ys, np.clip(self.values, h_min, h_max))

    def graded(self, gradation: float = GRADATION) -> "SizeField":
        """The largest field <= this one whose slope is at most ``gradation``.

        h(p) = min over q of h(q) + g |p - q|_1, with g = gradation / sqrt(2) so that the
        Euclidean slope |grad h| <= gradation too. The L1 envelope separates: along each row
        h_i = min_j h_j + g |x_i - x_j| is two running minima (``np.minimum.accumulate`` of
        h - g x forwards and h + g x backwards), then the same along each column.
        """
        g = gradation / np.sqrt(2.0)
        h = self.values.copy()
        for axis, coord in ((1, self.xs[None, :]), (0, self.ys[:, None])):
            h = np.minimum.accumulate(h - g * coord, axis=axis) + g * coord
            rev = np.flip(h + g * coord, axis=axis)
            h = np.minimum(h, np.flip(np.minimum.accumulate(rev, axis=axis), axis=axis) - g * coord)
        return SizeField(self.xs, self.ys, h)


def _evenly_spaced(axis: np.ndarray) -> bool:
    step = np.diff(axis)
    return bool(np.all(np.abs(step - step[0]) <= 1e-9 * abs(step[0])))


def _cell(axis: np.ndarray, v: np.ndarray, even: bool) -> np.ndarray:
    """Index of the grid interval holding each value (values already clipped to the axis)."""
    if even:
        i = ((v - axis[0]) * ((axis.size - 1) / (axis[-1] - axis[0]))).astype(np.intp)
    else:
        i = np.searchsorted(axis, v, "right") - 1
    return np.clip(i, 0, axis.size - 2)


def grid_over(die, points: int = DEFAULT_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Node-aligned grid over ``die`` with ``points`` along the longer side, square-ish spacing."""
    x0, y0, x1, y1 = die
    spacing = max(x1 - x0, y1 - y0) / (points - 1)
    nx = max(2, int(round((x1 - x0) / spacing)) + 1)
    ny = max(2, int(round((y1 - y0) / spacing)) + 1)
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


def as_size_field(field, die) -> SizeField:
    """A :class:`SizeField` from a SizeField, a callable ``h(x, y)`` or a number (metres)."""
    if isinstance(field, SizeField):
        return field
    if callable(field):
        return SizeField.from_function(field, die)
    try:
        h = float(field)
    except (TypeError, ValueError):
        raise SizeFieldError(f"a size field must be a SizeField, a callable or a number, "
                             f"not {type(field).__name__}") from None
    return SizeField.constant(h, die)
