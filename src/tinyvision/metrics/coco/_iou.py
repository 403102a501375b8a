"""The IoUs of the non-box evaluations, per (image, category) group, for the matching kernel.

* ``segm``: mask IoU of RLEs as pycocotools' ``maskApi.rleIou`` (a crowd ground truth
  divides the intersection by the detection's area), through :mod:`tinyvision.metrics._rle`.
* ``keypoints``: object keypoint similarity as pycocotools' ``COCOeval.computeOks``, the
  same float operations in the same order: the squared distances and their scaling in a
  compiled pass, ``np.exp`` over all of them at once (numpy's own exp, as pycocotools
  calls it), then numpy's pairwise summation per pair.

Both return one flat float64 array: for each group holding ground truths and detections,
in key order, its ``[n_d, n_g]`` matrix row by row (the layout ``match_groups`` reads).
"""

from __future__ import annotations

import numpy as np

from tinyvision._numba import jit as _jit
from tinyvision.metrics import _rle


@_jit
def group_pairs(gkey: np.ndarray, dkey: np.ndarray) -> np.ndarray:
    """``int64[P, 4]`` ``(g0, g1, d0, d1)`` of each group holding both ground truths
    and detections; ``gkey`` and ``dkey`` sorted (the order ``match_groups`` walks)."""
    n_gt = gkey.shape[0]
    n_dt = dkey.shape[0]
    out = np.zeros((min(n_gt, n_dt), 4), dtype=np.int64)
    n = 0
    pg = 0
    pd = 0
    while pg < n_gt and pd < n_dt:
        if gkey[pg] < dkey[pd]:
            pg += 1
            continue
        if dkey[pd] < gkey[pg]:
            pd += 1
            continue
        key = gkey[pg]
        g0 = pg
        while pg < n_gt and gkey[pg] == key:
            pg += 1
        d0 = pd
        while pd < n_dt and dkey[pd] == key:
            pd += 1
        out[n, 0] = g0
        out[n, 1] = pg
        out[n, 2] = d0
        out[n, 3] = pd
        n += 1
    return out[:n]


@_jit
def _pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """``np.sum(a[lo:lo + n])`` for float64, numpy's pairwise summation operation by
    operation (8 accumulators per block of up to 128, halves above)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    if n <= 128:
        r0 = a[lo]
        r1 = a[lo + 1]
        r2 = a[lo + 2]
        r3 = a[lo + 3]
        r4 = a[lo + 4]
        r5 = a[lo + 5]
        r6 = a[lo + 6]
        r7 = a[lo + 7]
        i = 8
        while i < n - (n % 8):
            r0 += a[lo + i]
            r1 += a[lo + i + 1]
            r2 += a[lo + i + 2]
            r3 += a[lo + i + 3]
            r4 += a[lo + i + 4]
            r5 += a[lo + i + 5]
            r6 += a[lo + i + 6]
            r7 += a[lo + i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[lo + i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_sum(a, lo, n2) + _pairwise_sum(a, lo + n2, n - n2)


def pairwise_sum(a: np.ndarray) -> float:
    """numpy's ``np.sum`` of a float64 vector, for the tests of :func:`_pairwise_sum`."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    return float(_pairwise_sum(a, 0, a.shape[0]))


@_jit
def _oks_terms(
    pairs: np.ndarray,
    gkp: np.ndarray,  # float64[G, 3P]
    gbox: np.ndarray,  # float64[G, 4]
    garea: np.ndarray,  # float64[G]
    dkp: np.ndarray,  # float64[D, 3P]
    variances: np.ndarray,  # float64[P] (2 sigma)^2
) -> tuple[np.ndarray, np.ndarray]:
    """``computeOks``'s ``-e`` for every (detection, ground truth) pair of every group,
    back to back (the visible keypoints only when the ground truth has any), and the
    start of each pair's terms (``int64[pairs + 1]``), pairs in ``given`` layout."""
    k = variances.shape[0]
    n_pairs = 0
    for p in range(pairs.shape[0]):
        n_pairs += (pairs[p, 1] - pairs[p, 0]) * (pairs[p, 3] - pairs[p, 2])
    start = np.zeros(n_pairs + 1, dtype=np.int64)
    terms = np.empty(n_pairs * k, dtype=np.float64)
    eps = np.spacing(1.0)
    q = 0
    t = 0
    for p in range(pairs.shape[0]):
        g0, g1, d0, d1 = pairs[p, 0], pairs[p, 1], pairs[p, 2], pairs[p, 3]
        for d in range(d0, d1):
            for g in range(g0, g1):
                visible = 0
                for j in range(k):
                    if gkp[g, 3 * j + 2] > 0:
                        visible += 1
                x0 = gbox[g, 0] - gbox[g, 2]
                x1 = gbox[g, 0] + gbox[g, 2] * 2
                y0 = gbox[g, 1] - gbox[g, 3]
                y1 = gbox[g, 1] + gbox[g, 3] * 2
                scale = garea[g] + eps
                for j in range(k):
                    xd = dkp[d, 3 * j]
                    yd = dkp[d, 3 * j + 1]
                    if visible > 0:
                        if not gkp[g, 3 * j + 2] > 0:
                            continue
                        dx = xd - gkp[g, 3 * j]
                        dy = yd - gkp[g, 3 * j + 1]
                    else:
                        dx = max(0.0, x0 - xd) + max(0.0, xd - x1)
                        dy = max(0.0, y0 - yd) + max(0.0, yd - y1)
                    e = (dx**2 + dy**2) / variances[j] / scale / 2
                    terms[t] = -e
                    t += 1
                q += 1
                start[q] = t
    return terms[:t], start


@_jit
def _oks_means(exps: np.ndarray, start: np.ndarray) -> np.ndarray:
    out = np.empty(start.shape[0] - 1, dtype=np.float64)
    for q in range(out.shape[0]):
        n = start[q + 1] - start[q]
        out[q] = _pairwise_sum(exps, start[q], n) / n
    return out


def oks(
    pairs: np.ndarray,
    gkp: np.ndarray,
    gbox: np.ndarray,
    garea: np.ndarray,
    dkp: np.ndarray,
    sigmas: np.ndarray,
) -> np.ndarray:
    """Flat OKS of every group's pairs (see the module docstring), as ``computeOks``."""
    variances = (sigmas * 2) ** 2
    terms, start = _oks_terms(pairs, gkp, gbox, garea, dkp, variances)
    return _oks_means(np.exp(terms), start)


@_jit
def mask_ious(
    pairs: np.ndarray,
    gc: np.ndarray,  # uint32 counts of the ground truths' RLEs
    go: np.ndarray,  # int64[G + 1] offsets
    gbox: np.ndarray,  # float64[G, 4] the RLEs' boxes (rleToBbox)
    gcrowd: np.ndarray,  # uint8[G]
    dc: np.ndarray,
    do: np.ndarray,  # int64[D + 1]
    dbox: np.ndarray,  # float64[D, 4]
) -> np.ndarray:
    """Flat mask IoU of every group's pairs (see the module docstring), as ``rleIou``."""
    n_pairs = 0
    for p in range(pairs.shape[0]):
        n_pairs += (pairs[p, 1] - pairs[p, 0]) * (pairs[p, 3] - pairs[p, 2])
    out = np.empty(n_pairs, dtype=np.float64)
    q = 0
    for p in range(pairs.shape[0]):
        g0, g1, d0, d1 = pairs[p, 0], pairs[p, 1], pairs[p, 2], pairs[p, 3]
        iou = _rle.rle_iou(dc, do[d0 : d1 + 1], dbox[d0:d1], gc, go[g0 : g1 + 1], gbox[g0:g1],
                      gcrowd[g0:g1])  # fmt: skip
        for d in range(d1 - d0):
            for g in range(g1 - g0):
                out[q] = iou[g, d]
                q += 1
    return out


@_jit
def gather_rles(
    counts: np.ndarray, offsets: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The RLEs at ``rows`` (int64[n]) of ``(counts, offsets)``, as a new pair."""
    out_offsets = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    for i in range(rows.shape[0]):
        out_offsets[i + 1] = out_offsets[i] + offsets[rows[i] + 1] - offsets[rows[i]]
    out = np.empty(out_offsets[-1], dtype=np.uint32)
    for i in range(rows.shape[0]):
        out[out_offsets[i] : out_offsets[i + 1]] = counts[offsets[rows[i]] : offsets[rows[i] + 1]]
    return out, out_offsets
