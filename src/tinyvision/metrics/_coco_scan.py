"""A compiled reader for the common shape of a COCO results file, straight into columns.

A results file of a COCO-sized evaluation holds ~400k detections; parsed as JSON it becomes
~400k dicts (and millions of floats and lists) that are read back into columns and freed,
which costs several times the evaluation itself. :func:`scan_results` reads the file's
bytes once with numba and fills ``image_id``, ``category_id``, ``bbox``, ``score`` and
``keypoints`` directly when the file is the usual list of flat objects::

    [{"image_id": 42, "category_id": 18, "bbox": [258.15, 41.29, 348.26, 243.78],
      "score": 0.236}, ...]
    [{"image_id": 42, "category_id": 1, "keypoints": [x1, y1, v1, ...], "score": 0.9}, ...]

(in any key order, with any whitespace, and with other keys whose values are numbers,
plain strings, ``true``, ``false`` or ``null``; every result with the first one's keys,
keypoint lists of one length). Anything else gives ``None`` and the caller uses the general
JSON parser, so errors and unusual files read exactly as before: an empty list, other
nesting, strings with escapes or non-ASCII bytes, a ``segmentation`` key, repeated keys,
ids that are not plain integers of up to 18 digits, integers of more digits anywhere, and
any byte that is not valid JSON there.

Numbers come out as the float64 that Python's ``json``/orjson give: a token whose digits
(up to 18 significant) and power of ten (``|e| <= 22``) are exact in float64 is one
correctly rounded multiplication or division (Clinger's fast path); every other token is
converted by numpy's string-to-float cast (correctly rounded, as ``float()``), and one that
overflows to infinity sends the file to the general parser, which refuses it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tinyvision._numba import jit

# Kinds of number tokens (bit flags returned by `_number`).
_VALID, _INT64, _EXACT, _INTEGER = 1, 2, 4, 8
# Keys of a result: those read, one that needs the general reader, any other.
_IMAGE_ID, _CATEGORY_ID, _BBOX, _SCORE, _KEYPOINTS, _NESTED, _OTHER = 0, 1, 2, 3, 4, 5, 6
_NEEDED = (1 << _IMAGE_ID) | (1 << _CATEGORY_ID) | (1 << _SCORE)
# The scanner's state: slow tokens so far, numbers in the last list, keypoints per result
# (-1 until the first result's), the first result's keys (-1 until read).
_N_SLOW, _N_READ, _N_POINTS, _KEYS = 0, 1, 2, 3
# Columns of the float table: x, y, w, h, score.
_REALS = 5

_POW10 = np.array([float(10**k) for k in range(23)])  # exact in float64 up to 1e22
_KEY_WORDS = tuple(
    np.frombuffer(key, dtype=np.uint8)
    for key in (b"image_id", b"category_id", b"bbox", b"score", b"segmentation", b"keypoints")
)
_K_IMAGE_ID, _K_CATEGORY_ID, _K_BBOX, _K_SCORE, _K_SEGMENTATION, _K_KEYPOINTS = _KEY_WORDS
_TRUE, _FALSE, _NULL = (np.frombuffer(w, dtype=np.uint8) for w in (b"true", b"false", b"null"))


@jit(inline=True)
def _skip_space(buf: np.ndarray, i: int) -> int:
    """The index of the first byte at or after ``i`` that is not JSON whitespace."""
    while True:
        c = buf[i]
        if c != 32 and c != 10 and c != 13 and c != 9:
            return i
        i += 1


@jit
def _digits(buf: np.ndarray, i: int, mant: int) -> tuple[int, int, int]:
    """Read decimal digits from ``i``: (end, ``mant`` followed by them, digits read). The
    mantissa is exact for up to 18 digits in all (it wraps round beyond: unused then)."""
    start = i
    while True:
        d = buf[i] - 48
        if d < 0 or d > 9:
            return i, mant, i - start
        mant = mant * 10 + d
        i += 1


@jit(inline=True)
def _number(buf: np.ndarray, i: int) -> tuple[int, int, float, int]:
    """A JSON number token at ``i``: (end, kind flags, value, integer value).

    ``kind`` has ``_VALID`` for a token of JSON's number grammar, ``_INTEGER`` for one
    without fraction or exponent, ``_INT64`` for such a token of at most 18 digits (its
    value in the last field), ``_EXACT`` when the float value is the correctly rounded one
    (else it is left to the string-to-float cast). An integer token's float is that of the
    integer (``-0`` is 0.0)."""
    neg = buf[i] == 45
    if neg:
        i += 1
    first = buf[i]
    if first < 48 or first > 57:
        return i, 0, 0.0, 0
    if first == 48:  # a leading 0 is the whole integer part (JSON has no 012)
        end, mant, sig = i + 1, 0, 0
    else:
        end, mant, sig = _digits(buf, i, 0)
    i = end
    exp10 = 0
    integer = True
    if buf[i] == 46:  # '.'
        end, mant, n_frac = _digits(buf, i + 1, mant)
        if n_frac == 0:
            return end, 0, 0.0, 0
        sig += n_frac  # leading zeros of the fraction too: a few exact tokens go slow
        exp10 = -n_frac
        i = end
        integer = False
    if buf[i] == 101 or buf[i] == 69:  # 'e' or 'E'
        i += 1
        sign = 1
        if buf[i] == 45 or buf[i] == 43:
            sign = -1 if buf[i] == 45 else 1
            i += 1
        end, e, n_exp = _digits(buf, i, 0)
        if n_exp == 0:
            return end, 0, 0.0, 0
        i = end
        exp10 += sign * e if n_exp <= 6 else sign * 10**6
        integer = False
    kind = _VALID | (_INTEGER if integer else 0)
    ivalue = 0
    if integer and sig <= 18:
        kind |= _INT64
        ivalue = -mant if neg else mant
    value = 0.0
    if mant == 0 and sig <= 18:
        kind |= _EXACT
        value = -0.0 if neg and not integer else 0.0
    elif sig <= 18 and mant < 2**53 and -22 <= exp10 <= 22:
        kind |= _EXACT
        value = mant * _POW10[exp10] if exp10 >= 0 else mant / _POW10[-exp10]
        value = -value if neg else value
    return i, kind, value, ivalue


@jit
def _same(buf: np.ndarray, start: int, end: int, word: np.ndarray) -> bool:
    if end - start != word.shape[0]:
        return False
    for k in range(word.shape[0]):  # noqa: SIM110 (a loop numba compiles)
        if buf[start + k] != word[k]:
            return False
    return True


@jit
def _string_end(buf: np.ndarray, i: int) -> int:
    """The index of the closing quote of a plain string opened at ``i`` (ASCII, no escapes,
    no control characters), or -1 for any other string."""
    i += 1
    while True:
        c = buf[i]
        if c == 34:
            return i
        if c < 32 or c == 92 or c >= 128:
            return -1
        i += 1


@jit
def _key(buf: np.ndarray, start: int, end: int) -> int:
    if _same(buf, start, end, _K_IMAGE_ID):
        return _IMAGE_ID
    if _same(buf, start, end, _K_CATEGORY_ID):
        return _CATEGORY_ID
    if _same(buf, start, end, _K_BBOX):
        return _BBOX
    if _same(buf, start, end, _K_SCORE):
        return _SCORE
    if _same(buf, start, end, _K_KEYPOINTS):
        return _KEYPOINTS
    if _same(buf, start, end, _K_SEGMENTATION):
        return _NESTED
    return _OTHER


@jit(inline=True)
def _real(
    buf: np.ndarray, i: int, out: np.ndarray, at: int, dest: int, slow: np.ndarray,
    state: np.ndarray,
) -> int:  # fmt: skip
    """Read a number into ``out[at]``, or, when it is not exact, note its extent and
    ``dest`` in ``slow`` (``dest`` -1: only checked). The end of the token, or -1 when
    unreadable (or an integer of over 18 digits, which the parsers' types differ on)."""
    end, kind, value, _ = _number(buf, i)
    if kind == 0 or ((kind & _INTEGER) != 0 and (kind & _INT64) == 0):
        return -1
    if (kind & _EXACT) != 0:
        if at >= 0:
            out[at] = value
        return end
    n_slow = state[_N_SLOW]
    if n_slow == slow.shape[0] or end - i > 64:
        return -1
    slow[n_slow, 0], slow[n_slow, 1], slow[n_slow, 2] = i, end, dest
    state[_N_SLOW] = n_slow + 1
    return end


@jit
def _other_value(
    buf: np.ndarray, i: int, reals: np.ndarray, slow: np.ndarray, state: np.ndarray
) -> int:
    """Skip a value of a key that is not read: a number, a plain string or a literal."""
    c = buf[i]
    if c == 34:
        end = _string_end(buf, i)
        return -1 if end < 0 else end + 1
    for word in (_TRUE, _FALSE, _NULL):
        if c == word[0]:
            if i + word.shape[0] < buf.shape[0] and _same(buf, i, i + word.shape[0], word):
                return i + word.shape[0]
            return -1
    return _real(buf, i, reals, -1, -1, slow, state)


@jit
def _numbers(
    buf: np.ndarray, i: int, out: np.ndarray, at: int, count: int, dest: int,
    slow: np.ndarray, state: np.ndarray,
) -> int:  # fmt: skip
    """Read a list of numbers at ``i`` into ``out[at:]``: ``count`` of them (any number,
    at least one, when ``count`` is -1; ``state[_N_READ]`` says how many). Slow tokens
    get ``dest + k`` (``dest`` <= -2: ``-dest - 2 - k``). The index after the ']', or -1."""
    if buf[i] != 91:  # '['
        return -1
    k = 0
    while True:
        if at + k >= out.shape[0] or (count >= 0 and k == count):
            return -1
        i = _skip_space(buf, i + 1)
        i = _real(buf, i, out, at + k, dest + k if dest >= 0 else dest - k, slow, state)
        if i < 0:
            return -1
        k += 1
        i = _skip_space(buf, i)
        if buf[i] == 93:  # ']'
            state[_N_READ] = k
            return i + 1 if count < 0 or k == count else -1
        if buf[i] != 44:  # ','
            return -1


@jit
def _value(
    buf: np.ndarray, i: int, key: int, row: int, ints: np.ndarray, reals: np.ndarray,
    points: np.ndarray, slow: np.ndarray, state: np.ndarray,
) -> int:  # fmt: skip
    """Read the value of ``key`` at ``i`` for row ``row``: the index after it, or -1."""
    if key == _OTHER:
        return _other_value(buf, i, reals, slow, state)
    if key == _BBOX:
        at = row * _REALS
        return _numbers(buf, i, reals, at, 4, at, slow, state)
    if key == _SCORE:
        at = row * _REALS + 4
        return _real(buf, i, reals, at, at, slow, state)
    if key == _KEYPOINTS:
        k = state[_N_POINTS]
        at = row * k if k >= 0 else 0
        return _numbers(buf, i, points, at, k, -2 - at, slow, state)
    end, kind, _, ivalue = _number(buf, i)
    ints[row * 2 + key] = ivalue
    return end if (kind & _INT64) != 0 else -1


@jit
def _result(
    buf: np.ndarray, i: int, row: int, ints: np.ndarray, reals: np.ndarray,
    points: np.ndarray, slow: np.ndarray, state: np.ndarray,
) -> int:  # fmt: skip
    """Read the object at ``i`` into row ``row``: the index after its '}', or -1. Its
    keys must be the first result's (``state[_KEYS]``, set by the first)."""
    if buf[i] != 123:  # '{'
        return -1
    seen = 0
    while True:
        i = _skip_space(buf, i + 1)
        end = _string_end(buf, i) if buf[i] == 34 else -1
        if end < 0:
            return -1
        key = _key(buf, i + 1, end)
        i = _skip_space(buf, end + 1)
        if buf[i] != 58 or key == _NESTED:  # ':'
            return -1
        bit = 1 << key if key < _NESTED else 0
        if seen & bit:
            return -1  # a repeated key: the general parser keeps the last
        i = _value(buf, _skip_space(buf, i + 1), key, row, ints, reals, points, slow, state)
        if i < 0:
            return -1
        if key == _KEYPOINTS and state[_N_POINTS] < 0:
            state[_N_POINTS] = state[_N_READ]
        seen |= bit
        i = _skip_space(buf, i)
        if buf[i] == 125:  # '}'
            if state[_KEYS] < 0:
                state[_KEYS] = seen
            return i + 1 if seen == state[_KEYS] and (seen & _NEEDED) == _NEEDED else -1
        if buf[i] != 44:  # ','
            return -1


@jit
def _scan(
    buf: np.ndarray, ints: np.ndarray, reals: np.ndarray, points: np.ndarray,
    slow: np.ndarray, state: np.ndarray,
) -> int:  # fmt: skip
    """Read a results list from ``buf`` (ending in a 0 byte that is not part of the
    file): the number of results, -1 when the file is not of the shape read here."""
    i = _skip_space(buf, 0)
    if buf[i] != 91:  # '['
        return -1
    i = _skip_space(buf, i + 1)
    row = 0
    while True:
        if 2 * row == ints.shape[0]:
            return -1
        i = _result(buf, i, row, ints, reals, points, slow, state)
        if i < 0:
            return -1
        row += 1
        i = _skip_space(buf, i)
        if buf[i] == 93:  # ']'
            i = _skip_space(buf, i + 1)
            return row if i == buf.shape[0] - 1 else -1
        if buf[i] != 44:
            return -1
        i = _skip_space(buf, i + 1)


@jit
def _count(buf: np.ndarray) -> tuple[int, int]:
    """The numbers of '{' and ',' bytes: bounds on the results and the numbers."""
    braces, commas = 0, 0
    for c in buf:
        braces += c == 123
        commas += c == 44
    return braces, commas


@jit
def _slow_tokens(buf: np.ndarray, slow: np.ndarray, width: int) -> np.ndarray:
    """The slow tokens' bytes, one zero-padded row of ``width`` each."""
    out = np.zeros((slow.shape[0], width), dtype=np.uint8)
    for k in range(slow.shape[0]):
        for j in range(slow[k, 1] - slow[k, 0]):
            out[k, j] = buf[slow[k, 0] + j]
    return out


def _read_padded(path: str | os.PathLike[str]) -> np.ndarray:
    """The file's bytes followed by one 0 byte (the scanner's end marker)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        buf = np.empty(size + 1, dtype=np.uint8)
        got = f.readinto(memoryview(buf)[:size]) if size else 0
    if got != size:  # the file changed while read: leave it to the general reader
        raise OSError(f"{path}: read {got} of {size} bytes")
    buf[size] = 0
    return buf


def scan_results(
    data: str | os.PathLike[str] | np.ndarray,
) -> dict[str, np.ndarray] | None:
    """Columns of a COCO results file of boxes or keypoints, or ``None`` where it is not of
    the common shape (see the module docstring) and the general JSON reader must read it.

    Args:
        data: a path, or the file's bytes as ``uint8[n + 1]`` ending in a 0 byte.

    Returns:
        ``image_id`` (int64[N]), ``category_id`` (int64[N]), ``bbox`` (float64[N, 4] x, y,
        w, h), ``score`` (float64[N]), and for keypoint results ``keypoints``
        (float64[N, 3k]) and, without ``bbox``, ``area`` (float64[N]): the box and its area
        are then the keypoints' extent, as pycocotools' ``loadRes`` sets them. Or ``None``.
    """
    buf = data if isinstance(data, np.ndarray) else _read_padded(Path(data))
    if buf.dtype != np.uint8 or buf.ndim != 1 or buf.shape[0] == 0 or buf[-1] != 0:
        raise ValueError(
            f"data must be uint8[n + 1] ending in a 0 byte, got {buf.dtype} {buf.shape}"
        )
    braces, commas = _count(buf)
    rows = braces + 1
    ints = np.empty(2 * rows, dtype=np.int64)
    reals = np.empty(_REALS * rows, dtype=np.float64)
    points = np.empty(commas + rows, dtype=np.float64)
    # More inexact numbers than this: the general parser is quicker than their conversion.
    slow = np.empty((_REALS * rows + points.shape[0] // 4, 3), dtype=np.int64)
    state = np.array([0, 0, -1, -1], dtype=np.int64)
    n = _scan(buf, ints, reals, points, slow, state)
    if n <= 0 or not _convert_slow(buf, slow[: state[_N_SLOW]], reals, points):
        return None
    columns = {
        "image_id": ints[0 : 2 * n : 2].copy(),
        "category_id": ints[1 : 2 * n : 2].copy(),
        "score": reals[4 : _REALS * n : _REALS].copy(),
    }
    keys, k = int(state[_KEYS]), int(state[_N_POINTS])
    table = points[: n * k].reshape(n, k) if keys & (1 << _KEYPOINTS) else None
    if keys & (1 << _BBOX):
        columns["bbox"] = reals[: _REALS * n].reshape(n, _REALS)[:, :4].copy()
    elif table is None or k < 3 or k % 3:
        return None  # no boxes, or keypoints that are not triples: the general reader
    else:
        from tinyvision.metrics.coco._segm import keypoint_extent

        columns["bbox"], columns["area"] = keypoint_extent(table)
    if table is not None:
        columns["keypoints"] = table
    return columns


def _convert_slow(buf: np.ndarray, slow: np.ndarray, reals: np.ndarray, points: np.ndarray) -> bool:
    """Convert the tokens noted in ``slow`` (correctly rounded) into their places; False
    when one is beyond float64 (the general parser refuses it)."""
    if not slow.shape[0]:
        return True
    width = int((slow[:, 1] - slow[:, 0]).max())
    tokens = _slow_tokens(buf, slow, width).view(f"S{width}").reshape(-1)
    values = tokens.astype(np.float64)
    if not np.isfinite(values).all():
        return False
    dest = slow[:, 2]
    to_reals, to_points = dest >= 0, dest <= -2
    reals[dest[to_reals]] = values[to_reals]
    points[-dest[to_points] - 2] = values[to_points]
    return True
