"""Staged (all-or-nothing) output folders."""
import pytest

from thermal.app.output import staged


def test_staged_moves_everything_and_replaces_an_earlier_folder(tmp_path):
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "old.png").write_bytes(b"old")
    (out / "keep.txt").write_text("untouched")
    with staged(out) as stage:
        (stage / "figures").mkdir()
        (stage / "figures" / "new.png").write_bytes(b"new")
        (stage / "result.json").write_text("{}")
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["new.png"]
    assert (out / "result.json").read_text() == "{}" and (out / "keep.txt").read_text() == "untouched"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left


def test_staged_failure_leaves_no_output(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with staged(out) as stage:
            (stage / "result.json").write_text("{}")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
