"""Image classifiers: the notes' ``ToyNet`` and ``FastNet``, our fast recipe's network.

Both take ``Tensor[B, C, H, W]`` float images and return ``Tensor[B, num_classes]`` logits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from tinyvision._validate import check_float, check_int, describe

__all__ = ["FastNet", "ToyNet", "build_classifier"]


class ToyNet(nn.Module):
    """The notes' LeNet-style CIFAR-10 network, parametrised.

    conv(C->6, 5x5) -> ReLU -> maxpool 2 -> conv(6->16, 5x5) -> ReLU -> maxpool 2 -> flatten
    -> fc(->120) -> ReLU -> fc(120->84) -> ReLU -> fc(84->num_classes).

    With the defaults (3 channels, 32x32, 10 classes, no padding) it is exactly the notes'
    ``Net`` (fc1 has 16*5*5 = 400 inputs). ``padding`` pads both 5x5 convolutions; ``None``
    chooses 0 when ``image_size >= 16`` and 2 ("same" convolutions) for smaller images such
    as the 8x8 digits, which the unpadded network cannot take.

    Args:
        in_channels: image channels C.
        num_classes: number of outputs.
        image_size: side H = W of the square input images.
        padding: padding of the two convolutions (0 or more), or ``None`` for automatic.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        image_size: int = 32,
        padding: int | None = None,
    ) -> None:
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        num_classes = check_int(num_classes, "num_classes", minimum=1)
        image_size = check_int(image_size, "image_size", minimum=1)
        if padding is None:
            padding = 0 if image_size >= 16 else 2
        padding = check_int(padding, "padding", minimum=0)
        side = image_size
        for _ in range(2):  # conv 5x5 then maxpool 2, twice
            side = (side + 2 * padding - 4) // 2
        if side < 1:
            raise ValueError(
                f"image_size must be at least 16 for ToyNet with padding={padding} "
                f"(or use padding=2), got {image_size}"
            )
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=padding)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5, padding=padding)
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (Tensor[B, C, H, W]) -> logits ``Tensor[B, num_classes]``."""
        x = self.pool(self.relu(self.conv1(x)))  # (B, 6, H', W')
        x = self.pool(self.relu(self.conv2(x)))  # (B, 16, s, s)
        x = torch.flatten(x, 1)  # (B, 16*s*s)
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


def _conv_bn(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out, momentum=0.4),  # short runs: running stats must follow quickly
    ]


class ConvBlock(nn.Module):
    """conv 3x3 -> maxpool 2 -> BN -> GELU -> conv 3x3 -> BN -> GELU (airbench's block)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        conv1, bn1 = _conv_bn(c_in, c_out)
        conv2, bn2 = _conv_bn(c_out, c_out)
        self.layers = nn.Sequential(
            conv1, nn.MaxPool2d(2, ceil_mode=True), bn1, nn.GELU(), conv2, bn2, nn.GELU()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)  # (B, c_out, ceil(H/2), ceil(W/2))


class FastNet(nn.Module):
    """Our fast recipe's network: a stem and a few wide conv blocks with batch norm.

    stem conv 3x3 (C->stem_width) -> BN -> GELU, then one :class:`ConvBlock` per entry of
    ``widths`` (each halves the resolution), a global max pool, and a linear head whose
    logits are multiplied by ``logit_scale`` (a fixed temperature, as in airbench).
    The network takes any image size (>= 1 pixel).

    Args:
        in_channels: image channels C.
        num_classes: number of outputs.
        widths: output channels of the conv blocks, e.g. ``(64, 256, 256)`` for CIFAR-10.
        stem_width: channels of the stem convolution.
        logit_scale: multiplies the logits.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        widths: Sequence[int] = (64, 256, 256),
        stem_width: int = 32,
        logit_scale: float = 1 / 9,
    ) -> None:
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        num_classes = check_int(num_classes, "num_classes", minimum=1)
        stem_width = check_int(stem_width, "stem_width", minimum=1)
        if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or not widths:
            raise ValueError(f"widths must be a non-empty sequence of ints, got {describe(widths)}")
        widths = [check_int(w, "widths[i]", minimum=1) for w in widths]
        stem_conv, stem_bn = _conv_bn(in_channels, stem_width)
        blocks: list[nn.Module] = [stem_conv, stem_bn, nn.GELU()]
        c_in = stem_width
        for width in widths:
            blocks.append(ConvBlock(c_in, width))
            c_in = width
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(c_in, num_classes, bias=False)
        logit_scale = check_float(logit_scale, "logit_scale", minimum=0.0, min_inclusive=False)
        if math.isinf(logit_scale):
            raise ValueError(f"logit_scale must be finite, got {logit_scale}")
        self.logit_scale = logit_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (Tensor[B, C, H, W]) -> logits ``Tensor[B, num_classes]``."""
        x = self.features(x)  # (B, widths[-1], h, w)
        x = torch.amax(x, dim=(2, 3))  # global max pool -> (B, widths[-1])
        return self.head(x) * self.logit_scale


_MODELS: dict[str, type[nn.Module]] = {"toy": ToyNet, "fast": FastNet}


def build_classifier(name: str, **kwargs: Any) -> nn.Module:
    """Build a classifier by name (``"toy"`` or ``"fast"``) with its keyword arguments."""
    if name not in _MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, _MODELS))}, got {name!r}")
    return _MODELS[name](**kwargs)
