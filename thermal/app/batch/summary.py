"""The outputs of a batch: ``summary.csv``, ``summary.json`` and the report (``report.html``,
``report.md``, ``figures/``): counts, distributions, a table of cases, the failures."""
from __future__ import annotations

import csv
import io
import json
import math
import shutil
from pathlib import Path
from typing import Sequence

#: Error level (relative to the peak rise) at which compare's savings are reported: 0.5 %.
SAVINGS_LEVEL = 5e-3
#: Rows shown in the report's table of cases (all of them are in summary.csv).
REPORT_ROWS = 500
#: Summary columns, in this order; any other keys a row has follow them.
COLUMNS = ["name", "status", "error", "task", "flp", "ptrace", "method", "elements", "nodes",
           "peak_temperature_K", "peak_x_m", "peak_y_m", "peak_block", "energy_balance_rel",
           "total_s", "estimate_s", "mesh_s", "assemble_s", "solve_s", "max_error_pct",
           "hotspots", "hottest_predicted_K", "predict_s", "case_s", "worker"]


def _columns(rows: Sequence[dict]) -> list[str]:
    present = {k for r in rows for k in r}
    columns = [c for c in COLUMNS if c in present or c in ("name", "status", "error", "task", "flp", "ptrace")]
    for r in rows:
        columns += [k for k in r if k not in columns]
    return columns


def counts(rows: Sequence[dict]) -> dict:
    """Cases ok (run now), failed, skipped (finished earlier) and in all."""
    status = [r["status"] for r in rows]
    return {"ok": status.count("ok"), "failed": status.count("failed"),
            "skipped": status.count("skipped"), "total": len(rows)}


def write_summary(out: str | Path, rows: Sequence[dict], task: str, options: dict,
                  meta: dict | None = None) -> list[Path]:
    """Write ``summary.csv``, ``summary.json``, ``report.html``, ``report.md`` and
    ``figures/`` into ``out``, each atomically (:func:`thermal.app.output.staged`: written in a
    staging folder, moved into place once all of them are; ``figures/`` replaces an earlier
    report's).

    Parameters
    ----------
    out : str or Path
    rows : sequence of dict
        One per case (:func:`run_batch`).
    task : str
    options : dict
    meta : dict, optional
        Recorded in summary.json and the report (e.g. ``seconds``, ``workers``).
    """
    from thermal.version import __version__
    from thermal.app.output import _to_builtin, staged
    from thermal.app.report import write_report

    out = Path(out)
    meta = dict(meta or {})
    columns = _columns(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    doc = {"thermesh_version": __version__, "task": task, "options": options, "counts": counts(rows),
           **meta, "columns": columns, "cases": list(rows)}
    with staged(out) as stage:
        (stage / "summary.csv").write_text(buffer.getvalue(), encoding="utf-8")
        (stage / "summary.json").write_text(json.dumps(doc, indent=2, default=_to_builtin) + "\n",
                                            encoding="utf-8")
        write_report(stage, f"thermesh batch: {task}", report_sections(rows, task, options, meta))
        if not (stage / "figures").is_dir():  # no figures this time: none of an earlier report stay
            shutil.rmtree(out / "figures", ignore_errors=True)
    return [out / name for name in ("summary.csv", "summary.json", "report.html", "report.md")]


def _fmt(value, kind: str = "g") -> str:
    """A table cell: ``int`` (thousands separated), ``K`` (2 decimals), ``g`` (4 significant
    digits), ``ms`` (seconds shown as milliseconds), anything else as text."""
    if value is None or value == "" or isinstance(value, bool):
        return "" if value is None or value == "" else str(value)
    if not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if kind == "int":
        return f"{round(value):,}"
    if kind == "K":
        return f"{value:.2f}"
    if kind == "ms":
        return f"{1e3 * value:.3g}"
    return f"{value:.4g}"


def _values(rows: Sequence[dict], key: str) -> list[float]:
    """The finite numbers of column ``key``."""
    out = []
    for r in rows:
        v = r.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _wide(values) -> bool:
    """Positive values spanning more than a factor 10: shown on a log axis."""
    return min(values) > 0 and max(values) > 10 * min(values)


def _plain_log_ticks(axis) -> None:
    """Log-axis ticks at 1, 2, 5 x 10^k labelled as plain numbers (0.05, 2, 5000, 20k, 1M)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    def short(v, _):
        return f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e4 else f"{v:g}"

    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(short))
    axis.set_minor_formatter(NullFormatter())


def _histograms(panels: list[tuple[str, list[float], str]], name: str, caption: str):
    """Histograms side by side, one per ``(label, values, scale)``; scale ``log``, ``linear``
    or ``int`` (one bar per integer). None if no panel has values."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    from thermal.app.report import Figure, figure_png

    panels = [p for p in panels if p[1]]
    if not panels:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    for ax, (label, values, scale) in zip(axes[0], panels):
        v = np.asarray(values, dtype=float)
        nbins = int(np.clip(np.sqrt(v.size) * 2, 5, 30))
        if scale == "log" and _wide(v):
            bins = np.geomspace(v.min(), v.max(), nbins + 1)
            ax.set_xscale("log")
            _plain_log_ticks(ax.xaxis)
        elif scale == "int":
            bins = np.arange(v.min() - 0.5, v.max() + 1.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            bins = nbins
        ax.hist(v, bins=bins, color="#4c72b0", edgecolor="white")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(label)
        ax.set_ylabel("cases")
    fig.tight_layout()
    return Figure(name, figure_png(fig), caption)


def _boxes(groups: list[tuple[str, list[float]]], ylabel: str, name: str, caption: str):
    """Box plots, one per ``(label, values)``, every value overlaid; log axis when all are
    positive, a dashed line at 1 (no saving). None if no group has values."""
    from thermal.app.report import Figure, figure_png

    groups = [g for g in groups if g[1]]
    if not groups:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(groups) + 3, 3.6))
    ax.boxplot([g[1] for g in groups], showfliers=False)
    ax.set_xticks(range(1, len(groups) + 1), [g[0] for g in groups])
    for i, (_, values) in enumerate(groups, start=1):
        ax.plot([i] * len(values), values, ".", color="#dd8452", alpha=0.6)
    if _wide([v for g in groups for v in g[1]]):
        ax.set_yscale("log")
        _plain_log_ticks(ax.yaxis)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    return Figure(name, figure_png(fig), caption)


def _stats_table(rows: Sequence[dict], quantities: list[tuple[str, str, str]]):
    """Median, min and max of each ``(label, key, kind)`` over ``rows``."""
    import numpy as np

    from thermal.app.report import Table

    body = []
    for label, key, kind in quantities:
        v = _values(rows, key)
        body.append([label, str(len(v))] + ([_fmt(float(np.median(v)), kind), _fmt(min(v), kind),
                                             _fmt(max(v), kind)] if v else ["", "", ""]))
    return Table(["quantity", "cases", "median", "min", "max"], body)


def _saving_cell(row: dict, method: str) -> str:
    """``saving / speed-up`` of a compare row (``>=`` when lower bounds)."""
    saving, speedup = row.get(f"{method}_element_saving"), row.get(f"{method}_speedup")
    if saving is None:
        return ""
    bound = ">=" if row.get(f"{method}_lower_bound") else ""
    return f"{bound}{saving:.3g} / {bound}{speedup:.3g}" if speedup is not None else f"{bound}{saving:.3g}"


def report_sections(rows: Sequence[dict], task: str, options: dict, meta: dict) -> list:
    """The batch report: overview, distributions (figures and a table), a table of cases,
    the failures with their one-line errors."""
    from thermal.app.report import Section, Table

    c = counts(rows)
    done = [r for r in rows if r["status"] in ("ok", "skipped")]
    failures = [r for r in rows if r["status"] == "failed"]
    workers = int(meta.get("workers", 1))
    where = (f"on the dask cluster at {meta['scheduler']}" if meta.get("scheduler")
             else f"in {workers} local worker processes" if workers > 1 else "in one process")
    shown_options = {k: v for k, v in options.items() if v not in (None, {}, [])}
    overview = Section("Overview", [
        f"{c['total']} cases: {c['ok']} ok, {c['failed']} failed, {c['skipped']} skipped "
        f"(finished by an earlier run with the same options and inputs). Task {task}, run {where} "
        f"in {meta.get('seconds', float('nan')):.1f} s.",
        "Options: " + ", ".join(f"{k} = {v}" for k, v in shown_options.items()) + ".",
    ])
    dist = Section("Distributions", [f"Over the {len(done)} cases that finished (ok or skipped)."])
    if task == "solve":
        quantities = [("elements", "elements", "int"), ("total time, s", "total_s", "g"),
                      ("peak temperature, K", "peak_temperature_K", "K")]
        if _values(done, "max_error_pct"):
            quantities.append(("max error, % of peak rise", "max_error_pct", "g"))
        figure = _histograms([("elements", _values(done, "elements"), "log"),
                              ("total time, s", _values(done, "total_s"), "log"),
                              ("peak temperature, K", _values(done, "peak_temperature_K"), "linear")],
                             "solve_distributions.png",
                             "Elements, end-to-end solve time and peak temperature of the cases")
        figures = [figure]
        columns = [("name", "name", ""), ("status", "status", ""), ("method", "method", ""),
                   ("elements", "elements", "int"), ("peak K", "peak_temperature_K", "K"),
                   ("peak block", "peak_block", ""), ("total s", "total_s", "g")]
    elif task == "predict":
        quantities = [("hotspots", "hotspots", "int"), ("predict time, ms", "predict_s", "ms"),
                      ("hottest predicted, K", "hottest_predicted_K", "K")]
        figures = [_histograms([("hotspots per case", _values(done, "hotspots"), "int"),
                                ("predict time, ms", [1e3 * v for v in _values(done, "predict_s")], "log"),
                                ("hottest predicted, K", _values(done, "hottest_predicted_K"), "linear")],
                               "predict_distributions.png",
                               "Predicted hotspots per case, prediction time and hottest predicted temperature")]
        columns = [("name", "name", ""), ("status", "status", ""), ("hotspots", "hotspots", "int"),
                   ("hottest K", "hottest_predicted_K", "K"), ("block", "peak_block", ""),
                   ("predict ms", "predict_s", "ms")]
    else:
        methods = options.get("methods", [])
        level = f"{100 * SAVINGS_LEVEL:g} %"
        dist.paragraphs.append(
            f"Element saving: elements a uniform mesh needs for {level} max error (of the peak rise) "
            f"divided by the elements the method needs for it; speed-up: the same with end-to-end "
            f"times. Both are interpolated between runs; a case whose runs do not bracket {level} "
            f"has none. A saving marked >= is a lower bound (no uniform run reached {level}).")
        quantities = [q for m in methods for q in ((f"{m} element saving", f"{m}_element_saving", "g"),
                                                   (f"{m} speed-up", f"{m}_speedup", "g"))]
        quantities += [("exact peak temperature, K", "peak_temperature_K", "K"),
                       ("compare time per case, s", "total_s", "g")]
        figures = [
            _boxes([(m, _values(done, f"{m}_element_saving")) for m in methods],
                   f"element saving at {level}", "compare_element_saving.png",
                   f"Element saving against uniform meshes at {level} max error, per method"),
            _boxes([(m, _values(done, f"{m}_speedup")) for m in methods],
                   f"speed-up at {level}", "compare_speedup.png",
                   f"Speed-up against uniform meshes at {level} max error, per method")]
        rows = [{**r, **{f"{m}_cell": _saving_cell(r, m) for m in methods}} for r in rows]
        columns = ([("name", "name", ""), ("status", "status", ""), ("exact peak K", "peak_temperature_K", "K")]
                   + [(f"{m} saving / speed-up", f"{m}_cell", "") for m in methods]
                   + [("time s", "total_s", "g")])
    dist.tables.append(_stats_table(done, quantities))
    dist.figures = [f for f in figures if f is not None]
    if not dist.figures:
        dist.paragraphs.append("No finished case has numbers to plot.")
    shown = rows[:REPORT_ROWS]
    table = Section("Cases", [] if len(rows) <= REPORT_ROWS else
                    [f"The first {REPORT_ROWS} of {len(rows)} cases; summary.csv has them all."],
                    [Table([h for h, _, _ in columns],
                           [[_fmt(r.get(k), kind) for _, k, kind in columns] for r in shown])])
    fail = Section("Failures", [f"{len(failures)} case(s) failed; rerunning the same command "
                                f"retries them." if failures else "No failures."],
                   [Table(["name", "error"], [[r["name"], r["error"]] for r in failures])] if failures else [])
    return [overview, dist, table, fail]
