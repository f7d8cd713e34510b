"""thermesh: chip temperature from a floorplan, fine mesh only where it matters.

Data flow: floorplan -> (features -> prediction -> size field) -> mesh -> solve -> metrics -> report.
"""
__version__ = "0.1.0"

from thermal.errors import InputError, SolverError, ThermeshError
from thermal.floorplan import Floorplan, PowerMap, Rects
from thermal.io import read_floorplan, read_hotspot, read_json
from thermal.physics import LumpedDie
from thermal.series import SeriesSolution
from thermal.simulate import Solution, solve

__all__ = ["Floorplan", "PowerMap", "Rects", "LumpedDie", "SeriesSolution", "Solution", "solve",
           "read_floorplan", "read_hotspot", "read_json", "InputError", "SolverError",
           "ThermeshError", "__version__"]
