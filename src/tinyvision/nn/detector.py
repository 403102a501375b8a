"""A tiny YOLO-style detector: C3 backbone with a C3TR at the lowest resolution, a PAN
neck, and an anchor-based head at strides 8 and 16 (or 8, 16 and 32).

The layout is YOLOv5's (v6 "n" scale at ``width=16``), sized by ``width`` (channels of the
first stage; stages double it), ``depth`` (bottlenecks per C3) and ``levels``::

    stem   Conv 3x3 s2              w     /2
    stage  Conv 3x3 s2, C3          2w    /4
    stage  Conv 3x3 s2, C3          4w    /8   -> P3
    stage  Conv 3x3 s2, C3 or C3TR  8w    /16  -> P4 (C3TR when it is the lowest level)
    stage  Conv 3x3 s2, C3TR        16w   /32  -> P5 (levels=3 only)
    neck   top-down (upsample + C3) then bottom-up (Conv s2 + C3)
    head   1x1 conv per level -> A anchors x (4 box + 1 objectness + K classes)

The C3TR runs self-attention over the ``H/s * W/s`` positions of the lowest level. Two
levels suit small inputs: at 128 pixels a stride-32 level is a 4 x 4 grid whose few cells
each get targets of several objects (measured: half the mAP after the same training).

:meth:`TinyDetector.forward` returns the raw head outputs, what the loss takes;
:func:`decode` turns them into boxes: YOLOv5's ``xy = (2 sigmoid - 0.5 + cell) * stride``,
``wh = (2 sigmoid)^2 * anchor``; :func:`postprocess` filters, NMS-es and keeps the top k.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from tinyvision._validate import (
    check_float,
    check_int,
    check_real_dtype,
    check_tensor,
    check_tensor_shape,
    describe,
)
from tinyvision.nn.layers import C3, C3TR, Conv

__all__ = [
    "DEFAULT_ANCHORS",
    "STRIDES",
    "DetectorConfig",
    "TinyDetector",
    "decode",
    "postprocess",
]

STRIDES = (8, 16, 32)
# YOLOv5's default anchors in pixels, (w, h) pairs per level: P3/8, P4/16, P5/32.
DEFAULT_ANCHORS: tuple[tuple[float, ...], ...] = (
    (10, 13, 16, 30, 33, 23),
    (30, 61, 62, 45, 59, 119),
    (116, 90, 156, 198, 373, 326),
)


@dataclass(frozen=True)
class DetectorConfig:
    """Architecture of a :class:`TinyDetector` (stored in checkpoints)."""

    num_classes: int  # K object classes
    width: int = 16  # channels of the stem; the stages have 2x, 4x, 8x (, 16x)
    depth: int = 1  # bottlenecks (transformer layers in the C3TR) per block
    levels: int = 2  # head levels: 2 (strides 8, 16) or 3 (8, 16, 32)
    num_heads: int = 4  # attention heads of the C3TR
    in_channels: int = 3  # image channels
    # pixels, (w, h) pairs per level; default: YOLOv5's first ``levels`` levels
    anchors: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        check_int(self.num_classes, "num_classes", minimum=1)
        check_int(self.width, "width", minimum=1)
        check_int(self.depth, "depth", minimum=1)
        check_int(self.levels, "levels", minimum=2, maximum=3)
        check_int(self.num_heads, "num_heads", minimum=1)
        check_int(self.in_channels, "in_channels", minimum=1)
        attention = self.width * (4 if self.levels == 2 else 8)  # the C3TR's channels
        if attention % self.num_heads:
            raise ValueError(
                f"the transformer's {attention} channels (width {self.width}) must be "
                f"divisible by num_heads ({self.num_heads})"
            )
        given = DEFAULT_ANCHORS[: self.levels] if self.anchors is None else self.anchors
        anchors = tuple(tuple(float(v) for v in level) for level in given)
        if len(anchors) != self.levels:
            raise ValueError(
                f"anchors must list {self.levels} levels, got {len(anchors)}: {given!r}"
            )
        counts = {len(level) for level in anchors}
        if len(counts) != 1 or counts.pop() % 2 or not anchors[0]:
            raise ValueError(
                "anchors must hold the same even number of values (w, h pairs) per level, "
                f"got {given!r}"
            )
        if not all(math.isfinite(v) and v > 0 for level in anchors for v in level):
            raise ValueError(f"anchors must be positive, got {given!r}")
        object.__setattr__(self, "anchors", anchors)

    @property
    def num_anchors(self) -> int:
        """Anchors per level."""
        assert self.anchors is not None
        return len(self.anchors[0]) // 2

    @property
    def strides(self) -> tuple[int, ...]:
        return STRIDES[: self.levels]

    def to_dict(self) -> dict[str, Any]:
        assert self.anchors is not None
        return {**asdict(self), "anchors": [list(a) for a in self.anchors]}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DetectorConfig:
        values = dict(values)
        if values.get("anchors") is not None:
            values["anchors"] = tuple(tuple(a) for a in values["anchors"])
        return cls(**values)


class Detect(nn.Module):
    """The head: one 1x1 convolution per level, ``(B, c_i, H_i, W_i) -> (B, A, H_i, W_i, 5 + K)``.

    ``anchors`` (a buffer, saved with the weights) is ``[L, A, 2]`` in pixels.
    """

    def __init__(
        self, num_classes: int, anchors: Tensor, channels: Sequence[int], strides: Sequence[int]
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.no = num_classes + 5
        self.na = anchors.shape[1]
        self.register_buffer("anchors", anchors.clone().float())
        self.register_buffer("strides", torch.tensor(strides, dtype=torch.float32))
        self.m = nn.ModuleList(nn.Conv2d(c, self.no * self.na, 1) for c in channels)

    def forward(self, features: Sequence[Tensor]) -> list[Tensor]:
        outputs = []
        for conv, x in zip(self.m, features):
            b, _, h, w = x.shape
            y = conv(x).view(b, self.na, self.no, h, w).permute(0, 1, 3, 4, 2)
            outputs.append(y.contiguous())  # (B, A, H, W, 5 + K)
        return outputs

    def initialize_biases(self, image_size: int, objects_per_image: float = 4.0) -> None:
        """YOLOv5's prior: objectness so that about ``objects_per_image`` cells fire over a
        whole image, class probabilities about 0.6 / (K - 0.99)."""
        for conv, stride in zip(self.m, self.strides.tolist()):
            bias = conv.bias.detach().view(self.na, self.no)
            cells = (image_size / stride) ** 2
            bias[:, 4] += math.log(objects_per_image / cells)
            bias[:, 5:] += math.log(0.6 / (self.num_classes - 0.99 + 1e-9))
            conv.bias = nn.Parameter(bias.reshape(-1))


class TinyDetector(nn.Module):
    """The tiny YOLO-style detector (see the module docstring).

    ``forward``: ``(B, C, H, W)`` float images in [0, 1], ``H`` and ``W`` multiples of the
    largest stride -> a list of ``levels`` raw outputs ``(B, A, H / s, W / s, 5 + K)``
    (another shape or an integer dtype is a ``ValueError``/``TypeError``).
    ``image_size`` only sets the objectness prior of the head's biases.
    """

    def __init__(self, config: DetectorConfig, *, image_size: int = 640) -> None:
        super().__init__()
        if not isinstance(config, DetectorConfig):
            raise TypeError(f"config must be a DetectorConfig, got {describe(config)}")
        self.config = config
        w, n, c_in, heads = config.width, config.depth, config.in_channels, config.num_heads
        c1, c2, c3, c4, c5 = w, 2 * w, 4 * w, 8 * w, 16 * w
        self.levels = config.levels
        self.stem = Conv(c_in, c1, 3, 2)  # /2
        self.stage2 = nn.Sequential(Conv(c1, c2, 3, 2), C3(c2, c2, n))  # /4
        self.stage3 = nn.Sequential(Conv(c2, c3, 3, 2), C3(c3, c3, n))  # /8  P3
        lowest4 = self.levels == 2
        block4 = C3TR(c4, c4, n, num_heads=heads) if lowest4 else C3(c4, c4, n)
        self.stage4 = nn.Sequential(Conv(c3, c4, 3, 2), block4)  # /16 P4
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        if not lowest4:
            self.stage5 = nn.Sequential(Conv(c4, c5, 3, 2), C3TR(c5, c5, n, num_heads=heads))
            self.lateral5 = Conv(c5, c4, 1, 1)
            self.top_down4 = C3(2 * c4, c4, n, shortcut=False)
            self.down4 = Conv(c4, c4, 3, 2)
            self.bottom_up5 = C3(2 * c4, c5, n, shortcut=False)  # out P5
        self.lateral4 = Conv(c4, c3, 1, 1)
        self.top_down3 = C3(2 * c3, c3, n, shortcut=False)  # out P3
        self.down3 = Conv(c3, c3, 3, 2)
        self.bottom_up4 = C3(2 * c3, c4, n, shortcut=False)  # out P4
        assert config.anchors is not None
        anchors = torch.tensor(config.anchors, dtype=torch.float32).view(self.levels, -1, 2)
        channels = (c3, c4, c5)[: self.levels]
        self.detect = Detect(config.num_classes, anchors, channels, config.strides)
        self.detect.initialize_biases(image_size)

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def strides(self) -> tuple[int, ...]:
        return self.config.strides

    def forward(self, x: Tensor) -> list[Tensor]:
        _check_images(x, self.config.in_channels, max(self.strides))
        p3 = self.stage3(self.stage2(self.stem(x)))
        p4 = self.stage4(p3)
        if self.levels == 2:
            h4 = self.lateral4(p4)  # (B, 4w, H/16, W/16)
        else:
            h5 = self.lateral5(self.stage5(p4))  # (B, 8w, H/32, W/32)
            h4 = self.lateral4(self.top_down4(torch.cat((self.up(h5), p4), dim=1)))
        out3 = self.top_down3(torch.cat((self.up(h4), p3), dim=1))
        out4 = self.bottom_up4(torch.cat((self.down3(out3), h4), dim=1))
        if self.levels == 2:
            return self.detect((out3, out4))
        out5 = self.bottom_up5(torch.cat((self.down4(out4), h5), dim=1))
        return self.detect((out3, out4, out5))

    def anchor_tensor(self) -> Tensor:
        """``[L, A, 2]`` anchors in pixels."""
        return self.detect.anchors

    def set_anchors(self, anchors: Tensor) -> None:
        """Replace the anchors (``[L * A, 2]`` or ``[L, A, 2]`` pixels, sorted small to large)."""
        new = torch.as_tensor(anchors, dtype=torch.float32).reshape(self.detect.anchors.shape)
        self.detect.anchors.copy_(new.to(self.detect.anchors.device))
        values = tuple(tuple(level.reshape(-1).tolist()) for level in new)
        self.config = DetectorConfig(**{**asdict(self.config), "anchors": values})


def _check_images(x: object, channels: int, multiple: int) -> None:
    """Shape and dtype of a batch for :meth:`TinyDetector.forward` (no data is read)."""
    check_tensor_shape(x, "x", ("B", channels, "H", "W"))
    if not x.is_floating_point():
        raise TypeError(
            f"x must have a floating point dtype (images scaled to [0, 1]), got {describe(x)}"
        )
    if x.shape[2] % multiple or x.shape[3] % multiple:
        raise ValueError(
            f"x must have a height and width that are multiples of {multiple} (the largest "
            f"stride), got {describe(x)}"
        )


_GRIDS: dict[tuple[int, int, str], Tensor] = {}


def _grid(h: int, w: int, device: torch.device) -> Tensor:
    """``(1, 1, H, W, 2)`` cell coordinates ``(x, y)``."""
    key = (h, w, str(device))
    if key not in _GRIDS:
        ys, xs = torch.meshgrid(
            torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij"
        )
        _GRIDS[key] = torch.stack((xs, ys), dim=-1).view(1, 1, h, w, 2).float()
    return _GRIDS[key]


def check_head_outputs(outputs: object, anchors: object, strides: object) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``outputs`` are per level
    ``(B, A, H_i, W_i, 5 + K)`` floating point tensors (the same ``B`` and ``K`` on every
    level), ``anchors`` a ``Tensor[L, A, 2]`` and ``strides`` lists at least ``L`` strides.
    Shapes and dtypes only: no values are read (no device synchronisation)."""
    if isinstance(outputs, Tensor) or not isinstance(outputs, Sequence) or not outputs:
        raise TypeError(
            "outputs must be a non-empty list of per-level Tensors (B, A, H, W, 5 + K), got "
            f"{describe(outputs)}"
        )
    check_tensor(anchors, "anchors")
    if anchors.ndim != 3 or anchors.shape[2] != 2 or anchors.shape[0] != len(outputs):
        raise ValueError(
            f"anchors must be a Tensor of shape [L, A, 2] with one level per output "
            f"(L = {len(outputs)}), got {describe(anchors)}"
        )
    if isinstance(strides, (str, bytes)) or not isinstance(strides, Sequence):
        raise TypeError(f"strides must be a sequence of numbers, got {describe(strides)}")
    if len(strides) < len(outputs):
        raise ValueError(
            f"strides must give one stride per level ({len(outputs)}), got {list(strides)}"
        )
    first = None
    for i, y in enumerate(outputs):
        name = f"outputs[{i}]"
        layout = f"with A = {anchors.shape[1]} anchors and K >= 1"
        check_tensor_shape(y, name, ("B", "A", "H", "W", "5 + K"), layout=layout)
        if y.shape[1] != anchors.shape[1] or y.shape[4] < 6:
            raise ValueError(
                f"{name} must be a Tensor of shape [B, A, H, W, 5 + K] {layout}, got {describe(y)}"
            )
        check_real_dtype(y, name, allow_integer=False)
        if first is None:
            first = y
        elif y.shape[0] != first.shape[0] or y.shape[4] != first.shape[4]:
            raise ValueError(
                f"{name} must have the batch size and 5 + K of outputs[0] "
                f"{(first.shape[0], first.shape[4])}, got {describe(y)}"
            )


def decode(outputs: Sequence[Tensor], anchors: Tensor, strides: Sequence[int] = STRIDES) -> Tensor:
    """Boxes and probabilities from raw head outputs.

    Args:
        outputs: per level ``(B, A, H_i, W_i, 5 + K)`` raw outputs.
        anchors (Tensor[L, A, 2]): anchors in pixels.
        strides: the levels' strides.

    Returns:
        Tensor[B, N, 5 + K]: ``(cx, cy, w, h)`` in input pixels, objectness and class
        probabilities, for all ``N = sum A * H_i * W_i`` predictions (float32).
    """
    check_head_outputs(outputs, anchors, strides)
    decoded = []
    for i, (y, stride) in enumerate(zip(outputs, strides)):
        b, a, h, w, no = y.shape
        y = y.float().sigmoid()
        xy = (y[..., 0:2] * 2 - 0.5 + _grid(h, w, y.device)) * stride
        wh = (y[..., 2:4] * 2) ** 2 * anchors[i].view(1, a, 1, 1, 2).to(y.device)
        decoded.append(torch.cat((xy, wh, y[..., 4:]), dim=-1).view(b, -1, no))
    return torch.cat(decoded, dim=1)


def postprocess(
    decoded: Tensor,
    conf_threshold: float = 0.001,
    iou_threshold: float = 0.6,
    max_det: int = 300,
    *,
    multi_label: bool = True,
    max_candidates: int = 30000,
    classes: Sequence[int] | None = None,
    agnostic: bool = False,
) -> list[tuple[Tensor, Tensor, Tensor]]:
    """Confidence filter, class-aware NMS and top-k of decoded predictions (YOLOv5's
    ``non_max_suppression``).

    The confidence of a class is objectness times class probability. With ``multi_label``
    a prediction yields one candidate per class above ``conf_threshold`` (for mAP),
    otherwise only its best class. Candidates are NMS-ed per class
    (:func:`tinyvision.ops.batched_nms`, IoU > ``iou_threshold`` suppresses) and the
    ``max_det`` best kept. ``classes`` keeps only candidates of those class indices;
    ``agnostic`` NMS-es all classes together (a box suppresses any class).

    Args:
        decoded (Tensor[B, N, 5 + K]): from :func:`decode`.

    Returns:
        per image ``(boxes Tensor[D, 4] xyxy pixels, scores Tensor[D], labels Tensor[D]
        int64)``, by decreasing score.
    """
    from tinyvision.ops import batched_nms

    check_tensor(decoded, "decoded")
    if decoded.ndim != 3 or decoded.shape[-1] < 6:
        raise ValueError(
            f"decoded must be a Tensor of shape [B, N, 5 + K], got {describe(decoded)}"
        )
    conf_threshold = check_float(conf_threshold, "conf_threshold", minimum=0.0, maximum=1.0)
    iou_threshold = check_float(iou_threshold, "iou_threshold", minimum=0.0, maximum=1.0)
    max_det = check_int(max_det, "max_det", minimum=1)
    wanted = None if classes is None else torch.as_tensor(list(classes), dtype=torch.long)
    results = []
    for x in decoded:
        x = x[x[:, 4] > conf_threshold]
        scores_all = x[:, 5:] * x[:, 4:5]  # (n, K) confidence per class
        cx, cy, w, h = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
        boxes = torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=1)
        if multi_label:
            rows, labels = (scores_all > conf_threshold).nonzero(as_tuple=True)
            boxes, scores = boxes[rows], scores_all[rows, labels]
        else:
            scores, labels = scores_all.max(dim=1) if x.shape[0] else (x[:, 4], x[:, 4].long())
            keep = scores > conf_threshold
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        if wanted is not None:
            keep = torch.isin(labels, wanted.to(labels.device))
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        if scores.numel() > max_candidates:
            top = scores.topk(max_candidates).indices
            boxes, scores, labels = boxes[top], scores[top], labels[top]
        groups = torch.zeros_like(labels) if agnostic else labels
        kept = batched_nms(boxes, scores, groups, iou_threshold)[:max_det]
        results.append((boxes[kept], scores[kept], labels[kept].long()))
    return results
