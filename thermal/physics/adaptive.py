"""Adaptive meshing methods: every way of choosing where the fine mesh goes without ML.

Each method aims at a maximum temperature error ``tol`` relative to the peak temperature rise:

``amr``
    Classical adaptive FEM: solve, estimate (recovered-Hessian max-norm indicators), mark
    (Dörfler), refine, until the estimate meets ``tol``.
``power``
    A floorplan-only heuristic, no solve: the rise is estimated as the power density blurred
    over the thermal length, its curvature as (h u - q) / (k t), and sizes follow.
``coarse``
    One solve on a coarse uniform mesh, sizes from its recovered Hessian, one solve on the
    adapted mesh (the workflow 3D-ICE 4.0 ships).
``adaptive``
    The ML path, in :mod:`hotspot_ml.mesh` (prediction sits above this module): the hotspot
    regressor predicts the field from the floorplan alone, sizes follow its curvature, one solve.
``oracle``
    Sizes from the Hessian of the exact series solution: the best this mesher can do. For
    benchmarks and labels, not a user default.

All but ``amr`` produce a :class:`~meshes.size_field.SizeField` and hand it to
:func:`meshes.adapt.adapted`; every result records the method, its parameters, the number of
solves and the time of each stage.

Meshes need not follow the floorplan (the load is integrated exactly), so an element may hold a
jump of power density: every size field takes the larger of its own curvature estimate and the
equation's, with the density seen at the elements' own scale
(:func:`thermal.physics.estimate.equation_curvature` on :func:`thermal.geometry.raster.rasterize`), and ``amr``'s
indicators do the same per element (:func:`thermal.physics.estimate.error_indicators`). With
``conform=True`` meshes follow every block and source edge, as before.
"""
from __future__ import annotations

import time

import numpy as np

from meshes.refine import rgb_refined
from meshes.size_field import SizeField, grid_over
from thermal.physics.estimate import (dorfler, equation_curvature, error_indicators, field_from_curvature,
                              grid_curvature, max_abs_eigenvalue, nodal_average,
                              recovered_hessian, size_limits)
from thermal.geometry.raster import rasterize
from thermal.physics.solution import Solution
from thermal.geometry.stack import Stack
from thermal.physics.stack_solution import mesh_for_field, solve_model_on, uniform_mesh

#: Cells along the longer die side of the ``coarse`` method's first solve.
COARSE_RESOLUTION = 64
#: Dörfler bulk parameter of ``amr``.
THETA = 0.5
#: Solves ``amr`` may do before it stops with the tolerance unmet (recorded in the result).
MAX_SOLVES = 40
# ---------------------------------------------------------------------------------- size fields
def equation_bound(floorplan, model, xs, ys, rise: np.ndarray, tol_abs: float) -> np.ndarray:
    """The equation's curvature bound on a grid (:func:`thermal.physics.estimate.equation_curvature`:
    the density seen at the elements' own scale) for a field ``rise`` (ny, nx) on it."""
    return equation_curvature(rise, rasterize(floorplan, xs, ys), model, tol_abs)


def power_field(floorplan, model, tol: float, points: int = 129) -> tuple[SizeField, dict]:
    """Sizes from the power density alone (no solve)."""
    from thermal.exact.series import reflected_blurs

    xs, ys = grid_over(floorplan.die, points)
    if isinstance(model, Stack):
        return _stack_power_field(floorplan, model, tol, xs, ys)
    cells = rasterize(floorplan, xs, ys)
    # Heat spreads over the thermal length and is mirrored at the adiabatic edges; a DCT blur
    # costs the same at any width (scipy.ndimage's was 12-19 ms at these widths).
    rise = reflected_blurs(cells.mean, [model.thermal_length / (xs[1] - xs[0])])[0] / model.htc
    # Curvature |h u - q| / (k t) with q seen at the elements' own scale: a block's edge,
    # resolved by no grid, refines the elements that straddle it; cell noise does not.
    tol_abs = tol * rise.max()
    curvature = equation_curvature(rise, cells, model, tol_abs)
    return field_from_curvature(floorplan, xs, ys, curvature, tol_abs), {"estimated_peak_rise": float(rise.max())}


def _stack_power_field(floorplan, stack: Stack, tol: float, xs, ys) -> tuple[SizeField, dict]:
    """A stack's cheap physics: on the top face of every power layer, the nearest equal-footprint
    stack's series truncated to twice the grid's modes (every power layer heats every face),
    sized by :func:`faces_field`."""
    from thermal.exact.series import truncated_faces_on_grid

    modes = (2 * (xs.size - 1), 2 * (ys.size - 1))
    faces = list(range(len(stack.power_layers)))
    rises = [r[0] for r in truncated_faces_on_grid(floorplan, stack, [modes], [(xs.size, ys.size)], faces)]
    return faces_field(floorplan, stack, tol, xs, ys, rises), {"estimated_peak_rise": float(rises[0].max())}


def faces_field(floorplan, model, tol: float, xs, ys, rises) -> SizeField:
    """Sizes for ``tol`` of the hottest face's peak rise from a field estimated on every power
    layer's face (``rises``, (ny, nx) each on ``xs`` x ``ys``; one for the lumped die): the
    curvature each face needs (its own blocks' jumps over its own sheet, and the field's
    Hessian for the smooth part), largest over the faces."""
    from thermal.physics.estimate import PowerFace

    tol_abs = tol * max(float(r.max()) for r in rises)
    curvature = np.zeros_like(rises[0])
    for n, rise in enumerate(rises):
        if isinstance(model, Stack):
            layer_fp, face = model.layers[model.power_layers[n]].floorplan or floorplan, PowerFace(model, n)
        else:
            layer_fp, face = floorplan, model
        cells = rasterize(layer_fp, xs, ys)
        curvature = np.maximum(curvature, np.maximum(
            equation_curvature(rise, cells, face, tol_abs), grid_curvature(rise, xs, ys)))
    return field_from_curvature(floorplan, xs, ys, curvature, tol_abs)


def solution_field(sol: Solution, tol: float, points: int = 129) -> SizeField:
    """Sizes from a solution's recovered Hessian, sampled on a grid, and the equation's bound;
    for a stack, on the top face of every power layer (largest curvature), for ``tol`` of the
    hottest face's peak rise."""
    from thermal.physics.estimate import PowerFace

    faces = [sol.face_solution(i) for i in range(len(sol.faces))] if hasattr(sol, "faces") else [sol]
    xs, ys = grid_over(sol.floorplan.die, points)
    tol_abs = tol * max(face.peak["rise"] for face in faces)
    curvature = np.zeros((ys.size, xs.size))
    for i, face in enumerate(faces):
        lam = max_abs_eigenvalue(recovered_hessian(face.mesh, face.rise, face.geometry))
        nodal = nodal_average(face.mesh, face.geometry, lam)
        model = PowerFace(sol.model, i) if isinstance(sol.model, Stack) else sol.model
        bound = equation_bound(face.floorplan, model, xs, ys, face.rise_on_grid(xs, ys), tol_abs)
        curvature = np.maximum(curvature, np.maximum(face.locator.interpolate_grid(nodal, xs, ys), bound))
    return field_from_curvature(sol.floorplan, xs, ys, curvature, tol_abs)


def oracle_field(floorplan, model, tol: float, points: int = 1025, reference=None,
                 bound_points: int = 257) -> SizeField:
    """Sizes from the exact solution's Hessian (finite differences on a fine grid) and the
    equation's bound with the exact field (on a coarser grid: the fine one resolves every jump
    but units smaller than its spacing, and the bound there would cost more than the series)."""
    from thermal.exact.series import SeriesSolution

    reference = reference or SeriesSolution(floorplan, model)
    tol_abs = tol * reference.peak["rise"]
    gx, gy = grid_over(floorplan.die, bound_points)
    cx, cy, u = reference.rise_on_grid(gx.size, gy.size)
    bound = equation_bound(floorplan, model, cx, cy, u, tol_abs)
    gx, gy = grid_over(floorplan.die, points)
    xs, ys, u = reference.rise_on_grid(gx.size, gy.size)
    curvature = np.maximum(grid_curvature(u, xs, ys), _around(bound, cx, cy, xs, ys))
    return field_from_curvature(floorplan, xs, ys, curvature, tol_abs)


def _around(values: np.ndarray, cx, cy, xs, ys) -> np.ndarray:
    """Values on the grid ``cx`` x ``cy`` carried to the finer grid ``xs`` x ``ys``: at each
    fine node the largest of the four coarse nodes around it (a bound stays a bound)."""
    i1 = np.clip(np.searchsorted(cx, xs), 1, cx.size - 1)
    j1 = np.clip(np.searchsorted(cy, ys), 1, cy.size - 1)
    out = values[j1 - 1][:, i1 - 1]
    for j, i in ((j1 - 1, i1), (j1, i1 - 1), (j1, i1)):
        out = np.maximum(out, values[j][:, i])
    return out


# ---------------------------------------------------------------------------------- methods
def solve_with_field(floorplan, model, field: SizeField, info: dict, timing: dict,
                     budget: int | None, base=None, solves: int = 0,
                     conform: bool = False) -> Solution:
    """Mesh to ``field``, solve once, and record everything."""
    start = time.perf_counter()
    mesh, stats = mesh_for_field(floorplan, model, field, budget, conform)
    timing["mesh_s"] = timing.get("mesh_s", 0.0) + time.perf_counter() - start
    sol = solve_model_on(floorplan, model, mesh,
                         {**info, "conform": bool(conform), "solves": solves + 1, "adapt": stats}, timing)
    return sol


def solve_power(floorplan, model, tol: float, budget: int | None = None,
                conform: bool = False) -> Solution:
    """Sizes from the power density (a stack's: from the series of its cut); a stack with
    blocks of their own material takes the second pass of :func:`solve_stack_with_field`,
    without which the series' sizes miss the materials (on a generated 3D stack with TSVs
    and voids, tol 2e-3 gave 1.1 % of the peak rise; with the pass 0.29 %)."""
    start = time.perf_counter()
    field, extra = power_field(floorplan, model, tol)
    timing = {"estimate_s": time.perf_counter() - start}
    info = {"method": "power", "tol": tol, "budget": budget, **extra}
    if isinstance(model, Stack):
        return solve_stack_with_field(floorplan, model, field, info, timing, budget,
                                      "the series of the stack's cut", conform)
    return solve_with_field(floorplan, model, field, info, timing, budget, conform=conform)


def solve_stack_with_field(floorplan, stack: Stack, field: SizeField, info: dict, timing: dict,
                           budget: int | None, sizing: str, conform: bool = False) -> Solution:
    """Mesh a stack to ``field`` and solve; where layers have blocks of their own material, one
    more pass: sizes from that solution too (:func:`solution_field`, the smaller of the two),
    and a second solve. Measured on examples/package/two_die.lcf (a TSV bundle, k = 80 in
    0.5): the series' sizes alone stalled at 2.6-2.7 % of the peak rise whatever the
    tolerance; with the pass, as ``coarse``."""
    sol = solve_with_field(floorplan, stack, field, info, timing, budget, conform=conform)
    if not stack.homogeneous:
        start = time.perf_counter()
        second = solution_field(sol, info["tol"])
        both = SizeField(second.xs, second.ys,
                         np.minimum(field(*np.meshgrid(second.xs, second.ys)), second.values))
        timing = {"estimate_s": sol.timing["estimate_s"] + time.perf_counter() - start,
                  "first_solve_s": sol.timing["assemble_s"] + sol.timing["solve_s"],
                  "mesh_s": sol.timing["mesh_s"],
                  **{k: v for k, v in sol.timing.items() if k in ("model_load_s", "predict_s")}}
        sol = solve_with_field(floorplan, stack, both, info, timing, budget, solves=1, conform=conform)
        sizing += ", then the first solution's curvature (blocks of their own material)"
    sol.mesh_info["sizing"] = sizing
    return sol


def solve_coarse(floorplan, model, tol: float, budget: int | None = None,
                 resolution: int = COARSE_RESOLUTION, conform: bool = False) -> Solution:
    start = time.perf_counter()
    first = solve_model_on(floorplan, model, uniform_mesh(floorplan, model, resolution, conform),
                           {"method": "uniform"})
    field = solution_field(first, tol)
    timing = {"estimate_s": time.perf_counter() - start - first.timing["solve_s"] - first.timing["assemble_s"],
              "first_solve_s": first.timing["assemble_s"] + first.timing["solve_s"]}
    return solve_with_field(floorplan, model, field,
                            {"method": "coarse", "tol": tol, "budget": budget,
                             "coarse_resolution": resolution}, timing, budget, solves=1,
                            conform=conform)


def solve_oracle(floorplan, model, tol: float, budget: int | None = None, reference=None,
                 conform: bool = False) -> Solution:
    start = time.perf_counter()
    field = oracle_field(floorplan, model, tol, reference=reference)
    timing = {"estimate_s": time.perf_counter() - start}
    return solve_with_field(floorplan, model, field,
                            {"method": "oracle", "tol": tol, "budget": budget}, timing, budget,
                            conform=conform)


def solve_amr(floorplan, model, tol: float, budget: int | None = None, theta: float = THETA,
              max_solves: int = MAX_SOLVES, conform: bool = False) -> Solution:
    """Solve - estimate - mark - refine until the estimated max error meets ``tol``.

    It starts from the coarsest mesh of the domain refined to the largest size the other
    methods allow (an eighth of the die), so that the first solve sees the die at all.
    """
    start = time.perf_counter()
    timing = {"estimate_s": 0.0, "mesh_s": 0.0, "assemble_s": 0.0, "solve_s": 0.0}
    t = time.perf_counter()
    mesh, _ = mesh_for_field(floorplan, model, size_limits(floorplan)[1], None, conform)
    timing["mesh_s"] += time.perf_counter() - t
    history = []
    for solves in range(1, max_solves + 1):
        sol = solve_model_on(floorplan, model, mesh, {"method": "amr"})
        timing["assemble_s"] += sol.timing["assemble_s"]
        timing["solve_s"] += sol.timing["solve_s"]
        t = time.perf_counter()
        eta = error_indicators(sol)
        tol_abs = tol * sol.peak["rise"]
        estimate = float(eta.max())
        history.append({"elements": int(mesh.t.shape[1]), "estimate_rel": estimate / sol.peak["rise"]})
        over = np.flatnonzero(eta > tol_abs)
        timing["estimate_s"] += time.perf_counter() - t
        done = over.size == 0
        if done or (budget is not None and mesh.t.shape[1] >= budget) or solves == max_solves:
            break
        t = time.perf_counter()
        marked = over[dorfler(eta[over], theta)]
        if isinstance(model, Stack):  # the die face's triangles are some of the plane's
            marked = sol.faces[0].plane_elements[marked]
        refined = rgb_refined(mesh, marked)
        if budget is not None and refined.t.shape[1] > budget:
            break
        mesh = refined
        timing["mesh_s"] += time.perf_counter() - t
    sol.mesh_info.update({"method": "amr", "conform": bool(conform), "tol": tol, "budget": budget,
                          "theta": theta, "solves": solves, "converged": done, "history": history})
    sol.timing.update(timing)
    sol.timing["total_s"] = time.perf_counter() - start
    return sol


# ---------------------------------------------------------------------------------- critical regions
#: Solves the critical refinement may add before it stops with the tolerance unmet (recorded).
CRITICAL_SOLVES = 12
#: Elements (of the block's mean size) of margin refined with a critical block.
MARGIN_ELEMENTS = 8.0


def refine_critical(sol: Solution, names, tol_K: float, budget: int | None = None) -> Solution:
    """Refine ``sol``'s mesh inside the blocks ``names`` (of any power layer) until the estimated
    maximum error of every element there is at most ``tol_K`` kelvin, whatever the rest of the
    die asks; the solution, with ``extra["critical"]`` reporting per block its temperature range,
    its largest gradient and its estimated error.

    Each pass estimates the error of every element of the blocks' faces (the recovered-Hessian
    indicators of ``amr``, the equation's bound where an element holds a jump of power density),
    refines those in the blocks above ``tol_K`` (and their neighbours, by the refinement's
    conformity), and solves again. An element belongs to a block when any of its corners or its
    centroid lies in it, so the block's edges are covered from both sides.
    """
    targets = _critical_targets(sol, names)
    start = time.perf_counter()
    solves, done = 0, False
    while True:
        report, marked = _critical_pass(sol, targets, tol_K)
        done = not marked.size
        if done or solves == CRITICAL_SOLVES:
            break
        mesh = sol.prisms.plane if isinstance(sol.model, Stack) else sol.mesh
        refined = rgb_refined(mesh, marked)
        if budget is not None and refined.t.shape[1] > budget:
            break
        info = {**sol.mesh_info, "solves": sol.mesh_info.get("solves", 1) + 1}
        timing = {k: v for k, v in sol.timing.items() if k != "total_s"}
        sol = solve_model_on(sol.floorplan, sol.model, refined, info, timing)
        solves += 1
    sol.extra["critical"] = {"tol_K": tol_K, "added_solves": solves, "converged": done,
                             "refine_s": time.perf_counter() - start, "blocks": report}
    return sol


def _critical_targets(sol: Solution, names) -> list:
    """(face index, block index, name) of every named block, on the first power layer that has
    it; an unknown name is a ValueError naming the blocks there are."""
    faces = list(range(len(sol.faces))) if hasattr(sol, "faces") else [0]
    out = []
    for name in names:
        for i in faces:
            fp = sol.faces[i].floorplan if hasattr(sol, "faces") else sol.floorplan
            if name in fp.names:
                out.append((i, fp.names.index(name), name))
                break
        else:
            raise ValueError(f"no block named {name!r} in any power layer")
    return out


def _critical_pass(sol: Solution, targets: list, tol_K: float) -> tuple[list, np.ndarray]:
    """Per target block: its range, gradient and estimated error; and the plane elements to
    refine (those of the blocks estimated above ``tol_K``)."""
    from thermal.physics.solution import element_centroids

    report, marked = [], []
    stack = isinstance(sol.model, Stack)
    for i in sorted({t[0] for t in targets}):
        face = sol.face_solution(i) if stack else sol
        eta = error_indicators(face)
        mesh, fp = face.mesh, face.floorplan
        corner_block = fp.block_at(mesh.p[0], mesh.p[1])[mesh.t]          # (3, elements)
        centroid_block = fp.block_at(*element_centroids(mesh))
        gradient = _element_gradients(face)
        cx, cy = element_centroids(mesh)
        for _, b, name in (t for t in targets if t[0] == i):
            inside = np.any(corner_block == b, axis=0) | (centroid_block == b)
            # A margin of MARGIN_ELEMENTS of the block's elements all round: the error inside
            # is also made by the elements outside. Measured on ev6 (lumped) beside IntReg
            # with amr's mesh, coarse around the block: no margin left 0.028 K where 0.02 K
            # was asked, 2 elements 0.023, 4 0.0196, 8 0.016 K (benchmarks/critical.py).
            x0, y0, x1, y1 = fp.blocks.x0[b], fp.blocks.y0[b], fp.blocks.x1[b], fp.blocks.y1[b]
            h = MARGIN_ELEMENTS * np.sqrt(2 * face.geometry.area[inside].mean()) if inside.any() else 0.0
            near = (cx > x0 - h) & (cx < x1 + h) & (cy > y0 - h) & (cy < y1 + h)
            nodes = np.unique(mesh.t[:, inside])
            rise = face.rise[nodes]
            worst = float(eta[inside].max()) if inside.any() else 0.0
            report.append({"block": name, "layer": int(sol.faces[i].layer) if stack else 0,
                           "elements": int(inside.sum()),
                           "min_K": float(rise.min() + sol.model.ambient),
                           "max_K": float(rise.max() + sol.model.ambient),
                           "max_gradient_K_per_m": float(gradient[inside].max()) if inside.any() else 0.0,
                           "estimated_error_K": worst})
            over = np.flatnonzero((inside | near) & (eta > tol_K))
            marked.append(sol.faces[i].plane_elements[over] if stack else over)
    return report, np.unique(np.concatenate(marked)) if marked else np.zeros(0, int)


def _element_gradients(face: Solution) -> np.ndarray:
    """|grad T| on each element of a face (P1: constant per element), K/m."""
    p, t = face.mesh.p, face.mesh.t
    x, y, u = p[0][t], p[1][t], face.rise[t]
    det = (x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0])
    gx = ((u[1] - u[0]) * (y[2] - y[0]) - (u[2] - u[0]) * (y[1] - y[0])) / det
    gy = ((u[2] - u[0]) * (x[1] - x[0]) - (u[1] - u[0]) * (x[2] - x[0])) / det
    return np.hypot(gx, gy)


#: The methods that need no hotspot model; ``adaptive`` (:mod:`hotspot_ml.mesh`) joins them in
#: :data:`thermal.app.simulate.METHODS`.
METHODS = {"amr": solve_amr, "power": solve_power, "coarse": solve_coarse, "oracle": solve_oracle}
