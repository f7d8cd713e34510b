"""thermesh: chip temperature from a floorplan, fine mesh only where it matters.

Data flow: floorplan -> (features -> prediction -> size field) -> mesh -> solve -> metrics -> report.
"""
from thermal.version import __version__

from thermal.errors import InputError, SolverError, ThermeshError
from thermal.geometry.floorplan import Floorplan, PowerMap, Rects
from thermal.io import read_floorplan, read_hotspot, read_json
from thermal.geometry.lumped import LumpedDie
from thermal.exact.series import SeriesSolution
from thermal.app.simulate import Solution, solve

__all__ = ["Floorplan", "PowerMap", "Rects", "LumpedDie", "SeriesSolution", "Solution", "solve",
           "read_floorplan", "read_hotspot", "read_json", "InputError", "SolverError",
           "ThermeshError", "__version__"]
