"""Every meshing method on one floorplan, judged by a reference: accuracy and cost.

:func:`compare` computes the reference once (the exact cosine series where the model has one;
else :class:`thermal.physics.metrics.ConvergedReference`, a finite-element solve well below the
tolerances compared, with its own error estimate), runs uniform meshes over a
series of resolutions and each adaptive method (``amr``, ``power``, ``coarse``, ``oracle`` and
the ML-guided ``adaptive``) over a series of tolerances, and measures every run against the
reference on the same grid. :func:`write_compare` turns the result into ``compare.json``,
``report.html`` (self-contained), ``report.md`` and ``figures/*.png``; :func:`main_compare` is
``thermesh compare``.

Definitions (every error is of the temperature *rise* above ambient, never relative to the
absolute temperature, which would flatter by 10-100x):

max error
    ``max |u_FE - u_exact|`` over the error grid (:func:`thermal.physics.metrics.error_grid`: ``grid_points``
    nodes along the die's longer side, square-ish spacing, edges included), in K and in % of the
    exact peak rise.
peak error
    Solved peak rise minus exact peak rise, K (signed; negative: the mesh misses part of the peak).
L2 error
    Root mean square of ``u_FE - u_exact`` over the nodes of that same grid, K: the discrete
    ``||e||_L2(die) / sqrt(die area)``, the typical error anywhere on the die.
time
    ``thermal.solve`` end to end, wall clock; runs under :data:`REPEAT_BELOW_S` are repeated
    up to :data:`REPEATS` times and the fastest kept (stage times are those of the kept run),
    whatever the method, so that ratios of times do not depend on which run was unlucky.
    Loading the ML model is done once up front and reported apart (``model_load_s``), not in
    ``adaptive``'s time; the ``oracle``'s time includes evaluating the series solution it sizes
    its mesh from.
uniform cost at equal error
    Elements (and seconds) a uniform mesh needs for the same max error, by interpolating
    ``log(elements)`` (``log(time)``) linearly in ``log(error)`` between the two uniform runs
    that bracket it (:func:`needed`). Never extrapolated: when every uniform run is less
    accurate the finest one gives a *lower bound* of the saving; when every uniform run is more
    accurate the cost is *not bracketed* and no saving is given.
"""
from __future__ import annotations

import math
import sys
import time
import traceback
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from thermal.physics.metrics import GRID_POINTS, error_grid, errors_against

__all__ = ["CachedReference", "run_method", "needed", "equal_error_cost", "attach_equal_error",
           "summarize", "compare", "compare_json", "report_sections", "write_compare",
           "main_compare", "UNIFORM", "ADAPTIVE_METHODS", "TARGETS_PCT", "REPEAT_BELOW_S", "STAGES"]

UNIFORM = "uniform"
#: The adaptive methods, in the order they are run and shown.
ADAPTIVE_METHODS = ("amr", "power", "coarse", "oracle", "adaptive")
#: Max error targets of the equal-error summary, % of the exact peak rise.
TARGETS_PCT = (0.5, 0.1)
#: Runs faster than this (seconds) are repeated, up to REPEATS runs in all, and the fastest kept:
#: on a shared 2-core machine single runs of 0.05-1 s vary by 30-50 %.
REPEAT_BELOW_S, REPEATS = 2.0, 3
#: Stages of a run's time in the table and the stage-time figure, and the ``Solution.timing``
#: keys summed into each; ``other`` is the rest of the total (building the Solution, mesh
#: quality statistics ...). ``estimate`` includes the ML prediction (``adaptive``), the series
#: evaluation (``oracle``) and the first, coarse solve (``coarse``).
STAGES = {"estimate": ("estimate_s", "first_solve_s"), "mesh": ("mesh_s",),
          "assemble": ("assemble_s",), "solve": ("solve_s",)}

_INTERPOLATED = "interpolated"
_LOWER_BOUND = "lower bound"
_NOT_BRACKETED = "not bracketed"


# ---------------------------------------------------------------------------------- measuring
class CachedReference:
    """The series solution with its error-grid values computed once per grid size.

    Verification is not timed, and every run on a floorplan is measured on the same grid, so
    the (costly) exact grid is evaluated once.

    Parameters
    ----------
    series : SeriesSolution
    """

    def __init__(self, series):
        self.series = series
        self.floorplan = series.floorplan
        self.peak = series.peak
        self._grids: dict = {}

    def rise_on_grid(self, nx: int, ny: int):
        """``series.rise_on_grid(nx, ny)``, cached."""
        if (nx, ny) not in self._grids:
            self._grids[nx, ny] = self.series.rise_on_grid(nx, ny)
        return self._grids[nx, ny]


def _stages(timing: dict, total: float) -> dict:
    """The run's time split into :data:`STAGES` plus ``other`` (seconds)."""
    parts = {name: float(sum(timing.get(k, 0.0) for k in keys)) for name, keys in STAGES.items()}
    parts["other"] = max(0.0, total - sum(parts.values()))
    return parts


def run_method(floorplan, model, reference, method: str, param, *, grid_points: int = GRID_POINTS,
               repeat_below_s: float = REPEAT_BELOW_S, conform: bool = False):
    """Run one meshing method and measure it against a (cached) reference.

    Parameters
    ----------
    floorplan : Floorplan
    model : LumpedDie
    reference : CachedReference or SeriesSolution
        The exact solution (``.peak``, ``.floorplan``, ``.rise_on_grid(nx, ny)``).
    method : str
        ``"uniform"`` or a method of :data:`thermal.app.simulate.METHODS`.
    param : int or float
        The resolution for ``"uniform"``, else the relative tolerance.
    grid_points : int
        Error-grid nodes along the die's longer side.
    repeat_below_s : float
        A run faster than this is repeated (up to :data:`REPEATS` runs); the fastest is kept.
    conform : bool
        Meshes follow every block and source edge (``thermal.solve(..., conform=True)``).

    Returns
    -------
    row : dict
        ``method, param, elements, nodes, solves, converged, max_error_K, max_error_pct``
        (% of the exact peak rise), ``rms_error_K`` (the L2 error, see the module docstring),
        ``peak_rise_K, peak_error_K`` (solved minus exact peak rise), ``peak_error_pct,
        peak_distance_mm, time_s`` (kept run, ML model loading excluded), ``times_s`` (every
        run), ``timing`` (the kept run's ``Solution.timing``) and ``stages_s``
        (:data:`STAGES` and ``other``). A failed run has ``error`` and ``traceback`` instead
        of the measurements: it is recorded, not raised.
    solution : Solution or None
        The kept run's solution (None if it failed).
    """
    import thermal

    kwargs = {"resolution": param} if method == UNIFORM else {"tol": param}
    row = {"method": method, "param": param}
    try:
        times, best, best_time = [], None, math.inf
        for _ in range(REPEATS):
            start = time.perf_counter()
            sol = thermal.solve(floorplan, model, mesh=method, conform=conform, **kwargs)
            # Loading the ML model is a once-per-process cost, reported apart.
            times.append(time.perf_counter() - start - float(sol.timing.get("model_load_s", 0.0)))
            if times[-1] < best_time:
                best, best_time = sol, times[-1]
            if times[-1] >= repeat_below_s:
                break
        sol = best
        err = errors_against(sol.rise_on_grid, reference, grid_points)
        exact = reference.peak
        row.update({
            "elements": int(sol.mesh.t.shape[1]),
            "nodes": int(sol.mesh.p.shape[1]),
            "solves": int(sol.mesh_info.get("solves", 1)),
            "converged": sol.mesh_info.get("converged"),
            "max_error_pct": err["max_error_pct_of_peak_rise"],
            "max_error_K": err["max_error_K"],
            "rms_error_K": err["rms_error_K"],
            "time_s": best_time,
            "times_s": times,
            "timing": {k: float(v) for k, v in sol.timing.items()},
            "stages_s": _stages(sol.timing, best_time),
            "peak_rise_K": float(sol.peak["rise"]),
            "peak_error_K": float(sol.peak["rise"] - exact["rise"]),
            "peak_error_pct": 100.0 * float(sol.peak["rise"] - exact["rise"]) / float(exact["rise"]),
            "peak_distance_mm": 1e3 * float(np.hypot(sol.peak["x"] - exact["x"], sol.peak["y"] - exact["y"])),
        })
        return row, sol
    except Exception as exc:  # record and carry on: the table shows the failure
        row.update({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
        return row, None


# ---------------------------------------------------------------------------------- analysis
def needed(runs: Sequence[dict], target: float, key: str):
    """``key`` (``"elements"`` or ``"time_s"``) needed for ``target`` % max error.

    Log-log interpolation between the two runs (sorted by error) that bracket the target:
    ``log(value)`` linear in ``log(error)``. Failed runs (with an ``error`` key) are ignored.

    Returns
    -------
    value : float or None
        None unless the target is bracketed.
    status : str
        ``'interpolated'``; ``'all runs below target'`` (even the least accurate run is more
        accurate: the need is below the measured range); ``'not reached (best X %)'`` (every
        run is less accurate); or ``'no runs'``.
    """
    pts = sorted((r["max_error_pct"], r[key]) for r in runs
                 if "error" not in r and r["max_error_pct"] > 0 and r[key] > 0)
    if not pts:
        return None, "no runs"
    for (e0, v0), (e1, v1) in zip(pts, pts[1:]):
        if e0 <= target <= e1:
            if e1 == e0:
                return min(v0, v1), _INTERPOLATED
            s = (math.log(target) - math.log(e0)) / (math.log(e1) - math.log(e0))
            return math.exp(math.log(v0) + s * (math.log(v1) - math.log(v0))), _INTERPOLATED
    if pts[0][0] > target:
        return None, f"not reached (best {pts[0][0]:.3g} %)"
    return None, "all runs below target"


def equal_error_cost(uniform_runs: Sequence[dict], error_pct: float) -> dict:
    """What uniform meshes cost at ``error_pct`` % max error.

    Returns
    -------
    dict
        ``elements`` and ``time_s`` (interpolated by :func:`needed`; with status
        ``'lower bound'`` those of the finest uniform run, which is still less accurate, so the
        true cost is higher), and ``status``: ``'interpolated'``, ``'lower bound'``,
        ``'not bracketed'`` (every uniform run is more accurate: the cost is below the
        measured range and not extrapolated) or ``'no uniform runs'``.
    """
    ok = [r for r in uniform_runs if "error" not in r]
    elements, status = needed(ok, error_pct, "elements")
    seconds, _ = needed(ok, error_pct, "time_s")
    if status == _INTERPOLATED:
        return {"elements": elements, "time_s": seconds, "status": _INTERPOLATED}
    if status.startswith("not reached"):
        finest = max(ok, key=lambda r: r["elements"])
        return {"elements": float(finest["elements"]), "time_s": float(finest["time_s"]),
                "status": _LOWER_BOUND}
    if status == "no runs":
        return {"elements": None, "time_s": None, "status": "no uniform runs"}
    return {"elements": None, "time_s": None, "status": _NOT_BRACKETED}


def attach_equal_error(rows: list[dict]) -> list[dict]:
    """Add to every successful non-uniform row the uniform cost at its max error, and the
    element saving and speed-up (uniform / run) this gives.

    Keys added: ``uniform_elements_equal_error, uniform_time_s_equal_error,
    equal_error_status`` (see :func:`equal_error_cost`), ``element_saving, speed_up`` (None
    unless interpolated or a lower bound) and ``saving_is_lower_bound``. Uniform rows get
    ``equal_error_status = 'uniform'`` and None values. Rows are changed in place and returned.
    """
    uniform = [r for r in rows if r["method"] == UNIFORM]
    for r in rows:
        if "error" in r:
            continue
        if r["method"] == UNIFORM:
            r.update({"uniform_elements_equal_error": None, "uniform_time_s_equal_error": None,
                      "equal_error_status": UNIFORM, "element_saving": None, "speed_up": None,
                      "saving_is_lower_bound": False})
            continue
        cost = equal_error_cost(uniform, r["max_error_pct"])
        known = cost["elements"] is not None
        r.update({
            "uniform_elements_equal_error": cost["elements"],
            "uniform_time_s_equal_error": cost["time_s"],
            "equal_error_status": cost["status"],
            "element_saving": cost["elements"] / r["elements"] if known else None,
            "speed_up": cost["time_s"] / r["time_s"] if known and r["time_s"] > 0 else None,
            "saving_is_lower_bound": cost["status"] == _LOWER_BOUND,
        })
    return rows


def summarize(rows: Sequence[dict], methods: Iterable[str], targets: Iterable[float] = TARGETS_PCT) -> dict:
    """Elements and seconds each method needs for each target max error, and savings.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`run_method` (of one floorplan).
    methods : iterable of str
        Methods to summarise, ``"uniform"`` among them (the baseline).
    targets : iterable of float
        Max errors, % of the exact peak rise.

    Returns
    -------
    dict
        ``{str(target): {method: {elements, time_s, status, element_saving, speed_up,
        lower_bounds}}}``: elements and seconds by :func:`needed`; savings and speed-ups are
        uniform / method; ``lower_bounds`` is True when uniform meshes did not reach the target,
        so the ratios are to uniform's finest run and are lower bounds.
    """
    methods = list(methods)
    summary = {}
    for target in targets:
        per = {}
        for method in methods:
            mine = [r for r in rows if r["method"] == method]
            elements, status = needed(mine, target, "elements")
            seconds, _ = needed(mine, target, "time_s")
            per[method] = {"elements": elements, "time_s": seconds, "status": status}
        base = per.get(UNIFORM, {"elements": None, "time_s": None, "status": "no runs"})
        # Uniform meshes missing the target need more than their finest run: a lower bound.
        finest = max((r for r in rows if r["method"] == UNIFORM and "error" not in r),
                     key=lambda r: r["elements"], default=None)
        bound = base["status"].startswith("not reached") and finest is not None
        for method, v in per.items():
            v["element_saving"] = (base["elements"] / v["elements"]
                                   if base["elements"] and v["elements"] else None)
            v["speed_up"] = base["time_s"] / v["time_s"] if base["time_s"] and v["time_s"] else None
            v["lower_bounds"] = bound and v["elements"] is not None
            if v["lower_bounds"]:
                v["element_saving"] = finest["elements"] / v["elements"]
                v["speed_up"] = finest["time_s"] / v["time_s"]
        summary[str(target)] = per
    return summary


def _label(method: str, param) -> str:
    return f"{method} {param:g}" if isinstance(param, float) else f"{method} {param}"


def _featured(rows: list[dict], method: str | None) -> dict:
    """The run of ``method`` shown on the mesh figure and the uniform run beside it.

    The ``method`` run whose max error is nearest (in log) to the first target among those that
    some uniform run matches or beats; beside it the uniform run of equal or the nearest better
    accuracy. If no uniform run is that accurate: the most accurate run and uniform's most
    accurate run (``relation = 'uniform less accurate'``).
    """
    ok = [r for r in rows if "error" not in r]
    mine = [r for r in ok if r["method"] == method]
    uniform = [r for r in ok if r["method"] == UNIFORM]
    if not mine or not uniform:
        return {}
    matched = [r for r in mine if any(u["max_error_pct"] <= r["max_error_pct"] for u in uniform)]
    if matched:
        run = min(matched, key=lambda r: abs(math.log(r["max_error_pct"] / TARGETS_PCT[0])))
        beside = max((u for u in uniform if u["max_error_pct"] <= run["max_error_pct"]),
                     key=lambda u: u["max_error_pct"])
        relation = "equal or nearest better accuracy"
    else:
        run = min(mine, key=lambda r: r["max_error_pct"])
        beside = min(uniform, key=lambda u: u["max_error_pct"])
        relation = "uniform less accurate"
    return {"run": _label(run["method"], run["param"]), "uniform": _label(UNIFORM, beside["param"]),
            "relation": relation}


def _match_hotspots(predicted: list[dict], solved: list[dict]) -> list[dict]:
    """Each predicted hotspot with its nearest solved one: distance (mm), temperature error (K)."""
    if not predicted or not solved:
        return [{"predicted": p, "nearest_solved": None, "distance_mm": None, "temperature_error_K": None}
                for p in predicted]
    px, py = np.array([[p["x"], p["y"]] for p in predicted]).T
    sx, sy = np.array([[s["x"], s["y"]] for s in solved]).T
    d = np.hypot(px[:, None] - sx[None, :], py[:, None] - sy[None, :])
    nearest = d.argmin(axis=1)
    return [{"predicted": p, "nearest_solved": int(k), "distance_mm": 1e3 * float(d[i, k]),
             "temperature_error_K": p["temperature"] - solved[k]["temperature"]}
            for i, (p, k) in enumerate(zip(predicted, nearest))]


# ---------------------------------------------------------------------------------- the run
def compare(floorplan, model, *, methods: Sequence[str] = ADAPTIVE_METHODS,
            tolerances: Sequence[float] = (2e-2, 1e-2, 5e-3, 2e-3, 1e-3),
            resolutions: Sequence[int] = (25, 50, 100, 200, 400),
            grid_points: int = GRID_POINTS, targets: Sequence[float] = TARGETS_PCT,
            progress: bool = True, conform: bool = False) -> dict:
    """Run the exact reference, uniform meshes and every adaptive method; measure them all.

    Parameters
    ----------
    floorplan : Floorplan
    model : LumpedDie
    methods : sequence of str
        Adaptive methods among :data:`ADAPTIVE_METHODS` (uniform meshes always run).
    tolerances : sequence of float
        Relative tolerances (0 < tol < 1) each adaptive method runs at.
    resolutions : sequence of int
        Uniform resolutions (cells along the die's longer side).
    grid_points : int
        Error-grid nodes along the die's longer side (see the module docstring).
    targets : sequence of float
        Max errors (% of the exact peak rise) of the equal-error summary.
    progress : bool
        Show a tqdm progress bar on stderr (only when stderr is a terminal).
    conform : bool
        Every mesh follows every block and source edge (see :func:`thermal.app.simulate.solve`).

    Returns
    -------
    dict
        JSON-ready except for ``"solutions"``: ``inputs, parameters, die, error_grid,
        reference`` (modes, truncation estimate, exact peak, seconds), ``model_load_s``,
        ``rows`` (one per run, :func:`run_method` plus :func:`attach_equal_error`; uniform
        runs first by resolution, then each method by tolerance, coarse to fine), ``summary``
        (:func:`summarize`), ``featured`` (the runs on the mesh figure), ``hotspots``
        (predicted, solved and exact, when ``adaptive`` ran), ``wall_s``; and ``solutions``:
        the :class:`~thermal.app.simulate.Solution` of the uniform runs and of the featured
        method's runs, keyed by row label, for the figures.
    """
    from tqdm import tqdm

    from thermal.version import __version__
    from thermal.physics.metrics import ConvergedReference, has_exact_solution
    from thermal.exact.series import SeriesSolution

    exact = has_exact_solution(model)
    methods = list(dict.fromkeys(methods))
    skipped = {}
    if not exact and "oracle" in methods:
        methods.remove("oracle")
        skipped["oracle"] = "sizes from the exact solution, which this model has not"
    unknown = [m for m in methods if m not in ADAPTIVE_METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {list(ADAPTIVE_METHODS)}")
    tolerances = sorted({float(t) for t in tolerances}, reverse=True)
    resolutions = sorted({int(r) for r in resolutions})
    if any(not 0 < t < 1 for t in tolerances):
        raise ValueError(f"tolerances must be between 0 and 1, got {tolerances}")
    if any(r < 1 for r in resolutions):
        raise ValueError(f"resolutions must be at least 1, got {resolutions}")
    featured_method = "adaptive" if "adaptive" in methods else (methods[0] if methods else None)

    wall = time.perf_counter()
    model_load_s = None
    from thermal.geometry.stack import Stack

    if "adaptive" in methods:
        # Once per process, as in a batch run: kept out of adaptive's time, reported apart.
        import hotspot_ml.predict  # noqa: F401  (its import is part of loading, not predicting)
        from hotspot_ml.card import STACK_MODEL
        from hotspot_ml.loading import cached_predictor

        start = time.perf_counter()
        cached_predictor(STACK_MODEL if isinstance(model, Stack) else None)
        model_load_s = time.perf_counter() - start

    jobs = [(UNIFORM, r) for r in resolutions] + [(m, t) for m in methods for t in tolerances]
    bar = tqdm(total=len(jobs) + 1, desc="thermesh compare", unit="run", file=sys.stderr,
               disable=None if progress else True, leave=False)
    try:
        bar.set_postfix_str("exact reference" if exact else "converged reference")
        start = time.perf_counter()
        nx, ny = error_grid(floorplan, grid_points)
        if exact:
            series = SeriesSolution(floorplan, model)
            ref = CachedReference(series)
            ref.rise_on_grid(nx, ny)
            reference = {"method": "cosine series", "modes": [int(m) for m in series.modes],
                         "description": f"cosine series, {series.modes[0]} x {series.modes[1]} modes",
                         "error_estimate_K": float(series.error_estimate)}
        else:
            # A quarter of the finest tolerance compared: its error is a small part of theirs.
            series = ref = ConvergedReference(floorplan, model, min(tolerances) / 4, grid_points)
            reference = ref.describe()
        exact_peak = dict(ref.peak)
        block = int(floorplan.block_at(np.array([exact_peak["x"]]), np.array([exact_peak["y"]]))[0])
        exact_peak["block"] = floorplan.names[block] if block >= 0 else None
        reference.update({"peak": exact_peak, "peak_rise_K": float(exact_peak["rise"]),
                          "seconds": time.perf_counter() - start})
        bar.update()

        rows, solutions = [], {}
        for method, param in jobs:
            bar.set_postfix_str(_label(method, param))
            row, sol = run_method(floorplan, model, ref, method, param, grid_points=grid_points,
                                  conform=conform)
            row["label"] = _label(method, param)
            rows.append(row)
            if sol is not None and method in (UNIFORM, featured_method):
                # Kept for the figures; drop the measuring caches (rebuilt for the two shown).
                for cache in ("locator", "geometry"):
                    sol.__dict__.pop(cache, None)
                solutions[row["label"]] = sol
            bar.update()
    finally:
        bar.close()

    attach_equal_error(rows)
    featured = _featured(rows, featured_method)
    hotspots = None
    label = featured.get("run") if featured_method == "adaptive" else None
    if label is None and "adaptive" in methods:  # no uniform runs: show the most accurate one
        ok = [r for r in rows if r["method"] == "adaptive" and "error" not in r]
        label = min(ok, key=lambda r: r["max_error_pct"])["label"] if ok else None
    run = solutions.get(label)
    if run is not None and "predicted_hotspots" in run.extra:
        from meshes.size_field import grid_over
        from thermal.physics.hotspots import find_hotspots
        from thermal.physics.solution import HOTSPOT_GRID_POINTS

        xs, ys = grid_over(floorplan.die, HOTSPOT_GRID_POINTS)
        gx, gy, exact_rise = series.rise_on_grid(xs.size, ys.size)
        predicted, solved = run.extra["predicted_hotspots"], run.hotspots()
        hotspots = {"run": label, "grid_points": HOTSPOT_GRID_POINTS, "predicted": predicted,
                    "solved": solved, "exact": find_hotspots(gx, gy, exact_rise, floorplan, model.ambient),
                    "matches": _match_hotspots(predicted, solved)}

    x0, y0, x1, y1 = floorplan.die
    return {
        "thermesh_version": __version__,
        "units": {"length": "m", "temperature": "K", "time": "s",
                  "errors": "K of temperature rise, or % of the reference's peak rise"},
        "inputs": {"floorplan": floorplan.source, "power": floorplan.power_source},
        "parameters": model.as_dict(),
        "conform": bool(conform),
        "die": {"x0": x0, "y0": y0, "width": x1 - x0, "height": y1 - y0},
        "blocks": len(floorplan.names),
        "total_power_W": float(floorplan.total_power),
        "error_grid": {"points": int(grid_points), "nx": int(nx), "ny": int(ny)},
        "methods": [UNIFORM] + methods, "tolerances": tolerances, "resolutions": resolutions,
        "targets_pct": list(targets),
        "repeat_below_s": REPEAT_BELOW_S,
        "repeats": REPEATS,
        "reference": reference,
        "skipped_methods": skipped,
        "model_load_s": model_load_s,
        "rows": rows,
        "summary": summarize(rows, [UNIFORM] + methods, targets),
        "featured": featured,
        "hotspots": hotspots,
        "wall_s": time.perf_counter() - wall,
        "solutions": solutions,
    }


def compare_json(result: dict) -> dict:
    """The JSON part of a :func:`compare` result (everything but the solutions)."""
    return {k: v for k, v in result.items() if k != "solutions"}


# ---------------------------------------------------------------------------------- report
def _describe_parameters(p: dict) -> str:
    """The model in one line: the lumped die's numbers, or a stack's layers and sink."""
    if "layers" not in p:
        return ", ".join(f"{k} {v:g}" for k, v in p.items())
    layers = "; ".join(f"{l['name']} {l['thickness'] * 1e3:g} mm, k {l['conductivity']:g}"
                       + (f"/{l['conductivity_z']:g}" if l["conductivity_z"] != l["conductivity"] else "")
                       + ("" if l["footprint"] == "die" else f", {l['footprint']['square_side'] * 1e3:g} mm square")
                       for l in p["layers"])
    sink = f"r_convec {p['r_convec']:g} K/W" if "r_convec" in p else f"htc {p['htc']:g} W/(m^2 K)"
    return f"stack ({layers}), {sink}, ambient {p['ambient']:g} K"


def _f(v, fmt: str = "{:.3g}") -> str:
    return "–" if v is None else fmt.format(v)


def _param(r: dict) -> str:
    return str(r["param"]) if r["method"] == UNIFORM else f"{r['param']:g}"


def _vs_uniform(r: dict, key: str, fmt: str = "{:.1f}x") -> str:
    """A run's equal-error comparison with uniform meshes, or why there is none."""
    v = r.get(key)
    if r["method"] == UNIFORM:
        return "–"
    if v is None:
        return r.get("equal_error_status", "–")
    return f"{'> ' if r.get('saving_is_lower_bound') else ''}{fmt.format(v)}"


RUN_HEADER = ["method", "resolution / tol", "elements", "nodes", "solves", "max error K",
              "max error %", "peak error K", "L2 error K",
              *(f"{s} s" for s in (*STAGES, "other")), "total s",
              "uniform elements at equal error", "uniform s at equal error",
              "element saving", "speed-up"]


def run_table_rows(rows: Sequence[dict]) -> list[list[str]]:
    """The cells of the run table (:data:`RUN_HEADER`), formatted."""
    out = []
    for r in rows:
        if "error" in r:
            out.append([r["method"], _param(r)] + ["–"] * 3 + [f"FAILED: {r['error'][:100]}"]
                       + ["–"] * (len(RUN_HEADER) - 6))
            continue
        solves = f"{r['solves']}" + ("" if r.get("converged") in (None, True) else " (not converged)")
        out.append([
            r["method"], _param(r), f"{r['elements']:,}", f"{r['nodes']:,}", solves,
            f"{r['max_error_K']:.4g}", f"{r['max_error_pct']:.3g}", f"{r['peak_error_K']:+.3g}",
            f"{r['rms_error_K']:.3g}",
            *(f"{r['stages_s'][s]:.3f}" for s in (*STAGES, "other")), f"{r['time_s']:.3f}",
            _vs_uniform(r, "uniform_elements_equal_error", "{:,.0f}"),
            _vs_uniform(r, "uniform_time_s_equal_error", "{:.3f}"),
            _vs_uniform(r, "element_saving"), _vs_uniform(r, "speed_up"),
        ])
    return out


def summary_table_rows(summary: dict) -> list[list[str]]:
    """Cells of the equal-error summary: target, method, elements, seconds, saving, speed-up."""
    out = []
    for target, per in summary.items():
        for method, v in per.items():
            status = v["status"]
            elements = (f"{v['elements']:,.0f}" if v["elements"] is not None
                        else "below range" if status == "all runs below target" else status)
            bound = "> " if v["lower_bounds"] else ""
            out.append([f"{target} %", method, elements, _f(v["time_s"], "{:.3f}"),
                        "–" if v["element_saving"] is None else f"{bound}{v['element_saving']:.1f}x",
                        "–" if v["speed_up"] is None else f"{bound}{v['speed_up']:.1f}x"])
    return out


def _definitions(result: dict) -> list[str]:
    g = result["error_grid"]
    return [
        "Every error is of the temperature rise above ambient, in K or in % of the reference's "
        "peak rise (never % of the absolute temperature).",
        "The reference is the exact cosine series where the model has one (the lumped die, a "
        "stack whose layers all cover the die and are homogeneous), else a converged finite-"
        "element solve (power mesh at a quarter of the finest tolerance, its own error estimated "
        "from the same mesh at twice that tolerance; oracle, which needs the series, is skipped).",
        f"max error: max |FE − reference| over a {g['nx']} × {g['ny']} node grid spanning the die, "
        "edges included. peak error: solved peak rise − reference peak rise (K, signed). L2 error: "
        "root mean square of FE − reference over the nodes of that grid (K), i.e. the discrete "
        "‖e‖_L2(die) / √(die area).",
        f"Times: thermal.solve end to end, wall clock, best of {result['repeats']} for runs under "
        f"{result['repeat_below_s']:g} s. Stages: estimate (the size field: ML prediction, power "
        "blur, coarse first solve or series evaluation; amr's error indicators), mesh, assemble, "
        "solve, other (the rest). The ML model is loaded once up front and not counted in "
        "adaptive's time; the oracle's time includes evaluating the exact series it sizes from.",
        "Uniform cost at equal error: log-log interpolation of the uniform runs' elements and "
        "seconds at the run's max error. Savings and speed-ups are uniform / method. '> N': "
        "every uniform run was less accurate, so the finest one gives a lower bound; 'not "
        "bracketed': every uniform run was more accurate (no extrapolation).",
    ]


def report_sections(result: dict, floorplan) -> list:
    """The report's sections (:class:`thermal.app.report.Section`), figures rendered."""
    from thermal.app import plots
    from thermal.app.report import Figure, Section, Table, figure_png

    rows, ref = result["rows"], result["reference"]
    pk = ref["peak"]
    load = ("not used" if result["model_load_s"] is None
            else f"{result['model_load_s']:.2f} s (once, not counted in adaptive's time)")
    sections = [Section("Inputs and reference", paragraphs=[
        f"Floorplan {floorplan.source}, power {floorplan.power_source}: "
        f"{result['die']['width'] * 1e3:g} × {result['die']['height'] * 1e3:g} mm die, "
        f"{result['blocks']} blocks, {result['total_power_W']:.3f} W. Parameters: "
        + _describe_parameters(result["parameters"]) + ".",
        f"Reference: {ref['description']} (its error estimate {ref['error_estimate_K']:.2g} K"
        + ("" if ref["method"] == "cosine series" else f"; {ref['note']}")
        + f"), peak rise {ref['peak_rise_K']:.4g} K "
        f"({pk['temperature']:.3f} K) at ({pk['x'] * 1e3:.3f}, {pk['y'] * 1e3:.3f}) mm in "
        f"{pk.get('block')}; {ref['seconds']:.2f} s. ML model load: {load}. "
        f"Whole comparison: {result['wall_s']:.1f} s.",
        "Meshes follow every block and power-source edge (--conform)." if result.get("conform")
        else "Meshes follow the die only; each element carries the exact power of the blocks "
             "or cells it covers.",
        *_definitions(result)])]
    sections.append(Section("Accuracy and cost of every run", tables=[
        Table(RUN_HEADER, run_table_rows(rows), caption=f"One row per run; errors against the {ref['description']}.")]))
    targets = ", ".join(f"{t:g} %" for t in result["targets_pct"])
    sections.append(Section("Cost at equal error", paragraphs=[
        f"Elements and seconds each method needs for a max error of {targets} of the peak rise, "
        "by log-log interpolation between its two runs that bracket the target; 'not reached': "
        "every run is less accurate; 'below range': every run is already more accurate. "
        "'> N': uniform meshes did not reach the target; the ratio to uniform's finest run is a "
        "lower bound."],
        tables=[Table(["target", "method", "elements", "time s", "element saving", "speed-up"],
                      summary_table_rows(result["summary"]))]))

    ok = [r for r in rows if "error" not in r]
    targets_pct = result["targets_pct"]
    sections.append(Section("Error versus cost", figures=[
        Figure("error_vs_elements.png", figure_png(plots.plot_error_vs_cost(ok, "elements", targets_pct)),
               "Max error (% of reference peak rise) versus elements, log-log."),
        Figure("error_vs_time.png", figure_png(plots.plot_error_vs_cost(ok, "time_s", targets_pct)),
               "Max error (% of reference peak rise) versus time to solution, log-log.")]))

    featured, solutions = result["featured"], result["solutions"]
    if featured and featured["run"] in solutions and featured["uniform"] in solutions:
        by = {r["label"]: r for r in ok}
        panels = [(solutions[k], f"{k}: {by[k]['elements']:,} elements, max error "
                                 f"{by[k]['max_error_pct']:.3g} %") for k in (featured["run"], featured["uniform"])]
        note = ("the uniform mesh of equal or the nearest better accuracy"
                if featured["relation"] != "uniform less accurate"
                else "uniform's most accurate mesh (no uniform run was as accurate)")
        sections.append(Section("Meshes", paragraphs=[
            f"Temperature with the mesh edges overlaid: {featured['run']} beside {note}."],
            figures=[Figure("meshes.png", figure_png(plots.plot_mesh_comparison(panels, floorplan,
                                                                                 result["parameters"]["ambient"])),
                            f"{featured['run']} versus {featured['uniform']}")]))

    hs = result["hotspots"]
    if hs:
        sol = solutions.get(hs["run"])
        header = ["predicted", "x mm", "y mm", "predicted K", "nearest solved", "distance mm",
                  "solved K", "predicted − solved K"]
        cells = [[str(i + 1), f"{m['predicted']['x'] * 1e3:.3f}", f"{m['predicted']['y'] * 1e3:.3f}",
                  f"{m['predicted']['temperature']:.2f}",
                  "–" if m["nearest_solved"] is None else str(m["nearest_solved"] + 1),
                  _f(m["distance_mm"], "{:.3f}"),
                  "–" if m["nearest_solved"] is None else f"{hs['solved'][m['nearest_solved']]['temperature']:.2f}",
                  _f(m["temperature_error_K"], "{:+.2f}")]
                 for i, m in enumerate(hs["matches"])]
        figures = []
        if sol is not None:
            figures.append(Figure("hotspots.png", figure_png(plots.plot_hotspot_comparison(
                sol, hs["predicted"], hs["solved"], exact_peak=ref["peak"])),
                f"Predicted (ML, no solve) versus solved ({hs['run']}) hotspots"))
        sections.append(Section("Predicted versus solved hotspots", paragraphs=[
            f"Hotspots (local maxima within ±0.5 mm above mean + 0.5 (peak − mean)) of the ML "
            f"prediction and of the field solved on the {hs['run']} mesh, on the same "
            f"{hs['grid_points']}-point grid; {len(hs['predicted'])} predicted, {len(hs['solved'])} "
            f"solved, {len(hs['exact'])} in the exact field."],
            tables=[Table(header, cells)], figures=figures))

    if ok:
        sections.append(Section("Where the time goes", figures=[Figure(
            "stage_times.png",
            figure_png(plots.plot_stage_times([r["label"] for r in ok],
                                              {s: [r["stages_s"][s] for r in ok] for s in (*STAGES, "other")})),
            "Time per stage of every run: seconds and share of the total.")]))
    failed = [r for r in rows if "error" in r]
    if failed:
        sections.append(Section("Failed runs", paragraphs=[f"{r['label']}: {r['error']}" for r in failed]))
    return sections


def write_compare(result: dict, floorplan, directory: str | Path) -> list[Path]:
    """Write ``compare.json``, ``report.html``, ``report.md`` and ``figures/*.png`` atomically.

    Everything is written into a staging folder and moved into ``directory`` only when all of
    it succeeded (:func:`thermal.app.output.staged`); an earlier report's ``figures/`` there is
    replaced.

    Returns
    -------
    list of Path
        The files written, at their final place.
    """
    from thermal.app.output import staged, write_json
    from thermal.app.report import write_report

    directory = Path(directory)
    title = f"thermesh compare: {Path(str(floorplan.source)).name}"
    sections = report_sections(result, floorplan)
    with staged(directory) as stage:
        write_json(stage / "compare.json", compare_json(result))
        written = write_report(stage, title, sections)
        names = ["compare.json"] + [str(p.relative_to(stage)) for p in written]
    return [directory / n for n in names]


# ---------------------------------------------------------------------------------- CLI
def print_summary(result: dict, directory: Path, seconds: float | None = None, file=None) -> None:
    """A short table of every run on stdout; ``seconds``: the command's wall time."""
    file = file or sys.stdout
    ref = result["reference"]
    print(f"{result['inputs']['floorplan']}: reference peak rise {ref['peak_rise_K']:.3f} K "
          f"({ref['description']}, {ref['seconds']:.1f} s)"
          + ("" if result["model_load_s"] is None else f"; ML model loaded in {result['model_load_s']:.2f} s"),
          file=file)
    print(f"{'run':<16} {'elements':>10} {'max err K':>10} {'max err %':>9} {'time s':>8} "
          f"{'el. saving':>11} {'speed-up':>9}", file=file)
    for r in result["rows"]:
        if "error" in r:
            print(f"{r['label']:<16} FAILED: {r['error'][:80]}", file=file)
            continue
        print(f"{r['label']:<16} {r['elements']:>10,} {r['max_error_K']:>10.4g} {r['max_error_pct']:>9.3g} "
              f"{r['time_s']:>8.3f} {_vs_uniform(r, 'element_saving'):>11} {_vs_uniform(r, 'speed_up'):>9}",
              file=file)
    took = result["wall_s"] if seconds is None else seconds
    print(f"  report in {directory}/report.html ({took:.1f} s)", file=file)


def main_compare(args) -> int:
    """``thermesh compare``: run everything, write the report, print a summary.

    Returns 0, or 1 when some run failed (the report records it). Input problems raise
    :class:`~thermal.errors.InputError` before anything is written.
    """
    from thermal.app.inputs import load_inputs

    start = time.perf_counter()
    floorplan, model = load_inputs(args)
    result = compare(floorplan, model, methods=args.methods, tolerances=args.tolerances,
                     resolutions=args.resolutions, progress=True, conform=args.conform)
    write_compare(result, floorplan, args.out)
    print_summary(result, args.out, time.perf_counter() - start)
    failed = [r for r in result["rows"] if "error" in r]
    if failed:
        print(f"thermesh: error: {len(failed)} run(s) failed, e.g. {failed[0]['label']}: "
              f"{failed[0]['error']}", file=sys.stderr)
        return 1
    return 0
