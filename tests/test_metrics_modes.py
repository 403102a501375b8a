"""The "coco-fixed" mode (each pycocotools quirk removed) and the VOC modes (devkit rules,
checked against a slow reference written here from the devkit's description)."""

from __future__ import annotations

import numpy as np
import pytest

from detection_helpers import coco_dt, coco_gt
from tinyvision.data import make_coco_like
from tinyvision.metrics import evaluate_detections

# precision/recall index helpers: [T, R, K, A, M] / [T, K, A, M]; t=0 is IoU 0.5,
# a=0 "all", a=1 "small", a=2 "medium", m=-1 is 100 detections.


def both(gt: dict, dt: list, **kw):
    return evaluate_detections(gt, dt, mode="coco", **kw), evaluate_detections(
        gt, dt, mode="coco-fixed", **kw
    )


def test_fixed_honours_ignore() -> None:
    # Two objects, one flagged 'ignore' (not crowd); only the other one is found.
    gt = coco_gt([(1, 1, [0, 0, 10, 10]), (1, 1, [50, 50, 10, 10])], images=[1], categories=[1],
                 ignore={0})  # fmt: skip
    dt = coco_dt([(1, 1, [50, 50, 10, 10], 0.9)])
    coco, fixed = both(gt, dt)
    # coco: 'ignore' is overwritten by iscrowd=0, so 1 of 2 found; fixed: 1 of 1.
    assert coco.recall[0, 0, 0, -1] == 0.5
    assert fixed.recall[0, 0, 0, -1] == 1.0


def test_fixed_matches_ground_truth_with_id_zero() -> None:
    gt = coco_gt([(1, 1, [0, 0, 10, 10])], images=[1], categories=[1], ids=[0])
    dt = coco_dt([(1, 1, [0, 0, 10, 10], 0.9)])
    coco, fixed = both(gt, dt)
    assert coco.recall[0, 0, 0, -1] == 0.0  # the match to id 0 is stored as "no match"
    assert fixed.recall[0, 0, 0, -1] == 1.0


def test_fixed_area_ranges_are_half_open() -> None:
    # Segmentation area exactly 32^2: COCO counts it as small AND medium.
    gt = coco_gt([(1, 1, [0, 0, 40, 40])], images=[1], categories=[1], area={0: 1024.0})
    dt = coco_dt([(1, 1, [0, 0, 40, 40], 0.9)])
    coco, fixed = both(gt, dt)
    assert coco.matches.npig[0].tolist() == [1, 1, 1, 0]
    assert fixed.matches.npig[0].tolist() == [1, 0, 1, 0]


def test_fixed_limits_detections_per_image_over_all_categories() -> None:
    # 60 confident false positives of category 1, then 59 of category 2 and, last, the one
    # detection that finds category 2's object: 120 detections in the image.
    gt = coco_gt([(1, 2, [300, 300, 40, 40])], images=[1], categories=[1, 2])
    rows = [(1, 1, [float(i), 0.0, 10.0, 10.0], 0.99 - i / 1000) for i in range(60)]
    rows += [(1, 2, [float(i), 100.0, 10.0, 10.0], 0.9 - i / 1000) for i in range(59)]
    rows.append((1, 2, [300, 300, 40, 40], 0.01))
    coco, fixed = both(gt, coco_dt(rows))
    assert coco.recall[0, 1, 0, -1] == 1.0  # 60 <= 100 per category: kept
    assert fixed.recall[0, 1, 0, -1] == 0.0  # 120th in its image: cut


def test_fixed_keeps_the_earlier_ground_truth_on_equal_iou() -> None:
    # The first detection overlaps both objects with IoU 90/110 exactly; the second
    # overlaps only the first object enough (70/130 >= 0.5) and the other not (50/150).
    gt = coco_gt([(1, 1, [0, 0, 10, 10]), (1, 1, [2, 0, 10, 10])], images=[1], categories=[1])
    dt = coco_dt([(1, 1, [1, 0, 10, 10], 0.9), (1, 1, [-3, 0, 10, 10], 0.8)])
    coco, fixed = both(gt, dt)
    assert coco.recall[0, 0, 0, -1] == 1.0  # first -> later object, second -> first object
    assert fixed.recall[0, 0, 0, -1] == 0.5  # first -> first object, second -> nothing


def test_fixed_needs_overlap_at_iou_threshold_zero() -> None:
    # Detection [0,0,10,10] and object [50,50,60,60] are disjoint: IoU 0. At threshold 0
    # pycocotools still matches them (0 < 0 is false), and "coco" keeps that, checked live;
    # "coco-fixed" requires IoU > 0 for a match.
    from detection_helpers import assert_same_as_pycoco, pycoco

    gt = coco_gt([(1, 1, [50, 50, 10, 10])], images=[1], categories=[1])
    dt = coco_dt([(1, 1, [0, 0, 10, 10], 0.9)])
    coco, fixed = both(gt, dt, iou_thresholds=[0.0])
    assert_same_as_pycoco(coco, pycoco(gt, dt, iouThrs=np.array([0.0]))[0])
    assert coco.recall[0, 0, 0, -1] == 1.0
    assert fixed.recall[0, 0, 0, -1] == 0.0
    assert fixed.counts(iou_threshold=0.0).tp == 0 and fixed.counts(iou_threshold=0.0).fp == 1
    # the detection is plain background, not a duplicate or a localization error
    errors = fixed.error_breakdown(0.0, iou_threshold=0.0, loc_threshold=0.0)
    assert errors["fp_background"] == 1 and errors["fn_missed"] == 1
    # a sliver of overlap is enough: [9,9,10,10]-corner overlap of 1 / (100 + 100 - 1)
    near = coco_dt([(1, 1, [41, 41, 10, 10], 0.9)])
    assert both(gt, near, iou_thresholds=[0.0])[1].recall[0, 0, 0, -1] == 1.0


def test_fixed_precision_without_spacing() -> None:
    gt = coco_gt([(1, 1, [0, 0, 10, 10])], images=[1], categories=[1])
    dt = coco_dt([(1, 1, [0, 0, 10, 10], 0.9)])
    coco, fixed = both(gt, dt)
    assert coco.precision[0, 0, 0, 0, -1] == 1.0 / (1.0 + np.spacing(1))
    assert fixed.precision[0, 0, 0, 0, -1] == 1.0


def test_fixed_thresholds_are_the_decimal_values() -> None:
    # 7 of 10 objects found: recall 0.7, below linspace's 0.7000000000000001.
    objects = [(1, 1, [20.0 * i, 0.0, 10.0, 10.0]) for i in range(10)]
    gt = coco_gt(objects, images=[1], categories=[1])
    dt = coco_dt([(1, 1, objects[i][2], 0.9 - i / 100) for i in range(7)])
    coco, fixed = both(gt, dt)
    assert coco.params.recall_thresholds[70] > 0.7
    assert fixed.params.recall_thresholds[70] == 0.7
    assert fixed.params.iou_thresholds[8] == 0.9
    assert coco.precision[0, 70, 0, 0, -1] == 0.0
    assert fixed.precision[0, 70, 0, 0, -1] == 1.0


def test_fixed_is_invariant_to_image_ids_on_tied_scores() -> None:
    # Relabelling images changes where tied detections fall in COCO's curve, not in
    # coco-fixed's (a tie group is one point).
    gt, dt = make_coco_like(80, 3, seed=21, score_decimals=1)
    ids = [im["id"] for im in gt["images"]]
    relabel = dict(zip(ids, np.random.default_rng(0).permutation(ids).tolist()))
    gt2 = {
        **gt,
        "images": [{**im, "id": relabel[im["id"]]} for im in gt["images"]],
        "annotations": [{**a, "image_id": relabel[a["image_id"]]} for a in gt["annotations"]],
    }
    dt2 = [{**d, "image_id": relabel[d["image_id"]]} for d in dt]
    coco_a, fixed_a = both(gt, dt)
    coco_b, fixed_b = both(gt2, dt2)
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(getattr(fixed_a, key), getattr(fixed_b, key)), key
    assert not np.array_equal(coco_a.precision, coco_b.precision)


# ----------------------------------------------------------------------------- VOC
def voc_reference(gt: dict, dt: list, use_07: bool) -> dict[int, tuple[float, float]]:
    """Per category ``(AP, recall)`` by the VOC devkit's rules, one detection at a time.

    Detections of a class sorted by decreasing score (stable); each takes the ground truth
    it overlaps most (first on ties), a match if IoU > 0.5: a difficult one leaves the
    detection uncounted, an already detected one makes it a false positive.
    """
    out = {}
    for cat in [c["id"] for c in gt["categories"]]:
        objects: dict[int, list[tuple[list[float], bool]]] = {}
        for a in gt["annotations"]:
            if a["category_id"] == cat:
                hard = bool(a.get("ignore", 0) or a.get("iscrowd", 0))
                objects.setdefault(a["image_id"], []).append((a["bbox"], hard))
        npos = sum(not hard for objs in objects.values() for _, hard in objs)
        if npos == 0:
            continue
        dets = [d for d in dt if d["category_id"] == cat]
        dets = [dets[i] for i in np.argsort([-d["score"] for d in dets], kind="stable")]
        detected = {k: [False] * len(v) for k, v in objects.items()}
        tp, fp = [], []
        for d in dets:
            dx, dy, dw, dh = d["bbox"]
            best, jbest = -np.inf, -1
            for j, ((gx, gy, gw, gh), _) in enumerate(objects.get(d["image_id"], [])):
                iw = min(dw + dx, gw + gx) - max(dx, gx)
                ih = min(dh + dy, gh + gy) - max(dy, gy)
                if iw > 0 and ih > 0:
                    inter = iw * ih
                    iou = inter / (dw * dh + gw * gh - inter)
                    if iou > best:
                        best, jbest = iou, j
            t = f = 0
            if best > 0.5:
                if objects[d["image_id"]][jbest][1]:
                    pass  # difficult: neither
                elif not detected[d["image_id"]][jbest]:
                    detected[d["image_id"]][jbest] = True
                    t = 1
                else:
                    f = 1
            else:
                f = 1
            tp.append(t)
            fp.append(f)
        tp_c, fp_c = np.cumsum(tp, dtype=float), np.cumsum(fp, dtype=float)
        rec = tp_c / npos
        prec = tp_c / np.maximum(tp_c + fp_c, np.finfo(np.float64).eps)
        if use_07:
            ap = 0.0
            for thr in np.arange(0.0, 1.1, 0.1):
                p = np.max(prec[rec >= thr]) if np.any(rec >= thr) else 0.0
                ap = ap + p / 11.0
        else:
            mrec = np.concatenate([[0.0], rec, [1.0]])
            mpre = np.concatenate([[0.0], prec, [0.0]])
            for i in range(mpre.size - 2, -1, -1):
                mpre[i] = max(mpre[i], mpre[i + 1])
            ap = 0.0
            for i in np.flatnonzero(mrec[1:] != mrec[:-1]):
                ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1]
        out[cat] = (float(ap), float(rec[-1]) if rec.size else 0.0)
    return out


@pytest.mark.parametrize("mode", ["voc07", "voc2010"])
@pytest.mark.parametrize("seed", [0, 1])
def test_voc_matches_slow_reference(mode: str, seed: int) -> None:
    gt, dt = make_coco_like(60, 5, seed=seed, detections_per_image=25)
    rng = np.random.default_rng(seed)
    for a in gt["annotations"]:  # some "difficult" objects
        if rng.random() < 0.1:
            a["ignore"] = 1
    result = evaluate_detections(gt, dt, mode=mode)
    expected = voc_reference(gt, dt, use_07=mode == "voc07")
    assert expected
    for k, cat in enumerate(result.category_ids.tolist()):
        if cat in expected:
            assert result.ap[0, k, 0, 0] == expected[cat][0], cat
            assert result.recall[0, k, 0, 0] == expected[cat][1], cat
        else:
            assert result.ap[0, k, 0, 0] == -1
    assert result.map50 == pytest.approx(np.mean([v[0] for v in expected.values()]), abs=1e-15)
    assert np.isnan(result.map50_95)


def test_voc_matches_at_iou_exactly_the_threshold_like_coco() -> None:
    # IoU exactly 0.5 (inter 50, union 100): a match for COCO (`>=`) and for the VOC devkit
    # (VOCevaldet.m: `ovmax >= minoverlap`).
    gt = coco_gt([(1, 1, [0, 0, 10, 10])], images=[1], categories=[1])
    dt = coco_dt([(1, 1, [0, 0, 10, 5], 0.9)])
    assert evaluate_detections(gt, dt, mode="coco").recall[0, 0, 0, -1] == 1.0
    assert evaluate_detections(gt, dt, mode="voc2010").recall[0, 0, 0, 0] == 1.0


def test_voc_has_no_fallback_to_the_next_best_object() -> None:
    # The second detection overlaps the taken object most: a false positive in VOC even
    # though the other object is free and overlaps it above 0.5 (COCO takes that one).
    gt = coco_gt([(1, 1, [0, 0, 10, 10]), (1, 1, [3, 0, 10, 10])], images=[1], categories=[1])
    dt = coco_dt([(1, 1, [0, 0, 10, 10], 0.9), (1, 1, [1, 0, 10, 10], 0.8)])
    voc = evaluate_detections(gt, dt, mode="voc2010")
    coco = evaluate_detections(gt, dt, mode="coco")
    assert voc.recall[0, 0, 0, 0] == 0.5
    assert coco.recall[0, 0, 0, -1] == 1.0


def test_voc_difficult_objects_neither_count_nor_penalise() -> None:
    gt = coco_gt([(1, 1, [0, 0, 10, 10]), (1, 1, [50, 50, 10, 10])], images=[1], categories=[1],
                 ignore={1})  # fmt: skip
    dt = coco_dt([(1, 1, [50, 50, 10, 10], 0.95), (1, 1, [0, 0, 10, 10], 0.9)])
    voc = evaluate_detections(gt, dt, mode="voc07")
    assert voc.recall[0, 0, 0, 0] == 1.0
    assert voc.ap[0, 0, 0, 0] == pytest.approx(1.0)
    assert "VOC 11-point" in voc.summary()
    assert voc.stat_names == ("AP50", "AR50")
