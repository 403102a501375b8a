"""Figures for clustering: choosing K (elbow and silhouette) and labelled 2-D points.

Built without ``pyplot`` like :mod:`tinyvision.report.plots`; write them with
:func:`tinyvision.report.plots.save_png`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def choose_k_figure(
    k_values: Sequence[int],
    inertia: Sequence[float],
    silhouette: Sequence[float],
    best_k: int,
) -> Figure:
    """Two panels over K: inertia (the elbow) and mean silhouette, the chosen K marked."""
    fig = Figure(figsize=(10.0, 4.0))
    left, right = fig.subplots(1, 2)
    left.plot(k_values, inertia, marker="o")
    left.set_title("Elbow: k-means inertia")
    left.set_ylabel("inertia (sum of squared distances)")
    right.plot(k_values, silhouette, marker="o", color="tab:green")
    right.set_title("Mean silhouette (higher is better)")
    right.set_ylabel("silhouette")
    for ax in (left, right):
        ax.axvline(
            best_k, color="tab:red", linestyle="--", linewidth=1, label=f"chosen K = {best_k}"
        )
        ax.set_xlabel("K (number of clusters)")
        ax.set_xticks(list(k_values))
        ax.grid(alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def clusters_figure(
    points: np.ndarray,
    labels: np.ndarray,
    centers: np.ndarray | None = None,
    *,
    title: str = "Clusters",
    xlabel: str = "x",
    ylabel: str = "y",
) -> Figure:
    """Scatter of ``[n, 2]`` points coloured by label, with optional ``[k, 2]`` centres."""
    fig = Figure(figsize=(6.0, 5.0))
    ax = fig.add_subplot()
    size = 12 if len(points) <= 5000 else 3
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=size, alpha=0.8, linewidths=0)
    if centers is not None:
        ax.scatter(
            centers[:, 0],
            centers[:, 1],
            marker="X",
            s=120,
            c="black",
            edgecolors="white",
            label="centres",
        )
        ax.legend(fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return fig
