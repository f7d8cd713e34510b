"""The cosine-series solution against answers known exactly, not against saved output.

Exact references used here:

* a source covering the whole die: ``u = P / (h W H)`` everywhere;
* sources spanning the full height: the problem is 1-D, ``-k t u'' + h u = q(x)`` with
  ``u'(0) = u'(W) = 0``, solved in closed form with cosh/sinh of ``x / L``, ``L = sqrt(k t / h)``;
* a square source in a die corner, at the corner: exact in x (the 1-D Green's function of each
  y-mode) and summed over two million y-modes, a derivation independent of the double series.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import trapezoid
from scipy.optimize import minimize_scalar

from thermal.geometry.floorplan import Floorplan
from thermal.geometry.lumped import LumpedDie
from thermal.exact.series import MIN_MODES, SeriesSolution, reflected_blurs

# h = 1e3 gives a thermal length of 3.9 mm, comparable to the dies below, so the field varies
# by a small factor across them and relative comparisons are meaningful everywhere.
SOFT = LumpedDie(conductivity=100.0, thickness=0.15e-3, htc=1e3)


# ---------------------------------------------------------------------- exact references
def stripes_exact(x: np.ndarray, stripes, width: float, model: LumpedDie) -> np.ndarray:
    """Rise of full-height stripes ``(a, b, q)`` (q in W/m^2) on ``[0, width]``, closed form.

    With ``lam = 1/L`` and the Neumann Green's function
    ``G(x, s) = cosh(lam x<) cosh(lam (W - x>)) / (k t lam sinh(lam W))``, integrating over
    ``[a, b]`` gives, since ``k t lam^2 = h``::

        x <= a:     q/h cosh(lam x) (sinh(lam (W - a)) - sinh(lam (W - b))) / sinh(lam W)
        x >= b:     q/h cosh(lam (W - x)) (sinh(lam b) - sinh(lam a)) / sinh(lam W)
        otherwise:  q/h (1 - (cosh(lam (W - x)) sinh(lam a) + cosh(lam x) sinh(lam (W - b)))
                              / sinh(lam W))
    """
    lam, W, h = 1.0 / model.thermal_length, width, model.htc
    x = np.asarray(x, float)
    u = np.zeros_like(x)
    for a, b, q in stripes:  # a handful of reference stripes, not the code under test
        left = np.cosh(lam * x) * (np.sinh(lam * (W - a)) - np.sinh(lam * (W - b)))
        right = np.cosh(lam * (W - x)) * (np.sinh(lam * b) - np.sinh(lam * a))
        inside = np.sinh(lam * W) - np.cosh(lam * (W - x)) * np.sinh(lam * a) \
            - np.cosh(lam * x) * np.sinh(lam * (W - b))
        u += q / h * np.where(x <= a, left, np.where(x >= b, right, inside)) / np.sinh(lam * W)
    return u


def corner_exact(side: float, power: float, width: float, height: float,
                 model: LumpedDie, modes: int = 2**21) -> float:
    """Rise at (0, 0) of a ``side`` x ``side`` source in the corner of a ``width x height`` die.

    Expanding in y-cosines only, each mode n solves a 1-D problem in x with decay rate
    ``lam_n^2 = (n pi / H)^2 + h / (k t)`` and density ``q Y_n``, whose value at x = 0 for a source
    on ``[0, a]`` is ``q Y_n / (k t lam_n^2) (1 - sinh(lam_n (W - a)) / sinh(lam_n W))``. The
    terms fall like ``n^-3``: two million of them leave a tail below 1e-8 K here.
    """
    q = power / side**2
    n = np.arange(modes)
    yn = np.where(n == 0, side / height,
                  2.0 * np.sin(n * np.pi * side / height) / (np.pi * np.maximum(n, 1)))
    lam = np.sqrt((n * np.pi / height) ** 2 + model.htc / model.sheet_conductance)
    ratio = np.exp(-lam * side) * (-np.expm1(-2 * lam * (width - side))) \
        / (-np.expm1(-2 * lam * width))
    return float(np.sum(q * yn / (model.sheet_conductance * lam**2) * (1.0 - ratio)))


def stripes_floorplan(edges_mm, powers, height_mm: float = 4.0) -> Floorplan:
    """Blocks spanning the full height between consecutive x edges (mm), with given watts."""
    e = np.asarray(edges_mm, float) * 1e-3
    n = e.size - 1
    return Floorplan.from_blocks([f"s{i}" for i in range(n)], e[:-1], np.zeros(n), np.diff(e),
                                 np.full(n, height_mm * 1e-3), powers)


def stripes_of(fp: Floorplan):
    """(a, b, q) per source, die-relative, from the (snapped) floorplan itself."""
    s = fp.sources
    return list(zip(s.x0 - fp.die[0], s.x1 - fp.die[0], fp.source_density))


def exact_stripe_peak(fp: Floorplan, model: LumpedDie) -> float:
    """Maximum of the closed form: on the hottest source, where it is smooth."""
    stripes = stripes_of(fp)
    grid = np.linspace(0, fp.width, 20001)
    x0 = grid[np.argmax(stripes_exact(grid, stripes, fp.width, model))]
    d = fp.width / 20000
    res = minimize_scalar(lambda x: -stripes_exact(np.array([x]), stripes, fp.width, model)[0],
                          bounds=(max(0.0, x0 - d), min(fp.width, x0 + d)), method="bounded",
                          options={"xatol": 1e-12})
    return max(-res.fun, stripes_exact(np.array([x0]), stripes, fp.width, model)[0])


def framed_block(die=(6e-3, 4e-3), block=(2e-3, 1.5e-3, 2e-3, 1e-3), power=2.0,
                 origin=(0.0, 0.0)) -> Floorplan:
    """One powered block (x, y, w, h) inside a die, framed by four unpowered blocks."""
    W, H = die
    x, y, w, h = block
    ox, oy = origin
    xs = [x, 0.0, x + w, x, x]
    ys = [y, 0.0, 0.0, 0.0, y + h]
    ws = [w, x, W - x - w, w, w]
    hs = [h, H, H, y, H - y - h]
    return Floorplan.from_blocks(["hot", "left", "right", "below", "above"],
                                 np.add(xs, ox), np.add(ys, oy), ws, hs,
                                 [power, 0.0, 0.0, 0.0, 0.0])


def mixed_floorplan() -> Floorplan:
    """A 2-D floorplan with blocks of different sizes and powers, some unpowered."""
    return Floorplan.from_blocks(
        ["a", "b", "c", "d", "e"],
        [0.0, 3e-3, 0.0, 3e-3, 5.2e-3], [0.0, 0.0, 2.5e-3, 2.5e-3, 2.5e-3],
        [3e-3, 4e-3, 3e-3, 2.2e-3, 1.8e-3], [2.5e-3, 2.5e-3, 2.5e-3, 2.5e-3, 2.5e-3],
        [1.0, 0.5, 0.0, 3.0, 0.8])


# ---------------------------------------------------------------------- (1) uniform source
def test_source_covering_the_die_gives_constant_rise():
    W, H, P = 8e-3, 5e-3, 7.0
    fp = Floorplan.from_blocks(["all"], [0.0], [0.0], [W], [H], [P])
    model = LumpedDie()
    sol = SeriesSolution(fp, model)
    expected = P / (model.htc * W * H)
    x, y, U = sol.rise_on_grid(41, 27)
    assert U.shape == (27, 41)
    np.testing.assert_allclose(U, expected, rtol=1e-12)
    rng = np.random.default_rng(0)
    pts = rng.uniform([0, 0], [W, H], size=(100, 2))
    np.testing.assert_allclose(sol.rise_at(pts[:, 0], pts[:, 1]), expected, rtol=1e-12)
    assert sol.mean_rise == pytest.approx(expected, rel=1e-14)
    assert sol.peak["rise"] == pytest.approx(expected, rel=1e-12)
    assert sol.peak["temperature"] == pytest.approx(expected + model.ambient, rel=1e-14)
    np.testing.assert_allclose(sol.temperature_at(pts[:, 0], pts[:, 1]),
                               expected + model.ambient, rtol=1e-14)


# ---------------------------------------------------------------------- (2) 1-D closed form
def test_full_height_stripes_match_the_1d_closed_form():
    fp = stripes_floorplan([0.0, 3.0, 5.5, 7.0, 8.0, 10.0], [0.0, 2.0, 0.0, 1.5, 0.0])
    # rtol bounds the error at the maximum; near source edges the tail is a few times larger.
    sol = SeriesSolution(fp, SOFT, rtol=1e-7)
    assert not sol.capped
    assert sol.modes[1] == 2 * MIN_MODES  # nothing varies in y: y-modes are not doubled
    stripes = stripes_of(fp)
    x = np.random.default_rng(1).uniform(0, fp.width, 400)
    y = np.random.default_rng(2).uniform(0, fp.height, 400)
    exact = stripes_exact(x, stripes, fp.width, SOFT)
    # The field varies by less than 4x over the die: relative to the local value is fair.
    np.testing.assert_allclose(sol.rise_at(x, y), exact, rtol=1e-6)
    gx, gy, U = sol.rise_on_grid(257, 9)
    np.testing.assert_allclose(U, np.broadcast_to(stripes_exact(gx, stripes, fp.width, SOFT),
                                                  U.shape), rtol=1e-6)
    assert sol.peak["rise"] == pytest.approx(exact_stripe_peak(fp, SOFT), rel=1e-6)


# ---------------------------------------------------------------------- (3) mean
@pytest.mark.parametrize("make", [mixed_floorplan, framed_block])
def test_mean_over_grid_is_power_over_h_area(make):
    fp = make()
    sol = SeriesSolution(fp, LumpedDie())
    x, y, U = sol.rise_on_grid(801, 513)
    mean = trapezoid(trapezoid(U, x, axis=1), y) / (fp.width * fp.height)
    expected = fp.total_power / (LumpedDie().htc * fp.width * fp.height)
    assert sol.mean_rise == pytest.approx(expected, rel=1e-14)
    assert mean == pytest.approx(expected, rel=1e-4)


# ---------------------------------------------------------------------- (4) symmetry
def test_centred_block_gives_a_symmetric_field():
    fp = framed_block()
    sol = SeriesSolution(fp, LumpedDie())
    x, y, U = sol.rise_on_grid(121, 81)
    scale = U.max()
    np.testing.assert_allclose(U, U[:, ::-1], atol=1e-11 * scale)
    np.testing.assert_allclose(U, U[::-1, :], atol=1e-11 * scale)
    pk = sol.peak
    assert pk["x"] == pytest.approx(3e-3, abs=1e-6 * fp.width)
    assert pk["y"] == pytest.approx(2e-3, abs=1e-6 * fp.width)
    assert pk["rise"] == pytest.approx(float(sol.rise_at(3e-3, 2e-3)), rel=1e-12)


# ---------------------------------------------------------------------- (5) truncation control
@pytest.mark.parametrize("rtol", [1e-3, 1e-4])
def test_error_estimate_is_honoured_and_not_optimistic_1d(rtol):
    fp = stripes_floorplan([0.0, 1.0, 1.4, 6.0, 6.2, 10.0], [0.0, 1.0, 0.0, 0.7, 0.0])
    sol = SeriesSolution(fp, SOFT, rtol=rtol)
    assert not sol.capped
    assert sol.error_estimate <= rtol * sol.peak["rise"]
    true_error = abs(sol.peak["rise"] - exact_stripe_peak(fp, SOFT))
    assert true_error <= 3 * sol.error_estimate
    # At the maximum the field's error is what the estimate measures, too.
    at_peak = abs(float(sol.rise_at(sol.peak["x"], sol.peak["y"]))
                  - stripes_exact(np.array([sol.peak["x"] - fp.die[0]]), stripes_of(fp),
                                  fp.width, SOFT)[0])
    assert at_peak <= 3 * sol.error_estimate


def test_error_estimate_is_honoured_and_not_optimistic_2d():
    fp = mixed_floorplan()
    model = LumpedDie()
    rough = SeriesSolution(fp, model, rtol=1e-3)
    fine = SeriesSolution(fp, model, rtol=1e-6)
    assert not rough.capped and not fine.capped
    assert rough.error_estimate <= 1e-3 * rough.peak["rise"]
    assert fine.error_estimate <= 1e-6 * fine.peak["rise"]
    true_error = abs(rough.peak["rise"] - fine.peak["rise"])
    assert true_error <= 3 * rough.error_estimate + fine.error_estimate
    assert rough.peak["x"] == pytest.approx(fine.peak["x"], abs=1e-3 * fp.width)
    assert rough.peak["y"] == pytest.approx(fine.peak["y"], abs=1e-3 * fp.width)


def test_cap_keeps_going_and_reports_the_larger_error():
    fp = stripes_floorplan([0.0, 1.0, 1.4, 6.0, 6.2, 10.0], [0.0, 1.0, 0.0, 0.7, 0.0])
    sol = SeriesSolution(fp, SOFT, rtol=1e-9, max_modes=64)  # must not raise
    assert sol.capped
    assert max(sol.modes) <= 64
    assert sol.error_estimate > 1e-9 * sol.peak["rise"]
    true_error = abs(sol.peak["rise"] - exact_stripe_peak(fp, SOFT))
    assert true_error <= 3 * sol.error_estimate


# ---------------------------------------------------------------------- (6) points vs grid
def test_rise_at_agrees_with_rise_on_grid():
    fp = mixed_floorplan()
    sol = SeriesSolution(fp, LumpedDie(), rtol=1e-4)
    for nx, ny in [(37, 21), (2, 3), (1, 1)]:
        x, y, U = sol.rise_on_grid(nx, ny)
        assert x.shape == (nx,) and y.shape == (ny,) and U.shape == (ny, nx)
        assert x[0] == fp.die[0] and y[0] == fp.die[1]
        if nx > 1:
            assert x[-1] == pytest.approx(fp.die[2], rel=1e-15)
        X, Y = np.meshgrid(x, y)
        np.testing.assert_allclose(sol.rise_at(X, Y), U, rtol=0, atol=1e-10 * U.max())
    with pytest.raises(ValueError):
        sol.rise_at(fp.die[2] + 1e-4, fp.die[1])


# ---------------------------------------------------------------------- (7) the hard case
def test_tiny_hot_block_in_a_corner_converges_within_the_cap():
    # A 50 um source on a 10 mm x 7 mm die (not square, so x and y cannot be confused).
    W, H, side, P = 10e-3, 7e-3, 50e-6, 1.0
    fp = Floorplan.from_blocks(["hot", "rest_x", "rest_y"], [0.0, side, 0.0], [0.0, 0.0, side],
                               [side, W - side, side], [side, H, H - side], [P, 0.0, 0.0])
    model = LumpedDie()
    sol = SeriesSolution(fp, model, rtol=1e-4)
    assert not sol.capped and max(sol.modes) <= 8192
    exact = corner_exact(side, P, W, H, model)
    pk = sol.peak
    assert pk["x"] == pytest.approx(0.0, abs=1e-3 * W)
    assert pk["y"] == pytest.approx(0.0, abs=1e-3 * W)
    assert abs(pk["rise"] - exact) <= min(3 * sol.error_estimate, 1e-4 * exact)
    assert float(sol.rise_at(0.0, 0.0)) == pytest.approx(exact, rel=1e-4)


# ---------------------------------------------------------------------- (8) offset die
def test_die_away_from_the_origin():
    origin = (3.7e-3, -1.2e-3)
    at_zero = SeriesSolution(framed_block(block=(1e-3, 0.5e-3, 1.5e-3, 2e-3)), LumpedDie())
    moved_fp = framed_block(block=(1e-3, 0.5e-3, 1.5e-3, 2e-3), origin=origin)
    moved = SeriesSolution(moved_fp, LumpedDie())
    assert moved.modes == at_zero.modes
    x, y, U = moved.rise_on_grid(65, 33)
    x0, y0, U0 = at_zero.rise_on_grid(65, 33)
    assert x[0] == pytest.approx(origin[0], rel=1e-15) and y[0] == pytest.approx(origin[1])
    assert x[-1] == pytest.approx(origin[0] + 6e-3) and y[-1] == pytest.approx(origin[1] + 4e-3)
    np.testing.assert_allclose(U, U0, rtol=1e-9)
    pts = np.random.default_rng(3).uniform([0, 0], [6e-3, 4e-3], size=(50, 2))
    np.testing.assert_allclose(moved.rise_at(pts[:, 0] + origin[0], pts[:, 1] + origin[1]),
                               at_zero.rise_at(pts[:, 0], pts[:, 1]), rtol=1e-9)
    assert moved.peak["x"] == pytest.approx(at_zero.peak["x"] + origin[0], abs=1e-9)
    assert moved.peak["y"] == pytest.approx(at_zero.peak["y"] + origin[1], abs=1e-9)
    assert moved.peak["rise"] == pytest.approx(at_zero.peak["rise"], rel=1e-9)


# ---------------------------------------------------------------------- properties
@settings(max_examples=8, deadline=None)
@given(powers=st.lists(st.floats(0.0, 3.0), min_size=9, max_size=9).filter(lambda p: sum(p) > 0.1),
       cuts=st.tuples(st.floats(0.2, 0.45), st.floats(0.55, 0.8)))
def test_random_tiling_mean_and_grid_consistency(powers, cuts):
    """On any 3 x 3 tiling: the grid mean is P / (h W H) and points agree with the grid."""
    W, H = 5e-3, 3e-3
    xe = np.array([0.0, cuts[0], cuts[1], 1.0]) * W
    ye = np.array([0.0, 1 - cuts[1], 1 - cuts[0], 1.0]) * H
    i, j = np.meshgrid(range(3), range(3))
    i, j = i.ravel(), j.ravel()
    fp = Floorplan.from_blocks([f"b{k}" for k in range(9)], xe[i], ye[j], xe[i + 1] - xe[i],
                               ye[j + 1] - ye[j], powers)
    sol = SeriesSolution(fp, LumpedDie(), rtol=1e-3)
    x, y, U = sol.rise_on_grid(257, 129)
    mean = trapezoid(trapezoid(U, x, axis=1), y) / (W * H)
    assert mean == pytest.approx(sol.mean_rise, rel=1e-4)
    X, Y = np.meshgrid(x[::32], y[::32])
    np.testing.assert_allclose(sol.rise_at(X, Y), U[::32, ::32], rtol=0, atol=1e-10 * U.max())
    assert sol.peak["rise"] >= U.max() - 1e-9 * U.max()


def test_reflected_blur_preserves_heat_and_matches_gaussian():
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    image = rng.random((40, 50))
    # Nodes on the die's edges carry half a cell (trapezoid weights): that total is conserved.
    weights = np.outer(*(np.r_[0.5, np.ones(n - 2), 0.5] for n in image.shape))
    # Widths from a few pixels to a good part of the image (the power method's thermal length).
    for sigma, blurred in zip((2.0, 12.0), reflected_blurs(image, [2.0, 12.0])):
        assert (weights * blurred).sum() == pytest.approx((weights * image).sum())
        expected = gaussian_filter(image, sigma, mode="mirror", truncate=8.0)
        np.testing.assert_allclose(blurred, expected, atol=1e-8)


@pytest.mark.parametrize("modes", [1, 2, 257, 4096])
def test_interval_integrals_match_the_closed_form(modes):
    from thermal.exact.series import _interval_integrals

    rng = np.random.default_rng(1)
    size = 1e-2
    intervals = np.sort(rng.uniform(0, size, (200, 2)), axis=1)
    intervals[:3, 1] = intervals[:3, 0] + 1e-9      # a few 1 nm wide: the narrow-interval case
    m = np.arange(1, modes)[None, :]
    a, b = intervals[:, :1], intervals[:, 1:]
    expected = np.hstack([(b - a) / size, (4 / (np.pi * m)) * np.cos(np.pi * m * (a + b) / (2 * size))
                          * np.sin(np.pi * m * (b - a) / (2 * size))])
    got = _interval_integrals(intervals, size, modes)
    assert got.shape == (200, modes)
    # Relative to each interval's largest coefficient (its width / size, ~1e-7 for 1 nm).
    scale = np.abs(expected).max(axis=1, keepdims=True)
    np.testing.assert_allclose(got / scale, expected / scale, rtol=0, atol=1e-11)


def test_distinct_intervals_are_numpys_unique_rows():
    from thermal.exact.series import _unique_intervals

    rng = np.random.default_rng(1)
    for n in (1, 2, 50, 1600):
        # Few distinct ends, so rows repeat and rows share a first end.
        a = np.sort(rng.choice(rng.uniform(0, 1e-2, 40), (n, 2)), axis=1)
        a[n // 2:] = a[:n - n // 2]
        rows, inverse = np.unique(a, axis=0, return_inverse=True)
        distinct, index = _unique_intervals(a)
        np.testing.assert_array_equal(distinct, rows)
        np.testing.assert_array_equal(index, inverse.ravel())
