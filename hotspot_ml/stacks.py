"""Synthetic packages and 3D stacks around synthetic floorplans, for learning where a stack's
cheap physics goes wrong.

:func:`random_stack` draws one case: a floorplan of :func:`hotspot_ml.generate.random_case` (its
die) and a :class:`~thermal.geometry.stack.Stack` bound to it, of one of three styles.

Distributions
-------------
Style (uniform over :data:`STACK_STYLES` unless given)
    ``package``
        HotSpot-like: the die, a TIM, a spreader and a sink larger than the die.
    ``secondary``
        The same with HotSpot's secondary path above the die (C4/underfill, on-chip metal,
        substrate, solder balls, PCB; :func:`thermal.geometry.stack.secondary_layers`), the
        board's face convecting through a resistance log-uniform on [0.3, 10] K/W: the
        phone-like case, where a real share of the heat leaves through the board.
    ``3d``
        2-4 power layers (dies) of the same outline, each with its own floorplan (another
        random floorplan scaled onto the die, its power densities kept), a bonding layer
        between each pair (5-50 um, conductivity log-uniform on [0.3, 3] W/(m K); a grid of 4-16
        x 4-16 cells shared by the case's bonding layers, 0-30 cells of their own material: TSV
        bundles (50-150), micro-bump arrays (10-40), copper (400) or voids (0.03 W/(m K))), then
        the package as ``package``.
Die (silicon)
    Conductivity uniform on [100, 150] W/(m K), thickness log-uniform on [50 um, 0.8 mm]
    (thinned 3D dies: [20, 150] um), heat capacity 1.75e6 J/(m^3 K).
Package
    TIM: 10-100 um, 1-10 W/(m K), 4e6 J/(m^3 K). Spreader: copper or aluminium, side 1.2-3x the
    die's longer side, 0.5-3 mm. Sink: the same metal, side 1.5-3x the spreader's, 2-10 mm.
    Convection: r_convec log-uniform on [0.05, 1] K/W. Ambient uniform on [298, 330] K.
Power
    The floorplans' own powers (and densities), then every power scaled by one factor so that
    the cheap physics' peak rise is log-uniform on [20, 120] K.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from thermal.geometry.floorplan import Floorplan
from thermal.geometry.stack import Layer, Stack, secondary_layers

#: The stack styles :func:`random_stack` draws from.
STACK_STYLES = ("package", "secondary", "3d")
#: Bonding-layer blocks of their own material: (name, conductivity range W/(m K), heat capacity).
BOND_MATERIALS = (("tsv", (50.0, 150.0), 2.5e6), ("bumps", (10.0, 40.0), 2.5e6),
                  ("copper", (400.0, 400.0), 3.55e6), ("void", (0.03, 0.03), 1.2e3))
#: Spreader and sink metals: (name, conductivity, heat capacity).
METALS = (("copper", 400.0, 3.55e6), ("aluminium", 237.0, 2.42e6))


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def scaled_onto(fp: Floorplan, die: tuple, keep_density: bool = True) -> Floorplan:
    """``fp``'s blocks mapped affinely onto ``die`` (x0, y0, x1, y1); powers scaled with the
    area so densities stay what they were (unless ``keep_density`` is False)."""
    fx0, fy0, fx1, fy1 = fp.die
    x0, y0, x1, y1 = die
    sx, sy = (x1 - x0) / (fx1 - fx0), (y1 - y0) / (fy1 - fy0)
    b = fp.blocks
    power = fp.block_power * (sx * sy if keep_density else 1.0)
    return Floorplan.from_blocks(list(fp.names), x0 + (b.x0 - fx0) * sx, y0 + (b.y0 - fy0) * sy,
                                 b.width * sx, b.height * sy, power)


def random_stack(rng: np.random.Generator, style: str | None = None,
                 blocks: int | None = None) -> tuple[Floorplan, Stack]:
    """Draw one floorplan and a stack around it (distributions in the module docstring).

    Returns
    -------
    floorplan : Floorplan
        The first power layer's (the die the stack is bound to).
    stack : Stack
        Bound to ``floorplan``; every power layer has its floorplan.
    """
    from hotspot_ml.generate import random_case

    if style is None:
        style = STACK_STYLES[int(rng.integers(len(STACK_STYLES)))]
    if style not in STACK_STYLES:
        raise ValueError(f"unknown stack style {style!r}: choose from {', '.join(STACK_STYLES)}")
    fp, _ = random_case(rng, blocks=blocks)
    die = tuple(float(v) for v in fp.die)
    side = max(die[2] - die[0], die[3] - die[1])
    silicon = (float(rng.uniform(100.0, 150.0)), 1.75e6)
    if style == "3d":
        dies = [fp] + [scaled_onto(random_case(rng, blocks=blocks)[0], die)
                       for _ in range(int(rng.integers(1, 4)))]
        top: list[Layer] = []
        cells = (int(rng.integers(4, 17)), int(rng.integers(4, 17)))
        for i, layer_fp in enumerate(dies):
            if i:
                top.append(_bond_layer(rng, die, f"bond_{i}", cells))
            top.append(Layer(f"die_{i}", _log_uniform(rng, 20e-6, 150e-6), *silicon, floorplan=layer_fp,
                             power=True, material="silicon"))
    else:
        top = [Layer("die", _log_uniform(rng, 50e-6, 0.8e-3), *silicon, power=True, material="silicon")]
    metal, k_metal, c_metal = METALS[int(rng.integers(len(METALS)))]
    spreader = side * rng.uniform(1.2, 3.0)
    sink = spreader * rng.uniform(1.5, 3.0)
    layers = top + [
        Layer("interface", _log_uniform(rng, 10e-6, 100e-6), float(rng.uniform(1.0, 10.0)), 4e6, material="tim"),
        Layer("spreader", _log_uniform(rng, 0.5e-3, 3e-3), k_metal, c_metal, side=spreader, material=metal),
        Layer("sink", _log_uniform(rng, 2e-3, 10e-3), k_metal, c_metal, side=sink, material=metal),
    ]
    extra = {}
    if style == "secondary":
        board = {"s_sub": side * rng.uniform(1.1, 2.0)}
        board["s_solder"] = board["s_sub"]
        board["s_pcb"] = board["s_sub"] * rng.uniform(2.0, 5.0)
        layers = list(secondary_layers(board, chip_layers=True)) + layers
        extra["r_convec_top"] = _log_uniform(rng, 0.3, 10.0)
    stack = Stack(tuple(layers), r_convec=_log_uniform(rng, 0.05, 1.0),
                  ambient=round(float(rng.uniform(298.0, 330.0)), 2), source=f"<random {style} stack>",
                  **extra).bound_to(fp)
    return fp, _scaled_power(rng, stack)


def _bond_layer(rng: np.random.Generator, die: tuple, name: str, cells: tuple[int, int]) -> Layer:
    """A bonding layer: underfill or hybrid bond, a grid of ``cells`` over the die of which up
    to 30 (none in some) are of their own material. Every bonding layer of a case shares the
    grid, so their material edges coincide exactly or lie a cell apart (edges from different
    layers a rounding error apart made slivers the mesher could not resolve)."""
    k = _log_uniform(rng, 0.3, 3.0)
    thickness = _log_uniform(rng, 5e-6, 50e-6)
    nx, ny = cells
    count = min(int(rng.integers(0, 31)), nx * ny)
    if count == 0:
        return Layer(name, thickness, k, 2e6, material="underfill")
    x0, y0, x1, y1 = die
    xs, ys = np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1)
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    i, j = i.ravel(), j.ravel()
    chosen = np.zeros(i.size, bool)
    chosen[rng.choice(i.size, size=count, replace=False)] = True
    kinds = rng.integers(len(BOND_MATERIALS), size=i.size)
    conductivity = np.full(i.size, np.nan)
    capacity = np.full(i.size, np.nan)
    for c in np.flatnonzero(chosen):
        _, (lo, hi), heat = BOND_MATERIALS[kinds[c]]
        conductivity[c] = _log_uniform(rng, lo, hi) if hi > lo else lo
        capacity[c] = heat
    names = [f"{BOND_MATERIALS[kinds[c]][0]}_{c}" if chosen[c] else f"fill_{c}" for c in range(i.size)]
    # Floorplan.from_blocks wants some power: built with 1 W a cell, then set to none (as an
    # LCF's unpowered layer is).
    plan = Floorplan.from_blocks(names, xs[i], ys[j], xs[i + 1] - xs[i], ys[j + 1] - ys[j], np.ones(i.size))
    plan = replace(plan, block_power=np.zeros(i.size), source_power=np.zeros(i.size))
    return Layer(name, thickness, k, 2e6, floorplan=plan, block_conductivity=conductivity,
                 block_heat_capacity=capacity, material="underfill")


def _scaled_power(rng: np.random.Generator, stack: Stack) -> Stack:
    """Every power scaled by one factor so that the series' peak rise (the truncated series of
    the nearest equal-footprint stack, every power layer) is log-uniform on
    [20, 120] K. (A mean-rise rule, P times the stack's series resistance, left hot units of
    2000 W/cm^2 under thick dies at 900 K: spreading, not the mean, sets a die's peak.)"""
    from hotspot_ml.physics import series_prediction

    first = stack.layers[stack.power_layers[0]].floorplan
    peak = max(float(rise.max()) for _, rise in series_prediction(first, stack, points=65).layers)
    if not peak > 0:
        return stack
    factor = _log_uniform(rng, 20.0, 120.0) / peak
    layers = []
    for layer in stack.layers:
        if layer.power:
            fp = layer.floorplan
            layer = replace(layer, floorplan=replace(fp, block_power=fp.block_power * factor,
                                                     source_power=fp.source_power * factor))
        layers.append(layer)
    return replace(stack, layers=tuple(layers))
