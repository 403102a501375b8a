"""The rest of scikit-learn's classification metrics: same names, arguments and results.

``multilabel_confusion_matrix``, ``jaccard_score``, ``hamming_loss``, ``zero_one_loss``,
``cohen_kappa_score`` and ``classification_report`` count predicted labels (binary,
multiclass and, except ``cohen_kappa_score``, multilabel-indicator targets);
``top_k_accuracy_score``, ``log_loss``, ``brier_score_loss``, ``det_curve`` and
``label_ranking_average_precision_score`` score predicted scores or probabilities.
Results equal ``sklearn.metrics`` 1.9.1 bit for bit (tested live in
``tests/test_metrics_more.py``).

Empty input follows the rest of :mod:`tinyvision.metrics`: the metrics of labels are
valid (zero counts; NaN with an :class:`UndefinedMetricWarning` for a ratio of no
samples), the metrics of scores raise ``ValueError`` naming the argument.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyvision._validate import check_choice, check_finite_array, describe
from tinyvision.metrics._kernels import _jit
from tinyvision.metrics._labels import (
    check_average,
    check_lengths,
    label_array,
    labels_param,
    require_samples,
    sample_weight_array,
    to_array,
)
from tinyvision.metrics._ranking import (
    _check_default_pos_label,
    binary_input,
    curve_counts,
    score_array,
)
from tinyvision.metrics._warnings import warn_undefined
from tinyvision.metrics.classification import (
    _check_zero_division,
    _class_sums,
    _nanaverage,
    _no_samples,
    _prfs_from_sums,
    _select_labels,
    _Targets,
    _targets,
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
)

__all__ = [
    "brier_score_loss",
    "classification_report",
    "cohen_kappa_score",
    "det_curve",
    "hamming_loss",
    "jaccard_score",
    "label_ranking_average_precision_score",
    "log_loss",
    "multilabel_confusion_matrix",
    "top_k_accuracy_score",
    "zero_one_loss",
]

_AVERAGES = (None, "micro", "macro", "weighted", "binary", "samples")


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
    return tp, pred, true


# --------------------------------------------------------------------------------------
# multilabel_confusion_matrix
# --------------------------------------------------------------------------------------


def multilabel_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    samplewise: bool = False,
) -> np.ndarray:
    """One 2 x 2 confusion matrix ``[[tn, fp], [fn, tp]]`` per label (or per sample).

    Args:
        y_true, y_pred: class labels ``(n_samples,)`` (each class one-vs-rest) or
            multilabel indicators ``(n_samples, n_labels)``.
        sample_weight: ``(n_samples,)`` weights.
        labels: the classes (column indices for indicators) to report, in this order;
            default: the sorted classes present (every column).
        samplewise: one matrix per sample (multilabel targets only).

    Returns:
        ``ndarray[n_outputs, 2, 2]``: int64 counts, float64 when weighted (and, as in
        scikit-learn, when no prediction is right). Empty input gives zero counts.
    """
    data = _any_targets(y_true, y_pred, sample_weight)
    if isinstance(data, _Targets):
        if samplewise:
            raise ValueError(
                "samplewise=True needs multilabel-indicator targets (scikit-learn: Samplewise "
                "metrics are not available outside of multilabel classification.)"
            )
        sums = _class_sums(data)
        tp, pred, true = _select_labels(sums, None, labels, None)
        n = len(data.y_true)
    else:
        data = _select_columns(data, labels)
        tp, pred, true = _multilabel_sums(data, samplewise)
        n = data.y_true.shape[1] if samplewise else data.y_true.shape[0]
    return _stack_confusion(tp, pred, true, n, data.sample_weight, samplewise)


def _stack_confusion(
    tp: np.ndarray,
    pred: np.ndarray,
    true: np.ndarray,
    n: int,
    w: np.ndarray | None,
    samplewise: bool,
) -> np.ndarray:
    fp = pred - tp
    fn = true - tp
    if w is not None and samplewise:
        tn = w * n - tp - fp - fn
    elif w is not None:
        tn = np.sum(w) - tp - fp - fn
    else:
        tn = n - tp - fp - fn
    return np.stack([tn, fp, fn, tp]).T.reshape(-1, 2, 2)


# --------------------------------------------------------------------------------------
# jaccard_score
# --------------------------------------------------------------------------------------


def _divide(
    numerator: np.ndarray,
    denominator: np.ndarray,
    metric: str,
    modifier: str,
    average: str | None,
    zero_division: Any,
) -> np.ndarray:
    """``numerator / denominator`` with 0/0 set to ``zero_division``; scikit-learn's warning
    (which swaps 'sample' and 'label' for ``average='samples'``) when it is ``'warn'``."""
    mask = denominator == 0
    denominator = np.array(denominator, dtype=np.float64)
    denominator[mask] = 1
    result = np.asarray(numerator, dtype=np.float64) / denominator
    if not np.any(mask):
        return result
    result[mask] = _check_zero_division(zero_division)
    if zero_division != "warn":
        return result
    axis0, axis1 = ("label", "sample") if average == "samples" else ("sample", "label")
    where = "due to" if result.shape[0] == 1 else f"in {axis1}s with"
    warn_undefined(
        f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no {modifier} "
        f"{axis0}s. Use `zero_division` parameter to control this behavior.",
        stacklevel=4,
    )
    return result


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


def jaccard_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    """Jaccard similarity ``tp / (tp + fp + fn)`` of predicted and true label sets.

    Args:
        y_true, y_pred: class labels ``(n_samples,)`` or multilabel indicators
            ``(n_samples, n_labels)``.
        labels, pos_label, average, sample_weight: as
            :func:`precision_recall_fscore_support`; ``average='samples'`` (multilabel
            only) averages the score of every sample.
        zero_division: ``'warn'``, 0.0 or 1.0 (NaN is not accepted, as in scikit-learn).

    Returns:
        A float, or ``ndarray[n_labels]`` of float64 when ``average`` is None. 0/0 gives
        ``zero_division`` (``'warn'``: 0.0 with an :class:`UndefinedMetricWarning`).
    """
    check_average(average, _AVERAGES)
    if not (isinstance(zero_division, str) and zero_division == "warn") and not (
        isinstance(zero_division, numbers.Real) and zero_division in (0, 1)
    ):
        raise ValueError(f"zero_division must be 'warn', 0.0 or 1.0, got {zero_division!r}")
    data = _any_targets(y_true, y_pred, sample_weight)
    if isinstance(data, _Targets):
        sums = _class_sums(data)
        tp, pred, true = _select_labels(sums, average, labels, pos_label)
        _check_samples_average(average)
    else:
        _set_wise_multilabel(average, pos_label)
        data = _select_columns(data, labels)
        tp, pred, true = _multilabel_sums(data, average == "samples")
    fp = pred - tp
    fn = true - tp
    numerator = tp
    denominator = tp + fp + fn
    if average == "micro":
        numerator = np.sum(numerator, keepdims=True)
        denominator = np.sum(denominator, keepdims=True)
    jaccard = _divide(
        numerator, denominator, "jaccard", "true or predicted", average, zero_division
    )
    if average is None:
        return jaccard
    if jaccard.size == 0:
        return _no_samples("Jaccard", stacklevel=3)
    weights = None
    if average == "weighted":
        weights = fn + tp
        if not np.any(weights):
            weights = None
    elif average == "samples":
        weights = data.sample_weight
    return float(np.average(jaccard, weights=weights))


# --------------------------------------------------------------------------------------
# hamming_loss, zero_one_loss
# --------------------------------------------------------------------------------------


def hamming_loss(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Fraction of wrong labels: ``y_true != y_pred`` per sample, or per (sample, label)
    of multilabel indicators ``(n_samples, n_labels)``.

    Empty input: NaN with an :class:`UndefinedMetricWarning` (scikit-learn raises).
    """
    data = _any_targets(y_true, y_pred, sample_weight)
    w = data.sample_weight
    if len(data.y_true) == 0:
        return _no_samples("Hamming loss", stacklevel=3)
    if isinstance(data, _Targets):
        return float(np.average(data.y_true != data.y_pred, weights=w))
    weight_average = 1.0 if w is None else np.average(w)
    wrong = np.count_nonzero(data.raw_true != data.raw_pred, axis=1)
    n_differences = int(wrong.sum()) if w is None else np.dot(wrong, w)
    n, n_labels = data.y_true.shape
    return float(n_differences) / (n * n_labels * weight_average)


def _subset_accuracy(data: _Multilabel, normalize: bool) -> float:
    """scikit-learn's ``accuracy_score`` of indicators: a sample counts when all its
    labels are right."""
    correct = np.all(data.raw_true == data.raw_pred, axis=1)
    w = data.sample_weight
    if len(correct) == 0 and normalize:
        return _no_samples("Accuracy", stacklevel=4)
    if normalize:
        return float(np.average(correct, weights=w))
    if w is not None:
        return float(np.dot(correct, w))
    return float(np.sum(correct))


def zero_one_loss(
    y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None
) -> float:
    """Fraction (or, with ``normalize=False``, number or weight) of wrong predictions.

    A multilabel sample ``(n_samples, n_labels)`` is wrong unless all its labels are right.
    Empty input: NaN with an :class:`UndefinedMetricWarning` (0.0 with ``normalize=False``).
    """
    data = _any_targets(y_true, y_pred, sample_weight)
    if isinstance(data, _Multilabel):
        score = _subset_accuracy(data, normalize)
    else:
        score = accuracy_score(
            data.y_true, data.y_pred, normalize=normalize, sample_weight=data.sample_weight
        )
    if normalize:
        return 1 - score
    w = data.sample_weight
    n_samples = len(data.y_true) if w is None else np.sum(w)
    return n_samples - score


# --------------------------------------------------------------------------------------
# cohen_kappa_score
# --------------------------------------------------------------------------------------


def cohen_kappa_score(
    y1: Any,
    y2: Any,
    *,
    labels: Any = None,
    weights: str | None = None,
    sample_weight: Any = None,
    replace_undefined_by: float = np.nan,
) -> float:
    """Cohen's kappa: agreement of two annotators beyond chance, in [-1, 1].

    Args:
        y1, y2: the labels of each annotator, ``(n_samples,)``.
        labels: the classes to use (at least one must occur in ``y1``); default: all.
        weights: None, ``'linear'`` or ``'quadratic'`` (penalty by class distance).
        sample_weight: ``(n_samples,)`` weights.
        replace_undefined_by: the result when kappa is undefined (NaN, or a float in
            [-1, 1]), with an :class:`UndefinedMetricWarning`.
    """
    check_choice(weights, "weights", (None, "linear", "quadratic"))
    _check_replacement(replace_undefined_by)
    try:
        confusion = confusion_matrix(y1, y2, labels=labels, sample_weight=sample_weight)
    except ValueError as exc:
        if "at least one label occurring in y_true" in str(exc):
            raise ValueError(
                f"labels must include at least one label occurring in y1, got {labels!r} "
                "(scikit-learn: At least one label in `labels` must be present in `y1`)"
            ) from exc
        raise
    n_classes = confusion.shape[0]
    confusion = confusion.astype(np.float64, copy=False)
    sum0 = np.sum(confusion, axis=0)
    sum1 = np.sum(confusion, axis=1)
    total = np.sum(sum0)
    if total == 0:
        warn_undefined(
            "`y2` contains no labels that are present in both `y1` and `labels`."
            "`cohen_kappa_score` is undefined and set to the value defined by the "
            f"`replace_undefined_by` param, which is set to {replace_undefined_by}.",
            stacklevel=3,
        )
        return replace_undefined_by
    expected = np.outer(sum0, sum1) / total
    if weights is None:
        w_mat = np.ones((n_classes, n_classes), dtype=np.float64)
        np.fill_diagonal(w_mat, 0)
    else:
        w_mat = np.zeros((n_classes, n_classes), dtype=np.float64)
        w_mat += np.arange(n_classes)
        w_mat = np.abs(w_mat - w_mat.T) if weights == "linear" else (w_mat - w_mat.T) ** 2
    observed = np.sum(w_mat * confusion)
    chance = np.sum(w_mat * expected)
    if chance == 0:
        warn_undefined(
            "`y1`, `y2` and `labels` have only one label in common. `cohen_kappa_score` is "
            "undefined and set to the value defined by the the `replace_undefined_by` param, "
            f"which is set to {replace_undefined_by}.",
            stacklevel=3,
        )
        return replace_undefined_by
    return float(1 - observed / chance)


def _check_replacement(value: Any) -> None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and (math.isnan(value) or -1.0 <= value <= 1.0):
        return
    raise ValueError(
        f"replace_undefined_by must be np.nan or a float in [-1.0, 1.0], got {value!r}"
    )


# --------------------------------------------------------------------------------------
# classification_report
# --------------------------------------------------------------------------------------


def _multilabel_prfs(
    data: _Multilabel, average: str | None, zero_division: Any
) -> tuple[Any, Any, Any, Any]:
    """Precision, recall, F1 and support of indicator targets (columns already selected)."""
    if average != "samples":
        tp, pred, true = _multilabel_sums(data, False)
        return _prfs_from_sums(
            tp,
            pred,
            true,
            beta=1.0,
            average=average,
            warn_for=("precision", "recall", "f-score"),
            zero_division=zero_division,
        )
    tp, pred, true = _multilabel_sums(data, True)
    fp, fn = pred - tp, true - tp
    pred, true = tp + fp, tp + fn
    precision = _divide(tp, pred, "precision", "predicted", average, zero_division)
    recall = _divide(tp, true, "recall", "true", average, zero_division)
    denom = true.astype(np.float64) + pred.astype(np.float64)
    f_score = _divide(
        2.0 * tp.astype(np.float64), denom, "f-score", "true nor predicted", average, zero_division
    )
    w = data.sample_weight
    return (
        _nanaverage(precision, w),
        _nanaverage(recall, w),
        _nanaverage(f_score, w),
        None,
    )


def _report_rows(
    data: _Targets | _Multilabel,
    labels: np.ndarray | None,
    zero_division: Any,
) -> tuple[tuple[Any, ...], Any]:
    """``(per_label, averaged)``: per-label P/R/F/support and a function of ``average``
    giving the averaged P/R/F."""
    if isinstance(data, _Multilabel):
        selected = _select_columns(data, labels)

        def averaged(average: str) -> tuple[Any, ...]:
            return _multilabel_prfs(selected, average, zero_division)

        return _multilabel_prfs(selected, None, zero_division), averaged

    def averaged_1d(average: str) -> tuple[Any, ...]:
        return precision_recall_fscore_support(
            data.y_true,
            data.y_pred,
            labels=labels,
            average=average,
            sample_weight=data.sample_weight,
            zero_division=zero_division,
        )

    return averaged_1d(None), averaged_1d


def classification_report(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    target_names: Sequence[str] | None = None,
    sample_weight: Any = None,
    digits: int = 2,
    output_dict: bool = False,
    zero_division: Any = "warn",
) -> str | dict[str, Any]:
    """Precision, recall, F1 and support per class, plus accuracy and averages.

    Args:
        y_true, y_pred: class labels ``(n_samples,)`` or multilabel indicators
            ``(n_samples, n_labels)``.
        labels: the classes to report (default: the sorted classes present).
        target_names: a display name per label.
        sample_weight: ``(n_samples,)`` weights.
        digits: decimals of the text report.
        output_dict: return ``{name: {'precision', 'recall', 'f1-score', 'support'}}``
            (and ``'accuracy'``, a float) instead of text.
        zero_division: value of 0/0 (``'warn'``: 0.0 and an ``UndefinedMetricWarning``).

    Returns:
        The text table of scikit-learn's ``classification_report`` (same layout), or the
        dictionary. The ``accuracy`` row replaces ``micro avg`` for binary and multiclass
        targets when ``labels`` covers every class present.
    """
    _check_zero_division(zero_division)
    data = _any_targets(y_true, y_pred, sample_weight)
    multilabel = isinstance(data, _Multilabel)
    present = _present_labels(data)
    labels_given = labels is not None
    labels = labels_param(labels, unique=False) if labels_given else present
    if labels.size == 0:
        raise ValueError("labels must contain at least one label, got an empty list")
    micro_is_accuracy = not multilabel and (
        not labels_given or set(labels.tolist()) >= set(present.tolist())
    )
    if target_names is not None and len(labels) != len(target_names):
        if labels_given:
            warnings.warn(
                f"labels size, {len(labels)}, does not match size of target_names, "
                f"{len(target_names)}",
                UserWarning,
                stacklevel=2,
            )
        else:
            raise ValueError(
                f"target_names must have one name per class: Number of classes, "
                f"{len(labels)}, does not match size of target_names, {len(target_names)}. "
                "Try specifying the labels parameter"
            )
    if target_names is None:
        target_names = [f"{label}" for label in labels.tolist()]
    per_label, averaged = _report_rows(data, labels, zero_division)
    p, r, f1, s = per_label
    rows = list(zip(target_names, p, r, f1, s))
    averages = ("micro", "macro", "weighted") + (("samples",) if multilabel else ())
    total = np.sum(s)
    summary = []
    for average in averages:
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        avg_p, avg_r, avg_f1, _ = averaged(average)
        summary.append((heading, [avg_p, avg_r, avg_f1, total]))
    if output_dict:
        return _report_dict(rows, summary)
    return _report_text(rows, summary, target_names, digits)


def _present_labels(data: _Targets | _Multilabel) -> np.ndarray:
    if isinstance(data, _Multilabel):
        return np.arange(data.y_true.shape[1])
    return _class_sums(data).classes


_HEADERS = ("precision", "recall", "f1-score", "support")


def _report_dict(rows: list[tuple], summary: list[tuple[str, list]]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name, *scores in rows:
        report[name] = dict(zip(_HEADERS, [float(v) for v in scores]))
    for heading, values in summary:
        report[heading] = dict(zip(_HEADERS, [float(v) for v in values]))
    if "accuracy" in report:
        report["accuracy"] = report["accuracy"]["precision"]
    return report


def _report_text(
    rows: list[tuple], summary: list[tuple[str, list]], names: Sequence[str], digits: int
) -> str:
    longest_heading = "weighted avg"
    width = max(max((len(n) for n in names), default=0), len(longest_heading), digits)
    text = f"{'':>{width}s} " + "".join(f" {h:>9}" for h in _HEADERS) + "\n\n"
    for name, p, r, f, s in rows:
        text += _report_line(name, p, r, f, s, width, digits)
    text += "\n"
    for heading, (p, r, f, s) in summary:
        if heading == "accuracy":
            text += (
                f"{heading:>{width}s} " + f" {'':>9.{digits}}" * 2 + f" {f:>9.{digits}f} {s:>9}\n"
            )
        else:
            text += _report_line(heading, p, r, f, s, width, digits)
    return text


def _report_line(name: str, p: Any, r: Any, f: Any, s: Any, width: int, digits: int) -> str:
    return f"{name:>{width}s} " + "".join(f" {v:>9.{digits}f}" for v in (p, r, f)) + f" {s:>9}\n"


# --------------------------------------------------------------------------------------
# top_k_accuracy_score
# --------------------------------------------------------------------------------------


def _sorted_unique_labels(labels: Any) -> tuple[np.ndarray, np.ndarray]:
    array = labels_param(labels, unique=False)
    return array, np.unique(array)


def top_k_accuracy_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int = 2,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    Args:
        y_true: class labels ``(n_samples,)``.
        y_score: ``(n_samples, n_classes)`` scores, columns in the sorted order of the
            classes (or of ``labels``); for binary ``y_true``, ``(n_samples,)`` scores of
            the greater class.
        k: how many of the highest scores count; ties go to the class listed last (as
            scikit-learn's reversed stable sort).
        normalize: a fraction (True) or the number (weight) of hits.
        sample_weight: ``(n_samples,)`` weights.
        labels: all the classes, sorted (when ``y_true`` lacks some).
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    y = _class_labels(y_true)
    require_samples(y, "y_true")
    scores = score_array(y_score, "y_score", ndim=(1, 2))
    classes = np.unique(y)
    binary = len(classes) <= 2 and (labels is None or len(labels_param(labels, unique=False)) <= 2)
    if binary:
        if scores.ndim == 2 and scores.shape[1] != 1:
            raise ValueError(
                f"`y_true` is binary while y_score is 2d with {scores.shape[1]} classes. If "
                "`y_true` does not contain all the labels, `labels` must be provided."
            )
        scores = scores.reshape(len(scores), -1)[:, 0] if scores.ndim == 2 else scores
    elif scores.ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
            f"multiple classes. Got `y_score.shape={scores.shape}`."
        )
    check_lengths(y_true=y, y_score=scores)
    w = sample_weight_array(sample_weight, len(y))
    n_score_classes = scores.shape[1] if scores.ndim == 2 else 2
    if labels is None:
        if len(classes) != n_score_classes:
            raise ValueError(
                f"Number of classes in 'y_true' ({len(classes)}) not equal to the number of "
                f"classes in 'y_score' ({n_score_classes}).You can provide a list of all known "
                "classes by assigning it to the `labels` parameter."
            )
    else:
        given, classes = _sorted_unique_labels(labels)
        if len(classes) != len(given):
            raise ValueError(f"Parameter 'labels' must be unique, got {given.tolist()!r}")
        if not np.array_equal(classes, given):
            raise ValueError(f"Parameter 'labels' must be ordered, got {given.tolist()!r}")
        if len(classes) != n_score_classes:
            raise ValueError(
                f"Number of given labels ({len(classes)}) not equal to the number of classes "
                f"in 'y_score' ({n_score_classes})."
            )
        if not np.isin(y, classes).all():
            raise ValueError("'y_true' contains labels not in parameter 'labels'.")
    n_classes = len(classes)
    if k >= n_classes:
        warn_undefined(
            f"'k' ({k}) greater than or equal to 'n_classes' ({n_classes}) will result in a "
            "perfect score and is therefore meaningless.",
            stacklevel=2,
        )
    encoded = np.searchsorted(classes, y)
    hits = _top_k_hits(encoded, scores, k, binary)
    if normalize:
        return float(np.average(hits, weights=w))
    if w is None:
        return float(np.sum(hits))
    return float(np.dot(hits, w))


def _class_labels(y_true: Any) -> np.ndarray:
    """``y_true`` as 1-D class labels; other targets are refused with scikit-learn's words."""
    try:
        return label_array(y_true, "y_true")
    except ValueError as exc:
        kind = "continuous" if "continuous" in str(exc) else "multilabel-indicator"
        if "multilabel" not in str(exc) and "continuous" not in str(exc):
            raise
        raise ValueError(
            f"{exc} (scikit-learn: y type must be 'binary' or 'multiclass', got '{kind}' instead.)"
        ) from exc


def _top_k_hits(encoded: np.ndarray, scores: np.ndarray, k: int, binary: bool) -> np.ndarray:
    """Whether each true class ranks among the ``k`` first of a descending sort that puts
    tied columns in reverse order (scikit-learn's reversed stable argsort), without sorting."""
    if binary:
        if k != 1:
            return np.ones(len(scores), dtype=bool)
        threshold = 0.5 if scores.min() >= 0 and scores.max() <= 1 else 0
        return (scores > threshold).astype(np.int64) == encoded
    rows = np.arange(len(scores))
    true_score = scores[rows, encoded][:, None]
    columns = np.arange(scores.shape[1])[None, :]
    ahead = (scores > true_score) | ((scores == true_score) & (columns > encoded[:, None]))
    return np.count_nonzero(ahead, axis=1) < k


# --------------------------------------------------------------------------------------
# log_loss, brier_score_loss
# --------------------------------------------------------------------------------------


def _probabilities(value: Any, name: str = "y_proba") -> np.ndarray:
    """Finite probabilities in a float dtype (float16/32/64 kept, others float64)."""
    array = score_array(value, name, ndim=(1, 2))
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    require_samples(array, name)
    return array


def _one_hot(y: np.ndarray, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``LabelBinarizer`` encoding: ``(n_samples, K)`` indicators over the
    sorted classes (two columns for two classes) and the classes."""
    if labels is not None:
        given = labels_param(labels, unique=False)
        classes = np.unique(given)
        if classes.shape != given.shape or not np.array_equal(classes, given):
            warnings.warn(
                f"Labels passed were {labels}. But this function assumes labels are ordered "
                f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure "
                "that the columns of y_prob correspond to this ordering.",
                UserWarning,
                stacklevel=4,
            )
        unknown = ~np.isin(y, classes)
        if unknown.any():
            raise ValueError(
                f"y_true contains values {set(np.unique(y[unknown]).tolist())} not belonging "
                f"to the passed labels {given.tolist()!r}."
            )
    else:
        classes = np.unique(y)
    if len(classes) == 1:
        if labels is None:
            raise ValueError(
                f"y_true contains only one label ({classes[0]}). Please provide the list of "
                "all expected class labels explicitly through the labels argument."
            )
        raise ValueError(
            f"The labels array needs to contain at least two labels, got {classes.tolist()!r}."
        )
    codes = np.searchsorted(classes, y)
    one_hot = np.zeros((len(y), len(classes)), dtype=np.int64)
    one_hot[np.arange(len(y)), codes] = 1
    return one_hot, classes


def _multiclass_probabilities(
    y_true: Any, y_prob: np.ndarray, sample_weight: Any, labels: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """scikit-learn's ``_validate_multiclass_probabilistic_prediction``:
    ``(one_hot, y_prob (n, K), sample_weight)``."""
    if y_prob.max() > 1:
        raise ValueError(f"y_prob contains values greater than 1: {y_prob.max()}")
    if y_prob.min() < 0:
        raise ValueError(f"y_prob contains values lower than 0: {y_prob.min()}")
    y = to_array(y_true, "y_true")
    if _is_indicator_shape(y):  # multilabel-indicator: one binary problem per column
        if labels is not None:
            raise ValueError(
                "labels cannot be given with multilabel-indicator y_true (scikit-learn: The "
                "object was not fitted with multilabel input.)"
            )
        y = _indicator(y, "y_true")
        check_lengths(y_prob=y_prob, y_true=y)
        w = sample_weight_array(sample_weight, len(y))
        one_hot, classes = (y != 0).astype(np.int64), np.arange(y.shape[1])
    else:
        y = label_array(y, "y_true")
        check_lengths(y_prob=y_prob, y_true=y)
        w = sample_weight_array(sample_weight, len(y))
        one_hot, classes = _one_hot(y, labels)
    if y_prob.ndim == 1:
        y_prob = y_prob[:, None]
    if y_prob.shape[1] == 1:
        y_prob = np.concatenate([1 - y_prob, y_prob], axis=1)
    eps = np.finfo(y_prob.dtype).eps
    if not np.all(np.isclose(y_prob.sum(axis=1), 1, rtol=math.sqrt(eps), atol=1e-8)):
        warnings.warn(
            "The y_prob values do not sum to one. Make sure to pass probabilities.",
            UserWarning,
            stacklevel=4,
        )
    if len(classes) != y_prob.shape[1]:
        if labels is None:
            raise ValueError(
                f"y_true and y_prob contain different number of classes: {len(classes)} vs "
                f"{y_prob.shape[1]}. Please provide the true labels explicitly through the "
                f"labels argument. Classes found in y_true: {classes}"
            )
        raise ValueError(
            "The number of classes in labels is different from that in y_prob. Classes "
            f"found in labels: {classes}"
        )
    return one_hot, y_prob, w


def log_loss(
    y_true: Any,
    y_proba: Any = None,
    *,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
    y_pred: Any = "deprecated",
) -> float:
    """Cross-entropy of true labels under predicted probabilities (natural log).

    Args:
        y_true: class labels ``(n_samples,)``, or multilabel indicators
            ``(n_samples, n_labels)`` (each column a binary problem; no ``labels``).
        y_proba: ``(n_samples, n_classes)`` probabilities, columns in sorted class order
            (or ``(n_samples,)``: probability of the greater class). Clipped to
            ``[eps, 1 - eps]`` of their dtype.
        normalize: the mean (True) or the sum of the per-sample losses.
        sample_weight: ``(n_samples,)`` weights.
        labels: all the classes (when ``y_true`` lacks some).
        y_pred: the old name of ``y_proba`` (deprecated in scikit-learn 1.9).
    """
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError(
                "Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, use "
                "`y_proba` instead."
            )
        warnings.warn(
            "`y_pred` was renamed to `y_proba` in version 1.9 and will be removed in 1.11. "
            "Use `y_proba` instead.",
            FutureWarning,
            stacklevel=2,
        )
        y_proba = y_pred
    prob = _probabilities(y_proba)
    one_hot, prob, w = _multiclass_probabilities(y_true, prob, sample_weight, labels)
    eps = np.finfo(prob.dtype).eps
    prob = np.clip(prob, eps, 1 - eps)
    one_hot = one_hot.astype(prob.dtype)
    with np.errstate(divide="ignore"):
        terms = np.where(one_hot == 0, prob.dtype.type(0), one_hot * np.log(prob))
    loss = -np.sum(terms, axis=1)
    if normalize:
        return float(np.average(loss, weights=w))
    return float(np.sum(loss) if w is None else np.dot(loss, w))


def _binary_pos_label(y: np.ndarray, pos_label: Any) -> Any:
    """scikit-learn's positive class of ``brier_score_loss``: ``pos_label``, else 1 for
    {0, 1}/{-1, 1} labels, else the greatest numeric label (strings need ``pos_label``)."""
    if pos_label is not None:
        return pos_label
    classes = np.unique(y)
    if y.dtype.kind == "U":
        _check_default_pos_label(y, "y_true")
    allowed = ([0, 1], [-1, 1], [0], [-1], [1])
    if any(np.array_equal(classes, a) for a in allowed):
        return 1
    return classes[-1]


def brier_score_loss(
    y_true: Any,
    y_proba: Any,
    *,
    sample_weight: Any = None,
    pos_label: Any = None,
    labels: Any = None,
    scale_by_half: bool | str = "auto",
) -> float:
    """Mean squared difference of predicted probabilities and one-hot true labels.

    Args:
        y_true: class labels ``(n_samples,)``.
        y_proba: ``(n_samples,)`` probabilities of the positive class, or
            ``(n_samples, n_classes)`` probabilities (columns in sorted class order).
        sample_weight: ``(n_samples,)`` weights.
        pos_label: the positive class of binary ``y_proba`` (default: 1 for {0, 1} or
            {-1, 1} labels, else the greatest label).
        labels: all the classes of 2-D ``y_proba`` (when ``y_true`` lacks some).
        scale_by_half: halve the sum over classes (``'auto'``: for 1-D or two-column
            ``y_proba``, so that the binary score lies in [0, 1]).
    """
    if not (scale_by_half == "auto" or isinstance(scale_by_half, (bool, np.bool_))):
        raise ValueError(f"scale_by_half must be 'auto', True or False, got {scale_by_half!r}")
    prob = _probabilities(y_proba)
    if prob.ndim == 1 or prob.shape[1] == 1:
        one_hot, prob, w = _binary_probabilities(y_true, prob, sample_weight, pos_label)
    else:
        one_hot, prob, w = _multiclass_probabilities(y_true, prob, sample_weight, labels)
    one_hot = one_hot.astype(prob.dtype)
    score = np.average(np.sum((one_hot - prob) ** 2, axis=1), weights=w)
    if scale_by_half == "auto":
        scale_by_half = prob.ndim == 1 or prob.shape[1] < 3
    if scale_by_half:
        score *= 0.5
    return float(score)


def _binary_probabilities(
    y_true: Any, y_prob: np.ndarray, sample_weight: Any, pos_label: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    y = label_array(y_true, "y_true")
    y_prob = y_prob.reshape(len(y_prob), -1)[:, 0] if y_prob.ndim == 2 else y_prob
    check_lengths(y_prob=y_prob, y_true=y)
    w = sample_weight_array(sample_weight, len(y))
    if len(np.unique(y)) > 2:
        raise ValueError(
            "The type of the target inferred from y_true is multiclass but should be binary "
            "according to the shape of y_prob."
        )
    if y_prob.max() > 1:
        raise ValueError(f"y_prob contains values greater than 1: {y_prob.max()}")
    if y_prob.min() < 0:
        raise ValueError(f"y_prob contains values less than 0: {y_prob.min()}")
    positive = y == _binary_pos_label(y, pos_label)
    y_pos = np.asarray(positive, dtype=np.int64)
    one_hot = np.stack((1 - y_pos, y_pos), axis=1)
    return one_hot, np.stack((1 - y_prob, y_prob), axis=1), w


# --------------------------------------------------------------------------------------
# det_curve
# --------------------------------------------------------------------------------------


def det_curve(
    y_true: Any,
    y_score: Any,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detection error tradeoff: false positive and false negative rates per threshold.

    Args:
        y_true: ``(n_samples,)`` binary labels ({0, 1} or {-1, 1} unless ``pos_label``).
        y_score: ``(n_samples,)`` scores, higher meaning more likely positive.
        pos_label: the positive class.
        sample_weight: ``(n_samples,)`` weights.
        drop_intermediate: drop thresholds where the true positive count does not change.

    Returns:
        ``(fpr, fnr, thresholds)``, each ``ndarray[n_thresholds]`` of float64, thresholds
        increasing (``inf`` last if kept), from the last threshold that has no false
        positives to the first that finds every positive.

    Raises:
        ValueError: empty input, or only one class in ``y_true``.
    """
    y = label_array(y_true, "y_true")
    if len(np.unique(y)) > 2:
        raise ValueError(
            f"y_true must hold two classes, got {len(np.unique(y))} (scikit-learn: multiclass "
            "format is not supported)"
        )
    problem = binary_input(y, y_score, pos_label=pos_label, sample_weight=sample_weight)
    thresholds, tps, fps = curve_counts(problem)
    tps = np.concatenate(([0.0], tps))
    fps = np.concatenate(([0.0], fps))
    thresholds = np.concatenate(([np.inf], thresholds.astype(np.float64)))
    if drop_intermediate and len(fps) > 2:
        keep = np.concatenate(([True], np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), [True]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    if len(np.unique(y)) != 2:
        raise ValueError(
            "y_true must hold two classes: Only one class is present in y_true. Detection "
            "error tradeoff curve is not defined in that case."
        )
    fns = tps[-1] - tps
    p_count, n_count = tps[-1], fps[-1]
    first = np.searchsorted(fps, fps[0], side="right")
    first_ind = first - 1 if first > 0 else None
    last_ind = np.searchsorted(tps, tps[-1]) + 1
    sl = slice(first_ind, last_ind)
    with np.errstate(divide="ignore", invalid="ignore"):
        return fps[sl][::-1] / n_count, fns[sl][::-1] / p_count, thresholds[sl][::-1]


# --------------------------------------------------------------------------------------
# label_ranking_average_precision_score
# --------------------------------------------------------------------------------------


@_jit
def _block_sum(values: np.ndarray, start: int, n: int) -> float:
    """numpy's summation of at most 128 values: 8 partial sums, then the rest in order."""
    if n < 8:
        total = 0.0
        for i in range(n):
            total += values[start + i]
        return total
    r = np.empty(8)
    for j in range(8):
        r[j] = values[start + j]
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            r[j] += values[start + i + j]
        i += 8
    total = (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        total += values[start + i]
        i += 1
    return total


@_jit
def _pairwise_sum(values: np.ndarray, start: int, n: int) -> float:
    """numpy's pairwise summation of ``values[start:start + n]`` (same rounding): blocks
    of at most 128 values, halves (rounded down to a multiple of 8) added recursively. The
    recursion runs on an explicit stack."""
    if n <= 128:
        return _block_sum(values, start, n)
    starts = np.empty(128, dtype=np.int64)
    sizes = np.empty(128, dtype=np.int64)
    expanded = np.zeros(128, dtype=np.bool_)
    sums = np.empty(128)
    top, n_sums = 0, 0
    starts[0], sizes[0] = start, n
    while top >= 0:
        s, size = starts[top], sizes[top]
        if size <= 128:
            sums[n_sums] = _block_sum(values, s, size)
            n_sums += 1
            top -= 1
        elif expanded[top]:
            sums[n_sums - 2] = sums[n_sums - 2] + sums[n_sums - 1]
            n_sums -= 1
            expanded[top] = False
            top -= 1
        else:
            expanded[top] = True
            half = size // 2
            half -= half % 8
            starts[top + 1], sizes[top + 1] = s + half, size - half  # right, evaluated second
            starts[top + 2], sizes[top + 2] = s, half
            expanded[top + 1] = False
            expanded[top + 2] = False
            top += 2
    return sums[0]


@_jit
def _lrap_sum(relevant: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """Sum over samples of ``weight * mean over relevant labels j of (relevant labels
    scored >= s_j) / (labels scored >= s_j)``; 1 for samples with none or all relevant."""
    n, k = relevant.shape
    ratios = np.empty(k)
    total = 0.0
    for i in range(n):
        m = 0
        for j in range(k):
            if relevant[i, j]:
                n_ge = 0
                n_rel_ge = 0
                for c in range(k):
                    if scores[i, c] >= scores[i, j]:
                        n_ge += 1
                        if relevant[i, c]:
                            n_rel_ge += 1
                ratios[m] = n_rel_ge / n_ge
                m += 1
        aux = 1.0 if m == 0 or m == k else _pairwise_sum(ratios, 0, m) / m
        total += aux * weights[i]
    return total


def _lrap_sum_reference(relevant: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """Slow twin of :func:`_lrap_sum` (scikit-learn's loop with numpy)."""
    total = 0.0
    n_labels = relevant.shape[1]
    for i in range(len(relevant)):
        cols = np.nonzero(relevant[i])[0]
        if cols.size in (0, n_labels):
            aux = 1.0
        else:
            rank = (scores[i][None, :] >= scores[i][cols][:, None]).sum(axis=1)
            own = (scores[i][cols][None, :] >= scores[i][cols][:, None]).sum(axis=1)
            aux = (own / rank).mean()
        total += aux * weights[i]
    return total


def label_ranking_average_precision_score(
    y_true: Any, y_score: Any, *, sample_weight: Any = None
) -> float:
    """Label ranking average precision of multilabel scores, in (0, 1].

    For each sample and each true label, the fraction of the labels scored at least as
    high that are true; averaged per sample, then over samples (weighted).

    Args:
        y_true: ``(n_samples, n_labels)`` 0/1 indicators.
        y_score: ``(n_samples, n_labels)`` scores.
        sample_weight: ``(n_samples,)`` weights.
    """
    t = to_array(y_true, "y_true")
    scores = score_array(y_score, "y_score", ndim=(1, 2))
    if t.ndim != 2:
        raise ValueError(
            f"y_true must be a 2-D multilabel indicator matrix, got an array of shape "
            f"{t.shape} (scikit-learn: {'binary' if t.ndim == 1 else 'this'} format is not "
            "supported)"
        )
    require_samples(t, "y_true")
    check_lengths(y_true=t, y_score=scores)
    if t.shape != scores.shape:
        raise ValueError(f"y_true and y_score have different shape: {t.shape} and {scores.shape}")
    relevant = _indicator(t, "y_true") != 0
    w = sample_weight_array(sample_weight, len(t))
    weights = np.ones(len(t)) if w is None else w.astype(np.float64)
    total = _lrap_sum(
        np.ascontiguousarray(relevant), np.ascontiguousarray(scores, dtype=np.float64), weights
    )
    return float(total / (len(t) if w is None else np.sum(w)))
