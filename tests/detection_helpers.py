"""Shared helpers for the detection tests: pycocotools run live, small hand-made sets."""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def pycoco(
    gt: dict[str, Any], dt: list[dict[str, Any]], iou_type: str = "bbox", **params: Any
) -> tuple[COCOeval, str]:
    """Run pycocotools 2.0.11 (``iouType=iou_type``) on deep copies; return the COCOeval
    and summarize()'s text."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(dt))
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        for key, value in params.items():
            setattr(ev.params, key, value)
        ev.evaluate()
        ev.accumulate()
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        ev.summarize()
    return ev, text.getvalue()


def assert_same_as_pycoco(result: Any, ev: COCOeval) -> None:
    """stats, precision, recall and scores identical (zero tolerance)."""
    for key in ("precision", "recall", "scores"):
        ours, theirs = getattr(result, key), ev.eval[key]
        assert ours.shape == theirs.shape, key
        if not np.array_equal(ours, theirs):
            bad = np.argwhere(ours != theirs)[0]
            raise AssertionError(
                f"{key} differs first at {tuple(bad)}: {ours[tuple(bad)]!r} vs "
                f"{theirs[tuple(bad)]!r}"
            )
    assert np.array_equal(result.stats, np.asarray(ev.stats)), (result.stats, ev.stats)


def coco_gt(
    boxes: list[tuple[int, int, list[float]]],
    *,
    images: list[int],
    categories: list[int],
    area: dict[int, float] | None = None,
    crowd: set[int] = frozenset(),
    ids: list[int] | None = None,
    ignore: set[int] = frozenset(),
) -> dict[str, Any]:
    """A COCO ground truth from ``(image_id, category_id, [x, y, w, h])`` rows."""
    area = area or {}
    anns = []
    for i, (image, cat, box) in enumerate(boxes):
        ann = {
            "id": ids[i] if ids is not None else i + 1,
            "image_id": image,
            "category_id": cat,
            "bbox": list(box),
            "area": area.get(i, box[2] * box[3]),
            "iscrowd": int(i in crowd),
        }
        if i in ignore:
            ann["ignore"] = 1
        anns.append(ann)
    return {
        "images": [{"id": i, "width": 640, "height": 480} for i in images],
        "annotations": anns,
        "categories": [{"id": c, "name": f"c{c}"} for c in categories],
    }


def coco_dt(rows: list[tuple[int, int, list[float], float]]) -> list[dict[str, Any]]:
    """COCO results from ``(image_id, category_id, [x, y, w, h], score)`` rows."""
    return [{"image_id": i, "category_id": c, "bbox": list(b), "score": s} for i, c, b, s in rows]
