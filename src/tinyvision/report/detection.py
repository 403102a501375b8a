"""Detection evaluation report: PR curves, F1 against confidence, per-class AP, confusions.

:func:`write_detection_report` writes the PNG figures and a self-contained ``report.html``
for a :class:`~tinyvision.metrics.DetectionEvaluation` (what ``tinyvision detect eval
--out DIR`` produces; the detector trainer reuses it).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from tinyvision._fileio import remove_stale_temps
from tinyvision.metrics.coco import DetectionEvaluation
from tinyvision.report.html import HtmlReport
from tinyvision.report.plots import (
    bars_figure,
    confusion_matrix_figure,
    curves_figure,
    png_bytes,
    save_png,
)
from tinyvision.report.run_plots import add_training_section

__all__ = ["REPORT_FILES", "f1_figure", "pr_curves_figure", "write_detection_report"]

# The files of a detection report folder: the metrics its callers write, then the report's.
REPORT_FILES = (
    "metrics.json",
    "pr_curves.png",
    "f1_confidence.png",
    "ap_per_class.png",
    "confusion_matrix.png",
    "report.html",
)


def pr_curves_figure(
    result: DetectionEvaluation, *, iou_threshold: float | None = None, limit: int = 20
) -> Figure:
    """Precision-recall curves at one IoU (default ``result.report_iou_threshold``): all
    classes pooled (thick) and the ``limit`` classes with the most ground truths."""
    iou_threshold = _report_iou(result, iou_threshold)
    curves = []
    pooled = result.pr_curve(None, iou_threshold=iou_threshold)
    label = "all classes"
    if iou_threshold == 0.5 and not math.isnan(result.map50):
        label += f" (mAP {result.map50:.3f})"
    curves.append((pooled.recall, pooled.precision, label))
    rows = [r for r in result.per_class() if r["gt"] > 0]
    rows.sort(key=lambda r: -r["gt"])
    for row in rows[:limit]:
        curve = result.pr_curve(row["category_id"], iou_threshold=iou_threshold)
        curves.append((curve.recall, curve.precision, row["name"]))
    fig = curves_figure(
        curves,
        title=f"Precision-recall, IoU {iou_threshold:g} ({result.params.mode})",
        xlabel="recall",
        ylabel="precision",
        legend_limit=limit + 1,
    )
    ax = fig.axes[0]
    ax.lines[0].set_linewidth(2.6)
    ax.lines[0].set_color("black")
    if ax.get_legend() is not None:
        ax.legend(fontsize=7, loc="best")  # again, so the key shows the new style
    return fig


def f1_figure(result: DetectionEvaluation, *, iou_threshold: float | None = None) -> Figure:
    """Precision, recall and F1 of all classes pooled against the confidence threshold, at
    one IoU (default ``result.report_iou_threshold``)."""
    iou_threshold = _report_iou(result, iou_threshold)
    curve = result.pr_curve(None, iou_threshold=iou_threshold)
    p, r = curve.precision, curve.recall
    denom = p + r
    f1 = np.divide(2 * p * r, denom, out=np.zeros(denom.shape), where=denom > 0)
    fig = curves_figure(
        [(curve.score, p, "precision"), (curve.score, r, "recall"), (curve.score, f1, "F1")],
        title=f"Precision, recall, F1 against confidence (IoU {iou_threshold:g})",
        xlabel="confidence",
        ylabel="value",
    )
    if curve.score.size:
        ax = fig.axes[0]
        hi = max(1.0, float(curve.score.max()))
        lo = min(0.0, float(curve.score.min()))
        ax.set_xlim(lo, hi)
        best = result.best_f1(iou_threshold=iou_threshold)
        if math.isfinite(best.confidence):
            ax.axvline(best.confidence, color="grey", linestyle=":", linewidth=1.0)
    return fig


def _report_iou(result: DetectionEvaluation, iou_threshold: float | None) -> float:
    return result.report_iou_threshold if iou_threshold is None else iou_threshold


def _metric_cards(result: DetectionEvaluation) -> dict[str, Any]:
    # mAP@0.5 and mAP@0.5:0.95 are NaN when those thresholds were not evaluated: left out,
    # and COCO's "AP" card then names the thresholds it averages
    cards: dict[str, Any] = {}
    if not math.isnan(result.map50):
        cards["mAP@0.5"] = result.map50
    if result.is_coco:
        if math.isnan(result.map50_95):
            lo, hi = result.params.iou_thresholds[[0, -1]]
            cards[f"AP@{lo:.2f}:{hi:.2f}"] = float(result.stats[0])
        else:
            cards["mAP@0.5:0.95"] = result.map50_95
        cards.update({n: v for n, v in zip(result.stat_names[2:6], result.stats[2:6].tolist())})
    iou = result.report_iou_threshold
    best = result.best_f1(iou_threshold=iou)
    cards[f"best F1 (IoU {iou:g})"] = best.f1
    cards["at confidence"] = best.confidence
    return cards


def write_detection_report(
    result: DetectionEvaluation,
    out_dir: str | os.PathLike[str],
    *,
    title: str = "Detection evaluation",
    subtitle: str | None = None,
    confidence: float = 0.25,
    run_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Path]:
    """Write ``pr_curves.png``, ``f1_confidence.png``, ``ap_per_class.png``,
    ``confusion_matrix.png`` and ``report.html`` into ``out_dir``; return their paths.

    ``run_dir`` (a training run's folder) adds its "Training" section: ``results.png``,
    ``labels.png`` and ``train_batch0.jpg``, those that exist.

    Temporary files an interrupted earlier write left for any of :data:`REPORT_FILES`
    (``metrics.json`` too, which the callers write beside the report) are removed."""
    out = Path(out_dir)
    remove_stale_temps(out, REPORT_FILES)
    paths: dict[str, Path] = {}
    iou = result.report_iou_threshold
    figures = {
        "pr_curves": (pr_curves_figure(result), f"Precision-recall curves at IoU {iou:g}"),
        "f1_confidence": (f1_figure(result), "Precision, recall and F1 against confidence"),
    }
    rows = result.per_class()
    ap_name = "AP" if result.is_coco else result.stat_names[0]
    valid = [r for r in rows if r["gt"] > 0]
    if valid:
        series = {ap_name: [max(r[ap_name], 0.0) for r in valid]}
        if result.is_coco:
            series["AP50"] = [max(r["AP50"], 0.0) for r in valid]
        figures["ap_per_class"] = (
            bars_figure([r["name"] for r in valid], series, title="AP per class", ylabel="AP"),
            "AP per class",
        )
    matrix = result.confusion_matrix(confidence, iou_threshold=iou)
    labels = [*result.category_names, "background"]
    figures["confusion_matrix"] = (
        confusion_matrix_figure(
            matrix,
            labels,
            normalize=True,
            title=f"Detection confusion matrix (confidence >= {confidence:g}, IoU {iou:g})",
        ),
        "Confusion matrix: rows true class, columns predicted; background = missed / spurious",
    )
    images: dict[str, tuple[bytes, str]] = {}
    for name, (fig, caption) in figures.items():
        paths[name] = save_png(fig, out / f"{name}.png")
        images[name] = (png_bytes(fig), caption)

    report = HtmlReport(title, subtitle=subtitle or f"mode {result.params.mode}")
    report.add_metrics(_metric_cards(result))
    report.add_section("Summary")
    report.add_pre(result.summary())
    counts = [result.counts(confidence, iou_threshold=iou), result.best_f1(iou_threshold=iou)]
    report.add_table(
        ["at", "confidence", "TP", "FP", "FN", "precision", "recall", "F1"],
        [
            [label, c.confidence, c.tp, c.fp, c.fn, c.precision, c.recall, c.f1]
            for label, c in zip(("given confidence", "best F1"), counts)
        ],
    )
    report.add_section("Curves")
    for name in ("pr_curves", "f1_confidence"):
        report.add_image(images[name][0], caption=images[name][1])
    report.add_section("Per class")
    names = result.stat_names
    report.add_table(
        ["category", "gt", "dt", *names],
        [
            [r["name"], r["gt"], r["dt"], *[math.nan if r[n] < 0 else r[n] for n in names]]
            for r in rows
        ],
        digits=3,
    )
    if "ap_per_class" in images:
        report.add_image(images["ap_per_class"][0], caption=images["ap_per_class"][1])
    report.add_section("Errors")
    report.add_text(
        "Each ground truth is matched, confused with another class by an overlapping "
        "detection, or missed (background column); each kept detection is a match, a "
        "confusion, or a background false positive (background row)."
    )
    errors = result.error_breakdown(confidence, iou_threshold=iou)
    report.add_table(
        ["outcome", "count"],
        [
            ["true positives", errors["tp"]],
            ["false positive: on another class's object", errors["fp_confusion"]],
            ["false positive: duplicate of a found object", errors["fp_duplicate"]],
            [f"false positive: poorly localised (IoU 0.1-{iou:g})", errors["fp_localization"]],
            ["false positive: background", errors["fp_background"]],
            ["false negative: taken for another class", errors["fn_confused"]],
            ["false negative: missed", errors["fn_missed"]],
        ],
    )
    report.add_image(images["confusion_matrix"][0], caption=images["confusion_matrix"][1])
    if run_dir is not None:
        add_training_section(report, run_dir)
    paths["report"] = report.write(out / "report.html")
    return paths
