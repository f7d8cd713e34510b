"""HotSpot configuration and materials files, and the package they set."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.thermal.io.helpers import EXAMPLES, expect_error, write_file
from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan
from thermal.io.hotspot_config import (HOTSPOT_KEYS, HOTSPOT_SECONDARY_DEFAULTS, FluidMaterial,
                                       HotspotConfig, package_parameters, package_stack,
                                       read_hotspot_config, read_materials)
from thermal.geometry.stack import HOTSPOT_DEFAULTS, Material, hotspot_package

HOTSPOT = Path(__file__).resolve().parents[2] / "data" / "hotspot"
PACKAGE = EXAMPLES / "package"
write = write_file


def die(side=0.016, power=10.0):
    return Floorplan.from_blocks(["a"], [0.0], [0.0], [side], [side], power=[power])


# ---------------------------------------------------------------------- HotSpot's own files
@pytest.mark.parametrize("example", ["example1", "example2", "example3"])
def test_hotspot_example_configs_read(example):
    c = read_hotspot_config(HOTSPOT / example / "example.config")
    assert c.source == str(HOTSPOT / example / "example.config")
    assert c.values["t_chip"] == "0.00015" and c.line("t_chip") == 5
    assert c.values["init_file"] == "(null)"
    assert c.values["P0"] == "0.99" and c.values["lambdaA"] == "5.0e+06"  # HotSpot's spelling
    assert c.sampling_interval == 0.01
    assert c.secondary["model_secondary"] == 0 and c.secondary["n_c4"] == 400
    assert isinstance(c.secondary["n_metal"], int) and c.secondary["t_metal"] == 100.0e-6
    assert list(c.values) == sorted(c.values, key=c.line)  # file order
    assert all(k in HOTSPOT_KEYS for k in c.values)
    materials = read_materials(HOTSPOT / example / "example.materials")
    stack = package_stack(c, materials, die())
    assert [layer.name for layer in stack.layers] == ["die", "interface", "spreader", "sink"]
    assert stack.source == c.source and stack.r_convec == 0.1 and stack.ambient == 318.15
    for key in ("grid_rows", "dtm_used", "leakage_used", "model_type", "wrap_l2", "htc",
                "use_microfluidic_cooling", "package_config_file", "sampling_intvl",
                "r_convec_sec", "t_pcb", "n_c4"):  # no secondary path: its keys are unused
        assert key in stack.ignored
    assert not set(stack.ignored) & {"t_chip", "k_interface", "s_sink", "r_convec", "ambient",
                                     "material_chip", "material_sink", "model_secondary"}


def test_example_packages_as_hotspot_sets_them():
    ex1 = package_stack(read_hotspot_config(HOTSPOT / "example1" / "example.config"))
    assert [(l.conductivity, l.heat_capacity) for l in ex1.layers] == [
        (130.0, 1630300.0), (4.0, 4.0e6), (400.0, 3.55e6), (400.0, 3.55e6)]
    materials = read_materials(HOTSPOT / "example1" / "example.materials")  # = example2's
    ex2 = package_stack(read_hotspot_config(HOTSPOT / "example2" / "example.config"), materials)
    die_, tim, spreader, sink = ex2.layers
    assert (die_.conductivity, die_.heat_capacity, die_.material) == (130.0, 1630300.0, "silicon")
    assert (spreader.conductivity, spreader.heat_capacity, spreader.material) == (
        237.0, 2.422e6, "aluminum")
    assert (sink.side, spreader.side, sink.thickness, tim.thickness) == (0.06, 0.03, 0.0069, 2e-5)


def test_package_config_file_reads():
    c = read_hotspot_config(HOTSPOT / "example1" / "package.config")
    assert c.values["fin_height"] == "0.03" and c.values["rpm"] == "1000"  # trailing comments
    assert c.package == {} and c.secondary == {} and c.sampling_interval is None


def test_examples_package_files():
    c = read_hotspot_config(PACKAGE / "hotspot.config")
    m = read_materials(PACKAGE / "hotspot.materials")
    stack = package_stack(c, m)
    assert stack.ignored == ("sampling_intvl",)
    assert [layer.material for layer in stack.layers] == ["silicon", None, "aluminum", "aluminum"]
    secondary = package_stack(read_hotspot_config(PACKAGE / "secondary.config"), m)
    assert [l.name for l in secondary.layers][:5] == ["pcb", "solder", "substrate", "c4", "metal"]
    assert secondary.r_convec_top == 1.0 and secondary.ignored == ("sampling_intvl",)
    assert [l.as_dict() for l in secondary.layers[5:]] == [l.as_dict() for l in stack.layers]


def test_defaults_are_hotspots():
    assert package_parameters() == {**HOTSPOT_DEFAULTS, **HOTSPOT_SECONDARY_DEFAULTS}
    a, b = package_stack(), hotspot_package()
    assert [x.as_dict() for x in a.layers] == [x.as_dict() for x in b.layers]
    assert a.source == "HotSpot defaults" and a.ignored == ()
    assert package_stack(floorplan=die()).die == (0.0, 0.0, 0.016, 0.016)


def test_secondary_defaults_as_in_temperature_c():
    assert HOTSPOT_SECONDARY_DEFAULTS["r_convec_sec"] == 1.0
    assert HOTSPOT_SECONDARY_DEFAULTS["n_c4"] == 400 and HOTSPOT_SECONDARY_DEFAULTS["t_pcb"] == 0.002


def test_secondary_path_as_hotspots_grid_model_builds_it(tmp_path):
    c = read_hotspot_config(write(tmp_path, "c.config", "-model_secondary 1\n-t_pcb 0.0015\n"
                                  "-r_convec_sec 2.5\n-n_c4 100\n-k_chip 150\n"))
    stack = package_stack(c, floorplan=die())
    # temperature_grid.c: PCB, solder, substrate, C4, metal above the die; the package below.
    assert [l.name for l in stack.layers] == ["pcb", "solder", "substrate", "c4", "metal", "die",
                                              "interface", "spreader", "sink"]
    pcb, solder, sub, c4, metal = stack.layers[:5]
    assert (pcb.thickness, pcb.side, pcb.conductivity) == (0.0015, 0.1, pytest.approx(1 / 0.333))
    assert (solder.side, sub.side, c4.side, metal.side) == (0.021, 0.021, None, None)
    assert (c4.conductivity, metal.conductivity, sub.conductivity) == pytest.approx((1.25, 400.0, 2.0))
    assert stack.r_convec_top == 2.5 and stack.top_htc == pytest.approx(1 / (2.5 * 0.1 ** 2))
    assert stack.layers[5].conductivity == 150.0 and stack.power_layers == [5]
    # n_metal, s_c4, n_c4 feed only HotSpot's block model.
    assert stack.ignored == ("n_c4",)
    with pytest.raises(InputError, match="s_sub 0.003 m is smaller than the die"):
        package_stack(read_hotspot_config(write(tmp_path, "d.config", "-model_secondary 1\n"
                                                "-s_sub 0.003\n-s_solder 0.003\n")),
                      floorplan=die())
    bad = write(tmp_path, "e.config", "-model_secondary 1\n-s_pcb 0.01\n")
    expect_error(lambda: package_stack(read_hotspot_config(bad)), bad, 2,
                 "-s_pcb 0.01 m is smaller than s_solder")


# ---------------------------------------------------------------------- syntax
def test_layout_comments_tabs_case(tmp_path):
    p = write(tmp_path, "c.config", "# header\n\n\t-t_chip\t0.0002   # thinner\r\n"
              "  -K_CHIP 150\n-material_SINK copper#no space\n-sampling_intvl 1e-3\n")
    c = read_hotspot_config(p)
    assert c.values == {"t_chip": "0.0002", "k_chip": "150", "material_sink": "copper",
                        "sampling_intvl": "1e-3"}
    assert c.lines == {"t_chip": 3, "k_chip": 4, "material_sink": 5, "sampling_intvl": 6}
    assert c.package == {"t_chip": 0.0002, "k_chip": 150.0, "material_sink": "copper"}
    assert c.sampling_interval == 1e-3 and "t_chip" in c and "p_chip" not in c
    assert c.keys == ("t_chip", "k_chip", "material_sink", "sampling_intvl")


def test_empty_config_is_hotspot_defaults(tmp_path):
    c = read_hotspot_config(write(tmp_path, "e.config", "# nothing\n\n"))
    assert c.values == {} and package_parameters(c) == {**HOTSPOT_DEFAULTS, **HOTSPOT_SECONDARY_DEFAULTS}


def test_hotspot_dump_format_reads_back(tmp_path):
    """HotSpot's -d writes '-name<TAB>value' lines, including keys it only dumps."""
    dumped = {"t_chip": "0.00015", "detailed_3D_used": "0", "c": "example.config",
              "materials_file": "(null)", "cell_width": "1.0e-04", "n_fluid_cells": "0",
              "grid_map_mode": "center"}
    p = tmp_path / "dump.config"
    p.write_text("".join(f"-{k}\t{v}\n" for k, v in dumped.items()))
    c = read_hotspot_config(p)
    assert c.values == dumped
    assert package_stack(c).ignored == tuple(k for k in dumped if k != "t_chip")


BAD_CONFIG = [
    ("t_chip 0.1\n", 1, "expected '-key value', got 't_chip 0.1'"),
    ("-t_chip 0.1\n-\n", 2, "expected '-key value'"),
    ("\n-t_chip\n", 2, "-t_chip has no value"),
    ("-t_chip 0.1 0.2\n", 1, "expected '-t_chip value', got 3 fields"),
    ("-t_chp 0.1\n", 1, "unknown key -t_chp: not a HotSpot 7.0 option (did you mean -t_chip?)"),
    ("-foo 1\n", 1, "unknown key -foo"),
    ("-t_chip 1e-4\n# x\n-T_CHIP 2e-4\n", 3, "-t_chip given twice (also on line 1)"),
    ("-grid_rows 64\n-grid_rows 32\n", 2, "-grid_rows given twice"),
    ("-k_chip abc\n", 1, "-k_chip must be a number, got 'abc'"),
    ("-k_chip 1,5\n", 1, "-k_chip must be a number"),
    ("-k_chip 0x10\n", 1, "-k_chip must be a number"),
    ("-k_chip 1_0\n", 1, "-k_chip must be a number"),
    ("-k_chip nan\n", 1, "-k_chip must be finite, got nan"),
    ("-t_sink inf\n", 1, "-t_sink must be finite"),
    ("-t_sink -1e-3\n", 1, "-t_sink must be positive, got -1e-3"),
    ("-k_sink 0\n", 1, "-k_sink must be positive"),
    ("-p_interface 0\n", 1, "-p_interface must be positive"),
    ("-s_spreader 0\n", 1, "-s_spreader must be positive"),
    ("-r_convec 0\n", 1, "-r_convec must be positive"),
    ("-ambient -3\n", 1, "-ambient must be positive"),
    ("-c_convec -1\n", 1, "-c_convec must not be negative"),
    ("-n_c4 4.5\n", 1, "-n_c4 must be an integer, got '4.5'"),
    ("-n_metal 0\n", 1, "-n_metal must be positive"),
    ("-r_convec_sec 0\n", 1, "-r_convec_sec must be positive"),
    ("-sampling_intvl 0\n", 1, "-sampling_intvl must be positive"),
    ("-model_secondary yes\n", 1, "-model_secondary must be an integer"),
    ("-t_chip 1e-4\n-model_secondary 2\n", 2, "-model_secondary must be 0 or 1, got 2"),
    ("-package_model_used 1\n", 1, "package_model_used 1 (HotSpot's heat-sink and fan model"),
]


@pytest.mark.parametrize("content,line,fragment", BAD_CONFIG)
def test_bad_config(tmp_path, content, line, fragment):
    p = write(tmp_path, "bad.config", content)
    expect_error(lambda: read_hotspot_config(p), p, line, fragment)


def test_config_values_not_checked_for_unused_keys(tmp_path):
    # HotSpot's own files hold '(null)' and words for keys the package does not use.
    c = read_hotspot_config(write(tmp_path, "c.config", "-grid_map_mode avg\n-dtm_used 0\n"
                                  "-model_secondary 0\n-package_model_used 0\n"))
    assert c.secondary == {"model_secondary": 0}


@pytest.mark.parametrize("content,line,fragment", [
    (b"-t_chip 1e-4\n\x00\x01", 2, "binary"),
    (b"-t_chip 1e-4\n-k_chip \xff\n", 2, "not UTF-8"),
])
def test_binary_config(tmp_path, content, line, fragment):
    p = write(tmp_path, "bin.config", content)
    expect_error(lambda: read_hotspot_config(p), p, line, fragment)


def test_missing_config(tmp_path):
    expect_error(lambda: read_hotspot_config(tmp_path / "no.config"), tmp_path / "no.config",
                 None, "cannot read")


# ---------------------------------------------------------------------- materials
def test_hotspot_example_materials():
    m = read_materials(HOTSPOT / "example3" / "example.materials")
    assert list(m) == ["silicon", "water", "aluminum", "copper"]
    assert m["silicon"] == Material("silicon", 130.0, 1630300.0)
    assert isinstance(m["water"], FluidMaterial) and m["water"].viscosity == 8.89e-4
    assert (m["water"].conductivity, m["water"].heat_capacity) == (0.6069, 4172638.0)
    assert not isinstance(m["copper"], FluidMaterial)
    assert list(read_materials(HOTSPOT / "example1" / "example.materials")) == [
        "silicon", "water", "aluminum"]


def test_materials_without_blank_lines_and_with_comments(tmp_path):
    # HotSpot needs no blank lines between blocks; comment lines may sit inside one.
    p = write(tmp_path, "m.materials", "a\nsolid\n# k\n1.5  # W/(m K)\n2e6\nb\r\nfluid\n1\n2\n3\n")
    m = read_materials(p)
    assert m["a"] == Material("a", 1.5, 2e6) and m["b"] == FluidMaterial("b", 1.0, 2.0, 3.0)


def test_empty_materials_file(tmp_path):
    assert read_materials(write(tmp_path, "e.materials", "# none\n")) == {}


BAD_MATERIALS = [
    ("cu\nSolid\n400\n3.55e6\n", 2, "material 'cu': unknown type 'Solid': expected solid or fluid"),
    ("cu\nsolid\n400\n\nal\nsolid\n237\n2.4e6\n", 4,
     "material 'cu' (line 1) has 3 of its 4 lines before the blank line: its volumetric heat "
     "capacity is missing"),
    ("w\nfluid\n0.6\n4.1e6\n\n", 5, "material 'w' (line 1) has 4 of its 5 lines before the blank "
     "line: its dynamic viscosity is missing"),
    ("cu\nsolid\n400\n3.55e6\n\nal\nsolid", 7, "material 'al' (line 6) has 2 of its 4 lines "
     "before the end of the file: its thermal conductivity is missing"),
    ("cu\nsolid\nfour\n3.55e6\n", 3, "thermal conductivity of material 'cu' is not a number: "
     "'four'"),
    ("cu\nsolid\n400\n0\n", 4, "volumetric heat capacity of material 'cu' must be positive and "
     "finite, got 0"),
    ("cu\nsolid\n-400\n1\n", 3, "thermal conductivity of material 'cu' must be positive"),
    ("cu\nsolid\nnan\n1\n", 3, "must be positive and finite, got nan"),
    ("w\nfluid\n1\n1\n-1e-3\n", 5, "dynamic viscosity of material 'w' must be positive"),
    ("cu\nsolid\n400\n1\n\ncu\nsolid\n1\n1\n", 6, "material 'cu' defined twice (also on line 1)"),
    ("cu\nsolid\n400 W/mK\n1\n", 3, "expected one field per line (the material's thermal "
     "conductivity), got 2"),
    ("copper metal\n", 1, "expected one field per line (the material's name), got 2"),
]


@pytest.mark.parametrize("content,line,fragment", BAD_MATERIALS)
def test_bad_materials(tmp_path, content, line, fragment):
    p = write(tmp_path, "bad.materials", content)
    expect_error(lambda: read_materials(p), p, line, fragment)


def test_binary_and_missing_materials(tmp_path):
    p = write(tmp_path, "b.materials", b"cu\nsolid\n\x00")
    expect_error(lambda: read_materials(p), p, 3, "binary")
    expect_error(lambda: read_materials(tmp_path / "x"), tmp_path / "x", None, "cannot read")


# ---------------------------------------------------------------------- the package
MATERIALS = {"silicon": Material("silicon", 130.0, 1.63e6), "copper": Material("copper", 400.0, 3.55e6)}


@pytest.mark.parametrize("order", ["material first", "material last"])
def test_material_overrides_k_and_p_whatever_the_order(tmp_path, order):
    lines = ["-k_chip 50", "-p_chip 1e6", "-material_chip silicon"]
    if order == "material first":
        lines = lines[::-1]
    c = read_hotspot_config(write(tmp_path, "c.config", "\n".join(lines) + "\n"))
    params = package_parameters(c, MATERIALS)
    assert (params["k_chip"], params["p_chip"], params["material_chip"]) == (130.0, 1.63e6, "silicon")
    layer = package_stack(c, MATERIALS).layers[0]
    assert (layer.conductivity, layer.heat_capacity, layer.material) == (130.0, 1.63e6, "silicon")


def test_every_part_takes_its_material(tmp_path):
    c = read_hotspot_config(write(tmp_path, "c.config", "".join(
        f"-material_{part} {name}\n" for part, name in
        (("chip", "silicon"), ("interface", "copper"), ("spreader", "copper"), ("sink", "silicon")))))
    stack = package_stack(c, MATERIALS)
    assert [layer.conductivity for layer in stack.layers] == [130.0, 400.0, 400.0, 130.0]
    assert stack.ignored == ()


def test_unknown_material(tmp_path):
    p = write(tmp_path, "c.config", "-t_chip 1e-4\n-material_sink unobtainium\n")
    c = read_hotspot_config(p)
    expect_error(lambda: package_stack(c, MATERIALS), p, 2,
                 "-material_sink: unknown material 'unobtainium'; known materials: silicon, copper")
    expect_error(lambda: package_stack(c), p, 2, "unknown material 'unobtainium'",
                 "HotSpot has no built-in materials")
    # Names are case-sensitive, as in materials.c (strncmp).
    p2 = write(tmp_path, "c2.config", "-material_chip Silicon\n")
    expect_error(lambda: package_stack(read_hotspot_config(p2), MATERIALS), p2, 1,
                 "unknown material 'Silicon'")


def test_spreader_smaller_than_die(tmp_path):
    p = write(tmp_path, "c.config", "-r_convec 0.2\n-s_spreader 0.01\n-s_sink 0.05\n")
    c = read_hotspot_config(p)
    expect_error(lambda: package_stack(c, floorplan=die(0.016)), p, 2,
                 "-s_spreader 0.01 m is smaller than the die (16 x 16 mm)", "inordinate")
    stack = package_stack(c, floorplan=die(0.008))
    assert stack.layers[2].side == 0.01 and stack.r_convec == 0.2
    # Not in the file: HotSpot's default, and the file named without a line.
    q = write(tmp_path, "d.config", "-r_convec 0.2\n")
    expect_error(lambda: package_stack(read_hotspot_config(q), floorplan=die(0.04)), q, None,
                 "HotSpot's default s_spreader 0.03 m is smaller than the die (40 x 40 mm)")
    expect_error(lambda: package_stack(floorplan=die(0.04)), "HotSpot defaults", None,
                 "HotSpot's default s_spreader")


def test_sink_smaller_than_spreader(tmp_path):
    p = write(tmp_path, "c.config", "# sink\n-s_sink 0.02\n")
    expect_error(lambda: package_stack(read_hotspot_config(p)), p, 2,
                 "-s_sink 0.02 m is smaller than the spreader (s_spreader 0.03 m)")


def test_stack_checks_name_the_config(tmp_path):
    p = write(tmp_path, "c.config", "-s_spreader 0.02\n")
    stack = package_stack(read_hotspot_config(p), floorplan=die(0.016))
    assert stack.die == (0.0, 0.0, 0.016, 0.016) and stack.layers[0].floorplan is not None
    # A die exactly the spreader's side is fine (HotSpot: width > s_spreader stops).
    assert package_stack(read_hotspot_config(p), floorplan=die(0.02)).outline == (
        pytest.approx(-0.02), pytest.approx(-0.02), pytest.approx(0.04), pytest.approx(0.04))


def test_hotspot_config_is_plain_data():
    c = HotspotConfig("x.config", {"t_chip": "1e-4"}, {"t_chip": 3}, {"t_chip": 1e-4})
    assert package_parameters(c)["t_chip"] == 1e-4 and c.line("k_chip") is None
    with pytest.raises(InputError):
        package_stack(HotspotConfig("x.config", {"material_chip": "x"}, {"material_chip": 1},
                                    {"material_chip": "x"}))
    assert np.isclose(package_stack(c).layers[0].thickness, 1e-4)
