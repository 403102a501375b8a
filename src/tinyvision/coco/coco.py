"""``COCO``: pycocotools 2.0.11's annotation index, with its API and its results.

The same attributes (``dataset``, ``anns``, ``imgs``, ``cats``, ``imgToAnns``,
``catToImgs``), the same filters with the same order of results, and ``loadRes`` adding the
same fields (``area``, ``bbox``, ``id``, ``iscrowd``, default polygon) to results. Files
are parsed with the library's fast JSON reader. ``showAnns`` (matplotlib) and ``download``
(network) are left out.

The printed progress lines are pycocotools' too, as existing scripts and their logs expect
them (``loading annotations into memory...``).
"""

from __future__ import annotations

import copy
import itertools
import os
import time
from collections import defaultdict
from typing import Any

import numpy as np

from tinyvision.coco._log import say
from tinyvision.metrics._coco_io import read_json

__all__ = ["COCO"]


def _is_array_like(obj: Any) -> bool:
    """pycocotools' test: something with ``__iter__`` and ``__len__`` (a str counts)."""
    return hasattr(obj, "__iter__") and hasattr(obj, "__len__")


def _as_list(obj: Any) -> Any:
    return obj if _is_array_like(obj) else [obj]


def _mask_module() -> Any:
    from tinyvision.coco import mask

    return mask


class COCO:
    """A COCO annotation file (or results) indexed by id, as ``pycocotools.coco.COCO``.

    Args:
        annotation_file: path to a COCO json file; ``None`` for an empty index (fill
            ``dataset`` and call :meth:`createIndex`).
    """

    def __init__(self, annotation_file: str | os.PathLike[str] | None = None) -> None:
        self.dataset: dict[str, Any] = {}
        self.anns: dict[Any, dict[str, Any]] = {}
        self.cats: dict[Any, dict[str, Any]] = {}
        self.imgs: dict[Any, dict[str, Any]] = {}
        self.imgToAnns: defaultdict[Any, list[dict[str, Any]]] = defaultdict(list)
        self.catToImgs: defaultdict[Any, list[Any]] = defaultdict(list)
        self._source = "" if annotation_file is None else str(annotation_file)  # for messages
        if annotation_file is not None:
            say("loading annotations into memory...")
            tic = time.time()
            dataset = read_json(annotation_file)
            assert type(dataset) is dict, f"annotation file format {type(dataset)} not supported"
            say(f"Done (t={time.time() - tic:0.2f}s)")
            self.dataset = dataset
            self.createIndex()

    def createIndex(self) -> None:
        """Build ``anns``, ``imgs``, ``cats``, ``imgToAnns`` and ``catToImgs`` from ``dataset``."""
        say("creating index...")
        anns: dict[Any, dict[str, Any]] = {}
        cats: dict[Any, dict[str, Any]] = {}
        imgs: dict[Any, dict[str, Any]] = {}
        img_to_anns: defaultdict[Any, list[dict[str, Any]]] = defaultdict(list)
        cat_to_imgs: defaultdict[Any, list[Any]] = defaultdict(list)
        for ann in self.dataset.get("annotations", ()):
            img_to_anns[ann["image_id"]].append(ann)
            anns[ann["id"]] = ann
        for img in self.dataset.get("images", ()):
            imgs[img["id"]] = img
        for cat in self.dataset.get("categories", ()):
            cats[cat["id"]] = cat
        if "annotations" in self.dataset and "categories" in self.dataset:
            for ann in self.dataset["annotations"]:
                cat_to_imgs[ann["category_id"]].append(ann["image_id"])
        say("index created!")
        self.anns = anns
        self.imgToAnns = img_to_anns
        self.catToImgs = cat_to_imgs
        self.imgs = imgs
        self.cats = cats

    def info(self) -> None:
        """Print the ``info`` section of the file, one ``key: value`` a line."""
        for key, value in self.dataset["info"].items():
            say(f"{key}: {value}")

    def getAnnIds(
        self, imgIds: Any = (), catIds: Any = (), areaRng: Any = (), iscrowd: Any = None
    ) -> list[Any]:
        """Ids of the annotations on ``imgIds``, of ``catIds``, with ``areaRng[0] < area <
        areaRng[1]`` and ``iscrowd`` (each filter skipped when empty / ``None``), in
        image-list order (file order without ``imgIds``)."""
        imgIds = _as_list(imgIds)
        catIds = _as_list(catIds)
        if len(imgIds) == len(catIds) == len(areaRng) == 0:
            anns = self.dataset["annotations"]
        else:
            if len(imgIds) != 0:
                lists = [self.imgToAnns[i] for i in imgIds if i in self.imgToAnns]
                anns = list(itertools.chain.from_iterable(lists))
            else:
                anns = self.dataset["annotations"]
            if len(catIds) != 0:
                wanted = _members(catIds)
                anns = [ann for ann in anns if ann["category_id"] in wanted]
            if len(areaRng) != 0:
                lo, hi = areaRng[0], areaRng[1]
                anns = [ann for ann in anns if lo < ann["area"] < hi]
        if iscrowd is not None:
            return [ann["id"] for ann in anns if ann["iscrowd"] == iscrowd]
        return [ann["id"] for ann in anns]

    def getCatIds(self, catNms: Any = (), supNms: Any = (), catIds: Any = ()) -> list[Any]:
        """Ids of the categories named ``catNms``, of supercategory ``supNms``, among
        ``catIds`` (each filter skipped when empty), in file order."""
        catNms = _as_list(catNms)
        supNms = _as_list(supNms)
        catIds = _as_list(catIds)
        cats = self.dataset["categories"]
        if len(catNms) != 0:
            cats = [cat for cat in cats if cat["name"] in catNms]
        if len(supNms) != 0:
            cats = [cat for cat in cats if cat["supercategory"] in supNms]
        if len(catIds) != 0:
            wanted = _members(catIds)
            cats = [cat for cat in cats if cat["id"] in wanted]
        return [cat["id"] for cat in cats]

    def getImgIds(self, imgIds: Any = (), catIds: Any = ()) -> list[Any]:
        """Ids of the images among ``imgIds`` holding every category of ``catIds``; with no
        filter every image in file order, else in ``set`` order as pycocotools returns them."""
        imgIds = _as_list(imgIds)
        catIds = _as_list(catIds)
        if len(imgIds) == len(catIds) == 0:
            return list(self.imgs.keys())
        ids = set(imgIds)
        for i, cat_id in enumerate(catIds):
            if i == 0 and len(ids) == 0:
                ids = set(self.catToImgs[cat_id])
            else:
                ids &= set(self.catToImgs[cat_id])
        return list(ids)

    def loadAnns(self, ids: Any = ()) -> list[dict[str, Any]] | None:
        """The annotations with ``ids`` (a list, or one ``int``)."""
        return _load(self.anns, ids)

    def loadCats(self, ids: Any = ()) -> list[dict[str, Any]] | None:
        """The categories with ``ids`` (a list, or one ``int``)."""
        return _load(self.cats, ids)

    def loadImgs(self, ids: Any = ()) -> list[dict[str, Any]] | None:
        """The images with ``ids`` (a list, or one ``int``)."""
        return _load(self.imgs, ids)

    def showAnns(self, anns: Any, draw_bbox: bool = False) -> None:
        """Left out (matplotlib drawing): raises ``NotImplementedError``."""
        raise NotImplementedError(
            "COCO.showAnns is not part of tinyvision.coco (no plotting); draw annToMask(ann) "
            "or the boxes with matplotlib"
        )

    def download(self, tarDir: Any = None, imgIds: Any = ()) -> None:
        """Left out (network access): raises ``NotImplementedError``."""
        raise NotImplementedError("COCO.download is not part of tinyvision.coco (no network)")

    def loadRes(self, resFile: Any) -> COCO:
        """Results as a new :class:`COCO` over this one's images and categories.

        ``resFile``: a path to a results json file, a list of result dicts (completed in
        place, as pycocotools does), or a numpy array of real numbers: ``[N, 7]`` rows of
        (image id, x, y, w, h, score, category id), as pycocotools reads them, or ``[N, 6]``
        rows of (x, y, w, h, score, category id), the same without the image id, for a
        ground truth of one image (one image's detections; boxes x, y, w, h as COCO writes
        them). An array of another shape, or holding ``NaN``/infinities or ids that are not
        integers, is a ``ValueError`` naming ``resFile``. Added fields, as pycocotools adds
        them: ``id`` from 1; for
        boxes ``area = w * h``, ``iscrowd = 0`` and the box as a polygon when there is no
        ``segmentation``; for masks ``area`` and (when missing) ``bbox`` from the RLE; for
        keypoints ``bbox`` and ``area`` of the keypoints' extent.
        """
        res = COCO()
        res.dataset["info"] = copy.deepcopy(self.dataset.get("info", {}))
        res.dataset["images"] = list(self.dataset["images"])
        say("Loading and preparing results...")
        tic = time.time()
        if isinstance(resFile, (str, os.PathLike)):
            anns = read_json(resFile)
            res._source = str(resFile)
        elif type(resFile) is np.ndarray:
            anns = self.loadNumpyAnnotations(self._result_rows(resFile, "resFile"))
        else:
            anns = resFile
        assert type(anns) is list, "results in not an array of objects"
        ann_img_ids = [ann["image_id"] for ann in anns]
        assert set(ann_img_ids) == (set(ann_img_ids) & set(self.getImgIds())), (
            "Results do not correspond to current coco set"
        )
        if not anns:
            raise IndexError("loadRes: the results are empty (pycocotools reads anns[0])")
        first = anns[0]
        if "caption" in first:
            img_ids = {img["id"] for img in res.dataset["images"]} & set(ann_img_ids)
            res.dataset["images"] = [i for i in res.dataset["images"] if i["id"] in img_ids]
            for i, ann in enumerate(anns):
                ann["id"] = i + 1
        elif "bbox" in first and first["bbox"] != []:
            res.dataset["categories"] = copy.deepcopy(self.dataset["categories"])
            _complete_boxes(anns)
        elif "segmentation" in first:
            res.dataset["categories"] = copy.deepcopy(self.dataset["categories"])
            _complete_masks(anns, res._source or "results")
        elif "keypoints" in first:
            res.dataset["categories"] = copy.deepcopy(self.dataset["categories"])
            _complete_keypoints(anns)
        say(f"DONE (t={time.time() - tic:0.2f}s)")
        res.dataset["annotations"] = anns
        res.createIndex()
        return res

    def _result_rows(self, data: np.ndarray, name: str) -> np.ndarray:
        """``data`` checked as ``[N, 7]`` result rows; ``[N, 6]`` rows (no image id) get
        the id of the ground truth's only image as their first column."""
        if data.ndim != 2 or data.shape[1] not in (6, 7):
            raise ValueError(
                f"{name} must be an [N, 7] array (image id, x, y, w, h, score, category id) "
                f"or [N, 6] (the same without the image id), got shape {data.shape}"
            )
        if data.dtype.kind not in "iuf":
            raise ValueError(f"{name} must hold real numbers, got dtype {data.dtype}")
        bad = np.argwhere(~np.isfinite(data))
        if bad.size:
            row, col = (int(v) for v in bad[0])
            raise ValueError(
                f"{name} must be finite, got {data[row, col].item()!r} at [{row}, {col}]"
            )
        ids = data[:, [0, data.shape[1] - 1]] if data.shape[1] == 7 else data[:, [5]]
        bad = np.argwhere(ids != np.round(ids))
        if bad.size:
            row = int(bad[0][0])
            raise ValueError(
                f"{name}'s image id and category id columns must hold integers, got row "
                f"{row}: {data[row].tolist()}"
            )
        if data.shape[1] == 7:
            return data
        images = self.dataset.get("images", [])
        if len(images) != 1:
            raise ValueError(
                f"{name} of shape {data.shape} has no image id column, which needs a ground "
                f"truth of one image (this one has {len(images)}): give [N, 7] rows (image "
                "id, x, y, w, h, score, category id)"
            )
        column = np.full((data.shape[0], 1), images[0]["id"], dtype=data.dtype)
        return np.concatenate([column, data], axis=1)

    def loadNumpyAnnotations(self, data: np.ndarray) -> list[dict[str, Any]]:
        """Result dicts from ``[N, 7]`` rows (image id, x, y, w, h, score, category id);
        the box and score stay numpy scalars, as in pycocotools. A ``data`` that is not
        such an array of finite numbers with integer ids is a ``ValueError``."""
        say("Converting ndarray to lists...")
        if type(data) is not np.ndarray:
            raise TypeError(f"data must be a numpy array, got {type(data).__name__}")
        say(data.shape)
        if data.ndim != 2 or data.shape[1] != 7:
            raise ValueError(
                f"data must be an [N, 7] array (image id, x, y, w, h, score, category id), "
                f"got shape {data.shape}"
            )
        data = self._result_rows(data, "data")
        n = data.shape[0]
        anns = []
        for i in range(n):
            if i % 1000000 == 0:
                say(f"{i}/{n}")
            anns.append(
                {
                    "image_id": int(data[i, 0]),
                    "bbox": [data[i, 1], data[i, 2], data[i, 3], data[i, 4]],
                    "score": data[i, 5],
                    "category_id": int(data[i, 6]),
                }
            )
        return anns

    def annToRLE(self, ann: dict[str, Any]) -> dict[str, Any]:
        """The annotation's segmentation (polygons, uncompressed or compressed RLE) as one
        compressed RLE over its image's ``height`` x ``width``."""
        mask = _mask_module()
        img = self.imgs[ann["image_id"]]
        h, w = img["height"], img["width"]
        segm = ann["segmentation"]
        if type(segm) is list:
            return mask.merge(mask.frPyObjects(segm, h, w))
        if type(segm["counts"]) is list:
            return mask.frPyObjects(segm, h, w)
        return segm

    def annToMask(self, ann: dict[str, Any]) -> np.ndarray:
        """The annotation's segmentation as a binary mask, uint8[height, width]."""
        return _mask_module().decode(self.annToRLE(ann))


def _members(ids: Any) -> Any:
    """``ids`` as a container for ``in`` tests: a set when hashable (same answers, faster)."""
    try:
        return set(ids)
    except TypeError:
        return ids


def _load(table: dict[Any, dict[str, Any]], ids: Any) -> list[dict[str, Any]] | None:
    # pycocotools answers None for a scalar that is not exactly an int (e.g. numpy ints).
    if _is_array_like(ids):
        return [table[i] for i in ids]
    if type(ids) is int:
        return [table[ids]]
    return None


def _complete_boxes(anns: list[dict[str, Any]]) -> None:
    for i, ann in enumerate(anns):
        bb = ann["bbox"]
        x1, x2, y1, y2 = bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]
        if "segmentation" not in ann:
            ann["segmentation"] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
        ann["area"] = bb[2] * bb[3]
        ann["id"] = i + 1
        ann["iscrowd"] = 0


def _complete_masks(anns: list[dict[str, Any]], source: str) -> None:
    mask = _mask_module()
    for i, ann in enumerate(anns):
        try:
            ann["area"] = mask.area(ann["segmentation"])
            if "bbox" not in ann:
                ann["bbox"] = mask.toBbox(ann["segmentation"])
        except (ValueError, TypeError) as exc:  # the same type, with the result named
            raise type(exc)(f"{source}: results[{i}]['segmentation']: {exc}") from None
        ann["id"] = i + 1
        ann["iscrowd"] = 0


def _complete_keypoints(anns: list[dict[str, Any]]) -> None:
    for i, ann in enumerate(anns):
        s = ann["keypoints"]
        x, y = s[0::3], s[1::3]
        x0, x1, y0, y1 = np.min(x), np.max(x), np.min(y), np.max(y)
        ann["area"] = (x1 - x0) * (y1 - y0)
        ann["id"] = i + 1
        ann["bbox"] = [x0, y0, x1 - x0, y1 - y0]
