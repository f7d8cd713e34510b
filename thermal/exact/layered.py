"""The layered stack per lateral cosine mode: exact face responses, and the local sheet.

For a stack whose layers all cover the die and are homogeneous, a lateral mode
``cos(a x) cos(b y)`` (``lambda^2 = a^2 + b^2``) separates: in each layer the amplitude
``theta(z)`` solves ``kz theta'' - kx lambda^2 theta = -s`` (``s`` the volumetric source),
the sink's bottom face convects (``kz theta' = h theta``), the top of layer 0 is adiabatic or
convects too (``Stack.top_htc``),
and temperature and flux are continuous between layers. :func:`face_responses` gives, per mode,
the rise at the top face of every power layer per unit power density (W/m^2) dissipated in
every power layer, so the exact field is a cosine series (:class:`thermal.exact.series.SeriesSolution`
takes the model; the lumped die's response is ``1 / (k t lambda^2 + h)``).

How, in closed form and without overflow or cancellation at any ``lambda``:

* looking down from each layer's bottom, the impedance ``Z = theta / (downward flux)`` starts at
  ``1/h`` under the sink and climbs through a sourceless layer as
  ``Z' = (Z + (d/kz) tc) / (1 + Z kx lambda^2 d tc)``, ``tc = tanh(x)/x``, ``x = m d``,
  ``m = lambda sqrt(kx/kz)``; looking up from each layer's top, the admittance
  ``Y = (upward flux) / theta`` starts at the top face's ``h`` (0: adiabatic) above layer 0 and
  descends as
  ``Y' = (Y + kx lambda^2 d tc) / (1 + Y (d/kz) tc)``;
* in the source layer, ``theta = s/(kx lambda^2) + a e^{-m z} + b e^{-m (d - z)}``; with
  ``P = Z m kz``, ``Q = Y / (m kz)``, ``E = e^{-x}``, ``D = (1+P)(1+Q) + E^2 (1-P)(1-Q)``
  (computed as ``(1+P) + E^2 (1-P) + Y (2 (d/kz) g2 + Z (1 + E^2))``, which stays finite where
  ``m -> 0`` under a convecting top), the two faces are, per unit flux ``q = s d``::

      top    = ((d/kz) g1^2 + 2 Z g2) / D,        g1 = (1 - E)/x,  g2 = (1 - E^2)/(2 x)
      bottom = (2 Z g2 + Z Y (d/kz) g1^2) / D

  (both tend to the 1D resistances as ``lambda -> 0``: ``top = Z + d/(2 kz)``);
* the other faces follow through sourceless layers by the ratios
  ``sech(x) / (1 + Y (d/kz) tc)`` upwards and ``Z sech(x) / (Z + (d/kz) tc)`` downwards.

Power dissipated in a thin top slice (``Layer.active_thickness``) splits the layer in two slabs.

:func:`local_sheet` is the single sheet that best stands in for a stack at the scale of its
hotspots, for the cheap size-field estimates: ``k t`` the power layer's own sheet conductance
(the exact large-``lambda`` limit), and ``h`` where the stack's ``1/G`` crosses
``2 k t lambda^2`` (the knee where lateral spreading and the path down are equal).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thermal.geometry.lumped import LumpedDie
from thermal.geometry.stack import Stack


@dataclass(frozen=True)
class Slab:
    """A homogeneous slice of a layer: thickness, conductivities, and the power layer it
    dissipates for (-1: none)."""

    thickness: float
    kx: float
    kz: float
    source: int
    top_of: int  # power-layer index whose top face is this slab's top, or -1


def slabs(stack: Stack) -> list[Slab]:
    """The stack's layers as slabs, top (layer 0) first; an active slice is a slab of its own."""
    out = []
    powers = stack.power_layers
    for i, layer in enumerate(stack.layers):
        p = powers.index(i) if layer.power else -1
        if layer.power and layer.active_thickness is not None and layer.active_thickness < layer.thickness:
            out.append(Slab(layer.active_thickness, layer.conductivity, layer.conductivity_z, p, p))
            out.append(Slab(layer.thickness - layer.active_thickness, layer.conductivity,
                            layer.conductivity_z, -1, -1))
        else:
            out.append(Slab(layer.thickness, layer.conductivity, layer.conductivity_z, p, p))
    return out


def _tanhc(x: np.ndarray) -> np.ndarray:
    """tanh(x) / x, 1 at 0."""
    out = np.ones_like(x)
    nz = x > 1e-8
    out[nz] = np.tanh(x[nz]) / x[nz]
    return out


def _sech(x: np.ndarray) -> np.ndarray:
    e = np.exp(-x)
    return 2 * e / (1 + e * e)


def _ratio(num: np.ndarray, x: np.ndarray) -> np.ndarray:
    """num / x with num -> x as x -> 0 (num is 1 - e^{-x} or its like)."""
    out = np.ones_like(x)
    nz = x > 1e-12
    out[nz] = num[nz] / x[nz]
    return out


def face_responses(stack: Stack, lam2: np.ndarray) -> np.ndarray:
    """Rise at the top face of each power layer per unit flux in each power layer, per mode.

    Parameters
    ----------
    stack : Stack
        Layers taken as covering the die and homogeneous (the caller checks, or accepts the
        approximation).
    lam2 : ndarray
        ``lambda^2`` of each mode (1/m^2), any shape.

    Returns
    -------
    ndarray, shape (n_power, n_power) + lam2.shape
        ``G[i, j]``: K per W/m^2 at the top face of power layer ``i`` for power in layer ``j``.
    """
    lam2 = np.asarray(lam2, float)
    flat = lam2.reshape(-1)
    s = slabs(stack)
    n = len(s)
    npow = len(stack.power_layers)
    x = [np.sqrt(flat * (sl.kx / sl.kz)) * sl.thickness for sl in s]
    tc = [_tanhc(xi) for xi in x]
    # Impedance looking down at each slab's bottom; admittance looking up at each slab's top.
    z_below = [None] * n
    z = np.full_like(flat, 1.0 / stack.sink_htc)
    for i in range(n - 1, -1, -1):
        z_below[i] = z
        sl = s[i]
        z = (z + sl.thickness / sl.kz * tc[i]) / (1 + z * sl.kx * flat * sl.thickness * tc[i])
    y_above = [None] * n
    y = np.full_like(flat, stack.top_htc)
    for i in range(n):
        y_above[i] = y
        sl = s[i]
        y = (y + sl.kx * flat * sl.thickness * tc[i]) / (1 + y * sl.thickness / sl.kz * tc[i])
    out = np.zeros((npow, npow, flat.size))
    tops = [i for i in range(n) if s[i].top_of >= 0]
    for j in range(n):
        if s[j].source < 0:
            continue
        top_face, bottom_face = _source_faces(s[j], x[j], z_below[j], y_above[j])
        theta_top = np.zeros((n, flat.size))  # rise at the top of each slab
        theta_top[j] = top_face
        for i in range(j - 1, -1, -1):  # upwards: top of i from top of i + 1 (= bottom of i)
            sl = s[i]
            theta_top[i] = theta_top[i + 1] * _sech(x[i]) / (1 + y_above[i] * sl.thickness / sl.kz * tc[i])
        below = bottom_face
        for i in range(j + 1, n):  # downwards: top of i is the bottom of i - 1
            theta_top[i] = below
            sl = s[i]
            zb = z_below[i]
            below = below * zb * _sech(x[i]) / (zb + sl.thickness / sl.kz * tc[i])
        for i in tops:
            out[s[i].top_of, s[j].source] += theta_top[i]
    return out.reshape((npow, npow) + lam2.shape)


def _source_faces(sl: Slab, x: np.ndarray, z: np.ndarray, y: np.ndarray):
    """Top and bottom rise of a slab dissipating unit flux uniformly through its thickness."""
    e = np.exp(-x)
    g1 = _ratio(-np.expm1(-x), x)
    g2 = _ratio(-np.expm1(-2 * x), 2 * x)
    mkz = x / sl.thickness * sl.kz  # m kz
    p = z * mkz
    r = sl.thickness / sl.kz
    # (1+P)(1+Q) + E^2 (1-P)(1-Q) with Q = Y/(m kz) multiplied out: Q's terms carry
    # (1 - E^2)/(m kz) = 2 r g2 and P/(m kz) = Z, finite as m -> 0 (a convecting top keeps Y > 0).
    d = (1 + p) + e * e * (1 - p) + y * (2 * r * g2 + z * (1 + e * e))
    top = (r * g1 * g1 + 2 * z * g2) / d
    bottom = (2 * z * g2 + z * y * r * g1 * g1) / d
    return top, bottom


def responses_1d(stack: Stack, lam2: float, cells_per_slab: int = 400) -> np.ndarray:
    """The same responses from a fine finite-volume solve of the 1D problem (for tests):
    ``cells_per_slab`` cells per slab, second order, so ~1e-6 relative at the default."""
    s = slabs(stack)
    dz, kz, kx, src = [], [], [], []
    for sl in s:  # top first
        dz += [sl.thickness / cells_per_slab] * cells_per_slab
        kz += [sl.kz] * cells_per_slab
        kx += [sl.kx] * cells_per_slab
        src += [sl.source] * cells_per_slab
    dz, kz, kx, src = map(np.asarray, (dz, kz, kx, src))
    # Conductance between neighbouring cell centres (harmonic), and to the sink below the last.
    g = 1.0 / (0.5 * dz[:-1] / kz[:-1] + 0.5 * dz[1:] / kz[1:])
    g_sink = 1.0 / (0.5 * dz[-1] / kz[-1] + 1.0 / stack.sink_htc)
    main = kx * lam2 * dz
    main[:-1] += g
    main[1:] += g
    main[-1] += g_sink
    if stack.top_htc > 0:
        main[0] += 1.0 / (0.5 * dz[0] / kz[0] + 1.0 / stack.top_htc)
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    a = sp.diags([main, -g, -g], [0, 1, -1], format="csc")
    npow = len(stack.power_layers)
    out = np.zeros((npow, npow))
    top_cells = np.flatnonzero(np.r_[True, np.diff(np.repeat(np.arange(len(s)), cells_per_slab)) > 0])
    for j in range(npow):
        thick = dz[src == j].sum()
        rhs = np.where(src == j, dz / thick, 0.0)
        theta = spla.spsolve(a, rhs)
        for k, sl in enumerate(s):
            if sl.top_of >= 0:
                c = top_cells[k]
                # Extrapolate to the face: the top half-cell carries the flux going up.
                grad = (theta[c] - theta[c + 1]) / (0.5 * (dz[c] + dz[c + 1]))
                out[sl.top_of, j] = theta[c] + 0.5 * dz[c] * grad
    return out


def local_sheet(stack: Stack, face: int = 0) -> LumpedDie:
    """The single sheet standing in for the stack at its hotspots' scale (see module notes):
    power layer ``face``'s conductivity and thickness (the first by default), and ``h`` at the
    knee of its face's response to its own power."""
    layer = stack.layers[stack.power_layers[face]]
    kt = layer.conductivity * layer.thickness
    lam = np.logspace(-1, 8, 400)
    g = face_responses(stack, lam ** 2)[face, face]
    knee = np.flatnonzero(1.0 / g <= 2 * kt * lam ** 2)
    lam_knee = lam[knee[0]] if knee.size else lam[-1]
    return LumpedDie(conductivity=layer.conductivity, thickness=layer.thickness,
                     htc=float(kt * lam_knee ** 2), ambient=stack.ambient)


def mode_response(model, lam2: np.ndarray) -> np.ndarray:
    """Rise at the die face per unit power density, per mode: the lumped die's
    ``1 / (k t lambda^2 + h)``, or a stack's (first power layer's face, its own power)."""
    if isinstance(model, Stack):
        return face_responses(model, lam2)[0, 0]
    return 1.0 / (model.sheet_conductance * np.asarray(lam2, float) + model.htc)
