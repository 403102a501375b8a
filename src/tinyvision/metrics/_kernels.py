"""Compiled loops behind the classification metrics, each with a NumPy reference twin.

Every ``numba`` kernel here has a plain NumPy function with the same contract (suffix
``_reference``) that the tests compare it against. The kernels exist because a benchmark
showed the NumPy formulation to be the bottleneck (a stable ``argsort`` of all scores, or
``np.unique`` over millions of labels); the references are the readable statement of what
they compute.

Floating point: the kernels perform exactly the IEEE operations, in the order, that
scikit-learn's NumPy code performs (division, subtraction, the trapezoid ``d * (a + b) / 2``),
so that the arrays they return are bitwise equal; sums over arrays are left to ``np.sum`` on
the caller's side, which is what scikit-learn uses (pairwise summation).
"""

from __future__ import annotations

import math

import numpy as np

from tinyvision._numba import jit as _jit

# --------------------------------------------------------------------------------------
# Splitting scores by class
# --------------------------------------------------------------------------------------


@_jit
def split_by_label(is_pos, scores):  # pragma: no cover - compiled
    """Scores of the positives and of the negatives, in input order; and a -0.0 flag.

    ``is_pos (uint8[n])`` (a bool array viewed as bytes), ``scores (T[n])`` ->
    ``(T[n_pos], T[n_neg], bool)``. The flag says whether a negative zero occurs
    (scikit-learn returns the sign of the last of tied scores, which needs its order).
    Branch-free: every score is written to both outputs and one cursor advances.
    """
    n = scores.shape[0]
    n_pos = 0
    for i in range(n):
        n_pos += is_pos[i]
    pos = np.empty(n_pos + 1, dtype=scores.dtype)
    neg = np.empty(n - n_pos + 1, dtype=scores.dtype)
    i_pos = 0
    i_neg = 0
    negative_zero = False
    for i in range(n):
        s = scores[i]
        b = is_pos[i]
        pos[i_pos] = s
        neg[i_neg] = s
        i_pos += b
        i_neg += 1 - b
        if s == 0 and math.copysign(1.0, s) < 0:
            negative_zero = True
    return pos[:n_pos], neg[: n - n_pos], negative_zero


def split_by_label_reference(is_pos, scores):
    """NumPy twin of :func:`split_by_label` (``is_pos`` as bool)."""
    is_pos = is_pos.astype(bool)
    negative_zero = bool(np.any((scores == 0) & np.signbit(scores)))
    return scores[is_pos], scores[~is_pos], negative_zero


# --------------------------------------------------------------------------------------
# Radix sort of score keys (linear time)
# --------------------------------------------------------------------------------------

# Digit width: 256 buckets, 8 passes for 64-bit keys. Measured on the shared 2-core VM
# (1e6 and 1e7 float64 scores): 8 bits 25 / 287 ms, 10 bits 27 / 311 ms, 11 bits 34 / 370 ms,
# 16 bits 37 / 429 ms: every table and write stream stays in the L1 cache.
RADIX_BITS = 8
_RADIX_MASK = np.uint64((1 << RADIX_BITS) - 1)
KIND_FLOAT = 0  # IEEE bits: negatives flipped, positives get the sign bit
KIND_SIGNED = 1  # two's complement: the sign bit flipped
KIND_UNSIGNED = 2  # already ordered


@_jit
def _key_constants(width):  # pragma: no cover - compiled
    """``(sign, ones, exponent)`` bit masks of a ``width``-bit number (32 or 64)."""
    sign = np.uint64(1) << np.uint64(width - 1)
    ones = np.uint64(0xFFFFFFFFFFFFFFFF) >> np.uint64(64 - width)
    mantissa = ones >> np.uint64(1 + (11 if width == 64 else 8))
    return sign, ones, ones & ~sign & ~mantissa


@_jit
def _to_key(u, kind, sign, ones, exponent):  # pragma: no cover - compiled
    """The order-preserving unsigned key of the bits ``u`` (``uint64`` holding ``width`` bits).

    Floats: negatives have every bit flipped, positives get the sign bit, so ``-0.0`` sorts
    just before ``0.0``; every NaN becomes the largest key (NaNs last, as ``np.sort``).
    """
    if kind == KIND_FLOAT:
        if (u & exponent) == exponent and (u & ones & ~exponent & ~sign) != 0:
            return ones
        return (~u & ones) if u & sign else (u | sign)
    if kind == KIND_SIGNED:
        return u ^ sign
    return u


@_jit
def _from_key(k, kind, sign, ones):  # pragma: no cover - compiled
    """Inverse of :func:`_to_key` (a NaN comes back as the positive quiet NaN of all ones)."""
    if kind == KIND_FLOAT:  # (k ^ sign) if k & sign else (~k & ones), without a branch
        flip = ((np.uint64(k & sign != 0) - np.uint64(1)) | sign) & ones
        return k ^ flip
    if kind == KIND_SIGNED:
        return k ^ sign
    return k


@_jit
def _class_scan(is_pos, bits, kind, width, high_shift):  # pragma: no cover - compiled
    """The first pass over the scores: per class, the histograms of the keys' lowest digit
    and of the digit at ``high_shift`` (two ``int64[2, 2**RADIX_BITS]``, row = class), the
    key bits that vary within each class (``uint64[2]``: the OR of every key XOR the class's
    first key); whether a float ``-0.0`` occurs. Two increments a score, where histograms of
    every digit would need one a digit: the others are counted in the passes before theirs.
    """
    n = bits.shape[0]
    sign, ones, exponent = _key_constants(width)
    counts = np.zeros((2, 1 << RADIX_BITS), dtype=np.int64)
    counts_high = np.zeros((2, 1 << RADIX_BITS), dtype=np.int64)
    ref = np.zeros(2, dtype=np.uint64)
    for c in range(2):
        for i in range(n):
            if is_pos[i] == c:
                ref[c] = _to_key(np.uint64(bits[i]), kind, sign, ones, exponent)
                break
    ref0 = ref[0]
    ref1 = ref[1]
    vary0 = np.uint64(0)
    vary1 = np.uint64(0)
    negative_zero = False
    for i in range(n):
        u = np.uint64(bits[i])
        negative_zero |= kind == KIND_FLOAT and u == sign
        k = _to_key(u, kind, sign, ones, exponent)
        c = is_pos[i]
        in_pos = np.uint64(0) - np.uint64(c)  # all ones for a positive, branch-free
        vary1 |= (k ^ ref1) & in_pos
        vary0 |= (k ^ ref0) & ~in_pos
        counts[np.intp(c), np.intp(k & _RADIX_MASK)] += 1
        counts_high[np.intp(c), np.intp((k >> high_shift) & _RADIX_MASK)] += 1
    masks = np.empty(2, dtype=np.uint64)
    masks[0] = vary0
    masks[1] = vary1
    return counts, counts_high, masks, negative_zero


@_jit
def _split_pass(  # pragma: no cover - compiled
    is_pos, bits, kind, width, counts, dst, first_shift, next_counts, next_shift, last
):
    """First pass: keys by class (positives first), then by the digit at ``first_shift``
    (``counts`` its histograms), into ``dst``; counts the digit at ``next_shift`` per class
    into ``next_counts`` (``[2, buckets]``).
    ``last``: no pass follows, so the numbers themselves are written."""
    sign, ones, exponent = _key_constants(width)
    n_buckets = counts.shape[1]
    offsets = np.empty(2 * n_buckets, dtype=np.int64)
    total = 0
    for c in range(2):
        row = 1 - c  # positives (class 1) first
        for b in range(n_buckets):
            offsets[row * n_buckets + b] = total
            total += counts[row, b]
    for i in range(bits.shape[0]):
        k = _to_key(np.uint64(bits[i]), kind, sign, ones, exponent)
        c = np.intp(is_pos[i])
        slot = c * n_buckets + np.intp((k >> first_shift) & _RADIX_MASK)
        dst[offsets[slot]] = _from_key(k, kind, sign, ones) if last else k
        offsets[slot] += 1
        next_counts[c, np.intp((k >> next_shift) & _RADIX_MASK)] += 1


@_jit
def _scatter(  # pragma: no cover - compiled
    src, dst, start, stop, counts_row, shift, next_row, next_shift, last, kind, width
):
    """One stable counting pass: ``src[start:stop]`` ordered by the digit at ``shift`` into
    ``dst[start:stop]``, counting the digit at ``next_shift`` into ``next_row``; ``last``:
    the numbers are written instead of their keys."""
    sign, ones, _ = _key_constants(width)
    offsets = np.empty(counts_row.shape[0], dtype=np.int64)
    total = start
    for b in range(counts_row.shape[0]):
        offsets[b] = total
        total += counts_row[b]
    for i in range(start, stop):
        k = np.uint64(src[i])
        b = np.intp((k >> shift) & _RADIX_MASK)
        dst[offsets[b]] = _from_key(k, kind, sign, ones) if last else k
        offsets[b] += 1
        next_row[np.intp((k >> next_shift) & _RADIX_MASK)] += 1


def radix_split_sort(is_pos, bits, kind, width):
    """The positives' and the negatives' numbers, each sorted ascending, in linear time.

    ``is_pos (uint8[n])``, ``bits`` (``uint32[n]`` or ``uint64[n]``: a view of float, int or
    uint scores; ``kind`` is ``KIND_FLOAT``, ``KIND_SIGNED`` or ``KIND_UNSIGNED``, ``width``
    32 or 64) -> ``(out, n_pos, negative_zero)``: ``out`` (``bits``' dtype) holds the sorted
    positives in ``out[:n_pos]`` and the sorted negatives after them; ``negative_zero`` says
    whether a float ``-0.0`` occurs. As :func:`split_by_label` followed by ``np.sort`` of
    each part, except that ``-0.0`` comes just before tied ``0.0`` and NaNs (last) come back
    as one NaN. Least-significant-digit radix sort of the order-preserving unsigned keys,
    :data:`RADIX_BITS` bits a pass: the first pass splits by class too, a pass whose digit
    is constant within each class is skipped, each pass counts the next pass's digit and
    the last one writes the numbers back. Float64 keys that vary in every digit are sorted
    by their high bits only; runs of equal high bits are then sorted by the whole key (see
    :data:`LOW_DIGITS`).

    The two working arrays are allocated by NumPy, which asks for transparent huge pages:
    memory that a compiled kernel allocates costs a page fault every 4 KiB on first touch
    (measured on the shared VM: writing three fresh 8 MB arrays 8.4 ms from a kernel's
    ``np.empty``, 0.8 ms from NumPy's).
    """
    n = bits.shape[0]
    return _radix_split_sort_into(
        is_pos, bits, kind, width, np.empty(n, dtype=bits.dtype), np.empty(n, dtype=bits.dtype)
    )


# Continuous float64 scores vary in all eight digits. Their lowest LOW_DIGITS digits are
# left out of the radix passes: the keys are sorted by their high bits only, and the rare
# runs of keys with equal high bits are sorted afterwards (:func:`_sort_runs`), which
# costs one pass instead of three.
LOW_DIGITS = 3
_SHORT_RUN = 32  # runs up to this long get an insertion sort, longer ones np.sort


@_jit
def _radix_split_sort_into(is_pos, bits, kind, width, src, dst):  # pragma: no cover - compiled
    """:func:`radix_split_sort` with its two working arrays (``bits``' dtype and length)
    given; the result is one of them."""
    n = bits.shape[0]
    n_digits = (width + RADIX_BITS - 1) // RADIX_BITS
    low_shift = np.uint64(LOW_DIGITS * RADIX_BITS)
    counts, counts_high, masks, negative_zero = _class_scan(is_pos, bits, kind, width, low_shift)
    n_pos = counts[1].sum()
    varying = masks[0] | masks[1]
    n_varying = 0
    for d in range(n_digits):
        n_varying += (varying >> np.uint64(d * RADIX_BITS)) & _RADIX_MASK != 0
    skip_low = kind == KIND_FLOAT and width == 64 and n_varying == n_digits
    first = LOW_DIGITS if skip_low else 0
    digits = np.empty(n_digits, dtype=np.intp)  # the digits above the first that vary
    n_passes = 0
    for d in range(first + 1, n_digits):
        if (varying >> np.uint64(d * RADIX_BITS)) & _RADIX_MASK != 0:
            digits[n_passes] = d
            n_passes += 1
    shift = np.uint64(digits[0] * RADIX_BITS) if n_passes > 0 else np.uint64(0)
    next_counts = np.zeros_like(counts)
    _split_pass(
        is_pos,
        bits,
        kind,
        width,
        counts_high if skip_low else counts,
        src,
        np.uint64(first * RADIX_BITS),
        next_counts,
        shift,
        n_passes == 0 and not skip_low,
    )
    for p in range(n_passes):
        counts = next_counts
        next_counts = np.zeros_like(counts)
        last = p + 1 == n_passes and not skip_low
        next_shift = shift if p + 1 == n_passes else np.uint64(digits[p + 1] * RADIX_BITS)
        _scatter(
            src, dst, 0, n_pos, counts[1], shift, next_counts[1], next_shift, last, kind, width
        )
        _scatter(
            src, dst, n_pos, n, counts[0], shift, next_counts[0], next_shift, last, kind, width
        )
        shift = next_shift
        src, dst = dst, src
    if skip_low:
        _sort_runs(src, 0, n_pos, low_shift, kind, width)
        _sort_runs(src, n_pos, n, low_shift, kind, width)
    return src, n_pos, negative_zero


@_jit
def _sort_runs(keys, start, stop, low_shift, kind, width):  # pragma: no cover - compiled
    """``keys[start:stop]``, sorted by ``key >> low_shift``, fully sorted; then the numbers
    written back over the keys. Each run of equal high bits is sorted by the whole key: an
    insertion sort up to :data:`_SHORT_RUN` keys, ``np.sort`` beyond."""
    sign, ones, _ = _key_constants(width)
    i = start
    while i < stop:
        k = keys[i]
        if i + 1 < stop and (keys[i + 1] >> low_shift) == (k >> low_shift):  # rare
            b = i + 2
            while b < stop and (keys[b] >> low_shift) == (k >> low_shift):
                b += 1
            _sort_run(keys, i, b)
            for t in range(i, b):
                keys[t] = _from_key(np.uint64(keys[t]), kind, sign, ones)
            i = b
        else:
            keys[i] = _from_key(np.uint64(k), kind, sign, ones)
            i += 1


@_jit
def _sort_run(keys, a, b):  # pragma: no cover - compiled
    """Sort ``keys[a:b]``: an insertion sort up to :data:`_SHORT_RUN` keys, else np.sort."""
    if b - a > _SHORT_RUN:
        keys[a:b] = np.sort(keys[a:b])
        return
    for t in range(a + 1, b):
        k = keys[t]
        u = t
        while u > a and keys[u - 1] > k:
            keys[u] = keys[u - 1]
            u -= 1
        keys[u] = k


@_jit
def radix_argsort_descending(bits, kind, width):  # pragma: no cover - compiled
    """Stable descending argsort of numbers given by their bits, in linear time.

    ``bits``, ``kind``, ``width`` as :func:`radix_split_sort` -> ``order (int64[n])``: the
    numbers in ``order`` are non-increasing and equal numbers keep their input order
    (``-0.0`` equals ``0.0``; NaNs, all equal, come first as in a reversed ``np.argsort``).
    Least-significant-digit radix sort of the complemented keys, carrying the indices.
    """
    n = bits.shape[0]
    n_digits = (width + RADIX_BITS - 1) // RADIX_BITS
    sign, ones, exponent = _key_constants(width)
    keys = np.empty(n, dtype=np.uint64)
    counts = np.zeros((n_digits, 1 << RADIX_BITS), dtype=np.int64)
    for i in range(n):
        u = np.uint64(bits[i])
        if kind == KIND_FLOAT and u == sign:
            u = np.uint64(0)  # -0.0 ties with 0.0
        k = ~_to_key(u, kind, sign, ones, exponent) & ones
        keys[i] = k
        for d in range(n_digits):
            counts[d, np.intp((k >> np.uint64(d * RADIX_BITS)) & _RADIX_MASK)] += 1
    order = np.arange(n)
    keys_out = np.empty(n, dtype=np.uint64)
    order_out = np.empty(n, dtype=np.int64)
    offsets = np.empty(1 << RADIX_BITS, dtype=np.int64)
    for d in range(n_digits):
        if _constant_digit(counts[d], n):
            continue
        total = 0
        for b in range(offsets.shape[0]):
            offsets[b] = total
            total += counts[d, b]
        shift = np.uint64(d * RADIX_BITS)
        for i in range(n):
            k = keys[i]
            b = np.intp((k >> shift) & _RADIX_MASK)
            keys_out[offsets[b]] = k
            order_out[offsets[b]] = order[i]
            offsets[b] += 1
        keys, keys_out = keys_out, keys
        order, order_out = order_out, order
    return order


def radix_argsort_descending_reference(bits, kind, width):
    """NumPy twin of :func:`radix_argsort_descending` (a reversed stable ``argsort``)."""
    letter = {KIND_FLOAT: "f", KIND_SIGNED: "i", KIND_UNSIGNED: "u"}[kind]
    values = bits.view(np.dtype(f"{letter}{width // 8}"))
    n = values.shape[0]
    return (n - 1) - np.argsort(values[::-1], kind="stable")[::-1]


@_jit
def _constant_digit(counts_row, size):  # pragma: no cover - compiled
    """Whether one bucket holds all ``size`` keys (or there are none)."""
    top = counts_row.max() if counts_row.shape[0] else 0
    return top == 0 or top == size


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier
COUNT_MAX_DISTINCT = 1024  # the counting sort gives up past this many distinct scores


@_jit
def count_split_sort(is_pos, bits, kind, width, max_distinct):  # pragma: no cover - compiled
    """:func:`radix_split_sort` for scores with at most ``max_distinct`` distinct values.

    One pass counts each class per distinct key (a hash table with linear probing), the
    few distinct keys are sorted, and each class is written out as runs of equal values.
    Returns ``(out, n_pos, negative_zero)`` as :func:`radix_split_sort`, or ``n_pos = -1``
    (and an empty ``out``) as soon as a distinct value beyond ``max_distinct`` turns up.
    """
    n = bits.shape[0]
    sign, ones, exponent = _key_constants(width)
    log_size = 2
    while (1 << log_size) < 4 * max_distinct:
        log_size += 1
    size = 1 << log_size
    shift = np.uint64(64 - log_size)
    table = np.empty(size, dtype=np.uint64)
    used = np.zeros(size, dtype=np.bool_)
    class_counts = np.zeros((size, 2), dtype=np.int64)
    n_distinct = 0
    negative_zero = False
    for i in range(n):
        u = np.uint64(bits[i])
        negative_zero |= kind == KIND_FLOAT and u == sign
        k = _to_key(u, kind, sign, ones, exponent)
        slot = np.intp((k * _GOLDEN) >> shift)
        while used[slot] and table[slot] != k:
            slot = (slot + 1) & (size - 1)
        if not used[slot]:
            if n_distinct == max_distinct:
                return np.empty(0, dtype=bits.dtype), -1, negative_zero
            used[slot] = True
            table[slot] = k
            n_distinct += 1
        class_counts[slot, np.intp(is_pos[i])] += 1
    slots = np.nonzero(used)[0]
    order = np.argsort(table[slots])
    out = np.empty(n, dtype=bits.dtype)
    n_pos = class_counts[:, 1].sum()
    cursor_pos = 0
    cursor_neg = n_pos
    for r in range(order.shape[0]):
        slot = slots[order[r]]
        value = _from_key(table[slot], kind, sign, ones)
        for _ in range(class_counts[slot, 1]):
            out[cursor_pos] = value
            cursor_pos += 1
        for _ in range(class_counts[slot, 0]):
            out[cursor_neg] = value
            cursor_neg += 1
    return out, n_pos, negative_zero


def radix_split_sort_reference(is_pos, bits, kind, width):
    """NumPy twin of :func:`radix_split_sort` (``np.sort`` of each class, as bits)."""
    letter = {KIND_FLOAT: "f", KIND_SIGNED: "i", KIND_UNSIGNED: "u"}[kind]
    dtype = np.dtype(f"{letter}{width // 8}")
    values = bits.view(dtype)
    pos, neg, negative_zero = split_by_label_reference(is_pos, values)
    out = np.concatenate([np.sort(pos, kind="stable"), np.sort(neg, kind="stable")])
    return out.view(bits.dtype), len(pos), negative_zero


# --------------------------------------------------------------------------------------
# Curve counts: distinct thresholds in decreasing order, cumulative tp and fp counts
# --------------------------------------------------------------------------------------


@_jit
def _top_group(pos, neg, i, j):  # pragma: no cover - compiled
    """The largest score left in ``pos[: i + 1]`` and ``neg[: j + 1]`` (both ascending), and
    the two cursors moved below all its ties."""
    v = pos[i] if j < 0 or (i >= 0 and pos[i] >= neg[j]) else neg[j]
    while i >= 0 and pos[i] == v:
        i -= 1
    while j >= 0 and neg[j] == v:
        j -= 1
    return v, i, j


@_jit
def _bottom_group(pos, neg, i, j):  # pragma: no cover - compiled
    """The smallest score left in ``pos[i:]`` and ``neg[j:]`` (both ascending), and the two
    cursors moved past all its ties."""
    m = pos.shape[0]
    k = neg.shape[0]
    v = pos[i] if j >= k or (i < m and pos[i] <= neg[j]) else neg[j]
    while i < m and pos[i] == v:
        i += 1
    while j < k and neg[j] == v:
        j += 1
    return v, i, j


@_jit
def merge_counts(pos, neg):  # pragma: no cover - compiled
    """Walk two ascending score arrays from the top and count per distinct threshold.

    ``pos (T[m])``, ``neg (T[k])`` sorted ascending -> ``thresholds (T[L])`` decreasing,
    ``tps (float64[L])``, ``fps (float64[L])``: the numbers of positives and negatives
    with score >= thresholds[i]. These are scikit-learn's ``confusion_matrix_at_thresholds``
    counts for unit weights.
    """
    i = pos.shape[0] - 1
    j = neg.shape[0] - 1
    size = pos.shape[0] + neg.shape[0]
    thresholds = np.empty(size, dtype=pos.dtype)
    tps = np.empty(size, dtype=np.float64)
    fps = np.empty(size, dtype=np.float64)
    k = 0
    while i >= 0 or j >= 0:
        v, i, j = _top_group(pos, neg, i, j)
        thresholds[k] = v
        tps[k] = pos.shape[0] - 1 - i
        fps[k] = neg.shape[0] - 1 - j
        k += 1
    return thresholds[:k], tps[:k], fps[:k]


def merge_counts_reference(pos, neg):
    """NumPy twin of :func:`merge_counts` (sort everything, cumulate, keep group ends)."""
    scores = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    order = np.argsort(scores, kind="stable")[::-1]
    scores, labels = scores[order], labels[order]
    ends = np.r_[np.nonzero(np.diff(scores))[0], len(scores) - 1] if len(scores) else []
    ends = np.asarray(ends, dtype=np.intp)
    tps = np.cumsum(labels)[ends]
    fps = (ends + 1) - tps
    return scores[ends], tps, fps.astype(np.float64)


# --------------------------------------------------------------------------------------
# ROC: drop_intermediate and the trapezoid terms
# --------------------------------------------------------------------------------------


def roc_keep_mask_reference(tps, fps):
    """scikit-learn's ``drop_intermediate``: keep the ends and every corner.

    A point is kept when ``np.diff(fps, 2)`` or ``np.diff(tps, 2)`` is non-zero there.
    """
    if len(tps) <= 2:
        return np.ones(len(tps), dtype=bool)
    inner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
    return np.r_[True, inner, True]


@_jit
def roc_arrays(thresholds, tps, fps, drop_intermediate):  # pragma: no cover - compiled
    """scikit-learn's ``roc_curve`` arrays from the per-threshold counts, in one pass.

    Keeps the points ``drop_intermediate`` keeps, prepends the ``(0, 0, inf)`` point and
    divides by the totals (NaN rates when a total is not positive). Returns float64
    ``fpr``, ``tpr``, ``thresholds``.
    """
    n = tps.shape[0]
    fpr = np.empty(n + 1, dtype=np.float64)
    tpr = np.empty(n + 1, dtype=np.float64)
    out_thresholds = np.empty(n + 1, dtype=np.float64)
    fps_total = fps[n - 1] if n > 0 else 0.0
    tps_total = tps[n - 1] if n > 0 else 0.0
    fpr[0] = 0.0 if fps_total > 0 else np.nan
    tpr[0] = 0.0 if tps_total > 0 else np.nan
    out_thresholds[0] = np.inf
    k = 1
    for i in range(n):
        if drop_intermediate and n > 2 and 0 < i < n - 1:
            d2f = (fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1])
            d2t = (tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1])
            if d2f == 0 and d2t == 0:
                continue
        fpr[k] = fps[i] / fps_total if fps_total > 0 else np.nan
        tpr[k] = tps[i] / tps_total if tps_total > 0 else np.nan
        out_thresholds[k] = thresholds[i]
        k += 1
    return fpr[:k], tpr[:k], out_thresholds[:k]


def roc_arrays_reference(thresholds, tps, fps, drop_intermediate):
    """NumPy twin of :func:`roc_arrays`, the way scikit-learn writes it."""
    if drop_intermediate and fps.shape[0] > 2:
        keep = roc_keep_mask_reference(tps, fps)
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps = np.r_[0.0, tps]
    fps = np.r_[0.0, fps]
    thresholds = np.r_[np.inf, thresholds.astype(np.float64)]
    fpr = np.full(fps.shape, np.nan) if fps[-1] <= 0 else fps / fps[-1]
    tpr = np.full(tps.shape, np.nan) if tps[-1] <= 0 else tps / tps[-1]
    return fpr, tpr, thresholds


@_jit
def pr_arrays(thresholds, tps, fps):  # pragma: no cover - compiled
    """scikit-learn's ``precision_recall_curve`` arrays from the counts, in one pass.

    Returns ``precision`` and ``recall`` (float64, length ``L + 1``, in increasing
    threshold order and ending in 1 and 0) and the thresholds increasing. Recall is 1
    everywhere when there is no positive.
    """
    n = tps.shape[0]
    precision = np.empty(n + 1, dtype=np.float64)
    recall = np.empty(n + 1, dtype=np.float64)
    out_thresholds = np.empty(n, dtype=thresholds.dtype)
    total = tps[n - 1] if n > 0 else 0.0
    for i in range(n):
        k = n - 1 - i
        ps = tps[k] + fps[k]
        precision[i] = tps[k] / ps if ps != 0 else 0.0
        recall[i] = tps[k] / total if total != 0 else 1.0
        out_thresholds[i] = thresholds[k]
    precision[n] = 1.0
    recall[n] = 0.0
    return precision, recall, out_thresholds


def pr_arrays_reference(thresholds, tps, fps):
    """NumPy twin of :func:`pr_arrays`, the way scikit-learn writes it."""
    ps = tps + fps
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(ps != 0, np.divide(tps, ps), 0.0)
    no_positive = tps.shape[0] == 0 or tps[-1] == 0
    recall = np.full(tps.shape, 1.0) if no_positive else tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


@_jit
def roc_auc_terms(pos, neg):  # pragma: no cover - compiled
    """Trapezoid terms of the ROC curve of two ascending score arrays, in curve order.

    Fuses :func:`merge_counts`, ``drop_intermediate``, the leading (0, 0) point and the
    division by the totals; returns ``d * (tpr[1:] + tpr[:-1]) / 2`` with
    ``d = fpr[1:] - fpr[:-1]``, the array scikit-learn's trapezoid sums. Needs both classes.
    """
    n_pos = float(pos.shape[0])
    n_neg = float(neg.shape[0])
    i = pos.shape[0] - 1
    j = neg.shape[0] - 1
    terms = np.empty(pos.shape[0] + neg.shape[0] + 1, dtype=np.float64)
    n_terms = 0
    # The last kept point (its rates) and the two most recent curve points (counts).
    kept_fpr = 0.0
    kept_tpr = 0.0
    have_prev = False  # a curve point P[k-1] exists
    have_prev2 = False  # P[k-2] exists
    prev_tp = 0.0
    prev_fp = 0.0
    prev2_tp = 0.0
    prev2_fp = 0.0
    while i >= 0 or j >= 0:
        _, i, j = _top_group(pos, neg, i, j)
        cur_tp = float(pos.shape[0] - 1 - i)
        cur_fp = float(neg.shape[0] - 1 - j)
        # Decide on the previous point P[k-1] now that its successor P[k] is known.
        if have_prev:
            keep = True
            if have_prev2:
                d2f = (cur_fp - prev_fp) - (prev_fp - prev2_fp)
                d2t = (cur_tp - prev_tp) - (prev_tp - prev2_tp)
                keep = d2f != 0 or d2t != 0
            if keep:
                fpr = prev_fp / n_neg
                tpr = prev_tp / n_pos
                terms[n_terms] = (fpr - kept_fpr) * (tpr + kept_tpr) / 2.0
                n_terms += 1
                kept_fpr = fpr
                kept_tpr = tpr
            prev2_tp = prev_tp
            prev2_fp = prev_fp
            have_prev2 = True
        prev_tp = cur_tp
        prev_fp = cur_fp
        have_prev = True
    if have_prev:  # the last point is always kept
        fpr = prev_fp / n_neg
        tpr = prev_tp / n_pos
        terms[n_terms] = (fpr - kept_fpr) * (tpr + kept_tpr) / 2.0
        n_terms += 1
    return terms[:n_terms]


def roc_auc_terms_reference(pos, neg):
    """NumPy twin of :func:`roc_auc_terms`, written the way scikit-learn computes it."""
    _, tps, fps = merge_counts_reference(pos, neg)
    keep = roc_keep_mask_reference(tps, fps)
    tps = np.r_[0.0, tps[keep]]
    fps = np.r_[0.0, fps[keep]]
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    return (fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2.0


@_jit
def _next_from_top(pos, neg, i, j):  # pragma: no cover - compiled
    """The larger of ``pos[i]`` and ``neg[j]`` (a cursor below 0: that class is done) and
    whether it is the positive's, chosen without a branch: with randomly interleaved
    classes a branch would be mispredicted half the time. Reads stay inside the arrays (an
    empty class reads the other one and is never chosen); one class must be left."""
    # unsigned indices: no wrap-around code for negative ones on the loop's critical path
    a = pos[np.uintp(max(i, 0))] if pos.shape[0] > 0 else neg[np.uintp(max(j, 0))]
    b = neg[np.uintp(max(j, 0))] if neg.shape[0] > 0 else a
    take_pos = (i >= 0) & ((j < 0) | (a >= b))
    return (a if take_pos else b), take_pos


@_jit
def _next_from_bottom(pos, neg, i, j):  # pragma: no cover - compiled
    """The smaller of ``pos[i]`` and ``neg[j]`` (a cursor at its array's end: that class is
    done) and whether it is the positive's; :func:`_next_from_top` from the other end."""
    m = pos.shape[0]
    k = neg.shape[0]
    a = pos[np.uintp(min(i, m - 1))] if m > 0 else neg[np.uintp(min(j, k - 1))]
    b = neg[np.uintp(min(j, k - 1))] if k > 0 else a
    take_pos = (i < m) & ((j >= k) | (a <= b))
    return (a if take_pos else b), take_pos


@_jit
def _skip_down(pos, neg, i, j, v):  # pragma: no cover - compiled
    """Cursors moved below the scores equal to ``v`` left in ``pos[: i + 1]``,
    ``neg[: j + 1]``: tight loops once a tie shows that a group is large."""
    while i >= 0 and pos[i] == v:
        i -= 1
    while j >= 0 and neg[j] == v:
        j -= 1
    return i, j


@_jit
def _skip_up(pos, neg, i, j, v):  # pragma: no cover - compiled
    """Cursors moved past the scores equal to ``v`` in ``pos[i:]``, ``neg[j:]``."""
    while i < pos.shape[0] and pos[i] == v:
        i += 1
    while j < neg.shape[0] and neg[j] == v:
        j += 1
    return i, j


def roc_curve_sorted(pos, neg, drop_intermediate):
    """:func:`merge_counts` and :func:`roc_arrays` fused: the ROC arrays from sorted scores.

    ``pos (T[m])``, ``neg (T[k])`` ascending -> float64 ``fpr``, ``tpr``, ``thresholds``
    (at most ``m + k + 1`` each). Walks the scores from the top one at a time, the class
    chosen without a branch; a point (a distinct threshold) is complete when a smaller
    score turns up or the scores run out. Each point is decided on once its successor is
    known (``drop_intermediate``) and written in any case: the write position advances
    only when it is kept, so a random keep/drop pattern costs no mispredicted branch.
    The outputs are allocated by NumPy (huge pages: see :func:`radix_split_sort`).
    """
    size = pos.shape[0] + neg.shape[0] + 1
    fps, tps, thresholds = (np.empty(size, dtype=np.float64) for _ in range(3))
    length = _roc_curve_into(pos, neg, bool(drop_intermediate), fps, tps, thresholds)
    return (
        _rates(fps[:length], neg.shape[0]),
        _rates(tps[:length], pos.shape[0]),
        thresholds[:length],
    )


def _rates(counts, total):
    """``counts / total`` in place (NaN when ``total`` is 0), as scikit-learn divides: one
    vectorised division instead of one in the compiled walk's loop."""
    if total > 0:
        return np.divide(counts, float(total), out=counts)
    counts.fill(np.nan)
    return counts


@_jit
def _roc_curve_into(pos, neg, drop_intermediate, fps, tps, thresholds):  # pragma: no cover
    """:func:`roc_curve_sorted`'s points into given float64 arrays of ``m + k + 1``: the
    false and true positive counts (not yet divided) and the thresholds; returns the number
    of points written."""
    m = pos.shape[0]
    k_neg = neg.shape[0]
    n = m + k_neg
    fps[0] = 0.0
    tps[0] = 0.0
    thresholds[0] = np.inf
    if n == 0:
        return 1
    i = m - 1
    j = k_neg - 1
    k = 1
    n_points = 0  # completed points
    prev_tp = 0.0  # counts and threshold of the last completed point, counts of the one before
    prev_fp = 0.0
    prev_v = 0.0
    prev2_tp = 0.0
    prev2_fp = 0.0
    group_v, _ = _next_from_top(pos, neg, i, j)
    while True:
        done = i < 0 and j < 0
        if done:  # the end completes the last point
            v = group_v
            take_pos = False
            new_point = True
        else:
            v, take_pos = _next_from_top(pos, neg, i, j)
            new_point = v != group_v
        if new_point:  # the point of group_v is complete: i and j sit below its scores
            cur_tp = float(m - 1 - i)
            cur_fp = float(k_neg - 1 - j)
            if n_points >= 1:  # decide on the previous point
                d2f = (cur_fp - prev_fp) - (prev_fp - prev2_fp)
                d2t = (cur_tp - prev_tp) - (prev_tp - prev2_tp)
                keep = (not drop_intermediate) | (n_points < 2) | (d2f != 0) | (d2t != 0)
                fps[k] = prev_fp
                tps[k] = prev_tp
                thresholds[k] = prev_v
                k += np.intp(keep)
            prev2_tp = prev_tp
            prev2_fp = prev_fp
            prev_tp = cur_tp
            prev_fp = cur_fp
            prev_v = float(group_v)
            n_points += 1
            group_v = v
            if done:
                break
        i -= np.intp(take_pos)
        j -= np.intp(not take_pos)
        if not new_point:  # a tie (rare when scores are continuous): skip the rest of it
            i, j = _skip_down(pos, neg, i, j, v)
    # the last point is always kept
    fps[k] = prev_fp
    tps[k] = prev_tp
    thresholds[k] = prev_v
    return k + 1


def pr_curve_sorted(pos, neg):
    """:func:`merge_counts` and :func:`pr_arrays` fused: the PR arrays from sorted scores.

    ``pos (T[m])``, ``neg (T[k])`` ascending -> ``precision``, ``recall`` (float64
    ``[L + 1]``) and ``thresholds (T[L])``, ``L`` the number of distinct scores. Walks the
    scores from the bottom one at a time (the class chosen without a branch), so the
    outputs come out in their final (increasing threshold) order: at the first score of
    each distinct value ``v`` the counts at or above ``v`` are ``total - count below``.
    The outputs are allocated by NumPy (huge pages: see :func:`radix_split_sort`).
    """
    n = pos.shape[0] + neg.shape[0]
    precision = np.empty(n + 1, dtype=np.float64)
    recall = np.empty(n + 1, dtype=np.float64)
    thresholds = np.empty(n, dtype=pos.dtype)
    # the walk leaves tp + fp in ``precision`` and tp in ``recall``: vectorised divisions
    length = _pr_curve_into(pos, neg, precision, recall, thresholds)
    np.divide(recall[:length], precision[:length], out=precision[:length])
    if pos.shape[0] > 0:
        np.divide(recall[:length], float(pos.shape[0]), out=recall[:length])
    else:
        recall[:length] = 1.0
    precision[length] = 1.0
    recall[length] = 0.0
    return precision[: length + 1], recall[: length + 1], thresholds[:length]


@_jit
def _pr_curve_into(pos, neg, precision, recall, thresholds):  # pragma: no cover - compiled
    """:func:`pr_curve_sorted`'s counts into given arrays (``m + k + 1``, ``m + k + 1``,
    ``m + k``): ``tp + fp`` into ``precision``, ``tp`` into ``recall``, the thresholds;
    returns the number of thresholds written."""
    m = pos.shape[0]
    k_neg = neg.shape[0]
    n = m + k_neg
    i = 0
    j = 0
    out = 0
    if n == 0:
        return 0
    group_v = pos[0] if m > 0 else neg[0]
    first = True
    while i < m or j < k_neg:
        v, take_pos = _next_from_bottom(pos, neg, i, j)
        new_point = first or v != group_v
        if new_point:  # a new distinct score
            tp = float(m - i)
            fp = float(k_neg - j)
            precision[out] = tp + fp  # >= 1: a score is left
            recall[out] = tp
            thresholds[out] = v
            out += 1
            group_v = v
            first = False
        i += np.intp(take_pos)
        j += np.intp(not take_pos)
        if not new_point:  # a tie (rare when scores are continuous): skip the rest of it
            i, j = _skip_up(pos, neg, i, j, v)
    return out


def average_precision_sorted(pos, neg):
    """:func:`average_precision_terms` straight from sorted scores (needs a positive).

    ``pos (T[m])``, ``neg (T[k])`` ascending -> ``float64[L]``. Walks from the bottom one
    score at a time (the class chosen without a branch, as :func:`pr_curve_sorted`); term
    ``i`` is ``(recall[i + 1] - recall[i]) * precision[i]``, written once the next point's
    recall is known. The output is allocated by NumPy (huge pages).
    """
    terms = np.empty(pos.shape[0] + neg.shape[0], dtype=np.float64)
    return terms[: _average_precision_into(pos, neg, terms)]


@_jit
def _average_precision_into(pos, neg, terms):  # pragma: no cover - compiled
    """:func:`average_precision_sorted` into ``terms (float64[m + k])``; returns how many
    terms were written."""
    m = pos.shape[0]
    k_neg = neg.shape[0]
    n = m + k_neg
    if n == 0:
        return 0
    total = float(m)
    i = 0
    j = 0
    out = 0
    prev_precision = 0.0
    prev_recall = 0.0
    group_v = pos[0] if m > 0 else neg[0]
    first = True
    while i < m or j < k_neg:
        v, take_pos = _next_from_bottom(pos, neg, i, j)
        new_point = first or v != group_v
        if new_point:  # a new distinct score: the next point
            tp = float(m - i)
            fp = float(k_neg - j)
            cur_precision = tp / (tp + fp)  # tp + fp >= 1: a score is left
            cur_recall = tp / total
            if not first:
                terms[out] = (cur_recall - prev_recall) * prev_precision
                out += 1
            prev_precision = cur_precision
            prev_recall = cur_recall
            group_v = v
            first = False
        i += np.intp(take_pos)
        j += np.intp(not take_pos)
        if not new_point:  # a tie (rare when scores are continuous): skip the rest of it
            i, j = _skip_up(pos, neg, i, j, v)
    terms[out] = (0.0 - prev_recall) * prev_precision
    return out + 1


# --------------------------------------------------------------------------------------
# Average precision terms
# --------------------------------------------------------------------------------------


def average_precision_terms_reference(tps, fps):
    """``diff(recall) * precision[:-1])`` of scikit-learn's PR arrays (needs a positive).

    NumPy twin of :func:`average_precision_sorted`, from the counts of :func:`merge_counts`.
    """
    ps = tps + fps
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(ps != 0, tps / ps, 0.0)
    recall = tps / tps[-1]
    precision = np.r_[precision[::-1], 1.0]
    recall = np.r_[recall[::-1], 0.0]
    return np.diff(recall) * precision[:-1]


# --------------------------------------------------------------------------------------
# DeLong placement values from sorted scores
# --------------------------------------------------------------------------------------


@_jit
def delong_sums(pos, neg, auc):  # pragma: no cover - compiled
    """Sums of squared deviations of the DeLong placement values from ``auc``.

    ``pos (T[m])``, ``neg (T[k])`` sorted ascending. The placement of a positive with score
    ``x`` is ``V10(x) = (#neg < x + #neg == x / 2) / k``, of a negative ``y``
    ``V01(y) = (#pos > y + #pos == y / 2) / m``. Returns
    ``(sum((V10 - auc)**2), sum((V01 - auc)**2), mann_whitney_auc)``.
    """
    m = pos.shape[0]
    k = neg.shape[0]
    i = 0
    j = 0
    s10 = 0.0
    s01 = 0.0
    u = 0.0
    while i < m or j < k:
        i0 = i
        j0 = j
        _, i, j = _bottom_group(pos, neg, i, j)
        c_pos = i - i0
        c_neg = j - j0
        if c_pos > 0:
            v10 = (j0 + 0.5 * c_neg) / k
            s10 += c_pos * (v10 - auc) ** 2
            u += c_pos * (j0 + 0.5 * c_neg)
        if c_neg > 0:
            v01 = ((m - i) + 0.5 * c_pos) / m
            s01 += c_neg * (v01 - auc) ** 2
    return s10, s01, u / (float(m) * float(k))


def delong_placements_reference(pos, neg):
    """Per-sample placement values ``(V10[m], V01[k])`` by the Sun & Xu midrank algorithm."""
    m, k = len(pos), len(neg)
    tx = midranks_reference(pos)
    ty = midranks_reference(neg)
    tz = midranks_reference(np.concatenate([pos, neg]))
    v10 = (tz[:m] - tx) / k
    v01 = 1.0 - (tz[m:] - ty) / m
    return v10, v01


def midranks_reference(x):
    """Ranks 1..n of ``x`` with ties given their average rank (NumPy only)."""
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    n = len(x)
    starts = np.r_[0, np.nonzero(np.diff(sorted_x))[0] + 1] if n else np.zeros(0, np.intp)
    ends = np.r_[starts[1:], n] if n else np.zeros(0, np.intp)
    ranks_sorted = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = ranks_sorted
    return ranks


@_jit
def midranks(x):  # pragma: no cover - compiled
    """Ranks 1..n of ``x`` with ties given their average rank (Sun & Xu 2014, step 1)."""
    n = x.shape[0]
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(n, dtype=np.float64)
    start = 0
    while start < n:
        end = start + 1
        v = x[order[start]]
        while end < n and x[order[end]] == v:
            end += 1
        r = 0.5 * (start + end + 1)
        for t in range(start, end):
            ranks[order[t]] = r
        start = end
    return ranks


# --------------------------------------------------------------------------------------
# Label counting: confusion matrices and per-class sums
# --------------------------------------------------------------------------------------


@_jit
def confusion_counts(y_true, y_pred, offset, n_codes):  # pragma: no cover - compiled
    """Unweighted confusion counts over the codes ``y - offset`` in ``[0, n_codes)``.

    Returns ``counts (int64[n_codes, n_codes])`` (rows: true, columns: predicted).
    Which codes occur follows from the row and column sums.
    """
    counts = np.zeros((n_codes, n_codes), dtype=np.int64)
    for i in range(y_true.shape[0]):
        counts[y_true[i] - offset, y_pred[i] - offset] += 1
    return counts


@_jit
def confusion_sums(y_true, y_pred, offset, n_codes, weights, acc):  # pragma: no cover
    """Weighted confusion sums: ``acc[t, p] += weights[i]`` in sample order.

    ``acc`` (float64 or int64 ``[n_codes, n_codes]``) is updated in place, one sample at a
    time, which is the order scikit-learn's sparse-to-dense conversion adds duplicates in.
    Returns ``(in_true, in_pred)``: which codes occur in ``y_true`` and in ``y_pred``.
    """
    in_true = np.zeros(n_codes, dtype=np.bool_)
    in_pred = np.zeros(n_codes, dtype=np.bool_)
    for i in range(y_true.shape[0]):
        t = y_true[i] - offset
        p = y_pred[i] - offset
        acc[t, p] += weights[i]
        in_true[t] = True
        in_pred[p] = True
    return in_true, in_pred


def confusion_sums_reference(codes_true, codes_pred, n_codes, weights=None):
    """NumPy twin of the two confusion kernels for codes in ``[0, n_codes)``."""
    dtype = np.int64 if weights is None or weights.dtype.kind in "biu" else np.float64
    acc = np.zeros((n_codes, n_codes), dtype=dtype)
    w = np.ones(len(codes_true), dtype=dtype) if weights is None else weights.astype(dtype)
    np.add.at(acc, (codes_true, codes_pred), w)
    in_true = np.zeros(n_codes, dtype=bool)
    in_pred = np.zeros(n_codes, dtype=bool)
    in_true[codes_true] = True
    in_pred[codes_pred] = True
    return acc, in_true, in_pred


@_jit
def class_sums(y_true, y_pred, offset, n_codes, weights):  # pragma: no cover - compiled
    """Per-class weighted sums in sample order, as three ``np.bincount(..., weights)`` calls.

    Returns float64 ``tp[n_codes]`` (weights of correct samples by class), ``pred`` (by
    predicted class), ``true`` (by true class), the presence flags ``in_true``, ``in_pred``
    and the number of correct samples (whatever their weight).
    """
    tp = np.zeros(n_codes, dtype=np.float64)
    pred = np.zeros(n_codes, dtype=np.float64)
    true = np.zeros(n_codes, dtype=np.float64)
    in_true = np.zeros(n_codes, dtype=np.bool_)
    in_pred = np.zeros(n_codes, dtype=np.bool_)
    n_hits = 0
    for i in range(y_true.shape[0]):
        t = y_true[i] - offset
        p = y_pred[i] - offset
        w = float(weights[i])
        if t == p:
            tp[t] += w
            n_hits += 1
        pred[p] += w
        true[t] += w
        in_true[t] = True
        in_pred[p] = True
    return tp, pred, true, in_true, in_pred, n_hits


def class_sums_reference(codes_true, codes_pred, n_codes, weights):
    """NumPy twin of :func:`class_sums`."""
    w = weights.astype(np.float64)
    hit = codes_true == codes_pred
    tp = np.bincount(codes_true[hit], weights=w[hit], minlength=n_codes)
    pred = np.bincount(codes_pred, weights=w, minlength=n_codes)
    true = np.bincount(codes_true, weights=w, minlength=n_codes)
    in_true = np.bincount(codes_true, minlength=n_codes) > 0
    in_pred = np.bincount(codes_pred, minlength=n_codes) > 0
    return tp, pred, true, in_true, in_pred, int(hit.sum())


@_jit
def count_equal(a, b):  # pragma: no cover - compiled
    """``np.count_nonzero(a == b)`` without the temporary boolean array."""
    count = 0
    for i in range(a.shape[0]):
        count += a[i] == b[i]
    return count


# --------------------------------------------------------------------------------------
# Encoding labels by hashing (strings, integers spread over a wide range)
# --------------------------------------------------------------------------------------

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@_jit
def _row_hash(words, i):  # pragma: no cover - compiled
    h = _FNV_OFFSET
    for c in range(words.shape[1]):
        h = (h ^ np.uint64(words[i, c])) * _FNV_PRIME
    return h ^ (h >> np.uint64(29))


@_jit
def _same_row(words_a, ia, words_b, ib):  # pragma: no cover - compiled
    for c in range(words_a.shape[1]):  # noqa: SIM110 - compiled, no generators
        if words_a[ia, c] != words_b[ib, c]:
            return False
    return True


@_jit
def hash_encode(words_a, words_b):  # pragma: no cover - compiled
    """Give every distinct row of two ``uint32[n, w]`` word matrices a code 0, 1, ...

    Codes follow first appearance (``words_a`` before ``words_b``). Returns
    ``codes_a (int64[n_a])``, ``codes_b (int64[n_b])`` and, for each code, the source
    (0 for ``a``, 1 for ``b``) and row of its first appearance: ``first (int64[n_codes, 2])``.
    Open addressing with linear probing; the table doubles when half full.
    """
    capacity = 1024
    table = np.full(capacity, -1, dtype=np.int64)
    first = np.empty((64, 2), dtype=np.int64)
    n_codes = 0
    codes_a = np.empty(words_a.shape[0], dtype=np.int64)
    codes_b = np.empty(words_b.shape[0], dtype=np.int64)
    for source in range(2):
        words = words_a if source == 0 else words_b
        codes = codes_a if source == 0 else codes_b
        for i in range(words.shape[0]):
            mask = np.uint64(capacity - 1)
            slot = np.int64(_row_hash(words, i) & mask)
            while True:
                code = table[slot]
                if code < 0:
                    break
                src_words = words_a if first[code, 0] == 0 else words_b
                if _same_row(words, i, src_words, first[code, 1]):
                    break
                slot = (slot + 1) & (capacity - 1)
            if code < 0:
                code = n_codes
                if n_codes == first.shape[0]:
                    grown = np.empty((2 * n_codes, 2), dtype=np.int64)
                    grown[:n_codes] = first
                    first = grown
                first[code, 0] = source
                first[code, 1] = i
                table[slot] = code
                n_codes += 1
                if 2 * n_codes > capacity:  # rehash into a table twice the size
                    capacity *= 2
                    table = np.full(capacity, -1, dtype=np.int64)
                    for c in range(n_codes):
                        src_words = words_a if first[c, 0] == 0 else words_b
                        s = np.int64(_row_hash(src_words, first[c, 1]) & np.uint64(capacity - 1))
                        while table[s] >= 0:
                            s = (s + 1) & (capacity - 1)
                        table[s] = c
            codes[i] = code
    return codes_a, codes_b, first[:n_codes].copy()


def hash_encode_reference(words_a, words_b):
    """NumPy twin of :func:`hash_encode` (codes in first-appearance order)."""
    both = np.concatenate([words_a, words_b])
    if len(both) == 0:
        return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 2), np.int64))
    _, first_index, inverse = np.unique(both, axis=0, return_index=True, return_inverse=True)
    # renumber the sorted codes by first appearance
    order = np.argsort(first_index, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    codes = rank[inverse.reshape(-1)]
    firsts = np.sort(first_index)
    n_a = len(words_a)
    first = np.stack(
        [(firsts >= n_a).astype(np.int64), np.where(firsts >= n_a, firsts - n_a, firsts)], 1
    )
    return codes[:n_a].astype(np.int64), codes[n_a:].astype(np.int64), first.astype(np.int64)
