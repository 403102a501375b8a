"""The report of a classifier evaluation: after ``classify train``, ``classify eval`` and
``demo`` (``metrics.json``, plots, ``report.html``, ``predictions.csv``, the table printed).

The detector's report is :func:`tinyvision.report.detection.write_detection_report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from tinyvision.train.evaluate import ClassifierEvaluation
    from tinyvision.train.runs import SnapshotEnsemble

__all__ = ["write_classifier_report"]

Table = tuple[str, Sequence[str], Sequence[Sequence[Any]]]


def write_classifier_report(
    y_true: np.ndarray,
    probs: np.ndarray,
    classes: Sequence[str],
    out: Path,
    *,
    title: str,
    extra: dict[str, Any],
    ensemble: SnapshotEnsemble | None = None,
    tables: Sequence[Table] = (),
    stream: IO[str] | None = None,
) -> ClassifierEvaluation:
    """Evaluate ``probs`` ([N, C] class probabilities; a snapshot ensemble's mean when
    ``ensemble`` is given) against ``y_true`` ([N] class indices), write the evaluation
    into ``out`` and print its table (and the ensemble's verdict) to ``stream``."""
    from tinyvision.train.evaluate import (
        evaluate_scores,
        format_table,
        write_evaluation,
        write_predictions_csv,
    )

    tables = list(tables)
    if ensemble is not None:
        extra = {**extra, "ensemble": ensemble.summary()}
        tables.append(("Snapshot ensemble", ["model", "accuracy"], ensemble.rows()))
    evaluation = evaluate_scores(y_true, probs, classes)
    paths = write_evaluation(evaluation, out, title=title, extra=extra, extra_tables=tables)
    write_predictions_csv(out / "predictions.csv", y_true, probs, classes)
    print(format_table(evaluation), file=stream)
    if ensemble is not None:
        verdict = "beats" if ensemble.beats_best_member else "does not beat"
        print(
            f"snapshot ensemble of {len(ensemble.members)}: accuracy {ensemble.accuracy:.4f}, "
            f"{verdict} its best member ({max(ensemble.member_accuracy):.4f})",
            file=stream,
        )
    print(f"wrote {paths['metrics.json']}, {paths['report.html']} and plots", file=stream)
    return evaluation
