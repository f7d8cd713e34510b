"""The ``adaptive`` meshing method: the hotspot model places the fine mesh.

The regressor predicts the field from the floorplan alone (:mod:`hotspot_ml.predict`), sizes
follow its curvature (:func:`hotspot_ml.predict.size_field`), and one solve follows
(:func:`thermal.physics.adaptive.solve_with_field`). A stack is predicted by the stack model
(:func:`hotspot_ml.predict.predict_stack`) on every power layer's face and sized from those
(:func:`thermal.physics.adaptive.faces_field`).
"""
from __future__ import annotations

import time

from thermal.physics.adaptive import solve_with_field
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
        return solve_stack_adaptive(floorplan, model, tol, budget, regressor, conform)
    start = time.perf_counter()
    from hotspot_ml.loading import cached_predictor
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


#: Grid nodes along the die's longer side on which a stack's size field is estimated (the
#: ``power`` method's): the model predicts on its own coarser grid (its training grid), and
#: what it adds to the cut's series is carried over bilinearly.
SIZE_POINTS = 129


def solve_stack_adaptive(floorplan, stack: Stack, tol: float, budget: int | None = None,
                         regressor=None, conform: bool = False) -> Solution:
    """A stack: sized from the cut's series on the size grid plus what the stack model adds
    (:func:`sized_rises`, :func:`thermal.physics.adaptive.faces_field`), then
    :func:`thermal.physics.adaptive.solve_stack_with_field`."""
    from hotspot_ml.card import STACK_MODEL
    from hotspot_ml.predict import predict_stack
    from hotspot_ml.loading import cached_predictor
    from thermal.physics.adaptive import faces_field, solve_stack_with_field
    from thermal.physics.hotspots import find_hotspots

    start = time.perf_counter()
    load_s = 0.0
    if regressor is None:
        regressor, _, load_s = cached_predictor(STACK_MODEL)
    prediction = predict_stack(floorplan, stack, regressor)
    xs, ys, rises = sized_rises(floorplan, stack, prediction)
    field = faces_field(floorplan, stack, tol, xs, ys, rises)
    timing = {"model_load_s": load_s, "predict_s": prediction.seconds,
              "estimate_s": time.perf_counter() - start - load_s}
    info = {"method": "adaptive", "tol": tol, "budget": budget,
            "estimated_peak_rise": float(max(r.max() for r in rises))}
    sol = solve_stack_with_field(floorplan, stack, field, info, timing, budget,
                                 "the stack model: its physics on every power layer's face and "
                                 "the trees' correction", conform)
    sol.extra["predicted_hotspots"] = find_hotspots(prediction.xs, prediction.ys, prediction.rise,
                                                    floorplan, stack.ambient)
    return sol


def sized_rises(floorplan, stack: Stack, prediction, points: int = SIZE_POINTS):
    """The rise a stack's size field follows, per power layer's face on a ``points`` grid: the
    cut's series there plus everything the model adds to it on its own grid (the compact
    model's corrections and the trees', all smooth), interpolated bilinearly. The compact
    model is not solved again."""
    from hotspot_ml.physics import series_prediction
    from thermal.physics.compact import linear_weights

    fine = series_prediction(floorplan, stack, points)
    wx, wy = linear_weights(prediction.xs, fine.xs), linear_weights(prediction.ys, fine.ys)
    coarse = prediction.features.series
    rises = [rise + wy @ (model - series) @ wx.T
             for (_, rise), (_, model), series in zip(fine.layers, prediction.layers, coarse)]
    return fine.xs, fine.ys, rises
