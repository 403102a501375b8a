"""What ``predict`` reads: image files, folders, globs, videos and in-memory images.

:func:`resolve_source` checks a ``source`` at once (a missing path, an empty folder, a
video OpenCV cannot open, an array of the wrong shape are a ``ValueError``/``TypeError``
naming ``source`` before any work) and :func:`iter_frames` then decodes the images one at
a time, so a large folder or a long video never sits in memory whole.

Every image comes out as RGB ``uint8[H, W, 3]``: numpy arrays are taken as OpenCV gives
them (BGR, or gray ``[H, W]``/``[H, W, 1]``, or BGRA), PIL images in their own mode, torch
tensors as RGB ``[C, H, W]`` (``uint8``, or floats in [0, 1]; ``[B, C, H, W]`` is B images).
A file named on its own that does not decode is an error; one found in a folder or by a
glob is skipped with a :class:`SkippedImageWarning`.
"""

from __future__ import annotations

import glob
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tinyvision._errors import UserError
from tinyvision._validate import check_int, describe

__all__ = ["VIDEO_SUFFIXES", "Frame", "SkippedImageWarning", "iter_frames", "resolve_source"]

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
_GLOB_CHARS = frozenset("*?[")


class SkippedImageWarning(UserWarning):
    """An image found in a folder or by a glob did not decode and was left out."""


@dataclass(frozen=True)
class Frame:
    """One image of a source."""

    image: np.ndarray  # uint8[H, W, 3] RGB
    path: str | None  # the file it came from (None: an in-memory image)
    frame: int | None = None  # its frame number in a video (0-based)


@dataclass(frozen=True)
class _Item:
    """One entry of a resolved source: an image file, a video, or an in-memory image."""

    # "file" (named: an error if it does not decode), "listed" (from a folder or glob: skipped
    # with a warning), "video" or "memory"
    kind: str
    path: str | None = None
    load: Callable[[], np.ndarray] | None = None  # memory: -> uint8[H, W, 3] RGB


def _read(path: str) -> np.ndarray:
    """Decode an image file as RGB ``uint8[H, W, 3]`` (EXIF orientation applied).

    The one place ``predict`` reads image files, through :mod:`tinyvision.data.images`.

    Raises:
        UserError: the file cannot be read or is not a readable image.
    """
    from tinyvision.data.images import read_image

    return read_image(path)


def _image_suffixes() -> tuple[str, ...]:
    from tinyvision.data.images import IMAGE_SUFFIXES

    return IMAGE_SUFFIXES


# ----------------------------------------------------------------------------- resolving
def resolve_source(source: Any, name: str = "source") -> list[_Item]:
    """Check ``source`` and list what it holds (see the module docstring for the kinds).

    Raises:
        TypeError: ``source`` is none of the kinds, or an image of the wrong dtype.
        ValueError: a path that does not exist, a folder or glob without images, a video
            OpenCV cannot open, an empty list, an image of the wrong shape or values.
    """
    if isinstance(source, (list, tuple)):
        if not source:
            raise ValueError(f"{name} must not be an empty list")
        items: list[_Item] = []
        for i, entry in enumerate(source):
            if isinstance(entry, (list, tuple)):
                raise TypeError(f"{name}[{i}] must be an image or a path, got a nested list")
            items += resolve_source(entry, f"{name}[{i}]")
        return items
    if isinstance(source, (str, os.PathLike)):
        return _resolve_path(os.fspath(source), name)
    if isinstance(source, np.ndarray):
        return [_Item("memory", load=_array_loader(source, name))]
    if isinstance(source, torch.Tensor):
        return _resolve_tensor(source, name)
    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(source, pil.Image):
        return [_Item("memory", load=_pil_loader(source, name))]
    raise TypeError(
        f"{name} must be a path, a folder, a glob, a numpy image, a PIL image, a torch "
        f"tensor or a list of them, got {describe(source)}"
    )


def _resolve_path(path: str, name: str) -> list[_Item]:
    if not path:
        raise ValueError(f"{name} must not be an empty path")
    if os.path.isdir(path):
        suffixes = _image_suffixes()
        found = sorted(p for p in Path(path).rglob("*") if p.suffix.lower() in suffixes)
        found = [p for p in found if p.is_file()]
        if not found:
            raise ValueError(f"{name} {path}: no images in this folder")
        return [_Item("listed", str(p)) for p in found]
    if os.path.isfile(path):
        if Path(path).suffix.lower() in VIDEO_SUFFIXES:
            _check_video(path, name)
            return [_Item("video", path)]
        return [_Item("file", path)]
    if _GLOB_CHARS & set(path):
        return _resolve_glob(path, name)
    raise ValueError(f"{name} {path}: no such file or folder")


def _resolve_glob(pattern: str, name: str) -> list[_Item]:
    suffixes = _image_suffixes()
    items = []
    for match in sorted(glob.glob(pattern, recursive=True)):
        suffix = Path(match).suffix.lower()
        if not os.path.isfile(match):
            continue
        if suffix in VIDEO_SUFFIXES:
            _check_video(match, name)
            items.append(_Item("video", match))
        elif suffix in suffixes:
            items.append(_Item("listed", match))
    if not items:
        raise ValueError(f"{name} {pattern}: the glob matches no image or video files")
    return items


def _check_video(path: str, name: str) -> None:
    """Raise ``ValueError`` unless OpenCV opens ``path`` and reads a first frame."""
    import cv2

    capture = cv2.VideoCapture(path)
    try:
        ok = capture.isOpened() and capture.read()[0]
    finally:
        capture.release()
    if not ok:
        raise ValueError(f"{name} {path}: OpenCV cannot open this video")


def _array_loader(array: np.ndarray, name: str) -> Callable[[], np.ndarray]:
    """Check a numpy image (BGR ``[H, W, 3]``, BGRA ``[H, W, 4]``, gray ``[H, W]`` or
    ``[H, W, 1]``, ``uint8``); return a function that gives it as RGB."""
    import cv2

    if array.dtype != np.uint8:
        raise TypeError(f"{name} must be a uint8 image (as OpenCV reads it), got {describe(array)}")
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))):
        hint = " (a batch: pass a list of images)" if array.ndim == 4 else ""
        raise ValueError(
            f"{name} must be an image of shape [H, W, 3] (BGR), [H, W, 4] or [H, W], got "
            f"{describe(array)}{hint}"
        )
    if 0 in array.shape[:2]:
        raise ValueError(f"{name} must have H, W > 0, got {describe(array)}")
    codes = {1: cv2.COLOR_GRAY2RGB, 3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}
    code = codes[1 if array.ndim == 2 else array.shape[2]]
    return lambda: cv2.cvtColor(np.ascontiguousarray(array), code).reshape(*array.shape[:2], 3)


def _pil_loader(image: Any, name: str) -> Callable[[], np.ndarray]:
    if 0 in image.size:
        raise ValueError(f"{name} must be a PIL image of positive size, got size {image.size}")
    return lambda: np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def _resolve_tensor(tensor: torch.Tensor, name: str) -> list[_Item]:
    """A ``[C, H, W]`` or ``[B, C, H, W]`` RGB (or gray, ``C = 1``) tensor, ``uint8`` or
    floats in [0, 1]."""
    if tensor.ndim not in (3, 4) or tensor.shape[-3] not in (1, 3) or 0 in tensor.shape[-2:]:
        raise ValueError(
            f"{name} must be a Tensor of shape [C, H, W] or [B, C, H, W] with C = 3 (RGB) or "
            f"1 and H, W > 0, got {describe(tensor)}"
        )
    if tensor.dtype != torch.uint8 and not tensor.is_floating_point():
        raise TypeError(f"{name} must be uint8 or floating point, got {describe(tensor)}")
    if tensor.is_floating_point() and tensor.numel():
        values = tensor.detach()
        if not bool(torch.isfinite(values).all()):
            raise ValueError(f"{name} must be finite, got a Tensor with NaN or infinity")
        low, high = float(values.min()), float(values.max())
        if low < 0 or high > 1:
            raise ValueError(
                f"{name} must hold floats in [0, 1] (or be uint8), got values in [{low}, {high}]"
            )
    batch = tensor.unsqueeze(0) if tensor.ndim == 3 else tensor
    if batch.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one image, got {describe(tensor)}")
    return [_Item("memory", load=_tensor_loader(image)) for image in batch]


def _tensor_loader(image: torch.Tensor) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        x = image.detach().cpu()
        if x.is_floating_point():
            x = (x.float() * 255).round().to(torch.uint8)
        x = x.expand(3, -1, -1) if x.shape[0] == 1 else x
        return np.ascontiguousarray(x.permute(1, 2, 0).numpy())

    return load


# ----------------------------------------------------------------------------- reading
def iter_frames(items: list[_Item], *, stride: int = 1, name: str = "source") -> Iterator[Frame]:
    """The images of a resolved source, decoded one at a time: each video's frames
    ``0, stride, 2 * stride, ...``.

    Raises:
        ValueError: a file named on its own does not decode.
    """
    stride = check_int(stride, "stride", minimum=1)
    for item in items:
        if item.kind == "memory":
            assert item.load is not None
            yield Frame(item.load(), None)
        elif item.kind == "video":
            assert item.path is not None
            yield from _video_frames(item.path, stride)
        else:
            assert item.path is not None
            image = _decode(item, name)
            if image is not None:
                yield Frame(image, item.path)


def _decode(item: _Item, name: str) -> np.ndarray | None:
    """The image of a file item; a file from a folder or glob that does not decode is None
    (with a warning), one named on its own a ``ValueError``."""
    try:
        return _read(item.path)  # type: ignore[arg-type]
    except UserError as exc:
        if item.kind == "file":
            raise ValueError(f"{name}: {exc}") from None
        warnings.warn(f"{name}: skipped {exc}", SkippedImageWarning, stacklevel=4)
        return None


def _video_frames(path: str, stride: int) -> Iterator[Frame]:
    import cv2

    capture = cv2.VideoCapture(path)
    try:
        index = 0
        while True:
            if index % stride:
                ok = capture.grab()  # skipped frames are not decoded
                image = None
            else:
                ok, image = capture.read()
            if not ok:
                return
            if image is not None:
                yield Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), path, index)
            index += 1
    finally:
        capture.release()
