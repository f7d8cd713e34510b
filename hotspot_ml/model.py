"""The regressor, and how it is saved and loaded safely.

:class:`HotspotRegressor` is a scikit-learn estimator (``__init__`` only stores parameters,
``fit`` returns self, fitted attributes end in ``_``; it passes ``check_estimator``). It maps the
dimensionless node features of :mod:`hotspot_ml.features` to the correction
``(u_exact - u_series) / T0`` that the truncated series misses, with gradient-boosted trees
(fast to predict: ~10 ms for a 129 x 129 grid).

Model files are skops files, never pickles. :func:`load_model` refuses a file unless

* its SHA-256 matches the ``sha256`` in the model card (JSON) beside it, and
* every type it would instantiate is in :data:`ALLOWED_TYPES` (checked with
  ``skops.io.get_untrusted_types`` before anything is built).

Anything else is an :class:`~thermal.errors.InputError`: nothing in the file is executed.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from hotspot_ml.card import DEFAULT_MODEL, card_path, file_sha256, read_card
from thermal.errors import InputError

__all__ = ["DEFAULT_MODEL", "HotspotRegressor", "card_path", "file_sha256", "load_model", "save_model"]


class HotspotRegressor(RegressorMixin, BaseEstimator):
    """Gradient-boosted trees predicting the truncated series' correction at grid nodes.

    Parameters
    ----------
    max_iter : int
        Boosting iterations (trees).
    learning_rate : float
    max_leaf_nodes : int
        Leaves per tree.
    l2_regularization : float
    random_state : int or None

    Attributes
    ----------
    booster_ : HistGradientBoostingRegressor
        The fitted trees.
    n_features_in_ : int
    n_iter_ : int
        Trees fitted.
    """

    def __init__(self, max_iter: int = 100, learning_rate: float = 0.1, max_leaf_nodes: int = 31,
                 l2_regularization: float = 0.0, random_state: int | None = 0):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def fit(self, X, y) -> "HotspotRegressor":
        from sklearn.ensemble import HistGradientBoostingRegressor

        X, y = validate_data(self, X, y, y_numeric=True)
        self.booster_ = HistGradientBoostingRegressor(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, l2_regularization=self.l2_regularization,
            early_stopping=False, random_state=self.random_state).fit(X, y)
        self.n_iter_ = self.booster_.n_iter_
        return self

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.booster_.predict(X)


# ---------------------------------------------------------------------------------- files
#: Types a model file may contain beyond skops' defaults (numpy, builtins): the estimator and
#: scikit-learn's histogram gradient boosting internals. Anything else is refused.
ALLOWED_TYPES = frozenset({
    "hotspot_ml.model.HotspotRegressor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfSquaredError",
    "collections.OrderedDict",
})


def save_model(model: HotspotRegressor, path: str | Path, card: dict) -> Path:
    """Write ``model`` as a skops file, its trees as plain arrays (:mod:`hotspot_ml.trees`, what
    prediction loads) and its card (with both files' SHA-256) beside it."""
    import skops.io as sio

    from hotspot_ml.trees import export_trees

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    sio.dump(model, tmp)
    unexpected = set(sio.get_untrusted_types(file=tmp)) - ALLOWED_TYPES
    if unexpected:
        tmp.unlink()
        raise RuntimeError(f"model contains types outside the allow-list: {sorted(unexpected)}")
    tmp.replace(path)
    card = {**card, "model_file": path.name, "sha256": file_sha256(path), **export_trees(model, path)}
    card_path(path).write_text(json.dumps(card, indent=2, default=float) + "\n")
    return path


def load_model(path: str | Path | None = None) -> tuple[HotspotRegressor, dict]:
    """Load a model file after checking its card's SHA-256 and the types it contains.

    Raises
    ------
    InputError
        Missing file or card, checksum mismatch (tampered), foreign or unreadable file, or a
        type outside :data:`ALLOWED_TYPES`. Nothing in a refused file is executed.
    """
    import skops.io as sio

    path = Path(path) if path is not None else DEFAULT_MODEL
    card = read_card(path)
    try:
        digest = file_sha256(path)
    except OSError as exc:
        raise InputError(path, f"cannot read model: {exc.strerror or exc}") from None
    if not isinstance(card, dict) or digest != card.get("sha256"):
        raise InputError(path, "SHA-256 does not match its model card: the file was changed "
                         "or is not the model the card describes; refusing to load it")
    try:
        untrusted = set(sio.get_untrusted_types(file=path))
    except Exception as exc:  # any parse failure of a foreign file: report, never execute
        raise InputError(path, f"not a skops model file ({exc.__class__.__name__})") from None
    refused = untrusted - ALLOWED_TYPES
    if refused:
        raise InputError(path, f"model file contains types outside the allow-list: "
                         f"{', '.join(sorted(refused)[:5])}; refusing to load it")
    try:
        model = sio.load(path, trusted=sorted(untrusted))
    except Exception as exc:
        raise InputError(path, f"cannot load model ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(model, HotspotRegressor):
        raise InputError(path, f"model file holds a {type(model).__name__}, not a HotspotRegressor")
    return model, card
