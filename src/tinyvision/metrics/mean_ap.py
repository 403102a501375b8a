"""``MeanAveragePrecision``: torchmetrics' detection metric for training loops.

The constructor, ``update(preds, target)`` with per-image dicts of tensors, ``compute()``
with torchmetrics' keys and ``reset()`` are ``torchmetrics.detection.MeanAveragePrecision``'s
(1.9), and the values and dtypes are those it gives with its pycocotools backend: the
inputs become the same COCO data sets (images numbered by arrival, annotation ids from 1,
boxes in ``xywh``, areas from ``area`` when positive, else from the box or the mask) and
are evaluated by :class:`tinyvision.coco.COCOeval`, pycocotools' API over tinyvision's
evaluator. Per-class numbers are read from the one evaluation (each category is evaluated
on its own in COCO, so the slice equals torchmetrics' evaluation per class).

``sync(group)`` gathers every rank's images (rank 0's first, each rank's in arrival
order) over ``torch.distributed``; ranks may have called ``update()`` any number of times
(sizes are exchanged first, then the data padded to the largest rank). Like the
accumulators of :mod:`tinyvision.metrics.streaming` it leaves the local state alone:
``compute()`` reports all ranks until the next ``update()``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from tinyvision.metrics.streaming import _all_gather_rows, _all_gather_varlen, _distributed
from tinyvision.ops import box_convert

__all__ = ["MeanAveragePrecision"]

_BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
_IOU_TYPES = ("segm", "bbox")
_STAT_KEYS = ("map", "map_50", "map_75", "map_small", "map_medium", "map_large")
_AREA_KEYS = ("mar_small", "mar_medium", "mar_large")

Rle = tuple[tuple[int, int], bytes]  # ((height, width), compressed counts)


@dataclass
class _Images:
    """Objects of a run of images, as columns (``N`` objects in ``I`` images)."""

    count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # int64[I]
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # float64[N, 4] xywh
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # int64[N]
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))  # float64[N] (results)
    crowd: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # int64[N]
    area: np.ndarray = field(default_factory=lambda: np.zeros(0))  # float64[N], 0: unknown
    masks: list[Rle] = field(default_factory=list)  # N RLEs (segm)

    @staticmethod
    def concat(parts: Sequence[_Images]) -> _Images:
        if not parts:
            return _Images()
        return _Images(
            count=np.concatenate([p.count for p in parts]),
            boxes=np.concatenate([p.boxes for p in parts]).reshape(-1, 4),
            labels=np.concatenate([p.labels for p in parts]),
            scores=np.concatenate([p.scores for p in parts]),
            crowd=np.concatenate([p.crowd for p in parts]),
            area=np.concatenate([p.area for p in parts]),
            masks=[m for p in parts for m in p.masks],
        )


class MeanAveragePrecision:
    """COCO mAP and mAR of detections collected batch by batch (torchmetrics' API).

    Args:
        box_format: ``"xyxy"``, ``"xywh"`` or ``"cxcywh"`` for ``boxes``.
        iou_type: ``"bbox"``, ``"segm"`` or a tuple of both (keys then get a
            ``bbox_``/``segm_`` prefix).
        iou_thresholds: list of IoU thresholds, default 0.50:0.05:0.95 (float32 steps, as
            torchmetrics makes them).
        rec_thresholds: list of recall points, default 0:0.01:1.
        max_detection_thresholds: three limits per image, default ``[1, 10, 100]``.
        class_metrics: also ``map_per_class`` and ``mar_{limit}_per_class``.
        extended_summary: also ``ious``, ``precision``, ``recall`` and ``scores``.
        average: ``"macro"`` (per class, then the mean) or ``"micro"`` (all classes as one).
        backend: accepted for compatibility (``"pycocotools"``, ``"faster_coco_eval"``);
            the numbers are pycocotools' either way.
        **kwargs: ``torchmetrics.Metric``'s options (``sync_on_compute``, ...), accepted
            and ignored: syncing is the explicit :meth:`sync`.
    """

    warn_on_many_detections: bool = True

    def __init__(
        self,
        box_format: str = "xyxy",
        iou_type: str | tuple[str, ...] = "bbox",
        iou_thresholds: list[float] | None = None,
        rec_thresholds: list[float] | None = None,
        max_detection_thresholds: list[int] | None = None,
        class_metrics: bool = False,
        extended_summary: bool = False,
        average: str = "macro",
        backend: str = "pycocotools",
        **kwargs: Any,
    ) -> None:
        if box_format not in _BOX_FORMATS:
            raise ValueError(f"box_format must be one of {_BOX_FORMATS}, got {box_format!r}")
        types = (iou_type,) if isinstance(iou_type, str) else tuple(iou_type)
        if not types or any(t not in _IOU_TYPES for t in types):
            raise ValueError(
                f"iou_type must be 'bbox', 'segm' or a tuple of them, got {iou_type!r}"
            )
        for name, value in (
            ("iou_thresholds", iou_thresholds),
            ("rec_thresholds", rec_thresholds),
            ("max_detection_thresholds", max_detection_thresholds),
        ):
            if value is not None and not isinstance(value, list):
                raise ValueError(f"{name} must be None or a list, got {value!r}")
        if max_detection_thresholds is not None and len(max_detection_thresholds) != 3:
            raise ValueError(
                f"max_detection_thresholds must hold 3 limits, got {max_detection_thresholds!r}"
            )
        for name, value in (
            ("class_metrics", class_metrics),
            ("extended_summary", extended_summary),
        ):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be a bool, got {value!r}")
        if average not in ("macro", "micro"):
            raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")
        if backend not in ("pycocotools", "faster_coco_eval"):
            raise ValueError(
                f"backend must be 'pycocotools' or 'faster_coco_eval', got {backend!r}"
            )
        self.box_format = box_format
        self.iou_type = types
        # torchmetrics makes its defaults with float32 steps: 0.550000011920929, ...
        self.iou_thresholds = iou_thresholds or torch.linspace(0.5, 0.95, 10).tolist()
        self.rec_thresholds = rec_thresholds or torch.linspace(0.0, 1.00, 101).tolist()
        limits = torch.tensor(max_detection_thresholds or [1, 10, 100], dtype=torch.int)
        self.max_detection_thresholds = torch.sort(limits).values.tolist()
        self.class_metrics = class_metrics
        self.extended_summary = extended_summary
        self.average = average
        self.backend = backend
        self.reset()

    # ----- state -------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every image."""
        self._dt: list[_Images] = []
        self._gt: list[_Images] = []
        self._synced: tuple[_Images, _Images] | None = None

    def update(
        self, preds: Sequence[Mapping[str, Any]], target: Sequence[Mapping[str, Any]]
    ) -> None:
        """Add images: ``preds[i]`` has ``boxes`` (Tensor[N, 4] in ``box_format``) and/or
        ``masks`` (bool Tensor[N, H, W]) by ``iou_type``, ``scores`` (float Tensor[N]) and
        ``labels`` (int Tensor[N]); ``target[i]`` the same without ``scores``, with
        optional ``iscrowd`` (Tensor[N]) and ``area`` (Tensor[N], used where > 0)."""
        _check_inputs(preds, target, self.iou_type)
        start = sum(len(p.count) for p in self._dt)
        dt = self._images(preds, start, results=True)
        gt = self._images(target, start, results=False)  # both checked before either is kept
        self._dt.append(dt)
        self._gt.append(gt)
        self._synced = None

    def _images(self, items: Sequence[Mapping[str, Any]], start: int, *, results: bool) -> _Images:
        parts = []
        limit = self.max_detection_thresholds[-1]
        for i, item in enumerate(items):
            labels = _integers(item["labels"], "class", start + i)
            n = labels.shape[0]
            part = _Images(count=np.array([n], dtype=np.int64), labels=labels)
            if "bbox" in self.iou_type:
                part.boxes = _xywh(item["boxes"], self.box_format)
            if "segm" in self.iou_type:
                part.masks = _encode_masks(item["masks"])
            if results:
                part.scores = _floats(item["scores"], start + i)
                if self.warn_on_many_detections and n > limit:
                    warnings.warn(
                        f"more than {limit} detections in an image: those with the lowest "
                        "scores are not evaluated (see max_detection_thresholds)",
                        UserWarning,
                        stacklevel=3,
                    )
            else:
                part.crowd = _column(item, "iscrowd", n, np.int64)
                part.area = _column(item, "area", n, np.float64)
            parts.append(part)
        return _Images.concat(parts)

    def sync(self, group: Any = None) -> None:
        """Gather every rank's images (a collective: every rank calls it, the same number of
        times, whatever its number of ``update()`` calls)."""
        if not _distributed(group):
            self._synced = None
            return
        self._synced = (
            _gather(_Images.concat(self._dt), group),
            _gather(_Images.concat(self._gt), group),
        )

    # ----- compute -----------------------------------------------------------------------
    def compute(self) -> dict[str, Any]:
        """torchmetrics' result dict: ``map``, ``map_50``, ``map_75``, ``map_small``,
        ``map_medium``, ``map_large``, ``mar_{limit}`` for the three limits, ``mar_small``,
        ``mar_medium``, ``mar_large`` (float32 scalars, -1 where undefined),
        ``map_per_class``/``mar_{limit}_per_class`` (float32[C] with ``class_metrics``, else
        -1), ``classes`` (int32[C], the labels seen), and with ``extended_summary``
        ``ious`` (``{(image, class): float32[D, G]}``), ``precision``, ``scores``
        (float64[T, R, K, A, M]) and ``recall`` (float64[T, K, A, M])."""
        if self._synced is not None:
            dt, gt = self._synced
        else:
            dt, gt = _Images.concat(self._dt), _Images.concat(self._gt)
        classes = np.unique(np.concatenate([dt.labels, gt.labels])).tolist()
        from tinyvision.coco._log import quiet

        result: dict[str, Any] = {}
        with quiet():  # no pycocotools progress lines (torchmetrics redirects stdout)
            for iou_type in self.iou_type:
                prefix = "" if len(self.iou_type) == 1 else f"{iou_type}_"
                result.update(self._evaluate(dt, gt, classes, iou_type, prefix))
        result["classes"] = torch.tensor(classes, dtype=torch.int32)
        return _squeeze_scalars(result)

    def _evaluate(
        self, dt: _Images, gt: _Images, classes: list[int], iou_type: str, prefix: str
    ) -> dict[str, Any]:
        from tinyvision.coco.cocoeval import summary_value

        coco_dt, coco_gt = self._datasets(dt, gt, classes, iou_type, self.average)
        mdt = self.max_detection_thresholds
        if not coco_dt.imgs or not coco_gt.imgs:
            return self._stats_dict([-1.0] * 12, prefix)
        E = self._run(coco_gt, coco_dt, iou_type)
        out = self._stats_dict(E.stats, prefix)
        if self.extended_summary:
            out[f"{prefix}ious"] = {
                key: torch.tensor(v, dtype=torch.float32) if isinstance(v, np.ndarray) else v
                for key, v in E.ious.items()
            }
            out[f"{prefix}precision"] = torch.tensor(E.eval["precision"])
            out[f"{prefix}recall"] = torch.tensor(E.eval["recall"])
            out[f"{prefix}scores"] = torch.tensor(E.eval["scores"])
        if self.class_metrics:
            if self.average != "macro":
                coco_dt, coco_gt = self._datasets(dt, gt, classes, iou_type, "macro")
                E = self._run(coco_gt, coco_dt, iou_type)
            # Categories are evaluated independently: the slice of category k is what
            # torchmetrics' evaluation with catIds=[k] gives.
            position = {c: k for k, c in enumerate(E.params.catIds)}
            ap, ar = [], []
            for c in classes:
                k = position[c]
                cats = slice(k, k + 1)
                ap.append(summary_value(E.eval, E.params, 1, None, "all", 100, cats))
                ar.append(summary_value(E.eval, E.params, 0, None, "all", mdt[2], cats))
            per_class_ap = torch.tensor(ap, dtype=torch.float32)
            per_class_ar = torch.tensor(ar, dtype=torch.float32)
        else:
            per_class_ap = torch.tensor([-1], dtype=torch.float32)
            per_class_ar = torch.tensor([-1], dtype=torch.float32)
        out[f"{prefix}map_per_class"] = per_class_ap
        out[f"{prefix}mar_{mdt[-1]}_per_class"] = per_class_ar
        return out

    def _run(self, coco_gt: Any, coco_dt: Any, iou_type: str) -> Any:
        from tinyvision.coco import COCOeval

        E = COCOeval(coco_gt, coco_dt, iouType=iou_type)
        E.params.iouThrs = np.array(self.iou_thresholds, dtype=np.float64)
        E.params.recThrs = np.array(self.rec_thresholds, dtype=np.float64)
        E.params.maxDets = list(self.max_detection_thresholds)
        E.evaluate()
        E.accumulate()
        E.summarize()
        return E

    def _stats_dict(self, stats: Any, prefix: str) -> dict[str, torch.Tensor]:
        mdt = self.max_detection_thresholds
        keys = [*_STAT_KEYS, *(f"mar_{m}" for m in mdt), *_AREA_KEYS]
        return {
            f"{prefix}{key}": torch.tensor([value], dtype=torch.float32)
            for key, value in zip(keys, stats)
        }

    def _datasets(
        self, dt: _Images, gt: _Images, classes: list[int], iou_type: str, average: str
    ) -> tuple[Any, Any]:
        """The COCO objects torchmetrics builds (results first), for ``iou_type``."""
        from tinyvision.coco import COCO

        categories = classes if average == "macro" else [0]
        coco_dt, coco_gt = COCO(), COCO()
        coco_gt.dataset = _coco_dict(gt, self.iou_type, categories, average, None)
        coco_dt.dataset = _coco_dict(dt, self.iou_type, categories, average, iou_type)
        coco_gt.createIndex()
        coco_dt.createIndex()
        return coco_dt, coco_gt


# ----- inputs ----------------------------------------------------------------------------
def _check_inputs(preds: Any, target: Any, iou_type: tuple[str, ...]) -> None:
    """torchmetrics' checks, with its messages."""
    names = ["boxes" if t == "bbox" else "masks" for t in iou_type]
    if not isinstance(preds, Sequence):
        raise ValueError(f"Expected argument `preds` to be of type Sequence, but got {preds}")
    if not isinstance(target, Sequence):
        raise ValueError(f"Expected argument `target` to be of type Sequence, but got {target}")
    if len(preds) != len(target):
        raise ValueError(
            f"Expected argument `preds` and `target` to have the same length, but got "
            f"{len(preds)} and {len(target)}"
        )
    for side, items, keys in (
        ("preds", preds, [*names, "labels", "scores"]),
        ("target", target, [*names, "labels"]),
    ):
        for key in keys:
            if any(key not in item for item in items):
                raise ValueError(f"Expected all dicts in `{side}` to contain the `{key}` key")
            if not all(isinstance(item[key], torch.Tensor) for item in items):
                raise ValueError(f"Expected all {key} in `{side}` to be of type Tensor")
    for i, item in enumerate(target):
        for name in names:
            if item[name].size(0) != item["labels"].size(0):
                raise ValueError(
                    f"Input '{name}' and labels of sample {i} in targets have a different "
                    f"length (expected {item[name].size(0)} labels, got "
                    f"{item['labels'].size(0)})"
                )
    for i, item in enumerate(preds):
        for name in names:
            if not (item[name].size(0) == item["labels"].size(0) == item["scores"].size(0)):
                raise ValueError(
                    f"Input '{name}', labels and scores of sample {i} in predictions have a "
                    f"different length (expected {item[name].size(0)} labels and scores, got "
                    f"{item['labels'].size(0)} labels and {item['scores'].size(0)})"
                )


def _integers(labels: torch.Tensor, what: str, sample: int) -> np.ndarray:
    values = labels.detach().cpu().reshape(-1)
    if values.numel() and (values.is_floating_point() or values.is_complex()):
        raise ValueError(
            f"Invalid input {what} of sample {sample}, element 0 (expected value of type "
            f"integer, got type {type(values[0].item()) if values.numel() else float})"
        )
    return values.to(torch.int64).numpy()


def _floats(scores: torch.Tensor, sample: int) -> np.ndarray:
    values = scores.detach().cpu().reshape(-1)
    if values.numel() and not values.is_floating_point():
        raise ValueError(
            f"Invalid input score of sample {sample}, element 0 (expected value of type "
            f"float, got type {type(values[0].item())})"
        )
    return values.to(torch.float64).numpy()


def _xywh(boxes: torch.Tensor, box_format: str) -> np.ndarray:
    """Boxes as torchmetrics hands them to pycocotools: converted in their own dtype."""
    boxes = boxes.detach()
    if boxes.numel() == 0:
        return np.zeros((0, 4))
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"boxes must have shape [N, 4], got {list(boxes.shape)}")
    converted = box_convert(boxes, in_fmt=box_format, out_fmt="xywh")
    return converted.cpu().to(torch.float64).numpy()


def _encode_masks(masks: torch.Tensor) -> list[Rle]:
    from tinyvision.coco import mask as mask_utils

    array = masks.detach().cpu().numpy()
    out = []
    for m in array:
        rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        out.append((tuple(int(v) for v in rle["size"]), rle["counts"]))
    return out


def _column(item: Mapping[str, Any], key: str, n: int, dtype: Any) -> np.ndarray:
    if key not in item:
        return np.zeros(n, dtype=dtype)
    values = item[key]
    values = values.detach().cpu().reshape(-1) if isinstance(values, torch.Tensor) else values
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.shape[0] != n:
        raise ValueError(
            f"target {key!r} must hold {n} values, one per object, got {array.shape[0]}"
        )
    return array.astype(dtype)


# ----- the COCO data sets torchmetrics builds -------------------------------------------
def _coco_dict(
    images: _Images,
    iou_types: tuple[str, ...],
    categories: list[int],
    average: str,
    area_type: str | None,
) -> dict[str, Any]:
    """``_get_coco_format``: images numbered by arrival (segm alone: only images with
    masks), annotation ids from 1; results (``area_type`` set) get the area of that type."""
    has_boxes = "bbox" in iou_types
    has_masks = "segm" in iou_types
    results = area_type is not None
    out_images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    ends = np.cumsum(images.count)
    for image_id, (end, n) in enumerate(zip(ends.tolist(), images.count.tolist())):
        rows = range(end - n, end)
        if has_masks and not has_boxes and n == 0:
            continue
        out_images.append({"id": image_id})
        if has_masks and n > 0:
            height, width = images.masks[rows[0]][0]
            out_images[-1]["height"], out_images[-1]["width"] = height, width
        for r in rows:
            box = images.boxes[r].tolist() if has_boxes else None
            rle = None
            if has_masks:
                size, counts = images.masks[r]
                rle = {"size": size, "counts": counts}
            if not results and images.area[r] > 0:
                area = images.area[r].item()
            elif area_type == "bbox" or (area_type is None and not has_masks):
                area = box[2] * box[3]
            else:
                from tinyvision.coco import mask as mask_utils

                area = mask_utils.area(rle)
            ann: dict[str, Any] = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "area": area,
                "category_id": int(images.labels[r]) if average == "macro" else 0,
                "iscrowd": 0 if results else int(images.crowd[r]),
            }
            if has_boxes:
                ann["bbox"] = box
            if has_masks:
                ann["segmentation"] = rle
            if results:
                ann["score"] = images.scores[r].item()
            annotations.append(ann)
    return {
        "images": out_images,
        "annotations": annotations,
        "categories": [{"id": c, "name": str(c)} for c in categories],
    }


# ----- distributed -----------------------------------------------------------------------
def _gather(local: _Images, group: Any) -> _Images:
    """Every rank's images in rank order: the column lengths first, then each column
    padded to the longest rank's (a column empty on every rank is not sent)."""
    names = ("count", "boxes", "labels", "scores", "crowd", "area")
    columns = {name: np.ascontiguousarray(getattr(local, name)).reshape(-1) for name in names}
    header = np.array([columns[name].shape[0] for name in names], dtype=np.int64)
    headers = _all_gather_rows(header, group)
    out = {}
    for j, name in enumerate(names):
        sizes = [int(h[j]) for h in headers]
        values = columns[name]
        out[name] = values if max(sizes) == 0 else _all_gather_varlen(values, sizes, group)
    masks: list[Any] = [None] * len(headers)
    dist.all_gather_object(masks, local.masks, group=group)
    out["boxes"] = out["boxes"].reshape(-1, 4)
    return _Images(**out, masks=[m for part in masks for m in part])


def _squeeze_scalars(value: Any) -> Any:
    """torchmetrics' ``compute`` wrapper: one-element tensors become 0-d, also nested."""
    if isinstance(value, torch.Tensor):
        return value.squeeze() if value.numel() == 1 else value
    if isinstance(value, dict):
        return {k: _squeeze_scalars(v) for k, v in value.items()}
    return value
