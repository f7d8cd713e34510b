"""Exact transient references for a power trace: the lumped die and equal-footprint stacks.

A trace is a sequence of *rows* of length ``dt``; within a row every block dissipates constant
watts, spread uniformly over its rectangle (and, in a stack, through its power slab). Expanded in
the die's cosines ``cos(m pi x / W) cos(n pi y / H)`` (``lambda^2 = alpha_m^2 + beta_n^2``), as
the steady series (:mod:`thermal.exact.series`) is, every lateral mode evolves on its own.

**Lumped die.** The amplitude of a mode obeys ``c t a' = -(k t lambda^2 + h) a + q_mn`` (``c`` the
volumetric heat capacity, ``q_mn`` the power density's cosine coefficient), so over a row::

    a(t + dt) = a(t) e^{-dt / tau} + (q_mn / g) (1 - e^{-dt / tau}),   g = k t lambda^2 + h,
    tau = c t / g.

That is exact: the only approximation is the truncation to ``Mx x My`` modes.

**Stack.** Per mode the problem is 1D through the thickness, ``C theta' = -(K + lambda^2 L)
theta + B q`` once discretised (:func:`z_column`: spectral elements, so ``C`` and ``L`` are
diagonal), and it is integrated exactly over each row through the eigenpairs of the symmetric
``C^-1/2 (K + lambda^2 L) C^-1/2`` (batched :func:`numpy.linalg.eigh`, one per distinct
``lambda^2``): with ``w = V^T C^1/2 theta``, z-mode ``k`` relaxes as ``w_k(t + dt) = w_k
e^{-mu_k dt} + (1 - e^{-mu_k dt}) d_k q``, ``d_k = beta_k / mu_k``, ``beta = V^T C^-1/2 B``.
Two things make this both cheap and exact where it matters:

* *Steady part exact* (the "mode acceleration" of structural dynamics): the face value is
  written as ``y = G(lambda) q + sum_k gamma_k (w_k - d_k q)``, ``gamma = e^T C^-1/2 V`` (``e``
  picks the face's node), with ``G`` the closed-form steady response of
  :func:`thermal.exact.layered.face_responses`. Since ``sum_k gamma_k d_k`` is the discrete
  steady response, this only swaps the discrete steady part for the exact one: the field is
  exactly the steady series once a row has lasted long enough, and the discretisation error
  is confined to the part still relaxing.
* *Fast z-modes dropped*: a z-mode with ``mu_k dt > MU_CUT`` (40) is within ``e^-40`` of its
  quasi-steady value ``d_k q`` at the end of every row whatever happened before, so its term
  above vanishes (to ``4e-18`` of its size) at every time the trace is read. Only the slow
  z-modes are kept; high lateral modes (all their z-modes fast) reduce to the steady series
  of the current row.

Why spectral elements rather than finite volumes (as :func:`thermal.exact.layered.responses_1d`):
at the same node count (60-280 through HotSpot's package, two stacked dies, a secondary
path) second-order finite volumes left 1e-3 of the steady response at the end of a row,
order-6 elements leave 1e-6 (measured against an inverse Laplace transform of the exact 1D
solution), and the eigen-decompositions, ``O(N^3)`` per ``lambda^2``, dominate the cost.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from thermal.exact.layered import face_responses, slabs
from thermal.exact.series import (_dct_grid, _fold, _interval_integrals, _local_maxima,
                                  exact_stack)
from thermal.geometry.floorplan import Floorplan
from thermal.geometry.lumped import LumpedDie
from thermal.geometry.stack import HOTSPOT_DEFAULTS, Stack
from thermal.threads import one_thread

#: z-modes with ``mu dt`` above this are relaxed to within ``e^-40 = 4e-18`` at every row's end.
MU_CUT = 40.0
#: z-grid: spectral elements of this polynomial order (GLL nodes, diagonal mass).
ORDER = 6
#: The elements at a slab's faces are ``ELEMENT_LENGTHS`` times the slab's shortest length
#: (over the refinement), the next ones ``1 + GROWTH`` (over the refinement) times larger.
ELEMENT_LENGTHS = 2.0
GROWTH = 3.0
#: Bytes of temporaries per chunk of modes (eigen-decompositions, coefficient rows).
CHUNK_BYTES = 64 * 2**20
#: The face coefficients of every row are kept when they take at most this many bytes;
#: otherwise :meth:`TransientSeries.rise_on_grid` replays the trace up to the row asked for.
HISTORY_BYTES = 256 * 2**20
#: Peak search: local grids of this many points a side, zoom rounds, candidates kept.
PEAK_LOCAL_POINTS = 9
PEAK_ROUNDS = 4
PEAK_CANDIDATES = 3


# ---------------------------------------------------------------------- the z-column
@dataclass(frozen=True)
class ZColumn:
    """Spectral-element discretisation of a stack's thickness, top (layer 0) first.

    Elements of polynomial order ``ORDER`` on Gauss-Lobatto-Legendre nodes, the nodes' own
    quadrature for the capacity and the in-plane term (so both are diagonal):
    ``C theta' = -(K + lambda^2 L) theta + B q`` with ``K`` the through-thickness conduction
    plus ``h`` on the convecting faces' nodes, ``L`` the in-plane conductivity and ``C`` the
    heat capacity, all per unit area (W/(m^2 K), J/(m^2 K)).

    Attributes
    ----------
    z : ndarray, shape (N,)
        Node depths below the top of layer 0, m.
    stiffness : ndarray, shape (N, N)
        ``K``.
    lateral, capacity : ndarray, shape (N,)
        The diagonals of ``L`` (W/K) and ``C`` (J/(m^2 K)).
    h_top, h_sink : float
        Heat-transfer coefficients of layer 0's top (0: adiabatic) and the sink's face.
    sources : ndarray, shape (N, P)
        Nodal load of a unit flux (1 W/m^2) in each power layer, spread through its power slab.
    faces : ndarray, shape (P, N)
        Row ``j`` picks the node on the top face of power layer ``j``.
    """

    z: np.ndarray
    stiffness: np.ndarray
    lateral: np.ndarray
    capacity: np.ndarray
    h_top: float
    h_sink: float
    sources: np.ndarray
    faces: np.ndarray

    @property
    def nodes(self) -> int:
        return int(self.z.size)

    def modes(self, lam2: float) -> tuple[np.ndarray, np.ndarray]:
        """Eigenpairs of ``(K + lambda^2 L) v = mu C v``: ``mu`` ascending (1/s) and ``V``
        (N, N) C-orthonormal (``V^T C V = I``), so ``theta = V w`` decouples the column."""
        with one_thread("blas"):
            mu, u = _scaled_eigh(self, np.array([float(lam2)]))
        return mu[0], u[0] / np.sqrt(self.capacity)[:, None]

    def heat_out(self, theta: np.ndarray) -> np.ndarray:
        """Heat leaving through the sink's and the top's faces, W/m^2, for nodal rises
        ``theta`` (last axis the nodes): ``1^T K theta``, conduction summing to zero."""
        return self.h_sink * theta[..., -1] + self.h_top * theta[..., 0]


def z_column(stack: Stack, dt: float, lam_max: float = 0.0, refine: float = 1.0) -> ZColumn:
    """The spectral-element column of an equal-footprint stack (see :class:`ZColumn`).

    Every slab (a layer, or a power layer's active slice and the rest of it,
    :func:`thermal.exact.layered.slabs`) is graded geometrically from both of its faces: the
    first element is ``ELEMENT_LENGTHS / refine`` times the shorter of the diffusion length over
    one row, ``sqrt(kz dt / c)``, and the decay length of the highest lateral mode with slow
    dynamics, ``sqrt(kz / kx) / lambda`` (``lambda`` is ``lam_max``, or less where every
    layer's ``kx lambda^2 / c`` exceeds ``MU_CUT / dt``: such modes have no slow z-mode left);
    each next element is ``1 + GROWTH / refine`` times larger; a slab thinner than the first
    element is one element.

    Parameters
    ----------
    stack : Stack
        Bound to a die, every layer on the die's footprint.
    dt : float
        Row length, s.
    lam_max : float
        Largest lateral wavenumber in use, 1/m.
    refine : float
        Resolution multiplier (2: about twice the elements, for convergence checks).
    """
    sl = slabs(stack)
    # Heat capacities: slabs() makes one slab per layer, two for a split active layer.
    caps = []
    for layer in stack.layers:
        split = (layer.power and layer.active_thickness is not None
                 and layer.active_thickness < layer.thickness)
        caps += [layer.heat_capacity] * (2 if split else 1)
    if len(caps) != len(sl):
        raise RuntimeError("z_column: slabs and layers disagree")
    if all(s.kx > 0 for s in sl):
        # Beyond this lambda every z-mode is fast (Rayleigh: mu >= min kx lambda^2 / c); a
        # layer without lateral conduction keeps slow z-modes at every lambda.
        lam_max = min(lam_max, float(np.sqrt(MU_CUT / dt * max(c / s.kx for s, c in zip(sl, caps)))))
    h, slab_of = [], []
    for k, (s, c) in enumerate(zip(sl, caps)):
        lengths = [np.sqrt(s.kz * dt / c)]
        if s.kx > 0 and lam_max > 0:
            lengths.append(np.sqrt(s.kz / s.kx) / lam_max)
        cells = _graded(s.thickness, ELEMENT_LENGTHS * min(lengths) / refine,
                        1.0 + GROWTH / refine, s.thickness)
        h.append(cells)
        slab_of += [k] * cells.size
    h = np.concatenate(h)
    slab_of = np.asarray(slab_of)
    p = ORDER
    xi, wq, d = _gll(p)
    n = h.size * p + 1
    stiff = np.zeros((n, n))
    lateral, capacity = np.zeros(n), np.zeros(n)
    z = np.zeros(n)
    local = d.T @ (wq[:, None] * d)  # int phi_i' phi_j' on [-1, 1]
    top = 0.0
    for e, (he, k) in enumerate(zip(h, slab_of)):
        s, nodes = sl[k], slice(e * p, e * p + p + 1)
        stiff[nodes, nodes] += (2.0 * s.kz / he) * local
        lateral[nodes] += s.kx * 0.5 * he * wq
        capacity[nodes] += caps[k] * 0.5 * he * wq
        z[nodes] = top + 0.5 * he * (xi + 1.0)
        top += he
    stiff[0, 0] += stack.top_htc
    stiff[-1, -1] += stack.sink_htc
    npow = len(stack.power_layers)
    sources = np.zeros((n, npow))
    faces = np.zeros((npow, n))
    for k, s in enumerate(sl):
        elements = np.flatnonzero(slab_of == k)
        if s.source >= 0:
            for e in elements:
                sources[e * p:e * p + p + 1, s.source] += 0.5 * h[e] * wq / s.thickness
        if s.top_of >= 0:
            faces[s.top_of, elements[0] * p] = 1.0
    return ZColumn(z, stiff, lateral, capacity, float(stack.top_htc), float(stack.sink_htc),
                   sources, faces)


def _gll(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gauss-Lobatto-Legendre nodes and weights of order ``p`` on [-1, 1], and the
    differentiation matrix of the Lagrange basis on them (``D[i, j] = phi_j'(x_i)``)."""
    from numpy.polynomial import legendre

    c = np.zeros(p + 1)
    c[-1] = 1.0
    x = np.concatenate([[-1.0], np.sort(legendre.legroots(legendre.legder(c))), [1.0]])
    w = 2.0 / (p * (p + 1) * legendre.legval(x, c) ** 2)
    diff = x[:, None] - x[None, :]
    np.fill_diagonal(diff, 1.0)
    bary = 1.0 / np.prod(diff, axis=1)  # barycentric weights
    d = (bary[None, :] / bary[:, None]) / diff
    np.fill_diagonal(d, 0.0)
    np.fill_diagonal(d, -d.sum(axis=1))
    return x, w, d


def _graded(thickness: float, first: float, ratio: float, largest: float) -> np.ndarray:
    """Cells over ``thickness`` growing by ``ratio`` from ``first`` at both ends, capped at
    ``largest``, scaled to fill the thickness exactly (one cell if ``first`` covers it)."""
    first = min(first, largest)
    if thickness <= first * (1 + 1e-9):
        return np.array([thickness])
    half, total = [], 0.0
    size = first
    while total < 0.5 * thickness:
        half.append(size)
        total += size
        size = min(size * ratio, largest)
    half = np.array(half)
    if total - 0.5 * thickness > 0.5 * half[-1] and half.size > 1:
        half = half[:-1]  # the last cell would overshoot the middle by more than half of it
    cells = np.concatenate([half, half[::-1]])
    return cells * (thickness / cells.sum())


def _scaled_eigh(col: ZColumn, lam2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of ``S = C^-1/2 (K + lambda^2 L) C^-1/2`` for each ``lambda^2`` (batched
    :func:`numpy.linalg.eigh`): ``mu`` (B, N) ascending, ``U`` (B, N, N) orthonormal columns."""
    s = 1.0 / np.sqrt(col.capacity)
    a = np.repeat((s[:, None] * col.stiffness * s[None, :])[None], lam2.size, axis=0)
    i = np.arange(col.nodes)
    a[:, i, i] += np.asarray(lam2, float)[:, None] * (col.lateral * s * s)
    return np.linalg.eigh(a)


# ---------------------------------------------------------------------- modal dynamics
@dataclass(frozen=True)
class _Dynamics:
    """Per lateral mode (flattened, ``M``) and kept z-mode (``k``): what a row does.

    ``w <- decay w + (1 - decay) (gain @ q)``; face coefficient ``output . w + static @ q``
    (``q`` the mode's power density per power layer, W/m^2)."""

    decay: np.ndarray   # (M, k)
    gain: np.ndarray    # (M, k, P), K per W/m^2 (modal)
    output: np.ndarray  # (M, k)
    static: np.ndarray  # (M, P), K per W/m^2

    def steady(self, q: np.ndarray) -> np.ndarray:
        return np.einsum("mkp,mp->mk", self.gain, q)

    def step(self, w: np.ndarray, q: np.ndarray) -> np.ndarray:
        return self.decay * w + (1.0 - self.decay) * self.steady(q)

    def face(self, w: np.ndarray, q: np.ndarray) -> np.ndarray:
        return np.einsum("mk,mk->m", self.output, w) + np.einsum("mp,mp->m", self.static, q)


def _lumped_dynamics(model: LumpedDie, capacity: float, lam2: np.ndarray, dt: float) -> _Dynamics:
    g = model.sheet_conductance * lam2.ravel() + model.htc
    tau = capacity * model.thickness / g
    m = g.size
    return _Dynamics(np.exp(-dt / tau)[:, None], (1.0 / g)[:, None, None], np.ones((m, 1)),
                     np.zeros((m, 1)))


def _stack_dynamics(stack: Stack, col: ZColumn, lam2: np.ndarray, dt: float,
                    face: int) -> _Dynamics:
    """Slow z-modes of every distinct ``lambda^2``, then gathered onto the modes."""
    values, inverse = _distinct(lam2.ravel())
    n = col.nodes
    s = 1.0 / np.sqrt(col.capacity)
    sb = col.sources * s[:, None]          # C^-1/2 B
    se = col.faces[face] * s               # e^T C^-1/2
    exact = face_responses(stack, values)[face].T  # (U, P)
    step = max(1, CHUNK_BYTES // (16 * n * n))
    keep = None
    parts = []
    for start in range(0, values.size, step):
        # Small dense eigen-problems: a second BLAS thread makes them 10-40x slower here.
        with one_thread("blas"):
            mu, u = _scaled_eigh(col, values[start:start + step])
        if keep is None:  # eigenvalues grow with lambda^2: the smallest one keeps the most
            keep = max(1, int(np.count_nonzero(mu[0] * dt <= MU_CUT)))
        mu, u = mu[:, :keep], u[:, :, :keep]
        slow = mu * dt <= MU_CUT
        beta = np.einsum("bnk,np->bkp", u, sb)
        gamma = np.einsum("n,bnk->bk", se, u) * slow
        gain = beta / np.where(slow, mu, 1.0)[..., None] * slow[..., None]
        decay = np.where(slow, np.exp(-np.minimum(mu, MU_CUT / dt) * dt), 0.0)
        static = exact[start:start + step] - np.einsum("bk,bkp->bp", gamma, gain)
        parts.append((decay, gain, gamma, static))
    decay, gain, gamma, static = (np.concatenate(p)[inverse] for p in zip(*parts))
    return _Dynamics(decay, gain, gamma, static)


def _distinct(lam2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values (equal to 1e-12 relative: a square die repeats most of them)
    and the index of each input among them."""
    order = np.argsort(lam2, kind="stable")
    v = lam2[order]
    new = np.r_[True, np.diff(v) > 1e-12 * np.maximum(v[1:], 1e-300)]
    group = np.cumsum(new) - 1
    inverse = np.empty(lam2.size, dtype=np.int64)
    inverse[order] = group
    return v[new], inverse


# ---------------------------------------------------------------------- the reference
class TransientSeries:
    """Exact (per mode, in time) transient of the lumped die or an equal-footprint stack.

    Parameters
    ----------
    floorplan : Floorplan
        Blocks and die (a floorplan of blocks: a power map has no trace rows). Its own power
        is not used.
    model : LumpedDie or Stack
        A stack must have an exact series (every layer on the die's footprint, homogeneous:
        :func:`thermal.physics.metrics.has_exact_solution`); power layers without a floorplan
        take ``floorplan``.
    rows : array_like, shape (n_rows, n_blocks)
        Watts per block in each row. For a stack, the blocks of every power layer in layer
        order (top first), as :func:`thermal.physics.transient.stack_system` orders its
        sources; a sequence of arrays, one per power layer, is concatenated so.
    dt : float
        Length of every row, s.
    heat_capacity : float, optional
        Lumped die only: volumetric heat capacity, J/(m^3 K); by default the model's
        ``heat_capacity`` if it has one, else HotSpot's silicon (1.75e6).
    initial : {"ambient", "steady"} or ndarray
        The state before the first row: zero rise; the steady state of the mean row (exactly
        the steady series truncated to ``modes``); an array of watts per block (the steady
        state of that row); or, for the lumped die, mode amplitudes (Mx, My) in kelvin.
    modes : (int, int)
        Cosine modes kept along x and y (the only approximation of the lumped die).
    face : int
        For a stack, the power layer whose top face is reported.
    z_refine : float
        Stack only: z-grid resolution multiplier (:func:`z_column`).

    Attributes
    ----------
    floorplan : Floorplan
        The reported face's floorplan.
    model : LumpedDie or Stack
        The stack bound to the die.
    column : ZColumn or None
        The stack's z-discretisation.
    kept_z_modes : int
        z-modes per lateral mode integrated in time (1 for the lumped die).

    Notes
    -----
    **Accuracy.** Lumped die: exact for the kept modes at every row's end (to rounding). The
    truncation to ``modes`` is the steady series' at the same modes (the modes are given, not
    chosen: take ``SeriesSolution(...).modes`` for the steady series' own); :meth:`peaks`
    reports the rise the upper half of the modes carries at every peak, a pessimistic
    estimate of it. Stack: the steady part is exact, the part still relaxing carries the
    z-grid's error. Per mode, against the inverse Laplace transform of the exact 1D solution
    (HotSpot's package cut to the die; two dies with a 5 um active slice under a TIM, on a
    sink; the same under a board with a convecting top; HotSpot's secondary path; rows of
    1e-5, 1e-3 and 0.1 s; lambda 0 to 1e5/m; rows 1 to 30 of a step in either power layer,
    read on either face), the face rise is within 1.5e-6 of the mode's largest steady face
    response (``z_refine=2``: 3e-8); claimed: 1e-5. The lateral modes add no error of their
    own beyond the truncation.

    **Cost.** Stack: one ``N x N`` eigen-decomposition per distinct ``lambda^2`` (``N`` the
    z-nodes, 80-280 for the stacks above, more for shorter rows; a square die halves the
    count), about 0.5 ms at ``N = 80`` (64 x 64 modes over HotSpot's package: 0.8 s); per row
    ``M k (P + 2)`` flops (``M`` lateral modes, ``k`` kept z-modes, 30-250; ``P`` power
    layers) and the memory of ``8 M k (P + 2)`` bytes for the dynamics. Lumped die: per row,
    the power's coefficients and ``M`` exponential updates. :meth:`peaks` adds a DCT of the
    search grid per row.
    """

    def __init__(self, floorplan: Floorplan, model: LumpedDie | Stack, rows,
                 dt: float, *, heat_capacity: float | None = None,
                 initial: str | np.ndarray = "ambient", modes: tuple[int, int] = (64, 64),
                 face: int = 0, z_refine: float = 1.0):
        dt = float(dt)
        if not (np.isfinite(dt) and dt > 0):
            raise ValueError(f"dt must be positive and finite, got {dt!r}")
        mx, my = (int(m) for m in modes)
        if mx < 1 or my < 1:
            raise ValueError(f"modes must be positive, got {modes!r}")
        self.modes = (mx, my)
        self.dt = dt
        self.face = int(face)
        self.column = None
        if isinstance(model, Stack):
            if heat_capacity is not None:
                raise ValueError("heat_capacity is the lumped die's: a stack's layers carry theirs")
            model = exact_stack(model, floorplan)
            plans = [model.layers[k].floorplan for k in model.power_layers]
            if not 0 <= self.face < len(plans):
                raise ValueError(f"face {face} is not a power layer (the stack has {len(plans)})")
        else:
            if self.face != 0:
                raise ValueError("the lumped die has one face, 0")
            plans = [floorplan]
            c = heat_capacity if heat_capacity is not None else getattr(
                model, "heat_capacity", HOTSPOT_DEFAULTS["p_chip"])
            if not (np.isfinite(c) and c > 0):
                raise ValueError(f"heat_capacity must be positive and finite, got {c!r}")
            self.heat_capacity = float(c)
        self.model = model
        self.floorplan = plans[self.face]
        x0, y0, x1, y1 = (float(v) for v in self.floorplan.die)
        self._origin, self._size = (x0, y0), (x1 - x0, y1 - y0)
        self._layers = [_BlockModes(fp, self._size, mx, my) for fp in plans]
        self.rows = _rows(rows, [len(fp.names) for fp in plans])
        a2 = (np.arange(mx) * np.pi / self._size[0]) ** 2
        b2 = (np.arange(my) * np.pi / self._size[1]) ** 2
        lam2 = a2[:, None] + b2[None, :]
        if isinstance(model, Stack):
            self.column = z_column(model, dt, float(np.sqrt(lam2.max())), z_refine)
            self._dyn = _stack_dynamics(model, self.column, lam2, dt, self.face)
        else:
            self._dyn = _lumped_dynamics(model, self.heat_capacity, lam2, dt)
        self.kept_z_modes = int(self._dyn.decay.shape[1])
        self._w0 = self._initial(initial)
        self._history = None
        self._peaks = None

    # ------------------------------------------------------------------ construction
    def _densities(self, watts: np.ndarray) -> np.ndarray:
        """Cosine coefficients of the power density of one row, (Mx * My, P), W/m^2."""
        parts, start = [], 0
        for layer in self._layers:
            parts.append(layer.coefficients(watts[start:start + layer.blocks]).ravel())
            start += layer.blocks
        return np.stack(parts, axis=1)

    def _initial(self, initial) -> np.ndarray:
        m, k = self._dyn.decay.shape
        if isinstance(initial, str):
            if initial == "ambient":
                return np.zeros((m, k))
            if initial == "steady":
                return self._dyn.steady(self._densities(self.rows.mean(axis=0)))
            raise ValueError(f"initial must be 'ambient', 'steady' or an array, got {initial!r}")
        a = np.asarray(initial, float)
        if a.shape == (self.rows.shape[1],):
            return self._dyn.steady(self._densities(a))
        if a.shape == self.modes and self.column is None:
            return a.reshape(m, 1).copy()
        raise ValueError(f"initial array of shape {a.shape}: expected watts per block "
                         f"({self.rows.shape[1]},)" + ("" if self.column is not None else
                                                       f" or mode amplitudes {self.modes}"))

    # ------------------------------------------------------------------ time stepping
    def _run(self) -> Iterator[np.ndarray]:
        """Face coefficients (Mx, My) at the end of rows 0, 1, ..."""
        w = self._w0
        for r in range(self.rows.shape[0]):
            with one_thread("blas"):
                q = self._densities(self.rows[r])
                w = self._dyn.step(w, q)
                coef = self._dyn.face(w, q).reshape(self.modes)
            yield coef

    def _all(self):
        """Face coefficients of every row: kept (one pass) when they fit ``HISTORY_BYTES``,
        else a fresh pass over the trace."""
        n = self.rows.shape[0]
        if self._history is None and n * self.modes[0] * self.modes[1] * 8 <= HISTORY_BYTES:
            self._history = np.stack(list(self._run()))
        return self._history if self._history is not None else self._run()

    def coefficients(self, row: int) -> np.ndarray:
        """Face cosine coefficients (Mx, My), K, at the end of row ``row`` (negative: from the
        end)."""
        n = self.rows.shape[0]
        row = int(row)
        if not -n <= row < n:
            raise IndexError(f"row {row} out of range for {n} rows")
        row %= n
        source = self._all()
        if isinstance(source, np.ndarray):
            return source[row]
        for r, coef in enumerate(source):
            if r == row:
                return coef

    # ------------------------------------------------------------------ evaluation
    def rise_on_grid(self, row: int, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Face rise at the end of row ``row`` on a node-aligned grid spanning the die, as
        :meth:`thermal.exact.series.SeriesSolution.rise_on_grid` (exact for the kept modes).

        Returns
        -------
        x : ndarray, shape (nx,)
        y : ndarray, shape (ny,)
        U : ndarray, shape (ny, nx)
            Rise (K); ``U[j, i]`` at ``(x[i], y[j])``.
        """
        nx, ny = int(nx), int(ny)
        if nx < 1 or ny < 1:
            raise ValueError(f"grid needs at least one node per axis, got {nx} x {ny}")
        grid = _dct_grid(_fold(_fold(self.coefficients(row), nx - 1, 0), ny - 1, 1))
        x0, y0, x1, y1 = self.floorplan.die
        return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny), np.ascontiguousarray(grid.T)

    def rise_at(self, row: int, x, y) -> np.ndarray:
        """Face rise (K) at the end of row ``row`` at points (floorplan coordinates)."""
        x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        v = self._evaluate(self.coefficients(row), x.ravel() - self._origin[0],
                           y.ravel() - self._origin[1])
        return v.reshape(x.shape)

    def peaks(self) -> np.ndarray:
        """Peak face rise (K) at the end of every row.

        Each row's field is summed on a node grid of ``2 max(Mx, My)`` intervals along the
        die's longer side (at least 64; the cosines' shortest half-wavelength is then two
        spacings), whose best ``PEAK_CANDIDATES`` local maxima are zoomed onto: ``PEAK_ROUNDS``
        rounds of a ``PEAK_LOCAL_POINTS``-square grid over +-1 spacing around each, each round
        a quarter of the last spacing, so the point ends within 1/1024 of a grid spacing of
        the truncated series' maximum and the rise within a millionth of the rise's change
        over a spacing. Sets :attr:`peak_xy` (n_rows, 2), floorplan coordinates, and
        :attr:`peak_truncation` (n_rows,), K: the rise the modes ``m >= Mx / 2`` or
        ``n >= My / 2`` carry at each peak, the truncation error of half the modes, so
        pessimistic for the modes kept (about four times for sharp-edged blocks, whose
        coefficients fall as ``1 / (m n (m^2 + n^2))``).
        """
        if self._peaks is None:
            n = max(64, 2 * max(self.modes))
            intervals = [max(1, int(round(n * s / max(self._size)))) for s in self._size]
            found = []
            for coef in self._all():
                with one_thread("blas"):
                    found.append(self._peak_of(coef, intervals))
            found = np.array(found)
            self._peaks = found[:, 0]
            self.peak_xy = found[:, 1:3] + np.array(self._origin)
            self.peak_truncation = found[:, 3]
        return self._peaks

    def _peak_of(self, coef: np.ndarray, intervals) -> tuple[float, float, float, float]:
        """(rise, x, y, tail) of one row's coefficients, die-relative (see :meth:`peaks`)."""
        grid = _dct_grid(_fold(_fold(coef, intervals[0], 0), intervals[1], 1))
        ix, iy = _local_maxima(grid, PEAK_CANDIDATES)
        hx, hy = self._size[0] / intervals[0], self._size[1] / intervals[1]
        px, py, best = ix * hx, iy * hy, grid[ix, iy]
        k, my = PEAK_LOCAL_POINTS, coef.shape[1]
        offsets = np.linspace(-1.0, 1.0, k)
        for _ in range(PEAK_ROUNDS):
            xs = np.clip(px[:, None] + hx * offsets, 0.0, self._size[0])
            ys = np.clip(py[:, None] + hy * offsets, 0.0, self._size[1])
            cx, cy = self._tables(xs.ravel(), ys.ravel())
            vals = (cx @ coef).reshape(-1, k, my) @ cy.reshape(-1, k, my).transpose(0, 2, 1)
            i, j = np.divmod(vals.reshape(vals.shape[0], -1).argmax(axis=1), k)
            c = np.arange(vals.shape[0])
            px, py, best = xs[c, i], ys[c, j], vals[c, i, j]
            hx, hy = hx / 4, hy / 4
        w = int(np.argmax(best))
        high = coef.copy()
        high[:max(1, self.modes[0] // 2), :max(1, self.modes[1] // 2)] = 0.0
        tail = abs(float(self._evaluate(high, px[w:w + 1], py[w:w + 1])[0]))
        return float(best[w]), float(px[w]), float(py[w]), tail

    def _tables(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mx, my = self.modes
        return (np.cos(np.outer(x, np.pi * np.arange(mx) / self._size[0])),
                np.cos(np.outer(y, np.pi * np.arange(my) / self._size[1])))

    def _evaluate(self, coef: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        cx, cy = self._tables(x, y)
        return np.einsum("pn,pn->p", cx @ coef, cy)


class _BlockModes:
    """One power layer's blocks: the power density's cosine coefficients for given watts,
    ``Xc^T diag(watts / area) Yc`` (:func:`thermal.exact.series._interval_integrals`)."""

    def __init__(self, floorplan: Floorplan, size, mx: int, my: int):
        if floorplan.source_grid is not None:
            raise ValueError("a transient needs a floorplan of blocks (a power map has no trace rows)")
        b = floorplan.blocks
        x0, y0 = floorplan.die[0], floorplan.die[1]
        self.blocks = len(b)
        self.xc = _interval_integrals(np.column_stack([b.x0 - x0, b.x1 - x0]), size[0], mx)
        self.yc = _interval_integrals(np.column_stack([b.y0 - y0, b.y1 - y0]), size[1], my)
        self.area = b.area

    def coefficients(self, watts: np.ndarray) -> np.ndarray:
        return self.xc.T @ ((watts / self.area)[:, None] * self.yc)


def _rows(rows, blocks: list[int]) -> np.ndarray:
    """Rows as one (n_rows, sum(blocks)) array, checked."""
    if isinstance(rows, (list, tuple)) and len(rows) == len(blocks) and len(blocks) > 1 \
            and all(np.ndim(r) == 2 for r in rows):
        rows = np.concatenate([np.asarray(r, float) for r in rows], axis=1)
    rows = np.asarray(rows, float)
    if rows.ndim != 2 or rows.shape[1] != sum(blocks) or rows.shape[0] < 1:
        raise ValueError(f"rows must be (n_rows, {sum(blocks)}) watts per block "
                         f"(power layers' blocks {blocks}), got shape {rows.shape}")
    if not np.all(np.isfinite(rows)):
        raise ValueError("rows must be finite")
    return rows
