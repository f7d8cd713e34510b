import numpy as np
import pytest

from meshes import conforms, quality
from meshes.adapt import (MAX_ELEMENTS, adapted, field_on_elements, longest_edges,
                          neighbour_size_ratio)
from meshes.base import init_base
from meshes.size_field import SizeField, SizeFieldError
from tests.conftest import gap_floorplan, hot_corner_floorplan


def point_field(fp, x, y, h_min, slope=0.3):
    return SizeField.from_function(lambda X, Y: h_min + slope * np.hypot(X - x, Y - y), fp.die)


@pytest.mark.parametrize("make", [hot_corner_floorplan, gap_floorplan])
def test_adapted_mesh_follows_the_field(make):
    fp = make()
    field = point_field(fp, fp.die[0], fp.die[1], 20e-6)
    mesh, stats = adapted(fp, field)
    assert conforms(mesh, fp.edges)
    h, target = longest_edges(mesh), field_on_elements(mesh, field.graded())
    assert np.all(h <= target * (1 + 1e-9))  # never coarser than asked
    assert stats["max_size_ratio"] <= 1 + 1e-9
    # Fine near the point, coarse far away: sizes span orders of magnitude.
    assert h.min() < 30e-6 and h.max() > 25 * h.min()
    q = quality(mesh)
    assert q["min_angle_deg"] >= 12.5  # red-green-blue keeps at least half the base's 25 degrees
    # Neighbours differ by a bounded ratio (the field is graded).
    assert stats["max_neighbour_ratio"] <= 4.0


def test_neighbour_ratio_of_a_known_mesh():
    from skfem import MeshTri

    mesh = MeshTri.init_sqsymmetric()  # 8 congruent triangles
    assert neighbour_size_ratio(mesh) == pytest.approx(1.0)
    refined = mesh.refined([0])  # red children (h = 0.35) beside green-closed neighbours (h = 0.5)
    assert neighbour_size_ratio(refined) == pytest.approx(np.sqrt(2.0))

def test_coarse_where_nothing_asks():
    fp = hot_corner_floorplan()
    base = init_base(fp)
    mesh, stats = adapted(fp, 1.0, base=base)  # a field coarser than the die
    assert mesh.t.shape[1] == base.t.shape[1]
    assert stats["finer_than_asked"] == mesh.t.shape[1]  # all forced by the block geometry
    assert stats["forced_by_geometry"] == base.t.shape[1]


def test_budget_is_honoured():
    fp = hot_corner_floorplan()
    field = point_field(fp, 5e-3, 5e-3, 5e-6, slope=0.05)
    free, _ = adapted(fp, field)
    capped, stats = adapted(fp, field, budget=free.t.shape[1] // 4)
    assert capped.t.shape[1] <= free.t.shape[1] // 4
    assert capped.t.shape[1] > free.t.shape[1] // 16  # scaled, not collapsed
    assert stats["field_scale"] > 1
    assert conforms(capped, fp.edges)


def test_huge_field_rejected():
    fp = hot_corner_floorplan()
    with pytest.raises(SizeFieldError, match="elements"):
        adapted(fp, 1e-7)
    assert MAX_ELEMENTS >= 1e6
    with pytest.raises(SizeFieldError):
        adapted(fp, 0.0)
    with pytest.raises(SizeFieldError):
        adapted(fp, lambda x, y: np.where(x > 1e-3, np.nan, 1e-3))
