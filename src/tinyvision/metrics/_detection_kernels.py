"""The two hot loops of detection evaluation, compiled with numba (``cache=True``).

* :func:`match_groups` walks every (image, category) group once: box IoU in float64 with
  COCO's crowd rule, then greedy matching for every area range and IoU threshold.
* :func:`accumulate` walks every category's score-sorted detections once per
  (area range, max detections): cumulative TP/FP, precision envelope, sampled curve.

Each kernel is one self-contained function of arrays (no calls between kernels), so its
plain-Python original stays available as ``KERNEL.py_func``: the pure-Python reference
path that the tests run against the compiled one (and both against pycocotools).

Detection states: ``FP = 0``, ``TP = 1``, ``IGNORED = 2`` (neither, e.g. matched to a crowd
region or outside the area range), per detection, area range and IoU threshold.
"""

from __future__ import annotations

import numpy as np

from tinyvision._numba import jit

FP, TP, IGNORED = 0, 1, 2

# Matching rules.
RULE_COCO, RULE_COCO_FIXED, RULE_VOC = 0, 1, 2
# How `accumulate` turns a curve into an AP value (besides the sampled precision array).
AP_NONE, AP_VOC07, AP_ALL_POINT = 0, 1, 2


@jit
def longest_run(keys: np.ndarray) -> int:
    """The length of the longest run of equal values in ``keys``."""
    longest = 0
    i = 0
    while i < keys.shape[0]:
        j = i
        while j < keys.shape[0] and keys[j] == keys[i]:
            j += 1
        longest = max(longest, j - i)
        i = j
    return longest


@jit
def match_groups(
    gkey: np.ndarray,  # int64[G] group key (image * n_cats + category), sorted
    gbox: np.ndarray,  # float64[G, 4] x, y, w, h
    garea: np.ndarray,  # float64[G]
    gignore: np.ndarray,  # bool[G] ignored whatever the area (crowd; per mode)
    gcrowd: np.ndarray,  # bool[G] crowd IoU rule and re-matchable
    gcounts: np.ndarray,  # bool[G] a match counts as TP (False: COCO's id-0 quirk)
    dkey: np.ndarray,  # int64[D] group key, sorted; within a group by decreasing score
    dbox: np.ndarray,  # float64[D, 4]
    darea: np.ndarray,  # float64[D]
    dscore: np.ndarray,  # float64[D]
    area_rng: np.ndarray,  # float64[A, 2]
    closed: bool,  # area ranges closed [lo, hi] (COCO) or half-open [lo, hi)
    iou_thr: np.ndarray,  # float64[T]
    rule: int,
    n_cats: int,
    keep_rows: bool,
    use_given: bool,  # take the IoUs from `given` instead of the boxes
    given: np.ndarray,  # float64[S] each group's IoU matrix [n_d, n_g], groups in order
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Match detections to ground truths group by group.

    Returns ``state`` (uint8[D, A, T]), ``npig`` (int64[K, A]: ground truths that count,
    per category and area range), if ``keep_rows``, ``rows`` (int64[D, A, T]: the
    matched ground-truth row or -1; shape ``[0, A, T]`` otherwise), and ``taken``
    (float64[G, T]: in the first area range, the score of the detection that took each
    ground truth as a true positive, -inf if none).

    With ``use_given`` the IoUs (mask IoU, keypoint OKS) come from ``given``: for each
    group holding both ground truths and detections, in key order, its ``n_d * n_g``
    values row by row (detections in the order given, ground truths in file order).
    """
    n_gt = gkey.shape[0]
    n_dt = dkey.shape[0]
    n_area = area_rng.shape[0]
    n_thr = iou_thr.shape[0]
    state = np.zeros((n_dt, n_area, n_thr), dtype=np.uint8)
    rows = np.full((n_dt if keep_rows else 0, n_area, n_thr), -1, dtype=np.int64)
    npig = np.zeros((n_cats, n_area), dtype=np.int64)
    taken = np.full((n_gt, n_thr), -np.inf)
    thresholds = iou_thr.copy()
    if rule == RULE_COCO:
        for t in range(n_thr):
            thresholds[t] = min(iou_thr[t], 1.0 - 1e-10)

    # The largest group sizes, for buffers allocated once.
    max_g = longest_run(gkey)
    max_d = longest_run(dkey)
    ious = np.zeros((max(max_d, 1), max(max_g, 1)), dtype=np.float64)
    gt_ignored = np.zeros(max(max_g, 1), dtype=np.bool_)
    order = np.zeros(max(max_g, 1), dtype=np.int64)
    used = np.zeros(max(max_g, 1), dtype=np.bool_)
    d_outside = np.zeros(max(max_d, 1), dtype=np.bool_)

    pg = 0
    pd = 0
    pi = 0  # position in `given`
    while pg < n_gt or pd < n_dt:
        key = gkey[pg] if pd >= n_dt or (pg < n_gt and gkey[pg] <= dkey[pd]) else dkey[pd]
        g0 = pg
        while pg < n_gt and gkey[pg] == key:
            pg += 1
        d0 = pd
        while pd < n_dt and dkey[pd] == key:
            pd += 1
        n_g = pg - g0
        n_d = pd - d0
        cat = key % n_cats

        if use_given:
            for d in range(n_d):
                for g in range(n_g):
                    ious[d, g] = given[pi + d * n_g + g]
            pi += n_d * n_g
        # IoU [n_d, n_g] as pycocotools' bbIou: crowd regions use the detection's area.
        for d in range(n_d if not use_given else 0):
            dx = dbox[d0 + d, 0]
            dy = dbox[d0 + d, 1]
            dw = dbox[d0 + d, 2]
            dh = dbox[d0 + d, 3]
            da = dw * dh
            for g in range(n_g):
                ious[d, g] = 0.0
                gx = gbox[g0 + g, 0]
                gy = gbox[g0 + g, 1]
                gw = gbox[g0 + g, 2]
                gh = gbox[g0 + g, 3]
                w = min(dw + dx, gw + gx) - max(dx, gx)
                if w <= 0:
                    continue
                h = min(dh + dy, gh + gy) - max(dy, gy)
                if h <= 0:
                    continue
                inter = w * h
                union = da if gcrowd[g0 + g] and rule != RULE_VOC else da + gw * gh - inter
                ious[d, g] = inter / union

        for a in range(n_area):
            lo = area_rng[a, 0]
            hi = area_rng[a, 1]
            # Ground truths ignored in this range come last, each part in file order.
            n_counted = 0
            for g in range(n_g):
                ga = garea[g0 + g]
                outside = ga < lo or (ga > hi if closed else ga >= hi)
                gt_ignored[g] = gignore[g0 + g] or (outside and rule != RULE_VOC)
                if not gt_ignored[g]:
                    order[n_counted] = g
                    n_counted += 1
            npig[cat, a] += n_counted
            pos = n_counted
            for g in range(n_g):
                if gt_ignored[g]:
                    order[pos] = g
                    pos += 1
            for d in range(n_d):
                da = darea[d0 + d]
                outside = da < lo or (da > hi if closed else da >= hi)
                d_outside[d] = outside and rule != RULE_VOC

            for t in range(n_thr):
                thr = thresholds[t]
                for g in range(n_g):
                    used[g] = False
                for d in range(n_d):
                    m = -1
                    if rule == RULE_VOC:
                        # The best-overlapping ground truth (first on ties), no fallback.
                        best = -1.0
                        for g in range(n_g):
                            if ious[d, g] > best:
                                best = ious[d, g]
                                m = g
                        # VOCevaldet.m: `ovmax >= minoverlap`, over overlapping boxes only
                        if m >= 0 and best >= thr and best > 0.0:
                            if gt_ignored[m]:
                                state[d0 + d, a, t] = IGNORED
                            elif not used[m]:
                                used[m] = True
                                state[d0 + d, a, t] = TP
                                if a == 0:
                                    taken[g0 + m, t] = dscore[d0 + d]
                            else:
                                state[d0 + d, a, t] = FP
                            if keep_rows:
                                rows[d0 + d, a, t] = g0 + m
                        else:
                            state[d0 + d, a, t] = FP
                        continue
                    # COCO: the best free ground truth at IoU >= thr; counted ones first.
                    best = thr
                    for j in range(n_g):
                        g = order[j]
                        if used[g] and not gcrowd[g0 + g]:
                            continue
                        if m > -1 and not gt_ignored[m] and gt_ignored[g]:
                            break
                        iou = ious[d, g]
                        if rule == RULE_COCO or m == -1:
                            if iou < best:  # COCO: an equal IoU moves to the later one
                                continue
                            # coco-fixed: no match without overlap, even at threshold 0
                            # (pycocotools matches disjoint boxes at 0; "coco" keeps that)
                            if iou <= 0.0 and rule != RULE_COCO:
                                continue
                        elif iou <= best:
                            continue
                        best = iou
                        m = g
                    ignored = False
                    counts = False
                    if m > -1:
                        used[m] = True
                        ignored = gt_ignored[m]
                        counts = gcounts[g0 + m]
                        if keep_rows:
                            rows[d0 + d, a, t] = g0 + m
                    if not counts and d_outside[d]:
                        ignored = True
                    if ignored:
                        state[d0 + d, a, t] = IGNORED
                    elif counts:
                        state[d0 + d, a, t] = TP
                        if a == 0:
                            taken[g0 + m, t] = dscore[d0 + d]
                    else:
                        state[d0 + d, a, t] = FP
    return state, npig, rows, taken


@jit
def accumulate(
    cat_start: np.ndarray,  # int64[K + 1] slices of `order` per category
    order: np.ndarray,  # int64[N] rows, per category by decreasing score (stable)
    score: np.ndarray,  # float64[N]
    rank: np.ndarray,  # int64[N] rank used for the max-detections cut
    state: np.ndarray,  # uint8[N, A, T], C-contiguous
    npig: np.ndarray,  # int64[K, A]
    rec_thr: np.ndarray,  # float64[R]
    max_dets: np.ndarray,  # int64[M]
    spacing: bool,  # precision = tp / (tp + fp + spacing(1)) as pycocotools
    collapse_ties: bool,  # equal scores form one point of the curve
    ap_method: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """COCOeval.accumulate over prepared states.

    Returns ``precision`` and ``scores`` (float64[T, R, K, A, M]), ``recall``
    (float64[T, K, A, M]) and ``ap`` (float64[T, K, A, M], by ``ap_method``; -1 when
    ``AP_NONE``), all -1 where a category has no ground truth that counts.

    pycocotools builds the cumulative TP/FP curve point by point, takes the precision
    envelope from the right and samples it at the first point reaching each recall
    threshold. The same numbers follow from the points where the TP count rises alone:
    precision falls or stays at every other point (one more FP, or an ignored one), so
    the envelope's maxima and every first point reaching a recall are among them. One
    forward pass counts and records those points; a short backward pass over them gives
    the envelope and the samples, with pycocotools' float operations, hence bit for bit.
    ``c / npos >= r`` for a count ``c`` is ``c >= need[r]``, found once per category.
    """
    n_cats = cat_start.shape[0] - 1
    n_area = state.shape[1]
    n_thr = state.shape[2]
    n_q = n_area * n_thr
    n_rec = rec_thr.shape[0]
    n_max = max_dets.shape[0]
    precision = np.full((n_thr, n_rec, n_cats, n_area, n_max), -1.0)
    scores = np.full((n_thr, n_rec, n_cats, n_area, n_max), -1.0)
    recall = np.full((n_thr, n_cats, n_area, n_max), -1.0)
    ap = np.full((n_thr, n_cats, n_area, n_max), -1.0)
    eps = np.spacing(1.0)
    flat = state.reshape((state.shape[0], n_q))

    longest = 1
    most_gt = 1
    for k in range(n_cats):
        longest = max(longest, cat_start[k + 1] - cat_start[k])
        for a in range(n_area):
            most_gt = max(most_gt, npig[k, a] + 1)
    idx = np.zeros(longest, dtype=np.int64)
    tpc = np.zeros(n_q, dtype=np.int64)
    fpc = np.zeros(n_q, dtype=np.int64)
    last_tp = np.zeros(n_q, dtype=np.int64)
    # Rising points per (area, threshold): counts after them and their score.
    n_ev = np.zeros(n_q, dtype=np.int64)
    ev_tp = np.zeros((n_q, most_gt), dtype=np.int64)
    ev_fp = np.zeros((n_q, most_gt), dtype=np.int64)
    ev_score = np.zeros((n_q, most_gt), dtype=np.float64)
    ev_env = np.zeros(most_gt, dtype=np.float64)
    need = np.zeros((n_area, n_rec), dtype=np.float64)

    for k in range(n_cats):
        s = cat_start[k]
        e = cat_start[k + 1]
        any_gt = False
        for a in range(n_area):
            npos = npig[k, a]
            if npos == 0:
                continue
            any_gt = True
            for r in range(n_rec):
                c = min(max(np.ceil(rec_thr[r] * npos), 0.0), float(npos))
                while c > 0 and (c - 1.0) / npos >= rec_thr[r]:
                    c -= 1.0
                while c < npos and c / npos < rec_thr[r]:
                    c += 1.0
                need[a, r] = c if c / npos >= rec_thr[r] else npos + 1.0
        if not any_gt:
            continue
        prev_nd = -1
        for m in range(n_max):
            nd = 0
            for j in range(s, e):
                if rank[order[j]] < max_dets[m]:
                    idx[nd] = order[j]
                    nd += 1
            if nd == prev_nd:  # the same detections as the smaller cut: same numbers
                for a in range(n_area):
                    if npig[k, a] == 0:
                        continue
                    for t in range(n_thr):
                        recall[t, k, a, m] = recall[t, k, a, m - 1]
                        ap[t, k, a, m] = ap[t, k, a, m - 1]
                        for r in range(n_rec):
                            precision[t, r, k, a, m] = precision[t, r, k, a, m - 1]
                            scores[t, r, k, a, m] = scores[t, r, k, a, m - 1]
                continue
            prev_nd = nd
            # Forward: running counts; record the points (tie groups) where TP rises.
            tpc[:] = 0
            fpc[:] = 0
            last_tp[:] = 0
            n_ev[:] = 0
            rising = False
            for j in range(nd):
                row = flat[idx[j]]
                any_tp = False
                for q in range(n_q):
                    st = row[q]
                    tpc[q] += np.int64(st == TP)
                    fpc[q] += np.int64(st == FP)
                    any_tp |= st == TP
                rising |= any_tp
                if collapse_ties and j + 1 < nd and score[idx[j + 1]] == score[idx[j]]:
                    continue  # the point is the end of the tie group
                if rising:
                    for q in range(n_q):
                        if tpc[q] > last_tp[q]:
                            i = n_ev[q]
                            ev_tp[q, i] = tpc[q]
                            ev_fp[q, i] = fpc[q]
                            ev_score[q, i] = score[idx[j]]
                            n_ev[q] = i + 1
                            last_tp[q] = tpc[q]
                    rising = False
            # Backward over the rising points of each (area, threshold).
            for a in range(n_area):
                npos = npig[k, a]
                if npos == 0:
                    continue
                for t in range(n_thr):
                    q = a * n_thr + t
                    total = tpc[q] if nd > 0 else 0
                    recall[t, k, a, m] = total / npos if nd > 0 else 0.0
                    r = n_rec - 1
                    while r >= 0 and (nd == 0 or total < need[a, r]):
                        precision[t, r, k, a, m] = 0.0
                        scores[t, r, k, a, m] = 0.0
                        r -= 1
                    env = 0.0
                    for i in range(n_ev[q] - 1, -1, -1):
                        tp = float(ev_tp[q, i])
                        fp = float(ev_fp[q, i])
                        pr = tp / (fp + tp + eps) if spacing else tp / (tp + fp)
                        if pr > env:
                            env = pr
                        ev_env[i] = env
                        before = ev_tp[q, i - 1] if i > 0 else 0
                        while r >= 0 and before < need[a, r]:
                            precision[t, r, k, a, m] = env
                            scores[t, r, k, a, m] = ev_score[q, i]
                            r -= 1
                    while r >= 0:  # recall 0: the first point of the curve
                        precision[t, r, k, a, m] = env
                        scores[t, r, k, a, m] = score[idx[0]]
                        r -= 1
                    if ap_method == AP_VOC07:
                        total_ap = 0.0
                        for r in range(n_rec):
                            total_ap += precision[t, r, k, a, m] / n_rec
                        ap[t, k, a, m] = total_ap
                    elif ap_method == AP_ALL_POINT:
                        # Area under the envelope: recall only rises at the rising points.
                        total_ap = 0.0
                        previous = 0.0
                        for i in range(n_ev[q]):
                            rc = ev_tp[q, i] / npos
                            total_ap += (rc - previous) * ev_env[i]
                            previous = rc
                        ap[t, k, a, m] = total_ap
    return precision, recall, scores, ap


@jit
def radix_argsort(keys: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Stable sort of ``order`` (int64[N], row indices) by ``keys[order]`` (uint64[*]).

    Least-significant-digit radix sort, 16 bits a pass, only as many passes as the
    largest key needs: linear time, faster than comparison sorts on large tables.
    """
    n = order.shape[0]
    top = np.uint64(0)
    for i in range(n):
        top = max(top, keys[order[i]])
    out = order.copy()
    buffer = np.empty(n, dtype=np.int64)
    counts = np.zeros(65537, dtype=np.int64)
    shift = np.uint64(0)
    mask = np.uint64(0xFFFF)
    while n > 1 and shift < np.uint64(64) and (top >> shift) > np.uint64(0):
        counts[:] = 0
        for i in range(n):
            counts[np.int64((keys[out[i]] >> shift) & mask) + 1] += 1
        for b in range(65536):
            counts[b + 1] += counts[b]
        for i in range(n):
            digit = np.int64((keys[out[i]] >> shift) & mask)
            buffer[counts[digit]] = out[i]
            counts[digit] += 1
        out, buffer = buffer, out
        shift += np.uint64(16)
    return out


@jit
def group_order(key: np.ndarray, score: np.ndarray, n_keys: int) -> np.ndarray:
    """Rows (int64[N]) ordered by ``key`` (int64 in [0, n_keys)), then by decreasing
    ``score``, then by row: a stable sort, as pycocotools' mergesort orders each group.

    A counting sort by key (linear) when the key range is not much larger than the
    table, a radix sort otherwise; each group is then sorted by score (insertion sort
    for the usual small groups, merge sort for large ones).
    """
    n = key.shape[0]
    if n_keys <= max(4 * n, 1 << 20):
        counts = np.zeros(n_keys + 1, dtype=np.int64)
        for i in range(n):
            counts[key[i] + 1] += 1
        for b in range(n_keys):
            counts[b + 1] += counts[b]
        out = np.empty(n, dtype=np.int64)
        for i in range(n):
            out[counts[key[i]]] = i
            counts[key[i]] += 1
    else:
        out = radix_argsort(key.astype(np.uint64), np.arange(n, dtype=np.int64))
    start = 0
    while start < n:
        end = start + 1
        while end < n and key[out[end]] == key[out[start]]:
            end += 1
        size = end - start
        if size > 32:
            block = out[start:end].copy()
            local = np.argsort(-score[block], kind="mergesort")
            for j in range(size):
                out[start + j] = block[local[j]]
        elif size > 1:
            for j in range(start + 1, end):
                row = out[j]
                s = score[row]
                i = j
                while i > start and score[out[i - 1]] < s:
                    out[i] = out[i - 1]
                    i -= 1
                out[i] = row
        start = end
    return out


@jit
def descending_keys(score: np.ndarray) -> np.ndarray:
    """uint64[N] keys whose ascending order is ``score``'s descending order (-0.0 == 0.0)."""
    out = np.empty(score.shape[0], dtype=np.uint64)
    bits = (score + 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
    sign = np.uint64(1) << np.uint64(63)
    for i in range(score.shape[0]):
        b = bits[i]
        ascending = ~b if b & sign else b | sign
        out[i] = ~ascending
    return out


ERR_CONFUSION, ERR_DUPLICATE, ERR_LOCALIZATION, ERR_BACKGROUND = 0, 1, 2, 3


@jit
def confuse(
    img_start: np.ndarray,  # int64[I + 1] slices of ground truths per image
    g_cat: np.ndarray,  # int64[G] category index
    g_box: np.ndarray,  # float64[G, 4] x, y, w, h
    g_counted: np.ndarray,  # bool[G] counts (not ignored, in the area range)
    g_free: np.ndarray,  # bool[G] counts and no kept detection matched it
    d_img: np.ndarray,  # int64[F] image index of false positives, by decreasing score
    d_cat: np.ndarray,  # int64[F]
    d_box: np.ndarray,  # float64[F, 4]
    iou_thr: float,
    loc_thr: float,
    n_cats: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Explain false positives: ``(matrix int64[K + 1, K + 1], kind int64[F])``.

    Each false positive, by decreasing score, takes the free ground truth of another
    category in its image that overlaps it most, if the IoU reaches ``iou_thr`` (each
    ground truth once): a class confusion (matrix cell [true, predicted]). Otherwise it
    is background in the matrix, and its kind says why: a duplicate (a ground truth of its
    own class overlaps it by ``iou_thr`` but was taken), a localization error (best
    overlap with its class in [``loc_thr``, ``iou_thr``)) or plain background. Free ground
    truths left over count in the background column.
    """
    out = np.zeros((n_cats + 1, n_cats + 1), dtype=np.int64)
    kind = np.zeros(d_img.shape[0], dtype=np.int64)
    taken = ~g_free
    for f in range(d_img.shape[0]):
        i = d_img[f]
        dx = d_box[f, 0]
        dy = d_box[f, 1]
        dw = d_box[f, 2]
        dh = d_box[f, 3]
        best = iou_thr
        m = -1
        own = 0.0
        for g in range(img_start[i], img_start[i + 1]):
            if not g_counted[g]:
                continue
            w = min(dw + dx, g_box[g, 2] + g_box[g, 0]) - max(dx, g_box[g, 0])
            h = min(dh + dy, g_box[g, 3] + g_box[g, 1]) - max(dy, g_box[g, 1])
            if w <= 0 or h <= 0:
                continue
            inter = w * h
            iou = inter / (dw * dh + g_box[g, 2] * g_box[g, 3] - inter)
            if g_cat[g] == d_cat[f]:
                own = max(own, iou)
            elif not taken[g] and iou >= best and (m == -1 or iou > best):
                best = iou
                m = g
        if m >= 0:
            taken[m] = True
            out[g_cat[m], d_cat[f]] += 1
            kind[f] = ERR_CONFUSION
        else:
            out[n_cats, d_cat[f]] += 1
            # own == 0 (no overlap with its class) is background even at thresholds of 0
            if own > 0.0 and own >= iou_thr:
                kind[f] = ERR_DUPLICATE
            elif own > 0.0 and own >= loc_thr:
                kind[f] = ERR_LOCALIZATION
            else:
                kind[f] = ERR_BACKGROUND
    for g in range(g_cat.shape[0]):
        if not taken[g]:
            out[g_cat[g], n_cats] += 1
    return out, kind
