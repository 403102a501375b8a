"""Greedy k-means++ for :mod:`tinyvision.cluster.kmeans`: compiled kernels, the reference beside.

The squared distances of points to candidates are computed in float64 and rounded to the
data's dtype, as scikit-learn's are; scikit-learn computes them with BLAS, so their summation
order is free (fused multiply-adds, and sums vectorised along 8 or more features). The running
sum that locates the next candidates follows ``np.cumsum`` exactly (sequential, in X's dtype).
"""

from __future__ import annotations

import numpy as np

from tinyvision._numba import jit
from tinyvision.cluster._lloyd import _DOT, BLOCK, SMALL_D


@jit(fastmath=_DOT)
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


@jit(fastmath=_DOT)
def _sq_1x1(x, c):
    a = 0.0
    for f in range(x.shape[0]):
        t = np.float64(x[f]) - np.float64(c[f])
        a += t * t
    return a


@jit
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


@jit(fastmath={"contract"})
def _block_candidate_minima(XT, closest, row, start, b, partial, mins, lanes):
    """``mins[ii] = min(closest[i], ||X_i - row||^2 rounded to X's dtype)`` for the points
    i = start + ii of one block (``mins`` has X's dtype), each squared distance computed in
    float64 and summed in feature order (fused multiply-adds; the partial sums of all but
    the last feature pass through ``partial``). If ``lanes`` has b or more entries, the
    minima are also added to it (float64 lanes, one per point of the block)."""
    d = XT.shape[0]
    last = d - 1
    if last > 0:
        c = np.float64(row[0])
        r = XT[0, start : start + b]
        for ii in range(b):
            u = np.float64(r[ii]) - c
            partial[ii] = u * u
        for f in range(1, last):
            c = np.float64(row[f])
            r = XT[f, start : start + b]
            for ii in range(b):
                u = np.float64(r[ii]) - c
                partial[ii] += u * u
    c = np.float64(row[last])
    r = XT[last, start : start + b]
    near = closest[start : start + b]
    for ii in range(b):
        u = np.float64(r[ii]) - c
        v = u * u
        if last > 0:
            v += partial[ii]
        mins[ii] = v  # rounds to X's dtype
        mins[ii] = near[ii] if near[ii] < mins[ii] else mins[ii]
    if lanes.shape[0] >= b:
        for ii in range(b):
            lanes[ii] += mins[ii]


@jit
def _candidate_potentials_small_d(XT, closest, candidate_rows):
    """:func:`candidate_potentials` for few features: blocks of points, loops over points
    innermost; the potentials summed in ``BLOCK`` interleaved lanes."""
    n = XT.shape[1]
    m = candidate_rows.shape[0]
    partial = np.empty(BLOCK)
    mins = np.empty(BLOCK, dtype=closest.dtype)
    lanes = np.zeros((m, BLOCK))
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        for t in range(m):
            row = candidate_rows[t]
            _block_candidate_minima(XT, closest, row, start, b, partial, mins, lanes[t])
    pots = np.empty(m)
    for t in range(m):
        pots[t] = lanes[t].sum()
    return pots


@jit
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
    partial = np.empty(BLOCK)
    mins = np.empty(BLOCK, dtype=closest.dtype)
    no_lanes = np.empty(0)
    for start in range(0, n, BLOCK):
        b = min(BLOCK, n - start)
        if stored.shape[0] == n:
            closest[start : start + b] = stored[start : start + b]
        else:
            row = chosen_row[0]
            _block_candidate_minima(XT, closest, row, start, b, partial, mins, no_lanes)
            closest[start : start + b] = mins[:b]
        for ii in range(b):
            running += closest[start + ii]
            while next_target < targets.shape[0] and running >= targets[next_target]:
                found[next_target] = start + ii
                next_target += 1
    return found


@jit
def uniform_choice(n, p, u):
    """The index ``RandomState.choice(n, p=np.full(n, p))`` returns for the uniform draw u.

    numpy takes ``cdf = np.cumsum(p); cdf /= cdf[-1]`` and returns
    ``cdf.searchsorted(u, side="right")``: the first i with ``cdf[i] > u``. The same float64
    operations here, in the same order, without the arrays.
    """
    total = 0.0
    for _ in range(n):
        total += p
    running = 0.0
    for i in range(n):
        running += p
        if running / total > u:
            return i
    return n


def uniform_choice_reference(n: int, p: float, u: float) -> int:
    """numpy's own steps (``RandomState.choice`` with weights) for a given draw u."""
    cdf = np.full(n, p).cumsum()
    cdf /= cdf[-1]
    return int(cdf.searchsorted(u, side="right"))


def candidate_potentials_reference(
    X: np.ndarray, closest: np.ndarray, candidate_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(pots (m,), mins (m, n))``: the potential if each candidate row were a centre."""
    dist = ((X[None, :, :] - candidate_rows[:, None, :]) ** 2).sum(axis=2)
    mins = np.minimum(dist, closest[None, :])
    return mins.sum(axis=1), mins
