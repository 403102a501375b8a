"""match_detections, average_precision, and the evaluation result's tables, curves,
counts, confusion matrix and export; bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from detection_helpers import coco_dt, coco_gt
from tinyvision.data import make_coco_like
from tinyvision.metrics import average_precision, evaluate_detections, match_detections


# ----------------------------------------------------------------------------- matching
def test_match_detections_hand_computed() -> None:
    gt = [[0, 0, 10, 10], [20, 0, 30, 10], [100, 100, 110, 110]]
    det = [[21, 0, 31, 10], [0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]]
    scores = [0.7, 0.9, 0.8, 0.6]
    out = match_detections(det, scores, gt, iou_threshold=0.5)
    # By score: det1 (0.9) takes gt0 (IoU 1); det2 (0.8) overlaps only gt0 (IoU 90/110),
    # already used -> FP; det0 (0.7) takes gt1 (IoU 90/110 = 0.82); det3 overlaps nothing.
    assert out.tp.tolist() == [True, True, False, False]
    assert out.matched_gt.tolist() == [1, 0, -1, -1]
    assert out.fn.tolist() == [2]
    assert out.fp.tolist() == [False, False, True, True]


def test_match_detections_threshold_is_inclusive_and_ties_go_to_first() -> None:
    # IoU exactly 0.5 (50 / 100) matches; two identical objects: the first is taken.
    out = match_detections([[0, 0, 10, 5]], [1.0], [[0, 0, 10, 10], [0, 0, 10, 10]])
    assert out.matched_gt.tolist() == [0]
    out = match_detections([[0, 0, 10, 5]], [1.0], [[0, 0, 10, 10]], iou_threshold=0.51)
    assert out.tp.tolist() == [False]


def test_match_detections_at_threshold_zero_needs_overlap() -> None:
    # det [0,0,10,10] and gt [50,50,60,60] do not overlap (IoU 0): never a match, even at 0
    out = match_detections([[0, 0, 10, 10]], [0.9], [[50, 50, 60, 60]], iou_threshold=0.0)
    assert out.tp.tolist() == [False] and out.matched_gt.tolist() == [-1]
    assert out.fn.tolist() == [0]
    # boxes that only touch along an edge have IoU 0 too
    out = match_detections([[0, 0, 10, 10]], [0.9], [[10, 0, 20, 10]], iou_threshold=0.0)
    assert out.tp.tolist() == [False]
    # any overlap matches at 0: [9,9,19,19] shares 1 of 100 + 100 - 1 with [0,0,10,10];
    # the disjoint object is skipped in favour of the overlapping one
    out = match_detections([[9, 9, 19, 19]], [0.9], [[50, 50, 60, 60], [0, 0, 10, 10]], 0.0)
    assert out.matched_gt.tolist() == [1] and out.fn.tolist() == [0]


def test_match_detections_empty_inputs() -> None:
    none = match_detections(np.zeros((0, 4)), [], [[0, 0, 1, 1]])
    assert none.tp.shape == (0,) and none.fn.tolist() == [0]
    no_gt = match_detections([[0, 0, 1, 1]], [0.5], np.zeros((0, 4)))
    assert no_gt.tp.tolist() == [False] and no_gt.fn.size == 0
    both = match_detections([], [], [])
    assert both.tp.size == 0 and both.fn.size == 0


def test_match_detections_accepts_tensors() -> None:
    out = match_detections(
        torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([0.3]), torch.tensor([[0.0, 0, 10, 10]])
    )
    assert out.tp.tolist() == [True]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"det_boxes": [[0, 0, 1]], "det_scores": [1.0]}, ValueError, r"\[N, 4\]"),
        ({"det_boxes": [[0, 0, 1, 1]], "det_scores": [1.0, 2.0]}, ValueError, "one score"),
        ({"det_boxes": [[0, 0, np.nan, 1]], "det_scores": [1.0]}, ValueError, "finite"),
        ({"det_boxes": [[5, 0, 1, 1]], "det_scores": [1.0]}, ValueError, "x2 >= x1"),
        ({"det_boxes": [[0, 0, 1, 1]], "det_scores": ["a"]}, TypeError, "real numbers"),
        (
            {"det_boxes": [[0, 0, 1, 1]], "det_scores": [1.0], "iou_threshold": 1.5},
            ValueError,
            "iou_threshold",
        ),
    ],
)
def test_match_detections_bad_input(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        match_detections(gt_boxes=[[0, 0, 1, 1]], **kwargs)


boxes = st.lists(
    st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(0.5, 30), st.floats(0.5, 30)).map(
        lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]]
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(det=boxes, gt=boxes, thr=st.floats(0.05, 0.95), seed=st.integers(0, 1000))
def test_match_detections_invariants(det: list, gt: list, thr: float, seed: int) -> None:
    scores = np.random.default_rng(seed).permutation(len(det)).astype(float)  # distinct
    out = match_detections(det, scores, gt, iou_threshold=thr)
    used = out.matched_gt[out.tp]
    assert len(set(used.tolist())) == used.size  # each object once
    assert out.tp.sum() + out.fn.size == len(gt)
    # Shuffling the detections (with their scores) shuffles the answer the same way.
    perm = np.random.default_rng(seed + 1).permutation(len(det))
    again = match_detections(np.array(det).reshape(-1, 4)[perm], scores[perm], gt, thr)
    assert np.array_equal(again.matched_gt, out.matched_gt[perm])


# ----------------------------------------------------------------------------- AP
def test_average_precision_hand_computed() -> None:
    # TP, FP, TP over 2 objects: recall .5 .5 1, precision 1 .5 .667.
    recall, precision = [0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3]
    # VOC2010: envelope 1, .667, .667 -> 0.5 * 1 + 0.5 * 2/3.
    assert average_precision(recall, precision, "voc2010") == pytest.approx(0.5 + 1 / 3)
    # VOC07: recall >= 0..0.5 -> 1 (6 points), 0.6..1 -> 2/3 (5 points).
    assert average_precision(recall, precision, "voc07") == pytest.approx((6 + 5 * 2 / 3) / 11)
    # COCO: 51 points (0..0.50) -> 1, 50 points -> 2/3.
    assert average_precision(recall, precision) == pytest.approx((51 + 50 * 2 / 3) / 101)
    assert average_precision([], []) == 0.0
    assert average_precision([1.0], [1.0], "voc2010") == 1.0


def test_average_precision_matches_the_evaluator() -> None:
    # Distinct scores: the curve has a point per detection, as VOC's AP sums them.
    gt, dt = make_coco_like(40, 3, seed=5)
    for d, s in zip(dt, np.random.default_rng(0).permutation(len(dt)) / len(dt)):
        d["score"] = float(s)
    voc = evaluate_detections(gt, dt, mode="voc2010")
    for k, cat in enumerate(voc.category_ids.tolist()):
        curve = voc.pr_curve(cat)
        assert average_precision(curve.recall, curve.precision, "voc2010") == voc.ap[0, k, 0, 0]


@pytest.mark.parametrize(
    ("recall", "precision", "method", "match"),
    [
        ([0.5, 0.2], [1, 1], "voc2010", "non-decreasing"),
        ([0.5], [1.5], "voc07", r"\[0, 1\]"),
        ([0.5], [1, 1], "voc07", "same length"),
        ([0.5], [np.nan], "voc07", "finite"),
        ([0.5], [1.0], "voc12", "method"),
    ],
)
def test_average_precision_bad_input(recall, precision, method, match) -> None:
    with pytest.raises(ValueError, match=match):
        average_precision(recall, precision, method)


# ----------------------------------------------------------------------------- result
def three_detections():
    # Two objects; detections: on A (0.9), nowhere (0.8), on B (0.4).
    gt = coco_gt([(1, 1, [0, 0, 10, 10]), (1, 1, [50, 50, 10, 10])], images=[1], categories=[1])
    dt = coco_dt(
        [(1, 1, [0, 0, 10, 10], 0.9), (1, 1, [200, 200, 5, 5], 0.8), (1, 1, [50, 50, 10, 10], 0.4)]
    )
    return evaluate_detections(gt, dt)


def test_counts_and_best_f1_hand_computed() -> None:
    result = three_detections()
    at = result.counts(0.5)
    assert (at.tp, at.fp, at.fn) == (1, 1, 1)
    assert (at.precision, at.recall, at.f1) == (0.5, 0.5, 0.5)
    low = result.counts(0.3)
    assert (low.tp, low.fp, low.fn) == (2, 1, 0)
    assert low.f1 == pytest.approx(0.8)  # 2 * 2 / (4 + 1)
    best = result.best_f1()
    assert best.confidence == 0.4 and best.f1 == pytest.approx(0.8)


def test_pr_curve_points_carry_their_scores() -> None:
    curve = three_detections().pr_curve(1)
    assert curve.score.tolist() == [0.9, 0.8, 0.4]
    assert curve.recall.tolist() == [0.5, 0.5, 1.0]
    assert curve.precision.tolist() == pytest.approx([1.0, 0.5, 2 / 3])
    assert curve.num_gt == 2


def test_best_f1_is_the_maximum_over_confidences() -> None:
    gt, dt = make_coco_like(50, 4, seed=9, score_decimals=2)
    result = evaluate_detections(gt, dt)
    best = result.best_f1()
    all_f1 = [result.counts(c).f1 for c in np.unique([d["score"] for d in dt])]
    assert best.f1 == pytest.approx(max(all_f1))


def test_confusion_matrix_hand_computed() -> None:
    # Class 1: A found, C missed; class 2: B detected as class 1; a class-2 box on nothing.
    gt = coco_gt(
        [(1, 1, [0, 0, 10, 10]), (1, 2, [50, 50, 10, 10]), (1, 1, [100, 100, 10, 10])],
        images=[1], categories=[1, 2],
    )  # fmt: skip
    dt = coco_dt(
        [(1, 1, [0, 0, 10, 10], 0.9), (1, 1, [50, 50, 10, 10], 0.8), (1, 2, [300, 300, 9, 9], 0.7)]
    )
    matrix = evaluate_detections(gt, dt).confusion_matrix(0.5)
    assert matrix.tolist() == [
        [1, 0, 1],  # class 1: found once, missed once
        [1, 0, 0],  # class 2: taken for class 1
        [0, 1, 0],  # background: a spurious class-2 box
    ]
    assert evaluate_detections(gt, dt).confusion_matrix(0.95).tolist() == [
        [0, 0, 2],
        [0, 0, 1],
        [0, 0, 0],
    ]


def test_error_breakdown_hand_computed() -> None:
    gt = coco_gt(
        [(1, 1, [0, 0, 10, 10]), (1, 2, [50, 50, 10, 10]), (1, 1, [100, 100, 10, 10])],
        images=[1], categories=[1, 2],
    )  # fmt: skip
    dt = coco_dt(
        [
            (1, 1, [0, 0, 10, 10], 0.9),  # finds A
            (1, 1, [0, 0, 10, 10], 0.85),  # A again: duplicate
            (1, 1, [6, 0, 10, 10], 0.84),  # IoU 40 / 160 = 0.25 with A: localization
            (1, 1, [50, 50, 10, 10], 0.8),  # on B, of class 2: confusion
            (1, 2, [300, 300, 9, 9], 0.7),  # nothing there: background
        ]
    )
    errors = evaluate_detections(gt, dt).error_breakdown(0.5)
    assert errors == {
        "tp": 1, "fp_confusion": 1, "fp_duplicate": 1, "fp_localization": 1,
        "fp_background": 1, "fn_confused": 1, "fn_missed": 1,
    }  # fmt: skip
    assert (
        evaluate_detections(gt, dt).error_breakdown(0.5, loc_threshold=0.3)["fp_localization"] == 0
    )


def test_confusion_matrix_sums() -> None:
    gt, dt = make_coco_like(60, 5, seed=3)
    result = evaluate_detections(gt, dt)
    matrix = result.confusion_matrix(0.3)
    k = result.category_ids.size
    # Every counted object is found, confused or missed exactly once.
    assert matrix[:k].sum(axis=1).tolist() == result.matches.npig[:, 0].tolist()
    # Every kept detection that is not ignored is in its column once.
    m = result.matches
    kept = (m.dt_score >= 0.3) & (m.dt_state[:, 0, 0] != 2)
    assert matrix[:, :k].sum(axis=0).tolist() == np.bincount(m.dt_cat[kept], minlength=k).tolist()
    # The breakdown adds up to the same totals.
    errors = result.error_breakdown(0.3)
    assert errors["tp"] == np.trace(matrix[:k, :k])
    fp = sum(v for key, v in errors.items() if key.startswith("fp_"))
    assert fp == matrix[:, :k].sum() - errors["tp"]
    assert errors["fn_confused"] + errors["fn_missed"] == matrix[:k].sum() - errors["tp"]


def test_to_dict_is_strict_json_and_has_headline_numbers() -> None:
    gt, dt = make_coco_like(30, 3, seed=4)
    result = evaluate_detections(gt, dt)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["map50"] == result.stats[1] and data["map50_95"] == result.stats[0]
    assert list(data["stats"]) == list(result.stat_names)
    assert len(data["per_class"]) == 3
    voc = json.loads(
        json.dumps(evaluate_detections(gt, dt, mode="voc07").to_dict(), allow_nan=False)
    )
    assert voc["map50_95"] is None and voc["map50"] > 0


def test_to_dict_without_iou_05_uses_the_first_evaluated_threshold() -> None:
    gt, dt = make_coco_like(30, 3, seed=4)
    result = evaluate_detections(gt, dt, iou_thresholds=[0.6, 0.7])
    assert result.report_iou_threshold == 0.6
    data = json.loads(json.dumps(result.to_dict(confidence=0.3), allow_nan=False))
    # 0.5 was not evaluated: every IoU-dependent section used 0.6 and says so
    assert data["iou_threshold"] == 0.6
    for section in ("counts", "errors", "confusion_matrix"):
        assert data[section]["iou_threshold"] == 0.6
    assert data["counts"]["at_best_f1"] == result.best_f1(iou_threshold=0.6).to_dict()
    assert data["counts"]["at_confidence"] == result.counts(0.3, iou_threshold=0.6).to_dict()
    assert data["errors"]["tp"] == result.error_breakdown(0.3, iou_threshold=0.6)["tp"]
    # no silent -1: mAP@0.5 and mAP@0.5:0.95 were not measured
    assert np.isnan(result.map50) and np.isnan(result.map50_95)
    assert data["map50"] is None and data["map50_95"] is None
    assert data["stats"]["AP50"] == -1.0  # stats keep pycocotools' layout and sentinel
    # an explicit, evaluated IoU works; one that was not evaluated is refused
    assert result.to_dict(iou_threshold=0.7)["counts"]["iou_threshold"] == 0.7
    with pytest.raises(ValueError, match="iou_threshold must be one of the evaluated"):
        result.to_dict(iou_threshold=0.5)


def test_map50_95_needs_all_ten_thresholds() -> None:
    gt, dt = make_coco_like(30, 3, seed=4)
    some = evaluate_detections(gt, dt, iou_thresholds=[0.5, 0.75])
    assert some.map50 == some.stats[1] and some.report_iou_threshold == 0.5
    assert np.isnan(some.map50_95)  # stats[0] averages 0.5 and 0.75 only
    fixed = evaluate_detections(gt, dt, mode="coco-fixed")  # rounded 0.50, ..., 0.95
    assert fixed.map50_95 == fixed.stats[0]
    voc = evaluate_detections(gt, dt, mode="voc2010", iou_thresholds=[0.7])
    assert np.isnan(voc.map50) and voc.report_iou_threshold == 0.7
    assert voc.to_dict()["counts"]["iou_threshold"] == 0.7


def test_per_class_text_lists_every_category() -> None:
    result = three_detections()
    text = result.per_class_text()
    assert text.splitlines()[0].split()[:4] == ["category", "gt", "dt", "AP"]
    assert text.splitlines()[1].startswith("c1")


# ----------------------------------------------------------------------------- bad input
GT = coco_gt([(1, 1, [0, 0, 10, 10])], images=[1, 2], categories=[1])


@pytest.mark.parametrize(
    ("dt", "error", "match"),
    [
        (coco_dt([(3, 1, [0, 0, 1, 1], 0.5)]), ValueError, "image id.*missing.*: 3"),
        (coco_dt([(1, 7, [0, 0, 1, 1], 0.5)]), ValueError, "category id.*missing.*: 7"),
        (coco_dt([(1, 1, [0, 0, -1, 1], 0.5)]), ValueError, r"width and height >= 0.*row 0"),
        (coco_dt([(1, 1, [0, float("nan"), 1, 1], 0.5)]), ValueError, "finite"),
        (coco_dt([(1, 1, [0, 0, 1, 1], "0.5")]), TypeError, r"results\[0\]\['score'\].*number"),
        (coco_dt([(1, 1, [0, 0, 1, 1], True)]), TypeError, "score.*number"),
        (
            coco_dt([(1, 1, [0, 0, 1, 1], 0.5), (1, 1, [0, 0, 1, 1], True)]),
            TypeError,
            r"results\[1\]\['score'\] must be a number, got True",
        ),
        (coco_dt([(1, True, [0, 0, 1, 1], 0.5)]), TypeError, "category_id.*integer"),
        ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}], ValueError, "no 'score'"),
        (coco_dt([(1, 1, [0, 0, 1], 0.5)]), ValueError, r"\['bbox'\] must be \[x, y, w, h\]"),
        ([1, 2], TypeError, r"results\[0\] must be an object"),
        ({"image_id": [1]}, ValueError, "columns need 'category_id'"),
        ("not-there.json", FileNotFoundError, "not-there"),
    ],
)
def test_bad_detections(dt, error, match) -> None:
    with pytest.raises(error, match=match):
        evaluate_detections(GT, dt)


@pytest.mark.parametrize(
    ("gt", "error", "match"),
    [
        ([], TypeError, "gt must be a DetectionDataset, a path to a COCO json file"),
        ({"annotations": []}, ValueError, "gt columns need 'image_id'"),
        ({"images": 5}, ValueError, "no 'images' list"),
        ({**GT, "annotations": GT["annotations"] * 2}, ValueError, "duplicate annotation id 1"),
        (
            {**GT, "annotations": [{**GT["annotations"][0], "image_id": 9}]},
            ValueError,
            "image id.*missing from the images: 9",
        ),
        (
            {**GT, "annotations": [{**GT["annotations"][0], "category_id": 9}]},
            ValueError,
            "category id.*missing from the categories: 9",
        ),
        (
            {**GT, "annotations": [{**GT["annotations"][0], "bbox": [0, 0, 5, -5]}]},
            ValueError,
            "width and height >= 0",
        ),
        (
            {**GT, "annotations": [{**GT["annotations"][0], "image_id": "a"}]},
            TypeError,
            "image_id.*integer",
        ),
    ],
)
def test_bad_ground_truth(gt, error, match) -> None:
    with pytest.raises(error, match=match):
        evaluate_detections(gt, coco_dt([]))


def test_bad_json_files(tmp_path) -> None:
    good = tmp_path / "gt.json"
    good.write_text(json.dumps(GT))
    broken = tmp_path / "dt.json"
    broken.write_text('[{"image_id": 1, "category_id": 1,\n "bbox": [0, 0, 1, 1], "score": }]')
    with pytest.raises(ValueError, match=r"dt\.json: malformed JSON at line 2, column"):
        evaluate_detections(good, broken)
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    with pytest.raises(ValueError, match=r"empty\.json: the file is empty"):
        evaluate_detections(good, empty)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "voc2012"}, "mode must be one of"),
        ({"iou_thresholds": [1.5]}, "iou_thresholds"),
        ({"max_dets": [0]}, "max_dets must be >= 1"),
        ({"area_ranges": {"x": (10, 5)}}, "lo <= hi"),
        ({"recall_thresholds": [0.5, 0.1]}, "ascending"),
        ({"mode": "voc07", "area_ranges": {"all": (0, 1e10)}}, "do not apply"),
    ],
)
def test_bad_options(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        evaluate_detections(GT, coco_dt([(1, 1, [0, 0, 10, 10], 0.5)]), **kwargs)


def test_bad_query_arguments() -> None:
    result = three_detections()
    with pytest.raises(ValueError, match="evaluated thresholds"):
        result.pr_curve(1, iou_threshold=0.33)
    with pytest.raises(ValueError, match="category_id"):
        result.counts(0.5, category_id=99)
    with pytest.raises(TypeError, match="confidence"):
        result.counts("high")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"gt_boxes": [[0, 0, 1]]}, ValueError, r"gt_boxes must have shape \[N, 4\].*\(1, 3\)"),
        ({"gt_boxes": [0, 0, 1, 1]}, ValueError, r"gt_boxes must have shape \[N, 4\].*\(4,\)"),
        ({"gt_boxes": [[0, 0, np.nan, 1]]}, ValueError, "gt_boxes must be finite"),
        ({"det_scores": [np.nan]}, ValueError, "det_scores must be finite.*NaN"),
        ({"det_scores": [np.inf]}, ValueError, "det_scores must be finite"),
    ],
)
def test_match_detections_bad_ground_truth_and_scores(
    kwargs: dict, error: type, match: str
) -> None:
    args = {"det_boxes": [[0, 0, 1, 1]], "det_scores": [1.0], "gt_boxes": [[0, 0, 1, 1]]}
    with pytest.raises(error, match=match):
        match_detections(**{**args, **kwargs})


@pytest.mark.parametrize(
    ("recall", "precision", "name"),
    [
        (["a"], [1.0], "recall"),
        ([0.5], ["b"], "precision"),
        ([True], [1.0], "recall"),
        ([0.5], [True], "precision"),
        (np.array([0.5], dtype=object), [1.0], "recall"),
    ],
)
def test_average_precision_wrong_dtype(recall, precision, name: str) -> None:
    for method in ("coco101", "voc07", "voc2010"):
        with pytest.raises(TypeError, match=f"{name} must hold real numbers"):
            average_precision(recall, precision, method)


@pytest.mark.parametrize("mode", ["voc07", "voc2010"])
def test_voc_matches_at_exactly_the_threshold_as_the_devkit(mode: str) -> None:
    # VOCevaldet.m counts a detection when `ovmax >= minoverlap`: integer boxes whose IoU
    # is exactly 0.5 (50 / 100) are a true positive; disjoint boxes never match, even at 0.
    gt = {"image_id": [1, 2], "category_id": [1, 1], "boxes": [[0, 0, 10, 10], [0, 0, 10, 10]]}
    dt = {
        "image_id": [1, 2],
        "category_id": [1, 1],
        "boxes": [[0, 0, 10, 5], [20, 20, 30, 30]],
        "score": [0.9, 0.8],
    }
    result = evaluate_detections(gt, dt, mode=mode)
    counts = result.to_dict()["counts"]["at_confidence"]
    assert (counts["tp"], counts["fp"], counts["fn"]) == (1, 1, 1)
    assert result.ap[0, 0, 0, 0] == pytest.approx(0.5 if mode == "voc2010" else 6 / 11)
    zero = evaluate_detections(gt, dt, mode=mode, iou_thresholds=[0.0])
    zero_counts = zero.to_dict()["counts"]["at_confidence"]
    assert (zero_counts["tp"], zero_counts["fp"]) == (1, 1)


def test_match_detections_reads_float64_boxes_without_copying_or_changing_them() -> None:
    det = np.array([[0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
    before = det.copy()
    out = match_detections(det, np.array([0.9, 0.8]), det[:1])
    assert out.tp.tolist() == [True, False]
    np.testing.assert_array_equal(det, before)
