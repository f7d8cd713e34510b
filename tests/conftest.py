"""Shared fixtures: small floorplans with known features, built in code (no files needed)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from thermal.geometry.floorplan import Floorplan

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# The property tests draw the same examples on every run, so CI is never red by chance;
# `HYPOTHESIS_PROFILE=explore make test` searches fresh random examples (keep what it finds
# as @example cases).
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


def grid_floorplan(nx: int, ny: int, size: float = 4e-3, seed: int = 0) -> Floorplan:
    """nx x ny equal blocks tiling a square die, random powers."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(nx), np.arange(ny))
    w, h = size / nx, size / ny
    names = [f"b{a}_{b}" for a, b in zip(i.ravel(), j.ravel())]
    return Floorplan.from_blocks(names, i.ravel() * w, j.ravel() * h, np.full(nx * ny, w),
                                 np.full(nx * ny, h), rng.uniform(0.1, 2.0, nx * ny))


def hot_corner_floorplan() -> Floorplan:
    """A 10 mm die, warm background, one 0.3 mm hot unit in a corner and one on an edge."""
    return Floorplan.from_blocks(
        ["hot", "edge", "rest_a", "rest_b"],
        [0.0, 4e-3, 0.0, 0.3e-3], [0.0, 9.6e-3, 0.3e-3, 0.0],
        [0.3e-3, 0.4e-3, 10e-3, 9.7e-3], [0.3e-3, 0.4e-3, 9.3e-3, 0.3e-3],
        [3.0, 2.0, 20.0, 1.0])


def gap_floorplan() -> Floorplan:
    """Two powered blocks with unpowered gaps, die offset from the origin."""
    return Floorplan.from_blocks(["a", "b", "c"], [1e-3, 3e-3, 1e-3], [2e-3, 2e-3, 4.5e-3],
                                 [1.5e-3, 1e-3, 3e-3], [2e-3, 1e-3, 0.5e-3], [4.0, 6.0, 0.0])


@pytest.fixture
def ev6():
    from thermal.io import read_hotspot

    return read_hotspot(EXAMPLES / "ev6.flp", EXAMPLES / "gcc.ptrace")
