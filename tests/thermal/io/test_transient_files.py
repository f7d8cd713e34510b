"""Transient files: HotSpot .ttrace, initial block temperatures (.init/.steady), peak.csv, and
the atomic streaming file behind the writers."""
from __future__ import annotations

import csv
import gc
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.thermal.io.helpers import EXAMPLES, ROUND_TRIP, expect_error, write_file
from thermal.io import read_flp, transient_files, write_steady
from thermal.io.transient_files import (PEAK_COLUMNS, AtomicTextFile, PeakCsvWriter, TtraceWriter,
                                        read_block_temperatures, read_peak_csv, read_ttrace)

EV6 = read_flp(EXAMPLES / "ev6.flp").names

# ---------------------------------------------------------------------- real HotSpot output
# HotSpot 7.0 (/work/shared/tools/hotspot-7.0, plain `make`), examples/example1 with the first
# 5 rows of gcc.ptrace:
#   hotspot -c example.config -f ev6.flp -p gcc5.ptrace -materials_file example.materials
#           -model_type block -steady_file gcc.steady -o gcc.ttrace
# The files are rebuilt byte for byte below from their fields (HotSpot writes "%s\t%.2f\n" and
# tab-joined "%.2f" rows); the .ttrace header is the power trace's, which is ev6.flp's order.
_GCC_TTRACE_ROWS = """
    318.70 318.58 318.84 326.95 332.00 331.31 331.79 331.18 323.49 323.25 323.02 324.77 324.92
    324.48 324.70 324.84 324.65 322.99 323.36 319.78 320.37 324.63 323.67 344.50 345.50 333.14
    322.48 334.77 325.33 326.23
    318.60 318.48 318.72 324.32 327.34 326.97 327.32 326.97 322.05 321.91 321.71 322.83 322.98
    322.61 322.78 322.91 322.79 321.61 321.91 319.44 319.87 322.68 322.06 335.21 335.81 328.26
    321.36 329.05 323.21 323.79
    318.67 318.53 318.85 324.07 331.45 324.91 325.21 325.18 322.72 322.78 322.55 322.57 322.77
    322.58 322.75 322.90 322.82 321.66 321.99 319.55 320.00 322.75 322.45 337.01 337.67 328.34
    321.56 331.77 323.83 324.45
    318.71 318.53 318.88 324.81 328.66 327.67 328.07 327.79 322.67 322.53 322.29 323.14 323.35
    322.86 323.04 323.21 323.12 321.80 322.15 319.57 320.05 323.04 322.52 336.56 337.19 329.10
    321.80 330.27 323.83 324.45
    318.76 318.55 318.94 324.85 328.38 327.52 327.91 327.63 322.68 322.54 322.29 323.21 323.41
    322.94 323.12 323.29 323.20 321.88 322.24 319.65 320.14 323.09 322.52 336.14 336.74 328.94
    321.86 330.03 323.83 324.44
""".split()
GCC_TTRACE = "\t".join(EV6) + "\n" + "".join(
    "\t".join(_GCC_TTRACE_ROWS[i:i + 30]) + "\n" for i in range(0, len(_GCC_TTRACE_ROWS), 30))

_GCC_STEADY = """
    L2_left 324.91  L2 324.37  L2_right 325.28  Icache 332.05  Dcache 336.73  Bpred_0 334.59
    Bpred_1 335.07  Bpred_2 334.88  DTB_0 329.89  DTB_1 329.77  DTB_2 329.41  FPAdd_0 330.16
    FPAdd_1 330.48  FPReg_0 329.86  FPReg_1 330.08  FPReg_2 330.34  FPReg_3 330.26
    FPMul_0 328.69  FPMul_1 329.17  FPMap_0 326.19  FPMap_1 326.81  IntMap 330.10  IntQ 329.55
    IntReg_0 344.65  IntReg_1 345.29  IntExec 336.54  FPQ 328.87  LdStQ 338.25  ITB_0 331.13
    ITB_1 331.79  iface_L2_left 324.86  iface_L2 324.33  iface_L2_right 325.22
    iface_Icache 331.20  iface_Dcache 335.22  iface_Bpred_0 333.22  iface_Bpred_1 333.67
    iface_Bpred_2 333.56  iface_DTB_0 329.51  iface_DTB_1 329.42  iface_DTB_2 329.07
    iface_FPAdd_0 329.52  iface_FPAdd_1 329.85  iface_FPReg_0 329.21  iface_FPReg_1 329.42
    iface_FPReg_2 329.67  iface_FPReg_3 329.62  iface_FPMul_0 328.20  iface_FPMul_1 328.65
    iface_FPMap_0 326.06  iface_FPMap_1 326.62  iface_IntMap 329.45  iface_IntQ 329.09
    iface_IntReg_0 341.53  iface_IntReg_1 342.04  iface_IntExec 335.00  iface_FPQ 328.56
    iface_LdStQ 336.35  iface_ITB_0 330.50  iface_ITB_1 331.07  hsp_L2_left 324.65
    hsp_L2 324.14  hsp_L2_right 324.98  hsp_Icache 327.51  hsp_Dcache 328.68  hsp_Bpred_0 327.31
    hsp_Bpred_1 327.62  hsp_Bpred_2 327.84  hsp_DTB_0 327.84  hsp_DTB_1 327.91  hsp_DTB_2 327.58
    hsp_FPAdd_0 326.78  hsp_FPAdd_1 327.14  hsp_FPReg_0 326.39  hsp_FPReg_1 326.52
    hsp_FPReg_2 326.77  hsp_FPReg_3 326.88  hsp_FPMul_0 326.06  hsp_FPMul_1 326.44
    hsp_FPMap_0 325.46  hsp_FPMap_1 325.82  hsp_IntMap 326.62  hsp_IntQ 327.07
    hsp_IntReg_0 327.99  hsp_IntReg_1 327.98  hsp_IntExec 328.30  hsp_FPQ 327.23
    hsp_LdStQ 328.16  hsp_ITB_0 327.78  hsp_ITB_1 327.95  hsink_L2_left 324.50  hsink_L2 324.05
    hsink_L2_right 324.77  hsink_Icache 325.96  hsink_Dcache 326.31  hsink_Bpred_0 325.70
    hsink_Bpred_1 325.88  hsink_Bpred_2 326.10  hsink_DTB_0 326.23  hsink_DTB_1 326.25
    hsink_DTB_2 326.03  hsink_FPAdd_0 325.57  hsink_FPAdd_1 325.81  hsink_FPReg_0 325.40
    hsink_FPReg_1 325.47  hsink_FPReg_2 325.64  hsink_FPReg_3 325.71  hsink_FPMul_0 325.26
    hsink_FPMul_1 325.49  hsink_FPMap_0 325.00  hsink_FPMap_1 325.20  hsink_IntMap 325.54
    hsink_IntQ 325.68  hsink_IntReg_0 325.44  hsink_IntReg_1 325.35  hsink_IntExec 325.97
    hsink_FPQ 325.94  hsink_LdStQ 326.04  hsink_ITB_0 326.12  hsink_ITB_1 326.14  inode_0 323.08
    inode_1 323.22  inode_2 324.51  inode_3 322.74  inode_4 323.06  inode_5 323.20
    inode_6 324.46  inode_7 322.72  inode_8 322.19  inode_9 322.31  inode_10 323.34
    inode_11 321.91
""".split()
GCC_STEADY = "".join(f"{n}\t{v}\n" for n, v in zip(_GCC_STEADY[0::2], _GCC_STEADY[1::2]))

# An excerpt of examples/example3's .steady (grid model, -grid_layer_file example.lcf, 16 x 16):
# every layer of the layer file is prefixed layer_<n>_, the package layers hsp_ and hsink_.
_LCF_STEADY = """
    layer_0_Unit1 352.69  layer_0_Unit2 346.21  layer_0_Unit3 357.55  layer_1_Unit1 352.05
    layer_1_Unit2 345.42  layer_1_Unit3 356.66  layer_2_L2_left 346.31  layer_2_L2 346.23
    layer_2_L2_right 350.04  layer_3_L2_left 345.53  hsp_L2_left 344.63  hsink_L2_left 330.61
    inode_0 329.96  inode_1 330.30  inode_11 327.33
""".split()
LCF_STEADY = "".join(f"{n}\t{v}\n" for n, v in zip(_LCF_STEADY[0::2], _LCF_STEADY[1::2]))

PACKAGE = ("", "iface_", "hsp_", "hsink_")
EV6_NODES = [p + n for p in PACKAGE for n in EV6]


def leftovers(folder):
    """Every file in ``folder`` (temporary files start with a dot)."""
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------------- atomic file
def test_atomic_file_appears_only_on_close(tmp_path):
    target = tmp_path / "out.txt"
    f = AtomicTextFile(target)
    f.write("one\n")
    assert not target.exists() and f.temp_path.exists() and f.temp_path.parent == tmp_path
    assert f.temp_path.name.startswith(".out.txt.") and f.temp_path.name.endswith(".tmp")
    f.close()
    f.close()  # idempotent
    assert target.read_text() == "one\n" and leftovers(tmp_path) == ["out.txt"] and f.closed
    with pytest.raises(ValueError, match="closed"):
        f.write("two\n")


def test_atomic_file_exception_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with AtomicTextFile(target) as f:
            f.write("partial")
            raise RuntimeError("solver failed")
    assert leftovers(tmp_path) == []
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with AtomicTextFile(target) as f:
            f.write("new")
            raise KeyboardInterrupt
    assert leftovers(tmp_path) == ["out.txt"] and target.read_text() == "old"
    with AtomicTextFile(target) as f:
        f.write("new")
    assert target.read_text() == "new"


def test_atomic_file_dropped_without_close_leaves_nothing(tmp_path):
    f = AtomicTextFile(tmp_path / "out.txt")
    f.write("x")
    del f
    gc.collect()
    assert leftovers(tmp_path) == []


def test_atomic_file_failed_rename_cleans_up(tmp_path):
    (tmp_path / "out.txt").mkdir()  # a folder where the file should go
    f = AtomicTextFile(tmp_path / "out.txt")
    f.write("x")
    with pytest.raises(OSError):
        f.close()
    assert leftovers(tmp_path) == ["out.txt"] and f.closed


def test_atomic_file_permissions_follow_the_umask(tmp_path):
    umask = os.umask(0o027)
    try:
        with AtomicTextFile(tmp_path / "out.txt") as f:
            f.write("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o640


# ---------------------------------------------------------------------- .ttrace
def test_read_hotspot_ttrace(tmp_path):
    names, rows = read_ttrace(write_file(tmp_path, "gcc.ttrace", GCC_TTRACE))
    assert names == EV6 and rows.shape == (5, 30)
    assert rows[0, 0] == 318.70 and rows[-1, -1] == 324.44
    assert rows[0, EV6.index("IntReg_1")] == 345.50  # the hottest block, kelvin


def test_ttrace_writer_reproduces_hotspot_bytes(tmp_path):
    names, rows = read_ttrace(write_file(tmp_path, "gcc.ttrace", GCC_TTRACE))
    with TtraceWriter(tmp_path / "ours.ttrace", names, decimals=2) as w:
        for r in rows:
            w.write_row(r)
    assert (tmp_path / "ours.ttrace").read_text() == GCC_TTRACE
    assert w.rows_written == 5


def test_ttrace_round_trip_default_and_exact(tmp_path):
    rng = np.random.default_rng(1)
    rows = 300 + 60 * rng.random((7, 4))
    for decimals, tol in ((6, 5e-7), (None, 0.0)):
        p = tmp_path / f"{decimals}.ttrace"
        with TtraceWriter(p, ["a", "b_1", "c", "d"], decimals=decimals) as w:
            w.write_rows(rows[:3])
            for r in rows[3:]:
                w.write_row(list(r))
        names, back = read_ttrace(p)
        assert names == ("a", "b_1", "c", "d")
        np.testing.assert_allclose(back, rows, rtol=0, atol=tol)
    assert p.read_text().split("\n")[0] == "a\tb_1\tc\td"


def test_ttrace_header_only(tmp_path):
    with TtraceWriter(tmp_path / "t.ttrace", ["a", "b"]):
        pass
    names, rows = read_ttrace(tmp_path / "t.ttrace")
    assert names == ("a", "b") and rows.shape == (0, 2)


def test_ttrace_large_takes_the_whole_file_path(tmp_path):
    names = [f"b{i}" for i in range(40)]
    rows = 320 + np.arange(200 * 40).reshape(200, 40) * 1e-3
    with TtraceWriter(tmp_path / "big.ttrace", names) as w:
        w.write_rows(rows)
    assert transient_files._trace_fields_fast((tmp_path / "big.ttrace").read_text()) is not None
    back_names, back = read_ttrace(tmp_path / "big.ttrace")
    assert back_names == tuple(names)
    np.testing.assert_allclose(back, rows, atol=5e-7)
    # A bad value deep in a big file is still reported at its line and block.
    text = (tmp_path / "big.ttrace").read_text().split("\n")
    fields = text[151].split("\t")
    fields[1] = "nan"
    text[151] = "\t".join(fields)
    p = write_file(tmp_path, "bad.ttrace", "\n".join(text))
    expect_error(lambda: read_ttrace(p), p, 152, "temperature of block 'b1'", "nan")


@given(st.lists(st.lists(st.floats(1.0, 1e4), min_size=3, max_size=3), max_size=5))
@ROUND_TRIP
def test_ttrace_round_trip_fuzz(tmp_path, rows):
    p = tmp_path / "f.ttrace"
    with TtraceWriter(p, ["x", "y", "z"], decimals=None) as w:
        for r in rows:
            w.write_row(r)
    names, back = read_ttrace(p)
    assert names == ("x", "y", "z")
    np.testing.assert_array_equal(back, np.array(rows).reshape(-1, 3))


def test_ttrace_writer_rejects_bad_input(tmp_path):
    for names in ([], ["a", "a"], ["a b"], ["#a"]):
        with pytest.raises(ValueError):
            TtraceWriter(tmp_path / "t.ttrace", names)
    with pytest.raises(ValueError, match="decimals"):
        TtraceWriter(tmp_path / "t.ttrace", ["a"], decimals=-1)
    assert leftovers(tmp_path) == []  # nothing opened for a rejected writer
    for row, match in (([300.0], "1 temperatures for 2 blocks"),
                       ([300.0, float("nan")], "block 'b'"), ([300.0, -1.0], "positive")):
        with pytest.raises(ValueError, match=match):
            with TtraceWriter(tmp_path / "t.ttrace", ["a", "b"]) as w:
                w.write_row([310.0, 311.0])
                w.write_row(row)
        assert leftovers(tmp_path) == []


def test_ttrace_writer_exception_inside_with_leaves_no_file(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with TtraceWriter(tmp_path / "t.ttrace", ["a"]) as w:
            w.write_row([300.0])
            raise ZeroDivisionError
    assert leftovers(tmp_path) == [] and w.closed


@pytest.mark.parametrize("content,line,fragments", [
    ("", None, ["empty temperature trace"]),
    ("# only a comment\n", None, ["empty temperature trace"]),
    ("a\tb\ta\n1\t2\t3\n", 1, ["duplicate block name 'a'", "columns 1 and 3"]),
    ("a\tb\n300\t301\n300\n", 3, ["1 value for the 2 blocks", "(line 1)"]),
    ("a\tb\n300\t30x1\n", 2, ["temperature of block 'b' is not a number: '30x1'"]),
    ("a\tb\n300\tinf\n", 2, ["block 'b'", "finite and positive", "inf"]),
    ("a\tb\n300\t-4\n", 2, ["block 'b'", "got -4"]),
    ("a\tb\n0\t300\n", 2, ["block 'a'", "got 0"]),
    ("a\tb\n300\t301\n\0\0", 3, ["binary data"]),
    (b"a\tb\n300\t\xff301\n", 2, ["not UTF-8"]),
])
def test_ttrace_errors(tmp_path, content, line, fragments):
    p = write_file(tmp_path, "bad.ttrace", content)
    expect_error(lambda: read_ttrace(p), p, line, *fragments)


def test_ttrace_missing_file(tmp_path):
    p = tmp_path / "none.ttrace"
    expect_error(lambda: read_ttrace(p), p, None, "cannot read the file")


# ---------------------------------------------------------------------- .init / .steady
def test_hotspot_block_model_steady_as_init(tmp_path):
    p = write_file(tmp_path, "gcc.init", GCC_STEADY)
    t = read_block_temperatures(p, EV6_NODES)
    assert list(t) == EV6_NODES  # the expected order, whatever the file's
    assert t["L2_left"] == 324.91 and t["hsink_ITB_1"] == 326.14 and t["iface_IntReg_1"] == 342.04
    die = read_block_temperatures(p, EV6[::-1])  # a subset, in any order
    assert list(die) == list(EV6[::-1]) and die["IntReg_1"] == 345.29
    # The 12 internal package nodes are HotSpot's: ignored unless asked for, or forbidden.
    assert read_block_temperatures(p, ["inode_11"]) == {"inode_11": 321.91}
    expect_error(lambda: read_block_temperatures(p, EV6_NODES, allow_extra=False), p, 121,
                 "'inode_0' is not one of the 120 nodes expected")


def test_hotspot_grid_model_layer_prefixes(tmp_path):
    p = write_file(tmp_path, "ex3.steady", LCF_STEADY)
    t = read_block_temperatures(p, ["layer_0_Unit1", "layer_2_L2", "hsp_L2_left", "inode_1"])
    assert t == {"layer_0_Unit1": 352.69, "layer_2_L2": 346.23, "hsp_L2_left": 344.63,
                 "inode_1": 330.30}
    # Unprefixed names against a layer-file run: the message says where they are.
    expect_error(lambda: read_block_temperatures(p, ["Unit1", "Unit2"]), p, None,
                 "no temperature for 2 nodes: 'Unit1', 'Unit2'", "the file has 'layer_0_Unit1'")


def test_thermesh_steady_round_trip(tmp_path):
    names = [f"{p}blk{i}" for p in PACKAGE for i in range(3)]
    values = 318.15 + np.arange(len(names)) * 0.123456789
    write_steady(tmp_path / "hotspot.steady", names, values)
    t = read_block_temperatures(tmp_path / "hotspot.steady", names)
    np.testing.assert_allclose(list(t.values()), values, atol=5e-7)


def test_init_tolerates_what_hotspot_writes_or_skips(tmp_path):
    # Comments, blank lines, CRLF, any white space, trailing blank lines, no final newline.
    p = write_file(tmp_path, "x.init", "# init\r\n\r\nb 310.5 # hot\r\n  a\t\t300\r\n\n\n")
    assert read_block_temperatures(p, ["a", "b"]) == {"a": 300.0, "b": 310.5}
    p = write_file(tmp_path, "y.init", "a 3.0e2")
    assert read_block_temperatures(p, ["a"]) == {"a": 300.0}


def test_init_large_file_fast_path_agrees(tmp_path):
    names = [f"{p}u{i}" for p in PACKAGE for i in range(2000)]
    values = 300 + np.arange(len(names)) % 97 * 0.25
    write_steady(tmp_path / "big.steady", names, values)
    assert transient_files._node_fields_fast((tmp_path / "big.steady").read_text()) is not None
    t = read_block_temperatures(tmp_path / "big.steady", names)
    np.testing.assert_array_equal(list(t.values()), values)
    # A problem near the end of a big file is found at its line.
    text = (tmp_path / "big.steady").read_text().replace("hsink_u1998\t", "hsink_u1997\t")
    p = write_file(tmp_path, "dup.steady", text)
    expect_error(lambda: read_block_temperatures(p, names[:10]), p, 7999,
                 "duplicate node 'hsink_u1997' (also on line 7998)")


@pytest.mark.parametrize("content,line,fragments", [
    ("a 300\nb 301\n", None, ["no temperature for 1 node: 'c'"]),
    ("a 300\nb 301\na 302\nc 1\n", 3, ["duplicate node 'a' (also on line 1)"]),
    ("a 300\nb nan\nc 1\n", 2, ["temperature of 'b' must be finite and positive", "nan"]),
    ("a 300\nb -inf\nc 1\n", 2, ["temperature of 'b'", "-inf"]),
    ("a 300\nb 301\nc -5.0\n", 3, ["temperature of 'c' must be finite and positive (kelvin)",
                                   "got -5.0"]),
    ("a 300\nb 301\nc 0\n", 3, ["positive", "got 0"]),
    ("a 300\nb 3O1\nc 1\n", 2, ["temperature of 'b' is not a number: '3O1'"]),
    ("a 300\nb 301 K\nc 1\n", 2, ["expected 'name temperature', got 3 fields"]),
    ("a 300\nb\nc 1\n", 2, ["got 1 field"]),
    ("a\tb\tc\n300\t301\t302\n", 1, ["got 3 fields", "trace's header"]),
    ("a 300\nb 301\n\0\0\0\0", 3, ["binary data (NUL byte)"]),
    (b"a 300\n\x89PNG\r\n", 2, ["not UTF-8"]),
    ("", None, ["no temperatures", "empty"]),
    ("# nothing\n\n", None, ["no temperatures"]),
    ("a 300\nb\x07 301\nc 1\n", 2, ["control character"]),
])
def test_init_errors(tmp_path, content, line, fragments):
    p = write_file(tmp_path, "bad.init", content)
    expect_error(lambda: read_block_temperatures(p, ["a", "b", "c"]), p, line, *fragments)


def test_init_missing_file_and_bad_expected_names(tmp_path):
    p = tmp_path / "none.init"
    expect_error(lambda: read_block_temperatures(p, ["a"]), p, None, "cannot read the file")
    with pytest.raises(ValueError, match="unique"):
        read_block_temperatures(write_file(tmp_path, "a.init", "a 300\n"), ["a", "a"])


# ---------------------------------------------------------------------- peak.csv
def test_peak_csv_round_trip(tmp_path):
    p = tmp_path / "peak.csv"
    with PeakCsvWriter(p) as w:
        w.write_row(0.0, 318.15, 0.0, 0.0, 0, None)
        w.write_row(1e-4, 345.123456789, 0.0123456789, 3.3e-3, 0, "IntReg_1")
        w.write_row(np.float64(2e-4), np.float32(350.5), 1, 2, np.int64(2), "odd,name")
    assert w.rows_written == 3
    lines = p.read_text().split("\n")
    assert lines[0] == ",".join(PEAK_COLUMNS) == "time_s,temperature_K,x,y,layer,block"
    assert lines[1] == "0.0,318.150000,0.0,0.0,0," and lines[2].startswith("0.0001,345.123457,")
    assert lines[3].endswith(',2,"odd,name"') and lines[4] == "" and len(lines) == 5
    with open(p, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["block"] for r in rows] == ["", "IntReg_1", "odd,name"]
    back = read_peak_csv(p)
    assert len(back) == 3 and back.block == (None, "IntReg_1", "odd,name")
    np.testing.assert_array_equal(back.time_s, [0.0, 1e-4, 2e-4])
    np.testing.assert_array_equal(back.x, [0.0, 0.0123456789, 1.0])
    np.testing.assert_array_equal(back.layer, [0, 0, 2])
    np.testing.assert_allclose(back.temperature_K, [318.15, 345.123457, 350.5])


def test_peak_csv_atomic_and_bad_rows(tmp_path):
    p = tmp_path / "peak.csv"
    with pytest.raises(RuntimeError):
        with PeakCsvWriter(p) as w:
            w.write_row(0.0, 318.15, 0.0, 0.0, 0, "a")
            raise RuntimeError
    assert leftovers(tmp_path) == []
    for args, match in (((float("nan"), 300, 0, 0, 0, "a"), "finite"),
                        ((0, -1, 0, 0, 0, "a"), "positive"), ((0, 300, 0, 0, -1, "a"), "layer"),
                        ((0, 300, 0, 0, 1.5, "a"), "layer"),
                        ((0, 300, 0, 0, 0, "a\nb"), "control")):
        with pytest.raises(ValueError, match=match):
            with PeakCsvWriter(p) as w:
                w.write_row(*args)
        assert leftovers(tmp_path) == []
    with PeakCsvWriter(p):  # header only
        pass
    assert len(read_peak_csv(p)) == 0


@pytest.mark.parametrize("content,line,fragments", [
    ("", 1, ["expected the header"]),
    ("time,temperature,x,y,layer,block\n", 1, ["expected the header 'time_s,temperature_K"]),
    ("time_s,temperature_K,x,y,layer,block\n0,300,0,0,0\n", 2, ["5 fields: expected 6"]),
    ("time_s,temperature_K,x,y,layer,block\n0,300,0,0,0,a\n1,abc,0,0,0,a\n", 3,
     ["temperature_K is not a finite number: 'abc'"]),
    ("time_s,temperature_K,x,y,layer,block\n0,300,nan,0,0,a\n", 2, ["x is not a finite number"]),
    ("time_s,temperature_K,x,y,layer,block\n0,-3,0,0,0,a\n", 2, ["must be positive"]),
    ("time_s,temperature_K,x,y,layer,block\n0,300,0,0,-1,a\n", 2, ["layer is not a non-negative"]),
    ("time_s,temperature_K,x,y,layer,block\n0,300,0,0,0,a\n\0", 3, ["binary data"]),
])
def test_peak_csv_errors(tmp_path, content, line, fragments):
    p = write_file(tmp_path, "peak.csv", content)
    expect_error(lambda: read_peak_csv(p), p, line, *fragments)
