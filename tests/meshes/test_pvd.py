"""ParaView time series (.pvd): a VTK Collection file naming one .vtu per time step."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import meshio
import numpy as np
import pytest
from skfem import MeshTri

from meshes.io import write_pvd, write_vtu


def datasets(path):
    root = ET.parse(path).getroot()
    assert root.tag == "VTKFile" and root.get("type") == "Collection"
    (collection,) = list(root)
    assert collection.tag == "Collection"
    return [(float(d.get("timestep")), d.get("part"), d.get("file")) for d in collection]


def test_series_of_vtu_files(tmp_path):
    mesh = MeshTri.init_symmetric()
    times = [0.0, 1e-5, 2.5e-3]
    for k, t in enumerate(times, 1):
        write_vtu(tmp_path / f"die_{k:04d}.vtu", mesh,
                  point_data={"temperature": 300 + t + mesh.p[0]})
    write_pvd(tmp_path / "die.pvd", [(t, f"die_{k:04d}.vtu") for k, t in enumerate(times, 1)])
    got = datasets(tmp_path / "die.pvd")
    assert got == [(t, "0", f"die_{k:04d}.vtu") for k, t in enumerate(times, 1)]
    for t, _, name in got:  # every file named resolves, relative to the .pvd's folder
        m = meshio.read(tmp_path / name)
        np.testing.assert_allclose(m.point_data["temperature"], 300 + t + mesh.p[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "die.pvd", "die_0001.vtu", "die_0002.vtu", "die_0003.vtu"]  # no temporary file left


def test_absolute_names_are_made_relative_and_escaped(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    write_pvd(out / "series.pvd", [(0, out / "steps" / "a_1.vtu"), (1, tmp_path / "other.vtu"),
                                   (2, 'x&"y<z.vtu')])
    assert [f for _, _, f in datasets(out / "series.pvd")] == [
        "steps/a_1.vtu", "../other.vtu", 'x&"y<z.vtu']
    # Times written so they read back exactly.
    write_pvd(out / "series.pvd", [(0.1 + 0.2, "a.vtu"), (np.float64(1 / 3), "b.vtu")])
    assert [t for t, _, _ in datasets(out / "series.pvd")] == [0.1 + 0.2, 1 / 3]


def test_bad_entries_write_nothing(tmp_path):
    for entries, match in (([], "at least one"), ([(float("nan"), "a.vtu")], "not finite"),
                           ([(0.0, "")], "empty file name"), ([(float("inf"), "a.vtu")], "finite")):
        with pytest.raises(ValueError, match=match):
            write_pvd(tmp_path / "s.pvd", entries)
    assert list(tmp_path.iterdir()) == []
