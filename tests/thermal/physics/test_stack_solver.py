"""Prism finite elements on stacks: against the exact layered series, energy balance, solver."""
from dataclasses import replace

import numpy as np
import pytest

from meshes import conforms
from pathlib import Path

from thermal.geometry.floorplan import Floorplan
from thermal.physics.metrics import verify
from thermal.exact.series import SeriesSolution
from thermal.app.simulate import solve
from thermal.geometry.stack import Layer, Stack, equal_footprint, hotspot_package
from thermal.physics.stack_solution import solve_stack_on, uniform_mesh

SMALL = dict(names=["hot", "warm", "rest"], x=[0.5e-3, 2.5e-3, 0.0], y=[2.5e-3, 0.5e-3, 0.0],
             w=[0.5e-3, 1.0e-3, 4e-3], h=[0.5e-3, 1.0e-3, 0.5e-3], p=[2.0, 1.5, 0.5])


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def small_floorplan(power=None) -> Floorplan:
    """A 4 x 4 mm die: a hot unit, a warm one, a cool strip, and gaps without power."""
    s = SMALL
    return Floorplan.from_blocks(s["names"], s["x"], s["y"], s["w"], s["h"], power or s["p"])


def three_layers() -> Stack:
    return Stack((Layer("die", 150e-6, 100.0, 1.75e6, power=True),
                  Layer("tim", 20e-6, 4.0, 4e6),
                  Layer("sink", 2e-3, 400.0, 3.55e6)), htc=3e4)


def test_uniform_meshes_converge_to_the_exact_series():
    fp = small_floorplan()
    stack = three_layers().bound_to(fp)
    exact = SeriesSolution(fp, stack, rtol=1e-5)
    errors = [verify(solve(fp, stack, mesh="uniform", resolution=n), exact)["max_error_pct_of_peak_rise"]
              for n in (16, 32, 64)]
    assert errors[2] < 1.0
    # P1: about 4x per halving of the size (the z levels follow the plane's size).
    assert errors[0] / errors[1] > 2.5 and errors[1] / errors[2] > 2.5


def test_adaptive_stack_meets_its_tolerance_against_the_exact_series():
    fp = small_floorplan()
    stack = three_layers().bound_to(fp)
    exact = SeriesSolution(fp, stack, rtol=1e-5)
    for method in ("power", "adaptive", "oracle", "coarse"):
        sol = solve(fp, stack, mesh=method, tol=5e-3)
        v = verify(sol, exact)
        assert v["max_error_pct_of_peak_rise"] < 3 * 0.5, method
        assert sol.energy_balance_rel < 1e-9


def test_two_power_layers_against_the_exact_series():
    top, bottom = small_floorplan(), small_floorplan([0.5, 0.2, 2.5])
    layers = (Layer("top", 150e-6, 100.0, 1.75e6, floorplan=top, power=True),
              Layer("bond", 20e-6, 2.0, 4e6),
              Layer("bottom", 150e-6, 100.0, 1.75e6, floorplan=bottom, power=True, active_thickness=10e-6),
              Layer("sink", 2e-3, 400.0, 3.55e6))
    stack = Stack(layers, htc=3e4).bound_to(top)
    sol = solve(top, stack, mesh="uniform", resolution=64)
    assert sol.energy_balance_rel < 1e-9
    assert sol.heat["power_in_W"] == pytest.approx(top.total_power + bottom.total_power)
    for face, solved in enumerate(sol.faces):
        exact = SeriesSolution(top, stack, rtol=1e-5, face=face)
        nx = ny = 101
        x, y, u = exact.rise_on_grid(nx, ny)
        from meshes.locate import PointLocator

        fe = PointLocator(solved.mesh).interpolate_grid(solved.rise, x, y)
        assert np.max(np.abs(fe - u)) < 0.01 * exact.peak["rise"], face


def test_package_larger_than_the_die_balances_energy_and_converges():
    fp = small_floorplan()
    package = hotspot_package({"s_spreader": 0.01, "s_sink": 0.02}, floorplan=fp)
    assert not package.equal_footprints
    coarse = solve(fp, package, mesh="uniform", resolution=16)
    fine = solve(fp, package, mesh="uniform", resolution=32)
    finer = solve(fp, package, mesh="uniform", resolution=64)
    for sol in (coarse, fine, finer):
        assert sol.energy_balance_rel < 1e-9
        assert sol.heat["heat_out_W"]["sink"] == pytest.approx(fp.total_power, rel=1e-9)
    xs, ys = np.linspace(0, 4e-3, 41)[1:-1], np.linspace(0, 3e-3, 31)[1:-1]
    d1 = np.abs(coarse.rise_on_grid(xs, ys) - finer.rise_on_grid(xs, ys)).max()
    d2 = np.abs(fine.rise_on_grid(xs, ys) - finer.rise_on_grid(xs, ys)).max()
    assert d2 < d1 / 2.5
    # The bigger spreader and sink cool the die: hotter on the equal-footprint variant.
    assert solve(fp, equal_footprint(package), mesh="uniform", resolution=16).peak["rise"] > coarse.peak["rise"]
    # Where no exact series exists, --verify measures against the refined mesh.
    v = verify(coarse)
    assert v["reference"]["method"] == "refined mesh"
    assert v["max_error_K"] == pytest.approx(4 / 3 * v["difference_K"])
    with pytest.raises(ValueError, match="no exact solution"):
        solve(fp, package, mesh="oracle", tol=1e-2)


def test_block_material_is_followed_by_the_mesh_and_cools_the_hot_unit():
    fp = small_floorplan()
    bond_plan = Floorplan.from_blocks(["under", "fill"], [0.5e-3, 0.0], [2.5e-3, 0.0],
                                      [0.5e-3, 4e-3], [0.5e-3, 2.5e-3], [1.0, 1.0])  # not a power layer
    layers = (Layer("die", 150e-6, 100.0, 1.75e6, power=True),
              Layer("bond", 50e-6, 1.0, 4e6, floorplan=bond_plan,
                    block_conductivity=np.array([400.0, np.nan])),
              Layer("sink", 2e-3, 400.0, 3.55e6))
    copper = Stack(layers, htc=3e4).bound_to(fp)
    plain = Stack((layers[0], replace(layers[1], block_conductivity=None, floorplan=None), layers[2]),
                  htc=3e4).bound_to(fp)
    with_via, without = (solve(fp, s, mesh="uniform", resolution=32) for s in (copper, plain))
    assert conforms(with_via.prisms.plane, bond_plan.blocks)
    assert with_via.energy_balance_rel < 1e-9
    hot = fp.names.index("hot")
    assert with_via.block_temperatures()[1][hot] < without.block_temperatures()[1][hot] - 1.0


def test_line_multigrid_matches_the_direct_solve(monkeypatch):
    import thermal.physics.stack_solver as ss

    fp = small_floorplan()
    package = hotspot_package({"s_spreader": 0.01, "s_sink": 0.02}, floorplan=fp)
    plane = uniform_mesh(fp, package, 24)
    monkeypatch.setattr(ss, "DIRECT_BELOW", 10 ** 9)
    direct = solve_stack_on(fp, package, plane, {})
    monkeypatch.setattr(ss, "DIRECT_BELOW", 0)
    iterative = solve_stack_on(fp, package, plane, {})
    assert direct.solver.method == "direct" and iterative.solver.method == "line-multigrid-cg"
    assert iterative.solver.iterations < 60
    np.testing.assert_allclose(iterative.rise3d, direct.rise3d, rtol=1e-8, atol=1e-9)


def test_hotspot_steady_names_and_layer_averages():
    fp = small_floorplan()
    sol = solve(fp, hotspot_package(floorplan=fp), mesh="uniform", resolution=16)
    names, values = sol.steady_nodes()
    n = len(fp.names)
    assert names[:n] == list(fp.names)
    assert [x[: x.index("_") + 1] for x in names[n:]] == ["iface_"] * n + ["hsp_"] * n + ["hsink_"] * n
    # Heat flows down: every layer is cooler on average than the one above it.
    means = values.reshape(4, n).mean(axis=1)
    assert np.all(np.diff(means) < 0)
    # The junction face is at least as hot as the die's average through its thickness.
    assert sol.block_temperatures()[0].mean() >= values[:n].mean()


def test_convecting_top_face_against_the_exact_series():
    # A board above the die takes part of the heat: both faces convect.
    fp = small_floorplan()
    layers = (Layer("board", 1e-3, 3.0, 1.3e6), Layer("bumps", 1e-4, 1.25, 1.6e6),
              *three_layers().layers)
    stack = Stack(layers, htc=3e4, htc_top=1e3).bound_to(fp)
    exact = SeriesSolution(fp, stack, rtol=1e-5)
    coarse, sol = (solve(fp, stack, mesh="uniform", resolution=n) for n in (32, 64))
    errors = [verify(s, exact)["max_error_pct_of_peak_rise"] for s in (coarse, sol)]
    assert errors[1] < 1.0 and errors[0] / errors[1] > 2.5  # P1 convergence to the series
    heat = sol.heat["heat_out_W"]
    assert sol.energy_balance_rel < 1e-9 and heat["top"] > 0.001 * fp.total_power
    assert heat["top"] + heat["sink"] == pytest.approx(fp.total_power, rel=1e-9)
    # The board cools the die: without it (adiabatic top) the peak is higher.
    adiabatic = SeriesSolution(fp, replace(stack, htc_top=None), rtol=1e-5)
    assert adiabatic.peak["rise"] > exact.peak["rise"]


def test_hotspot_secondary_path_balances_energy_and_names_its_nodes():
    fp = small_floorplan()
    stack = hotspot_package({"model_secondary": 1, "s_spreader": 0.01, "s_sink": 0.02,
                             "s_sub": 0.006, "s_solder": 0.008, "s_pcb": 0.03}, floorplan=fp)
    sol = solve(fp, stack, mesh="uniform", resolution=16)
    heat = sol.heat["heat_out_W"]
    assert sol.energy_balance_rel < 1e-9 and 0 < heat["top"] < heat["sink"]
    assert sol.faces[0].layer == 5
    names, values = sol.steady_nodes()
    assert names[:3] == ["pcb_hot", "pcb_warm", "pcb_rest"] and "sub_hot" in names and "c4_hot" in names
    assert "hot" in names and "iface_hot" in names


def test_line_multigrid_damping_follows_the_operator(monkeypatch):
    # A substrate 21 mm wide over ev6's 16 mm die raised rho(D^-1 A) past 2 / 0.9: with the
    # fixed damping used before, CG took 40 iterations against 17 without it; damping from
    # rho keeps the two within a few.
    import thermal.physics.stack_solver as ss
    from thermal.io import read_floorplan

    monkeypatch.setattr(ss, "DIRECT_BELOW", 0)
    fp, _ = read_floorplan(EXAMPLES / "ev6.flp", EXAMPLES / "gcc.ptrace")
    plain = hotspot_package(floorplan=fp)
    overhang = Stack((Layer("substrate", 1e-3, 2.0, 1.6e6, side=0.021), *plain.layers),
                     r_convec=0.1).bound_to(fp)
    its = [solve(fp, s, mesh="uniform", resolution=32).solver.iterations for s in (plain, overhang)]
    assert its[1] <= its[0] + 5, its


def test_converged_reference_bounds_its_own_error():
    from thermal.physics.metrics import ConvergedReference, errors_against

    fp = small_floorplan()
    stack = three_layers().bound_to(fp)
    ref = ConvergedReference(fp, stack, 1e-2)
    actual = errors_against(ref.solution.rise_on_grid, SeriesSolution(fp, stack, rtol=1e-5))
    assert 0 < actual["max_error_K"] <= 2 * ref.error_estimate
    assert ref.describe()["elements"] > 0 and ref.peak == ref.solution.peak


def tsv_stack() -> Stack:
    """Die, a bond with a TSV bundle (k 80 in an underfill of 0.5) under it, sink."""
    bond = Floorplan.from_blocks(["tsv", "a", "b"], [1e-3, 0.0, 3.9e-3], [1e-3, 0.0, 2.9e-3],
                                 [1e-3, 1e-4, 1e-4], [1e-3, 1e-4, 1e-4], [1.0, 1.0, 1.0])
    return Stack((Layer("die", 100e-6, 100.0, 1.75e6, power=True),
                  Layer("bond", 30e-6, 0.5, 4e6, floorplan=bond,
                        block_conductivity=np.array([80.0, np.nan, np.nan])),
                  Layer("sink", 2e-3, 400.0, 3.55e6)), htc=3e4)


def test_power_and_adaptive_see_blocks_of_their_own_material():
    # A TSV bundle (k 80 in an underfill of 0.5) under the die: the cheap physics (homogeneous
    # layers) does not see it, so the series' sizes alone stall near 1 % here; power and
    # adaptive add a pass from the first solution and meet the tolerance against a fine
    # uniform mesh.
    from thermal.physics.adaptive import power_field, solve_with_field

    fp = small_floorplan()
    stack = tsv_stack().bound_to(fp)
    xs, ys = np.linspace(0, 4e-3, 301), np.linspace(0, 3e-3, 301)
    fine = solve(fp, stack, mesh="uniform", resolution=160).rise_on_grid(xs, ys)

    def error(sol):
        return 100 * np.abs(sol.rise_on_grid(xs, ys) - fine).max() / fine.max()

    field, extra = power_field(fp, stack, 5e-3)
    one_pass = error(solve_with_field(fp, stack, field, {"method": "power", "tol": 5e-3, **extra}, {}, None))
    for method in ("power", "adaptive"):
        sol = solve(fp, stack, mesh=method, tol=5e-3)
        assert sol.mesh_info["solves"] == 2 and "own material" in sol.mesh_info["sizing"]
        assert error(sol) < 0.6 and error(sol) < 0.7 * one_pass, (method, error(sol), one_pass)
