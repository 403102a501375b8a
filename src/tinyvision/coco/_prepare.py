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
    """The annotations pycocotools evaluates, in the order it concatenates them per image
    (``useCats=0``: by position of the category in ``p.catIds``, then file order)."""
    if p.useCats:
        return coco.loadAnns(coco.getAnnIds(imgIds=p.imgIds, catIds=p.catIds))
    anns = coco.loadAnns(coco.getAnnIds(imgIds=p.imgIds))
    position: dict[Any, int] = {}
    for i, c in enumerate(p.catIds):
        position.setdefault(c, i)
    kept = [
        (position[a["category_id"]], i) for i, a in enumerate(anns) if a["category_id"] in position
    ]
    return [anns[i] for _, i in sorted(kept)]


def _column(anns: list[dict[str, Any]], key: str, source: str) -> list[Any]:
    """``[a[key] for a in anns]``; a missing field is a ``ValueError`` naming the annotation."""
    try:
        return [a[key] for a in anns]
    except KeyError:
        bad = next(a for a in anns if key not in a)
        raise ValueError(f"{source}: annotation id {bad.get('id')!r} has no {key!r}") from None


def _boxes(anns: list[dict[str, Any]], source: str) -> np.ndarray:
    return np.asarray(_column(anns, "bbox", source), dtype=np.float64).reshape(-1, 4)


def prepare(coco_gt: Any, coco_dt: Any, p: Any) -> Selection:
    """What ``COCOeval._prepare`` loads for (normalised) parameters ``p``."""
    if p.iouType != "bbox":
        raise NotImplementedError(f"iouType {p.iouType!r} needs the segm/keypoints evaluator")
    gts = select_annotations(coco_gt, p)
    dts = select_annotations(coco_dt, p)
    images = np.asarray(p.imgIds, dtype=np.int64).reshape(-1)
    known = set(p.imgIds)
    dts = [d for d in dts if d["image_id"] in known]  # never loaded by pycocotools
    cats = np.asarray(p.catIds if p.useCats else [POOLED], dtype=np.int64).reshape(-1)

    def categories(anns: list[dict[str, Any]], source: str) -> Any:
        if not p.useCats:
            return np.full(len(anns), POOLED, dtype=np.int64)
        return _column(anns, "category_id", source)

    gt = DetectionDataset.from_columns(
        image_id=_column(gts, "image_id", "ground truth"),
        category_id=categories(gts, "ground truth"),
        bbox=_boxes(gts, "ground truth"),
        image_ids=images,
        category_ids=cats,
        area=_column(gts, "area", "ground truth"),
        iscrowd=[bool(c) for c in _column(gts, "iscrowd", "ground truth")],
        annotation_id=_column(gts, "id", "ground truth"),
    )
    dt = Detections.from_columns(
        image_id=_column(dts, "image_id", "results"),
        category_id=categories(dts, "results"),
        bbox=_boxes(dts, "results"),
        score=_column(dts, "score", "results"),
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
    )
