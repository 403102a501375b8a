"""Error messages hold scikit-learn's words (its users and tests match on them) and still
name the argument; object-dtype numeric sample weights are accepted as scikit-learn does."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sklearn.metrics as skm

import tinyvision.metrics as tvm
from _metrics_compare import assert_same

Y3 = np.array([0, 1, 2, 2, 1, 0])
P3 = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7]] * 2)
YS = np.array(["a", "b", "c", "c", "b", "a"])

CASES = [
    # (function, args, kwargs, scikit-learn's words, our argument name)
    (tvm.accuracy_score, ([0, 1, 1], [0, 1]), {}, "inconsistent numbers of samples", "y_true"),
    (
        tvm.f1_score,
        ([0, 1], [0, 1]),
        {"sample_weight": [1.0]},
        "inconsistent numbers of",
        "sample_weight",
    ),
    (
        tvm.log_loss,
        ([0, 1, 1], [[0.5, 0.5]] * 2),
        {},
        r"inconsistent numbers of samples: \[2, 3\]",
        "y_prob",
    ),
    (tvm.det_curve, ([0, 1], [0.1, 0.2, 0.3]), {}, "inconsistent numbers of samples", "y_score"),
    (
        tvm.multilabel_confusion_matrix,
        ([0, 1, 1], [0, 1, 0]),
        {"sample_weight": [1, 2]},
        "inconsistent numbers of samples",
        "sample_weight",
    ),
    (
        tvm.precision_score,
        ([0, 1], [0, 1]),
        {"sample_weight": [[1.0], [1.0]]},
        "Sample weights must be 1D",
        "sample_weight",
    ),
    (
        tvm.confusion_matrix,
        ([0, 1], [0, 1]),
        {"labels": []},
        "'labels' should contain at least one label.",
        "labels",
    ),
    (
        tvm.confusion_matrix,
        ([0, 1], [0, 1]),
        {"labels": [3, 4]},
        "At least one label specified must be in y_true",
        "labels",
    ),
    (
        tvm.confusion_matrix,
        (np.eye(3, dtype=int), np.eye(3, dtype=int)),
        {},
        "multilabel-indicator is not supported",
        "y_true",
    ),
    (
        tvm.roc_auc_score,
        (Y3, P3),
        {"multi_class": "ovr", "labels": [0, 2, 0]},
        "Parameter 'labels' must be unique",
        "labels",
    ),
    (
        tvm.roc_auc_score,
        (YS, P3),
        {"multi_class": "ovo", "labels": ["a", "c", "b"]},
        "Parameter 'labels' must be ordered",
        "labels",
    ),
    (
        tvm.roc_auc_score,
        (Y3, P3),
        {"multi_class": "ovr", "labels": [0, 1, 3]},
        "'y_true' contains labels not in parameter 'labels'",
        "y_true",
    ),
    (
        tvm.roc_auc_score,
        (Y3, P3),
        {"multi_class": "ovr", "labels": [0, 1]},
        "Number of given labels, 2, not equal to the number of columns in 'y_score', 3",
        "labels",
    ),
    (
        tvm.roc_auc_score,
        (Y3 % 2, P3),
        {"multi_class": "ovr"},
        "Number of classes in y_true not equal to the number of columns in 'y_score'",
        "y_true",
    ),
    (tvm.roc_auc_score, (Y3, P3), {}, r"multi_class must be in \('ovo', 'ovr'\)", "multi_class"),
    (
        tvm.roc_auc_score,
        (Y3, P3),
        {"multi_class": "ovr", "max_fpr": 0.5},
        "Partial AUC computation not available in multiclass setting",
        "max_fpr",
    ),
    (
        tvm.roc_auc_score,
        (Y3, P3),
        {"multi_class": "ovo", "sample_weight": []},
        "sample_weight is not supported for multiclass one-vs-one ROC AUC",
        "sample_weight",
    ),
    (
        tvm.average_precision_score,
        ([0, 1, 1], [0.1, 0.2, 0.3]),
        {"pos_label": 2},
        r"pos_label=2 is not a valid label. It should be one of \[0 1\]",
        "pos_label",
    ),
    (
        tvm.average_precision_score,
        (Y3, P3),
        {"pos_label": 3},
        "Parameter pos_label is fixed to 1 for multiclass y_true",
        "pos_label",
    ),
    (
        tvm.average_precision_score,
        (np.eye(3, dtype=int), np.eye(3)),
        {"pos_label": 0},
        "Parameter pos_label is fixed to 1 for multilabel-indicator y_true",
        "pos_label",
    ),
    (
        tvm.average_precision_score,
        (np.array([[2, 2, 1], [1, 2, 0], [0, 1, 2]]), np.eye(3)),
        {},
        "multiclass-multioutput format is not supported",
        "y_true",
    ),
    (tvm.roc_curve, (Y3, P3[:, 0]), {}, "multiclass format is not supported", "y_true"),
    (
        tvm.precision_recall_curve,
        (np.array([b"a", b"b"]), [0.1, 0.2]),
        {},
        "Support for labels represented as bytes is not supported",
        "y_true",
    ),
    (
        tvm.auc,
        ([2, 1, 3, 4], [5, 6, 7, 8]),
        {},
        r"x is neither increasing nor decreasing : \[2 1 3 4\]",
        "x",
    ),
    (
        tvm.f1_score,
        ([0, 1, 2], [0, 1, 2]),
        {},
        "Target is multiclass but average='binary'",
        "average",
    ),
    (
        tvm.f1_score,
        ([0, 1, 1], [0, 1, 0]),
        {"average": "samples"},
        "Samplewise metrics are not available outside of multilabel classification",
        "samples",
    ),
    (
        tvm.precision_recall_curve,
        (np.eye(3, dtype=int), [0.1, 0.2, 0.3]),
        {},
        "multilabel-indicator format is not supported",
        "y_true",
    ),
    (
        tvm.accuracy_score,
        (["a", "b"], [0, 1]),
        {},
        r"Mix of label input types \(string and",
        "y_true",
    ),
    (
        tvm.roc_auc_score,
        (Y3, P3[:, 0]),
        {"multi_class": "ovr"},
        re.escape("`y_score` needs to be of shape `(n_samples, n_classes)`"),
        "y_score",
    ),
    (
        tvm.average_precision_score,
        (Y3, P3[:, 0]),
        {},
        re.escape("`y_score` needs to be of shape `(n_samples, n_classes)`"),
        "y_score",
    ),
    (
        tvm.roc_auc_score,
        (Y3, P3 * 2),
        {"multi_class": "ovr"},
        "Target scores need to be probabilities for multiclass roc_auc",
        "y_score",
    ),
]


@pytest.mark.parametrize(
    ("function", "args", "kwargs", "words", "argument"),
    CASES,
    ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)],
)
def test_message_has_sklearn_words_and_names_the_argument(
    function, args, kwargs, words, argument
) -> None:
    # bytes labels are a TypeError, the rest ValueErrors
    with pytest.raises((ValueError, TypeError), match=words) as info:
        function(*args, **kwargs)
    assert argument in str(info.value)
    # scikit-learn raises the same class with these words on the same input
    with pytest.raises(type(info.value), match=words):
        getattr(skm, function.__name__)(*args, **kwargs)


@pytest.mark.parametrize("dtype", [object, np.float32, np.int32, np.uint8, bool])
@pytest.mark.parametrize(
    "name", ["confusion_matrix", "f1_score", "accuracy_score", "multilabel_confusion_matrix"]
)
def test_numeric_sample_weight_of_any_dtype_like_sklearn(name, dtype) -> None:
    y_true, y_pred = [0, 1, 1, 0, 1], [0, 1, 0, 0, 1]
    weights = np.array([1, 2, 1, 3, 1]).astype(dtype)
    if dtype is object and name in ("f1_score", "multilabel_confusion_matrix"):
        # scikit-learn cannot cast the objects there; tinyvision sums them in float64
        assert getattr(tvm, name)(y_true, y_pred, sample_weight=weights) is not None
        return
    assert_same(getattr(tvm, name), getattr(skm, name), y_true, y_pred, sample_weight=weights)


def test_confusion_matrix_object_weights_sum_in_float64() -> None:
    cm = tvm.confusion_matrix([0, 1, 1], [0, 1, 1], sample_weight=np.ones(3).astype(object))
    assert cm.dtype == np.float64
    assert cm.tolist() == [[1.0, 0.0], [0.0, 2.0]]


def test_object_weights_that_are_not_numbers_are_refused() -> None:
    with pytest.raises(TypeError, match=re.escape("sample_weight must be numeric")):
        tvm.confusion_matrix([0, 1], [0, 1], sample_weight=np.array(["a", 1], dtype=object))


WARNING_CASES = [
    # (name, args, kwargs): scikit-learn emits an UndefinedMetricWarning (or UserWarning)
    ("roc_auc_score", ([1, 1, 1], [0.1, 0.5, 0.9]), {}),
    ("roc_curve", ([1, 1, 1], [0.1, 0.5, 0.9]), {}),
    ("roc_curve", ([0, 0, 0], [0.1, 0.5, 0.9]), {}),
    ("precision_recall_curve", ([0, 0, 0], [0.1, 0.5, 0.9]), {}),
    ("top_k_accuracy_score", ([0, 1, 2], P3[:3]), {"k": 3}),
    ("precision_score", ([0, 0, 1], [0, 0, 0]), {}),
    ("recall_score", ([0, 0, 0], [0, 0, 1]), {}),
    ("f1_score", ([0, 0, 0], [0, 0, 0]), {}),
    ("precision_recall_fscore_support", ([0, 1, 2], [0, 0, 0]), {"average": None}),
    ("fbeta_score", ([0, 1, 2], [0, 1, 1]), {"beta": 2.0, "labels": [0, 3], "average": "macro"}),
    (
        "f1_score",
        (np.array([[0, 0, 0], [0, 1, 0]]), np.array([[0, 0, 0], [0, 1, 1]])),
        {"average": "samples"},
    ),
    ("precision_score", (np.eye(3, dtype=int), np.zeros((3, 3), dtype=int)), {"average": None}),
    ("recall_score", (np.zeros((3, 3), dtype=int), np.eye(3, dtype=int)), {"average": "samples"}),
    (
        "jaccard_score",
        (np.zeros((3, 3), dtype=int), np.zeros((3, 3), dtype=int)),
        {"average": "samples"},
    ),
    ("cohen_kappa_score", ([0, 0], [0, 0]), {}),
    ("balanced_accuracy_score", ([0, 0, 1], [0, 2, 1]), {}),
    ("f1_score", ([0, 1, 1], [0, 1, 0]), {"average": "macro", "pos_label": 0}),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    WARNING_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(WARNING_CASES)],
)
def test_warnings_like_sklearn(name, args, kwargs) -> None:
    """Same warning category name and message as scikit-learn's, and the same value."""
    outcome = assert_same(getattr(tvm, name), getattr(skm, name), *args, **kwargs)
    assert outcome.warnings, "scikit-learn warns in every case here"
