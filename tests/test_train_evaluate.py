"""Classifier evaluation against scikit-learn, the written files, and predictions CSVs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision._errors import UserError
from tinyvision.train.evaluate import (
    evaluate_scores,
    format_table,
    read_predictions_csv,
    write_evaluation,
    write_predictions_csv,
)

CLASSES = ("cat", "dog", "bird", "fish")


def random_problem(n: int = 200, k: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y, np.round(probs, 2)  # rounding makes ties, as real scores have


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scikit_learn(seed: int) -> None:
    y, s = random_problem(seed=seed)
    ev = evaluate_scores(y, s, CLASSES)
    pred = s.argmax(1)
    assert ev.accuracy == skm.accuracy_score(y, pred)
    assert np.array_equal(ev.confusion, skm.confusion_matrix(y, pred, labels=range(4)))
    p, r, f, sup = skm.precision_recall_fscore_support(y, pred, labels=range(4), zero_division=0)
    assert np.array_equal(ev.precision, p) and np.array_equal(ev.recall, r)
    assert np.array_equal(ev.f1, f) and np.array_equal(ev.support, sup)
    for c in range(4):
        positive = y == c
        assert ev.roc_auc[c] == pytest.approx(skm.roc_auc_score(positive, s[:, c]), abs=1e-15)
        assert ev.auc_lower[c] <= ev.roc_auc[c] <= ev.auc_upper[c]
        assert ev.average_precision[c] == skm.average_precision_score(positive, s[:, c])
        fpr, tpr, _ = skm.roc_curve(positive, s[:, c])
        assert np.array_equal(ev.roc_curves[c][0], fpr) and np.array_equal(ev.roc_curves[c][1], tpr)
        prec, rec, _ = skm.precision_recall_curve(positive, s[:, c])
        assert np.array_equal(ev.pr_curves[c][0], rec) and np.array_equal(ev.pr_curves[c][1], prec)
    macro = ev.macro()
    assert macro["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"), rel=1e-12)
    per_class_auc = [skm.roc_auc_score(y == c, s[:, c]) for c in range(4)]
    assert macro["roc_auc"] == pytest.approx(np.mean(per_class_auc), rel=1e-12)


def test_hand_computed_case() -> None:
    # Predictions 0, 1, 1: one mistake (a true 0 predicted 1).
    # class 0: P = 1/1, R = 1/2; class 1: P = 1/2, R = 1/1; accuracy 2/3.
    y = [0, 0, 1]
    s = [[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]]
    ev = evaluate_scores(y, s, ("a", "b"))
    assert ev.accuracy == pytest.approx(2 / 3)
    assert ev.precision.tolist() == [1.0, 0.5] and ev.recall.tolist() == [0.5, 1.0]
    assert ev.confusion.tolist() == [[1, 1], [0, 1]]
    # Class b's scores: positive 0.8 above both negatives 0.1 and 0.6 -> AUC 1.
    assert ev.roc_auc[1] == 1.0


def test_absent_class_gives_nan_not_a_crash() -> None:
    ev = evaluate_scores([0, 1, 0], np.eye(3)[[0, 1, 0]], ("a", "b", "c"))
    assert math.isnan(ev.roc_auc[2]) and math.isnan(ev.average_precision[2])
    assert ev.support.tolist() == [2, 1, 0] and ev.roc_curves[2][0].size == 0
    assert ev.to_dict()["per_class"]["c"]["support"] == 0
    assert "-" in format_table(ev).splitlines()[-1]


def test_format_table_prints_classification_report() -> None:
    """The CLI's text report holds scikit-learn's classification_report of the arg-max."""
    y, probs = random_problem(n=120, seed=3)
    ev = evaluate_scores(y, probs, CLASSES)
    expected = skm.classification_report(
        y, probs.argmax(axis=1), target_names=list(CLASSES), digits=4, zero_division=0
    )
    assert ev.report == expected
    text = format_table(ev)
    assert expected.rstrip("\n") in text
    assert text.splitlines()[0].startswith("accuracy ")  # the headline is kept
    assert "AUC [95% CI]" in text and text.splitlines()[-1].startswith("fish ")


def test_empty_input() -> None:
    ev = evaluate_scores(np.zeros(0, np.int64), np.zeros((0, 2)), ("a", "b"))
    assert ev.num_samples == 0 and math.isnan(ev.accuracy)
    # an empty list is float64 to numpy, yet holds no non-integer label: the same
    from_list = evaluate_scores([], np.zeros((0, 2)), ("a", "b"))
    assert from_list.num_samples == 0 and math.isnan(from_list.accuracy)


@pytest.mark.parametrize(
    ("y", "s", "error", "message"),
    [
        ([0, 1], [[0.1, 0.9]], ValueError, r"scores must have shape \(2, 2\)"),
        ([0, 2], [[0.1, 0.9], [0.5, 0.5]], ValueError, r"y_true must lie in \[0, 2\)"),
        ([0.0, 1.0], [[0.1, 0.9], [0.5, 0.5]], TypeError, "integer class indices"),
        ([0, 1], [[0.1, np.nan], [0.5, 0.5]], ValueError, "scores must be finite"),
        ([0, 1], [0.1, 0.9], ValueError, "scores must be 2-D"),
    ],
)
def test_bad_input(y, s, error, message) -> None:
    with pytest.raises(error, match=message):
        evaluate_scores(y, s, ("a", "b"))


def test_write_evaluation(tmp_path: Path) -> None:
    y, s = random_problem(60)
    ev = evaluate_scores(y, s, CLASSES)
    paths = write_evaluation(
        ev,
        tmp_path,
        extra={"model": "toy"},
        extra_tables=[("Runs", ["run", "accuracy"], [["a", 0.5]])],
    )
    names = {
        "metrics.json",
        "report.html",
        "confusion_matrix.png",
        "roc_curves.png",
        "pr_curves.png",
        "per_class.png",
    }
    assert set(paths) == names and {p.name for p in tmp_path.iterdir()} == names
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["accuracy"] == ev.accuracy and record["model"] == "toy"
    assert record["per_class"]["dog"]["roc_auc"] == ev.roc_auc[1]
    assert record["per_class"]["dog"]["roc_auc_ci"] == [ev.auc_lower[1], ev.auc_upper[1]]
    assert record["confusion_matrix"] == ev.confusion.tolist()
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4 and "<h2>Runs</h2>" in html
    for name in names - {"metrics.json", "report.html"}:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predictions_csv_round_trip(tmp_path: Path) -> None:
    y, s = random_problem(30)
    path = write_predictions_csv(tmp_path / "p.csv", y, s, CLASSES)
    y2, s2, classes = read_predictions_csv(path)
    assert classes == CLASSES and np.array_equal(y2, y) and np.array_equal(s2, s)
    assert path.read_text().splitlines()[0] == "label,cat,dog,bird,fish"


@pytest.mark.parametrize(
    ("y", "s", "classes", "error", "message"),
    [
        ([0, 1], [[0.1, 0.9]], ("a", "b"), ValueError, r"scores must have shape \(2, 2\)"),
        ([0, 1], [[0.1], [0.9]], ("a", "b"), ValueError, r"scores must have shape \(2, 2\)"),
        ([0, 1], [0.1, 0.9], ("a", "b"), ValueError, "scores must be 2-D"),
        ([[0, 1]], [[0.1, 0.9]], ("a", "b"), ValueError, "y_true must be 1-D"),
        ([0, 2], [[0.1, 0.9], [0.5, 0.5]], ("a", "b"), ValueError, r"y_true must lie in \[0, 2\)"),
        ([0, -1], [[0.1, 0.9], [0.5, 0.5]], ("a", "b"), ValueError, r"must lie in \[0, 2\)"),
        ([0.0, 1.0], [[0.1, 0.9], [0.5, 0.5]], ("a", "b"), TypeError, "integer class indices"),
        ([0, 1], [[0.1, np.nan], [0.5, 0.5]], ("a", "b"), ValueError, "scores must be finite"),
        ([0, 1], [[0.1, np.inf], [0.5, 0.5]], ("a", "b"), ValueError, "scores must be finite"),
        ([0, 1], [["x", "y"], ["z", "w"]], ("a", "b"), TypeError, "scores must hold real"),
        ([0, 1], [[0.1, 0.9], [0.5, 0.5]], ("a", "a"), ValueError, "distinct, got 'a' twice"),
        ([0, 1], [[0.1, 0.9], [0.5, 0.5]], ("label", "b"), ValueError, "must not contain 'label'"),
        ([0, 1], [[0.1, 0.9], [0.5, 0.5]], ("", "b"), ValueError, "non-empty names"),
        ([0, 1], [[0.1, 0.9], [0.5, 0.5]], (0, 1), TypeError, "classes must hold strings"),
        ([0, 1], [[0.1, 0.9], [0.5, 0.5]], "ab", TypeError, "classes must be a sequence"),
    ],
)
def test_write_predictions_csv_bad_input(tmp_path: Path, y, s, classes, error, message) -> None:
    with pytest.raises(error, match=message):
        write_predictions_csv(tmp_path / "p.csv", y, s, classes)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_write_predictions_csv_empty(tmp_path: Path) -> None:
    path = write_predictions_csv(
        tmp_path / "p.csv", np.zeros(0, np.int64), np.zeros((0, 2)), ("a", "b")
    )
    assert path.read_text() == "label,a,b\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("truth,a,b\na,0.1,0.9\n", "no true-label column .*columns are truth, a, b"),
        ("label,a\na,1\n", "at least 2 classes"),
        ("label,a,a\na,1,2\n", "distinct, non-empty names"),
        ("label,a,b\na,0.1,high\n", r"line 2, column 'b': 'high' is not a number"),
        ("label,a,b\na,0.1,0.9\nc,0.5,0.5\n", r"line 3: label 'c' is not one of the class columns"),
        ("label,a,b\na,0.1\n", "line 2: 2 fields, expected 3"),
        ("label,a,b\nb,nan,0.5\n", "the score must be finite, got nan"),
        # blank lines keep the file's line numbers: the bad cell is on line 4
        ("label,a,b\n\na,0.1,0.9\nb,0.2,oops\n", r"line 4, column 'b': 'oops' is not a number"),
        ("\nlabel,a,b\n\n\na,x,0.9\n", r"line 5, column 'a': 'x' is not a number"),
        # a quoted cell over two lines: the next record starts on line 4
        ('label,a,b\n"a\n",0.1,0.9\nb,0.2,z\n', r"line 4, column 'b'"),
        ("label,a,b\n", "has a header but no rows: nothing to evaluate"),
        ("label,a,b\n\n  \n", "has a header but no rows"),
        # class indices: out of range, or mixed with class names
        ("label,a,b\n0,0.1,0.9\n2,0.5,0.5\n", r"line 3: label '2' .* nor a class index 0\.\.1"),
        ("label,a,b\na,0.1,0.9\n1,0.5,0.5\n", r"label '1' .*only when no label is a column"),
        # an index of 5000 digits (int() of it raises) is simply not a class
        ("label,a,b\n0,.1,.9\n" + "9" * 5000 + ",.5,.5\n", r"line 3: label '9+' is not one"),
    ],
)
def test_predictions_csv_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_predictions_csv(path)


def test_predictions_csv_label_column_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("y_true,x,y\ny,1,2\n")
    y, s, classes = read_predictions_csv(path)
    assert classes == ("x", "y") and y.tolist() == [1] and s.tolist() == [[1.0, 2.0]]
    with pytest.raises(UserError, match="not found"):
        read_predictions_csv(tmp_path / "missing.csv")


def test_predictions_csv_accepts_class_indices_as_labels(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    # labels 1, 0 are not column names: indices into the score columns (a, b)
    path.write_text("label,a,b\n1,0.1,0.9\n\n0,0.8,0.2\n")
    y, s, classes = read_predictions_csv(path)
    assert classes == ("a", "b") and y.tolist() == [1, 0]
    assert s.tolist() == [[0.1, 0.9], [0.8, 0.2]]
    # integer column names are names: label "1" is the column "1", which is index 0 here
    path.write_text("label,1,0\n1,0.9,0.1\n")
    assert read_predictions_csv(path)[0].tolist() == [0]
