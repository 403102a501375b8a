"""Detector training on the CPU: data loading against the training step.

For the default ``tinyvision detect train`` settings (shapes, 128 px, batch 32, width 16)
this times, per batch:

- mosaic + random perspective of the batch's samples (the issue's "data loading"),
- the whole batch build (mosaic, perspective, HSV, flip, float tensor) in one thread,
- one training step (forward, loss, backward, AdamW step, EMA) with PyTorch's threads,

and then one epoch of the real loop with the loader's 2 threads building ahead, reporting
how long the step waited for batches. Run from the repository root:

    .venv/bin/python benchmarks/detect_train.py            # the default run's settings
    .venv/bin/python benchmarks/detect_train.py --quick    # fewer batches

The machine is shared: the load average is printed with the numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tinyvision.data.augment import mosaic, random_perspective
from tinyvision.data.formats import read_yolo
from tinyvision.data.loader import DetectionLoader, load_images
from tinyvision.data.shapes import ShapesConfig, make_shapes
from tinyvision.nn.detector import DetectorConfig, TinyDetector
from tinyvision.train.detect import DetectTrainConfig, _optimizer, train_detector
from tinyvision.train.detect_loss import yolo_loss
from tinyvision.train.ema import ModelEMA


def mosaic_perspective_seconds(loader: DetectionLoader, batches: int) -> list[float]:
    """Seconds per batch for the mosaic + perspective of each sample (one thread)."""
    size, cfg = loader.size, loader.config
    times = []
    for step in range(batches):
        rng = np.random.default_rng([0, step])
        start = time.perf_counter()
        for _ in range(loader.batch_size):
            picks = rng.integers(0, len(loader.images), size=4).tolist()
            canvas, boxes = mosaic(
                [loader.images[k] for k in picks], [loader.labels[k] for k in picks], size, seed=rng
            )
            random_perspective(
                canvas, boxes, cfg.degrees, cfg.translate, cfg.scale, cfg.shear,
                cfg.perspective, border=(-size // 2, -size // 2), seed=rng,
            )  # fmt: skip
        times.append(time.perf_counter() - start)
    return times


def step_seconds(config: DetectTrainConfig, loader: DetectionLoader, steps: int) -> list[float]:
    """Seconds per training step on pre-built batches."""
    torch.manual_seed(0)
    model = TinyDetector(DetectorConfig(4, width=16), image_size=config.img_size)
    optimizer = _optimizer(model, config)
    ema = ModelEMA(model)
    batches = [loader.build(0, s) for s in range(steps + 1)]
    times = []
    for batch in batches:
        start = time.perf_counter()
        outputs = model(batch.images)
        loss, _ = yolo_loss(
            outputs, batch.targets, model.anchor_tensor(), model.strides, config.loss,
            image_size=config.img_size,
        )  # fmt: skip
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        ema.update(model)
        times.append(time.perf_counter() - start)
    return times[1:]  # the first step also allocates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches and steps")
    args = parser.parse_args()
    config = DetectTrainConfig()
    n_batches, n_steps = (5, 4) if args.quick else (20, 10)
    with tempfile.TemporaryDirectory() as tmp:
        path = make_shapes(Path(tmp) / "shapes", ShapesConfig(train=1000, val=8))
        train = load_images(read_yolo(path, "train"), config.img_size)
    loader = DetectionLoader(
        train.images, train.labels, config.img_size, config.batch_size, config.augment, workers=0
    )
    print(
        f"detect train data loading, defaults: {config.img_size} px, batch {config.batch_size}, "
        f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}"
    )
    warp = mosaic_perspective_seconds(loader, n_batches)
    builds = [loader.build(1, s).build_seconds for s in range(n_batches)]
    steps = step_seconds(config, loader, n_steps)
    warp_ms, build_ms, step_ms = (statistics.median(t) * 1e3 for t in (warp, builds, steps))
    print(f"  mosaic + perspective per batch   {warp_ms:8.1f} ms  (median of {n_batches})")
    print(f"  whole batch build, one thread    {build_ms:8.1f} ms")
    print(f"  training step                    {step_ms:8.1f} ms  (median of {n_steps})")
    print(f"  mosaic + perspective / step      {warp_ms / step_ms:8.1%}   (target <= 20%)")
    print(f"  whole build / step               {build_ms / step_ms:8.1%}")
    # one real epoch: the loader's 2 threads build ahead while the model trains
    epoch = DetectTrainConfig(epochs=1, close_mosaic=0)
    torch.manual_seed(0)
    model = TinyDetector(DetectorConfig(4, width=16), image_size=epoch.img_size)
    count = 8 * epoch.batch_size if args.quick else len(train.images)
    result = train_detector(model, train.images[:count], train.labels[:count], epoch)
    per_step = result.train_seconds / result.steps
    print(
        f"  one epoch, 2 loader threads: {result.steps} steps of {per_step * 1e3:.0f} ms; the "
        f"step waited {result.data_wait_seconds / result.steps * 1e3:.1f} ms per batch "
        f"({result.data_wait_seconds / result.train_seconds:.1%} of the wall time); the threads "
        f"built for {result.data_build_seconds / result.train_seconds:.1%} of it"
    )
    print(f"  load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
