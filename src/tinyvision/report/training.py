"""The reports at the end of a run: a classifier evaluation (after ``classify train``,
``classify eval`` and ``demo``: ``metrics.json``, plots, ``report.html``, ``predictions.csv``,
the table printed) and a detector run's (the COCO summary printed, ``metrics.json`` with the
run's ``training`` entry, :func:`tinyvision.report.detection.write_detection_report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from tinyvision.metrics.coco.evaluation import DetectionEvaluation
    from tinyvision.train.evaluate import ClassifierEvaluation
    from tinyvision.train.runs import SnapshotEnsemble

__all__ = ["write_classifier_report", "write_detector_run_report"]

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
    run_dir: Path | None = None,
) -> ClassifierEvaluation:
    """Evaluate ``probs`` ([N, C] class probabilities; a snapshot ensemble's mean when
    ``ensemble`` is given) against ``y_true`` ([N] class indices), write the evaluation
    into ``out`` and print its table (and the ensemble's verdict) to ``stream``.
    ``run_dir``: a training run's folder, whose pictures (results.png) the report shows."""
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
    paths = write_evaluation(
        evaluation, out, title=title, extra=extra, extra_tables=tables, run_dir=run_dir
    )
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


def write_detector_run_report(
    evaluation: DetectionEvaluation,
    out: Path,
    training: dict[str, Any],
    *,
    subtitle: str,
    confidence: float = 0.25,
) -> dict[str, Path]:
    """Print the COCO summary and per-class table of a detector run's ``evaluation``, write
    ``metrics.json`` (with ``training``, the run's settings and timings) and the detection
    report into ``out``; the paths written."""
    from tinyvision._fileio import atomic_write_json
    from tinyvision.report.detection import write_detection_report

    print(evaluation.summary())
    print()
    print(evaluation.per_class_text())
    print(f"\nmAP@0.5 {evaluation.map50:.4f}  mAP@0.5:0.95 {evaluation.map50_95:.4f}")
    metrics = evaluation.to_dict(confidence=confidence)
    metrics["training"] = training
    atomic_write_json(out / "metrics.json", metrics)
    paths = write_detection_report(
        evaluation,
        out,
        title="Detector training",
        subtitle=subtitle,
        confidence=confidence,
        run_dir=out,  # the run's results.png, labels.png and train_batch0.jpg
    )
    print(f"wrote {out / 'metrics.json'}, {paths['report']} and plots")
    return {"metrics.json": out / "metrics.json", **paths}
