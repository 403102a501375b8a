"""What a detection evaluation measures: the mode, IoU and recall thresholds, detection
limits and area ranges (pycocotools' ``Params``), with their checks and defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinyvision._validate import as_numpy, check_choice, check_int
from tinyvision.metrics import _detection_kernels as _k

__all__ = ["IOU_TYPES", "MODES", "EvaluationParams"]

MODES = ("coco", "coco-fixed", "voc07", "voc2010")
IOU_TYPES = ("bbox", "segm", "keypoints")

# pycocotools' Params.setKpParams: the 17 COCO person keypoints' sigmas.
COCO_KPT_OKS_SIGMAS = (
    np.array(
        [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]
    )
    / 10.0
)  # fmt: skip

_COCO_AREAS = {
    "all": (0.0**2, 1e5**2),
    "small": (0.0**2, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e5**2),
}
_KPT_AREAS = {k: _COCO_AREAS[k] for k in ("all", "medium", "large")}
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
    iou_type: str = "bbox"  # "bbox", "segm" (mask IoU) or "keypoints" (OKS)
    use_cats: bool = True  # False: pycocotools' useCats=0, one pseudo-category
    kpt_oks_sigmas: np.ndarray = field(default_factory=lambda: COCO_KPT_OKS_SIGMAS.copy())

    def same_as(self, other: EvaluationParams) -> bool:
        return (
            self.mode == other.mode
            and self.iou_type == other.iou_type
            and self.use_cats == other.use_cats
            and np.array_equal(self.kpt_oks_sigmas, other.kpt_oks_sigmas)
            and np.array_equal(self.iou_thresholds, other.iou_thresholds)
            and np.array_equal(self.recall_thresholds, other.recall_thresholds)
            and self.max_dets == other.max_dets
            and np.array_equal(self.area_ranges, other.area_ranges)
            and self.area_labels == other.area_labels
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "iou_type": self.iou_type,
            "use_cats": self.use_cats,
            **(
                {"kpt_oks_sigmas": self.kpt_oks_sigmas.tolist()}
                if self.iou_type == "keypoints"
                else {}
            ),
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
    *,
    iou_type: str = "bbox",
    use_cats: bool = True,
    kpt_oks_sigmas: Any = None,
) -> EvaluationParams:
    check_choice(mode, "mode", MODES)
    check_choice(iou_type, "iou_type", IOU_TYPES)
    if iou_type != "bbox" and mode not in ("coco", "coco-fixed"):
        raise ValueError(
            f"iou_type {iou_type!r} needs mode 'coco' or 'coco-fixed', got mode {mode!r}"
        )
    if not isinstance(use_cats, (bool, np.bool_, int, np.integer)):
        raise TypeError(f"use_cats must be a bool, got {type(use_cats).__name__}")
    if not use_cats and mode not in ("coco", "coco-fixed"):
        raise ValueError(f"use_cats=False needs mode 'coco' or 'coco-fixed', got mode {mode!r}")
    keypoints = iou_type == "keypoints"
    labels, ranges = _area_ranges(mode, area_ranges, keypoints)
    return EvaluationParams(
        mode,
        _iou_thresholds(mode, iou_thresholds),
        _recall_thresholds(mode, recall_thresholds),
        _max_dets(mode, (20,) if keypoints and max_dets is None else max_dets),
        ranges,
        labels,
        iou_type=iou_type,
        use_cats=bool(use_cats),
        kpt_oks_sigmas=_sigmas(kpt_oks_sigmas),
    )


def _sigmas(value: Any) -> np.ndarray:
    if value is None:
        return COCO_KPT_OKS_SIGMAS
    sigmas = as_numpy(value, "kpt_oks_sigmas", ndim=1).astype(np.float64)
    if sigmas.size == 0 or not np.all(np.isfinite(sigmas) & (sigmas > 0)):
        raise ValueError(f"kpt_oks_sigmas must be non-empty, finite and > 0, got {sigmas.tolist()}")
    return sigmas


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


def _area_ranges(
    mode: str, value: Any, keypoints: bool = False
) -> tuple[tuple[str, ...], np.ndarray]:
    if mode in ("voc07", "voc2010"):
        if value is not None:
            raise ValueError(f"area_ranges do not apply to mode {mode!r} (VOC has none)")
        return ("all",), np.array([[0.0, np.inf]])
    if value is None:
        areas = _KPT_AREAS if keypoints else _COCO_AREAS
        labels = tuple(areas)
        return labels, np.array([areas[k] for k in labels], dtype=np.float64)
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


def _rule(mode: str) -> int:
    return {
        "coco": _k.RULE_COCO,
        "coco-fixed": _k.RULE_COCO_FIXED,
        "voc07": _k.RULE_VOC,
        "voc2010": _k.RULE_VOC,
    }[mode]


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
