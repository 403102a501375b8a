"""Your own images: a class-per-folder set of real PNG files, read, trained and evaluated.

The folder is cut from the shapes set's objects (``scripts/make_shapes_crops.py``: square
crops of circles, squares, triangles and stars, 12-70 pixels, the shapes split kept as
train/ and val/) unless ``--root`` names one. Measured through ``benchmarks/_protocol.py``:
reading the folder (decode + resize to ``--img-size``, no cache), reading it again from the
decoded-image cache, training the ``fast`` folder recipe (what ``tinyvision classify train
--data DIR`` runs) and predicting the validation images (with the recipe's flip TTA). The
images/s of each and the validation accuracy are printed. Run::

    python benchmarks/folder_classify.py [--img-size 32] [--threads 1] [--root DIR]
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy and torch load

# isort: split
import argparse
import dataclasses
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

import torch

from tinyvision.data.folders import load_image_folder
from tinyvision.metrics import accuracy_score
from tinyvision.nn import build_classifier
from tinyvision.train import get_recipe, predict_proba, train_classifier

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_shapes_crops.py"


def make_crops(root: Path, train: int, val: int) -> None:
    spec = importlib.util.spec_from_file_location("make_shapes_crops", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(root), "--train", str(train), "--val", str(val)])


def train_fast(train, epochs: int | None, seed: int = 0):
    recipe = get_recipe("fast", "folder")
    config = recipe.config if epochs is None else dataclasses.replace(recipe.config, epochs=epochs)
    config = dataclasses.replace(config, seed=seed)
    torch.manual_seed(seed)
    kwargs = {"in_channels": 3, "num_classes": train.num_classes, **recipe.model_kwargs}
    net = build_classifier("fast", **kwargs)
    return train_classifier(net, train, config), config


def rate(items: int, timing) -> str:
    """Images per second by process CPU time (the headline) and by wall time."""
    return (
        f"{items / timing.cpu_best:.0f} images/s by CPU time, "
        f"{items / timing.wall_best:.0f} by wall time"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="an image folder (default: shapes crops)")
    parser.add_argument("--img-size", type=int, default=32, help="square side (default 32)")
    parser.add_argument("--shapes-train", type=int, default=1000, help="shapes images to crop")
    parser.add_argument("--shapes-val", type=int, default=200, help="shapes val images to crop")
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    bench = _protocol.Bench.from_args(args, threads=args.threads)
    scratch = Path(tempfile.mkdtemp(prefix="folder-bench-"))
    try:
        root = args.root
        if root is None:
            root = scratch / "crops"
            make_crops(root, args.shapes_train, args.shapes_val)
        cache = scratch / "cache"
        size = args.img_size

        def uncached():
            return load_image_folder(root, img_size=size)

        def cached():
            return load_image_folder(root, img_size=size, cache_dir=cache)

        decode = bench.measure(f"read + resize to {size}px, no cache", uncached, repeat=2)
        if decode is None:
            return bench.finish()
        train, val = decode.output
        n = len(train) + len(val)
        bench.note(
            f"{root}: {len(train)} train / {len(val)} val images, {train.num_classes} classes "
            f"{train.classes}; torch {torch.__version__}, {torch.get_num_threads()} thread(s)"
        )
        bench.note(f"decode + resize: {rate(n, decode)}")
        again = bench.measure("read from the decoded-image cache", cached, repeat=3)
        bench.note(f"from the cache: {rate(n, again)}")
        timing = bench.measure(
            "train the fast folder recipe",
            lambda: train_fast(train, args.epochs),
            repeat=1,
            warmup=False,
        )
        if again is None or timing is None:
            return bench.finish()
        result, config = timing.output
        seen = config.epochs * len(train)
        bench.note(
            f"training: {config.epochs} epochs x {len(train)} images in {timing.wall_best:.1f} s "
            f"wall ({result.train_seconds:.1f} s in the loop): {rate(seen, timing)}"
        )
        images = val.float_images()

        def predict():
            return predict_proba(
                result.model, images, result.mean, result.std, tta_flip=config.tta_flip
            )

        evaluation = bench.measure("predict the val images (flip TTA)", predict, repeat=3)
        if evaluation is None:
            return bench.finish()
        accuracy = float(accuracy_score(val.labels.numpy(), evaluation.output.argmax(1).numpy()))
        bench.note(f"evaluation: {rate(len(val), evaluation)}; val accuracy {accuracy:.2%}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
