"""The HTML report stands alone; the shared figures render to PNG."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from tinyvision.report import HtmlReport
from tinyvision.report.plots import (
    bars_figure,
    confusion_matrix_figure,
    curves_figure,
    png_bytes,
    save_png,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_figures_render_png(tmp_path: Path) -> None:
    cm = np.array([[5, 1], [0, 4]])
    fig = confusion_matrix_figure(cm, ["cat", "dog"])
    assert png_bytes(fig).startswith(PNG_MAGIC)
    fig = curves_figure(
        [([0, 0.5, 1], [0, 0.8, 1], "a")], title="ROC", xlabel="FPR", ylabel="TPR", diagonal=True
    )
    path = save_png(fig, tmp_path / "roc.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
    fig = bars_figure(["a", "b"], {"precision": [0.5, 1.0], "recall": [1.0, 0.2]}, title="P/R")
    assert png_bytes(fig).startswith(PNG_MAGIC)


def test_confusion_matrix_with_empty_row_renders() -> None:
    cm = np.array([[0, 0], [2, 3]])
    assert png_bytes(confusion_matrix_figure(cm, ["a", "b"])).startswith(PNG_MAGIC)


def test_report_is_self_contained(tmp_path: Path) -> None:
    png = png_bytes(bars_figure(["x"], {"v": [0.5]}, title="t"))
    report = HtmlReport("Title <&>", subtitle="sub")
    report.add_metrics({"accuracy": 0.98765, "n": 10, "auc": float("nan")})
    report.add_section("Table")
    report.add_table(["class", "value"], [["a", 0.5], ["b", float("nan")]])
    report.add_image(png, caption="bars")
    report.add_pre("a  b\n1  2")
    out = report.write(tmp_path / "r" / "report.html")
    text = out.read_text()
    assert "Title &lt;&amp;&gt;" in text
    assert "0.9877" in text and "<td>-</td>" in text
    encoded = text.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(encoded) == png
    assert 'src="http' not in text and "<link" not in text


def test_detection_report_without_iou_05(tmp_path: Path) -> None:
    # thresholds without 0.5: the report's curves, counts and errors use 0.6 (the first
    # evaluated) and say so; no mAP@0.5 / mAP@0.5:0.95 card shows a number nobody measured
    from tinyvision.data import make_coco_like
    from tinyvision.metrics import evaluate_detections
    from tinyvision.report.detection import write_detection_report

    gt, dt = make_coco_like(12, 2, seed=3)
    result = evaluate_detections(gt, dt, iou_thresholds=[0.6, 0.7])
    paths = write_detection_report(result, tmp_path)
    assert paths["pr_curves"].read_bytes().startswith(PNG_MAGIC)
    html = paths["report"].read_text()
    assert "Precision-recall curves at IoU 0.6" in html
    assert "poorly localised (IoU 0.1-0.6)" in html
    assert "best F1 (IoU 0.6)" in html and "AP@0.60:0.70" in html
    assert "mAP@0.5" not in html
