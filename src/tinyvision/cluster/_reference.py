"""Plain numpy / Python versions of the compiled kernels in :mod:`tinyvision.cluster._kernels`.

They are slow and simple on purpose: the tests compare every kernel with its twin here.
"""

from __future__ import annotations

import numpy as np


def lloyd_assign(X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels (first nearest centre), per-cluster sums and counts, for ``X`` (n, d)."""
    k, d = centers.shape
    surrogate = (centers**2).sum(axis=1)[None, :] - 2.0 * (X @ centers.T)
    labels = np.argmin(surrogate, axis=1).astype(np.int32)
    sums = np.zeros((k, d))
    np.add.at(sums, labels, X)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    return labels, sums, counts


def candidate_potentials(
    X: np.ndarray, closest: np.ndarray, candidate_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(pots (m,), mins (m, n))``: the potential if each candidate row were a centre."""
    dist = ((X[None, :, :] - candidate_rows[:, None, :]) ** 2).sum(axis=2)
    mins = np.minimum(dist, closest[None, :])
    return mins.sum(axis=1), mins


def cluster_distance_sums(X: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """``sums[c, j]``: summed distance from point j to the points of cluster c, (k, n)."""
    n = X.shape[0]
    sums = np.zeros((n_clusters, n))
    for j in range(n):
        dist = np.sqrt(((X - X[j]) ** 2).sum(axis=1))
        sums[:, j] = np.bincount(codes, weights=dist, minlength=n_clusters)
    return sums


def silhouette_samples(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Textbook silhouettes: (b - a) / max(a, b), 0 for a point alone in its cluster."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    dist = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    out = np.zeros(n)
    for i in range(n):
        own = labels == labels[i]
        if own.sum() == 1:
            continue
        a = dist[i, own].sum() / (own.sum() - 1)
        b = min(dist[i, labels == c].mean() for c in np.unique(labels) if c != labels[i])
        out[i] = (b - a) / max(a, b) if max(a, b) > 0 else 0.0
    return out


def _heap_push(values: list[float], indices: list[int], value: float, index: int) -> None:
    """scikit-learn's fixed-size max-heap push, line by line in Python."""
    size = len(values)
    if value >= values[0]:
        return
    current = 0
    while True:
        left, right = 2 * current + 1, 2 * current + 2
        if left >= size:
            break
        if right >= size:
            if values[left] > value:
                swap = left
            else:
                break
        elif values[left] >= values[right]:
            if value < values[left]:
                swap = left
            else:
                break
        elif value < values[right]:
            swap = right
        else:
            break
        values[current], indices[current] = values[swap], indices[swap]
        current = swap
    values[current], indices[current] = value, index


def k_nearest(train: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Heap contents (squared distances, indices), (m, k), as :func:`_kernels.k_nearest`."""
    out_d = np.empty((len(queries), k))
    out_i = np.empty((len(queries), k), dtype=np.int64)
    for q, x in enumerate(queries):
        values = [float(np.finfo(np.float64).max)] * k
        indices = [-1] * k
        for j, y in enumerate(train):
            diff = (x - y).astype(np.float64)
            _heap_push(values, indices, float(sum(t * t for t in diff)), j)
        out_d[q], out_i[q] = values, indices
    return out_d, out_i


def best_ratios(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """YOLOv5's metric: per label, max over anchors of min(r, 1/r) over width and height."""
    r = wh[:, None, :] / anchors[None, :, :]
    return np.minimum(r, 1.0 / r).min(axis=2).max(axis=1)
