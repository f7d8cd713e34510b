import numpy as np
import pytest

from hotspot_ml.features import FEATURE_NAMES, cell_statistics, compute_features
from thermal.floorplan import Floorplan
from thermal.physics import LumpedDie
from tests.conftest import gap_floorplan, hot_corner_floorplan


def test_cell_statistics_conserve_power_and_see_subgrid_sources():
    fp = hot_corner_floorplan()
    feats = compute_features(fp, LumpedDie(), points=33)
    xs, ys = feats.xs, feats.ys
    mean, qmax, strength, side = cell_statistics(fp, xs, ys)
    d = xs[1] - xs[0]
    w = np.where((np.arange(xs.size) == 0) | (np.arange(xs.size) == xs.size - 1), 0.5, 1.0)
    h = np.where((np.arange(ys.size) == 0) | (np.arange(ys.size) == ys.size - 1), 0.5, 1.0)
    assert (mean * np.outer(h, w) * d * d).sum() == pytest.approx(fp.total_power, rel=1e-12)
    # The 0.3 mm hot unit is smaller than a cell (0.31 mm) but its density shows at the corner.
    hot = fp.source_density[fp.names.index("hot")]
    assert qmax[0, 0] == pytest.approx(hot)
    assert strength[0, 0] == pytest.approx(3.0) and side[0, 0] == pytest.approx(0.3e-3)


def test_features_are_dimensionless():
    # Scaling every length by 2 and the package so that L scales by 2 too, with power density
    # kept, leaves every feature unchanged.
    fp = gap_floorplan()
    b = fp.blocks
    fp2 = Floorplan.from_blocks(fp.names, 2 * b.x0, 2 * b.y0, 2 * b.width, 2 * b.height, 4 * fp.block_power)
    f1 = compute_features(fp, LumpedDie(), points=33).table
    f2 = compute_features(fp2, LumpedDie(thickness=4 * 0.15e-3), points=33).table
    np.testing.assert_allclose(f1, f2, rtol=1e-9, atol=1e-12)
    assert f1.shape[1] == len(FEATURE_NAMES)


def test_series_feature_is_close_to_exact_on_smooth_floorplans():
    from hotspot_ml.train import cell_maxima
    from thermal.series import SeriesSolution

    fp, model = gap_floorplan(), LumpedDie()
    feats = compute_features(fp, model, points=65)
    exact = cell_maxima(SeriesSolution(fp, model), feats.xs.size, feats.ys.size, factor=2)
    assert np.abs(feats.u_series - exact).max() < 0.01 * exact.max()
