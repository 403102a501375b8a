"""ToyNet training throughput on CIFAR-shaped data: our trainer against the notes' loop.

The notes' loop: a Dataset that turns one uint8 HWC image at a time into a normalised float
tensor (what ToTensor + Normalize((0.5,)*3, (0.5,)*3) do), a DataLoader with batch size 4
and shuffling, and SGD(lr=0.001, momentum=0.9) with one step per batch. Ours:
``train_classifier`` with the data resident as one tensor, whole-batch augmentation off (the
notes use none), batch 128. Same network, one thread, images per second, best of rounds,
alternating. Run: ``python benchmarks/train.py`` (``--quick`` for a short run).
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

    for _ in range(rounds):  # alternate, keep the best of each
        record("notes", n_notes, notes_loop(images[:n_notes], labels[:n_notes]))
        for batch in (128, 512):
            record(f"ours{batch}", n_ours, our_trainer(data, batch))
    print(f"ToyNet training on CIFAR-shaped 3x32x32 images, 1 thread, torch {torch.__version__}")
    print(f"{'':58}{'wall img/s':>12}{'CPU img/s':>12}")
    rows = [
        ("notes' loop: batch 4, DataLoader, per-image transform", "notes"),
        ("tinyvision train_classifier, batch 128", "ours128"),
        ("tinyvision train_classifier, batch 512", "ours512"),
    ]
    for label, key in rows:
        print(f"  {label:<56}{best[key][0]:>12.0f}{best[key][1]:>12.0f}")
    for key in ("ours128", "ours512"):
        wall = best[key][0] / best["notes"][0]
        cpu = best[key][1] / best["notes"][1]
        print(f"  ratio {key[4:]:>3} / notes: {wall:.1f}x wall, {cpu:.1f}x CPU time")


if __name__ == "__main__":
    main()
