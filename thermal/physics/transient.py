"""Transient conduction on the steady solver's meshes: ``C du/dt + K u = F p(t)``.

``u`` is the rise above ambient at the nodes, ``K`` the steady matrix (conduction and every
convecting face), ``C`` the heat capacities (consistent P1 mass weighted by the volumetric heat
capacity), and the load ``F p``: one column per block of every power layer, its exact nodal load
for 1 W, times the block's watts in the current row of the trace. Power is constant over each
row (HotSpot's ``sampling_intvl``), so a row is integrated in ``substeps`` equal steps.

The integrator is TR-BDF2 with ``gamma = 2 - sqrt(2)``: a trapezoidal stage to ``t + gamma h``
and a BDF2 stage to ``t + h``. It is second order and L-stable, so a power step (every row may
switch) does not ring as Crank-Nicolson does on stiff modes (die time constants of ms under a
sink of tens of seconds). With this ``gamma`` both stages solve with the same matrix
``S = C + alpha h K``, ``alpha = 1 - 1/sqrt(2)``: one factorisation (or one multigrid
hierarchy) serves the whole run.

Energy is bookkept exactly as the scheme moves it. With ``q(u) = 1^T K u`` the heat leaving
(conduction sums to zero over the nodes, so only the convecting faces remain) and ``P = 1^T f``:
summing the stages' equations gives, per step,
``1^T C (u1 - u0) = h P - alpha h (c1 (q(u*) + q(u0)) + q(u1))``, ``c1 = 1 / (gamma (2 - gamma))``
(the weights on ``P`` add up to one). :class:`EnergyLedger` keeps the three sums; their
mismatch is the linear solves' error.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from skfem import MeshTri

from thermal.geometry.floorplan import Floorplan
from thermal.geometry.lumped import LumpedDie
from thermal.geometry.stack import Stack
from thermal.physics.solver import ElementGeometry, assemble

GAMMA = 2.0 - math.sqrt(2.0)
ALPHA = 1.0 - 1.0 / math.sqrt(2.0)  # = GAMMA / 2 = (1 - GAMMA) / (2 - GAMMA)
C1 = 1.0 / (GAMMA * (2.0 - GAMMA))
C2 = (1.0 - GAMMA) ** 2 / (GAMMA * (2.0 - GAMMA))


@dataclass
class TransientSystem:
    """What the integrator needs, on one mesh.

    Attributes
    ----------
    K : csr_matrix
        Steady matrix (conduction and convection), W/K.
    C : csr_matrix
        Heat capacities, J/K.
    loads : csr_matrix, shape (nodes, sources)
        Nodal load of 1 W in each source (a block of a power layer), in :attr:`sources` order.
    sources : list of (layer, block name)
        The power inputs, in the trace's column order once matched.
    outflow : dict of name -> ndarray
        Per face, the row vector whose product with ``u`` is the heat leaving through it (W).
    active : ndarray of bool, optional
        Nodes that exist (a stack's prisms outside a footprint have none).
    levels, plane : int, MeshTri
        For a stack, the prism mesh's level count and plane (the line multigrid needs them).
    """

    K: sp.csr_matrix
    C: sp.csr_matrix
    loads: sp.csr_matrix
    sources: list
    outflow: dict
    active: np.ndarray | None = None
    levels: int = 1
    plane: MeshTri | None = None

    def stored(self, u: np.ndarray) -> float:
        """Heat stored above ambient, J."""
        return float(np.sum(self.C @ u))


# ------------------------------------------------------------------------------ assembly
def lumped_system(floorplan: Floorplan, model: LumpedDie, mesh: MeshTri) -> TransientSystem:
    """The lumped die on ``mesh``: ``C = rho c t M``; loads per block of ``floorplan``."""
    g = ElementGeometry.of(mesh)
    K, _ = assemble(mesh, model, np.zeros((3, mesh.t.shape[1])), g)
    mass = _mass(mesh, g, np.full(mesh.t.shape[1], 1.0))
    C = (model.heat_capacity * model.thickness) * mass
    outflow = {"package": model.htc * np.asarray(mass.sum(axis=0)).ravel()}
    from thermal.physics.stack_solver import _plane_load

    columns = [_plane_load(_unit(floorplan, b), mesh, g) for b in range(len(floorplan.names))]
    loads = sp.csr_matrix(np.column_stack(columns)) if columns else sp.csr_matrix((mesh.p.shape[1], 0))
    return TransientSystem(K.tocsr(), C.tocsr(), loads, [(0, n) for n in floorplan.names], outflow)


def stack_system(stack: Stack, prisms) -> TransientSystem:
    """A stack on its prism mesh: ``K`` and the sink's (and top's) convection as the steady
    solve assembles them, ``C`` from every region's heat capacity (per block where a layer's
    blocks have their own), loads per block of every power layer, spread through the layer's
    power slab as the steady load is."""
    from thermal.physics.stack_solver import (PlanePattern, _plane_load, assemble_stack, level_weights,
                                              regions)

    plane = prisms.plane
    g = ElementGeometry.of(plane)
    system = assemble_stack(stack, prisms, g)
    pattern = PlanePattern.of(plane)
    regs = regions(stack)
    capacity = region_heat_capacity(stack, prisms)
    L = prisms.n_levels
    diagonal = [np.zeros(pattern.nnz) for _ in range(L)]
    upper = [np.zeros(pattern.nnz) for _ in range(L - 1)]
    columns, sources = [], []
    for k, r in enumerate(regs):
        mass = pattern.mass(g, capacity[k])
        subs = np.flatnonzero(prisms.sublayer_region == k)
        for s in subs:
            d = prisms.z[s + 1] - prisms.z[s]
            diagonal[s] += mass * (d / 3)
            diagonal[s + 1] += mass * (d / 3)
            upper[s] += mass * (d / 6)
        layer = stack.layers[r.layer]
        if r.source and layer.floorplan is not None:
            weights = level_weights(prisms, subs)
            for b, name in enumerate(layer.floorplan.names):
                plane_load = _plane_load(_unit(layer.floorplan, b), plane, g)
                columns.append(sp.csr_matrix(np.kron(weights, plane_load)[:, None]))
                sources.append((r.layer, name))
    # The convection's own heat capacity (HotSpot's c_convec, c_convec_sec), J/K spread over
    # the convecting face as its conductance is.
    for level, region, joules in ((0, prisms.sublayer_region[0], stack.c_convec),
                                  (L - 1, prisms.sublayer_region[-1], stack.c_convec_top)):
        if joules:
            present = prisms.region_present[region]
            area = float(g.area[present].sum())
            diagonal[level] = diagonal[level] + pattern.mass(g, (joules / area) * present)
    C = pattern.tridiagonal(diagonal, upper)
    loads = sp.hstack(columns, format="csr") if columns else sp.csr_matrix((prisms.n_nodes, 0))
    n = prisms.n_plane
    outflow = {"sink": _padded(np.asarray(system.sink_mass.sum(axis=0)).ravel(), 0, n, prisms.n_nodes)}
    if system.top_mass is not None:
        outflow["top"] = _padded(np.asarray(system.top_mass.sum(axis=0)).ravel(), prisms.n_nodes - n, n,
                                 prisms.n_nodes)
    return TransientSystem(system.A, C, loads, sources, outflow, system.active, L, plane)


def region_heat_capacity(stack: Stack, prisms) -> np.ndarray:
    """Volumetric heat capacity (regions, triangles): the layer's, or a block's own, 0 where the
    region is absent (as :func:`thermal.physics.stack_solver.region_conductivity`)."""
    from thermal.physics.stack_solver import block_values, regions

    plane = prisms.plane
    c = plane.p[:, plane.t].mean(axis=1)
    out = np.zeros(prisms.region_present.shape)
    for k, r in enumerate(regions(stack)):
        layer = stack.layers[r.layer]
        out[k] = layer.heat_capacity
        if layer.block_heat_capacity is not None:
            value = block_values(layer.floorplan, layer.block_heat_capacity, c)
            out[k, ~np.isnan(value)] = value[~np.isnan(value)]
        out[k, ~prisms.region_present[k]] = 0.0
    return out


def _mass(mesh: MeshTri, g: ElementGeometry, weight: np.ndarray) -> sp.csr_matrix:
    local = (g.area * weight / 12.0) * (np.ones((3, 3)) + np.eye(3))[:, :, None]
    rows = np.broadcast_to(mesh.t[:, None, :], local.shape)
    cols = np.broadcast_to(mesh.t[None, :, :], local.shape)
    n = mesh.p.shape[1]
    return sp.csr_matrix((local.ravel(), (rows.ravel(), cols.ravel())), shape=(n, n))


def _unit(floorplan: Floorplan, block: int) -> Floorplan:
    """``floorplan`` with 1 W in ``block`` and nothing elsewhere (blocks are its sources)."""
    from dataclasses import replace

    if floorplan.source_grid is not None or len(floorplan.sources) != len(floorplan.names):
        raise ValueError("a transient needs a floorplan of blocks (a power map has no trace rows)")
    unit = np.zeros(len(floorplan.names))
    unit[block] = 1.0
    return replace(floorplan, block_power=unit, source_power=unit)


def _padded(values: np.ndarray, start: int, size: int, total: int) -> np.ndarray:
    out = np.zeros(total)
    out[start:start + size] = values
    return out


# ------------------------------------------------------------------------------ integration
@dataclass
class EnergyLedger:
    """Running sums, J: power in, heat out (per face), and the change of stored heat."""

    energy_in: float = 0.0
    heat_out: dict = field(default_factory=dict)
    stored_change: float = 0.0

    @property
    def imbalance(self) -> float:
        """in - out - stored change, J: the linear solves' error (each solve's is relative to
        the stored heat it carries, so a short run from a hot state shows it most)."""
        return self.energy_in - sum(self.heat_out.values()) - self.stored_change

    @property
    def imbalance_rel(self) -> float:
        """|imbalance| / energy in."""
        return abs(self.imbalance) / self.energy_in if self.energy_in else 0.0

    def as_dict(self) -> dict:
        return {"energy_in_J": self.energy_in, "heat_out_J": {k: float(v) for k, v in self.heat_out.items()},
                "stored_change_J": self.stored_change, "imbalance_J": self.imbalance,
                "imbalance_rel": self.imbalance_rel}


class TRBDF2:
    """TR-BDF2 steps of length ``h`` for ``system`` (see the module notes).

    For the lumped die (a plane mesh) the matrix ``S = C + alpha h K`` is factorised once
    (sparse LU). For prisms, CG started from the previous stage's answer, preconditioned by exact
    solves of the vertical lines of ``S``: the heat capacities dominate ``S`` when steps are
    short beside the elements' diffusion times (HotSpot's 3.3 us rows: 1-3 iterations), and
    if a solve needs more than :data:`LINE_ITERATIONS`, the line multigrid of
    :mod:`thermal.physics.line_multigrid` is set up once and used from then on. Every solve
    meets the relative residual ``rtol``, or the step fails (:class:`SolverError`).
    """

    #: CG iterations with the line preconditioner before the multigrid takes over.
    LINE_ITERATIONS = 12
    #: Rows handed out at once by :meth:`rows` (states are whole fields here).
    chunk = 1

    def __init__(self, system: TransientSystem, h: float, rtol: float = 1e-9, substeps: int = 1):
        from scipy.sparse.linalg import splu

        if not (h > 0 and math.isfinite(h)):
            raise ValueError(f"time step must be positive and finite, got {h!r}")
        self.system, self.h, self.rtol, self.substeps = system, float(h), rtol, int(substeps)
        self.S = (system.C + (ALPHA * self.h) * system.K).tocsr()
        self.B = (system.C - (ALPHA * self.h) * system.K).tocsr()  # the trapezoidal stage's right side
        self.capacity = np.asarray(system.C.sum(axis=0)).ravel()  # 1^T C: stored heat is a dot product
        self.solves, self.iterations = 0, 0
        start = time.perf_counter()
        self.lu = self.multigrid = self.lines = None
        # Prisms are never factorised: a 3D LU's fill made a 40k-unknown ev6 stack take 7 s.
        if system.plane is None:
            self.lu = splu(self.S.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                           options={"SymmetricMode": True})
        else:
            from thermal.physics.line_multigrid import _Lines

            self.lines = _Lines(self.S, system.levels, system.plane.p.shape[1])
        self.setup_s = time.perf_counter() - start

    @property
    def method(self) -> str:
        if self.lu is not None:
            return "sparse LU"
        return "CG, line multigrid" if self.multigrid is not None else "CG, line relaxation"

    def _build_multigrid(self) -> None:
        from thermal.physics.line_multigrid import LineMultigrid
        from thermal.physics.stack_solver import _plane_matrices

        start = time.perf_counter()
        plane = self.system.plane
        ones = np.ones(plane.t.shape[1])
        size = max(np.ptp(plane.p[0]), np.ptp(plane.p[1]))
        K, M = _plane_matrices(plane, ElementGeometry.of(plane), ones, ones / size ** 2)
        self.multigrid = LineMultigrid(self.S, self.system.levels, K + M, self.system.active)
        self.setup_s += time.perf_counter() - start

    def _solve(self, b: np.ndarray, guess: np.ndarray) -> np.ndarray:
        from thermal.errors import SolverError
        from thermal.physics.line_multigrid import pcg

        self.solves += 1
        if self.lu is not None:
            x = self.lu.solve(b)
        else:
            r = b - self.S @ guess
            target = self.rtol * np.linalg.norm(b) / max(np.linalg.norm(r), 1e-300)
            if target >= 1:
                return guess
            if self.multigrid is None:
                dx, its = pcg(self.S, r, self.lines.solve, target, maxiter=self.LINE_ITERATIONS)
                self.iterations += its
                if its >= self.LINE_ITERATIONS:
                    self._build_multigrid()
                    r2 = r - self.S @ dx
                    more, its = pcg(self.S, r2, self.multigrid.cycle,
                                    self.rtol * np.linalg.norm(b) / max(np.linalg.norm(r2), 1e-300))
                    dx, self.iterations = dx + more, self.iterations + its
            else:
                dx, its = pcg(self.S, r, self.multigrid.cycle, target)
                self.iterations += its
            x = guess + dx
        res = np.linalg.norm(b - self.S @ x) / max(np.linalg.norm(b), 1e-300)
        if not np.isfinite(res) or res > 10 * self.rtol:
            raise SolverError(f"transient step: relative residual {res:.3g} > {10 * self.rtol:.1g}")
        return x

    # The integrators' common interface (with :class:`thermal.physics.reduced_order.ReducedModel`):
    # states, rows of constant power, and operators read on states.
    def rows(self, u: np.ndarray, watts: np.ndarray, ledger: EnergyLedger | None = None) -> np.ndarray:
        """The states at the end of each row of ``watts`` (rows, sources), each row integrated
        in :attr:`substeps` steps: (rows, nodes)."""
        out = np.empty((len(watts), u.size))
        for i, p in enumerate(watts):
            f = self.system.loads @ p
            for _ in range(self.substeps):
                u = self.step(u, f, ledger)
            out[i] = u
        return out

    def observer(self, operator):
        """``operator`` as read on states (an index array selects nodes)."""
        if isinstance(operator, np.ndarray) and operator.ndim == 1:
            n = self.system.K.shape[0]
            return sp.csr_matrix((np.ones(operator.size), (np.arange(operator.size), operator)),
                                 shape=(operator.size, n))
        return operator

    def temperature(self, u: np.ndarray) -> np.ndarray:
        return u

    def stored(self, u: np.ndarray) -> float:
        return self.system.stored(u)

    @property
    def info(self) -> dict:
        return {"method": self.method, "substeps": self.substeps, "solves": self.solves,
                "cg_iterations": self.iterations, "setup_s": self.setup_s}

    def step(self, u: np.ndarray, f: np.ndarray, ledger: EnergyLedger | None = None) -> np.ndarray:
        """``u`` one step later under the constant load ``f``."""
        system, ah = self.system, ALPHA * self.h
        Cu = system.C @ u
        stage = self._solve(self.B @ u + 2 * ah * f, u)
        new = self._solve(C1 * (system.C @ stage) - C2 * Cu + ah * f, stage)
        if ledger is not None:
            ledger.energy_in += self.h * float(f.sum())
            for name, w in system.outflow.items():
                ledger.heat_out[name] = ledger.heat_out.get(name, 0.0) + ah * (
                    C1 * (w @ stage + w @ u) + w @ new)
            ledger.stored_change += float(self.capacity @ (new - u))
        return new
