"""thermesh transient: every output, streamed and atomic; bad input exits 2 with no output."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tests.conftest import EXAMPLES
from thermal.app.cli import main
from thermal.io.hotspot import read_ptrace, write_ptrace
from thermal.io.transient_files import read_peak_csv, read_ttrace

FLP, PTRACE = str(EXAMPLES / "ev6.flp"), str(EXAMPLES / "gcc.ptrace")
LUMPED = ["--model", "lumped", "--mesh", "uniform", "--resolution", "24"]


@pytest.fixture(scope="module")
def short_trace(tmp_path_factory):
    """The first 12 rows of gcc.ptrace."""
    trace = read_ptrace(PTRACE)
    path = tmp_path_factory.mktemp("trace") / "short.ptrace"
    write_ptrace(path, trace.names, trace.rows[:12])
    return path


@pytest.fixture(scope="module")
def lumped_run(tmp_path_factory, short_trace):
    out = tmp_path_factory.mktemp("transient") / "lumped"
    assert main(["transient", FLP, "--power", str(short_trace), *LUMPED, "--sampling-interval", "1e-3",
                 "--save-every", "5", "--threshold", "380", "--out", str(out)]) == 0
    return out


def test_every_output(lumped_run):
    assert sorted(p.name for p in lumped_run.iterdir()) == [
        "blocks.ttrace", "die.pvd", "die_0000.vtu", "die_0001.vtu", "die_0002.vtu", "peak.csv",
        "result.json", "transient.png"]
    r = json.loads((lumped_run / "result.json").read_text())
    assert r["rows"] == 12 and r["integrator"] == "reduced" and r["sampling_interval_s"] == 1e-3
    assert r["steps"] == 12 and r["solver"]["converged"] and r["solver"]["inputs"] <= r["solver"]["sources"] == 30
    assert r["saved_rows"] == [4, 9, 11] and r["init"] == "steady"
    assert r["energy"]["imbalance_rel"] < 1e-9 and r["energy"]["energy_in_J"] > 0
    peak = read_peak_csv(lumped_run / "peak.csv")
    assert len(peak) == 12
    np.testing.assert_allclose(peak.time_s, (np.arange(12) + 1) * 1e-3)
    names, rows = read_ttrace(lumped_run / "blocks.ttrace")
    assert names == read_ptrace(PTRACE).names and rows.shape == (12, len(names))
    # The hottest point is at least as hot as any block's mean.
    assert np.all(peak.temperature_K >= rows.max(axis=1) - 1e-9)
    steps = [d.get("timestep") for d in ET.parse(lumped_run / "die.pvd").getroot().iter("DataSet")]
    assert [float(t) for t in steps] == pytest.approx([5e-3, 10e-3, 12e-3])
    crossed = r["threshold"]["first_exceeded_s"]
    assert set(crossed) == set(names) and any(v is not None for v in crossed.values())


def test_both_integrators_agree(tmp_path, short_trace, lumped_run):
    out = tmp_path / "trbdf2"
    assert main(["transient", FLP, "--power", str(short_trace), *LUMPED, "--sampling-interval", "1e-3",
                 "--integrator", "trbdf2", "--substeps", "8", "--no-png", "--out", str(out)]) == 0
    r = json.loads((out / "result.json").read_text())
    assert r["integrator"] == "trbdf2" and r["steps"] == 96 and r["substeps"] == 8
    _, reduced = read_ttrace(lumped_run / "blocks.ttrace")
    _, stepped = read_ttrace(out / "blocks.ttrace")
    rise = read_peak_csv(lumped_run / "peak.csv").temperature_K.max() - r["parameters"]["ambient"]
    assert np.abs(reduced - stepped).max() < 2e-3 * rise


def test_starting_from_the_steady_state_of_constant_rows_stays_there(tmp_path):
    trace = read_ptrace(PTRACE)
    path = tmp_path / "flat.ptrace"
    write_ptrace(path, trace.names, np.repeat(trace.rows[:1], 4, axis=0))
    out = tmp_path / "flat"
    assert main(["transient", FLP, "--power", str(path), *LUMPED, "--sampling-interval", "1e-3",
                 "--no-png", "--out", str(out)]) == 0
    _, rows = read_ttrace(out / "blocks.ttrace")
    assert np.abs(rows - rows[0]).max() < 1e-9 * rows.max()


def test_stack_writes_the_3d_series_and_the_power_layers_blocks(tmp_path, short_trace):
    out = tmp_path / "stack"
    assert main(["transient", FLP, "--power", str(short_trace), "--tol", "3e-2",
                 "--sampling-interval", "1e-4", "--save-every", "12", "--no-png", "--out", str(out)]) == 0
    r = json.loads((out / "result.json").read_text())
    assert {"temperature.pvd", "temperature_0000.vtu", "die_0000.vtu"} <= {p.name for p in out.iterdir()}
    e = r["energy"]
    # The reduced model conserves energy to round-off (the uniform field is in its basis): of
    # the 380 J stored, against 0.05 J put in over 1.2 ms.
    assert r["parameters"]["model"] == "stack" and abs(e["imbalance_J"]) < 1e-11 * e["stored_initial_J"]
    assert set(r["energy"]["heat_out_J"]) == {"sink"}


def test_init_from_a_result_folder(tmp_path, lumped_run, short_trace):
    steady = tmp_path / "steady"
    assert main(["solve", FLP, "--power", PTRACE, *LUMPED, "--no-png", "--out", str(steady)]) == 0
    out = tmp_path / "from_file"
    assert main(["transient", FLP, "--power", str(short_trace), *LUMPED, "--sampling-interval", "1e-3",
                 "--init", str(steady), "--no-png", "--out", str(out)]) == 0
    assert json.loads((out / "result.json").read_text())["init"] == str(steady)


@pytest.mark.parametrize("extra,trace_text,message", [
    (["--sampling-interval", "-1"], None, "must be positive and finite"),
    (["--init", "-5"], None, "a temperature must be positive and finite"),
    ([], "a b\n1 2\n3\n", "bad.ptrace:3: 1 value for the 2 blocks"),
    ([], "a b\n1 nan\n", "power"),
    (["--init", "missing.steady"], None, "missing.steady"),
    (["--init", "other.steady"], None, "other.steady: no temperature for"),
    (["--power", str(EXAMPLES / "ev6.flp")], None, "needs a power trace"),
])
def test_bad_input_exits_2_without_output(tmp_path, extra, trace_text, message):
    power = PTRACE
    if trace_text is not None:
        power = tmp_path / "bad.ptrace"
        power.write_text(trace_text)
    (tmp_path / "other.steady").write_text("some_block\t330.0\n")
    out = tmp_path / "o"
    proc = subprocess.run([sys.executable, "-m", "thermal", "transient", FLP, "--power", str(power),
                           *LUMPED, *extra, "--out", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_first_row_above_is_the_earliest_over_each_blocks_nodes():
    from thermal.app.transient import _first_row_above

    # 4 rows x 5 nodes; nodes 0, 1 in block 0, nodes 3, 4 in block 2, node 2 in none, block 1 empty
    face = np.array([[0, 0, 9, 0, 0],
                     [0, 5, 9, 0, 0],
                     [6, 0, 9, 0, 0],
                     [0, 0, 9, 0, 2]], dtype=float)
    order, present, starts = np.array([0, 1, 3, 4]), np.array([0, 2]), np.array([0, 2])
    np.testing.assert_array_equal(_first_row_above(face, (order, present, starts, 3), 4.0), [1, -1, -1])
    np.testing.assert_array_equal(_first_row_above(face, (order, present, starts, 3), 1.0), [1, -1, 3])


def test_predict_screens_a_trace_and_agrees_with_the_transient(tmp_path, short_trace):
    """predict --trace: every row's hottest point; its hottest row and place are the transient's."""
    from thermal.io.transient_files import HOTSPOT_COLUMNS

    screened, full = tmp_path / "screen", tmp_path / "full"
    common = [FLP, "--power", str(short_trace), "--sampling-interval", "1e-3", "--no-png"]
    assert main(["predict", *common, "--trace", "--out", str(screened)]) == 0
    assert main(["transient", *common, "--out", str(full)]) == 0
    lines = (screened / "hotspots.csv").read_text().splitlines()
    assert tuple(lines[0].split(",")) == HOTSPOT_COLUMNS and len(lines) == 13
    trace = json.loads((screened / "hotspots.json").read_text())["trace"]
    peak = read_peak_csv(full / "peak.csv")
    row = int(np.argmax(peak.temperature_K))
    hot = trace["hottest"]
    assert abs(hot["row"] - row) <= 1
    assert np.hypot(hot["x"] - peak.x[row], hot["y"] - peak.y[row]) <= 0.5e-3
    rows = np.array([[float(v) for v in line.split(",")[6:7]] for line in lines[1:]]).ravel()
    rise = peak.temperature_K - 318.15
    assert np.abs(rows - peak.temperature_K).max() < 0.01 * rise.max()


def test_predict_trace_needs_a_power_trace(tmp_path, capsys):
    power_map = tmp_path / "map.npy"
    np.save(power_map, np.ones((4, 4)))
    out = tmp_path / "x"
    assert main(["predict", FLP, "--power", str(power_map), "--trace", "--out", str(out)]) == 2
    assert "power trace" in capsys.readouterr().err and not out.exists()
