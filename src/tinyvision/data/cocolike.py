"""Generated COCO-like detection data: ground truth and detector output, offline and seeded.

:func:`make_coco_like` draws a data set shaped like COCO val2017 (by default 5000 images,
80 categories with ids in 1..90, ~7 objects per image, ~1% crowd regions, segmentation
areas smaller than the boxes) together with a detector's results (jittered true positives,
duplicates, class confusions and background boxes, scores rounded to 5 decimals, so many
scores tie). It serves the tests and benchmarks of the evaluator, and users who want to try
it without downloading anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinyvision._validate import check_int
from tinyvision.structures import DetectionDataset, Detections

# COCO's 80 category ids are 1..90 with these ten left out.
_COCO_MISSING_IDS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)


def make_coco_like(
    n_images: int = 5000,
    n_categories: int = 80,
    *,
    objects_per_image: float = 7.3,
    detections_per_image: float = 77.0,
    crowd_fraction: float = 0.01,
    score_decimals: int = 5,
    seed: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return ``(gt, results)``: a COCO ground-truth dict and a COCO results list.

    ``gt`` has ``images`` (``id``, ``width``, ``height``, ``file_name``), ``categories``
    (``id``, ``name``) and ``annotations`` (``id`` from 1, ``image_id``, ``category_id``,
    ``bbox`` as ``[x, y, w, h]`` with 2 decimals, ``area``, ``iscrowd``). ``results`` holds
    dicts with ``image_id``, ``category_id``, ``bbox`` and ``score``, image by image. About
    1% of the images have no objects. Same ``seed``, same data.
    """
    d = _generate(
        n_images, n_categories, objects_per_image, detections_per_image, crowd_fraction,
        score_decimals, seed,
    )  # fmt: skip
    gt = {
        "images": [
            {"id": i, "width": w, "height": h, "file_name": f"{i:012d}.jpg"}
            for i, w, h in zip(d["image_ids"].tolist(), d["widths"].tolist(), d["heights"].tolist())
        ],
        "categories": [{"id": c, "name": f"class_{c}"} for c in d["category_ids"].tolist()],
        "annotations": [
            {"id": k + 1, "image_id": i, "category_id": c, "bbox": b, "area": a, "iscrowd": z}
            for k, (i, c, b, a, z) in enumerate(
                zip(
                    d["gt_image"].tolist(),
                    d["gt_category"].tolist(),
                    d["gt_bbox"].tolist(),
                    d["gt_area"].tolist(),
                    d["gt_crowd"].astype(int).tolist(),
                )
            )
        ],
    }
    results = [
        {"image_id": i, "category_id": c, "bbox": b, "score": s}
        for i, c, b, s in zip(
            d["dt_image"].tolist(),
            d["dt_category"].tolist(),
            d["dt_bbox"].tolist(),
            d["dt_score"].tolist(),
        )
    ]
    return gt, results


def make_coco_like_tables(
    n_images: int = 5000,
    n_categories: int = 80,
    *,
    objects_per_image: float = 7.3,
    detections_per_image: float = 77.0,
    crowd_fraction: float = 0.01,
    score_decimals: int = 5,
    seed: int = 0,
) -> tuple[DetectionDataset, Detections]:
    """The data of :func:`make_coco_like` (same arguments, same numbers) as columnar
    tables, without building millions of dicts: for large benchmarks."""
    d = _generate(
        n_images, n_categories, objects_per_image, detections_per_image, crowd_fraction,
        score_decimals, seed,
    )  # fmt: skip
    dataset = DetectionDataset.from_columns(
        image_id=d["gt_image"],
        category_id=d["gt_category"],
        bbox=d["gt_bbox"],
        image_ids=d["image_ids"],
        category_ids=d["category_ids"],
        category_names=[f"class_{c}" for c in d["category_ids"].tolist()],
        area=d["gt_area"],
        iscrowd=d["gt_crowd"],
        image_files=[f"{i:012d}.jpg" for i in d["image_ids"].tolist()],
        image_sizes=np.stack([d["widths"], d["heights"]], axis=1),
    )
    detections = Detections.from_columns(
        image_id=d["dt_image"], category_id=d["dt_category"], bbox=d["dt_bbox"], score=d["dt_score"]
    )
    return dataset, detections


def _generate(
    n_images: int,
    n_categories: int,
    objects_per_image: float,
    detections_per_image: float,
    crowd_fraction: float,
    score_decimals: int,
    seed: int,
) -> dict[str, np.ndarray]:
    check_int(n_images, "n_images", minimum=0)
    check_int(n_categories, "n_categories", minimum=1)
    check_int(score_decimals, "score_decimals", minimum=0, maximum=12)
    rng = np.random.default_rng(seed)
    cat_ids = _category_ids(n_categories)
    # Skewed class frequencies (a few common classes, a long tail), like COCO.
    weights = 1.0 / np.arange(1, n_categories + 1) ** 0.9
    weights = rng.permutation(weights / weights.sum())

    image_ids = np.sort(
        rng.choice(np.arange(1, 20 * max(n_images, 1) + 1), n_images, replace=False)
    )
    landscape = rng.random(n_images) < 0.75
    widths = np.where(landscape, 640, rng.choice([360, 427, 480], n_images))
    heights = np.where(landscape, rng.choice([360, 427, 480], n_images), 640)

    counts = rng.poisson(objects_per_image, n_images)
    counts[rng.random(n_images) < 0.01] = 0
    g_img = np.repeat(np.arange(n_images), counts)
    n_gt = g_img.size
    g_cat = rng.choice(n_categories, n_gt, p=weights)
    g_crowd = rng.random(n_gt) < crowd_fraction
    side = np.exp(rng.uniform(np.log(4.0), np.log(420.0), n_gt))
    side[g_crowd] *= 2.0
    boxes = _place_boxes(rng, side, widths[g_img], heights[g_img])
    g_area = np.round(boxes[:, 2] * boxes[:, 3] * rng.uniform(0.45, 0.95, n_gt), 2)
    d_img, d_cat, d_box, d_score = _detections(
        rng,
        (g_img, g_cat, boxes, g_crowd),
        (widths, heights, weights),
        detections_per_image,
        score_decimals,
    )
    return {
        "image_ids": image_ids.astype(np.int64),
        "widths": widths.astype(np.int64),
        "heights": heights.astype(np.int64),
        "category_ids": cat_ids,
        "gt_image": image_ids[g_img].astype(np.int64),
        "gt_category": cat_ids[g_cat],
        "gt_bbox": boxes,
        "gt_area": g_area,
        "gt_crowd": g_crowd,
        "dt_image": image_ids[d_img].astype(np.int64),
        "dt_category": cat_ids[d_cat],
        "dt_bbox": d_box,
        "dt_score": d_score,
    }


def _category_ids(n_categories: int) -> np.ndarray:
    coco = np.array([i for i in range(1, 91) if i not in _COCO_MISSING_IDS], dtype=np.int64)
    if n_categories <= coco.size:
        return coco[:n_categories]
    return np.arange(1, n_categories + 1, dtype=np.int64)


def _place_boxes(
    rng: np.random.Generator, side: np.ndarray, widths: np.ndarray, heights: np.ndarray
) -> np.ndarray:
    """Boxes ``[N, 4]`` (x, y, w, h), 2 decimals, inside their images."""
    n = side.size
    aspect = np.exp(rng.uniform(np.log(0.33), np.log(3.0), n))
    w = np.minimum(side * np.sqrt(aspect), widths - 1.0)
    h = np.minimum(side / np.sqrt(aspect), heights - 1.0)
    x = rng.uniform(0.0, 1.0, n) * (widths - w)
    y = rng.uniform(0.0, 1.0, n) * (heights - h)
    return np.round(np.stack([x, y, w, h], axis=1), 2)


def _jitter(rng: np.random.Generator, boxes: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Move and resize boxes by a relative amount ``scale`` ``[N]``; keep w, h >= 1."""
    n = boxes.shape[0]
    wh = boxes[:, 2:4]
    shift = rng.normal(0.0, 1.0, (n, 2)) * scale[:, None] * wh
    grow = np.exp(rng.normal(0.0, 1.0, (n, 2)) * scale[:, None])
    out = np.concatenate([boxes[:, 0:2] + shift, np.maximum(wh * grow, 1.0)], axis=1)
    return np.round(out, 2)


def _detections(
    rng: np.random.Generator,
    objects: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    images: tuple[np.ndarray, np.ndarray, np.ndarray],
    per_image: float,
    decimals: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Image index, category index, box and score of each detection, image by image."""
    g_img, g_cat, g_box, g_crowd = objects
    widths, heights, weights = images
    n_images, n_cats = widths.size, weights.size
    parts_img, parts_cat, parts_box, parts_score = [], [], [], []

    # Hits: 0-3 detections per object (duplicates included), several inside crowd regions.
    hits = rng.choice(4, g_img.size, p=[0.12, 0.55, 0.23, 0.10])
    hits[g_crowd] = rng.integers(2, 7, int(g_crowd.sum()))
    src = np.repeat(np.arange(g_img.size), hits)
    quality = rng.uniform(0.02, 0.35, src.size)
    box = _jitter(rng, g_box[src], quality)
    cat = g_cat[src].copy()
    confused = rng.random(src.size) < 0.07
    cat[confused] = rng.choice(n_cats, int(confused.sum()), p=weights)
    score = np.clip(1.0 - 2.2 * quality + rng.normal(0.0, 0.15, src.size), 0.001, 1.0)
    parts_img.append(g_img[src])
    parts_cat.append(cat)
    parts_box.append(box)
    parts_score.append(score)

    # Background: the rest of the per-image budget, low scores, a few classes per image.
    n_bg = max(int(per_image * n_images) - src.size, 0)
    b_img = rng.integers(0, max(n_images, 1), n_bg) if n_images else np.zeros(0, np.int64)
    if n_bg:
        side = np.exp(rng.uniform(np.log(4.0), np.log(300.0), n_bg))
        b_cat = rng.choice(n_cats, n_bg, p=weights)
        # Most background boxes repeat a class present in their image (detectors hedge
        # among plausible classes), so an image's detections fall into a few classes.
        first = np.searchsorted(g_img, np.arange(n_images))
        n_obj = np.bincount(g_img, minlength=n_images)
        own = (rng.random(n_bg) < 0.8) & (n_obj[b_img] > 0)
        pick = first[b_img[own]] + (rng.random(int(own.sum())) * n_obj[b_img[own]]).astype(int)
        b_cat[own] = g_cat[pick]
        parts_img.append(b_img)
        parts_cat.append(b_cat)
        parts_box.append(_place_boxes(rng, side, widths[b_img], heights[b_img]))
        parts_score.append(rng.beta(0.6, 6.0, n_bg).clip(0.001, 1.0))

    d_img = np.concatenate(parts_img) if parts_img else np.zeros(0, np.int64)
    d_cat = np.concatenate(parts_cat) if parts_cat else np.zeros(0, np.int64)
    d_box = np.concatenate(parts_box) if parts_box else np.zeros((0, 4))
    d_score = np.round(np.concatenate(parts_score), decimals) if parts_score else np.zeros(0)
    # Image by image, as detectors write them; shuffled within each image.
    order = np.lexsort((rng.random(d_img.size), d_img))
    return d_img[order], d_cat[order], d_box[order], d_score[order]
