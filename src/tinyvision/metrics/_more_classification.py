"""The rest of scikit-learn's metrics of predicted labels: same names, arguments, results.

``multilabel_confusion_matrix``, ``jaccard_score``, ``hamming_loss``, ``zero_one_loss``,
``cohen_kappa_score`` and ``classification_report`` count predicted labels (binary,
multiclass and, except ``cohen_kappa_score``, multilabel-indicator targets). Results equal
``sklearn.metrics`` 1.9.1 bit for bit (tested live in ``tests/test_metrics_more.py``); the
metrics of scores are in :mod:`tinyvision.metrics._more_scores`.

Empty input follows the rest of :mod:`tinyvision.metrics`: valid, zero counts; NaN with an
:class:`UndefinedMetricWarning` for a ratio of no samples.
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
from tinyvision.metrics._labels import (
    check_average,
    check_lengths,
    labels_param,
    sample_weight_array,
    to_array,
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
    "classification_report",
    "cohen_kappa_score",
    "hamming_loss",
    "jaccard_score",
    "multilabel_confusion_matrix",
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
