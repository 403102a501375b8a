"""iou_type "segm" and "keypoints", and use_cats=False: live against pycocotools 2.0.11,
every bit of stats, precision, recall, scores and the summary text."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detection_helpers import assert_same_as_pycoco, pycoco
from tinyvision.data.cocolike_instances import make_coco_like_keypoints, make_coco_like_segm
from tinyvision.metrics import ImageMatches, _detection_kernels, evaluate_detections
from tinyvision.metrics._coco_io import detections_from_coco
from tinyvision.metrics.coco import _iou


def _with_empties(gt: dict[str, Any]) -> dict[str, Any]:
    """An image without objects and a category without instances."""
    gt = copy.deepcopy(gt)
    gt["images"].append({"id": 10**6, "width": 320, "height": 240, "file_name": "empty.jpg"})
    gt["categories"].append({"id": 777, "name": "never"})
    return gt


def _same(gt: Any, dt: Any, iou_type: str, ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    ev, text = pycoco(gt, dt, iou_type, **theirs)
    result = evaluate_detections(gt, dt, iou_type=iou_type, **ours)
    assert_same_as_pycoco(result, ev)
    assert result.summary() + "\n" == text


@pytest.mark.parametrize("with_bbox", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_segm_matches_pycocotools(seed: int, with_bbox: bool) -> None:
    gt, dt = make_coco_like_segm(30, 4, seed=seed, with_bbox=with_bbox, score_decimals=1)
    gt = _with_empties(gt)
    kinds = [type(a["segmentation"]).__name__ for a in gt["annotations"]]
    assert {"list", "dict"} <= set(kinds)  # polygons and RLE (compressed and crowd)
    assert any(a["iscrowd"] for a in gt["annotations"])
    _same(gt, dt, "segm", {}, {})
    _same(gt, dt, "segm", {"use_cats": False}, {"useCats": 0})


@pytest.mark.parametrize("with_bbox", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_keypoints_match_pycocotools(seed: int, with_bbox: bool) -> None:
    gt, dt = make_coco_like_keypoints(40, seed=seed, with_bbox=with_bbox, score_decimals=1)
    gt = _with_empties(gt)
    flags = {v for a in gt["annotations"] for v in a["keypoints"][2::3]}
    assert flags == {0, 1, 2}
    assert any(a["num_keypoints"] == 0 and not a["iscrowd"] for a in gt["annotations"])
    result = evaluate_detections(gt, dt, iou_type="keypoints")
    assert result.stats[0] > 0.02  # real matches, not an all-zero comparison
    _same(gt, dt, "keypoints", {}, {})
    # pycocotools' computeOks reads no group with useCats=0: nothing matches (a quirk).
    _same(gt, dt, "keypoints", {"use_cats": False}, {"useCats": 0})
    fixed = evaluate_detections(gt, dt, iou_type="keypoints", use_cats=False, mode="coco-fixed")
    assert fixed.stats[0] > 0.0


def test_segm_changed_params_match_pycocotools() -> None:
    gt, dt = make_coco_like_segm(25, 3, seed=5, score_decimals=2)
    iou = np.array([0.3, 0.5, 0.75])
    rec = np.linspace(0, 1, 11)
    _same(gt, dt, "segm", {"iou_thresholds": iou, "recall_thresholds": rec},
          {"iouThrs": iou, "recThrs": rec})  # fmt: skip
    # maxDets without 100: stats[0] is -1 as pycocotools reads it at maxDets=100.
    _same(gt, dt, "segm", {"max_dets": [1, 5, 50]}, {"maxDets": [1, 5, 50]})
    areas = {"all": (0, 1e10), "small": (0, 400), "medium": (400, 3000), "large": (3000, 1e10)}
    _same(
        gt, dt, "segm", {"area_ranges": areas},
        {"areaRng": [list(v) for v in areas.values()], "areaRngLbl": list(areas)},
    )  # fmt: skip


def test_keypoints_changed_params_match_pycocotools() -> None:
    gt, dt = make_coco_like_keypoints(30, num_keypoints=5, seed=2)
    sigmas = np.array([0.3, 0.5, 0.7, 0.5, 0.3]) / 10
    _same(gt, dt, "keypoints", {"kpt_oks_sigmas": sigmas}, {"kpt_oks_sigmas": sigmas})
    gt, dt = make_coco_like_keypoints(30, seed=4)
    # every keypoint number is read at maxDets=20: -1 when 20 is not evaluated
    _same(gt, dt, "keypoints", {"max_dets": [5, 10]}, {"maxDets": [5, 10]})
    _same(gt, dt, "keypoints", {"max_dets": [3, 20]}, {"maxDets": [3, 20]})
    iou = np.array([0.5, 0.75, 0.9])
    _same(gt, dt, "keypoints", {"iou_thresholds": iou}, {"iouThrs": iou})
    fixed = evaluate_detections(gt, dt, iou_type="keypoints", mode="coco-fixed", max_dets=[5, 10])
    assert fixed.stat_names[:3] == ("AP", "AP50", "AP75")
    assert np.all(fixed.stats > 0)  # read at the largest limit, not at 20


def test_bbox_use_cats_false_matches_pycocotools() -> None:
    gt, dt = make_coco_like_segm(30, 5, seed=7, score_decimals=1, with_bbox=True)
    _same(gt, dt, "bbox", {"use_cats": False}, {"useCats": 0})


def test_segm_from_json_files(tmp_path: Path) -> None:
    gt, dt = make_coco_like_segm(12, 2, seed=9)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    ev, _ = pycoco(gt, dt, "segm")
    result = evaluate_detections(tmp_path / "gt.json", tmp_path / "dt.json", iou_type="segm")
    assert_same_as_pycoco(result, ev)


@pytest.mark.parametrize("n", [*range(20), 31, 64, 127, 128, 129, 200, 257, 1000])
def test_pairwise_sum_is_numpys(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 9, n)
    assert _iou.pairwise_sum(values) == np.sum(values)


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_explanations_read_the_stored_matches(
    monkeypatch: pytest.MonkeyPatch, iou_type: str
) -> None:
    gt, dt = make_coco_like_segm(20, 3, seed=11, with_bbox=True)
    result = evaluate_detections(gt, dt, **({"iou_type": "segm"} if iou_type == "segm" else {}))
    matrix = result.confusion_matrix(0.1)
    errors = result.error_breakdown(0.1)

    def no_rerun(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the matching kernel ran again")

    monkeypatch.setattr(_detection_kernels, "match_groups", no_rerun)
    assert np.array_equal(result.confusion_matrix(0.1), matrix)
    assert result.error_breakdown(0.1) == errors
    # the TPs on the diagonal are the evaluation's own (mask IoU), counted at 0.5
    assert np.trace(matrix[:-1, :-1]) == result.counts(0.1).tp
    if iou_type == "segm":
        with pytest.raises(ValueError, match="evaluated thresholds.*segm"):
            result.confusion_matrix(0.1, iou_threshold=0.42)


def test_matches_round_trip_keeps_iou_type() -> None:
    gt, dt = make_coco_like_keypoints(10, seed=1)
    result = evaluate_detections(gt, dt, iou_type="keypoints", use_cats=False, mode="coco-fixed")
    back = ImageMatches.from_arrays(result.matches.to_arrays())
    assert back.params.same_as(result.params)
    assert back.params.iou_type == "keypoints" and not back.params.use_cats


def test_iou_type_needs_a_coco_mode() -> None:
    gt, dt = make_coco_like_segm(3, 2, seed=0)
    with pytest.raises(ValueError, match="iou_type 'segm' needs mode"):
        evaluate_detections(gt, dt, iou_type="segm", mode="voc07")
    with pytest.raises(ValueError, match="iou_type"):
        evaluate_detections(gt, dt, iou_type="mask")


# ----- bad input: the file, the row (and annotation id) and the field ------------------


def _write(tmp_path: Path, gt: Any, dt: Any) -> tuple[Path, Path]:
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    return tmp_path / "gt.json", tmp_path / "dt.json"


def _segm_case(tmp_path: Path, segmentation: Any, where: str = "gt") -> tuple[Path, Path]:
    gt, dt = make_coco_like_segm(3, 1, seed=0, objects_per_image=2)
    if where == "gt":
        gt["annotations"][1]["segmentation"] = segmentation
    else:
        dt[2]["segmentation"] = segmentation
    return _write(tmp_path, gt, dt)


@pytest.mark.parametrize(
    ("segmentation", "message"),
    [
        ([[1, 2, 3, 4]], r"at least 3 points.*got 4 numbers"),
        ([[1, 2, 3, 4, 5]], r"at least 3 points"),
        ([], "empty list"),
        ("polygon", "must be a list of polygons or an RLE"),
        ([["a", 1, 2, 3, 4, 5]], "lists of numbers"),
        ({"size": [480, 640], "counts": [5, 10]}, r"counts sum to 15, not height \* width"),
        ({"size": [480, 640], "counts": "!!"}, "not a valid compressed RLE string"),
        ({"size": [480], "counts": [5]}, r"\['size'\] must be \[height, width\]"),
    ],
)
def test_bad_gt_segmentation_names_file_annotation_and_field(
    tmp_path: Path, segmentation: Any, message: str
) -> None:
    gt_path, dt_path = _segm_case(tmp_path, segmentation)
    gt = json.loads(gt_path.read_text())
    # the image's size, so that only the counts are wrong
    size = next(
        (im["height"], im["width"]) for im in gt["images"]
        if im["id"] == gt["annotations"][1]["image_id"]
    )  # fmt: skip
    if isinstance(segmentation, dict) and segmentation.get("size") == [480, 640]:
        segmentation["size"] = list(size)
        gt_path, dt_path = _segm_case(tmp_path, segmentation)
    ann_id = gt["annotations"][1]["id"]
    with pytest.raises((ValueError, TypeError)) as info:
        evaluate_detections(gt_path, dt_path, iou_type="segm")
    text = str(info.value)
    assert str(gt_path) in text and f"annotations[1] (id {ann_id})" in text
    assert "'segmentation'" in text
    assert __import__("re").search(message, text), text


def test_bad_result_segmentation_names_file_and_index(tmp_path: Path) -> None:
    gt_path, dt_path = _segm_case(tmp_path, {"size": [1, 1], "counts": 3}, where="dt")
    with pytest.raises((ValueError, TypeError)) as info:
        evaluate_detections(gt_path, dt_path, iou_type="segm")
    assert str(dt_path) in str(info.value) and "[2]" in str(info.value)
    assert "'segmentation'" in str(info.value)


def test_keypoints_of_the_wrong_length(tmp_path: Path) -> None:
    gt, dt = make_coco_like_keypoints(3, seed=0, objects_per_image=2, with_bbox=True)
    dt[1]["keypoints"] = dt[1]["keypoints"][:-3]
    gt_path, dt_path = _write(tmp_path, gt, dt)
    with pytest.raises(ValueError, match=r"results\[1\]\['keypoints'\] must have 3 \* 17 = 51"):
        evaluate_detections(gt_path, dt_path, iou_type="keypoints")
    gt["annotations"][0]["keypoints"] = [1, 2, 2]
    dt[1]["keypoints"] = dt[0]["keypoints"]
    gt_path, dt_path = _write(tmp_path, gt, dt)
    with pytest.raises(ValueError, match=r"gt.json: annotations\[0\] \(id 1\)\['keypoints'\]"):
        evaluate_detections(gt_path, dt_path, iou_type="keypoints")


def test_missing_num_keypoints_and_keypoints(tmp_path: Path) -> None:
    gt, dt = make_coco_like_keypoints(3, seed=0, objects_per_image=2)
    del gt["annotations"][2]["num_keypoints"]
    gt_path, dt_path = _write(tmp_path, gt, dt)
    with pytest.raises(ValueError, match=r"annotations\[2\] \(id 3\) has no 'num_keypoints'"):
        evaluate_detections(gt_path, dt_path, iou_type="keypoints")
    gt, _ = make_coco_like_segm(3, 1, seed=0)
    with pytest.raises(ValueError, match="have no 'keypoints'"):
        evaluate_detections(gt, dt, iou_type="keypoints")


def test_results_for_unknown_images(tmp_path: Path) -> None:
    gt, dt = make_coco_like_segm(3, 1, seed=0)
    dt[0]["image_id"] = 123456789
    gt_path, dt_path = _write(tmp_path, gt, dt)
    with pytest.raises(ValueError, match="image id.*123456789"):
        evaluate_detections(gt_path, dt_path, iou_type="segm")


def test_result_polygons_without_bbox_are_refused_as_loadres_does(tmp_path: Path) -> None:
    gt, dt = make_coco_like_segm(3, 1, seed=0)
    dt[0]["segmentation"] = [[1, 1, 5, 1, 5, 5]]
    gt_path, dt_path = _write(tmp_path, gt, dt)
    with pytest.raises(ValueError, match=r"dt.json: results\[0\]\['segmentation'\] must be an RLE"):
        evaluate_detections(gt_path, dt_path, iou_type="segm")


def test_columns_carry_segmentation() -> None:
    gt, dt = make_coco_like_segm(8, 2, seed=12)
    anns = gt["annotations"]
    sizes = {im["id"]: (im["width"], im["height"]) for im in gt["images"]}
    gt_columns = {
        "image_id": [a["image_id"] for a in anns],
        "category_id": [a["category_id"] for a in anns],
        "bbox": np.array([a["bbox"] for a in anns]),
        "area": [a["area"] for a in anns],
        "iscrowd": [a["iscrowd"] for a in anns],
        "segmentation": [a["segmentation"] for a in anns],
        "image_ids": list(sizes),
        "image_sizes": list(sizes.values()),
        "category_ids": [c["id"] for c in gt["categories"]],
    }
    table = detections_from_coco(dt)
    dt_columns = {
        "image_id": table.image_id,
        "category_id": table.category_id,
        "bbox": table.bbox,
        "score": table.score,
        "area": table.area,
        "segmentation": list(table.segmentation),
    }
    expected = evaluate_detections(gt, dt, iou_type="segm")
    result = evaluate_detections(gt_columns, dt_columns, iou_type="segm")
    assert np.array_equal(result.precision, expected.precision)
    assert np.array_equal(result.stats, expected.stats)
    assert expected.stats[0] > 0.05


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([1, 2, 1, 4], r"results\[1\]\['keypoints'\] must be x, y, v triples, got 4"),
        ([1, "2", 1], r"results\[1\]\['keypoints'\] must be a list of numbers"),
        (None, r"results\[1\]\['keypoints'\] must be a list of numbers"),
    ],
)
def test_result_keypoints_without_bbox_checked_at_reading(
    tmp_path: Path, bad: Any, message: str
) -> None:
    gt, dt = make_coco_like_keypoints(3, seed=0, objects_per_image=2)
    dt[1]["keypoints"] = bad
    gt_path, dt_path = _write(tmp_path, gt, dt)
    with pytest.raises((ValueError, TypeError), match=message) as info:
        evaluate_detections(gt_path, dt_path, iou_type="keypoints")
    assert str(dt_path) in str(info.value)


@pytest.mark.parametrize("with_bbox", [False, True])
def test_result_rle_of_another_size_than_its_image(tmp_path: Path, with_bbox: bool) -> None:
    from tinyvision.metrics import _rle

    gt, dt = make_coco_like_segm(3, 1, seed=0, with_bbox=with_bbox)
    image = next(im for im in gt["images"] if im["id"] == dt[4]["image_id"])
    h, w = image["height"] + 1, image["width"]
    buf, _ = _rle.counts_to_strings(np.array([h * w], np.uint32), np.array([0, 1]))
    dt[4]["segmentation"] = {"size": [h, w], "counts": bytes(buf).decode()}
    gt_path, dt_path = _write(tmp_path, gt, dt)
    with pytest.raises(ValueError, match=r"results\[4\]\['segmentation'\]\['size'\] is .*image"):
        evaluate_detections(gt_path, dt_path, iou_type="segm")
