"""``thermesh transient``: the temperature over a power trace, row by row.

Every row of the trace is an interval of constant power (``--sampling-interval``, HotSpot's
``sampling_intvl``). One mesh serves the whole trace: the steady methods' mesh for the
*envelope* of the rows (each block at its largest power over the trace), so a block that is hot
in any row gets the elements it needs then; or, with ``adaptive``, the mesh for the trace's own
screened hottest moments (:func:`screened_mesh`). The run starts from the ambient, the steady state of
the mean row (HotSpot's usual start), a uniform temperature, or a block file. The rows are
integrated exactly in a reduced basis fitted to the trace (:mod:`thermal.physics.reduced_order`,
the default) or in ``substeps`` TR-BDF2 steps each on the whole mesh
(:mod:`thermal.physics.transient`), and the outputs are streamed into the staging folder as the
run goes (bounded memory for long traces).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from thermal.errors import InputError
from thermal.geometry.floorplan import Floorplan
from thermal.geometry.stack import Stack

#: HotSpot's default sampling interval (``sampling_intvl``), s.
HOTSPOT_INTERVAL = 3.333e-6


@dataclass
class Faces:
    """Where the run's outputs are read: per power layer, its top face's nodes (indices into
    the state vector), its plane mesh, and the block-mean operator of its floorplan."""

    layers: list          # power layer index per face (0 for the lumped die)
    floorplans: list
    meshes: list
    nodes: list           # state indices of each face's mesh nodes
    block_means: list     # (blocks, face nodes) sparse


def with_powers(model, floorplan: Floorplan, sources: list, watts: np.ndarray):
    """The floorplan and model with the blocks' power set to ``watts`` (in ``sources`` order:
    (power layer, block name) pairs)."""
    if not isinstance(model, Stack):
        return replace(floorplan, block_power=watts.copy(), source_power=watts.copy()), model
    layers = list(model.layers)
    start = 0
    for i in model.power_layers:
        fp = layers[i].floorplan
        n = len(fp.names)
        layers[i] = replace(layers[i], floorplan=replace(fp, block_power=watts[start:start + n].copy(),
                                                         source_power=watts[start:start + n].copy()))
        start += n
    stack = replace(model, layers=tuple(layers))
    return stack.layers[model.power_layers[0]].floorplan, stack


def trace_sources(model, floorplan: Floorplan) -> list:
    """(power layer, block name) of every power input, in the order the loads use."""
    if not isinstance(model, Stack):
        return [(0, n) for n in floorplan.names]
    return [(i, n) for i in model.power_layers for n in model.layers[i].floorplan.names]


def transient_mesh(floorplan: Floorplan, model, rows: np.ndarray, sources: list, *, mesh: str,
                   tol: float, resolution: int, interval: float | None = None):
    """The plane (or die) mesh for the envelope of the rows (``adaptive``: for the trace's
    screened hottest moments, :func:`screened_mesh`), and its description."""
    from thermal.app.simulate import make_mesh
    from thermal.physics.adaptive import power_field
    from thermal.physics.stack_solution import mesh_for_field

    envelope_fp, envelope_model = with_powers(model, floorplan, sources, rows.max(axis=0))
    if mesh in ("uniform", "base"):
        plane, info = make_mesh(envelope_fp, mesh, resolution=resolution, model=envelope_model)
        return plane, info
    if mesh == "adaptive":
        if interval is None:
            raise ValueError("the adaptive mesh screens the trace: it needs the rows' interval")
        return screened_mesh(floorplan, model, rows, interval, sources, tol)
    if mesh != "power" or (isinstance(model, Stack) and not model.homogeneous):
        # The steady method's own mesh for the envelope: it solves the envelope's steady state
        # (more than once for some; `power` too where blocks have their own material, whose
        # series cannot see them: its second pass sizes from that solve) to place its
        # elements, and that solve is thrown away.
        from thermal.app.simulate import solve

        sol = solve(envelope_fp, envelope_model, mesh=mesh, tol=tol)
        plane = sol.prisms.plane if getattr(sol, "prisms", None) is not None else sol.mesh
        return plane, {**sol.mesh_info, "method": mesh, "tol": tol,
                       "sizing": f"the steady '{mesh}' method's mesh for the rows' envelope "
                                 "(each block at its largest power)"
                                 + (f": {sol.mesh_info['sizing']}" if "sizing" in sol.mesh_info else ""),
                       "envelope_solve_s": sol.timing.get("total_s")}
    # Sizes from the power density of the envelope (the steady `power` method's estimate; the
    # hotspot model has not learned transients).
    field, extra = power_field(envelope_fp, envelope_model, tol)
    plane, stats = mesh_for_field(envelope_fp, envelope_model, field)
    return plane, {"method": mesh, "tol": tol, "sizing": "power density of the rows' envelope "
                   "(each block at its largest power)", "adapt": stats, **extra}


#: Grid nodes along the die's longer side on which a screened trace's field sizes the mesh.
SCREEN_GRID_POINTS = 129


def screened_mesh(floorplan: Floorplan, model, rows: np.ndarray, interval: float, sources: list,
                  tol: float):
    """The mesh for the trace's own hottest moments: the screen of ``thermesh predict --trace``
    (the reduced transient on the power mesh at :data:`SCREEN_TOL`) gives every face node's
    largest rise over the rows; sizes follow that field's curvature and the equation's bound
    with the envelope's power (:func:`thermal.physics.adaptive.faces_field`), for ``tol`` of its
    peak. The envelope's steady state (``power``, and the steady methods) puts every block at
    its largest power at once, hotter and smoother than any row; the screen sees what the
    trace does."""
    from meshes.locate import PointLocator
    from meshes.size_field import grid_over
    from thermal.physics.adaptive import faces_field
    from thermal.physics.stack_solution import mesh_for_field

    start = time.perf_counter()
    screen = screen_run(floorplan, model, rows, interval, SCREEN_TOL)
    finder = PeakFinder(screen)
    hottest = [np.full(len(nodes), -np.inf) for nodes in screen.faces.nodes]

    def on_rows(first: int, states: np.ndarray) -> None:
        faces, _ = finder(states)
        for top, face in zip(hottest, faces):
            np.maximum(top, face.max(axis=0), out=top)

    screen.advance(rows, on_rows)
    screen_s = time.perf_counter() - start
    envelope_fp, envelope_model = with_powers(model, floorplan, sources, rows.max(axis=0))
    xs, ys = grid_over(floorplan.die, SCREEN_GRID_POINTS)
    grids = [PointLocator(mesh).interpolate_grid(top, xs, ys)
             for mesh, top in zip(screen.faces.meshes, hottest)]
    field = faces_field(envelope_fp, envelope_model, tol, xs, ys, grids)
    plane, stats = mesh_for_field(envelope_fp, envelope_model, field)
    return plane, {"method": "adaptive", "tol": tol, "sizing": "the trace's screened hottest "
                   f"moments (reduced transient on the power mesh at tol {SCREEN_TOL:g}: every face "
                   "node's largest rise over the rows)", "adapt": stats,
                   "estimated_peak_rise": float(max(g.max() for g in grids)), "screen_s": screen_s,
                   "screen_prisms": screen.mesh_info.get("prisms")}


#: The time integrators: ``reduced`` (exact per row in a basis fitted to the trace) and
#: ``trbdf2`` (sub-steps on the whole mesh).
INTEGRATORS = ("reduced", "trbdf2")


@dataclass
class TransientRun:
    """A trace's run, prepared: its mesh, system, output faces and integrator; :meth:`advance`
    integrates the rows."""

    mesh_info: dict
    timing: dict
    system: object
    faces: Faces
    prisms: object
    integrator: object
    interval: float
    substeps: int
    state: np.ndarray

    def advance(self, rows: np.ndarray, on_rows=None) -> dict:
        """Integrate ``rows`` from :attr:`state`; ``on_rows(first_row, states)`` after each
        chunk of rows (``states``: the integrator's, one per row). Returns the energy ledger."""
        from thermal.physics.transient import EnergyLedger
        from thermal.threads import one_thread

        ledger = EnergyLedger()
        stored0 = self.integrator.stored(self.state)
        state = self.state
        start = time.perf_counter()
        with one_thread("blas"):  # BLAS's second thread slowed CG's vector products 10x here
            for first in range(0, len(rows), self.integrator.chunk):
                states = self.integrator.rows(state, rows[first:first + self.integrator.chunk], ledger)
                if on_rows is not None:
                    on_rows(first, states)
                state = states[-1]
        self.state = state
        self.timing["integrate_s"] = time.perf_counter() - start
        return {**ledger.as_dict(), "stored_initial_J": stored0}

    def temperature(self, state=None) -> np.ndarray:
        """The rise at every node (of the current state by default)."""
        return self.integrator.temperature(self.state if state is None else state)

    def summary(self, n_rows: int) -> dict:
        from thermal.physics.transient import TRBDF2

        i = self.integrator
        reduced = not isinstance(i, TRBDF2)
        return {"mesh": self.mesh_info, "timing": self.timing,
                "integrator": "reduced" if reduced else "trbdf2",
                "steps": n_rows if reduced else n_rows * self.substeps,
                "substeps": None if reduced else self.substeps,
                "step_s": self.interval if reduced else self.interval / self.substeps,
                "solver": i.info}


def prepare_transient(floorplan: Floorplan, model, rows: np.ndarray, interval: float, *,
                      mesh: str = "power", tol: float = 5e-3, resolution: int = 100,
                      integrator: str = "reduced", substeps: int = 4, init="steady") -> TransientRun:
    """Mesh, assemble and set up a trace's run, and its initial state.

    Parameters
    ----------
    floorplan, model
        As read for the steady solve (the mean row's power).
    rows : ndarray (n_rows, sources)
        Watts per source (:func:`trace_sources` order) per row.
    interval : float
        Length of a row, s.
    tol : float
        The mesh's tolerance (relative to the peak rise); the reduced basis is refined to half
        of it.
    integrator : "reduced" or "trbdf2"
        Exact per row in a reduced basis, or ``substeps`` TR-BDF2 steps per row.
    init : "ambient", "steady", a temperature in K, a block file or result folder, or an array
        The state before the first row.
    """
    from thermal.physics.stack_solver import extrude
    from thermal.physics.transient import lumped_system, stack_system

    if not (interval > 0 and math.isfinite(interval)):
        raise InputError("--sampling-interval", f"must be positive and finite, got {interval!r}")
    if integrator not in INTEGRATORS:
        raise ValueError(f"integrator must be one of {INTEGRATORS}, got {integrator!r}")
    timing = {}
    start = time.perf_counter()
    sources = trace_sources(model, floorplan)
    plane, mesh_info = transient_mesh(floorplan, model, rows, sources, mesh=mesh, tol=tol,
                                      resolution=resolution, interval=interval)
    if isinstance(model, Stack):
        prisms = extrude(model, plane)
        system = stack_system(model, prisms)
        mesh_info.update(plane_elements=int(plane.t.shape[1]), levels=int(prisms.n_levels),
                         prisms=int(prisms.n_prisms))
    else:
        prisms = None
        system = lumped_system(floorplan, model, plane)
        mesh_info.update(elements=int(plane.t.shape[1]))
    mesh_info["nodes"] = int(system.K.shape[0] if system.active is None else system.active.sum())
    timing["mesh_s"] = time.perf_counter() - start
    faces = _faces(model, floorplan, plane, prisms)
    start = time.perf_counter()
    if integrator == "reduced":
        from thermal.physics.reduced_order import build_reduced_model
        from thermal.threads import one_thread

        spec = init if isinstance(init, str) and init in ("steady", "ambient") else _initial(system, rows, init, model, prisms,
                                                                     floorplan, plane)
        with one_thread("blas"):
            stepper, u = build_reduced_model(system, rows, interval, init=spec,
                                             observe=np.concatenate(faces.nodes), tol=tol / 2)
        timing["reduce_s"] = time.perf_counter() - start
    else:
        from thermal.physics.transient import TRBDF2

        stepper = TRBDF2(system, interval / substeps, substeps=substeps)
        timing["setup_s"] = time.perf_counter() - start
        start = time.perf_counter()
        u = _initial(system, rows, init, model, prisms, floorplan, plane)
        timing["init_s"] = time.perf_counter() - start
    return TransientRun(mesh_info, timing, system, faces, prisms, stepper, interval, substeps, u)


def run_transient(floorplan: Floorplan, model, rows: np.ndarray, interval: float, *,
                  on_rows=None, **options) -> dict:
    """Prepare and integrate a trace (:func:`prepare_transient` takes the ``options``):
    the run's summary, ``energy``, the final rise at every node (``temperature``) and the
    ``run`` itself."""
    run = prepare_transient(floorplan, model, rows, interval, **options)
    energy = run.advance(rows, on_rows)
    return {**run.summary(len(rows)), "energy": energy, "temperature": run.temperature(), "run": run}


def _initial(system, rows: np.ndarray, init, model, prisms, floorplan=None, plane=None) -> np.ndarray:
    n = system.K.shape[0]
    if isinstance(init, np.ndarray):
        return init
    if isinstance(init, (str, Path)) and init not in ("ambient", "steady") and not _is_number(init):
        return initial_from_blocks(init, model, floorplan, plane, prisms)
    if init == "ambient":
        return np.zeros(n)
    if init == "steady":  # of the mean row, on this mesh
        f = system.loads @ rows.mean(axis=0)
        if prisms is not None:
            from thermal.physics.solver import ElementGeometry
            from thermal.physics.stack_solver import solve_prisms

            u, _ = solve_prisms(system.K, f, prisms, ElementGeometry.of(prisms.plane), active=system.active)
            return np.where(system.active, u, 0.0)
        from thermal.physics.solver import solve_linear

        return solve_linear(system.K, f)[0]
    kelvin = float(init)
    active = np.ones(n, bool) if system.active is None else system.active
    return np.where(active, kelvin - model.ambient, 0.0)


def _is_number(text) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def initial_from_blocks(path, model, floorplan: Floorplan, plane, prisms) -> np.ndarray:
    """The state from a HotSpot block file (``.steady``/``.init``, or a thermesh result folder's
    ``hotspot.steady``): every layer's nodes take the temperature of the block of the die's
    floorplan they lie over, under HotSpot's names for the layer (``hotspot.steady``'s);
    outside the die (a spreader's or sink's rim) the layer's area-weighted mean."""
    from thermal.io.transient_files import read_block_temperatures

    path = Path(path)
    if path.is_dir():
        path = path / "hotspot.steady"
    if prisms is None:
        plans, prefixes = [floorplan], [""]
    else:
        from thermal.physics.stack_solution import StackSolution

        plans = [layer.floorplan or floorplan for layer in model.layers]
        prefixes = [StackSolution.HOTSPOT_PREFIX.get(layer.name, f"{layer.name}_") for layer in model.layers]
    expected = [p + b for p, fp in zip(prefixes, plans) for b in fp.names]
    kelvin = read_block_temperatures(path, expected)
    per_node = []
    for p, fp in zip(prefixes, plans):
        values = np.array([kelvin[p + b] for b in fp.names]) - model.ambient
        block = fp.block_at(plane.p[0], plane.p[1])
        mean = float(values @ fp.blocks.area / fp.blocks.area.sum())
        per_node.append(np.where(block >= 0, values[np.maximum(block, 0)], mean))
    if prisms is None:
        return per_node[0]
    from thermal.physics.stack_solver import regions

    u = np.zeros((prisms.n_levels, prisms.n_plane))
    for k, r in enumerate(regions(model)):  # bottom first: a shared level takes the upper layer's
        first, last = prisms.region_levels(k)
        u[first:last + 1] = per_node[r.layer]
    return np.where(prisms.active_nodes, u.ravel(), 0.0)


def _faces(model, floorplan, plane, prisms) -> Faces:
    from thermal.physics.solution import block_mean_matrix
    from thermal.physics.solver import ElementGeometry

    if prisms is None:
        W = block_mean_matrix(floorplan, plane, ElementGeometry.of(plane).area)
        return Faces([0], [floorplan], [plane], [np.arange(plane.p.shape[1])], [W])
    from thermal.physics.stack_solution import face_mesh
    from thermal.physics.stack_solver import regions

    regs = regions(model)
    out = Faces([], [], [], [], [])
    for layer in model.power_layers:
        top = max(k for k, r in enumerate(regs) if r.layer == layer)
        _, level = prisms.region_levels(top)
        mesh, nodes, _ = face_mesh(plane, prisms.region_present[top])
        fp = model.layers[layer].floorplan
        out.layers.append(layer)
        out.floorplans.append(fp)
        out.meshes.append(mesh)
        out.nodes.append(level * prisms.n_plane + nodes)
        out.block_means.append(block_mean_matrix(fp, mesh, ElementGeometry.of(mesh).area))
    return out


# ------------------------------------------------------------------------------ outputs
class RowOutputs:
    """What each row writes, streamed into ``stage``: ``peak.csv``, ``blocks.ttrace`` (HotSpot's
    transient format: the power layers' blocks in the trace's order, each block's mean of its
    layer's temperature through the thickness, HotSpot's node), and every ``save_every`` rows
    (and the last) the die face (``die_NNNN.vtu``) and, for a stack, the 3D field
    (``temperature_NNNN.vtu``), collected by ``die.pvd`` and ``temperature.pvd``.

    Called with chunks of rows' states (:meth:`TransientRun.advance`); every quantity is read
    through the integrator's operators (on a reduced model's states they are small dense
    matrices), for all rows of a chunk at once."""

    def __init__(self, stage, run, model, names: list, n_rows: int, save_every: int,
                 threshold: float | None):
        from thermal.io.transient_files import PeakCsvWriter, TtraceWriter

        faces, integrator = run.faces, run.integrator
        self.stage, self.faces, self.model, self.prisms = stage, faces, model, run.prisms
        self.integrator, self.interval = integrator, run.interval
        self.n_rows, self.save_every, self.threshold = n_rows, save_every, threshold
        self.ambient = model.ambient
        self.peak_csv = PeakCsvWriter(stage / "peak.csv")
        self.ttrace = TtraceWriter(stage / "blocks.ttrace", names)
        n_state = run.system.K.shape[0]
        self.peaks_of = PeakFinder(run)
        self.block_ops = [integrator.observer(_layer_block_operator(faces, i, model, run.prisms, n_state))
                          for i in range(len(faces.layers))]
        self.groups = [_block_groups(fp, mesh) for fp, mesh in zip(faces.floorplans, faces.meshes)]
        self.names = names
        self.first_above = {n: None for n in names}
        self.saved: list[tuple[float, int]] = []
        self.peaks: list[float] = []
        self.block_history: list[np.ndarray] = []

    def __call__(self, first: int, states: np.ndarray) -> None:
        rows = first + np.arange(len(states))
        times = (rows + 1) * self.interval
        faces, peak = self.peaks_of(states)
        temps = np.hstack([_rows_of(op, states) for op in self.block_ops]) + self.ambient  # (rows, blocks)
        for k in range(len(rows)):
            self.peak_csv.write_row(times[k], peak.rise[k] + self.ambient, peak.x[k], peak.y[k],
                                    peak.layer[k], peak.block[k])
            self.ttrace.write_row(temps[k])
        self.peaks.extend(peak.rise + self.ambient)
        self.block_history.extend(temps)
        if self.threshold is not None:
            level = self.threshold - self.ambient
            first_rows = np.concatenate([_first_row_above(f, g, level) for f, g in zip(faces, self.groups)])
            for name, k in zip(self.names, first_rows):
                if self.first_above[name] is None and k >= 0:
                    self.first_above[name] = float(times[k])
        for k, row in enumerate(rows):
            if (row + 1) % self.save_every == 0 or row == self.n_rows - 1:
                self._save(float(times[k]), self.integrator.temperature(states[k]))

    def _save(self, t: float, u: np.ndarray) -> None:
        from meshes.io import write_vtu, write_wedges_vtu

        k = len(self.saved)
        mesh, nodes = self.faces.meshes[0], self.faces.nodes[0]
        write_vtu(self.stage / f"die_{k:04d}.vtu", mesh,
                  {"temperature": u[nodes] + self.ambient, "rise": u[nodes]})
        if self.prisms is not None:
            active = np.flatnonzero(self.prisms.active_nodes)
            renumber = np.full(self.prisms.n_nodes, -1)
            renumber[active] = np.arange(active.size)
            write_wedges_vtu(self.stage / f"temperature_{k:04d}.vtu", self.prisms.points()[active],
                             renumber[self.prisms.wedges],
                             {"temperature": u[active] + self.ambient, "rise": u[active]})
        self.saved.append((t, k))

    def finish(self) -> None:
        from meshes.io import write_pvd

        self.peak_csv.close()
        self.ttrace.close()
        write_pvd(self.stage / "die.pvd", [(t, f"die_{k:04d}.vtu") for t, k in self.saved])
        if self.prisms is not None:
            write_pvd(self.stage / "temperature.pvd", [(t, f"temperature_{k:04d}.vtu") for t, k in self.saved])

    def discard(self) -> None:
        self.peak_csv.discard()
        self.ttrace.discard()


@dataclass
class Peaks:
    """Per row of a chunk: the hottest point of every power layer's face, its rise (K), where
    it is, the layer (index into the model's layers) and the block there (None: outside)."""

    rise: np.ndarray
    x: np.ndarray
    y: np.ndarray
    layer: list
    block: list


class PeakFinder:
    """Reads each state's hottest point on the power layers' faces, for a chunk of rows at
    once: ``faces, peaks = finder(states)`` (``faces``: (rows, face nodes) per power layer)."""

    def __init__(self, run):
        self.faces = run.faces
        self.face_ops = [run.integrator.observer(nodes) for nodes in run.faces.nodes]

    def __call__(self, states: np.ndarray) -> tuple[list, Peaks]:
        faces = [_rows_of(op, states) for op in self.face_ops]   # (rows, face nodes) per layer
        tops = np.array([f.max(axis=1) for f in faces])            # (layers, rows)
        layer_of = tops.argmax(axis=0)
        n = len(states)
        x, y, block = np.empty(n), np.empty(n), [None] * n
        for i, (face, mesh, fp) in enumerate(zip(faces, self.faces.meshes, self.faces.floorplans)):
            these = np.flatnonzero(layer_of == i)
            if these.size:
                j = face[these].argmax(axis=1)
                x[these], y[these] = mesh.p[0, j], mesh.p[1, j]
                for k, b in zip(these, fp.block_at(x[these], y[these])):
                    block[k] = fp.names[b] if b >= 0 else None
        layers = [int(self.faces.layers[i]) for i in layer_of]
        return faces, Peaks(tops.max(axis=0), x, y, layers, block)


def _rows_of(operator, states: np.ndarray) -> np.ndarray:
    """``operator`` applied to each state (a row of ``states``): (states, operator rows),
    rows contiguous (the per-row reductions that follow run along them)."""
    import scipy.sparse as sp

    if sp.issparse(operator):
        return np.ascontiguousarray((operator @ states.T).T)
    return states @ operator.T


def _block_groups(floorplan: Floorplan, mesh) -> tuple:
    """The face nodes sorted by the block they lie in, and where each block's run starts (for
    per-block reductions by ``reduceat``); blocks without a node get none."""
    block = floorplan.block_at(mesh.p[0], mesh.p[1])
    order = np.argsort(block, kind="stable")
    order = order[block[order] >= 0]
    present, starts = np.unique(block[order], return_index=True)
    return order, present, starts, len(floorplan.names)


def _first_row_above(face: np.ndarray, groups: tuple, level: float) -> np.ndarray:
    """(blocks,): the first row of ``face`` (rows, nodes) in which any node of each block is
    above ``level``, -1 where none is (per node first, then the earliest over each block's
    nodes)."""
    order, present, starts, n_blocks = groups
    above = face > level
    node_first = np.where(above.any(axis=0), above.argmax(axis=0), face.shape[0])
    out = np.full(n_blocks, face.shape[0])
    if order.size:
        out[present] = np.minimum.reduceat(node_first[order], starts)
    return np.where(out < face.shape[0], out, -1)


def _layer_block_operator(faces: Faces, i: int, model, prisms, n_state: int):
    """Blocks x state: each block's mean (over its rectangle, on the layer's plane mesh) of the
    layer's temperature averaged through its thickness (trapezoid over its levels)."""
    import scipy.sparse as sp

    W = faces.block_means[i]
    if prisms is None:
        return W
    from thermal.physics.stack_solver import level_weights, regions

    layer = faces.layers[i]
    regs = regions(model)
    subs = np.flatnonzero(np.isin(prisms.sublayer_region, [k for k, r in enumerate(regs) if r.layer == layer]))
    weights = level_weights(prisms, subs)
    levels = np.flatnonzero(weights)
    plane_nodes = faces.nodes[i] % prisms.n_plane
    m = plane_nodes.size
    rows = np.tile(np.arange(m), levels.size)
    cols = (levels[:, None] * prisms.n_plane + plane_nodes[None, :]).ravel()
    vals = np.repeat(weights[levels], m)
    average = sp.csr_matrix((vals, (rows, cols)), shape=(m, n_state))
    return (W @ average).tocsr()


def transient_to(floorplan: Floorplan, model, rows: np.ndarray, names: list, interval: float,
                 directory, *, mesh: str = "power", tol: float = 5e-3, resolution: int = 100,
                 integrator: str = "reduced", substeps: int = 4, init="steady", save_every: int = 10,
                 threshold: float | None = None, png: bool = True, start: float | None = None) -> dict:
    """Run the trace and write every output into ``directory`` (atomically: a staging folder
    moved into place at the end; a failed or killed run leaves no result)."""
    import json

    from thermal.app.output import UNITS, staged
    from thermal.version import __version__

    start = time.perf_counter() if start is None else start
    with staged(directory) as stage:
        run = prepare_transient(floorplan, model, rows, interval, mesh=mesh, tol=tol,
                                resolution=resolution, integrator=integrator, substeps=substeps,
                                init=init)
        out = RowOutputs(stage, run, model, names, len(rows), save_every, threshold)
        try:
            energy = run.advance(rows, out)
            out.finish()
        except BaseException:
            out.discard()
            raise
        result = run.summary(len(rows))
        result["timing"]["total_s"] = time.perf_counter() - start
        peaks = np.array(out.peaks)
        doc = {
            "thermesh_version": __version__,
            "units": UNITS,
            "inputs": {"floorplan": floorplan.source, "power": floorplan.power_source},
            "parameters": model.as_dict(),
            "rows": int(len(rows)), "sampling_interval_s": interval,
            "integrator": result["integrator"],
            "steps": result["steps"], "substeps": result["substeps"], "step_s": result["step_s"],
            "init": init if isinstance(init, str) else float(init),
            "mesh": result["mesh"], "solver": result["solver"], "timing": result["timing"],
            "energy": energy,
            "peak": {"temperature": float(peaks.max()), "row": int(peaks.argmax()),
                     "time_s": float((peaks.argmax() + 1) * interval)},
            "saved_rows": [int(round(t / interval)) - 1 for t, _ in out.saved],
        }
        if threshold is not None:
            doc["threshold"] = {"temperature": threshold, "first_exceeded_s": out.first_above}
        (stage / "result.json").write_text(json.dumps(doc, indent=2, default=float))
        if png:
            from thermal.app.plots import plot_transient

            history = np.array(out.block_history)
            plot_transient(stage / "transient.png", (np.arange(len(rows)) + 1) * interval, peaks,
                           names, history, threshold)
    return doc


# ------------------------------------------------------------------------------ screening
#: The mesh tolerance of ``thermesh predict --trace``: a screen needs each row's hottest point
#: and where it is, not the last hundredth of a kelvin (see :func:`screen_trace`).
SCREEN_TOL = 2e-2


def screen_run(floorplan: Floorplan, model, rows: np.ndarray, interval: float, tol: float):
    """The screen's transient, set up: the reduced transient (exact per row, from the steady
    state of the mean row) on the power mesh at ``tol``."""
    return prepare_transient(floorplan, model, rows, interval, mesh="power", tol=tol,
                             integrator="reduced", init="steady")


def screen_trace(floorplan: Floorplan, model, rows: np.ndarray, interval: float, stage: Path, *,
                 tol: float = SCREEN_TOL) -> dict:
    """Every row's hottest point, streamed into ``stage / "hotspots.csv"``: the reduced
    transient (exact per row, from the steady state of the mean row) on the power mesh at
    ``tol``. Returns the summary ``hotspots.json`` keeps under ``trace``."""
    from thermal.io.transient_files import HotspotsCsvWriter

    start = time.perf_counter()
    run = screen_run(floorplan, model, rows, interval, tol)
    set_up = time.perf_counter() - start
    finder = PeakFinder(run)
    writer = HotspotsCsvWriter(stage / "hotspots.csv")
    hottest: dict = {"temperature": -math.inf}

    def on_rows(first: int, states: np.ndarray) -> None:
        _, peak = finder(states)
        for k in range(len(states)):
            writer.write_row((first + k + 1) * interval, peak.rise[k] + model.ambient, peak.x[k],
                             peak.y[k], peak.layer[k], peak.block[k])
        k = int(np.argmax(peak.rise))
        if peak.rise[k] + model.ambient > hottest["temperature"]:
            hottest.update(row=first + k, time_s=(first + k + 1) * interval,
                           temperature=float(peak.rise[k] + model.ambient), x=float(peak.x[k]),
                           y=float(peak.y[k]), layer=peak.layer[k], block=peak.block[k])

    start = time.perf_counter()
    try:
        run.advance(rows, on_rows)
        writer.close()
    except BaseException:
        writer.discard()
        raise
    rows_s = time.perf_counter() - start
    info = run.integrator.info
    return {
        "rows": int(len(rows)), "sampling_interval_s": interval, "init": "steady",
        "method": f"reduced transient, exact per row, on the power mesh at tol {tol:g}",
        "mesh": {k: run.mesh_info.get(k) for k in ("method", "tol", "nodes", "elements",
                                                   "plane_elements", "levels", "prisms")
                 if k in run.mesh_info},
        "reduced": {k: info[k] for k in ("inputs", "dynamic_inputs", "basis", "shifts_per_s",
                                         "estimated_error_K", "converged")},
        "hottest": hottest,
        "timing": {"set_up_s": set_up, "rows_s": rows_s, "per_row_ms": 1e3 * rows_s / max(len(rows), 1)},
    }


# ------------------------------------------------------------------------------ command line
def require_trace(power) -> None:
    """A one-line error unless ``--power`` is a power trace (checked before reading anything)."""
    if power is None or Path(power).suffix.lower() != ".ptrace":
        raise InputError(str(power or "--power"), "a transient needs a power trace (.ptrace): "
                         "one row per sampling interval")


def trace_rows(args, floorplan: Floorplan, model) -> tuple[list, np.ndarray, float]:
    """The trace's source names and rows (watts per source, in :func:`trace_sources` order) and
    the length of a row, from the command line (:func:`require_trace` first)."""
    from thermal.io.hotspot import read_ptrace

    names = [name for _, name in trace_sources(model, floorplan)]
    rows = read_ptrace(args.power, names).rows
    return names, rows, args.sampling_interval or _package_interval(args) or HOTSPOT_INTERVAL


def main_transient(args) -> int:
    """``thermesh transient``: read the inputs and the trace's rows, run, print a summary."""
    from thermal.app.inputs import load_inputs

    start = time.perf_counter()
    require_trace(args.power)
    floorplan, model = load_inputs(args)
    names, rows, interval = trace_rows(args, floorplan, model)
    doc = transient_to(floorplan, model, rows, names, interval, args.out, mesh=args.mesh,
                       tol=args.tol, resolution=args.resolution, integrator=args.integrator,
                       substeps=args.substeps,
                       init=args.init, save_every=args.save_every, threshold=args.threshold,
                       png=not args.no_png, start=start)
    pk, energy = doc["peak"], doc["energy"]
    stored = max(energy["stored_initial_J"] + energy["stored_change_J"], energy["energy_in_J"], 1e-300)
    how = (f"reduced basis of {doc['solver']['basis']}" if doc["integrator"] == "reduced"
           else f"{doc['steps']} TR-BDF2 steps")
    print(f"{floorplan.source}: {doc['rows']} rows of {interval:g} s ({how}), "
          f"peak {pk['temperature']:.3f} K at {pk['time_s']:g} s (row {pk['row']}), energy "
          f"imbalance {energy['imbalance_J']:.1e} J ({abs(energy['imbalance_J']) / stored:.0e} of the "
          f"heat stored), {doc['timing']['total_s']:.2f} s")
    if args.threshold is not None:
        crossed = {k: v for k, v in doc["threshold"]["first_exceeded_s"].items() if v is not None}
        first = min(crossed.items(), key=lambda kv: kv[1]) if crossed else None
        print(f"  {len(crossed)} blocks exceed {args.threshold:g} K"
              + (f", first {first[0]} at {first[1]:g} s" if first else ""))
    print(f"  results in {args.out}/")
    return 0


def _package_interval(args) -> float | None:
    """``sampling_intvl`` of the ``--package`` file, if given there."""
    if getattr(args, "package", None) is None:
        return None
    from thermal.io.hotspot_config import read_hotspot_config

    return read_hotspot_config(args.package).sampling_interval
