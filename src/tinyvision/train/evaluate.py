"""Classifier evaluation: metrics from class scores, and the files a user reads.

:func:`evaluate_scores` turns true labels and a ``[N, K]`` score matrix into a
:class:`ClassifierEvaluation` (accuracy, confusion matrix, per-class precision / recall /
F1, one-vs-rest ROC curves with AUC and its DeLong interval, PR curves with AP), all from
:mod:`tinyvision.metrics`. :func:`write_evaluation` writes ``metrics.json``, the PNG plots
and one self-contained ``report.html``. Predictions made elsewhere come in as a CSV with a
``label`` column and one score column per class (:func:`read_predictions_csv`).
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinyvision._errors import UserError
from tinyvision._fileio import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    remove_stale_temps,
)
from tinyvision._validate import check_array, describe

__all__ = [
    "EVALUATION_FILES",
    "LABEL_COLUMNS",
    "ClassifierEvaluation",
    "evaluate_scores",
    "format_table",
    "read_predictions_csv",
    "write_evaluation",
    "write_predictions_csv",
]

LABEL_COLUMNS = ("label", "y_true", "true", "target")
# What write_evaluation writes into its folder.
EVALUATION_FILES = (
    "confusion_matrix.png",
    "roc_curves.png",
    "pr_curves.png",
    "per_class.png",
    "metrics.json",
    "report.html",
)


@dataclass(frozen=True)
class ClassifierEvaluation:
    """Metrics of a K-class classifier on N samples (arrays indexed by class).

    Attributes:
        classes: the K class names.
        accuracy: fraction of samples whose top-scoring class is the true one.
        confusion (ndarray[K, K] int64): rows true class, columns predicted class.
        precision, recall, f1 (ndarray[K] float64): per class (0 where undefined).
        support (ndarray[K] int64): true samples per class.
        roc_auc, auc_lower, auc_upper (ndarray[K] float64): one-vs-rest ROC AUC of each
            class's score and its DeLong interval at ``confidence`` (NaN where undefined:
            a class absent from, or the only class in, the labels).
        average_precision (ndarray[K] float64): area under each one-vs-rest PR curve.
        roc_curves, pr_curves: per class ``(fpr, tpr)`` and ``(recall, precision)`` arrays
            (empty when undefined).
        report: :func:`tinyvision.metrics.classification_report` of the arg-max
            predictions (4 digits, 0/0 shown as 0), the text the CLI prints.
    """

    classes: tuple[str, ...]
    accuracy: float
    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    roc_auc: np.ndarray
    auc_lower: np.ndarray
    auc_upper: np.ndarray
    average_precision: np.ndarray
    roc_curves: list[tuple[np.ndarray, np.ndarray]] = field(repr=False)
    pr_curves: list[tuple[np.ndarray, np.ndarray]] = field(repr=False)
    confidence: float = 0.95
    report: str = field(default="", repr=False)

    @property
    def num_samples(self) -> int:
        return int(self.support.sum())

    def macro(self) -> dict[str, float]:
        """Unweighted means over classes (NaN entries skipped)."""

        def mean(values: np.ndarray) -> float:
            finite = values[np.isfinite(values)]
            return float(finite.mean()) if finite.size else math.nan

        return {
            "precision": mean(self.precision),
            "recall": mean(self.recall),
            "f1": mean(self.f1),
            "roc_auc": mean(self.roc_auc),
            "average_precision": mean(self.average_precision),
        }

    def to_dict(self) -> dict[str, Any]:
        """The content of ``metrics.json`` (NaN becomes ``null`` when written)."""
        per_class = {
            name: {
                "precision": float(self.precision[k]),
                "recall": float(self.recall[k]),
                "f1": float(self.f1[k]),
                "support": int(self.support[k]),
                "roc_auc": float(self.roc_auc[k]),
                "roc_auc_ci": [float(self.auc_lower[k]), float(self.auc_upper[k])],
                "average_precision": float(self.average_precision[k]),
            }
            for k, name in enumerate(self.classes)
        }
        return {
            "accuracy": self.accuracy,
            "num_samples": self.num_samples,
            "macro": self.macro(),
            "per_class": per_class,
            "confusion_matrix": self.confusion.tolist(),
            "classes": list(self.classes),
            "roc_auc_ci_confidence": self.confidence,
        }


def _check_labels_and_scores(y_true: Any, scores: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``y_true`` as int ``ndarray[N]`` in ``[0, k)`` and ``scores`` as finite real
    ``ndarray[N, k]``, or ``TypeError``/``ValueError`` naming the argument."""
    y = check_array(y_true, "y_true", shape=(None,), kinds="iu", holding="integer class indices")
    s = check_array(scores, "scores", shape=(None, None), kinds="biuf")
    if s.shape != (y.shape[0], k):
        raise ValueError(
            f"scores must have shape ({y.shape[0]}, {k}) (one column per class), got {s.shape}"
        )
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"y_true must lie in [0, {k}), got values in [{y.min()}, {y.max()}]")
    return y, s


def evaluate_scores(
    y_true: Any, scores: Any, classes: Sequence[str], *, confidence: float = 0.95
) -> ClassifierEvaluation:
    """Evaluate class scores against true labels.

    Args:
        y_true (array-like[N] int): true class indices in ``[0, K)``.
        scores (array-like[N, K] float): a score per class (probabilities or logits); the
            prediction is the arg-max, ROC and PR curves are one-vs-rest on each column.
        classes: the K class names.
        confidence: level of the DeLong intervals of the AUCs.
    """
    from tinyvision import metrics

    k = len(classes)
    y, s = _check_labels_and_scores(y_true, scores, k)
    s = s.astype(np.float64, copy=False)
    labels = np.arange(k)
    y_pred = s.argmax(axis=1) if y.size else np.zeros(0, np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined entries become 0 or NaN, as documented
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            y, y_pred, labels=labels, zero_division=0
        )
        accuracy = float(metrics.accuracy_score(y, y_pred)) if y.size else math.nan
        confusion = metrics.confusion_matrix(y, y_pred, labels=labels)
        report = metrics.classification_report(
            y, y_pred, labels=labels, target_names=list(classes), digits=4, zero_division=0
        )
        auc, lower, upper, ap = (np.full(k, math.nan) for _ in range(4))
        roc_curves, pr_curves = [], []
        empty = (np.zeros(0), np.zeros(0))
        for c in range(k):
            positive = y == c
            if not 0 < positive.sum() < y.size:  # one-vs-rest needs both sides
                roc_curves.append(empty)
                pr_curves.append(empty)
                continue
            ci = metrics.roc_auc_ci(positive, s[:, c], confidence=confidence)
            auc[c], lower[c], upper[c] = ci.auc, ci.lower, ci.upper
            fpr, tpr, _ = metrics.roc_curve(positive, s[:, c])
            prec, rec, _ = metrics.precision_recall_curve(positive, s[:, c])
            ap[c] = metrics.average_precision_score(positive, s[:, c])
            roc_curves.append((fpr, tpr))
            pr_curves.append((rec, prec))
    return ClassifierEvaluation(
        tuple(classes),
        accuracy,
        np.asarray(confusion, dtype=np.int64),
        np.asarray(precision, dtype=np.float64),
        np.asarray(recall, dtype=np.float64),
        np.asarray(f1, dtype=np.float64),
        np.asarray(support, dtype=np.int64),
        auc,
        lower,
        upper,
        ap,
        roc_curves,
        pr_curves,
        confidence,
        report,
    )


def format_table(evaluation: ClassifierEvaluation) -> str:
    """A short text report: headline numbers, scikit-learn's ``classification_report``
    (precision, recall, F1, support per class; accuracy and averages), then each class's
    one-vs-rest ROC AUC with its interval and average precision."""
    ev = evaluation
    macro = ev.macro()
    pct = round(ev.confidence * 100)
    lines = [
        f"accuracy {ev.accuracy:.4f}   macro F1 {macro['f1']:.4f}   "
        f"macro AUC {macro['roc_auc']:.4f}   macro AP {macro['average_precision']:.4f}   "
        f"({ev.num_samples} samples)",
        "",
        ev.report.rstrip("\n"),
        "",
        f"{'class':<12} {'AUC [' + str(pct) + '% CI]':<24} {'AP':>6}",
    ]
    for k, name in enumerate(ev.classes):
        auc = (
            f"{ev.roc_auc[k]:.4f} [{ev.auc_lower[k]:.4f}, {ev.auc_upper[k]:.4f}]"
            if np.isfinite(ev.roc_auc[k])
            else "-"
        )
        ap = f"{ev.average_precision[k]:.4f}" if np.isfinite(ev.average_precision[k]) else "-"
        lines.append(f"{name[:12]:<12} {auc:<24} {ap:>6}")
    return "\n".join(lines)


def write_evaluation(
    evaluation: ClassifierEvaluation,
    out_dir: str | os.PathLike[str],
    *,
    title: str = "Classifier evaluation",
    subtitle: str | None = None,
    extra: dict[str, Any] | None = None,
    extra_tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]] = (),
    run_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Path]:
    """Write ``metrics.json``, four PNG plots and ``report.html`` into ``out_dir``.

    ``run_dir`` (a training run's folder) adds its "Training" section to the report: the
    curves of ``results.png`` (and any other run picture there).

    ``extra`` entries are added to ``metrics.json`` (and shown in the report);
    ``extra_tables`` are ``(heading, header, rows)`` sections appended to the report (e.g. a
    snapshot ensemble against its members). Every file is written atomically (temporary
    files an interrupted earlier write left for :data:`EVALUATION_FILES` are removed);
    returns the paths by name.
    """
    from tinyvision.report.plots import png_bytes

    ev = evaluation
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out, EVALUATION_FILES)
    paths: dict[str, Path] = {}
    images: list[tuple[bytes, str]] = []
    for name, (figure, caption) in _evaluation_figures(ev).items():
        data = png_bytes(figure)
        atomic_write_bytes(out / name, data)
        paths[name] = out / name
        images.append((data, caption))

    record = {**ev.to_dict(), **(extra or {})}
    atomic_write_json(out / "metrics.json", record)
    paths["metrics.json"] = out / "metrics.json"

    report = _evaluation_report(ev, title, subtitle, extra, extra_tables)
    report.add_section("Plots")
    for data, caption in images:
        report.add_image(data, caption=caption)
    if run_dir is not None:
        from tinyvision.report.run_plots import add_training_section

        add_training_section(report, run_dir)
    paths["report.html"] = report.write(out / "report.html")
    return paths


def _evaluation_figures(ev: ClassifierEvaluation) -> dict[str, tuple[Any, str]]:
    """The report's four figures by file name, each with its caption."""
    from tinyvision.report.plots import bars_figure, confusion_matrix_figure, curves_figure

    pct = round(ev.confidence * 100)
    roc = [
        (fpr, tpr, f"{name} AUC {ev.roc_auc[k]:.3f} [{ev.auc_lower[k]:.3f}, {ev.auc_upper[k]:.3f}]")
        for k, (name, (fpr, tpr)) in enumerate(zip(ev.classes, ev.roc_curves))
        if fpr.size
    ]
    pr = [
        (rec, prec, f"{name} AP {ev.average_precision[k]:.3f}")
        for k, (name, (rec, prec)) in enumerate(zip(ev.classes, ev.pr_curves))
        if rec.size
    ]
    return {
        "confusion_matrix.png": (
            confusion_matrix_figure(ev.confusion, ev.classes),
            "Confusion matrix (rows: true class; fractions of each row, counts in brackets)",
        ),
        "roc_curves.png": (
            curves_figure(
                roc,
                title=f"One-vs-rest ROC curves (AUC, {pct}% DeLong interval)",
                xlabel="false positive rate",
                ylabel="true positive rate",
                diagonal=True,
            ),
            "ROC curve of each class against the rest",
        ),
        "pr_curves.png": (
            curves_figure(
                pr,
                title="One-vs-rest precision-recall curves",
                xlabel="recall",
                ylabel="precision",
            ),
            "Precision-recall curve of each class against the rest, with its AP",
        ),
        "per_class.png": (
            bars_figure(
                ev.classes,
                {"precision": ev.precision, "recall": ev.recall, "F1": ev.f1},
                title="Per-class precision, recall and F1",
            ),
            "Precision, recall and F1 of each class",
        ),
    }


def _evaluation_report(
    ev: ClassifierEvaluation,
    title: str,
    subtitle: str | None,
    extra: dict[str, Any] | None,
    extra_tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]],
) -> Any:
    """The report's page up to its plots: headline cards, settings, per-class table and
    the ``extra_tables`` sections."""
    from tinyvision.report import HtmlReport

    pct = round(ev.confidence * 100)
    report = HtmlReport(title, subtitle=subtitle)
    macro = ev.macro()
    report.add_metrics(
        {
            "accuracy": ev.accuracy,
            "macro F1": macro["f1"],
            "macro ROC AUC": macro["roc_auc"],
            "macro AP": macro["average_precision"],
            "samples": ev.num_samples,
        }
    )
    if extra:
        report.add_table(["setting", "value"], [[k, _cell(v)] for k, v in extra.items()])
    report.add_section("Per class")
    report.add_table(
        ["class", "precision", "recall", "F1", "support", "ROC AUC", f"{pct}% CI", "AP"],
        [
            [
                name,
                ev.precision[k],
                ev.recall[k],
                ev.f1[k],
                int(ev.support[k]),
                ev.roc_auc[k],
                f"[{ev.auc_lower[k]:.4f}, {ev.auc_upper[k]:.4f}]",
                ev.average_precision[k],
            ]
            for k, name in enumerate(ev.classes)
        ],
    )
    for heading, header, rows in extra_tables:
        report.add_section(heading)
        report.add_table(header, rows)
    return report


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return value


def write_predictions_csv(
    path: str | os.PathLike[str], y_true: Any, scores: Any, classes: Sequence[str]
) -> Path:
    """Write ``label,<class 0>,...,<class K-1>`` rows: the true class name and the scores.

    The file is what ``tinyvision classify eval --predictions`` reads back.

    Args:
        path: the CSV file to write (atomically).
        y_true (ndarray or Tensor[N]): integer class indices in ``[0, K)``.
        scores (ndarray or Tensor[N, K]): finite real scores, one column per class.
        classes: the K class names, distinct non-empty strings (none of them ``"label"``,
            the header of the label column).

    Raises:
        TypeError: non-integer labels, non-real scores or non-string class names.
        ValueError: mismatched shapes, a label outside ``[0, K)``, a non-finite score, or
            empty, duplicate or ``"label"`` class names.
    """
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise TypeError(f"classes must be a sequence of class names, got {describe(classes)}")
    names = list(classes)
    if not all(isinstance(c, str) for c in names):
        raise TypeError(f"classes must hold strings, got {names!r}")
    if len(set(names)) != len(names):
        twice = sorted({c for c in names if names.count(c) > 1})
        raise ValueError(f"classes must be distinct, got {', '.join(map(repr, twice))} twice")
    if "" in names:
        raise ValueError(f"classes must be non-empty names, got {names!r}")
    if "label" in names:
        raise ValueError("classes must not contain 'label', the header of the label column")
    y, s = _check_labels_and_scores(y_true, scores, len(names))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["label", *classes])
    for label, row in zip(y.tolist(), s.tolist()):
        writer.writerow([classes[label], *(f"{v:.9g}" for v in row)])
    remove_stale_temps(Path(path).parent, [Path(path).name])
    atomic_write_text(path, buffer.getvalue())
    return Path(path)


def read_predictions_csv(
    path: str | os.PathLike[str], *, label_column: str | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read a predictions CSV: a true-label column and one numeric score column per class.

    The label column is ``label_column`` or the first of ``label``, ``y_true``, ``true``,
    ``target`` present; every other column is a class, named by its header. Each label is
    one of those names or, when no label is a column name, a class index ``0..K-1`` into the
    score columns (labels ``0, 1`` with columns ``cat, dog``). Class columns that are
    themselves integers (``0, 1, ...``) are matched by name only: an index would be
    ambiguous. Blank lines are skipped; messages give the line numbers of the file.

    Returns:
        ``(y_true, scores, classes)``: ``ndarray[N]`` int64 class indices,
        ``ndarray[N, K]`` float64 scores and the K class names.

    Raises:
        UserError: one line naming the file, the row and column, and what is wrong (also
            for a file with a header and no rows).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"predictions file {path} not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not a UTF-8 text file") from exc
    records = _csv_records(path, text)
    if not records:
        raise UserError(f"{path} is empty: expected a header with a 'label' column and classes")
    header = [h.strip() for h in records[0][1]]
    wanted = (label_column,) if label_column else LABEL_COLUMNS
    found = [name for name in wanted if name in header]
    if not found:
        raise UserError(
            f"{path} has no true-label column (expected one of {', '.join(wanted)}; "
            f"columns are {_names(header) or 'none'})"
        )
    label_at = header.index(found[0])
    classes = tuple(h for i, h in enumerate(header) if i != label_at)
    if len(classes) < 2:
        raise UserError(f"{path} needs a score column for each of at least 2 classes")
    if len(set(classes)) != len(classes) or any(not c for c in classes):
        raise UserError(f"{path}: class columns must have distinct, non-empty names")
    rows = records[1:]
    if not rows:
        raise UserError(f"{path} has a header but no rows: nothing to evaluate")
    for line, row in rows:
        if len(row) != len(header):
            raise UserError(f"{path}, line {line}: {len(row)} fields, expected {len(header)}")
    index, by_position = _label_index(classes, [row[label_at].strip() for _, row in rows])
    y = np.empty(len(rows), dtype=np.int64)
    scores = np.empty((len(rows), len(classes)), dtype=np.float64)
    for r, (line, row) in enumerate(rows):
        label = row[label_at].strip()
        if label not in index:
            hint = f" nor a class index 0..{len(classes) - 1}" if by_position else ""
            if not by_position and _is_index(label) and not all(map(_is_index, classes)):
                hint = " (class indices are read only when no label is a column name)"
            raise UserError(
                f"{path}, line {line}: label {label!r} is not one of the class columns "
                f"({_names(classes)}){hint}"
            )
        y[r] = index[label]
        values = [cell for i, cell in enumerate(row) if i != label_at]
        for k, cell in enumerate(values):
            try:
                value = float(cell)
            except ValueError:
                raise UserError(
                    f"{path}, line {line}, column {classes[k]!r}: {cell.strip()!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise UserError(
                    f"{path}, line {line}, column {classes[k]!r}: the score must be finite, "
                    f"got {cell.strip()}"
                )
            scores[r, k] = value
    return y, scores, classes


def _csv_records(path: Path, text: str) -> list[tuple[int, list[str]]]:
    """The non-blank records of a CSV text, each with the file line it starts on."""
    records = []
    reader = csv.reader(io.StringIO(text))
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UserError(f"{path}, line {start}: not a readable CSV record ({exc})") from None
    return records


def _names(cells: Sequence[str]) -> str:
    """Column names for a one-line message: a name with a line break or another control
    character (a quoted CSV cell may hold one) shown escaped, as Python writes it."""
    return ", ".join(c if c.isprintable() else repr(c)[1:-1] for c in cells)


def _is_index(text: str) -> bool:
    """A class index written as digits (at most 18: ``int`` of thousands of digits raises)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _label_index(classes: Sequence[str], labels: Sequence[str]) -> tuple[dict[str, int], bool]:
    """``({label text: class index}, by_position)``: labels are column names, or positions
    when no label is a column name and the column names are not integers themselves."""
    by_name = {name: k for k, name in enumerate(classes)}
    if any(label in by_name for label in labels) or all(map(_is_index, classes)):
        return by_name, False
    by_position = {
        label: int(label) for label in set(labels) if _is_index(label) and int(label) < len(classes)
    }
    return by_position, True
