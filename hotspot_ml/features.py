"""Features of a floorplan at the nodes of a grid over its die, computed from the floorplan alone.

Everything is dimensionless so one model serves every die size and package: lengths are in
thermal lengths L = sqrt(k t / h) (how far heat spreads sideways), power densities in the die's
mean density q_mean = P / A, temperatures in the mean rise T0 = P / (h A).

Per node (a grid with ``points`` nodes along the longer side, square-ish spacing d):

===============  ==========================================================================
``u_series``     the lumped model's exact series truncated to 2x the grid's intervals, / T0:
                 a cheap physics estimate that misses what those modes cannot resolve; its
                 maximum over the node's cell (from a 2x finer grid), so that a peak between
                 nodes shows
``u_coarse``     the same truncated to a quarter of those modes, / T0 (how fast it converges)
``q_node``       power density at the node / q_mean
``q_cell_mean``  mean density over the node's cell (d x d around it) / q_mean
``q_cell_max``   largest density of any source touching the cell / q_mean
``blur_<s>``     q_cell_mean blurred over s thermal lengths (s = 0.5, 1, 2; mirrored at the
                 adiabatic edges) / q_mean
``edge``         distance to the nearest die edge / L (capped at 8)
``corner``       distance to the nearest die corner / L (capped at 8)
``point_power``  largest power of a source touching the cell / (k t T0): a small source of
                 power p raises its centre by about p / (2 pi k t) ln(L / side)
``point_log``    ln(L / side) of that source (sub-grid sources are what the series misses)
``spacing``      d / L
``die``          ln(die area / L^2)
===============  ==========================================================================

The regressor learns the correction from ``u_series`` at a node to the exact rise's maximum over
the node's cell, divided by T0 (see :mod:`hotspot_ml.train`): the hottest temperature near each
node, including hot units smaller than the grid, which node values would miss.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meshes.size_field import grid_over
from thermal.geometry.raster import Raster, rasterize
from thermal.exact.series import reflected_blurs, truncated_rises_on_grid

#: Grid nodes along the die's longer side.
POINTS = 129
#: Blur scales in thermal lengths.
BLUR_SCALES = (0.5, 1.0, 2.0)
#: Distances are capped at this many thermal lengths (beyond it an edge is invisible).
DISTANCE_CAP = 8.0

FEATURE_NAMES = ("u_series", "u_coarse", "q_node", "q_cell_mean", "q_cell_max",
                 *(f"blur_{s:g}" for s in BLUR_SCALES), "edge", "corner", "point_power",
                 "point_log", "spacing", "die")


@dataclass(frozen=True, eq=False)
class Features:
    """Features at the nodes of a grid, node ``j * nx + i`` at (``xs[i]``, ``ys[j]``).

    ``columns`` holds one (ny, nx) grid per name in :data:`FEATURE_NAMES` (a number where the
    feature is the same everywhere); :meth:`rows` gathers the table the regressor takes at the
    nodes asked for only, since prediction consults it at a fraction of them.
    """

    xs: np.ndarray
    ys: np.ndarray
    columns: tuple             # len(FEATURE_NAMES) grids (ny, nx) or floats, dimensionless
    u_series: np.ndarray       # (ny, nx) truncated-series rise, max over each node's cell, K
    cells: Raster              # the sources over each node's cell (densities in W/m^2)
    mean_rise: float           # T0, K
    thermal_length: float      # L, m

    @property
    def shape(self) -> tuple[int, int]:
        return self.ys.size, self.xs.size

    def column(self, name: str) -> np.ndarray:
        """One feature at every node, flat (ny * nx,)."""
        c = self.columns[FEATURE_NAMES.index(name)]
        return np.ravel(c) if np.ndim(c) else np.full(self.xs.size * self.ys.size, c)

    def rows(self, nodes: np.ndarray) -> np.ndarray:
        """The feature table at flat node indices ``nodes``: (len(nodes), len(FEATURE_NAMES))."""
        out = np.empty((np.size(nodes), len(self.columns)))
        for k, c in enumerate(self.columns):
            out[:, k] = np.ravel(c)[nodes] if np.ndim(c) else c
        return out

    @property
    def table(self) -> np.ndarray:
        """The feature table at every node."""
        return self.rows(np.arange(self.xs.size * self.ys.size))


def compute_features(floorplan, model, points: int = POINTS) -> Features:
    """Features of ``floorplan`` under ``model`` at the nodes of a grid over the die."""
    xs, ys = grid_over(floorplan.die, points)
    L = model.thermal_length
    area = floorplan.width * floorplan.height
    q_mean = floorplan.total_power / area
    T0 = q_mean / model.htc
    modes = (2 * (xs.size - 1), 2 * (ys.size - 1))
    from scipy.ndimage import maximum_filter

    # The full truncation on a grid twice as fine, then the maximum over each node's cell; the
    # coarse one at the nodes themselves.
    fine, u_coarse = truncated_rises_on_grid(floorplan, model, [modes, (modes[0] // 4, modes[1] // 4)],
                                             [(2 * xs.size - 1, 2 * ys.size - 1), (xs.size, ys.size)])
    u_series = maximum_filter(fine, size=3, mode="nearest")[::2, ::2]
    X, Y = np.meshgrid(xs, ys)
    q_node = floorplan.density_at(X, Y)
    cells = rasterize(floorplan, xs, ys)
    q_mean_cell, q_max, strength, side = cells.mean, cells.high, cells.strongest, cells.strongest_side
    d = xs[1] - xs[0]
    blurs = reflected_blurs(q_mean_cell, [s * L / d for s in BLUR_SCALES])
    x0, y0, x1, y1 = floorplan.die
    ex, ey = np.minimum(X - x0, x1 - X), np.minimum(Y - y0, y1 - Y)
    edge = np.minimum(ex, ey) / L
    corner = np.hypot(ex, ey) / L
    point_log = np.where(np.isfinite(side), np.log(L / np.clip(side, 1e-3 * L, 1e3 * L)), 0.0)
    columns = [u_series / T0, u_coarse / T0, q_node / q_mean, q_mean_cell / q_mean, q_max / q_mean,
               *(b / q_mean for b in blurs), np.minimum(edge, DISTANCE_CAP),
               np.minimum(corner, DISTANCE_CAP), strength / (model.sheet_conductance * T0), point_log,
               d / L, float(np.log(area / L ** 2))]
    return Features(xs, ys, tuple(columns), u_series, cells, T0, L)
