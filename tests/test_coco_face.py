"""``tinyvision.coco`` as a drop-in for pycocotools 2.0.11: the same script body run with
both imports, everything compared bit for bit (pycocotools run live)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools.coco import COCO as PyCOCO
from pycocotools.cocoeval import COCOeval as PyCOCOeval

from tinyvision.coco import COCO, COCOeval, Params
from tinyvision.data import make_coco_like

FACES = {"pycocotools": (PyCOCO, PyCOCOeval), "tinyvision": (COCO, COCOeval)}


def bbox_set(seed: int = 0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A small COCO-like set with ties (2-decimal scores), crowd regions, empty images, a
    category without objects, an annotation with id 0 and a supercategory to filter on."""
    gt, dt = make_coco_like(
        40, 6, objects_per_image=4.0, detections_per_image=12.0, crowd_fraction=0.08,
        score_decimals=2, seed=seed,
    )  # fmt: skip
    new_id = {img["id"]: n + 1 for n, img in enumerate(gt["images"])}  # ids 1..40
    for row in [*gt["images"]]:
        row["id"] = new_id[row["id"]]
    for row in [*gt["annotations"], *dt]:
        row["image_id"] = new_id[row["image_id"]]
    for c in gt["categories"]:
        c["supercategory"] = "even" if c["id"] % 2 == 0 else "odd"
    gt["categories"].append({"id": 99, "name": "nothing", "supercategory": "odd"})
    gt["images"].append({"id": 10_000, "width": 64, "height": 48, "file_name": "empty.jpg"})
    gt["annotations"][3]["id"] = 0  # pycocotools never counts a match to id 0
    gt["info"] = {"description": "generated", "year": 2026}
    return gt, dt


def run_script(
    face: str,
    gt_file: Path,
    results: Any,
    iou_type: str = "bbox",
    params: dict[str, Any] | None = None,
    accumulate_with: dict[str, Any] | None = None,
) -> tuple[Any, str]:
    """The script body users run, with either face's classes."""
    coco_cls, eval_cls = FACES[face]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = coco_cls(str(gt_file))
        coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        E = eval_cls(coco_gt, coco_dt, iou_type)
        for name, value in (params or {}).items():
            setattr(E.params, name, value)
        E.evaluate()
        if accumulate_with is None:
            E.accumulate()
        else:
            p = copy.deepcopy(E.params)
            for name, value in accumulate_with.items():
                setattr(p, name, value)
            E.accumulate(p)
            return E, ""  # summarize() reads E.params, which p no longer matches
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        E.summarize()
    return E, out.getvalue()


def assert_same_records(ours: list[Any], theirs: list[Any]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
            continue
        assert a.keys() == b.keys()
        for key, value in b.items():
            if isinstance(value, np.ndarray):
                assert a[key].dtype == value.dtype, key
                assert np.array_equal(a[key], value), key
                assert a[key].shape == value.shape, key
            else:
                assert a[key] == value, key


def assert_same_ious(ours: dict, theirs: dict) -> None:
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        if isinstance(value, list):
            assert ours[key] == value
        else:
            assert ours[key].dtype == value.dtype and np.array_equal(ours[key], value), key


def assert_same_eval(ours: Any, theirs: Any, ours_text: str, theirs_text: str) -> None:
    assert ours_text == theirs_text
    assert np.array_equal(ours.stats, theirs.stats)
    assert ours.stats.dtype == theirs.stats.dtype
    assert ours.eval["counts"] == theirs.eval["counts"]
    for key in ("precision", "recall", "scores"):
        assert ours.eval[key].dtype == theirs.eval[key].dtype
        assert np.array_equal(ours.eval[key], theirs.eval[key]), key
    assert sorted(ours.eval) == sorted(theirs.eval)
    assert ours.params.imgIds == theirs.params.imgIds
    assert ours.params.catIds == theirs.params.catIds
    assert ours.params.maxDets == theirs.params.maxDets


@pytest.fixture(scope="module")
def bbox_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    gt, dt = bbox_set()
    path = tmp_path_factory.mktemp("coco") / "gt.json"
    path.write_text(json.dumps(gt))
    return path, dt


PARAM_CASES = {
    "default": {},
    "no-categories": {"useCats": 0},
    "maxdets-1-5-50": {"maxDets": [1, 5, 50]},  # stats[0] reads maxDets=100: -1
    "maxdets-unsorted": {"maxDets": [100, 3, 10]},
    "some-images": {"imgIds": [7, 3, 3, 11, 10_000]},
    "some-categories": {"catIds": [4, 2, 99, 123]},
    "no-categories-subset": {"useCats": 0, "catIds": [3, 1]},
    "thresholds": {
        "iouThrs": np.array([0.3, 0.5, 0.75, 0.9]),
        "recThrs": np.linspace(0.0, 1.0, 11),
    },
    "areas": {
        "areaRng": [[0, 1e10], [0, 20**2], [20**2, 50**2], [50**2, 1e10]],
        "areaRngLbl": ["all", "small", "medium", "large"],
    },
}


@pytest.mark.parametrize("case", list(PARAM_CASES))
def test_bbox_drop_in_matches_pycocotools(bbox_files: tuple[Path, list], case: str) -> None:
    path, dt = bbox_files
    theirs, theirs_text = run_script("pycocotools", path, dt, params=PARAM_CASES[case])
    ours, ours_text = run_script("tinyvision", path, dt, params=PARAM_CASES[case])
    assert_same_eval(ours, theirs, ours_text, theirs_text)
    assert_same_records(ours.evalImgs, theirs.evalImgs)
    assert_same_ious(ours.ious, theirs.ious)


@pytest.mark.parametrize(
    "change",
    [
        {"imgIds": [1, 2, 3, 4, 5, 6]},
        {"catIds": [5, 1]},
        {"maxDets": [1, 10]},
        {"areaRng": [[0, 1e10], [96**2, 1e10]], "areaRngLbl": ["all", "large"]},
    ],
    ids=["images", "categories", "limits", "areas"],
)
def test_accumulate_with_other_params_reads_what_was_evaluated(
    bbox_files: tuple[Path, list], change: dict[str, Any]
) -> None:
    path, dt = bbox_files
    theirs, _ = run_script("pycocotools", path, dt, accumulate_with=change)
    ours, _ = run_script("tinyvision", path, dt, accumulate_with=change)
    for key in ("precision", "recall", "scores"):
        assert np.array_equal(ours.eval[key], theirs.eval[key]), key
    assert ours.eval["counts"] == theirs.eval["counts"]


def test_params_defaults_are_pycocotools(bbox_files: tuple[Path, list]) -> None:
    from pycocotools.cocoeval import Params as PyParams

    for iou_type in ("segm", "bbox", "keypoints"):
        ours, theirs = vars(Params(iou_type)), vars(PyParams(iou_type))
        assert sorted(ours) == sorted(theirs)
        for key, value in theirs.items():
            assert np.array_equal(ours[key], value), (iou_type, key)
    assert COCOeval().params.iouType == PyCOCOeval().params.iouType == "segm"
    with pytest.raises(ValueError, match="iouType"):
        Params("boxes")


def index_calls(coco: Any) -> list[Any]:
    """Every lookup of the COCO index, with each filter and the order of the answers."""
    return [
        coco.getAnnIds(),
        coco.getAnnIds(imgIds=[5, 2, 10_000, 777]),
        coco.getAnnIds(imgIds=3),
        coco.getAnnIds(catIds=[2, 4]),
        coco.getAnnIds(catIds=np.array([2, 4])),
        coco.getAnnIds(areaRng=[100, 2000]),
        coco.getAnnIds(imgIds=[1, 2, 3], catIds=3, areaRng=[0, 1e9], iscrowd=0),
        coco.getAnnIds(iscrowd=True),
        coco.getCatIds(),
        coco.getCatIds(catNms=["class_2", "nothing"]),
        coco.getCatIds(supNms="odd"),
        coco.getCatIds(catNms=[], supNms=["odd"], catIds=[3, 99, 5]),
        coco.getImgIds(),
        coco.getImgIds(imgIds=[9, 4, 2, 10_000]),
        coco.getImgIds(catIds=[1, 3]),
        coco.getImgIds(imgIds=[1, 2, 3, 4, 5, 6, 7, 8], catIds=2),
        coco.loadAnns([5, 0, 1]),
        coco.loadAnns(7),
        coco.loadAnns(np.int64(7)),  # pycocotools: None for a numpy scalar
        coco.loadCats([99, 1]),
        coco.loadImgs(10_000),
        coco.loadImgs(),
        len(coco.imgToAnns),
        sorted(coco.catToImgs.items()),
        coco.dataset.keys(),
        list(coco.anns),
        list(coco.imgs),
        list(coco.cats),
    ]


def test_coco_index_answers_as_pycocotools(bbox_files: tuple[Path, list]) -> None:
    path, _ = bbox_files
    with contextlib.redirect_stdout(io.StringIO()):
        theirs, ours = PyCOCO(str(path)), COCO(str(path))
    assert index_calls(ours) == index_calls(theirs)
    out = {}
    for name, coco in (("ours", ours), ("theirs", theirs)):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            coco.info()
        out[name] = buffer.getvalue()
    assert out["ours"] == out["theirs"] == "description: generated\nyear: 2026\n"


def test_coco_from_a_dataset_and_create_index() -> None:
    gt, _ = bbox_set()
    ours, theirs = COCO(), PyCOCO()
    with contextlib.redirect_stdout(io.StringIO()):
        for coco in (ours, theirs):
            coco.dataset = copy.deepcopy(gt)
            coco.createIndex()
    assert index_calls(ours) == index_calls(theirs)


def load_results(face: str, path: Path, results: Any) -> Any:
    coco_cls, _ = FACES[face]
    with contextlib.redirect_stdout(io.StringIO()):
        return coco_cls(str(path)).loadRes(results)


def test_load_res_adds_pycocotools_fields(bbox_files: tuple[Path, list], tmp_path: Path) -> None:
    path, dt = bbox_files
    results_file = tmp_path / "results.json"
    results_file.write_text(json.dumps(dt[:30]))
    rows = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in dt[:30]])
    keypoints = [
        {"image_id": 2, "category_id": 1, "keypoints": [10, 20, 2, 30.5, 5, 1, 12, 40, 0],
         "score": 0.5},
        {"image_id": 3, "category_id": 2, "keypoints": [1, 1, 2, 1, 1, 2, 1, 1, 2], "score": 0.7},
    ]  # fmt: skip
    captions = [{"image_id": 3, "caption": "a"}, {"image_id": 1, "caption": "b"}]
    for source in (copy.deepcopy(dt[:30]), str(results_file), rows, keypoints, captions):
        ours = load_results("tinyvision", path, copy.deepcopy(source))
        theirs = load_results("pycocotools", path, copy.deepcopy(source))
        assert repr(ours.dataset) == repr(theirs.dataset)
        assert index_calls_res(ours) == index_calls_res(theirs)


def index_calls_res(coco: Any) -> list[Any]:
    return [coco.getAnnIds(), coco.getImgIds(), sorted(coco.catToImgs.items())]


def test_load_res_errors_as_pycocotools(bbox_files: tuple[Path, list]) -> None:
    path, dt = bbox_files
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(path))
    with pytest.raises(AssertionError, match="do not correspond"):
        gt.loadRes([{**dt[0], "image_id": 123_456}])
    with pytest.raises(AssertionError, match="not an array"):
        gt.loadRes({"image_id": 1})
    with pytest.raises(IndexError):
        gt.loadRes([])


def result_rows(dt: list[dict[str, Any]], dtype: Any = np.float64) -> np.ndarray:
    """pycocotools' ``[N, 7]`` rows: image id, x, y, w, h, score, category id."""
    rows = [[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in dt]
    return np.array(rows, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_load_res_array_evaluates_as_pycocotools(bbox_files: tuple[Path, list], dtype: Any) -> None:
    path, dt = bbox_files
    ours, ours_text = run_script("tinyvision", path, result_rows(dt, dtype))
    theirs, theirs_text = run_script("pycocotools", path, result_rows(dt, dtype))
    assert_same_eval(ours, theirs, ours_text, theirs_text)
    assert repr(ours.cocoDt.dataset) == repr(theirs.cocoDt.dataset)


def test_load_res_six_columns_are_one_image_without_its_id(tmp_path: Path) -> None:
    gt, dt = bbox_set()
    image = gt["images"][0]
    gt["images"] = [image]
    gt["annotations"] = [a for a in gt["annotations"] if a["image_id"] == image["id"]]
    mine = [d for d in dt if d["image_id"] == image["id"]]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(gt))
    seven = result_rows(mine)
    six = load_results("tinyvision", path, seven[:, 1:].copy())
    theirs = load_results("pycocotools", path, seven)
    assert len(six.anns) == len(mine) > 0
    assert repr(six.dataset) == repr(theirs.dataset)
    assert all(ann["image_id"] == image["id"] for ann in six.anns.values())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((3, 5)), r"resFile must be an \[N, 7\] array .* got shape \(3, 5\)"),
        (np.zeros(7), r"resFile must be an \[N, 7\] array .* got shape \(7,\)"),
        (np.zeros((2, 7, 1)), r"resFile must be an \[N, 7\] array .* got shape \(2, 7, 1\)"),
        (np.array([["1"] * 7]), "resFile must hold real numbers, got dtype <U1"),
        (np.ones((2, 7), dtype=bool), "resFile must hold real numbers, got dtype bool"),
        (np.ones((2, 7), dtype=object), "resFile must hold real numbers, got dtype object"),
        (np.array([[1, 0, 0, 2, 2, np.nan, 1]]), r"resFile must be finite, got nan at \[0, 5\]"),
        (np.array([[1, 0, np.inf, 2, 2, 1, 1]]), r"resFile must be finite, got inf at \[0, 2\]"),
        (np.array([[1.5, 0, 0, 2, 2, 0.5, 1]]), "resFile's image id and category id columns"),
        (np.array([[1, 0, 0, 2, 2, 0.5, 1.25]]), "resFile's image id and category id columns"),
        (np.ones((2, 6)), r"resFile of shape \(2, 6\) has no image id column, .* has 41\)"),
    ],
)  # fmt: skip
def test_load_res_refuses_bad_arrays(
    bbox_files: tuple[Path, list], data: np.ndarray, message: str
) -> None:
    path, _ = bbox_files
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(path))
        with pytest.raises(ValueError, match=message):
            gt.loadRes(data)
        with pytest.raises(ValueError, match="data must be an"):
            gt.loadNumpyAnnotations(np.zeros((3, 6)))
        with pytest.raises(TypeError, match="data must be a numpy array, got list"):
            gt.loadNumpyAnnotations([[1] * 7])


def test_annotation_without_a_field_names_it(bbox_files: tuple[Path, list]) -> None:
    path, dt = bbox_files
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(path))
        del gt.anns[5]["area"]
        E = COCOeval(gt, gt.loadRes(copy.deepcopy(dt)), "bbox")
        with pytest.raises(ValueError, match=r"gt\.json: annotation id 5 has no 'area'"):
            E.evaluate()


def test_summarize_before_accumulate_raises(bbox_files: tuple[Path, list]) -> None:
    path, dt = bbox_files
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(path))
        E = COCOeval(gt, gt.loadRes(copy.deepcopy(dt)), "bbox")
        with pytest.raises(RuntimeError, match="accumulate"):
            E.summarize()
        with pytest.raises(RuntimeError, match="evaluate"):
            E.accumulate()


# ----- segm and keypoints ----------------------------------------------------------------
INSTANCE_CASES = {
    "segm": [
        {},
        {"useCats": 0},
        {"imgIds": [2, 4, 6, 8, 10], "maxDets": [1, 10, 50]},
        {"iouThrs": np.array([0.25, 0.5, 0.75]), "catIds": [1, 3]},
    ],
    "keypoints": [
        {},
        {"useCats": 0},  # pycocotools finds no (image, -1) keypoints: nothing matches
        {"kpt_oks_sigmas": np.linspace(0.2, 1.0, 17) / 10.0, "maxDets": [5, 20]},
        {
            "areaRng": [[0, 1e10], [0, 40**2], [40**2, 1e10]],
            "areaRngLbl": ["all", "medium", "large"],
        },
    ],
}


@pytest.fixture(scope="module")
def instance_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list]]:
    from tinyvision.data.cocolike_instances import make_coco_like_keypoints, make_coco_like_segm

    folder = tmp_path_factory.mktemp("instances")
    out = {}
    for name, (gt, dt) in {
        "segm": make_coco_like_segm(24, 4, seed=3),
        "keypoints": make_coco_like_keypoints(24, n_categories=2, seed=4),
    }.items():
        new_id = {img["id"]: n + 1 for n, img in enumerate(gt["images"])}
        for row in gt["images"]:
            row["id"] = new_id[row["id"]]
        for row in [*gt["annotations"], *dt]:
            row["image_id"] = new_id[row["image_id"]]
        path = folder / f"{name}.json"
        path.write_text(json.dumps(gt))
        out[name] = (path, dt)
    return out


@pytest.mark.parametrize(
    ("iou_type", "case"),
    [(t, i) for t, cases in INSTANCE_CASES.items() for i in range(len(cases))],
)
def test_segm_and_keypoints_drop_in_match_pycocotools(
    instance_files: dict[str, tuple[Path, list]], iou_type: str, case: int
) -> None:
    path, dt = instance_files[iou_type]
    params = INSTANCE_CASES[iou_type][case]
    theirs, theirs_text = run_script("pycocotools", path, dt, iou_type, params=params)
    ours, ours_text = run_script("tinyvision", path, dt, iou_type, params=params)
    assert_same_eval(ours, theirs, ours_text, theirs_text)
    assert_same_records(ours.evalImgs, theirs.evalImgs)
    assert_same_ious(ours.ious, theirs.ious)
    assert np.any(theirs.stats > 0) or params.get("useCats") == 0  # not all -1 or 0


def test_load_res_of_masks_as_pycocotools(instance_files: dict[str, tuple[Path, list]]) -> None:
    path, dt = instance_files["segm"]
    ours = load_results("tinyvision", path, copy.deepcopy(dt))
    theirs = load_results("pycocotools", path, copy.deepcopy(dt))
    assert repr(ours.dataset) == repr(theirs.dataset)  # area and bbox from the RLEs
    for ann in theirs.dataset["annotations"][:5]:
        assert ours.annToRLE(ann) == theirs.annToRLE(ann)
        mine, reference = ours.annToMask(ann), theirs.annToMask(ann)
        assert mine.dtype == reference.dtype and np.array_equal(mine, reference)
    with contextlib.redirect_stdout(io.StringIO()):
        gt_ours, gt_theirs = COCO(str(path)), PyCOCO(str(path))
    for ann in gt_theirs.dataset["annotations"][:40]:  # polygons, RLE and uncompressed RLE
        assert gt_ours.annToRLE(ann) == gt_theirs.annToRLE(ann)
        assert np.array_equal(gt_ours.annToMask(ann), gt_theirs.annToMask(ann))


def test_bad_segmentations_name_the_file_the_entry_and_the_field(
    instance_files: dict[str, tuple[Path, list]], tmp_path: Path
) -> None:
    path, dt = instance_files["segm"]
    gt = json.loads(path.read_text())
    gt["annotations"][5]["segmentation"] = [[1, 2, 3, 4]]  # a polygon of 2 points
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(gt))
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(bad)
        E = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(dt)), "segm")
        ann_id = gt["annotations"][5]["id"]
        with pytest.raises(
            ValueError, match=rf"bad\.json: annotations\[5\] \(id {ann_id}\)\['segm"
        ):
            E.evaluate()
        results = copy.deepcopy(dt)
        results[7]["segmentation"] = {"size": [3, 3], "counts": "zz"}
        with pytest.raises(ValueError, match=r"results\[7\]\['segmentation'\]"):
            COCO(path).loadRes(results)


def test_left_out_methods_say_so() -> None:
    coco = COCO()
    with pytest.raises(NotImplementedError, match="showAnns"):
        coco.showAnns([])
    with pytest.raises(NotImplementedError, match="download"):
        coco.download("images")


@pytest.mark.parametrize("iou_type", ["segm", "keypoints"])
def test_results_with_boxes_too_match_pycocotools(tmp_path: Path, iou_type: str) -> None:
    """detectron2 writes ``bbox`` beside masks/keypoints: loadRes then takes the box branch
    (area = w * h), which a segm evaluation compares with the area ranges."""
    from tinyvision.data.cocolike_instances import make_coco_like_keypoints, make_coco_like_segm

    if iou_type == "segm":
        gt, dt = make_coco_like_segm(12, 3, with_bbox=True, seed=8)
    else:
        gt, dt = make_coco_like_keypoints(12, with_bbox=True, seed=9)
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    theirs, theirs_text = run_script("pycocotools", path, dt, iou_type)
    ours, ours_text = run_script("tinyvision", path, dt, iou_type)
    assert_same_eval(ours, theirs, ours_text, theirs_text)
    assert_same_records(ours.evalImgs, theirs.evalImgs)


def test_eval_imgs_cannot_be_assigned(bbox_files: tuple[Path, list]) -> None:
    path, dt = bbox_files
    E, _ = run_script("tinyvision", path, dt)
    with pytest.raises(AttributeError, match="read-only"):
        E.evalImgs = []


def test_progress_lines_as_pycocotools_unless_quiet(
    bbox_files: tuple[Path, list], capsys: pytest.CaptureFixture
) -> None:
    from tinyvision.coco._log import quiet

    path, _ = bbox_files
    COCO(path)
    assert capsys.readouterr().out.startswith("loading annotations into memory...\nDone (t=")
    with quiet():
        COCO(path)
    assert capsys.readouterr().out == ""
