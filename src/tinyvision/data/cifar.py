"""CIFAR-10 from the official python release, with its md5 and an optional download.

The release is ``cifar-10-python.tar.gz`` (https://www.cs.toronto.edu/~kriz/cifar.html),
holding ``cifar-10-batches-py/`` with ``data_batch_1`` .. ``data_batch_5`` (10 000 images
each), ``test_batch`` and ``batches.meta``. Each batch is a pickled dict with ``b"data"``
(uint8 ``[N, 3072]``: 1024 red, 1024 green, then 1024 blue values, rows top to bottom) and
``b"labels"`` (N ints); ``batches.meta`` names the classes under ``b"label_names"``.

:func:`load_cifar10` reads the archive directly (no extraction needed) or the extracted
folder. The archive's md5 is checked; the pickles are read with an unpickler that only
accepts plain containers and numpy arrays, so a tampered file cannot run code.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import os
import pickle
import pickletools
import tarfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tinyvision._errors import UserError
from tinyvision._fileio import atomic_open
from tinyvision.data.dataset import ImageDataset

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_URL",
    "download_cifar10",
    "load_cifar10",
    "md5sum",
]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER_NAME = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
_PIXELS = 3 * 32 * 32
_MAX_MEMBER_BYTES = 64 << 20  # a batch is 31 MB; the archive is read into memory

# What a CIFAR pickle may reference: numpy's array reconstruction and bytes, nothing else.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3's protocol-2 pickles spell bytes
}


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for bytes (``latin1`` only: any
    other codec, e.g. a compressing one, is refused)."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"refusing to encode with {encoding!r}")
    return text.encode("latin1", errors)


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module == "_codecs":
            return _latin1_encode
        if module.startswith("numpy.core.") and hasattr(np, "_core"):
            module = "numpy._core." + module[len("numpy.core.") :]  # numpy 2 names
        return getattr(importlib.import_module(module), name)


def md5sum(path: str | os.PathLike[str], *, chunk_size: int = 1 << 20) -> str:
    """Hex md5 digest of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _check_opcodes(data: bytes) -> None:
    """Walk the pickle's opcodes before loading it: a memo index (``PUT``) or frame beyond
    the file's own length is refused. CPython's unpickler grows its memo array to the
    index, so 13 bytes saying ``LONG_BINPUT 810450480`` would allocate 6 GB; a real batch
    numbers its memo entries from 0."""
    for opcode, arg, pos in pickletools.genops(data):
        if opcode.name in ("PUT", "BINPUT", "LONG_BINPUT", "FRAME") and not (
            isinstance(arg, int) and 0 <= arg <= len(data)
        ):
            raise pickle.UnpicklingError(f"{opcode.name} {arg} at byte {pos} is beyond the file")


def _unpickle(data: bytes, source: str) -> dict:
    try:
        _check_opcodes(data)
        obj = _SafeUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as exc:  # any failure here means a damaged or foreign file
        reason = " ".join(str(exc).split()) or type(exc).__name__  # one line
        raise UserError(f"{source} is not a CIFAR-10 batch file ({reason})") from exc
    if not isinstance(obj, dict):
        raise UserError(f"{source} is not a CIFAR-10 batch file (holds {type(obj).__name__})")
    return obj


def _parse_batch(data: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(data, source)
    images, labels = batch.get(b"data"), batch.get(b"labels")
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2:
        raise UserError(f"{source}: b'data' must be a uint8 array [N, 3072]")
    if images.shape[1] != _PIXELS:
        raise UserError(f"{source}: b'data' must have 3072 columns, got {images.shape[1]}")
    if not isinstance(labels, (list, np.ndarray)) or len(labels) != images.shape[0]:
        raise UserError(f"{source}: b'labels' must list one label per row of b'data'")
    try:
        label_array = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise UserError(f"{source}: b'labels' must be integers (64-bit)") from exc
    return images, label_array


def _parse_meta(data: bytes, source: str) -> tuple[str, ...]:
    meta = _unpickle(data, source)
    names = meta.get(b"label_names")
    if not isinstance(names, list) or not all(isinstance(n, (bytes, str)) for n in names):
        raise UserError(f"{source}: b'label_names' must be a list of names")
    return tuple(n.decode("utf-8") if isinstance(n, bytes) else n for n in names)


def _read_archive(archive: Path) -> dict[str, bytes]:
    """Read the needed members of the tar.gz into memory: file name -> bytes."""
    wanted = {f"{FOLDER_NAME}/{name}": name for name in (*TRAIN_FILES, TEST_FILE, META_FILE)}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    if member.size > _MAX_MEMBER_BYTES:
                        raise UserError(
                            f"{archive}: {member.name} is {member.size} bytes, more than a "
                            f"CIFAR-10 batch ({_MAX_MEMBER_BYTES} at most): not the release"
                        )
                    handle = tar.extractfile(member)
                    assert handle is not None
                    found[wanted[member.name]] = handle.read()
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        raise UserError(f"{archive} is truncated or corrupt ({exc or type(exc).__name__})") from exc
    missing = [m for m, name in wanted.items() if name not in found]
    if missing:
        raise UserError(f"{archive} is not the CIFAR-10 python release: it lacks {missing[0]}")
    return found


def _read_folder(folder: Path) -> dict[str, bytes]:
    found = {}
    for name in (*TRAIN_FILES, TEST_FILE, META_FILE):
        path = folder / name
        if not path.is_file():
            raise UserError(f"{folder} is incomplete: {name} is missing")
        found[name] = path.read_bytes()
    return found


def _locate(root: Path) -> tuple[str, Path] | None:
    """Find the extracted folder or the archive under ``root`` (or ``root`` itself)."""
    if root.is_file():
        return "archive", root
    if (root / "data_batch_1").is_file():
        return "folder", root
    if (root / FOLDER_NAME).is_dir():
        return "folder", root / FOLDER_NAME
    if (root / ARCHIVE_NAME).is_file():
        return "archive", root / ARCHIVE_NAME
    return None


def load_cifar10(
    root: str | os.PathLike[str] = "data",
    *,
    download: bool = False,
    md5: str | None = CIFAR10_MD5,
    url: str = CIFAR10_URL,
) -> tuple[ImageDataset, ImageDataset]:
    """Load CIFAR-10 from ``root``; returns ``(train, test)`` with 50 000 and 10 000 images.

    ``root`` is a folder holding ``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz``, or
    the extracted folder or the archive itself. The archive's md5 must equal ``md5`` (pass
    ``None`` to skip the check, e.g. for a subset written in the same format); the extracted
    folder is checked for structure only. With ``download`` a missing archive is fetched
    from ``url`` into ``root`` first.

    Images are ``Tensor[N, 3, 32, 32]`` uint8 (RGB), labels ``Tensor[N]`` int64, and the
    class names come from ``batches.meta``.

    Raises:
        UserError: one line saying what is missing or damaged and what to do.
    """
    root = Path(root)
    found = _locate(root)
    if found is None:
        if not download:
            raise UserError(
                f"CIFAR-10 not found in {root}: put {ARCHIVE_NAME} (from {url}) or its "
                f"extracted {FOLDER_NAME}/ there, or ask for a download (--download)"
            )
        found = ("archive", download_cifar10(root, url=url, md5=md5))
    kind, path = found
    if kind == "archive":
        if md5 is not None and (actual := md5sum(path)) != md5:
            raise UserError(
                f"{path} has md5 {actual}, expected {md5}: the file is incomplete or "
                f"corrupt; delete it and download it again from {url}"
            )
        files = _read_archive(path)
    else:
        files = _read_folder(path)
    classes = _parse_meta(files[META_FILE], f"{path}: {META_FILE}")
    parts = [_parse_batch(files[name], f"{path}: {name}") for name in TRAIN_FILES]
    train = _to_dataset(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        classes,
        "cifar10/train",
        path,
    )
    test_images, test_labels = _parse_batch(files[TEST_FILE], f"{path}: {TEST_FILE}")
    test = _to_dataset(test_images, test_labels, classes, "cifar10/test", path)
    return train, test


def _to_dataset(
    images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...], name: str, path: Path
) -> ImageDataset:
    if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
        raise UserError(
            f"{path}: labels must lie in [0, {len(classes)}) (the classes of {META_FILE}), "
            f"got values in [{labels.min()}, {labels.max()}]"
        )
    tensor = torch.from_numpy(np.ascontiguousarray(images).reshape(-1, 3, 32, 32))
    return ImageDataset(tensor, torch.from_numpy(labels), classes, 255, name)


def download_cifar10(
    root: str | os.PathLike[str] = "data",
    *,
    url: str = CIFAR10_URL,
    md5: str | None = CIFAR10_MD5,
    timeout: float = 60.0,
) -> Path:
    """Download the CIFAR-10 archive into ``root`` and return its path.

    The file is streamed to a temporary name, its md5 checked, and only then renamed to
    ``root/cifar-10-python.tar.gz``, so an interrupted or failed download leaves nothing.

    Raises:
        UserError: offline, the server failed, or the md5 does not match.
    """
    target = Path(root) / ARCHIVE_NAME
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_open(target) as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
            if md5 is not None and digest.hexdigest() != md5:
                raise UserError(
                    f"the download from {url} has md5 {digest.hexdigest()}, expected {md5}; "
                    "try again later"
                )
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise UserError(
            f"could not download CIFAR-10 from {url} ({reason}); download it yourself and "
            f"put {ARCHIVE_NAME} in {Path(root)}"
        ) from exc
    return target
