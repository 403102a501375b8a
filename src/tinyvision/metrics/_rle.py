"""Run-length encoded (RLE) masks with pycocotools' semantics, compiled with numba.

A mask of ``h x w`` pixels is read in column-major (Fortran) order, ``a = h * w`` values,
and stored as the lengths of its alternating runs, the first run being of zeros (so it may
have length 0). Many RLEs travel together as one ``uint32`` array of ``counts`` and an
``int64[n + 1]`` array of ``offsets`` (RLE ``i`` is ``counts[offsets[i]:offsets[i + 1]]``).

Every function here follows what pycocotools 2.0.11's ``maskApi.c`` computes, including its
corner cases (a box of an empty mask, runs of length zero, unsigned wrap-around), so that
counts, areas, boxes and IoUs are bitwise equal; the public face that checks the inputs is
:mod:`tinyvision.coco.mask`. Each kernel has a plain Python/NumPy twin (suffix
``_reference``) that states the same contract in the most direct way; the tests run both
against each other and against pycocotools.

Compressed strings: one value per count, ``counts[i] - counts[i - 2]`` for ``i > 2`` and
``counts[i]`` otherwise, written low 5 bits first, 5 bits per character, ``0x20`` marking
"more characters follow" and ``0x10`` of the last character the sign, each character
offset by 48 (``'0'`` .. ``'o'``).
"""

from __future__ import annotations

import math

import numpy as np

from tinyvision._numba import jit as _jit

_U32 = 0xFFFFFFFF
# The most characters one value may take: 32 bits and a sign fit in 7 chunks of 5 bits;
# more are accepted while the value stays in int64 range, then the string is rejected.
_MAX_CHUNKS = 12


# --------------------------------------------------------------------------------------
# The compressed string codec
# --------------------------------------------------------------------------------------


@_jit
def strings_to_counts(buf, starts):  # pragma: no cover - compiled
    """Decode many compressed strings at once.

    ``buf (uint8[B])`` the strings back to back, ``starts (int64[n + 1])`` where each
    begins -> ``(counts uint32[C], offsets int64[n + 1], bad int64)``; ``bad`` is the index
    of the first string that is not a valid encoding (a character outside ``'0'..'o'``, a
    value cut short at the end of its string, a count below 0 or above ``2**32 - 1``), or
    -1. Nothing after a bad string is decoded.
    """
    n = starts.shape[0] - 1
    counts = np.empty(buf.shape[0], dtype=np.uint32)
    offsets = np.zeros(n + 1, dtype=np.int64)
    m = 0
    for i in range(n):
        p = starts[i]
        end = starts[i + 1]
        first = m
        while p < end:
            c = np.int64(buf[p]) - 48
            p += 1
            if c < 0 or c > 63:
                return counts[:m], offsets, i
            if c < 32:  # one character: the usual case
                x = c - 32 if c >= 16 else c
            else:
                x = c & 0x1F
                k = 1
                while True:
                    if p >= end or k >= _MAX_CHUNKS:
                        return counts[:m], offsets, i
                    c = np.int64(buf[p]) - 48
                    p += 1
                    if c < 0 or c > 63:
                        return counts[:m], offsets, i
                    x |= (c & 0x1F) << (5 * k)
                    k += 1
                    if c < 32:
                        if c >= 16:
                            x |= np.int64(-1) << (5 * k)
                        break
            if m - first > 2:
                x += np.int64(counts[m - 2])
            if x < 0 or x > _U32:
                return counts[:m], offsets, i
            counts[m] = np.uint32(x)
            m += 1
        offsets[i + 1] = m
    return counts[:m], offsets, -1


@_jit
def read_strings(buf, starts, h, w):  # pragma: no cover - compiled
    """:func:`strings_to_counts` and the check that each RLE covers its ``h * w`` pixels
    (``h, w (int64[n])``), in one call -> ``(counts, offsets, bad, wrong)``: ``wrong`` is
    the index of the first RLE whose counts do not sum to ``h * w``, or -1."""
    counts, offsets, bad = strings_to_counts(buf, starts)
    wrong = -1
    if bad < 0:
        for i in range(offsets.shape[0] - 1):
            s = np.int64(0)
            for j in range(offsets[i], offsets[i + 1]):
                s += np.int64(counts[j])
            if s != h[i] * w[i]:
                wrong = i
                break
    return counts, offsets, bad, wrong


@_jit
def first_wrong_sum(counts, offsets, h, w):  # pragma: no cover - compiled
    """The index of the first RLE whose counts do not sum to ``h[i] * w[i]``, or -1."""
    for i in range(offsets.shape[0] - 1):
        s = np.int64(0)
        for j in range(offsets[i], offsets[i + 1]):
            s += np.int64(counts[j])
        if s != h[i] * w[i]:
            return i
    return -1


@_jit
def counts_to_strings(counts, offsets):  # pragma: no cover - compiled
    """Encode many RLEs: ``(counts, offsets)`` -> ``(buf uint8[B], starts int64[n + 1])``."""
    n = offsets.shape[0] - 1
    buf = np.empty(7 * counts.shape[0], dtype=np.uint8)
    starts = np.zeros(n + 1, dtype=np.int64)
    p = 0
    for i in range(n):
        lo = offsets[i]
        for j in range(lo, offsets[i + 1]):
            x = np.int64(counts[j])
            if j - lo > 2:
                x -= np.int64(counts[j - 2])
            more = True
            while more:
                c = x & 0x1F
                x >>= 5
                more = x != -1 if (c & 0x10) != 0 else x != 0
                if more:
                    c |= 0x20
                buf[p] = np.uint8(c + 48)
                p += 1
        starts[i + 1] = p
    return buf[:p], starts


def string_to_counts_reference(s: bytes) -> list[int] | None:
    """Pure-Python twin of :func:`strings_to_counts` for one string (``None``: invalid)."""
    counts: list[int] = []
    p = 0
    while p < len(s):
        x = k = 0
        while True:
            if p >= len(s) or k >= _MAX_CHUNKS or not 48 <= s[p] <= 111:
                return None
            c = s[p] - 48
            x |= (c & 0x1F) << (5 * k)
            p += 1
            k += 1
            if not c & 0x20:
                if c & 0x10:
                    x -= 1 << (5 * k)
                break
        if len(counts) > 2:
            x += counts[-2]
        if not 0 <= x <= _U32:
            return None
        counts.append(x)
    return counts


def counts_to_string_reference(counts: list[int]) -> bytes:
    """Pure-Python twin of :func:`counts_to_strings` for one RLE."""
    out = bytearray()
    for i, value in enumerate(counts):
        x = value - counts[i - 2] if i > 2 else value
        while True:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append((c | 0x20 if more else c) + 48)
            if not more:
                break
    return bytes(out)


# --------------------------------------------------------------------------------------
# Masks <-> counts
# --------------------------------------------------------------------------------------


@_jit
def encode(masks):  # pragma: no cover - compiled
    """``masks (uint8[n, a])``, each row one mask in column-major order -> ``(counts,
    offsets)``. A run ends wherever the value changes (as pycocotools: a mask holding 0, 2
    and 1 makes three runs), the first run counts the leading zeros."""
    n, a = masks.shape
    offsets = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        k = 1
        if a > 0:
            k += np.int64(masks[i, 0] != 0)
        row = masks[i]
        for j in range(1, a):  # branch-free, so that it vectorises
            k += np.int64(row[j] != row[j - 1])
        offsets[i + 1] = offsets[i] + k
    counts = np.empty(offsets[n], dtype=np.uint32)
    for i in range(n):
        m = offsets[i]
        prev = np.uint8(0)
        start = 0
        for j in range(a):
            v = masks[i, j]
            if v != prev:
                counts[m] = j - start
                m += 1
                start = j
                prev = v
        counts[m] = a - start
    return counts, offsets


def encode_reference(masks: np.ndarray) -> list[np.ndarray]:
    """NumPy twin of :func:`encode`: one ``uint32`` counts array per row."""
    out = []
    for row in masks:
        changes = np.flatnonzero(np.diff(row, prepend=np.uint8(0)) != 0)
        edges = np.concatenate([[0], changes, [row.shape[0]]])
        out.append(np.diff(edges).astype(np.uint32))
    return out


@_jit
def decode(counts, offsets, a):  # pragma: no cover - compiled
    """``(counts, offsets)`` of ``n`` RLEs whose counts sum to ``a`` -> ``uint8[n, a]``."""
    n = offsets.shape[0] - 1
    out = np.empty((n, a), dtype=np.uint8)
    for i in range(n):
        p = 0
        v = np.uint8(0)
        for j in range(offsets[i], offsets[i + 1]):
            c = np.int64(counts[j])
            out[i, p : p + c] = v
            p += c
            v = np.uint8(1) - v
    return out


def decode_reference(counts: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`decode` for one RLE."""
    values = np.arange(counts.shape[0], dtype=np.int64) % 2
    return np.repeat(values, counts.astype(np.int64)).astype(np.uint8)


@_jit
def sums(counts, offsets):  # pragma: no cover - compiled
    """The number of pixels each RLE covers, ``int64[n]`` (the check against ``h * w``)."""
    n = offsets.shape[0] - 1
    out = np.zeros(n, dtype=np.int64)
    for i in range(n):
        s = np.int64(0)
        for j in range(offsets[i], offsets[i + 1]):
            s += np.int64(counts[j])
        out[i] = s
    return out


# --------------------------------------------------------------------------------------
# Area and bounding box
# --------------------------------------------------------------------------------------


@_jit
def area(counts, offsets):  # pragma: no cover - compiled
    """The foreground pixels of each RLE, ``uint32[n]`` (the sum of the odd runs)."""
    n = offsets.shape[0] - 1
    out = np.zeros(n, dtype=np.uint32)
    for i in range(n):
        s = np.uint32(0)
        for j in range(offsets[i] + 1, offsets[i + 1], 2):
            s += counts[j]
        out[i] = s
    return out


def area_reference(counts: np.ndarray) -> np.uint32:
    """NumPy twin of :func:`area` for one RLE."""
    return np.uint32(counts[1::2].astype(np.int64).sum() & _U32)


@_jit
def to_bbox(counts, offsets, h, w):  # pragma: no cover - compiled
    """Boxes ``float64[n, 4]`` (x, y, width, height) of RLEs of sizes ``h, w (int64[n])``.

    pycocotools' arithmetic in unsigned 32 bits: a mask with no foreground run gives
    ``[0, 0, 0, 0]`` when it has fewer than two runs and ``[w, h, 1 - w, 1 - h]`` modulo
    ``2**32`` otherwise; a run that wraps into the next column spans the full height.
    """
    n = offsets.shape[0] - 1
    out = np.zeros((n, 4), dtype=np.float64)
    for i in range(n):
        lo = offsets[i]
        m = ((offsets[i + 1] - lo) // 2) * 2
        if m == 0:
            continue
        hh = h[i]
        inv = 1.0 / hh if hh > 0 else 0.0
        xs = w[i]
        ys = hh
        xe = np.int64(0)
        ye = np.int64(0)
        cc = np.int64(0)
        for j in range(0, m, 2):
            cc += np.int64(counts[lo + j])  # background run
            c = np.int64(counts[lo + j + 1])
            if c == 0:
                continue
            x0, y0 = _divmod(cc, hh, inv)
            cc += c
            x1, y1 = _divmod(cc - 1, hh, inv)
            xs = min(xs, x0)
            xe = max(xe, x1)
            if x0 < x1:
                ys = 0
                ye = hh - 1
            else:
                ys = min(ys, y0)
                ye = max(ye, y1)
        out[i, 0] = xs
        out[i, 1] = ys
        out[i, 2] = (xe - xs + 1) & _U32
        out[i, 3] = (ye - ys + 1) & _U32
    return out


@_jit
def _divmod(a, b, inv):  # pragma: no cover - compiled
    """``divmod(a, b)`` for ``0 <= a < 2**53`` through the reciprocal ``inv = 1 / b``
    (a float multiply instead of an integer division; the estimate is off by at most 1)."""
    q = np.int64(a * inv)
    r = a - q * b
    if r < 0:
        q -= 1
        r += b
    elif r >= b:
        q += 1
        r -= b
    return q, r


def to_bbox_reference(counts: np.ndarray, h: int, w: int) -> np.ndarray:
    """NumPy twin of :func:`to_bbox` for one RLE, from the decoded mask."""
    if counts.shape[0] < 2:
        return np.zeros(4)
    mask = decode_reference(counts).reshape(w, h)  # [x, y]
    xs, ys = np.nonzero(mask)
    if xs.size == 0:
        return np.array([w, h, (1 - w) & _U32, (1 - h) & _U32], dtype=np.float64)
    x0, y0 = xs.min(), ys.min()
    return np.array([x0, y0, xs.max() - x0 + 1, ys.max() - y0 + 1], dtype=np.float64)


# --------------------------------------------------------------------------------------
# IoU
# --------------------------------------------------------------------------------------


@_jit
def bbox_iou(dt, gt, iscrowd):  # pragma: no cover - compiled
    """IoU ``float64[n_gt, n_dt]`` of boxes ``dt (float64[m, 4])`` and ``gt (float64[n,
    4])`` (x, y, w, h); a crowd gt (``iscrowd (uint8[n])`` non-zero) divides by the
    detection's area. The operations and their order are pycocotools' ``bbIou``."""
    m = dt.shape[0]
    n = gt.shape[0]
    out = np.zeros((n, m), dtype=np.float64)
    for g in range(n):
        ga = gt[g, 2] * gt[g, 3]
        crowd = iscrowd[g] != 0
        for d in range(m):
            da = dt[d, 2] * dt[d, 3]
            iw = min(dt[d, 2] + dt[d, 0], gt[g, 2] + gt[g, 0]) - max(dt[d, 0], gt[g, 0])
            if iw <= 0:
                continue
            ih = min(dt[d, 3] + dt[d, 1], gt[g, 3] + gt[g, 1]) - max(dt[d, 1], gt[g, 1])
            if ih <= 0:
                continue
            inter = iw * ih
            union = da if crowd else (da + ga) - inter
            out[g, d] = inter / union
    return out


def bbox_iou_reference(dt: np.ndarray, gt: np.ndarray, iscrowd: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`bbox_iou`."""
    dx0, dy0, dw, dh = (dt[:, k][None, :] for k in range(4))
    gx0, gy0, gw, gh = (gt[:, k][:, None] for k in range(4))
    iw = np.minimum(dw + dx0, gw + gx0) - np.maximum(dx0, gx0)
    ih = np.minimum(dh + dy0, gh + gy0) - np.maximum(dy0, gy0)
    inter = iw * ih
    da = dw * dh
    union = np.where(iscrowd[:, None] != 0, da, (da + gw * gh) - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inter / union
    return np.where((iw > 0) & (ih > 0), out, 0.0)


@_jit
def rle_iou(dc, do, dbox, gc, go, gbox, iscrowd):  # pragma: no cover - compiled
    """Mask IoU ``float64[n_gt, n_dt]`` of RLEs of one size: detections ``(dc, do)`` with
    boxes ``dbox`` (from :func:`to_bbox`), ground truths ``(gc, go)`` with ``gbox``.

    Pairs whose boxes do not overlap are 0 (pycocotools' shortcut, which cannot change a
    value); otherwise intersection over union, over the detection's area for a crowd gt,
    and 0 when the intersection is empty.
    """
    out = bbox_iou(dbox, gbox, iscrowd)
    n, m = out.shape
    for g in range(n):
        for d in range(m):
            if out[g, d] > 0:
                out[g, d] = _pair_iou(dc, do[d], do[d + 1], gc, go[g], go[g + 1], iscrowd[g])
    return out


@_jit
def _pair_iou(ac, a0, a1, bc, b0, b1, crowd):  # pragma: no cover - compiled
    """IoU of RLE ``ac[a0:a1]`` (detection) and ``bc[b0:b1]`` (gt) by walking both runs."""
    a = a0
    b = b0
    ca = np.int64(ac[a])
    cb = np.int64(bc[b])
    a += 1
    b += 1
    va = False
    vb = False
    inter = np.int64(0)
    union = np.int64(0)
    while True:
        c = min(ca, cb)
        if va or vb:
            union += c
            if va and vb:
                inter += c
        ca -= c
        if ca == 0 and a < a1:
            ca = np.int64(ac[a])
            a += 1
            va = not va
        cb -= c
        if cb == 0 and b < b1:
            cb = np.int64(bc[b])
            b += 1
            vb = not vb
        if ca + cb == 0:
            break
    if inter == 0:
        return 0.0
    if crowd != 0:
        union = np.int64(0)
        for j in range(a0 + 1, a1, 2):
            union += np.int64(ac[j])
    return inter / union


def rle_iou_reference(dt: list, gt: list, iscrowd: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`rle_iou` from decoded masks (lists of counts arrays)."""
    out = np.zeros((len(gt), len(dt)))
    for g, gcounts in enumerate(gt):
        gm = decode_reference(gcounts).astype(bool)
        for d, dcounts in enumerate(dt):
            dm = decode_reference(dcounts).astype(bool)
            inter = np.count_nonzero(gm & dm)
            if inter:
                union = np.count_nonzero(dm) if iscrowd[g] else np.count_nonzero(gm | dm)
                out[g, d] = inter / union
    return out


# --------------------------------------------------------------------------------------
# Merge
# --------------------------------------------------------------------------------------


@_jit
def merge(counts, offsets, intersect):  # pragma: no cover - compiled
    """Union (or intersection) of ``n >= 1`` RLEs of one size -> ``uint32`` counts.

    Walks the runs pairwise, left to right, and closes a run wherever the combined value
    changes or both inputs end, as pycocotools' ``rleMerge`` (one RLE is returned as is).
    """
    n = offsets.shape[0] - 1
    cur = counts[offsets[0] : offsets[1]].copy()
    total = 0
    for j in range(cur.shape[0]):
        total += np.int64(cur[j])
    for i in range(1, n):
        b0 = offsets[i]
        b1 = offsets[i + 1]
        nxt = np.empty(cur.shape[0] + (b1 - b0) + 1, dtype=np.uint32)
        m = 0
        a = 1
        b = b0 + 1
        ca = np.int64(cur[0])
        cb = np.int64(counts[b0])
        va = False
        vb = False
        v = False
        cc = np.int64(0)
        while True:
            c = min(ca, cb)
            cc += c
            ca -= c
            if ca == 0 and a < cur.shape[0]:
                ca = np.int64(cur[a])
                a += 1
                va = not va
            cb -= c
            if cb == 0 and b < b1:
                cb = np.int64(counts[b])
                b += 1
                vb = not vb
            vp = v
            v = (va and vb) if intersect else (va or vb)
            done = ca + cb == 0
            if v != vp or done:
                nxt[m] = cc
                m += 1
                cc = 0
            if done:
                break
        cur = nxt[:m].copy()
    return cur


def merge_reference(masks: list[np.ndarray], intersect: bool) -> np.ndarray:
    """NumPy twin of :func:`merge` for RLEs without empty runs: combine the decoded masks
    and encode the result."""
    combined = masks[0].astype(bool)
    for mask in masks[1:]:
        combined = combined & mask.astype(bool) if intersect else combined | mask.astype(bool)
    return encode_reference(combined.astype(np.uint8)[None, :])[0]


# --------------------------------------------------------------------------------------
# Polygons and boxes
# --------------------------------------------------------------------------------------


@_jit
def from_polygons(xy, starts, h, w):  # pragma: no cover - compiled
    """Rasterise polygons as pycocotools' ``rleFrPoly``.

    ``xy (float64[P, 2])`` the vertices of all polygons back to back, polygon ``i`` being
    ``xy[starts[i]:starts[i + 1]]``; ``h, w (int64[n])`` its image size ->
    ``(counts, offsets)``. Vertices are scaled by 5 and rounded, every edge is walked one
    step at a time along its longer axis, the points where the walk crosses a pixel column
    boundary mark where a column's inside run begins or ends.
    """
    n = starts.shape[0] - 1
    bound = 0
    for i in range(n):
        bound += _max_counts(xy[starts[i] : starts[i + 1]])
    counts = np.empty(bound, dtype=np.uint32)
    offsets = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        c = _polygon(xy[starts[i] : starts[i + 1]], h[i], w[i])
        offsets[i + 1] = offsets[i] + c.shape[0]
        if offsets[i + 1] > bound:
            raise AssertionError("from_polygons: more counts than the bound")
        counts[offsets[i] : offsets[i + 1]] = c
    return counts[: offsets[n]].copy(), offsets


@_jit
def _max_counts(xy):  # pragma: no cover - compiled
    """At most how many counts :func:`_polygon` makes of ``xy (float64[k, 2])``: an edge
    crosses at most ``|dx| / 5 + 1`` pixel column boundaries (``dx`` in fifths of a pixel),
    and each crossing adds one count to the final one."""
    k = xy.shape[0]
    m = 2
    for j in range(k):
        nxt = (j + 1) % k
        dx = abs(_trunc(5.0 * xy[j, 0] + 0.5) - _trunc(5.0 * xy[nxt, 0] + 0.5))
        m += dx // 5 + 2
    return m


@_jit
def _polygon(xy, h, w):  # pragma: no cover - compiled
    """Counts of one polygon ``xy (float64[k, 2])`` in an ``h x w`` image.

    The walk of :func:`_polygon_walk` without storing it: consecutive points are compared
    as they are made, and a point's ``v`` is computed only where a pair crosses a pixel
    column boundary (every 5th step of an x-major edge at most).
    """
    scale = 5.0
    k = xy.shape[0]
    x = np.empty(k + 1, dtype=np.int64)
    y = np.empty(k + 1, dtype=np.int64)
    for j in range(k):
        x[j] = _trunc(scale * xy[j, 0] + 0.5)
        y[j] = _trunc(scale * xy[j, 1] + 0.5)
    if k > 0:
        x[k] = x[0]
        y[k] = y[0]
    size = 2
    for j in range(k):
        size += abs(x[j + 1] - x[j]) // 5 + 2
    bnd = np.empty(size, dtype=np.int64)
    nb = 0
    xmax = float(w - 1) if w > 0 else 1.8446744073709552e19
    pu = np.int64(0)  # the previous edge's last point
    pv = np.int64(0)
    for j in range(k):
        xs = x[j]
        xe = x[j + 1]
        ys = y[j]
        ye = y[j + 1]
        dx = abs(xe - xs)
        dy = abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe = xe, xs
            ys, ye = ye, ys
        if dx >= dy:
            s = (ye - ys) / dx if dx > 0 else 0.0
            tp = dx if flip else 0
            up = tp + xs
            if j > 0 and up != pu:
                vp = _trunc(ys + s * tp + 0.5)
                nb = _crossing(bnd, nb, up, pu, vp, pv, xmax, h)
            # Each step moves u by one: the pairs' smaller u ("lo") runs once over
            # xs .. xs + dx - 1, and (lo + 0.5) / 5 - 0.5 is a whole number exactly when
            # lo = 2 (mod 5); visit those alone (the pair is (t, t - 1), or (t, t + 1)
            # when flipped, with t - tp = lo - xs + 1 or lo - xs).
            first = xs + (2 - xs) % 5
            for lo in range(first, xs + dx, 5):
                xd = (lo + 0.5) / scale - 0.5
                if xd < 0 or xd > xmax:
                    continue
                if flip:
                    t = lo - xs
                    tq = t + 1
                else:
                    t = lo - xs + 1
                    tq = t - 1
                v = _trunc(ys + s * t + 0.5)
                vq = _trunc(ys + s * tq + 0.5)
                nb = _add_crossing(bnd, nb, xd, min(v, vq), h)
            tp = 0 if flip else dx
            pu = tp + xs
            pv = _trunc(ys + s * tp + 0.5)
        else:
            s = (xe - xs) / dy
            tp = dy if flip else 0
            up = _trunc(xs + s * tp + 0.5)
            vp = tp + ys
            if j > 0 and up != pu:
                nb = _crossing(bnd, nb, up, pu, vp, pv, xmax, h)
            for d in range(1, dy + 1):
                t = dy - d if flip else d
                u = _trunc(xs + s * t + 0.5)
                v = t + ys
                if u != up:
                    nb = _crossing(bnd, nb, u, up, v, vp, xmax, h)
                up = u
                vp = v
            pu = up
            pv = vp
    return _finish(_sort_positions(bnd, nb, h, w), nb + 1)


@_jit
def _sort_positions(bnd, nb, h, w):  # pragma: no cover - compiled
    """``bnd[:nb]`` (positions ``x * h + y``, ``0 <= x < w``, ``0 <= y <= h``) and ``h * w``,
    sorted: by column with a counting sort, within a column by insertion (a column holds
    a few crossings). Falls back to ``np.sort`` where positions could wrap in 32 bits."""
    bnd[nb] = (h * w) & _U32
    if h <= 0 or w <= 0 or w * (h + 1) > _U32:
        return np.sort(bnd[: nb + 1])
    start = np.zeros(w + 2, dtype=np.int64)
    for i in range(nb):
        start[bnd[i] // h + 1] += 1
    for c in range(w + 1):
        start[c + 1] += start[c]
    out = np.empty(nb + 1, dtype=np.int64)
    for i in range(nb):
        c = bnd[i] // h
        out[start[c]] = bnd[i]
        start[c] += 1
    # start[c] is now the end of column c; insertion sort each column
    lo = 0
    for c in range(w + 1):
        hi = start[c]
        for i in range(lo + 1, hi):
            key = out[i]
            j = i - 1
            while j >= lo and out[j] > key:
                out[j + 1] = out[j]
                j -= 1
            out[j + 1] = key
        lo = hi
    out[nb] = bnd[nb]
    return out


@_jit
def _crossing(bnd, nb, u, up, v, vp, xmax, h):  # pragma: no cover - compiled
    """Add the boundary point of the walk's step from ``(up, vp)`` to ``(u, v)`` if it
    lies on a pixel column boundary inside the image; the new count of points."""
    lo = u if u < up else u - 1
    xd = (lo + 0.5) / 5.0 - 0.5
    if math.floor(xd) != xd or xd < 0 or xd > xmax:
        return nb
    return _add_crossing(bnd, nb, xd, min(v, vp), h)


@_jit
def _add_crossing(bnd, nb, xd, vmin, h):  # pragma: no cover - compiled
    yd = (float(vmin) + 0.5) / 5.0 - 0.5
    if yd < 0:
        yd = 0.0
    elif yd > h:
        yd = float(h)
    yd = math.ceil(yd)
    if nb + 1 >= bnd.shape[0]:
        raise AssertionError("_polygon: more boundary points than the bound")
    bnd[nb] = (np.int64(xd) * h + np.int64(yd)) & _U32
    return nb + 1


@_jit
def _polygon_walk(xy, h, w):  # pragma: no cover - compiled
    """The literal statement of ``rleFrPoly`` (the twin of :func:`_polygon`): every point of
    the walk stored, then the boundary points picked from consecutive pairs."""
    scale = 5.0
    k = xy.shape[0]
    x = np.empty(k + 1, dtype=np.int64)
    y = np.empty(k + 1, dtype=np.int64)
    for j in range(k):
        x[j] = _trunc(scale * xy[j, 0] + 0.5)
        y[j] = _trunc(scale * xy[j, 1] + 0.5)
    if k > 0:
        x[k] = x[0]
        y[k] = y[0]
    m = 0
    for j in range(k):
        m += max(abs(x[j] - x[j + 1]), abs(y[j] - y[j + 1])) + 1
    u = np.empty(m, dtype=np.int64)
    v = np.empty(m, dtype=np.int64)
    m = 0
    for j in range(k):
        xs = x[j]
        xe = x[j + 1]
        ys = y[j]
        ye = y[j + 1]
        dx = abs(xe - xs)
        dy = abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe = xe, xs
            ys, ye = ye, ys
        if dx >= dy:
            # dx == dy == 0: C divides 0 by 0; the one point's v is never read (its u equals
            # its neighbours'), so any value will do.
            s = (ye - ys) / dx if dx > 0 else 0.0
            for d in range(dx + 1):
                t = dx - d if flip else d
                u[m] = t + xs
                v[m] = _trunc(ys + s * t + 0.5)
                m += 1
        else:
            s = (xe - xs) / dy
            for d in range(dy + 1):
                t = dy - d if flip else d
                v[m] = t + ys
                u[m] = _trunc(xs + s * t + 0.5)
                m += 1
    # points where the walk crosses a column boundary, scaled back
    xmax = float(w - 1) if w > 0 else 1.8446744073709552e19
    bnd = np.empty(m + 1, dtype=np.int64)
    nb = 0
    for j in range(1, m):
        if u[j] != u[j - 1]:
            xd = float(u[j] if u[j] < u[j - 1] else u[j] - 1)
            xd = (xd + 0.5) / scale - 0.5
            if math.floor(xd) != xd or xd < 0 or xd > xmax:
                continue
            yd = float(v[j] if v[j] < v[j - 1] else v[j - 1])
            yd = (yd + 0.5) / scale - 0.5
            if yd < 0:
                yd = 0.0
            elif yd > h:
                yd = float(h)
            yd = math.ceil(yd)
            bnd[nb] = (np.int64(xd) * h + np.int64(yd)) & _U32
            nb += 1
    bnd[nb] = (h * w) & _U32
    return _finish(np.sort(bnd[: nb + 1]), nb + 1)


@_jit
def _finish(a, nb):  # pragma: no cover - compiled
    """Counts from ``nb`` sorted boundary positions ``a`` (the last one ``h * w``); ``a``
    is overwritten."""
    prev = np.int64(0)
    for j in range(nb):
        t = a[j]
        a[j] = t - prev
        prev = t
    # a zero difference cancels: it and the next difference join the previous run
    out = np.empty(nb, dtype=np.uint32)
    out[0] = a[0]
    mm = 1
    j = 1
    while j < nb:
        if a[j] > 0:
            out[mm] = a[j]
            mm += 1
            j += 1
        else:
            j += 1
            if j < nb:
                out[mm - 1] += np.uint32(a[j])
                j += 1
    return out[:mm]


@_jit
def _trunc(value):  # pragma: no cover - compiled
    """C's ``(int)`` of a double: towards zero."""
    return np.int64(value)


def from_polygon_reference(xy: np.ndarray, h: int, w: int) -> np.ndarray:
    """Pure-Python twin of :func:`from_polygons` for one polygon: the literal walk of
    ``rleFrPoly`` (every point stored, the crossings sorted with ``np.sort``) run as Python;
    the fast kernel skips what cannot cross a column. pycocotools is the oracle of both."""
    return _polygon_walk.py_func(np.asarray(xy, dtype=np.float64).reshape(-1, 2), h, w)


def boxes_to_polygons(boxes: np.ndarray) -> np.ndarray:
    """``float64[n, 4]`` boxes (x, y, w, h) -> ``float64[n * 4, 2]`` corner polygons in
    pycocotools' order ``(xs, ys), (xs, ye), (xe, ye), (xe, ys)``."""
    xs, ys = boxes[:, 0], boxes[:, 1]
    xe, ye = xs + boxes[:, 2], ys + boxes[:, 3]
    corners = np.stack([xs, ys, xs, ye, xe, ye, xe, ys], axis=1)
    return corners.reshape(-1, 2)
