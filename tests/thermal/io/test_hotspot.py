"""HotSpot .flp / .ptrace / .steady reading and writing, and the read_floorplan dispatcher."""
from __future__ import annotations

import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thermal.errors import InputError
from tests.thermal.io.helpers import EXAMPLES, FUZZ, ROUND_TRIP, expect_error, write_file
from thermal.io import (FlpData, read_floorplan, read_flp, read_flp_with_power_map, read_hotspot,
                        read_ptrace, write_flp, write_power_map, write_ptrace, write_steady)
from thermal.io import hotspot


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


# ---------------------------------------------------------------------- large files (whole-file)
# Files of _WHOLE_FILE_MIN characters or more are checked whole-file and only walked line by line
# when that finds a problem; these tests pin that both ways give the same data and messages.
LINE_BY_LINE = 1 << 62  # a _WHOLE_FILE_MIN no file reaches


def _fail(*args):
    raise AssertionError("the whole-file path should have vouched for this file")


def _flp_snapshot(f):
    return (f.names, f.lines, *(getattr(f, a).tolist() for a in ("x", "y", "width", "height")))


def _ptrace_snapshot(p):
    return p.names, p.rows.tolist(), p.header_line, p.row_lines.tolist()


def _outcome(monkeypatch, read, path, whole_file_min):
    """What ``read(path)`` gives, data or error, with the whole-file path on or off."""
    with monkeypatch.context() as m:
        m.setattr(hotspot, "_WHOLE_FILE_MIN", whole_file_min)
        try:
            got = read(path)
        except InputError as e:
            return "error", e.line, e.problem
    return _flp_snapshot(got) if isinstance(got, FlpData) else _ptrace_snapshot(got)


def _medium_flp(extra_columns):
    """A 50 x 50 tiled floorplan text with comments, blank lines, mixed separators and CRLF."""
    k, t = 50, 1e-4
    out = ["# medium floorplan", ""]
    names, lines, values = [], [], []
    for n, (j, i) in enumerate((j, i) for j in range(k) for i in range(k)):
        if n % 97 == 5:
            out.append("\t  # a comment line")
        if n % 89 == 7:
            out.append("   ")
        w, h, x, y = t * (1 + n % 3), t, i * t * 3, j * t
        fields = [f"t{i}_{j}", repr(w), f"{h:.17g}", repr(x), repr(y)]
        if extra_columns and n % 7 == 1:
            fields += ["1.75e6", "0.01"]
        if extra_columns and n % 7 == 2:
            fields += ["1.75E+6", "-.01"]
        sep = ("\t", " ", " \t ")[n % 3]
        line = sep.join(fields) + ("  # trailing, #twice" if n % 11 == 0 else "")
        out.append(line + ("\r" if n % 13 == 0 else ""))
        names.append(fields[0])
        lines.append(len(out))
        values.append((x, y, w, h))
    x, y, w, h = (list(c) for c in zip(*values))
    return "\n".join(out) + "\n", (tuple(names), tuple(lines), x, y, w, h)


@pytest.mark.parametrize("extra_columns", [False, True])
def test_medium_flp_whole_file_same_data(tmp_path, monkeypatch, extra_columns):
    text, expected = _medium_flp(extra_columns)
    assert len(text) > hotspot._WHOLE_FILE_MIN
    p = write(tmp_path, "m.flp", text)
    assert _outcome(monkeypatch, read_flp, p, LINE_BY_LINE) == expected
    monkeypatch.setattr(hotspot, "_flp_fields_checked", _fail)
    f = read_flp(p)
    assert _flp_snapshot(f) == expected
    assert all(getattr(f, a).dtype == np.float64 for a in ("x", "y", "width", "height"))


def test_medium_ptrace_whole_file_same_data(tmp_path, monkeypatch):
    text, (names, *_) = _medium_flp(False)
    rng = np.random.default_rng(5)
    perm = rng.permutation(len(names))
    rows = rng.random((4, len(names))) * 3
    rows[1, :7] = [0.0, 1.0, 1e-300, 2.5, 1e300, 0.1, 7.0]
    header = "\t".join(names[i] for i in perm)
    shown = [list(map(repr, r)) for r in rows[:, perm].tolist()]
    body = ["# trace", header, "", *(" ".join(r) for r in shown[:2]), "# gap",
            *("\t".join(r) + " # row" for r in shown[2:])]
    p = write(tmp_path, "m.ptrace", "\n".join(body))
    expected = (tuple(names[i] for i in perm), rows[:, perm].tolist(), 2, [4, 5, 7, 8])
    assert _outcome(monkeypatch, read_ptrace, p, LINE_BY_LINE) == expected
    monkeypatch.setattr(hotspot, "_trace_fields_checked", _fail)
    assert _ptrace_snapshot(read_ptrace(p)) == expected
    matched = read_ptrace(p, names)
    np.testing.assert_array_equal(matched.rows, rows)
    assert matched.names == names


def test_medium_flp_non_ascii_name_reads_line_by_line(tmp_path, monkeypatch):
    text, expected = _medium_flp(True)
    assert "\nt3_7 " in text
    text = text.replace("\nt3_7 ", "\ntuile_é ")
    p = write(tmp_path, "u.flp", text)
    f = read_flp(p)
    assert "tuile_é" in f.names and f.names.index("tuile_é") == expected[0].index("t3_7")
    assert _flp_snapshot(f)[1:] == expected[1:]


def _tiles(n):
    return [f"t{i} 1e-4 1e-4 {i}e-4 0" for i in range(n)]


DEEP_FLP = [
    ("t1999 1e-4 oops 0 0", "height of block 't1999' is not a number: 'oops'"),
    ("t1999 1e-4 1e-4 0", "expected 'name width height left-x bottom-y', got 4 fields"),
    ("t1999 1e-4 1e-4 0 0 1 2 3", "8 fields: expected 'name width height left-x bottom-y "
     "[specific-heat resistivity]'"),
    ("t0 1e-4 1e-4 0 0", "duplicate block name 't0' (also on line 1)"),
    ("t\x071999 1e-4 1e-4 0 0", "block name 't\\x071999' contains a control character"),
    ("t1999 1e-4 1e-4 0 0 1.75e6 r", "resistivity of block 't1999' is not a number: 'r'"),
    ("t1999 1e-4 1e-4 0 0 heat", "specific heat of block 't1999' is not a number: 'heat'"),
    ("t1999 1e-4 1e-4 0 inf", "bottom-y of block 't1999' is not finite (inf)"),
    ("t1999 1e-4 1e-4 1_0 0", "left-x of block 't1999' is not a number: '1_0'"),
    ("t1999\x0c1e-4 1e-4 0 0 # form feed: a separator", None),
]


@pytest.mark.parametrize("bad,problem", DEEP_FLP)
def test_error_deep_in_large_flp_as_in_small(tmp_path, bad, problem):
    lines = _tiles(2500)
    lines[1999] = bad
    big = write(tmp_path, "big.flp", "\n".join(lines) + "\n")
    small = write(tmp_path, "small.flp", f"{lines[0]}\n{bad}\n")
    if problem is None:
        assert read_flp(big).lines[1999] == 2000 and read_flp(small).names[1] == "t1999"
        return
    for path, line in ((big, 2000), (small, 2)):
        with pytest.raises(InputError) as info:
            read_flp(path)
        assert (info.value.line, info.value.problem) == (line, problem)


@pytest.mark.parametrize("bad,line", [
    ({1000: "t999 1e-4 x 0 0", 2000: "t1999 1 1 1"}, 2000),  # layout before numbers
    ({1200: "t1199 1 1 0 0 1 r", 2000: "t0 1 1 0 0"}, 1200),
    ({1500: "t1499 1 nan 0 0", 2000: "t1999 1 1 0 x"}, 2000),  # non-numbers before non-finite
    ({1500: "t1499 1 -inf 0 0", 2000: "t1999 1 1 0 nan"}, 1500),
    ({2000: "t1 1 1 0 0", 2400: "t\x7f 1 1 0 0"}, 2000),
])
def test_first_of_several_errors_in_large_flp(tmp_path, monkeypatch, bad, line):
    lines = _tiles(2500)
    for at, text in bad.items():
        lines[at - 1] = text
    p = write(tmp_path, "several.flp", "\n".join(lines))
    got = _outcome(monkeypatch, read_flp, p, hotspot._WHOLE_FILE_MIN)
    assert got[:2] == ("error", line)
    assert got == _outcome(monkeypatch, read_flp, p, LINE_BY_LINE)


@pytest.mark.parametrize("row,problem", [
    ("1 " * 29, "29 values for the 30 blocks named in the header (line 2)"),
    ("1 " * 29 + "x", "power of block 'b29' is not a number: 'x'"),
    ("-1 " + "1 " * 29, "power of block 'b0' is negative (-1)"),
    ("1 " * 29 + "NaN", "power of block 'b29' is not finite (NaN)"),
])
def test_error_deep_in_large_ptrace(tmp_path, row, problem):
    lines = ["# trace", " ".join(f"b{i}" for i in range(30))] + ["0.5 " * 30] * 2500
    lines[1999] = row
    p = write(tmp_path, "big.ptrace", "\n".join(lines))
    small = write(tmp_path, "small.ptrace", "\n".join(lines[:2] + [row]))
    for path, line in ((p, 2000), (small, 3)):
        with pytest.raises(InputError) as info:
            read_ptrace(path)
        assert (info.value.line, info.value.problem) == (line, problem)


def test_duplicate_deep_in_large_ptrace_header(tmp_path):
    names = [f"b{i}" for i in range(3000)]
    names[2999] = "b0"
    p = write(tmp_path, "dup.ptrace", " ".join(names) + "\n" + "1 " * 3000 + "\n")
    expect_error(lambda: read_ptrace(p), p, 1,
                 "duplicate block name 'b0' in the header (columns 1 and 3000)")


@pytest.mark.parametrize("content,line,fragment", BAD_FLP)
def test_bad_flp_whole_file(tmp_path, monkeypatch, content, line, fragment):
    monkeypatch.setattr(hotspot, "_WHOLE_FILE_MIN", 0)
    test_bad_flp(tmp_path, content, line, fragment)


@pytest.mark.parametrize("content,line,fragment", BAD_PTRACE)
def test_bad_ptrace_whole_file(tmp_path, monkeypatch, content, line, fragment):
    monkeypatch.setattr(hotspot, "_WHOLE_FILE_MIN", 0)
    test_bad_ptrace(tmp_path, content, line, fragment)


# Lines shaped like floorplan rows and trace rows, with the problems the readers look for.
FIELD = st.sampled_from(["a", "b", "c", "d", "0", "1", "2.5", "-1", "1e-3", ".5", "1.", "nan",
                         "-inf", "Infinity", "1_0", "0x1", "e", "é", "a\x07", "\x7f", "#", "#x"])
SEPARATOR = st.sampled_from([" ", "\t", "  \t", " \r", "\x0c", "\x1f", "\u2003"])
ROW = st.builds(lambda fields, sep, end: sep.join(fields) + end,
                st.lists(FIELD, max_size=8), SEPARATOR, st.sampled_from(["", "\r", " # c", "#"]))


@FUZZ
@given(rows=st.lists(ROW, max_size=12))
def test_whole_file_path_agrees_with_line_by_line(tmp_path, monkeypatch, rows):
    p = tmp_path / "d.txt"
    p.write_text("\n".join(rows), encoding="utf-8")
    for read in (read_flp, read_ptrace):
        assert (_outcome(monkeypatch, read, p, 0)
                == _outcome(monkeypatch, read, p, LINE_BY_LINE))
