"""The trees file: prediction equal to scikit-learn's, loaded without scikit-learn, refused when
changed, foreign, pickled or inconsistent."""
import json
import subprocess
import sys

import numpy as np
import pytest

from hotspot_ml.card import DEFAULT_MODEL
from hotspot_ml.model import HotspotRegressor, save_model
from hotspot_ml.loading import cached_predictor
from hotspot_ml.trees import TreeEnsemble, load_trees, trees_path
from thermal.errors import InputError


@pytest.fixture
def saved(tmp_path):
    X = np.random.default_rng(0).normal(size=(400, 4))
    est = HotspotRegressor(max_iter=20, max_leaf_nodes=15).fit(X, np.sin(X[:, 0]) + X[:, 1] * X[:, 2])
    return est, save_model(est, tmp_path / "m.skops", {"note": "test"})


def test_predictions_equal_scikit_learns_with_missing_values(saved):
    est, path = saved
    trees, card = load_trees(path)
    X = np.random.default_rng(1).normal(size=(3000, 4)) * 3
    X[::5, 1] = np.nan  # missing values go where each node learned to send them
    np.testing.assert_array_equal(trees.predict(X), est.booster_.predict(X))
    assert card["note"] == "test" and card["trees_file"] == "m.trees.npz"


@pytest.mark.parametrize("leaves", [2, 33, 64])
def test_every_mask_width_predicts_as_scikit_learn(leaves):
    """Trees of up to 32 leaves take 32-bit masks, larger ones 64-bit; a stump has one node
    that splits."""
    X = np.random.default_rng(3).normal(size=(3000, 5))
    X[::7, 2] = np.nan
    y = np.sin(3 * X[:, 0]) + np.nan_to_num(X[:, 2]) * X[:, 1] + X[:, 3] ** 2
    est = _booster(leaves).fit(X, y)
    trees = TreeEnsemble.from_booster(est)
    assert max(p[0].get_n_leaf_nodes() for p in est._predictors) == leaves
    Z = np.random.default_rng(4).normal(size=(2000, 5)) * 2
    Z[::3, 2], Z[::11, 4] = np.nan, np.nan
    np.testing.assert_array_equal(trees.predict(Z), est.predict(Z))


def test_trees_of_more_than_64_leaves_refused():
    X = np.random.default_rng(5).normal(size=(4000, 3))
    est = _booster(80).fit(X, np.sin(5 * X[:, 0]) * X[:, 1])
    with pytest.raises(ValueError, match="at most 64"):
        TreeEnsemble.from_booster(est)


def _booster(leaves: int):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=15, max_leaf_nodes=leaves, min_samples_leaf=5,
                                         early_stopping=False, random_state=0)


def test_the_shipped_model_predicts_as_its_skops_file():
    from hotspot_ml.model import load_model

    est, _ = load_model()
    trees, _ = load_trees()
    X = np.random.default_rng(2).normal(size=(2000, est.n_features_in_))
    np.testing.assert_array_equal(trees.predict(X), est.predict(X))


def test_predicting_from_the_default_model_imports_neither_scikit_learn_nor_skops():
    code = ("import sys, numpy as np\n"
            "from hotspot_ml.loading import cached_predictor\n"
            "trees, card, seconds = cached_predictor()\n"
            "trees.predict(np.zeros((3, trees.n_features)))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'skops')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("which", ["trees", "model"])
def test_changed_file_refused(saved, which):
    """Either file of a model changed: refused, though prediction reads only the trees."""
    _, path = saved
    target = trees_path(path) if which == "trees" else path
    data = bytearray(target.read_bytes())
    data[-100] ^= 1
    target.write_bytes(bytes(data))
    with pytest.raises(InputError, match="SHA-256"):
        load_trees(path)


def test_missing_trees_file_named(saved):
    _, path = saved
    trees_path(path).unlink()
    with pytest.raises(InputError, match="missing: the card names it"):
        load_trees(path)


def _rewrite(path, **arrays):
    """Write a trees file with some arrays replaced, and put its digest in the card (so only
    the content check can refuse it)."""
    import hashlib

    with np.load(trees_path(path)) as npz:
        data = {k: npz[k] for k in npz.files}
    data.update(arrays)
    with open(trees_path(path), "wb") as f:
        np.savez(f, **data)
    card = json.loads(path.with_suffix(".json").read_text())
    card["trees_sha256"] = hashlib.sha256(trees_path(path).read_bytes()).hexdigest()
    path.with_suffix(".json").write_text(json.dumps(card))


def test_an_object_array_is_refused_without_unpickling(saved, tmp_path):
    _, path = saved
    marker = tmp_path / "ran"

    class Boom:
        def __reduce__(self):
            return (marker.write_text, ("executed",))

    _rewrite(path, value=np.array([Boom()], dtype=object))
    with pytest.raises(InputError, match="not a trees file"):
        load_trees(path)
    assert not marker.exists()


@pytest.mark.parametrize("change,message", [
    (lambda a: {"left": np.where(a["leaf"], a["left"], 10**6).astype(np.int32)}, "outside"),
    (lambda a: {"feature": np.full_like(a["feature"], 99)}, "outside"),
    (lambda a: {"threshold": a["threshold"][:-1]}, "different lengths"),
    (lambda a: {"leaf": np.zeros_like(a["leaf"])}, "cycle"),
    (lambda a: {"value": a["value"].astype(np.int64)}, "expected kind"),
    (lambda a: {"roots": np.r_[a["roots"], a["roots"][-1]].astype(np.int32)}, "two trees"),
])
def test_inconsistent_trees_refused(saved, change, message):
    _, path = saved
    with np.load(trees_path(path)) as npz:
        arrays = {k: npz[k] for k in npz.files}
    _rewrite(path, **change(arrays))
    with pytest.raises(InputError, match=message):
        load_trees(path)


def test_a_card_without_trees_falls_back_to_the_checked_skops_file(saved):
    est, path = saved
    card = json.loads(path.with_suffix(".json").read_text())
    del card["trees_file"], card["trees_sha256"]
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(InputError, match="names no trees file"):
        load_trees(path)
    predictor, _, _ = cached_predictor(path)
    assert isinstance(predictor, HotspotRegressor)


def test_default_trees_ship_beside_the_model():
    assert trees_path(DEFAULT_MODEL).is_file()
    assert isinstance(load_trees()[0], TreeEnsemble)
