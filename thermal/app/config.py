"""Model parameters from a TOML file and the command line.

A config file holds the same keys as the CLI flags, at the top level or under ``[model]``::

    conductivity = 100.0   # W/(m K)
    thickness = 0.15e-3    # m
    htc = 1.0e4            # W/(m^2 K)
    ambient = 318.15       # K
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from thermal.errors import InputError
from thermal.geometry.lumped import PARAMETERS, LumpedDie

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, flags=re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def read_config(path: str | Path) -> dict:
    """Parameters in a TOML file, validated: unknown keys and non-numbers are errors."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read config: {exc.__class__.__name__}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(path, f"invalid TOML: {str(exc).split(' (at')[0]}", line) from None
    data = data.get("model", data) if isinstance(data.get("model"), dict) else data
    for key, value in data.items():
        if key not in PARAMETERS:
            raise InputError(path, f"unknown key '{key}' (expected one of {', '.join(PARAMETERS)})",
                             _line_of(text, key))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(path, f"'{key}' must be a number, got {value!r}", _line_of(text, key))
        if not value > 0 or value == float("inf"):
            raise InputError(path, f"'{key}' must be positive and finite, got {value!r}",
                             _line_of(text, key))
    return {k: float(v) for k, v in data.items()}


def build_model(*sources: dict | None) -> LumpedDie:
    """A model from parameter dicts, later ones overriding earlier ones; ``None`` values skipped."""
    merged: dict = {}
    for src in sources:
        merged.update({k: v for k, v in (src or {}).items() if v is not None})
    return LumpedDie(**merged)
