"""Turning user labels and scores into arrays, checking them, and encoding classes.

Inputs may be lists, numpy arrays or torch tensors (any device; moved to the CPU). Labels
may be integers, booleans, integral floats, strings or objects holding one of those. The
checks mirror scikit-learn's (``type_of_target``, ``check_consistent_length``,
``_check_sample_weight``) with messages that name the argument.
"""

from __future__ import annotations

import itertools
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tinyvision._validate import (
    as_numpy,
    check_choice,
    check_finite_array,
    check_same_length,
    describe,
)
from tinyvision.metrics import _kernels

# Integer labels spread over at most this many values are counted directly (code = y - min);
# wider ranges are hashed. Counting needs a (range x range) table.
_MAX_DIRECT_CELLS = 1 << 22


def to_array(value: Any, name: str) -> np.ndarray:
    """A numpy view or copy of a list, array or tensor (any device; bfloat16 becomes float32)."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        return tensor.cpu().numpy()
    return as_numpy(value, name)


def column_or_1d(array: np.ndarray, name: str) -> np.ndarray:
    """Accept shape (n,) or (n, 1) and return shape (n,)."""
    if array.ndim == 1:
        return array
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    if array.ndim == 0:
        raise ValueError(f"{name} must be 1-D array-like, got a scalar {array.item()!r}")
    raise ValueError(
        f"{name} must be 1-D (or a column vector), got an array of shape {array.shape}"
    )


# --------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------


def label_array(
    value: Any, name: str, *, multilabel_words: str = "multilabel-indicator is not supported"
) -> np.ndarray:
    """Class labels as a 1-D array of kind 'b', 'i', 'u', 'f' (integral) or 'U'.

    Raises ``TypeError`` for bytes, complex or unusable objects and ``ValueError`` for
    NaN/inf, non-integral floats ("continuous" targets) and multilabel (2-D) input, whose
    message ends with scikit-learn's ``multilabel_words`` for that metric.
    """
    array = to_array(value, name)
    if array.ndim == 2 and array.shape[1] > 1:
        raise ValueError(
            f"{name} must be 1-D class labels; multilabel-indicator (2-D) targets are not "
            f"supported by this metric, got an array of shape {array.shape} (scikit-learn: "
            f"{multilabel_words})"
        )
    array = column_or_1d(array, name)
    return _normalise_label_dtype(array, name)


def _normalise_label_dtype(array: np.ndarray, name: str) -> np.ndarray:
    kind = array.dtype.kind
    if kind == "O":
        array = _object_labels(array, name)
        kind = array.dtype.kind
    if kind == "S":
        raise TypeError(
            f"{name} holds bytes labels, which are not supported: decode them to str or use "
            "integers (scikit-learn: Support for labels represented as bytes is not supported)"
        )
    if kind == "c":
        raise TypeError(f"{name} must hold class labels, got complex values ({array.dtype})")
    if kind not in "biufU":
        raise TypeError(f"{name} must hold class labels, got {describe(array)}")
    if kind == "f":
        check_label_floats(array, name)
    return array


def _object_labels(array: np.ndarray, name: str) -> np.ndarray:
    items = array.tolist()
    if all(isinstance(x, str) for x in items):
        return np.array(items, dtype=str) if items else np.zeros(0, dtype="U1")
    if all(isinstance(x, numbers.Integral) for x in items):  # bool is Integral too
        return np.array(items, dtype=np.int64) if items else np.zeros(0, dtype=np.int64)
    if all(isinstance(x, numbers.Real) for x in items):
        return np.array(items, dtype=np.float64)
    kinds = sorted({type(x).__name__ for x in items})
    raise ValueError(
        f"{name} must hold labels of one kind (all strings or all numbers), got a mix of "
        f"{', '.join(kinds)}"
    )


def check_label_floats(array: np.ndarray, name: str) -> None:
    """Float labels must be finite and integral (scikit-learn calls others 'continuous')."""
    if array.size == 0:
        return
    finite = np.isfinite(array)
    if not finite.all():
        bad = "NaN" if np.isnan(array).any() else "infinity"
        raise ValueError(f"{name} must not contain {bad}")
    if not np.array_equal(array, np.trunc(array)):
        example = array[array != np.trunc(array)][0].item()
        raise ValueError(
            f"{name} must hold class labels, got continuous values such as {example!r}; "
            "threshold scores first (or use roc_curve/precision_recall_curve for scores)"
        )


def check_label_kinds(a: np.ndarray, name_a: str, b: np.ndarray, name_b: str) -> None:
    """Refuse a mix of string and numeric labels (scikit-learn: 'Mix of label input types')."""
    if a.size and b.size and ((a.dtype.kind == "U") != (b.dtype.kind == "U")):
        raise ValueError(
            f"{name_a} and {name_b} mix label types (string and number): got "
            f"{a.dtype} and {b.dtype} labels (scikit-learn: Mix of label input types (string "
            "and number))"
        )


def labels_param(labels: Any, name: str = "labels", *, unique: bool = True) -> np.ndarray:
    """The ``labels=`` argument as a 1-D label array (unique values required if ``unique``)."""
    array = label_array(labels, name)
    if unique and array.size and len(np.unique(array)) != array.size:
        raise ValueError(f"{name} must not contain duplicates, got {array.tolist()!r}")
    return array


# --------------------------------------------------------------------------------------
# Encoding two label arrays onto the sorted classes they contain
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Codes:
    """Two label arrays as integer codes in ``[0, n_codes)`` for the counting kernels.

    The code of a sample is ``true[i] - offset`` (``pred[i] - offset``): on the direct path
    ``true``/``pred`` are the integer labels themselves and ``offset`` their minimum; on the
    hashed path they are the codes and ``offset`` is 0. ``code_values[c]`` is the label of
    code ``c`` (codes that occur in neither array may be listed; callers mask them out).
    """

    true: np.ndarray
    pred: np.ndarray
    offset: int
    n_codes: int
    code_values: np.ndarray  # value of every code 0..n_codes-1 (only present ones matter)


def encode_pair(y_true: np.ndarray, y_pred: np.ndarray) -> Codes:
    """Encode ``y_true`` and ``y_pred`` (label arrays of one kind, checked) for counting.

    Integers (also booleans and integral floats) spread over a small range are used as they
    are; strings and widely spread integers get codes from a hash table (one pass, no sort).
    """
    if y_true.dtype.kind == "U" or y_pred.dtype.kind == "U":
        return _encode_strings(y_true, y_pred)
    result_dtype = np.result_type(y_true.dtype, y_pred.dtype)
    t = _as_int64(y_true)
    p = _as_int64(y_pred)
    if t.size == 0:
        return Codes(t, p, 0, 0, np.zeros(0, dtype=result_dtype))
    lo = int(min(t.min(), p.min()))
    hi = int(max(t.max(), p.max()))
    width = hi - lo + 1
    if width * width <= _MAX_DIRECT_CELLS:
        values = np.arange(lo, hi + 1).astype(result_dtype)
        return Codes(t, p, lo, width, values)
    words_t = t.view(np.uint32).reshape(-1, 2)
    words_p = p.view(np.uint32).reshape(-1, 2)
    codes_t, codes_p, first = _kernels.hash_encode(words_t, words_p)
    values = np.asarray([t[i] if src == 0 else p[i] for src, i in first.tolist()], dtype=np.int64)
    return Codes(codes_t, codes_p, 0, len(values), values.astype(result_dtype))


def _as_int64(y: np.ndarray) -> np.ndarray:
    if y.dtype == np.int64:
        return np.ascontiguousarray(y)
    if (
        y.dtype.kind == "u"
        and y.dtype.itemsize == 8
        and y.size
        and y.max() > np.iinfo(np.int64).max
    ):
        raise ValueError("unsigned 64-bit labels above 2**63 - 1 are not supported")
    if y.dtype.kind == "f" and y.size and np.abs(y).max() >= 2.0**62:
        raise ValueError("float labels must be below 2**62 in magnitude")
    return y.astype(np.int64)


def _encode_strings(y_true: np.ndarray, y_pred: np.ndarray) -> Codes:
    width = max(y_true.dtype.itemsize, y_pred.dtype.itemsize, 4) // 4
    dtype = np.dtype(f"U{width}")
    t = np.ascontiguousarray(y_true.astype(dtype, copy=False))
    p = np.ascontiguousarray(y_pred.astype(dtype, copy=False))
    words_t = t.view(np.uint32).reshape(-1, width)
    words_p = p.view(np.uint32).reshape(-1, width)
    codes_t, codes_p, first = _kernels.hash_encode(words_t, words_p)
    values = np.array([t[i] if src == 0 else p[i] for src, i in first.tolist()], dtype=dtype)
    return Codes(codes_t, codes_p, 0, len(values), values)


def sorted_present(codes: Codes, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, idx)``: the present classes in sorted order and their code indices."""
    idx = np.nonzero(present)[0]
    values = codes.code_values[idx]
    order = np.argsort(values, kind="stable")
    return values[order], idx[order]


def match_labels(classes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of every label in ``classes`` (sorted), or -1 where the label is absent."""
    out = np.full(len(labels), -1, dtype=np.intp)
    if classes.size == 0 or labels.size == 0:
        return out
    if labels.dtype.kind not in "biufU" or (classes.dtype.kind == "U") != (
        labels.dtype.kind == "U"
    ):
        return out
    pos = np.searchsorted(classes, labels)
    pos_clipped = np.minimum(pos, len(classes) - 1)
    found = classes[pos_clipped] == labels
    out[found] = pos_clipped[found]
    return out


# --------------------------------------------------------------------------------------
# Sample weights and averaging options
# --------------------------------------------------------------------------------------


def sample_weight_array(
    sample_weight: Any, n: int, name: str = "sample_weight"
) -> np.ndarray | None:
    """``None`` or a finite 1-D numeric array of length ``n`` with a non-zero entry."""
    if sample_weight is None:
        return None
    w = to_array(sample_weight, name)
    if w.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got an array of shape {w.shape} (scikit-learn: Sample "
            "weights must be 1D array or scalar)"
        )
    if w.dtype.kind == "O" and all(
        isinstance(x, numbers.Real) and not isinstance(x, str) for x in w.tolist()
    ):
        w = w.astype(np.float64)  # numbers held as objects: scikit-learn sums them in float64
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got {describe(w)}")
    if w.shape[0] != n:
        raise ValueError(
            f"{name} must have one weight per sample ({n}), got {w.shape[0]} "
            f"({_SKLEARN_LENGTHS}: [{n}, {w.shape[0]}])"
        )
    check_finite_array(w, name)
    if n and not np.any(w):
        raise ValueError(f"{name} must contain at least one non-zero weight")
    return w


# scikit-learn's words for arrays of different lengths (its tests and users match on them)
_SKLEARN_LENGTHS = "scikit-learn: Found input variables with inconsistent numbers of samples"


def check_lengths(**arrays: Any) -> None:
    """All given (non-None) arrays must have the same length (the first dimension)."""
    items = [(k, v) for k, v in arrays.items() if v is not None]
    for (name_a, a), (name_b, b) in itertools.pairwise(items):
        try:
            check_same_length(name_a, a, name_b, b)
        except ValueError as exc:
            lengths = [_length(v) for _, v in items]
            raise ValueError(f"{exc} ({_SKLEARN_LENGTHS}: {lengths})") from None


def _length(value: Any) -> int:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else 1
    return len(value)


def require_samples(array: np.ndarray, name: str = "y_true", *, hint: str = "") -> None:
    """Refuse an empty ``array`` (no samples) with a ``ValueError`` naming ``name``.

    The one empty-input check of the metrics of scores (curves, AUCs, average precision),
    which scikit-learn refuses too; ``hint`` is appended to the message.
    """
    if len(array):
        return
    raise ValueError(
        f"{name} must hold at least one sample, got an empty array of shape {array.shape}"
        f"{hint} (scikit-learn: Found array with 0 sample(s) (shape={array.shape}) while a "
        "minimum of 1 is required.)"
    )


def check_average(average: Any, options: tuple, name: str = "average") -> Any:
    """``average`` must be one of ``options`` (None included where allowed)."""
    return check_choice(average, name, options)
