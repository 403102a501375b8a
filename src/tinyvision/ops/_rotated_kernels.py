"""Compiled (numba) loops behind the rotated-box operations of :mod:`tinyvision.ops` on CPU
tensors: rotated ``box_iou`` (``fmt="cxcywhr"`` and friends) and ``nms_rotated``.

:func:`rotated_pairwise_iou` repeats torchvision 0.29.1's ``box_iou_rotated`` (detectron2's
algorithm) operation for operation in the boxes' dtype, after skipping pairs that cannot
meet (bounding circles, then a separating-axis test): such a pair's IoU is 0 either way.
:func:`rotated_nms` is detectron2's greedy rotated NMS over the same pair IoU.
:func:`_intersection_points_reference` is the plain-Python statement of torchvision's point
loops that the tests compare the branch-free compiled points with. Same conventions as
:mod:`tinyvision.ops._kernels` (float32/float64, ``error_model="numpy"``, buffers filled by
loops).
"""

from __future__ import annotations

import math

import numpy as np

from tinyvision._numba import jit

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
