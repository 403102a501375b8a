"""Seeded synthetic detector output: clusters of overlapping boxes around objects.

Used by ``tinyvision demo nms``, the NMS tests and the benchmarks; real detectors emit many
jittered candidates per object plus a thin layer of low-scoring background boxes, and that
is what NMS sees. :func:`clustered_detections` draws one such scene.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from tinyvision._validate import check_float, check_instance, check_int

__all__ = ["DetectionScene", "clustered_detections"]


@dataclass(frozen=True)
class DetectionScene:
    """Ground-truth objects and the raw detections around them.

    Attributes:
        objects: ``[K, 4]`` ground-truth ``xyxy`` boxes.
        object_labels: ``[K]`` int64 classes of the objects.
        boxes: ``[N, 4]`` detected ``xyxy`` boxes, clipped to the image.
        scores: ``[N]`` confidences in (0, 1).
        labels: ``[N]`` int64 predicted classes.
        source: ``[N]`` int64 object each detection was drawn around (-1: background).
        image_size: ``(height, width)``.
    """

    objects: Tensor
    object_labels: Tensor
    boxes: Tensor
    scores: Tensor
    labels: Tensor
    source: Tensor
    image_size: tuple[int, int]


def clustered_detections(
    num_objects: int,
    detections_per_object: int,
    *,
    num_classes: int = 1,
    image_size: tuple[int, int] = (480, 640),
    background_fraction: float = 0.1,
    object_size: tuple[float, float] | None = None,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> DetectionScene:
    """Draw a scene: objects of random size and class, each with jittered candidate boxes.

    Candidates scatter their centre by about 10% of the object's size and their width and
    height by about 10% (log-normal); their score decays with the distance from the object.
    ``background_fraction`` adds that many extra low-scoring boxes anywhere in the image.
    Objects measure 5% to 30% of the image's short side, or ``object_size = (low, high)``
    pixels (to grow the image without growing the objects). Same ``seed``, same scene.

    Returns a :class:`DetectionScene` of ``K = num_objects`` objects and
    ``N = K * detections_per_object`` candidates plus ``round(background_fraction * N)``
    background boxes, in ``dtype``.

    Raises ``TypeError``/``ValueError`` naming the argument: counts that are not integers
    ``>= 0`` (``num_classes >= 1``), an ``image_size`` that is not two positive integers, a
    negative or non-finite ``background_fraction``, an ``object_size`` that is not
    ``0 < low <= high`` or a ``dtype`` that is not a floating torch dtype.
    """
    num_objects = check_int(num_objects, "num_objects", minimum=0)
    detections_per_object = check_int(detections_per_object, "detections_per_object", minimum=0)
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    height, width = _image_size(image_size)
    background_fraction = check_float(
        background_fraction, "background_fraction", minimum=0.0, maximum=1e6
    )
    seed = check_int(seed, "seed", minimum=0)
    check_instance(dtype, torch.dtype, "dtype")
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch dtype, got {dtype}")
    rng = np.random.default_rng(seed)
    short = min(height, width)
    low, high = (0.05 * short, 0.3 * short) if object_size is None else _object_size(object_size)
    size = rng.uniform(low, high, (num_objects, 2))  # object (w, h)
    center = rng.uniform(0, 1, (num_objects, 2)) * (width, height)
    objects = np.concatenate([center - size / 2, center + size / 2], axis=1)
    object_labels = rng.integers(0, num_classes, num_objects)
    confidence = rng.uniform(0.5, 0.99, num_objects)

    source = np.repeat(np.arange(num_objects), detections_per_object)
    jitter = rng.normal(0.0, 1.0, (source.size, 2))
    det_center = center[source] + 0.1 * size[source] * jitter
    det_size = size[source] * np.exp(rng.normal(0.0, 0.1, (source.size, 2)))
    distance = np.sqrt((jitter**2).sum(axis=1))
    det_scores = (
        confidence[source] * np.exp(-0.5 * distance**2) * rng.uniform(0.7, 1.0, source.size)
    )
    det_labels = object_labels[source].copy()
    confused = rng.uniform(0, 1, source.size) < 0.03  # a few class confusions
    det_labels[confused] = rng.integers(0, num_classes, int(confused.sum()))

    extra = round(background_fraction * source.size)
    bg_size = rng.uniform(0.6 * low, high * 2 / 3, (extra, 2))
    bg_center = rng.uniform(0, 1, (extra, 2)) * (width, height)
    det_center = np.concatenate([det_center, bg_center])
    det_size = np.concatenate([det_size, bg_size])
    det_scores = np.concatenate([det_scores, rng.uniform(0.01, 0.3, extra)])
    det_labels = np.concatenate([det_labels, rng.integers(0, num_classes, extra)])
    source = np.concatenate([source, np.full(extra, -1)])

    boxes = np.concatenate([det_center - det_size / 2, det_center + det_size / 2], axis=1)
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)
    return DetectionScene(
        objects=torch.as_tensor(objects, dtype=dtype),
        object_labels=torch.as_tensor(object_labels, dtype=torch.int64),
        boxes=torch.as_tensor(boxes, dtype=dtype),
        scores=torch.as_tensor(det_scores.clip(1e-4, 0.9999), dtype=dtype),
        labels=torch.as_tensor(det_labels, dtype=torch.int64),
        source=torch.as_tensor(source, dtype=torch.int64),
        image_size=(int(height), int(width)),
    )


def _image_size(value: object) -> tuple[int, int]:
    """``(height, width)``, two integers >= 1."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"image_size must be (height, width), got {value!r}")
    return (
        check_int(value[0], "image_size[0] (height)", minimum=1),
        check_int(value[1], "image_size[1] (width)", minimum=1),
    )


def _object_size(value: object) -> tuple[float, float]:
    """``(low, high)`` object side lengths in pixels, ``0 < low <= high``, finite."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"object_size must be (low, high) in pixels, got {value!r}")
    low = check_float(value[0], "object_size[0] (low)", minimum=0.0, min_inclusive=False)
    high = check_float(value[1], "object_size[1] (high)", minimum=low, maximum=float("inf"))
    if not np.isfinite(high):
        raise ValueError(f"object_size[1] (high) must be finite, got {high}")
    return low, high
