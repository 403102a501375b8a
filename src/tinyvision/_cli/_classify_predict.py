"""`tinyvision classify predict --checkpoint CKPT IMAGES... [--out CSV]`: classify images.

Runs :meth:`tinyvision.Classifier.predict` on image files and folders (each image brought
to the training images' form: channels, size, normalisation) and writes one CSV row per
image: ``path`` then ``class_1, score_1, ..., class_5, score_5`` (the five most probable
classes, best first; fewer when the classifier has fewer classes). An image named on the
command line that does not decode is an error; one in a folder is skipped with a warning.
The CSV is written whole or not at all, and never over an input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tinyvision._cli import _flags

DEFAULT_OUT = Path("runs/classify/predict/predictions.csv")


def register(actions: argparse._SubParsersAction) -> None:
    from tinyvision._cli._train_flags import add_threads_argument

    parser = actions.add_parser(
        "predict",
        help="classify images with a trained classifier (a CSV of the top-5 classes)",
        description="Run a classifier checkpoint on images or folders of images; write a "
        "CSV with the top-5 classes and their probabilities per image.",
    )
    parser.add_argument("images", nargs="+", type=Path, help="image files or folders")
    parser.add_argument("--checkpoint", required=True, type=Path, help="classifier checkpoint")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"CSV file ({DEFAULT_OUT})")
    parser.add_argument(
        "--batch-size",
        type=_flags.int_in(1, _flags.BATCH_MAX),
        default=64,
        help="images per forward pass (64)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    add_threads_argument(parser)
    parser.set_defaults(func=run)


def top5_csv(results: list[Any]) -> str:
    """The CSV text: a header, then per result its path and top-5 classes and scores."""
    import csv
    import io

    width = max((len(r.probs.top5) for r in results), default=5)
    header = ["path"]
    for k in range(1, width + 1):
        header += [f"class_{k}", f"score_{k}"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for result in results:
        row = [result.path]
        for k, score in zip(result.probs.top5, result.probs.top5conf.tolist()):
            row += [result.names[k], f"{score:.6f}"]
        writer.writerow(row)
    return buffer.getvalue()


def run(args: argparse.Namespace) -> int:
    from tinyvision._cli._checks import refuse_overwrite, warnings_as_lines
    from tinyvision._cli._detect_predict import image_files
    from tinyvision._cli._train_flags import set_threads
    from tinyvision._errors import UserError
    from tinyvision._fileio import atomic_write_text
    from tinyvision.models import Classifier, SkippedImageWarning

    set_threads(args.threads)
    files = image_files(args.images)
    read = [("--checkpoint", args.checkpoint), *(("image", f) for f in files)]
    refuse_overwrite([("--out", args.out)], read)
    if args.out.is_dir():
        raise UserError(f"--out {args.out} is a folder; give the CSV file to write")
    classifier = Classifier.load(args.checkpoint, device=args.device)
    with warnings_as_lines(SkippedImageWarning):  # an unreadable image in a folder
        results = classifier.predict([str(p) for p in args.images], batch_size=args.batch_size)
    if not results:
        raise UserError("no image could be read: nothing to classify")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, top5_csv(results))
    for result in results:
        probs = result.probs
        print(f"{result.path}: {result.names[probs.top1]} ({float(probs.top1conf):.3f})")
    print(f"wrote {args.out} ({len(results)} images)")
    return 0
