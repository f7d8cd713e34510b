"""Thermal models of the die.

The lumped die model: the die is a thin plate of conductivity ``k`` and thickness ``t`` whose
heat leaves through the package to ambient with an effective heat-transfer coefficient ``h``::

    -div(k t grad T) + h (T - T_amb) = q(x, y)    on the die,   zero flux on its edges,

with ``q`` the power density of the heat sources (W/m^2). Unknowns are the temperature rise
``u = T - T_amb``. Every model exposes the same small interface — sheet conductance, sink
coefficient, ambient, :meth:`as_dict` — so a layered stack (die, TIM, spreader, sink) can later
be another class with its own assembly without the mesher or the solver's callers changing.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from thermal.errors import InputError

#: Parameter names, units and the CLI/TOML keys that set them.
PARAMETERS = {
    "conductivity": "W/(m K)",
    "thickness": "m",
    "htc": "W/(m^2 K)",
    "ambient": "K",
    "heat_capacity": "J/(m^3 K)",
}


@dataclass(frozen=True)
class LumpedDie:
    """Single-layer die with an effective heat-transfer coefficient to ambient.

    Defaults: silicon at operating temperature, ``k = 100 W/(m K)`` and ``t = 0.15 mm`` (HotSpot's
    die), ambient 318.15 K (45 C, HotSpot's), and ``h = 1e4 W/(m^2 K)``, i.e. a junction-to-ambient
    area resistance of 1 K cm^2/W, typical of a heat sink and spreader under forced air
    (a 1 cm^2 die then has R_ja = 1 K/W). See the README for how to choose ``h``. The
    volumetric heat capacity (transients only) defaults to HotSpot's ``p_chip``, 1.75e6 J/(m^3 K).
    """

    conductivity: float = 100.0
    thickness: float = 0.15e-3
    htc: float = 1.0e4
    ambient: float = 318.15
    heat_capacity: float = 1.75e6

    def __post_init__(self) -> None:
        for name in PARAMETERS:
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.floating, np.integer)) or isinstance(value, bool):
                raise InputError("<parameters>", f"{name} must be a number, got {value!r}")
            if not np.isfinite(value) or value <= 0:
                raise InputError("<parameters>", f"{name} must be positive and finite, got {value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def sheet_conductance(self) -> float:
        """k t, W/K: the in-plane conductance of the die."""
        return self.conductivity * self.thickness

    @property
    def thermal_length(self) -> float:
        """sqrt(k t / h), m: how far heat spreads sideways before it leaves through the package."""
        return float(np.sqrt(self.sheet_conductance / self.htc))

    def as_dict(self) -> dict:
        return asdict(self)
