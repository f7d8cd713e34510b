"""Model files' cards: the JSON beside a model that names its files and their SHA-256.

Kept apart from :mod:`hotspot_ml.model` so that reading a card (and predicting with the trees
file it names, :mod:`hotspot_ml.trees`) does not import scikit-learn.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from thermal.errors import InputError

#: The shipped default model (its card is ``default.json`` beside it).
DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "default.skops"
#: The shipped stack model (packages and 3D stacks, :mod:`hotspot_ml.stack_train`).
STACK_MODEL = Path(__file__).resolve().parent / "models" / "stack.skops"


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def card_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".json")


def read_card(model_path: str | Path) -> dict:
    """The card beside ``model_path``; a missing or unreadable card is an :class:`InputError`."""
    path = card_path(model_path)
    try:
        card = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(model_path, f"no readable model card {path.name} beside the model "
                         f"({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"model card is not JSON: {exc.msg}", exc.lineno) from None
    if not isinstance(card, dict):
        raise InputError(path, "model card is not a JSON object")
    return card


def check_kind(card: dict, kind: str, model_path) -> None:
    """Refuse a model trained for the other kind of problem: ``"lumped"`` (the single sheet,
    cards written before kinds existed) or ``"stack"``."""
    found = card.get("kind", "lumped")
    if found != kind:
        what = {"lumped": "the lumped die (a floorplan without a stack)", "stack": "stacks"}
        raise InputError(model_path or DEFAULT_MODEL, f"this model was trained for {what.get(found, found)}, "
                         f"not {what[kind]}")
