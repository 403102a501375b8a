"""torchmetrics' ``MeanAveragePrecision`` (pycocotools backend) as a live reference.

torchmetrics asks for torchvision only for ``torchvision.ops.box_convert``; torchvision is
not installed beside the test suite, so a stand-in module provides that one function,
written here as torchvision computes it (through ``xyxy``, in the boxes' dtype).
"""

from __future__ import annotations

import sys
import types
from typing import Any

import torch


def _torchvision_box_convert(boxes: torch.Tensor, in_fmt: str, out_fmt: str) -> torch.Tensor:
    if in_fmt == out_fmt:
        return boxes.clone()
    if in_fmt != "xyxy" and out_fmt != "xyxy":
        if in_fmt == "xywh":
            x, y, w, h = boxes.unbind(-1)
            boxes = torch.stack([x, y, x + w, y + h], dim=-1)
        else:  # cxcywh
            cx, cy, w, h = boxes.unbind(-1)
            boxes = torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)
        in_fmt = "xyxy"
    x1, y1, x2, y2 = boxes.unbind(-1)
    if out_fmt == "xywh":
        return torch.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


def reference_map_class() -> Any:
    """torchmetrics' class, usable without torchvision."""
    import torchmetrics.detection.mean_ap as mean_ap  # before the stand-in exists

    if "torchvision" not in sys.modules:
        ops = types.ModuleType("torchvision.ops")
        ops.box_convert = _torchvision_box_convert  # type: ignore[attr-defined]
        package = types.ModuleType("torchvision")
        package.ops = ops  # type: ignore[attr-defined]
        sys.modules["torchvision"] = package
        sys.modules["torchvision.ops"] = ops
    mean_ap._TORCHVISION_AVAILABLE = True
    return mean_ap.MeanAveragePrecision


def random_batches(
    n_batches: int, per_batch: int, *, n_classes: int = 4, masks: bool = False, seed: int = 0
) -> list[tuple[list[dict[str, torch.Tensor]], list[dict[str, torch.Tensor]]]]:
    """Detections near the ground truths (some of another class, some far off), 0.05-step
    scores (ties), crowd objects, images without objects or without detections."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        preds, target = [], []
        for _ in range(per_batch):
            ng = int(torch.randint(0, 6, (1,), generator=g))
            nd = int(torch.randint(0, 9, (1,), generator=g))
            xy = torch.rand(ng, 2, generator=g) * 90
            gb = torch.cat([xy, xy + torch.rand(ng, 2, generator=g) * 60 + 2], 1)
            gl = torch.randint(0, n_classes, (ng,), generator=g)
            if ng:
                pick = torch.randint(0, ng, (nd,), generator=g)
                db = gb[pick] + torch.randn(nd, 4, generator=g) * 3
                other = torch.randint(0, n_classes, (nd,), generator=g)
                dl = torch.where(torch.rand(nd, generator=g) < 0.8, gl[pick], other)
            else:
                xy = torch.rand(nd, 2, generator=g) * 90
                db = torch.cat([xy, xy + 20], 1)
                dl = torch.randint(0, n_classes, (nd,), generator=g)
            db = torch.cat([db[:, :2], torch.maximum(db[:, 2:], db[:, :2] + 1)], 1)
            scores = torch.round(torch.rand(nd, generator=g) * 20) / 20
            p = {"boxes": db, "scores": scores, "labels": dl}
            t = {"boxes": gb, "labels": gl, "iscrowd": (torch.rand(ng, generator=g) < 0.1).int()}
            if masks:
                p["masks"] = _box_masks(db, g)
                t["masks"] = _box_masks(gb, g)
            preds.append(p)
            target.append(t)
        out.append((preds, target))
    return out


def _box_masks(boxes: torch.Tensor, g: torch.Generator, size: int = 160) -> torch.Tensor:
    """bool[N, size, size]: each box filled, minus a random notch (so masks are not boxes)."""
    out = torch.zeros(boxes.shape[0], size, size, dtype=torch.bool)
    for i, (x1, y1, x2, y2) in enumerate(boxes.clamp(0, size - 1).round().int().tolist()):
        out[i, y1 : y2 + 1, x1 : x2 + 1] = True
        cut = int(torch.randint(0, max(x2 - x1, 1), (1,), generator=g))
        out[i, y1 : y1 + (y2 - y1) // 2, x1 : x1 + cut] = False
    return out
