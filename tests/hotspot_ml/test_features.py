import numpy as np

from hotspot_ml.features import FEATURE_NAMES, compute_features
from thermal.geometry.floorplan import Floorplan
from thermal.geometry.lumped import LumpedDie
from tests.conftest import gap_floorplan


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
    from thermal.exact.series import SeriesSolution

    fp, model = gap_floorplan(), LumpedDie()
    feats = compute_features(fp, model, points=65)
    exact = cell_maxima(SeriesSolution(fp, model), feats.xs.size, feats.ys.size, factor=2)
    assert np.abs(feats.u_series - exact).max() < 0.01 * exact.max()
