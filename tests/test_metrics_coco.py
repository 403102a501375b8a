"""COCO-exact evaluation: pycocotools 2.0.11 run live, compared with zero tolerance."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from detection_helpers import assert_same_as_pycoco, coco_dt, coco_gt, pycoco
from tinyvision.data import make_coco_like
from tinyvision.metrics import (
    DetectionDataset,
    Detections,
    accumulate_matches,
    evaluate_detections,
    match_images,
)
from tinyvision.metrics import _detection_kernels as kernels

KERNELS = (
    "match_groups",
    "accumulate",
    "group_order",
    "radix_argsort",
    "descending_keys",
    "confuse",
    "longest_run",
)


@pytest.fixture(params=["numba", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on the compiled kernels and on their plain-Python originals."""
    if request.param == "python":
        for name in KERNELS:
            monkeypatch.setattr(kernels, name, getattr(kernels, name).py_func)
    return request.param


def edge_case_set() -> tuple[dict, list]:
    """Every edge case the issue lists, in one small data set (categories 1-4)."""
    gt_rows: list[tuple[int, int, list[float]]] = []
    dt_rows: list[tuple[int, int, list[float], float]] = []
    area: dict[int, float] = {}
    crowd: set[int] = set()
    ignore: set[int] = set()

    def gt(image: int, cat: int, box: list[float], a: float | None = None) -> int:
        gt_rows.append((image, cat, box))
        if a is not None:
            area[len(gt_rows) - 1] = a
        return len(gt_rows) - 1

    # Image 1: a crowd region absorbing several detections, beside a normal object.
    crowd.add(gt(1, 1, [0, 0, 200, 200]))
    gt(1, 1, [300, 300, 50, 50])
    for k, box in enumerate(
        [[10, 10, 30, 30], [50, 50, 40, 40], [100, 20, 60, 60], [5, 150, 20, 20]]
    ):
        dt_rows.append((1, 1, box, 0.9 - 0.1 * k))
    dt_rows.append((1, 1, [302, 301, 50, 50], 0.55))
    # Image 2: objects with area exactly 32^2 and 96^2, detections with w*h exactly so.
    gt(2, 1, [10, 10, 32, 32], 1024.0)
    gt(2, 1, [100, 100, 96, 96], 9216.0)
    gt(2, 1, [300, 50, 40, 40], 1024.0)  # box larger than its segmentation area
    dt_rows += [
        (2, 1, [10, 10, 32, 32], 0.8),
        (2, 1, [101, 100, 96, 96], 0.7),
        (2, 1, [400, 400, 32, 32], 0.6),  # unmatched, area 1024
        (2, 1, [500, 300, 96, 96], 0.65),  # unmatched, area 9216
        (2, 1, [302, 50, 40, 40], 0.5),
    ]
    # Image 3: detections but no ground truth; image 4: nothing at all.
    dt_rows += [(3, 1, [5, 5, 20, 20], 0.95), (3, 2, [50, 50, 30, 30], 0.3)]
    # Image 5: category 3 has ground truth and no detection; category 4 the opposite.
    gt(5, 3, [20, 20, 60, 60])
    dt_rows.append((5, 4, [20, 20, 60, 60], 0.99))
    # Image 6: duplicate detections on one object (same box, same score).
    gt(6, 2, [50, 60, 70, 80])
    dt_rows += [(6, 2, [50, 60, 70, 80], 0.75)] * 3
    # Image 7: a ground truth with id 0 (pycocotools never counts its match).
    id0 = gt(7, 2, [10, 20, 30, 40])
    dt_rows.append((7, 2, [10, 20, 30, 40], 0.85))
    # Image 8: more than 100 detections of one category, with ties.
    for k in range(3):
        gt(8, 1, [40.0 * k, 40.0 * k, 35, 35])
    rng = np.random.default_rng(0)
    for _ in range(150):
        x, y = rng.uniform(0, 100, 2).round(1)
        dt_rows.append((8, 1, [float(x), float(y), 35.0, 35.0], float(round(rng.uniform(), 1))))
    # Image 9: two identical ground truths: equal IoU goes to the later one.
    gt(9, 2, [100, 100, 50, 50])
    gt(9, 2, [100, 100, 50, 50])
    dt_rows.append((9, 2, [105, 100, 50, 50], 0.6))
    # Image 10: 'ignore' without 'iscrowd' (pycocotools overwrites it); zero-size boxes.
    ignore.add(gt(10, 3, [10, 10, 40, 40]))
    gt(10, 3, [200, 200, 0, 10])
    dt_rows += [(10, 3, [12, 10, 40, 40], 0.7), (10, 3, [200, 200, 0, 0], 0.4)]

    ids = [i + 1 for i in range(len(gt_rows))]
    ids[id0] = 0
    ids[0] = len(gt_rows) + 1  # id 1 is now free; keep them unique
    gt_dict = coco_gt(
        gt_rows, images=list(range(1, 11)), categories=[1, 2, 3, 4], area=area,
        crowd=crowd, ids=ids, ignore=ignore,
    )  # fmt: skip
    return gt_dict, coco_dt(dt_rows)


def test_edge_cases_bit_exact(backend: str) -> None:
    gt, dt = edge_case_set()
    ev, text = pycoco(gt, dt)
    result = evaluate_detections(copy.deepcopy(gt), copy.deepcopy(dt))
    assert_same_as_pycoco(result, ev)
    assert result.summary() + "\n" == text


@pytest.mark.parametrize(
    ("n_images", "n_categories", "seed"), [(40, 3, 0), (120, 12, 1), (200, 40, 2)]
)
def test_generated_sets_bit_exact(n_images: int, n_categories: int, seed: int) -> None:
    gt, dt = make_coco_like(n_images, n_categories, seed=seed)
    ev, text = pycoco(gt, dt)
    result = evaluate_detections(gt, dt)
    assert_same_as_pycoco(result, ev)
    assert result.summary() + "\n" == text


def test_generated_set_python_kernels_bit_exact(backend: str) -> None:
    gt, dt = make_coco_like(25, 4, seed=7, detections_per_image=30)
    ev, _ = pycoco(gt, dt)
    assert_same_as_pycoco(evaluate_detections(gt, dt), ev)


@pytest.mark.parametrize("seed", [3, 4])
def test_score_ties_bit_exact(seed: int) -> None:
    # One decimal: thousands of tied scores, within and across images.
    gt, dt = make_coco_like(120, 6, seed=seed, score_decimals=1)
    ev, _ = pycoco(gt, dt)
    assert_same_as_pycoco(evaluate_detections(gt, dt), ev)


def test_custom_parameters_bit_exact() -> None:
    gt, dt = make_coco_like(80, 5, seed=5)
    iou = np.array([0.3, 0.5, 0.75, 0.9])
    areas = {"all": [0, 1e10], "tiny": [0, 16**2], "rest": [16**2, 1e10]}
    ev, _ = pycoco(
        gt, dt, iouThrs=iou, maxDets=[2, 5, 20], areaRng=list(areas.values()),
        areaRngLbl=list(areas), recThrs=np.linspace(0, 1, 41),
    )  # fmt: skip
    result = evaluate_detections(
        gt, dt, iou_thresholds=iou, max_dets=[2, 5, 20], area_ranges=areas,
        recall_thresholds=np.linspace(0, 1, 41),
    )  # fmt: skip
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(getattr(result, key), ev.eval[key]), key


@pytest.mark.parametrize("limits", [[1, 5, 50], [2, 10, 100], [1, 100, 300], [5, 10, 100, 200]])
def test_non_default_max_dets_stats_and_summary_bit_exact(limits: list[int]) -> None:
    # pycocotools reads stats[0] at maxDets=100 (its _summarize default), the other AP
    # numbers at maxDets[2]: with [1, 5, 50], stats[0] and the first summary line are -1.
    gt, dt = make_coco_like(40, 4, seed=11, detections_per_image=60)
    ev, text = pycoco(gt, dt, maxDets=limits)
    result = evaluate_detections(gt, dt, max_dets=limits)
    assert_same_as_pycoco(result, ev)
    assert result.summary() == text.rstrip("\n")
    if 100 in limits:
        assert result.map50_95 == ev.stats[0] > 0
    else:
        assert ev.stats[0] == -1 and math.isnan(result.map50_95)
        fixed = evaluate_detections(gt, dt, max_dets=limits, mode="coco-fixed")
        assert fixed.stats[0] > 0  # coco-fixed reads it at the largest limit


def test_inputs_path_dict_and_columns_agree(tmp_path) -> None:
    gt, dt = make_coco_like(30, 4, seed=8)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    from_files = evaluate_detections(tmp_path / "gt.json", str(tmp_path / "dt.json"))
    from_dicts = evaluate_detections(gt, dt)
    anns = gt["annotations"]
    columns_gt = {
        "image_id": [a["image_id"] for a in anns],
        "category_id": [a["category_id"] for a in anns],
        "bbox": np.array([a["bbox"] for a in anns]),
        "area": [a["area"] for a in anns],
        "iscrowd": [a["iscrowd"] for a in anns],
        "annotation_id": [a["id"] for a in anns],
        "image_ids": [im["id"] for im in gt["images"]],
        "category_ids": [c["id"] for c in gt["categories"]],
    }
    columns_dt = {
        "image_id": np.array([d["image_id"] for d in dt]),
        "category_id": np.array([d["category_id"] for d in dt]),
        "bbox": np.array([d["bbox"] for d in dt]),
        "score": np.array([d["score"] for d in dt]),
    }
    from_columns = evaluate_detections(columns_gt, columns_dt)
    for other in (from_dicts, from_columns):
        assert np.array_equal(from_files.precision, other.precision)
        assert np.array_equal(from_files.stats, other.stats)


def test_xyxy_boxes_column_is_converted() -> None:
    gt = {"image_id": [1, 1], "category_id": [1, 2], "boxes": [[0, 0, 10, 10], [5, 5, 25, 15]]}
    dt = {"image_id": [1], "category_id": [2], "boxes": [[5, 5, 25, 15]], "score": [0.9]}
    result = evaluate_detections(gt, dt)
    # Category 2: one object found at every IoU -> AP 1; category 1: missed -> AP 0.
    assert result.per_class()[1]["AP"] == pytest.approx(1.0, abs=1e-12)
    assert result.per_class()[0]["AP"] == 0.0


def test_empty_detections_give_zero_not_a_crash() -> None:
    gt, _ = make_coco_like(10, 3, seed=1)
    result = evaluate_detections(gt, [])
    valid = result.precision[result.precision > -1]
    assert valid.size > 0 and np.all(valid == 0)
    assert result.stats[0] == 0.0
    assert result.counts(0.0).tp == 0


def test_empty_ground_truth_gives_minus_one() -> None:
    gt = {"images": [{"id": 1}], "annotations": [], "categories": [{"id": 1, "name": "a"}]}
    result = evaluate_detections(gt, coco_dt([(1, 1, [0, 0, 5, 5], 0.5)]))
    assert np.all(result.stats == -1)
    assert np.all(result.precision == -1)


def test_per_class_equals_single_class_evaluation() -> None:
    gt, dt = make_coco_like(60, 4, seed=11)
    result = evaluate_detections(gt, dt)
    cat = gt["categories"][2]["id"]
    one_gt = {**gt, "categories": [gt["categories"][2]]}
    one_gt["annotations"] = [a for a in gt["annotations"] if a["category_id"] == cat]
    one_dt = [d for d in dt if d["category_id"] == cat]
    alone = evaluate_detections(one_gt, one_dt)
    row = result.per_class()[2]
    assert row["category_id"] == cat
    assert [row[n] for n in result.stat_names] == alone.stats.tolist()


def test_matches_shards_merge_to_the_single_process_result(tmp_path) -> None:
    from tinyvision.data import read_matches, write_matches

    gt, dt = make_coco_like(90, 6, seed=12)
    single = evaluate_detections(gt, dt)
    ids = np.array([im["id"] for im in gt["images"]])
    rng = np.random.default_rng(0)
    parts = np.array_split(rng.permutation(ids), 3)
    shards = [match_images(gt, dt, image_ids=p) for p in parts]
    merged = accumulate_matches(shards[0].merge(*shards[1:]))
    paths = [write_matches(s, tmp_path / f"shard{i}.npz") for i, s in enumerate(shards)]
    from_disk = accumulate_matches(read_matches(paths))
    for result in (merged, from_disk):
        for key in ("precision", "recall", "scores", "stats"):
            assert np.array_equal(getattr(single, key), getattr(result, key)), key
        assert np.array_equal(single.confusion_matrix(0.3), result.confusion_matrix(0.3))


def test_overlapping_shards_are_refused() -> None:
    gt, dt = make_coco_like(10, 2, seed=1)
    ids = [im["id"] for im in gt["images"]]
    a = match_images(gt, dt, image_ids=ids[:6])
    b = match_images(gt, dt, image_ids=ids[5:])
    with pytest.raises(ValueError, match="overlap"):
        a.merge(b)
    c = match_images(gt, dt, image_ids=ids[6:], iou_thresholds=[0.5])
    with pytest.raises(ValueError, match="other parameters"):
        a.merge(c)


def test_detections_table_round_trip_through_dataset_columns() -> None:
    gt, dt = make_coco_like(15, 3, seed=2)
    result_a = evaluate_detections(gt, dt)
    table = DetectionDataset.from_columns(
        image_id=[a["image_id"] for a in gt["annotations"]],
        category_id=[a["category_id"] for a in gt["annotations"]],
        bbox=[a["bbox"] for a in gt["annotations"]],
        area=[a["area"] for a in gt["annotations"]],
        iscrowd=[a["iscrowd"] for a in gt["annotations"]],
        annotation_id=[a["id"] for a in gt["annotations"]],
        image_ids=[im["id"] for im in gt["images"]],
        category_ids=[c["id"] for c in gt["categories"]],
    )
    dets = Detections.from_columns(
        image_id=[d["image_id"] for d in dt],
        category_id=[d["category_id"] for d in dt],
        bbox=[d["bbox"] for d in dt],
        score=[d["score"] for d in dt],
    )
    result_b = evaluate_detections(table, dets)
    assert np.array_equal(result_a.precision, result_b.precision)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_order_of_images_categories_and_result_blocks_does_not_matter(seed: int) -> None:
    gt, dt = make_coco_like(30, 4, seed=seed, score_decimals=1)
    rng = np.random.default_rng(seed)
    shuffled_gt = {
        **gt,
        "images": [gt["images"][i] for i in rng.permutation(len(gt["images"]))],
        "categories": [gt["categories"][i] for i in rng.permutation(len(gt["categories"]))],
    }
    # Results move image by image; inside an image their order is kept (it breaks ties).
    blocks: dict[int, list] = {}
    for d in dt:
        blocks.setdefault(d["image_id"], []).append(d)
    keys = list(blocks)
    shuffled_dt = [d for i in rng.permutation(len(keys)) for d in blocks[keys[i]]]
    a = evaluate_detections(gt, dt)
    b = evaluate_detections(shuffled_gt, shuffled_dt)
    for key in ("precision", "recall", "scores", "stats"):
        assert np.array_equal(getattr(a, key), getattr(b, key)), key


def test_empty_data_set() -> None:
    gt = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "a"}]}
    result = evaluate_detections(gt, [])
    assert np.all(result.stats == -1)
    assert result.confusion_matrix().tolist() == [[0, 0], [0, 0]]
    assert result.pr_curve(1).score.size == 0
    assert result.best_f1().tp == 0


def test_stdlib_json_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from tinyvision.metrics import _coco_io

    monkeypatch.setattr(_coco_io, "_orjson", None)
    gt, dt = make_coco_like(10, 2, seed=3)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(dt)[:-5])
    with pytest.raises(ValueError, match=r"dt\.json: malformed JSON at line 1, column \d+"):
        evaluate_detections(tmp_path / "gt.json", tmp_path / "dt.json")
    (tmp_path / "dt.json").write_text(json.dumps(dt))
    expected = evaluate_detections(gt, dt)
    got = evaluate_detections(tmp_path / "gt.json", tmp_path / "dt.json")
    assert np.array_equal(got.precision, expected.precision)


@pytest.mark.parametrize("parser", ["orjson", "stdlib"])
@pytest.mark.parametrize(
    ("text", "where"),
    [  # columns count from 1: the literal's first character
        ('[{"image_id": 1, "bbox": [0, NaN, 9, 9], "score": 0.9}]', "1, column 30"),
        ('[{"image_id": 1, "bbox": [0, 0, 9, 9],\n  "score": Infinity}]', "2, column 12"),
        ('[{"image_id": 1, "bbox": [0, 0, 9, 9], "score": -Infinity}]', "1, column"),
        # a "NaN" inside a string is fine; the bare one after it is not
        ('[{"image_id": 1, "name": "NaN", "score": NaN}]', "1, column 42"),
    ],
)  # fmt: skip
def test_both_json_parsers_refuse_nan_and_infinity(
    parser: str, text: str, where: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from tinyvision.metrics import _coco_io

    if parser == "orjson":
        pytest.importorskip("orjson")
    else:
        monkeypatch.setattr(_coco_io, "_orjson", None)
    (tmp_path / "dt.json").write_text(text)
    # one line, the file and the position, whichever parser ran
    with pytest.raises(ValueError, match=rf"dt\.json: malformed JSON at line {where}") as info:
        _coco_io.read_json(tmp_path / "dt.json")
    assert "\n" not in str(info.value)


def test_dataset_table_helpers() -> None:
    data = DetectionDataset.from_columns(
        image_id=[5, 3, 5], category_id=[2, 2, 7], bbox=[[0, 0, 2, 3], [1, 1, 1, 1], [2, 2, 4, 4]],
        image_ids=[5, 3, 9],
    )  # fmt: skip
    assert [r.tolist() for r in data.annotations_by_image()] == [[0, 2], [1], []]
    assert data.boxes_xyxy()[0].tolist() == [0, 0, 2, 3]
    assert data.area.tolist() == [6, 1, 16]
    assert data.category_index() == {2: 0, 7: 1}
    assert data.annotation_id.tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="duplicate image id 5"):
        DetectionDataset.from_columns(image_id=[], category_id=[], bbox=[], image_ids=[5, 5])
    with pytest.raises(ValueError, match="bbox must have 2 rows"):
        DetectionDataset.from_columns(image_id=[1, 1], category_id=[1, 1], bbox=[[0, 0, 1, 1]])
    with pytest.raises(TypeError, match="score must hold real numbers"):
        Detections.from_columns(image_id=[1], category_id=[1], bbox=[[0, 0, 1, 1]], score=["x"])


def test_boolean_crowd_flags_are_accepted() -> None:
    gt, dt = make_coco_like(8, 2, seed=6)
    as_bools = {
        **gt,
        "annotations": [{**a, "iscrowd": bool(a["iscrowd"])} for a in gt["annotations"]],
    }
    assert np.array_equal(
        evaluate_detections(as_bools, dt).stats, evaluate_detections(gt, dt).stats
    )


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"score": [np.nan]}, "score must be finite, got nan at row 0"),
        ({"score": [np.float32(np.inf)]}, "score must be finite, got inf at row 0"),
        ({"image_id": [1.5]}, "image_id must hold integers, got 1.5 at row 0"),
    ],
)
def test_column_messages_print_plain_numbers(columns: dict, message: str) -> None:
    # the value as the user would write it: 'nan', not 'np.float64(nan)'
    base = {"image_id": [1], "category_id": [1], "bbox": [[0, 0, 1, 1]], "score": [0.5]}
    with pytest.raises(ValueError) as info:
        Detections.from_columns(**{**base, **columns})
    assert str(info.value) == message


def test_evaluation_messages_print_plain_numbers() -> None:
    gt, dt = make_coco_like(5, 2, seed=1)
    result = evaluate_detections(gt, dt)
    with pytest.raises(ValueError) as info:
        result.counts(iou_threshold=np.float64(0.33))
    assert str(info.value).endswith("got 0.33")
    with pytest.raises(ValueError) as info:
        result.pr_curve(np.int64(99))
    assert str(info.value).endswith("got 99")


@pytest.mark.parametrize(
    ("image_ids", "error", "match"),
    [
        ([5.7], ValueError, r"image_ids must hold integers, got 5.7 at row 0"),
        ([1.0, np.nan], ValueError, r"image_ids must hold integers, got nan at row 1"),
        ([np.inf], ValueError, "image_ids must hold integers, got inf"),
        (["1", "2"], TypeError, "image_ids must hold integers"),
        ([True, False], TypeError, "image_ids must hold integers"),
        ([[1, 2]], ValueError, "image_ids must be 1-D"),
        ("12", TypeError, "image_ids must be an array-like"),
        ([999], ValueError, "image_ids refer to 1 image id"),
    ],
)
def test_match_images_bad_image_ids(image_ids, error: type, match: str) -> None:
    import warnings

    gt, dt = make_coco_like(5, 2, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning on the way
        with pytest.raises(error, match=match):
            match_images(gt, dt, image_ids=image_ids)


def test_match_images_integral_float_ids_are_the_integers() -> None:
    gt, dt = make_coco_like(6, 2, seed=3)
    ids = [im["id"] for im in gt["images"]][:3]
    as_ints = match_images(gt, dt, image_ids=ids)
    as_floats = match_images(gt, dt, image_ids=np.array(ids, dtype=np.float64))
    assert np.array_equal(as_ints.image_ids, as_floats.image_ids)
    assert np.array_equal(as_ints.dt_state, as_floats.dt_state)


def test_match_functions_refuse_other_types() -> None:
    from tinyvision.metrics import gather_matches, merge_matches

    gt, dt = make_coco_like(4, 2, seed=3)
    good = match_images(gt, dt)
    for bad in ({"a": 1}, 5, None):
        with pytest.raises(TypeError, match=r"^matches must be an ImageMatches, got "):
            accumulate_matches(bad)
        with pytest.raises(TypeError, match=r"^matches must be an ImageMatches, got "):
            gather_matches(bad)  # no process group: still checked
        with pytest.raises(TypeError, match="shard 0 must be ImageMatches"):
            merge_matches([bad, good])
