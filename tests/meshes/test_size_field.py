import numpy as np
import pytest

from meshes.size_field import SizeField, SizeFieldError, as_size_field

DIE = (0.0, 0.0, 4e-3, 2e-3)


def _bilinear(x, y):
    return 1e-4 + 0.01 * x + 0.02 * y + 3.0 * x * y


@pytest.mark.parametrize("even", [True, False])
def test_bilinear_interpolation_is_exact_for_bilinear_functions(even):
    if even:  # evenly spaced axes: cell index by arithmetic
        f = SizeField.from_function(_bilinear, DIE, points=9)
    else:  # uneven axes: by binary search
        xs, ys = np.array([0, 0.3e-3, 1e-3, 2.5e-3, 4e-3]), np.array([0, 0.1e-3, 2e-3])
        f = SizeField(xs, ys, _bilinear(*np.meshgrid(xs, ys)))
    assert f._even == even
    rng = np.random.default_rng(0)
    # Random points, grid nodes themselves, and points outside (constant extrapolation).
    x = np.concatenate([rng.uniform(0, 4e-3, 100), f.xs, [-1e-3, 5e-3]])
    y = np.concatenate([rng.uniform(0, 2e-3, 100), np.full(f.xs.size, f.ys[1]), [1e-3, 3e-3]])
    np.testing.assert_allclose(f(x, y), _bilinear(np.clip(x, 0, 4e-3), np.clip(y, 0, 2e-3)), rtol=1e-12)


def test_as_size_field_accepts_number_callable_and_field():
    assert as_size_field(1e-4, DIE)(np.array([1e-3]), np.array([1e-3]))[0] == pytest.approx(1e-4)
    f = as_size_field(lambda x, y: 2e-4 + 0 * x, DIE)
    assert isinstance(f, SizeField) and f.min == pytest.approx(2e-4)
    assert as_size_field(f, DIE) is f
    with pytest.raises(SizeFieldError, match="must be a SizeField"):
        as_size_field("fine", DIE)


@pytest.mark.parametrize("bad,problem", [(np.nan, "NaN"), (np.inf, "infinite"), (0.0, "zero or negative"),
                                         (-1e-4, "zero or negative")])
def test_degenerate_fields_rejected(bad, problem):
    values = np.full((3, 3), 1e-4)
    values[1, 1] = bad
    with pytest.raises(SizeFieldError, match=problem):
        SizeField(np.linspace(0, 1, 3), np.linspace(0, 1, 3), values)


def test_grading_bounds_the_slope_and_never_increases_sizes():
    f = SizeField.from_function(lambda x, y: 1e-3 + 0 * x, DIE, points=101)
    values = f.values.copy()
    values[20, 70] = 1e-6
    g = SizeField(f.xs, f.ys, values).graded(0.5)
    gy, gx = np.gradient(g.values, g.ys, g.xs)
    assert np.hypot(gx, gy).max() <= 0.5 + 1e-9
    assert np.all(g.values <= values)
    assert g.values[20, 70] == pytest.approx(1e-6, rel=1e-9)
    # The envelope is the largest such field: far away it is untouched.
    assert g.values[0, 0] == pytest.approx(1e-3)


def test_expected_elements_integrates_one_over_h_squared():
    f = SizeField.constant(1e-4, DIE)
    from meshes.size_field import AREA_PER_H2

    assert f.expected_elements() == pytest.approx(8e-6 / (AREA_PER_H2 * 1e-8))
