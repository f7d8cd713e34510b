import numpy as np
import pytest

from meshes.uniform import grid_lines, init_tensor, init_uniform
from thermal.geometry.floorplan import Floorplan
from tests.conftest import gap_floorplan, hot_corner_floorplan


def test_grid_lines_never_make_slivers():
    # An edge 1e-18 m from an even line must not create a 1e-18 m cell.
    lines = grid_lines(0.0, 1.0, 10, np.array([0.3 + 1e-18, 0.55]))
    assert np.diff(lines).min() > 0.05
    assert 0.55 in lines and (0.3 + 1e-18) in lines


def test_tensor_mesh_covers_the_rectangle():
    mesh = init_tensor(np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 2.5]))
    x, y = mesh.p[0][mesh.t], mesh.p[1][mesh.t]
    area2 = np.abs((x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0]))
    assert np.all(area2 > 0)
    assert area2.sum() / 2 == pytest.approx(3.0 * 2.5)
    assert mesh.t.shape[1] == 8


@pytest.mark.parametrize("make", [gap_floorplan, hot_corner_floorplan])
@pytest.mark.parametrize("resolution", [1, 7, 50])
def test_uniform_mesh_conforms(make, resolution):
    from meshes import conforms

    fp = make()
    mesh = init_uniform(fp, resolution)
    assert conforms(mesh, fp.edges)
    x0, y0, x1, y1 = fp.die
    assert mesh.p[0].min() == x0 and mesh.p[0].max() == x1
    assert mesh.p[1].min() == y0 and mesh.p[1].max() == y1


def test_uniform_mesh_size_follows_resolution():
    fp = Floorplan.from_blocks(["a"], [0], [0], [2e-3], [1e-3], [1.0])
    mesh = init_uniform(fp, 100)
    assert mesh.t.shape[1] == 2 * 100 * 50


def test_bad_resolution():
    with pytest.raises(ValueError):
        init_uniform(gap_floorplan(), 0)
