"""The command line on stacks: the default package, HotSpot's files, 3D outputs, errors."""
import csv
import json
import subprocess
import sys

import meshio
import numpy as np
import pytest

from tests.conftest import EXAMPLES
from thermal.app.cli import main

FLP, PTRACE = str(EXAMPLES / "ev6.flp"), str(EXAMPLES / "gcc.ptrace")
PACKAGE = EXAMPLES / "package"


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """ev6 with no model options: HotSpot's package, the default (adaptive) mesh."""
    out = tmp_path_factory.mktemp("stack") / "ev6"
    assert main(["solve", FLP, "--power", PTRACE, "--tol", "1e-2", "--grid-steady", "8",
                 "--out", str(out)]) == 0
    return out


def test_default_is_hotspots_package_on_an_adaptive_mesh(default_run):
    r = json.loads((default_run / "result.json").read_text())
    p = r["parameters"]
    assert p["model"] == "stack" and [l["name"] for l in p["layers"]] == ["die", "interface", "spreader", "sink"]
    assert p["r_convec"] == 0.1 and p["ambient"] == 318.15
    assert p["layers"][2]["footprint"] == {"square_side": 0.03}
    assert r["mesh"]["method"] == "adaptive" and "stack model" in r["mesh"]["sizing"]
    assert r["energy_balance_rel"] < 1e-9 and r["heat"]["power_in_W"] == pytest.approx(40.207316)
    # HotSpot's package keeps ev6 near HotSpot's 345.7 K; the lumped sheet said 439 K.
    assert 340 < r["peak"]["temperature"] < 350
    assert set(r["mesh"]["sublayers"]) == {"die", "interface", "spreader", "sink"}


def test_stack_outputs(default_run):
    assert sorted(p.name for p in default_run.iterdir()) == [
        "blocks.csv", "die.vtu", "hotspot.grid.steady", "hotspot.steady", "result.json",
        "temperature.png", "temperature.vtu"]
    m = meshio.read(default_run / "temperature.vtu")
    assert [c.type for c in m.cells] == ["wedge"]
    layer = m.cell_data["layer"][0]
    assert set(np.unique(layer)) == {0, 1, 2, 3}
    t = m.point_data["temperature"]
    r = json.loads((default_run / "result.json").read_text())
    assert np.all(np.isfinite(t)) and t.max() == pytest.approx(r["peak"]["temperature"])
    # The die face in die.vtu is the top of the 3D field.
    die = meshio.read(default_run / "die.vtu")
    assert die.points[:, 2].max() == 0 and die.point_data["temperature"].max() == pytest.approx(t.max())
    rows = list(csv.DictReader(open(default_run / "blocks.csv")))
    assert {r_["layer"] for r_ in rows} == {"0"} and len(rows) == 30
    names = [line.split("\t")[0] for line in (default_run / "hotspot.steady").read_text().splitlines()]
    assert names[:30] == [r_["name"] for r_ in rows] and names[30].startswith("iface_")
    assert names[-1].startswith("hsink_") and len(names) == 4 * 30
    grid = (default_run / "hotspot.grid.steady").read_text().splitlines()
    assert grid[0] == "Layer 0:" and grid[65] == "Layer 1:" and len(grid) == 4 * 65
    assert grid[1].split("\t")[0] == "0" and grid[64].split("\t")[0] == "63"


def test_hotspot_package_and_lcf_stack(tmp_path):
    out = tmp_path / "two"
    assert main(["solve", "--lcf", str(PACKAGE / "two_die.lcf"), "--power", str(PACKAGE / "two_die.ptrace"),
                 "--materials", str(PACKAGE / "hotspot.materials"), "--package", str(PACKAGE / "hotspot.config"),
                 "--tol", "2e-2", "--no-png", "--out", str(out)]) == 0
    r = json.loads((out / "result.json").read_text())
    assert [lp["layer"] for lp in r["layer_peaks"]] == [0, 2]
    assert r["energy_balance_rel"] < 1e-9
    assert (out / "layer_2.vtu").exists()
    rows = list(csv.DictReader(open(out / "blocks.csv")))
    assert {row["layer"] for row in rows} == {"0", "2"}
    names = [line.split("\t")[0] for line in (out / "hotspot.steady").read_text().splitlines()]
    assert names[0].startswith("layer_0_") and any(n.startswith("hsp_") for n in names)
    assert "t_chip" in r["parameters"]["ignored_keys"]  # the LCF sets the die, not the config


@pytest.mark.parametrize("args,message", [
    (["solve", FLP, "--power", PTRACE, "--htc", "2e4"], "--htc sets the lumped die: add --model lumped"),
    (["solve", FLP, "--lcf", str(PACKAGE / "two_die.lcf"), "--power", PTRACE], "give no floorplan argument"),
    (["solve", "--lcf", str(PACKAGE / "two_die.lcf")], "--lcf needs --power"),
    (["solve", FLP, "--power", PTRACE, "--mesh", "oracle"], "no exact solution for this stack"),
    (["solve", FLP, "--power", PTRACE, "--model", "lumped", "--package", str(PACKAGE / "hotspot.config")],
     "not with --model lumped"),
    (["solve", FLP, "--power", PTRACE, "--package", str(PACKAGE / "hotspot.config")], "unknown material"),
])
def test_stack_input_errors_exit_2_without_output(tmp_path, args, message):
    out = tmp_path / "o"
    proc = subprocess.run([sys.executable, "-m", "thermal", *args, "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_lumped_model_still_available(tmp_path):
    out = tmp_path / "l"
    assert main(["solve", FLP, "--power", PTRACE, "--model", "lumped", "--resolution", "20", "--no-png",
                 "--out", str(out)]) == 0
    r = json.loads((out / "result.json").read_text())
    assert set(r["parameters"]) == {"conductivity", "thickness", "htc", "ambient", "heat_capacity"}
    assert r["mesh"]["method"] == "uniform" and r["peak"]["temperature"] > 400


def test_compare_on_a_stack_without_an_exact_answer(tmp_path):
    # HotSpot's package: its spreader and sink are larger than the die, so no series; the
    # reference is a converged solve, and oracle (which sizes from the series) is skipped.
    out = tmp_path / "cmp"
    assert main(["compare", FLP, "--power", PTRACE, "--methods", "power,oracle",
                 "--tolerances", "2e-2", "--resolutions", "10,20", "--out", str(out)]) == 0
    result = json.loads((out / "compare.json").read_text())
    ref = result["reference"]
    assert ref["method"] == "converged finite elements" and ref["tol"] == pytest.approx(5e-3)
    assert 0 < ref["error_estimate_K"] < 0.02 * ref["peak_rise_K"]
    assert result["methods"] == ["uniform", "power"] and "oracle" in result["skipped_methods"]
    rows = {(r["method"], r["param"]): r for r in result["rows"]}
    assert rows[("uniform", 20)]["max_error_K"] < rows[("uniform", 10)]["max_error_K"]
    assert "converged finite-element solve" in (out / "report.md").read_text()


def test_compare_on_a_stack_with_an_exact_answer(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", FLP, "--power", PTRACE, "--stack", str(PACKAGE / "equal_footprint.toml"),
                 "--methods", "power,adaptive", "--tolerances", "2e-2", "--resolutions", "10,20",
                 "--out", str(out)]) == 0
    result = json.loads((out / "compare.json").read_text())
    # The stack model is loaded once up front, its time reported apart.
    assert result["parameters"]["model"] == "stack" and result["model_load_s"] >= 0
    rows = {(r["method"], r["param"]): r for r in result["rows"]}
    assert rows[("uniform", 20)]["max_error_K"] < rows[("uniform", 10)]["max_error_K"]
    assert "stack (die 0.15 mm" in (out / "report.md").read_text()
