"""Boxes drawn on images: one coloured, labelled rectangle per object, and a grid of a
training batch with its targets (``train_batch0.jpg``).

Every function returns a new array and never changes its input. Images are ``[H, W, 3]``
``uint8`` RGB arrays (as :func:`tinyvision.data.images.read_image` gives); boxes are
``[N, 4]`` ``(x1, y1, x2, y2)`` pixels.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from tinyvision._fileio import atomic_write_bytes, remove_stale_temps
from tinyvision._validate import check_array

__all__ = ["batch_grid", "class_colour", "draw_boxes", "write_batch_jpg", "write_image"]


def class_colour(cls: int) -> tuple[int, int, int]:
    """A saturated RGB colour for class ``cls`` (the same class, the same colour)."""
    import cv2

    hue = (int(cls) * 47) % 180
    pixel = np.array([[[hue, 220, 255]]], dtype=np.uint8)
    r, g, b = cv2.cvtColor(pixel, cv2.COLOR_HSV2RGB)[0, 0].tolist()
    return int(r), int(g), int(b)


def _check_image(image: object, name: str = "image") -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy array [H, W, 3] uint8, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"{name} must be a [H, W, 3] uint8 array, got shape {tuple(image.shape)} "
            f"dtype {image.dtype}"
        )
    return image


def draw_boxes(
    image: np.ndarray,
    boxes: object,
    classes: object,
    names: Sequence[str],
    scores: object | None = None,
    *,
    line_width: int | None = None,
    labels: bool = True,
) -> np.ndarray:
    """A copy of ``image`` with each box drawn in its class's colour and labelled with the
    class name (when ``labels``) and score (when ``scores`` is given).

    Args:
        image: ``[H, W, 3]`` uint8 RGB.
        boxes: ``[N, 4]`` ``(x1, y1, x2, y2)`` pixels (numpy or torch).
        classes: ``[N]`` class indices into ``names``.
        names: class names.
        scores: ``[N]`` confidences, or None.
        line_width: pixels; default grows with the image (1 up to 400 px).
    """
    import cv2

    canvas = np.ascontiguousarray(_check_image(image)).copy()
    box_array = check_array(
        boxes, "boxes", shape=(None, 4), kinds="biuf", dtype=np.float64, any_empty=True
    )
    if box_array.shape[0] == 0:
        return canvas
    cls_array = check_array(classes, "classes", kinds="biuf", dtype=np.int64).reshape(-1)
    if len(cls_array) != len(box_array):
        raise ValueError(
            f"classes must have one entry per box ({len(box_array)}), got {len(cls_array)}"
        )
    score_array = None
    if scores is not None:
        score_array = check_array(
            scores, "scores", kinds="biuf", finite=False, dtype=np.float64
        ).reshape(-1)
        if len(score_array) != len(box_array):
            raise ValueError(
                f"scores must have one entry per box ({len(box_array)}), got {len(score_array)}"
            )
    bad = (cls_array < 0) | (cls_array >= len(names))
    if bad.any():
        raise ValueError(
            f"classes must be in [0, {len(names)}) (names has {len(names)}), "
            f"got {int(cls_array[bad][0])}"
        )
    width = line_width or max(1, round(max(canvas.shape[:2]) / 400))
    limit = 1e6  # far outside any image, inside OpenCV's int range
    for (x1, y1, x2, y2), i in zip(
        np.clip(box_array, -limit, limit).tolist(), range(len(box_array))
    ):
        cls = int(cls_array[i])
        colour = class_colour(cls)
        top_left, bottom_right = (round(x1), round(y1)), (round(x2) - 1, round(y2) - 1)
        cv2.rectangle(canvas, top_left, bottom_right, colour, width)
        words = [names[cls]] if labels else []
        if score_array is not None:
            words.append(f"{score_array[i]:.2f}")
        if not words:
            continue
        cv2.putText(
            canvas,
            " ".join(words),
            (top_left[0], max(top_left[1] - 2, 8)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.3 * width,
            colour,
            1,
            cv2.LINE_AA,
        )
    return canvas


def batch_grid(
    images: torch.Tensor,
    targets: torch.Tensor,
    names: Sequence[str],
    *,
    max_images: int = 16,
    normalised: bool | None = None,
) -> np.ndarray:
    """A square grid of the first ``max_images`` images of a training batch with their
    target boxes drawn (YOLOv5's ``train_batch0.jpg``).

    Args:
        images: ``[B, 3, H, W]`` float in [0, 1] (or uint8), RGB.
        targets: ``[M, 6]`` rows ``(image index, class, cx, cy, w, h)``, box in pixels of the
            batch images (normalised ``[0, 1]`` coordinates are accepted too: detected when
            every value is <= 1, unless ``normalised`` says which).
        names: class names.
        normalised: True: the boxes are fractions of the image; False: pixels; None: guess.
    Returns:
        ``[rows * H, cols * W, 3]`` uint8 RGB.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a [B, 3, H, W] tensor, got {shape}")
    if not isinstance(targets, torch.Tensor) or targets.ndim != 2 or targets.shape[1] != 6:
        shape = (
            tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
        )
        raise ValueError(f"targets must be an [M, 6] tensor, got {shape}")
    if max_images < 1:
        raise ValueError(f"max_images must be >= 1, got {max_images}")
    count = min(len(images), max_images)
    if count == 0:
        raise ValueError("images must hold at least one image, got an empty batch")
    height, width = images.shape[2:]
    cols = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / cols))
    pixels = images[:count].detach().cpu()
    if pixels.dtype != torch.uint8:
        pixels = (pixels.float().clamp(0, 1) * 255).round().to(torch.uint8)
    grid = np.full((rows * height, cols * width, 3), 114, dtype=np.uint8)
    rows_t = targets.detach().cpu().double()
    if normalised is None:
        normalised = bool(len(rows_t)) and bool((rows_t[:, 2:] <= 1.0).all())
    for index in range(count):
        image = pixels[index].permute(1, 2, 0).numpy()
        own = rows_t[rows_t[:, 0] == index]
        cx, cy, w, h = own[:, 2], own[:, 3], own[:, 4], own[:, 5]
        if normalised:
            cx, w = cx * width, w * width
            cy, h = cy * height, h * height
        boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1)
        drawn = draw_boxes(image, boxes.numpy(), own[:, 1].long().numpy(), names)
        r, c = divmod(index, cols)
        grid[r * height : (r + 1) * height, c * width : (c + 1) * width] = drawn
    return grid


def write_batch_jpg(
    path: str | os.PathLike[str],
    images: torch.Tensor,
    targets: torch.Tensor,
    names: Sequence[str],
    *,
    max_images: int = 16,
) -> Path:
    """Write :func:`batch_grid` of a training batch (``train_batch0.jpg``), atomically.

    Args:
        images: ``[B, 3, S, S]`` float in [0, 1], the batch as the model gets it.
        targets: ``[M, 6]`` ``(image index, class, cx, cy, w, h)``, box normalised by ``S``.
        names: class names.
    """
    grid = batch_grid(images, targets, names, max_images=max_images, normalised=True)
    target = Path(path)
    remove_stale_temps(target.parent, [target.name])
    return write_image(target, grid)


def write_image(path: str | os.PathLike[str], image: np.ndarray, *, quality: int = 90) -> Path:
    """Write an RGB ``[H, W, 3]`` uint8 image atomically; the format follows the suffix
    (``.jpg``, ``.png``, ...). Returns the path."""
    import cv2

    target = Path(path)
    canvas = cv2.cvtColor(_check_image(image), cv2.COLOR_RGB2BGR)
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, quality] if target.suffix.lower() in {".jpg", ".jpeg"} else []
    )
    try:
        ok, encoded = cv2.imencode(target.suffix or ".png", canvas, params)
    except cv2.error:
        ok = False
    if not ok:
        raise ValueError(f"path: cannot encode an image as {target.suffix!r}, got {target}")
    atomic_write_bytes(target, encoded.tobytes())
    return target
