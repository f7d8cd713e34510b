"""A solved stack: the 3D field, and the die face as a :class:`~thermal.physics.solution.Solution`.

:func:`solve_stack_on` extrudes a plane mesh through the stack, solves (the sources' power
integrated exactly), and returns a :class:`StackSolution`. It *is* a Solution of the die face
(the top of layer 0, the junction side farthest from the sink), so everything that reads a
Solution (peaks, hotspots, block temperatures, reports, pictures) works on stacks unchanged;
it also carries the 3D field, the top face of every power layer and the heat leaving each face.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from skfem import MeshTri

from meshes.prism import PrismMesh
from thermal.geometry.floorplan import Floorplan
from thermal.physics.solution import Solution, block_statistics, element_centroids
from thermal.physics.solver import ElementGeometry
from thermal.geometry.stack import Stack
from thermal.physics.stack_solver import extrude, regions, solve_stack


@dataclass(frozen=True, eq=False)
class Face:
    """The top face of one power layer: its floorplan, triangles, and nodal rise."""

    layer: int            # index in the stack
    floorplan: Floorplan
    mesh: MeshTri
    rise: np.ndarray
    plane_elements: np.ndarray  # plane triangle of each face triangle

    @cached_property
    def area(self) -> np.ndarray:
        return ElementGeometry.of(self.mesh).area

    def block_temperatures(self, ambient: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, max, min) temperature of each block of the layer's floorplan, K."""
        return tuple(v + ambient for v in block_statistics(self.floorplan, self.mesh, self.rise, self.area))

    @property
    def peak(self) -> dict:
        i = int(np.argmax(self.rise))
        return {"rise": float(self.rise[i]), "x": float(self.mesh.p[0, i]), "y": float(self.mesh.p[1, i])}


@dataclass(eq=False)
class StackSolution(Solution):
    """The die face's :class:`Solution` plus the stack's 3D field.

    Extra attributes
    ----------------
    prisms : PrismMesh
    rise3d : ndarray (prisms.n_nodes,)
        Rise at every node, NaN at nodes outside every footprint.
    faces : list of Face
        The top face of each power layer (``faces[0]`` is this solution's own field).
    heat : dict
        Power in, heat out per face, the relative energy balance, unknowns.
    """

    prisms: PrismMesh | None = None
    rise3d: np.ndarray | None = None
    faces: list = field(default_factory=list)
    heat: dict = field(default_factory=dict)

    @cached_property
    def energy_balance_rel(self) -> float:
        return float(self.heat["energy_balance_rel"])

    #: HotSpot's steady-file prefixes of its package layers (temperature_grid.c), by our names.
    HOTSPOT_PREFIX = {"die": "", "interface": "iface_", "spreader": "hsp_", "sink": "hsink_",
                      "metal": "metal_", "c4": "c4_", "substrate": "sub_", "solder": "solder_",
                      "pcb": "pcb_"}

    def layer_averages(self) -> list[np.ndarray]:
        """Each layer's temperature averaged through its thickness at every plane node (K), as
        HotSpot's one node per layer means it (exact for the P1 field: trapezoid over levels)."""
        prisms, regs = self.prisms, regions(self.model)
        u = self.rise3d.reshape(prisms.n_levels, prisms.n_plane)
        out = []
        for n in range(len(self.model.layers)):
            subs = np.flatnonzero(np.isin(prisms.sublayer_region,
                                          [k for k, r in enumerate(regs) if r.layer == n]))
            d = prisms.z[subs + 1] - prisms.z[subs]
            avg = ((u[subs] + u[subs + 1]) * (d / 2)[:, None]).sum(axis=0) / d.sum()
            out.append(avg + self.model.ambient)
        return out

    @cached_property
    def _die_part(self) -> tuple[MeshTri, np.ndarray, np.ndarray]:
        """The plane's triangles on the die (the first power layer's footprint; layer 0 may be a
        board above it): mesh, nodes, areas."""
        regs = regions(self.model)
        die_layer = self.model.power_layers[0]
        top = max(k for k, r in enumerate(regs) if r.layer == die_layer)
        mesh, nodes, _ = face_mesh(self.prisms.plane, self.prisms.region_present[top])
        return mesh, nodes, ElementGeometry.of(mesh).area

    def steady_nodes(self) -> tuple[list[str], np.ndarray]:
        """HotSpot's ``.steady`` nodes: every layer's mean over each block of the die's floorplan
        (or the layer's own), layer-averaged, named as HotSpot names them: the die's blocks bare,
        then ``iface_``, ``hsp_``, ``hsink_``, the secondary path's ``pcb_``, ``solder_``,
        ``sub_``, ``c4_``, ``metal_``, other layers ``layer_<n>_``. HotSpot's peripheral
        spreader and sink nodes (``inode_``) have no counterpart in a continuous mesh."""
        mesh, nodes, area = self._die_part
        names, values = [], []
        for layer, avg in zip(self.model.layers, self.layer_averages()):
            fp = layer.floorplan or self.floorplan
            prefix = self.HOTSPOT_PREFIX.get(layer.name, f"{layer.name}_")
            mean = block_statistics(fp, mesh, avg[nodes] - self.model.ambient, area)[0]
            names += [prefix + b for b in fp.names]
            values.append(mean + self.model.ambient)
        return names, np.concatenate(values)

    def layer_grids(self, xs: np.ndarray, ys: np.ndarray) -> list[np.ndarray]:
        """Every layer's through-thickness average on the grid ``xs`` x ``ys`` over the die
        (ny, nx), K."""
        from meshes.locate import PointLocator

        mesh, nodes, _ = self._die_part
        locator = PointLocator(mesh)
        return [locator.interpolate_grid(avg[nodes], xs, ys) for avg in self.layer_averages()]

    def face_solution(self, i: int) -> Solution:
        """Power layer ``i``'s face as a plain :class:`Solution` (its own floorplan and mesh)."""
        if i == 0:
            return self
        face = self.faces[i]
        block = face.floorplan.block_at(*element_centroids(face.mesh))
        return Solution(face.floorplan, self.model, face.mesh, face.rise, block, self.timing,
                        self.mesh_info, self.solver)

    def layer_peaks(self) -> list[dict]:
        """Peak of each power layer's top face."""
        out = []
        for face in self.faces:
            p = face.peak
            out.append({"layer": int(face.layer), "name": self.model.layers[face.layer].name,
                        "temperature": p["rise"] + self.model.ambient, **p})
        return out


def face_mesh(plane: MeshTri, present: np.ndarray) -> tuple[MeshTri, np.ndarray, np.ndarray]:
    """The triangles of ``plane`` where ``present``: (mesh, plane node of each mesh node,
    plane triangle of each mesh triangle)."""
    tris = np.flatnonzero(present)
    t = plane.t[:, tris]
    nodes, inverse = np.unique(t, return_inverse=True)
    return (MeshTri(np.ascontiguousarray(plane.p[:, nodes]), np.ascontiguousarray(inverse.reshape(t.shape))),
            nodes, tris)


def solve_stack_on(floorplan: Floorplan, stack: Stack, plane: MeshTri, mesh_info: dict,
                   timing: dict | None = None, z_size: float | None = None) -> StackSolution:
    """Extrude ``plane`` (covering ``stack.outline``) through ``stack``, solve, and return the
    die face's solution with the 3D field."""
    from meshes import quality

    timing = dict(timing or {})
    start = time.perf_counter()
    prisms = extrude(stack, plane, z_size)
    timing["mesh_s"] = timing.get("mesh_s", 0.0) + time.perf_counter() - start
    geometry = ElementGeometry.of(plane)
    rise3d, info, heat = solve_stack(stack, prisms, geometry)
    timing["assemble_s"] = heat.pop("assemble_s")
    timing["solve_s"] = info.seconds
    faces = _faces(stack, prisms, rise3d)
    die = faces[0]
    block = die.floorplan.block_at(*element_centroids(die.mesh))
    info_all = {**mesh_info, **quality(die.mesh), "plane_elements": int(plane.t.shape[1]),
                "levels": int(prisms.n_levels), "prisms": int(prisms.n_prisms),
                "sublayers": _sublayers(stack, prisms)}
    sol = StackSolution(die.floorplan, stack, die.mesh, die.rise, block, timing, info_all, info,
                        prisms=prisms, rise3d=rise3d, faces=faces, heat=heat)
    return sol


def _faces(stack: Stack, prisms: PrismMesh, rise3d: np.ndarray) -> list[Face]:
    regs = regions(stack)
    faces = []
    for layer in stack.power_layers:
        top_region = max(k for k, r in enumerate(regs) if r.layer == layer)
        _, top_level = prisms.region_levels(top_region)
        mesh, nodes, tris = face_mesh(prisms.plane, prisms.region_present[top_region])
        rise = rise3d[top_level * prisms.n_plane + nodes]
        faces.append(Face(layer, stack.layers[layer].floorplan, mesh, rise, tris))
    return faces


def _sublayers(stack: Stack, prisms: PrismMesh) -> dict:
    counts = np.bincount(prisms.sublayer_region, minlength=len(regions(stack)))
    out: dict = {}
    for k, r in enumerate(regions(stack)):
        name = stack.layers[r.layer].name
        out[name] = out.get(name, 0) + int(counts[k])
    return out


# ------------------------------------------------------------------ any model, any mesh method
def solve_model_on(floorplan: Floorplan, model, mesh: MeshTri, mesh_info: dict,
                   timing: dict | None = None) -> Solution:
    """:func:`thermal.physics.solution.solve_on` for the lumped die, :func:`solve_stack_on` for a stack
    (then ``mesh`` is the plane mesh over the stack's outline)."""
    from thermal.physics.solution import solve_on

    if isinstance(model, Stack):
        return solve_stack_on(floorplan, model, mesh, mesh_info, timing)
    return solve_on(floorplan, model, mesh, mesh_info, timing)


def _extra(floorplan: Floorplan, conform: bool):
    return floorplan.edges if conform else None


def mesh_for_field(floorplan: Floorplan, model, field, budget: int | None = None,
                   conform: bool = False):
    """The mesh a size field over the die asks for: of the die, or for a stack of its outline
    (the field graded out over the spreader and sink). Returns (mesh, stats)."""
    from meshes.adapt import adapted
    from meshes.size_field import as_size_field
    from thermal.physics.stack_solver import field_plane

    if isinstance(model, Stack):
        return field_plane(model, as_size_field(field, floorplan.die), budget, _extra(floorplan, conform))
    return adapted(floorplan.domain(conform), field, budget=budget)


def uniform_mesh(floorplan: Floorplan, model, resolution: int, conform: bool = False) -> MeshTri:
    """``resolution`` cells along the die's longer side (graded outside the die for a stack)."""
    from meshes.uniform import init_uniform
    from thermal.physics.stack_solver import uniform_plane

    if isinstance(model, Stack):
        return uniform_plane(model, resolution, _extra(floorplan, conform))
    return init_uniform(floorplan.domain(conform), resolution)


def base_mesh(floorplan: Floorplan, model, conform: bool = False) -> MeshTri:
    """The coarsest mesh of the die, or of the stack's plane."""
    from meshes.base import init_base
    from thermal.physics.stack_solver import base_plane

    if isinstance(model, Stack):
        return base_plane(model, _extra(floorplan, conform))
    return init_base(floorplan.domain(conform))
