"""Generated COCO-like instance-segmentation and keypoint data, offline and seeded.

Built on :func:`tinyvision.data.make_coco_like`'s boxes (same arguments, same boxes and
scores): each object and detection gets a shape inside its box.

* :func:`make_coco_like_segm`: ground-truth polygons (one or two per object), some objects
  as compressed RLE, crowd regions as uncompressed RLE (as in COCO's files); results with
  compressed RLE ``segmentation`` (with ``bbox`` too when ``with_bbox``, as detectron2
  writes them).
* :func:`make_coco_like_keypoints`: a person-like layout of ``num_keypoints`` points per
  box, visibility flags 0, 1 and 2, ``num_keypoints`` counted, objects with no labelled
  keypoint, crowd regions without keypoints; results with keypoints (and ``bbox`` when
  ``with_bbox``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinyvision._validate import check_int
from tinyvision.data.cocolike import make_coco_like
from tinyvision.metrics import _rle


def _template(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Angles and radii of a star-shaped outline (a category's shape)."""
    n = int(rng.integers(3, 12))
    return np.sort(rng.uniform(0.0, 2 * np.pi, n)), rng.uniform(0.55, 1.0, n)


def _polygon_in(
    rng: np.random.Generator, box: list[float], shape: tuple[np.ndarray, np.ndarray]
) -> list[float]:
    """``shape`` drawn inside ``box`` (x, y, w, h) with some noise, 2 decimals."""
    x, y, w, h = box
    angle, radius = shape
    radius = np.clip(radius + rng.normal(0.0, 0.05, radius.shape), 0.1, 1.0)
    px = x + w / 2 + np.cos(angle) * radius * w / 2
    py = y + h / 2 + np.sin(angle) * radius * h / 2
    return np.round(np.stack([px, py], axis=1).reshape(-1), 2).tolist()


def _mask_counts(polys: list[list[float]], h: int, w: int) -> np.ndarray:
    """The RLE counts of the union of ``polys`` rasterised in an ``h`` x ``w`` image."""
    xy = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polys])
    starts = np.zeros(len(polys) + 1, dtype=np.int64)
    np.cumsum([len(p) // 2 for p in polys], out=starts[1:])
    hs = np.full(len(polys), h, dtype=np.int64)
    ws = np.full(len(polys), w, dtype=np.int64)
    counts, offsets = _rle.from_polygons(xy, starts, hs, ws)
    return _rle.merge(counts, offsets, False) if len(polys) > 1 else counts


def _compressed(polys: list[list[float]], h: int, w: int) -> dict[str, Any]:
    merged = _mask_counts(polys, h, w)
    buf, starts = _rle.counts_to_strings(merged, np.array([0, merged.shape[0]], np.int64))
    return {"size": [h, w], "counts": bytes(buf[starts[0] : starts[1]]).decode("ascii")}


def _uncompressed(polys: list[list[float]], h: int, w: int) -> dict[str, Any]:
    return {"size": [h, w], "counts": _mask_counts(polys, h, w).astype(np.int64).tolist()}


def make_coco_like_segm(
    n_images: int = 50,
    n_categories: int = 5,
    *,
    objects_per_image: float = 4.0,
    detections_per_image: float = 12.0,
    crowd_fraction: float = 0.05,
    score_decimals: int = 2,
    with_bbox: bool = False,
    seed: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return ``(gt, results)`` for ``iou_type="segm"`` (see the module docstring)."""
    gt, results = make_coco_like(
        n_images, n_categories, objects_per_image=objects_per_image,
        detections_per_image=detections_per_image, crowd_fraction=crowd_fraction,
        score_decimals=score_decimals, seed=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed + 1)
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    shapes = {c["id"]: _template(rng) for c in gt["categories"]}
    for ann in gt["annotations"]:
        h, w = sizes[ann["image_id"]]
        shape = shapes[ann["category_id"]]
        polys = [_polygon_in(rng, ann["bbox"], shape)]
        if rng.random() < 0.2:  # a second part, elsewhere in the box
            x, y, bw, bh = ann["bbox"]
            polys.append(_polygon_in(rng, [x, y, bw / 3, bh / 3], _template(rng)))
        if ann["iscrowd"]:
            ann["segmentation"] = _uncompressed(polys, h, w)
        elif rng.random() < 0.1:
            ann["segmentation"] = _compressed(polys, h, w)
        else:
            ann["segmentation"] = polys
    out = []
    for res in results:
        h, w = sizes[res["image_id"]]
        seg = _compressed([_polygon_in(rng, res["bbox"], shapes[res["category_id"]])], h, w)
        row = {"image_id": res["image_id"], "category_id": res["category_id"]}
        if with_bbox:
            row["bbox"] = res["bbox"]
        row.update(segmentation=seg, score=res["score"])
        out.append(row)
    return gt, out


# A rough standing-person layout: (x, y) of each keypoint relative to its box.
_LAYOUT = np.array(
    [[.5, .08], [.45, .06], [.55, .06], [.4, .08], [.6, .08], [.3, .25], [.7, .25],
     [.2, .42], [.8, .42], [.15, .58], [.85, .58], [.38, .6], [.62, .6], [.36, .8],
     [.64, .8], [.35, .98], [.65, .98]]
)  # fmt: skip


def make_coco_like_keypoints(
    n_images: int = 50,
    *,
    n_categories: int = 1,
    num_keypoints: int = 17,
    objects_per_image: float = 3.0,
    detections_per_image: float = 8.0,
    crowd_fraction: float = 0.05,
    score_decimals: int = 2,
    with_bbox: bool = False,
    seed: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return ``(gt, results)`` for ``iou_type="keypoints"`` (see the module docstring)."""
    check_int(num_keypoints, "num_keypoints", minimum=1)
    gt, results = make_coco_like(
        n_images, n_categories, objects_per_image=objects_per_image,
        detections_per_image=detections_per_image, crowd_fraction=crowd_fraction,
        score_decimals=score_decimals, seed=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed + 2)
    layout = np.resize(_LAYOUT, (num_keypoints, 2))
    for ann in gt["annotations"]:
        x, y, w, h = ann["bbox"]
        if ann["iscrowd"]:
            ann["keypoints"] = [0] * (3 * num_keypoints)
            ann["num_keypoints"] = 0
            continue
        pts = np.round(layout * [w, h] + [x, y] + rng.normal(0, 0.03, layout.shape) * [w, h])
        v = rng.choice(3, num_keypoints, p=[0.3, 0.2, 0.5])
        if rng.random() < 0.08:
            v[:] = 0  # labelled, but no keypoint visible: ignored
        pts[v == 0] = 0
        ann["keypoints"] = np.column_stack([pts, v]).astype(int).reshape(-1).tolist()
        ann["num_keypoints"] = int(np.count_nonzero(v))
    for res in results:
        x, y, w, h = res["bbox"]
        pts = layout * [w, h] + [x, y] + rng.normal(0, 0.02, layout.shape) * [w, h]
        kps = np.column_stack([np.round(pts, 2), np.ones(num_keypoints)]).reshape(-1)
        score = res.pop("score")
        if not with_bbox:
            del res["bbox"]
        res["keypoints"] = kps.tolist()
        res["score"] = score
    return gt, results
