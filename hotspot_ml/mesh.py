"""The ``adaptive`` meshing method: the hotspot model places the fine mesh.

The regressor predicts the field from the floorplan alone (:mod:`hotspot_ml.predict`), sizes
follow its curvature (:func:`hotspot_ml.predict.size_field`), and one solve follows
(:func:`thermal.physics.adaptive.solve_with_field`). A stack, which the model has not learned, is sized
from its cheap physics instead (the ``power`` method), and ``result.json`` says so.
"""
from __future__ import annotations

import time

from thermal.physics.adaptive import solve_stack_physics, solve_with_field
from thermal.physics.solution import Solution
from thermal.geometry.stack import Stack


def solve_adaptive(floorplan, model, tol: float, budget: int | None = None, regressor=None,
                   conform: bool = False) -> Solution:
    """Predict the field with the ML model, size the mesh from it, solve once.

    ``regressor`` defaults to the shipped model (loaded once per process and cached; its
    loading time is recorded apart as ``model_load_s``). The predicted hotspots are kept in
    ``extra["predicted_hotspots"]``; ``result.json`` records them beside the solved field's.
    """
    if isinstance(model, Stack):
        # The hotspot model knows the lumped die only: a stack sizes from its cheap physics.
        sol = solve_stack_physics(floorplan, model, tol, budget, conform)
        sol.mesh_info.update({"method": "adaptive", "sizing": sol.mesh_info["sizing"] + " (the "
                              "hotspot model is trained on the lumped die only)"})
        return sol
    start = time.perf_counter()
    from hotspot_ml.trees import cached_predictor
    from hotspot_ml.predict import predict, size_field
    from thermal.physics.hotspots import find_hotspots

    load_s = time.perf_counter() - start
    if regressor is None:
        regressor, _, seconds = cached_predictor()
        load_s += seconds
    prediction = predict(floorplan, model, regressor)
    field = size_field(prediction, floorplan, model, tol)
    timing = {"model_load_s": load_s, "predict_s": prediction.seconds,
              "estimate_s": time.perf_counter() - start - load_s}
    sol = solve_with_field(floorplan, model, field, {"method": "adaptive", "tol": tol, "budget": budget},
                           timing, budget, conform=conform)
    # Those of the solved field are found when the result is written (Solution.hotspots).
    sol.extra["predicted_hotspots"] = find_hotspots(prediction.xs, prediction.ys, prediction.rise,
                                                    floorplan, model.ambient)
    return sol
