"""HotSpot .flp / .ptrace / .steady reading and writing, and the read_floorplan dispatcher."""
from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thermal.errors import InputError
from tests.thermal.io.helpers import EXAMPLES, FUZZ, ROUND_TRIP, expect_error, write_file
from thermal.io import (FlpData, read_floorplan, read_flp, read_flp_with_power_map, read_hotspot,
                        read_ptrace, write_flp, write_power_map, write_ptrace, write_steady)


write = write_file


# ---------------------------------------------------------------------- good files
def test_ev6_flp():
    f = read_flp(EXAMPLES / "ev6.flp")
    assert len(f) == 30 and len(set(f.names)) == 30
    assert f.names[:2] == ("L2_left", "L2")
    assert f.lines[0] == 8  # after the 7-line comment header
    assert (f.x[1], f.y[1], f.width[1], f.height[1]) == (0.0, 0.0, 0.016, 0.0098)


def test_gcc_ptrace():
    p = read_ptrace(EXAMPLES / "gcc.ptrace")
    assert p.rows.shape[1] == 30 and p.rows.shape[0] >= 2
    assert p.header_line == 1 and p.row_lines[0] == 2
    np.testing.assert_array_equal(p.mean, p.rows.mean(axis=0))
    assert p.mean.sum() == pytest.approx(40.21, abs=0.01)


def test_read_hotspot_ev6():
    fp = read_hotspot(EXAMPLES / "ev6.flp", EXAMPLES / "gcc.ptrace")
    assert len(fp.names) == 30
    assert fp.total_power == pytest.approx(40.21, abs=0.01)
    assert fp.source == str(EXAMPLES / "ev6.flp")


def test_power_matched_by_name_not_order(tmp_path):
    f = read_flp(EXAMPLES / "ev6.flp")
    p = read_ptrace(EXAMPLES / "gcc.ptrace", f.names)
    perm = np.random.default_rng(1).permutation(len(f))
    write_ptrace(tmp_path / "s.ptrace", [f.names[i] for i in perm], p.rows[:, perm])
    a = read_hotspot(EXAMPLES / "ev6.flp", EXAMPLES / "gcc.ptrace")
    b = read_hotspot(EXAMPLES / "ev6.flp", tmp_path / "s.ptrace")
    np.testing.assert_array_equal(a.block_power, b.block_power)
    # read_ptrace(names=...) reorders the columns to the given order
    q = read_ptrace(tmp_path / "s.ptrace", f.names)
    np.testing.assert_array_equal(q.rows, p.rows)


def test_comments_tabs_extra_columns(tmp_path):
    flp = write(tmp_path, "a.flp", "# header\n\n a\t1e-3 1e-3\t0 0   # trailing\n"
                "b 1e-3 1e-3 1e-3 0 1.75e6 0.01\r\n#end\n")
    f = read_flp(flp)
    assert f.names == ("a", "b") and f.lines == (3, 4)
    np.testing.assert_array_equal(f.x, [0, 1e-3])
    pt = write(tmp_path, "a.ptrace", "# power\nb\ta\n1 2 # one\n\n3 4\n")
    p = read_ptrace(pt)
    assert p.names == ("b", "a") and p.header_line == 2
    np.testing.assert_array_equal(p.rows, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(p.row_lines, [3, 5])
    fp = read_hotspot(flp, pt)
    np.testing.assert_array_equal(fp.block_power, [3.0, 2.0])


def test_utf8_bom_accepted(tmp_path):
    f = read_flp(write(tmp_path, "a.flp", b"\xef\xbb\xbfa 1 1 0 0\n"))
    assert f.names == ("a",)


def test_flp_with_power_map(tmp_path):
    m = tmp_path / "m.csv"
    write_power_map(m, np.full((4, 5), 0.5))
    fp = read_flp_with_power_map(EXAMPLES / "ev6.flp", m)
    assert fp.total_power == pytest.approx(10.0)
    assert fp.block_power.sum() == pytest.approx(10.0)  # ev6 tiles its die: no gaps


# ---------------------------------------------------------------------- bad floorplans
BAD_FLP = [
    ("", None, "no blocks"),
    ("# only a comment\n\n", None, "no blocks"),
    ("a 1 1 0 0\nb 1 1 1\n", 2, "got 4 fields"),
    ("a 1 1 0 0\n\nb 1 1 1 0 1 2 3\n", 3, "8 fields"),
    ("a 1 1 0 0\nb 1 x 1 0\n", 2, "height of block 'b' is not a number: 'x'"),
    ("a 1 1 0 0\nb 1 1 1_0 0\n", 2, "left-x of block 'b' is not a number"),
    ("a 1 1 0 0\nb 1 1 0x10 0\n", 2, "left-x of block 'b'"),
    ("a 1 1 0 0\nb 1 1 1 0 heat 1\n", 2, "specific heat of block 'b' is not a number"),
    ("a 1 1 0 0\nb 1 1 1 0 1 r\n", 2, "resistivity of block 'b'"),
    ("a 1 1 0 0\n#\nb 1 1 1 nan\n", 3, "bottom-y of block 'b' is not finite"),
    ("a inf 1 0 0\n", 1, "width of block 'a' is not finite"),
    ("a 1 1 0 0\nb 1 1 1 0\na 1 1 2 0\n", 3, "duplicate block name 'a' (also on line 1)"),
    ("a\x07b 1 1 0 0\n", 1, "control character"),
]


@pytest.mark.parametrize("content,line,fragment", BAD_FLP)
def test_bad_flp(tmp_path, content, line, fragment):
    p = write(tmp_path, "bad.flp", content)
    expect_error(lambda: read_flp(p), p, line, fragment)


@pytest.mark.parametrize("content,line,fragment", [
    (b"a 1 1 0 0\nb 1 1 1 0\n\x00\x01\x02", 3, "binary"),
    (b"a 1 1 0 0\nb\xff 1 1 1 0\n", 2, "not UTF-8"),
])
def test_binary_flp(tmp_path, content, line, fragment):
    p = write(tmp_path, "bin.flp", content)
    expect_error(lambda: read_flp(p), p, line, fragment)


def test_missing_and_unreadable(tmp_path):
    p = tmp_path / "nope.flp"
    expect_error(lambda: read_flp(p), p, None, "cannot read")
    expect_error(lambda: read_ptrace(tmp_path), tmp_path, None, "cannot read")


@pytest.mark.parametrize("content,line,fragment", [
    ("a 1 -1 0 0\nb 1 1 1 0\n", 1, "non-positive height"),
    ("a 1 1 0 0\nb 1 1 0.5 0\n", 2, "overlap"),
])
def test_geometry_errors_name_flp_line(tmp_path, content, line, fragment):
    flp = write(tmp_path, "g.flp", content)
    pt = write(tmp_path, "g.ptrace", "a b\n1 1\n")
    expect_error(lambda: read_hotspot(flp, pt), flp, line, fragment)


# ---------------------------------------------------------------------- bad power traces
BAD_PTRACE = [
    ("", None, "empty power trace"),
    ("# nothing\n", None, "empty power trace"),
    ("a b c\n", 1, "no power values"),
    ("# c\na b a\n1 2 3\n", 2, "duplicate block name 'a' in the header (columns 1 and 3)"),
    ("a b\n1 2\n3\n", 3, "1 value for the 2 blocks"),
    ("a b\n1 2\n\n3 4 5\n", 4, "3 values for the 2 blocks"),
    ("a b\n1 2\n3 four\n", 3, "power of block 'b' is not a number: 'four'"),
    ("a b\n1 2\n3 nan\n", 3, "power of block 'b' is not finite"),
    ("a b\n1 2\n-inf 1\n", 3, "power of block 'a' is not finite"),
    ("a b\n1 2\n3 4\n5 -0.5\n", 4, "power of block 'b' is negative (-0.5)"),
]


@pytest.mark.parametrize("content,line,fragment", BAD_PTRACE)
def test_bad_ptrace(tmp_path, content, line, fragment):
    p = write(tmp_path, "bad.ptrace", content)
    expect_error(lambda: read_ptrace(p), p, line, fragment)


def test_binary_ptrace(tmp_path):
    p = write(tmp_path, "bin.ptrace", b"a b\n1 2\n3 \x00\n")
    expect_error(lambda: read_ptrace(p), p, 3, "binary")
    p = write(tmp_path, "bin2.ptrace", b"a b\n1 2\n3 4\n\xc3\x28\n")
    expect_error(lambda: read_ptrace(p), p, 4, "not UTF-8")


def test_name_mismatch(tmp_path):
    names = [f"u{i}" for i in range(8)]
    flp = tmp_path / "m.flp"
    write_flp(flp, FlpData(tuple(names), np.arange(8.0), np.zeros(8), np.ones(8), np.ones(8),
                           tuple(range(1, 9))))
    pt = write(tmp_path, "m.ptrace", "# c\nu0\n1\n")
    msg = expect_error(lambda: read_hotspot(flp, pt), pt, 2, "no power for 7 blocks",
                       str(flp), "'u1', 'u2', 'u3', 'u4', 'u5' and 2 more")
    assert "u6" not in msg
    pt2 = write(tmp_path, "m2.ptrace", " ".join(names + ["x", "y"]) + "\n" + "1 " * 10 + "\n")
    expect_error(lambda: read_hotspot(flp, pt2), pt2, 1, "2 blocks not in floorplan", "'x', 'y'")
    expect_error(lambda: read_ptrace(pt2, names), pt2, 1, "not in the floorplan")


def test_missing_header_hint(tmp_path):
    flp = write(tmp_path, "h.flp", "a 1 1 0 0\nb 1 1 1 0\n")
    pt = write(tmp_path, "h.ptrace", "1 2\n3 4\n")
    expect_error(lambda: read_hotspot(flp, pt), pt, 1, "header line of block names missing")


def test_zero_total_power(tmp_path):
    flp = write(tmp_path, "z.flp", "a 1 1 0 0\n")
    pt = write(tmp_path, "z.ptrace", "a\n0\n")
    expect_error(lambda: read_hotspot(flp, pt), pt, None, "total power is zero")


# ---------------------------------------------------------------------- writers and round trips
def test_write_steady(tmp_path):
    p = tmp_path / "t.steady"
    write_steady(p, ["a", "b"], [318.15, 350.123456789])
    assert p.read_text() == "a\t318.150000\nb\t350.123457\n"
    with pytest.raises(ValueError):
        write_steady(p, ["a"], [1.0, 2.0])
    with pytest.raises(ValueError):
        write_steady(p, ["a b"], [1.0])


def test_flp_round_trip_exact(tmp_path):
    rng = np.random.default_rng(3)
    n = 50
    f = FlpData(tuple(f"blk{i}" for i in range(n)), rng.random(n) / 7, rng.random(n) * 1e-3 / 3,
                rng.random(n) / 3 + 1e-9, rng.random(n) / 11 + 1e-9, tuple(range(3, n + 3)))
    write_flp(tmp_path / "r.flp", f)
    g = read_flp(tmp_path / "r.flp")
    assert g.names == f.names
    for a in ("x", "y", "width", "height"):
        np.testing.assert_array_equal(getattr(g, a), getattr(f, a))


def test_write_flp_of_floorplan(tmp_path):
    fp = read_hotspot(EXAMPLES / "ev6.flp", EXAMPLES / "gcc.ptrace")
    write_flp(tmp_path / "w.flp", fp)
    g = read_flp(tmp_path / "w.flp")
    assert g.names == fp.names
    np.testing.assert_array_equal(g.x, fp.blocks.x0)
    np.testing.assert_array_equal(g.width, fp.blocks.width)


def test_ptrace_round_trip_exact(tmp_path):
    rng = np.random.default_rng(4)
    rows = rng.random((20, 5)) * 10 / 3
    rows[0, 0] = 0.0
    rows[1, 1] = 5e-324  # smallest subnormal
    names = ["a", "b", "c", "d", "e"]
    write_ptrace(tmp_path / "r.ptrace", names, rows)
    p = read_ptrace(tmp_path / "r.ptrace")
    assert p.names == tuple(names)
    np.testing.assert_array_equal(p.rows, rows)
    write_ptrace(tmp_path / "one.ptrace", names, rows[0])  # 1-D = one row
    assert read_ptrace(tmp_path / "one.ptrace").rows.shape == (1, 5)


def test_writers_refuse_unreadable_names(tmp_path):
    for bad in ["a b", "", "x#y", "tab\t"]:
        with pytest.raises(ValueError):
            write_ptrace(tmp_path / "x.ptrace", [bad], [1.0])


def test_large_files_round_trip(tmp_path):
    """2000 blocks and 10k trace rows (how fast: not a unit test's business)."""
    n = 2000
    i = np.arange(n)
    f = FlpData(tuple(f"b{k}" for k in i), (i % 50) * 1e-4, (i // 50) * 1e-4, np.full(n, 1e-4),
                np.full(n, 1e-4), tuple(i + 1))
    write_flp(tmp_path / "big.flp", f)
    rows = np.random.default_rng(0).random((10_000, 30))
    write_ptrace(tmp_path / "big.ptrace", [f"b{k}" for k in range(30)], rows)
    back = read_flp(tmp_path / "big.flp")
    assert back.names == f.names
    for field in ("x", "y", "width", "height"):
        np.testing.assert_allclose(getattr(back, field), getattr(f, field), rtol=1e-12)
    np.testing.assert_array_equal(read_ptrace(tmp_path / "big.ptrace").rows, rows)


# ---------------------------------------------------------------------- read_floorplan dispatch
def test_read_floorplan_dispatch(tmp_path):
    fp, params = read_floorplan(EXAMPLES / "ev6.flp", EXAMPLES / "gcc.ptrace")
    assert params == {} and len(fp.names) == 30
    fj, pj = read_floorplan(EXAMPLES / "ev6.json")
    assert fj.total_power == pytest.approx(fp.total_power, rel=1e-12)
    write_power_map(tmp_path / "m.npy", np.ones((3, 3)))
    fm, _ = read_floorplan(EXAMPLES / "ev6.flp", tmp_path / "m.npy")
    assert fm.total_power == pytest.approx(9.0)
    fu, _ = read_floorplan(EXAMPLES / "ev6.flp", EXAMPLES / "gcc.ptrace", snap=False)
    assert fu.snap.count == 0


def test_read_floorplan_errors(tmp_path):
    flp = EXAMPLES / "ev6.flp"
    expect_error(lambda: read_floorplan(flp), flp, None, "needs a power file")
    expect_error(lambda: read_floorplan(flp, tmp_path / "p.txt"), tmp_path / "p.txt", None,
                 "unknown power file type '.txt'")
    expect_error(lambda: read_floorplan(tmp_path / "x.hotspot"), tmp_path / "x.hotspot", None,
                 "unknown floorplan file type")
    expect_error(lambda: read_floorplan(flp, tmp_path / "gone.ptrace"), tmp_path / "gone.ptrace",
                 None, "cannot read")
    expect_error(lambda: read_floorplan(tmp_path / "gone.flp", EXAMPLES / "gcc.ptrace"),
                 tmp_path / "gone.flp", None, "cannot read")
    expect_error(lambda: read_floorplan(EXAMPLES / "ev6.json", EXAMPLES / "gcc.ptrace"),
                 EXAMPLES / "gcc.ptrace", None, "holds its own block power")


# ---------------------------------------------------------------------- properties
NAME = st.text(string.ascii_letters + string.digits + "_.-[]", min_size=1, max_size=12)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
POSITIVE = st.floats(min_value=1e-9, max_value=1.0, allow_subnormal=False)


@st.composite
def tilings(draw):
    """A row of abutting blocks with random names, widths and powers (a valid floorplan)."""
    n = draw(st.integers(1, 12))
    names = draw(st.lists(NAME, min_size=n, max_size=n, unique=True))
    widths = np.array(draw(st.lists(st.floats(0.1, 1.0), min_size=n, max_size=n)))
    x = np.concatenate([[0.0], np.cumsum(widths)[:-1]])
    height = draw(st.floats(0.1, 1.0))
    power = draw(st.lists(st.floats(0.0, 100.0), min_size=n, max_size=n))
    power[0] = max(power[0], 1.0)  # total power must be positive
    return names, x, widths, height, np.array(power)


@ROUND_TRIP
@given(blocks=st.lists(st.tuples(NAME, FINITE, FINITE, FINITE, FINITE), min_size=1, max_size=20,
                       unique_by=lambda b: b[0]))
def test_flp_round_trip_property(tmp_path, blocks):
    names, x, y, w, h = zip(*blocks)
    f = FlpData(names, np.array(x), np.array(y), np.array(w), np.array(h), ())
    write_flp(tmp_path / "p.flp", f)
    g = read_flp(tmp_path / "p.flp")
    assert g.names == tuple(names)
    for a in ("x", "y", "width", "height"):
        np.testing.assert_array_equal(getattr(g, a), getattr(f, a))


@ROUND_TRIP
@given(data=st.data())
def test_ptrace_round_trip_property(tmp_path, data):
    names = data.draw(st.lists(NAME, min_size=1, max_size=10, unique=True))
    rows = data.draw(st.lists(st.lists(st.floats(0, 1e300), min_size=len(names),
                                       max_size=len(names)), min_size=1, max_size=5))
    write_ptrace(tmp_path / "p.ptrace", names, rows)
    p = read_ptrace(tmp_path / "p.ptrace")
    assert p.names == tuple(names)
    np.testing.assert_array_equal(p.rows, np.array(rows))


@ROUND_TRIP
@given(t=tilings(), seed=st.integers(0, 2**32 - 1))
def test_hotspot_round_trip_property(tmp_path, t, seed):
    names, x, w, height, power = t
    n = len(names)
    f = FlpData(tuple(names), x, np.zeros(n), w, np.full(n, height), ())
    perm = np.random.default_rng(seed).permutation(n)
    write_flp(tmp_path / "p.flp", f)
    write_ptrace(tmp_path / "p.ptrace", [names[i] for i in perm], power[perm])
    fp = read_hotspot(tmp_path / "p.flp", tmp_path / "p.ptrace", snap=False)
    assert fp.names == tuple(names)
    np.testing.assert_array_equal(fp.block_power, power)
    np.testing.assert_array_equal(fp.blocks.x0, x)


# Text made mostly of characters that matter to the parsers, so fuzzing reaches deep paths.
GARBAGE_TEXT = st.text(st.sampled_from(list("0123456789 \t\n\r#.-+eEinfa_,x")) | st.characters(),
                       max_size=300)


@FUZZ
@given(text=GARBAGE_TEXT)
def test_garbage_text_only_input_errors(tmp_path, text):
    p = tmp_path / "g.flp"
    p.write_text(text, encoding="utf-8", errors="surrogatepass")
    for fn in (read_flp, read_ptrace):
        try:
            fn(p)
        except InputError as e:
            assert "\n" not in str(e) and str(e).startswith(str(p))


@FUZZ
@given(blob=st.binary(max_size=300))
def test_garbage_bytes_only_input_errors(tmp_path, blob):
    p = tmp_path / "g.ptrace"
    p.write_bytes(blob)
    for fn in (read_flp, read_ptrace):
        try:
            fn(p)
        except InputError as e:
            assert "\n" not in str(e) and str(e).startswith(str(p))


@FUZZ
@given(flp=GARBAGE_TEXT, ptrace=GARBAGE_TEXT)
def test_garbage_pairs_only_input_errors(tmp_path, flp, ptrace):
    # Valid beginnings, so that the garbage reaches name matching and Floorplan validation.
    (tmp_path / "g.flp").write_text("a 1 1 0 0\nb 1 1 1 0\n" + flp, encoding="utf-8",
                                    errors="surrogatepass")
    (tmp_path / "g.ptrace").write_text("a b\n1 2\n" + ptrace, encoding="utf-8",
                                       errors="surrogatepass")
    try:
        read_hotspot(tmp_path / "g.flp", tmp_path / "g.ptrace")
    except InputError as e:
        assert "\n" not in str(e)
