"""The command line end to end: outputs, formats, errors."""
import csv
import json
import shutil
import subprocess
import sys

import meshio
import numpy as np
import pytest

from tests.conftest import EXAMPLES
from thermal.app.cli import main

FLP, PTRACE = str(EXAMPLES / "ev6.flp"), str(EXAMPLES / "gcc.ptrace")


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "ev6"
    assert main(["solve", "--model", "lumped", FLP, "--power", PTRACE, "--resolution", "40", "--verify", "--out", str(out)]) == 0
    return out


def test_solve_writes_every_output(solved):
    assert sorted(p.name for p in solved.iterdir()) == [
        "blocks.csv", "die.vtu", "hotspot.steady", "result.json", "temperature.png", "temperature.vtu"]


def test_result_json(solved):
    r = json.loads((solved / "result.json").read_text())
    assert set(r["parameters"]) == {"conductivity", "thickness", "htc", "ambient", "heat_capacity"}
    assert r["die"] == {"x0": 0.0, "y0": 0.0, "width": 0.016, "height": 0.016}
    assert {"method", "elements", "nodes", "min_angle_deg"} <= set(r["mesh"])
    assert {"mesh_s", "assemble_s", "solve_s", "total_s"} <= set(r["timing"])
    assert {"temperature", "x", "y", "block"} <= set(r["peak"])
    assert r["energy_balance_rel"] < 1e-9
    assert r["units"]["temperature"] == "K"
    assert r["verification"]["max_error_pct_of_peak_rise"] < 5
    assert r["snapping"]["coordinates_moved"] > 0


def test_vtu_opens_with_meshio(solved):
    m = meshio.read(solved / "temperature.vtu")
    assert m.points[:, :2].max() == pytest.approx(0.016)  # metres, floorplan coordinates
    t = m.point_data["temperature"]
    r = json.loads((solved / "result.json").read_text())
    assert t.max() == pytest.approx(r["peak"]["temperature"])
    assert m.cell_data["block"][0].max() == 29


def test_block_csv_and_steady(solved):
    rows = list(csv.DictReader(open(solved / "blocks.csv")))
    assert len(rows) == 30
    assert list(rows[0]) == ["layer", "name", "power", "mean", "max", "min"]
    assert sum(float(r["power"]) for r in rows) == pytest.approx(40.21, abs=0.01)
    assert all(float(r["max"]) >= float(r["mean"]) >= float(r["min"]) for r in rows)
    steady = [line.split("\t") for line in (solved / "hotspot.steady").read_text().splitlines()]
    assert [s[0] for s in steady] == [r["name"] for r in rows]
    np.testing.assert_allclose([float(s[1]) for s in steady],
                               [float(r["mean"]) for r in rows], rtol=1e-9)


def test_config_and_flags(tmp_path):
    cfg = tmp_path / "pkg.toml"
    cfg.write_text("htc = 2e4\nambient = 300.0\n")
    out = tmp_path / "o"
    assert main(["solve", "--model", "lumped", FLP, "--power", PTRACE, "--resolution", "10", "--config", str(cfg),
                 "--ambient", "310", "--no-png", "--out", str(out)]) == 0
    p = json.loads((out / "result.json").read_text())["parameters"]
    assert p == {"conductivity": 100.0, "thickness": 0.00015, "htc": 2e4, "ambient": 310.0, "heat_capacity": 1.75e6}


def _run_cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "thermal", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("content,expect", [
    ("a 1e-3 1e-3 0 0\nb 1e-3 1e-3 0.5e-3 0\n", "overlap"),
    ("a 1e-3 x 0 0\n", "bad.flp:1:"),
    ("", "no blocks"),
])
def test_bad_input_exit_2_one_line_no_output(tmp_path, content, expect):
    flp = tmp_path / "bad.flp"
    flp.write_text(content)
    ptrace = tmp_path / "bad.ptrace"
    ptrace.write_text("a b\n1 1\n")
    out = tmp_path / "out"
    proc = _run_cli(["solve", "--model", "lumped", str(flp), "--power", str(ptrace), "--out", str(out)], tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.flp" in lines[0] and "Traceback" not in proc.stderr
    assert expect in lines[0]
    assert set(tmp_path.iterdir()) == {flp, ptrace}  # no output, not even a staging folder


def test_bad_config_exit_2(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("htc = 1e4\nconductivty = 5\n")
    proc = _run_cli(["solve", "--model", "lumped", FLP, "--power", PTRACE, "--config", str(cfg), "--out", str(tmp_path / "o")],
                    tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"thermesh: error: {cfg}:2: unknown key 'conductivty' " \
                                  "(expected one of conductivity, thickness, htc, ambient, heat_capacity)"
    assert not (tmp_path / "o").exists()


def test_negative_flag_exit_2(tmp_path):
    proc = _run_cli(["solve", "--model", "lumped", FLP, "--power", PTRACE, "--htc", "-5", "--out", str(tmp_path / "o")], tmp_path)
    assert proc.returncode == 2 and "htc must be positive" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_exit_2(tmp_path):
    proc = _run_cli(["solve", "--model", "lumped", str(tmp_path / "nope.flp"), "--power", PTRACE, "--out", str(tmp_path / "o")],
                    tmp_path)
    assert proc.returncode == 2 and "nope.flp" in proc.stderr and "Traceback" not in proc.stderr


def test_version():
    proc = _run_cli(["--version"], ".")
    assert proc.returncode == 0 and proc.stdout.startswith("thermesh ")


@pytest.mark.parametrize("method", ["amr", "power", "coarse", "oracle", "base"])
def test_adaptive_methods_from_the_cli(tmp_path, method):
    out = tmp_path / method
    assert main(["solve", "--model", "lumped", FLP, "--power", PTRACE, "--mesh", method, "--tol", "5e-3", "--no-png",
                 "--out", str(out)]) == 0
    r = json.loads((out / "result.json").read_text())
    assert r["mesh"]["method"] == method and r["mesh"]["solves"] >= 1
    assert {"estimate_s", "mesh_s", "assemble_s", "solve_s", "total_s"} <= set(r["timing"])
    assert r["energy_balance_rel"] < 1e-9
    assert r["error_estimate"]["max_error_pct_of_peak_rise"] > 0


def test_conform_makes_the_mesh_follow_every_cell_of_a_map(tmp_path):
    # A 40 x 40 map over ev6: by default a uniform mesh of 10 cells a side ignores the map's
    # lines; --conform puts every one of them in the mesh (what thermesh did before).
    from meshes import conforms
    from meshes.io import read_vtu
    from thermal.io import read_flp_with_power_map, write_power_map

    watts = np.random.default_rng(0).uniform(0.0, 0.05, (40, 40))
    write_power_map(tmp_path / "map.npy", watts)
    fp = read_flp_with_power_map(FLP, tmp_path / "map.npy")
    runs = {}
    for flag in ([], ["--conform"]):
        out = tmp_path / ("conform" if flag else "default")
        assert main(["solve", "--model", "lumped", FLP, "--power", str(tmp_path / "map.npy"), "--resolution", "10",
                     "--no-png", *flag, "--out", str(out)]) == 0
        runs[bool(flag)] = json.loads((out / "result.json").read_text()), read_vtu(out / "temperature.vtu")[0]
    (default, mesh), (conform, mesh_c) = runs[False], runs[True]
    assert default["mesh"]["conform"] is False and conform["mesh"]["conform"] is True
    assert default["mesh"]["elements"] == 200 and conform["mesh"]["elements"] > 40 * 40 * 2
    assert not conforms(mesh, fp.sources) and conforms(mesh_c, fp.edges)
    for r in (default, conform):
        assert r["energy_balance_rel"] < 1e-9
        assert r["total_power"] == pytest.approx(watts.sum(), rel=1e-12)


def test_compare_and_batch_take_conform(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", "--model", "lumped", FLP, "--power", PTRACE, "--methods", "power", "--tolerances", "1e-2",
                 "--resolutions", "10,20", "--conform", "--out", str(out)]) == 0
    assert json.loads((out / "compare.json").read_text())["conform"] is True
    cases, batch = tmp_path / "cases", tmp_path / "batch"
    cases.mkdir()
    shutil.copy(FLP, cases / "ev6.flp")
    shutil.copy(PTRACE, cases / "ev6.ptrace")
    assert main(["batch", "--model", "lumped", str(cases), "--resolution", "10", "--no-png", "--conform",
                 "--out", str(batch)]) == 0
    case = json.loads(next(batch.glob("cases/*/case.json")).read_text())
    assert case["options"]["conform"] is True


@pytest.mark.parametrize("flags", [["--tol", "0"], ["--tol", "2"], ["--budget", "0"], ["--resolution", "x"]])
def test_bad_option_values_exit_2(tmp_path, flags):
    proc = _run_cli(["solve", "--model", "lumped", FLP, "--power", PTRACE, "--mesh", "amr", *flags, "--out", str(tmp_path / "o")],
                    tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_predict_writes_hotspots(tmp_path):
    out = tmp_path / "pred"
    assert main(["predict", "--model", "lumped", FLP, "--power", PTRACE, "--out", str(out)]) == 0
    data = json.loads((out / "hotspots.json").read_text())
    assert (out / "hotspots.png").exists()
    top = data["hotspots"][0]
    assert {"x", "y", "temperature", "block", "severity", "layer"} <= set(top)
    assert top["block"] in {"IntReg_0", "IntReg_1", "IntExec"} and top["layer"] == 0
    assert data["timing"]["predict_s"] > 0 and data["model"]["predictor"] == "model"
    with np.load(out / "prediction.npz") as npz:
        assert set(npz.files) == {"x", "y", "temperature"}
        x, y, t = npz["x"], npz["y"], npz["temperature"]
    assert t.shape == (y.size, x.size) and abs(t.max() - top["temperature"]) < 1e-9


def test_predict_physics_and_every_power_layer_of_a_stack(tmp_path):
    """--predictor physics is the truncated series; a stack's prediction.npz holds each power
    layer's face, and its hotspots say which layer."""
    package = EXAMPLES / "package"
    out = tmp_path / "lcf"
    assert main(["predict", "--lcf", str(package / "two_die.lcf"), "--power", str(package / "two_die.ptrace"),
                 "--package", str(package / "hotspot.config"), "--materials", str(package / "hotspot.materials"),
                 "--predictor", "physics", "--no-png", "--out", str(out)]) == 0
    data = json.loads((out / "hotspots.json").read_text())
    assert data["model"]["predictor"] == "physics"
    with np.load(out / "prediction.npz") as npz:
        layers = sorted(int(k.split("_")[1]) for k in npz.files if k.startswith("temperature_"))
        np.testing.assert_array_equal(npz["temperature"], npz[f"temperature_{layers[0]}"])
        peaks = {n: npz[f"temperature_{n}"].max() for n in layers}
    assert len(layers) == 2 and {h["layer"] for h in data["hotspots"]} <= set(layers)
    hottest = data["hotspots"][0]
    assert abs(hottest["temperature"] - peaks[hottest["layer"]]) < 1e-9


def test_tampered_model_exit_2(tmp_path):
    import shutil

    from hotspot_ml.model import DEFAULT_MODEL

    model = tmp_path / "m.skops"
    shutil.copy(DEFAULT_MODEL, model)
    shutil.copy(DEFAULT_MODEL.with_suffix(".json"), tmp_path / "m.json")
    data = bytearray(model.read_bytes())
    data[100] ^= 1
    model.write_bytes(bytes(data))
    proc = _run_cli(["predict", "--model", "lumped", FLP, "--power", PTRACE, "--hotspot-model", str(model), "--out", str(tmp_path / "o")],
                    tmp_path)
    assert proc.returncode == 2 and "SHA-256" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_generate_then_solve_a_generated_case(tmp_path):
    assert main(["generate", "--count", "2", "--seed", "4", "--out", str(tmp_path / "g")]) == 0
    flp = sorted((tmp_path / "g").glob("*.flp"))[0]
    out = tmp_path / "s"
    assert main(["solve", "--model", "lumped", str(flp), "--power", str(flp.with_suffix(".ptrace")), "--config",
                 str(flp.with_suffix(".toml")), "--mesh", "adaptive", "--tol", "5e-3", "--no-png",
                 "--out", str(out)]) == 0
    r = json.loads((out / "result.json").read_text())
    assert r["mesh"]["method"] == "adaptive" and r["hotspots"]["predicted"] and r["hotspots"]["solved"]


def test_solve_reports_critical_blocks_of_a_stack(tmp_path, capsys):
    out = tmp_path / "critical"
    assert main(["solve", str(EXAMPLES / "ev6.flp"), "--power", str(EXAMPLES / "gcc.ptrace"), "--mesh", "power",
                 "--tol", "1e-2", "--critical", "IntExec", "--critical-tol", "0.05", "--no-png",
                 "--out", str(out)]) == 0
    critical = json.loads((out / "result.json").read_text())["critical"]
    (block,) = critical["blocks"]
    assert critical["converged"] and block["block"] == "IntExec" and block["layer"] == 0
    assert block["estimated_error_K"] <= 0.05 and block["min_K"] < block["max_K"]
    assert "critical IntExec" in capsys.readouterr().out
    bad = tmp_path / "bad"
    assert main(["solve", str(EXAMPLES / "ev6.flp"), "--power", str(EXAMPLES / "gcc.ptrace"),
                 "--critical", "NoSuchBlock", "--out", str(bad)]) == 2
    assert "NoSuchBlock" in capsys.readouterr().err and not bad.exists()


def test_predict_on_a_stack_uses_the_stack_model_and_refuses_a_lumped_one(tmp_path):
    """--predictor model (default) on a stack is the stack model; a model trained for the lumped
    die is refused with exit 2 and one line, nothing written."""
    from hotspot_ml.model import DEFAULT_MODEL

    out = tmp_path / "stack"
    assert main(["predict", FLP, "--power", PTRACE, "--no-png", "--out", str(out)]) == 0
    data = json.loads((out / "hotspots.json").read_text())
    assert data["model"]["predictor"] == "model" and data["model"]["kind"] == "stack"
    assert data["hotspots"] and data["timing"]["predict_s"] > 0
    proc = _run_cli(["predict", FLP, "--power", PTRACE, "--hotspot-model", str(DEFAULT_MODEL),
                     "--out", str(tmp_path / "refused")], tmp_path)
    assert proc.returncode == 2 and "trained for the lumped die" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "refused").exists()
