"""`tinyvision detect predict --checkpoint CKPT IMAGES...`: run a trained detector.

Writes ``predictions.json`` (COCO results: ``image_id`` is the file stem, as an integer when
every stem is one, as YOLOv5 does; ``tinyvision detect eval`` maps stems to a data set's
images) and each image with its boxes drawn into ``--out``. Images that share a stem
(``a/x.png`` and ``b/x.png``, or ``x.png`` and ``x.bmp``, whose drawing is a PNG) keep
it for the first and get ``x_2``, ``x_3``, ... for the others, in drawings and image ids
alike (a warning lists them). No output replaces an input (an image or the checkpoint), and
a drawing replaces an existing file in ``--out`` only when it is a drawing of the same image
by an earlier run: ``drawings.json`` in ``--out`` records which image each drawing shows.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from tinyvision._cli import _flags
from tinyvision._cli._checks import refuse_overwrite
from tinyvision._errors import UserError

MAX_DET_MAX = 100_000  # detections per image
DRAWINGS = "drawings.json"  # in --out: {drawing's file name: the image it shows, resolved}


def register(subparsers: argparse._SubParsersAction) -> None:
    from tinyvision._cli.classify import add_threads_argument

    parser = subparsers.add_parser(
        "predict",
        help="detect objects in images with a trained detector (COCO json + drawn images)",
        description=(
            "Run a detector checkpoint (its EMA weights) on images or folders of images: "
            "letterbox, decode, confidence filter, class-aware NMS, top-k. Writes "
            "predictions.json (COCO results) and the images with their boxes drawn."
        ),
    )
    parser.add_argument("images", nargs="+", type=Path, help="image files or folders")
    parser.add_argument("--checkpoint", required=True, type=Path, help="detector checkpoint")
    parser.add_argument(
        "--out", type=Path, default=Path("runs/detect/predict"), help="output folder"
    )
    parser.add_argument(
        "--conf", type=_flags.probability, default=0.25, help="confidence threshold (0.25)"
    )
    parser.add_argument(
        "--iou", type=_flags.probability, default=0.45, help="NMS IoU threshold (0.45)"
    )
    parser.add_argument(
        "--max-det",
        type=_flags.int_in(1, MAX_DET_MAX),
        default=300,
        help="detections per image (300)",
    )
    parser.add_argument(
        "--img-size",
        type=_flags.detector_img_size,
        help=f"input size, a multiple of 32 in 32..{_flags.IMG_SIZE_MAX} (default: the "
        "training size)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--no-draw", action="store_true", help="write only predictions.json")
    add_threads_argument(parser)
    parser.set_defaults(func=run)


def image_files(sources: list[Path]) -> list[Path]:
    """The image files named, folders expanded (sorted); an unknown path is an error."""
    from tinyvision.data.images import IMAGE_SUFFIXES

    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            found = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise FileNotFoundError(f"{source}: no images in this folder")
            files += found
        elif source.is_file():
            files.append(source)
        else:
            raise FileNotFoundError(f"{source}: no such file or folder")
    return files


def readable_images(files: list[Path], named: list[Path]) -> tuple[list[Path], list[Any]]:
    """The files that decode and their ``uint8[H, W, 3]`` RGB images. An image named on
    the command line that does not decode is an error (``UserError`` naming it); one found
    in a folder is skipped, and one warning line on stderr names the skipped files."""
    from tinyvision.data.images import read_image

    direct = set(named)
    kept, images, skipped = [], [], []
    for file in files:
        try:
            images.append(read_image(file))
        except UserError:
            if file in direct:
                raise
            skipped.append(str(file))
            continue
        kept.append(file)
    if skipped:
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        print(
            f"tinyvision: warning: skipped {len(skipped)} image file(s) in the folders that "
            f"do not decode: {', '.join(skipped[:5])}{more}",
            file=sys.stderr,
        )
    if not kept:
        raise UserError(f"none of the {len(files)} image file(s) decodes")
    return kept, images


def unique_stems(files: list[Path]) -> list[str]:
    """File stems made unique: the first of a stem keeps it, the others get ``_2``,
    ``_3``, ... (compared without case: ``X.png`` and ``x.png`` are one file on some disks)."""
    taken = {f.stem.lower() for f in files}
    seen: set[str] = set()
    names = []
    for file in files:
        name = file.stem
        if name.lower() in seen:
            n = 2
            while f"{file.stem}_{n}".lower() in taken:
                n += 1
            name = f"{file.stem}_{n}"
            taken.add(name.lower())
        seen.add(name.lower())
        names.append(name)
    return names


def image_ids(names: list[str]) -> list[int | str]:
    """Unique file stems, as integers when all of them are (YOLOv5's results convention)."""
    if all(s.isascii() and s.isdigit() and len(s) < 19 for s in names) and len(
        set(map(int, names))
    ) == len(names):
        return [int(s) for s in names]
    return names


def drawing_path(out: Path, file: Path, name: str) -> Path:
    """Where the drawing of ``file`` goes: ``name`` with its suffix, PNG for other formats."""
    suffix = file.suffix.lower()
    return out / f"{name}{suffix if suffix in ('.png', '.jpg', '.jpeg') else '.png'}"


def check_earlier_drawings(out: Path, files: list[Path], drawings: list[Path]) -> dict[str, str]:
    """Refuse a drawing that would replace a file in ``out`` that is not a drawing of the
    same image (as ``drawings.json`` records it); return that record updated with this
    run's drawings."""
    from tinyvision.metrics._coco_io import read_json

    record: dict[str, str] = {}
    if (out / DRAWINGS).is_file():
        try:
            found = read_json(out / DRAWINGS)
        except (UserError, OSError, ValueError):
            found = None  # unreadable: no drawing counts as ours
        if isinstance(found, dict):
            record = {str(k): str(v) for k, v in found.items()}
    for file, drawing in zip(files, drawings):
        source = os.path.realpath(file)
        if drawing.exists() and record.get(drawing.name) != source:
            raise UserError(
                f"--out {out} already holds {drawing.name}, which is not an earlier drawing "
                f"of {file}: remove it or choose another --out"
            )
        record[drawing.name] = source
    return record


def run(args: argparse.Namespace) -> int:
    from tinyvision._cli.classify import set_threads
    from tinyvision._fileio import atomic_write_json
    from tinyvision.train.checkpoint import load_checkpoint
    from tinyvision.train.detect import CHECKPOINT_KIND, detector_from_checkpoint, predict_images
    from tinyvision.train.distributed import resolve_device

    set_threads(args.threads)
    conf, iou, max_det = args.conf, args.iou, args.max_det  # in range: see register()
    files, images = readable_images(image_files(args.images), args.images)
    names_out = unique_stems(files)
    drawings = [drawing_path(args.out, f, n) for f, n in zip(files, names_out)]
    written = [
        args.out / "predictions.json",
        *([] if args.no_draw else [*drawings, args.out / DRAWINGS]),
    ]
    read = [("--checkpoint", args.checkpoint), *(("image", f) for f in files)]
    refuse_overwrite([("--out", w) for w in written], read)
    drawn = {} if args.no_draw else check_earlier_drawings(args.out, files, drawings)
    renamed = [f"{f} -> {n}" for f, n in zip(files, names_out) if n != f.stem]
    if renamed:
        print(
            f"tinyvision: warning: {len(renamed)} image(s) share a file stem with an earlier "
            f"one; their drawings and image ids are renamed: {', '.join(renamed)}",
            file=sys.stderr,
        )
    record = load_checkpoint(args.checkpoint, kind=CHECKPOINT_KIND)
    model = detector_from_checkpoint(record, str(args.checkpoint))
    img_size = args.img_size if args.img_size is not None else int(record.get("img_size", 640))
    if img_size < 32 or img_size % 32:
        raise ValueError(f"{args.checkpoint}: img_size must be a multiple of 32, got {img_size}")
    names = list(record.get("names") or [str(k) for k in range(model.num_classes)])
    model = model.to(resolve_device(args.device))
    found = predict_images(
        model, images, img_size, conf_threshold=conf, iou_threshold=iou, max_det=max_det
    )
    ids = image_ids(names_out)
    records = []
    for image_id, (boxes, scores, classes) in zip(ids, found):
        for (x1, y1, x2, y2), score, cls in zip(boxes.tolist(), scores.tolist(), classes.tolist()):
            records.append(
                {
                    "image_id": image_id,
                    "category_id": int(cls),
                    "bbox": [round(v, 3) for v in (x1, y1, x2 - x1, y2 - y1)],
                    "score": round(score, 5),
                }
            )
    atomic_write_json(args.out / "predictions.json", records, indent=None)
    if not args.no_draw:  # first: a drawing cut short by a kill is still known as ours
        atomic_write_json(args.out / DRAWINGS, drawn)
    for file, drawing, image, (boxes, scores, classes) in zip(files, drawings, images, found):
        counts: dict[str, int] = {}
        for cls in classes.tolist():
            counts[names[cls]] = counts.get(names[cls], 0) + 1
        listed = ", ".join(f"{n} {c}" for n, c in sorted(counts.items())) or "nothing"
        print(f"{file}: {len(scores)} object(s): {listed}")
        if not args.no_draw:
            _write_drawing(drawing, image, boxes, scores, classes, names)
    print(f"wrote {args.out / 'predictions.json'} ({len(records)} detections)")
    return 0


def _write_drawing(
    path: Path, image: Any, boxes: Any, scores: Any, classes: Any, names: list[str]
) -> None:
    """The image with one coloured, labelled rectangle per detection."""
    import cv2

    from tinyvision._fileio import atomic_write_bytes

    canvas = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    thickness = max(1, round(max(canvas.shape[:2]) / 400))
    for (x1, y1, x2, y2), score, cls in zip(boxes.tolist(), scores.tolist(), classes.tolist()):
        hue = (cls * 47) % 180
        colour = cv2.cvtColor(np_pixel(hue), cv2.COLOR_HSV2BGR)[0, 0].tolist()
        top_left, bottom_right = (round(x1), round(y1)), (round(x2) - 1, round(y2) - 1)
        cv2.rectangle(canvas, top_left, bottom_right, colour, thickness)
        label = f"{names[cls]} {score:.2f}"
        cv2.putText(
            canvas,
            label,
            (top_left[0], max(top_left[1] - 2, 8)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.3 * thickness,
            colour,
            1,
            cv2.LINE_AA,
        )
    ok, encoded = cv2.imencode(path.suffix, canvas)
    if not ok:
        raise OSError(f"could not encode {path}")
    atomic_write_bytes(path, encoded.tobytes())


def np_pixel(hue: int) -> Any:
    """A one-pixel HSV image of a saturated colour with ``hue`` (OpenCV's 0-179)."""
    import numpy as np

    return np.array([[[hue, 220, 255]]], dtype=np.uint8)
