"""The stack model: features from the floorplans and the structure, training on labelled stacks
with the physics, the series and the model scored side by side, prediction through the trees."""
import json
from dataclasses import replace

import numpy as np
import pytest

from hotspot_ml.card import check_kind
from hotspot_ml.physics import physics_prediction, stack_physics
from hotspot_ml.predict import predict_stack
from hotspot_ml.stack_features import STACK_FEATURE_NAMES, stack_features
from hotspot_ml.stack_labels import label_stacks
from hotspot_ml.stack_train import train_stacks
from hotspot_ml.stacks import random_stack
from hotspot_ml.trees import load_trees
from thermal.errors import InputError


def _scaled_power(stack, factor):
    return replace(stack, layers=tuple(
        replace(l, floorplan=replace(l.floorplan, block_power=l.floorplan.block_power * factor,
                                     source_power=l.floorplan.source_power * factor))
        if l.power else l for l in stack.layers))


@pytest.mark.parametrize("style", ["package", "secondary", "3d"])
def test_features_are_finite_dimensionless_and_one_table_per_power_layer(style):
    fp, stack = random_stack(np.random.default_rng(7), style, blocks=30)
    feats = stack_features(fp, stack, 33)
    assert len(feats.tables) == len(stack.power_layers) == len(feats.physics)
    for table in feats.tables:
        assert table.shape == (feats.xs.size * feats.ys.size, len(STACK_FEATURE_NAMES))
        assert np.isfinite(table).all()
    # The hottest face's physics is 1 at its peak; u_physics = u_series + the two corrections.
    assert max(t[:, 0].max() for t in feats.tables) == pytest.approx(1.0)
    t = feats.tables[0]
    names = list(STACK_FEATURE_NAMES)
    parts = t[:, names.index("u_series")] + t[:, names.index("u_package")] + t[:, names.index("u_materials")]
    np.testing.assert_allclose(parts, t[:, names.index("u_physics")], atol=1e-12)
    # The sheets' materials share: none without block materials (packages), and what it adds
    # to the compact model's share.
    sheets, fine = t[:, names.index("u_sheets")], t[:, names.index("sheets_fine")]
    np.testing.assert_allclose(fine, sheets - t[:, names.index("u_materials")], atol=1e-12)
    has_materials = any(layer.block_conductivity is not None for layer in stack.layers)
    assert np.any(sheets != 0) == has_materials
    # Twice the power: the same features (temperatures are over the peak rise).
    doubled = stack_features(fp, _scaled_power(stack, 2.0), 33)
    for a, b in zip(feats.tables, doubled.tables):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_the_physics_of_a_stack_is_its_cut_series_plus_both_corrections():
    fp, stack = random_stack(np.random.default_rng(3), "3d", blocks=20)
    parts = stack_physics(fp, stack, 33)
    for (k, rise), (_, series), package, materials in zip(parts.physics.layers, parts.series.layers,
                                                         parts.package, parts.materials):
        np.testing.assert_allclose(rise, series + package + materials)
    np.testing.assert_array_equal(physics_prediction(fp, stack, 33).rise, parts.physics.rise)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("stack_model")
    label_stacks(6, 11, root / "labels", workers=1, progress=False, points=17, tol=5e-2, blocks=10)
    card = train_stacks([root / "labels"], root / "stack.skops", progress=False, max_iter=5)
    return root, card


def test_training_writes_a_checked_model_whose_card_scores_model_physics_and_series(trained):
    root, card = trained
    assert card["kind"] == "stack" and card["features"] == list(STACK_FEATURE_NAMES)
    assert card["validation_cases"] >= 1 and card["train_cases"] + card["validation_cases"] == 6
    v = card["validation"]
    for name in ("model", "physics", "series"):
        assert v[name]["faces"] >= 1 and v[name]["median_max_error_pct"] >= 0
    assert v["median_ratio_model_to_physics"] > 0
    for case in card["validation_per_case"]:
        for face in case["faces"]:
            assert set(face) == {"model", "physics", "series"}
    trees, _ = load_trees(root / "stack.skops")
    assert trees is not None


def test_predicting_a_stack_adds_the_trees_correction_to_the_physics(trained):
    root, _ = trained
    trees, card = load_trees(root / "stack.skops")
    fp, stack = random_stack(np.random.default_rng(5), "package", blocks=10)
    pred = predict_stack(fp, stack, trees, points=17)
    feats = stack_features(fp, stack, 17)
    for (k, rise), (_, physics), table, peak in zip(pred.layers, feats.physics, feats.tables, feats.peaks):
        np.testing.assert_allclose(rise, physics + peak * trees.predict(table).reshape(physics.shape))


def test_a_model_of_the_other_kind_is_refused(trained):
    root, card = trained
    check_kind(card, "stack", root / "stack.skops")
    with pytest.raises(InputError, match="trained for stacks"):
        check_kind(card, "lumped", root / "stack.skops")
    with pytest.raises(InputError, match="lumped die"):
        check_kind({}, "stack", None)
    assert json.loads((root / "stack.json").read_text())["kind"] == "stack"


class _Zero:
    """A regressor that corrects nothing."""

    def predict(self, X):
        return np.zeros(len(X))


def test_a_stack_is_sized_from_the_series_on_the_size_grid_plus_what_the_model_adds():
    from hotspot_ml.mesh import sized_rises

    fp, stack = random_stack(np.random.default_rng(9), "package", blocks=15)
    prediction = predict_stack(fp, stack, _Zero(), points=33)
    xs, ys, rises = sized_rises(fp, stack, prediction, points=65)
    fine = physics_prediction(fp, stack, 65)
    for rise, (_, physics) in zip(rises, fine.layers):
        # The compact corrections, interpolated from the model's grid: close to those solved on
        # the size grid (both are bilinear from the same cells), to a small share of the peak.
        assert np.abs(rise - physics).max() < 0.01 * physics.max()
    assert xs.size == 65 or ys.size == 65


def test_adaptive_on_a_stack_sizes_from_the_stack_model(tmp_path):
    from thermal.app.simulate import solve

    fp, stack = random_stack(np.random.default_rng(4), "package", blocks=12)
    sol = solve(fp, stack, mesh="adaptive", tol=2e-2)
    assert "stack model" in sol.mesh_info["sizing"] and sol.timing["predict_s"] > 0
    assert sol.energy_balance_rel < 1e-9 and sol.extra["predicted_hotspots"]
