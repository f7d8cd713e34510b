"""``thermesh compare``: equal-error interpolation, compare.json, the self-contained report, CLI."""
import base64
import contextlib
import io
import json
import math
from html.parser import HTMLParser

import numpy as np
import pytest

from tests.conftest import hot_corner_floorplan
from thermal.app.cli import main
from thermal.app.compare import (RUN_HEADER, STAGES, attach_equal_error, compare, equal_error_cost,
                             needed, run_method, run_table_rows, summarize, summary_table_rows)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TOLERANCES = [1e-2, 3e-3]
RESOLUTIONS = [20, 40, 80]
METHODS = ["power", "adaptive"]


# ---------------------------------------------------------------------------------- interpolation
def _uniform_runs(errors, c_el=1e4, c_t=1e-2):
    """Synthetic uniform runs on exact power laws: elements = c_el e^-2, time = c_t e^-1.5."""
    return [{"method": "uniform", "param": i, "max_error_pct": e, "elements": c_el * e ** -2,
             "time_s": c_t * e ** -1.5} for i, e in enumerate(errors)]


def test_needed_is_exact_on_a_power_law():
    runs = _uniform_runs([4.0, 1.0, 0.25, 0.05])
    value, status = needed(runs, 0.3, "elements")
    assert status == "interpolated"
    assert value == pytest.approx(1e4 * 0.3 ** -2, rel=1e-12)
    value, _ = needed(runs, 2.0, "time_s")
    assert value == pytest.approx(1e-2 * 2.0 ** -1.5, rel=1e-12)
    # At a run's own error: that run's cost.
    assert needed(runs, 1.0, "elements")[0] == pytest.approx(1e4)
    # Outside the range: nothing, and why.
    assert needed(runs, 0.01, "elements") == (None, "not reached (best 0.05 %)")
    assert needed(runs, 10.0, "elements") == (None, "all runs below target")
    assert needed([], 1.0, "elements") == (None, "no runs")
    # Failed runs are ignored.
    assert needed([{"error": "boom"}] + runs, 0.3, "elements")[0] == pytest.approx(1e4 / 0.09)


def test_equal_error_cost_never_extrapolates():
    runs = _uniform_runs([4.0, 1.0, 0.25])
    assert equal_error_cost(runs, 0.5) == pytest.approx(
        {"elements": 1e4 / 0.25, "time_s": 1e-2 / 0.5 ** 1.5, "status": "interpolated"})
    below = equal_error_cost(runs, 0.1)  # more accurate than every uniform run
    assert below["status"] == "lower bound"
    assert below["elements"] == pytest.approx(1e4 / 0.25 ** 2)  # the finest uniform run
    above = equal_error_cost(runs, 9.0)  # less accurate than every uniform run
    assert above == {"elements": None, "time_s": None, "status": "not bracketed"}
    assert equal_error_cost([], 1.0)["status"] == "no uniform runs"


def test_attach_equal_error_savings():
    rows = _uniform_runs([4.0, 1.0, 0.25]) + [
        {"method": "amr", "param": 1e-2, "max_error_pct": 0.5, "elements": 1000.0, "time_s": 0.1},
        {"method": "amr", "param": 1e-3, "max_error_pct": 0.1, "elements": 5000.0, "time_s": 0.5},
        {"method": "power", "param": 1e-2, "max_error_pct": 8.0, "elements": 100.0, "time_s": 0.1},
        {"method": "power", "param": 1e-3, "error": "SolverError: no"}]
    attach_equal_error(rows)
    interp, bound, above, failed = rows[3:]
    assert interp["equal_error_status"] == "interpolated"
    assert interp["element_saving"] == pytest.approx(4e4 / 1000)
    assert interp["speed_up"] == pytest.approx(1e-2 / 0.5 ** 1.5 / 0.1)
    assert not interp["saving_is_lower_bound"]
    assert bound["saving_is_lower_bound"] and bound["element_saving"] == pytest.approx(16e4 / 5000)
    assert above["equal_error_status"] == "not bracketed" and above["element_saving"] is None
    assert "element_saving" not in failed
    assert rows[0]["equal_error_status"] == "uniform" and rows[0]["element_saving"] is None
    for r in (interp, bound):
        r.update(nodes=1, solves=1, max_error_K=0.1, rms_error_K=0.01, peak_error_K=-0.01,
                 stages_s=dict.fromkeys([*STAGES, "other"], 0.0))
    cells = run_table_rows([interp, bound])
    assert cells[0][-2] == "40.0x" and cells[1][-2] == "> 32.0x"
    assert cells[1][RUN_HEADER.index("uniform elements at equal error")] == "> 160,000"


def test_summarize_marks_lower_bounds():
    rows = _uniform_runs([4.0, 1.0, 0.25]) + [
        {"method": "amr", "param": 1e-2, "max_error_pct": 0.5, "elements": 1000.0, "time_s": 0.1},
        {"method": "amr", "param": 1e-3, "max_error_pct": 0.05, "elements": 8000.0, "time_s": 0.4}]
    s = summarize(rows, ["uniform", "amr"], [0.5, 0.1])
    assert s["0.5"]["amr"]["element_saving"] == pytest.approx(4e4 / 1000)
    assert not s["0.5"]["amr"]["lower_bounds"]
    at = s["0.1"]["amr"]  # uniform never reached 0.1 %: ratio to its finest run, a lower bound
    assert s["0.1"]["uniform"]["status"].startswith("not reached")
    assert at["lower_bounds"]
    assert at["element_saving"] == pytest.approx(16e4 / at["elements"])
    assert at["elements"] == pytest.approx(1000 * math.exp(math.log(8) * math.log(5) / math.log(10)))


def test_failed_run_is_recorded_not_raised():
    row, sol = run_method(hot_corner_floorplan(), None, None, "no-such-method", 1e-2)
    assert sol is None and row["error"].startswith("ValueError") and "traceback" in row


def test_compare_rejects_unknown_methods():
    with pytest.raises(ValueError, match="unknown method"):
        compare(hot_corner_floorplan(), None, methods=["magic"], progress=False)


# ---------------------------------------------------------------------------------- end to end
def _write_inputs(directory):
    from thermal.io.hotspot import write_flp, write_ptrace

    fp = hot_corner_floorplan()
    flp, ptrace = directory / "corner.flp", directory / "corner.ptrace"
    write_flp(flp, fp)
    write_ptrace(ptrace, fp.names, fp.block_power)
    return flp, ptrace


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """``thermesh compare`` run once, into a directory holding an older report."""
    tmp = tmp_path_factory.mktemp("compare")
    flp, ptrace = _write_inputs(tmp)
    out = tmp / "out"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "stale.png").write_bytes(b"old")
    (out / "report.html").write_text("old")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = main(["compare", "--model", "lumped", str(flp), "--power", str(ptrace), "--methods", ",".join(METHODS),
                   "--tolerances", ",".join(map(str, TOLERANCES)),
                   "--resolutions", ",".join(map(str, RESOLUTIONS)), "--out", str(out)])
    return {"rc": rc, "out": out, "stdout": stdout.getvalue(),
            "json": json.loads((out / "compare.json").read_text())}


def test_cli_writes_every_output(report):
    out = report["out"]
    assert report["rc"] == 0
    assert {p.name for p in out.iterdir()} == {"compare.json", "report.html", "report.md", "figures"}
    assert {p.name for p in (out / "figures").iterdir()} == {
        "error_vs_elements.png", "error_vs_time.png", "meshes.png", "hotspots.png", "stage_times.png"}
    assert not [p for p in out.parent.iterdir() if ".partial" in p.name]
    for label in ["uniform 20", "uniform 80", "power 0.01", "adaptive 0.003"]:
        assert label in report["stdout"]


def test_json_has_a_row_for_every_run(report):
    data = report["json"]
    got = [(r["method"], r["param"]) for r in data["rows"]]
    assert got == [("uniform", r) for r in RESOLUTIONS] + [(m, t) for m in METHODS for t in TOLERANCES]
    assert all("error" not in r for r in data["rows"])
    assert data["methods"] == ["uniform"] + METHODS
    assert set(data["summary"]) == {"0.5", "0.1"}
    assert all(set(per) == {"uniform", *METHODS} for per in data["summary"].values())
    assert data["model_load_s"] is not None and data["reference"]["peak_rise_K"] > 0


def test_json_numbers_are_consistent(report):
    data = report["json"]
    peak = data["reference"]["peak_rise_K"]
    for r in data["rows"]:
        assert r["max_error_pct"] == pytest.approx(100 * r["max_error_K"] / peak)
        assert r["peak_error_K"] == pytest.approx(r["peak_rise_K"] - peak)
        assert 0 < r["rms_error_K"] <= r["max_error_K"]
        assert r["nodes"] < r["elements"] and r["solves"] >= 1
        assert sum(r["stages_s"].values()) == pytest.approx(r["time_s"], rel=1e-6)
        assert r["time_s"] == min(r["times_s"])
        if r["method"] != "uniform" and r["element_saving"] is not None:
            assert r["element_saving"] == pytest.approx(r["uniform_elements_equal_error"] / r["elements"])
            assert r["speed_up"] == pytest.approx(r["uniform_time_s_equal_error"] / r["time_s"])
    # Finer uniform meshes are more accurate here, and the adaptive method beats uniform.
    uniform = [r["max_error_pct"] for r in data["rows"] if r["method"] == "uniform"]
    assert uniform == sorted(uniform, reverse=True)
    assert any((r["element_saving"] or 0) > 1 for r in data["rows"] if r["method"] == "adaptive")


def _markdown_table(md: str, heading: str) -> list[list[str]]:
    lines = md.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0].splitlines()
    table = [line for line in lines if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in table[2:]]


def test_every_table_number_is_in_the_json(report):
    md = (report["out"] / "report.md").read_text()
    data = report["json"]
    runs = _markdown_table(md, "Accuracy and cost of every run")
    assert runs == run_table_rows(data["rows"])
    assert all(len(row) == len(RUN_HEADER) for row in runs)
    assert _markdown_table(md, "Cost at equal error") == summary_table_rows(data["summary"])


def test_featured_uniform_is_at_least_as_accurate(report):
    data = report["json"]
    f = data["featured"]
    by = {r["label"]: r for r in data["rows"]}
    assert f["run"].startswith("adaptive") and f["uniform"].startswith("uniform")
    if f["relation"] != "uniform less accurate":
        assert by[f["uniform"]]["max_error_pct"] <= by[f["run"]]["max_error_pct"]
    hs = data["hotspots"]
    assert hs["run"] == f["run"] and hs["predicted"] and hs["solved"] and hs["exact"]
    assert len(hs["matches"]) == len(hs["predicted"])


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.external, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name == "src" and tag == "img":
                self.images.append(value)
            elif name in ("src", "href", "srcset", "data") or tag in ("link", "script", "iframe"):
                self.external.append((tag, name, value))


def test_report_html_is_self_contained(report):
    out = report["out"]
    parser = _Resources()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    parser.close()
    assert parser.external == []
    assert "table" in parser.tags and "old" != (out / "report.html").read_text()[:3]
    prefix = "data:image/png;base64,"
    assert parser.images and all(src.startswith(prefix) for src in parser.images)
    pngs = [base64.b64decode(src[len(prefix):], validate=True) for src in parser.images]
    assert all(png.startswith(PNG_MAGIC) for png in pngs)
    # The same images as the report.md's figure files.
    assert sorted(pngs) == sorted(p.read_bytes() for p in (out / "figures").iterdir())
    md = (out / "report.md").read_text()
    assert md.count("](figures/") == len(pngs)


def test_bad_input_exits_2_without_output(tmp_path, capsys):
    _, ptrace = _write_inputs(tmp_path)
    flp = tmp_path / "bad.flp"
    flp.write_text("hot\t0.0003\t0.0003\t0\t0\nthis is not a block line\n")
    out = tmp_path / "result"
    rc = main(["compare", "--model", "lumped", str(flp), "--power", str(ptrace), "--methods", "power",
               "--tolerances", "1e-2", "--resolutions", "20", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("thermesh: error:") and "bad.flp" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.flp", "corner.flp", "corner.ptrace"]


def test_mesh_edges_are_one_vectorised_path():
    from meshes import init_uniform
    from thermal.app.plots import mesh_edges

    mesh = init_uniform(hot_corner_floorplan(), 10)
    line = mesh_edges(mesh)
    x, y = line.get_data()
    edges = mesh.facets.shape[1]
    assert x.size == 3 * edges and np.isnan(x[2::3]).all() and np.isnan(y[2::3]).all()
    np.testing.assert_allclose(np.sort(x[0::3]), np.sort(mesh.p[0, mesh.facets[0]] * 1e3))
