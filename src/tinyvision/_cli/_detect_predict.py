"""`tinyvision detect predict --checkpoint CKPT IMAGES...`: run a trained detector.

Writes ``predictions.json`` (COCO results: ``image_id`` is the file stem, as an integer when
every stem is one, as YOLOv5 does; ``tinyvision detect eval`` maps stems to a data set's
images) and each image with its boxes drawn into ``--out``. Images that share a stem
(``a/x.png`` and ``b/x.png``, or ``x.png`` and ``x.bmp``, whose drawing is a PNG) keep
it for the first and get ``x_2``, ``x_3``, ... for the others, in drawings and image ids
alike (a warning lists them). No output replaces an input (an image or the checkpoint), and
a drawing replaces an existing file in ``--out`` only when it is a drawing of the same image
by an earlier run: ``drawings.json`` in ``--out`` records which image each drawing shows.

Built on :meth:`tinyvision.Detector.predict` (rectangular letterbox, class-aware NMS): an
image named on the command line that does not decode is an error; one in a folder is
skipped with a warning.
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
    from tinyvision._cli._train_flags import add_threads_argument

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
    """The image files named, folders expanded (sorted); an unknown path or a video is an
    error."""
    from tinyvision.data.images import IMAGE_SUFFIXES
    from tinyvision.models.sources import VIDEO_SUFFIXES

    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            found = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise FileNotFoundError(f"{source}: no images in this folder")
            files += found
        elif source.is_file():
            if source.suffix.lower() in VIDEO_SUFFIXES:
                raise UserError(
                    f"{source}: a video; the command reads images (the Python API reads "
                    "videos: tinyvision.Detector.load(CKPT).predict(VIDEO))"
                )
            files.append(source)
        else:
            raise FileNotFoundError(f"{source}: no such file or folder")
    return files


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
    from tinyvision._cli._checks import warnings_as_lines
    from tinyvision._cli._train_flags import set_threads
    from tinyvision._fileio import atomic_write_json
    from tinyvision.models import Detector, SkippedImageWarning

    set_threads(args.threads)
    files = image_files(args.images)
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
    detector = Detector.load(args.checkpoint, device=args.device)
    with warnings_as_lines(SkippedImageWarning):  # an unreadable image in a folder
        results = detector.predict(
            [str(p) for p in args.images],
            conf=args.conf,
            iou=args.iou,
            max_det=args.max_det,
            img_size=args.img_size,
        )
    found = match_results(files, results)
    if files and all(result is None for result in found):
        raise UserError(f"none of the {len(files)} image file(s) decodes")
    records = []
    for image_id, result in zip(image_ids(names_out), found):
        records += result.to_coco(image_id) if result is not None else []
    atomic_write_json(args.out / "predictions.json", records, indent=None)
    if not args.no_draw:  # first: a drawing cut short by a kill is still known as ours
        skipped = {d.name for d, r in zip(drawings, found) if r is None}
        atomic_write_json(args.out / DRAWINGS, {k: v for k, v in drawn.items() if k not in skipped})
    for file, drawing, result in zip(files, drawings, found):
        if result is None:
            continue
        print(f"{file}: {object_counts(result)}")
        if not args.no_draw:
            result.save(drawing)
    print(f"wrote {args.out / 'predictions.json'} ({len(records)} detections)")
    return 0


def match_results(files: list[Path], results: list[Any]) -> list[Any]:
    """Per file its :class:`~tinyvision.models.Results`, or None for an image the source
    skipped (unreadable in a folder). ``results`` follow ``files`` in order."""
    found: list[Any] = [None] * len(files)
    i = 0
    for result in results:
        while str(files[i]) != result.path:
            i += 1
        found[i] = result
        i += 1
    return found


def object_counts(result: Any) -> str:
    """``3 object(s): circle 2, star 1`` (names sorted), or ``0 object(s): nothing``."""
    counts: dict[str, int] = {}
    for cls in result.boxes.cls.tolist():
        counts[result.names[cls]] = counts.get(result.names[cls], 0) + 1
    listed = ", ".join(f"{n} {c}" for n, c in sorted(counts.items())) or "nothing"
    return f"{len(result.boxes)} object(s): {listed}"
