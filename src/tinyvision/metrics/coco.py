"""COCO-exact detection evaluation, its documented fixes, and the VOC metrics.

Three steps, as pycocotools' ``COCOeval`` (``evaluate`` -> ``accumulate`` -> ``summarize``):

* :func:`match_images` matches detections to ground truths image by image and returns
  :class:`ImageMatches`, which merge across processes (:meth:`ImageMatches.merge`,
  :func:`gather_matches` for ``torch.distributed``; ``tinyvision.data.formats`` writes and
  reads shards on disk);
* :func:`accumulate_matches` turns matches into a :class:`DetectionEvaluation`: the 12
  COCO numbers and the ``precision``/``recall``/``scores`` arrays laid out as
  ``COCOeval.eval``, per-class tables, PR curves, counts at a confidence and a confusion
  matrix;
* :func:`evaluate_detections` does both.

Modes:

``"coco"``
    pycocotools 2.0.11, bit for bit, quirks included (see ``docs/detection.md``).
``"coco-fixed"``
    The same protocol without the quirks: ``ignore`` honoured, ground truths with id 0
    match, half-open area ranges, max detections per image over all categories, tied
    scores form one point of the curve, an equal IoU keeps the earlier ground truth, a
    match needs IoU > 0 (even at threshold 0), no ``spacing(1)`` in precision, thresholds
    exactly 0.50, 0.55, ...
``"voc07"``, ``"voc2010"``
    The Pascal VOC devkit: IoU strictly above 0.5 with the best-overlapping ground truth
    (no fallback to the next one), "difficult" (and crowd) objects ignored, no area ranges
    or detection limit; AP by the 11-point rule (2007) or the area under the precision
    envelope (2010 and later).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from tinyvision._fileio import _json_safe
from tinyvision._validate import as_numpy, check_choice, check_float, check_instance, check_int
from tinyvision.metrics import _detection_kernels as _k
from tinyvision.metrics._coco_io import as_dataset, as_detections
from tinyvision.metrics._tables import DetectionDataset, Detections, _ids, check_known_ids

__all__ = [
    "MODES",
    "DetectionCounts",
    "DetectionEvaluation",
    "EvaluationParams",
    "ImageMatches",
    "PRCurve",
    "accumulate_matches",
    "evaluate_detections",
    "gather_matches",
    "match_images",
    "merge_matches",
]

MODES = ("coco", "coco-fixed", "voc07", "voc2010")

_COCO_AREAS = {
    "all": (0.0**2, 1e5**2),
    "small": (0.0**2, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e5**2),
}
_NO_LIMIT = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class EvaluationParams:
    """What an evaluation measures (``T`` IoU thresholds, ``R`` recall points, ``A`` area
    ranges, ``M`` detection limits)."""

    mode: str
    iou_thresholds: np.ndarray  # float64[T]
    recall_thresholds: np.ndarray  # float64[R]
    max_dets: tuple[int | None, ...]  # M limits per image, None: no limit; ascending
    area_ranges: np.ndarray  # float64[A, 2] (lo, hi) in pixels^2
    area_labels: tuple[str, ...]  # A labels

    def same_as(self, other: EvaluationParams) -> bool:
        return (
            self.mode == other.mode
            and np.array_equal(self.iou_thresholds, other.iou_thresholds)
            and np.array_equal(self.recall_thresholds, other.recall_thresholds)
            and self.max_dets == other.max_dets
            and np.array_equal(self.area_ranges, other.area_ranges)
            and self.area_labels == other.area_labels
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "iou_thresholds": self.iou_thresholds.tolist(),
            "recall_thresholds": self.recall_thresholds.tolist(),
            "max_dets": list(self.max_dets),
            "area_ranges": {
                label: rng for label, rng in zip(self.area_labels, self.area_ranges.tolist())
            },
        }


def _make_params(
    mode: str,
    iou_thresholds: Any,
    recall_thresholds: Any,
    max_dets: Any,
    area_ranges: Any,
) -> EvaluationParams:
    check_choice(mode, "mode", MODES)
    labels, ranges = _area_ranges(mode, area_ranges)
    return EvaluationParams(
        mode,
        _iou_thresholds(mode, iou_thresholds),
        _recall_thresholds(mode, recall_thresholds),
        _max_dets(mode, max_dets),
        ranges,
        labels,
    )


def _iou_thresholds(mode: str, value: Any) -> np.ndarray:
    if value is None:
        if mode in ("voc07", "voc2010"):
            return np.array([0.5])
        # pycocotools' linspace makes 0.9 0.8999999999999999; "coco-fixed" uses 0.9.
        iou = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
        return np.round(iou, 2) if mode == "coco-fixed" else iou
    iou = as_numpy(value, "iou_thresholds", ndim=(0, 1)).astype(np.float64).reshape(-1)
    if iou.size == 0 or not np.all((iou >= 0) & (iou <= 1)):
        raise ValueError(f"iou_thresholds must be non-empty, in [0, 1], got {iou.tolist()}")
    return iou


def _recall_thresholds(mode: str, value: Any) -> np.ndarray:
    if value is None:
        if mode == "voc07":
            return np.arange(0.0, 1.1, 0.1)  # the devkit's 0:0.1:1, as py-faster-rcnn has it
        rec = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
        return np.round(rec, 2) if mode == "coco-fixed" else rec
    rec = as_numpy(value, "recall_thresholds", ndim=1).astype(np.float64)
    if rec.size == 0 or np.any(np.diff(rec) < 0) or not (rec[0] >= 0 and rec[-1] <= 1):
        raise ValueError(
            f"recall_thresholds must be non-empty, ascending, in [0, 1], got {rec.tolist()}"
        )
    return rec


def _max_dets(mode: str, value: Any) -> tuple[int | None, ...]:
    if value is None:
        return (1, 10, 100) if mode in ("coco", "coco-fixed") else (None,)
    values = [value] if isinstance(value, (int, np.integer)) else list(value)
    if not values:
        raise ValueError("max_dets must not be empty")
    limits = [None if v is None else check_int(v, "max_dets", minimum=1) for v in values]
    return tuple(sorted(limits, key=lambda v: _NO_LIMIT if v is None else v))


def _area_ranges(mode: str, value: Any) -> tuple[tuple[str, ...], np.ndarray]:
    if mode in ("voc07", "voc2010"):
        if value is not None:
            raise ValueError(f"area_ranges do not apply to mode {mode!r} (VOC has none)")
        return ("all",), np.array([[0.0, np.inf]])
    if value is None:
        labels = tuple(_COCO_AREAS)
        return labels, np.array([_COCO_AREAS[k] for k in labels], dtype=np.float64)
    if isinstance(value, Mapping):
        labels, pairs = tuple(str(k) for k in value), list(value.values())
    else:
        pairs = list(value)
        labels = tuple(f"{lo:g}-{hi:g}" for lo, hi in pairs)
    ranges = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
    if ranges.shape[0] == 0 or np.any(ranges[:, 0] > ranges[:, 1]) or np.isnan(ranges).any():
        raise ValueError(f"area_ranges must be (lo, hi) pairs with lo <= hi, got {pairs}")
    return labels, ranges


def _limits(params: EvaluationParams) -> np.ndarray:
    return np.array([_NO_LIMIT if m is None else m for m in params.max_dets], dtype=np.int64)


_GT_FIELDS = ("gt_image", "gt_cat", "gt_box", "gt_area", "gt_ignore", "gt_crowd", "gt_counts")
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
            )
            names = ("category_ids", "image_ids", *_GT_FIELDS, *_DT_FIELDS, "npig")
            fields = {name: np.asarray(arrays[name]) for name in names}
            category_names = tuple(str(s) for s in arrays["category_names"])
            grouped = bool(arrays["grouped"])
        except KeyError as exc:
            raise ValueError(f"no {exc.args[0]!r} array") from None
        check_choice(params.mode, "mode", MODES)
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

    Raises ``ValueError`` when detections refer to images or categories the ground truth
    does not have, or ``image_ids`` holds non-integral, NaN or unknown ids; ``TypeError``
    when ``image_ids`` is not numeric (strings, bools).
    """
    params = _make_params(mode, iou_thresholds, recall_thresholds, max_dets, area_ranges)
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
        images = np.unique(_ids(as_numpy(image_ids, "image_ids", ndim=1), "image_ids"))
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
    g_cat = g_key % n_cat
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
    d_order = _k.group_order(d_key, d_score, n_cat * n_img)
    limit = int(_limits(params)[-1])
    if mode == "coco-fixed":
        # The limit holds per image over all categories; tied scores there go by category
        # (then input order), so the cut does not depend on how the file is ordered.
        by_cat = _stable_order(d_key % n_cat, n_cat)
        per_image = by_cat[_k.group_order(d_img[by_cat], d_score[by_cat], n_img)]
        rank = np.empty(d_rows.shape[0], dtype=np.int64)
        rank[per_image] = _group_rank(d_img[per_image])
        rank = rank[d_order]
    else:
        rank = _group_rank(d_key[d_order])
    keep = rank < limit
    d_order, rank = d_order[keep], rank[keep]
    d_key = d_key[d_order]
    d_rows = d_rows[d_order]
    d_cat = d_key % n_cat
    d_box = dt.bbox[d_rows]
    d_area = d_box[:, 2] * d_box[:, 3]  # pycocotools' loadRes: area = w * h

    state, npig, _ = _k.match_groups(
        g_key,
        gt.bbox[g_rows],
        gt.area[g_rows],
        ignore,
        crowd,
        counts,
        d_key,
        d_box,
        d_area,
        params.area_ranges,
        mode == "coco",
        params.iou_thresholds,
        _rule(mode),
        n_cat,
        False,
    )
    return ImageMatches(
        params=params,
        category_ids=cats_sorted,
        category_names=tuple(gt.category_names[i] for i in cat_order),
        image_ids=images,
        gt_image=gt.image_id[g_rows],
        gt_cat=g_cat,
        gt_box=gt.bbox[g_rows],
        gt_area=gt.area[g_rows],
        gt_ignore=ignore,
        gt_crowd=crowd,
        gt_counts=counts,
        dt_image=dt.image_id[d_rows],
        dt_cat=d_cat,
        dt_box=d_box,
        dt_area=d_area,
        dt_score=dt.score[d_rows],
        dt_rank=rank,
        dt_state=state,
        npig=npig,
    )


def _rule(mode: str) -> int:
    return {
        "coco": _k.RULE_COCO,
        "coco-fixed": _k.RULE_COCO_FIXED,
        "voc07": _k.RULE_VOC,
        "voc2010": _k.RULE_VOC,
    }[mode]


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


def accumulate_matches(matches: ImageMatches) -> DetectionEvaluation:
    """Accumulate per-image matches into a :class:`DetectionEvaluation`."""
    check_instance(matches, ImageMatches, "matches")
    m = _regroup(matches)
    p = m.params
    n_cat = m.category_ids.shape[0]
    counts = np.bincount(m.dt_cat, minlength=n_cat) if m.dt_cat.size else np.zeros(n_cat, np.int64)
    cat_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    # Per category by decreasing score, ties by image and rank: pycocotools' mergesort
    # of the detections concatenated image by image.
    by_score = _k.radix_argsort(
        _k.descending_keys(m.dt_score), np.arange(m.dt_score.shape[0], dtype=np.int64)
    )
    order = _k.radix_argsort(m.dt_cat.astype(np.uint64), by_score)
    ap_method = {"voc07": _k.AP_VOC07, "voc2010": _k.AP_ALL_POINT}.get(p.mode, _k.AP_NONE)
    # Gathered once into that order, the kernel's passes read memory sequentially.
    precision, recall, scores, ap = _k.accumulate(
        cat_start,
        np.arange(order.shape[0], dtype=np.int64),
        m.dt_score[order],
        m.dt_rank[order],
        m.dt_state[order],
        m.npig,
        p.recall_thresholds,
        _limits(p),
        p.mode == "coco",
        p.mode == "coco-fixed",
        ap_method,
    )
    return DetectionEvaluation(
        params=p,
        category_ids=m.category_ids,
        category_names=m.category_names,
        precision=precision,
        recall=recall,
        scores=scores,
        ap=ap,
        matches=m,
        _order=order,
        _cat_start=cat_start,
    )


def evaluate_detections(
    gt: Any,
    dt: Any,
    *,
    mode: str = "coco",
    iou_thresholds: Any = None,
    max_dets: Any = None,
    area_ranges: Any = None,
    recall_thresholds: Any = None,
) -> DetectionEvaluation:
    """Evaluate detections against ground truth: the COCO numbers and much more.

    ``gt``, ``dt`` and the options are those of :func:`match_images`. With the defaults
    and ``mode="coco"``, ``stats``, ``precision``, ``recall`` and ``scores`` equal
    pycocotools 2.0.11's ``COCOeval`` (``iouType="bbox"``) to the last bit.

    >>> result = evaluate_detections("instances_val2017.json", "detections.json")
    >>> print(result.summary())            # doctest: +SKIP
    >>> result.stats[0], result.map50       # doctest: +SKIP
    """
    matches = match_images(
        gt,
        dt,
        mode=mode,
        iou_thresholds=iou_thresholds,
        max_dets=max_dets,
        area_ranges=area_ranges,
        recall_thresholds=recall_thresholds,
    )
    return accumulate_matches(matches)


@dataclass(frozen=True)
class PRCurve:
    """A precision-recall curve: one point per distinct score, highest score first."""

    precision: np.ndarray  # float64[P]
    recall: np.ndarray  # float64[P]
    score: np.ndarray  # float64[P] the confidence threshold of each point
    num_gt: int  # ground truths that count


@dataclass(frozen=True)
class DetectionCounts:
    """Detections kept at ``score >= confidence``, compared to the ground truth."""

    confidence: float
    tp: int
    fp: int
    fn: int
    precision: float  # tp / (tp + fp), 0 when nothing is kept
    recall: float  # tp / (tp + fn), 0 without ground truth
    f1: float

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def _counts(confidence: float, tp: int, fp: int, n_gt: int) -> DetectionCounts:
    fn = n_gt - tp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / n_gt if n_gt else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return DetectionCounts(float(confidence), int(tp), int(fp), int(fn), precision, recall, f1)


_COCO_STAT_NAMES = (
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class DetectionEvaluation:
    """The result of :func:`evaluate_detections`.

    Attributes:
        params (EvaluationParams): thresholds, limits and area ranges used.
        category_ids (int64[K]), category_names: the categories, ids ascending.
        precision (float64[T, R, K, A, M]): interpolated precision at each recall point,
            -1 where a category has no ground truth (``COCOeval.eval["precision"]``).
        recall (float64[T, K, A, M]): final recall (``COCOeval.eval["recall"]``).
        scores (float64[T, R, K, A, M]): the score at each precision point.
        ap (float64[T, K, A, M]): per-category AP of the VOC modes (-1 in COCO modes,
            whose AP is the mean of ``precision`` over recall points).
        stats (float64[S]): the summary numbers, named by ``stat_names``: COCO's 12 in
            ``COCOeval.stats`` order, or per IoU threshold AP and recall for VOC.
    """

    params: EvaluationParams
    category_ids: np.ndarray
    category_names: tuple[str, ...]
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    ap: np.ndarray
    matches: ImageMatches = field(repr=False)
    _order: np.ndarray = field(repr=False)
    _cat_start: np.ndarray = field(repr=False)

    # ----- summary numbers ---------------------------------------------------------
    @property
    def is_coco(self) -> bool:
        return self.params.mode in ("coco", "coco-fixed")

    @property
    def stat_names(self) -> tuple[str, ...]:
        if self.is_coco:
            return _coco_stat_names(self.params)
        names = []
        for t in self.params.iou_thresholds:
            names += [f"AP{_pct(t)}", f"AR{_pct(t)}"]
        return tuple(names)

    @functools.cached_property
    def stats(self) -> np.ndarray:
        return self._stats(slice(None))

    def _stats(self, cats: slice) -> np.ndarray:
        if self.is_coco:
            return np.array([value for value, _ in _coco_summary(self, cats)], dtype=np.float64)
        out = []
        for t in range(self.params.iou_thresholds.shape[0]):
            out.append(_mean_valid(self.ap[t, cats, 0, -1]))
            out.append(_mean_valid(self.recall[t, cats, 0, -1]))
        return np.array(out, dtype=np.float64)

    @property
    def map50(self) -> float:
        """mAP at IoU 0.5 (COCO: ``stats[1]``; VOC: the mean of per-class AP).

        NaN when 0.5 is not one of the evaluated ``iou_thresholds`` (``stats[1]`` is then
        pycocotools' -1 sentinel, which would read as a score); -1 when no category has
        ground truth, as in ``stats``.
        """
        if self.is_coco:
            # the exact comparison summarize() makes when it picks stats[1]'s threshold
            return float(self.stats[1]) if np.any(self.params.iou_thresholds == 0.5) else math.nan
        if not _has_iou(self.params, 0.5):
            return math.nan
        return _mean_valid(self.ap[_iou_index(self.params, 0.5), :, 0, -1])

    @property
    def map50_95(self) -> float:
        """COCO's AP averaged over IoU 0.50:0.05:0.95 (``stats[0]``).

        NaN in the VOC modes, when the evaluated ``iou_thresholds`` are not exactly the
        ten thresholds 0.50, 0.55, ..., 0.95 (``stats[0]``, "AP", is then the mean over the
        thresholds that were evaluated, not mAP@0.5:0.95), and in ``"coco"`` mode when 100
        is not one of ``max_dets`` (pycocotools reads ``stats[0]`` at ``maxDets=100`` and
        reports -1 then).
        """
        if not self.is_coco:
            return math.nan
        if _coco_plan(self.params)[0][3] not in self.params.max_dets:
            return math.nan  # "coco" reads stats[0] at maxDets=100, which was not evaluated
        iou = self.params.iou_thresholds
        if iou.shape != _COCO_IOUS.shape or not np.allclose(iou, _COCO_IOUS, rtol=0, atol=1e-9):
            return math.nan
        return float(self.stats[0])

    @property
    def report_iou_threshold(self) -> float:
        """The IoU threshold of :meth:`to_dict`'s counts, errors and confusion matrix (and of
        the report's curves): 0.5 when it was evaluated, else the first evaluated threshold."""
        iou = self.params.iou_thresholds
        return 0.5 if _has_iou(self.params, 0.5) else float(iou[0])

    def summary(self) -> str:
        """The text ``COCOeval.summarize()`` prints (VOC: one AP and recall line per IoU)."""
        if self.is_coco:
            p = self.params
            lines = []
            for value, (ap, iou, area, limit) in _coco_summary(self, slice(None), True):
                title = "Average Precision" if ap else "Average Recall"
                kind = "(AP)" if ap else "(AR)"
                iou_text = (
                    f"{p.iou_thresholds[0]:0.2f}:{p.iou_thresholds[-1]:0.2f}"
                    if iou is None
                    else f"{iou:0.2f}"
                )
                limit_text = "all" if limit is None else f"{limit:>3d}"
                lines.append(
                    f" {title:<18} {kind} @[ IoU={iou_text:<9} | area={area:>6s} | "
                    f"maxDets={limit_text:>3s} ] = {value:0.3f}"
                )
            return "\n".join(lines)
        rule = "11-point" if self.params.mode == "voc07" else "all-point"
        lines = []
        for t, iou in enumerate(self.params.iou_thresholds):
            ap = _mean_valid(self.ap[t, :, 0, -1])
            rc = _mean_valid(self.recall[t, :, 0, -1])
            lines.append(f" Average Precision  (AP) @[ IoU>{iou:0.2f} | VOC {rule} ] = {ap:0.3f}")
            lines.append(f" Average Recall     (AR) @[ IoU>{iou:0.2f} | VOC {rule} ] = {rc:0.3f}")
        return "\n".join(lines)

    # ----- per class ---------------------------------------------------------------
    def per_class(self) -> list[dict[str, Any]]:
        """One row per category: id, name, counted ground truths, detections, and every
        summary number restricted to that category (-1 where it has no ground truth)."""
        n_det = np.diff(self._cat_start)
        rows = []
        for k, (cid, name) in enumerate(zip(self.category_ids, self.category_names)):
            row: dict[str, Any] = {
                "category_id": int(cid),
                "name": name,
                "gt": int(self.matches.npig[k, 0]),
                "dt": int(n_det[k]),
            }
            row.update(zip(self.stat_names, self._stats(slice(k, k + 1)).tolist()))
            rows.append(row)
        return rows

    def per_class_text(self) -> str:
        """The per-class table as aligned text."""
        rows = self.per_class()
        names = self.stat_names
        width = max([len("category")] + [len(r["name"]) for r in rows])
        head = f"{'category':<{width}} {'gt':>7} {'dt':>8} " + " ".join(f"{n:>6}" for n in names)
        lines = [head]
        for r in rows:
            values = " ".join(
                f"{'-':>6}" if r[n] < 0 or math.isnan(r[n]) else f"{r[n]:6.3f}" for n in names
            )
            lines.append(f"{r['name']:<{width}} {r['gt']:>7d} {r['dt']:>8d} {values}")
        return "\n".join(lines)

    # ----- curves and counts -------------------------------------------------------
    def _curve_data(
        self, iou_threshold: float, category_id: int | None
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Scores (descending) and states at one IoU (area range 0, all kept detections)."""
        t = _iou_index(self.params, iou_threshold)
        if category_id is None:
            score = self.matches.dt_score[self._order]
            state = self.matches.dt_state[self._order, 0, t]
            order = np.argsort(-score, kind="stable")
            return score[order], state[order], int(self.matches.npig[:, 0].sum())
        k = self._category_index(category_id)
        s, e = self._cat_start[k], self._cat_start[k + 1]
        rows = self._order[s:e]
        return (
            self.matches.dt_score[rows],
            self.matches.dt_state[rows, 0, t],
            int(self.matches.npig[k, 0]),
        )

    def _category_index(self, category_id: int) -> int:
        hits = np.flatnonzero(self.category_ids == category_id)
        if hits.size == 0:
            raise ValueError(
                f"category_id must be one of the evaluated categories, got {_scalar(category_id)!r}"
            )
        return int(hits[0])

    def pr_curve(self, category_id: int | None = None, *, iou_threshold: float = 0.5) -> PRCurve:
        """The raw precision-recall curve at ``iou_threshold`` (one of ``iou_thresholds``)
        over the first area range, for one category or all pooled (``None``); a point at
        each distinct score, whose detections at or above that score are kept."""
        score, state, n_gt = self._curve_data(iou_threshold, category_id)
        counted = state != _k.IGNORED
        score, state = score[counted], state[counted]
        tp = np.cumsum(state == _k.TP)
        fp = np.cumsum(state == _k.FP)
        last = np.flatnonzero(np.append(score[1:] != score[:-1], True)) if score.size else score
        last = last.astype(np.int64)
        tp, fp, pts = tp[last], fp[last], score[last]
        precision = np.divide(tp, tp + fp, out=np.zeros(tp.shape), where=(tp + fp) > 0)
        recall = tp / n_gt if n_gt else np.zeros(tp.shape)
        return PRCurve(precision, recall.astype(np.float64), pts, n_gt)

    def counts(
        self,
        confidence: float = 0.0,
        *,
        iou_threshold: float = 0.5,
        category_id: int | None = None,
    ) -> DetectionCounts:
        """TP, FP, FN, precision, recall and F1 of the detections with ``score >= confidence``."""
        confidence = check_float(confidence, "confidence")
        score, state, n_gt = self._curve_data(iou_threshold, category_id)
        kept = score >= confidence
        return _counts(
            confidence,
            int(np.count_nonzero(state[kept] == _k.TP)),
            int(np.count_nonzero(state[kept] == _k.FP)),
            n_gt,
        )

    def best_f1(
        self, *, iou_threshold: float = 0.5, category_id: int | None = None
    ) -> DetectionCounts:
        """The counts at the confidence with the highest F1 (the highest such confidence)."""
        curve = self.pr_curve(category_id, iou_threshold=iou_threshold)
        if curve.score.size == 0:
            return _counts(math.inf, 0, 0, curve.num_gt)
        denom = curve.precision + curve.recall
        f1 = np.divide(
            2 * curve.precision * curve.recall, denom, out=np.zeros(denom.shape), where=denom > 0
        )
        best = int(np.argmax(f1))
        return self.counts(
            float(curve.score[best]), iou_threshold=iou_threshold, category_id=category_id
        )

    def confusion_matrix(
        self, confidence: float = 0.25, *, iou_threshold: float = 0.5
    ) -> np.ndarray:
        """Detection confusion matrix, int64[K + 1, K + 1]: rows true class, columns
        predicted class, the last row and column "background".

        Built from the evaluation's own matches at ``iou_threshold`` over the first area
        range, for the detections with ``score >= confidence``: a true positive adds to
        its diagonal cell; a false positive overlapping (IoU >= ``iou_threshold``) a still
        unmatched ground truth of another class is a confusion of that class, else a
        background false positive; unmatched ground truths are background misses. Ignored
        detections and ground truths (crowd, out of range) are left out.
        """
        return self._explain(confidence, iou_threshold)[0]

    def error_breakdown(
        self, confidence: float = 0.25, *, iou_threshold: float = 0.5, loc_threshold: float = 0.1
    ) -> dict[str, int]:
        """Why detections and objects were wrong, at ``score >= confidence``.

        ``tp``; false positives split into ``fp_confusion`` (on an object of another class,
        as in :meth:`confusion_matrix`), ``fp_duplicate`` (on an object of its class that a
        better detection took), ``fp_localization`` (best overlap with its class in
        [``loc_threshold``, ``iou_threshold``)) and ``fp_background``; false negatives into
        ``fn_confused`` (taken for another class) and ``fn_missed``.
        """
        loc = check_float(loc_threshold, "loc_threshold", minimum=0.0, maximum=1.0)
        matrix, kind, n_tp = self._explain(confidence, iou_threshold, loc)
        k = matrix.shape[0] - 1
        confused = int(matrix[:k, :k].sum() - np.trace(matrix[:k, :k]))
        return {
            "tp": n_tp,
            "fp_confusion": int(np.count_nonzero(kind == _k.ERR_CONFUSION)),
            "fp_duplicate": int(np.count_nonzero(kind == _k.ERR_DUPLICATE)),
            "fp_localization": int(np.count_nonzero(kind == _k.ERR_LOCALIZATION)),
            "fp_background": int(np.count_nonzero(kind == _k.ERR_BACKGROUND)),
            "fn_confused": confused,
            "fn_missed": int(matrix[:k, k].sum()),
        }

    def _explain(
        self, confidence: float, iou_threshold: float, loc_threshold: float = 0.1
    ) -> tuple[np.ndarray, np.ndarray, int]:
        confidence = check_float(confidence, "confidence")
        iou = check_float(iou_threshold, "iou_threshold", minimum=0.0, maximum=1.0)
        m = self.matches
        p = self.params
        n_img = max(m.image_ids.shape[0], 1)
        n_cat = m.category_ids.shape[0]
        g_img = np.searchsorted(m.image_ids, m.gt_image)
        d_img = np.searchsorted(m.image_ids, m.dt_image)
        # The evaluation's own matching (rows are grouped by image, then category).
        state, _, rows = _k.match_groups(
            g_img * n_cat + m.gt_cat, m.gt_box, m.gt_area, m.gt_ignore, m.gt_crowd,
            m.gt_counts, d_img * n_cat + m.dt_cat, m.dt_box, m.dt_area, p.area_ranges[:1],
            p.mode == "coco", np.array([iou]), _rule(p.mode), n_cat, True,
        )  # fmt: skip
        state, rows = state[:, 0, 0], rows[:, 0, 0]
        kept = m.dt_score >= confidence
        matrix = np.zeros((n_cat + 1, n_cat + 1), dtype=np.int64)
        tp = kept & (state == _k.TP)
        np.add.at(matrix, (m.dt_cat[tp], m.dt_cat[tp]), 1)
        # Ground truths that count in the first area range, and those no kept TP took.
        lo, hi = p.area_ranges[0]
        if p.mode in ("voc07", "voc2010"):
            counted = ~m.gt_ignore
        else:
            inside = (m.gt_area <= hi) if p.mode == "coco" else (m.gt_area < hi)
            counted = ~m.gt_ignore & (m.gt_area >= lo) & inside
        free = counted.copy()
        free[rows[tp]] = False
        img_start = np.searchsorted(g_img, np.arange(n_img + 1)).astype(np.int64)
        fp = np.flatnonzero(kept & (state == _k.FP))
        fp = fp[np.argsort(-m.dt_score[fp], kind="stable")]
        confusions, kind = _k.confuse(
            img_start, m.gt_cat, m.gt_box, counted, free, d_img[fp], m.dt_cat[fp],
            m.dt_box[fp], iou, loc_threshold, n_cat,
        )  # fmt: skip
        return matrix + confusions, kind, int(np.count_nonzero(tp))

    # ----- export --------------------------------------------------------------------
    def to_dict(
        self, *, confidence: float = 0.25, iou_threshold: float | None = None
    ) -> dict[str, Any]:
        """Everything a report needs, as strict-JSON values (-1: no ground truth; None for
        infinity and NaN, e.g. ``map50`` when IoU 0.5 was not evaluated).

        The ``counts``, ``errors`` and ``confusion_matrix`` sections are computed at
        ``iou_threshold`` (one of the evaluated thresholds), by default
        :attr:`report_iou_threshold` (0.5 when evaluated, else the first evaluated one); each
        section and the top-level ``"iou_threshold"`` record the value used.
        """
        if iou_threshold is None:
            iou = self.report_iou_threshold
        else:
            iou = check_float(iou_threshold, "iou_threshold", minimum=0.0, maximum=1.0)
            iou = float(self.params.iou_thresholds[_iou_index(self.params, iou)])
        stats = self.stats
        best = self.best_f1(iou_threshold=iou)
        return _json_safe(
            {
                "mode": self.params.mode,
                "map50": self.map50,
                "map50_95": self.map50_95,
                "stats": dict(zip(self.stat_names, stats.tolist())),
                "params": self.params.to_dict(),
                "iou_threshold": iou,
                "num_images": int(self.matches.image_ids.shape[0]),
                "num_gt": int(self.matches.npig[:, 0].sum()),
                "num_detections": int(self.matches.dt_score.shape[0]),
                "counts": {
                    "iou_threshold": iou,
                    "at_confidence": self.counts(confidence, iou_threshold=iou).to_dict(),
                    "at_best_f1": best.to_dict(),
                },
                "per_class": self.per_class(),
                "categories": [
                    {"id": int(c), "name": n}
                    for c, n in zip(self.category_ids, self.category_names)
                ],
                "errors": {
                    "confidence": confidence,
                    "iou_threshold": iou,
                    **self.error_breakdown(confidence, iou_threshold=iou),
                },
                "confusion_matrix": {
                    "confidence": confidence,
                    "iou_threshold": iou,
                    "labels": [*self.category_names, "background"],
                    "matrix": self.confusion_matrix(confidence, iou_threshold=iou).tolist(),
                },
            }
        )


def _pct(t: float) -> str:
    return f"{round(float(t) * 100):d}"


_COCO_IOUS = np.round(np.arange(10) * 0.05 + 0.5, 2)  # 0.50, 0.55, ..., 0.95


def _has_iou(params: EvaluationParams, iou: float) -> bool:
    return bool(np.isclose(params.iou_thresholds, iou, rtol=0.0, atol=1e-9).any())


def _iou_index(params: EvaluationParams, iou: float) -> int:
    hits = np.flatnonzero(np.isclose(params.iou_thresholds, iou, rtol=0.0, atol=1e-9))
    if hits.size == 0:
        raise ValueError(
            f"iou_threshold must be one of the evaluated thresholds "
            f"{np.round(params.iou_thresholds, 4).tolist()}, got {_scalar(iou)!r}"
        )
    return int(hits[0])


def _scalar(value: Any) -> Any:
    """A numpy scalar as the Python number, so messages read ``0.5``, not ``np.float64(0.5)``."""
    return value.item() if isinstance(value, np.generic) else value


def _mean_valid(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.0


COCO_STATS0_MAX_DETS = 100  # the limit pycocotools' summarize() reads stats[0] at


def _coco_plan(params: EvaluationParams) -> list[tuple[int, float | None, str, int | None]]:
    """The 12 (ap?, iou, area label, max dets) of ``summarize()`` for these parameters."""
    limits = params.max_dets
    top = limits[-1] if len(limits) < 3 else limits[2]
    first = limits[0]
    second = limits[1] if len(limits) > 1 else limits[-1]
    # pycocotools' summarize() reads stats[0] with _summarize's default maxDets=100, not
    # maxDets[2]: with maxDets [1, 5, 50] no limit matches and it reports -1 (a quirk;
    # "coco-fixed" reads it at the largest limit, like the other AP numbers).
    overall = COCO_STATS0_MAX_DETS if params.mode == "coco" else top
    return [
        (1, None, "all", overall),
        (1, 0.5, "all", top),
        (1, 0.75, "all", top),
        (1, None, "small", top),
        (1, None, "medium", top),
        (1, None, "large", top),
        (0, None, "all", first),
        (0, None, "all", second),
        (0, None, "all", top),
        (0, None, "small", top),
        (0, None, "medium", top),
        (0, None, "large", top),
    ]


def _coco_stat_names(params: EvaluationParams) -> tuple[str, ...]:
    plan = _coco_plan(params)
    if plan[6][3] == 1 and plan[7][3] == 10 and plan[8][3] == 100:
        return _COCO_STAT_NAMES
    names = list(_COCO_STAT_NAMES)
    for i in (6, 7, 8):
        names[i] = f"AR{'all' if plan[i][3] is None else plan[i][3]}"
    return tuple(names)


def _coco_summary(
    result: DetectionEvaluation, cats: slice, with_plan: bool = False
) -> list[tuple[float, Any]]:
    """``COCOeval.summarize()._summarize`` for the 12 numbers, the same numpy operations
    in the same order so that the means round the same way."""
    p = result.params
    out = []
    for ap, iou, area, limit in _coco_plan(p):
        aind = [i for i, label in enumerate(p.area_labels) if label == area]
        mind = [i for i, m in enumerate(p.max_dets) if m == limit]
        if ap == 1:
            s = result.precision
            if iou is not None:
                s = s[np.where(iou == p.iou_thresholds)[0]]
            s = s[:, :, cats][:, :, :, aind, mind]
        else:
            s = result.recall
            if iou is not None:
                s = s[np.where(iou == p.iou_thresholds)[0]]
            s = s[:, cats][:, :, aind, mind]
        value = -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))
        out.append((value, (ap, iou, area, limit)))
    return out
