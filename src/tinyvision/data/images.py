"""The one image reader: Pillow for headers and EXIF orientation, OpenCV for the pixels.

Every image the package reads goes through here (the detection loader, ``detect predict``,
``cluster anchors``, the YOLO/VOC readers' image sizes), so an image has one size and one
orientation everywhere:

* :func:`read_image` / :func:`decode_image` decode with OpenCV (``IMREAD_COLOR`` with
  OpenCV's own orientation handling off) and then apply the EXIF orientation that Pillow
  reads from the header, so the result equals Pillow's ``ImageOps.exif_transpose`` (the
  image as displayed, as YOLOv5 reads it) for JPEG, PNG (``eXIf`` before the image
  data), WebP and TIFF. OpenCV's and Pillow's TIFF decoders orient TIFFs themselves,
  so they are not turned twice.
* :func:`image_size` opens the file with Pillow, which reads the header only (no pixels
  are decoded), and swaps width and height for orientations 5-8 (a quarter turn).

Every image comes back as ``uint8[H, W, 3]``: grey images have their one channel copied
three times, an alpha channel is dropped (not blended; the colour as stored), palette
images are expanded to their colours and 16-bit images keep their high byte
(``value >> 8``, OpenCV's ``IMREAD_COLOR``).

Files that are missing, unreadable or not decodable raise
:class:`tinyvision._errors.UserError` naming the file, as do images past Pillow's
decompression-bomb limit (twice ``PIL.Image.MAX_IMAGE_PIXELS``, about 179 megapixels by
default; raise that setting to read larger ones).
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tinyvision._errors import UserError
from tinyvision._validate import check_choice, describe

__all__ = ["IMAGE_SUFFIXES", "decode_image", "image_size", "is_image_file", "read_image"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_SIGNATURES = (  # the first bytes of the formats of IMAGE_SUFFIXES (WebP: see is_image_file)
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
)
_ORIENTATION_TAG = 0x0112
_NOT_AN_IMAGE = "not a readable image"
_OPENCV_QUIET = False

Color = Literal["rgb", "bgr"]


def read_image(path: str | os.PathLike[str], *, color: Color = "rgb") -> np.ndarray:
    """Decode an image file as ``uint8[H, W, 3]``, as displayed (EXIF orientation applied).

    Args:
        path: the image file (any format OpenCV decodes: JPEG, PNG, BMP, GIF, WebP,
            TIFF, ...).
        color: channel order of the result, ``"rgb"`` (default) or ``"bgr"`` (OpenCV's).

    Returns:
        ``uint8[H, W, 3]``; ``H, W`` are the displayed height and width, the ones
        :func:`image_size` reports as ``(W, H)``.

    Raises:
        TypeError: ``path`` is not a str or ``os.PathLike``.
        ValueError: ``color`` is not ``"rgb"`` or ``"bgr"``.
        UserError: the file is missing, cannot be read or is not a decodable image.
    """
    _check_path(path)
    check_choice(color, "color", ("rgb", "bgr"))
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return decode_image(data, str(path), color=color)


def decode_image(
    data: bytes | bytearray | memoryview | np.ndarray,
    source: str = "image",
    *,
    color: Color = "rgb",
) -> np.ndarray:
    """Decode an encoded image held in memory (a file's bytes) as :func:`read_image` does.

    Args:
        data: the encoded bytes, or a ``uint8[n]`` array of them.
        source: what to call the data in errors (e.g. its file name).
        color: ``"rgb"`` (default) or ``"bgr"``.

    Returns:
        ``uint8[H, W, 3]``, EXIF orientation applied.

    Raises:
        TypeError: ``data`` is not bytes or a 1-D uint8 array; ``source`` not a str.
        ValueError: ``color`` is not ``"rgb"`` or ``"bgr"``.
        UserError: the data is not a decodable image (naming ``source``).
    """
    buffer = _as_buffer(data)
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {describe(source)}")
    check_choice(color, "color", ("rgb", "bgr"))
    cv2 = _opencv()
    flags = int(cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    image = cv2.imdecode(buffer, flags) if buffer.size else None
    if image is None:
        raise UserError(f"{source}: {_NOT_AN_IMAGE}")
    image = _orient(cv2, image, _stored_orientation(buffer, source))
    if color == "rgb":
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(width, height)`` of an image as displayed, from its header (no pixels decoded).

    Pillow reads the header; EXIF orientations 5-8 (a quarter turn) swap width and
    height, as :func:`read_image` turns the pixels. A file whose header Pillow does not
    read (a format it does not know, a damaged header) is decoded with OpenCV instead.
    YOLO labels are relative to this size.

    Raises:
        TypeError: ``path`` is not a str or ``os.PathLike``.
        UserError: the file is missing, cannot be read or is not an image.
    """
    _check_path(path)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            orientation = _orientation_of(image)
    except Image.DecompressionBombError as exc:
        raise UserError(f"{path}: {_too_large(exc)}") from None
    except (UnidentifiedImageError, SyntaxError, ValueError, EOFError, struct.error):
        shape = read_image(path, color="bgr").shape  # a header Pillow cannot read: decode
        return int(shape[1]), int(shape[0])
    except OSError as exc:  # missing, a folder, no permission
        raise UserError(f"{path}: cannot read ({_reason(exc)})") from None
    return (int(height), int(width)) if orientation >= 5 else (int(width), int(height))


def is_image_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a regular file (links followed) with an image suffix
    (:data:`IMAGE_SUFFIXES`) whose first bytes are those of one of those formats: a quick
    check that reads 12 bytes, not a decode. False for folders, devices, missing files.

    Raises:
        TypeError: ``path`` is not a str or ``os.PathLike``.
        OSError: the file exists but cannot be read.
    """
    _check_path(path)
    file = Path(path)
    if file.suffix.lower() not in IMAGE_SUFFIXES or not file.is_file():
        return False
    with open(file, "rb") as handle:  # no permission: OSError, as any read
        head = handle.read(12)
    webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return webp or head.startswith(_SIGNATURES)


def _check_path(path: Any) -> None:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {describe(path)}")


def _as_buffer(data: Any) -> np.ndarray:
    """``uint8[n]`` view of the encoded bytes."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return np.frombuffer(data, dtype=np.uint8)
    if isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 1:
        return data
    raise TypeError(f"data must be bytes or a 1-D uint8 array, got {describe(data)}")


def _stored_orientation(buffer: np.ndarray, source: str) -> int:
    """The EXIF orientation (1-8) still to apply to OpenCV's pixels; 1 when none."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(buffer.tobytes())) as image:
            return _orientation_of(image)
    except Image.DecompressionBombError as exc:
        raise UserError(f"{source}: {_too_large(exc)}") from None
    except Exception:
        return 1


def _orientation_of(image: Any) -> int:
    """The orientation still to apply to an opened Pillow image's size and to OpenCV's
    pixels, 1-8 (1 when absent or invalid).

    TIFFs: 1, as both Pillow (its ``size``) and OpenCV (its pixels) orient them already
    (libtiff). A PNG's ``eXIf`` is taken from the chunks before the image data (``info``),
    as Pillow's ``getexif`` would only find a later one by decoding the whole image."""
    if image.format == "TIFF":
        return 1
    if image.format == "PNG":
        from PIL import Image

        raw = image.info.get("exif")
        if not raw:
            return 1
        exif = Image.Exif()
        exif.load(raw)
    else:
        exif = image.getexif()
    value = exif.get(_ORIENTATION_TAG, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _orient(cv2: Any, image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels to displayed ones, as ``ImageOps.exif_transpose`` does."""
    if orientation >= 5:  # a quarter turn: transpose, then as 1-4 (OpenCV's order)
        image = cv2.transpose(image)
        orientation -= 4
    flip = {2: 1, 3: -1, 4: 0}.get(orientation)
    return image if flip is None else cv2.flip(image, flip)


def _opencv() -> Any:
    """``cv2``, its log level lowered to errors once: a decoder's warning about a damaged
    file ("PNG input buffer is incomplete") would only repeat the error we raise. A level
    the user chose through ``OPENCV_LOG_LEVEL`` is left alone."""
    global _OPENCV_QUIET
    import cv2

    if not _OPENCV_QUIET:
        _OPENCV_QUIET = True
        logging = getattr(getattr(cv2, "utils", None), "logging", None)
        chosen = "OPENCV_LOG_LEVEL" in os.environ
        if logging is not None and not chosen and logging.getLogLevel() > logging.LOG_LEVEL_ERROR:
            logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    return cv2


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _too_large(exc: BaseException) -> str:
    return f"too many pixels to read safely ({exc}); raise PIL.Image.MAX_IMAGE_PIXELS to allow it"
