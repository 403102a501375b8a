"""Metrics of predicted class labels: scikit-learn's names, arguments, results and warnings.

``confusion_matrix``, ``accuracy_score``, ``balanced_accuracy_score``, ``matthews_corrcoef``,
``precision_recall_fscore_support``, ``precision_score``, ``recall_score``, ``f1_score`` and
``fbeta_score`` give bitwise the results of ``sklearn.metrics`` 1.9.1 on binary,
multiclass and (accuracy and P/R/F, ``average='samples'`` included) multilabel-indicator
targets (labels: integers, booleans, integral floats, strings; inputs: lists,
numpy arrays, torch tensors on any device). They are one counting pass over the samples
(integer labels spread over a small range are counted directly, others are hashed) instead
of scikit-learn's sorting ``np.unique`` calls.

Differences from scikit-learn, on purpose:

- Empty inputs are valid (scikit-learn raises ``ValueError``): the confusion matrix is
  all zeros (``(0, 0)`` without ``labels``), counts are 0; accuracy, balanced accuracy,
  MCC and the macro/weighted P/R/F over no labels are NaN with an
  :class:`UndefinedMetricWarning` ("... due to no samples"); per-label P/R/F (given
  ``labels``, or ``'binary'``/``'micro'``) are 0/0 and follow ``zero_division``.
- ``confusion_matrix``, ``balanced_accuracy_score`` and ``matthews_corrcoef`` refuse
  multilabel-indicator (2-D) targets, as scikit-learn does.
- ``confusion_matrix(labels=...)`` refuses duplicate labels.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyvision._validate import check_finite_array, check_float, describe
from tinyvision.metrics import _kernels
from tinyvision.metrics._labels import (
    check_average,
    check_label_kinds,
    check_lengths,
    encode_pair,
    label_array,
    labels_param,
    match_labels,
    sample_weight_array,
    sorted_present,
    to_array,
)
from tinyvision.metrics._warnings import warn_undefined

__all__ = [
    "accuracy_score",
    "balanced_accuracy_score",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "matthews_corrcoef",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]

_PRF_AVERAGES = (None, "micro", "macro", "weighted", "binary", "samples")


# --------------------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Targets:
    """Validated ``y_true``, ``y_pred`` (1-D label arrays) and ``sample_weight``."""

    y_true: np.ndarray
    y_pred: np.ndarray
    sample_weight: np.ndarray | None


def _targets(y_true: Any, y_pred: Any, sample_weight: Any) -> _Targets:
    t = label_array(y_true, "y_true")
    p = label_array(y_pred, "y_pred")
    check_lengths(y_true=t, y_pred=p)
    check_label_kinds(t, "y_true", p, "y_pred")
    w = sample_weight_array(sample_weight, len(t))
    return _Targets(t, p, w)


@dataclass(frozen=True)
class _Confusion:
    """The confusion matrix over the sorted classes occurring in ``y_true`` or ``y_pred``."""

    classes: np.ndarray  # (K,) sorted
    matrix: np.ndarray  # (K, K) int64, or float64 for float weights; rows: true
    in_true: np.ndarray  # (K,) bool: class occurs in y_true


def _confusion(targets: _Targets) -> _Confusion:
    codes = encode_pair(targets.y_true, targets.y_pred)
    w = targets.sample_weight
    if w is None:
        counts = _kernels.confusion_counts(codes.true, codes.pred, codes.offset, codes.n_codes)
        in_true = counts.sum(axis=1) > 0
        in_pred = counts.sum(axis=0) > 0
    else:
        # scikit-learn keeps integer (and boolean) weights integer; others sum in float64
        dtype = np.int64 if w.dtype.kind in "biu" else np.float64
        counts = np.zeros((codes.n_codes, codes.n_codes), dtype=dtype)
        weights = np.ascontiguousarray(w, dtype=dtype)
        in_true, in_pred = _kernels.confusion_sums(
            codes.true, codes.pred, codes.offset, codes.n_codes, weights, counts
        )
    classes, idx = sorted_present(codes, in_true | in_pred)
    return _Confusion(classes, counts[np.ix_(idx, idx)], in_true[idx])


@dataclass(frozen=True)
class _ClassSums:
    """Per-class ``tp``, ``pred`` and ``true`` sums over the sorted present classes."""

    classes: np.ndarray
    tp: np.ndarray
    pred: np.ndarray
    true: np.ndarray


def _class_sums(targets: _Targets) -> _ClassSums:
    """What scikit-learn's ``multilabel_confusion_matrix`` computes for 1-D targets."""
    w = targets.sample_weight
    if w is None:
        cm = _confusion(targets)
        tp = np.diagonal(cm.matrix).copy()
        pred = cm.matrix.sum(axis=0)
        true = cm.matrix.sum(axis=1)
        if tp.sum() == 0:  # scikit-learn's "pathological case": tp becomes float zeros
            tp = np.zeros(len(tp))
        return _ClassSums(cm.classes, tp, pred, true)
    codes = encode_pair(targets.y_true, targets.y_pred)
    if w.dtype.kind == "b":  # the kernel reads numbers (scikit-learn: bincount's float64)
        w = w.astype(np.int64)
    tp, pred, true, in_true, in_pred, n_hits = _kernels.class_sums(
        codes.true, codes.pred, codes.offset, codes.n_codes, np.ascontiguousarray(w)
    )
    classes, idx = sorted_present(codes, in_true | in_pred)
    if n_hits == 0:
        tp = np.zeros(codes.n_codes)
    return _ClassSums(classes, tp[idx], pred[idx], true[idx])


# --------------------------------------------------------------------------------------
# Multilabel-indicator targets
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Multilabel:
    """Validated multilabel-indicator ``y_true``, ``y_pred`` ``(n_samples, n_labels)``.

    ``raw_true``/``raw_pred`` hold the values given (at most two distinct integral values,
    as scikit-learn's ``type_of_target``); a label is present where the value is non-zero.
    """

    raw_true: np.ndarray
    raw_pred: np.ndarray
    sample_weight: np.ndarray | None

    @property
    def y_true(self) -> np.ndarray:
        return self.raw_true != 0

    @property
    def y_pred(self) -> np.ndarray:
        return self.raw_pred != 0


def _is_indicator_shape(array: np.ndarray) -> bool:
    return array.ndim == 2 and array.shape[1] > 1


def _indicator(array: np.ndarray, name: str) -> np.ndarray:
    """A 2-D indicator matrix: numbers, finite, integral, at most two distinct values
    (0/1 usually); anything else is scikit-learn's unsupported multiclass-multioutput."""
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold 0/1 indicators, got {describe(array)}") from exc
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} as a 2-D array must be a multilabel indicator matrix of 0/1, got "
            f"{describe(array)} (scikit-learn: multiclass-multioutput is not supported)"
        )
    if array.dtype.kind == "f":
        check_finite_array(array, name)
    if array.size and (
        len(np.unique(array)) > 2 or (array.dtype.kind == "f" and (array != np.trunc(array)).any())
    ):
        raise ValueError(
            f"{name} as a 2-D array must be a multilabel indicator matrix of 0/1, got values "
            f"{np.unique(array)[:5].tolist()!r}... (scikit-learn: multiclass-multioutput is not "
            "supported)"
        )
    return array


def _any_targets(y_true: Any, y_pred: Any, sample_weight: Any) -> _Targets | _Multilabel:
    """1-D class labels (:class:`_Targets`) or a pair of indicator matrices (:class:`_Multilabel`).

    scikit-learn's ``_check_targets``: a 2-D array with more than one column is a
    multilabel indicator; both arguments must then be, with the same number of labels.
    """
    t = to_array(y_true, "y_true")
    p = to_array(y_pred, "y_pred")
    t_ml, p_ml = _is_indicator_shape(t), _is_indicator_shape(p)
    if not (t_ml or p_ml):
        return _targets(t, p, sample_weight)
    if t_ml != p_ml:
        kinds = ["multilabel-indicator" if ml else "1-D labels" for ml in (t_ml, p_ml)]
        raise ValueError(
            f"y_true and y_pred must both be 1-D labels or both multilabel-indicator "
            f"matrices, got {kinds[0]} {t.shape} and {kinds[1]} {p.shape} (scikit-learn: "
            "Classification metrics can't handle a mix of multilabel-indicator and "
            "binary/multiclass targets)"
        )
    check_lengths(y_true=t, y_pred=p)
    if t.shape[1] != p.shape[1]:
        raise ValueError(
            f"y_true and y_pred must have the same number of labels (columns), got "
            f"{t.shape[1]} and {p.shape[1]} (scikit-learn: Multi-label binary indicator input "
            "with different numbers of labels)"
        )
    w = sample_weight_array(sample_weight, len(t))
    return _Multilabel(_indicator(t, "y_true"), _indicator(p, "y_pred"), w)


def _select_columns(data: _Multilabel, labels: Any) -> _Multilabel:
    """Keep the columns ``labels`` (indices in ``[0, n_labels)``) in that order."""
    if labels is None:
        return data
    wanted = labels_param(labels, unique=False)
    n_labels = data.y_true.shape[1]
    if wanted.dtype.kind not in "biuf":  # label_array checked floats to be integral
        raise ValueError(
            f"labels of multilabel-indicator targets must be column indices in [0, {n_labels}), "
            f"got {wanted.tolist()!r}"
        )
    if wanted.size and not np.array_equal(wanted, np.arange(n_labels)):
        if wanted.max() > n_labels - 1:
            raise ValueError(
                f"labels must be column indices in [0, {n_labels}) (scikit-learn: All labels "
                f"must be in [0, n labels) for multilabel targets. Got {wanted.max()} > "
                f"{n_labels - 1})"
            )
        if wanted.min() < 0:
            raise ValueError(
                f"labels must be column indices in [0, {n_labels}) (scikit-learn: All labels "
                f"must be in [0, n labels) for multilabel targets. Got {wanted.min()} < 0)"
            )
    cols = wanted.astype(np.intp)
    return _Multilabel(data.raw_true[:, cols], data.raw_pred[:, cols], data.sample_weight)


def _count_true(x: np.ndarray, axis: int, w: np.ndarray | None) -> np.ndarray:
    """scikit-learn's ``count_nonzero`` of a CSR matrix: per column (``axis=0``, weighted
    sums in row order) or per row (``axis=1``)."""
    if axis == 1:
        counts = np.count_nonzero(x, axis=1).astype(np.intp)
        return counts if w is None else counts * w
    if w is None:
        return np.count_nonzero(x, axis=0).astype(np.intp)
    rows, cols = np.nonzero(x)
    return np.bincount(cols, weights=w[rows], minlength=x.shape[1])


def _multilabel_sums(data: _Multilabel, samplewise: bool) -> tuple[np.ndarray, ...]:
    """``(tp, pred, true)`` per label, or per sample when ``samplewise``."""
    axis = 1 if samplewise else 0
    w = data.sample_weight
    tp = _count_true(data.y_true & data.y_pred, axis, w)
    pred = _count_true(data.y_pred, axis, w)
    true = _count_true(data.y_true, axis, w)
    if w is None:
        return tp, pred, true
    # scikit-learn reads the sums back from its confusion matrices, whose true negatives
    # (a sum of weights) decide the dtype also where nothing was counted
    dtype = np.result_type(tp, pred, true, w)
    return tp.astype(dtype), pred.astype(dtype), true.astype(dtype)


def _subset_accuracy(data: _Multilabel, normalize: bool) -> float:
    """scikit-learn's ``accuracy_score`` of indicators: a sample counts when all its
    labels are right."""
    correct = np.all(data.raw_true == data.raw_pred, axis=1)
    w = data.sample_weight
    if len(correct) == 0 and normalize:
        return _no_samples("Accuracy")
    if normalize:
        return float(np.average(correct, weights=w))
    if w is not None:
        return float(np.dot(correct, w))
    return float(np.sum(correct))


# --------------------------------------------------------------------------------------
# confusion_matrix, accuracy, balanced accuracy, MCC
# --------------------------------------------------------------------------------------


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    sample_weight: Any = None,
    normalize: str | None = None,
) -> np.ndarray:
    """Confusion matrix ``C[i, j]``: samples of true class ``i`` predicted as class ``j``.

    Args:
        y_true, y_pred: class labels, shape ``(n_samples,)``.
        labels: classes indexing the matrix, in this order (others are ignored). Default:
            every class occurring in ``y_true`` or ``y_pred``, sorted.
        sample_weight: ``(n_samples,)`` weights; integer weights keep an integer matrix.
        normalize: ``'true'`` (rows sum to 1), ``'pred'`` (columns), ``'all'`` or None.

    Returns:
        ``ndarray[n_classes, n_classes]``: int64 counts (float64 when weighted by floats or
        normalised; rows or columns with nothing to normalise are 0).
    """
    check_average(normalize, ("true", "pred", "all", None), "normalize")
    targets = _targets(y_true, y_pred, sample_weight)
    cm = _confusion(targets)
    matrix = cm.matrix
    if labels is not None:
        wanted = labels_param(labels)
        if wanted.size == 0:
            raise ValueError(
                "labels must contain at least one label, got an empty list (scikit-learn: "
                "'labels' should contain at least one label.)"
            )
        pos = match_labels(cm.classes, wanted)
        if len(targets.y_true) and not np.any(cm.in_true[pos[pos >= 0]]):
            raise ValueError(
                f"labels must include at least one label occurring in y_true, got "
                f"{wanted.tolist()!r} (scikit-learn: At least one label specified must be in "
                "y_true)"
            )
        found = np.nonzero(pos >= 0)[0]
        selected = np.zeros((len(wanted), len(wanted)), dtype=matrix.dtype)
        selected[np.ix_(found, found)] = matrix[np.ix_(pos[found], pos[found])]
        matrix = selected
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                matrix = matrix / matrix.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                matrix = matrix / matrix.sum(axis=0, keepdims=True)
            else:
                matrix = matrix / matrix.sum()
        matrix = np.nan_to_num(matrix)
    _warn_single_label(matrix)
    return matrix


def _warn_single_label(matrix: np.ndarray) -> None:
    """scikit-learn's warning for a 1 x 1 confusion matrix (also from the metrics using one)."""
    if matrix.shape == (1, 1):
        warnings.warn(
            "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to "
            "have the correct shape, use the 'labels' parameter to pass all known labels.",
            UserWarning,
            stacklevel=3,
        )


def accuracy_score(
    y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None
) -> float:
    """Fraction (or, with ``normalize=False``, number or weight) of correct predictions.

    ``y_true``, ``y_pred``: class labels ``(n_samples,)``, or multilabel indicators
    ``(n_samples, n_labels)`` (subset accuracy: a sample is correct when all its labels
    are). Empty input: NaN with an :class:`UndefinedMetricWarning` (0.0 when
    ``normalize=False``).
    """
    targets = _any_targets(y_true, y_pred, sample_weight)
    if isinstance(targets, _Multilabel):
        return _subset_accuracy(targets, normalize)
    t, p, w = targets.y_true, targets.y_pred, targets.sample_weight
    n = len(t)
    if n == 0 and normalize:
        return _no_samples("Accuracy", stacklevel=4)
    if w is not None:
        correct = t == p
        if normalize:
            return float(np.average(correct, weights=w))
        return float(np.dot(correct, w))
    if (
        t.dtype == p.dtype
        and t.dtype.kind in "iu"
        and t.flags.c_contiguous
        and p.flags.c_contiguous
    ):
        n_correct = int(_kernels.count_equal(t, p))
    else:
        n_correct = int(np.count_nonzero(t == p))
    if not normalize:
        return float(n_correct)
    return n_correct / n


def _no_samples(metric: str, *, stacklevel: int = 5) -> float:
    """NaN and an :class:`UndefinedMetricWarning`: ``metric`` of empty input.

    scikit-learn raises on empty input; here every label metric that is a ratio of no
    samples says so through this one warning. The default ``stacklevel`` points at the
    caller of a public function that calls a private helper that calls this.
    """
    message = f"{metric} is ill-defined and being set to nan due to no samples."
    warn_undefined(message, stacklevel=stacklevel)
    return math.nan


def _balanced_accuracy(matrix: np.ndarray, adjusted: bool) -> float:
    """scikit-learn's arithmetic on the confusion matrix of the present classes."""
    _warn_single_label(matrix)
    if matrix.size == 0:
        return _no_samples("Balanced accuracy")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.diagonal(matrix) / np.sum(matrix, axis=1)
    if np.any(np.isnan(per_class)):
        warnings.warn("y_pred contains classes not in y_true", UserWarning, stacklevel=3)
        per_class = per_class[~np.isnan(per_class)]
    score = np.mean(per_class)
    if adjusted:
        n_classes = per_class.shape[0]
        chance = 1 / n_classes
        score -= chance
        score /= 1 - chance
    return float(score)


def balanced_accuracy_score(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, adjusted: bool = False
) -> float:
    """Mean recall over the classes occurring in ``y_true``; ``adjusted`` maps chance to 0.

    Robust to class imbalance where accuracy is not: always predicting the majority class of
    a 99:1 problem scores 0.99 accuracy but 0.5 balanced accuracy.
    """
    cm = _confusion(_targets(y_true, y_pred, sample_weight))
    return _balanced_accuracy(cm.matrix, adjusted)


def _matthews_corrcoef(matrix: np.ndarray) -> float:
    """scikit-learn's multiclass MCC formula on a confusion matrix (0.0 where undefined;
    NaN with a warning for an empty matrix: no samples)."""
    _warn_single_label(matrix)
    if matrix.size == 0:
        return _no_samples("Matthews correlation coefficient")
    t_sum = matrix.sum(axis=1, dtype=np.float64)
    p_sum = matrix.sum(axis=0, dtype=np.float64)
    n_correct = np.trace(matrix, dtype=np.float64)
    n_samples = p_sum.sum()
    cov_ytyp = n_correct * n_samples - np.dot(t_sum, p_sum)
    cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
    cov_ypyp_ytyt = cov_ypyp * cov_ytyt
    if cov_ypyp_ytyt == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(cov_ypyp_ytyt))


def matthews_corrcoef(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Matthews correlation coefficient in [-1, 1] (0.0 when a marginal is constant).

    Uses every cell of the confusion matrix, so it stays informative on imbalanced data.
    Empty input: NaN with an :class:`UndefinedMetricWarning` (scikit-learn raises).
    """
    cm = _confusion(_targets(y_true, y_pred, sample_weight))
    return _matthews_corrcoef(cm.matrix)


# --------------------------------------------------------------------------------------
# Precision, recall, F-beta
# --------------------------------------------------------------------------------------


def _check_zero_division(zero_division: Any) -> float:
    """``'warn'`` -> 0.0, 0/1 -> itself, NaN -> NaN; anything else is an error."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif isinstance(zero_division, numbers.Real):
        if zero_division in (0, 1):
            return float(zero_division)
        if math.isnan(zero_division):
            return math.nan
    raise ValueError(f"zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}")


def _prf_divide(
    numerator: np.ndarray,
    denominator: np.ndarray,
    metric: str,
    modifier: str,
    average: str | None,
    warn_for: Sequence[str],
    zero_division: Any,
) -> np.ndarray:
    """``numerator / denominator`` with 0/0 set to ``zero_division``.

    With ``'warn'`` (and ``metric`` in ``warn_for``) scikit-learn's
    :class:`UndefinedMetricWarning`, whose wording swaps 'sample' and 'label' for
    ``average='samples'`` (``numerator`` is then per sample).
    """
    mask = denominator == 0
    denominator = np.array(denominator, dtype=np.float64)
    denominator[mask] = 1
    result = np.asarray(numerator, dtype=np.float64) / denominator
    if not np.any(mask):
        return result
    result[mask] = _check_zero_division(zero_division)
    if zero_division != "warn" or metric not in warn_for:
        return result
    # scikit-learn's wording, so that warning filters by message carry over
    axis0, axis1 = ("label", "sample") if average == "samples" else ("sample", "label")
    where = "due to" if result.shape[0] == 1 else f"in {axis1}s with"
    warn_undefined(
        f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no {modifier} "
        f"{axis0}s. Use `zero_division` parameter to control this behavior.",
        stacklevel=4,
    )
    return result


def _nanaverage(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Average ignoring NaN; unweighted when all weights are zero (scikit-learn's rule)."""
    if values.shape[0] == 0:
        return math.nan
    mask = np.isnan(values)
    if np.all(mask):
        return math.nan
    if weights is None:
        return float(np.nanmean(values))
    values, weights = values[~mask], np.asarray(weights)[~mask]
    try:
        return float(np.average(values, weights=weights))
    except ZeroDivisionError:
        return float(np.average(values))


def _prfs_from_sums(
    tp_sum: np.ndarray,
    pred_sum: np.ndarray,
    true_sum: np.ndarray,
    *,
    beta: float,
    average: str | None,
    warn_for: Sequence[str],
    zero_division: Any,
    sample_weight: np.ndarray | None = None,
) -> tuple[Any, Any, Any, Any]:
    """scikit-learn's P/R/F arithmetic on per-label sums (already selected by ``labels``),
    or per-sample sums for ``average='samples'`` (averaged with ``sample_weight``)."""
    # scikit-learn goes through fp = pred - tp and back; with float sums that rounds
    fp = pred_sum - tp_sum
    fn = true_sum - tp_sum
    pred_sum = tp_sum + fp
    true_sum = tp_sum + fn
    if average == "micro":
        tp_sum = np.reshape(np.sum(tp_sum), (1,))
        pred_sum = np.reshape(np.sum(pred_sum), (1,))
        true_sum = np.reshape(np.sum(true_sum), (1,))
    beta2 = beta**2
    precision = _prf_divide(
        tp_sum, pred_sum, "precision", "predicted", average, warn_for, zero_division
    )
    recall = _prf_divide(tp_sum, true_sum, "recall", "true", average, warn_for, zero_division)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        denom = beta2 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
        f_score = _prf_divide(
            (1 + beta2) * tp_sum.astype(np.float64),
            denom,
            "f-score",
            "true nor predicted",
            average,
            warn_for,
            zero_division,
        )
    if average is None:
        return precision, recall, f_score, true_sum
    weights = {"weighted": true_sum, "samples": sample_weight}.get(average)
    return (
        _nanaverage(precision, weights),
        _nanaverage(recall, weights),
        _nanaverage(f_score, weights),
        None,
    )


def _check_prf_options(beta: Any, average: Any, zero_division: Any) -> float:
    check_average(average, _PRF_AVERAGES)
    _check_zero_division(zero_division)
    return check_float(beta, "beta", minimum=0.0)


def _select_labels(
    sums: _ClassSums, average: str | None, labels: Any, pos_label: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's ``_check_set_wise_labels`` and label selection -> (tp, pred, true)."""
    classes = sums.classes
    if average == "binary":
        if len(classes) > 2:
            raise ValueError(
                "Target is multiclass but average='binary'. Please choose another average "
                "setting, one of [None, 'micro', 'macro', 'weighted']."
            )
        wanted = np.asarray([pos_label])
        if match_labels(classes, wanted)[0] < 0 and len(classes) >= 2:
            raise ValueError(
                f"pos_label={pos_label!r} is not a valid label. It should be one of {classes}"
            )
    else:
        if pos_label not in (None, 1):
            warnings.warn(
                f"Note that pos_label (set to {pos_label!r}) is ignored when average != "
                f"'binary' (got {average!r}). You may use labels=[pos_label] to specify a "
                "single positive class.",
                UserWarning,
                stacklevel=4,
            )
        if labels is None:
            return sums.tp, sums.pred, sums.true
        wanted = labels_param(labels, unique=False)
    pos = match_labels(classes, wanted)
    found = pos >= 0

    def take(values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(wanted), dtype=values.dtype)
        out[found] = values[pos[found]]
        return out

    return take(sums.tp), take(sums.pred), take(sums.true)


def _set_wise_multilabel(average: str | None, pos_label: Any) -> None:
    """scikit-learn's ``_check_set_wise_labels`` for multilabel-indicator targets."""
    if average == "binary":
        raise ValueError(
            "Target is multilabel-indicator but average='binary'. Please choose another "
            "average setting, one of [None, 'micro', 'macro', 'weighted', 'samples']."
        )
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
            f"(got {average!r}). You may use labels=[pos_label] to specify a single positive "
            "class.",
            UserWarning,
            stacklevel=4,
        )


def _check_samples_average(average: Any) -> None:
    if average == "samples":
        raise ValueError(
            "average='samples' needs multilabel-indicator targets (scikit-learn: Samplewise "
            "metrics are not available outside of multilabel classification.)"
        )


def _set_wise_sums(
    data: _Targets | _Multilabel, average: str | None, labels: Any, pos_label: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(tp, pred, true)`` per selected label, or per sample for ``average='samples'``
    (multilabel only): the sums of scikit-learn's ``multilabel_confusion_matrix``."""
    if isinstance(data, _Targets):
        tp, pred, true = _select_labels(_class_sums(data), average, labels, pos_label)
        _check_samples_average(average)
        return tp, pred, true
    _set_wise_multilabel(average, pos_label)
    return _multilabel_sums(_select_columns(data, labels), average == "samples")


def precision_recall_fscore_support(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float = 1.0,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = None,
    warn_for: Sequence[str] = ("precision", "recall", "f-score"),
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> tuple[Any, Any, Any, Any]:
    """Precision, recall, F-beta and support per class, or averaged.

    Args:
        y_true, y_pred: class labels ``(n_samples,)``, or multilabel indicators
            ``(n_samples, n_labels)`` (``labels`` are then column indices).
        beta: weight of recall in the F-score (``inf``: recall, 0: precision).
        labels: the classes to report (and, for micro/macro/weighted, to average over).
        pos_label: the positive class when ``average='binary'``.
        average: None (per class), ``'binary'`` (``pos_label`` only), ``'micro'`` (global
            counts), ``'macro'`` (unweighted mean), ``'weighted'`` (mean weighted by support),
            ``'samples'`` (multilabel: mean over samples of each sample's score).
        warn_for: which of the three metrics may warn when ill-defined.
        sample_weight: ``(n_samples,)`` weights.
        zero_division: value of 0/0 (``'warn'``: 0.0 and an ``UndefinedMetricWarning``;
            0.0, 1.0 or ``np.nan``).

    Returns:
        ``(precision, recall, fbeta, support)``: arrays of shape ``(n_labels,)`` when
        ``average`` is None (support: int64, float64 when weighted), else three floats and
        ``None``. Empty input (scikit-learn raises): ``'macro'``/``'weighted'`` without
        ``labels`` average over nothing and give NaN with an :class:`UndefinedMetricWarning`
        for each metric in ``warn_for``; the other modes give 0/0 per label, which
        ``zero_division`` decides.
    """
    beta = _check_prf_options(beta, average, zero_division)
    targets = _any_targets(y_true, y_pred, sample_weight)
    tp, pred, true = _set_wise_sums(targets, average, labels, pos_label)
    if len(targets.y_true) == 0 and tp.size == 0 and average in ("macro", "weighted", "samples"):
        # no samples and no labels (or, for 'samples', no samples): an average over nothing
        # (NaN), whatever zero_division
        for metric in ("precision", "recall", "f-score"):
            if metric in warn_for:
                _no_samples(metric.capitalize(), stacklevel=4)
    return _prfs_from_sums(
        tp,
        pred,
        true,
        beta=beta,
        average=average,
        warn_for=warn_for,
        zero_division=zero_division,
        sample_weight=targets.sample_weight,
    )


def fbeta_score(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """F-beta score: ``(1 + beta**2) tp / ((1 + beta**2) tp + beta**2 fn + fp)``.

    Arguments as :func:`precision_recall_fscore_support`; returns a float, or an array per
    label when ``average`` is None.
    """
    _, _, f, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        beta=beta,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("f-score",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )
    return f


def f1_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """F1 score, the harmonic mean of precision and recall (see :func:`fbeta_score`)."""
    return fbeta_score(
        y_true,
        y_pred,
        beta=1,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


def precision_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Precision ``tp / (tp + fp)``: how many predicted positives are right."""
    p, _, _, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("precision",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )
    return p


def recall_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Recall ``tp / (tp + fn)``: how many actual positives are found."""
    _, r, _, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("recall",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )
    return r
