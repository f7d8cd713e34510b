"""Models loaded once per process: the trees file a card names (no scikit-learn), or the
checked skops file of a model written before trees files existed.

Apart from :mod:`hotspot_ml.trees` and :mod:`hotspot_ml.model` so that neither imports the
other.
"""
from __future__ import annotations

from pathlib import Path

from hotspot_ml.trees import load_trees


_CACHE: dict = {}


def cached_predictor(model_path: str | Path | None = None) -> tuple[object, dict, float]:
    """A model (default: the shipped one) loaded once per process: its predictor (anything with
    ``predict(X)``), its card, and the seconds this call spent loading (0 when it was already
    loaded). The trees file when the card names one; else (a model written before trees files
    existed) the checked skops file, which costs scikit-learn's import. A file changed since is
    loaded (and checked) again."""
    import time

    from hotspot_ml.card import DEFAULT_MODEL, read_card

    file = Path(model_path or DEFAULT_MODEL).resolve()
    stat = file.stat() if file.is_file() else None
    key = (str(file), stat and stat.st_mtime_ns, stat and stat.st_size)
    if key in _CACHE:
        return (*_CACHE[key], 0.0)
    start = time.perf_counter()
    card = read_card(file)
    if "trees_file" in card:
        _CACHE[key] = load_trees(file, card)
    else:
        from hotspot_ml.model import load_model

        _CACHE[key] = load_model(file)
    return (*_CACHE[key], time.perf_counter() - start)
