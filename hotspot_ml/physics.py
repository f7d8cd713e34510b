"""The cheap physics on the prediction grid, the baseline every model must beat and the first
of its features: the lumped die's truncated series, or a stack's cut series plus the compact
model's corrections (:func:`stack_physics`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from hotspot_ml.features import POINTS, Features


@dataclass(frozen=True, eq=False)
class Prediction:
    """Predicted temperature rise at the nodes of a grid over the die."""

    xs: np.ndarray
    ys: np.ndarray
    rise: np.ndarray  # (ny, nx), K: the die face (the first power layer's)
    features: Features  # or a stack's StackFeatures, or None (the physics alone)
    seconds: float
    #: For a stack: (model layer index, rise (ny, nx)) of every power layer's face, first = rise.
    layers: tuple = ()

    @property
    def peak(self) -> dict:
        j, i = np.unravel_index(np.argmax(self.rise), self.rise.shape)
        return {"rise": float(self.rise[j, i]), "x": float(self.xs[i]), "y": float(self.ys[j])}


def series_prediction(floorplan, model, points: int = POINTS) -> Prediction:
    """The exact series of the lumped die, or of a stack's nearest equal-footprint, homogeneous
    cut (:func:`thermal.exact.series.truncated_faces_on_grid`), on the prediction grid, modes
    twice the grid's; for a stack on every power layer's face (every power layer heating each)."""
    from meshes.size_field import grid_over
    from thermal.exact.series import truncated_faces_on_grid
    from thermal.geometry.stack import Stack

    start = time.perf_counter()
    xs, ys = grid_over(floorplan.die, points)
    # Twice the grid's modes: 4x took 40 % longer on a 1600-block, 2-layer stack for 0.1 % of
    # the peak rise.
    modes = (2 * (xs.size - 1), 2 * (ys.size - 1))
    faces = list(model.power_layers) if isinstance(model, Stack) else [0]
    rises = [r[0] for r in truncated_faces_on_grid(floorplan, model, [modes], [(xs.size, ys.size)],
                                                   list(range(len(faces))))]
    layers = tuple(zip(faces, rises)) if isinstance(model, Stack) else ()
    return Prediction(xs, ys, rises[0], None, time.perf_counter() - start, layers)


def physics_prediction(floorplan, model, points: int = POINTS) -> Prediction:
    """The cheap physics on the prediction grid (the baseline a model must beat): the lumped
    die's series, or a stack's (:func:`stack_physics`)."""
    from thermal.geometry.stack import Stack

    if not isinstance(model, Stack):
        return series_prediction(floorplan, model, points)
    return stack_physics(floorplan, model, points).physics


@dataclass(frozen=True, eq=False)
class StackPhysics:
    """A stack's cheap physics on every power layer's face (:func:`stack_physics`)."""

    series: Prediction  # the exact series of the cut
    package: tuple  # per face, what the package adds (ny, nx), K
    materials: tuple  # per face, what the blocks of their own material add (ny, nx), K
    physics: Prediction  # the sum


def stack_physics(floorplan, stack, points: int = POINTS) -> StackPhysics:
    """A stack's cheap physics on every power layer's face.

    The cut has an exact series: every layer on the die's footprint, blocks of their own
    material ignored. The physics adds what the package and the block materials change, from
    the compact model (:func:`thermal.physics.compact.package_correction`): the series keeps
    the detail, the compact model the spreader, sink, secondary path, TSVs and voids the cut
    loses. Measured against converged solves in ``python benchmarks/stack_baseline.py``.
    """
    from meshes.size_field import grid_over
    from thermal.physics.compact import package_correction

    start = time.perf_counter()
    xs, ys = grid_over(floorplan.die, points)
    cut, package, materials = package_correction(stack, floorplan, xs, ys)
    series = series_prediction(floorplan, cut, points)
    layers = tuple((k, rise + a + b) for (k, rise), a, b in zip(series.layers, package, materials))
    physics = Prediction(xs, ys, layers[0][1], None, time.perf_counter() - start, layers)
    return StackPhysics(series, tuple(package), tuple(materials), physics)
