"""pycocotools' ``_prepare`` as the evaluator's columns: which annotations and results a
``COCOeval`` evaluates, in the order pycocotools reads them, and their matching."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyvision.metrics import DetectionDataset, Detections, ImageMatches, match_images

POOLED = -1  # the category id of useCats=0, as pycocotools writes it


@dataclass(frozen=True, eq=False)
class Selection:
    """The evaluated ground truths (``G`` rows) and results (``D`` rows), as selected.

    ``gt_ids``/``dt_ids`` are the annotations' ``id`` values in selection order (image by
    image in ``imgIds`` order, file order inside; ``useCats=0``: by category position in
    ``catIds`` first); ``gt``/``dt`` the same rows as the evaluator's tables.
    """

    gt: DetectionDataset
    dt: Detections
    gt_anns: list[dict[str, Any]]  # G annotations
    dt_anns: list[dict[str, Any]]  # D results


def select_annotations(coco: Any, p: Any) -> list[dict[str, Any]]:
    """The annotations pycocotools evaluates: those on ``p.imgIds`` of a category in
    ``p.catIds`` (also with ``useCats=0``), in file order.

    pycocotools reads them image by image (``p.imgIds`` order), file order inside; the
    evaluator groups rows by image and category keeping their order, so file order gives
    the same matches, and error messages count rows as the file does (exactly so when
    every annotation is evaluated, the default).
    """
    images, cats = set(p.imgIds), set(p.catIds)
    return [
        a
        for a in coco.dataset.get("annotations", ())
        if a["image_id"] in images and a["category_id"] in cats
    ]


def _source(coco: Any, default: str) -> str:
    """The file a COCO object was read from, for messages."""
    return getattr(coco, "_source", "") or default


def _column(anns: list[dict[str, Any]], key: str, source: str) -> list[Any]:
    """``[a[key] for a in anns]``; a missing field is a ``ValueError`` naming the annotation."""
    try:
        return [a[key] for a in anns]
    except KeyError:
        bad = next(a for a in anns if key not in a)
        raise ValueError(f"{source}: annotation id {bad.get('id')!r} has no {key!r}") from None


def _boxes(anns: list[dict[str, Any]], source: str, needed: bool) -> np.ndarray:
    """The ``bbox`` column; segm does not read it (zeros where absent)."""
    if needed:
        values = _column(anns, "bbox", source)
    else:
        values = [a.get("bbox", (0.0, 0.0, 0.0, 0.0)) for a in anns]
    return np.asarray(values, dtype=np.float64).reshape(-1, 4)


def _optional(anns: list[dict[str, Any]], key: str, wanted: bool) -> list[Any] | None:
    return [a.get(key) for a in anns] if wanted else None


def prepare(coco_gt: Any, coco_dt: Any, p: Any) -> Selection:
    """What ``COCOeval._prepare`` loads for (normalised) parameters ``p``, as the
    evaluator's tables. With ``useCats=0`` the category column holds each category's
    position in ``p.catIds``: the evaluator pools an image's categories in that order, as
    pycocotools concatenates them."""
    gts = select_annotations(coco_gt, p)
    dts = select_annotations(coco_dt, p)
    g_src, d_src = _source(coco_gt, "ground truth"), _source(coco_dt, "results")
    images = np.asarray(p.imgIds, dtype=np.int64).reshape(-1)
    segm, keypoints = p.iouType == "segm", p.iouType == "keypoints"
    if p.useCats:
        cats = np.asarray(p.catIds, dtype=np.int64).reshape(-1)
        position = None
    else:
        position = {}
        for c in p.catIds:
            position.setdefault(c, len(position))
        cats = np.arange(len(position), dtype=np.int64)

    def categories(anns: list[dict[str, Any]], source: str) -> Any:
        values = _column(anns, "category_id", source)
        return values if position is None else [position[c] for c in values]

    sizes = np.zeros((images.shape[0], 2), dtype=np.int64)  # (width, height) for polygons
    if segm:
        for i, img in enumerate(p.imgIds):
            info = coco_gt.imgs.get(img)
            if info is not None:
                sizes[i] = (info.get("width", 0), info.get("height", 0))
    gt = DetectionDataset.from_columns(
        image_id=_column(gts, "image_id", g_src),
        category_id=categories(gts, g_src),
        bbox=_boxes(gts, g_src, not segm),
        image_ids=images,
        category_ids=cats,
        area=_column(gts, "area", g_src),
        iscrowd=[bool(c) for c in _column(gts, "iscrowd", g_src)],
        annotation_id=_column(gts, "id", g_src),
        image_sizes=sizes,
        segmentation=_optional(gts, "segmentation", segm),
        keypoints=_optional(gts, "keypoints", keypoints),
        num_keypoints=_optional(gts, "num_keypoints", keypoints),
        source=g_src,
    )
    dt = Detections.from_columns(
        image_id=_column(dts, "image_id", d_src),
        category_id=categories(dts, d_src),
        bbox=_boxes(dts, d_src, not segm),
        score=_column(dts, "score", d_src),
        area=_column(dts, "area", d_src),
        segmentation=_optional(dts, "segmentation", segm),
        keypoints=_optional(dts, "keypoints", keypoints),
        source=d_src,
    )
    return Selection(gt=gt, dt=dt, gt_anns=gts, dt_anns=dts)


def match(selection: Selection, p: Any) -> ImageMatches:
    """pycocotools' ``evaluate`` of the selection as the evaluator's matches (mode "coco")."""
    return match_images(
        selection.gt,
        selection.dt,
        mode="coco",
        iou_thresholds=np.asarray(p.iouThrs, dtype=np.float64),
        max_dets=list(p.maxDets),
        area_ranges=[list(a) for a in p.areaRng],
        recall_thresholds=np.asarray(p.recThrs, dtype=np.float64),
        iou_type=p.iouType,
        use_cats=bool(p.useCats),
        kpt_oks_sigmas=getattr(p, "kpt_oks_sigmas", None),
    )
