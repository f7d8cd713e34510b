import numpy as np
import pytest
from skfem import MeshTri

from meshes.locate import PointLocator


def graded_mesh() -> MeshTri:
    # Refine one corner many times: tiny elements next to large ones stress the KD-tree search.
    mesh = MeshTri.init_tensor(np.linspace(0, 1, 5), np.linspace(0, 2, 9))
    for _ in range(7):
        c = mesh.p[:, mesh.t].mean(axis=1)
        mesh = mesh.refined(np.flatnonzero((c[0] < 0.2) & (c[1] < 0.2)))
    return mesh


@pytest.mark.parametrize("mesh", [MeshTri.init_sqsymmetric().refined(3), graded_mesh()])
def test_locator_agrees_with_matplotlib(mesh):
    from matplotlib.tri import Triangulation

    rng = np.random.default_rng(0)
    lo, hi = mesh.p.min(1), mesh.p.max(1)
    x = np.concatenate([rng.uniform(lo[0] - 0.1, hi[0] + 0.1, 20000), mesh.p[0]])
    y = np.concatenate([rng.uniform(lo[1] - 0.1, hi[1] + 0.1, 20000), mesh.p[1]])
    x = np.concatenate([x, rng.uniform(0, 0.01, 5000)])  # many points among the tiny elements
    y = np.concatenate([y, rng.uniform(0, 0.01, 5000)])
    ours = PointLocator(mesh).find(x, y)
    ref = Triangulation(mesh.p[0], mesh.p[1], mesh.t.T).get_trifinder()(x, y)
    assert np.array_equal(ours < 0, ref < 0)
    # Nodes and points on shared edges may be given either neighbour: check containment.
    loc = PointLocator(mesh)
    inside = ours >= 0
    l1, l2, _ = loc._barycentric(ours[inside], x[inside], y[inside])
    assert loc._inside(l1, l2).all()


@pytest.mark.parametrize("mesh", [MeshTri.init_sqsymmetric().refined(2), graded_mesh()])
def test_grid_interpolation_matches_point_interpolation(mesh):
    rng = np.random.default_rng(2)
    values = rng.normal(size=mesh.p.shape[1])
    lo, hi = mesh.p.min(1), mesh.p.max(1)
    xs = np.linspace(lo[0] - 0.05, hi[0], 57)
    ys = np.linspace(lo[1], hi[1] + 0.05, 91)
    loc = PointLocator(mesh)
    X, Y = np.meshgrid(xs, ys)
    np.testing.assert_allclose(loc.interpolate_grid(values, xs, ys), loc.interpolate(values, X, Y),
                               atol=1e-12)


def test_interpolation_is_exact_for_linear_fields():
    mesh = MeshTri.init_circle(3)
    f = 2.0 * mesh.p[0] - 3.0 * mesh.p[1] + 1.0
    rng = np.random.default_rng(1)
    r, a = np.sqrt(rng.uniform(0, 0.8, 1000)), rng.uniform(0, 2 * np.pi, 1000)
    x, y = r * np.cos(a), r * np.sin(a)
    np.testing.assert_allclose(PointLocator(mesh).interpolate(f, x, y), 2 * x - 3 * y + 1, atol=1e-12)
    assert np.isnan(PointLocator(mesh).interpolate(f, np.array([5.0]), np.array([5.0])))[0]
