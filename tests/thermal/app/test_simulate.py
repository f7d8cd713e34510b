"""The FE solution against the exact series: errors fall at the right rate, energy is conserved."""
import numpy as np
import pytest

from thermal.geometry.floorplan import Floorplan, PowerMap
from thermal.physics.metrics import errors_against, verify
from thermal.geometry.lumped import LumpedDie
from thermal.exact.series import SeriesSolution
from thermal.app.simulate import solve
from tests.conftest import gap_floorplan, hot_corner_floorplan


def power_map_floorplan() -> Floorplan:
    rng = np.random.default_rng(3)
    watts = rng.uniform(0.0, 1.0, (6, 9))
    watts[1, 7] = 8.0  # a hot cell near the top right
    return Floorplan.from_blocks(["left", "right"], [0, 2.2e-3], [0, 0], [2.2e-3, 3.8e-3],
                                 [4e-3, 4e-3], power_map=PowerMap(watts))


def cell_map_floorplan() -> Floorplan:
    """A 64 x 64 cell-level map (lognormal cell noise on a hot patch and a warm background)
    over two blocks: meshes at every resolution below cut through cells."""
    rng = np.random.default_rng(4)
    watts = np.full((64, 64), 0.002)
    watts[10:22, 40:52] = 0.02
    watts *= rng.lognormal(0.0, 0.5, watts.shape)
    return Floorplan.from_blocks(["a", "b"], [0, 3.1e-3], [0, 0], [3.1e-3, 2.9e-3], [5e-3, 5e-3],
                                 power_map=PowerMap(watts))


def tile_floorplan() -> Floorplan:
    """32 x 32 tiles of 40 um with tile-level random power (the OpenROAD export style)."""
    from tests.conftest import grid_floorplan

    return grid_floorplan(32, 32, size=1.28e-3, seed=5)


CASES = {"gap": gap_floorplan, "hot_corner": hot_corner_floorplan, "power_map": power_map_floorplan,
         "cell_map": cell_map_floorplan, "tiles": tile_floorplan}
RESOLUTIONS = [25, 50, 100, 200]


# Meshes that cut through blocks and cells (the default), and for two cases meshes that follow
# them (conform=True, what thermesh did before).
@pytest.fixture(scope="module", params=[(c, False) for c in sorted(CASES) + ["ev6"]]
                + [("power_map", True), ("ev6", True)], ids=str)
def convergence(request):
    name, conform = request.param
    if name == "ev6":
        from tests.conftest import EXAMPLES
        from thermal.io import read_hotspot

        fp = read_hotspot(EXAMPLES / "ev6.flp", EXAMPLES / "gcc.ptrace")
    else:
        fp = CASES[name]()
    model = LumpedDie()
    reference = SeriesSolution(fp, model)
    rows = []
    for n in RESOLUTIONS:
        sol = solve(fp, model, mesh="uniform", resolution=n, conform=conform)
        err = errors_against(sol.rise_on_grid, reference, points=398)  # 397: prime, not aligned
        rows.append((sol.mesh.t.shape[1], err["max_error_K"], err["rms_error_K"], sol.energy_balance_rel))
    return name, reference, np.array(rows)


def test_energy_balance_on_every_mesh(convergence):
    _, _, rows = convergence
    assert np.all(rows[:, 3] <= 1e-9)


def test_max_error_falls_with_refinement(convergence):
    _, _, rows = convergence
    assert np.all(np.diff(rows[:, 1]) < 0)


def test_l2_error_is_second_order(convergence):
    name, _, rows = convergence
    h = 1 / np.sqrt(rows[:, 0])
    order = np.polyfit(np.log(h), np.log(rows[:, 2]), 1)[0]
    assert order > 1.6, f"{name}: L2 order {order:.2f}"


def test_fine_mesh_within_a_tenth_of_a_percent():
    fp = hot_corner_floorplan()
    sol = solve(fp, LumpedDie(), resolution=400)
    v = verify(sol)
    assert v["max_error_pct_of_peak_rise"] < 0.1
    assert abs(v["peak_error_K"]) < 1e-3 * v["exact_peak"]["rise"]
    assert v["peak_distance_m"] < 0.05e-3


def test_solution_api(ev6):
    sol = solve(ev6, LumpedDie(), resolution=60)
    # temperature_at reproduces nodal values and is NaN outside the die.
    i = np.arange(0, sol.mesh.p.shape[1], 97)
    np.testing.assert_allclose(sol.temperature_at(*sol.mesh.p[:, i]), sol.temperature[i], rtol=1e-12)
    assert np.isnan(sol.temperature_at(np.array([-1.0]), np.array([0.0])))[0]
    # 2e5 random points at once (scikit-fem's probes would try to allocate hundreds of GB).
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 16e-3, 200_000), rng.uniform(0, 16e-3, 200_000)
    t = sol.temperature_at(x, y)
    assert np.all(np.isfinite(t)) and t.max() <= sol.peak["temperature"] + 1e-9
    assert sol.peak["block"] in {"IntReg_0", "IntReg_1", "IntExec"}
    mean, peak, low = sol.block_temperatures()
    assert np.all(low <= mean)
    assert np.all(peak >= mean) and np.all(mean > sol.model.ambient)
    # Area-weighted block means reproduce the die's mean rise = P / (h A), with gaps none here.
    area = ev6.blocks.area
    mean_rise = ((mean - sol.model.ambient) * area).sum() / area.sum()
    assert mean_rise == pytest.approx(ev6.total_power / (sol.model.htc * ev6.width * ev6.height), rel=1e-9)
