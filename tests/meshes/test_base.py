"""Tests of the coarse block-conforming base mesh (:mod:`meshes.base`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skfem
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import meshes.base as base
from meshes.base import conforms, init_base, quality
from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan, PowerMap, Rects
from tests.conftest import hot_corner_floorplan

EV6_FLP = Path(__file__).resolve().parents[2] / "examples" / "ev6.flp"


# ------------------------------------------------------------------------------ helpers
def load_flp(path: Path) -> Floorplan:
    """A HotSpot ``.flp`` (name width height left-x bottom-y) as a floorplan with 1 W blocks.

    Deliberately tiny: the real parser lives in :mod:`thermal.io` and is tested there.
    """
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.split("#")[0].strip()]
    rows = np.loadtxt(lines, dtype=str, ndmin=2)
    w, h, x, y = (rows[:, k].astype(float) for k in range(1, 5))
    return Floorplan.from_blocks(rows[:, 0], x, y, w, h, np.ones(len(rows)))


def guillotine(seed: int, n: int, die: float = 10e-3, gap: float = 0.15,
               sliver: float = 0.2) -> Floorplan:
    """A random slicing floorplan: ``n - 1`` random guillotine cuts of a die, some blocks removed.

    Cuts are at 15-85 % of a block, or with probability ``sliver`` at 1-8 % (thin blocks next to
    big ones); each block becomes a gap with probability ``gap`` (the die then shrinks to the
    remaining blocks' bounding box, so gaps also reach the die edge).
    """
    rng = np.random.default_rng(seed)
    rects = [(0.0, 0.0, die, die * rng.uniform(0.5, 1.5))]
    for _ in range(n - 1):
        area = np.array([(r[2] - r[0]) * (r[3] - r[1]) for r in rects])
        k = int(rng.choice(len(rects), p=area / area.sum()))
        x0, y0, x1, y1 = rects.pop(k)
        f = rng.uniform(0.01, 0.08) if rng.random() < sliver else rng.uniform(0.15, 0.85)
        f = 1.0 - f if rng.random() < 0.5 else f
        if x1 - x0 > (y1 - y0) * rng.uniform(0.5, 2.0):
            xm = x0 + f * (x1 - x0)
            rects += [(x0, y0, xm, y1), (xm, y0, x1, y1)]
        else:
            ym = y0 + f * (y1 - y0)
            rects += [(x0, y0, x1, ym), (x0, ym, x1, y1)]
    r = np.array(rects)
    keep = rng.random(len(r)) >= gap
    keep[rng.integers(len(r))] = True
    r = r[keep]
    return Floorplan.from_blocks([f"b{i}" for i in range(len(r))], r[:, 0], r[:, 1],
                                 r[:, 2] - r[:, 0], r[:, 3] - r[:, 1], np.ones(len(r)))


def tiled(n: int, size: float = 10e-3, jitter: bool = False, seed: int = 0) -> Floorplan:
    """``n`` x ``n`` blocks tiling a square die; with ``jitter``, columns and rows of random width."""
    rng = np.random.default_rng(seed)
    steps = rng.uniform(0.5, 1.5, (2, n)) if jitter else np.ones((2, n))
    xs, ys = (np.concatenate([[0.0], np.cumsum(s)]) * size / s.sum() for s in steps)
    ix, iy = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n)))
    return Floorplan.from_blocks([f"b{i}" for i in range(n * n)], xs[ix], ys[iy],
                                 xs[ix + 1] - xs[ix], ys[iy + 1] - ys[iy], np.ones(n * n))


def signed_areas(mesh: skfem.MeshTri) -> np.ndarray:
    x, y = mesh.p[0][mesh.t], mesh.p[1][mesh.t]
    return 0.5 * ((x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0]))


def assert_good_base_mesh(mesh: skfem.MeshTri, fp: Floorplan, min_angle: float = 25.0) -> dict:
    """Everything :func:`init_base` promises, checked independently where possible."""
    q = quality(mesh)
    assert conforms(mesh, fp.edges)
    assert q["min_angle_deg"] >= min_angle - 1e-9
    area = signed_areas(mesh)
    assert np.all(area > 0), "triangles must be counter-clockwise with positive area"
    assert area.sum() == pytest.approx(fp.width * fp.height, rel=1e-12)
    # No duplicate or unused points.
    assert np.unique(mesh.p.T, axis=0).shape[0] == mesh.p.shape[1]
    assert np.array_equal(np.unique(mesh.t), np.arange(mesh.p.shape[1]))
    # Exactly the die, and every rectangle corner is a vertex with its exact coordinates.
    x0, y0, x1, y1 = fp.die
    assert mesh.p[0].min() == x0 and mesh.p[0].max() == x1
    assert mesh.p[1].min() == y0 and mesh.p[1].max() == y1
    e = fp.edges
    corners = np.column_stack([np.r_[e.x0, e.x1, e.x0, e.x1], np.r_[e.y0, e.y0, e.y1, e.y1]])
    with_corners = np.unique(np.vstack([mesh.p.T, corners]), axis=0)
    assert with_corners.shape[0] == mesh.p.shape[1]
    return q


# ------------------------------------------------------------------------------ init_base
def test_ev6_is_coarse_conforming_and_well_shaped():
    fp = load_flp(EV6_FLP)
    assert fp.snap.count > 0  # ev6 has edges 1 um apart that snapping merges
    mesh = init_base(fp)
    q = assert_good_base_mesh(mesh, fp)
    assert 50 < q["elements"] < 1000
    assert q["h_max"] > 1e-3  # big blocks get big triangles
    assert q["max_aspect_ratio"] < 3.0


def test_single_block_gives_a_handful_of_triangles():
    square = Floorplan.from_blocks(["a"], [0.0], [0.0], [5e-3], [5e-3], [1.0])
    assert init_base(square).t.shape[1] == 2
    for w, h in [(2e-3, 1e-3), (3e-3, 1e-3)]:
        fp = Floorplan.from_blocks(["a"], [1e-3], [2e-3], [w], [h], [1.0])
        mesh = init_base(fp)
        assert_good_base_mesh(mesh, fp)
        assert mesh.t.shape[1] < 20


def test_tiny_hot_block_in_a_corner_of_a_big_die():
    # A 50 um hot block in the corner of a 10 mm die. Rectangular neighbours make a 50 um x 10 mm
    # strip next to it, which by itself needs hundreds of triangles at 25 degrees; the rest of
    # the die must still be coarse.
    a, d = 50e-6, 10e-3
    fp = Floorplan.from_blocks(["hot", "right", "top"], [0.0, a, 0.0], [0.0, 0.0, a],
                               [a, d - a, a], [a, d, d - a], [1.0, 1.0, 1.0])
    q = assert_good_base_mesh(init_base(fp), fp)
    assert q["h_min"] <= a
    assert q["elements"] < 2000
    assert q["h_max"] > 3e-3


def test_grading_around_a_tiny_block_is_local():
    # The 50 um block surrounded by rings of blocks growing 3.76x per ring to a 10 mm die: no
    # thin strips, so the mesh is small and its triangles grow with distance from the corner.
    a, d = 50e-6, 10e-3
    s = a * (d / a) ** (np.arange(5) / 4)
    x0 = np.r_[0.0, s[:-1], np.zeros(4)]
    y0 = np.r_[0.0, np.zeros(4), s[:-1]]
    x1 = np.r_[a, s[1:], s[:-1]]
    y1 = np.r_[a, s[1:], s[1:]]
    fp = Floorplan.from_blocks([f"b{i}" for i in range(9)], x0, y0, x1 - x0, y1 - y0, np.ones(9))
    mesh = init_base(fp)
    q = assert_good_base_mesh(mesh, fp)
    assert q["elements"] < 150
    p, t = mesh.p, mesh.t
    longest = np.max(np.linalg.norm(p[:, t] - p[:, np.roll(t, 1, axis=0)], axis=0), axis=0)
    dist = np.linalg.norm(p[:, t].mean(axis=1), axis=0)
    assert longest[dist < 2 * a].max() < 4 * a
    assert longest[dist > d / 2].min() > 1e-3
    assert q["h_max"] > 3e-3


def test_shared_hot_corner_floorplan():
    fp = hot_corner_floorplan()
    q = assert_good_base_mesh(init_base(fp), fp)
    assert q["elements"] < 400


@pytest.mark.parametrize("seed", range(8))
def test_random_guillotine_floorplans(seed):
    fp = guillotine(seed, n=10 + 5 * seed, gap=[0.0, 0.2][seed % 2], sliver=[0.1, 0.3][seed % 2])
    assert_good_base_mesh(init_base(fp), fp)


def test_blocks_of_very_different_sizes_with_gaps():
    # Big blocks, a strip of tiny ones along a gap, an isolated small block in a gap.
    fp = Floorplan.from_blocks(
        ["big", "tall", "s0", "s1", "s2", "lone"],
        [0.0, 6e-3, 0.0, 0.2e-3, 0.4e-3, 8e-3], [0.0, 0.0, 6e-3, 6e-3, 6e-3, 9e-3],
        [6e-3, 4e-3, 0.2e-3, 0.2e-3, 0.2e-3, 0.1e-3], [6e-3, 8e-3, 0.1e-3, 0.1e-3, 0.1e-3, 1e-3],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    q = assert_good_base_mesh(init_base(fp), fp)
    assert q["h_max"] > 2e-3


def test_power_map_cells_crossing_blocks():
    # Power-map cell sides cross block sides away from any corner: the crossings are vertices.
    ev6 = load_flp(EV6_FLP)
    b = ev6.blocks
    watts = np.random.default_rng(0).uniform(0.0, 1.0, (5, 7))
    fp = Floorplan.from_blocks(ev6.names, b.x0, b.y0, b.width, b.height, power_map=PowerMap(watts))
    mesh = init_base(fp)
    assert_good_base_mesh(mesh, fp)
    assert conforms(mesh, fp.blocks) and conforms(mesh, fp.sources)
    # The plain ev6 mesh ignores the cells.
    assert not conforms(init_base(ev6), fp.edges)


def test_tiled_1600_blocks():
    regular = tiled(40)
    mesh = init_base(regular)
    # Square blocks are split into two right isosceles triangles, nothing more.
    assert mesh.t.shape[1] == 2 * 1600
    assert conforms(mesh, regular.edges)
    jittered = tiled(40, jitter=True)
    mesh = init_base(jittered)
    assert_good_base_mesh(mesh, jittered)
    assert mesh.t.shape[1] < 4 * 1600


@pytest.mark.parametrize("angle", [20.0, 30.0])
def test_min_angle_is_honoured(angle):
    fp = load_flp(EV6_FLP)
    q = assert_good_base_mesh(init_base(fp, min_angle=angle), fp, min_angle=angle)
    n25 = quality(init_base(fp))["elements"]
    assert (q["elements"] < n25) if angle < 25 else (q["elements"] > n25)


@pytest.mark.parametrize("angle", [0.0, -5.0, 40.0])
def test_bad_min_angle_is_rejected(angle):
    with pytest.raises(ValueError, match="min_angle"):
        init_base(load_flp(EV6_FLP), angle)


def test_non_convergence_raises(monkeypatch):
    monkeypatch.setattr(base, "MAX_ROUNDS", 1)
    with pytest.raises(RuntimeError, match="did not finish"):
        init_base(load_flp(EV6_FLP))


def test_deterministic():
    fp = guillotine(3, 30)
    m1, m2 = init_base(fp), init_base(fp)
    assert np.array_equal(m1.p, m2.p) and np.array_equal(m1.t, m2.t)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30),
       gap=st.sampled_from([0.0, 0.1, 0.3]), sliver=st.sampled_from([0.0, 0.2, 0.5]),
       min_angle=st.sampled_from([20.0, 25.0, 28.0]))
def test_property_random_floorplans_conform_and_keep_angle(seed, n, gap, sliver, min_angle):
    try:
        fp = guillotine(seed, n, gap=gap, sliver=sliver)
    except InputError:  # a sliver thinner than the snapping tolerance
        assume(False)
    assert_good_base_mesh(init_base(fp, min_angle), fp, min_angle)


# ------------------------------------------------------------------------------ quality
def test_quality_of_known_meshes():
    q = quality(skfem.MeshTri())  # unit square, two right isosceles triangles
    assert q["elements"] == 2 and q["nodes"] == 4
    assert q["min_angle_deg"] == pytest.approx(45.0)
    assert q["h_min"] == pytest.approx(1.0) and q["h_max"] == pytest.approx(np.sqrt(2.0))
    # circumradius / (2 inradius) = (sqrt(2)/2) / (2 - sqrt(2)) for a right isosceles triangle
    assert q["max_aspect_ratio"] == pytest.approx((1 + np.sqrt(2)) / 2)
    equilateral = skfem.MeshTri(np.array([[0.0, 1.0, 0.5], [0.0, 0.0, np.sqrt(3) / 2]]),
                                np.array([[0], [1], [2]]))
    q = quality(equilateral)
    assert q["min_angle_deg"] == pytest.approx(60.0)
    assert q["max_aspect_ratio"] == pytest.approx(1.0)


# ------------------------------------------------------------------------------ conforms
def two_blocks() -> Floorplan:
    return Floorplan.from_blocks(["a", "b"], [0.0, 1e-3], [0.0, 0.0], [1e-3, 2e-3], [2e-3, 2e-3],
                                 [1.0, 1.0])


def test_conforms_accepts_aligned_and_rejects_misaligned_tensor_meshes():
    fp = two_blocks()
    aligned = skfem.MeshTri.init_tensor(np.array([0.0, 1e-3, 2e-3, 3e-3]), np.array([0.0, 2e-3]))
    assert conforms(aligned, fp.edges)
    shifted = skfem.MeshTri.init_tensor(np.array([0.0, 1.2e-3, 3e-3]), np.array([0.0, 2e-3]))
    assert not conforms(shifted, fp.edges)
    # A side covered only in part: a tensor mesh missing a horizontal line of a block.
    fp3 = Floorplan.from_blocks(["a", "b", "c"], [0.0, 1e-3, 0.0], [0.0, 0.0, 1e-3],
                                [1e-3, 1e-3, 1e-3], [1e-3, 2e-3, 1e-3], [1.0, 1.0, 1.0])
    coarse = skfem.MeshTri.init_tensor(np.array([0.0, 1e-3, 2e-3]), np.array([0.0, 2e-3]))
    assert not conforms(coarse, fp3.edges)
    assert conforms(init_base(fp3), fp3.edges)


def test_conforms_rejects_invalid_meshes():
    fp = two_blocks()
    good = init_base(fp)
    assert conforms(good, fp.edges)
    # A tangled mesh: one vertex dragged across its neighbours.
    p = good.p.copy()
    inner = np.flatnonzero((p[0] > 0) & (p[0] < 3e-3) & (p[1] > 0) & (p[1] < 2e-3))
    if inner.size:
        p[:, inner[0]] = [2.9e-3, 1e-4]
        assert not conforms(skfem.MeshTri(p, good.t, sort_t=False), fp.edges)
    # A triangle removed (hole) and a triangle duplicated (overlap).
    assert not conforms(skfem.MeshTri(good.p, good.t[:, 1:], sort_t=False), fp.edges)
    assert not conforms(skfem.MeshTri(good.p, np.hstack([good.t, good.t[:, :1]]), sort_t=False),
                        fp.edges)


def test_conforms_ignores_orientation():
    fp = two_blocks()
    mesh = init_base(fp)
    flipped = skfem.MeshTri(mesh.p, mesh.t[[0, 2, 1]], sort_t=False)
    assert conforms(flipped, fp.edges)
    assert conforms(skfem.MeshTri(mesh.p, mesh.t), fp.edges)  # skfem's default sorts t


def test_conforms_with_rects_directly():
    rects = Rects([0.0, 0.5], [0.0, 0.0], [0.5, 1.0], [1.0, 1.0])
    mesh = skfem.MeshTri.init_tensor(np.linspace(0, 1, 5), np.linspace(0, 1, 3))
    assert conforms(mesh, rects)
    assert not conforms(mesh, Rects([0.0], [0.0], [0.3], [1.0]))
