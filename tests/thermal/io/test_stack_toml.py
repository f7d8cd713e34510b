"""thermesh's own stack files (TOML)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.thermal.io.helpers import EXAMPLES, expect_error, write_file
from thermal.geometry.floorplan import Floorplan
from thermal.io.stack_toml import BUILTIN_MATERIALS, _key_lines, read_stack_toml
from thermal.geometry.stack import HOTSPOT_DEFAULTS, Material, hotspot_package

PACKAGE = EXAMPLES / "package"
write = write_file

HEAD = 'ambient = 300.0\n[sink]\nr_convec = 0.5\n'
DIE = '[[layer]]\nname = "die"\nthickness = 1e-4\nmaterial = "silicon"\npower = true\n'


def toml(tmp_path, text, name="s.toml"):
    return write(tmp_path, name, text)


def _without_material(layer):
    d = layer.as_dict()
    d.pop("material", None)
    return d


# ---------------------------------------------------------------------- good files
def test_example_is_hotspots_default_package():
    stack = read_stack_toml(PACKAGE / "stack.toml")
    default = hotspot_package()
    assert [_without_material(a) for a in stack.layers] == [_without_material(b) for b in default.layers]
    assert (stack.r_convec, stack.htc, stack.ambient) == (0.1, None, HOTSPOT_DEFAULTS["ambient"])
    assert stack.die is None and stack.source == str(PACKAGE / "stack.toml")
    assert [layer.material for layer in stack.layers] == ["silicon", "tim", "copper", "copper"]
    fp = Floorplan.from_blocks(["a"], [0.0], [0.0], [0.01], [0.01], power=[5.0])
    bound = stack.bound_to(fp)
    assert bound.layers[0].floorplan is fp and bound.sink_htc == default.bound_to(fp).sink_htc


def test_top_face_convection(tmp_path):
    stack = read_stack_toml(toml(tmp_path, HEAD + "[top]\nr_convec = 2.5\n" + DIE))
    assert (stack.r_convec_top, stack.htc_top, stack.r_convec) == (2.5, None, 0.5)
    stack = read_stack_toml(toml(tmp_path, HEAD + "[top]\nhtc = 40.0\n" + DIE))
    assert (stack.r_convec_top, stack.htc_top) == (None, 40.0)
    assert read_stack_toml(toml(tmp_path, HEAD + DIE)).top_htc == 0.0


def test_builtin_materials():
    assert {"silicon", "copper", "aluminium", "aluminum", "tim"} <= set(BUILTIN_MATERIALS)
    assert BUILTIN_MATERIALS["silicon"] == Material("silicon", HOTSPOT_DEFAULTS["k_chip"],
                                                    HOTSPOT_DEFAULTS["p_chip"])
    assert BUILTIN_MATERIALS["tim"] == Material("tim", HOTSPOT_DEFAULTS["k_interface"],
                                                HOTSPOT_DEFAULTS["p_interface"])
    al, am = BUILTIN_MATERIALS["aluminium"], BUILTIN_MATERIALS["aluminum"]
    assert (al.conductivity, al.heat_capacity) == (am.conductivity, am.heat_capacity) == (237.0, 2.422e6)


def test_every_layer_key(tmp_path):
    p = toml(tmp_path, '''
ambient = 310
[sink]
htc = 2000.0   # W/(m^2 K)
[materials.silicon]          # replaces the built-in
conductivity = 130
heat_capacity = 1.63e6
[materials."bond glue"]
conductivity = 0.5
heat_capacity = 2e6

[[layer]]
name = "die"
thickness = 1e-4
material = "silicon"
power = true
active_thickness = 2e-6
[[layer]]
name = "bond"
thickness = 2e-5
material = "bond glue"
[[layer]]
name = "anisotropic"
thickness = 1e-5
conductivity = 0
conductivity_z = 3
heat_capacity = 1.5e6
[[layer]]
name = "spreader"
thickness = 1e-3
conductivity = 400
heat_capacity = 3.55e6
side = 0.02
''')
    stack = read_stack_toml(p)
    die, bond, aniso, spreader = stack.layers
    assert (stack.htc, stack.r_convec, stack.ambient) == (2000.0, None, 310.0)
    assert (die.conductivity, die.active_thickness, die.power) == (130.0, 2e-6, True)
    assert (bond.conductivity, bond.material, bond.power) == (0.5, "bond glue", False)
    assert (aniso.conductivity, aniso.conductivity_z, aniso.material) == (0.0, 3.0, None)
    assert (spreader.side, spreader.conductivity_z) == (0.02, 400.0)


def _copy_package_floorplans(tmp_path):
    for name in ("top.flp", "bond.flp", "bottom.flp", "two_die.ptrace"):
        shutil.copy(PACKAGE / name, tmp_path / name)


THREE_D = HEAD + '''
[[layer]]
name = "top"
thickness = 5e-5
material = "silicon"
power = true
floorplan = "top.flp"
[[layer]]
name = "bond"
thickness = 2e-5
conductivity = 0.5
heat_capacity = 2e6
floorplan = "bond.flp"
[[layer]]
name = "bottom"
thickness = 1.5e-4
material = "silicon"
power = true
floorplan = "bottom.flp"
[[layer]]
name = "spreader"
thickness = 1e-3
material = "copper"
side = 0.03
'''


def test_3d_stack_with_floorplans(tmp_path):
    _copy_package_floorplans(tmp_path)
    p = toml(tmp_path, THREE_D)
    stack = read_stack_toml(p, power=tmp_path / "two_die.ptrace")
    top, bond, bottom, spreader = stack.layers
    assert stack.die == (0.0, 0.0, 0.004, 0.004)  # bound: every power layer has a floorplan
    assert top.floorplan.total_power + bottom.floorplan.total_power == pytest.approx(11.3)
    assert bond.floorplan.total_power == 0.0
    i = bond.floorplan.names.index("tsv_bundle")
    assert bond.block_conductivity[i] == pytest.approx(80.0) and not stack.homogeneous
    # floorplan_dir: files found there rather than beside the TOML.
    (tmp_path / "elsewhere").mkdir()
    q = toml(tmp_path / "elsewhere", THREE_D)
    assert read_stack_toml(q, floorplan_dir=tmp_path).die == stack.die
    # No trace: power layers with floorplans carry zero watts.
    assert read_stack_toml(p).layers[0].floorplan.total_power == 0.0


def test_power_layer_without_floorplan_stays_unbound(tmp_path):
    _copy_package_floorplans(tmp_path)
    p = toml(tmp_path, HEAD + DIE + '[[layer]]\nname = "bond"\nthickness = 2e-5\n'
             'material = "tim"\nfloorplan = "bond.flp"\n')
    stack = read_stack_toml(p)
    assert stack.die is None and stack.layers[1].floorplan is not None
    fp = Floorplan.from_blocks(["a"], [0.0], [0.0], [0.004], [0.004], power=[3.0])
    assert stack.bound_to(fp).layers[0].floorplan is fp


def test_key_lines():
    text = ('a = 1\n[sink]\nr_convec = 0.1 # c\n[materials.cu]\nconductivity = 1\n'
            '[[layer]]\nname = "x"\n[[layer]]\n  name = "y"\nthickness = 1\n'
            'description = """\nfake = 1\n"""\n"quoted key".x = 2\n')
    lines = _key_lines(text)
    assert lines[("a",)] == 1 and lines[("sink",)] == 2 and lines[("sink", "r_convec")] == 3
    assert lines[("materials", "cu")] == 4 and lines[("materials", "cu", "conductivity")] == 5
    assert lines[("layer", 0)] == 6 and lines[("layer", 1, "name")] == 9
    assert lines[("layer", 1, "thickness")] == 10 and ("layer", 1, "fake") not in lines
    assert lines[("layer", 1, "quoted key", "x")] == 14


# ---------------------------------------------------------------------- errors
BAD_TOML = [
    (HEAD + DIE + "thickness = \n", 9, "invalid TOML: Invalid value"),
    (HEAD + DIE + 'name = "again"\n', 9, "invalid TOML"),
    ("colour = 1\n" + HEAD + DIE, 1, "unknown key 'colour' at the top level: expected ambient, "
     "sink, top, materials, layer"),
    (HEAD + "[top]\nr_convec = 1\nhtc = 5\n" + DIE, 6, "[top] takes one of r_convec (K/W) and "
     "htc (W/(m^2 K)), not both"),
    (HEAD + "[top]\nh = 5\n" + DIE, 5, "unknown key 'h' [top]: expected r_convec, htc"),
    (HEAD + "[top]\nhtc = -5\n" + DIE, 5, "'htc' must be positive"),
    (HEAD + "h = 1\n" + DIE, 4, "unknown key 'h' [sink]: expected r_convec, htc"),
    (HEAD + DIE + '[[layer]]\nname = "tim"\nthickness = 2e-5\nmaterial = "tim"\nk = 4\n', 13,
     "unknown key 'k' in a [[layer]]: expected name, thickness, material"),
    (HEAD + "[materials.x]\nconductivity = 1\nheat_capacity = 1\ndensity = 1\n" + DIE, 7,
     "unknown key 'density' [materials.x]"),
    (HEAD + "[materials.x]\nconductivity = 1\n" + DIE, 4, "'heat_capacity' is missing"),
    (HEAD + "[materials]\nx = 3\n" + DIE, 5, "materials.x must be a table"),
    ('ambient = "hot"\n[sink]\nr_convec = 1\n' + DIE, 1, "'ambient' must be a number, got a "
     "string 'hot'"),
    ("ambient = -1\n[sink]\nr_convec = 1\n" + DIE, 1, "'ambient' must be positive and finite"),
    ("sink = 3\n" + DIE, 1, "'sink' must be a table ([sink]), got int"),
    (DIE, None, "no [sink] table"),
    ("[sink]\n" + DIE, 1, "[sink] needs exactly one of r_convec (K/W) and htc (W/(m^2 K)), got "
     "neither"),
    ("[sink]\nr_convec = 1\nhtc = 1e3\n" + DIE, 3, "got r_convec and htc"),
    ("[sink]\nr_convec = 0\n" + DIE, 2, "'r_convec' must be positive"),
    (HEAD, None, "no layers"),
    ("layer = 3\n" + HEAD, 1, "no layers"),
    (HEAD + DIE.replace("1e-4", '"1e-4"'), 6, "'thickness' must be a number, got a string"),
    (HEAD + DIE.replace("1e-4", "-1e-4"), 6, "'thickness' must be positive and finite"),
    (HEAD + DIE.replace("1e-4", "inf"), 6, "'thickness' must be positive and finite, got inf"),
    (HEAD + DIE.replace("1e-4", "true"), 6, "'thickness' must be a number, got a boolean"),
    (HEAD + DIE.replace('thickness = 1e-4\n', ''), 4, "'thickness' is missing"),
    (HEAD + DIE.replace('name = "die"\n', ''), 4, "layer 1 needs a name"),
    (HEAD + DIE.replace('"die"', '""'), 5, "layer 1 needs a name"),
    (HEAD + DIE.replace("true", '"yes"'), 8, "'power' must be true or false, got a string 'yes'"),
    (HEAD + DIE.replace('"silicon"', "3"), 7, "'material' must be a string"),
    (HEAD + DIE.replace('"silicon"', '"unobtainium"'), 7,
     "layer 'die': unknown material 'unobtainium'; known materials: silicon, copper"),
    (HEAD + DIE + "conductivity = 100\n", 9, "give either material or conductivity and "
     "heat_capacity, not both"),
    (HEAD + DIE.replace('material = "silicon"', "conductivity = 100"), 7,
     "layer 'die' needs a material, or both conductivity and heat_capacity"),
    (HEAD + DIE.replace('material = "silicon"', "conductivity = 0\nheat_capacity = 1e6"), 7,
     "conductivity 0 (no lateral heat flow) needs conductivity_z"),
    (HEAD + DIE.replace('material = "silicon"', "conductivity = -1\nheat_capacity = 1e6"), 7,
     "'conductivity' must be non-negative and finite"),
    (HEAD + DIE + "active_thickness = 1e-3\n", 4, "active thickness 0.001 m exceeds the layer's "
     "thickness"),
    (HEAD + DIE + DIE, 10, "layer name 'die' repeats (also layer 1)"),
    (HEAD + DIE.replace("power = true", "power = false"), None, "no layer has power = true"),
    (HEAD + DIE + 'floorplan = "gone.flp"\n', 9, "floorplan file 'gone.flp' of layer 'die' not "
     "found"),
    (HEAD + DIE + 'floorplan = 3\n', 9, "'floorplan' must be a file name"),
    (HEAD + "[[layer]]\nname = 'x'\n[layer.sub]\nthickness = 1\n", 6, "unknown key 'sub'"),
]


@pytest.mark.parametrize("content,line,fragment", BAD_TOML)
def test_bad_toml(tmp_path, content, line, fragment):
    p = toml(tmp_path, content)
    expect_error(lambda: read_stack_toml(p), p, line, fragment)


def test_binary_and_missing(tmp_path):
    p = write(tmp_path, "b.toml", b"[sink]\n\x00")
    expect_error(lambda: read_stack_toml(p), p, 2, "binary")
    expect_error(lambda: read_stack_toml(tmp_path / "no.toml"), tmp_path / "no.toml", None,
                 "cannot read")


def test_footprint_errors_name_the_file_and_layer(tmp_path):
    _copy_package_floorplans(tmp_path)
    text = THREE_D.replace("side = 0.03", "side = 0.003")
    p = toml(tmp_path, text)
    expect_error(lambda: read_stack_toml(p, power=tmp_path / "two_die.ptrace"), p, 23,
                 "layer 'spreader' (3 x 3 mm) is smaller than the layer above it (4 x 4 mm)")


def test_floorplan_and_trace_errors(tmp_path):
    _copy_package_floorplans(tmp_path)
    p = toml(tmp_path, THREE_D)
    t = write(tmp_path, "short.ptrace", "t_core t_fpu\n1 2\n")
    expect_error(lambda: read_stack_toml(p, power=t), t, 1,
                 f"no power for 3 blocks of layer 'top' ({tmp_path / 'top.flp'})")
    (tmp_path / "bond.flp").write_text("x 1e-3 1e-3 0 0 1e6\n")
    expect_error(lambda: read_stack_toml(p), tmp_path / "bond.flp", 1, "6 columns")
    (tmp_path / "bond.flp").write_text("x 4e-3 4e-3 0 0 1e6 -2\n")
    expect_error(lambda: read_stack_toml(p), tmp_path / "bond.flp", 1,
                 "resistivity of block 'x' must be positive")
    (tmp_path / "bond.flp").write_text("x 5e-3 5e-3 0 0\n")
    expect_error(lambda: read_stack_toml(p), tmp_path / "bond.flp", None, "outline")
    both = toml(tmp_path, THREE_D.replace('"bottom.flp"', '"top.flp"'), "both.toml")
    expect_error(lambda: read_stack_toml(both), both, 22, "block 't_core' is in the floorplans of "
                 "two power layers, layer 'top'")
    assert np.isfinite(read_stack_toml(PACKAGE / "stack.toml").layers[0].conductivity)
