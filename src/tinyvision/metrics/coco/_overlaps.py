"""The ``given`` IoUs of a ``segm`` or ``keypoints`` evaluation (see :mod:`._iou`): the
fields of the evaluated rows checked and converted, then mask IoU or OKS per group."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinyvision.metrics import _rle
from tinyvision.metrics.coco import _iou, _segm
from tinyvision.metrics.coco.params import EvaluationParams
from tinyvision.structures import DetectionDataset, Detections


def _gt_name(gt: DetectionDataset, rows: np.ndarray) -> Callable[[int], str]:
    source = gt.source or "ground truth"

    def name(i: int) -> str:
        row = int(rows[i])
        return f"{source}: annotations[{row}] (id {int(gt.annotation_id[row])})"

    return name


def _dt_name(dt: Detections, rows: np.ndarray) -> Callable[[int], str]:
    source = dt.source or "detections"
    return lambda i: f"{source}: results[{int(rows[i])}]"


def _field(
    values: tuple | np.ndarray | None, rows: np.ndarray, what: str, where: str, field: str
) -> list | np.ndarray:
    if values is None:
        if rows.size == 0:
            return []
        raise ValueError(f"{where}: the {what} have no {field!r} (needed by this iou_type)")
    if isinstance(values, np.ndarray):  # a table of keypoints, read as one
        return values[rows]
    return [values[i] for i in rows]


def _image_sizes(gt: DetectionDataset, image_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's image (height, width), 0 where unknown."""
    order = np.argsort(gt.image_ids, kind="stable")
    pos = order[np.searchsorted(gt.image_ids[order], image_id)]
    sizes = gt.image_sizes[pos] if gt.image_sizes.shape[0] else np.zeros((pos.shape[0], 2))
    return sizes[:, 1].astype(np.int64), sizes[:, 0].astype(np.int64)


def without_keypoints(gt: DetectionDataset, rows: np.ndarray) -> np.ndarray:
    """bool[G]: the ground truths whose ``num_keypoints`` is 0."""
    where = gt.source or "ground truth"
    values = _field(gt.num_keypoints, rows, "annotations", where, "num_keypoints")
    return _segm.num_keypoints(values, _gt_name(gt, rows)) == 0


def overlaps(
    params: EvaluationParams,
    gt: DetectionDataset,
    g_rows: np.ndarray,
    g_key: np.ndarray,
    g_crowd: np.ndarray,
    dt: Detections,
    d_rows: np.ndarray,
    d_key: np.ndarray,
) -> np.ndarray:
    """The flat per-group IoUs of ``match_groups``' ``given`` for the evaluated rows."""
    pairs = _iou.group_pairs(g_key, d_key)
    gw, dw = gt.source or "ground truth", dt.source or "detections"
    if params.iou_type == "segm":
        gh, gwid = _image_sizes(gt, gt.image_id[g_rows])
        dh, dwid = _image_sizes(gt, dt.image_id[d_rows])
        gsegs = _field(gt.segmentation, g_rows, "annotations", gw, "segmentation")
        gc, go, g_h, g_w = _segm.to_rles(gsegs, gh, gwid, _gt_name(gt, g_rows))
        if dt.rles is not None:  # decoded by the reader already
            dc, do = _iou.gather_rles(dt.rles[0], dt.rles[1], d_rows)
            d_h, d_w = dt.rles[2][d_rows], dt.rles[3][d_rows]
            _segm.check_sizes(d_h, d_w, dh, dwid, _dt_name(dt, d_rows))
        else:
            dsegs = _field(dt.segmentation, d_rows, "results", dw, "segmentation")
            dc, do, d_h, d_w = _segm.to_rles(dsegs, dh, dwid, _dt_name(dt, d_rows))
        return _iou.mask_ious(
            pairs,
            gc,
            go,
            _rle.to_bbox(gc, go, g_h, g_w),
            g_crowd.astype(np.uint8),
            dc,
            do,
            _rle.to_bbox(dc, do, d_h, d_w),
        )
    k = params.kpt_oks_sigmas.shape[0]
    gkp = _segm.to_keypoints(
        _field(gt.keypoints, g_rows, "annotations", gw, "keypoints"), k, _gt_name(gt, g_rows)
    )
    dkp = _segm.to_keypoints(
        _field(dt.keypoints, d_rows, "results", dw, "keypoints"), k, _dt_name(dt, d_rows)
    )
    if params.mode == "coco" and not params.use_cats:
        # pycocotools' computeOks reads the (image, -1) groups, which are empty: with
        # useCats=0 no detection matches (every OKS below any threshold).
        n = int(np.sum((pairs[:, 1] - pairs[:, 0]) * (pairs[:, 3] - pairs[:, 2])))
        return np.full(n, -1.0)
    return _iou.oks(pairs, gkp, gt.bbox[g_rows], gt.area[g_rows], dkp, params.kpt_oks_sigmas)
