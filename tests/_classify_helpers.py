"""Helpers for the classifier tests: a tiny CIFAR-10 release in the official format."""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

NAMES = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
CLASSES = [
    b"airplane",
    b"automobile",
    b"bird",
    b"cat",
    b"deer",
    b"dog",
    b"frog",
    b"horse",
    b"ship",
    b"truck",
]


class Py2Pickler(pickle._Pickler):
    """Pickles like Python 2's cPickle did for the official CIFAR-10 files.

    Python 2 had one string type: every ``str`` and ``bytes`` becomes a (SHORT_)BINSTRING,
    which Python 3 reads back as bytes with ``encoding="bytes"`` (the CIFAR page's advice)
    and as str with ``encoding="latin1"`` (torchvision's choice). numpy's classes are named
    by their numpy 1 module paths (``numpy.core.multiarray``).
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_string(self, obj: str | bytes) -> None:
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_string
    dispatch[bytes] = save_string


def py2_pickle(obj: object) -> bytes:
    """``obj`` pickled the way the official CIFAR-10 files were (protocol 2, Python 2)."""
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue().replace(b"cnumpy._core.", b"cnumpy.core.")


def tiny_cifar_batches(per_batch: int = 6, seed: int = 0) -> dict[str, bytes]:
    """The seven pickles of a CIFAR-10 release with ``per_batch`` images per batch.

    Each batch is a dict with b'batch_label', b'labels', b'data' (uint8 [N, 3072]) and
    b'filenames', pickled like the official (Python 2) files; batches.meta holds
    b'label_names', b'num_cases_per_batch' and b'num_vis'.
    """
    rng = np.random.default_rng(seed)
    files = {}
    for i, name in enumerate([*NAMES, "test_batch"]):
        labels = [(i + j) % 10 for j in range(per_batch)]
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        batch = {
            b"batch_label": f"batch {i + 1} of 6".encode(),
            b"labels": labels,
            b"data": data,
            b"filenames": [f"img_{i}_{j}.png".encode() for j in range(per_batch)],
        }
        files[name] = py2_pickle(batch)
    meta = {b"label_names": CLASSES, b"num_cases_per_batch": per_batch, b"num_vis": 3072}
    files["batches.meta"] = py2_pickle(meta)
    return files


def write_tiny_archive(path: Path, files: dict[str, bytes] | None = None) -> str:
    """Write ``cifar-10-python.tar.gz`` holding ``cifar-10-batches-py/<file>``; return its md5."""
    files = files if files is not None else tiny_cifar_batches()
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_tiny_folder(root: Path, files: dict[str, bytes] | None = None) -> Path:
    """Write the extracted ``cifar-10-batches-py/`` folder under ``root``; return it."""
    files = files if files is not None else tiny_cifar_batches()
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(autouse=True)
def one_thread():
    """Train with one thread: tiny models run slower on two, and the machine is shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
