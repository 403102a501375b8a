"""Checkpoints for the model API tests, made fast: a tiny detector trained for a few
seconds on 64-pixel shapes, a ToyNet trained four epochs on the 4x-upscaled digits."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

from tinyvision.data.formats import read_yolo
from tinyvision.data.loader import AugmentConfig, load_images
from tinyvision.data.shapes import ShapesConfig, make_shapes
from tinyvision.nn.detector import DetectorConfig, TinyDetector
from tinyvision.train.detect import DetectTrainConfig, train_detector

NAMES = ["circle", "square", "triangle", "star"]
T = TypeVar("T")


def train_tiny_detector(root: Path) -> tuple[Path, Path]:
    """``(checkpoint, data.yaml)``: 48 training images of 64 px with 1-3 large objects,
    8 epochs (about 4 s on one core), 16 validation images."""
    config = ShapesConfig(
        train=48, val=16, image_size=64, min_objects=1, max_objects=3, min_size=20, max_size=40
    )
    yaml_path = make_shapes(root / "shapes", config)
    train = load_images(read_yolo(yaml_path, "train"), 64)
    torch.manual_seed(0)
    anchors = ((8, 8, 12, 12, 18, 18), (24, 24, 32, 32, 44, 44))
    model = TinyDetector(DetectorConfig(4, width=4, anchors=anchors, num_heads=2), image_size=64)
    settings = DetectTrainConfig(
        epochs=8,
        batch_size=8,
        img_size=64,
        lr=0.01,
        close_mosaic=0,
        ema_tau=20,
        augment=AugmentConfig(mosaic=0.0, scale=0.2, hsv_s=0.3, hsv_v=0.2),
        workers=0,
    )
    meta = {"data": str(yaml_path), "names": NAMES, "img_size": 64, "seed": 0}
    train_detector(model, train.images, train.labels, settings, out_dir=root / "run", meta=meta)
    return root / "run" / "last.pt", yaml_path


def train_tiny_classifier(root: Path) -> Path:
    """The notes' ToyNet on the digits upscaled 4x (32x32 gray), four epochs; its checkpoint
    holds what ``tinyvision classify train`` stores."""
    from tinyvision.data.digits import load_digits
    from tinyvision.nn.classifier import build_classifier
    from tinyvision.train.classify import train_classifier
    from tinyvision.train.recipes import get_recipe

    recipe = get_recipe("toy", "digits", "tuned")
    train, _ = load_digits()
    train = train.upscale(recipe.upscale)
    kwargs = {"in_channels": 1, "num_classes": 10, "image_size": 32, **recipe.model_kwargs}
    torch.manual_seed(0)
    model = build_classifier("toy", **kwargs)
    meta = {
        "model_name": "toy",
        "model_kwargs": kwargs,
        "data": "digits",
        "recipe": "tuned",
        "classes": list(train.classes),
        "upscale": recipe.upscale,
        "image_shape": list(train.image_shape),
        "seed": 0,
    }
    config = dataclasses.replace(recipe.config, epochs=4)
    train_classifier(model, train, config, out_dir=root / "toy", meta=meta)
    return root / "toy" / "last.pt"


_BUILT: dict[str, Any] = {}  # one training run per test session, whichever module asks first


def with_one_thread(build: Callable[[Path], T], folder: Path) -> T:
    """``build(folder)`` on one CPU thread (the training runs are tiny), once per session:
    later calls get the first call's files (they stay until the session ends)."""
    if build.__name__ not in _BUILT:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            _BUILT[build.__name__] = build(folder)
        finally:
            torch.set_num_threads(threads)
    return _BUILT[build.__name__]
