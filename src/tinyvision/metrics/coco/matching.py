"""Per-image matching (``COCOeval.evaluate``): :func:`match_images` and
:class:`ImageMatches`, its npz form (:meth:`ImageMatches.to_arrays`,
:meth:`ImageMatches.from_arrays`) and merging across shards and processes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tinyvision._validate import as_numpy, check_choice, check_instance
from tinyvision.metrics import _detection_kernels as _k
from tinyvision.metrics._coco_io import as_dataset, as_detections
from tinyvision.metrics.coco.params import (
    IOU_TYPES,
    MODES,
    EvaluationParams,
    _limits,
    _make_params,
    _rule,
)
from tinyvision.structures import DetectionDataset, Detections, check_known_ids, id_column

__all__ = ["ImageMatches", "gather_matches", "match_images", "merge_matches"]

_GT_FIELDS = (
    "gt_image", "gt_cat", "gt_box", "gt_area", "gt_ignore", "gt_crowd", "gt_counts", "gt_taken",
)  # fmt: skip
_DT_FIELDS = ("dt_image", "dt_cat", "dt_box", "dt_area", "dt_score", "dt_rank", "dt_state")


@dataclass(frozen=True, eq=False)
class ImageMatches:
    """Per-image matching results for a set of images; mergeable across shards.

    Ground truths (``G`` rows) and kept detections (``D`` rows, after the per-image
    limit) of the evaluated images, with each detection's state (0 FP, 1 TP, 2 ignored)
    per area range and IoU threshold. Shards of disjoint image sets merge into the result
    of one process over their union.
    """

    params: EvaluationParams
    category_ids: np.ndarray  # int64[K]
    category_names: tuple[str, ...]
    image_ids: np.ndarray  # int64[I] evaluated images, sorted
    gt_image: np.ndarray  # int64[G] image id
    gt_cat: np.ndarray  # int64[G] category index
    gt_box: np.ndarray  # float64[G, 4] x, y, w, h
    gt_area: np.ndarray  # float64[G]
    gt_ignore: np.ndarray  # bool[G] ignored whatever the area, as the mode reads it
    gt_crowd: np.ndarray  # bool[G]
    gt_counts: np.ndarray  # bool[G] a match counts (False: COCO's id-0 quirk)
    gt_taken: np.ndarray  # float64[G, T] score of the TP that took it (area range 0), -inf
    dt_image: np.ndarray  # int64[D] image id
    dt_cat: np.ndarray  # int64[D] category index
    dt_box: np.ndarray  # float64[D, 4]
    dt_area: np.ndarray  # float64[D]
    dt_score: np.ndarray  # float64[D]
    dt_rank: np.ndarray  # int64[D] rank for the max-detections cut
    dt_state: np.ndarray  # uint8[D, A, T]
    npig: np.ndarray  # int64[K, A] ground truths that count
    grouped: bool = True  # rows in (image, category) order, as one process makes them

    def merge(self, *others: ImageMatches) -> ImageMatches:
        """Combine with matches of other, disjoint image sets (same parameters)."""
        return merge_matches([self, *others])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """All fields as named numpy arrays (e.g. for ``np.savez``)."""
        p = self.params
        names = ("category_ids", "image_ids", *_GT_FIELDS, *_DT_FIELDS, "npig")
        out = {name: getattr(self, name) for name in names}
        out["category_names"] = np.array(self.category_names, dtype=str)
        out["mode"] = np.array(p.mode)
        out["iou_thresholds"] = p.iou_thresholds
        out["recall_thresholds"] = p.recall_thresholds
        out["max_dets"] = np.array([-1 if m is None else m for m in p.max_dets], dtype=np.int64)
        out["area_ranges"] = p.area_ranges
        out["area_labels"] = np.array(p.area_labels, dtype=str)
        out["iou_type"] = np.array(p.iou_type)
        out["use_cats"] = np.array(p.use_cats)
        out["kpt_oks_sigmas"] = p.kpt_oks_sigmas
        out["grouped"] = np.array(self.grouped)
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> ImageMatches:
        """Inverse of :meth:`to_arrays`."""
        try:
            params = EvaluationParams(
                mode=str(arrays["mode"]),
                iou_thresholds=np.asarray(arrays["iou_thresholds"], np.float64),
                recall_thresholds=np.asarray(arrays["recall_thresholds"], np.float64),
                max_dets=tuple(None if m < 0 else int(m) for m in arrays["max_dets"]),
                area_ranges=np.asarray(arrays["area_ranges"], np.float64),
                area_labels=tuple(str(s) for s in arrays["area_labels"]),
                iou_type=str(arrays["iou_type"]),
                use_cats=bool(arrays["use_cats"]),
                kpt_oks_sigmas=np.asarray(arrays["kpt_oks_sigmas"], np.float64),
            )
            names = ("category_ids", "image_ids", *_GT_FIELDS, *_DT_FIELDS, "npig")
            fields = {name: np.asarray(arrays[name]) for name in names}
            category_names = tuple(str(s) for s in arrays["category_names"])
            grouped = bool(arrays["grouped"])
        except KeyError as exc:
            raise ValueError(f"no {exc.args[0]!r} array") from None
        check_choice(params.mode, "mode", MODES)
        check_choice(params.iou_type, "iou_type", IOU_TYPES)
        return cls(params=params, category_names=category_names, grouped=grouped, **fields)


def match_images(
    gt: Any,
    dt: Any,
    *,
    mode: str = "coco",
    iou_thresholds: Any = None,
    max_dets: Any = None,
    area_ranges: Any = None,
    recall_thresholds: Any = None,
    image_ids: Any = None,
    iou_type: str = "bbox",
    use_cats: bool = True,
    kpt_oks_sigmas: Any = None,
) -> ImageMatches:
    """Match detections to ground truths, image by image (``COCOeval.evaluate``).

    Args:
        gt: ground truth: a :class:`DetectionDataset`, a path to a COCO json file, the
            parsed dict, or columns (``image_id``, ``category_id``, ``bbox`` [N, 4] as
            x, y, w, h or ``boxes`` as x1, y1, x2, y2; optional ``area``, ``iscrowd``,
            ``ignore``, ``annotation_id``, ``image_ids``, ``category_ids``).
        dt: detections: :class:`Detections`, a path to a COCO results json file, the
            parsed list, or columns (``image_id``, ``category_id``, ``bbox`` or ``boxes``,
            ``score``).
        mode: ``"coco"`` (pycocotools exactly), ``"coco-fixed"``, ``"voc07"``, ``"voc2010"``.
        iou_thresholds: ``T`` thresholds; default COCO's 0.50:0.05:0.95, VOC's 0.5.
        max_dets: detection limits per image; default (1, 10, 100), VOC: no limit.
        area_ranges: ``{label: (lo, hi)}`` in pixels^2; default COCO's all/small/medium/large.
        recall_thresholds: ``R`` recall points; default 0:0.01:1 (VOC2007: 0:0.1:1).
        image_ids: evaluate only these images (a shard); default every image of ``gt``.
            Integers (integral floats such as ``3.0`` are taken, as in the id columns).
        iou_type: ``"bbox"`` (box IoU), ``"segm"`` (mask IoU of the ``segmentation``
            polygons or RLEs; a crowd region divides by the detection's area) or
            ``"keypoints"`` (OKS of ``keypoints``; ground truths with ``num_keypoints``
            0 are ignored; default ``max_dets`` (20,) and area ranges all, medium,
            large), as pycocotools' ``iouType``. segm and keypoints need a COCO mode.
        use_cats: False evaluates all categories as one (pycocotools' ``useCats=0``).
        kpt_oks_sigmas: the per-keypoint sigmas of OKS; default COCO's 17.

    Raises ``ValueError`` when detections refer to images or categories the ground truth
    does not have, or ``image_ids`` holds non-integral, NaN or unknown ids; ``TypeError``
    when ``image_ids`` is not numeric (strings, bools).
    """
    params = _make_params(
        mode,
        iou_thresholds,
        recall_thresholds,
        max_dets,
        area_ranges,
        iou_type=iou_type,
        use_cats=use_cats,
        kpt_oks_sigmas=kpt_oks_sigmas,
    )
    dataset = as_dataset(gt)
    dets = as_detections(dt)
    all_images = np.unique(dataset.image_ids)
    check_known_ids(
        dets.image_id, all_images, rows="detections", what="image id",
        where="the ground truth's images",
    )  # fmt: skip
    check_known_ids(
        dets.category_id, dataset.category_ids, rows="detections", what="category id",
        where="the ground truth's categories",
    )  # fmt: skip
    if image_ids is None:
        images = all_images
    else:
        images = np.unique(id_column(as_numpy(image_ids, "image_ids", ndim=1), "image_ids"))
        check_known_ids(
            images, all_images, rows="image_ids", what="image id",
            where="the ground truth's images",
        )  # fmt: skip
    return _match(params, dataset, dets, images)


def _stable_order(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """The stable ascending order of integer ``keys`` in ``[0, n_keys)``."""
    return _k.group_order(keys, np.zeros(keys.shape[0]), n_keys)


def _group_rank(keys_sorted: np.ndarray) -> np.ndarray:
    """For a sorted key array, each row's position within its run of equal keys."""
    n = keys_sorted.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    index = np.arange(n, dtype=np.int64)
    start = np.empty(n, dtype=bool)
    start[0] = True
    np.not_equal(keys_sorted[1:], keys_sorted[:-1], out=start[1:])
    return index - np.maximum.accumulate(np.where(start, index, 0))


def _positions(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Index of each value in ``sorted_ids`` (-1 where absent); a lookup table when the id
    range is compact (COCO's), else binary search."""
    n = sorted_ids.shape[0]
    if n == 0 or values.shape[0] == 0:
        return np.full(values.shape[0], -1, dtype=np.int64)
    lo, hi = int(sorted_ids[0]), int(sorted_ids[-1])
    if hi - lo <= 4 * (values.shape[0] + n) + (1 << 20):
        table = np.full(hi - lo + 1, -1, dtype=np.int64)
        table[sorted_ids - lo] = np.arange(n)
        inside = (values >= lo) & (values <= hi)
        return np.where(inside, table[np.clip(values - lo, 0, hi - lo)], -1)
    pos = np.minimum(np.searchsorted(sorted_ids, values), n - 1)
    return np.where(sorted_ids[pos] == values, pos, -1)


def _match(
    params: EvaluationParams, gt: DetectionDataset, dt: Detections, images: np.ndarray
) -> ImageMatches:
    mode = params.mode
    n_img = max(images.shape[0], 1)
    cat_order = np.argsort(gt.category_ids, kind="stable")
    cats_sorted = gt.category_ids[cat_order]
    n_cat = cats_sorted.shape[0]

    # Ground truths of the evaluated images, by (image, category), file order inside.
    g_img = _positions(gt.image_id, images)
    g_rows = np.flatnonzero(g_img >= 0)
    g_key = g_img[g_rows] * n_cat + _positions(gt.category_id[g_rows], cats_sorted)
    g_order = _k.group_order(g_key, np.zeros(g_key.shape[0]), n_cat * n_img)
    g_rows, g_key = g_rows[g_order], g_key[g_order]
    crowd = gt.iscrowd[g_rows]
    if mode == "coco":
        ignore = crowd.copy()  # pycocotools: iscrowd overwrites 'ignore'
        counts = gt.annotation_id[g_rows] != 0  # and a match to id 0 is no match
    else:
        ignore = crowd | gt.ignore[g_rows]
        counts = np.ones(g_rows.shape[0], dtype=bool)

    # Detections by (image, category, decreasing score), ties in file order. (Results
    # files come image by image: this order keeps the gathers below nearly sequential.)
    d_img = _positions(dt.image_id, images)
    d_rows = np.flatnonzero(d_img >= 0)
    d_img = d_img[d_rows]
    d_score = dt.score[d_rows]
    d_key = d_img * n_cat + _positions(dt.category_id[d_rows], cats_sorted)
    limit = int(_limits(params)[-1])
    if mode == "coco-fixed" or not params.use_cats:
        # By image, decreasing score, then category (then input order): the limit holds
        # per image over all categories in "coco-fixed", so the cut does not depend on
        # how the file is ordered; and this is pycocotools' order of an image's
        # detections with useCats=0 (concatenated by category, then a stable sort).
        by_cat = _stable_order(d_key % n_cat, n_cat)
        per_image = by_cat[_k.group_order(d_img[by_cat], d_score[by_cat], n_img)]
    if params.use_cats:
        d_order = _k.group_order(d_key, d_score, n_cat * n_img)
        if mode == "coco-fixed":
            rank = np.empty(d_rows.shape[0], dtype=np.int64)
            rank[per_image] = _group_rank(d_img[per_image])
            rank = rank[d_order]
        else:
            rank = _group_rank(d_key[d_order])
    else:
        # useCats=0: one pseudo-category; each image is one group.
        d_order = per_image
        rank = _group_rank(d_img[d_order])
    keep = rank < limit
    d_order, rank = d_order[keep], rank[keep]
    d_key = d_key[d_order]
    d_rows = d_rows[d_order]
    d_box = dt.bbox[d_rows]
    # pycocotools' loadRes: area = w * h for box results; readers set it otherwise.
    d_area = d_box[:, 2] * d_box[:, 3] if dt.area is None else dt.area[d_rows]
    if not params.use_cats:
        g_key, d_key, n_cat = g_key // n_cat, d_key // n_cat, 1
        cats_sorted, cat_order = np.array([-1], dtype=np.int64), None
    g_cat = g_key % n_cat
    d_cat = d_key % n_cat
    given = np.zeros(0)
    if params.iou_type != "bbox":
        from tinyvision.metrics.coco import _overlaps

        given = _overlaps.overlaps(params, gt, g_rows, g_key, crowd, dt, d_rows, d_key)
        if params.iou_type == "keypoints":
            # pycocotools' _prepare: ignore = (num_keypoints == 0) or ignore
            ignore = ignore | _overlaps.without_keypoints(gt, g_rows)

    state, npig, _, taken = _k.match_groups(
        gkey=g_key,
        gbox=gt.bbox[g_rows],
        garea=gt.area[g_rows],
        gignore=ignore,
        gcrowd=crowd,
        gcounts=counts,
        dkey=d_key,
        dbox=d_box,
        darea=d_area,
        dscore=d_score[d_order],
        area_rng=params.area_ranges,
        closed=mode == "coco",
        iou_thr=params.iou_thresholds,
        rule=_rule(mode),
        n_cats=n_cat,
        keep_rows=False,
        use_given=params.iou_type != "bbox",
        given=given,
    )
    return ImageMatches(
        params=params,
        category_ids=cats_sorted,
        category_names=(
            ("all",) if cat_order is None else tuple(gt.category_names[i] for i in cat_order)
        ),
        image_ids=images,
        gt_image=gt.image_id[g_rows],
        gt_cat=g_cat,
        gt_box=gt.bbox[g_rows],
        gt_area=gt.area[g_rows],
        gt_ignore=ignore,
        gt_crowd=crowd,
        gt_counts=counts,
        gt_taken=taken,
        dt_image=dt.image_id[d_rows],
        dt_cat=d_cat,
        dt_box=d_box,
        dt_area=d_area,
        dt_score=dt.score[d_rows],
        dt_rank=rank,
        dt_state=state,
        npig=npig,
    )


def merge_matches(shards: Sequence[ImageMatches]) -> ImageMatches:
    """Combine matches of disjoint image sets computed with the same parameters."""
    shards = list(shards)
    if not shards:
        raise ValueError("merge_matches needs at least one ImageMatches, got none")
    for i, s in enumerate(shards):
        if not isinstance(s, ImageMatches):
            raise TypeError(f"shard {i} must be ImageMatches, got {type(s).__name__}")
    first = shards[0]
    for i, s in enumerate(shards[1:], start=1):
        if not s.params.same_as(first.params):
            raise ValueError(f"shard {i} was matched with other parameters than shard 0")
        if not np.array_equal(s.category_ids, first.category_ids):
            raise ValueError(f"shard {i} has other categories than shard 0")
    if len(shards) == 1:
        return first
    images = np.concatenate([s.image_ids for s in shards])
    unique = np.unique(images)
    if unique.shape[0] != images.shape[0]:
        ordered = np.sort(images)
        dup = ordered[1:][ordered[1:] == ordered[:-1]]
        raise ValueError(
            f"shards overlap: image id {int(dup[0])} was evaluated in more than one shard"
        )

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(s, name) for s in shards])

    return replace(
        first,
        image_ids=unique,
        npig=np.sum([s.npig for s in shards], axis=0),
        grouped=False,
        **{name: cat(name) for name in _GT_FIELDS + _DT_FIELDS},
    )


def gather_matches(matches: ImageMatches, group: Any = None) -> ImageMatches:
    """All-gather matches over a ``torch.distributed`` process group and merge them.

    Every rank passes the matches of its own images and gets the merged whole. Without an
    initialised process group the matches are returned as they are.
    """
    import torch.distributed as dist

    check_instance(matches, ImageMatches, "matches")
    if not (dist.is_available() and dist.is_initialized()):
        return matches
    world = dist.get_world_size(group)
    gathered: list[Any] = [None] * world
    dist.all_gather_object(gathered, matches.to_arrays(), group=group)
    return merge_matches([ImageMatches.from_arrays(a) for a in gathered])


def _regroup(m: ImageMatches) -> ImageMatches:
    """Merged shards back into (image, category) order, groups kept intact."""
    if m.grouped:
        return m
    n_img = max(m.image_ids.shape[0], 1)
    n_cat = m.category_ids.shape[0]
    g_key = np.searchsorted(m.image_ids, m.gt_image) * n_cat + m.gt_cat
    d_key = np.searchsorted(m.image_ids, m.dt_image) * n_cat + m.dt_cat
    go = _stable_order(g_key, m.category_ids.shape[0] * n_img)
    do = _stable_order(d_key, m.category_ids.shape[0] * n_img)
    return replace(
        m,
        grouped=True,
        **{n: getattr(m, n)[go] for n in _GT_FIELDS},
        **{n: getattr(m, n)[do] for n in _DT_FIELDS},
    )
