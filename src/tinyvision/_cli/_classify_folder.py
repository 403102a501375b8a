"""`classify train|eval --data DIR`: a class-per-folder image set of one's own.

``--data`` takes ``digits``, ``cifar10`` or a folder (:mod:`tinyvision.data.folders`:
``DIR/train/<class>/*`` and ``DIR/val/<class>/*``, or ``DIR/<class>/*`` split by
``--val-split``). A folder is named by its absolute path in the checkpoint, beside the
settings that rebuild its split (``data_options``: image size, validation share, whether
bad images are skipped), so ``classify eval --checkpoint`` finds the same validation
images. Decoded images are cached in ``DIR/.tinyvision-cache/`` when ``DIR`` is writable.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from tinyvision._cli import _flags
from tinyvision._errors import UserError

BUILTIN_DATA = ("digits", "cifar10")
DEFAULT_IMG_SIZE = 32  # pixels: CIFAR-10's size, quick on a CPU
FOLDER_FLAGS = ("img_size", "val_split", "skip_bad_images")


def data_argument(text: str) -> str:
    """The ``--data`` type: a built-in data set's name, or an existing folder (made absolute)."""
    if text in BUILTIN_DATA:
        return text
    if Path(text).is_dir():
        return os.path.abspath(text)
    raise argparse.ArgumentTypeError(
        f"must be digits, cifar10 or an existing folder of class folders, got {text[:200]!r}"
    )


def is_folder(data: str) -> bool:
    """Whether ``data`` (a ``--data`` value or a checkpoint's ``data``) names a folder."""
    return data not in BUILTIN_DATA


def add_folder_arguments(parser: argparse.ArgumentParser, *, evaluating: bool = False) -> None:
    default = "the checkpoint's" if evaluating else str(DEFAULT_IMG_SIZE)
    parser.add_argument(
        "--img-size",
        type=_flags.int_in(4, _flags.IMG_SIZE_MAX),
        help=f"--data DIR: side of the square the images are resized to (shorter side, then "
        f"centre crop), 4..{_flags.IMG_SIZE_MAX} (default {default})",
    )
    parser.add_argument(
        "--val-split",
        type=_flags.float_in(0.0, 1.0, low_open=True, high_open=True),
        help="--data DIR without val/: share of each class held out for validation "
        "(default 0.2" + (", or the checkpoint's)" if evaluating else ")"),
    )
    parser.add_argument(
        "--skip-bad-images",
        action="store_true",
        help="--data DIR: skip files that are not images or do not decode (one warning "
        "counts them) instead of stopping",
    )


def folder_options(
    args: argparse.Namespace, data: str, record: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The folder's loading options: the command line's, else the checkpoint's, else the
    defaults. Folder flags with a built-in data set are an error."""
    if not is_folder(data):
        given = [f"--{name.replace('_', '-')}" for name in FOLDER_FLAGS if getattr(args, name)]
        if given:
            raise UserError(f"{' '.join(given)} only apply to --data DIR, not {data}")
        return {}
    stored = (record or {}).get("data_options") or {}
    if not isinstance(stored, dict):
        stored = {}
    return {
        "img_size": args.img_size or stored.get("img_size") or DEFAULT_IMG_SIZE,
        "val_split": args.val_split if args.val_split is not None else stored.get("val_split"),
        "skip_bad_images": bool(args.skip_bad_images or stored.get("skip_bad_images", False)),
    }


def load_folder(path: str, options: dict[str, Any]) -> tuple[Any, Any]:
    """The ``(train, val)`` pair of the folder; skipped files become one warning line."""
    from tinyvision._cli._checks import warnings_as_lines
    from tinyvision.data.folders import FOLDER_CACHE, BadImagesWarning, load_image_folder

    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"--data {path}: the folder is missing")
    cache = folder / FOLDER_CACHE
    writable = os.access(cache if cache.is_dir() else folder, os.W_OK)
    with warnings_as_lines(BadImagesWarning):
        return load_image_folder(folder, cache_dir=cache if writable else None, **options)


def check_out_not_in_folder(out: Path, data: str) -> None:
    """Refuse an output folder inside the image folder ``data``: its PNG plots would be read
    as images (or its folder as a class) by the next run."""
    if not is_folder(data):
        return
    folder = Path(os.path.realpath(data))
    resolved = Path(os.path.realpath(out))
    if resolved == folder or folder in resolved.parents:
        raise UserError(
            f"--out {out} is inside the image folder --data {data}: its plots would be read as "
            "images next time; choose another --out"
        )
