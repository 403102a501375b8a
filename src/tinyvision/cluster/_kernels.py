"""Compiled (numba) inner loops of :mod:`tinyvision.cluster`.

Every kernel here has a plain numpy twin in :mod:`tinyvision.cluster._reference` that the
tests compare it with. The kernels run single-threaded and deterministically. Floating point
order, kernel by kernel:

- where scikit-learn's result depends on a sequential order, the same order is kept and
  ``fastmath`` is off: centre sums and counts (sample order), inertia and centre shifts
  (scikit-learn's sums of four), the running sum that locates k-means++ candidates
  (``np.cumsum``), silhouette sums over points (``np.bincount``), KNN squared distances
  (scikit-learn's ``rdist``);
- where scikit-learn calls BLAS (dot products of points and centres, k-means++ distances),
  whose summation order is the library's own, the kernels are free to choose theirs: fused
  multiply-adds (``contract``) everywhere, and, for 8 or more features, sums vectorised along
  the features (``reassoc``). Such sums are still fixed for a given build and CPU.

Arithmetic stays in the input's floating dtype (float32 or float64) where scikit-learn's
Cython does the same, so float32 input behaves like scikit-learn's float32 path. A typed zero
is written ``x - x`` (inputs are validated finite) so that numba keeps float32 accumulators
in float32.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Flags for the small dot-product kernels only (see "dot products" below).
_DOT = {"contract", "reassoc", "nsz"}

# ----------------------------------------------------------------------------- distances


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True, fastmath=_DOT)
def _dot(a, b):
    s = a[0] - a[0]  # a typed zero
    for f in range(a.shape[0]):
        s += a[f] * b[f]
    return s


@njit(cache=True, nogil=True, fastmath=_DOT)
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


@njit(cache=True, nogil=True, fastmath=_DOT)
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


@njit(cache=True, nogil=True)
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


TILE_ROWS = 32  # rows per tile in the symmetric silhouette pass
SMALL_D = 8  # below this many features the assignment vectorises over points instead
BLOCK = 256  # points per block in the small-d assignment


def needs_transpose(n_features: int) -> bool:
    """True if :func:`lloyd_assign` wants ``X.T`` (C-contiguous) for this many features."""
    return n_features < SMALL_D


@njit(cache=True, nogil=True)
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
        _assign_small_d(X, XT, centers, labels, centers_sum, counts, update_centers)
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


@njit(cache=True, nogil=True, fastmath={"contract"})
def _block_dots(XT, centers, start, b, dots):
    """``dots[j, ii] = X_(start+ii) . c_j`` for one block of points, vectorised over points.

    Each dot product is summed in feature order (``v += x_f c_f``, fused multiply-adds);
    features are read up to four at a time so ``dots`` is loaded and stored once per group,
    which changes nothing in the arithmetic.
    """
    d = XT.shape[0]
    k = centers.shape[0]
    zero = centers[0, 0] - centers[0, 0]  # a typed zero
    for j in range(k):
        dj = dots[j]
        for ii in range(b):
            dj[ii] = zero
    f = 0
    while f < d:
        width = min(4, d - f)
        r0 = XT[f, start : start + b]
        r1 = XT[f + min(1, width - 1), start : start + b]
        r2 = XT[f + min(2, width - 1), start : start + b]
        r3 = XT[f + min(3, width - 1), start : start + b]
        for j in range(k):
            dj = dots[j]
            c0 = centers[j, f]
            if width == 4:
                c1, c2, c3 = centers[j, f + 1], centers[j, f + 2], centers[j, f + 3]
                for ii in range(b):
                    v = dj[ii]
                    v += r0[ii] * c0
                    v += r1[ii] * c1
                    v += r2[ii] * c2
                    v += r3[ii] * c3
                    dj[ii] = v
            elif width == 3:
                c1, c2 = centers[j, f + 1], centers[j, f + 2]
                for ii in range(b):
                    v = dj[ii]
                    v += r0[ii] * c0
                    v += r1[ii] * c1
                    v += r2[ii] * c2
                    dj[ii] = v
            elif width == 2:
                c1 = centers[j, f + 1]
                for ii in range(b):
                    v = dj[ii]
                    v += r0[ii] * c0
                    v += r1[ii] * c1
                    dj[ii] = v
            else:
                for ii in range(b):
                    dj[ii] += r0[ii] * c0
        f += width


@njit(cache=True, nogil=True, fastmath={"contract"})
def _assign_small_d(X, XT, centers, labels, centers_sum, counts, update_centers):
    """:func:`lloyd_assign` for few features: blocks of points, loops over points innermost
    (vectorised, each dot product still summed in feature order), branch-free argmin."""
    d, n = XT.shape
    k = centers.shape[0]
    zero = centers[0, 0] - centers[0, 0]  # a typed zero
    cnorm = np.empty(k, dtype=centers.dtype)
    for j in range(k):
        s = zero
        for f in range(d):
            s += centers[j, f] * centers[j, f]
        cnorm[j] = s
    dots = np.empty((k, BLOCK), dtype=centers.dtype)
    best = np.empty(BLOCK, dtype=centers.dtype)
    block_labels = np.empty(BLOCK, dtype=np.int64)
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        _block_dots(XT, centers, start, b, dots)
        c0 = cnorm[0]
        d0 = dots[0]
        for ii in range(b):
            best[ii] = c0 - (d0[ii] + d0[ii])
            block_labels[ii] = 0
        for j in range(1, k):
            cj = cnorm[j]
            dj = dots[j]
            for ii in range(b):
                value = cj - (dj[ii] + dj[ii])
                lower = value < best[ii]
                best[ii] = value if lower else best[ii]
                block_labels[ii] = j if lower else block_labels[ii]
        for ii in range(b):
            label = block_labels[ii]
            labels[start + ii] = label
            if update_centers:
                counts[label] += 1
                for f in range(d):
                    centers_sum[label, f] += X[start + ii, f]


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def center_shifts(old, new, out):
    """``out[j] = ||new_j - old_j||`` (k,)."""
    for j in range(old.shape[0]):
        out[j] = math.sqrt(sq_euclidean_unrolled(new[j], old[j]))


@njit(cache=True, nogil=True)
def inertia(X, centers, labels):
    """Sum over points of the squared distance to their centre, in sample order."""
    total = centers[0, 0] - centers[0, 0]
    for i in range(X.shape[0]):
        total += sq_euclidean_unrolled(X[i], centers[labels[i]])
    return total


@njit(cache=True, nogil=True)
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


# ----------------------------------------------------------------------------- k-means++


@njit(cache=True, nogil=True, fastmath=_DOT)
def _sq_1x4(x, c0, c1, c2, c3, out):
    a0 = a1 = a2 = a3 = 0.0
    for f in range(x.shape[0]):
        u = np.float64(x[f])
        t0 = u - np.float64(c0[f])
        t1 = u - np.float64(c1[f])
        t2 = u - np.float64(c2[f])
        t3 = u - np.float64(c3[f])
        a0 += t0 * t0
        a1 += t1 * t1
        a2 += t2 * t2
        a3 += t3 * t3
    out[0] = a0
    out[1] = a1
    out[2] = a2
    out[3] = a3


@njit(cache=True, nogil=True, fastmath=_DOT)
def _sq_1x1(x, c):
    a = 0.0
    for f in range(x.shape[0]):
        t = np.float64(x[f]) - np.float64(c[f])
        a += t * t
    return a


@njit(cache=True, nogil=True)
def candidate_potentials(X, XT, closest, candidate_rows, out):
    """Potentials of k-means++ candidates.

    For each candidate row t (``candidate_rows`` (m, d)), the potential if it were added:
    ``pots[t] = sum_i min(closest[i], ||X_i - candidate_t||^2)`` (float64), where the squared
    distance is computed in float64 and rounded to X's dtype before the minimum, as
    scikit-learn's is. With many features (``XT`` a stub) the minima are also written to
    ``out`` (m, n) for :func:`adopt_candidate`; with few features (``XT`` = ``X.T``) they are
    cheaper to recompute than to store, and ``out`` is not used.
    """
    n, d = X.shape
    m = candidate_rows.shape[0]
    if d < SMALL_D:
        return _candidate_potentials_small_d(XT, closest, candidate_rows)
    pots = np.zeros(m)
    sq = np.empty(4)
    for i in range(n):
        x = X[i]
        t = 0
        while t < m:
            if t + 4 <= m:
                c = candidate_rows
                _sq_1x4(x, c[t], c[t + 1], c[t + 2], c[t + 3], sq)
                width = 4
            else:
                sq[0] = _sq_1x1(x, candidate_rows[t])
                width = 1
            for q in range(width):
                out[t + q, i] = sq[q]  # rounds to X's dtype
                if closest[i] < out[t + q, i]:
                    out[t + q, i] = closest[i]
                pots[t + q] += out[t + q, i]
            t += width
    return pots


@njit(cache=True, nogil=True, fastmath={"contract"})
def _block_candidate_minima(XT, closest, candidate_rows, start, b, acc):
    """``acc[t, ii] = min(closest[i], ||X_i - candidate_t||^2 rounded to X's dtype)`` for the
    points i = start + ii of one block; each squared distance summed in feature order."""
    d = XT.shape[0]
    m = candidate_rows.shape[0]
    typed = np.empty(1, dtype=closest.dtype)
    for t in range(m):
        at = acc[t]
        for ii in range(b):
            at[ii] = 0.0
    f = 0
    while f < d:  # features two at a time, still added one after the other
        pair = f + 1 < d
        r0 = XT[f, start : start + b]
        r1 = XT[f + 1 if pair else f, start : start + b]
        for t in range(m):
            c0 = np.float64(candidate_rows[t, f])
            at = acc[t]
            if pair:
                c1 = np.float64(candidate_rows[t, f + 1])
                for ii in range(b):
                    u0 = np.float64(r0[ii]) - c0
                    u1 = np.float64(r1[ii]) - c1
                    v = at[ii]
                    v += u0 * u0
                    v += u1 * u1
                    at[ii] = v
            else:
                for ii in range(b):
                    u0 = np.float64(r0[ii]) - c0
                    at[ii] += u0 * u0
        f += 2 if pair else 1
    for t in range(m):
        at = acc[t]
        for ii in range(b):
            typed[0] = at[ii]  # rounds to X's dtype
            near = closest[start + ii]
            at[ii] = near if near < typed[0] else typed[0]


@njit(cache=True, nogil=True)
def _candidate_potentials_small_d(XT, closest, candidate_rows):
    """:func:`candidate_potentials` for few features: blocks of points, loops over points
    innermost; the potentials summed in ``BLOCK`` interleaved lanes."""
    n = XT.shape[1]
    m = candidate_rows.shape[0]
    acc = np.empty((m, BLOCK))
    lanes = np.zeros((m, BLOCK))
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        _block_candidate_minima(XT, closest, candidate_rows, start, b, acc)
        for t in range(m):
            _add_into(lanes[t, :b], acc[t, :b])
    pots = np.empty(m)
    for t in range(m):
        pots[t] = lanes[t].sum()
    return pots


@njit(cache=True, nogil=True)
def adopt_candidate(X, XT, closest, chosen_row, stored, targets):
    """Make a candidate a centre and locate the next candidates, in one pass.

    ``closest`` becomes ``min(closest, ||X_i - chosen||^2)``: copied from ``stored`` (n,)
    when :func:`candidate_potentials` kept it, else recomputed with the same arithmetic.
    Returns, for each value of ``targets`` (ascending), the first i where the running sum of
    the new ``closest`` (accumulated in X's dtype) reaches it: exactly
    ``np.searchsorted(np.cumsum(closest), targets)`` (n where it is never reached).
    """
    n = X.shape[0]
    found = np.full(targets.shape[0], n, dtype=np.int64)
    running = X[0, 0] - X[0, 0]  # a typed zero (X is finite)
    next_target = 0
    acc = np.empty((1, BLOCK))
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        if stored.shape[0] == n:
            closest[start : start + b] = stored[start : start + b]
        else:
            _block_candidate_minima(XT, closest, chosen_row, start, b, acc)
            closest[start : start + b] = acc[0, :b]
        for ii in range(b):
            running += closest[start + ii]
            while next_target < targets.shape[0] and running >= targets[next_target]:
                found[next_target] = start + ii
                next_target += 1
    return found


# ----------------------------------------------------------------------------- silhouette
# Small loops kept in their own functions: LLVM vectorises each (sqrt included), which it
# does not do when they are written inline in the bigger kernels.


@njit(cache=True, nogil=True, fastmath={"contract"})
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


@njit(cache=True, nogil=True, fastmath={"contract"})
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


@njit(cache=True, nogil=True)
def _sqrt_inplace(row):
    for jj in range(row.shape[0]):
        row[jj] = math.sqrt(row[jj])


@njit(cache=True, nogil=True)
def _add_into(target, row):
    for jj in range(row.shape[0]):
        target[jj] += row[jj]


@njit(cache=True, nogil=True, fastmath={"reassoc", "nsz"})
def _total(values):
    s = 0.0
    for jj in range(values.shape[0]):
        s += values[jj]
    return s


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


# ----------------------------------------------------------------------------- neighbours


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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
