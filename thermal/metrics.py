"""Accuracy of a solution, judged by the exact series solution of the lumped model.

Errors are in kelvin of temperature rise and in % of the exact peak rise, never in % of absolute
temperature (which would flatter by 10-100x). They are measured on a node-aligned grid over the
die (``points`` on the longer side, not aligned with uniform meshes), where the FE field is
interpolated exactly (P1).
"""
from __future__ import annotations

import time

import numpy as np

#: Grid points along the die's longer side at which errors are measured. 1019 intervals (a
#: prime) so the grid never lands on the nodes of a uniform mesh only: at mesh nodes P1 is far
#: more accurate than in between, and an aligned grid (801 points vs resolution 800) understated
#: the error 2-3x.
GRID_POINTS = 1020


def error_grid(floorplan, points: int = GRID_POINTS) -> tuple[int, int]:
    """Grid size (nx, ny) with ``points`` along the longer side and square-ish spacing."""
    scale = (points - 1) / max(floorplan.width, floorplan.height)
    return (max(2, int(round(floorplan.width * scale)) + 1),
            max(2, int(round(floorplan.height * scale)) + 1))


def errors_against(rise_on_grid, reference, points: int = GRID_POINTS) -> dict:
    """Error of a field against a :class:`~thermal.series.SeriesSolution`.

    ``rise_on_grid(xs, ys)`` returns the field's rise on a tensor grid, shape (ny, nx), as
    :meth:`thermal.simulate.Solution.rise_on_grid` does.
    """
    nx, ny = error_grid(reference.floorplan, points)
    x, y, exact = reference.rise_on_grid(nx, ny)
    err = rise_on_grid(x, y) - exact
    peak_rise = float(reference.peak["rise"])
    max_err = float(np.nanmax(np.abs(err)))
    return {
        "max_error_K": max_err,
        "max_error_pct_of_peak_rise": 100.0 * max_err / peak_rise,
        "rms_error_K": float(np.sqrt(np.nanmean(err ** 2))),
        "grid": [nx, ny],
    }


def verify(sol, reference=None, points: int = GRID_POINTS) -> dict:
    """Compare ``sol`` with the exact series: errors, peak error, and the reference used."""
    from thermal.series import SeriesSolution

    start = time.perf_counter()
    reference = reference or SeriesSolution(sol.floorplan, sol.model)
    result = errors_against(sol.rise_on_grid, reference, points)
    ref_peak = reference.peak
    result.update({
        "peak_error_K": sol.peak["rise"] - ref_peak["rise"],
        "peak_distance_m": float(np.hypot(sol.peak["x"] - ref_peak["x"], sol.peak["y"] - ref_peak["y"])),
        "exact_peak": ref_peak,
        "reference": {"method": "cosine series", "modes": list(reference.modes),
                      "error_estimate_K": reference.error_estimate},
        "seconds": time.perf_counter() - start,
    })
    return result
