"""Whole-batch image transforms on the device: normalisation, flips and translations.

They work on a whole ``Tensor[N, C, H, W]`` at once (the training set of an epoch, say)
with no per-sample Python, wherever the tensor lives. Random choices are drawn on the CPU
from a seeded ``torch.Generator`` and moved to the images' device, so the same seed gives
the same augmentation on any device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from tinyvision._validate import check_choice, check_float, check_int, check_tensor, describe

__all__ = ["channel_stats", "normalize", "random_flip", "random_translate"]


def _check_images(images: object) -> torch.Tensor:
    check_tensor(images, "images")
    if images.ndim != 4 or not images.dtype.is_floating_point:
        raise ValueError(f"images must be a float Tensor[N, C, H, W], got {describe(images)}")
    return images


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and (population) standard deviation of ``Tensor[N, C, H, W]``.

    Returns two lists of C floats, computed in float64.
    """
    images = _check_images(images)
    x = images.transpose(0, 1).reshape(images.shape[1], -1).to(torch.float64)  # (C, N*H*W)
    if x.shape[1] == 0:
        raise ValueError("images must hold at least one pixel to compute statistics")
    return x.mean(dim=1).tolist(), x.std(dim=1, correction=0).tolist()


def normalize(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``(images - mean) / std`` per channel; ``images`` is ``Tensor[N, C, H, W]`` float.

    The notes use ``mean = std = (0.5, 0.5, 0.5)``, mapping [0, 1] to [-1, 1].
    """
    images = _check_images(images)
    c = images.shape[1]
    mean = _channel_values(mean, "mean", c)
    std = _channel_values(std, "std", c)
    if any(s <= 0 for s in std):
        raise ValueError(f"std must be positive, got {list(std)}")
    m = torch.tensor(mean, dtype=images.dtype, device=images.device).view(1, c, 1, 1)
    s = torch.tensor(std, dtype=images.dtype, device=images.device).view(1, c, 1, 1)
    return (images - m) / s


def _channel_values(values: object, name: str, c: int) -> list[float]:
    """``values`` (a sequence, 1-D array or tensor of C finite reals) as a list of floats."""
    if isinstance(values, (torch.Tensor, np.ndarray)):
        if values.ndim != 1:
            raise ValueError(
                f"{name} must hold one value per channel ({c}), got {describe(values)}"
            )
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(
            f"{name} must be a sequence of {c} numbers (one per channel), got {describe(values)}"
        )
    if len(values) != c:
        raise ValueError(
            f"{name} must have one value per channel ({c}), got {len(values)}: {list(values)}"
        )
    out = [check_float(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"{name} must be finite, got {out}")
    return out


def random_flip(images: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Flip each image left-right with probability 1/2; returns a new ``Tensor[N, C, H, W]``."""
    images = _check_images(images)
    flip = torch.rand(images.shape[0], generator=generator) < 0.5  # drawn on the CPU
    flip = flip.to(images.device).view(-1, 1, 1, 1)
    return torch.where(flip, images.flip(-1), images)


def random_translate(
    images: torch.Tensor,
    max_shift: int,
    *,
    padding_mode: str = "zeros",
    fill: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Shift each image by a random ``(dy, dx)`` in ``[-max_shift, max_shift]^2``.

    Equivalent to padding each side by ``max_shift`` and taking a random crop of the
    original size. ``padding_mode`` is ``"zeros"`` (new pixels are ``fill``) or
    ``"reflect"`` (airbench's choice for CIFAR-10; needs ``max_shift < H, W``).

    Args:
        images (Tensor[N, C, H, W]): float images.
        max_shift: largest shift in pixels (0 returns a copy).

    Returns:
        Tensor[N, C, H, W] on the same device.
    """
    images = _check_images(images)
    max_shift = check_int(max_shift, "max_shift", minimum=0)
    check_choice(padding_mode, "padding_mode", ("zeros", "reflect"))
    fill = check_float(fill, "fill")
    if not math.isfinite(fill):
        raise ValueError(f"fill must be finite, got {fill}")
    n, c, h, w = images.shape
    if max_shift == 0 or n == 0:
        return images.clone()
    r = max_shift
    if padding_mode == "reflect":
        if r >= h or r >= w:
            raise ValueError(f"max_shift must be < the image size for reflect padding, got {r}")
        padded = F.pad(images, (r, r, r, r), mode="reflect")
    else:
        padded = F.pad(images, (r, r, r, r), mode="constant", value=fill)
    offsets = torch.randint(0, 2 * r + 1, (2, n), generator=generator).to(images.device)
    rows = offsets[0, :, None] + torch.arange(h, device=images.device)  # (N, H)
    cols = offsets[1, :, None] + torch.arange(w, device=images.device)  # (N, W)
    out = padded.gather(2, rows[:, None, :, None].expand(n, c, h, w + 2 * r))  # (N, C, H, W+2r)
    return out.gather(3, cols[:, None, None, :].expand(n, c, h, w))  # (N, C, H, W)
