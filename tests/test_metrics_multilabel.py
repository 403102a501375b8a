"""Multilabel-indicator targets for accuracy and precision/recall/F, live against scikit-learn.

Every case runs the tinyvision function and its scikit-learn 1.9.1 twin on the same input and
compares value (bit for bit, dtype included), warnings (category and message) and exception
type (``_metrics_compare.assert_same``): every ``average`` (``'samples'`` included), every
``zero_division``, ``labels`` subsets and orders, integer and float sample weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyvision.metrics as tvm
from _metrics_compare import assert_same


def _indicators(n: int, k: int, seed: int, p: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.random((n, k)) < p).astype(int), (rng.random((n, k)) < p).astype(int)


def _with_gaps() -> tuple[np.ndarray, np.ndarray]:
    """A label never true, one never predicted, a sample with no labels at all."""
    t, p = _indicators(12, 5, 3)
    t[:, 1] = 0
    p[:, 3] = 0
    t[0] = 0
    p[0] = 0
    t[1] = 0
    p[2] = 0
    return t, p


CASES = {
    "random": _indicators(30, 4, 0),
    "sparse": _indicators(25, 6, 1, p=0.15),
    "gaps": _with_gaps(),
    "all_zero": (np.zeros((4, 3), dtype=int), np.zeros((4, 3), dtype=int)),
    "one_sample": (np.array([[0, 1, 1, 0]]), np.array([[1, 1, 0, 0]])),
    "bool": tuple(a.astype(bool) for a in _indicators(10, 3, 2)),
    "float": tuple(a.astype(float) for a in _indicators(10, 3, 4)),
}
WEIGHTS = {
    "none": lambda n: None,
    "int": lambda n: np.arange(n) % 3 + 1,
    "float": lambda n: np.linspace(0.1, 2.0, n),
    "zeros_some": lambda n: (np.arange(n) % 2).astype(float) + (np.arange(n) == 0),
}
AVERAGES = [None, "micro", "macro", "weighted", "samples", "binary"]
ZERO_DIVISION = ["warn", 0.0, 1.0, np.nan]
PRF = ["precision_recall_fscore_support", "precision_score", "recall_score", "f1_score"]


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("zero_division", ZERO_DIVISION, ids=str)
@pytest.mark.parametrize("average", AVERAGES, ids=str)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", PRF)
def test_prf_multilabel_like_sklearn(name, case, average, zero_division, weights) -> None:
    y_true, y_pred = CASES[case]
    w = WEIGHTS[weights](len(y_true))
    kwargs = {"average": average, "zero_division": zero_division, "sample_weight": w}
    assert_same(getattr(tvm, name), getattr(skm, name), y_true, y_pred, **kwargs)


@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0, np.inf], ids=str)
@pytest.mark.parametrize("average", AVERAGES, ids=str)
@pytest.mark.parametrize("case", ["random", "gaps", "all_zero"])
def test_fbeta_multilabel_like_sklearn(case, average, beta) -> None:
    y_true, y_pred = CASES[case]
    assert_same(tvm.fbeta_score, skm.fbeta_score, y_true, y_pred, beta=beta, average=average)
    assert_same(
        tvm.precision_recall_fscore_support,
        skm.precision_recall_fscore_support,
        y_true,
        y_pred,
        beta=beta,
        average=average,
        warn_for=("f-score",),
    )


LABELS = [[0, 2], [3, 1], [2], [0, 1, 2, 3], [1, 1], [0, 4], [-1, 0], [], np.array([2.0, 0.0])]


@pytest.mark.parametrize("average", AVERAGES, ids=str)
@pytest.mark.parametrize("labels", LABELS, ids=str)
@pytest.mark.parametrize("case", ["random", "gaps"])
def test_prf_multilabel_labels_like_sklearn(case, labels, average) -> None:
    y_true, y_pred = CASES[case]
    for name in ("precision_recall_fscore_support", "f1_score"):
        assert_same(
            getattr(tvm, name), getattr(skm, name), y_true, y_pred, labels=labels, average=average
        )


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("case", CASES)
def test_subset_accuracy_like_sklearn(case, weights, normalize) -> None:
    y_true, y_pred = CASES[case]
    w = WEIGHTS[weights](len(y_true))
    for name in ("accuracy_score", "zero_one_loss"):
        assert_same(
            getattr(tvm, name),
            getattr(skm, name),
            y_true,
            y_pred,
            normalize=normalize,
            sample_weight=w,
        )


def test_subset_accuracy_counts_a_sample_only_when_every_label_is_right() -> None:
    y_true = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 1]])
    y_pred = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 1]])
    assert tvm.accuracy_score(y_true, y_pred) == 2 / 3
    assert tvm.accuracy_score(y_true, y_pred, normalize=False) == 2.0


def test_samples_average_averages_the_score_of_every_sample() -> None:
    y_true = np.array([[1, 1, 0], [0, 0, 1]])
    y_pred = np.array([[1, 0, 0], [0, 1, 1]])
    # sample 0: P 1/1, R 1/2; sample 1: P 1/2, R 1/1
    p, r, f, s = tvm.precision_recall_fscore_support(y_true, y_pred, average="samples")
    assert (p, r, s) == (0.75, 0.75, None)
    assert f == pytest.approx(2 / 3)
    p_w = tvm.precision_score(y_true, y_pred, average="samples", sample_weight=[3, 1])
    assert p_w == (3 * 1.0 + 1 * 0.5) / 4


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        (np.eye(3, dtype=int), [0, 1, 2]),  # a mix of indicators and labels
        (np.eye(3, dtype=int), np.eye(3, 4, dtype=int)),  # different numbers of labels
        (np.eye(3, dtype=int) * 2 + 1, np.eye(3, dtype=int)),  # multiclass-multioutput
    ],
)
@pytest.mark.parametrize("name", ["accuracy_score", "f1_score", "precision_recall_fscore_support"])
def test_bad_multilabel_input_raises_like_sklearn(name, y_true, y_pred) -> None:
    kwargs = {} if name == "accuracy_score" else {"average": "macro"}
    y_true = np.asarray(y_true).copy()
    if y_true.ndim == 2 and y_true.max() == 3:
        y_true[0, 0] = 5  # three distinct values
    assert_same(getattr(tvm, name), getattr(skm, name), y_true, y_pred, **kwargs)
    with pytest.raises(ValueError, match="y_true"):
        getattr(tvm, name)(y_true, y_pred, **kwargs)


def test_samples_average_of_1d_targets_raises_with_sklearn_words() -> None:
    with pytest.raises(ValueError, match="Samplewise metrics are not available outside of"):
        tvm.f1_score([0, 1, 1], [0, 1, 0], average="samples")


def test_empty_multilabel_input_follows_the_empty_input_rule() -> None:
    """No samples: subset accuracy and the samples average are NaN with a warning that
    points at the caller; per-label P/R/F are 0/0 (``zero_division``)."""
    empty = np.zeros((0, 3), dtype=int)
    with pytest.warns(tvm.UndefinedMetricWarning, match="no samples") as record:
        assert np.isnan(tvm.accuracy_score(empty, empty))
    assert record[0].filename == __file__
    with pytest.warns(tvm.UndefinedMetricWarning, match="F-score is ill-defined .* no samples"):
        assert np.isnan(tvm.f1_score(empty, empty, average="samples"))
    p, r, f, s = tvm.precision_recall_fscore_support(empty, empty, zero_division=1.0)
    assert p.tolist() == r.tolist() == f.tolist() == [1.0, 1.0, 1.0]
    assert s.tolist() == [0, 0, 0]


@settings(max_examples=40, deadline=None)
@given(
    st.tuples(st.integers(1, 12), st.integers(2, 5)).flatmap(
        lambda nk: st.tuples(
            st.lists(st.integers(0, 1), min_size=nk[0] * nk[1], max_size=nk[0] * nk[1]),
            st.lists(st.integers(0, 1), min_size=nk[0] * nk[1], max_size=nk[0] * nk[1]),
            st.lists(st.floats(0.0, 3.0, width=32), min_size=nk[0], max_size=nk[0]),
            st.just(nk),
        )
    )
)
def test_multilabel_property(data) -> None:
    t, p, w, (n, k) = data
    y_true = np.asarray(t).reshape(n, k)
    y_pred = np.asarray(p).reshape(n, k)
    weights = np.asarray(w) if any(w) else None
    for average in AVERAGES:
        assert_same(
            tvm.precision_recall_fscore_support,
            skm.precision_recall_fscore_support,
            y_true,
            y_pred,
            average=average,
            sample_weight=weights,
        )
    assert_same(tvm.accuracy_score, skm.accuracy_score, y_true, y_pred, sample_weight=weights)


def test_tensors_give_what_arrays_give() -> None:
    y_true, y_pred = CASES["gaps"]
    for average in ("samples", "macro", None):
        expected = tvm.precision_recall_fscore_support(
            y_true, y_pred, average=average, zero_division=0.0
        )
        got = tvm.precision_recall_fscore_support(
            torch.from_numpy(y_true), torch.from_numpy(y_pred), average=average, zero_division=0.0
        )
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
    assert tvm.accuracy_score(torch.from_numpy(y_true), torch.from_numpy(y_pred)) == (
        tvm.accuracy_score(y_true, y_pred)
    )


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize(
    "name",
    [
        "accuracy_score",
        "f1_score",
        "hamming_loss",
        "jaccard_score",
        "multilabel_confusion_matrix",
        "label_ranking_average_precision_score",
    ],
)
def test_scipy_sparse_indicator_matrices_as_dense(name: str, fmt: str) -> None:
    # scikit-learn takes sparse multilabel targets; tinyvision makes them dense (same results)
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, size=(40, 5))
    y_pred = rng.integers(0, 2, size=(40, 5))
    if name == "label_ranking_average_precision_score":
        y_pred = rng.random((40, 5))  # scores: only y_true may be sparse there
        args = (sp.csr_matrix(y_true).asformat(fmt), y_pred)
    else:
        args = (sp.csr_matrix(y_true).asformat(fmt), sp.csr_matrix(y_pred).asformat(fmt))
    kwargs = {"average": "samples"} if name in ("f1_score", "jaccard_score") else {}
    outcome = assert_same(getattr(tvm, name), getattr(skm, name), *args, **kwargs)
    assert outcome.error is None
    np.testing.assert_array_equal(outcome.value, getattr(tvm, name)(y_true, y_pred, **kwargs))
