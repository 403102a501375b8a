"""ToyNet training throughput on CIFAR-shaped data: our trainer against the notes' loop.

The notes' loop: a Dataset that turns one uint8 HWC image at a time into a normalised float
tensor (what ToTensor + Normalize((0.5,)*3, (0.5,)*3) do), a DataLoader with batch size 4
and shuffling, and SGD(lr=0.001, momentum=0.9) with one step per batch. Ours:
``train_classifier`` with the data resident as one tensor, whole-batch augmentation off (the
notes use none), batch 128. Same network, one thread, images per second, best of rounds,
alternating. Run: ``python benchmarks/train.py`` (``--quick`` for a short run).

Where torchvision is importable (the reference venv: ``PYTHONPATH=src
/work/tvenv/venv/bin/python benchmarks/train.py``) the notes' code is also timed literally:
``torchvision.datasets.CIFAR10`` (PIL image per sample, ``ToTensor``, ``Normalize``) over
random images written in the CIFAR-10 python format, with ``num_workers`` 0 and 2 (the
notes use 2).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tinyvision.data import ImageDataset  # noqa: E402
from tinyvision.nn import ToyNet  # noqa: E402
from tinyvision.train import TrainConfig, train_classifier  # noqa: E402


class NotesDataset(torch.utils.data.Dataset):
    """CIFAR-shaped uint8 HWC images, transformed one at a time as torchvision would."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = torch.from_numpy(self.images[i]).permute(2, 0, 1).float().div(255)  # ToTensor
        x = (x - 0.5) / 0.5  # Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        return x, int(self.labels[i])


class Clock:
    """Wall time and this process's CPU time (robust on a shared machine, 1 thread)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def notes_loop(images: np.ndarray, labels: np.ndarray) -> Clock:
    """One epoch of the notes' training loop over ``images``."""
    torch.manual_seed(0)
    net = ToyNet()
    loader = torch.utils.data.DataLoader(
        NotesDataset(images, labels), batch_size=4, shuffle=True, num_workers=0
    )
    return notes_epoch(net, loader)


def notes_epoch(net: torch.nn.Module, loader: torch.utils.data.DataLoader) -> Clock:
    """The notes' loop: SGD(lr=0.001, momentum=0.9), one step per batch, loss summed."""
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    running_loss = 0.0
    with Clock() as clock:
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = criterion(net(inputs), targets)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()  # the notes accumulate the loss for printing
    return clock


def torchvision_notes_loop(root: str, n: int, workers: int) -> Clock:
    """The notes' code literally: torchvision's CIFAR10 and transforms, batch 4."""
    import torchvision
    import torchvision.datasets.cifar as tv_cifar
    import torchvision.transforms as transforms

    tv_cifar.check_integrity = lambda *args, **kwargs: True  # random data: no official md5
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]
    )
    trainset = torchvision.datasets.CIFAR10(
        root=root, train=True, download=False, transform=transform
    )
    subset = torch.utils.data.Subset(trainset, range(n))
    loader = torch.utils.data.DataLoader(subset, batch_size=4, shuffle=True, num_workers=workers)
    torch.manual_seed(0)
    return notes_epoch(ToyNet(), loader)


def write_cifar_folder(root: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Random images in the CIFAR-10 python layout, readable by torchvision."""
    import pickle

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    flat = images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # RGB planes per row
    parts = np.array_split(np.arange(len(images)), 5)
    for i, index in enumerate(parts, start=1):
        batch = {"data": flat[index], "labels": labels[index].tolist()}
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch, protocol=2))
    (folder / "test_batch").write_bytes(pickle.dumps({"data": flat[:1], "labels": [0]}))
    meta = {"label_names": [f"class{k}" for k in range(10)]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))


def our_trainer(data: ImageDataset, batch_size: int) -> Clock:
    """One epoch of ``train_classifier`` (data resident, no augmentation, like the notes)."""
    torch.manual_seed(0)
    config = TrainConfig(
        epochs=1, batch_size=batch_size, lr=0.05, label_smoothing=0.0, normalization="notes"
    )
    model = ToyNet()
    with Clock() as clock:
        train_classifier(model, data, config)
    return clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n_notes, n_ours, rounds = (400, 2048, 1) if args.quick else (4000, 16384, 3)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n_ours, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_ours)
    data = ImageDataset(
        torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
        torch.from_numpy(labels),
        tuple(str(k) for k in range(10)),
    )
    our_trainer(data.subset(np.arange(512)), 128)  # warm-up: lazy imports, kernels
    notes_loop(images[:64], labels[:64])
    best: dict[str, tuple[float, float]] = {}

    def record(name: str, n: int, clock: Clock) -> None:
        wall, cpu = best.get(name, (0.0, 0.0))
        best[name] = (max(wall, n / clock.wall), max(cpu, n / clock.cpu))

    try:
        import torchvision  # noqa: F401
    except ImportError:
        tv_root = None
    else:
        import tempfile

        tv_root = tempfile.mkdtemp(prefix="tinyvision-bench-")
        write_cifar_folder(Path(tv_root), images[:n_notes], labels[:n_notes])
    for _ in range(rounds):  # alternate, keep the best of each
        record("notes", n_notes, notes_loop(images[:n_notes], labels[:n_notes]))
        if tv_root is not None:
            for workers in (0, 2):
                record(f"tv{workers}", n_notes, torchvision_notes_loop(tv_root, n_notes, workers))
        for batch in (128, 512):
            record(f"ours{batch}", n_ours, our_trainer(data, batch))
    if tv_root is not None:
        import shutil

        shutil.rmtree(tv_root)
    print(f"ToyNet training on CIFAR-shaped 3x32x32 images, 1 thread, torch {torch.__version__}")
    print(f"{'':58}{'wall img/s':>12}{'CPU img/s':>12}")
    rows = [
        ("notes' loop: batch 4, DataLoader, per-image transform", "notes"),
        ("notes' code via torchvision CIFAR10, num_workers=0", "tv0"),
        ("notes' code via torchvision CIFAR10, num_workers=2 (*)", "tv2"),
        ("tinyvision train_classifier, batch 128", "ours128"),
        ("tinyvision train_classifier, batch 512", "ours512"),
    ]
    for label, key in rows:
        if key in best:
            print(f"  {label:<56}{best[key][0]:>12.0f}{best[key][1]:>12.0f}")
    for key in ("ours128", "ours512"):
        wall = best[key][0] / best["notes"][0]
        cpu = best[key][1] / best["notes"][1]
        line = f"  ratio {key[4:]:>3} / notes' loop: {wall:.1f}x wall, {cpu:.1f}x CPU time"
        if "tv2" in best:
            line += f"; / torchvision num_workers=2: {best[key][0] / best['tv2'][0]:.1f}x wall"
        print(line)
    if "tv2" in best:
        print("  (*) CPU time of the main process only: the workers' time is not counted")


if __name__ == "__main__":
    main()
