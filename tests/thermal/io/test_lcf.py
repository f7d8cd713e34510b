"""HotSpot layer configuration files (.lcf) and the .flp 6th/7th columns they use."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.thermal.io.helpers import EXAMPLES, FEWER, expect_error, write_file
from thermal.errors import InputError
from thermal.io import hotspot
from thermal.io.hotspot import FlpData, read_flp, read_ptrace, write_flp
from thermal.io.hotspot_config import read_hotspot_config, read_materials
from thermal.io.lcf import LCF_PACKAGE_KEYS, layer_floorplan, read_lcf
from thermal.geometry.stack import HOTSPOT_DEFAULTS, Material

HOTSPOT = Path(__file__).resolve().parents[2] / "data" / "hotspot"
EX3 = HOTSPOT / "example3"
PACKAGE = EXAMPLES / "package"
write = write_file
LINE_BY_LINE = 1 << 62


# ---------------------------------------------------------------------- HotSpot's example3
def test_example3_gives_the_layers_hotspot_simulates():
    config = read_hotspot_config(EX3 / "example.config")
    materials = read_materials(EX3 / "example.materials")
    stack = read_lcf(EX3 / "example.lcf", EX3 / "example.ptrace", materials, config)
    # 4 LCF layers + DEFAULT_PACK_LAYERS (spreader, sink): temperature_grid.c:857-889.
    assert [layer.name for layer in stack.layers] == [
        "layer_0", "layer_1", "layer_2", "layer_3", "spreader", "sink"]
    got = [(l.thickness, l.conductivity, l.conductivity_z, l.heat_capacity, l.power, l.side)
           for l in stack.layers]
    assert got == [
        (0.00015, 100.0, 100.0, 1.75e6, True, None),   # silicon, resistivity 0.01
        (2.0e-05, 4.0, 4.0, 4e6, False, None),         # TIM, resistivity 0.25
        (0.00015, 100.0, 100.0, 1.75e6, True, None),
        (2.0e-05, 4.0, 4.0, 4e6, False, None),
        (0.001, 400.0, 400.0, 3.55e6, False, 0.03),    # -material_spreader copper
        (0.0069, 400.0, 400.0, 3.55e6, False, 0.06),   # -material_sink copper
    ]
    assert [l.material for l in stack.layers[4:]] == ["copper", "copper"]
    assert stack.die == (0.0, 0.0, 0.016, 0.016) and stack.source == str(EX3 / "example.lcf")
    assert stack.r_convec == 0.1 and stack.ambient == 318.15
    assert stack.sink_htc == pytest.approx(1 / (0.1 * 0.06 ** 2))
    # The die and TIM keys are not used under an LCF (populate_default_layers is skipped).
    for key in ("t_chip", "material_chip", "t_interface", "k_interface", "p_interface",
                "grid_rows", "sampling_intvl"):
        assert key in stack.ignored
    assert not set(stack.ignored) & set(LCF_PACKAGE_KEYS)
    # Power: the trace's mean, per block of each power layer; no floorplan on the TIMs.
    trace = read_ptrace(EX3 / "example.ptrace")
    fp0, fp2 = stack.layers[0].floorplan, stack.layers[2].floorplan
    assert fp0.names == ("Unit1", "Unit2", "Unit3") and len(fp2.names) == 18
    column = dict(zip(trace.names, trace.mean))
    np.testing.assert_array_equal(fp0.block_power, [column[n] for n in fp0.names])
    np.testing.assert_array_equal(fp2.block_power, [column[n] for n in fp2.names])
    assert fp0.total_power + fp2.total_power == pytest.approx(trace.mean.sum())
    assert stack.layers[1].floorplan is None and stack.layers[3].floorplan is None
    assert stack.homogeneous and stack.power_layers == [0, 2]


def test_example3_without_config_takes_hotspot_defaults():
    stack = read_lcf(EX3 / "example.lcf", EX3 / "example.ptrace")
    spreader, sink = stack.layers[4:]
    assert (spreader.conductivity, spreader.thickness, spreader.side) == (
        HOTSPOT_DEFAULTS["k_spreader"], HOTSPOT_DEFAULTS["t_spreader"], HOTSPOT_DEFAULTS["s_spreader"])
    assert (sink.heat_capacity, sink.side) == (HOTSPOT_DEFAULTS["p_sink"], HOTSPOT_DEFAULTS["s_sink"])
    assert stack.ignored == ()


def test_without_power_the_layers_carry_zero_watts():
    stack = read_lcf(EX3 / "example.lcf")
    assert [l.floorplan.total_power for l in stack.layers if l.power] == [0.0, 0.0]
    assert stack.layers[0].floorplan.power_source == "<no power>"


# ---------------------------------------------------------------------- examples/package
def test_two_die_example():
    materials = read_materials(PACKAGE / "hotspot.materials")
    config = read_hotspot_config(PACKAGE / "hotspot.config")
    stack = read_lcf(PACKAGE / "two_die.lcf", PACKAGE / "two_die.ptrace", materials, config)
    names = [l.name for l in stack.layers]
    assert names == ["layer_0", "layer_1", "layer_2", "layer_3", "spreader", "sink"]
    top, bond, bottom, tim = stack.layers[:4]
    assert stack.die == (0.0, 0.0, 0.004, 0.004)
    assert top.power and bottom.power and not bond.power and not tim.power
    # The bond layer: underfill with a TSV bundle of its own material, zero power.
    assert bond.floorplan is not None and bond.floorplan.total_power == 0.0
    i = bond.floorplan.names.index("tsv_bundle")
    assert bond.block_conductivity[i] == pytest.approx(80.0)
    assert bond.block_heat_capacity[i] == 2.3e6
    assert np.isnan(np.delete(bond.block_conductivity, i)).all()
    assert (bond.conductivity, bond.heat_capacity) == (0.5, 2.0e6) and not stack.homogeneous
    # Layer 2 names a material (HotSpot 7.0's 6-line variant).
    assert (bottom.material, bottom.conductivity, bottom.heat_capacity) == ("silicon", 130.0, 1630300)
    assert tim.floorplan is None and tim.conductivity == 4.0
    assert top.floorplan.total_power + bottom.floorplan.total_power == pytest.approx(11.3)
    assert stack.layers[4].material == "aluminum"  # hotspot.config's spreader


# ---------------------------------------------------------------------- building LCFs
def flp(tmp_path, name="a.flp", side=1e-3, extra=""):
    return write(tmp_path, name, f"left {side / 2} {side} 0 0\nright {side / 2} {side} "
                                 f"{side / 2} 0{extra}\n")


def block(n, lateral="Y", power="Y", c="1.75e6", rho="0.01", t="1e-4", fp="a.flp"):
    fields = [str(n), lateral, power, c] + ([rho] if rho is not None else []) + [t, fp]
    return "\n".join(fields) + "\n\n"


def lcf(tmp_path, *blocks, name="s.lcf"):
    return write(tmp_path, name, "".join(blocks))


def trace(tmp_path, names=("left", "right"), watts=(1.0, 2.0), name="s.ptrace"):
    return write(tmp_path, name, " ".join(names) + "\n" + " ".join(map(str, watts)) + "\n")


def test_lateral_n_and_material_variant(tmp_path):
    flp(tmp_path)
    p = lcf(tmp_path, block(0), block(1, lateral="n", power="N", c="2e6", rho="2.0"),
            block(2, lateral="y", power="n", c="cu", rho=None, t="5e-5"))
    stack = read_lcf(p, trace(tmp_path), {"cu": Material("cu", 400.0, 3.5e6)})
    l0, l1, l2 = stack.layers[:3]
    assert (l1.conductivity, l1.conductivity_z, l1.heat_capacity) == (0.0, 0.5, 2e6)
    assert (l2.conductivity, l2.heat_capacity, l2.thickness, l2.material) == (400.0, 3.5e6, 5e-5, "cu")
    assert l0.floorplan.block_power.tolist() == [1.0, 2.0]


def test_floorplan_paths_relative_to_the_lcf(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    flp(tmp_path / "sub")
    p = lcf(tmp_path / "sub", block(0))
    absolute = lcf(tmp_path, block(0, fp=str(tmp_path / "sub" / "a.flp")), name="abs.lcf")
    monkeypatch.chdir(tmp_path)
    for path in (p, absolute):
        stack = read_lcf(path, trace(tmp_path))
        assert stack.layers[0].floorplan.source == str(tmp_path / "sub" / "a.flp")


def test_comments_and_no_blank_lines(tmp_path):
    flp(tmp_path)
    p = write(tmp_path, "c.lcf", "# two layers\n0 # number\nY\nY\n1.75e6\n0.01\n1e-4\na.flp\n"
              "# next\n1\nY\r\nN\n4e6\n0.25\n2e-5\na.flp")
    stack = read_lcf(p, trace(tmp_path))
    assert [l.name for l in stack.layers] == ["layer_0", "layer_1", "spreader", "sink"]


def test_trace_columns_in_any_order(tmp_path):
    flp(tmp_path)
    flp(tmp_path, "b.flp").write_text("up 1e-3 5e-4 0 5e-4\ndown 1e-3 5e-4 0 0\n")
    p = lcf(tmp_path, block(0), block(1, fp="b.flp"))
    t = trace(tmp_path, ("down", "right", "up", "left"), (4.0, 2.0, 3.0, 1.0))
    stack = read_lcf(p, t)
    assert stack.layers[0].floorplan.block_power.tolist() == [1.0, 2.0]
    assert stack.layers[1].floorplan.block_power.tolist() == [3.0, 4.0]


# ---------------------------------------------------------------------- errors
BAD_LCF = [
    (lambda: block(0) + "1\nY\nN\n", 11, "layer 1 (line 9) has 3 of its 7 lines before the end of "
     "the file: its heat capacity (or material) is missing"),
    (lambda: "0\nY\nY\n1.75e6\n0.01\n\n1e-4\na.flp\n", 6, "layer 0 (line 1) has 5 of its 7 lines "
     "before the blank line: its thickness is missing"),
    (lambda: "0\nY\nY\ncu\n\n", 5, "layer 0 (line 1) has 4 of its 6 lines before the blank line"),
    (lambda: block(0, lateral="X"), 2, "lateral heat flow flag of layer 0 must be Y or N, got 'X'"),
    (lambda: block(0, power="yes"), 3, "power dissipation flag of layer 0 must be Y or N, got "
     "'yes'"),
    (lambda: block(0, c="1,75e6"), 4, "heat capacity of layer 0 is not a number: '1,75e6'"),
    (lambda: block(0, c="0"), 4, "heat capacity of layer 0 must be positive and finite, got 0"),
    (lambda: block(0, rho="abc"), 5, "resistivity of layer 0 is not a number: 'abc'"),
    (lambda: block(0, rho="-0.01"), 5, "resistivity of layer 0 must be positive"),
    (lambda: block(0, rho="0"), 5, "resistivity of layer 0 must be positive"),
    (lambda: block(0, t="inf"), 6, "thickness of layer 0 must be positive and finite, got inf"),
    (lambda: block(0, t="0"), 6, "thickness of layer 0 must be positive"),
    (lambda: block(0, fp="gone.flp"), 7, "floorplan file 'gone.flp' of layer 0 not found"),
    (lambda: block(1), 1, "layer number 1 out of order: expected 0"),
    (lambda: block(0) + block(0), 9, "layer number 0 out of order: expected 1"),
    (lambda: block(0) + block(2), 9, "layer number 2 out of order: expected 1"),
    (lambda: "zero\n", 1, "layer number must be an integer, got 'zero'"),
    (lambda: block(0).rstrip("\n") + "\nextra\n", 8, "layer number must be an integer, got "
     "'extra' (one line too many in layer 0's block?"),
    (lambda: "0 Y Y\n", 1, "expected one field per line (layer number), got 3"),
    (lambda: "0\nY\nY 1\n", 3, "expected one field per line (layer 0's power dissipation flag "
     "(Y/N)), got 2"),
    (lambda: block(0, c="steel", rho=None), 4, "layer 0: unknown material 'steel'; known "
     "materials: cu"),
    (lambda: "# only comments\n\n", None, "no layers: the file is empty or holds only comments"),
    (lambda: block(0, power="N"), None, "no power layer: no layer has Y on its power line"),
]


@pytest.mark.parametrize("make,line,fragment", BAD_LCF)
def test_bad_lcf(tmp_path, make, line, fragment):
    flp(tmp_path)
    p = write(tmp_path, "bad.lcf", make())
    expect_error(lambda: read_lcf(p, trace(tmp_path), {"cu": Material("cu", 400, 3.5e6)}), p,
                 line, fragment)


def test_material_without_materials(tmp_path):
    flp(tmp_path)
    p = lcf(tmp_path, block(0, c="silicon", rho=None))
    expect_error(lambda: read_lcf(p, trace(tmp_path)), p, 4, "unknown material 'silicon'",
                 "HotSpot has no built-in materials")


def test_material_with_a_resistivity_line_too(tmp_path):
    # HotSpot's 6-line variant takes the line after the material as the thickness.
    flp(tmp_path)
    p = lcf(tmp_path, block(0, c="cu", rho="0.01", t="1e-4"))
    expect_error(lambda: read_lcf(p, trace(tmp_path), {"cu": Material("cu", 400, 3.5e6)}), p, 6,
                 "floorplan file '1e-4' of layer 0 not found")


def test_binary_lcf(tmp_path):
    p = write(tmp_path, "b.lcf", b"0\nY\n\x00\n")
    expect_error(lambda: read_lcf(p), p, 3, "binary")
    expect_error(lambda: read_lcf(tmp_path / "no.lcf"), tmp_path / "no.lcf", None, "cannot read")


def test_floorplans_of_different_outlines(tmp_path):
    flp(tmp_path)
    flp(tmp_path, "big.flp", side=2e-3)
    p = lcf(tmp_path, block(0), block(1, power="N", fp="big.flp"))
    expect_error(lambda: read_lcf(p, trace(tmp_path)), p, 15,
                 f"the floorplan of layer 1 ({tmp_path / 'big.flp'}) covers 2 x 2 mm from (0, 0) mm, "
                 f"layer 0's ({tmp_path / 'a.flp'}) 1 x 1 mm from (0, 0) mm")
    write(tmp_path, "moved.flp", "m 1e-3 1e-3 1e-3 0\n")
    q = lcf(tmp_path, block(0), block(1, power="N", fp="moved.flp"), name="q.lcf")
    expect_error(lambda: read_lcf(q, trace(tmp_path)), q, 15, "same outline")


def test_errors_in_a_floorplan_name_the_floorplan(tmp_path):
    write(tmp_path, "a.flp", "left 1 1 0 0\nright 1 1 0.5 0\n")
    p = lcf(tmp_path, block(0))
    expect_error(lambda: read_lcf(p, trace(tmp_path)), tmp_path / "a.flp", 2, "overlap")
    write(tmp_path, "a.flp", "left 1 1 0 0 1e6\n")
    expect_error(lambda: read_lcf(p, trace(tmp_path)), tmp_path / "a.flp", 1, "6 columns")
    write(tmp_path, "a.flp", "left 5e-4 1e-3 0 0 1e6 0\nright 5e-4 1e-3 5e-4 0\n")
    expect_error(lambda: read_lcf(p, trace(tmp_path)), tmp_path / "a.flp", 1,
                 "resistivity of block 'left' must be positive, got 0")
    write(tmp_path, "a.flp", "left 5e-4 1e-3 0 0 -1e6 0.1\nright 5e-4 1e-3 5e-4 0\n")
    expect_error(lambda: read_lcf(p, trace(tmp_path)), tmp_path / "a.flp", 1,
                 "heat capacity of block 'left' must be positive")


def test_power_trace_errors(tmp_path):
    flp(tmp_path)
    write(tmp_path, "b.flp", "up 1e-3 5e-4 0 5e-4\ndown 1e-3 5e-4 0 0\n")
    p = lcf(tmp_path, block(0), block(1, power="N", fp="b.flp"), block(2, fp="a.flp"))
    t = trace(tmp_path, ("left", "right", "up"), (1, 2, 3))
    expect_error(lambda: read_lcf(p), p, 23, "block 'left' is in the floorplans of two power "
                 f"layers, layer 0 ({tmp_path / 'a.flp'}) and layer 2 ({tmp_path / 'a.flp'}:1)",
                 "need different names")
    q = lcf(tmp_path, block(0), block(1, power="N", fp="b.flp"), name="q.lcf")
    expect_error(lambda: read_lcf(q, trace(tmp_path, ("left",), (1,), "one.ptrace")),
                 tmp_path / "one.ptrace", 1,
                 f"no power for 1 block of layer 0 ({tmp_path / 'a.flp'}): 'right'")
    expect_error(lambda: read_lcf(q, t), t, 1,
                 "1 block in no power layer's floorplan: 'up'; 'up' is a block of layer 1, which "
                 "dissipates no power")
    t2 = trace(tmp_path, ("left", "right", "x", "y"), (1, 2, 3, 4), name="t2.ptrace")
    expect_error(lambda: read_lcf(q, t2), t2, 1, "2 blocks in no power layer's floorplan: 'x', 'y'")
    t0 = trace(tmp_path, ("left", "right"), (0, 0), name="t0.ptrace")
    expect_error(lambda: read_lcf(q, t0), t0, None, "total power is zero")
    expect_error(lambda: read_lcf(q, tmp_path / "none.ptrace"), tmp_path / "none.ptrace", None,
                 "cannot read")
    assert t.exists()


def test_die_larger_than_the_spreader(tmp_path):
    flp(tmp_path, side=0.04)
    p = lcf(tmp_path, block(0))
    expect_error(lambda: read_lcf(p, trace(tmp_path)), p, None,
                 "HotSpot's default s_spreader 0.03 m is smaller than the die (40 x 40 mm)")
    c = write(tmp_path, "c.config", "-r_convec 0.5\n-s_spreader 0.035\n-s_sink 0.08\n")
    expect_error(lambda: read_lcf(p, trace(tmp_path), config=read_hotspot_config(c)), c, 2,
                 "-s_spreader 0.035 m is smaller than the die")
    c2 = write(tmp_path, "c2.config", "-s_spreader 0.04\n-s_sink 0.08\n")
    assert read_lcf(p, trace(tmp_path), config=read_hotspot_config(c2)).layers[-2].side == 0.04


def test_unknown_package_material_names_the_config(tmp_path):
    flp(tmp_path)
    p = lcf(tmp_path, block(0))
    c = write(tmp_path, "c.config", "-material_chip unobtainium\n")
    # HotSpot resolves every material_* key when it reads the config, LCF or not.
    expect_error(lambda: read_lcf(p, trace(tmp_path), config=read_hotspot_config(c)), c, 1,
                 "unknown material 'unobtainium'")


def test_secondary_path_goes_above_the_lcf_layers(tmp_path):
    c = write(tmp_path, "c.config", "-model_secondary 1\n-s_sub 0.018\n-s_solder 0.02\n")
    stack = read_lcf(EX3 / "example.lcf", EX3 / "example.ptrace", read_materials(EX3 / "example.materials"),
                     read_hotspot_config(c))
    # No C4 or metal under an LCF; its layers numbered after PCB, solder and substrate, as
    # HotSpot's .steady names them (temperature_grid.c:1414-1427).
    assert [l.name for l in stack.layers] == ["pcb", "solder", "substrate", "layer_3", "layer_4",
                                              "layer_5", "layer_6", "spreader", "sink"]
    assert stack.power_layers == [3, 5] and stack.layers[2].side == 0.018
    assert stack.r_convec_top == 1.0 and "s_sub" not in stack.ignored


def test_layer_floorplan_with_zero_power():
    f = FlpData(("a", "b"), np.array([0.0, 1.0]), np.zeros(2), np.ones(2), np.ones(2), (1, 2), "z.flp")
    fp = layer_floorplan(f, None)
    assert fp.total_power == 0.0 and fp.block_power.tolist() == [0.0, 0.0]
    assert fp.source_power.tolist() == [0.0, 0.0] and fp.die == (0.0, 0.0, 2.0, 1.0)
    assert layer_floorplan(f, np.array([1.0, 0.0]), "p").block_power.tolist() == [1.0, 0.0]


# ---------------------------------------------------------------------- .flp 6th and 7th columns
def test_flp_block_materials(tmp_path):
    p = write(tmp_path, "m.flp", "a 1 1 0 0\nb 1 1 1 0 1.6e6 0.0125 # tsv\nc 1 1 2 0\n")
    f = read_flp(p)
    assert f.has_materials
    np.testing.assert_array_equal(f.heat_capacity, [np.nan, 1.6e6, np.nan])
    np.testing.assert_array_equal(f.resistivity, [np.nan, 0.0125, np.nan])
    g = read_flp(write(tmp_path, "plain.flp", "a 1 1 0 0\n"))
    assert g.heat_capacity is None and g.resistivity is None and not g.has_materials


BAD_COLUMNS = [
    ("a 1 1 0 0\nb 1 1 1 0 1.6e6\n", 2, "6 columns: block 'b' has a heat capacity but no "
     "resistivity: give both the heat capacity and the resistivity, or neither"),
    ("a 1 1 0 0 1e6\n", 1, "6 columns"),
    # A non-number in the 6th column is reported as before.
    ("a 1 1 0 0\nb 1 1 1 0 heat\n", 2, "specific heat of block 'b' is not a number: 'heat'"),
    ("a 1 1 0 0 1e6 nan\n", 1, "resistivity of block 'a' is not finite (nan)"),
    ("a 1 1 0 0 inf 1\n", 1, "specific heat of block 'a' is not finite (inf)"),
    # The first non-finite value in file order, whatever its column.
    ("a 1 1 0 0 1e6 nan\nb 1 inf 1 0\n", 1, "resistivity of block 'a' is not finite"),
    ("a 1 1 0 inf\nb 1 1 1 0 1e6 nan\n", 1, "bottom-y of block 'a' is not finite"),
    ("a 1 1 0 0 1 inf\n", 1, "resistivity of block 'a' is not finite (inf)"),
    ("a 1 1 0 0 1 nan\nb 1 1 1 0 nan 1\n", 1, "resistivity of block 'a'"),
    ("a 1 1 0 0\nb 1 1 1 0 nan 1\nc 1 1 2 0 1 nan\n", 2, "specific heat of block 'b'"),
    # Non-numbers in the 4 geometric fields still come after every layout check.
    ("a 1 x 0 0\nb 1 1 1 0 1\n", 2, "6 columns"),
]


@pytest.mark.parametrize("content,line,fragment", BAD_COLUMNS)
@pytest.mark.parametrize("whole_file", [False, True])
def test_flp_material_column_errors(tmp_path, monkeypatch, content, line, fragment, whole_file):
    if whole_file:
        monkeypatch.setattr(hotspot, "_WHOLE_FILE_MIN", 0)
    p = write(tmp_path, "bad.flp", content)
    expect_error(lambda: read_flp(p), p, line, fragment)


def _medium_flp_with_materials():
    """A 50 x 50 tiling, every 7th row with 7 fields, mixed separators, comments, CRLF."""
    k, t = 50, 1e-4
    out, names, heat, res = ["# medium"], [], [], []
    for n in range(k * k):
        i, j = n % k, n // k
        fields = [f"t{i}_{j}", repr(t), repr(t), repr(i * t), repr(j * t)]
        if n % 7 == 2:
            fields += [f"{1.5e6 + n:.6g}", repr(0.01 + n * 1e-6)]
            heat.append(float(fields[5]))
            res.append(float(fields[6]))
        else:
            heat.append(np.nan)
            res.append(np.nan)
        out.append((" \t", "\t", " ")[n % 3].join(fields) + ("  # c" if n % 11 == 0 else "")
                   + ("\r" if n % 13 == 0 else ""))
        names.append(fields[0])
    return "\n".join(out) + "\n", tuple(names), np.array(heat), np.array(res)


def test_medium_flp_with_materials_both_paths(tmp_path, monkeypatch):
    text, names, heat, res = _medium_flp_with_materials()
    assert len(text) > hotspot._WHOLE_FILE_MIN
    p = write(tmp_path, "m.flp", text)
    with monkeypatch.context() as m:
        m.setattr(hotspot, "_WHOLE_FILE_MIN", LINE_BY_LINE)
        slow = read_flp(p)

    def fail(*args):
        raise AssertionError("the whole-file path should have vouched for this file")

    monkeypatch.setattr(hotspot, "_flp_fields_checked", fail)
    fast = read_flp(p)
    for f in (slow, fast):
        assert f.names == names
        np.testing.assert_array_equal(f.heat_capacity, heat)
        np.testing.assert_array_equal(f.resistivity, res)
    np.testing.assert_array_equal(slow.x, fast.x)
    assert slow.lines == fast.lines


def test_six_columns_deep_in_a_large_flp(tmp_path):
    lines = [f"t{i} 1e-4 1e-4 {i}e-4 0" for i in range(2500)]
    lines[1999] = "t1999 1e-4 1e-4 0 0 1.75e6"
    p = write(tmp_path, "big.flp", "\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        read_flp(p)
    assert info.value.line == 2000 and info.value.problem.startswith("6 columns: block 't1999'")


def test_write_flp_with_materials_round_trip(tmp_path):
    f = FlpData(("a", "b", "c"), np.array([0.0, 1e-3, 2e-3]), np.zeros(3), np.full(3, 1e-3),
                np.full(3, 1e-3), (), "<flp>", np.array([np.nan, 2.3e6, 1 / 3]),
                np.array([np.nan, 0.0125, 7.0]))
    write_flp(tmp_path / "m.flp", f)
    text = (tmp_path / "m.flp").read_text()
    assert "heat-capacity" in text and text.splitlines()[2].count("\t") == 4
    g = read_flp(tmp_path / "m.flp")
    for a in ("x", "y", "width", "height", "heat_capacity", "resistivity"):
        np.testing.assert_array_equal(getattr(g, a), getattr(f, a))
    bad = FlpData(("a",), np.zeros(1), np.zeros(1), np.ones(1), np.ones(1), (), "<flp>",
                  np.array([1e6]), np.array([np.nan]))
    with pytest.raises(ValueError, match="only one of"):
        write_flp(tmp_path / "bad.flp", bad)


EXTRA = st.sampled_from(["1.75e6", "0.0125", "-1", "0", "nan", "inf", "x", "1e-3"])
FLP_ROW = st.tuples(st.sampled_from(["1e-3", "nan", "2"]), st.lists(EXTRA, max_size=3))


@FEWER
@given(rows=st.lists(FLP_ROW, min_size=1, max_size=8))
def test_whole_file_and_line_by_line_agree_on_material_columns(tmp_path, monkeypatch, rows):
    text = "".join(f"b{i} {w} 1 {i} 0 {' '.join(extra)}\n" for i, (w, extra) in enumerate(rows))
    p = tmp_path / "x.flp"
    p.write_text(text)

    def outcome(whole_file_min):
        with monkeypatch.context() as m:
            m.setattr(hotspot, "_WHOLE_FILE_MIN", whole_file_min)
            try:
                f = read_flp(p)
            except InputError as e:
                return e.line, e.problem
        mats = None if f.heat_capacity is None else (f.heat_capacity.tolist(), f.resistivity.tolist())
        return f.names, f.width.tolist(), str(mats)

    assert outcome(0) == outcome(LINE_BY_LINE)
