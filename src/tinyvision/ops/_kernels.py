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

The rotated-box kernels are in :mod:`tinyvision.ops._rotated_kernels`.

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
