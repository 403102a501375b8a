"""CIFAR-10 reader: the official format, md5, download, and one-line errors."""

from __future__ import annotations

import http.server
import pickle
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from _classify_helpers import CLASSES, tiny_cifar_batches, write_tiny_archive, write_tiny_folder
from tinyvision._errors import UserError
from tinyvision.data.cifar import (
    CIFAR10_CLASSES,
    CIFAR10_MD5,
    download_cifar10,
    load_cifar10,
    md5sum,
)


def test_official_constants() -> None:
    # torchvision's CIFAR10.tgz_md5 and the class order of batches.meta
    assert CIFAR10_MD5 == "c58f30108f718f92721af3b95e74349a"
    assert tuple(c.decode() for c in CLASSES) == CIFAR10_CLASSES


def _expected(files: dict[str, bytes], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    batches = [pickle.loads(files[n], encoding="bytes") for n in names]
    data = np.concatenate([b[b"data"] for b in batches])
    labels = np.concatenate([np.asarray(b[b"labels"]) for b in batches])
    return data, labels


def test_archive_reads_every_batch_in_order(tmp_path: Path) -> None:
    files = tiny_cifar_batches(per_batch=4)
    md5 = write_tiny_archive(tmp_path / "cifar-10-python.tar.gz", files)
    train, test = load_cifar10(tmp_path, md5=md5)
    data, labels = _expected(files, [f"data_batch_{i}" for i in range(1, 6)])
    assert train.images.shape == (20, 3, 32, 32) and train.images.dtype == torch.uint8
    # Row layout: 1024 red values, then green, then blue, each row-major.
    assert np.array_equal(train.images.numpy().reshape(20, -1), data)
    assert np.array_equal(train.images[0, 1, 0, :].numpy(), data[0, 1024:1056])
    assert np.array_equal(train.labels.numpy(), labels)
    test_data, test_labels = _expected(files, ["test_batch"])
    assert np.array_equal(test.images.numpy().reshape(4, -1), test_data)
    assert np.array_equal(test.labels.numpy(), test_labels)
    assert train.classes == CIFAR10_CLASSES and train.max_value == 255


def test_folder_and_archive_agree(tmp_path: Path) -> None:
    files = tiny_cifar_batches()
    md5 = write_tiny_archive(tmp_path / "a.tar.gz", files)
    folder = write_tiny_folder(tmp_path / "root", files)
    from_archive = load_cifar10(tmp_path / "a.tar.gz", md5=md5)
    for source in (tmp_path / "root", folder):  # the parent folder or the folder itself
        from_folder = load_cifar10(source)
        for a, b in zip(from_archive, from_folder):
            assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)


def test_wrong_md5_is_one_clear_error(tmp_path: Path) -> None:
    write_tiny_archive(tmp_path / "cifar-10-python.tar.gz")
    with pytest.raises(UserError, match=r"md5 [0-9a-f]{32}, expected c58f3010.*download it again"):
        load_cifar10(tmp_path)


def test_truncated_archive(tmp_path: Path) -> None:
    path = tmp_path / "cifar-10-python.tar.gz"
    write_tiny_archive(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UserError, match="truncated or corrupt"):
        load_cifar10(tmp_path, md5=None)
    with pytest.raises(UserError, match="md5"):  # the md5 catches it first by default
        load_cifar10(tmp_path)


def test_archive_missing_a_member(tmp_path: Path) -> None:
    files = tiny_cifar_batches()
    del files["data_batch_3"]
    md5 = write_tiny_archive(tmp_path / "x.tar.gz", files)
    with pytest.raises(UserError, match="lacks cifar-10-batches-py/data_batch_3"):
        load_cifar10(tmp_path / "x.tar.gz", md5=md5)


def test_folder_missing_a_file(tmp_path: Path) -> None:
    folder = write_tiny_folder(tmp_path)
    (folder / "test_batch").unlink()
    with pytest.raises(UserError, match="test_batch is missing"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({b"labels": [1]}, "b'data' must be a uint8 array"),
        ({b"data": np.zeros((1, 3072), np.float32), b"labels": [1]}, "uint8"),
        ({b"data": np.zeros((1, 100), np.uint8), b"labels": [1]}, "3072 columns"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "one label per row"),
        (
            {b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]},
            r"labels must lie in \[0, 10\)",
        ),
        ([1, 2, 3], "holds list"),
    ],
)
def test_malformed_batches(tmp_path: Path, batch: object, message: str) -> None:
    files = tiny_cifar_batches()
    files["data_batch_2"] = pickle.dumps(batch, protocol=2)
    write_tiny_folder(tmp_path, files)
    with pytest.raises(UserError, match=message):
        load_cifar10(tmp_path)


def test_pickle_cannot_run_code(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple:
            return (print, ("owned",))

    files = tiny_cifar_batches()
    files["data_batch_1"] = pickle.dumps({b"data": Evil()}, protocol=2)
    write_tiny_folder(tmp_path, files)
    with pytest.raises(UserError, match=r"refusing to load (__builtin__|builtins)\.print"):
        load_cifar10(tmp_path)


def test_not_a_pickle(tmp_path: Path) -> None:
    files = tiny_cifar_batches()
    files["batches.meta"] = b"this is not a pickle"
    write_tiny_folder(tmp_path, files)
    with pytest.raises(UserError, match="batches.meta is not a CIFAR-10 batch file"):
        load_cifar10(tmp_path)


def test_missing_data_says_where_to_put_it(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        load_cifar10(tmp_path / "nowhere")
    message = str(info.value)
    assert "cifar-10-python.tar.gz" in message and "https://www.cs.toronto.edu" in message
    assert "\n" not in message


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path):
    source = tmp_path / "served.tar.gz"
    md5 = write_tiny_archive(source)
    handler = type("H", (_Handler,), {"payload": source.read_bytes()})
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/cifar-10-python.tar.gz", md5, source
    httpd.shutdown()
    httpd.server_close()


def test_download_from_a_server(tmp_path: Path, server: tuple[str, str, Path]) -> None:
    url, md5, source = server
    root = tmp_path / "data"
    train, _ = load_cifar10(root, download=True, url=url, md5=md5)
    assert (root / "cifar-10-python.tar.gz").read_bytes() == source.read_bytes()
    assert md5sum(root / "cifar-10-python.tar.gz") == md5
    assert len(train) == 30


def test_download_with_wrong_md5_leaves_nothing(
    tmp_path: Path, server: tuple[str, str, Path]
) -> None:
    url, _, _ = server
    root = tmp_path / "data"
    with pytest.raises(UserError, match="expected 0{32}"):
        download_cifar10(root, url=url, md5="0" * 32)
    assert list(root.iterdir()) == []  # no partial or temporary file


def test_offline_download_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UserError, match=r"could not download CIFAR-10 .* put cifar-10-python"):
        load_cifar10(tmp_path, download=True, url=f"http://127.0.0.1:{port}/x.tar.gz", md5=None)
    assert list(tmp_path.iterdir()) == []


def test_pickle_codecs_are_latin1_only(tmp_path: Path) -> None:
    # protocol-2 pickles spell bytes as _codecs.encode(text, 'latin1'); another codec
    # (here a compressing one) is refused rather than looked up and run.
    evil = (
        b"\x80\x02}q\x00c_codecs\nencode\nq\x01X\x01\x00\x00\x00x"
        b"X\n\x00\x00\x00zlib_codecq\x02\x86q\x03Rq\x04s."
    )
    files = tiny_cifar_batches()
    files["data_batch_1"] = evil
    write_tiny_folder(tmp_path, files)
    with pytest.raises(
        UserError,
        match=r"data_batch_1 is not a CIFAR-10 batch file \(refusing to encode with 'zlib_codec'",
    ):
        load_cifar10(tmp_path)


def test_labels_beyond_64_bits_are_one_error(tmp_path: Path) -> None:
    files = tiny_cifar_batches()
    files["data_batch_2"] = pickle.dumps(
        {b"data": np.zeros((1, 3072), np.uint8), b"labels": [2**70]}, protocol=2
    )
    write_tiny_folder(tmp_path, files)
    with pytest.raises(UserError, match=r"data_batch_2: b'labels' must be integers \(64-bit\)"):
        load_cifar10(tmp_path)


def test_oversized_archive_member_is_refused_before_reading(tmp_path: Path) -> None:
    import io
    import tarfile

    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = 65 << 20  # zeros compress to almost nothing: a small gzip bomb
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    with pytest.raises(UserError, match=r"data_batch_1 is 68157440 bytes, more than a CIFAR"):
        load_cifar10(path, md5=None)


def test_memo_index_beyond_the_file_allocates_nothing(tmp_path: Path) -> None:
    # 13 bytes: PROTO 2, EMPTY_DICT, LONG_BINPUT 20_000_000. CPython's unpickler would grow
    # its memo array to that index (160 MB here; the fuzzer's find asked for 6 GB).
    import struct
    import tracemalloc

    files = tiny_cifar_batches()
    files["data_batch_1"] = b"\x80\x02}r" + struct.pack("<I", 20_000_000) + b"0."
    write_tiny_folder(tmp_path, files)
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=r"LONG_BINPUT 20000000 at byte 3 is beyond the file"):
            load_cifar10(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20
