import numpy as np
import pytest
from skfem import MeshTri

from meshes import conforms, init_base, quality
from meshes.refine import rgb_refined
from thermal import Floorplan


def _floorplan():
    # A small hot unit in a gap beside three blocks: a graded base mesh.
    return Floorplan.from_blocks(["a", "b", "c", "hot"], [0, 6e-3, 0, 2e-3], [0, 0, 4e-3, 1e-3],
                                 [2e-3, 4e-3, 10e-3, 2e-4], [4e-3, 4e-3, 6e-3, 3e-4], [1, 1, 1, 1])


@pytest.mark.parametrize("fraction", [0.05, 0.3, 1.0])
def test_same_mesh_as_scikit_fem(fraction):
    rng = np.random.default_rng(1)
    ours = theirs = init_base(_floorplan())
    for _ in range(4):
        marked = rng.choice(ours.t.shape[1], max(1, int(fraction * ours.t.shape[1])), replace=False)
        ours, theirs = rgb_refined(ours, marked), theirs.refined(marked)
        np.testing.assert_array_equal(ours.p, theirs.p)
        np.testing.assert_array_equal(ours.t, theirs.t)


def test_conforming_and_angles_kept():
    fp = _floorplan()
    mesh = base = init_base(fp)
    for _ in range(6):
        c = mesh.p[:, mesh.t].mean(axis=1)
        mesh = rgb_refined(mesh, np.flatnonzero(np.hypot(c[0] - 2.1e-3, c[1] - 1.1e-3) < 1e-3))
    assert mesh.t.shape[1] > 10 * base.t.shape[1]
    assert conforms(mesh, fp.edges)
    assert quality(mesh)["min_angle_deg"] >= 0.5 * quality(base)["min_angle_deg"] - 1e-9


def test_marking_nothing_changes_nothing():
    mesh = MeshTri.init_sqsymmetric()
    same = rgb_refined(mesh, np.array([], dtype=int))
    np.testing.assert_array_equal(same.p, mesh.p)
    assert same.t.shape == mesh.t.shape
