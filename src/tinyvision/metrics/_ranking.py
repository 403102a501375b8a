"""Metrics of scores: ROC and precision-recall curves, ROC AUC, average precision.

Same names, arguments, defaults, return layouts, warnings and results as ``sklearn.metrics``
1.9.1 (curves, thresholds and AP bitwise equal; AUC bitwise equal too). Empty input raises
``ValueError`` everywhere (:func:`require_samples`), where scikit-learn raises a
``ValueError`` or, for some calls, an ``IndexError``.

How it is fast: scikit-learn sorts all scores with a stable ``argsort`` and cumulates the
labels. Without sample weights the counts do not depend on the order of tied scores, so
here the positives' and the negatives' scores are sorted separately, without an index
array, and merged from the top in one compiled pass that emits, per distinct threshold,
the numbers of positives and negatives at or above it. For ``roc_auc_score`` the same pass
applies ``drop_intermediate`` and emits the trapezoid terms directly; their sum is taken by
``np.sum`` exactly as scikit-learn's trapezoid takes it. Sample weights (whose float sums
depend on the order) go through scikit-learn's own order: a stable descending sort.

The sorts take linear time from :data:`RADIX_MIN_SIZE` scores on: a counting sort when
there are at most ``COUNT_MAX_DISTINCT`` distinct scores, else a least-significant-digit
radix sort of the scores' order-preserving unsigned bit keys (the weighted order carries
the indices through the same passes); see :mod:`tinyvision.metrics._kernels`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from tinyvision._validate import check_array, check_float, describe
from tinyvision.metrics import _kernels
from tinyvision.metrics._labels import (
    check_average,
    check_lengths,
    column_or_1d,
    label_array,
    require_samples,
    sample_weight_array,
    to_array,
)
from tinyvision.metrics._warnings import warn_undefined

__all__ = [
    "auc",
    "average_precision_score",
    "precision_recall_curve",
    "roc_auc_score",
    "roc_curve",
]


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def score_array(value: Any, name: str = "y_score", *, ndim: tuple[int, ...] = (1,)) -> np.ndarray:
    """Finite numeric scores as an array (a column vector counts as 1-D)."""
    array = to_array(value, name)
    if 1 in ndim and array.ndim == 2 and array.shape[1] == 1 and 2 not in ndim:
        array = array[:, 0]
    if array.ndim not in ndim:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {want}, got an array of shape {array.shape}")
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold numbers, got {describe(array)}") from exc
    return check_array(array, name, kinds="biuf")


def _work_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype scores are sorted in: float32/float64/int64/uint64 (exact conversions)."""
    if dtype.kind == "f":
        return np.dtype(np.float32) if dtype.itemsize <= 4 else np.dtype(np.float64)
    if dtype.kind == "u" and dtype.itemsize == 8:
        return np.dtype(np.uint64)
    return np.dtype(np.int64)


def is_label(y: np.ndarray, label: Any) -> np.ndarray:
    """``y == label`` as a bool array, False where the kinds cannot compare (str vs number)."""
    if y.dtype.kind == "U":
        if isinstance(label, str):
            return y == label
    elif isinstance(label, (numbers.Real, np.bool_)) and not isinstance(label, str):
        return y == label
    return np.zeros(y.shape, dtype=bool)


def _check_default_pos_label(y: np.ndarray, name: str) -> None:
    """With ``pos_label=None`` the labels must be {0, 1} or {-1, 1} (or one of those)."""
    if y.dtype.kind == "b" or y.size == 0:
        return
    if y.dtype.kind != "U":
        lo, hi = y.min(), y.max()
        if lo >= 0 and hi <= 1:
            return
        if lo >= -1 and hi <= 1 and not np.any(y == 0):
            return
    present = np.unique(y)
    classes = ", ".join(repr(c) for c in present.tolist())
    if len(present) > 2:
        raise ValueError(
            f"{name} must hold two classes when pos_label is not given, got {{{classes}}} "
            "(scikit-learn: multiclass format is not supported)"
        )
    raise ValueError(
        f"{name} takes value in {{{classes}}} and pos_label is not specified: either make "
        f"{name} take value in {{0, 1}} or {{-1, 1}} or pass pos_label explicitly."
    )


@dataclass(frozen=True)
class BinaryInput:
    """A validated binary problem: which samples are positive, their scores, weights."""

    is_pos: np.ndarray  # bool (n,)
    scores: np.ndarray  # (n,) in the work dtype, contiguous
    score_dtype: np.dtype  # the caller's dtype (precision_recall_curve returns it)
    sample_weight: np.ndarray | None  # float64 (n,)


def binary_input(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    allow_empty: bool = False,
) -> BinaryInput:
    """Validate a binary scoring problem with scikit-learn's curve rules for ``pos_label``.

    Empty input raises ``ValueError`` (as in scikit-learn) unless ``allow_empty`` (a batch
    of an accumulator, or thresholded counts).
    """
    y = label_array(
        y_true, "y_true", multilabel_words="multilabel-indicator format is not supported"
    )
    scores = score_array(y_score, "y_score")
    check_lengths(y_true=y, y_score=scores)
    if not allow_empty:
        require_samples(y, "y_true")
    weights = sample_weight_array(sample_weight, len(y))
    if pos_label is None:
        _check_default_pos_label(y, "y_true")
        is_pos = is_label(y, 1)
    else:
        is_pos = is_label(y, pos_label)
    return make_binary(is_pos, scores, weights)


def make_binary(is_pos: np.ndarray, scores: np.ndarray, weights: Any) -> BinaryInput:
    """A :class:`BinaryInput` from already validated arrays."""
    work = np.ascontiguousarray(scores, dtype=_work_dtype(scores.dtype))
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    return BinaryInput(np.ascontiguousarray(is_pos, dtype=bool), work, scores.dtype, w)


# --------------------------------------------------------------------------------------
# Counts per threshold
# --------------------------------------------------------------------------------------


RADIX_MIN_SIZE = 2048  # below this many scores np.sort's comparison sort is faster

_KEY_KINDS = {"f": _kernels.KIND_FLOAT, "i": _kernels.KIND_SIGNED, "u": _kernels.KIND_UNSIGNED}


def split_sorted(is_pos: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """The scores of ``is_pos`` and of ``~is_pos``, each sorted ascending; the -0.0 flag.

    ``is_pos (bool[n])``, ``scores`` (contiguous float32/float64/int64/uint64 ``[n]``).
    From :data:`RADIX_MIN_SIZE` scores on a counting sort
    (:func:`_kernels.count_split_sort`) when there are few distinct scores, else a
    linear-time radix sort (:func:`_kernels.radix_split_sort`); ``np.sort`` of each class
    below. The sorted values equal ``np.sort``'s (``-0.0`` is placed before tied ``0.0``).
    """
    if scores.shape[0] < RADIX_MIN_SIZE:
        pos, neg, negative_zero = _kernels.split_by_label(is_pos.view(np.uint8), scores)
        pos.sort()
        neg.sort()
        return pos, neg, negative_zero
    width = 8 * scores.dtype.itemsize
    bits = scores.view(np.uint32 if width == 32 else np.uint64)
    kind = _KEY_KINDS[scores.dtype.kind]
    labels = is_pos.view(np.uint8)
    # few distinct scores (ties): a counting sort; it gives up early on continuous scores
    out, n_pos, negative_zero = _kernels.count_split_sort(
        labels, bits, kind, width, _kernels.COUNT_MAX_DISTINCT
    )
    if n_pos < 0:
        out, n_pos, negative_zero = _kernels.radix_split_sort(labels, bits, kind, width)
    out = out.view(scores.dtype)
    return out[:n_pos], out[n_pos:], bool(negative_zero)


def descending_order(scores: np.ndarray) -> np.ndarray:
    """Indices ``int64[n]`` sorting ``scores`` (work dtype) in decreasing order, tied scores
    in input order (``-0.0`` ties with ``0.0``): scikit-learn's reversed stable argsort.

    A linear-time radix sort (:func:`_kernels.radix_argsort_descending`) from
    :data:`RADIX_MIN_SIZE` scores on.
    """
    n = scores.shape[0]
    if n < RADIX_MIN_SIZE:
        return (n - 1) - np.argsort(scores[::-1], kind="stable")[::-1]
    width = 8 * scores.dtype.itemsize
    bits = np.ascontiguousarray(scores).view(np.uint32 if width == 32 else np.uint64)
    return _kernels.radix_argsort_descending(bits, _KEY_KINDS[scores.dtype.kind], width)


def sorted_classes(problem: BinaryInput) -> tuple[np.ndarray, np.ndarray, bool]:
    """The positives' and negatives' scores, each sorted ascending; and the -0.0 flag."""
    return split_sorted(problem.is_pos, problem.scores)


def _sorted_if_unweighted(problem: BinaryInput) -> tuple[np.ndarray, np.ndarray] | None:
    """Sorted class scores when they determine the curves exactly, else None.

    That is without weights (whose float sums depend on the order of ties) and without
    negative zeros (scikit-learn reports the sign of the last of tied zeros).
    """
    if problem.sample_weight is not None:
        return None
    pos, neg, negative_zero = sorted_classes(problem)
    return None if negative_zero else (pos, neg)


def curve_counts(problem: BinaryInput) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decreasing distinct thresholds and the (weighted) tp and fp counts at or above each.

    Equal to scikit-learn's ``confusion_matrix_at_thresholds`` (``thresholds``, ``tps``,
    ``fps``) bit for bit.
    """
    classes = _sorted_if_unweighted(problem)
    if classes is not None:
        return _kernels.merge_counts(*classes)
    return _counts_by_stable_sort(problem)


def _counts_by_stable_sort(problem: BinaryInput) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's order of operations: filter zero weights, stable descending sort."""
    is_pos, scores, weight = problem.is_pos, problem.scores, problem.sample_weight
    if weight is not None:
        nonzero = weight != 0
        is_pos, scores, weight = is_pos[nonzero], scores[nonzero], weight[nonzero]
    n = len(scores)
    if n == 0:
        empty = np.zeros(0, dtype=np.float64)
        return scores[:0], empty, empty
    order = descending_order(scores)
    scores = scores[order]
    y = is_pos[order].astype(np.float64)
    ends = np.r_[np.nonzero(np.diff(scores))[0], n - 1]
    if weight is None:
        tps = np.cumsum(y * 1.0, dtype=np.float64)[ends]
        fps = 1 + ends.astype(np.float64) - tps
    else:
        w = weight[order]
        tps = np.cumsum(y * w, dtype=np.float64)[ends]
        fps = np.cumsum((1 - y) * w, dtype=np.float64)[ends]
    return scores[ends], tps, fps


# --------------------------------------------------------------------------------------
# ROC curve and AUC
# --------------------------------------------------------------------------------------


def _warn_missing_class(has_negatives: bool, has_positives: bool) -> None:
    if not has_negatives:
        warn_undefined(
            "No negative samples in y_true, false positive value should be meaningless",
            stacklevel=4,
        )
    if not has_positives:
        warn_undefined(
            "No positive samples in y_true, true positive value should be meaningless",
            stacklevel=4,
        )


def binary_roc(
    problem: BinaryInput, drop_intermediate: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, tpr, thresholds)`` of a binary problem, as scikit-learn's ``roc_curve``."""
    classes = _sorted_if_unweighted(problem)
    if classes is not None:
        pos, neg = classes
        curve = _kernels.roc_curve_sorted(pos, neg, drop_intermediate)
        _warn_missing_class(len(neg) > 0, len(pos) > 0)
        return curve
    thresholds, tps, fps = _counts_by_stable_sort(problem)
    curve = _kernels.roc_arrays(thresholds, tps, fps, drop_intermediate)
    _warn_missing_class(len(fps) > 0 and fps[-1] > 0, len(tps) > 0 and tps[-1] > 0)
    return curve


def roc_curve(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: false and true positive rates per threshold.

    Args:
        y_true: ``(n_samples,)`` binary labels; {0, 1} or {-1, 1} unless ``pos_label`` names
            the positive class.
        y_score: ``(n_samples,)`` scores, higher meaning more likely positive.
        pos_label: the positive class.
        sample_weight: ``(n_samples,)`` weights.
        drop_intermediate: drop points collinear with their neighbours (same area).

    Returns:
        ``fpr``, ``tpr`` (increasing) and ``thresholds`` (decreasing, ``thresholds[0]`` is
        ``inf``), each ``ndarray[n_thresholds]`` of float64: point ``i`` predicts positive
        for ``score >= thresholds[i]``. A class absent from ``y_true`` gives NaN rates and an
        :class:`UndefinedMetricWarning`.

    Raises:
        ValueError: empty input (no samples), as scikit-learn.
    """
    problem = binary_input(y_true, y_score, pos_label=pos_label, sample_weight=sample_weight)
    return binary_roc(problem, bool(drop_intermediate))


def auc(x: Any, y: Any) -> float:
    """Area under a curve given by points ``x`` (monotonic) and ``y``, trapezoidal rule."""
    x = score_array(x, "x")
    y = score_array(y, "y")
    check_lengths(x=x, y=y)
    return _area(x, y)


def _area(x: np.ndarray, y: np.ndarray) -> float:
    """scikit-learn's ``auc`` on trusted arrays (NaN allowed)."""
    if x.shape[0] < 2:
        raise ValueError(f"x must hold at least 2 points to compute an area, got {x.shape[0]}")
    direction = 1
    dx = np.diff(x)
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1
        else:
            raise ValueError(
                f"x must be monotonic (increasing or decreasing): x is neither increasing nor "
                f"decreasing : {x}."
            )
    return float(direction * _trapezoid(y, x))


def _trapezoid(y: np.ndarray, x: np.ndarray) -> np.float64:
    y = np.asarray(y, dtype=np.float64)
    d = np.asarray(x, dtype=np.float64)
    d = d[1:] - d[:-1]
    return np.sum(d * (y[1:] + y[:-1]) / 2.0, dtype=np.float64)


def _only_one_class() -> float:
    warn_undefined(
        "Only one class is present in y_true. ROC AUC score is not defined in that case.",
        stacklevel=5,
    )
    return math.nan


def binary_roc_auc(problem: BinaryInput, max_fpr: float | None = None) -> float:
    """ROC AUC of a binary problem (NaN and a warning when a class is missing)."""
    if problem.is_pos.all() or not problem.is_pos.any():
        return _only_one_class()
    if problem.sample_weight is None and (max_fpr is None or max_fpr == 1):
        pos, neg, _ = sorted_classes(problem)
        return roc_auc_of_sorted(pos, neg)
    fpr, tpr, _ = binary_roc(problem, True)
    if max_fpr is None or max_fpr == 1:
        return _area(fpr, tpr)
    # Add a single point at max_fpr by linear interpolation, then McClish's correction
    stop = np.searchsorted(fpr, max_fpr, "right")
    x_interp = [fpr[stop - 1], fpr[stop]]
    y_interp = [tpr[stop - 1], tpr[stop]]
    tpr = np.append(tpr[:stop], np.interp(max_fpr, x_interp, y_interp))
    fpr = np.append(fpr[:stop], max_fpr)
    partial_auc = _area(fpr, tpr)
    min_area = 0.5 * max_fpr**2
    max_area = max_fpr
    return float(0.5 * (1 + (partial_auc - min_area) / (max_area - min_area)))


def roc_auc_of_sorted(pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC from the two classes' sorted scores (both non-empty), as scikit-learn."""
    return float(np.sum(_kernels.roc_auc_terms(pos, neg)))


def _column_roc_auc(max_fpr: float | None) -> Callable[..., float]:
    def metric(y: np.ndarray, scores: np.ndarray, weights: np.ndarray | None) -> float:
        return binary_roc_auc(make_binary(y == 1, scores, weights), max_fpr)

    return metric


# --------------------------------------------------------------------------------------
# Averaging a binary metric over the columns of an indicator matrix
# --------------------------------------------------------------------------------------


def _average_binary_score(
    metric: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float],
    y_true: np.ndarray,
    y_score: np.ndarray,
    average: str | None,
    sample_weight: np.ndarray | None,
) -> Any:
    """scikit-learn's ``_average_binary_score`` for a ``(n, K)`` 0/1 indicator ``y_true``."""
    if y_score.shape != y_true.shape:
        raise ValueError(
            f"y_score must have the shape of the indicator matrix of y_true, {y_true.shape}, "
            f"got {y_score.shape}"
        )
    score_weight = sample_weight
    average_weight = None
    axis = 1
    if average == "micro":
        if score_weight is not None:
            score_weight = np.repeat(score_weight, y_true.shape[1])
        y_true = y_true.ravel()
        y_score = y_score.ravel()
    elif average == "weighted":
        if score_weight is not None:
            weighted = np.multiply(y_true.astype(score_weight.dtype), score_weight.reshape(-1, 1))
            average_weight = np.sum(weighted, axis=0)
        else:
            average_weight = np.sum(y_true, axis=0)
        if np.isclose(np.sum(average_weight), 0):
            return 0.0
    elif average == "samples":
        average_weight = score_weight
        score_weight = None
        axis = 0
    if y_true.ndim == 1:
        y_true = y_true.reshape(-1, 1)
        y_score = y_score.reshape(-1, 1)
    n_columns = y_score.shape[axis]
    score = np.zeros(n_columns)
    for c in range(n_columns):
        y_c = np.ascontiguousarray(np.take(y_true, c, axis=axis))
        s_c = np.ascontiguousarray(np.take(y_score, c, axis=axis))
        score[c] = metric(y_c, s_c, score_weight)
    if average is None:
        return score
    if average_weight is not None:
        score[average_weight == 0] = 0
    return float(np.average(score, weights=average_weight))


def _indicator(y: np.ndarray, name: str) -> np.ndarray:
    """A ``(n, K)`` multilabel indicator matrix of 0/1 as int64."""
    if y.dtype.kind not in "biuf" or (y.size and not np.isin(y, (0, 1)).all()):
        raise ValueError(
            f"{name} as a 2-D array must be a multilabel indicator matrix of 0/1, got "
            f"{describe(y)} (scikit-learn: multiclass-multioutput format is not supported)"
        )
    return y.astype(np.int64)


def _count_classes(y: np.ndarray) -> tuple[int, np.ndarray | None]:
    """``(k, greater)``: k = 0, 1, 2 or 3 ('more than two') distinct labels, without sorting;
    for k = 2, ``greater`` marks the samples of the greater label (the positive class of
    scikit-learn's binary ``roc_auc_score``)."""
    if y.size == 0:
        return 0, None
    if y.dtype.kind == "U":
        low = y[0]
        others = y[y != low]
        if others.size == 0:
            return 1, None
        high = others[0]
        if high < low:
            low, high = high, low
    else:
        low, high = y.min(), y.max()
        if low == high:
            return 1, None
    greater = y == high
    n_two = np.count_nonzero(greater) + np.count_nonzero(y == low)
    return (2, greater) if n_two == len(y) else (3, None)


def _label_binarize(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``(n, K)`` int64 indicator: column ``k`` is ``y == classes[k]``."""
    return (y[:, None] == classes[None, :]).astype(np.int64)


# --------------------------------------------------------------------------------------
# roc_auc_score
# --------------------------------------------------------------------------------------


def roc_auc_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    sample_weight: Any = None,
    max_fpr: float | None = None,
    multi_class: str = "raise",
    labels: Any = None,
) -> Any:
    """Area under the ROC curve: binary, multiclass (one-vs-rest or one-vs-one), multilabel.

    Args:
        y_true: ``(n_samples,)`` labels (binary: the greater label is positive) or an
            ``(n_samples, n_classes)`` multilabel indicator matrix.
        y_score: ``(n_samples,)`` scores of the greater label (binary) or
            ``(n_samples, n_classes)`` scores; multiclass scores are probabilities whose rows
            sum to 1, columns in the order of ``labels`` (default: sorted classes).
        average: ``'macro'``, ``'weighted'``, ``'micro'``, ``'samples'`` (multilabel) or None
            (per class); ignored for binary targets.
        sample_weight: ``(n_samples,)`` weights (not with ``multi_class='ovo'``).
        max_fpr: binary only: the standardised (McClish) partial AUC over ``[0, max_fpr]``.
        multi_class: ``'ovr'`` or ``'ovo'``; the default ``'raise'`` refuses multiclass.
        labels: multiclass only: the classes indexing ``y_score``'s columns, sorted.

    Returns:
        A float, or ``ndarray[n_classes]`` when ``average`` is None. NaN (with an
        :class:`UndefinedMetricWarning`) when a binary problem has a single class.

    Raises:
        ValueError: empty input (no samples), as scikit-learn.
    """
    check_average(average, ("micro", "macro", "samples", "weighted", None))
    check_average(multi_class, ("raise", "ovr", "ovo"), "multi_class")
    if max_fpr is not None:
        max_fpr = check_float(max_fpr, "max_fpr", minimum=0.0, maximum=1.0, min_inclusive=False)
    y = to_array(y_true, "y_true")
    scores = score_array(y_score, "y_score", ndim=(1, 2))
    check_lengths(y_true=y, y_score=scores)
    require_samples(y, "y_true")
    if y.ndim == 2 and y.shape[1] > 1:
        indicator = _indicator(y, "y_true")
        weights = sample_weight_array(sample_weight, len(y))
        return _average_binary_score(_column_roc_auc(max_fpr), indicator, scores, average, weights)
    y = label_array(y, "y_true")
    n_classes, greater = _count_classes(y)
    if n_classes > 2 or (scores.ndim == 2 and scores.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1.0:
            raise ValueError(
                "max_fpr must be None for multiclass targets (partial AUC is binary only), "
                f"got max_fpr={max_fpr} (scikit-learn: Partial AUC computation not available "
                "in multiclass setting, 'max_fpr' must be set to `None`, received "
                f"`max_fpr={max_fpr}` instead)"
            )
        if multi_class == "raise":
            raise ValueError(
                "multi_class must be in ('ovo', 'ovr') for multiclass targets, got 'raise'"
            )
        if multi_class == "ovo" and sample_weight is not None:
            raise ValueError(
                "sample_weight is not supported for multiclass one-vs-one ROC AUC, "
                "'sample_weight' must be None in this case."
            )
        weights = sample_weight_array(sample_weight, len(y))
        return _multiclass_roc_auc(y, scores, labels, multi_class, average, weights)
    weights = sample_weight_array(sample_weight, len(y))
    scores = column_or_1d(scores, "y_score")
    if greater is None:
        return _only_one_class()
    return binary_roc_auc(make_binary(greater, scores, weights), max_fpr)


def _multiclass_roc_auc(
    y: np.ndarray,
    scores: np.ndarray,
    labels: Any,
    multi_class: str,
    average: str | None,
    weights: np.ndarray | None,
) -> Any:
    if scores.ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` holds "
            f"more than two classes, got y_score.shape={scores.shape}"
        )
    if not np.allclose(1, scores.sum(axis=1)):
        raise ValueError(
            "y_score must hold probabilities for multiclass roc_auc: every row must sum to "
            "1.0 over the classes (scikit-learn: Target scores need to be probabilities for "
            "multiclass roc_auc, i.e. they should sum up to 1.0 over classes)"
        )
    options = ("macro", "weighted", None)
    if multi_class == "ovr":
        options = ("micro", *options)
    if average not in options:
        raise ValueError(
            f"average must be one of {options} for multiclass problems with "
            f"multi_class={multi_class!r}, got {average!r}"
        )
    if average is None and multi_class == "ovo":
        raise NotImplementedError("average=None is not implemented for multi_class='ovo'.")
    if labels is not None:
        given = label_array(labels, "labels")
        classes = np.unique(given)
        if len(classes) != len(given):
            raise ValueError(f"Parameter 'labels' must be unique, got {given.tolist()!r}")
        if not np.array_equal(classes, given):
            raise ValueError(f"Parameter 'labels' must be ordered (sorted), got {given.tolist()!r}")
        if len(classes) != scores.shape[1]:
            raise ValueError(
                f"Number of given labels, {len(classes)}, not equal to the number of columns "
                f"in 'y_score', {scores.shape[1]}"
            )
        missing = _positions(classes, y) < 0
        if np.any(missing):
            raise ValueError(
                "'y_true' contains labels not in parameter 'labels', such as "
                f"{y[missing][0].item()!r} (labels: {given.tolist()!r})"
            )
    else:
        classes = np.unique(y)
        if len(classes) != scores.shape[1]:
            raise ValueError(
                "Number of classes in y_true not equal to the number of columns in 'y_score': "
                f"y_true has {len(classes)} classes, y_score has {scores.shape[1]} columns"
            )
    if multi_class == "ovo":
        return _ovo_roc_auc(_positions(classes, y), scores, average)
    return _average_binary_score(
        _column_roc_auc(None), _label_binarize(y, classes), scores, average, weights
    )


def _positions(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index of every ``y`` in sorted ``classes`` (-1 when absent)."""
    if (classes.dtype.kind == "U") != (y.dtype.kind == "U"):
        return np.full(len(y), -1)
    pos = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    return np.where(classes[pos] == y, pos, -1)


def _ovo_roc_auc(y_encoded: np.ndarray, scores: np.ndarray, average: str | None) -> np.float64:
    """Hand & Till (2001): mean over class pairs of the two one-vs-one AUCs.

    A ``numpy.float64``, as scikit-learn returns here (its other modes give a ``float``).
    """
    present = np.unique(y_encoded)
    n_pairs = len(present) * (len(present) - 1) // 2
    pair_scores = np.empty(n_pairs)
    prevalence = np.empty(n_pairs) if average == "weighted" else None
    for ix, (a, b) in enumerate(combinations(present, 2)):
        a_mask = y_encoded == a
        b_mask = y_encoded == b
        ab_mask = np.logical_or(a_mask, b_mask)
        if prevalence is not None:
            prevalence[ix] = np.average(ab_mask)
        a_score = binary_roc_auc(make_binary(a_mask[ab_mask], scores[ab_mask, a], None))
        b_score = binary_roc_auc(make_binary(b_mask[ab_mask], scores[ab_mask, b], None))
        pair_scores[ix] = (a_score + b_score) / 2
    return np.float64(np.average(pair_scores, weights=prevalence))


# --------------------------------------------------------------------------------------
# Precision-recall curve and average precision
# --------------------------------------------------------------------------------------


def binary_precision_recall(
    problem: BinaryInput, drop_intermediate: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(precision, recall, thresholds)`` as scikit-learn's ``precision_recall_curve``."""
    classes = None if drop_intermediate else _sorted_if_unweighted(problem)
    if classes is not None:
        pos, neg = classes
        if len(pos) == 0:
            _warn_no_positive()
        precision, recall, thresholds = _kernels.pr_curve_sorted(pos, neg)
    else:
        thresholds, tps, fps = _counts_by_stable_sort(problem)
        if drop_intermediate and fps.shape[0] > 2:
            # keep the first and last point of every run of equal tps (equal recall)
            keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
            fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
        if tps.shape[0] == 0 or tps[-1] == 0:
            _warn_no_positive()
        precision, recall, thresholds = _kernels.pr_arrays(thresholds, tps, fps)
    return precision, recall, thresholds.astype(problem.score_dtype, copy=False)


def _warn_no_positive() -> None:
    warnings.warn(
        "No positive class found in y_true, recall is set to one for all thresholds.",
        UserWarning,
        stacklevel=5,
    )


def precision_recall_curve(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall for every distinct score threshold.

    Args:
        y_true: ``(n_samples,)`` binary labels ({0, 1} or {-1, 1} unless ``pos_label``).
        y_score: ``(n_samples,)`` scores.
        pos_label: the positive class.
        sample_weight: ``(n_samples,)`` weights.
        drop_intermediate: keep only the first and last point of every recall level.

    Returns:
        ``precision``, ``recall`` (decreasing): ``ndarray[n_thresholds + 1]`` float64 ending
        in 1 and 0; ``thresholds``: ``ndarray[n_thresholds]`` increasing, in ``y_score``'s
        dtype. Without positives recall is 1 everywhere (``UserWarning``).

    Raises:
        ValueError: empty input (no samples); scikit-learn raises too.
    """
    problem = binary_input(y_true, y_score, pos_label=pos_label, sample_weight=sample_weight)
    return binary_precision_recall(problem, bool(drop_intermediate))


def binary_average_precision(problem: BinaryInput) -> float:
    """``-sum(diff(recall) * precision[:-1])`` of the precision-recall curve, at least 0."""
    if problem.sample_weight is None and problem.is_pos.any():
        # the terms depend on the counts only: no need to mind negative zeros here
        pos, neg, _ = sorted_classes(problem)
        total = np.sum(_kernels.average_precision_sorted(pos, neg))
    else:
        precision, recall, _ = binary_precision_recall(problem, False)
        total = np.sum(np.diff(recall) * precision[:-1])
    return float(max(0.0, -total))


def _column_average_precision(y: np.ndarray, scores: np.ndarray, weights: Any) -> float:
    return binary_average_precision(make_binary(y == 1, scores, weights))


def average_precision_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    pos_label: Any = 1,
    sample_weight: Any = None,
) -> Any:
    """Average precision: precision at each threshold weighted by the recall gained there.

    Args:
        y_true: ``(n_samples,)`` binary or multiclass labels, or an ``(n_samples,
            n_classes)`` multilabel indicator matrix.
        y_score: ``(n_samples,)`` scores (binary) or ``(n_samples, n_classes)``.
        average: ``'macro'``, ``'weighted'``, ``'micro'``, ``'samples'`` or None (per class);
            ignored for binary targets.
        pos_label: binary targets: the positive class (fixed to 1 otherwise).
        sample_weight: ``(n_samples,)`` weights.

    Returns:
        A float, or ``ndarray[n_classes]`` when ``average`` is None.

    Raises:
        ValueError: empty input (no samples); scikit-learn raises too (``IndexError`` for
            1-D input without weights).
    """
    check_average(average, ("micro", "samples", "weighted", "macro", None))
    y = to_array(y_true, "y_true")
    scores = score_array(y_score, "y_score", ndim=(1, 2))
    check_lengths(y_true=y, y_score=scores)
    require_samples(y, "y_true")
    weights = sample_weight_array(sample_weight, len(y))
    if y.ndim == 2 and y.shape[1] > 1:
        indicator = _indicator(y, "y_true")
        if pos_label != 1:
            raise ValueError(
                "Parameter pos_label is fixed to 1 for multilabel-indicator y_true. Do not set "
                f"pos_label or set pos_label to 1. Got pos_label={pos_label!r}"
            )
        return _average_binary_score(_column_average_precision, indicator, scores, average, weights)
    y = label_array(y, "y_true")
    n_classes, _ = _count_classes(y)
    if n_classes > 2:
        if pos_label != 1:
            raise ValueError(
                "Parameter pos_label is fixed to 1 for multiclass y_true. Do not set pos_label or "
                f"set pos_label to 1. Got pos_label={pos_label!r}"
            )
        classes = np.unique(y)
        indicator = _label_binarize(y, classes)
        if scores.shape != indicator.shape:
            raise ValueError(
                "`y_score` needs to be of shape `(n_samples, n_classes)` = "
                f"{indicator.shape}, since `y_true` holds {len(classes)} classes, got "
                f"y_score.shape={scores.shape}"
            )
        return _average_binary_score(_column_average_precision, indicator, scores, average, weights)
    scores = column_or_1d(scores, "y_score")
    is_pos = is_label(y, pos_label)
    if n_classes == 2 and not is_pos.any():
        present = np.unique(y)
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label. It should be one of {present} (the "
            "labels in y_true)"
        )
    return binary_average_precision(make_binary(is_pos, scores, weights))
