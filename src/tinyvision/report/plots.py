"""Figures shared by the classification and detection reports.

Each function returns a :class:`matplotlib.figure.Figure` built without ``pyplot`` (no global
state, no display needed); :func:`save_png` writes one atomically and :func:`png_bytes` gives
the bytes for embedding in an :class:`~tinyvision.report.html.HtmlReport`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from tinyvision._fileio import atomic_write_bytes

Curve = tuple[Sequence[float], Sequence[float], str]


def png_bytes(fig: Figure, *, dpi: int = 110) -> bytes:
    """Render ``fig`` to PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def save_png(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` as PNG, atomically, and return the path."""
    atomic_write_bytes(path, png_bytes(fig, dpi=dpi))
    return Path(path)


def confusion_matrix_figure(
    matrix: np.ndarray,
    labels: Sequence[str],
    *,
    normalize: bool = True,
    title: str = "Confusion matrix",
    xlabel: str = "predicted",
    ylabel: str = "true",
) -> Figure:
    """Heat map of a ``[K, K]`` confusion matrix (rows true, columns predicted).

    With ``normalize`` each row is divided by its sum (rows summing to 0 stay 0), and the
    cells show fractions; the raw counts are printed in cells when K <= 20.
    """
    counts = np.asarray(matrix, dtype=np.float64)
    shown = counts
    if normalize:
        sums = counts.sum(axis=1, keepdims=True)
        shown = np.divide(counts, sums, out=np.zeros_like(counts), where=sums > 0)
    k = counts.shape[0]
    size = min(3.0 + 0.45 * k, 14.0)
    fig = Figure(figsize=(size + 1.2, size))
    ax = fig.add_subplot()
    image = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else None)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), [str(x) for x in labels], rotation=45, ha="right")
    ax.set_yticks(range(k), [str(x) for x in labels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if k <= 20:
        top = shown.max() if shown.size else 0.0
        for i in range(k):
            for j in range(k):
                value = counts[i, j]
                if value == 0:
                    continue
                text = f"{value:g}" if not normalize else f"{shown[i, j]:.2f}\n({value:g})"
                color = "white" if shown[i, j] > 0.6 * top else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
    return fig


def curves_figure(
    curves: Sequence[Curve],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    diagonal: bool = False,
    legend_limit: int = 12,
) -> Figure:
    """Line plot of several ``(x, y, label)`` curves on [0, 1] x [0, 1].

    ``diagonal`` draws the chance line (for ROC curves). Beyond ``legend_limit`` curves the
    legend is left out and curves are drawn thin.
    """
    fig = Figure(figsize=(6.0, 5.0))
    ax = fig.add_subplot()
    many = len(curves) > legend_limit
    for x, y, label in curves:
        ax.plot(x, y, label=label, linewidth=0.8 if many else 1.6)
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if curves and not many:
        ax.legend(fontsize=7, loc="best")
    return fig


def bars_figure(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    ylabel: str = "",
    ylim: tuple[float, float] | None = (0.0, 1.0),
) -> Figure:
    """Grouped bar chart: one group per category, one bar per series."""
    n_series = max(len(series), 1)
    width = 0.8 / n_series
    x = np.arange(len(categories))
    fig = Figure(figsize=(max(6.0, 0.5 * len(categories) * n_series + 2.0), 4.0))
    ax = fig.add_subplot()
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + (i - (n_series - 1) / 2) * width, values, width=width, label=name)
    ax.set_xticks(x, [str(c) for c in categories], rotation=45 if len(categories) > 8 else 0)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return fig
