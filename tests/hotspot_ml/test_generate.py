"""Tests of the synthetic floorplan generator: validity, round trips, reproducibility, ranges."""
from __future__ import annotations

import argparse
import filecmp
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import hotspot_ml.generate as gen
from hotspot_ml.generate import STYLES, generate, main_generate, random_case
from thermal.app.config import read_config
from thermal.geometry.floorplan import Floorplan
from thermal.io import read_hotspot
from thermal.geometry.lumped import LumpedDie

BATCH = 40      # cases in the shared batch
BATCH_SEED = 7


# ---------------------------------------------------------------------- helpers
def check_case(fp: Floorplan, package: LumpedDie, blocks: int | None = None) -> None:
    """Everything the generator promises about one case."""
    b = fp.blocks
    n = len(fp.names)
    if blocks is not None:
        assert n == blocks
    assert fp.snap.count == 0, "snapping moved an edge"
    assert len(set(fp.names)) == n
    assert all(name and not any(c.isspace() for c in name) and len(name) <= 16 for name in fp.names)
    assert fp.die[:2] == (0.0, 0.0)
    assert 2e-3 <= fp.width <= 30e-3 and 2e-3 <= fp.height <= 30e-3
    assert max(fp.width, fp.height) / min(fp.width, fp.height) <= 2.05
    assert min(b.width.min(), b.height.min()) >= 50e-6
    assert np.max(np.maximum(b.width / b.height, b.height / b.width)) <= 50
    density = fp.block_power / b.area
    assert density.min() >= 0 and density.max() <= 2e7 and fp.total_power > 0
    rise = fp.total_power / (package.htc * fp.width * fp.height)
    assert 1.0 <= rise <= 150.0
    for key, (lo, hi) in gen.PACKAGE_RANGES.items():
        assert lo <= getattr(package, key) <= hi, key


def guillotine(fp: Floorplan) -> bool:
    """Whether straight cuts crossing no block separate all blocks (recursively)."""
    b = fp.blocks
    stack = [np.column_stack([b.x0, b.y0, b.x1, b.y1])]
    while stack:
        r = stack.pop()
        if len(r) <= 1:
            continue
        for lo, hi in ((0, 2), (1, 3)):
            r = r[np.argsort(r[:, lo], kind="stable")]
            reach = np.maximum.accumulate(r[:, hi])
            cuts = np.flatnonzero(reach[:-1] <= r[1:, lo])
            if cuts.size:
                stack += [r[:cuts[0] + 1], r[cuts[0] + 1:]]
                break
        else:
            return False
    return True


def files_of(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("batch")
    return out, generate(BATCH, BATCH_SEED, out, progress=False)


# ---------------------------------------------------------------------- validity
@pytest.mark.parametrize("style", STYLES)
def test_every_style_is_valid_for_many_seeds(style):
    for seed in range(50):
        rng = np.random.default_rng(seed)
        blocks = int(rng.integers(5, 60))
        fp, package = random_case(rng, style, blocks)
        check_case(fp, package, blocks)
        if style == "slicing":
            assert guillotine(fp)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), style=st.sampled_from(STYLES), blocks=st.integers(1, 80))
@example(seed=256, style="tiled", blocks=9)  # every powered block at the density cap, 0.4 K
def test_any_seed_and_small_count(seed, style, blocks):
    fp, package = random_case(np.random.default_rng(seed), style, blocks)
    check_case(fp, package, blocks)


@pytest.mark.parametrize("style", STYLES)
def test_large_forced_counts(style):
    for blocks in (700, 2000):
        fp, package = random_case(np.random.default_rng(blocks), style, blocks)
        check_case(fp, package, blocks)


def test_irregular_layouts_are_not_all_slicing():
    found = sum(not guillotine(random_case(np.random.default_rng(s), "irregular", 60)[0])
                for s in range(10))
    assert found >= 3


def test_random_count_and_style_cover_the_ranges():
    counts, styles = [], set()
    for seed in range(60):
        fp, package = random_case(np.random.default_rng(seed))
        check_case(fp, package)
        counts.append(len(fp.names))
        styles.add(fp.source.strip("<>").split()[0])
    assert min(counts) >= 5 and max(counts) <= 2000
    assert min(counts) < 30 and max(counts) > 300   # log-uniform: small common, large occur
    assert styles == set(STYLES)


def test_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="style"):
        random_case(rng, "spiral")
    for blocks in (0, -3, 10**6, 2.5):
        with pytest.raises(ValueError, match="blocks"):
            random_case(rng, "slicing", blocks)
    with pytest.raises(ValueError, match="count"):
        generate(-1, 0, "unused", progress=False)
    with pytest.raises(ValueError, match="workers"):
        generate(1, 0, "unused", workers=0, progress=False)


# ---------------------------------------------------------------------- files
def test_batch_round_trips_through_the_files(batch):
    out, flps = batch
    assert flps == [out / f"case_{i:05d}.flp" for i in range(BATCH)]
    children = np.random.SeedSequence(BATCH_SEED).spawn(BATCH)
    styles = set()
    for flp, child in zip(flps, children):
        fp, package = random_case(np.random.default_rng(child))
        back = read_hotspot(flp, flp.with_suffix(".ptrace"))
        assert back.names == fp.names
        for a in ("x0", "y0", "x1", "y1"):
            np.testing.assert_array_equal(getattr(back.blocks, a), getattr(fp.blocks, a))
        np.testing.assert_array_equal(back.block_power, fp.block_power)
        assert back.snap.count == 0
        # The package's drawn parameters (the heat capacity keeps its default).
        assert read_config(flp.with_suffix(".toml")) == {k: package.as_dict()[k] for k in gen.PACKAGE_RANGES}
        header = flp.with_suffix(".toml").read_text().splitlines()[0]
        styles.add(header.split("style ")[1].split(",")[0])
    assert styles == set(STYLES)


def test_batch_ranges_hot_units_and_gaps(batch):
    _, flps = batch
    small_hot = gaps = multi_row = 0
    for flp in flps:
        fp = read_hotspot(flp, flp.with_suffix(".ptrace"))
        package = LumpedDie(**read_config(flp.with_suffix(".toml")))
        check_case(fp, package)
        hot = np.array([n.startswith("hot") for n in fp.names])
        b = fp.blocks
        small_hot += bool(np.any(np.minimum(b.width, b.height)[hot] <= 100e-6))
        gaps += b.area.sum() < fp.width * fp.height * (1 - 1e-12)
        multi_row += len(flp.with_suffix(".ptrace").read_text().splitlines()) > 2
    assert small_hot >= 3
    assert gaps >= BATCH // 2
    assert multi_row >= 3


def test_atomic_writing_leaves_only_the_cases(batch):
    out, _ = batch
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"case_{i:05d}{ext}" for i in range(BATCH)
                           for ext in (".flp", ".ptrace", ".toml"))


def test_failed_write_leaves_no_temporary_and_no_flp(tmp_path, monkeypatch):
    def broken(path, names, rows):
        Path(path).write_text("partial")
        raise OSError("disk full")

    monkeypatch.setattr(gen, "write_ptrace", broken)
    with pytest.raises(OSError, match="disk full"):
        generate(1, 0, tmp_path, progress=False)
    # The .toml of the case went in whole; nothing half written, and no .flp announces the case.
    assert [p.name for p in tmp_path.iterdir()] == ["case_00000.toml"]


# ---------------------------------------------------------------------- reproducibility
def test_same_seed_same_bytes_any_worker_count(tmp_path, batch):
    out, _ = batch
    a, b = tmp_path / "a", tmp_path / "b"
    generate(8, BATCH_SEED, a, workers=1, progress=False)
    generate(8, BATCH_SEED, b, workers=2, progress=False)
    assert files_of(a) == files_of(b)
    # The first cases of a larger run are those of a smaller one.
    match, mismatch, errors = filecmp.cmpfiles(a, out, list(files_of(a)), shallow=False)
    assert not mismatch and not errors and len(match) == 24
    c = tmp_path / "c"
    generate(8, BATCH_SEED + 1, c, progress=False)
    assert files_of(c) != files_of(a)


def test_random_case_is_reproducible():
    for style in (None, *STYLES):
        f1, p1 = random_case(np.random.default_rng(11), style)
        f2, p2 = random_case(np.random.default_rng(11), style)
        assert f1.names == f2.names and p1 == p2
        np.testing.assert_array_equal(f1.block_power, f2.block_power)
        np.testing.assert_array_equal(f1.blocks.x0, f2.blocks.x0)


def test_main_generate_prints_a_summary(tmp_path, capsys):
    args = argparse.Namespace(count=3, seed=5, out=str(tmp_path / "cli"), workers=1, progress=False)
    assert main_generate(args) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "generated 3 cases" in out
    assert len(list((tmp_path / "cli").glob("*.flp"))) == 3
