"""Silhouette sums for :mod:`tinyvision.cluster.silhouette`: compiled kernels, references beside.

Sums over points follow ``np.bincount``'s order (point order) where scikit-learn's result
depends on it; squared distances use fused multiply-adds in a fixed order (deterministic).
Small loops are kept in their own functions: LLVM vectorises each (sqrt included), which it
does not do when they are written inline in the bigger kernels.
"""

from __future__ import annotations

import math

import numpy as np

from tinyvision._numba import jit

TILE_ROWS = 32  # rows per tile in the symmetric pass


@jit(fastmath={"contract"})
def _sq_distance_row(x, XT, start, end, row):
    """``row[jj] = ||x - X_(start + jj)||^2`` (b = end - start), vectorised over the points.

    Features are taken four at a time, ``((t0^2 + t1^2) + (t2^2 + t3^2))`` added per group
    (then any remaining features one by one), which saves three quarters of the passes over
    ``row``; the order is fixed, so results are deterministic.
    """
    d = x.shape[0]
    b = row.shape[0]
    for jj in range(b):
        row[jj] = 0.0
    f = 0
    while f + 4 <= d:
        x0, x1, x2, x3 = x[f], x[f + 1], x[f + 2], x[f + 3]
        s0 = XT[f, start:end]
        s1 = XT[f + 1, start:end]
        s2 = XT[f + 2, start:end]
        s3 = XT[f + 3, start:end]
        for jj in range(b):
            t0 = s0[jj] - x0
            t1 = s1[jj] - x1
            t2 = s2[jj] - x2
            t3 = s3[jj] - x3
            row[jj] += (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
        f += 4
    while f < d:
        xf = x[f]
        src = XT[f, start:end]
        for jj in range(b):
            t = src[jj] - xf
            row[jj] += t * t
        f += 1


@jit(fastmath={"contract"})
def _sq_distance_rows2(xa, xb, XT, start, end, ra, rb):
    """:func:`_sq_distance_row` for two points at once (each column read once for both);
    every value is computed exactly as :func:`_sq_distance_row` computes it."""
    d = xa.shape[0]
    b = ra.shape[0]
    for jj in range(b):
        ra[jj] = 0.0
        rb[jj] = 0.0
    f = 0
    while f + 4 <= d:
        a0, a1, a2, a3 = xa[f], xa[f + 1], xa[f + 2], xa[f + 3]
        b0, b1, b2, b3 = xb[f], xb[f + 1], xb[f + 2], xb[f + 3]
        s0 = XT[f, start:end]
        s1 = XT[f + 1, start:end]
        s2 = XT[f + 2, start:end]
        s3 = XT[f + 3, start:end]
        for jj in range(b):
            u0, u1, u2, u3 = s0[jj], s1[jj], s2[jj], s3[jj]
            t0 = u0 - a0
            t1 = u1 - a1
            t2 = u2 - a2
            t3 = u3 - a3
            ra[jj] += (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
            t0 = u0 - b0
            t1 = u1 - b1
            t2 = u2 - b2
            t3 = u3 - b3
            rb[jj] += (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
        f += 4
    while f < d:
        af = xa[f]
        bf = xb[f]
        src = XT[f, start:end]
        for jj in range(b):
            t = src[jj] - af
            ra[jj] += t * t
            t = src[jj] - bf
            rb[jj] += t * t
        f += 1


@jit
def _sqrt_inplace(row):
    for jj in range(row.shape[0]):
        row[jj] = math.sqrt(row[jj])


@jit
def _add_into(target, row):
    for jj in range(row.shape[0]):
        target[jj] += row[jj]


@jit(fastmath={"reassoc", "nsz"})
def _total(values):
    s = 0.0
    for jj in range(values.shape[0]):
        s += values[jj]
    return s


@jit
def cluster_distance_sums(X, XT, codes, col_start, col_end, out):
    """Per-cluster sums of Euclidean distances for a block of columns.

    X (n, d) and XT (d, n) hold the same points; ``codes`` (m, n) holds m labelings whose
    cluster ids are already offset into the rows of ``out`` (total_clusters, b), where
    b = col_end - col_start. On return ``out[c, jj]`` is the sum over points i with code c
    of ``||X_i - X_(col_start + jj)||``, added in point order (as ``np.bincount`` adds).
    One distance row is computed per point (two points at a time) and shared by all m
    labelings.
    """
    n = X.shape[0]
    m = codes.shape[0]
    b = col_end - col_start
    ra = np.empty(b)
    rb = np.empty(b)
    i = 0
    while i < n:
        pair = i + 1 < n
        if pair:
            _sq_distance_rows2(X[i], X[i + 1], XT, col_start, col_end, ra, rb)
            _sqrt_inplace(rb)
        else:
            _sq_distance_row(X[i], XT, col_start, col_end, ra)
        _sqrt_inplace(ra)
        for q in range(m):
            _add_into(out[codes[q, i]], ra)
        if pair:
            for q in range(m):
                _add_into(out[codes[q, i + 1]], rb)
        i += 2 if pair else 1


@jit
def cluster_distance_sums_sorted(X, XT, codes, bounds, out):
    """Per-cluster sums of Euclidean distances for points sorted by cluster, using symmetry.

    ``codes`` (n,) is non-decreasing, cluster c holding points ``bounds[c]:bounds[c + 1]``.
    On return ``out[c, j]`` (k, n) is the sum of ``||X_i - X_j||`` over points i of cluster
    c. Each distance is computed once (pairs i < j), in tiles of ``TILE_ROWS`` rows by
    ``tile_cols`` columns so a tile of XT stays in cache, two rows at a time; the part of a
    sum from points i < j is added in point order, the part from i > j tile by tile, one
    re-associated sum per cluster and tile.
    """
    n, d = X.shape
    tile_cols = max(128, min(2048, 32768 // d))
    ra = np.empty(tile_cols)
    rb = np.empty(tile_cols)
    for i0 in range(0, n, TILE_ROWS):
        i1 = min(i0 + TILE_ROWS, n)
        for j0 in range(i0 + 1, n, tile_cols):
            j1 = min(j0 + tile_cols, n)
            i = i0
            while i < i1:
                js = max(j0, i + 1)
                if js >= j1:
                    break  # later rows of the tile start even further right
                # Rows i and i + 1 over columns js..j1-1; for row i + 1 that may include
                # itself (distance 0, which adds nothing).
                pair = i + 1 < i1
                part_a = ra[: j1 - js]
                part_b = rb[: j1 - js]
                if pair:
                    _sq_distance_rows2(X[i], X[i + 1], XT, js, j1, part_a, part_b)
                else:
                    _sq_distance_row(X[i], XT, js, j1, part_a)
                _fold_row(i, js, j1, part_a, codes, bounds, out)
                if pair:
                    _fold_row(i + 1, js, j1, part_b, codes, bounds, out)
                i += 2 if pair else 1


@jit
def _fold_row(i, js, j1, part, codes, bounds, out):
    """Add the distances from point i to points js..j1-1 (squared in ``part``) to the sums:
    to each point j's sum for i's cluster, and to i's sum for each cluster of the js."""
    _sqrt_inplace(part)
    _add_into(out[codes[i], js:j1], part)
    for c in range(codes[js], codes[j1 - 1] + 1):
        lo = max(bounds[c], js)
        hi = min(bounds[c + 1], j1)
        if lo < hi:
            out[c, i] += _total(part[lo - js : hi - js])


def cluster_distance_sums_reference(
    X: np.ndarray, codes: np.ndarray, n_clusters: int
) -> np.ndarray:
    """``sums[c, j]``: summed distance from point j to the points of cluster c, (k, n)."""
    n = X.shape[0]
    sums = np.zeros((n_clusters, n))
    for j in range(n):
        dist = np.sqrt(((X - X[j]) ** 2).sum(axis=1))
        sums[:, j] = np.bincount(codes, weights=dist, minlength=n_clusters)
    return sums


def silhouette_samples_reference(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
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
