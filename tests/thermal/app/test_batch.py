"""``thermesh batch``: inputs, resuming, failures, the summary and report, local and dask runs."""
import base64
import csv
import json
import os
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import grid_floorplan
from thermal.app.batch import Case, build_options, read_cases, run_batch, run_case
from thermal.app.batch import run as batch_run
from thermal.app.cli import build_parser, main
from thermal.errors import InputError
from thermal.io import write_flp, write_ptrace

ROOT = Path(__file__).resolve().parents[3]
FAST = ["--mesh", "uniform", "--resolution", "24", "--no-png"]


def write_case(folder: Path, stem: str, seed: int, n: int = 3, toml: str | None = None) -> Path:
    """A small n x n grid floorplan as stem.flp + stem.ptrace (+ stem.toml)."""
    folder.mkdir(parents=True, exist_ok=True)
    fp = grid_floorplan(n, n, seed=seed)
    write_flp(folder / f"{stem}.flp", fp)
    write_ptrace(folder / f"{stem}.ptrace", fp.names, fp.block_power)
    if toml is not None:
        (folder / f"{stem}.toml").write_text(toml)
    return folder / f"{stem}.flp"


def read_summary(out: Path) -> dict[str, dict]:
    with open(out / "summary.csv", newline="") as fh:
        return {r["name"]: r for r in csv.DictReader(fh)}


def case_json(out: Path, name: str) -> dict:
    return json.loads((out / "cases" / name / "case.json").read_text())


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("three")
    for i in range(3):
        write_case(folder, f"c{i}", seed=i, toml="htc = 2e4\n" if i == 1 else None)
    return folder


# ---------------------------------------------------------------------------------- inputs
def test_read_directory_and_glob(tmp_path, three):
    cases = read_cases(three)
    assert [c.name for c in cases] == ["c0", "c1", "c2"]
    assert all(Path(c.flp).is_absolute() and c.ptrace.endswith(".ptrace") for c in cases)
    assert [c.config is not None for c in cases] == [False, True, False]

    (tmp_path / "a").mkdir()
    write_case(tmp_path / "a", "x y", 0)
    write_case(tmp_path / "b", "x y", 1)
    (tmp_path / "b" / "lonely.flp").write_text("a 1e-3 1e-3 0 0\n")
    cases = read_cases(str(tmp_path / "*" / "*.flp"))
    assert [c.name for c in cases] == ["x_y", "lonely", "x_y-2"]  # sorted paths; safe, unique names
    assert cases[1].problem and "lonely.ptrace" in cases[1].problem
    with pytest.raises(InputError, match="no .flp files match"):
        read_cases(str(tmp_path / "*.nothing"))
    with pytest.raises(InputError, match="no such file"):
        read_cases(str(tmp_path / "missing"))


def test_manifest_paths_parameters_and_names(tmp_path, three):
    (tmp_path / "m").mkdir()
    manifest = tmp_path / "m" / "cases.csv"
    rel = os.path.relpath(three, manifest.parent)
    manifest.write_text("flp,ptrace,name,htc,resolution,mesh\n"
                        f"{rel}/c0.flp,{rel}/c0.ptrace,first,2.5e4,16,uniform\n"
                        f"{rel}/c2.flp,{rel}/c2.ptrace,,,,\n"
                        "\n# a comment\n"
                        f"{three}/c1.flp,{three}/c1.ptrace,,,,\n")
    cases = read_cases(manifest)
    assert [c.name for c in cases] == ["first", "c2", "c1"]
    assert cases[0].params == {"htc": 2.5e4, "resolution": 16, "mesh": "uniform"}
    assert cases[0].flp == str((three / "c0.flp").resolve())
    assert cases[1].params == {} and cases[2].origin.endswith("cases.csv:6")

    out = tmp_path / "out"
    assert main(["batch", "--model", "lumped", str(manifest), *FAST, "--htc", "1e4", "--out", str(out)]) == 0
    first = json.loads((out / "cases" / "first" / "result.json").read_text())
    assert first["parameters"]["htc"] == 2.5e4           # the row overrides the flag
    assert first["mesh"]["resolution"] == 16
    other = json.loads((out / "cases" / "c2" / "result.json").read_text())
    assert other["parameters"]["htc"] == 1e4 and other["mesh"]["resolution"] == 24


@pytest.mark.parametrize("content,expect", [
    ("flp,name\na.flp,x\n", "cases.csv:1: missing column 'ptrace'"),
    ("flp,ptrace,colour\na.flp,a.ptrace,red\n", "cases.csv:1: unknown column 'colour'"),
    ("flp,ptrace,htc\na.flp,a.ptrace,1e4\nb.flp,b.ptrace,fast\n", "cases.csv:3: 'htc': not a number: 'fast'"),
    ("flp,ptrace,tol\na.flp,a.ptrace,2\n", "cases.csv:2: 'tol': must be between 0 and 1"),
    ("flp,ptrace,name\na.flp,a.ptrace,x\nb.flp,b.ptrace,x\n", "cases.csv:3: duplicate name 'x'"),
    ("flp,ptrace,name\na.flp,a.ptrace,../x\n", "cases.csv:2: name '../x' is not a safe folder name"),
    ("flp,ptrace\na.flp\n", "cases.csv:2: expected 2 fields"),
    ("flp,ptrace\n", "no cases"),
])
def test_bad_manifest_exit_2_one_line_no_output(tmp_path, capsys, content, expect):
    manifest = tmp_path / "cases.csv"
    manifest.write_text(content)
    out = tmp_path / "out"
    assert main(["batch", "--model", "lumped", str(manifest), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expect in err and "Traceback" not in err
    assert not out.exists()


def test_bad_flags_and_missing_dask_exit_2(tmp_path, three, capsys, monkeypatch):
    out = tmp_path / "out"
    assert main(["batch", "--model", "lumped", str(three), "--htc", "-1", "--out", str(out)]) == 2
    assert "command line: htc must be positive" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["batch", "--model", "lumped", str(three), "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)]) == 2
    assert "pip install 'thermesh[distributed]'" in capsys.readouterr().err
    assert not out.exists()


# ---------------------------------------------------------------------------------- running
def test_corrupt_case_reported_others_finish_then_resume(tmp_path, capsys):
    src = tmp_path / "in"
    for i in range(3):
        write_case(src, f"good{i}", seed=i)
    (src / "bad.flp").write_bytes(b"\x00\xffgarbage\n")
    (src / "bad.ptrace").write_text("a\n1\n")
    (src / "orphan.flp").write_text("a 1e-3 1e-3 0 0\n")
    out = tmp_path / "out"
    argv = ["batch", "--model", "lumped", str(src), *FAST, "--out", str(out)]
    assert main([*argv, "--workers", "2"]) == 1  # local worker processes
    assert capsys.readouterr().out.startswith("3 ok, 2 failed, 0 skipped (finished)")
    rows = read_summary(out)
    assert [rows[f"good{i}"]["status"] for i in range(3)] == ["ok"] * 3
    assert rows["bad"]["status"] == rows["orphan"]["status"] == "failed"
    assert "bad.flp" in rows["bad"]["error"] and "\n" not in rows["bad"]["error"]
    assert "no power trace orphan.ptrace" in rows["orphan"]["error"]
    assert int(rows["good0"]["elements"]) > 0 and float(rows["good0"]["peak_temperature_K"]) > 318
    assert float(rows["good0"]["total_s"]) > 0 and rows["good0"]["peak_block"]
    assert set(os.listdir(out / "cases" / "bad")) == {"case.json"}  # no partial outputs
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"ok": 3, "failed": 2, "skipped": 0, "total": 5}
    report = (out / "report.html").read_text()
    assert "bad.flp" in report and "Failures" in report

    # The same command again (the number of workers does not matter): finished cases are
    # skipped (untouched), failed ones rerun.
    mtimes = {n: (out / "cases" / n / "case.json").stat().st_mtime_ns for n in rows}
    assert main(argv) == 1
    assert capsys.readouterr().out.startswith("0 ok, 2 failed, 3 skipped (finished)")
    again = read_summary(out)
    assert [again[f"good{i}"]["status"] for i in range(3)] == ["skipped"] * 3
    assert again["good1"]["elements"] == rows["good1"]["elements"]
    for i in range(3):
        assert (out / "cases" / f"good{i}" / "case.json").stat().st_mtime_ns == mtimes[f"good{i}"]
    assert (out / "cases" / "bad" / "case.json").stat().st_mtime_ns != mtimes["bad"]

    # Fixing the broken case's file reruns it; other options rerun everything.
    write_case(src, "bad", seed=7)
    (src / "orphan.flp").unlink()
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("1 ok, 0 failed, 3 skipped (finished)")
    assert main(["batch", "--model", "lumped", str(src), "--resolution", "20", "--no-png", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("4 ok, 0 failed, 0 skipped")
    assert not [p for p in os.listdir(out / "cases") if p.startswith(".")]


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_report_parses_and_embeds_png(tmp_path, three):
    out = tmp_path / "out"
    assert main(["batch", "--model", "lumped", str(three), *FAST, "--out", str(out)]) == 0
    parser = _Images()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    parser.close()
    assert parser.sources
    for src in parser.sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(b"\x89PNG\r\n\x1a\n")
    assert (out / "report.md").exists() and list((out / "figures").glob("*.png"))
    # The case's own .toml applies (like --config).
    assert case_json(out, "c1")["row"]["status"] == "ok"
    assert json.loads((out / "cases" / "c1" / "result.json").read_text())["parameters"]["htc"] == 2e4


def test_run_case_never_raises(tmp_path):
    options = build_options(build_parser().parse_args(["batch", "--model", "lumped", "x", "--out", "o", *FAST]))
    case = Case("ghost", str(tmp_path / "ghost.flp"), str(tmp_path / "ghost.ptrace"))
    row = run_case(case, "solve", options, tmp_path / "out")
    assert row["status"] == "failed" and "ghost.flp" in row["error"]
    row = run_case(case, "nonsense", options, tmp_path / "out")
    assert row["status"] == "failed" and row["error"]


def test_predict_task(tmp_path, three):
    out = tmp_path / "out"
    assert main(["batch", "--model", "lumped", str(three), "--task", "predict", "--no-png", "--out", str(out)]) == 0
    rows = read_summary(out)
    assert all(int(r["hotspots"]) >= 1 and float(r["hottest_predicted_K"]) > 318 for r in rows.values())
    data = json.loads((out / "cases" / "c0" / "hotspots.json").read_text())
    assert data["hotspots"][0]["temperature"] == pytest.approx(float(rows["c0"]["hottest_predicted_K"]))
    assert data["model"]["predictor"] == "model"
    physics = tmp_path / "physics"
    assert main(["batch", "--model", "lumped", str(three), "--task", "predict", "--predictor", "physics",
                 "--no-png", "--out", str(physics)]) == 0
    assert json.loads((physics / "cases" / "c0" / "hotspots.json").read_text())["model"]["predictor"] == "physics"


def test_predict_task_with_a_given_model(tmp_path, three):
    import shutil

    from hotspot_ml.model import DEFAULT_MODEL, card_path

    from hotspot_ml.trees import trees_path

    model = tmp_path / "mine.skops"
    shutil.copy(DEFAULT_MODEL, model)
    shutil.copy(card_path(DEFAULT_MODEL), card_path(model))
    shutil.copy(trees_path(DEFAULT_MODEL), tmp_path / "default.trees.npz")  # the name the card gives
    out = tmp_path / "out"
    assert main(["batch", "--model", "lumped", str(three), "--task", "predict", "--hotspot-model", str(model), "--no-png",
                 "--out", str(out)]) == 0
    assert json.loads((out / "cases" / "c0" / "hotspots.json").read_text())["model"]["file"] == str(model.resolve())
    # A tampered model file fails every case (one line each), never loads, never stops the batch.
    model.write_bytes(model.read_bytes() + b"\0")
    out = tmp_path / "tampered"
    assert main(["batch", "--model", "lumped", str(three), "--task", "predict", "--hotspot-model", str(model), "--no-png",
                 "--out", str(out)]) == 1
    rows = read_summary(out)
    assert len(rows) == 3 and all(r["status"] == "failed" and "\n" not in r["error"] for r in rows.values())


def test_compare_task(tmp_path):
    src = tmp_path / "in"
    write_case(src, "k0", seed=0, n=3)
    out = tmp_path / "out"
    assert main(["batch", "--model", "lumped", str(src), "--task", "compare", "--methods", "power",
                 "--tolerances", "5e-2,2e-3", "--resolutions", "8,16,32,64", "--out", str(out)]) == 0
    row = read_summary(out)["k0"]
    assert row["status"] == "ok" and row["failed_runs"] == "0"
    assert float(row["power_element_saving"]) > 0 and float(row["power_speedup"]) > 0
    assert float(row["peak_temperature_K"]) > 318  # the exact peak
    assert (out / "cases" / "k0" / "compare.json").exists()
    assert (out / "cases" / "k0" / "report.html").exists()


def _crash_on_c1(case, task, options, out, threads=None):
    """run_case, except that case c1 kills its worker process (as a segfault would)."""
    if case.name == "c1":
        os._exit(13)
    return run_case(case, task, options, out, threads)


def test_worker_crash_is_one_failed_case(tmp_path, three, monkeypatch):
    monkeypatch.setattr(batch_run, "run_case", _crash_on_c1)
    monkeypatch.setattr(batch_run, "can_fork", lambda: False)  # fresh (loky) worker processes
    options = build_options(build_parser().parse_args(["batch", "--model", "lumped", "x", "--out", "o", *FAST]))
    rows = run_batch(read_cases(three), tmp_path / "out", "solve", options, workers=2, progress=False)
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert rows[1]["error"].startswith("worker process died") and "\n" not in rows[1]["error"]
    assert read_summary(tmp_path / "out")["c1"]["status"] == "failed"


# ---------------------------------------------------------------------------------- dask
def test_dask_local_cluster(tmp_path, three, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster:
        out = tmp_path / "out"
        assert main(["batch", "--model", "lumped", str(three), *FAST, "--scheduler", cluster.scheduler_address,
                     "--out", str(out)]) == 0
        assert capsys.readouterr().out.startswith("3 ok, 0 failed, 0 skipped")
        assert all(r["status"] == "ok" for r in read_summary(out).values())
        workers = {case_json(out, f"c{i}")["row"]["worker"] for i in range(3)}
        # An existing Client works too; everything is already finished.
        with distributed.Client(cluster) as client:
            rows = run_batch(read_cases(three), out, "solve",
                             build_options(build_parser().parse_args(["batch", "--model", "lumped", "x", "--out", "o", *FAST])),
                             scheduler=client, progress=False)
        assert [r["status"] for r in rows] == ["skipped"] * 3
    assert f":{os.getpid()}" not in " ".join(workers)  # ran in the cluster's processes


# ---------------------------------------------------------------------------------- killed
def test_killed_batch_resumes(tmp_path):
    src = tmp_path / "in"
    for i in range(6):
        write_case(src, f"k{i}", seed=i, n=4)
    out = tmp_path / "out"
    # Cases slow enough (about 0.5 s each) that the batch is still running when it is killed.
    argv = ["batch", "--model", "lumped", str(src), "--resolution", "300", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "thermal", *argv], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    cases = out / "cases"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if cases.is_dir() and any(not p.name.startswith(".") for p in cases.iterdir()):
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the batch finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    visible = [p for p in cases.iterdir() if not p.name.startswith(".")]
    assert 1 <= len(visible) < 6, "the batch was not killed midway"
    for folder in visible:  # whatever is visible is complete
        assert case_json(out, folder.name)["row"]["status"] == "ok"
        assert (folder / "result.json").exists() and (folder / "temperature.png").exists()
    before = {p.name: (p / "case.json").stat().st_mtime_ns for p in visible}
    assert not (out / "summary.csv").exists()

    assert main(argv) == 0
    rows = read_summary(out)
    assert all(rows[n]["status"] == "skipped" for n in before)
    assert sum(r["status"] == "ok" for r in rows.values()) == 6 - len(before)
    for name, mtime in before.items():
        assert (cases / name / "case.json").stat().st_mtime_ns == mtime
    assert sorted(os.listdir(cases)) == [f"k{i}" for i in range(6)]  # stale temporary folders gone
