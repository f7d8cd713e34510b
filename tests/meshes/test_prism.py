"""Prism meshes: extrusion, presence, VTK wedge orientation, graded levels."""
import numpy as np
import pytest

from meshes.prism import graded_levels, init_prism
from meshes.uniform import init_tensor


def test_graded_levels_keep_bounds_and_grade_away_from_the_sources():
    bounds = np.cumsum([0, 6e-3, 1e-3, 20e-6, 150e-6])
    z, region = graded_levels(bounds, np.array([0, 0, 0, 1], bool), 50e-6, gradation=0.3)
    assert set(bounds) <= set(z) and np.all(np.diff(z) > 0)
    assert np.bincount(region).tolist()[3] == 3  # 150 um at <= 50 um
    d = np.diff(z)
    sink = d[region == 0]
    assert np.all(np.diff(sink) < 0)  # thinner towards the die above
    # The rule at each sub-layer's side nearer to the sources: h0 + g * distance.
    upper = bounds[1] - np.concatenate([[0.0], np.cumsum(sink[::-1])])[:-1][::-1]
    distance = bounds[3] - upper
    assert np.all(sink <= 50e-6 + 0.3 * distance + 1e-12)


def test_graded_levels_need_a_hot_region():
    with pytest.raises(ValueError):
        graded_levels(np.array([0.0, 1.0]), np.array([False]), 0.1)


def test_prisms_absent_outside_a_footprint_and_wedges_positive():
    plane = init_tensor(np.linspace(0, 2, 5), np.linspace(0, 2, 5))
    c = plane.p[:, plane.t].mean(axis=1)
    inner = (c[0] > 0.5) & (c[0] < 1.5) & (c[1] > 0.5) & (c[1] < 1.5)
    mesh = init_prism(plane, np.array([0.0, 1.0, 1.5, 2.0]), np.array([0, 0, 1]),
                      np.vstack([np.ones_like(inner), inner]))
    assert mesh.n_prisms == 2 * plane.t.shape[1] + inner.sum()
    # Nodes of the top level outside the inner square touch no prism.
    top = mesh.active_nodes.reshape(4, -1)[3]
    assert top.sum() == 9 and mesh.active_nodes.reshape(4, -1)[:3].all()
    # VTK wedge: the bottom triangle's right-hand normal points away from the top one.
    pts = mesh.points()
    w = mesh.wedges
    a, b, c3, top0 = pts[w[0]], pts[w[1]], pts[w[2]], pts[w[3]]
    normal = np.cross(b - a, c3 - a)
    assert np.all(np.einsum("ij,ij->i", normal, top0 - a) < 0)


def test_init_prism_checks_its_input():
    plane = init_tensor(np.linspace(0, 1, 3), np.linspace(0, 1, 3))
    with pytest.raises(ValueError):
        init_prism(plane, np.array([0.0, 0.0]), np.array([0]), np.ones((1, plane.t.shape[1])))
    with pytest.raises(ValueError):
        init_prism(plane, np.array([0.0, 1.0]), np.array([0, 0]), np.ones((1, plane.t.shape[1])))
