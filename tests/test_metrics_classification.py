"""Label metrics against scikit-learn 1.9.1, live: values bitwise, warnings, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyvision.metrics as tvm
from _metrics_compare import assert_bitwise, assert_same, run
from tinyvision.metrics import _labels

RNG = np.random.default_rng(20240603)
NAMES = np.array(["ant", "bird", "cat", "dog", "eel"])


def _pair(n: int, k: int, *, accuracy: float = 0.6, p: np.ndarray | None = None, seed: int = 0):
    rng = np.random.default_rng(seed)
    y_true = rng.choice(k, size=n, p=p)
    noise = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < accuracy, y_true, noise)
    return y_true, y_pred


CASES = {
    "binary": _pair(300, 2, seed=1),
    "multiclass": _pair(500, 5, seed=2),
    "imbalanced": _pair(1000, 3, p=np.array([0.97, 0.02, 0.01]), seed=3),
    "one-class-true": (np.zeros(20, dtype=int), _pair(20, 2, seed=4)[1]),
    "one-label-everywhere": (np.ones(10, dtype=int), np.ones(10, dtype=int)),
    "nothing-right": (np.array([0, 1, 0, 1]), np.array([1, 0, 1, 0])),
    "pred-has-extra-class": (np.array([0, 0, 1, 1, 1]), np.array([0, 2, 1, 1, 3])),
    "negative-and-sparse-ints": (np.array([-5, 7, 1000, 7, -5]), np.array([7, 7, 1000, -5, 1000])),
    "wide-range-ints": (np.array([0, 10**9, 5, 10**9]), np.array([10**9, 10**9, 0, 5])),
    "bool": (np.array([True, False, True, True]), np.array([True, True, False, True])),
    "integral-floats": (np.array([1.0, 2.0, 3.0, 2.0]), np.array([2.0, 2.0, 3.0, 1.0])),
    "strings": (NAMES[_pair(200, 5, seed=5)[0]], NAMES[_pair(200, 5, seed=5)[1]]),
    "strings-2": (np.array(["no", "yes", "yes"]), np.array(["yes", "yes", "no"])),
    "object-strings": (
        np.array(["a", "b", "c", "a"], dtype=object),
        np.array(["a", "c", "c", "b"], dtype=object),
    ),
}
WEIGHTS = {
    "none": None,
    "float": lambda n: RNG.random(n),
    "int": lambda n: RNG.integers(0, 4, n) + (np.arange(n) == 0),
}


def _weights(kind: str, n: int):
    maker = WEIGHTS[kind]
    return None if maker is None else maker(n)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("weights", sorted(WEIGHTS))
def test_confusion_accuracy_balanced_mcc_match_sklearn(case: str, weights: str) -> None:
    y_true, y_pred = CASES[case]
    w = _weights(weights, len(y_true))
    assert_same(tvm.confusion_matrix, skm.confusion_matrix, y_true, y_pred, sample_weight=w)
    for normalize in ("true", "pred", "all"):
        assert_same(
            tvm.confusion_matrix,
            skm.confusion_matrix,
            y_true,
            y_pred,
            sample_weight=w,
            normalize=normalize,
        )
    for normalize in (True, False):
        assert_same(
            tvm.accuracy_score,
            skm.accuracy_score,
            y_true,
            y_pred,
            normalize=normalize,
            sample_weight=w,
        )
    for adjusted in (False, True):
        assert_same(
            tvm.balanced_accuracy_score,
            skm.balanced_accuracy_score,
            y_true,
            y_pred,
            sample_weight=w,
            adjusted=adjusted,
        )
    assert_same(tvm.matthews_corrcoef, skm.matthews_corrcoef, y_true, y_pred, sample_weight=w)


ZERO_DIVISION_CASES = {
    "one-class-true",
    "one-label-everywhere",
    "nothing-right",
    "pred-has-extra-class",
    "imbalanced",
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("weights", ["none", "float"])
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted", "binary"])
def test_prfs_matches_sklearn(case: str, weights: str, average: str | None) -> None:
    y_true, y_pred = CASES[case]
    w = _weights(weights, len(y_true))
    pos_label = {"bool": True, "strings-2": "yes"}.get(case, 1)
    for beta in (1.0, 0.5, 2.0, 0.0, np.inf):
        assert_same(
            tvm.precision_recall_fscore_support,
            skm.precision_recall_fscore_support,
            y_true,
            y_pred,
            beta=beta,
            average=average,
            pos_label=pos_label,
            sample_weight=w,
        )
    # zero_division matters where a label has no predicted or no true samples
    zero_divisions = ("warn", 0.0, 1.0, np.nan) if case in ZERO_DIVISION_CASES else ("warn",)
    for name in ("precision_score", "recall_score", "f1_score"):
        for zero_division in zero_divisions:
            assert_same(
                getattr(tvm, name),
                getattr(skm, name),
                y_true,
                y_pred,
                average=average,
                pos_label=pos_label,
                sample_weight=w,
                zero_division=zero_division,
            )
    assert_same(
        tvm.fbeta_score,
        skm.fbeta_score,
        y_true,
        y_pred,
        beta=0.5,
        average=average,
        pos_label=pos_label,
        sample_weight=w,
    )


@pytest.mark.parametrize(
    "labels",
    [[0, 1, 2], [2, 0], [4, 0, 1], [1], [7, 8], [0, 1, 2, 3, 4, 5]],
)
def test_labels_argument_matches_sklearn(labels: list[int]) -> None:
    y_true, y_pred = CASES["multiclass"]
    w = RNG.random(len(y_true))
    assert_same(tvm.confusion_matrix, skm.confusion_matrix, y_true, y_pred, labels=labels)
    assert_same(
        tvm.confusion_matrix, skm.confusion_matrix, y_true, y_pred, labels=labels, sample_weight=w
    )
    for average in (None, "micro", "macro", "weighted"):
        assert_same(
            tvm.precision_recall_fscore_support,
            skm.precision_recall_fscore_support,
            y_true,
            y_pred,
            labels=labels,
            average=average,
        )


def test_pos_label_ignored_warning_and_binary_errors_match_sklearn() -> None:
    y_true, y_pred = CASES["multiclass"]
    # pos_label other than 1 with average != 'binary': a UserWarning, same text
    assert_same(tvm.f1_score, skm.f1_score, y_true, y_pred, average="macro", pos_label=3)
    # multiclass target with average='binary': ValueError
    outcome = assert_same(tvm.f1_score, skm.f1_score, y_true, y_pred)
    assert "average='binary'" in str(outcome.error)
    # binary target whose labels do not include pos_label: ValueError naming pos_label
    outcome = assert_same(tvm.recall_score, skm.recall_score, [2, 3, 3], [3, 3, 2])
    assert "pos_label" in str(outcome.error)


def test_hand_computed_binary_case() -> None:
    # y_true = [1, 1, 0, 0, 1], y_pred = [1, 0, 0, 1, 1]: tp = 2, fp = 1, fn = 1, tn = 1
    y_true, y_pred = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    assert tvm.confusion_matrix(y_true, y_pred).tolist() == [[1, 1], [1, 2]]
    assert tvm.precision_score(y_true, y_pred) == 2 / 3  # tp / (tp + fp)
    assert tvm.recall_score(y_true, y_pred) == 2 / 3  # tp / (tp + fn)
    assert tvm.f1_score(y_true, y_pred) == 4 / 6  # 2 tp / (2 tp + fp + fn)
    assert tvm.accuracy_score(y_true, y_pred) == 3 / 5
    # balanced accuracy = (recall of 0 + recall of 1) / 2 = (1/2 + 2/3) / 2
    assert tvm.balanced_accuracy_score(y_true, y_pred) == pytest.approx(7 / 12)
    # MCC = (tp tn - fp fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)) = (2 - 1) / sqrt(3*3*2*2)
    assert tvm.matthews_corrcoef(y_true, y_pred) == pytest.approx(1 / 6)


def test_imbalanced_accuracy_is_misleading_and_the_others_are_not() -> None:
    # 990 negatives, 10 positives; a model that always says "negative"
    y_true = np.r_[np.zeros(990, dtype=int), np.ones(10, dtype=int)]
    y_pred = np.zeros(1000, dtype=int)
    assert tvm.accuracy_score(y_true, y_pred) == 0.99
    assert tvm.balanced_accuracy_score(y_true, y_pred) == 0.5
    assert tvm.matthews_corrcoef(y_true, y_pred) == 0.0
    assert tvm.f1_score(y_true, y_pred, zero_division=0.0) == 0.0


@pytest.mark.parametrize("convert", ["list", "torch", "torch-int32", "column"])
def test_lists_tensors_and_column_vectors_give_the_numpy_result(convert: str) -> None:
    y_true, y_pred = CASES["multiclass"]
    w = RNG.random(len(y_true))
    if convert == "list":
        a, b = y_true.tolist(), y_pred.tolist()
    elif convert == "torch":
        a, b = torch.from_numpy(y_true), torch.from_numpy(y_pred)
    elif convert == "torch-int32":
        a, b = torch.from_numpy(y_true).int(), torch.from_numpy(y_pred).int()
    else:
        a, b = y_true[:, None], y_pred[:, None]
    assert_bitwise(tvm.confusion_matrix(a, b), skm.confusion_matrix(y_true, y_pred))
    assert_bitwise(
        tvm.precision_recall_fscore_support(a, b, sample_weight=torch.from_numpy(w)),
        skm.precision_recall_fscore_support(y_true, y_pred, sample_weight=w),
    )
    assert tvm.accuracy_score(a, b) == skm.accuracy_score(y_true, y_pred)


def test_object_integer_labels_are_accepted() -> None:
    # scikit-learn calls object arrays of ints 'unknown'; we treat them as integers
    y_true = np.array([1, 2, 2, 3], dtype=object)
    y_pred = np.array([1, 2, 3, 3], dtype=object)
    assert tvm.confusion_matrix(y_true, y_pred).tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_string_labels_of_different_widths_and_unicode() -> None:
    y_true = np.array(["a", "bb", "ccc", "été", "a"])
    y_pred = np.array(["bb", "bb", "ccc", "a", "été"], dtype="<U7")
    assert_same(tvm.confusion_matrix, skm.confusion_matrix, y_true, y_pred)
    assert_same(
        tvm.precision_recall_fscore_support, skm.precision_recall_fscore_support, y_true, y_pred
    )


def test_many_string_classes_go_through_the_hash_table_growth() -> None:
    rng = np.random.default_rng(7)
    names = np.array([f"class-{i:04d}" for i in range(3000)])
    y_true = names[rng.integers(0, 3000, 20000)]
    y_pred = names[rng.integers(0, 3000, 20000)]
    assert_same(tvm.accuracy_score, skm.accuracy_score, y_true, y_pred)
    ours = tvm.precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    theirs = skm.precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    assert_bitwise(ours, theirs)


# --------------------------------------------------------------------------------------
# Empty input: deliberate difference (scikit-learn raises); every case against
# scikit-learn in test_metrics_empty.py
# --------------------------------------------------------------------------------------


def test_empty_input_gives_empty_results() -> None:
    assert tvm.confusion_matrix([], []).shape == (0, 0)
    assert tvm.confusion_matrix([], [], labels=[0, 1]).tolist() == [[0, 0], [0, 0]]
    assert tvm.accuracy_score([], [], normalize=False) == 0.0
    with pytest.warns(tvm.UndefinedMetricWarning):
        assert np.isnan(tvm.accuracy_score([], []))
    with pytest.warns(tvm.UndefinedMetricWarning):
        assert np.isnan(tvm.balanced_accuracy_score([], []))
    with pytest.warns(tvm.UndefinedMetricWarning, match="no samples"):
        assert np.isnan(tvm.matthews_corrcoef([], []))
    p, r, f, s = tvm.precision_recall_fscore_support([], [])
    assert p.shape == r.shape == f.shape == s.shape == (0,)
    with pytest.warns(tvm.UndefinedMetricWarning, match="no samples"):
        assert np.isnan(tvm.precision_recall_fscore_support([], [], average="macro")[0])
    with pytest.warns(tvm.UndefinedMetricWarning):
        assert tvm.f1_score([], []) == 0.0


# --------------------------------------------------------------------------------------
# Bad input: same exception type as scikit-learn, message naming the argument
# --------------------------------------------------------------------------------------

LABEL_FUNCTIONS = [
    tvm.confusion_matrix,
    tvm.accuracy_score,
    tvm.balanced_accuracy_score,
    tvm.matthews_corrcoef,
    tvm.precision_recall_fscore_support,
    tvm.precision_score,
    tvm.recall_score,
    tvm.f1_score,
]


@pytest.mark.parametrize("function", LABEL_FUNCTIONS, ids=lambda f: f.__name__)
def test_bad_labels_raise_naming_the_argument(function) -> None:
    with pytest.raises(ValueError, match="y_true and y_pred must have the same length"):
        function([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="y_true must hold class labels, got continuous"):
        function([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match=r"continuous values such as 0\.5;"):  # not np.float64
        function([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="y_pred must not contain NaN"):
        function([0, 1], [0.0, np.nan])
    with pytest.raises(ValueError, match="y_true and y_pred mix label types"):
        function(["a", "b"], [0, 1])
    with pytest.raises(TypeError, match="y_true holds bytes labels"):
        function(np.array([b"a", b"b"]), np.array([b"a", b"a"]))
    if function in (tvm.balanced_accuracy_score, tvm.matthews_corrcoef):
        with pytest.raises(ValueError, match="y_true must be 1-D class labels; multilabel"):
            function(np.eye(3, dtype=int), np.eye(3, dtype=int))
    with pytest.raises(ValueError, match="y_pred must be 1-D"):
        function([0, 1], np.zeros((2, 1, 1)))
    with pytest.raises(ValueError, match="sample_weight must have one weight per sample"):
        function([0, 1], [0, 1], sample_weight=[1.0])
    with pytest.raises(ValueError, match="sample_weight must be finite, got .* NaN"):
        function([0, 1], [0, 1], sample_weight=[1.0, np.nan])
    with pytest.raises(ValueError, match="sample_weight must be finite, got .* infinity"):
        function([0, 1], [0, 1], sample_weight=np.array([1.0, -np.inf], np.float32))
    with pytest.raises(ValueError, match="sample_weight must contain at least one non-zero"):
        function([0, 1], [0, 1], sample_weight=[0, 0])
    with pytest.raises(TypeError, match="y_true must hold class labels"):
        function(np.array([1 + 2j, 3j]), [0, 1])
    with pytest.raises(ValueError, match="y_true must hold labels of one kind"):
        function(np.array(["a", 1], dtype=object), [0, 1])


def test_bad_options_raise_like_sklearn() -> None:
    y_true, y_pred = CASES["multiclass"]
    for kwargs in (
        {"average": "bogus"},
        {"average": "samples"},
        {"zero_division": 5},
        {"zero_division": "nope"},
        {"beta": -1.0},
        {"beta": "one"},
    ):
        ours = run(tvm.precision_recall_fscore_support, y_true, y_pred, **kwargs)
        theirs = run(skm.precision_recall_fscore_support, y_true, y_pred, **kwargs)
        assert theirs.error is not None
        assert isinstance(ours.error, (ValueError, TypeError)), kwargs
        name = next(iter(kwargs))
        assert name in str(ours.error)
    with pytest.raises(ValueError, match="normalize must be one of"):
        tvm.confusion_matrix(y_true, y_pred, normalize="rows")


def test_labels_not_found_and_empty_labels() -> None:
    y_true, y_pred = CASES["multiclass"]
    outcome = assert_same(tvm.confusion_matrix, skm.confusion_matrix, y_true, y_pred, labels=[7, 8])
    assert "labels" in str(outcome.error) and "y_true" in str(outcome.error)
    with pytest.raises(ValueError, match="labels must contain at least one label"):
        tvm.confusion_matrix(y_true, y_pred, labels=[])
    with pytest.raises(ValueError, match="labels must not contain duplicates"):
        tvm.confusion_matrix(y_true, y_pred, labels=[1, 1])
    # string labels against integer targets: none found
    with pytest.raises(ValueError, match="labels must include at least one label"):
        tvm.confusion_matrix(y_true, y_pred, labels=["a"])


def test_single_label_confusion_matrix_warns_like_sklearn() -> None:
    outcome = assert_same(tvm.confusion_matrix, skm.confusion_matrix, [3, 3], [3, 3])
    assert outcome.warnings and outcome.warnings[0][0] == "UserWarning"


def test_inputs_are_not_modified() -> None:
    y_true, y_pred = CASES["multiclass"]
    w = RNG.random(len(y_true))
    copies = [y_true.copy(), y_pred.copy(), w.copy()]
    for function in LABEL_FUNCTIONS[:5]:
        function(y_true, y_pred, sample_weight=w)
    for function in LABEL_FUNCTIONS[5:]:
        function(y_true, y_pred, sample_weight=w, average="macro")
    for before, after in zip(copies, (y_true, y_pred, w)):
        assert np.array_equal(before, after)


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

labels_strategy = st.lists(st.integers(-2, 3), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(labels_strategy, st.data())
def test_random_label_pairs_match_sklearn(y_true: list[int], data) -> None:
    y_pred = data.draw(st.lists(st.integers(-2, 3), min_size=len(y_true), max_size=len(y_true)))
    weighted = data.draw(st.booleans())
    w = None
    if weighted:
        w = data.draw(
            st.lists(st.floats(0, 10, width=32), min_size=len(y_true), max_size=len(y_true))
        )
        if not any(w):
            w = None
    assert_same(tvm.confusion_matrix, skm.confusion_matrix, y_true, y_pred, sample_weight=w)
    assert_same(tvm.accuracy_score, skm.accuracy_score, y_true, y_pred, sample_weight=w)
    assert_same(tvm.matthews_corrcoef, skm.matthews_corrcoef, y_true, y_pred, sample_weight=w)
    assert_same(
        tvm.balanced_accuracy_score, skm.balanced_accuracy_score, y_true, y_pred, sample_weight=w
    )
    for average in (None, "macro", "weighted", "micro"):
        assert_same(
            tvm.precision_recall_fscore_support,
            skm.precision_recall_fscore_support,
            y_true,
            y_pred,
            average=average,
            sample_weight=w,
        )


@settings(max_examples=30, deadline=None)
@given(labels_strategy, st.randoms(use_true_random=False))
def test_metrics_do_not_depend_on_sample_order(y_true: list[int], random) -> None:
    y_pred = [(v * 7 + 3) % 4 for v in y_true]
    order = list(range(len(y_true)))
    random.shuffle(order)
    shuffled_true = [y_true[i] for i in order]
    shuffled_pred = [y_pred[i] for i in order]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for function in (tvm.confusion_matrix, tvm.accuracy_score, tvm.matthews_corrcoef):
            assert_bitwise(function(y_true, y_pred), function(shuffled_true, shuffled_pred))
        assert_bitwise(
            tvm.precision_recall_fscore_support(y_true, y_pred),
            tvm.precision_recall_fscore_support(shuffled_true, shuffled_pred),
        )


def test_direct_and_hashed_encodings_agree() -> None:
    # the same labels shifted by 2**40 leave the direct-counting range and get hashed
    y_true, y_pred = CASES["multiclass"]
    shift = 2**40
    direct = tvm.confusion_matrix(y_true, y_pred)
    hashed = tvm.confusion_matrix(y_true * shift, y_pred * shift)
    assert np.array_equal(direct, hashed)
    codes = _labels.encode_pair(y_true * shift, y_pred * shift)
    assert codes.offset == 0 and codes.n_codes == 5
