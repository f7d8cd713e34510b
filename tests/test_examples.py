"""Examples run as tests (as scikit-fem's do)."""
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart(tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py"), str(tmp_path / "q")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "result.json" in proc.stdout and (tmp_path / "q" / "temperature.vtu").exists()
    errors = [float(line.split()[-1]) for line in proc.stdout.splitlines() if line[:10].strip().isdigit()]
    assert len(errors) == 5 and errors[-1] < 0.1 and errors == sorted(errors, reverse=True)


def test_power_map(tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLES / "power_map.py"), str(tmp_path / "p")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {line[:24].strip(): line[24:].split() for line in proc.stdout.splitlines()[2:5]}
    power, cells = rows["power, tol 1e-3"], rows["uniform 64, every cell"]
    assert float(power[1]) < 0.1  # % of the peak rise: tol honoured
    assert int(power[0].replace(",", "")) < int(cells[0].replace(",", "")) / 4
    assert (tmp_path / "p" / "map.npy").exists() and (tmp_path / "p" / "power" / "result.json").exists()
