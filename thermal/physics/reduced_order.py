"""Reduced-order transient: the trace's response in a small basis of fields, exact in time.

The semi-discrete system ``C du/dt + K u = F p(t)`` (:mod:`thermal.physics.transient`) is linear
and time-invariant, and the power ``p`` of every row lies in the span of the trace's rows: ``r``
directions ``Q`` (``r`` <= the sources; gcc.ptrace's 100 rows of 30 blocks span 17). Its
response to them is approximated in the span ``V`` of

* the uniform field over the nodes that exist, so that the reduced model conserves energy
  exactly (the Galerkin residual is orthogonal to it, and that orthogonality *is* the balance
  power in = heat out + change of stored heat);
* the responses ``(K + s C)^-1 F Q`` at shifts ``s`` (and ``(K + s C)^-1 C u0`` with ``u0`` itself
  for a given initial field): rational Krylov, the Galerkin projection of which matches the
  transfer function ``(K + s C)^-1 F`` and its derivative at every shift (moment matching; Grimme
  1997). ``s = 0`` gives the steady responses: the slow end and the quasi-static value of every
  mode too fast to see. The other shifts run down in decades from ``SHIFT_TOP / interval`` (a
  mode that fast has decayed by e^-10 at each row's end, where the outputs are read) to the
  slower of ``1 / duration`` and the slowest mode.

The projected ``K``, ``C`` are diagonalised (``modes``: C-orthonormal, ``rates``), and each row of
constant power is then integrated *exactly* mode by mode: no time step and no time error, so a
row of 3.3 us costs what a row of 10 ms costs, and a trace of 10^5 rows is 10^5 small updates.

What is approximate is the basis. Its error is estimated on the run's own trace, in the
quantity the run reports: after the decades, shifts are added one at a time at the midpoint
(between adjacent shifts) where the residual of the reduced transfer function is largest, each
time comparing the power layers' face temperatures over the whole trace with and without it;
the refinement stops when that change is within the tolerance (``tol`` of the peak rise). The
last change is reported as the estimate: it is the error of the model one shift smaller, so
it over-states the final model's (measured on HotSpot's example2: estimate 0.05 K, error
0.046 K against fine TR-BDF2 steps on the same mesh; ``benchmarks/transient.py``).

The basis vectors are solved to a relative residual of :data:`BASIS_RTOL` in single precision
(block CG with the line multigrid for prisms; sparse LU for the lumped die): the projection uses
the span, not the vectors, and the span is good to far better than its vectors. Measured on
example2 (tol 2e-2 mesh, five shifts, against 8 TR-BDF2 sub-steps per row on the same mesh):
residuals of 1e-2, 1e-3 and 1e-9 give errors of 0.050, 0.046 and 0.046 K; at the default mesh
1e-2 takes 26 CG iterations where 1e-3 takes 36 (6.3 s against 7.7 s for the whole run).
"""
from __future__ import annotations

import math
import time
import numpy as np
import scipy.sparse as sp

#: The fastest shift is this over the row's length (see the module notes).
SHIFT_TOP = 10.0
#: Spacing of the first shifts (one per decade).
DECADE = 10.0
#: Relative residual of the basis vectors' solves (see the module notes).
BASIS_RTOL = 1e-2
#: Directions of the trace's rows whose singular value is below this fraction of the largest
#: are dropped: their watts are round-off of the others'.
INPUT_RTOL = 1e-9
#: Directions of the basis whose Gram eigenvalue is below this fraction of the largest are
#: dependent on the others and dropped.
GRAM_RTOL = 1e-10
#: Most shifts the refinement adds after the decades.
MAX_REFINE = 8
#: Rows (evenly spread) at which the refinement compares the face temperatures.
CHECK_ROWS = 1000
#: Rows integrated at once (bounded memory on long traces).
CHUNK = 2048


class ReducedModel:
    """The reduced model of a system for rows of length ``interval``.

    Attributes
    ----------
    modes : ndarray (nodes, m)
        C-orthonormal fields (computed on first use): the temperature rise is ``modes @ q``.
    rates : ndarray (m,)
        Their decay rates, 1/s (``q' = -rates q + loads p``).
    loads : ndarray (m, sources)
        Modal load of 1 W in each source.
    capacity : ndarray (m,)
        ``1^T C modes``: the heat stored is ``capacity @ q``.
    outflow : dict of name -> ndarray (m,)
        Per convecting face, the heat leaving is ``outflow[name] @ q``.
    info : dict
        How it was built (shifts, inputs, solves, estimated error, timings).
    """

    #: Rows handed out at once by :meth:`rows`.
    chunk = CHUNK

    def __init__(self, blocks: list, coefficients: np.ndarray, rates: np.ndarray, loads: np.ndarray,
                 capacity: np.ndarray, outflow: dict, interval: float, C: sp.csr_matrix):
        self.blocks, self.coefficients = blocks, coefficients
        self.rates, self.loads, self.capacity, self.outflow = rates, loads, capacity, outflow
        self.interval, self.C = interval, C
        self.info: dict = {}
        self.decay = np.exp(-rates * interval)
        self.gain = -np.expm1(-rates * interval) / rates  # (1 - e^-rh) / r
        self._modes = None

    @property
    def modes(self) -> np.ndarray:
        if self._modes is None:
            self._modes = np.hstack(self.blocks) @ self.coefficients
        return self._modes

    # ------------------------------------------------------------------ states
    def steady(self, watts: np.ndarray) -> np.ndarray:
        """The modal state in equilibrium with ``watts``."""
        return (self.loads @ watts) / self.rates

    def project(self, u: np.ndarray) -> np.ndarray:
        """The modal state nearest ``u`` in the heat-capacity norm."""
        return self.modes.T @ (self.C @ u)

    def temperature(self, q: np.ndarray) -> np.ndarray:
        """The rise at every node."""
        return self.modes @ q

    def stored(self, q: np.ndarray) -> float:
        return float(self.capacity @ q)

    def observer(self, operator) -> np.ndarray:
        """``operator @ modes`` (an index array selects nodes): the operator on modal states."""
        if isinstance(operator, np.ndarray) and operator.ndim == 1:
            if self._modes is not None:
                return self._modes[operator]
            return np.hstack([b[operator] for b in self.blocks]) @ self.coefficients
        return np.asarray(operator @ self.modes)

    # ------------------------------------------------------------------ integration
    def rows(self, q: np.ndarray, watts: np.ndarray, ledger=None) -> np.ndarray:
        """The states at the end of each row of ``watts`` (rows, sources) from ``q``: (rows, m),
        exact for power constant over each row; the energy of the rows added to ``ledger``."""
        b = watts @ self.loads.T                      # modal loads per row
        step = b * self.gain                          # (1 - e^-rh) times each row's settled state
        out = np.empty_like(b)
        state, decay = q, self.decay
        for i in range(len(b)):  # a recursion over rows, vectorised over the modes
            state = decay * state + step[i]
            out[i] = state
        if ledger is not None:
            before = np.vstack([q[None, :], out[:-1]])
            settled = b / self.rates
            integral = settled * self.interval + (before - settled) * self.gain  # of q over each row
            ledger.energy_in += self.interval * float(watts.sum())
            for name, w in self.outflow.items():
                ledger.heat_out[name] = ledger.heat_out.get(name, 0.0) + float((integral @ w).sum())
            ledger.stored_change += float(self.capacity @ (out[-1] - q))
        return out

    def trajectory(self, q: np.ndarray, watts: np.ndarray, every: int = 1):
        """(row indices, states) every ``every`` rows, in bounded memory."""
        index, states = [], []
        for start in range(0, len(watts), CHUNK):
            chunk = self.rows(q, watts[start:start + CHUNK])
            q = chunk[-1]
            pick = np.arange(start, start + len(chunk))
            pick = pick[(pick + 1) % every == 0] if every > 1 else pick
            index.append(pick)
            states.append(chunk[pick - start])
        return np.concatenate(index), np.vstack(states)


def input_directions(rows: np.ndarray, rtol: float = INPUT_RTOL) -> tuple[np.ndarray, np.ndarray]:
    """An orthonormal basis ``Q`` (sources, r) of the rows' span, and the largest watts of every
    row along each direction (the directions' weights)."""
    if not np.any(rows):
        return np.zeros((rows.shape[1], 0)), np.zeros(0)
    _, sigma, vt = np.linalg.svd(rows, full_matrices=False)
    Q = vt[sigma > rtol * sigma[0]].T
    return Q, np.abs(rows @ Q).max(axis=0)


# ------------------------------------------------------------------------------ shifted solves
class _ShiftedSolver:
    """``(K + s C) X = B`` for blocks of columns: sparse LU on a plane mesh (the lumped die),
    block CG with a single-precision line multigrid on prisms."""

    def __init__(self, system, rtol: float):
        self.system, self.rtol = system, rtol
        self.solves, self.iterations, self.prolongators = 0, 0, None
        if system.plane is not None:
            from thermal.physics.line_multigrid import plane_prolongators
            from thermal.physics.solver import ElementGeometry
            from thermal.physics.stack_solver import _plane_matrices

            plane = system.plane
            ones = np.ones(plane.t.shape[1])
            size = max(np.ptp(plane.p[0]), np.ptp(plane.p[1]))
            K, M = _plane_matrices(plane, ElementGeometry.of(plane), ones, ones / size ** 2)
            self.prolongators = plane_prolongators(K + M)

    def __call__(self, s: float, B: np.ndarray) -> np.ndarray:
        from thermal.errors import SolverError

        system = self.system
        A = (system.K + s * system.C).tocsr()
        self.solves += B.shape[1]
        if self.prolongators is None:
            from scipy.sparse.linalg import splu

            lu = splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                      options={"SymmetricMode": True})
            return lu.solve(B)
        from thermal.physics.line_multigrid import LineMultigrid, pcg

        single = LineMultigrid(A, system.levels, self.prolongators, system.active).single()
        X, its = pcg(single.ops[0], B.astype(np.float32), single.cycle, self.rtol)
        self.iterations += its
        X = X.astype(np.float64)
        residual = np.linalg.norm(B - A @ X, axis=0) / np.maximum(np.linalg.norm(B, axis=0), 1e-300)
        if not np.all(np.isfinite(residual)) or residual.max() > 10 * self.rtol:
            raise SolverError(f"reduced-order basis at shift {s:.3g}/s: relative residual "
                              f"{residual.max():.3g} > {10 * self.rtol:.1g}")
        return np.where(system.active[:, None], X, 0.0) if system.active is not None else X


# ------------------------------------------------------------------------------ the basis
class _Basis:
    """The growing span, its projected matrices (grown a block at a time), and the models it
    gives."""

    def __init__(self, system, interval: float, observe: np.ndarray, inputs: np.ndarray):
        self.system, self.interval, self.observe, self.inputs = system, interval, observe, inputs
        self.blocks: list[np.ndarray] = []
        self.G = np.zeros((0, 0))   # V^T C V
        self.H = np.zeros((0, 0))   # V^T K V
        self.CV, self.KV = [], []   # C V and K V, kept at the observed nodes only
        self.inputs_projected = np.zeros((0, inputs.shape[1]))  # V^T F Q
        self.loads = np.zeros((0, system.loads.shape[1]))
        self.capacity = np.zeros(0)
        self.outflow = {name: np.zeros(0) for name in system.outflow}

    def add(self, X: np.ndarray) -> None:
        system = self.system
        CX, KX = system.C @ X, system.K @ X
        old = np.hstack(self.blocks) if self.blocks else np.zeros((X.shape[0], 0))
        self.G = np.block([[self.G, old.T @ CX], [CX.T @ old, X.T @ CX]])
        self.H = np.block([[self.H, old.T @ KX], [KX.T @ old, X.T @ KX]])
        self.blocks.append(X)
        self.CV.append(CX[self.observe])
        self.KV.append(KX[self.observe])
        self.loads = np.vstack([self.loads, np.asarray(system.loads.T @ X).T])
        self.inputs_projected = np.vstack([self.inputs_projected, X.T @ self.inputs])
        self.capacity = np.append(self.capacity, CX.sum(axis=0))
        for name, w in system.outflow.items():
            self.outflow[name] = np.append(self.outflow[name], w @ X)

    def model(self) -> ReducedModel:
        """Rayleigh-Ritz on the span: in the heat-capacity inner product, dependent directions
        dropped, then the projected eigenproblem."""
        scale = np.sqrt(np.maximum(np.diag(self.G), 1e-300))
        G = self.G / np.outer(scale, scale)
        H = self.H / np.outer(scale, scale)
        w, U = np.linalg.eigh((G + G.T) / 2)
        keep = w > GRAM_RTOL * w.max()
        T = U[:, keep] / np.sqrt(w[keep])
        rates, Y = np.linalg.eigh(T.T @ ((H + H.T) / 2) @ T)
        if rates.min() <= 0:
            raise ArithmeticError(f"reduced model has a non-decaying mode (rate {rates.min():.3g}/s)")
        c = (T @ Y) / scale[:, None]
        # K and C times the modes at the observed nodes, for the residual indicator
        self.K_modes, self.C_modes = np.hstack(self.KV) @ c, np.hstack(self.CV) @ c
        return ReducedModel(list(self.blocks), c, rates, c.T @ self.loads, self.capacity @ c,
                            {name: w_ @ c for name, w_ in self.outflow.items()}, self.interval,
                            self.system.C)


def build_reduced_model(system, rows: np.ndarray, interval: float, *, init="steady",
                        observe: np.ndarray | None = None, tol: float = 1e-3,
                        rtol: float = BASIS_RTOL) -> tuple[ReducedModel, np.ndarray]:
    """The reduced model of ``system`` for the trace ``rows`` (rows, sources) of rows
    ``interval`` long, and its initial modal state.

    Parameters
    ----------
    init : "steady", "ambient" or ndarray
        The state before the first row: the (reduced) steady state of the mean row, zero rise,
        or a rise at every node (added to the basis, with its responses).
    observe : ndarray of int, optional
        The nodes whose temperatures judge the basis (the power layers' faces); all if None.
    tol : float
        The refinement stops when adding a shift changes the observed temperatures, at any
        row, by no more than ``tol`` of their peak rise.
    """
    start = time.perf_counter()
    n = system.K.shape[0]
    active = np.ones(n, bool) if system.active is None else system.active
    observe = np.arange(n) if observe is None else observe
    Q, weight = input_directions(rows)
    inputs = np.asarray(system.loads @ Q)
    initial = init if isinstance(init, np.ndarray) else None
    if initial is not None:
        inputs = np.column_stack([inputs, system.C @ initial])
        weight = np.append(weight, 1.0)
    solve = _ShiftedSolver(system, rtol)
    basis = _Basis(system, interval, observe, inputs)
    basis.add(active[:, None].astype(float))
    if initial is not None:
        basis.add(initial[:, None])
    shifts = [0.0]
    basis.add(solve(0.0, inputs))
    model = basis.model()
    duration = len(rows) * interval
    for s in decade_shifts(SHIFT_TOP / interval, max(1.0 / duration, float(model.rates.min()))):
        shifts.append(s)
        basis.add(solve(s, inputs))
    model = basis.model()
    q0 = _initial_state(model, init, rows)
    every = max(1, math.ceil(len(rows) / CHECK_ROWS))
    seen = _observed(model, q0, rows, observe, every)
    peak_rise = max(float(np.abs(seen).max()), 1e-300)
    change, refined = math.inf, 0
    while refined < MAX_REFINE:
        candidates = midpoints(shifts)
        if not candidates:
            break
        s = max(candidates, key=lambda c: _indicator(model, basis, c, inputs, weight, observe))
        shifts.append(s)
        basis.add(solve(s, inputs))
        model, refined = basis.model(), refined + 1
        q0 = _initial_state(model, init, rows)
        now = _observed(model, q0, rows, observe, every)
        change, seen = float(np.abs(now - seen).max()), now
        peak_rise = max(float(np.abs(seen).max()), 1e-300)
        if change <= tol * peak_rise:
            break
    model.info = {
        "method": "rational Krylov (Galerkin), exact per row",
        "inputs": int(Q.shape[1]), "sources": int(rows.shape[1]),
        "initial_field": initial is not None,
        "shifts_per_s": sorted(shifts), "refined": refined, "basis": int(model.rates.size),
        "slowest_s": float(1 / model.rates.min()), "fastest_s": float(1 / model.rates.max()),
        "estimated_error_K": change if math.isfinite(change) else None,
        "estimated_error_rel": change / peak_rise if math.isfinite(change) else None,
        "tol": tol, "converged": bool(change <= tol * peak_rise),
        "basis_rtol": rtol, "solves": solve.solves, "cg_iterations": solve.iterations,
        "build_s": time.perf_counter() - start,
    }
    return model, q0


def decade_shifts(top: float, bottom: float) -> list:
    """``top``, ``top / 10``, ... down to the first at or below ``bottom`` (just ``top`` if it
    is already there)."""
    count = max(0, math.ceil(math.log(top / bottom, DECADE) - 1e-9)) if top > bottom else 0
    return [top / DECADE ** k for k in range(count + 1)]


def midpoints(shifts: list) -> list:
    """Geometric midpoints of adjacent nonzero shifts (or a half decade either side of one)."""
    s = sorted(x for x in shifts if x > 0)
    if len(s) == 1:
        return [s[0] / math.sqrt(DECADE), s[0] * math.sqrt(DECADE)]
    return [math.sqrt(a * b) for a, b in zip(s, s[1:])]


def _initial_state(model: ReducedModel, init, rows: np.ndarray) -> np.ndarray:
    if isinstance(init, np.ndarray):
        return model.project(init)
    if init == "steady":
        return model.steady(rows.mean(axis=0))
    if init == "ambient":
        return np.zeros(model.rates.size)
    raise ValueError(f"initial state must be 'steady', 'ambient' or an array, got {init!r}")


def _observed(model: ReducedModel, q0: np.ndarray, rows: np.ndarray, observe: np.ndarray,
              every: int) -> np.ndarray:
    """The observed nodes' rises every ``every`` rows (and before the first): (nodes, times)."""
    _, states = model.trajectory(q0, rows, every)
    return model.observer(observe) @ np.column_stack([q0, states.T])


def _indicator(model: ReducedModel, basis: _Basis, s: float, inputs: np.ndarray, weight: np.ndarray,
               observe: np.ndarray) -> float:
    """How far the reduced transfer function is from solving ``(K + s C) x = F`` at the
    observed nodes (only selects the next shift): the residual over the matrix's diagonal (an
    error estimate, K per W), times each input's largest watts."""
    system = basis.system
    coefficients = (model.coefficients.T @ basis.inputs_projected) / (model.rates + s)[:, None]
    residual = inputs[observe] - (basis.K_modes + s * basis.C_modes) @ coefficients
    diagonal = system.K.diagonal()[observe] + s * system.C.diagonal()[observe]
    return float(np.abs(residual / diagonal[:, None] * weight).max())
