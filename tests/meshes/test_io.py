"""Our VTU writer against meshio's reader: round trips for triangles and wedges."""
import meshio
import numpy as np
import pytest

from meshes.prism import init_prism
from meshes.io import read_vtu, write_vtu, write_wedges_vtu
from meshes.uniform import init_uniform
from tests.conftest import gap_floorplan


def square(n=3):
    return init_uniform(gap_floorplan(), n)


def test_triangles_round_trip(tmp_path):
    mesh = square()
    u = mesh.p[0] ** 2 + mesh.p[1]
    block = np.arange(mesh.t.shape[1]) % 3
    write_vtu(tmp_path / "t.vtu", mesh, {"temperature": u}, {"block": block})
    back, points, cells = read_vtu(tmp_path / "t.vtu")
    np.testing.assert_array_equal(back.p, mesh.p)
    np.testing.assert_array_equal(back.t, mesh.t)
    np.testing.assert_array_equal(points["temperature"], u)
    assert cells["block"].dtype == np.int32 and cells["block"].tolist() == block.tolist()


def test_wedges_round_trip(tmp_path):
    plane = square(2)
    prisms = init_prism(plane, np.array([0.0, 0.5, 1.5]), np.array([0, 0]),
                        np.ones((1, plane.t.shape[1]), bool))
    points = prisms.points()
    write_wedges_vtu(tmp_path / "w.vtu", points, prisms.wedges,
                     {"rise": points[:, 2]}, {"layer": np.zeros(prisms.n_prisms, int)})
    m = meshio.read(tmp_path / "w.vtu")
    np.testing.assert_array_equal(m.points, points)
    # meshio orders a wedge as gmsh does (VTK's with the triangles reversed).
    np.testing.assert_array_equal(m.get_cells_type("wedge")[:, [0, 2, 1, 3, 5, 4]], prisms.wedges.T)
    np.testing.assert_array_equal(m.point_data["rise"], points[:, 2])
    assert m.cell_data["layer"][0].tolist() == [0] * prisms.n_prisms


def test_data_of_the_wrong_length_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'u' has 2 rows, expected"):
        write_vtu(tmp_path / "t.vtu", square(), {"u": np.zeros(2)})


def test_wedges_are_in_vtks_order(tmp_path):
    # vtkWedge: the right-hand normal of (0, 1, 2) points away from the face (3, 4, 5).
    plane = square(2)
    prisms = init_prism(plane, np.array([0.0, 0.5, 1.5]), np.array([0, 0]),
                        np.ones((1, plane.t.shape[1]), bool))
    write_wedges_vtu(tmp_path / "w.vtu", prisms.points(), prisms.wedges)
    m = meshio.read(tmp_path / "w.vtu")
    w = m.get_cells_type("wedge")[:, [0, 2, 1, 3, 5, 4]]  # back to the file's (VTK's) order
    p = m.points
    normal = np.cross(p[w[:, 1]] - p[w[:, 0]], p[w[:, 2]] - p[w[:, 0]])
    assert (np.einsum("ij,ij->i", p[w[:, 3]] - p[w[:, 0]], normal) < 0).all()
