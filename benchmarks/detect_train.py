"""Detector training on the CPU: data loading against the training step.

For the default ``tinyvision detect train`` settings (shapes, 128 px, batch 32, width 16)
this times, per batch:

- mosaic + random perspective of the batch's samples (the issue's "data loading"),
- the whole batch build (mosaic, perspective, HSV, flip, float tensor) in one thread,
- one training step (forward, loss, backward, AdamW step, EMA) with ``--threads`` PyTorch
  threads (1 by default, the benchmark protocol's),

and then one epoch of the real loop with the loader's 2 threads building ahead, reporting
how long the step waited for batches. Each part is timed by CPU time and wall time, best and
median (``benchmarks/_protocol.py``; no anchor: these are timings of tinyvision alone). Run
from the repository root:

    .venv/bin/python benchmarks/detect_train.py            # the default run's settings
    .venv/bin/python benchmarks/detect_train.py --quick    # fewer batches

The machine is shared: the load average is printed with the numbers.
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy and torch load

# isort: split
import argparse
import itertools
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from tinyvision.data.augment import mosaic, random_perspective
from tinyvision.data.formats import read_yolo
from tinyvision.data.loader import DetectionLoader, load_images
from tinyvision.data.shapes import ShapesConfig, make_shapes
from tinyvision.nn.detector import DetectorConfig, TinyDetector
from tinyvision.train.detect import DetectTrainConfig, _optimizer, train_detector
from tinyvision.train.detect_loss import yolo_loss
from tinyvision.train.ema import ModelEMA


def mosaic_perspective(loader: DetectionLoader) -> Callable[[], None]:
    """A callable doing the mosaic + perspective of one batch's samples (batch ``step`` on
    its ``step``-th call), one thread."""
    size, cfg = loader.size, loader.config
    steps = itertools.count()

    def one_batch() -> None:
        rng = np.random.default_rng([0, next(steps)])
        for _ in range(loader.batch_size):
            picks = rng.integers(0, len(loader.images), size=4).tolist()
            canvas, boxes = mosaic(
                [loader.images[k] for k in picks], [loader.labels[k] for k in picks], size, seed=rng
            )
            random_perspective(
                canvas, boxes, cfg.degrees, cfg.translate, cfg.scale, cfg.shear,
                cfg.perspective, border=(-size // 2, -size // 2), seed=rng,
            )  # fmt: skip

    return one_batch


def training_step(config: DetectTrainConfig, loader: DetectionLoader, steps: int) -> Callable:
    """A callable doing one training step on the next of ``steps + 1`` pre-built batches."""
    torch.manual_seed(0)
    model = TinyDetector(DetectorConfig(4, width=16), image_size=config.img_size)
    optimizer = _optimizer(model, config)
    ema = ModelEMA(model)
    batches = iter([loader.build(0, s) for s in range(steps + 1)])

    def step() -> None:
        batch = next(batches)
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

    return step


def shares(bench: _protocol.Bench, warp, build, step) -> None:
    """The data work as a share of the training step (medians, CPU and wall)."""
    for label, t in (("mosaic + perspective / step", warp), ("whole build / step", build)):
        target = "   (target <= 20%)" if label.startswith("mosaic") else ""
        bench.note(
            f"  {label:<28} CPU {t.cpu_median / step.cpu_median:7.1%}   "
            f"wall {t.wall_median / step.wall_median:7.1%}{target}"
        )


def one_epoch(bench: _protocol.Bench, train, quick: bool) -> None:
    """One real epoch: the loader's 2 threads build ahead while the model trains."""
    epoch = DetectTrainConfig(epochs=1, close_mosaic=0)
    torch.manual_seed(0)
    model = TinyDetector(DetectorConfig(4, width=16), image_size=epoch.img_size)
    count = 8 * epoch.batch_size if quick else len(train.images)
    timing = bench.measure(
        "one epoch, 2 loader threads (train_detector)",
        lambda: train_detector(model, train.images[:count], train.labels[:count], epoch),
        repeat=1,
        warmup=False,
    )
    if timing is None:
        return
    result = timing.output
    per_step = result.train_seconds / result.steps
    bench.note(
        f"  one epoch, 2 loader threads: {result.steps} steps of {per_step * 1e3:.0f} ms; the "
        f"step waited {result.data_wait_seconds / result.steps * 1e3:.1f} ms per batch "
        f"({result.data_wait_seconds / result.train_seconds:.1%} of the wall time); the threads "
        f"built for {result.data_build_seconds / result.train_seconds:.1%} of it"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches and steps")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    bench = _protocol.Bench.from_args(args, threads=args.threads)
    config = DetectTrainConfig()
    n_batches, n_steps = (5, 4) if args.quick else (20, 10)
    with tempfile.TemporaryDirectory() as tmp:
        path = make_shapes(Path(tmp) / "shapes", ShapesConfig(train=1000, val=8))
        train = load_images(read_yolo(path, "train"), config.img_size)
    loader = DetectionLoader(
        train.images, train.labels, config.img_size, config.batch_size, config.augment, workers=0
    )
    bench.note(
        f"detect train data loading, defaults: {config.img_size} px, batch {config.batch_size}, "
        f"torch {torch.__version__}, torch threads {torch.get_num_threads()}"
    )
    build_steps = itertools.count()
    warp = bench.measure(
        "mosaic + perspective of one batch", mosaic_perspective(loader), repeat=n_batches
    )
    build = bench.measure(
        "whole batch build, one thread",
        lambda: loader.build(1, next(build_steps)),
        repeat=n_batches,
    )
    # the warm-up step (the first one also allocates) is not timed
    step = bench.measure("training step", training_step(config, loader, n_steps), repeat=n_steps)
    if warp and build and step:
        shares(bench, warp, build, step)
    one_epoch(bench, train, args.quick)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
