"""The three tasks — solve, predict, compare — from a floorplan and model to files in a directory;
used by the CLI and by batch runs."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["solve_to", "predict_to", "compare_to"]


def solve_to(floorplan, model, directory: str | Path, *, mesh: str = "uniform",
             resolution: int = 200, tol: float = 1e-3, budget: int | None = None,
             conform: bool = False, verify: bool = False, png: bool | str = True,
             start: float | None = None, grid_steady: int | None = None, critical=None,
             critical_tol: float = 0.02):
    """Solve a floorplan and write its result files into ``directory`` (atomically).

    The body of ``thermesh solve``: :func:`thermal.app.simulate.solve`, the end-to-end time, the
    optional verification against the exact series, :func:`thermal.app.output.write_solution`.

    Parameters
    ----------
    floorplan : Floorplan
    model : Stack or LumpedDie
    directory : str or Path
    mesh, resolution, tol, budget, conform
        As :func:`thermal.app.simulate.solve`.
    verify : bool
        Also compute the exact series and record the error (``sol.extra["verification"]``).
    png : bool or "all"
        Write ``temperature.png`` (the hottest power layer's face); ``"all"``: every layer's.
    grid_steady : int, optional
        Also write HotSpot's ``hotspot.grid.steady`` on an N x N grid.
    start : float, optional
        ``time.perf_counter()`` when reading the inputs began: ``timing["total_s"]`` is then
        measured from it (end to end); verification is never part of it.

    Returns
    -------
    Solution
    """
    from thermal.app.output import write_solution
    from thermal.app.simulate import solve

    start = time.perf_counter() if start is None else start
    if critical:
        fps = [model.layers[i].floorplan for i in model.power_layers] if hasattr(model, "layers") else []
        known = {n for fp in [floorplan, *fps] for n in fp.names}
        unknown = [n for n in critical if n not in known]
        if unknown:
            from thermal.errors import InputError

            raise InputError("--critical", f"no block named {unknown[0]!r} in any power layer")
    sol = solve(floorplan, model, mesh=mesh, resolution=resolution, tol=tol, budget=budget,
                conform=conform, critical=critical, critical_tol=critical_tol)
    sol.timing["total_s"] = time.perf_counter() - start
    if verify:
        from thermal.physics.metrics import verify as verify_solution

        sol.extra["verification"] = verify_solution(sol)
    write_solution(sol, directory, png=png, grid_steady=grid_steady)
    return sol


def predict_to(floorplan, model, directory: str | Path, *, model_path: str | Path | None = None,
               png: bool = True, trace: tuple | None = None, predictor: str = "model") -> dict:
    """Predict hotspots and write ``hotspots.json``, ``prediction.npz`` (and ``hotspots.png``)
    into ``directory``.

    The body of ``thermesh predict``. ``predictor``: ``model`` (the hotspot model, loaded once
    per process and file) or ``physics`` (the cheap physics alone, the baseline the model must
    beat). With ``trace`` = (rows, sampling interval), also every row's hottest point of the
    trace's transient (:func:`thermal.app.transient.screen_trace`): ``hotspots.csv``, and its
    summary under ``trace`` in ``hotspots.json``.

    Returns
    -------
    dict
        The contents of ``hotspots.json``: inputs, parameters, model, timing, hotspots (hottest
        first, each with its power layer).
    """
    from hotspot_ml.features import POINTS
    from hotspot_ml.physics import physics_prediction
    from hotspot_ml.stack_features import POINTS as STACK_POINTS
    from thermal.app.output import staged, write_json
    from thermal.errors import InputError
    from thermal.geometry.stack import Stack
    from thermal.physics.hotspots import find_hotspots

    if predictor not in ("model", "physics"):
        raise InputError("--predictor", f"expected model or physics, got {predictor!r}")
    stack = isinstance(model, Stack)
    if predictor == "physics":
        prediction, card, load_s = physics_prediction(floorplan, model, STACK_POINTS if stack else POINTS), {}, 0.0
        about = {"predictor": "physics", "method": "the equal-footprint cut's series and the compact "
                 "model's package correction" if stack else "the lumped die's truncated series"}
    else:
        from hotspot_ml.card import STACK_MODEL, check_kind
        from hotspot_ml.predict import predict, predict_stack
        from hotspot_ml.loading import cached_predictor

        regressor, card, load_s = cached_predictor(model_path or (STACK_MODEL if stack else None))
        check_kind(card, "stack" if stack else "lumped", model_path)
        prediction = (predict_stack if stack else predict)(floorplan, model, regressor)
        about = {"predictor": "model", "kind": "stack" if stack else "lumped",
                 "file": str(model_path or "default"), "sha256": card.get("sha256")}
    faces = prediction.layers or ((0, prediction.rise),)
    hotspots = []
    for layer, rise in faces:
        fp = model.layers[layer].floorplan or floorplan if stack else floorplan
        hotspots += [{**h, "layer": int(layer)} for h in
                     find_hotspots(prediction.xs, prediction.ys, rise, fp, model.ambient)]
    hotspots.sort(key=lambda h: -h["temperature"])
    doc = {
        "units": {"length": "m", "temperature": "K", "severity": "K"},
        "inputs": {"floorplan": floorplan.source, "power": floorplan.power_source},
        "parameters": model.as_dict(),
        "model": about,
        "timing": {"model_load_s": load_s, "predict_s": prediction.seconds},
        "hotspots": hotspots,
    }
    with staged(directory) as stage:
        arrays = {"x": prediction.xs, "y": prediction.ys, "temperature": prediction.rise + model.ambient}
        arrays.update({f"temperature_{layer}": rise + model.ambient for layer, rise in prediction.layers})
        with open(stage / "prediction.npz", "wb") as f:
            np.savez(f, **arrays)
        if trace is not None:
            from thermal.app.transient import screen_trace

            doc["trace"] = screen_trace(floorplan, model, *trace, stage)
        write_json(stage / "hotspots.json", doc)
        if png:
            from thermal.app.plots import plot_prediction

            plot_prediction(prediction, floorplan, model, hotspots, stage / "hotspots.png")
    return doc


def compare_to(floorplan, model, directory: str | Path, *, methods: Sequence[str],
               tolerances: Sequence[float], resolutions: Sequence[int],
               conform: bool = False) -> dict:
    """Compare the meshing methods against the exact solution and write ``compare.json``,
    ``report.html``, ``report.md`` and ``figures/`` into ``directory`` (atomically).

    :func:`thermal.app.compare.compare` (no progress bar) and :func:`thermal.app.compare.write_compare`.

    Returns
    -------
    dict
        The comparison (:func:`thermal.app.compare.compare`).
    """
    from thermal.app.compare import compare, write_compare

    result = compare(floorplan, model, methods=methods, tolerances=tolerances,
                     resolutions=resolutions, progress=False, conform=conform)
    write_compare(result, floorplan, directory)
    return result
