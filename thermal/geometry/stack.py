"""A chip's package and 3D stack: layers of material from the junction down to the heat sink.

A :class:`Stack` lists its :class:`Layer` s from the one farthest from the sink (HotSpot's layer
0, the die's junction side on top) down to the sink, whose outer face convects to ambient; layer 0's
top face may convect too (a path to the board). Every other face is adiabatic. Each layer has a thickness, an in-plane and a through-plane
conductivity, a volumetric heat capacity, a footprint (the die's rectangle, or a square of given
side centred on the die, as HotSpot's spreader and sink are) and optionally a floorplan: a
*power layer* dissipates its floorplan's block power uniformly through its thickness (HotSpot's
convention; or in a thin top sub-layer, 3D-ICE's, with ``active_thickness``), and per-block
materials (HotSpot's ``.flp`` 6th and 7th columns) make blocks of other conductivity and heat
capacity (TSV bundles in a bond layer, say).

This module is geometry and materials only: the physics (the layered series, the prism
solver) lives in :mod:`thermal.exact.layered` and :mod:`thermal.physics.stack_solver`.

:func:`hotspot_package` builds HotSpot's default package around a die: die 0.15 mm (k = 100),
TIM 20 um (k = 4), spreader 30 x 30 x 1 mm (k = 400), sink 60 x 60 x 6.9 mm (k = 400),
``r_convec`` 0.1 K/W over the sink's face, ambient 318.15 K (HotSpot 7.0's built-in defaults,
``package.c``/``temperature.c`` ``default_thermal_config``). With ``model_secondary`` it also
builds HotSpot's secondary heat path above the die (the board side of a flip-chip): on-chip
metal and C4/underfill over the die, package substrate, solder balls and PCB as centred squares,
the PCB's face convecting through ``r_convec_sec`` (:data:`HOTSPOT_SECONDARY_DEFAULTS`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan, Rects

#: HotSpot 7.0's built-in package (``default_thermal_config`` in temperature.c).
HOTSPOT_DEFAULTS = {
    "t_chip": 0.15e-3, "k_chip": 100.0, "p_chip": 1.75e6,
    "t_interface": 20e-6, "k_interface": 4.0, "p_interface": 4.0e6,
    "s_spreader": 0.03, "t_spreader": 1e-3, "k_spreader": 400.0, "p_spreader": 3.55e6,
    "s_sink": 0.06, "t_sink": 6.9e-3, "k_sink": 400.0, "p_sink": 3.55e6,
    "r_convec": 0.1, "c_convec": 140.4, "ambient": 318.15,
}

#: HotSpot 7.0's secondary heat path and its defaults (temperature.c ``default_thermal_config``,
#: lines 51-64). ``n_metal``, ``s_c4`` and ``n_c4`` feed only HotSpot's block model; its grid
#: model, like this one, uses the layer thicknesses and the materials below.
HOTSPOT_SECONDARY_DEFAULTS: dict[str, float | int] = {
    "model_secondary": 0, "r_convec_sec": 1.0, "c_convec_sec": 140.4, "n_metal": 8,
    "t_metal": 10.0e-6, "t_c4": 0.0001, "s_c4": 20.0e-6, "n_c4": 400, "s_sub": 0.021,
    "t_sub": 0.001, "s_solder": 0.021, "t_solder": 0.00094, "s_pcb": 0.1, "t_pcb": 0.002,
}
#: The secondary path's fixed materials: conductivity 1/RHO_* W/(m K) and SPEC_HEAT_* J/(m^3 K)
#: (temperature.h:89-112).
HOTSPOT_SECONDARY_MATERIALS = {
    "metal": (1 / 0.0025, 3.55e6), "c4": (1 / 0.8, 1.65e6), "substrate": (1 / 0.5, 1.6e6),
    "solder": (1 / 0.06, 2.1e6), "pcb": (1 / 0.333, 1.32e6),
}


@dataclass(frozen=True)
class Material:
    """A named material: conductivity W/(m K) and volumetric heat capacity J/(m^3 K)."""

    name: str
    conductivity: float
    heat_capacity: float

    def __post_init__(self) -> None:
        _check_positive(f"material '{self.name}'", conductivity=self.conductivity,
                        heat_capacity=self.heat_capacity)


@dataclass(frozen=True, eq=False)
class Layer:
    """One layer of a stack.

    Parameters
    ----------
    name : str
    thickness : float
        Metres.
    conductivity : float
        In-plane conductivity, W/(m K); 0 for a layer without lateral heat flow (HotSpot's LCF
        flag ``N``).
    heat_capacity : float
        Volumetric, J/(m^3 K).
    conductivity_z : float, optional
        Through-plane conductivity (default: ``conductivity``, isotropic).
    side : float, optional
        The footprint is a square of this side centred on the die; by default the die's own
        rectangle.
    floorplan : Floorplan, optional
        Blocks of this layer: their power if ``power`` (a power layer with no floorplan takes
        the floorplan the stack is solved for), their materials if ``block_conductivity`` or
        ``block_heat_capacity`` are given.
    power : bool
        Whether the layer dissipates its floorplan's power.
    block_conductivity, block_heat_capacity : ndarray, optional
        Per-block isotropic conductivity and volumetric heat capacity, aligned with the
        floorplan's blocks; NaN keeps the layer's value.
    active_thickness : float, optional
        Power dissipated only in this top slice of the layer (3D-ICE's active layer) rather
        than through its whole thickness (HotSpot's).
    material : str, optional
        The material's name, for reports.
    """

    name: str
    thickness: float
    conductivity: float
    heat_capacity: float
    conductivity_z: float | None = None
    side: float | None = None
    floorplan: Floorplan | None = None
    power: bool = False
    block_conductivity: np.ndarray | None = None
    block_heat_capacity: np.ndarray | None = None
    active_thickness: float | None = None
    material: str | None = None

    def __post_init__(self) -> None:
        where = f"layer '{self.name}'"
        _check_positive(where, thickness=self.thickness, heat_capacity=self.heat_capacity)
        _check_finite(where, conductivity=self.conductivity)
        if self.conductivity < 0:
            raise InputError("<stack>", f"{where}: conductivity must not be negative, got {self.conductivity!r}")
        kz = self.conductivity if self.conductivity_z is None else self.conductivity_z
        _check_positive(where, conductivity_z=kz)
        object.__setattr__(self, "conductivity_z", float(kz))
        if self.side is not None:
            _check_positive(where, side=self.side)
        if self.active_thickness is not None:
            _check_positive(where, active_thickness=self.active_thickness)
            if self.active_thickness > self.thickness:
                raise InputError("<stack>", f"{where}: active thickness {self.active_thickness:g} m "
                                 f"exceeds the layer's thickness {self.thickness:g} m")
        for name in ("block_conductivity", "block_heat_capacity"):
            values = getattr(self, name)
            if values is None:
                continue
            values = np.asarray(values, float).reshape(-1)
            if self.floorplan is None or values.size != len(self.floorplan.names):
                raise InputError("<stack>", f"{where}: {name} needs one value per block of its floorplan")
            given = values[~np.isnan(values)]
            if (~np.isfinite(given)).any() or (given <= 0).any():
                raise InputError("<stack>", f"{where}: {name} must be positive and finite (NaN: the layer's)")
            object.__setattr__(self, name, values)

    @property
    def has_block_materials(self) -> bool:
        return self.block_conductivity is not None or self.block_heat_capacity is not None

    @property
    def block_conductivity_ratio(self) -> np.ndarray:
        """Each block's conductivity over the layer's through-plane one (1 where the block keeps
        the layer's); needs ``block_conductivity``."""
        k = self.block_conductivity
        return np.where(np.isnan(k), 1.0, k / self.conductivity_z)

    def as_dict(self) -> dict:
        out = {"name": self.name, "thickness": self.thickness, "conductivity": self.conductivity,
               "conductivity_z": self.conductivity_z, "heat_capacity": self.heat_capacity,
               "footprint": "die" if self.side is None else {"square_side": self.side},
               "power": self.power}
        if self.material:
            out["material"] = self.material
        if self.floorplan is not None:
            out["floorplan"] = self.floorplan.source
            out["blocks"] = len(self.floorplan.names)
        if self.has_block_materials:
            out["block_materials"] = int(np.count_nonzero(~np.isnan(self._block_values())))
        if self.active_thickness is not None:
            out["active_thickness"] = self.active_thickness
        return out

    def _block_values(self) -> np.ndarray:
        k = self.block_conductivity if self.block_conductivity is not None else self.block_heat_capacity
        return np.asarray(k)


@dataclass(frozen=True, eq=False)
class Stack:
    """Layers from the junction (index 0) down to the sink (last), and the sink's convection.

    Parameters
    ----------
    layers : sequence of Layer
        Layer 0 is farthest from the sink; the last layer's bottom face convects to ambient.
    r_convec : float, optional
        Convection resistance over the whole bottom face, K/W (HotSpot's ``r_convec``).
    htc : float, optional
        Or a heat-transfer coefficient over that face, W/(m^2 K). Exactly one is given.
    ambient : float
        K.
    r_convec_top, htc_top : float, optional
        The top face of layer 0 convects too (HotSpot's secondary path ends in ``r_convec_sec``
        over the PCB's face): a resistance over that face, K/W, or a heat-transfer coefficient.
        At most one; by default that face is adiabatic.
    c_convec, c_convec_top : float
        Heat capacity of the convection at the sink's face and at the top face, J/K, spread
        over the face (HotSpot's ``c_convec`` and ``c_convec_sec``; transients only).
    die : tuple, optional
        (x0, y0, x1, y1) of the die; set from the floorplan when the stack is bound to one.
    source : str
        Where the stack came from, for messages and ``result.json``.
    ignored : tuple of str
        Configuration keys read but not used (HotSpot's DTM, leakage, grid sizes...).
    """

    layers: tuple[Layer, ...]
    r_convec: float | None = None
    htc: float | None = None
    ambient: float = HOTSPOT_DEFAULTS["ambient"]
    r_convec_top: float | None = None
    htc_top: float | None = None
    c_convec: float = 0.0
    c_convec_top: float = 0.0
    die: tuple[float, float, float, float] | None = None
    source: str = "<stack>"
    ignored: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise InputError(self.source, "a stack needs at least one layer")
        if (self.r_convec is None) == (self.htc is None):
            raise InputError(self.source, "give exactly one of r_convec (K/W) and htc (W/(m^2 K))")
        for name in ("c_convec", "c_convec_top"):
            value = getattr(self, name)
            _check_finite(self.source, **{name: value})
            if value < 0:
                raise InputError(self.source, f"{name} must not be negative, got {value!r}")
        if self.r_convec_top is not None and self.htc_top is not None:
            raise InputError(self.source, "give at most one of r_convec_top (K/W) and htc_top (W/(m^2 K))")
        _check_positive(self.source, **{k: v for k, v in (
            ("r_convec", self.r_convec), ("htc", self.htc), ("ambient", self.ambient),
            ("r_convec_top", self.r_convec_top), ("htc_top", self.htc_top)) if v is not None})
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise InputError(self.source, f"layer names repeat: {', '.join(names)}")
        if not any(layer.power for layer in self.layers):
            raise InputError(self.source, "no power layer in the stack")
        if self.die is not None:
            self._check_footprints()

    # ------------------------------------------------------------------ binding to a die
    def bound_to(self, floorplan: Floorplan) -> "Stack":
        """This stack around ``floorplan``'s die: power layers without a floorplan of their own
        take it, and footprints are checked (:meth:`_check_footprints`)."""
        layers = tuple(replace(layer, floorplan=floorplan) if layer.power and layer.floorplan is None
                       else layer for layer in self.layers)
        return replace(self, layers=layers, die=tuple(float(v) for v in floorplan.die))

    def _check_footprints(self) -> None:
        """From the first power layer down to the sink every layer covers the one above it;
        above that layer (a secondary path towards the board) every layer covers the one
        below it."""
        x0, y0, x1, y1 = self.die
        first = self.power_layers[0]
        boxes = [self.footprint(layer) for layer in self.layers]
        for i, layer in enumerate(self.layers):
            if i != first:
                inner = boxes[i - 1] if i > first else boxes[i + 1]
                if not _covers(boxes[i], inner):
                    side = "above" if i > first else "below"
                    raise InputError(self.source, f"layer '{layer.name}' ({_describe(*boxes[i])}) "
                                     f"is smaller than the layer {side} it ({_describe(*inner)})")
            fp = layer.floorplan
            if fp is not None and any(abs(a - b) > 1e-9 * max(x1 - x0, y1 - y0)
                                      for a, b in zip(fp.die, self.footprint(layer))):
                raise InputError(fp.source, f"layer '{layer.name}': the floorplan's outline "
                                 f"({_describe(*fp.die)}) is not the layer's footprint "
                                 f"({_describe(*boxes[i])})")

    def footprint(self, layer: Layer) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of ``layer``: the die, or its centred square."""
        if self.die is None:
            raise ValueError("the stack is not bound to a die yet (Stack.bound_to)")
        x0, y0, x1, y1 = self.die
        if layer.side is None:
            return self.die
        cx, cy, s = 0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.5 * layer.side
        return (cx - s, cy - s, cx + s, cy + s)

    # ------------------------------------------------------------------ derived
    @property
    def power_layers(self) -> list[int]:
        return [i for i, layer in enumerate(self.layers) if layer.power]

    @property
    def outline(self) -> tuple[float, float, float, float]:
        """The largest footprint: what the in-plane mesh covers."""
        boxes = np.array([self.footprint(layer) for layer in self.layers])
        return (float(boxes[:, 0].min()), float(boxes[:, 1].min()),
                float(boxes[:, 2].max()), float(boxes[:, 3].max()))

    @property
    def sink_htc(self) -> float:
        """Heat-transfer coefficient over the bottom face, W/(m^2 K)."""
        if self.htc is not None:
            return float(self.htc)
        x0, y0, x1, y1 = self.footprint(self.layers[-1])
        return 1.0 / (self.r_convec * (x1 - x0) * (y1 - y0))

    @property
    def top_htc(self) -> float:
        """Heat-transfer coefficient over layer 0's top face, W/(m^2 K); 0 if adiabatic."""
        if self.htc_top is not None:
            return float(self.htc_top)
        if self.r_convec_top is None:
            return 0.0
        x0, y0, x1, y1 = self.footprint(self.layers[0])
        return 1.0 / (self.r_convec_top * (x1 - x0) * (y1 - y0))

    @property
    def equal_footprints(self) -> bool:
        """Every layer covers exactly the die (an exact series solution may exist)."""
        return all(self.footprint(layer) == self.die for layer in self.layers)

    @property
    def homogeneous(self) -> bool:
        """No layer has blocks of other materials."""
        return not any(layer.has_block_materials for layer in self.layers)

    @property
    def interfaces(self) -> Rects:
        """Rectangles whose sides a mesh must follow: every footprint, and every block with a
        material of its own."""
        boxes = [self.footprint(layer) for layer in self.layers]
        rects = [np.array(boxes, float).T]
        for layer in self.layers:
            if layer.has_block_materials:
                own = ~np.isnan(layer._block_values())
                b = layer.floorplan.blocks
                rects.append(np.array([b.x0[own], b.y0[own], b.x1[own], b.y1[own]]))
        x0, y0, x1, y1 = np.hstack(rects)
        return Rects(x0, y0, x1, y1)

    def as_dict(self) -> dict:
        out = {"model": "stack", "source": self.source, "ambient": self.ambient,
               "layers": [layer.as_dict() for layer in self.layers]}
        out["r_convec" if self.r_convec is not None else "htc"] = (
            self.r_convec if self.r_convec is not None else self.htc)
        if self.c_convec:
            out["c_convec"] = self.c_convec
        if self.r_convec_top is not None:
            out["r_convec_top"] = self.r_convec_top
        if self.c_convec_top:
            out["c_convec_top"] = self.c_convec_top
        if self.htc_top is not None:
            out["htc_top"] = self.htc_top
        if self.die is not None:
            out["sink_htc"] = self.sink_htc
            if self.top_htc:
                out["top_htc"] = self.top_htc
        if self.ignored:
            out["ignored_keys"] = list(self.ignored)
        return out


def hotspot_package(params: dict | None = None, *, floorplan: Floorplan | None = None,
                    source: str = "HotSpot defaults", ignored: Sequence[str] = ()) -> Stack:
    """HotSpot's package around one die: die (power layer), TIM, spreader, sink; with
    ``model_secondary`` the secondary path above the die (:func:`secondary_layers`).

    ``params`` overrides :data:`HOTSPOT_DEFAULTS` and :data:`HOTSPOT_SECONDARY_DEFAULTS` with
    HotSpot's key names (``t_chip``, ``k_sink``, ``r_convec``, ``t_pcb``...); conductivities and
    heat capacities must already reflect any ``material_*`` names
    (:mod:`thermal.io.hotspot_config` resolves them).
    """
    p = {**HOTSPOT_DEFAULTS, **HOTSPOT_SECONDARY_DEFAULTS, **(params or {})}
    layers = (
        Layer("die", p["t_chip"], p["k_chip"], p["p_chip"], power=True, material=p.get("material_chip")),
        Layer("interface", p["t_interface"], p["k_interface"], p["p_interface"],
              material=p.get("material_interface")),
        Layer("spreader", p["t_spreader"], p["k_spreader"], p["p_spreader"], side=p["s_spreader"],
              material=p.get("material_spreader")),
        Layer("sink", p["t_sink"], p["k_sink"], p["p_sink"], side=p["s_sink"],
              material=p.get("material_sink")),
    )
    top, c_top = None, 0.0
    if p["model_secondary"]:
        layers = (*secondary_layers(p, chip_layers=True), *layers)
        top, c_top = p["r_convec_sec"], p["c_convec_sec"]
    stack = Stack(layers, r_convec=p["r_convec"], ambient=p["ambient"], r_convec_top=top,
                  c_convec=p["c_convec"], c_convec_top=c_top, source=source, ignored=tuple(ignored))
    return stack.bound_to(floorplan) if floorplan is not None else stack


def secondary_layers(params: dict, chip_layers: bool) -> tuple[Layer, ...]:
    """HotSpot's secondary heat path, top (the PCB) first: PCB, solder balls and package
    substrate (centred squares ``s_pcb``, ``s_solder``, ``s_sub``), then, with ``chip_layers``
    (HotSpot adds them only without an LCF), C4/underfill and on-chip metal over the die
    (temperature_grid.c:497-603, the materials of temperature.h:89-112)."""
    p = {**HOTSPOT_SECONDARY_DEFAULTS, **params}
    m = HOTSPOT_SECONDARY_MATERIALS
    out = [Layer("pcb", p["t_pcb"], *m["pcb"], side=p["s_pcb"], material="pcb"),
           Layer("solder", p["t_solder"], *m["solder"], side=p["s_solder"], material="solder"),
           Layer("substrate", p["t_sub"], *m["substrate"], side=p["s_sub"], material="substrate")]
    if chip_layers:
        out += [Layer("c4", p["t_c4"], *m["c4"], material="c4"),
                Layer("metal", p["t_metal"], *m["metal"], material="metal")]
    return tuple(out)


def equal_footprint(stack: Stack) -> Stack:
    """The same stack with every layer cut to the die's footprint (r_convec then applies over
    the smaller face): the variant with an exact series solution."""
    return replace(stack, layers=tuple(replace(layer, side=None) for layer in stack.layers))


# ---------------------------------------------------------------------- validation helpers
def _check_finite(where: str, **values) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InputError("<stack>", f"{where}: {name} must be a number, got {value!r}")
        if not np.isfinite(value):
            raise InputError("<stack>", f"{where}: {name} must be finite, got {value!r}")


def _check_positive(where: str, **values) -> None:
    _check_finite(where, **values)
    for name, value in values.items():
        if value <= 0:
            raise InputError("<stack>", f"{where}: {name} must be positive, got {value!r}")


def _covers(outer, inner) -> bool:
    return (outer[0] <= inner[0] + 1e-12 and outer[1] <= inner[1] + 1e-12
            and outer[2] >= inner[2] - 1e-12 and outer[3] >= inner[3] - 1e-12)


def _describe(x0, y0, x1, y1) -> str:
    return f"{(x1 - x0) * 1e3:.4g} x {(y1 - y0) * 1e3:.4g} mm"
