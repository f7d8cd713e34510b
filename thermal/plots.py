"""Pictures of temperature fields: the field, block outlines and names, the peak, a colour bar."""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: Pixels along the die's longer side when a field is rasterised for display.
RASTER = 600
#: Block names are written only when there are at most this many blocks.
MAX_LABELS = 80


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


def plot_temperature(sol, path: str | Path, title: str | None = None) -> None:
    """Write a PNG of the solved temperature field with outlines, names and the peak."""
    plt = _figure()
    image, extent = field_raster(sol.rise_on_grid, sol.floorplan)
    image = image + sol.model.ambient
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    draw_field(ax, image, extent, sol.floorplan)
    pk = sol.peak
    ax.plot(pk["x"] * 1e3, pk["y"] * 1e3, marker="x", color="cyan", ms=9, mew=2)
    # Keep the label inside the die: put it below/left of peaks near the top/right edges.
    x0, y0, x1, y1 = sol.floorplan.die
    dx = -6 if pk["x"] > x0 + 0.7 * (x1 - x0) else 6
    dy = -12 if pk["y"] > y0 + 0.8 * (y1 - y0) else 6
    ax.annotate(f"peak {pk['temperature']:.2f} K", (pk["x"] * 1e3, pk["y"] * 1e3), color="cyan",
                xytext=(dx, dy), textcoords="offset points", fontsize=8,
                ha="right" if dx < 0 else "left", va="top" if dy < 0 else "bottom")
    info = sol.mesh_info
    ax.set_title(title or f"{Path(sol.floorplan.source).name}: {info['method']} mesh, "
                          f"{info['elements']:,} elements", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_prediction(prediction, floorplan, model, hotspots, path: str | Path) -> None:
    """Write a PNG of the predicted field with the predicted hotspots marked."""
    plt = _figure()
    x0, y0, x1, y1 = floorplan.die
    extent = [x0 * 1e3, x1 * 1e3, y0 * 1e3, y1 * 1e3]
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    draw_field(ax, prediction.rise + model.ambient, extent, floorplan, label="Predicted temperature (K)")
    for k, h in enumerate(hotspots):
        ax.plot(h["x"] * 1e3, h["y"] * 1e3, marker="o", mfc="none", color="cyan", ms=10, mew=1.5)
        ax.annotate(f"{k + 1}: {h['temperature']:.1f} K", (h["x"] * 1e3, h["y"] * 1e3), color="cyan",
                    xytext=(6, -12), textcoords="offset points", fontsize=7)
    ax.set_title(f"{Path(floorplan.source).name}: predicted hotspots (no solve)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
