import json
import pickle

import numpy as np
import pytest

from hotspot_ml.model import DEFAULT_MODEL, HotspotRegressor, load_model, save_model
from thermal.errors import InputError


def test_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(HotspotRegressor(max_iter=5))


def test_fit_returns_self_and_init_only_stores():
    est = HotspotRegressor(max_iter=3, learning_rate=0.3)
    assert est.get_params()["max_iter"] == 3 and not hasattr(est, "booster_")
    X = np.random.default_rng(0).random((200, 3))
    assert est.fit(X, X[:, 0]) is est and est.n_features_in_ == 3 and est.n_iter_ == 3


@pytest.fixture
def saved(tmp_path):
    X = np.random.default_rng(0).random((300, 4))
    est = HotspotRegressor(max_iter=5).fit(X, X.sum(1))
    path = save_model(est, tmp_path / "m.skops", {"note": "test"})
    return est, path, X


def test_round_trip(saved):
    est, path, X = saved
    loaded, card = load_model(path)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert card["note"] == "test" and len(card["sha256"]) == 64


def test_tampered_file_refused(saved):
    _, path, _ = saved
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="SHA-256 does not match"):
        load_model(path)


def test_pickle_refused_and_never_executed(tmp_path):
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.skops"
    path.write_bytes(pickle.dumps(Evil()))
    # Even with a matching card, a pickle is not a skops file.
    import hashlib

    (tmp_path / "evil.json").write_text(json.dumps({"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}))
    with pytest.raises(InputError, match="not a skops model file"):
        load_model(path)
    assert not marker.exists()


def test_foreign_type_refused(tmp_path):
    import hashlib

    import skops.io as sio
    from sklearn.linear_model import LinearRegression

    path = tmp_path / "other.skops"
    sio.dump(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), path)
    (tmp_path / "other.json").write_text(json.dumps({"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}))
    with pytest.raises(InputError, match="not a HotspotRegressor|allow-list"):
        load_model(path)


def test_missing_card_refused(saved):
    _, path, _ = saved
    path.with_suffix(".json").unlink()
    with pytest.raises(InputError, match="model card"):
        load_model(path)


def test_default_model_ships_and_loads():
    model, card = load_model()
    assert DEFAULT_MODEL.exists() and isinstance(model, HotspotRegressor)
    assert card["validation"]["model"]["cases"] >= 1
    assert card["command"].startswith("thermesh train")
