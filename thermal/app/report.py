"""Reports as a self-contained HTML page and as Markdown, from the same sections.

A report is a title and a list of :class:`Section` (heading, paragraphs, tables, figures).
:func:`write_report` writes ``report.html`` (figures embedded as base64 PNG, no external
resources: it opens offline in any browser), ``report.md`` (figures as PNG files in
``figures/`` beside it) and the PNGs themselves, into a directory the caller has staged.
"""
from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Table", "Figure", "Section", "figure_png", "write_report", "render_html", "render_markdown"]


@dataclass
class Table:
    """Column names and rows of already formatted cells (strings)."""

    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Figure:
    """A PNG image; ``name`` is its file name under ``figures/`` (e.g. ``"error_vs_time.png"``)."""

    name: str
    png: bytes
    caption: str = ""


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def figure_png(fig, dpi: int = 110) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
caption { caption-side: top; text-align: left; font-style: italic; padding: 0.3em 0; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figure img { max-width: 100%; } figcaption { font-size: 0.9em; color: #555; }
"""


def render_html(title: str, sections: list[Section]) -> str:
    """The report as one HTML document with every figure embedded."""
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{esc(title)}</h1>"]
    for section in sections:
        parts.append(f"<h2>{esc(section.heading)}</h2>")
        parts += [f"<p>{esc(text)}</p>" for text in section.paragraphs]
        for table in section.tables:
            parts.append("<table>")
            if table.caption:
                parts.append(f"<caption>{esc(table.caption)}</caption>")
            parts.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in table.header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>"
                      for row in table.rows]
            parts.append("</table>")
        for figure in section.figures:
            data = base64.b64encode(figure.png).decode("ascii")
            parts.append(f'<figure><img src="data:image/png;base64,{data}" alt="{esc(figure.caption or figure.name)}">'
                         f"<figcaption>{esc(figure.caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_markdown(title: str, sections: list[Section]) -> str:
    """The report as Markdown; figures are linked as ``figures/NAME``."""
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [f"## {section.heading}", ""]
        for text in section.paragraphs:
            lines += [text, ""]
        for table in section.tables:
            if table.caption:
                lines += [f"*{table.caption}*", ""]
            lines.append("| " + " | ".join(table.header) + " |")
            lines.append("|" + "|".join("---" for _ in table.header) + "|")
            lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in table.rows]
            lines.append("")
        for figure in section.figures:
            lines += [f"![{figure.caption or figure.name}](figures/{figure.name})", ""]
    return "\n".join(lines)


def write_report(directory: str | Path, title: str, sections: list[Section]) -> list[Path]:
    """Write ``report.html``, ``report.md`` and ``figures/*.png`` into ``directory``.

    The directory should be a staging one (:func:`thermal.app.output.staged`) so that a failure
    leaves no partial report.
    """
    directory = Path(directory)
    written = []
    figures = [f for s in sections for f in s.figures]
    if figures:
        (directory / "figures").mkdir(parents=True, exist_ok=True)
    for figure in figures:
        path = directory / "figures" / figure.name
        path.write_bytes(figure.png)
        written.append(path)
    for name, text in (("report.html", render_html(title, sections)),
                       ("report.md", render_markdown(title, sections))):
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
