"""Pictures of temperature fields: the field, block outlines and names, the peak, a colour bar.

The one-picture-per-run files (``temperature.png`` of a solve, ``hotspots.png`` of a
prediction) are drawn without matplotlib by :mod:`thermal.app.png` (:func:`write_field`): importing
matplotlib alone costs more than a solve. The report figures (``plot_*`` returning a figure) use
matplotlib, imported when they are called.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: Pixels along the die's longer side when a field is rasterised for display.
RASTER = 600
#: Block names are written only when there are at most this many blocks.
MAX_LABELS = 80
#: :func:`write_field` samples a field given as a function every this many pixels (along x and
#: y) and interpolates bilinearly in between: sampling is most of the time to write
#: temperature.png, and a P1 field looks the same (ev6: at most 0.4 of 256 colour levels apart).
SAMPLE_STEP = 2


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def block_outlines(floorplan):
    """A LineCollection of every block's four sides (mm)."""
    from matplotlib.collections import LineCollection

    b = floorplan.blocks
    corners = np.stack([[b.x0, b.y0], [b.x1, b.y0], [b.x1, b.y1], [b.x0, b.y1], [b.x0, b.y0]]) * 1e3
    return LineCollection(np.transpose(corners, (2, 0, 1)), colors="w", linewidths=0.5, alpha=0.7)


def label_blocks(ax, floorplan, max_labels: int = MAX_LABELS) -> None:
    """Write block names in blocks large enough to hold them (plotting only, not a hot path)."""
    b = floorplan.blocks
    if len(b) > max_labels:
        return
    big = np.minimum(b.width, b.height) > 0.03 * max(floorplan.width, floorplan.height)
    cx, cy = (b.x0 + b.x1) / 2e-3, (b.y0 + b.y1) / 2e-3
    import matplotlib.patheffects as pe

    halo = [pe.withStroke(linewidth=1.5, foreground="k", alpha=0.6)]
    for i in np.flatnonzero(big):
        ax.text(cx[i], cy[i], floorplan.names[i], ha="center", va="center", fontsize=6,
                color="w", clip_on=True, path_effects=halo)


def field_raster(field_on_grid, floorplan, pixels: int = RASTER):
    """Sample ``field_on_grid(xs, ys)`` at pixel centres over the die: (image, extent in mm)."""
    x0, y0, x1, y1 = floorplan.die
    scale = pixels / max(x1 - x0, y1 - y0)
    nx, ny = max(2, int((x1 - x0) * scale)), max(2, int((y1 - y0) * scale))
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    return field_on_grid(xs, ys), [x0 * 1e3, x1 * 1e3, y0 * 1e3, y1 * 1e3]


def draw_field(ax, image, extent, floorplan, *, label: str = "Temperature (K)", cmap: str = "inferno"):
    im = ax.imshow(image, origin="lower", extent=extent, cmap=cmap, interpolation="nearest")
    ax.add_collection(block_outlines(floorplan))
    label_blocks(ax, floorplan)
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_aspect("equal")
    ax.figure.colorbar(im, ax=ax, label=label, shrink=0.85)
    return im


def block_boxes_mm(floorplan) -> np.ndarray:
    """(n, 4) corners x0, y0, x1, y1 of every block, mm."""
    b = floorplan.blocks
    return np.stack([b.x0, b.y0, b.x1, b.y1], axis=1) * 1e3


def write_field(path: str | Path, field, floorplan, *, offset: float = 0.0, title: str = "",
                label: str = "Temperature (K)", markers=(), pixels: int = RASTER) -> None:
    """Write a PNG of a field over the die with the block outlines and names, ``markers`` and
    a colour bar, without matplotlib (:func:`thermal.app.png.field_picture`).

    ``field`` is either a function ``field(xs, ys) -> (ny, nx)`` (m; e.g.
    ``Solution.rise_on_grid``), sampled every :data:`SAMPLE_STEP` pixels (:func:`field_raster`)
    and interpolated bilinearly to the pixels, or an already sampled (ny, nx) array over the
    die, row 0 at the bottom, shown by nearest neighbour (as ``imshow``). ``offset`` is added
    to the values (e.g. the ambient temperature). ``markers``: dicts with ``x``, ``y`` in m and
    the optional keys of :func:`thermal.app.png.field_picture`.
    """
    from thermal.app import png

    x0, y0, x1, y1 = floorplan.die
    extent = [x0 * 1e3, x1 * 1e3, y0 * 1e3, y1 * 1e3]
    if callable(field):
        image, _ = field_raster(field, floorplan, max(2, pixels // SAMPLE_STEP))
        image = png.upsample(image, png.field_shape(extent, pixels))
    else:
        image = np.asarray(field, float)
    marks = [{**m, "x": m["x"] * 1e3, "y": m["y"] * 1e3} for m in markers]
    rgb = png.field_picture(image + offset, extent, boxes=block_boxes_mm(floorplan),
                            names=floorplan.names, markers=marks, title=title, label=label,
                            pixels=pixels, max_labels=MAX_LABELS)
    finite = image[np.isfinite(image)] + offset
    text = {"Title": title, "Software": "thermesh"}
    if finite.size:
        text["Comment"] = f"{label}: min {finite.min():.4f}, max {finite.max():.4f}"
    png.write_png(path, rgb, text=text)


def plot_temperature(sol, path: str | Path, title: str | None = None) -> None:
    """Write a PNG of the solved temperature field with outlines, names and the peak
    (:func:`write_field`: no matplotlib)."""
    pk = sol.peak
    info = sol.mesh_info
    where = f" in {pk['block']}" if pk.get("block") else ""
    write_field(path, sol.rise_on_grid, sol.floorplan, offset=sol.model.ambient,
                title=title or f"{Path(sol.floorplan.source).name}: {info['method']} mesh, "
                               f"{info['elements']:,} elements",
                markers=[{"x": pk["x"], "y": pk["y"], "kind": "x",
                          "label": f"peak {pk['temperature']:.2f} K{where}"}])


def plot_prediction(prediction, floorplan, model, hotspots, path: str | Path) -> None:
    """Write a PNG of the predicted field with the predicted hotspots marked (:func:`write_field`:
    no matplotlib)."""
    write_field(path, prediction.rise, floorplan, offset=model.ambient,
                label="Predicted temperature (K)",
                title=f"{Path(floorplan.source).name}: predicted hotspots (no solve)",
                markers=[{"x": h["x"], "y": h["y"], "kind": "o", "size": 14,
                          "label": f"{k + 1}: {h['temperature']:.1f} K"} for k, h in enumerate(hotspots)])


# ---------------------------------------------------------------------------------- compare
#: Colour and marker of each meshing method on the comparison plots.
METHOD_STYLE = {"uniform": ("k", "s"), "amr": ("C0", "o"), "power": ("C1", "^"),
                "coarse": ("C2", "v"), "oracle": ("C7", "D"), "adaptive": ("C3", "*")}


def _style(method: str) -> tuple[str, str]:
    return METHOD_STYLE.get(method, ("C5", "x"))


def mesh_edges(mesh, *, color: str = "w", linewidth: float = 0.2, alpha: float = 0.5):
    """Every edge of a triangle mesh (mm), each once, as one Line2D (edges separated by NaN).

    One path rather than a LineCollection: matplotlib builds a Path object per segment of a
    collection, which takes seconds for the 10^5 - 10^6 edges of fine meshes.
    """
    from matplotlib.lines import Line2D

    ends = mesh.p[:, mesh.facets] * 1e3  # (xy, 2 ends, edges)
    breaks = np.full((2, 1, ends.shape[2]), np.nan)
    x, y = np.concatenate([ends, breaks], axis=1).transpose(0, 2, 1).reshape(2, -1)
    return Line2D(x, y, color=color, linewidth=linewidth, alpha=alpha)


def plot_error_vs_cost(rows, cost: str = "elements", targets=(0.5, 0.1)):
    """Max error (% of the exact peak rise) versus ``cost`` (``"elements"`` or ``"time_s"``),
    log-log, one line per method (runs in order of elements); returns the figure.

    ``rows`` are :func:`thermal.app.compare.run_method` rows (``method``, ``elements``,
    ``time_s``, ``max_error_pct``) of successful runs.
    """
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=110)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    for method in methods:
        mine = sorted((r for r in rows if r["method"] == method), key=lambda r: r["elements"])
        x = np.array([r[cost] for r in mine], float)
        y = np.array([r["max_error_pct"] for r in mine], float)
        keep = (x > 0) & (y > 0)
        color, marker = _style(method)
        ax.loglog(x[keep], y[keep], marker=marker, color=color, label=method,
                  lw=2.0 if method in ("uniform", "adaptive") else 1.2,
                  ms=9 if marker == "*" else 5)
    for t in targets:
        ax.axhline(t, color="0.5", ls=":", lw=1)
        ax.annotate(f"{t:g} %", (1.0, t), xycoords=("axes fraction", "data"), xytext=(-3, 2),
                    textcoords="offset points", ha="right", va="bottom", fontsize=7, color="0.4")
    ax.set_xlabel("elements" if cost == "elements" else "time to solution (s)")
    ax.set_ylabel("max error (% of exact peak rise)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    ax.set_title(f"Max error versus {'elements' if cost == 'elements' else 'time'}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_mesh_comparison(panels, floorplan, ambient: float):
    """Temperature maps side by side, each with its mesh's edges overlaid, one colour scale.

    ``panels`` is a list of (Solution, title). Returns the figure.
    """
    plt = _figure()
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 6), dpi=110, squeeze=False)
    images = [field_raster(sol.rise_on_grid, floorplan) for sol, _ in panels]
    lo = min(float(np.nanmin(im)) for im, _ in images) + ambient
    hi = max(float(np.nanmax(im)) for im, _ in images) + ambient
    for ax, (sol, title), (image, extent) in zip(axes[0], panels, images):
        im = draw_field(ax, image + ambient, extent, floorplan)
        im.set_clim(lo, hi)
        ax.add_line(mesh_edges(sol.mesh))
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_hotspot_comparison(sol, predicted, solved, exact_peak=None, title: str | None = None):
    """The solved temperature map with predicted (circles) and solved (crosses) hotspots, and
    the exact peak (star) if given. Returns the figure."""
    from matplotlib.lines import Line2D

    plt = _figure()
    image, extent = field_raster(sol.rise_on_grid, sol.floorplan)
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    draw_field(ax, image + sol.model.ambient, extent, sol.floorplan)
    if predicted:
        px, py = np.array([[h["x"], h["y"]] for h in predicted]).T * 1e3
        ax.plot(px, py, ls="none", marker="o", mfc="none", color="cyan", ms=11, mew=1.5, clip_on=False)
        for k, (a, b) in enumerate(zip(px, py)):  # a few hotspots: labels, not a hot path
            ax.annotate(f"P{k + 1}", (a, b), color="cyan", xytext=(6, 4), textcoords="offset points", fontsize=7)
    if solved:
        sx, sy = np.array([[h["x"], h["y"]] for h in solved]).T * 1e3
        ax.plot(sx, sy, ls="none", marker="x", color="lime", ms=8, mew=1.8, clip_on=False)
        for k, (a, b) in enumerate(zip(sx, sy)):
            ax.annotate(f"S{k + 1}", (a, b), color="lime", xytext=(6, -11), textcoords="offset points", fontsize=7)
    handles = [Line2D([], [], ls="none", marker="o", mfc="none", color="cyan", label="predicted (ML)"),
               Line2D([], [], ls="none", marker="x", color="lime", label="solved")]
    if exact_peak is not None:
        ax.plot(exact_peak["x"] * 1e3, exact_peak["y"] * 1e3, ls="none", marker="*", color="w",
                mec="k", ms=12, clip_on=False)
        handles.append(Line2D([], [], ls="none", marker="*", color="w", mec="k", label="exact peak"))
    ax.legend(handles=handles, loc="best", fontsize=7, framealpha=0.6)
    info = sol.mesh_info
    ax.set_title(title or f"Predicted versus solved hotspots ({info['method']} mesh, "
                          f"{info['elements']:,} elements)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_stage_times(labels, stages: dict):
    """Stacked horizontal bars of each run's time per stage: seconds, and share of the total.

    ``stages`` maps a stage name to one value (s) per label. Returns the figure.
    """
    plt = _figure()
    values = np.array([np.asarray(v, float) for v in stages.values()])  # (stages, runs)
    total = values.sum(axis=0)
    share = 100 * values / np.where(total > 0, total, 1)
    y = np.arange(len(labels))
    fig, axes = plt.subplots(1, 2, figsize=(12, 1.5 + 0.28 * len(labels)), dpi=110, sharey=True)
    for ax, data, xlabel in ((axes[0], values, "seconds"), (axes[1], share, "% of the run's time")):
        left = np.zeros(len(labels))
        for k, (name, row) in enumerate(zip(stages, data)):  # a handful of stages
            ax.barh(y, row, left=left, color=f"C{k}", label=name, height=0.75)
            left += row
        ax.set_xlabel(xlabel)
        ax.grid(True, axis="x", alpha=0.25)
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].invert_yaxis()
    axes[1].set_xlim(0, 100)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("Time per stage", fontsize=10)
    fig.tight_layout()
    return fig


def plot_transient(path: str | Path, times: np.ndarray, peak: np.ndarray, names, blocks: np.ndarray,
                   threshold: float | None = None, hottest: int = 5) -> None:
    """``transient.png``: the peak temperature and the ``hottest`` blocks (by their highest
    temperature) over time, with the threshold if given."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(7, 4))
    ms = np.asarray(times) * 1e3
    ax.plot(ms, peak, color="k", linewidth=1.6, label="peak (any point)")
    order = np.argsort(blocks.max(axis=0))[::-1][:hottest] if blocks.size else []
    for j in order:
        ax.plot(ms, blocks[:, j], linewidth=1.0, label=names[j])
    if threshold is not None:
        ax.axhline(threshold, color="r", linestyle="--", linewidth=1.0, label=f"threshold {threshold:g} K")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("temperature (K)")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
