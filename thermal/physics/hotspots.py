"""Hotspots of a temperature-rise field on a grid: local maxima, their block and severity.

Used alike for predicted fields (:mod:`hotspot_ml.predict`) and solved ones
(:meth:`thermal.Solution.hotspots`), so the two can be compared point for point.
"""
from __future__ import annotations

import numpy as np

#: A hotspot is a local maximum over a square of this half-width (m) ...
HOTSPOT_RADIUS = 0.5e-3
#: ... whose rise is at least mean + LEVEL * (peak - mean) of the field.
LEVEL = 0.5
#: Severity: the drop in temperature within a square of this half-width (m) around the hotspot,
#: in the spirit of HotGauge's maximum localized temperature difference (MLTD). Squares rather
#: than disks: the filters then separate by axis, 10x faster on fine grids.
MLTD_RADIUS = 1.0e-3


def _window(half_width: float, spacing: float) -> int:
    """Odd window size (in nodes) covering +-half_width."""
    return 2 * max(1, int(np.floor(half_width / spacing + 1e-9))) + 1


def find_hotspots(xs: np.ndarray, ys: np.ndarray, rise: np.ndarray, floorplan, ambient: float,
                  level: float = LEVEL, radius: float = HOTSPOT_RADIUS) -> list[dict]:
    """Hotspots of a gridded rise: local maxima within +-``radius`` above the ``level`` threshold.

    Each is a dict with x, y (m, floorplan coordinates), temperature (K), rise (K), block, and
    severity (K): the largest temperature drop within :data:`MLTD_RADIUS` of it. Sorted
    hottest first. Used alike for predicted and solved fields, so they can be compared.
    """
    from scipy.ndimage import maximum_filter, minimum_filter

    d = xs[1] - xs[0]
    is_max = rise >= maximum_filter(rise, size=_window(radius, d), mode="nearest")
    threshold = rise.mean() + level * (rise.max() - rise.mean())
    jj, ii = np.nonzero(is_max & (rise >= threshold))
    # Plateaus give several equal maxima side by side: keep one per neighbourhood.
    order = np.argsort(-rise[jj, ii], kind="stable")
    jj, ii = jj[order], ii[order]
    keep = np.ones(jj.size, bool)
    for a in range(jj.size):  # hotspots are few (tens): a loop over them is not a hot path
        if keep[a]:
            near = np.maximum(np.abs(ii - ii[a]), np.abs(jj - jj[a])) * d <= radius
            near[: a + 1] = False
            keep &= ~near
    jj, ii = jj[keep], ii[keep]
    low = minimum_filter(rise, size=_window(MLTD_RADIUS, d), mode="nearest")
    x, y = xs[ii], ys[jj]
    blocks = floorplan.block_at(x, y)
    return [{"x": float(a), "y": float(b), "temperature": float(r + ambient), "rise": float(r),
             "block": floorplan.names[k] if k >= 0 else None, "severity": float(s)}
            for a, b, r, k, s in zip(x, y, rise[jj, ii], blocks, rise[jj, ii] - low[jj, ii])]
