"""From a floorplan to predicted temperatures, hotspots and the size field the mesher takes.

floorplan -> features (:mod:`hotspot_ml.features`) -> regressor -> predicted rise on a grid ->
hotspots (local maxima, severity) and a size field (:func:`size_field`). A stack: its physics
(:func:`stack_physics`) -> features (:mod:`hotspot_ml.stack_features`) -> the stack model
(:func:`predict_stack`) on every power layer's face.
"""
from __future__ import annotations

import time

import numpy as np

from hotspot_ml.features import POINTS, Features, compute_features
from hotspot_ml.physics import Prediction
from meshes.size_field import SizeField
from thermal.threads import one_thread

def predict(floorplan, model, regressor=None, points: int = POINTS) -> Prediction:
    """Predict the temperature rise of ``floorplan`` under ``model`` (a LumpedDie).

    ``regressor`` defaults to the shipped model, loaded once per process
    (:func:`hotspot_ml.loading.cached_predictor`).
    """
    from hotspot_ml.loading import cached_predictor

    if regressor is None:
        regressor = cached_predictor()[0]
    start = time.perf_counter()
    feats = compute_features(floorplan, model, points)
    rise = predicted_rise(feats, regressor)
    return Prediction(feats.xs, feats.ys, rise, feats, time.perf_counter() - start)


def predict_stack(floorplan, stack, regressor=None, points: int | None = None) -> Prediction:
    """Predict the rise on every power layer's face of ``stack``: the cheap physics
    (:func:`hotspot_ml.physics.physics_prediction`) plus the stack model's correction
    (:mod:`hotspot_ml.stack_features`, :mod:`hotspot_ml.stack_train`).

    ``regressor`` defaults to the shipped stack model, loaded once per process.
    """
    from hotspot_ml.stack_features import POINTS as STACK_POINTS, stack_features

    if regressor is None:
        from hotspot_ml.card import STACK_MODEL
        from hotspot_ml.loading import cached_predictor

        regressor = cached_predictor(STACK_MODEL)[0]
    start = time.perf_counter()
    feats = stack_features(floorplan, stack, points or STACK_POINTS)
    layers = corrected_layers(feats, regressor)
    return Prediction(feats.xs, feats.ys, layers[0][1], feats, time.perf_counter() - start, layers)


def corrected_layers(feats, regressor) -> tuple:
    """(layer, physics + the trees' correction) per power layer's face of ``feats``
    (:class:`hotspot_ml.stack_features.StackFeatures`), K; the trees consulted once for all."""
    with one_thread("openmp"):
        correction = regressor.predict(np.concatenate(feats.tables))
    n = feats.xs.size * feats.ys.size
    return tuple((k, rise + peak * correction[i * n:(i + 1) * n].reshape(feats.shape))
                 for i, ((k, rise), peak) in enumerate(zip(feats.physics, feats.peaks)))


#: Nodes where the trees are consulted: within this fraction of the way from the mean rise to
#: the peak of the truncated series ...
RELEVANT_LEVEL = 0.25
#: ... or whose cell holds a source this many times denser than the cell's mean (sub-grid
#: structure). Elsewhere the truncated series is taken as it is.
SUBGRID_CONTRAST = 2.0


def relevant_nodes(feats: Features) -> np.ndarray:
    """Nodes (flat indices) where the correction can matter: hot, or with sub-grid sources.

    Elsewhere the series is accurate to far better than any hotspot or size decision needs, and
    skipping the trees there makes prediction several times faster.
    """
    u = feats.u_series
    hot = u >= u.mean() + RELEVANT_LEVEL * (u.max() - u.mean())
    q_mean, q_max = feats.column("q_cell_mean"), feats.column("q_cell_max")
    return np.flatnonzero(hot.ravel() | (q_max > SUBGRID_CONTRAST * q_mean))


def predicted_rise(feats: Features, regressor) -> np.ndarray:
    """The truncated series plus the trees' correction at the relevant nodes, (ny, nx), K."""
    nodes = relevant_nodes(feats)
    correction = np.zeros(feats.xs.size * feats.ys.size)
    # One thread: the trees' OpenMP threads made prediction 5-10x slower on a busy 2-core machine.
    with one_thread("openmp"):
        if nodes.size:
            correction[nodes] = regressor.predict(feats.rows(nodes))
    return feats.u_series + feats.mean_rise * correction.reshape(feats.shape)


def size_field(prediction: Prediction, floorplan, model, tol: float) -> SizeField:
    """Element sizes meeting ``tol`` (relative to the predicted peak rise).

    Curvature is the larger of the predicted field's Hessian (finite differences on the grid)
    and the bound the equation itself gives, |Laplacian u| = |h u - q| / (k t), with q seen at
    the elements' own scale (:func:`thermal.physics.estimate.equation_curvature`): that keeps strong
    sources smaller than the grid refined even where the smooth prediction cannot show their
    peak, sizes elements that straddle a jump of density (meshes need not follow the blocks)
    for the steeper side, and lets cell-level noise average out. The bound is the full
    Laplacian, not the isotropic |Laplacian u| / 2: across a block's edge or a stripe the field
    varies in one direction and the Hessian's one eigenvalue is the whole Laplacian. (With / 2,
    runs overshot ``tol`` by up to 1.8x on held-out floorplans and 1.6x on the tests' hot
    corner; with the whole Laplacian by up to 1.4x and 0.97x, with fewer elements at equal
    error.)
    """
    from thermal.physics.estimate import equation_curvature, field_from_curvature, grid_curvature

    xs, ys, u = prediction.xs, prediction.ys, prediction.rise
    tol_abs = tol * u.max()
    hessian = grid_curvature(u, xs, ys)
    pde = equation_curvature(u, prediction.features.cells, model, tol_abs)
    return field_from_curvature(floorplan, xs, ys, np.maximum(hessian, pde), tol_abs)
