"""A compiled reader for the common shape of a COCO results file, straight into columns.

A results file of a COCO-sized evaluation holds ~400k detections; parsed as JSON it becomes
~400k dicts (and ~2M floats and lists) that are read back into columns and freed, which
costs several times the evaluation itself. :func:`scan_box_results` reads the file's bytes
once with numba and fills ``image_id``, ``category_id``, ``bbox`` and ``score`` directly
when the file is the usual list of flat objects::

    [{"image_id": 42, "category_id": 18, "bbox": [258.15, 41.29, 348.26, 243.78],
      "score": 0.236}, ...]

(in any key order, with any whitespace, and with other keys whose values are numbers,
plain strings, ``true``, ``false`` or ``null``). Anything else gives ``None`` and the caller
uses the general JSON parser, so errors and unusual files read exactly as before: an empty
list, other nesting, strings with escapes or non-ASCII bytes, ``segmentation`` or
``keypoints`` keys, repeated keys, ids that are not plain integers of up to 18 digits, and
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

import numba
import numpy as np

# Kinds of number tokens (bit flags returned by `_number`).
_VALID, _INT64, _EXACT = 1, 2, 4
# Keys of a result: the four read, the two that need the general reader, any other.
_IMAGE_ID, _CATEGORY_ID, _BBOX, _SCORE, _NESTED, _OTHER = 0, 1, 2, 3, 4, 5
_ALL_KEYS = 0b1111
# Columns of the float table: x, y, w, h, score.
_REALS = 5
# The shortest result, `{"image_id":1,"category_id":1,"bbox":[1,1,1,1],"score":1}`, and
# its separating comma: an upper bound on the rows of a file of n bytes.
_MIN_RESULT_BYTES = 57

_POW10 = np.array([float(10**k) for k in range(23)])  # exact in float64 up to 1e22
_KEYS = tuple(
    np.frombuffer(key, dtype=np.uint8)
    for key in (b"image_id", b"category_id", b"bbox", b"score", b"segmentation", b"keypoints")
)
_K_IMAGE_ID, _K_CATEGORY_ID, _K_BBOX, _K_SCORE, _K_SEGMENTATION, _K_KEYPOINTS = _KEYS
_TRUE, _FALSE, _NULL = (np.frombuffer(w, dtype=np.uint8) for w in (b"true", b"false", b"null"))


@numba.njit(cache=True, nogil=True)
def _skip_space(buf: np.ndarray, i: int) -> int:
    """The index of the first byte at or after ``i`` that is not JSON whitespace."""
    while True:
        c = buf[i]
        if c != 32 and c != 10 and c != 13 and c != 9:
            return i
        i += 1


@numba.njit(cache=True, nogil=True)
def _digits(buf: np.ndarray, i: int, mant: int, sig: int) -> tuple[int, int, int, int]:
    """Read decimal digits from ``i``: (end, mantissa, significant digits, digits read).
    The mantissa takes the first 18 significant digits (``sig`` counts them all)."""
    start = i
    while True:
        d = buf[i] - 48
        if d < 0 or d > 9:
            return i, mant, sig, i - start
        if mant != 0 or d != 0:
            sig += 1
        if sig <= 18:
            mant = mant * 10 + d
        i += 1


@numba.njit(cache=True, nogil=True)
def _number(buf: np.ndarray, i: int) -> tuple[int, int, float, int]:
    """A JSON number token at ``i``: (end, kind flags, value, integer value).

    ``kind`` has ``_VALID`` for a token of JSON's number grammar, ``_INT64`` for an integer
    token (no fraction or exponent) of at most 18 digits (its value in the last field),
    ``_EXACT`` when the float value is the correctly rounded one (else it is left to the
    string-to-float cast). An integer token's float is that of the integer (``-0`` is 0.0)."""
    neg = buf[i] == 45
    if neg:
        i += 1
    first = buf[i]
    if first < 48 or first > 57:
        return i, 0, 0.0, 0
    if first == 48:
        end, mant, sig = i + 1, 0, 0
    else:
        end, mant, sig, _ = _digits(buf, i, 0, 0)
    i = end
    exp10 = 0
    integer = True
    if buf[i] == 46:  # '.'
        end, mant, sig, n_frac = _digits(buf, i + 1, mant, sig)
        if n_frac == 0:
            return end, 0, 0.0, 0
        exp10 -= n_frac if sig <= 18 else 0
        i = end
        integer = False
    if buf[i] == 101 or buf[i] == 69:  # 'e' or 'E'
        i += 1
        sign = 1
        if buf[i] == 45 or buf[i] == 43:
            sign = -1 if buf[i] == 45 else 1
            i += 1
        end, e, _, n_exp = _digits(buf, i, 0, -1000)  # -1000: every digit is kept
        if n_exp == 0:
            return end, 0, 0.0, 0
        i = end
        exp10 += sign * e if n_exp <= 6 else sign * 10**6
        integer = False
    kind = _VALID
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


@numba.njit(cache=True, nogil=True)
def _same(buf: np.ndarray, start: int, end: int, word: np.ndarray) -> bool:
    if end - start != word.shape[0]:
        return False
    for k in range(word.shape[0]):  # noqa: SIM110 (a loop numba compiles)
        if buf[start + k] != word[k]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
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


@numba.njit(cache=True, nogil=True)
def _key(buf: np.ndarray, start: int, end: int) -> int:
    if _same(buf, start, end, _K_IMAGE_ID):
        return _IMAGE_ID
    if _same(buf, start, end, _K_CATEGORY_ID):
        return _CATEGORY_ID
    if _same(buf, start, end, _K_BBOX):
        return _BBOX
    if _same(buf, start, end, _K_SCORE):
        return _SCORE
    if _same(buf, start, end, _K_SEGMENTATION) or _same(buf, start, end, _K_KEYPOINTS):
        return _NESTED
    return _OTHER


@numba.njit(cache=True, nogil=True)
def _real(
    buf: np.ndarray, i: int, reals: np.ndarray, slow: np.ndarray, n_slow: int, dest: int
) -> tuple[int, int]:
    """Read a number into ``reals.flat[dest]`` (or, when not exact, note its extent in
    ``slow``; ``dest`` -1 only checks it): (end, slow count), end -1 when unreadable."""
    end, kind, value, _ = _number(buf, i)
    if kind == 0:
        return -1, n_slow
    if (kind & _EXACT) != 0:
        if dest >= 0:
            reals[dest // _REALS, dest % _REALS] = value
        return end, n_slow
    if n_slow == slow.shape[0] or end - i > 64:
        return -1, n_slow
    slow[n_slow, 0], slow[n_slow, 1], slow[n_slow, 2] = i, end, dest
    return end, n_slow + 1


@numba.njit(cache=True, nogil=True)
def _other_value(buf: np.ndarray, i: int, slow: np.ndarray, n_slow: int) -> tuple[int, int]:
    """Skip a value of a key that is not read: a number, a plain string or a literal."""
    c = buf[i]
    if c == 34:
        end = _string_end(buf, i)
        return (-1 if end < 0 else end + 1), n_slow
    for word in (_TRUE, _FALSE, _NULL):
        if c == word[0]:
            if i + word.shape[0] < buf.shape[0] and _same(buf, i, i + word.shape[0], word):
                return i + word.shape[0], n_slow
            return -1, n_slow
    end, kind, _, _ = _number(buf, i)
    if kind == 0 or ((kind & _EXACT) == 0 and (end - i > 64 or n_slow == slow.shape[0])):
        return -1, n_slow
    if (kind & _EXACT) == 0:  # checked for overflow with the others
        slow[n_slow, 0], slow[n_slow, 1], slow[n_slow, 2] = i, end, -1
        n_slow += 1
    return end, n_slow


@numba.njit(cache=True, nogil=True)
def _box(
    buf: np.ndarray, i: int, row: int, reals: np.ndarray, slow: np.ndarray, n_slow: int
) -> tuple[int, int]:
    """Read ``[x, y, w, h]`` at ``i`` into ``reals[row, :4]``: (end, slow count)."""
    if buf[i] != 91:  # '['
        return -1, n_slow
    for col in range(4):
        i = _skip_space(buf, i + 1)
        i, n_slow = _real(buf, i, reals, slow, n_slow, row * _REALS + col)
        if i < 0:
            return -1, n_slow
        i = _skip_space(buf, i)
        if buf[i] != (93 if col == 3 else 44):  # ']' after the fourth, ',' between
            return -1, n_slow
    return i + 1, n_slow


@numba.njit(cache=True, nogil=True)
def _result(
    buf: np.ndarray, i: int, row: int, ints: np.ndarray, reals: np.ndarray, slow: np.ndarray,
    n_slow: int,
) -> tuple[int, int]:  # fmt: skip
    """Read the object at ``i`` into row ``row``: (index after its '}', slow count)."""
    if buf[i] != 123:  # '{'
        return -1, n_slow
    seen = 0
    while True:
        i = _skip_space(buf, i + 1)
        end = _string_end(buf, i) if buf[i] == 34 else -1
        if end < 0:
            return -1, n_slow
        key = _key(buf, i + 1, end)
        i = _skip_space(buf, end + 1)
        if buf[i] != 58 or key == _NESTED:  # ':'
            return -1, n_slow
        i = _skip_space(buf, i + 1)
        if key == _OTHER:
            i, n_slow = _other_value(buf, i, slow, n_slow)
        elif seen & (1 << key):
            return -1, n_slow  # a repeated key: the general parser keeps the last
        elif key == _BBOX:
            i, n_slow = _box(buf, i, row, reals, slow, n_slow)
        elif key == _SCORE:
            i, n_slow = _real(buf, i, reals, slow, n_slow, row * _REALS + 4)
        else:
            end, kind, _, ivalue = _number(buf, i)
            i = end if (kind & _INT64) else -1
            ints[row, key] = ivalue
        if i < 0:
            return -1, n_slow
        seen |= 1 << key if key < _NESTED else 0
        i = _skip_space(buf, i)
        if buf[i] == 125:  # '}'
            return (i + 1 if seen == _ALL_KEYS else -1), n_slow
        if buf[i] != 44:  # ','
            return -1, n_slow


@numba.njit(cache=True, nogil=True)
def _scan(
    buf: np.ndarray, ints: np.ndarray, reals: np.ndarray, slow: np.ndarray
) -> tuple[int, int]:
    """Read a results list from ``buf`` (ending in a 0 byte that is not part of the
    file): (rows, slow tokens), rows -1 when the file is not of the shape read here."""
    i = _skip_space(buf, 0)
    if buf[i] != 91:  # '['
        return -1, 0
    i = _skip_space(buf, i + 1)
    row, n_slow = 0, 0
    while True:
        if row == ints.shape[0]:
            return -1, 0
        i, n_slow = _result(buf, i, row, ints, reals, slow, n_slow)
        if i < 0:
            return -1, 0
        row += 1
        i = _skip_space(buf, i)
        if buf[i] == 93:  # ']'
            i = _skip_space(buf, i + 1)
            return (row if i == buf.shape[0] - 1 else -1), n_slow
        if buf[i] != 44:
            return -1, 0
        i = _skip_space(buf, i + 1)


@numba.njit(cache=True, nogil=True)
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


def scan_box_results(
    data: str | os.PathLike[str] | np.ndarray,
) -> dict[str, np.ndarray] | None:
    """Columns of a COCO box results file, or ``None`` where it is not of the common shape
    (see the module docstring) and the general JSON reader must read it.

    Args:
        data: a path, or the file's bytes as ``uint8[n + 1]`` ending in a 0 byte.

    Returns:
        ``image_id`` (int64[N]), ``category_id`` (int64[N]), ``bbox`` (float64[N, 4] x, y,
        w, h as written) and ``score`` (float64[N]), or ``None``.
    """
    buf = data if isinstance(data, np.ndarray) else _read_padded(Path(data))
    if buf.dtype != np.uint8 or buf.ndim != 1 or buf.shape[0] == 0 or buf[-1] != 0:
        raise ValueError(f"data must be uint8[n + 1] ending in a 0 byte, got {buf.dtype}")
    rows = buf.shape[0] // _MIN_RESULT_BYTES + 1
    ints = np.empty((rows, 2), dtype=np.int64)
    reals = np.empty((rows, _REALS), dtype=np.float64)
    slow = np.empty((rows * _REALS, 3), dtype=np.int64)
    n, n_slow = _scan(buf, ints, reals, slow)
    if n <= 0:
        return None
    if n_slow:
        spans = slow[:n_slow]
        width = int((spans[:, 1] - spans[:, 0]).max())
        tokens = _slow_tokens(buf, spans, width).view(f"S{width}").reshape(-1)
        values = tokens.astype(np.float64)
        if not np.isfinite(values).all():
            return None  # beyond float64: the general parser names it
        dest = spans[:, 2]
        reals.reshape(-1)[dest[dest >= 0]] = values[dest >= 0]
    return {
        "image_id": ints[:n, 0].copy(),
        "category_id": ints[:n, 1].copy(),
        "bbox": reals[:n, :4].copy(),
        "score": reals[:n, 4].copy(),
    }
