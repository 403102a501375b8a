"""A self-contained HTML report: headings, paragraphs, tables and embedded PNG images.

The same layout serves every report tinyvision writes (classifier evaluation, detection
evaluation, training runs)::

    report = HtmlReport("Classifier evaluation", subtitle="digits, fast recipe")
    report.add_metrics({"accuracy": 0.991, "macro F1": 0.990})
    report.add_section("Per class")
    report.add_table(["class", "precision", "recall"], rows)
    report.add_image("confusion.png", caption="Confusion matrix")
    report.write("runs/x/report.html")
"""

from __future__ import annotations

import base64
import html
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tinyvision._fileio import atomic_write_text

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.sub{color:#666;margin-top:0}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.card .v{font-size:1.5rem;font-weight:600}.card .k{color:#666;font-size:.85rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:.5rem 1rem .5rem 0;vertical-align:top}
figure img{max-width:520px;border:1px solid #eee}figcaption{color:#555;font-size:.85rem}
pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;font-size:.85rem}
footer{margin-top:3rem;color:#888;font-size:.8rem}
"""


def _format_cell(value: Any, digits: int) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        return "-" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


class HtmlReport:
    """Build a one-file HTML report; images are embedded, so the page needs nothing else."""

    def __init__(self, title: str, *, subtitle: str | None = None) -> None:
        self.title = title
        self.subtitle = subtitle
        self._parts: list[str] = []

    def add_section(self, heading: str) -> None:
        """Start a new section with an ``<h2>`` heading."""
        self._parts.append(f"<h2>{html.escape(heading)}</h2>")

    def add_text(self, text: str) -> None:
        """Add a paragraph of plain text (escaped)."""
        self._parts.append(f"<p>{html.escape(text)}</p>")

    def add_pre(self, text: str) -> None:
        """Add preformatted text, e.g. a printed summary table."""
        self._parts.append(f"<pre>{html.escape(text)}</pre>")

    def add_metrics(self, metrics: Mapping[str, Any], *, digits: int = 4) -> None:
        """Add a row of headline numbers shown as cards."""
        cards = "".join(
            f'<div class="card"><div class="v">{html.escape(_format_cell(v, digits))}</div>'
            f'<div class="k">{html.escape(str(k))}</div></div>'
            for k, v in metrics.items()
        )
        self._parts.append(f'<div class="cards">{cards}</div>')

    def add_table(
        self, header: Sequence[str], rows: Sequence[Sequence[Any]], *, digits: int = 4
    ) -> None:
        """Add a table; floats are shown with ``digits`` decimals and NaN as ``-``."""
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(_format_cell(c, digits))}</td>" for c in row)
            + "</tr>"
            for row in rows
        )
        self._parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def add_image(self, png: str | os.PathLike[str] | bytes, *, caption: str = "") -> None:
        """Embed a PNG (or JPEG) given as a path or as bytes, with an optional caption."""
        data = png if isinstance(png, bytes) else Path(png).read_bytes()
        mime = "image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png"
        encoded = base64.b64encode(data).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(
            f'<figure><img alt="{html.escape(caption)}" '
            f'src="data:{mime};base64,{encoded}">{cap}</figure>'
        )

    def render(self) -> str:
        """Return the whole page as a string."""
        from tinyvision import __version__

        sub = f'<p class="sub">{html.escape(self.subtitle)}</p>' if self.subtitle else ""
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>{sub}"
            + "\n".join(self._parts)
            + f"<footer>tinyvision {__version__} · {stamp}</footer></body></html>\n"
        )

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page atomically to ``path`` and return the path."""
        atomic_write_text(path, self.render())
        return Path(path)
