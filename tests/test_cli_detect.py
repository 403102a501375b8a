"""`tinyvision detect eval`: output files, formats, and one-line errors (exit 2)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _cli_helpers import assert_usage_error
from tinyvision.cli import main
from tinyvision.data import formats, make_coco_like
from tinyvision.metrics import evaluate_detections

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def coco_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, list]:
    folder = tmp_path_factory.mktemp("coco")
    gt, dt = make_coco_like(40, 4, seed=6)
    (folder / "gt.json").write_text(json.dumps(gt))
    (folder / "dt.json").write_text(json.dumps(dt))
    return folder / "gt.json", folder / "dt.json", gt, dt


def test_eval_writes_metrics_figures_and_report(
    coco_files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt_path, dt_path, gt, dt = coco_files
    out = tmp_path / "out"
    code = main(["detect", "eval", "--gt", str(gt_path), "--dt", str(dt_path), "--per-class",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    expected = evaluate_detections(gt, dt)
    assert expected.summary() in printed
    assert expected.per_class_text() in printed
    assert "best F1" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["map50"] == expected.stats[1]
    assert metrics["map50_95"] == expected.stats[0]
    assert metrics["stats"]["AR100"] == expected.stats[8]
    assert len(metrics["per_class"]) == 4
    for name in ("pr_curves", "f1_confidence", "ap_per_class", "confusion_matrix"):
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4
    assert 'src="http' not in html and "<link" not in html  # self-contained


def test_eval_voc_mode_and_without_out(coco_files, capsys: pytest.CaptureFixture[str]) -> None:
    gt_path, dt_path, _, _ = coco_files
    assert (
        main(["detect", "eval", "--gt", str(gt_path), "--dt", str(dt_path), "--mode", "voc07"]) == 0
    )
    assert "VOC 11-point" in capsys.readouterr().out


def test_eval_yolo_dataset_with_prediction_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    gt, dt = make_coco_like(6, 2, seed=2, crowd_fraction=0.0, detections_per_image=10)
    for im in gt["images"]:
        im["file_name"] = f"{im['id']}.png"
        cv2.imwrite(
            str(tmp_path / im["file_name"]), np.zeros((im["height"], im["width"], 3), np.uint8)
        )
    dataset = formats.read_coco(gt)
    formats.write_yolo(dataset, tmp_path / "yolo", image_dir=tmp_path)
    formats.write_yolo_predictions(formats.read_coco_results(dt), dataset, tmp_path / "pred")
    out = tmp_path / "out"
    code = main(["detect", "eval", "--gt", str(tmp_path / "yolo"), "--dt", str(tmp_path / "pred"),
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["ground_truth"]["format"] == "yolo"
    assert 0 < metrics["map50"] <= 1


def bad_case(tmp_path: Path, name: str) -> tuple[Path, Path]:
    gt = {
        "images": [{"id": 1}, {"id": 2}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9],
                         "area": 81, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "a"}],
    }  # fmt: skip
    det = {"image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9], "score": 0.9}
    texts = {
        "missing_image": json.dumps([{**det, "image_id": 5}]),
        "unknown_category": json.dumps([{**det, "category_id": 3}]),
        "negative_size": json.dumps([{**det, "bbox": [0, 0, -2, 9]}]),
        "nan_box": '[{"image_id": 1, "category_id": 1, "bbox": [0, NaN, 9, 9], "score": 0.9}]',
        "string_score": json.dumps([{**det, "score": "high"}]),
        "malformed": '[{"image_id": 1,\n  "category_id": 1 "bbox": []}]',
        "empty": "",
        "missing_key": json.dumps([{k: v for k, v in det.items() if k != "bbox"}]),
    }
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(texts[name])
    return tmp_path / "gt.json", tmp_path / "dt.json"


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("missing_image", "image id.*missing from the ground truth's images: 5"),
        ("unknown_category", "category id.*missing from the ground truth's categories: 3"),
        ("negative_size", r"width and height >= 0, got \[0.0, 0.0, -2.0, 9.0\] at row 0"),
        ("nan_box", "(malformed JSON at line 1|must be finite)"),
        ("string_score", r"results\[0\]\['score'\] must be a number"),
        ("malformed", r"dt\.json: malformed JSON at line 2, column 20"),
        ("empty", r"dt\.json: the file is empty"),
        ("missing_key", r"results\[0\] has no 'bbox'"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path, name: str, match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    gt_path, dt_path = bad_case(tmp_path, name)
    assert main(["detect", "eval", "--gt", str(gt_path), "--dt", str(dt_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("tinyvision: error: ")
    assert re.search(match, err), err


def test_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    gt_path, _ = bad_case(tmp_path, "malformed")
    proc = subprocess.run(
        [sys.executable, "-m", "tinyvision", "detect", "eval", "--gt", str(gt_path),
         "--dt", str(tmp_path / "nope.json")],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=SRC), timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "nope.json" in proc.stderr


def test_convert_coco_to_voc_and_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt, _ = make_coco_like(5, 3, seed=4, crowd_fraction=0.0)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    args = ["detect", "convert", "--src", str(tmp_path / "gt.json"), "--dst"]
    assert main([*args, str(tmp_path / "voc"), "--to", "voc"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert len(list((tmp_path / "voc" / "Annotations").glob("*.xml"))) == 5
    back = ["detect", "convert", "--src", str(tmp_path / "voc"), "--dst", str(tmp_path / "b.json")]
    assert main([*back, "--to", "coco"]) == 0
    assert len(formats.read_coco(tmp_path / "b.json")) == len(gt["annotations"])
    with pytest.raises(SystemExit) as info:
        main([*args, str(tmp_path / "x"), "--to", "yaml"])
    assert info.value.code == 2


@pytest.mark.parametrize("conf", ["nan", "1.5", "-0.1"])
def test_eval_conf_is_checked_as_it_is_parsed(coco_files, capsys, conf: str) -> None:
    gt_path, dt_path, _, _ = coco_files
    argv = ["detect", "eval", "--gt", str(gt_path), "--dt", str(dt_path), "--conf", conf]
    assert_usage_error(capsys, argv, rf"--conf: must be a number in \[0, 1\], got {conf}")


@pytest.mark.parametrize(
    ("flags", "message"), [(["--out", "{afile}"], "--out {afile} is a file, not a folder")]
)
def test_eval_options_are_checked_before_the_evaluation(
    coco_files, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch, flags, message
) -> None:
    import tinyvision.metrics.coco

    gt_path, dt_path, _, _ = coco_files
    afile = tmp_path / "afile"
    afile.write_text("taken")

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the evaluation ran before the options were checked")

    monkeypatch.setattr(tinyvision.metrics.coco, "evaluate_detections", no_work)
    flags = [f.format(afile=afile) for f in flags]
    code = main(["detect", "eval", "--gt", str(gt_path), "--dt", str(dt_path), *flags])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no summary printed first
    assert captured.err.strip() == f"tinyvision: error: {message.format(afile=afile)}"
    assert afile.read_text() == "taken"


def test_convert_to_yolo_without_images_warns_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt, _ = make_coco_like(4, 2, seed=5, crowd_fraction=0.0)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    args = ["detect", "convert", "--src", str(tmp_path / "gt.json"), "--dst", str(tmp_path / "y")]
    assert main([*args, "--to", "yolo"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("tinyvision: warning: wrote YOLO labels only")
    assert "--images" in captured.err and str(tmp_path / "y" / "images" / "val") in captured.err
    assert len(list((tmp_path / "y" / "labels" / "val").glob("*.txt"))) == 4


def test_convert_segments_flag_writes_polygon_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tinyvision.data import make_coco_like_segm

    gt, _ = make_coco_like_segm(3, 2, seed=2, crowd_fraction=0.0)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    code = main(["detect", "convert", "--src", str(tmp_path / "gt.json"), "--dst",
                 str(tmp_path / "y"), "--to", "yolo", "--segments"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert "as boxes" in err  # the objects of several polygons, counted in one warning line
    lengths = {
        len(line.split())
        for f in (tmp_path / "y" / "labels" / "val").glob("*.txt")
        for line in f.read_text().splitlines()
    }
    assert any(n >= 7 and n % 2 == 1 for n in lengths)  # class + at least 3 points
    code = main(["detect", "convert", "--src", str(tmp_path / "gt.json"), "--dst",
                 str(tmp_path / "v"), "--to", "voc", "--segments"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == (
        "tinyvision: error: --segments applies to --to yolo only, got --to voc"
    )
