"""`tinyvision detect eval --iou-type/--max-dets/--iou-thrs/--area-rng`, and YOLO
segmentation labels read as polygons: live against pycocotools."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _cli_helpers import assert_one_line_error, run_cli
from detection_helpers import pycoco
from tinyvision.data import formats
from tinyvision.data.cocolike_instances import make_coco_like_keypoints, make_coco_like_segm


def _files(tmp_path: Path, gt: dict, dt: list) -> tuple[str, str]:
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    return str(tmp_path / "gt.json"), str(tmp_path / "dt.json")


def _summary(out: str, n: int) -> str:
    return "\n".join(out.splitlines()[:n]) + "\n"


def test_segm_from_coco_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt, dt = make_coco_like_segm(10, 3, seed=4)
    gt_path, dt_path = _files(tmp_path, gt, dt)
    code, out, err = run_cli(capsys, "detect", "eval", "--gt", gt_path, "--dt", dt_path,
                             "--iou-type", "segm")  # fmt: skip
    assert code == 0, err
    assert _summary(out, 12) == pycoco(gt, dt, "segm")[1]


def test_keypoints_with_changed_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt, dt = make_coco_like_keypoints(12, seed=3)
    gt_path, dt_path = _files(tmp_path, gt, dt)
    code, out, err = run_cli(
        capsys, "detect", "eval", "--gt", gt_path, "--dt", dt_path, "--iou-type", "keypoints",
        "--max-dets", "5,20", "--iou-thrs", "0.5,0.75", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, err
    theirs = pycoco(gt, dt, "keypoints", maxDets=[5, 20], iouThrs=np.array([0.5, 0.75]))[1]
    assert _summary(out, 10) == theirs
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["params"]["iou_type"] == "keypoints"
    assert metrics["params"]["max_dets"] == [5, 20]


def test_bbox_area_ranges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt, dt = make_coco_like_segm(10, 2, seed=6, with_bbox=True)
    gt_path, dt_path = _files(tmp_path, gt, dt)
    code, out, err = run_cli(
        capsys, "detect", "eval", "--gt", gt_path, "--dt", dt_path,
        "--area-rng", "all=0:1e10,small=0:2000,medium=2000:9000,large=9000:1e10",
    )  # fmt: skip
    assert code == 0, err
    rng = [[0, 1e10], [0, 2000], [2000, 9000], [9000, 1e10]]
    assert _summary(out, 12) == pycoco(gt, dt, areaRng=rng)[1]


def test_yolo_segmentation_labels_are_polygons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    gt, dt = make_coco_like_segm(6, 2, seed=8, crowd_fraction=0.0)
    root = tmp_path / "yolo"
    (root / "images" / "val").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    (root / "data.yaml").write_text("path: .\nval: images/val\nnames: [a, b]\n")
    cats = {c["id"]: k for k, c in enumerate(gt["categories"])}
    for im in gt["images"]:
        w, h = im["width"], im["height"]
        cv2.imwrite(str(root / "images" / "val" / f"{im['id']}.png"), np.zeros((h, w, 3), np.uint8))
        lines = []
        for ann in gt["annotations"]:
            if ann["image_id"] == im["id"] and isinstance(ann["segmentation"], list):
                xy = np.clip(np.array(ann["segmentation"][0]).reshape(-1, 2) / (w, h), 0, 1)
                lines.append(
                    f"{cats[ann['category_id']]} " + " ".join(f"{v:.6f}" for v in xy.ravel())
                )
        (root / "labels" / "val" / f"{im['id']}.txt").write_text("\n".join(lines) + "\n")
    dataset = formats.read_yolo(root)
    assert dataset.segmentation is not None and all(
        isinstance(s, list) for s in dataset.segmentation
    )
    for r in dt:
        r["category_id"] = cats[r["category_id"]]
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    code, out, err = run_cli(capsys, "detect", "eval", "--gt", str(root), "--dt",
                             str(tmp_path / "dt.json"), "--iou-type", "segm")  # fmt: skip
    assert code == 0, err
    # pycocotools on the same data set written as COCO (polygons in pixels, their areas)
    coco = formats.to_coco(dataset)
    assert all("segmentation" in a for a in coco["annotations"])
    assert _summary(out, 12) == pycoco(coco, dt, "segm")[1]
    assert "= 0.000" not in _summary(out, 1)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-dets", "1,x"], "--max-dets must be comma-separated ints, got '1,x'"),
        (["--max-dets", "0"], "--max-dets must be >= 1"),
        (["--iou-thrs", "0.5,1.5"], r"--iou-thrs must be non-empty, in \[0, 1\]"),
        (["--area-rng", "all"], "--area-rng must be label=lo:hi pairs"),
        (["--area-rng", "all=9:1"], "--area-rng must be .lo, hi. pairs with lo <= hi"),
        (["--iou-type", "segm", "--mode", "voc07"], "--iou-type 'segm' needs mode 'coco'"),
    ],
)
def test_bad_flags_are_one_line_before_the_evaluation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch, flags, message
) -> None:
    import tinyvision.metrics.coco

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the evaluation ran before the options were checked")

    monkeypatch.setattr(tinyvision.metrics.coco, "evaluate_detections", no_work)
    gt, dt = make_coco_like_segm(2, 1, seed=0)
    gt_path, dt_path = _files(tmp_path, gt, dt)
    code, out, err = run_cli(capsys, "detect", "eval", "--gt", gt_path, "--dt", dt_path, *flags)
    assert_one_line_error(code, err, message)
    assert out == ""
