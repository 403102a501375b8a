"""pycocotools' per-image records, ``COCOeval.evalImgs`` and ``COCOeval.ious``, built on
demand from the evaluator's matches (rows of one (image, category) group are contiguous
in :class:`~tinyvision.metrics.ImageMatches`; the matched ground truth of each detection
comes from the same matching kernel, asked to keep the rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyvision.coco._prepare import POOLED, Selection
from tinyvision.metrics import ImageMatches
from tinyvision.metrics import _detection_kernels as _k


@dataclass(frozen=True)
class _Groups:
    """Where each (image, category) group's rows lie in the matches (``useCats=0``: one
    group per image)."""

    images: list[Any]  # I image ids as in params.imgIds
    cats: list[Any]  # K category ids as pycocotools keys them
    gt_rows: np.ndarray  # int64[G] selection row of each matches gt row
    dt_rows: np.ndarray  # int64[D] selection row of each matches dt row
    g_key: np.ndarray  # int64[G] group key of each matches gt row
    d_key: np.ndarray  # int64[D]
    g_start: np.ndarray  # int64[I * K + 1]
    d_start: np.ndarray  # int64[I * K + 1]


def _groups(selection: Selection, matches: ImageMatches, p: Any) -> _Groups:
    images = list(p.imgIds)
    cats = list(p.catIds) if p.useCats else [POOLED]
    image_ids = np.asarray(images, dtype=np.int64).reshape(-1)
    gt, dt = selection.gt, selection.dt
    # The evaluator's order: by (image, category), file order inside; detections by
    # decreasing score (ties in file order), cut at the last limit. useCats=0: by image,
    # ground truths by category position then file order, detections by decreasing
    # score, then category position, then file order.
    n_cats = gt.category_ids.shape[0]
    cat_ids = np.sort(gt.category_ids)
    g_img = np.searchsorted(image_ids, gt.image_id)
    g_cat = np.searchsorted(cat_ids, gt.category_id)
    gt_rows = np.lexsort((np.arange(g_img.shape[0]), g_cat, g_img))
    d_img = np.searchsorted(image_ids, dt.image_id)
    d_cat = np.searchsorted(cat_ids, dt.category_id)
    index = np.arange(d_img.shape[0])
    if p.useCats:
        g_key = g_img * n_cats + g_cat
        d_key = d_img * n_cats + d_cat
        d_order = np.lexsort((index, -dt.score, d_key))
    else:
        g_key, d_key = g_img, d_img
        d_order = np.lexsort((index, d_cat, -dt.score, d_key))
    keys = d_key[d_order]
    first = np.searchsorted(keys, keys, side="left")
    dt_rows = d_order[np.arange(keys.shape[0]) - first < p.maxDets[-1]]
    assert np.array_equal(dt.score[dt_rows], matches.dt_score), "rows out of step"
    assert np.array_equal(gt.area[gt_rows], matches.gt_area), "rows out of step"
    bounds = np.arange(len(images) * len(cats) + 1)
    return _Groups(
        images=images,
        cats=cats,
        gt_rows=gt_rows,
        dt_rows=dt_rows,
        g_key=g_key[gt_rows],
        d_key=d_key[dt_rows],
        g_start=np.searchsorted(g_key[gt_rows], bounds),
        d_start=np.searchsorted(d_key[dt_rows], bounds),
    )


def _given(selection: Selection, matches: ImageMatches, groups: _Groups) -> np.ndarray:
    """The mask IoUs / OKS the evaluator matched on (flat, group by group), or none for
    boxes."""
    if matches.params.iou_type == "bbox":
        return np.zeros(0)
    from tinyvision.metrics.coco import _overlaps

    return _overlaps.overlaps(
        matches.params, selection.gt, groups.gt_rows, groups.g_key, matches.gt_crowd,
        selection.dt, groups.dt_rows, groups.d_key,
    )  # fmt: skip


def _box_iou(d: np.ndarray, g: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """pycocotools' ``bbIou``: float64[D, G] of x, y, w, h boxes; a crowd region's union
    is the detection's area."""
    dx, dy, dw, dh = (d[:, i : i + 1] for i in range(4))
    gx, gy, gw, gh = (g[None, :, i] for i in range(4))
    w = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    h = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    inter = w * h
    da = dw * dh
    union = np.where(crowd[None, :], da, da + gw * gh - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((w > 0) & (h > 0), inter / union, 0.0)


def ious(selection: Selection, matches: ImageMatches, p: Any) -> dict[tuple[Any, Any], Any]:
    """``{(imgId, catId): float64[D, G]}``: detections by decreasing score (at most
    ``maxDets[-1]``), ground truths in file order; ``[]`` when either side is empty (and
    for keypoints with ``useCats=0``, whose (image, -1) groups pycocotools finds empty)."""
    groups = _groups(selection, matches, p)
    given = _given(selection, matches, groups)
    no_groups = matches.params.iou_type == "keypoints" and not p.useCats
    out: dict[tuple[Any, Any], Any] = {}
    n_cats = len(groups.cats)
    at = 0  # position in `given`
    for i, img in enumerate(groups.images):
        for k, cat in enumerate(groups.cats):
            key = i * n_cats + k
            gs, ge = groups.g_start[key], groups.g_start[key + 1]
            ds, de = groups.d_start[key], groups.d_start[key + 1]
            if gs == ge or ds == de:
                out[img, cat] = []
            elif matches.params.iou_type == "bbox":
                box = _box_iou(
                    matches.dt_box[ds:de], matches.gt_box[gs:ge], matches.gt_crowd[gs:ge]
                )
                out[img, cat] = box
            else:
                size = (de - ds) * (ge - gs)
                block = given[at : at + size].reshape(de - ds, ge - gs)
                out[img, cat] = [] if no_groups else block
                at += size
    return out


def eval_imgs(selection: Selection, matches: ImageMatches, p: Any) -> list[Any]:
    """``evalImgs``: for each category, area range and image (that order), ``None`` when
    the image has neither ground truth nor results of the category, else pycocotools'
    dict (``dtIds``, ``gtIds`` with ignored ground truths last, ``dtMatches`` and
    ``gtMatches`` float64[T, D] / [T, G] of matched ids, ``dtScores``, ``gtIgnore``,
    ``dtIgnore`` bool[T, D])."""
    groups = _groups(selection, matches, p)
    n_img, n_cats = len(groups.images), len(groups.cats)
    m = matches
    mp = m.params
    given = _given(selection, matches, groups)
    state, _, rows, _ = _k.match_groups(
        gkey=groups.g_key, gbox=m.gt_box, garea=m.gt_area, gignore=m.gt_ignore,
        gcrowd=m.gt_crowd, gcounts=m.gt_counts, dkey=groups.d_key, dbox=m.dt_box,
        darea=m.dt_area, dscore=m.dt_score, area_rng=mp.area_ranges, closed=True,
        iou_thr=mp.iou_thresholds, rule=_k.RULE_COCO, n_cats=m.category_ids.shape[0],
        keep_rows=True, use_given=mp.iou_type != "bbox", given=given,
    )  # fmt: skip
    gt_ids = [selection.gt_anns[r]["id"] for r in groups.gt_rows]
    dt_anns = [selection.dt_anns[r] for r in groups.dt_rows]
    gt_id_of_row = np.append(np.asarray(gt_ids, dtype=np.float64), 0.0)  # row -1: no match
    ignored = state == _k.IGNORED  # [D, A, T]
    out: list[Any] = []
    for k in range(n_cats):
        for a, rng in enumerate(p.areaRng):
            lo, hi = mp.area_ranges[a]
            for i in range(n_img):
                key = i * n_cats + k
                gs, ge = int(groups.g_start[key]), int(groups.g_start[key + 1])
                ds, de = int(groups.d_start[key]), int(groups.d_start[key + 1])
                if gs == ge and ds == de:
                    out.append(None)
                    continue
                area = m.gt_area[gs:ge]
                g_ignore = [
                    1 if m.gt_ignore[gs + g] or area[g] < lo or area[g] > hi else 0
                    for g in range(ge - gs)
                ]
                gt_ignore = np.array(g_ignore)
                order = np.argsort(gt_ignore, kind="mergesort")
                where = np.empty(ge - gs, dtype=np.int64)
                where[order] = np.arange(ge - gs)
                matched = rows[ds:de, a, :].T  # [T, D] matches gt row or -1
                dt_ids = [d["id"] for d in dt_anns[ds:de]]
                gt_matches = np.zeros((matched.shape[0], ge - gs))
                for t, d in zip(*np.nonzero(matched >= 0)):
                    gt_matches[t, where[matched[t, d] - gs]] = dt_ids[d]
                out.append(
                    {
                        "image_id": groups.images[i],
                        "category_id": groups.cats[k],
                        "aRng": rng,
                        "maxDet": p.maxDets[-1],
                        "dtIds": dt_ids,
                        "gtIds": [gt_ids[gs + g] for g in order],
                        "dtMatches": gt_id_of_row[matched],
                        "gtMatches": gt_matches,
                        "dtScores": [d["score"] for d in dt_anns[ds:de]],
                        "gtIgnore": gt_ignore[order],
                        "dtIgnore": ignored[ds:de, a, :].T.copy(),
                    }
                )
    return out
