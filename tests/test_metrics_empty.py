"""Empty input (no samples) against scikit-learn 1.9.1, live, for every sklearn-named metric.

The rule (docs/metrics.md, "Deliberate differences"):

- metrics of scores (curves, ROC AUC, average precision, ``auc``) raise ``ValueError``
  as scikit-learn does; where scikit-learn raises an ``IndexError`` instead, we raise a
  ``ValueError`` too (naming ``y_true``);
- metrics of labels are valid on empty input, where scikit-learn raises: zero counts; NaN
  with an ``UndefinedMetricWarning`` for accuracy, balanced accuracy, MCC and a
  macro/weighted average over no labels; ``zero_division`` for per-label 0/0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import sklearn.metrics as skm

import tinyvision.metrics as tvm
from _metrics_compare import assert_bitwise, run

EMPTY = {
    "list": ([], []),
    "float-array": (np.array([]), np.array([])),
    "int-array": (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)),
}

# (function, kwargs, y_true and y_score/y_pred override or None) -------------------------

SCORE_CASES: list[tuple[str, dict[str, Any], tuple[Any, Any] | None]] = [
    *[
        (name, kwargs, None)
        for name in ("roc_curve", "precision_recall_curve")
        for kwargs in ({}, {"sample_weight": []}, {"pos_label": 1}, {"drop_intermediate": True})
    ],
    *[
        ("roc_auc_score", kwargs, None)
        for kwargs in (
            {},
            {"sample_weight": []},
            {"max_fpr": 0.5},
            *({"average": a} for a in (None, "micro", "macro", "weighted", "samples")),
        )
    ],
    ("roc_auc_score", {}, (np.zeros((0, 3)), np.zeros((0, 3)))),  # multilabel
    ("roc_auc_score", {"multi_class": "ovr"}, ([], np.zeros((0, 3)))),
    ("roc_auc_score", {"multi_class": "ovr", "labels": [0, 1, 2]}, ([], np.zeros((0, 3)))),
    ("roc_auc_score", {"multi_class": "ovo", "labels": [0, 1, 2]}, ([], np.zeros((0, 3)))),
    *[
        ("average_precision_score", kwargs, None)
        for kwargs in (
            {},
            {"sample_weight": []},
            {"pos_label": 0},
            *({"average": a} for a in (None, "micro", "macro", "weighted", "samples")),
        )
    ],
    ("average_precision_score", {}, (np.zeros((0, 3)), np.zeros((0, 3)))),  # multilabel
    ("auc", {}, None),
]

# scikit-learn raises IndexError here (an unguarded ``tps[-1]``); we raise ValueError
SKLEARN_INDEX_ERROR = {
    ("roc_curve", "pos_label"),
    ("precision_recall_curve", "pos_label"),
    ("average_precision_score", ""),
    ("average_precision_score", "pos_label"),
    ("average_precision_score", "average"),
}

PRF = ("precision_recall_fscore_support", "precision_score", "recall_score", "f1_score")
LABEL_CASES: list[tuple[str, dict[str, Any]]] = [
    ("confusion_matrix", {}),
    ("confusion_matrix", {"labels": [0, 1]}),
    ("confusion_matrix", {"labels": [0, 1], "normalize": "true"}),
    ("confusion_matrix", {"sample_weight": []}),
    ("accuracy_score", {}),
    ("accuracy_score", {"normalize": False}),
    ("accuracy_score", {"sample_weight": []}),
    ("accuracy_score", {"sample_weight": [], "normalize": False}),
    ("balanced_accuracy_score", {}),
    ("balanced_accuracy_score", {"adjusted": True}),
    ("balanced_accuracy_score", {"sample_weight": []}),
    ("matthews_corrcoef", {}),
    ("matthews_corrcoef", {"sample_weight": []}),
    *[
        (name, {"average": average, **labels, **zero_division})
        for name in PRF
        for average in (None, "binary", "micro", "macro", "weighted")
        for labels in ({}, {"labels": [0, 1]})
        for zero_division in ({}, {"zero_division": 0}, {"zero_division": np.nan})
    ],
    *[(name, {"sample_weight": []}) for name in PRF],
    ("fbeta_score", {"beta": 2.0}),
    ("fbeta_score", {"beta": 2.0, "average": "macro"}),
    ("fbeta_score", {"beta": 2.0, "average": None, "labels": [0, 1]}),
]


def _case_id(name: str, kwargs: dict[str, Any], override: Any = None) -> str:
    shown = ",".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{name}({shown}){'-2d' if override is not None else ''}"


def _kind(name: str, kwargs: dict[str, Any]) -> str:
    """Which keyword makes scikit-learn raise IndexError (see SKLEARN_INDEX_ERROR)."""
    if "pos_label" in kwargs:
        return "pos_label"
    if "average" in kwargs:
        return "average"
    return "" if not kwargs else "other"


@pytest.mark.parametrize("empty", sorted(EMPTY))
@pytest.mark.parametrize(
    ("name", "kwargs", "override"),
    [pytest.param(*case, id=_case_id(*case)) for case in SCORE_CASES],
)
def test_metrics_of_scores_raise_on_empty_input_as_sklearn(
    name: str, kwargs: dict[str, Any], override: Any, empty: str
) -> None:
    y_true, y_score = EMPTY[empty] if override is None else override
    theirs = run(getattr(skm, name), y_true, y_score, **kwargs)
    ours = run(getattr(tvm, name), y_true, y_score, **kwargs)
    assert theirs.error is not None, f"scikit-learn now returns {theirs.value!r}"
    assert isinstance(ours.error, ValueError), f"we returned {ours.value!r} ({ours.error!r})"
    first = "x" if name == "auc" else "y_true"
    assert str(ours.error).startswith(first), ours.error  # the message names the argument
    if isinstance(theirs.error, IndexError):  # documented: ValueError where sklearn crashes
        assert override is None and (name, _kind(name, kwargs)) in SKLEARN_INDEX_ERROR
    else:
        assert isinstance(theirs.error, ValueError), repr(theirs.error)


def _documented_label_result(name: str, kwargs: dict[str, Any]) -> tuple[Any, set[str]]:
    """What docs/metrics.md promises for empty input: (value, warning categories)."""
    undefined = {"UndefinedMetricWarning"}
    labels = kwargs.get("labels")
    if name == "confusion_matrix":
        k = 0 if labels is None else len(labels)
        dtype = np.float64 if "sample_weight" in kwargs or "normalize" in kwargs else np.int64
        return np.zeros((k, k), dtype=dtype), set()
    if name == "accuracy_score" and kwargs.get("normalize") is False:
        return 0.0, set()
    if name in ("accuracy_score", "balanced_accuracy_score", "matthews_corrcoef"):
        return math.nan, undefined
    average = kwargs.get("average", None if name == PRF[0] else "binary")
    zero_division = kwargs.get("zero_division", "warn")
    warns = undefined if zero_division == "warn" else set()
    per_label = 0.0 if zero_division == "warn" else float(zero_division)
    if average is None:
        n = 0 if labels is None else len(labels)
        value: Any = np.full(n, per_label)
        warns = warns if n else set()
        if name == PRF[0]:
            return (value, value, value, np.zeros(n, dtype=np.int64)), warns
        return value, warns
    if average in ("macro", "weighted") and labels is None:
        value, warns = math.nan, undefined  # an average over no labels: NaN, always warned
    else:
        value = per_label
    return ((value, value, value, None) if name == PRF[0] else value), warns


@pytest.mark.parametrize("empty", sorted(EMPTY))
@pytest.mark.parametrize(
    ("name", "kwargs"), [pytest.param(*case, id=_case_id(*case)) for case in LABEL_CASES]
)
def test_metrics_of_labels_on_empty_input_follow_the_docs(
    name: str, kwargs: dict[str, Any], empty: str
) -> None:
    y_true, y_pred = EMPTY[empty]
    theirs = run(getattr(skm, name), y_true, y_pred, **kwargs)
    ours = run(getattr(tvm, name), y_true, y_pred, **kwargs)
    # a deliberate difference: scikit-learn refuses empty input
    assert isinstance(theirs.error, ValueError), f"scikit-learn now returns {theirs.value!r}"
    assert ours.error is None, f"we raised {ours.error!r}"
    value, categories = _documented_label_result(name, kwargs)
    # support is float64 here (scikit-learn turns all-zero tp into floats), so values only
    check_dtype = name != "precision_recall_fscore_support"
    assert_bitwise(ours.value, value, check_dtype=check_dtype)
    assert {category for category, _ in ours.warnings} == categories, ours.warnings
    if categories:
        assert all("ill-defined" in message for _, message in ours.warnings), ours.warnings


def test_no_samples_warnings_name_the_metric() -> None:
    with pytest.warns(tvm.UndefinedMetricWarning, match="^Matthews correlation coefficient is"):
        tvm.matthews_corrcoef([], [])
    with pytest.warns(tvm.UndefinedMetricWarning, match="^F-score is ill-defined.*no samples"):
        assert math.isnan(tvm.f1_score([], [], average="macro"))
    with pytest.warns(tvm.UndefinedMetricWarning) as caught:
        tvm.precision_recall_fscore_support([], [], average="weighted", warn_for=("recall",))
    assert [str(w.message).split()[0] for w in caught] == ["Recall"]


def test_macro_over_no_labels_with_samples_stays_silent_as_sklearn() -> None:
    # the NaN of an average over no labels only warns for empty input, as documented
    ours = run(tvm.precision_recall_fscore_support, [0, 1], [0, 1], labels=[], average="macro")
    theirs = run(skm.precision_recall_fscore_support, [0, 1], [0, 1], labels=[], average="macro")
    assert_bitwise(ours.value, theirs.value)
    assert ours.warnings == theirs.warnings == []


# --------------------------------------------------------------------------------------
# The extras and the accumulators on no data: as the functions
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: tvm.roc_auc_ci([], []),
        lambda: tvm.delong_test([], [], []),
        lambda: tvm.best_threshold([], []),
        lambda: tvm.BinaryCurveAccumulator().compute(),
        lambda: tvm.BinaryCurveAccumulator().roc_auc_ci(),
        lambda: tvm.BinaryCurveAccumulator().best_threshold(),
    ],
    ids=["roc_auc_ci", "delong_test", "best_threshold", "acc-compute", "acc-ci", "acc-best"],
)
def test_score_extras_and_curve_accumulator_raise_on_no_samples(call: Any) -> None:
    with pytest.raises(ValueError, match="y_true must hold at least one sample"):
        call()


def test_curve_accumulator_takes_empty_batches() -> None:
    acc = tvm.BinaryCurveAccumulator()
    acc.update([], [])
    with pytest.raises(ValueError, match="call update\\(\\) with data first"):
        acc.compute()
    assert acc.binary_metrics_at(0.5) == tvm.binary_metrics_at([], [], 0.5)
    assert acc.binary_metrics_at(0.5).tp == 0
    acc.update([0, 1], [0.2, 0.8])
    assert acc.compute().roc_auc == 1.0


def test_confusion_accumulator_with_no_data_matches_the_functions() -> None:
    acc = tvm.ConfusionMatrixAccumulator(labels=[0, 1])
    assert_bitwise(acc.compute(), tvm.confusion_matrix([], [], labels=[0, 1]))
    pairs = [
        (acc.accuracy, lambda: tvm.accuracy_score([], [])),
        (acc.balanced_accuracy, lambda: tvm.balanced_accuracy_score([], [])),
        (acc.matthews_corrcoef, lambda: tvm.matthews_corrcoef([], [])),
        (
            lambda: acc.precision_recall_fscore_support(average="macro"),
            lambda: tvm.precision_recall_fscore_support([], [], labels=[0, 1], average="macro"),
        ),
    ]
    for method, function in pairs:
        ours, reference = run(method), run(function)
        assert ours.error is None and reference.error is None
        assert_bitwise(ours.value, reference.value)
        assert ours.warnings == reference.warnings
        assert ours.warnings, "no samples must warn"
