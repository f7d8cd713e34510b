"""The fitted trees as plain arrays: prediction without scikit-learn, skops or pickle.

Loading scikit-learn and skops costs a one-shot command about a second before it predicts
anything (the shipped model took 2.4 s to load cold here), which made ``--mesh adaptive``
slower end to end than a uniform solve of equal accuracy. Prediction needs only the trees: per
node a feature, a threshold, where missing values go, two children and a value. :class:`TreeEnsemble`
holds exactly that for every tree of a fitted ``HistGradientBoostingRegressor``, in a numpy
``.npz`` read with ``allow_pickle=False`` (arrays of numbers and nothing else: nothing in the
file is executed), checked against the SHA-256 in the model card beside it and for
consistency (every child index inside its array, every feature index below the feature count)
before use. scikit-learn stays for training and for the estimator API
(:class:`hotspot_ml.model.HotspotRegressor`); :func:`export_trees` writes this file from it.

A node of HistGradientBoosting sends a sample left when its value is at most the threshold, or
when it is missing and the node says so; the prediction is the baseline plus the leaves' values
(the learning rate is already in them). Prediction does not walk the trees: it evaluates them
by leaf bitmasks (QuickScorer; Lucchese et al., SIGIR 2015). Number each tree's leaves left to
right; a node a sample leaves to the right rules out the leaves of its left subtree, and the
leaf the sample reaches is the leftmost one no node ruled out. The nodes a value sends right are
those whose threshold is below it, so per feature and tree the leaves still possible depend only
on where the value falls among that feature's thresholds: a table, cumulative over the sorted
thresholds, built once at load. Prediction is then, per feature, one ``searchsorted`` and one
table lookup ANDed into every (sample, tree) mask, vectorised over both, and the lowest set bit
names the leaf. On the stack model (60 trees of at most 31 leaves, 4940 samples) it took 8
against 30 ms for a level-by-level walk. It equals scikit-learn's prediction to the bit (tested,
with missing values).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from thermal.errors import InputError

#: The arrays a trees file holds, and their kinds.
ARRAYS = {"feature": "i", "threshold": "f", "missing_left": "b", "left": "i", "right": "i",
          "value": "f", "leaf": "b", "roots": "i", "baseline": "f", "n_features": "i"}


class TreeEnsemble:
    """A sum of binary regression trees over ``n_features`` features.

    Parameters
    ----------
    feature, threshold, missing_left, left, right, value, leaf : ndarray (nodes,)
        Every tree's nodes, one after the other; ``left``/``right`` are indices into these
        arrays (a leaf's are its own).
    roots : ndarray (trees,)
        Each tree's root node.
    baseline : float
        Added to the leaves' sum.
    n_features : int
    """

    def __init__(self, feature, threshold, missing_left, left, right, value, leaf, roots,
                 baseline: float, n_features: int):
        self.feature, self.threshold = np.asarray(feature, np.intp), np.asarray(threshold, float)
        self.missing_left, self.leaf = np.asarray(missing_left, bool), np.asarray(leaf, bool)
        self.left, self.right = np.asarray(left, np.intp), np.asarray(right, np.intp)
        self.value, self.roots = np.asarray(value, float), np.asarray(roots, np.intp)
        self.baseline, self.n_features = float(baseline), int(n_features)
        # None where a tree does not end in leaves; the masks are built only for real trees.
        self.depths = [_depth(self, r) for r in self.roots]
        self._masks = _leaf_masks(self) if all(d is not None for d in self.depths) else None

    @classmethod
    def from_booster(cls, booster) -> "TreeEnsemble":
        """The trees of a fitted ``HistGradientBoostingRegressor`` (numerical features, one
        output)."""
        if getattr(booster, "is_categorical_", None) is not None and np.any(booster.is_categorical_):
            raise ValueError("categorical features are not supported")
        parts, roots, start = [], [], 0
        for (tree,) in booster._predictors:
            nodes = tree.nodes
            roots.append(start)
            left = np.where(nodes["is_leaf"], np.arange(nodes.size), nodes["left"]) + start
            right = np.where(nodes["is_leaf"], np.arange(nodes.size), nodes["right"]) + start
            parts.append((nodes["feature_idx"], nodes["num_threshold"], nodes["missing_go_to_left"],
                          left, right, nodes["value"], nodes["is_leaf"]))
            start += nodes.size
        columns = [np.concatenate(c) for c in zip(*parts)]
        return cls(*columns, np.asarray(roots), float(np.ravel(booster._baseline_prediction)[0]),
                   booster.n_features_in_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The ensemble's prediction for each row of ``X`` (samples, features)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must be (samples, {self.n_features}), got {X.shape}")
        # Searches once per feature, then the masks in chunks of rows small enough to stay in
        # cache while every feature's lookup is ANDed in.
        ranks = self._ranks(X)
        out = np.empty(X.shape[0])
        for start in range(0, X.shape[0], CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            out[rows] = self._leaf_sum([rank[rows] for rank in ranks])
        return out

    def _ranks(self, X: np.ndarray) -> list:
        """Per feature of the tables, where each value falls among its thresholds (the number
        below it: the nodes that send it right); a missing value takes the table's last row."""
        ranks = []
        for feature, thresholds, _ in self._masks[0]:
            x = X[:, feature]
            rank = np.searchsorted(thresholds, x)
            rank[np.isnan(x)] = thresholds.size + 1
            ranks.append(rank)
        return ranks

    def _leaf_sum(self, ranks: list) -> np.ndarray:
        """The prediction of the rows whose ``ranks`` are given."""
        tables, values, dtype = self._masks
        possible = np.full((ranks[0].size, values.shape[0]), np.iinfo(dtype).max, dtype=dtype)
        for (_, _, table), rank in zip(tables, ranks):
            possible &= table[rank]
        lowest = possible & (~possible + possible.dtype.type(1))
        leaf = np.frexp(lowest.astype(float))[1] - 1
        reached = values[np.arange(values.shape[0]), leaf]
        out = np.full(possible.shape[0], self.baseline)
        for tree in reached.T:  # tree by tree, as scikit-learn sums them: equal to the bit
            out += tree
        return out

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the arrays as an ``.npz`` (atomically)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".partial")
        with open(tmp, "wb") as f:
            np.savez(f, feature=self.feature.astype(np.int32), threshold=self.threshold,
                     missing_left=self.missing_left, left=self.left.astype(np.int32),
                     right=self.right.astype(np.int32), value=self.value, leaf=self.leaf,
                     roots=self.roots.astype(np.int32), baseline=np.array(self.baseline),
                     n_features=np.array(self.n_features))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path, sha256: str | None = None) -> "TreeEnsemble":
        """Read a trees file, refusing it (:class:`InputError`) unless its SHA-256 is ``sha256``
        (when given), it holds exactly :data:`ARRAYS` of the right kinds and no objects, and
        every index in it points inside its array."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(path, f"cannot read trees file: {exc.strerror or exc}") from None
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise InputError(path, "SHA-256 does not match its model card: the file was changed "
                             "or is not the model the card describes; refusing to load it")
        import io
        import zipfile

        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InputError(path, f"not a trees file ({exc.__class__.__name__})") from None
        if set(arrays) != set(ARRAYS):
            raise InputError(path, f"trees file holds {sorted(arrays)}, expected {sorted(ARRAYS)}")
        for name, kind in ARRAYS.items():
            if arrays[name].dtype.kind != kind:
                raise InputError(path, f"trees file: {name!r} is {arrays[name].dtype}, expected kind {kind!r}")
        n = arrays["feature"].size
        if any(arrays[k].shape != (n,) for k in ("threshold", "missing_left", "left", "right", "value", "leaf")):
            raise InputError(path, "trees file: node arrays of different lengths")
        n_features = int(arrays["n_features"])
        inner = ~arrays["leaf"]
        if (n == 0 or np.any(arrays["left"] < 0) or np.any(arrays["left"] >= n) or np.any(arrays["right"] < 0)
                or np.any(arrays["right"] >= n) or np.any(arrays["roots"] < 0) or np.any(arrays["roots"] >= n)
                or np.any(arrays["feature"][inner] < 0) or np.any(arrays["feature"][inner] >= n_features)):
            raise InputError(path, "trees file: an index points outside its array")
        try:
            ensemble = cls(arrays["feature"], arrays["threshold"], arrays["missing_left"], arrays["left"],
                           arrays["right"], arrays["value"], arrays["leaf"], arrays["roots"],
                           float(arrays["baseline"]), n_features)
        except ValueError as exc:
            raise InputError(path, f"trees file: {exc}") from None
        if any(d is None for d in ensemble.depths):
            raise InputError(path, "trees file: a tree does not end in leaves (a cycle)")
        return ensemble


def _depth(trees: TreeEnsemble, root: int) -> int | None:
    """Levels from ``root`` to its deepest leaf; None unless every path ends in a leaf and no
    node is reached twice (a file with a cycle or shared nodes is not a tree)."""
    seen = np.zeros(trees.leaf.size, bool)
    level, depth = np.array([root]), 0
    while True:
        if seen[level].any() or np.unique(level).size != level.size:
            return None
        seen[level] = True
        level = level[~trees.leaf[level]]
        if level.size == 0:
            return depth
        depth += 1
        level = np.concatenate([trees.left[level], trees.right[level]])


#: Rows whose leaf masks are formed together: 1024 rows of 60 trees' 32-bit masks are 240 kB,
#: which stay in cache while the 27 features' lookups are ANDed in (all 8450 rows at once
#: streamed 2 MB through memory per feature).
CHUNK_ROWS = 1024
#: Leaves a tree may have: one bit each in a 64-bit mask.
MAX_LEAVES = 64


def _leaf_masks(trees: TreeEnsemble) -> tuple[list, np.ndarray, type]:
    """What :meth:`TreeEnsemble.predict` looks up: per feature the sorted thresholds of its
    nodes and a (thresholds + 2, trees) table of the leaves still possible once a value falls
    past so many of them (the last row: a missing value); the leaves' values (trees, leaves)
    numbered left to right; the masks' unsigned type (32 bits when every tree fits)."""
    n, n_trees = trees.leaf.size, trees.roots.size
    tree, levels = np.full(n, -1, np.intp), []
    frontier = trees.roots
    tree[frontier] = np.arange(n_trees)
    while frontier.size:
        levels.append(frontier)
        inner = frontier[~trees.leaf[frontier]]
        frontier = np.concatenate([trees.left[inner], trees.right[inner]])
        tree[frontier] = np.tile(tree[inner], 2)
    # Leaves under each node (bottom up), then the first of them in left-to-right order (top down).
    count = np.ones(n, np.intp)
    for level in levels[::-1]:
        inner = level[~trees.leaf[level]]
        count[inner] = count[trees.left[inner]] + count[trees.right[inner]]
    first = np.zeros(n, np.intp)
    for level in levels:
        inner = level[~trees.leaf[level]]
        first[trees.left[inner]] = first[inner]
        first[trees.right[inner]] = first[inner] + count[trees.left[inner]]
    # Only the nodes the roots reach count, each in one tree.
    reached = np.concatenate(levels)
    if np.unique(reached).size != reached.size:
        raise ValueError("a node belongs to two trees")
    leaves = count[trees.roots].max()
    if leaves > MAX_LEAVES:
        raise ValueError(f"a tree has {leaves} leaves; at most {MAX_LEAVES} are supported")
    dtype = np.uint32 if leaves <= 32 else np.uint64
    inner = reached[~trees.leaf[reached]]
    # Going right at a node rules out the leaves of its left subtree.
    ruled_out = ((np.uint64(1) << count[trees.left[inner]].astype(np.uint64)) - np.uint64(1)) \
        << first[inner].astype(np.uint64)
    masks = (~ruled_out).astype(dtype)
    tables = []
    for feature in np.unique(trees.feature[inner]):
        nodes = trees.feature[inner] == feature
        thresholds = np.unique(trees.threshold[inner][nodes])
        rank = np.searchsorted(thresholds, trees.threshold[inner][nodes])
        table = np.full((thresholds.size + 2, n_trees), np.iinfo(dtype).max, dtype=dtype)
        # A value past rank r thresholds is sent right by every node of rank below r.
        np.bitwise_and.at(table, (rank + 1, tree[inner][nodes]), masks[nodes])
        table[:-1] = np.bitwise_and.accumulate(table[:-1], axis=0)
        right = ~trees.missing_left[inner][nodes]
        missing = np.full(n_trees, np.iinfo(dtype).max, dtype=dtype)
        np.bitwise_and.at(missing, tree[inner][nodes][right], masks[nodes][right])
        table[-1] = missing
        tables.append((int(feature), thresholds, table))
    values = np.zeros((n_trees, leaves))
    leaf = reached[trees.leaf[reached]]
    values[tree[leaf], first[leaf]] = trees.value[leaf]
    return tables, values, dtype


def trees_path(model_path: str | Path) -> Path:
    """The trees file beside a model file."""
    return Path(model_path).with_suffix(".trees.npz")


def export_trees(regressor, model_path: str | Path) -> dict:
    """Write the trees of a fitted :class:`~hotspot_ml.model.HotspotRegressor` beside its model
    file: the card entries that name and check it."""
    path = TreeEnsemble.from_booster(regressor.booster_).save(trees_path(model_path))
    return {"trees_file": path.name, "trees_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def load_trees(model_path: str | Path | None = None, card: dict | None = None) -> tuple[TreeEnsemble, dict]:
    """The trees named by a model's card (default: the shipped model's; ``card`` if already
    read), checked against the SHA-256 the card gives: (trees, card)."""
    from hotspot_ml.card import DEFAULT_MODEL, card_path, file_sha256, read_card

    path = Path(model_path) if model_path is not None else DEFAULT_MODEL
    card = read_card(path) if card is None else card
    name, digest = card.get("trees_file"), card.get("trees_sha256")
    if not isinstance(name, str) or not isinstance(digest, str) or Path(name).name != name:
        raise InputError(card_path(path), "the model card names no trees file")
    # The model file the user named is checked too, though prediction reads only the trees: a
    # changed model is refused whichever of its files changed.
    try:
        model_digest = file_sha256(path)
    except OSError as exc:
        raise InputError(path, f"cannot read model: {exc.strerror or exc}") from None
    if model_digest != card.get("sha256"):
        raise InputError(path, "SHA-256 does not match its model card: the file was changed "
                         "or is not the model the card describes; refusing to load it")
    trees = path.with_name(name)
    if not trees.is_file():
        raise InputError(trees, f"missing: the card names it (a model is its {path.suffix} file, "
                         f"its {name.split('.', 1)[-1]} file and its card, side by side)")
    return TreeEnsemble.load(trees, digest), card
