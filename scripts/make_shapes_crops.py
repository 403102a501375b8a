"""Build a class-per-folder image set from the shapes detection set's objects.

Generates the shapes set (:func:`tinyvision.data.make_shapes`: textured backgrounds with
circles, squares, triangles and stars, exact boxes), then cuts a square around each object
(its box's longer side plus ``--margin`` of it on every side, moved inside the image) and
writes it as a PNG file to ``OUT/train/<class>/`` or ``OUT/val/<class>/`` (the shapes
set's own split), the layout ``tinyvision classify train --data OUT`` reads. Crops keep
their size (about 12 to 70 pixels), so the reader's resizing is exercised too; a crop may
show a piece of a neighbouring object. Objects smaller than ``--min-side`` are left out.

Usage::

    python scripts/make_shapes_crops.py OUT [--train 1000] [--val 200] [--seed 0]

The same arguments give the same files. ``OUT`` must not exist or be empty.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from tinyvision.data import SHAPE_CLASSES, ShapesConfig, make_shapes, read_image


def crop_square(image: np.ndarray, box: tuple[float, float, float, float], margin: float):
    """The square around ``box`` (x1, y1, x2, y2 in pixels) with ``margin`` of its longer
    side added on each side, shifted to lie inside ``image`` (``uint8[H, W, 3]``)."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    side = min(round(max(x2 - x1, y2 - y1) * (1 + 2 * margin)), h, w)
    left = int(np.clip(round((x1 + x2) / 2 - side / 2), 0, w - side))
    top = int(np.clip(round((y1 + y2) / 2 - side / 2), 0, h - side))
    return image[top : top + side, left : left + side]


def write_crops(shapes: Path, out: Path, split: str, margin: float, min_side: float) -> int:
    """Crop every object of one split of the shapes set into ``out/split/<class>/``."""
    count = 0
    for image_path in sorted((shapes / "images" / split).glob("*.png")):
        image = read_image(image_path, color="bgr")
        h, w = image.shape[:2]
        label_path = shapes / "labels" / split / f"{image_path.stem}.txt"
        rows = np.loadtxt(label_path, ndmin=2) if label_path.stat().st_size else np.zeros((0, 5))
        for k, (cls, cx, cy, bw, bh) in enumerate(rows):
            box = ((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h)
            if max(bw * w, bh * h) < min_side:
                continue
            crop = crop_square(image, box, margin)
            target = out / split / SHAPE_CLASSES[int(cls)] / f"{image_path.stem}_{k}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(target), crop):
                raise OSError(f"cannot write {target}")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to create (OUT/train, OUT/val)")
    parser.add_argument("--train", type=int, default=1000, help="shapes training images")
    parser.add_argument("--val", type=int, default=200, help="shapes validation images")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shapes set")
    parser.add_argument("--margin", type=float, default=0.15, help="share of the box added")
    parser.add_argument("--min-side", type=float, default=12.0, help="smallest object, pixels")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} exists and is not empty")
    config = ShapesConfig(train=args.train, val=args.val, seed=args.seed)
    with tempfile.TemporaryDirectory() as scratch:
        shapes = make_shapes(Path(scratch) / "shapes", config).parent
        counts = {
            s: write_crops(shapes, args.out, s, args.margin, args.min_side)
            for s in ("train", "val")
        }
    print(f"wrote {counts['train']} training and {counts['val']} validation crops to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
