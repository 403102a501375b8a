"""Brute-force neighbours for :mod:`tinyvision.cluster.knn`: compiled kernels, references beside."""

from __future__ import annotations

import numpy as np

from tinyvision._numba import jit


@jit
def _heap_push(values, indices, value, index):
    """Push onto a fixed-size max-heap of the k smallest values, exactly as scikit-learn's
    ``heap_push`` (a value equal to the current maximum is not taken)."""
    size = values.shape[0]
    if value >= values[0]:
        return
    values[0] = value
    indices[0] = index
    current = 0
    while True:
        left = 2 * current + 1
        right = left + 1
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
        values[current] = values[swap]
        indices[current] = indices[swap]
        current = swap
    values[current] = value
    indices[current] = index


@jit
def k_nearest(train, queries, out_sq_dist, out_index):
    """The k nearest training rows of each query (k = out_index.shape[1]), unsorted.

    Squared distances are summed in feature order with each difference taken in the data's
    dtype, like scikit-learn's ``EuclideanDistance.rdist``; training rows are pushed in index
    order onto a max-heap that keeps the earlier of equidistant rows, which reproduces
    scikit-learn's brute-force neighbour sets, ties included. out_sq_dist (m, k) float64,
    out_index (m, k) int64, in heap order.
    """
    n, d = train.shape
    m = queries.shape[0]
    for q in range(m):
        values = out_sq_dist[q]
        indices = out_index[q]
        values[:] = np.finfo(np.float64).max
        indices[:] = -1
        x = queries[q]
        for j in range(n):
            s = 0.0
            y = train[j]
            for f in range(d):
                t = np.float64(x[f] - y[f])
                s += t * t
            _heap_push(values, indices, s, j)


def _heap_push_reference(values: list[float], indices: list[int], value: float, index: int) -> None:
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


def k_nearest_reference(
    train: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Heap contents (squared distances, indices), (m, k), as :func:`k_nearest`."""
    out_d = np.empty((len(queries), k))
    out_i = np.empty((len(queries), k), dtype=np.int64)
    for q, x in enumerate(queries):
        values = [float(np.finfo(np.float64).max)] * k
        indices = [-1] * k
        for j, y in enumerate(train):
            diff = (x - y).astype(np.float64)
            _heap_push_reference(values, indices, float(sum(t * t for t in diff)), j)
        out_d[q], out_i[q] = values, indices
    return out_d, out_i
