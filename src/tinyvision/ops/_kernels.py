"""Compiled (numba) loops behind :mod:`tinyvision.ops` on CPU tensors.

Each kernel reproduces, operation for operation and in the input's floating dtype, the
arithmetic of the pure-torch path it accelerates, so the two agree to the last bit:

- :func:`pairwise_iou` follows ``torchvision.ops.box_iou`` / ``generalized_box_iou`` /
  ``distance_box_iou`` / ``complete_box_iou`` (NaN-propagating ``max``/``min`` like
  ``torch.max``; the CIoU ``atan`` terms come in precomputed by torch, one per box).
- :func:`greedy_nms` follows torchvision's CPU NMS kernel (``std::max``/``std::min``
  semantics, ``IoU > threshold`` compared in double precision). Its live candidate list
  shrinks as boxes are suppressed, and for thresholds >= 0 a uniform grid skips every pair
  whose intersection is empty: such a pair has an IoU of 0 or NaN and can never suppress, so
  the pruning changes no result.
- :func:`soft_nms_kernel` is Soft-NMS (Bodla et al., 2017) with a live list in index order.
- :func:`descending_order` (radix sort of float32 scores) and :func:`group_by_label`
  (counting sort of categories) give ``torch.sort``'s stable orders in O(N).

Only float32 and float64 arrays reach these functions (C-contiguous), which keeps the number
of compiled signatures at two per kernel; ``cache=True`` stores them on disk after the first
compilation. ``error_model="numpy"`` gives IEEE division (x / 0 is inf or NaN, as in torch)
instead of Python's ZeroDivisionError. Typed constants come in as a small array
(``*_constants``) and buffers are ``np.empty`` filled by loops: ``np.full``/``np.zeros``
inside a kernel cost seconds of compile time each.
"""

from __future__ import annotations

import math

import numpy as np

from tinyvision._numba import jit

IOU, GIOU, DIOU, CIOU = 0, 1, 2, 3


def pairwise_constants(dtype: np.dtype, eps: float) -> np.ndarray:
    """``[0, 1, 2, eps, 4 / pi^2]`` in ``dtype``: typed constants for :func:`pairwise_iou`."""
    return np.array([0.0, 1.0, 2.0, eps, 4 / math.pi**2], dtype=dtype)


def nms_constants(dtype: np.dtype, eps: float) -> np.ndarray:
    """``[0, 2, eps]`` in ``dtype`` for :func:`greedy_nms`."""
    return np.array([0.0, 2.0, eps], dtype=dtype)


def soft_nms_constants(dtype: np.dtype, sigma: float) -> np.ndarray:
    """``[0, 1, 2, sigma]`` in ``dtype`` for :func:`soft_nms_kernel`."""
    return np.array([0.0, 1.0, 2.0, sigma], dtype=dtype)


# Segments with fewer boxes than this are scanned linearly; the grid pays off above it.
GRID_MIN_BOXES = 128


@jit(error_model="numpy")
def pairwise_iou(boxes1, boxes2, kind, consts, atan1, atan2):  # pragma: no cover - compiled
    """``[N, 4] x [M, 4] -> [N, M]`` IoU (kind 0), GIoU (1), DIoU (2) or CIoU (3).

    ``consts`` is :func:`pairwise_constants` in the boxes' dtype; ``atan1``/``atan2`` hold
    ``atan(w / h)`` per box (only read for CIoU).
    """
    n = boxes1.shape[0]
    m = boxes2.shape[0]
    out = np.empty((n, m), dtype=boxes1.dtype)
    zero = consts[0]
    one = consts[1]
    two = consts[2]
    e = consts[3]
    four_over_pi2 = consts[4]
    area2 = np.empty(m, dtype=boxes1.dtype)
    cx2 = np.empty(m, dtype=boxes1.dtype)
    cy2 = np.empty(m, dtype=boxes1.dtype)
    for j in range(m):
        area2[j] = (boxes2[j, 2] - boxes2[j, 0]) * (boxes2[j, 3] - boxes2[j, 1])
        cx2[j] = (boxes2[j, 0] + boxes2[j, 2]) / two
        cy2[j] = (boxes2[j, 1] + boxes2[j, 3]) / two
    for i in range(n):
        ax1 = boxes1[i, 0]
        ay1 = boxes1[i, 1]
        ax2 = boxes1[i, 2]
        ay2 = boxes1[i, 3]
        area1 = (ax2 - ax1) * (ay2 - ay1)
        cx1 = (ax1 + ax2) / two
        cy1 = (ay1 + ay2) / two
        for j in range(m):
            bx1 = boxes2[j, 0]
            by1 = boxes2[j, 1]
            bx2 = boxes2[j, 2]
            by2 = boxes2[j, 3]
            # torch.max / torch.min / clamp(min=0) propagate NaN: written out as
            # "a if (a <op> b or a is NaN) else b" (helper functions cost compile time)
            lo_x = ax1 if (ax1 > bx1 or ax1 != ax1) else bx1
            lo_y = ay1 if (ay1 > by1 or ay1 != ay1) else by1
            hi_x = ax2 if (ax2 < bx2 or ax2 != ax2) else bx2
            hi_y = ay2 if (ay2 < by2 or ay2 != ay2) else by2
            w = hi_x - lo_x
            h = hi_y - lo_y
            w = w if (w > zero or w != w) else zero
            h = h if (h > zero or h != h) else zero
            inter = w * h
            union = area1 + area2[j] - inter
            iou = inter / union
            if kind == IOU:
                out[i, j] = iou
                continue
            ew, eh = _enclosing_wh(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2, zero)
            if kind == GIOU:
                enclosing = ew * eh
                out[i, j] = iou - (enclosing - union) / enclosing
                continue
            diagonal = ew * ew + eh * eh + e
            dx = cx1 - cx2[j]
            dy = cy1 - cy2[j]
            diou = iou - (dx * dx + dy * dy) / diagonal
            if kind == DIOU:
                out[i, j] = diou
                continue
            d = atan1[i] - atan2[j]
            v = four_over_pi2 * (d * d)
            alpha = v / (one - iou + v + e)
            out[i, j] = diou - alpha * v
    return out


@jit(error_model="numpy")
def _columns(boxes, perm):  # pragma: no cover - compiled
    """``x1, y1, x2, y2`` and the areas ``(x2 - x1) * (y2 - y1)`` of ``boxes[perm]``."""
    n = perm.shape[0]
    x1 = np.empty(n, dtype=boxes.dtype)
    y1 = np.empty(n, dtype=boxes.dtype)
    x2 = np.empty(n, dtype=boxes.dtype)
    y2 = np.empty(n, dtype=boxes.dtype)
    area = np.empty(n, dtype=boxes.dtype)
    for t in range(n):
        b = perm[t]
        x1[t] = boxes[b, 0]
        y1[t] = boxes[b, 1]
        x2[t] = boxes[b, 2]
        y2[t] = boxes[b, 3]
        area[t] = (x2[t] - x1[t]) * (y2[t] - y1[t])
    return x1, y1, x2, y2, area


@jit(error_model="numpy")
def _enclosing_wh(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2, zero):  # pragma: no cover - compiled
    """Width and height of the smallest box enclosing a and b, as torch computes them:
    ``clamp(max(a2, b2) - min(a1, b1), min=0)`` with NaN-propagating max, min and clamp."""
    lo_x = ax1 if (ax1 < bx1 or ax1 != ax1) else bx1
    lo_y = ay1 if (ay1 < by1 or ay1 != ay1) else by1
    hi_x = ax2 if (ax2 > bx2 or ax2 != ax2) else bx2
    hi_y = ay2 if (ay2 > by2 or ay2 != ay2) else by2
    ew = hi_x - lo_x
    eh = hi_y - lo_y
    ew = ew if (ew > zero or ew != ew) else zero
    eh = eh if (eh > zero or eh != eh) else zero
    return ew, eh


@jit(error_model="numpy")
def _nms_criterion(
    ix1, iy1, ix2, iy2, ia, jx1, jy1, jx2, jy2, ja, zero, two, e, diou
):  # pragma: no cover
    """IoU (or DIoU) of box ``i`` (kept) and box ``j`` (candidate); ``ia``/``ja`` are areas.

    The IoU is torchvision's CPU kernel to the letter: ``std::max(a, b)`` is
    ``a < b ? b : a``, ``std::min(a, b)`` is ``b < a ? b : a``.
    """
    xx1 = jx1 if ix1 < jx1 else ix1
    yy1 = jy1 if iy1 < jy1 else iy1
    xx2 = jx2 if jx2 < ix2 else ix2
    yy2 = jy2 if jy2 < iy2 else iy2
    w = xx2 - xx1
    h = yy2 - yy1
    w = w if zero < w else zero
    h = h if zero < h else zero
    inter = w * h
    ovr = inter / (ia + ja - inter)
    if not diou:
        return ovr
    # distance penalty exactly as in distance_box_iou (NaN-propagating min/max and clamp)
    ew, eh = _enclosing_wh(ix1, iy1, ix2, iy2, jx1, jy1, jx2, jy2, zero)
    diagonal = ew * ew + eh * eh + e
    dx = (ix1 + ix2) / two - (jx1 + jx2) / two
    dy = (iy1 + iy2) / two - (jy1 + jy2) / two
    return ovr - (dx * dx + dy * dy) / diagonal


@jit(error_model="numpy")
def _criterion_at(x1, y1, x2, y2, area, p, q, zero, two, e, diou):  # pragma: no cover
    """:func:`_nms_criterion` of the boxes at positions ``p`` (kept) and ``q``."""
    return _nms_criterion(
        x1[p], y1[p], x2[p], y2[p], area[p], x1[q], y1[q], x2[q], y2[q], area[q], zero, two, e, diou
    )


@jit(error_model="numpy")
def descending_order(bits):  # pragma: no cover - compiled
    """``torch.sort(scores, stable=True, descending=True)[1]`` for float32 scores, in O(N).

    ``bits`` is the scores' float32 bit patterns as int32 (``scores.view(torch.int32)``).
    Each becomes an unsigned key that orders like torch's descending sort: NaN first (all
    NaNs equal), then +inf down to -inf, with -0.0 equal to +0.0; an LSD radix sort on the
    key (3 passes of 11 bits) is stable, so ties keep the lower index first.
    """
    n = bits.shape[0]
    keys = np.empty(n, dtype=np.uint32)
    for i in range(n):
        u = np.uint32(bits[i]) & np.uint32(0xFFFFFFFF)
        if (u & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000):  # NaN: above everything
            u = np.uint32(0xFFFFFFFF)
        elif (u & np.uint32(0x7FFFFFFF)) == np.uint32(0):  # -0.0 sorts with +0.0
            u = np.uint32(0x80000000)
        elif u & np.uint32(0x80000000):  # negative: larger magnitude sorts lower
            u = ~u
        else:
            u = u | np.uint32(0x80000000)
        keys[i] = ~u  # descending
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[i] = i
    scratch = np.empty(n, dtype=np.int64)
    count = np.empty(2049, dtype=np.int64)
    for shift in (0, 11, 22):
        for d in range(2049):
            count[d] = 0
        for i in range(n):
            count[((keys[order[i]] >> np.uint32(shift)) & np.uint32(0x7FF)) + 1] += 1
        for d in range(2048):
            count[d + 1] += count[d]
        for i in range(n):
            digit = (keys[order[i]] >> np.uint32(shift)) & np.uint32(0x7FF)
            scratch[count[digit]] = order[i]
            count[digit] += 1
        order, scratch = scratch, order
    return order


@jit(error_model="numpy")
def group_by_label(labels):  # pragma: no cover - compiled
    """Stable counting sort of int64 ``labels``: ``(positions, segment bounds)``.

    ``positions`` lists the indices of the smallest label first, each label's indices in
    increasing order (``torch.sort(labels, stable=True)[1]``); ``bounds[s]:bounds[s + 1]``
    is the s-th label present. Returns empty arrays when the labels span more than
    ``4 * len + 1024`` values (the caller then sorts).
    """
    n = labels.shape[0]
    low = labels[0]
    high = labels[0]
    for i in range(n):
        if labels[i] < low:
            low = labels[i]
        if labels[i] > high:
            high = labels[i]
    span = high - low + 1
    if span > 4 * n + 1024 or span < 0:  # (span < 0: the difference overflowed)
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    count = np.empty(span + 1, dtype=np.int64)
    for d in range(span + 1):
        count[d] = 0
    for i in range(n):
        count[labels[i] - low + 1] += 1
    present = 0
    for d in range(span):
        if count[d + 1] > 0:
            present += 1
        count[d + 1] += count[d]
    bounds = np.empty(present + 1, dtype=np.int64)
    s = 0
    for d in range(span):
        if count[d + 1] > count[d]:
            bounds[s] = count[d]
            s += 1
    bounds[present] = n
    positions = np.empty(n, dtype=np.int64)
    for i in range(n):
        d = labels[i] - low
        positions[count[d]] = i
        count[d] += 1
    return positions, bounds


@jit(error_model="numpy")
def greedy_nms(boxes, perm, segments, threshold, diou, consts):  # pragma: no cover - compiled
    """Greedy NMS over independent segments of a processing order.

    Args:
        boxes: ``[N, 4]`` float32/float64, C-contiguous, ``(x1, y1, x2, y2)``.
        perm: ``[N]`` int64 box indices; each segment ``perm[segments[s]:segments[s + 1]]``
            is one class, in processing (descending score) order.
        segments: ``[S + 1]`` int64 segment bounds.
        threshold: a box is suppressed when its criterion with a kept box is ``> threshold``.
        diou: use IoU - d^2/(c^2 + eps) (DIoU-NMS) instead of IoU.
        consts: :func:`nms_constants` in the boxes' dtype (holds ``eps``).

    Returns:
        ``[N]`` bool: ``kept[t]`` tells whether box ``perm[t]`` survives.
    """
    n = perm.shape[0]
    x1, y1, x2, y2, area = _columns(boxes, perm)
    # np.empty + loops: np.zeros/np.full cost seconds of compile time each
    done = np.empty(n, dtype=np.bool_)
    kept = np.empty(n, dtype=np.bool_)
    for t in range(n):
        done[t] = False
        kept[t] = False
    for s in range(segments.shape[0] - 1):
        lo = segments[s]
        hi = segments[s + 1]
        if threshold >= 0 and hi - lo >= GRID_MIN_BOXES:
            _grid_segment(x1, y1, x2, y2, area, lo, hi, done, kept, threshold, consts, diou)
        else:
            _linear_segment(x1, y1, x2, y2, area, lo, hi, done, kept, threshold, consts, diou)
    return kept


@jit(error_model="numpy")
def _linear_segment(x1, y1, x2, y2, area, lo, hi, done, kept, threshold, consts, diou):
    """Greedy NMS of positions ``[lo, hi)``: keep the first live box, compare it with every
    other live box, compact the survivors, repeat (the live list shrinks as boxes die)."""
    zero = consts[0]
    two = consts[1]
    e = consts[2]
    live = np.empty(hi - lo, dtype=np.int64)
    count = 0
    for t in range(lo, hi):
        live[count] = t
        count += 1
    while count > 0:
        p = live[0]
        kept[p] = True
        done[p] = True
        write = 0
        for k in range(1, count):
            q = live[k]
            crit = _criterion_at(x1, y1, x2, y2, area, p, q, zero, two, e, diou)
            if crit > threshold:
                done[q] = True
            else:
                live[write] = q
                write += 1
        count = write


@jit(error_model="numpy")
def _grid_segment(x1, y1, x2, y2, area, lo, hi, done, kept, threshold, consts, diou):
    """Greedy NMS of positions ``[lo, hi)`` for a threshold >= 0, pruned with a grid.

    With a threshold >= 0 only a pair with a non-empty intersection can suppress: any other
    pair has an IoU (and DIoU) of 0, -0 or NaN. Boxes that are not finite with positive width
    and height never have one, so they are simply kept. The others sit in the grid cell of
    their corner ``(x1, y1)``, in processing order; a box meeting ``p`` has its ``x1`` in
    ``(p.x1 - widest, p.x2)`` (and the same for y), so the kept box ``p`` visits only the
    cells of that range, tests the live boxes there and drops the suppressed ones.
    """
    zero = consts[0]
    two = consts[1]
    e = consts[2]
    n = hi - lo
    active = np.empty(n, dtype=np.bool_)
    cell_x = np.empty(n, dtype=np.int64)
    cell_y = np.empty(n, dtype=np.int64)
    left, top, size_x, size_y, reach_x, reach_y, gx, gy = _corner_grid(
        x1, y1, x2, y2, lo, hi, active, cell_x, cell_y
    )
    # cell lists (CSR) in processing order
    ncell = gx * gy
    start = np.empty(ncell + 1, dtype=np.int64)
    for c in range(ncell + 1):
        start[c] = 0
    for t in range(n):
        if active[t]:
            start[cell_y[t] * gx + cell_x[t] + 1] += 1
    for c in range(ncell):
        start[c + 1] += start[c]
    end = np.empty(ncell, dtype=np.int64)
    for c in range(ncell):
        end[c] = start[c]
    items = np.empty(start[ncell], dtype=np.int64)
    for t in range(n):
        if active[t]:
            c = cell_y[t] * gx + cell_x[t]
            items[end[c]] = lo + t
            end[c] += 1
    for p in range(lo, hi):
        if done[p]:
            continue
        done[p] = True
        kept[p] = True
        if not active[p - lo]:
            continue
        px1 = x1[p]
        py1 = y1[p]
        px2 = x2[p]
        py2 = y2[p]
        pa = area[p]
        cx_lo = _cell(px1 - reach_x - left, size_x, gx)
        cx_hi = _cell(px2 - left, size_x, gx)
        cy_lo = _cell(py1 - reach_y - top, size_y, gy)
        cy_hi = _cell(py2 - top, size_y, gy)
        for cy in range(cy_lo, cy_hi + 1):
            for cx in range(cx_lo, cx_hi + 1):
                c = cy * gx + cx
                write = start[c]
                for k in range(start[c], end[c]):
                    q = items[k]
                    if done[q]:
                        continue  # decided: dropped from the list
                    qx1 = x1[q]
                    qy1 = y1[q]
                    qx2 = x2[q]
                    qy2 = y2[q]
                    if qx1 < px2 and px1 < qx2 and qy1 < py2 and py1 < qy2:
                        crit = _nms_criterion(
                            px1, py1, px2, py2, pa, qx1, qy1, qx2, qy2, area[q], zero, two, e, diou
                        )
                        if crit > threshold:
                            done[q] = True
                            continue
                    items[write] = q
                    write += 1
                end[c] = write


@jit(error_model="numpy")
def _corner_grid(x1, y1, x2, y2, lo, hi, active, cell_x, cell_y):  # pragma: no cover - compiled
    """Mark the active boxes of ``[lo, hi)`` and put each in the cell of its corner (x1, y1).

    Returns ``(left, top, size_x, size_y, reach_x, reach_y, gx, gy)``: the grid's origin,
    cell size and shape, and how far left (up) of a box a meeting box's corner can lie (the
    widest (tallest) box plus a margin far above float64 rounding). The cell of a coordinate
    is a monotone function of it, so the range of cells a kept box visits always holds the
    corners of the boxes it meets. Written with plain comparisons: min/max/float/np.isfinite
    each add compile time.
    """
    count = 0
    left = np.inf
    top = np.inf
    right = -np.inf
    bottom = -np.inf
    sum_w = 0.0
    sum_h = 0.0
    max_w = 0.0
    max_h = 0.0
    for t in range(lo, hi):
        a = x1[t] * 1.0  # float64
        b = y1[t] * 1.0
        c = x2[t] * 1.0
        d = y2[t] * 1.0
        # x - x == 0 holds exactly for finite x (inf - inf and NaN - NaN are NaN)
        ok = a - a == 0 and b - b == 0 and c - c == 0 and d - d == 0 and c > a and d > b
        active[t - lo] = ok
        if ok:
            count += 1
            if a < left:
                left = a
            if b < top:
                top = b
            if c > right:
                right = c
            if d > bottom:
                bottom = d
            sum_w += c - a
            sum_h += d - b
            if c - a > max_w:
                max_w = c - a
            if d - b > max_h:
                max_h = d - b
    if count == 0:
        return 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1, 1
    # cells of about the mean box size, at least a quarter of the widest box (a kept box
    # visits at most ~6 columns), at most 4096 along a side, at most ~2 cells per box
    size_x = sum_w / count
    size_y = sum_h / count
    if size_x < max_w / 4.0:
        size_x = max_w / 4.0
    if size_y < max_h / 4.0:
        size_y = max_h / 4.0
    if size_x < (right - left) / 4096.0:
        size_x = (right - left) / 4096.0
    if size_y < (bottom - top) / 4096.0:
        size_y = (bottom - top) / 4096.0
    # a span or a sum of widths beyond the float64 range (or cells that underflow to 0) give
    # no usable cell size: then one cell holds every box, a plain scan of the active boxes
    if not (0.0 < size_x < np.inf and 0.0 < size_y < np.inf):
        for t in range(hi - lo):
            cell_x[t] = 0
            cell_y[t] = 0
        return left, top, 1.0, 1.0, 0.0, 0.0, 1, 1
    gx = int((right - left) / size_x) + 1
    gy = int((bottom - top) / size_y) + 1
    while gx * gy > 2 * count + 16:
        size_x *= 2.0
        size_y *= 2.0
        gx = int((right - left) / size_x) + 1
        gy = int((bottom - top) / size_y) + 1
    for t in range(lo, hi):
        if active[t - lo]:
            cell_x[t - lo] = _cell(x1[t] - left, size_x, gx)
            cell_y[t - lo] = _cell(y1[t] - top, size_y, gy)
    scale_x = right if right > -left else -left
    scale_y = bottom if bottom > -top else -top
    reach_x = max_w + 1e-9 * (max_w + scale_x)
    reach_y = max_h + 1e-9 * (max_h + scale_y)
    return left, top, size_x, size_y, reach_x, reach_y, gx, gy


@jit(error_model="numpy")
def _cell(offset, size, cells):  # pragma: no cover - compiled
    """Grid cell of a coordinate ``offset`` from the grid's origin: monotone in ``offset``,
    clamped to ``[0, cells - 1]`` (NaN and -inf give 0, +inf the last cell: the float is
    compared before it is converted, as converting one beyond int64 is undefined)."""
    q = offset / size
    if not q > 0:
        return 0
    if q >= cells:
        return cells - 1
    return int(q)


@jit(error_model="numpy")
def soft_nms_kernel(
    boxes, scores, threshold, consts, score_threshold, gaussian
):  # pragma: no cover
    """Soft-NMS; returns ``(kept indices, their decayed scores)`` in selection order.

    At each step the live box with the highest current score (lowest index on ties) is kept;
    every other live box's score is multiplied by ``1 - IoU`` when ``IoU > threshold``
    (linear) or by ``exp(-IoU^2 / sigma)`` (gaussian), and boxes whose score falls below
    ``score_threshold`` are dropped. ``consts`` is :func:`soft_nms_constants`. IoU arithmetic
    is that of :func:`greedy_nms`; the NaN
    IoU of two empty boxes (0 / 0) counts as 0.
    """
    n = boxes.shape[0]
    x1, y1, x2, y2, area = _columns(boxes, np.arange(n))
    zero = consts[0]
    one = consts[1]
    two = consts[2]
    sig = consts[3]
    s = scores.copy()
    live = np.empty(n, dtype=np.int64)
    count = 0
    for i in range(n):
        if s[i] >= score_threshold:
            live[count] = i
            count += 1
    keep = np.empty(n, dtype=np.int64)
    kept_scores = np.empty(n, dtype=boxes.dtype)
    k = 0
    while count > 0:
        best = 0
        for t in range(1, count):
            if s[live[t]] > s[live[best]]:
                best = t
        p = live[best]
        keep[k] = p
        kept_scores[k] = s[p]
        k += 1
        write = 0
        for t in range(count):
            q = live[t]
            if q == p:
                continue
            ovr = _criterion_at(x1, y1, x2, y2, area, p, q, zero, two, zero, False)
            if ovr != ovr:  # 0 / 0: two empty boxes do not overlap
                ovr = zero
            if gaussian:
                s[q] = s[q] * np.exp(-(ovr * ovr) / sig)
            elif ovr > threshold:
                s[q] = s[q] * (one - ovr)
            if s[q] >= score_threshold:
                live[write] = q
                write += 1
        count = write
    return keep[:k], kept_scores[:k]


# --------------------------------------------------------------------------- rotated boxes
#
# torchvision's rotated IoU (``box_iou_rotated``, detectron2's algorithm): the corners of
# both ``(cx, cy, w, h, angle)`` boxes, every edge/edge crossing and every corner inside the
# other box (with tolerances), the convex hull of those points (Graham scan after a
# selection sort by angle) and its area. The functions below repeat its C++ operation for
# operation in the boxes' dtype ``T``; where the C++ mixes in ``double`` (the angle, the
# centre shift, the tolerances) they do too, and values are rounded back to ``T`` by storing
# them in a ``T`` buffer. ``scratch`` holds the per-pair buffers:
# rows 0-3 corners of box 1, 4-7 corners of box 2 (column 2 of rows 0-3: the shifted
# centres), 16-39 candidate points, 40-63 the hull; column 2 of rows 16-39 holds squared
# distances. The per-pair helpers are inlined (``inline=True``): a call with array
# arguments passes each array's fields, and such calls cost more than the work.

_ROT_ROWS = 64
_ONE_EPS = 1.0 + 1e-5  # torchvision's ``1.0f + EPS``, in double


@jit(error_model="numpy")
def _rotated_trig(boxes, consts):  # pragma: no cover - compiled
    """Per box ``[cos(theta) / 2, sin(theta) / 2]`` in ``T`` as torchvision rounds them: the
    angle in double (``angle * 0.01745329251``), ``cos``/``sin`` rounded to ``T``, times a
    ``T`` one half. They depend on the box alone, so they are computed once per box."""
    n = boxes.shape[0]
    trig = np.empty((n, 2), dtype=boxes.dtype)
    for i in range(n):
        theta = np.float64(boxes[i, 4]) * 0.01745329251
        trig[i, 0] = math.cos(theta)
        trig[i, 1] = math.sin(theta)
        trig[i, 0] = trig[i, 0] * consts[1]
        trig[i, 1] = trig[i, 1] * consts[1]
    return trig


@jit(error_model="numpy", inline=True)
def _rotated_corners(cx, cy, w, h, c2, s2, scratch, row, two):  # pragma: no cover - compiled
    """Corners of one box into ``scratch[row:row + 4]`` (torchvision's vertex order)."""
    x0 = cx + s2 * h + c2 * w
    y0 = cy + c2 * h - s2 * w
    x1 = cx - s2 * h + c2 * w
    y1 = cy - c2 * h - s2 * w
    scratch[row, 0] = x0
    scratch[row, 1] = y0
    scratch[row + 1, 0] = x1
    scratch[row + 1, 1] = y1
    scratch[row + 2, 0] = two * cx - x0
    scratch[row + 2, 1] = two * cy - y0
    scratch[row + 3, 0] = two * cx - x1
    scratch[row + 3, 1] = two * cy - y1


@jit(error_model="numpy")
def _corners_inside(s, num, pts, ox, oy, abx, aby, dax, day):  # pragma: no cover - compiled
    """Append the corners ``pts`` (``(x0, y0, ..., x3, y3)``) lying inside the box with
    corner ``(ox, oy)`` and edge vectors ``ab``, ``da`` (its first and last) to the candidate
    points ``s[16 + num:]``; returns the new count. Branch-free: every corner is written at
    the next free row, which only advances when the corner is inside (rows 16-40 are
    writable; row 40 is the hull's, filled later)."""
    ab_ab = np.float64(abx * abx + aby * aby) + 1e-5
    ad_ad = np.float64(dax * dax + day * day) + 1e-5
    for i in range(4):
        px = pts[2 * i]
        py = pts[2 * i + 1]
        apx = px - ox
        apy = py - oy
        ap_ab = apx * abx + apy * aby
        ap_ad = -(apx * dax + apy * day)
        inside = (ap_ab > -1e-5) & (ap_ad > -1e-5) & (ap_ab < ab_ab) & (ap_ad < ad_ad)
        s[16 + num, 0] = px
        s[16 + num, 1] = py
        num += inside
    return num


@jit(error_model="numpy", inline=True)
def _crossing(s, num, px, py, v1x, v1y, qx, qy, v2x, v2y):  # pragma: no cover - compiled
    """torchvision's crossing of the edge ``p + t1 v1`` with the edge ``q + t2 v2``: written
    at ``s[16 + num]``; returns ``num + 1`` when it counts (determinant above ``1e-14`` in
    magnitude, both parameters within ``[-1e-5, 1 + 1e-5]``; NaN fails), else ``num``."""
    det = v2x * v1y - v1x * v2y
    dx = qx - px
    dy = qy - py
    t1 = (v2x * dy - dx * v2y) / det
    t2 = (v1x * dy - dx * v1y) / det
    crossing = (abs(det) > 1e-14) & (t1 > -1e-5) & (t1 < _ONE_EPS) & (t2 > -1e-5) & (t2 < _ONE_EPS)
    s[16 + num, 0] = px + v1x * t1
    s[16 + num, 1] = py + v1y * t1
    return num + crossing


@jit(error_model="numpy", inline=True)
def _edge_crossings(s, num, px, py, v1x, v1y, b):  # pragma: no cover - compiled
    """The crossings of one edge of box 1 with the four edges of box 2, in order; ``b`` is
    box 2's ``(corners, edges)`` tuple (:func:`_box_tuple`)."""
    num = _crossing(s, num, px, py, v1x, v1y, b[0], b[1], b[8], b[9])
    num = _crossing(s, num, px, py, v1x, v1y, b[2], b[3], b[10], b[11])
    num = _crossing(s, num, px, py, v1x, v1y, b[4], b[5], b[12], b[13])
    return _crossing(s, num, px, py, v1x, v1y, b[6], b[7], b[14], b[15])


@jit(error_model="numpy", inline=True)
def _box_tuple(s, row):  # pragma: no cover - compiled
    """The corners ``s[row:row + 4]`` and the edge vectors between them (corner ``k + 1``
    minus corner ``k``, cyclically, in ``T``) as one tuple ``(x0, y0, ..., x3, y3, e0x, e0y,
    ..., e3x, e3y)``, held in registers rather than in the scratch rows the loops write."""
    x0 = s[row, 0]
    y0 = s[row, 1]
    x1 = s[row + 1, 0]
    y1 = s[row + 1, 1]
    x2 = s[row + 2, 0]
    y2 = s[row + 2, 1]
    x3 = s[row + 3, 0]
    y3 = s[row + 3, 1]
    return (
        x0, y0, x1, y1, x2, y2, x3, y3,
        x1 - x0, y1 - y0, x2 - x1, y2 - y1, x3 - x2, y3 - y2, x0 - x3, y0 - y3,
    )  # fmt: skip


@jit(error_model="numpy", inline=True)
def _intersection_points(s):  # pragma: no cover - compiled
    """Candidate points of the intersection polygon (corners of box 1 in ``s[0:4]``, of box
    2 in ``s[4:8]``) into ``s[16:40]``; returns their count.

    The same points in the same order as torchvision's loops (edge pairs ``i``-major, then
    the corners of box 1 inside box 2, then those of box 2 inside box 1), computed without
    branches (:func:`_crossing`, :func:`_corners_inside`)."""
    a = _box_tuple(s, 0)
    b = _box_tuple(s, 4)
    num = _edge_crossings(s, 0, a[0], a[1], a[8], a[9], b)
    num = _edge_crossings(s, num, a[2], a[3], a[10], a[11], b)
    num = _edge_crossings(s, num, a[4], a[5], a[12], a[13], b)
    num = _edge_crossings(s, num, a[6], a[7], a[14], a[15], b)
    num = _corners_inside(s, num, a[:8], b[0], b[1], b[8], b[9], b[14], b[15])
    return _corners_inside(s, num, b[:8], a[0], a[1], a[8], a[9], a[14], a[15])


def _intersection_points_reference(s: np.ndarray) -> int:
    """Plain numpy twin of :func:`_intersection_points`: torchvision's loops as written,
    with its branches (``continue`` on a small determinant), on ``s``'s scalars."""
    corners = [(s[k, 0], s[k, 1]) for k in range(8)]
    edges = [
        (corners[4 * b + (k + 1) % 4][0] - corners[4 * b + k][0],
         corners[4 * b + (k + 1) % 4][1] - corners[4 * b + k][1])
        for b in range(2)
        for k in range(4)
    ]  # fmt: skip
    points = []
    with np.errstate(all="ignore"):
        for i in range(4):
            for j in range(4):
                (v1x, v1y), (v2x, v2y) = edges[i], edges[4 + j]
                det = v2x * v1y - v1x * v2y
                if abs(det) <= 1e-14:
                    continue
                dx = corners[4 + j][0] - corners[i][0]
                dy = corners[4 + j][1] - corners[i][1]
                t1 = (v2x * dy - dx * v2y) / det
                t2 = (v1x * dy - dx * v1y) / det
                if -1e-5 < t1 < _ONE_EPS and -1e-5 < t2 < _ONE_EPS:
                    points.append((corners[i][0] + v1x * t1, corners[i][1] + v1y * t1))
        for box, other in ((0, 1), (1, 0)):
            (abx, aby), (dax, day) = edges[4 * other], edges[4 * other + 3]
            ab_ab = np.float64(abx * abx + aby * aby) + 1e-5
            ad_ad = np.float64(dax * dax + day * day) + 1e-5
            for px, py in corners[4 * box : 4 * box + 4]:
                apx = px - corners[4 * other][0]
                apy = py - corners[4 * other][1]
                ap_ab = apx * abx + apy * aby
                ap_ad = -(apx * dax + apy * day)
                if ap_ab > -1e-5 and ap_ad > -1e-5 and ap_ab < ab_ab and ap_ad < ad_ad:
                    points.append((px, py))
    for k, (x, y) in enumerate(points):
        s[16 + k, 0] = x
        s[16 + k, 1] = y
    return len(points)


@jit(error_model="numpy", inline=True)
def _hull_area(s, num, zero, two):  # pragma: no cover - compiled
    """Area of the convex hull of the ``num`` points in ``s[16:16 + num]`` (Graham scan)."""
    t = 0
    for i in range(1, num):
        if s[16 + i, 1] < s[16 + t, 1] or (
            s[16 + i, 1] == s[16 + t, 1] and s[16 + i, 0] < s[16 + t, 0]
        ):
            t = i
    sx = s[16 + t, 0]
    sy = s[16 + t, 1]
    q = 40
    for i in range(num):
        s[q + i, 0] = s[16 + i, 0] - sx
        s[q + i, 1] = s[16 + i, 1] - sy
    x = s[q, 0]
    y = s[q, 1]
    s[q, 0] = s[q + t, 0]
    s[q, 1] = s[q + t, 1]
    s[q + t, 0] = x
    s[q + t, 1] = y
    for i in range(num):  # squared distances in column 2 of the candidate rows
        s[16 + i, 2] = s[q + i, 0] * s[q + i, 0] + s[q + i, 1] * s[q + i, 1]
    for i in range(1, num - 1):
        for j in range(i + 1, num):
            cross = s[q + i, 0] * s[q + j, 1] - s[q + j, 0] * s[q + i, 1]
            if cross < -1e-6 or (abs(cross) < 1e-6 and s[16 + i, 2] > s[16 + j, 2]):
                for c in range(2):
                    x = s[q + i, c]
                    s[q + i, c] = s[q + j, c]
                    s[q + j, c] = x
                x = s[16 + i, 2]
                s[16 + i, 2] = s[16 + j, 2]
                s[16 + j, 2] = x
    k = 1
    while k < num:
        if s[q + k, 0] * s[q + k, 0] + s[q + k, 1] * s[q + k, 1] > 1e-8:
            break
        k += 1
    if k == num:
        return zero
    s[q + 1, 0] = s[q + k, 0]
    s[q + 1, 1] = s[q + k, 1]
    m = 2
    for i in range(k + 1, num):
        while m > 1:
            q1x = s[q + i, 0] - s[q + m - 2, 0]
            q1y = s[q + i, 1] - s[q + m - 2, 1]
            q2x = s[q + m - 1, 0] - s[q + m - 2, 0]
            q2y = s[q + m - 1, 1] - s[q + m - 2, 1]
            if q1x * q2y >= q2x * q1y:
                m -= 1
            else:
                break
        s[q + m, 0] = s[q + i, 0]
        s[q + m, 1] = s[q + i, 1]
        m += 1
    area = zero
    for i in range(1, m - 1):
        ax = s[q + i, 0] - s[q, 0]
        ay = s[q + i, 1] - s[q, 1]
        bx = s[q + i + 1, 0] - s[q, 0]
        by = s[q + i + 1, 1] - s[q, 1]
        area += abs(ax * by - bx * ay)
    return area / two


@jit(error_model="numpy", inline=True)
def _rotated_iou_at(boxes1, i, boxes2, j, trig1, trig2, s, consts):  # pragma: no cover
    """IoU, in ``T``, of the rotated boxes ``boxes1[i]`` and ``boxes2[j]`` (rows ``(cx, cy,
    w, h, angle)``; ``trig1``/``trig2`` their :func:`_rotated_trig` rows).

    The rows are read by index: a row slice in a compiled loop costs an atomic reference
    count increment and decrement, which was a third of the matrix's time."""
    zero = consts[0]
    two = consts[2]
    area1 = boxes1[i, 2] * boxes1[i, 3]
    area2 = boxes2[j, 2] * boxes2[j, 3]
    if area1 < 1e-14 or area2 < 1e-14:
        return zero
    # torchvision shifts both centres by their midpoint, computed in double
    shift_x = np.float64(boxes1[i, 0] + boxes2[j, 0]) / 2.0
    shift_y = np.float64(boxes1[i, 1] + boxes2[j, 1]) / 2.0
    s[0, 2] = np.float64(boxes1[i, 0]) - shift_x
    s[1, 2] = np.float64(boxes1[i, 1]) - shift_y
    s[2, 2] = np.float64(boxes2[j, 0]) - shift_x
    s[3, 2] = np.float64(boxes2[j, 1]) - shift_y
    _rotated_corners(
        s[0, 2], s[1, 2], boxes1[i, 2], boxes1[i, 3], trig1[i, 0], trig1[i, 1], s, 0, two
    )
    _rotated_corners(
        s[2, 2], s[3, 2], boxes2[j, 2], boxes2[j, 3], trig2[j, 0], trig2[j, 1], s, 4, two
    )
    num = _intersection_points(s)
    inter = zero if num <= 2 else _hull_area(s, num, zero, two)
    iou = inter / (area1 + area2 - inter)
    # torchvision 0.29.1 clamps to [0, 1] (NaN passes through)
    if iou < zero:
        return zero
    if iou > consts[3]:
        return consts[3]
    return iou


@jit(error_model="numpy")
def _rotated_iou_pair(a, b, ta, tb, s, consts):  # pragma: no cover - compiled
    """IoU of the rotated boxes ``a`` and ``b`` (rows ``(cx, cy, w, h, angle)``, their
    :func:`_rotated_trig` rows ``ta``, ``tb``), in ``T`` (:func:`_rotated_iou_at`)."""
    return _rotated_iou_at(
        a.reshape(1, 5), 0, b.reshape(1, 5), 0, ta.reshape(1, 2), tb.reshape(1, 2), s, consts
    )


def rotated_constants(dtype: np.dtype) -> np.ndarray:
    """``[0, 0.5, 2, 1]`` in ``dtype`` for the rotated kernels."""
    return np.array([0.0, 0.5, 2.0, 1.0], dtype=dtype)


@jit(error_model="numpy")
def _rotated_reach(boxes):  # pragma: no cover - compiled
    """Per box, in double: a radius around the centre beyond which torchvision's algorithm
    finds no intersection point (half the diagonal, plus its absolute ``1e-5`` tolerance on
    dot products seen from the shortest side, plus 0.1 %); NaN or inf when unknown."""
    n = boxes.shape[0]
    reach = np.empty(n, dtype=np.float64)
    for i in range(n):
        w = abs(np.float64(boxes[i, 2]))
        h = abs(np.float64(boxes[i, 3]))
        side = min(w, h)
        slack = 2e-5 / side if side > 0.0 else math.inf
        reach[i] = (0.5 * math.sqrt(w * w + h * h) + slack) * 1.001
    return reach


@jit(error_model="numpy")
def _apart(boxes1, i, boxes2, j, reach1, reach2):  # pragma: no cover - compiled
    """Are boxes ``i`` and ``j`` too far apart to meet? Then torchvision's IoU is +0: an
    area below 1e-14 gives 0, otherwise no point is found and ``0 / union`` is +0 (the reach
    is finite only for finite sides, so the union is a number)."""
    dx = np.float64(boxes1[i, 0]) - np.float64(boxes2[j, 0])
    dy = np.float64(boxes1[i, 1]) - np.float64(boxes2[j, 1])
    r = reach1[i] + reach2[j]
    return dx * dx + dy * dy > r * r


@jit(error_model="numpy")
def _rotated_frame(boxes):  # pragma: no cover - compiled
    """Per box, in double: ``[cos, sin, |w| / 2, |h| / 2, slack]``, the box's axes and half
    sides, and how far torchvision's tolerances let it reach past its sides (``1e-5`` on dot
    products seen from the shortest side, ``1e-5`` of the longest side on edge parameters)."""
    n = boxes.shape[0]
    frame = np.empty((n, 5), dtype=np.float64)
    for i in range(n):
        theta = np.float64(boxes[i, 4]) * 0.01745329251
        w = abs(np.float64(boxes[i, 2]))
        h = abs(np.float64(boxes[i, 3]))
        side = min(w, h)
        frame[i, 0] = math.cos(theta)
        frame[i, 1] = math.sin(theta)
        frame[i, 2] = 0.5 * w
        frame[i, 3] = 0.5 * h
        frame[i, 4] = (1e-5 / side if side > 0.0 else math.inf) + 1e-5 * max(w, h)
    return frame


@jit(error_model="numpy", inline=True)
def _gap_along(ux, uy, dx, dy, f1, i, f2, j):  # pragma: no cover - compiled
    """Distance between the shadows of boxes ``i`` and ``j`` on the unit axis ``(ux, uy)``
    (negative when they overlap); ``f1``/``f2`` are :func:`_rotated_frame` tables, ``(dx,
    dy)`` the centres' offset. A box's width runs along ``(cos, -sin)``, its height along
    ``(sin, cos)``."""
    c1 = f1[i, 0]
    s1 = f1[i, 1]
    c2 = f2[j, 0]
    s2 = f2[j, 1]
    r1 = f1[i, 2] * abs(c1 * ux - s1 * uy) + f1[i, 3] * abs(s1 * ux + c1 * uy)
    r2 = f2[j, 2] * abs(c2 * ux - s2 * uy) + f2[j, 3] * abs(s2 * ux + c2 * uy)
    return abs(dx * ux + dy * uy) - r1 - r2


@jit(error_model="numpy", inline=True)
def _separated(boxes1, i, boxes2, j, frame1, frame2):  # pragma: no cover - compiled
    """Separating-axis test with a margin: True when a side of either box separates them by
    more than both boxes' tolerance reach plus 1e-5 of their extent (rounding of the shifted
    float32 coordinates is ~1e-7 of it). torchvision then finds no point: IoU +0."""
    f1 = frame1
    f2 = frame2
    dx = np.float64(boxes2[j, 0]) - np.float64(boxes1[i, 0])
    dy = np.float64(boxes2[j, 1]) - np.float64(boxes1[i, 1])
    size = abs(dx) + abs(dy) + f1[i, 2] + f1[i, 3] + f2[j, 2] + f2[j, 3]
    margin = 2.0 * (f1[i, 4] + f2[j, 4]) + 1e-5 * size
    if _gap_along(f1[i, 0], -f1[i, 1], dx, dy, f1, i, f2, j) > margin:
        return True
    if _gap_along(f1[i, 1], f1[i, 0], dx, dy, f1, i, f2, j) > margin:
        return True
    if _gap_along(f2[j, 0], -f2[j, 1], dx, dy, f1, i, f2, j) > margin:
        return True
    return _gap_along(f2[j, 1], f2[j, 0], dx, dy, f1, i, f2, j) > margin


@jit(error_model="numpy")
def _sorted_by_x(boxes, reach):  # pragma: no cover - compiled
    """The finite boxes of ``boxes`` sorted by centre x: ``(order, n_finite, table)`` where
    ``order`` lists the finite ones first, and ``table[k] = [x, y, reach]`` (double) of box
    ``order[k]`` for the ``n_finite`` of them, contiguous for the sweep. A box is finite when
    its centre and reach are."""
    m = boxes.shape[0]
    xs = np.empty(m, dtype=np.float64)
    for j in range(m):
        xs[j] = np.float64(boxes[j, 0])
        if not math.isfinite(xs[j] + np.float64(boxes[j, 1]) + reach[j]):
            xs[j] = math.inf
    order = np.argsort(xs)  # the non-finite ones last
    n_finite = 0
    for j in range(m):
        if xs[j] != math.inf:
            n_finite += 1
    table = np.empty((n_finite, 3), dtype=np.float64)
    for k in range(n_finite):
        table[k, 0] = xs[order[k]]
        table[k, 1] = np.float64(boxes[order[k], 1])
        table[k, 2] = reach[order[k]]
    return order, n_finite, table


@jit(error_model="numpy")
def _near(x, y, r, table, lo, hi, found):  # pragma: no cover - compiled
    """Positions ``k`` in ``[lo, hi)`` of the rows of ``table`` (:func:`_sorted_by_x`) not
    :func:`_apart` from the circle ``(x, y, r)`` into ``found``; returns their count.
    Branch-free, so the compiler may vectorise it."""
    count = 0
    for k in range(lo, hi):
        dx = x - table[k, 0]
        dy = y - table[k, 1]
        reach = r + table[k, 2]
        found[count] = k
        count += not (dx * dx + dy * dy > reach * reach)
    return count


@jit(error_model="numpy")
def rotated_pairwise_iou(boxes1, boxes2, consts):  # pragma: no cover - compiled
    """``[N, 5] x [M, 5] -> [N, M]`` IoU of ``(cx, cy, w, h, angle)`` boxes, in their dtype
    (torchvision stores it as float32).

    Pairs too far apart to meet (:func:`_apart`, :func:`_separated`) are +0 without the
    polygon; a sweep over ``boxes2`` sorted by centre x visits only the others, first
    listing those whose circles meet (:func:`_near`). Boxes with a non-finite centre or
    reach are paired with everything.
    """
    n = boxes1.shape[0]
    m = boxes2.shape[0]
    out = np.zeros((n, m), dtype=boxes1.dtype)
    s = np.empty((_ROT_ROWS, 3), dtype=boxes1.dtype)
    trig1 = _rotated_trig(boxes1, consts)
    trig2 = _rotated_trig(boxes2, consts)
    reach1 = _rotated_reach(boxes1)
    reach2 = _rotated_reach(boxes2)
    frame1 = _rotated_frame(boxes1)
    frame2 = _rotated_frame(boxes2)
    by_x, n_finite, table = _sorted_by_x(boxes2, reach2)
    sorted_x = np.ascontiguousarray(table[:, 0])
    max_reach = 0.0
    for k in range(n_finite):
        max_reach = max(max_reach, table[k, 2])
    found = np.empty(m, dtype=np.int64)
    for i in range(n):
        x = np.float64(boxes1[i, 0])
        y = np.float64(boxes1[i, 1])
        window = reach1[i] + max_reach
        if math.isfinite(x + y + window):
            lo = np.searchsorted(sorted_x, x - window * 1.001)
            hi = np.searchsorted(sorted_x, x + window * 1.001, side="right")
        else:
            lo = 0
            hi = n_finite
        for f in range(_near(x, y, reach1[i], table, lo, hi, found)):
            j = by_x[found[f]]
            if not _separated(boxes1, i, boxes2, j, frame1, frame2):
                out[i, j] = _rotated_iou_at(boxes1, i, boxes2, j, trig1, trig2, s, consts)
        for k in range(n_finite, m):
            j = by_x[k]
            out[i, j] = _rotated_iou_at(boxes1, i, boxes2, j, trig1, trig2, s, consts)
    return out


@jit(error_model="numpy")
def rotated_nms(boxes, order, threshold, consts):  # pragma: no cover - compiled
    """Greedy NMS of ``(cx, cy, w, h, angle)`` boxes visited in ``order`` (detectron2's
    ``nms_rotated``): a box is suppressed by a kept one when their IoU, in the boxes'
    dtype, is ``>= threshold`` (compared in double). Returns the kept indices in order.
    Pairs too far apart to meet have IoU +0 (:func:`_apart`)."""
    n = boxes.shape[0]
    s = np.empty((_ROT_ROWS, 3), dtype=boxes.dtype)
    trig = _rotated_trig(boxes, consts)
    reach = _rotated_reach(boxes)
    frame = _rotated_frame(boxes)
    suppressed = np.empty(n, dtype=np.bool_)
    for i in range(n):
        suppressed[i] = False
    keep = np.empty(n, dtype=np.int64)
    kept = 0
    zero_suppresses = threshold <= 0.0
    for oi in range(n):
        i = order[oi]
        if suppressed[i]:
            continue
        keep[kept] = i
        kept += 1
        for oj in range(oi + 1, n):
            j = order[oj]
            if suppressed[j]:
                continue
            if _apart(boxes, i, boxes, j, reach, reach) or _separated(
                boxes, i, boxes, j, frame, frame
            ):
                if zero_suppresses:
                    suppressed[j] = True
                continue
            iou = _rotated_iou_at(boxes, i, boxes, j, trig, trig, s, consts)
            if np.float64(iou) >= threshold:
                suppressed[j] = True
    return keep[:kept]
