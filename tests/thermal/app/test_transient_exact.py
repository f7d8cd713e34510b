"""thermesh's transient against the exact one: the lumped die and an equal-footprint stack under
1 ms rows that switch the hot units, on uniform and power meshes, with either integrator."""
import numpy as np
import pytest

from meshes.locate import PointLocator
from tests.thermal.physics.test_stack_solver import small_floorplan, three_layers, tsv_stack
from thermal.app.transient import prepare_transient, trace_sources, transient_mesh
from thermal.exact.transient import TransientSeries
from thermal.geometry.lumped import LumpedDie

ROWS = 30


def switching_rows(n: int = ROWS) -> np.ndarray:
    """Hot and warm units take turns every 5 rows; the rest always on (W)."""
    rows = np.zeros((n, 3))
    rows[:, 2] = 0.5
    turn = (np.arange(n) // 5) % 2
    rows[turn == 0, 0] = 3.0
    rows[turn == 1, 1] = 2.5
    return rows


@pytest.mark.parametrize("model_name", ["lumped", "stack"])
@pytest.mark.parametrize("mesh,options,integrator", [
    ("uniform", {"resolution": 64}, "reduced"), ("power", {"tol": 5e-3}, "reduced"),
    ("adaptive", {"tol": 5e-3}, "reduced"),
    ("uniform", {"resolution": 64}, "trbdf2"), ("power", {"tol": 5e-3}, "trbdf2")])
def test_every_row_within_one_percent_of_the_exact_transient(model_name, mesh, options, integrator):
    fp = small_floorplan()
    model = LumpedDie(htc=2e4) if model_name == "lumped" else three_layers().bound_to(fp)
    rows = switching_rows()
    exact = TransientSeries(fp, model, rows, 1e-3, initial="ambient", modes=(96, 96))
    run = prepare_transient(fp, model, rows, 1e-3, mesh=mesh, init="ambient", integrator=integrator,
                            **options)
    saved = {}

    def keep(first, states):
        for k, state in enumerate(states):
            saved[first + k] = run.temperature(state)

    run.advance(rows, keep)
    if mesh == "adaptive":  # sized from the trace's screened hottest moments
        assert "screened" in run.mesh_info["sizing"] and run.mesh_info["screen_s"] > 0
    face = run.faces
    locator = PointLocator(face.meshes[0])
    largest, worst, worst_peak = 0.0, 0.0, 0.0
    for r in range(ROWS):
        x, y, u = exact.rise_on_grid(r, 61, 46)
        solved = saved[r][face.nodes[0]]
        largest = max(largest, u.max())
        worst = max(worst, np.abs(locator.interpolate_grid(solved, x, y) - u).max())
        worst_peak = max(worst_peak, abs(solved.max() - u.max()))
    assert worst < 0.01 * largest and worst_peak < 0.01 * largest


def test_the_power_mesh_of_a_stack_with_block_materials_takes_the_second_pass():
    # The series of the cut cannot see the TSV bundle; as the steady method, the transient's
    # `power` mesh sizes from the envelope's solution too.
    fp = small_floorplan()
    stack = tsv_stack().bound_to(fp)
    rows = switching_rows(10)
    plane, info = transient_mesh(fp, stack, rows, trace_sources(stack, fp), mesh="power", tol=5e-3,
                                 resolution=64)
    assert "own material" in info["sizing"] and info["envelope_solve_s"] > 0
    assert info["solves"] == 2 and plane.t.shape[1] == info["plane_elements"]
