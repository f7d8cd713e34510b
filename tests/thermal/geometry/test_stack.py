"""Stacks as data: validation, footprints, HotSpot's defaults."""
import numpy as np
import pytest

from tests.conftest import grid_floorplan
from thermal.errors import InputError
from thermal.geometry.stack import HOTSPOT_DEFAULTS, Layer, Stack, equal_footprint, hotspot_package


@pytest.mark.parametrize("kwargs,message", [
    ({"thickness": 0.0}, "thickness must be positive"),
    ({"thickness": float("nan")}, "thickness must be finite"),
    ({"conductivity": -1.0}, "conductivity must not be negative"),
    ({"conductivity_z": 0.0}, "conductivity_z must be positive"),
    ({"heat_capacity": float("inf")}, "heat_capacity must be finite"),
    ({"side": -1e-3}, "side must be positive"),
    ({"active_thickness": 1.0}, "exceeds the layer's thickness"),
])
def test_bad_layers_are_refused(kwargs, message):
    args = {"name": "die", "thickness": 1e-4, "conductivity": 100.0, "heat_capacity": 1e6, **kwargs}
    with pytest.raises(InputError, match=message):
        Layer(**args)


def test_stack_checks():
    die = Layer("die", 1e-4, 100.0, 1e6, power=True)
    with pytest.raises(InputError, match="exactly one of r_convec"):
        Stack((die,))
    with pytest.raises(InputError, match="no power layer"):
        Stack((Layer("x", 1e-4, 1.0, 1e6),), htc=1e4)
    with pytest.raises(InputError, match="repeat"):
        Stack((die, die), htc=1e4)
    fp = grid_floorplan(2, 2)  # 4 mm
    with pytest.raises(InputError, match="smaller than the layer above"):
        hotspot_package({"s_spreader": 0.01, "s_sink": 0.005}, floorplan=fp)
    with pytest.raises(InputError, match="smaller than the layer above"):
        hotspot_package({"s_spreader": 0.003}, floorplan=fp)
    # Above the first power layer the stack widens upwards (a secondary path to the board).
    with pytest.raises(InputError, match="'substrate' .* smaller than the layer below"):
        hotspot_package({"model_secondary": 1, "s_sub": 0.003, "s_solder": 0.003}, floorplan=fp)
    with pytest.raises(InputError, match="at most one of r_convec_top"):
        Stack((die,), htc=1e4, htc_top=1.0, r_convec_top=1.0)


def test_secondary_path_convects_from_the_top():
    fp = grid_floorplan(2, 2)
    s = hotspot_package({"model_secondary": 1, "r_convec_sec": 2.0}, floorplan=fp)
    assert s.top_htc == pytest.approx(1 / (2.0 * 0.1 ** 2)) and s.outline == s.footprint(s.layers[0])
    assert s.as_dict()["r_convec_top"] == 2.0
    assert hotspot_package(floorplan=fp).top_htc == 0.0
    assert Stack(s.layers, htc=1e4, htc_top=50.0).top_htc == 50.0


def test_hotspot_package_defaults_and_footprints():
    fp = grid_floorplan(2, 2)
    s = hotspot_package(floorplan=fp)
    assert [l.thickness for l in s.layers] == [HOTSPOT_DEFAULTS[k] for k in ("t_chip", "t_interface", "t_spreader", "t_sink")]
    assert s.footprint(s.layers[3]) == pytest.approx((-0.028, -0.028, 0.032, 0.032))
    assert s.outline == s.footprint(s.layers[3])
    assert s.sink_htc == pytest.approx(1 / (0.1 * 0.06 ** 2))
    assert not s.equal_footprints and s.homogeneous
    e = equal_footprint(s)
    assert e.equal_footprints and e.sink_htc == pytest.approx(1 / (0.1 * 0.004 ** 2))
    # Interfaces: every footprint outline.
    assert len(s.interfaces) == 4
    assert s.as_dict()["layers"][2]["footprint"] == {"square_side": 0.03}


def test_block_materials_need_one_value_per_block():
    fp = grid_floorplan(2, 2)
    with pytest.raises(InputError, match="one value per block"):
        Layer("bond", 1e-5, 1.0, 1e6, floorplan=fp, block_conductivity=np.array([1.0]))
    with pytest.raises(InputError, match="positive and finite"):
        Layer("bond", 1e-5, 1.0, 1e6, floorplan=fp, block_conductivity=np.array([1.0, -2.0, np.nan, 3.0]))
    layer = Layer("bond", 1e-5, 1.0, 1e6, floorplan=fp, block_conductivity=np.array([400.0, np.nan, np.nan, np.nan]))
    stack = Stack((Layer("die", 1e-4, 100.0, 1e6, power=True), layer), htc=1e4).bound_to(fp)
    assert not stack.homogeneous and len(stack.interfaces) == 2 + 1
