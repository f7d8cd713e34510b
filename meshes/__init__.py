"""Block-conforming triangle meshes: the coarse base mesh, uniform meshes, statistics and I/O."""
from meshes.base import conforms, init_base, quality
from meshes.io import read_vtu, write_vtu
from meshes.locate import PointLocator
from meshes.uniform import init_tensor, init_uniform

__all__ = ["init_base", "init_uniform", "init_tensor", "quality", "conforms", "PointLocator",
           "write_vtu", "read_vtu"]
