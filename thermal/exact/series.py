"""The exact solution of the lumped die model as a double cosine series.

On the die ``[0, W] x [0, H]`` (coordinates shifted by the die's lower-left corner) the lumped
model (:mod:`thermal.geometry.lumped`) reads::

    -div(k t grad u) + h u = q(x, y),    du/dn = 0 on the edges,    u = T - T_amb.

The cosines ``cos(m pi x / W) cos(n pi y / H)`` are its eigenfunctions, so with ``Q_mn`` the
cosine coefficients of ``q``::

    u(x, y) = sum_{m, n >= 0} c_mn cos(m pi x / W) cos(n pi y / H),
    c_mn    = Q_mn / (k t ((m pi / W)^2 + (n pi / H)^2) + h).

For sources that are rectangles of uniform density ``q_r`` the coefficients separate:
``Q = Xc^T diag(q_r) Yc`` with ``Xc[r, m]`` the integral of ``eps_m / W cos(m pi x / W)`` over the
rectangle's x-interval (``eps_0 = 1``, ``eps_m = 2``), likewise ``Yc``. That is a matrix product;
sources sharing an x-interval (tiled floorplans, power-map cells) share a row of ``Xc``, which
makes it a product through a sparse ``intervals x intervals`` density matrix.

The only approximation is truncation to ``Mx x My`` modes, and :class:`SeriesSolution` chooses
them by doubling until an estimate of the truncation error of the maximum rise (the change
the last doubling made at the maxima) is below ``rtol`` times the peak rise. Evaluation on a node-aligned grid is exact for any mode count:
``cos(m pi i / N)`` is ``2N``-periodic and even in ``m``, so the coefficients fold onto ``N + 1``
modes and one type-I DCT per axis finishes the sum.
"""
from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

import numpy as np
import scipy.fft
import scipy.sparse as sp

from thermal.geometry.floorplan import Floorplan
from thermal.exact.layered import face_responses, local_sheet
from thermal.geometry.lumped import LumpedDie
from thermal.geometry.stack import Stack

#: Fewest starting modes per axis (the first probe has twice as many): the truncated field's
#: ripples, of wavelength ``2 W / M``, then move a flat maximum by well under 1e-3 of the die.
MIN_MODES = 256
#: Hottest search-grid nodes over which ``field_error_estimate`` is measured.
HOT_POINTS = 64
#: Smallest grid (intervals per side) used to find the hot points and the peak.
MIN_GRID_INTERVALS = 512
#: Largest such grid; finer features are still resolved by the modes, only located less well.
MAX_GRID_INTERVALS = 2048
#: Bytes of temporaries per chunk (coefficient rows, scattered points): memory stays bounded.
CHUNK_BYTES = 64 * 2**20
#: Peak refinement: points per side of each local grid, most zoom rounds while choosing the
#: modes, and candidate maxima kept from the search grid.
PEAK_LOCAL_POINTS = 17
PEAK_ROUNDS = 6
PEAK_CANDIDATES = 3
#: Hottest grid nodes examined for being local maxima.
LOCAL_MAX_POOL = 4096


class SeriesSolution:
    """Exact (truncated-series) temperature of the lumped die model for a floorplan.

    Parameters
    ----------
    floorplan : Floorplan
        Heat sources (rectangles of uniform density) and the die.
    model : LumpedDie
        Sheet conductance ``k t``, heat-transfer coefficient ``h`` and ambient.
    rtol : float
        Target truncation error of the maximum temperature rise, relative to the peak rise.
    max_modes : int
        Cap on the number of modes along each axis. The coefficient matrix takes
        ``8 * Mx * My`` bytes (512 MB at the default cap in both directions).

    Attributes
    ----------
    floorplan : Floorplan
    model : LumpedDie
    modes : tuple of int
        (Mx, My), the modes kept along x and y.
    error_estimate : float
        Estimated truncation error (K) of the maximum rise, see Notes.
    field_error_estimate : float
        The same change measured over the ``HOT_POINTS`` hottest nodes of the search grid
        rather than at the maxima (K): a pessimistic figure for the whole hot region, source
        edges included, where the tail is largest.
    capped : bool
        True when ``max_modes`` stopped the doubling before ``rtol`` was met; ``error_estimate``
        then exceeds ``rtol`` times the peak rise and says by how much.
    coefficients : ndarray
        ``c_mn``, shape (Mx, My), in kelvin.

    Notes
    -----
    **How the modes are chosen.** They grow by doubling. Each round computes the coefficients
    on a *probe* ``(Px, Py)``, twice the current modes, which contains the *base*
    ``(Px/2, Py/2)`` as its leading block. The maximum of each (probe and base) is located
    (grid search, then zooming, see :attr:`peak`), and at both maxima the rise carried by the
    modes the probe adds to the base is evaluated exactly::

        change = max over {argmax u_probe, argmax u_base} of |u_probe - u_base|
        error_estimate = max(change, previous round's error_estimate / 4)

    The probe is kept once ``error_estimate <= rtol * peak rise``. Why these two points: with
    ``e = u - u_N`` the truncation error, ``max u_N - max u`` lies between ``-|e(x*)|`` and
    ``|e(x_N)|`` (``x*``, ``x_N`` the exact and truncated argmax), so the error of the maximum
    is the tail at the maxima, not the (larger) tail at source edges elsewhere. The change is
    that of the *base*; the kept probe has twice the modes and, for sharp-edged sources whose
    coefficients fall like ``1/(m n (m^2 + n^2))``, a tail about a quarter as large — the
    estimate is deliberately pessimistic. The floor (a quarter of the previous round's
    estimate, i.e. no better than ``1/M^2`` convergence assumed) guards against a lucky
    near-zero change when the oscillating tail happens to vanish at both points.

    A direction is doubled again only while its own tail (the x-tail ``m >= Px/2, n < Py/2``
    or the y-tail, each plus the corner ``m >= Px/2, n >= Py/2``) exceeds half the tolerance
    (when only the floor is above tolerance, the direction with the larger tail), so a
    floorplan uniform in y (blocks spanning the full height) keeps few y-modes. Starting
    modes (at least ``MIN_MODES``) resolve the smallest source side and the thermal length
    ``sqrt(k t / h)`` four times over. When ``max_modes`` is reached along a direction that still needs more, the solution
    keeps the cap, ``capped`` is set and ``error_estimate`` is the last estimate, the change
    from half the cap to the cap; nothing is raised.

    **Cost.** Forming the coefficients costs ``intervals * Mx * My`` flops, with ``intervals``
    the number of distinct source x- (or y-) intervals; the doubling adds about a third.
    """

    def __init__(self, floorplan: Floorplan, model: LumpedDie | Stack, rtol: float = 1e-5,
                 max_modes: int = 8192, face: int = 0):
        if not (np.isfinite(rtol) and rtol > 0):
            raise ValueError(f"rtol must be positive and finite, got {rtol!r}")
        if int(max_modes) < 2:
            raise ValueError(f"max_modes must be at least 2, got {max_modes!r}")
        if isinstance(model, Stack):
            model = exact_stack(model, floorplan)
            floorplan = model.layers[model.power_layers[face]].floorplan
        self.floorplan = floorplan
        self.model = model
        self.face = int(face)
        self.rtol = float(rtol)
        self.max_modes = int(max_modes)
        x0, y0, x1, y1 = (float(v) for v in floorplan.die)
        self._origin = (x0, y0)
        self._size = (x1 - x0, y1 - y0)
        self._sources = _sources_of(floorplan, model, self.face)
        self._length = (local_sheet(model) if isinstance(model, Stack) else model).thermal_length
        # Search grid: at least 513 nodes a side, and four nodes across the smallest source.
        self._grid_intervals = tuple(
            int(min(MAX_GRID_INTERVALS, max(MIN_GRID_INTERVALS, _pow2(4 * size / feature))))
            for size, feature in zip(self._size, self._sources.min_side))
        self._converge()

    # ------------------------------------------------------------------ construction
    def _initial_modes(self) -> list[int]:
        """Modes that resolve the smallest source side and the thermal length a few times."""
        length = self._length
        return [int(min(max(MIN_MODES, _pow2(4 * size / feature), _pow2(4 * size / length)),
                        max(1, self.max_modes // 2)))
                for size, feature in zip(self._size, self._sources.min_side)]

    def _converge(self) -> None:
        """Double the modes until the estimated error of the maximum rise is below tolerance."""
        lower = self._initial_modes()
        nx_int, ny_int = self._grid_intervals
        previous = None
        while True:
            probe = [min(2 * m, self.max_modes) for m in lower]
            base = [max(p // 2, 1) for p in probe]
            coef = self._coefficients(*probe)
            # One pass over the coefficients: fold the base rows and the added rows apart, and
            # each to the small (grid x grid) size before the next, to keep temporaries small.
            low = _fold(coef[:base[0]], nx_int, 0)
            base_folded, folded = _fold(low[:, :base[1]], ny_int, 1), _fold(low, ny_int, 1)
            del low
            folded += _fold(_fold(coef[base[0]:], nx_int, 0, start=base[0]), ny_int, 1)
            base_grid, grid = _dct_grid(base_folded), _dct_grid(folded)
            # Zoom until the spacing is well below the tail's wavelength 2 W / M, so the points
            # are the maxima of these truncations, not of a smoothed picture of them.
            rounds = int(np.clip(np.ceil(np.log(8 * max(probe) / min(self._grid_intervals))
                                         / np.log(4)), 2, PEAK_ROUNDS))
            # Both truncations are refined in the same passes over the coefficients.
            start = _start_from_grid([grid, base_grid], self._size)
            found = self._refine(coef, [probe, base], start, rounds)
            hot = found.select(found.group == 0)
            first = [np.flatnonzero(found.group == g)[0] for g in (0, 1)]  # best of each
            px, py = found.x[first], found.y[first]
            parts = self._tail_parts(coef, base, px, py)
            change = {k: float(np.max(np.abs(v))) for k, v in parts.items()}
            total = float(np.max(np.abs(parts["x"] + parts["y"] + parts["xy"])))
            if previous is not None:
                total = max(total, previous / 4)
            tol = self.rtol * float(hot.rise[0])
            need = [change["x"] + change["xy"] > tol / 2, change["y"] + change["xy"] > tol / 2]
            if total > tol and not any(need):
                # Only the floor is above tol: grow the direction whose tail is larger.
                tails = [change["x"] + change["xy"], change["y"] + change["xy"]]
                need = [t >= max(tails) for t in tails]
            need = [n and p < self.max_modes for n, p in zip(need, probe)]
            if total <= tol or not any(need):
                break
            lower = [p if n else m for p, n, m in zip(probe, need, lower)]
            previous = total
            del coef, grid, base_grid
        self.coefficients = coef
        self.modes = (int(probe[0]), int(probe[1]))
        self.error_estimate = total
        self.capped = total > tol
        nodes = np.argpartition(grid.ravel(), -min(HOT_POINTS, grid.size))[-HOT_POINTS:]
        self.field_error_estimate = float(np.max(np.abs((grid - base_grid).ravel()[nodes])))
        self._hot = hot

    def _coefficients(self, mx: int, my: int) -> np.ndarray:
        """c_mn for m < mx, n < my: (Xc^T S Yc) / (k t (alpha_m^2 + beta_n^2) + h)."""
        return _coefficient_matrix(self._sources, self._size, self.model, mx, my, self.face)

    def _tables(self, x: np.ndarray, y: np.ndarray, modes) -> tuple[np.ndarray, np.ndarray]:
        """cos(m pi x / W) (len(x), Mx) and cos(n pi y / H) (len(y), My), die-relative."""
        return (np.cos(np.outer(x, np.pi * np.arange(modes[0]) / self._size[0])),
                np.cos(np.outer(y, np.pi * np.arange(modes[1]) / self._size[1])))

    def _refine(self, coef: np.ndarray, limits, start: "_Candidates",
                rounds: int) -> "_Candidates":
        """Zoom onto maxima of one or more truncations of ``coef`` at once.

        Candidates of group ``g`` see only the modes ``limits[g]`` = (mx, my): their cosine
        tables are zeroed beyond, so every group shares each (memory-bound) pass over the
        coefficients. Each round evaluates a square local grid of ``PEAK_LOCAL_POINTS`` a side
        over +-2 spacings around every candidate (clipped to the die), moves it to its best
        node and quarters the spacing. Candidates clearly behind the best of their group are
        dropped; the result is sorted by group, then best first.
        """
        c = start
        mx, my = coef.shape
        keep_x = np.arange(mx)[None, :] < np.array([l[0] for l in limits])[:, None]
        keep_y = np.arange(my)[None, :] < np.array([l[1] for l in limits])[:, None]
        offsets = np.linspace(-2.0, 2.0, PEAK_LOCAL_POINTS)
        for _ in range(rounds):
            n, k = c.x.size, PEAK_LOCAL_POINTS
            xs = np.clip(c.x[:, None] + c.hx * offsets[None, :], 0.0, self._size[0])
            ys = np.clip(c.y[:, None] + c.hy * offsets[None, :], 0.0, self._size[1])
            ax, ay = self._tables(xs.ravel(), ys.ravel(), (mx, my))
            ax *= np.repeat(keep_x[c.group], k, axis=0)
            ay *= np.repeat(keep_y[c.group], k, axis=0)
            left = (ax @ coef).reshape(n, k, my)
            vals = left @ ay.reshape(n, k, my).transpose(0, 2, 1)  # (n, k, k)
            i, j = np.divmod(vals.reshape(n, -1).argmax(axis=1), k)
            rows = np.arange(n)
            rise = vals[rows, i, j]
            # A candidate more than 1e-4 of its group's peak behind cannot win at finer
            # spacing: the rise changes by far less once the spacing is a quarter of the grid's.
            best = np.full(len(limits), -np.inf)
            np.maximum.at(best, c.group, rise)
            keep = np.flatnonzero(rise >= best[c.group] - 1e-4 * np.abs(best[c.group]))
            keep = keep[np.lexsort((-rise[keep], c.group[keep]))]
            c = _Candidates(xs[rows, i][keep], ys[rows, j][keep], rise[keep], c.hx / 4,
                            c.hy / 4, c.group[keep])
        return c

    def _polish(self, c: "_Candidates", iterations: int = 4) -> "_Candidates":
        """Newton steps on the gradient from zoomed maxima; a step is kept only if the rise
        does not drop and it stays within the last zoom window, so it cannot leave the
        maximum's basin. Converges to the truncated series' maximum to rounding."""
        mx, my = self.modes
        a, b = np.pi * np.arange(mx) / self._size[0], np.pi * np.arange(my) / self._size[1]
        x, y, rise = c.x.copy(), c.y.copy(), c.rise.copy()
        active = np.ones(x.size, dtype=bool)
        prev = None
        for it in range(iterations + 1):
            sx, cxx = np.sin(np.outer(x, a)), np.cos(np.outer(x, a))
            sy, cyy = np.sin(np.outer(y, b)), np.cos(np.outer(y, b))
            rows = np.stack([cxx, -a * sx, -a * a * cxx], axis=1) @ self.coefficients  # (c, 3, My)
            u = np.einsum("pn,pn->p", rows[:, 0], cyy)
            if prev is not None:
                worse = active & (u < rise)
                x[worse], y[worse] = prev[0][worse], prev[1][worse]
                active &= ~worse
                rise = np.where(active, u, rise)
            if it == iterations or not active.any():
                break
            gx = np.einsum("pn,pn->p", rows[:, 1], cyy)
            gy = np.einsum("pn,pn->p", rows[:, 0], -b * sy)
            hxx = np.einsum("pn,pn->p", rows[:, 2], cyy)
            hyy = np.einsum("pn,pn->p", rows[:, 0], -b * b * cyy)
            hxy = np.einsum("pn,pn->p", rows[:, 1], -b * sy)
            det = hxx * hyy - hxy ** 2
            ok = active & (hxx < 0) & (det > 0)
            safe = np.where(ok, det, 1.0)
            dx = np.where(ok, -(hyy * gx - hxy * gy) / safe, 0.0)
            dy = np.where(ok, -(hxx * gy - hxy * gx) / safe, 0.0)
            ok &= (np.abs(dx) <= 4 * c.hx) & (np.abs(dy) <= 4 * c.hy)
            active &= ok
            prev = (x.copy(), y.copy())
            x = np.where(active, np.clip(x + dx, 0.0, self._size[0]), x)
            y = np.where(active, np.clip(y + dy, 0.0, self._size[1]), y)
        return _Candidates(x, y, rise, c.hx, c.hy, c.group)

    def _tail_parts(self, coef: np.ndarray, base, x: np.ndarray,
                    y: np.ndarray) -> dict[str, np.ndarray]:
        """At die-relative points, the rise carried by the modes beyond ``base``, split into
        the x-tail (m >= bx, n < by), the y-tail (m < bx, n >= by) and the corner."""
        bx, by = base
        cx, cy = self._tables(x, y, coef.shape)
        low, high = cx[:, :bx] @ coef[:bx], cx[:, bx:] @ coef[bx:]
        return {"x": np.einsum("pn,pn->p", high[:, :by], cy[:, :by]),
                "y": np.einsum("pn,pn->p", low[:, by:], cy[:, by:]),
                "xy": np.einsum("pn,pn->p", high[:, by:], cy[:, by:])}

    # ------------------------------------------------------------------ evaluation
    def rise_on_grid(self, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Temperature rise on a node-aligned grid spanning the die.

        Exact for the kept modes at any grid size: on nodes ``i W / N`` the cosine
        ``cos(m pi i / N)`` depends on ``m`` only through ``m mod 2N`` and is even in it, so the
        modes fold onto ``N + 1`` and a type-I DCT per axis sums them: ``O(Mx My + nx ny log)``.

        Parameters
        ----------
        nx, ny : int
            Nodes along x and y (at least 1; a single node sits on the die's left/bottom edge).

        Returns
        -------
        x : ndarray, shape (nx,)
            ``linspace(die x0, die x1, nx)``, floorplan coordinates.
        y : ndarray, shape (ny,)
        U : ndarray, shape (ny, nx)
            Rise (K); ``U[j, i]`` is at ``(x[i], y[j])``.
        """
        nx, ny = int(nx), int(ny)
        if nx < 1 or ny < 1:
            raise ValueError(f"grid needs at least one node per axis, got {nx} x {ny}")
        grid = _dct_grid(_fold(_fold(self.coefficients, nx - 1, 0), ny - 1, 1))
        x0, y0, x1, y1 = self.floorplan.die
        x, y = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
        return x, y, np.ascontiguousarray(grid.T)

    def rise_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Temperature rise (K) at arbitrary points of the die.

        Costs ``Mx * My`` flops a point (a matrix product per chunk of points); use
        :meth:`rise_on_grid` for whole-die pictures.

        Parameters
        ----------
        x, y : array_like
            Coordinates in the floorplan's frame, broadcast together.

        Returns
        -------
        ndarray
            Rise with the broadcast shape of ``x`` and ``y``.

        Raises
        ------
        ValueError
            If a point lies outside the die (the series would return its mirror image).
        """
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        shape = x.shape
        xs = x.ravel() - self._origin[0]
        ys = y.ravel() - self._origin[1]
        slack = 1e-9 * max(self._size)
        if np.any((xs < -slack) | (xs > self._size[0] + slack)
                  | (ys < -slack) | (ys > self._size[1] + slack)):
            raise ValueError("rise_at: points outside the die")
        mx, my = self.modes
        out = np.empty(xs.size)
        # A chunk holds two cosine tables (P x Mx, P x My) and a product (P x My).
        step = max(1, CHUNK_BYTES // (8 * (mx + 2 * my)))
        for s in range(0, xs.size, step):
            cx, cy = self._tables(xs[s:s + step], ys[s:s + step], self.modes)
            out[s:s + step] = np.einsum("pn,pn->p", cx @ self.coefficients, cy)
        return out.reshape(shape)

    def temperature_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Absolute temperature (K) at arbitrary points: :meth:`rise_at` plus ambient."""
        return self.rise_at(x, y) + self.model.ambient

    @property
    def mean_rise(self) -> float:
        """Die-average rise (K): exactly the (0, 0) mode (total power / (h W H) for the
        lumped die)."""
        return float(self.coefficients[0, 0])

    @cached_property
    def peak(self) -> dict:
        """Hottest point: ``{"temperature": K, "rise": K, "x": m, "y": m}``.

        The best local maxima (up to ``PEAK_CANDIDATES``) of a node grid over the die (at
        least 513 x 513, four nodes across the smallest source) are zoomed onto: a
        ``PEAK_LOCAL_POINTS``-square local grid over +-2 spacings around each, clipped to the
        die, each round a quarter of the previous spacing; then a few guarded Newton steps
        finish. That finds the truncated series' maximum to rounding in the rise and far
        better than ``1e-3`` of the die in position; how well that position matches the exact
        one depends on how flat the maximum is compared with ``error_estimate`` (a maximum
        flat to within the truncation error is only located to within its ripples, ``W / M``).
        Several candidates guard against a nearly equal second hotspot winning once refined.
        """
        best = self._polish(self._refine(self.coefficients, [self.modes], self._hot, 1))
        w = int(np.argmax(best.rise))
        rise = float(best.rise[w])
        return {"temperature": rise + self.model.ambient, "rise": rise,
                "x": float(best.x[w] + self._origin[0]), "y": float(best.y[w] + self._origin[1])}


class _Candidates(NamedTuple):
    """Candidate maxima (die-relative), the local spacing of their refinement, and which
    truncation (group) each belongs to."""

    x: np.ndarray
    y: np.ndarray
    rise: np.ndarray
    hx: float
    hy: float
    group: np.ndarray

    def select(self, mask: np.ndarray) -> "_Candidates":
        return _Candidates(self.x[mask], self.y[mask], self.rise[mask], self.hx, self.hy,
                           np.zeros(int(np.count_nonzero(mask)), dtype=np.int64))


def reflected_blurs(image: np.ndarray, sigmas: list[float]) -> list[np.ndarray]:
    """Gaussian blurs of ``image`` (sigma in pixels) with mirror (adiabatic) boundaries.

    ``image`` holds values at the nodes of a grid whose first and last rows and columns lie on
    the die's edges, so the mirrors pass through them (``scipy.ndimage``'s ``mode="mirror"``).
    In the cosine basis of that grid (DCT-I) a mirrored Gaussian blur is a diagonal
    multiplication: every scale costs one inverse transform whatever its width, and a grid of
    2^n + 1 nodes transforms as fast as a power of two.
    """
    spectrum = scipy.fft.dctn(image, type=1)
    ky = np.pi * np.arange(image.shape[0])[:, None] / (image.shape[0] - 1)
    kx = np.pi * np.arange(image.shape[1])[None, :] / (image.shape[1] - 1)
    return [scipy.fft.idctn(spectrum * np.exp(-0.5 * s ** 2 * (kx ** 2 + ky ** 2)), type=1)
            for s in sigmas]


def _start_from_grid(grids: list[np.ndarray], size) -> _Candidates:
    """The best local maxima of node grids (x index first, same shape) as candidates; the
    candidates of ``grids[g]`` form group ``g``."""
    shape = grids[0].shape
    hx, hy = size[0] / max(shape[0] - 1, 1), size[1] / max(shape[1] - 1, 1)
    found = [_local_maxima(g, PEAK_CANDIDATES) for g in grids]
    ix = np.concatenate([f[0] for f in found])
    iy = np.concatenate([f[1] for f in found])
    rise = np.concatenate([g[f] for g, f in zip(grids, found)])
    group = np.concatenate([np.full(f[0].size, g, dtype=np.int64) for g, f in enumerate(found)])
    return _Candidates(ix * hx, iy * hy, rise, hx, hy, group)


# ---------------------------------------------------------------------- helpers
class _SourceIntervals:
    """Sources as distinct x- and y-intervals (die-relative) and a density matrix between them:
    sparse for blocks, dense for a power map, whose cells are all the pairs of its columns and
    rows (so the coefficients are two matrix products, with no per-cell work at all)."""

    def __init__(self, floorplan: Floorplan):
        x0, y0 = floorplan.die[0], floorplan.die[1]
        if floorplan.source_grid is not None:
            xs, ys = floorplan.source_grid
            self.x_intervals = np.column_stack([xs[:-1], xs[1:]]) - x0
            self.y_intervals = np.column_stack([ys[:-1], ys[1:]]) - y0
            self.density = floorplan.grid_density.T  # (x-intervals, y-intervals)
            self.min_side = (float(np.diff(xs).min()), float(np.diff(ys).min()))
            return
        s = floorplan.sources
        keep = floorplan.source_power != 0  # unpowered sources contribute nothing
        xi = np.column_stack([s.x0[keep] - x0, s.x1[keep] - x0])
        yi = np.column_stack([s.y0[keep] - y0, s.y1[keep] - y0])
        self.x_intervals, ix = _unique_intervals(xi)
        self.y_intervals, iy = _unique_intervals(yi)
        self.density = sp.csr_matrix(
            (floorplan.source_density[keep], (ix, iy)),
            shape=(len(self.x_intervals), len(self.y_intervals)))
        # Smallest side among powered sources: sets the starting modes and the search grid.
        self.min_side = (float(np.min(xi[:, 1] - xi[:, 0])), float(np.min(yi[:, 1] - yi[:, 0])))


def _unique_intervals(intervals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``intervals`` (n, 2), sorted, and the index of each row among them:
    ``np.unique(axis=0, return_inverse=True)``, through one complex number per row (sorted by
    real, then imaginary part), which took 0.08 against 0.76 ms for 1600 intervals."""
    z = np.empty(len(intervals), complex)
    z.real, z.imag = intervals[:, 0], intervals[:, 1]
    distinct, inverse = np.unique(z, return_inverse=True)
    return np.column_stack([distinct.real, distinct.imag]), inverse.ravel()


def exact_stack(model: Stack, floorplan: Floorplan, strict: bool = True) -> Stack:
    """The stack bound to ``floorplan`` (if it is not bound yet), checked to have an exact
    series: every layer on the die's footprint, no block materials. With ``strict=False`` the
    nearest such stack instead (footprints cut to the die, block materials ignored, ``r_convec``
    over the die-sized face): the cheap physics estimate of a stack that has no exact answer."""
    from dataclasses import replace

    from thermal.geometry.stack import equal_footprint

    stack = model if model.die is not None else model.bound_to(floorplan)
    if stack.equal_footprints and stack.homogeneous:
        return stack
    if strict:
        from thermal.errors import InputError

        why = "a layer larger than the die" if not stack.equal_footprints else "blocks of their own material"
        raise InputError(stack.source, f"no exact solution for this stack ({why}): the exact series "
                         "needs every layer on the die's footprint and homogeneous layers "
                         "(thermal.geometry.stack.equal_footprint makes that variant)")
    layers = tuple(replace(layer, block_conductivity=None, block_heat_capacity=None)
                   for layer in stack.layers)
    return equal_footprint(replace(stack, layers=layers))


class _Sources:
    """The source intervals of every power layer feeding one face, and which response column
    (power layer) each uses; one part, column 0, for the lumped die."""

    def __init__(self, parts: list[tuple["_SourceIntervals", int]]):
        self.parts = parts
        self.min_side = tuple(min(p.min_side[a] for p, _ in parts) for a in (0, 1))


def _sources_of(floorplan: Floorplan, model, faces) -> _Sources:
    """The power layers that heat ``faces`` (one index or several): those with power, and each
    face's own layer."""
    if not isinstance(model, Stack):
        return _Sources([(_SourceIntervals(floorplan), 0)])
    faces = {faces} if isinstance(faces, int) else set(faces)
    parts = [(_SourceIntervals(model.layers[k].floorplan), j)
             for j, k in enumerate(model.power_layers)
             if model.layers[k].floorplan.total_power != 0 or j in faces]
    return _Sources(parts)


def _coefficient_matrix(src: _Sources, size, model, mx: int, my: int, face: int = 0) -> np.ndarray:
    """c_mn for m < mx, n < my: sum over power layers j of Q_j,mn G_face,j(alpha_m^2 + beta_n^2);
    for the lumped die (Xc^T S Yc) / (k t (alpha_m^2 + beta_n^2) + h)."""
    return _coefficient_matrices(src, size, model, mx, my, [face])[0]


def _coefficient_matrices(src: _Sources, size, model, mx: int, my: int, faces: list) -> list:
    """:func:`_coefficient_matrix` for several faces at once: each source layer's ``Q`` block
    is formed once and weighted by every face's response (the source integrals are most of
    the work)."""
    a2 = (np.arange(mx) * np.pi / size[0]) ** 2
    b2 = (np.arange(my) * np.pi / size[1]) ** 2
    coefs = [np.zeros((mx, my)) for _ in faces]
    # Row chunks: each is written once, scaled while in cache, and lambda^2 never exists at
    # full size.
    step = max(1, CHUNK_BYTES // (8 * my))
    factors = [_source_factors(part, size, mx, my) for part, _ in src.parts]
    for s in range(0, mx, step):
        lam2 = a2[s:s + step, None] + b2[None, :]
        if isinstance(model, Stack):
            g = face_responses(model, lam2)
            for (left, right), (_, j) in zip(factors, src.parts):
                q = left[s:s + step] @ right
                for coef, face in zip(coefs, faces):
                    coef[s:s + step] += q * g[face][j]
        else:
            left, right = factors[0]
            block = coefs[0][s:s + step]
            np.matmul(left[s:s + step], right, out=block)
            block /= model.sheet_conductance * lam2 + model.htc
    return coefs


def _source_factors(src: "_SourceIntervals", size, mx: int, my: int):
    """Q = left @ right, contracted over the smaller interval count (intervals * mx * my)."""
    xc = _interval_integrals(src.x_intervals, size[0], mx)  # (Ux, mx)
    yc = _interval_integrals(src.y_intervals, size[1], my)  # (Uy, my)
    dens = src.density  # (Ux, Uy), W/m^2, sparse or dense
    if dens.shape[0] <= dens.shape[1]:
        return xc.T, np.asarray(dens @ yc)
    return np.asarray(dens.T @ xc).T, yc


def truncated_rises_on_grid(floorplan: Floorplan, model: LumpedDie, modes: list[tuple[int, int]],
                            grids: list[tuple[int, int]], face: int = 0) -> list[np.ndarray]:
    """The series truncated to each (Mx, My) in ``modes``, each on its node grid (nx, ny) of
    ``grids`` over the die; arrays of shape (ny, nx). For a stack, on the top face of power
    layer ``face``.

    A cheap physics estimate (no convergence control): the coefficients are formed once for
    the largest truncation, ``O(intervals Mx My + nx ny log)``.
    """
    return truncated_faces_on_grid(floorplan, model, modes, grids, [face])[0]


def truncated_faces_on_grid(floorplan: Floorplan, model, modes: list[tuple[int, int]],
                            grids: list[tuple[int, int]], faces: list[int]) -> list[list[np.ndarray]]:
    """:func:`truncated_rises_on_grid` on several power layers' faces at once (per face, the
    list over ``modes``): the source integrals, most of the work, are formed once."""
    if isinstance(model, Stack):  # the cheap physics: the nearest stack with a series
        model = exact_stack(model, floorplan, strict=False)
    x0, y0, x1, y1 = (float(v) for v in floorplan.die)
    mx, my = max(m[0] for m in modes), max(m[1] for m in modes)
    src = _sources_of(floorplan, model, faces)
    coefs = _coefficient_matrices(src, (x1 - x0, y1 - y0), model, mx, my, list(faces))
    return [[np.ascontiguousarray(_dct_grid(_fold(_fold(coef[:a, :b], nx - 1, 0), ny - 1, 1)).T)
             for (a, b), (nx, ny) in zip(modes, grids, strict=True)] for coef in coefs]


def _interval_integrals(intervals: np.ndarray, size: float, modes: int) -> np.ndarray:
    """(eps_m / size) * integral of cos(m pi s / size) over each interval, shape (U, modes).

    Written as ``(4 / (m pi)) cos(m pi c / size) sin(m pi w / (2 size))`` (c the centre, w the
    width) rather than a difference of sines, which loses digits for narrow intervals.
    """
    a, b = intervals[:, 0], intervals[:, 1]
    out = _multiples(np.cos, np.pi * (a + b) / (2 * size), modes) \
        * _multiples(np.sin, np.pi * (b - a) / (2 * size), modes)
    out[:, 1:] *= 4.0 / (np.pi * np.arange(1, modes))
    out[:, 0] = (b - a) / size
    return out


def _multiples(func, theta: np.ndarray, modes: int) -> np.ndarray:
    """``func(m theta)`` (``np.cos`` or ``np.sin``) for m = 0 .. modes - 1, shape (U, modes).

    With m = k + j, k a multiple of B ~ sqrt(modes) and j < B, angle addition needs sines and
    cosines of (B + modes / B) multiples only, then a few products per entry: 1.5-4x faster
    than a transcendental call per entry, and as accurate (no recurrence, so no drift).
    """
    block = max(1, int(np.sqrt(modes)))
    # Formed as (k, j, U) so the innermost loops run along the intervals, not along the ~sqrt
    # (modes) j's: 1.4x faster on 750 intervals x 128 modes, the same numbers.
    tj = np.arange(block)[:, None] * theta[None, :]
    tk = np.arange(0, modes, block)[:, None] * theta[None, :]
    cj, sj = np.cos(tj)[None], np.sin(tj)[None]
    ck, sk = np.cos(tk)[:, None], np.sin(tk)[:, None]
    if func is np.cos:   # cos(k + j) = cos k cos j - sin k sin j
        out = ck * cj
        out -= sk * sj
    else:                # sin(k + j) = sin k cos j + cos k sin j
        out = sk * cj
        out += ck * sj
    return out.reshape(-1, theta.size)[:modes].T


def _fold(a: np.ndarray, intervals: int, axis: int, start: int = 0) -> np.ndarray:
    """Sum the modes along ``axis`` onto the ``intervals + 1`` cosines a node grid resolves.

    On nodes ``i * size / N`` the cosine ``cos(m pi i / N)`` depends on ``m`` only through
    ``m mod 2N`` and is even in it, so mode ``m`` equals mode ``j = min(m mod 2N, 2N - m mod 2N)``
    there: folding is exact, not an approximation. ``start`` is the mode number of the first
    entry along ``axis`` (to fold a tail block). Each period of ``2N`` modes is added in two
    slabs (rising, then mirrored), so no temporary larger than the result is made.
    """
    a = np.moveaxis(a, axis, 0)
    count = a.shape[0]
    if intervals == 0:  # one node, at the origin: every cosine is 1
        return np.moveaxis(a.sum(axis=0, keepdims=True), 0, axis)
    n, period = intervals, 2 * intervals
    out = np.zeros((n + 1,) + a.shape[1:])
    for g in range(start - start % period, start + count, period):
        lo, hi = max(g, start), min(g + n + 1, start + count)  # m - g = j in [0, N]
        if lo < hi:
            out[lo - g:hi - g] += a[lo - start:hi - start]
        lo, hi = max(g + n + 1, start), min(g + period, start + count)  # j = g + 2N - m
        if lo < hi:
            out[g + period - hi + 1:g + period - lo + 1] += a[lo - start:hi - start][::-1]
    return np.moveaxis(out, 0, axis)


def _dct_grid(folded: np.ndarray) -> np.ndarray:
    """Sum folded modes (Nx+1, Ny+1) into node values with a DCT-I per axis, x index first."""
    return _dct_nodes(_dct_nodes(folded, 0), 1)


def _dct_nodes(a: np.ndarray, axis: int) -> np.ndarray:
    """sum_j a_j cos(pi j i / N) for i = 0..N along ``axis`` (N + 1 = length).

    DCT-I computes ``a_0 + (-1)^i a_N + 2 sum_{0<j<N} a_j cos(pi j i / N)``: halving the interior
    terms first gives the plain cosine sum.
    """
    if a.shape[axis] == 1:
        return a.copy()
    b = np.moveaxis(a, axis, 0).copy()
    b[1:-1] *= 0.5
    return np.moveaxis(scipy.fft.dct(b, type=1, axis=0), 0, axis)


def _local_maxima(grid: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of up to ``count`` highest local maxima (8-neighbour, edges clamped) of a grid.

    Only the hottest nodes are examined: a maximum worth refining is among them.
    """
    nx, ny = grid.shape
    flat = grid.ravel()
    top = np.argpartition(flat, -min(LOCAL_MAX_POOL, flat.size))[-LOCAL_MAX_POOL:]
    ix, iy = np.unravel_index(top, grid.shape)
    is_max = np.ones(top.size, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            is_max &= flat[top] >= grid[np.clip(ix + di, 0, nx - 1), np.clip(iy + dj, 0, ny - 1)]
    best = top[is_max] if is_max.any() else top[[np.argmax(flat[top])]]
    best = best[np.argsort(flat[best])[::-1][:count]]
    return np.unravel_index(best, grid.shape)


def _pow2(value: float) -> int:
    """Smallest power of two >= value (at least 1)."""
    return 1 << max(0, int(np.ceil(np.log2(max(float(value), 1.0)))))
