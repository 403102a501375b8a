"""Your own images for the classifier: a folder with one sub-folder per class.

:func:`load_image_folder` reads torchvision's ``ImageFolder`` layout in one of two forms::

    DIR/train/<class>/*.png        DIR/<class>/*.jpg
    DIR/val/<class>/*.png          (no train/: the images are split, see val_split)

and returns the ``(train, val)`` :class:`~tinyvision.data.dataset.ImageDataset` pair that
the classifier trainer takes. Classes are the training folder's sub-folders sorted by name
(torchvision's order: label ``k`` is the ``k``-th name); images in nested folders belong
to their class folder. Names starting with ``.`` are left out (hidden files, the cache).
Without ``val/`` the images are split per class (:func:`~tinyvision.data.dataset.
stratified_split`, seeded), ``val_split`` of each class (default 0.2) for validation.

Every image is read with :func:`tinyvision.data.images.read_image` (RGB, EXIF orientation
applied) and resized so that its shorter side is ``img_size`` (``cv2.INTER_AREA`` when it
shrinks, ``cv2.INTER_LINEAR`` when it grows), then its centre ``img_size x img_size``
square is kept (torchvision's ``Resize(img_size)`` + ``CenterCrop(img_size)``, so the
aspect ratio is kept and the ends of a long side are cut).

Decoding happens once: with ``cache_dir`` the decoded ``uint8[N, 3, S, S]`` array is saved
there as an ``.npy`` file (written atomically) named by a hash of the resize settings and
of every file's path, size and modification time, so a later load of the same files
reads the array instead of decoding, and any added, removed or changed file makes a new
one (the old one is deleted). Arrays up to ``max_memory_bytes`` are held in memory;
larger ones are decoded straight into the cache file and memory-mapped from it.

Bad folders raise one :class:`~tinyvision._errors.UserError` line naming the folder or
file: no class folders, a single class, a class without images, a validation class the
training folder lacks, a file that is not an image (by suffix and first bytes:
:func:`~tinyvision.data.images.is_image_file`), an image that does not decode. With
``skip_bad_images`` the files that are not images or do not decode are left out and one
:class:`BadImagesWarning` counts them (a class left without images is still an error).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tinyvision._errors import UserError
from tinyvision._fileio import atomic_open, atomic_write_json
from tinyvision._validate import check_float, check_int, describe
from tinyvision.data.dataset import ImageDataset, stratified_split
from tinyvision.data.images import is_image_file, read_image

__all__ = [
    "DEFAULT_MAX_MEMORY_BYTES",
    "DEFAULT_VAL_SPLIT",
    "FOLDER_CACHE",
    "BadImagesWarning",
    "load_image_folder",
    "resize_center_crop",
]

DEFAULT_VAL_SPLIT = 0.2  # share of each class held out when the folder has no val/
DEFAULT_MAX_MEMORY_BYTES = 2 * 1024**3  # decoded images held in memory up to this size
FOLDER_CACHE = ".tinyvision-cache"  # the CLI's cache folder inside the data folder
IMG_SIZE_MAX = 4096  # pixels, a square side
_CACHE_VERSION = 1  # bump when decoding or resizing changes: old caches are not read
_RESIZE = "short-side-area-linear+center-crop"  # in the cache key
_SHOWN = 5  # bad files named in an error or warning


class BadImagesWarning(UserWarning):
    """Files of an image folder that were skipped (``skip_bad_images=True``), counted."""


@dataclass(frozen=True)
class _Listing:
    """The image files of a folder, in cache order (the training folder's, then val/)."""

    classes: tuple[str, ...]
    files: list[Path]
    labels: np.ndarray  # int64[N] class index of each file
    n_train: int  # files[:n_train] are training images; the rest come from val/
    has_val: bool  # the folder has val/ (else the training images are split)
    not_images: list[Path]  # files in the class folders that are not images


def load_image_folder(
    root: str | os.PathLike[str],
    *,
    img_size: int,
    val_split: float | None = None,
    seed: int = 0,
    skip_bad_images: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
    workers: int | None = None,
) -> tuple[ImageDataset, ImageDataset]:
    """Read a class-per-folder image set as ``(train, val)`` data sets (see the module doc).

    Args:
        root: ``DIR`` holding ``train/<class>/`` (and ``val/<class>/``), or the class
            folders themselves.
        img_size: side ``S`` of the square images, in pixels (4..4096).
        val_split: share of each class held out for validation when there is no
            ``val/``, in (0, 1); ``None`` means 0.2. Refused when ``val/`` exists.
        seed: seeds that split.
        skip_bad_images: leave out files that are not images or do not decode, with one
            :class:`BadImagesWarning`, instead of raising.
        cache_dir: folder for the decoded-image cache; ``None``: no cache (every load
            decodes, and the images must fit ``max_memory_bytes``).
        max_memory_bytes: decoded images larger than this are memory-mapped from the
            cache file instead of read into memory.
        workers: decoding threads (default: up to 8, the CPU count).

    Returns:
        ``(train, val)``: images ``Tensor[N, 3, S, S]`` uint8 (RGB, ``max_value=255``),
        labels ``Tensor[N]`` int64, ``classes`` the sorted class folder names, names
        ``"<DIR name>/train"`` and ``"<DIR name>/val"``.

    Raises:
        TypeError, ValueError: an argument of the wrong type or out of range.
        UserError: a bad folder or file (named), or no cache and too many images.
    """
    folder = _check_root(root)
    img_size = check_int(img_size, "img_size", minimum=4, maximum=IMG_SIZE_MAX)
    if val_split is not None:
        val_split = check_float(
            val_split,
            "val_split",
            minimum=0.0,
            maximum=1.0,
            min_inclusive=False,
            max_inclusive=False,
        )
    seed = check_int(seed, "seed", minimum=0)
    if not isinstance(skip_bad_images, bool):
        raise TypeError(f"skip_bad_images must be a bool, got {describe(skip_bad_images)}")
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a str, os.PathLike or None, got {describe(cache_dir)}")
    max_memory_bytes = check_int(max_memory_bytes, "max_memory_bytes", minimum=0)
    workers = _workers(workers)

    listing = _list_folder(folder, skip_bad_images)
    if listing.has_val and val_split is not None:
        raise UserError(
            f"{folder} has a val/ folder: val_split (--val-split) only splits a folder without one"
        )
    images, bad = _cached_images(
        folder, listing, img_size, cache_dir, max_memory_bytes, workers, skip_bad_images
    )
    _warn_skipped(folder, listing, bad)
    keep = np.setdiff1d(np.arange(len(listing.files)), np.asarray(sorted(bad), dtype=np.int64))
    split = DEFAULT_VAL_SPLIT if val_split is None else float(val_split)
    return _datasets(folder, listing, images, keep, split, seed)


def resize_center_crop(image: np.ndarray, size: int) -> np.ndarray:
    """Resize ``uint8[H, W, C]`` so its shorter side is ``size`` and keep the centre square.

    ``cv2.INTER_AREA`` when the image shrinks, ``cv2.INTER_LINEAR`` when it grows; the
    longer side becomes ``round(long * size / short)``; the crop starts at
    ``(long' - size) // 2``. Returns ``uint8[size, size, C]``.

    Raises:
        TypeError: ``image`` is not a uint8 numpy array; ``size`` not an int.
        ValueError: ``image`` is not ``[H, W, C]`` with ``H, W >= 1`` and 1..4 channels;
            ``size`` outside 1..4096.
    """
    import cv2

    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise TypeError(f"image must be a uint8 numpy array, got {describe(image)}")
    if image.ndim != 3 or min(image.shape[:2]) < 1 or not 1 <= image.shape[2] <= 4:
        raise ValueError(
            f"image must have shape [H, W, C] with H, W >= 1 and 1..4 channels, got {image.shape}"
        )
    size = check_int(size, "size", minimum=1, maximum=IMG_SIZE_MAX)
    h, w = image.shape[:2]
    if h != size or w != size:
        scale = size / min(h, w)
        nh = size if h <= w else max(size, round(h * scale))
        nw = size if w < h else max(size, round(w * scale))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (nw, nh), interpolation=interp)
        image = image.reshape(nh, nw, -1)  # cv2 drops a single channel axis
        top, left = (nh - size) // 2, (nw - size) // 2
        image = image[top : top + size, left : left + size]
    return image


# ----------------------------------------------------------------------------------------
# Listing
# ----------------------------------------------------------------------------------------


def _check_root(root: Any) -> Path:
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a str or os.PathLike, got {describe(root)}")
    folder = Path(root)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (an image folder holds train/<class>/ images)")
    return folder


def _workers(workers: Any) -> int:
    if workers is None:
        return max(1, min(8, os.cpu_count() or 1))
    return check_int(workers, "workers", minimum=1, maximum=256)


def _visible(path: Path) -> list[Path]:
    """The entries of a folder without hidden ones (``.name``), sorted by name."""
    try:
        return sorted(p for p in path.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise UserError(f"{path}: cannot list ({exc.strerror or exc})") from None


def _class_folders(path: Path) -> list[Path]:
    folders = [p for p in _visible(path) if p.is_dir()]
    if not folders:
        raise UserError(
            f"{path}: no class folders (put each class's images in {path}/<class name>/)"
        )
    return folders


def _files_of(folder: Path) -> list[Path]:
    """Every visible file below ``folder`` (nested folders too), sorted by path."""
    files: list[Path] = []
    for entry in _visible(folder):
        files.extend(_files_of(entry) if entry.is_dir() else [entry])
    return files


def _list_folder(root: Path, skip_bad: bool) -> _Listing:
    train_dir, val_dir = root / "train", root / "val"
    has_train, has_val = train_dir.is_dir(), val_dir.is_dir()
    if has_val and not has_train:
        raise UserError(f"{root} has val/ but no train/: put the training images in {train_dir}")
    train_folders = _class_folders(train_dir if has_train else root)
    classes = tuple(p.name for p in train_folders)
    if len(classes) < 2:
        raise UserError(
            f"{train_folders[0].parent}: one class only ({classes[0]!r}); a classifier needs "
            "at least 2 class folders"
        )
    files, labels, not_images = _class_files(train_folders, range(len(classes)), skip_bad)
    n_train = len(files)
    if has_val:
        val_folders = _class_folders(val_dir)
        unknown = [p.name for p in val_folders if p.name not in classes]
        if unknown:
            raise UserError(
                f"{val_dir}: class folder(s) {', '.join(map(repr, unknown))} not in {train_dir}"
            )
        ids = [classes.index(p.name) for p in val_folders]
        val_files, val_labels, val_bad = _class_files(val_folders, ids, skip_bad)
        files, labels, not_images = files + val_files, labels + val_labels, not_images + val_bad
    label_array = np.asarray(labels, dtype=np.int64)
    return _Listing(classes, files, label_array, n_train, has_val, not_images)


def _class_files(
    folders: list[Path], ids: Any, skip_bad: bool
) -> tuple[list[Path], list[int], list[Path]]:
    """The image files of the class folders, their labels and the files that are not images."""
    files: list[Path] = []
    labels: list[int] = []
    not_images: list[Path] = []
    for folder, label in zip(folders, ids):
        found = _files_of(folder)
        is_image = [_is_image(f) for f in found]
        images = [f for f, ok in zip(found, is_image) if ok]
        others = [f for f, ok in zip(found, is_image) if not ok]
        if others and not skip_bad:
            more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
            raise UserError(
                f"{others[0]}: not an image file{more}; remove it or pass --skip-bad-images "
                "(skip_bad_images=True) to skip such files"
            )
        if not images:
            what = "no images" if not found else f"no images ({len(found)} other file(s))"
            raise UserError(f"{folder}: {what}; every class folder needs at least one image")
        files += images
        labels += [label] * len(images)
        not_images += others
    return files, labels, not_images


def _is_image(path: Path) -> bool:
    try:
        return is_image_file(path)
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None


# ----------------------------------------------------------------------------------------
# Decoding and the cache
# ----------------------------------------------------------------------------------------


def _load_resized(path: Path, size: int) -> np.ndarray:
    """One file as ``uint8[3, S, S]`` RGB (channels first, as the cache holds it)."""
    return np.ascontiguousarray(resize_center_crop(read_image(path), size).transpose(2, 0, 1))


def _decode_one(path: Path, size: int) -> np.ndarray | str:
    """The image, or the one-line reason it does not decode."""
    try:
        return _load_resized(path, size)
    except UserError as exc:
        return str(exc)


def _decode_into(
    out: np.ndarray, files: list[Path], size: int, workers: int, skip_bad: bool
) -> dict[int, str]:
    """Decode ``files`` into ``out`` (``uint8[N, 3, S, S]``); return ``{index: reason}``
    of those that do not decode (their slots are zeros). Without ``skip_bad`` the first
    one raises its UserError."""
    bad: dict[int, str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:  # OpenCV releases the GIL
        results = pool.map(_decode_one, files, [size] * len(files))
        for index, result in enumerate(results):
            if isinstance(result, str):
                if not skip_bad:
                    pool.shutdown(cancel_futures=True)
                    raise UserError(result)
                bad[index] = result
                out[index] = 0
            else:
                out[index] = result
    return bad


def _cache_key(listing: _Listing, size: int, root: Path) -> str:
    """A hash of what the decoded array depends on: settings, and each file's relative
    path, size and modification time."""
    entries = []
    for path in listing.files:
        try:
            stat = path.stat()
        except OSError as exc:
            raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
        entries.append([path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns])
    content = {"version": _CACHE_VERSION, "size": size, "resize": _RESIZE, "files": entries}
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:24]


def _cached_images(
    root: Path,
    listing: _Listing,
    size: int,
    cache_dir: str | os.PathLike[str] | None,
    max_memory: int,
    workers: int,
    skip_bad: bool,
) -> tuple[np.ndarray, dict[int, str]]:
    """``uint8[N, 3, S, S]`` for ``listing.files`` (bad slots zero) and the bad files."""
    shape = (len(listing.files), 3, size, size)
    nbytes = int(np.prod(shape))
    if cache_dir is None:
        if nbytes > max_memory:
            raise UserError(
                f"{root}: {shape[0]} images at {size}x{size} take {nbytes / 2**30:.1f} GiB, more "
                f"than max_memory_bytes ({max_memory}); give a cache_dir to map them from disk"
            )
        images = np.empty(shape, np.uint8)
        return images, _decode_into(images, listing.files, size, workers, skip_bad)
    cache = Path(cache_dir)
    stem = f"{_root_key(root)}-{_cache_key(listing, size, root)}"
    found = _read_cache(cache, stem, shape, mmap=nbytes > max_memory)
    if found is not None:
        images, bad = found
        if bad and not skip_bad:
            raise UserError(bad[min(bad)])
        return images, bad
    if nbytes > max_memory:
        images, bad = _decode_to_file(cache, stem, listing.files, shape, workers, skip_bad)
    else:
        images = np.empty(shape, np.uint8)
        bad = _decode_into(images, listing.files, size, workers, skip_bad)
        _write_cache(cache, stem, images, bad)
    _remove_stale(cache, stem)
    return images, bad


def _root_key(root: Path) -> str:
    return hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:12]


def _read_cache(
    cache: Path, stem: str, shape: tuple[int, ...], *, mmap: bool
) -> tuple[np.ndarray, dict[int, str]] | None:
    """The cached array and bad files, or None when absent, incomplete or not matching."""
    array_path, meta_path = cache / f"{stem}.npy", cache / f"{stem}.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        images = np.load(array_path, mmap_mode="c" if mmap else None, allow_pickle=False)
        bad = {int(k): str(v) for k, v in meta["bad"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if meta.get("key") != stem or images.shape != shape or images.dtype != np.uint8:
        return None
    return images, bad


def _write_cache(cache: Path, stem: str, images: np.ndarray, bad: dict[int, str]) -> None:
    """Save the array (then its description) atomically; a folder we cannot write to
    only costs the next load its decoding, so it is a warning."""
    try:
        with atomic_open(cache / f"{stem}.npy") as handle:
            np.save(handle, images, allow_pickle=False)
        atomic_write_json(cache / f"{stem}.json", {"key": stem, "bad": bad})
    except OSError as exc:
        warnings.warn(
            f"{cache}: cannot write the decoded-image cache ({exc.strerror or exc}); the "
            "images will be decoded again next time",
            BadImagesWarning,
            stacklevel=4,
        )


def _decode_to_file(
    cache: Path, stem: str, files: list[Path], shape: tuple[int, ...], workers: int, skip: bool
) -> tuple[np.ndarray, dict[int, str]]:
    """Decode straight into a memory-mapped ``.npy`` in ``cache`` (renamed into place when
    complete) and map it copy-on-write."""
    target = cache / f"{stem}.npy"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=cache)
        os.close(fd)
    except OSError as exc:
        raise UserError(
            f"{cache}: cannot write the decoded-image cache ({exc.strerror or exc}), which "
            f"images larger than max_memory_bytes need"
        ) from None
    try:
        array = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        bad = _decode_into(array, files, shape[-1], workers, skip)
        array.flush()
        del array
        os.replace(tmp, target)
        atomic_write_json(cache / f"{stem}.json", {"key": stem, "bad": bad})
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return np.load(target, mmap_mode="c"), bad


def _remove_stale(cache: Path, stem: str) -> None:
    """Delete this folder's earlier caches (same root key, another file list)."""
    prefix = stem.split("-", 1)[0] + "-"
    for path in cache.glob(f"{prefix}*"):
        if path.suffix in (".npy", ".json") and path.stem != stem:
            path.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------
# Data sets
# ----------------------------------------------------------------------------------------


def _warn_skipped(root: Path, listing: _Listing, bad: dict[int, str]) -> None:
    not_images = listing.not_images
    count = len(not_images) + len(bad)
    if not count:
        return
    named = [str(p) for p in not_images[:_SHOWN]]
    named += [str(listing.files[i]) for i in sorted(bad)][: _SHOWN - len(named)]
    more = f" and {count - len(named)} more" if count > len(named) else ""
    warnings.warn(
        f"{root}: skipped {count} bad file(s) ({len(not_images)} not images, {len(bad)} "
        f"not decodable): {', '.join(named)}{more}",
        BadImagesWarning,
        stacklevel=3,
    )


def _datasets(
    root: Path,
    listing: _Listing,
    images: np.ndarray,
    keep: np.ndarray,
    val_split: float,
    seed: int,
) -> tuple[ImageDataset, ImageDataset]:
    """The train and val data sets from the decoded array (``keep``: files that decoded)."""
    train_idx = keep[keep < listing.n_train]
    if listing.has_val:
        val_idx = keep[keep >= listing.n_train]
    else:
        inner_train, inner_val = stratified_split(listing.labels[train_idx], val_split, seed=seed)
        train_idx, val_idx = train_idx[inner_train], train_idx[inner_val]
    counts = np.bincount(listing.labels[train_idx], minlength=len(listing.classes))
    if (counts == 0).any():
        empty = listing.classes[int(np.flatnonzero(counts == 0)[0])]
        raise UserError(f"{root}: class {empty!r} has no training image left (all bad or held out)")
    if len(val_idx) == 0:
        raise UserError(
            f"{root}: no validation images (val_split {val_split:g} of {len(train_idx)} "
            "images rounds to none per class); raise it or add a val/ folder"
        )
    name = root.resolve().name or "folder"
    return (
        _dataset(images, listing, train_idx, f"{name}/train"),
        _dataset(images, listing, val_idx, f"{name}/val"),
    )


def _dataset(images: np.ndarray, listing: _Listing, index: np.ndarray, name: str) -> ImageDataset:
    # A contiguous run of indices is a slice: a view of the array (of the mapped file).
    contiguous = len(index) > 0 and int(index[-1]) - int(index[0]) + 1 == len(index)
    part = images[int(index[0]) : int(index[-1]) + 1] if contiguous else images[index]
    labels = torch.from_numpy(listing.labels[index].copy())
    return ImageDataset(torch.from_numpy(part), labels, listing.classes, 255, name)
