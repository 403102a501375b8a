"""Lloyd's algorithm for :mod:`tinyvision.cluster.kmeans`: compiled kernels, the reference beside.

The kernels run single-threaded and deterministically. Floating point order:

- where scikit-learn's result depends on a sequential order, the same order is kept and
  ``fastmath`` is off: centre sums and counts (sample order), inertia and centre shifts
  (scikit-learn's sums of four);
- where scikit-learn calls BLAS (dot products of points and centres), whose summation order
  is the library's own, the kernels are free to choose theirs: fused multiply-adds
  (``contract``) everywhere, and, for 8 or more features, sums vectorised along the features
  (``reassoc``). Such sums are still fixed for a given build and CPU.

Arithmetic stays in the input's floating dtype (float32 or float64) where scikit-learn's
Cython does the same, so float32 input behaves like scikit-learn's float32 path. A typed zero
is written ``x - x`` (inputs are validated finite) so that numba keeps float32 accumulators
in float32.
"""

from __future__ import annotations

import math

import numpy as np

from tinyvision._numba import jit

# Flags for the small dot-product kernels only (see "dot products" below).
_DOT = {"contract", "reassoc", "nsz"}

SMALL_D = 8  # below this many features the assignment vectorises over points instead
BLOCK = 256  # points per block in the small-d assignment


# ----------------------------------------------------------------------------- distances


@jit
def sq_euclidean_unrolled(a, b):
    """Squared distance of two rows, summed in groups of four like scikit-learn's
    ``_euclidean_dense_dense`` (``((t0 + t1) + t2) + t3`` added per group), so inertia and
    centre shifts round exactly as there."""
    d = a.shape[0]
    result = a[0] - a[0]  # a typed zero (d >= 1)
    n4 = d // 4
    for q in range(n4):
        f = 4 * q
        t0 = a[f] - b[f]
        t1 = a[f + 1] - b[f + 1]
        t2 = a[f + 2] - b[f + 2]
        t3 = a[f + 3] - b[f + 3]
        result += t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3
    for f in range(4 * n4, d):
        t = a[f] - b[f]
        result += t * t
    return result


@jit
def count_distinct_rows_upto(X, limit):
    """Number of distinct rows of ``X``, counting no further than ``limit``.

    O(n * limit * d) in the worst case, but it stops as soon as ``limit`` distinct rows are
    seen (usually within the first few rows).
    """
    n, d = X.shape
    found = np.empty(min(limit, n), dtype=np.int64)
    n_found = 0
    for i in range(n):
        if n_found >= limit:
            break
        new = True
        for q in range(n_found):
            r = found[q]
            same = True
            for f in range(d):
                if X[i, f] != X[r, f]:
                    same = False
                    break
            if same:
                new = False
                break
        if new:
            found[n_found] = i
            n_found += 1
    return n_found


# ----------------------------------------------------------------------------- dot products
# Register-blocked dot products: one pass over the features computes 2 x 4 (or 1 x 4) dot
# products, vectorised over the features (``_DOT`` allows re-association and fused
# multiply-add inside these sums only). The summation order is fixed for a given number of
# features, like the BLAS kernels scikit-learn calls, so results are deterministic.


@jit(fastmath=_DOT)
def _dot(a, b):
    s = a[0] - a[0]  # a typed zero
    for f in range(a.shape[0]):
        s += a[f] * b[f]
    return s


@jit(fastmath=_DOT)
def _dots_2x4(x0, x1, c0, c1, c2, c3, out):
    z = x0[0] - x0[0]
    a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = z
    for f in range(x0.shape[0]):
        u = x0[f]
        v = x1[f]
        a00 += u * c0[f]
        a01 += u * c1[f]
        a02 += u * c2[f]
        a03 += u * c3[f]
        a10 += v * c0[f]
        a11 += v * c1[f]
        a12 += v * c2[f]
        a13 += v * c3[f]
    out[0, 0] = a00
    out[0, 1] = a01
    out[0, 2] = a02
    out[0, 3] = a03
    out[1, 0] = a10
    out[1, 1] = a11
    out[1, 2] = a12
    out[1, 3] = a13


@jit(fastmath=_DOT)
def _dots_1x4(x0, c0, c1, c2, c3, out):
    z = x0[0] - x0[0]
    a00 = a01 = a02 = a03 = z
    for f in range(x0.shape[0]):
        u = x0[f]
        a00 += u * c0[f]
        a01 += u * c1[f]
        a02 += u * c2[f]
        a03 += u * c3[f]
    out[0, 0] = a00
    out[0, 1] = a01
    out[0, 2] = a02
    out[0, 3] = a03


@jit
def _point_dots(X, i, rows, centers, dots, tile):
    """``dots[r, j] = X[i + r] . centers[j]`` for r < rows (1 or 2), all centres j."""
    k = centers.shape[0]
    j = 0
    while j + 4 <= k:
        if rows == 2:
            _dots_2x4(
                X[i], X[i + 1], centers[j], centers[j + 1], centers[j + 2], centers[j + 3], tile
            )
        else:
            _dots_1x4(X[i], centers[j], centers[j + 1], centers[j + 2], centers[j + 3], tile)
        for r in range(rows):
            for q in range(4):
                dots[r, j + q] = tile[r, q]
        j += 4
    while j < k:
        for r in range(rows):
            dots[r, j] = _dot(X[i + r], centers[j])
        j += 1


# ----------------------------------------------------------------------------- Lloyd


def needs_transpose(n_features: int) -> bool:
    """True if :func:`lloyd_assign` wants ``X.T`` (C-contiguous) for this many features."""
    return n_features < SMALL_D


@jit
def lloyd_assign(X, XT, centers, labels, centers_sum, counts, update_centers):
    """One E-step (and, if ``update_centers``, the sums of the M-step) of Lloyd's algorithm.

    X (n, d), centers (k, d); XT (d, n) is ``X.T`` C-contiguous when ``d < SMALL_D`` (any
    array otherwise). The label of a point is the first ``j`` minimising
    ``||c_j||^2 - 2 x.c_j`` (the rank-preserving part of the squared distance, the quantity
    scikit-learn compares). When ``update_centers``, ``centers_sum`` (k, d) and ``counts``
    (k,) receive the per-cluster sums of the points, added in sample order.
    """
    n, d = X.shape
    k = centers.shape[0]
    if update_centers:
        centers_sum[:] = 0
        counts[:] = 0
    if d < SMALL_D:
        _assign_small_d(XT, centers, labels, centers_sum, counts, update_centers)
        return
    cnorm = np.empty(k, dtype=centers.dtype)
    for j in range(k):
        cnorm[j] = _dot(centers[j], centers[j])
    dots = np.empty((2, k), dtype=centers.dtype)
    tile = np.empty((2, 4), dtype=centers.dtype)
    i = 0
    while i < n:
        rows = 2 if i + 1 < n else 1
        _point_dots(X, i, rows, centers, dots, tile)
        for r in range(rows):
            best = cnorm[0] - (dots[r, 0] + dots[r, 0])
            label = 0
            for j in range(1, k):
                value = cnorm[j] - (dots[r, j] + dots[r, j])
                if value < best:
                    best = value
                    label = j
            labels[i + r] = label
            if update_centers:
                counts[label] += 1
                for f in range(d):
                    centers_sum[label, f] += X[i + r, f]
        i += rows


@jit(fastmath={"contract"})
def _centre_into_block(XT, centers, cnorm, j, start, b, partial, best, block_labels):
    """Compare centre ``j`` with one block of points (b <= BLOCK), vectorised over points.

    ``value = ||c_j||^2 - 2 x.c_j`` with ``x.c_j`` summed in feature order (fused
    multiply-adds; the partial sums of all but the last feature pass through ``partial``);
    a point takes ``j`` if its value is lower than ``best`` (always for ``j == 0``).
    """
    d = XT.shape[0]
    last = d - 1
    cj = cnorm[j]
    first = j == 0
    if last > 0:
        c = centers[j, 0]
        r = XT[0, start : start + b]
        for ii in range(b):
            partial[ii] = r[ii] * c
        for f in range(1, last):
            c = centers[j, f]
            r = XT[f, start : start + b]
            for ii in range(b):
                partial[ii] += r[ii] * c
    c = centers[j, last]
    r = XT[last, start : start + b]
    for ii in range(b):
        v = r[ii] * c
        if last > 0:
            v += partial[ii]
        value = cj - (v + v)
        lower = first or value < best[ii]
        best[ii] = value if lower else best[ii]
        block_labels[ii] = j if lower else block_labels[ii]


@jit
def _add_block_to_sums(XT, start, b, block_labels, centers_sum, counts):
    """Add the points of one block to their clusters' sums and counts, in sample order."""
    d = XT.shape[0]
    if d == 2:  # the common case, with both feature rows hoisted (twice as fast)
        x0 = XT[0, start : start + b]
        x1 = XT[1, start : start + b]
        for ii in range(b):
            label = block_labels[ii]
            counts[label] += 1
            centers_sum[label, 0] += x0[ii]
            centers_sum[label, 1] += x1[ii]
        return
    for ii in range(b):
        label = block_labels[ii]
        counts[label] += 1
        for f in range(d):
            centers_sum[label, f] += XT[f, start + ii]


@jit(fastmath={"contract"})
def _assign_small_d(XT, centers, labels, centers_sum, counts, update_centers):
    """:func:`lloyd_assign` for few features: blocks of points, each centre compared with a
    whole block at a time (loops over points innermost, branch-free argmin)."""
    d, n = XT.shape
    k = centers.shape[0]
    zero = centers[0, 0] - centers[0, 0]  # a typed zero
    cnorm = np.empty(k, dtype=centers.dtype)
    for j in range(k):
        s = zero
        for f in range(d):
            s += centers[j, f] * centers[j, f]
        cnorm[j] = s
    partial = np.empty(BLOCK, dtype=centers.dtype)
    best = np.empty(BLOCK, dtype=centers.dtype)
    block_labels = np.empty(BLOCK, dtype=np.int32)
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        for j in range(k):
            _centre_into_block(XT, centers, cnorm, j, start, b, partial, best, block_labels)
        labels[start : start + b] = block_labels[:b]
        if update_centers:
            _add_block_to_sums(XT, start, b, block_labels, centers_sum, counts)


# ----------------------------------------------------------------------------- bounds
# Many features: after the first iteration most points provably keep their label. Each point
# carries an upper bound on its (true) distance to its centre and a lower bound on its
# distance to every other centre (Hamerly, 2010), moved by the centres' shifts. A point is
# skipped only when the bounds leave a gap wider than twice the rounding error of the
# compared values ``||c||^2 - 2 x.c`` (``GAP`` * eps * (||x||^2 + max ||c||^2)), so every
# label is the one the full comparison gives.

GAP = 4.0  # safety factor on the rounding-error estimate (d + 4) * eps * (...)
ROWS = 256  # points gathered per batch of full comparisons


@jit
def lloyd_assign_bounded(X, centers, labels, centers_sum, counts, bounds, shift, eps, fresh):
    """:func:`lloyd_assign` (many features, with the M-step sums) skipping settled points.

    ``bounds`` (3, n) float64 holds ``||x||^2``, the upper and the lower bound of each point;
    ``fresh`` computes every point (first iteration: ``labels`` and bounds are then set),
    otherwise the bounds are first moved by ``shift`` (k,), the centres' moves since the
    last call. ``eps`` is the machine epsilon of X's dtype. Returns how many points were
    compared with every centre.
    """
    n, d = X.shape
    k = centers.shape[0]
    centers_sum[:] = 0
    counts[:] = 0
    cnorm = np.empty(k, dtype=centers.dtype)
    for j in range(k):
        cnorm[j] = _dot(centers[j], centers[j])
    gamma = (d + 4) * eps
    cmax = np.float64(cnorm.max())
    todo = np.empty(n, dtype=np.int64)
    count = 0
    if fresh:
        for i in range(n):
            bounds[0, i] = _dot(X[i], X[i])
            todo[i] = i
        count = n
    else:
        count = _move_bounds(X, labels, bounds, shift, gamma, cmax, todo)
    _compare_rows(X, centers, cnorm, labels, bounds, todo[:count], gamma, cmax)
    for i in range(n):
        label = labels[i]
        counts[label] += 1
        _add_row(centers_sum[label], X[i])
    return count


@jit
def _add_row(target, row):
    for f in range(row.shape[0]):
        target[f] += row[f]


@jit
def _move_bounds(X, labels, bounds, shift, gamma, cmax, todo):
    """Move the bounds by the centres' shifts (rounded outwards) and list, in ``todo``, the
    points whose gap no longer proves their label; returns how many."""
    n = X.shape[0]
    up = 1.0 + 4.0 * gamma
    largest = 0.0
    for j in range(shift.shape[0]):
        largest = max(largest, np.float64(shift[j]) * up)
    count = 0
    for i in range(n):
        upper = (bounds[1, i] + np.float64(shift[labels[i]]) * up) * (1.0 + 1e-15)
        lower = (bounds[2, i] - largest) * (1.0 - 1e-15)
        bounds[1, i] = upper
        bounds[2, i] = lower
        gap = lower * lower - upper * upper if lower > upper else -1.0
        settled = gap > 2.0 * GAP * gamma * (bounds[0, i] + cmax)
        todo[count] = i
        count += 0 if settled else 1
    return count


@jit
def _compare_rows(X, centers, cnorm, labels, bounds, todo, gamma, cmax):
    """Full comparison for the listed points (in batches gathered two rows at a time, as
    :func:`lloyd_assign` compares them): labels, and bounds from the compared values."""
    k, d = centers.shape
    m = todo.shape[0]
    rows = np.empty((ROWS, d), dtype=X.dtype)
    dots = np.empty((2, k), dtype=centers.dtype)
    tile = np.empty((2, 4), dtype=centers.dtype)
    for start in range(0, m, ROWS):
        b = min(ROWS, m - start)
        for r in range(b):
            rows[r] = X[todo[start + r]]
        i = 0
        while i < b:
            pair = 2 if i + 1 < b else 1
            _point_dots(rows, i, pair, centers, dots, tile)
            for r in range(pair):
                point = todo[start + i + r]
                _label_and_bounds(point, dots[r], cnorm, labels, bounds, gamma, cmax)
            i += pair


@jit
def _label_and_bounds(point, dots, cnorm, labels, bounds, gamma, cmax):
    k = cnorm.shape[0]
    best = cnorm[0] - (dots[0] + dots[0])
    label = 0
    second = np.inf
    for j in range(1, k):
        value = cnorm[j] - (dots[j] + dots[j])
        if value < best:
            second = min(second, np.float64(best))
            best = value
            label = j
        else:
            second = min(second, np.float64(value))
    labels[point] = label
    xn = bounds[0, point]
    err = GAP * gamma * (xn + cmax)
    bounds[1, point] = math.sqrt(max(xn + np.float64(best) + err, 0.0)) * (1.0 + 1e-15)
    bounds[2, point] = math.sqrt(max(xn + second - err, 0.0)) * (1.0 - 1e-15)


@jit
def average_centers(centers, counts):
    """Divide the summed centres by their counts in place (multiplying by the rounded
    reciprocal, as scikit-learn does); a cluster with no point takes the centre of the
    largest cluster."""
    k, d = centers.shape
    alpha = np.empty(1, dtype=centers.dtype)
    biggest = np.argmax(counts)
    for j in range(k):
        if counts[j] > 0:
            alpha[0] = 1.0 / counts[j]
            for f in range(d):
                centers[j, f] *= alpha[0]
    for j in range(k):
        if counts[j] <= 0:
            for f in range(d):
                centers[j, f] = centers[biggest, f]


@jit
def center_shifts(old, new, out):
    """``out[j] = ||new_j - old_j||`` (k,)."""
    for j in range(old.shape[0]):
        out[j] = math.sqrt(sq_euclidean_unrolled(new[j], old[j]))


@jit
def inertia(X, XT, centers, labels):
    """Sum over points of the squared distance to their centre, in sample order.

    Each squared distance is :func:`sq_euclidean_unrolled`'s; with ``XT`` = ``X.T`` (few
    features, see :func:`needs_transpose`) they are computed a block of points at a time.
    """
    total = centers[0, 0] - centers[0, 0]
    n, d = X.shape
    if XT.shape[0] != d or XT.shape[1] != n or n == 0:
        for i in range(n):
            total += sq_euclidean_unrolled(X[i], centers[labels[i]])
        return total
    block = np.empty(BLOCK, dtype=centers.dtype)
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        _block_sq_distances(XT, centers, labels, start, b, block)
        for ii in range(b):
            total += block[ii]
    return total


@jit
def _block_sq_distances(XT, centers, labels, start, b, out):
    """``out[ii] = ||X_i - centers[labels[i]]||^2`` for i = start + ii, rounded exactly as
    :func:`sq_euclidean_unrolled` rounds it (groups of four features, then one by one)."""
    d = XT.shape[0]
    lab = labels[start : start + b]
    zero = centers[0, 0] - centers[0, 0]
    for ii in range(b):
        out[ii] = zero
    f = 0
    while f + 4 <= d:
        r0 = XT[f, start : start + b]
        r1 = XT[f + 1, start : start + b]
        r2 = XT[f + 2, start : start + b]
        r3 = XT[f + 3, start : start + b]
        for ii in range(b):
            c = lab[ii]
            t0 = r0[ii] - centers[c, f]
            t1 = r1[ii] - centers[c, f + 1]
            t2 = r2[ii] - centers[c, f + 2]
            t3 = r3[ii] - centers[c, f + 3]
            out[ii] += t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3
        f += 4
    while f < d:
        r0 = XT[f, start : start + b]
        for ii in range(b):
            t = r0[ii] - centers[lab[ii], f]
            out[ii] += t * t
        f += 1


@jit
def same_clustering(labels1, labels2, k):
    """True if the two labelings are equal up to a permutation of the label values."""
    mapping = np.full(k, -1, dtype=np.int64)
    for i in range(labels1.shape[0]):
        a = labels1[i]
        if mapping[a] == -1:
            mapping[a] = labels2[i]
        elif mapping[a] != labels2[i]:
            return False
    return True


@jit
def column_variances(X):
    """``np.var(X, axis=0)`` (d,) in X's dtype, with numpy's operations in numpy's order for a
    C-contiguous X of two or more columns: column sums added row after row, the mean and the
    variance divided in float64 and rounded to X's dtype, squared deviations in X's dtype."""
    n, d = X.shape
    zero = X[0, 0] - X[0, 0]  # a typed zero (n >= 1, X finite)
    sums = np.full(d, zero)
    for i in range(n):
        for f in range(d):
            sums[f] += X[i, f]
    mean = np.empty(d, dtype=X.dtype)
    for f in range(d):
        mean[f] = np.float64(sums[f]) / np.float64(n)
    squares = np.full(d, zero)
    for i in range(n):
        for f in range(d):
            t = X[i, f] - mean[f]
            squares[f] += t * t
    out = np.empty(d, dtype=X.dtype)
    for f in range(d):
        out[f] = np.float64(squares[f]) / np.float64(n)
    return out


def column_variances_reference(X: np.ndarray) -> np.ndarray:
    """numpy's own ``np.var(X, axis=0)``."""
    return np.var(X, axis=0)


def lloyd_assign_reference(
    X: np.ndarray, centers: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels (first nearest centre), per-cluster sums and counts, for ``X`` (n, d)."""
    k, d = centers.shape
    surrogate = (centers**2).sum(axis=1)[None, :] - 2.0 * (X @ centers.T)
    labels = np.argmin(surrogate, axis=1).astype(np.int32)
    sums = np.zeros((k, d))
    np.add.at(sums, labels, X)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    return labels, sums, counts
