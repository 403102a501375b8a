"""ToyNet training throughput on CIFAR-shaped data: our trainer against the notes' loop.

The notes' loop: a Dataset that turns one uint8 HWC image at a time into a normalised float
tensor (what ToTensor + Normalize((0.5,)*3, (0.5,)*3) do), a DataLoader with batch size 4
and shuffling, and SGD(lr=0.001, momentum=0.9) with one step per batch. Ours:
``train_classifier`` with the data resident as one tensor, whole-batch augmentation off (the
notes use none), batch 128. Same network, one thread; each contender's whole call is timed
(model, data loader / config and one epoch) by CPU time (the headline) and wall time,
alternating, best and median of rounds (``benchmarks/_protocol.py``); images per second and
ratios per image. Run: ``python benchmarks/train.py`` (``--quick`` for a short run).

Where torchvision is importable (the reference venv: ``PYTHONPATH=src
/work/tvref/bin/python benchmarks/train.py``) the notes' code is also timed literally:
``torchvision.datasets.CIFAR10`` (PIL image per sample, ``ToTensor``, ``Normalize``) over
random images written in the CIFAR-10 python format, with ``num_workers`` 0 and 2 (the
notes use 2); ``--require-torchvision`` makes its absence a failure (exit 1).
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy and torch load

# isort: split
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from tinyvision.data import ImageDataset
from tinyvision.nn import ToyNet
from tinyvision.train import TrainConfig, train_classifier


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


def notes_loop(images: np.ndarray, labels: np.ndarray) -> None:
    """One epoch of the notes' training loop over ``images``."""
    torch.manual_seed(0)
    net = ToyNet()
    loader = torch.utils.data.DataLoader(
        NotesDataset(images, labels), batch_size=4, shuffle=True, num_workers=0
    )
    notes_epoch(net, loader)


def notes_epoch(net: torch.nn.Module, loader: torch.utils.data.DataLoader) -> None:
    """The notes' loop: SGD(lr=0.001, momentum=0.9), one step per batch, loss summed."""
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    running_loss = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(net(inputs), targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()  # the notes accumulate the loss for printing


def torchvision_notes_loop(root: str, n: int, workers: int) -> None:
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
    notes_epoch(ToyNet(), loader)


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


def our_trainer(data: ImageDataset, batch_size: int) -> None:
    """One epoch of ``train_classifier`` (data resident, no augmentation, like the notes)."""
    torch.manual_seed(0)
    config = TrainConfig(
        epochs=1, batch_size=batch_size, lr=0.05, label_smoothing=0.0, normalization="notes"
    )
    train_classifier(ToyNet(), data, config)


ROWS = (
    ("notes' loop: batch 4, DataLoader, per-image transform", "notes"),
    ("notes' code via torchvision CIFAR10, num_workers=0", "tv0"),
    ("notes' code via torchvision CIFAR10, num_workers=2 (*)", "tv2"),
    ("tinyvision train_classifier, batch 128", "ours128"),
    ("tinyvision train_classifier, batch 512", "ours512"),
)


def torchvision_folder(
    bench: _protocol.Bench, images: np.ndarray, labels: np.ndarray, required: bool
) -> str | None:
    """A temporary CIFAR-10 folder for torchvision's dataset, or None without torchvision."""
    try:
        import torchvision  # noqa: F401
    except ImportError:
        if required:
            bench.missing("notes' code via torchvision", "torchvision", "the reference venv")
        else:
            bench.note("torchvision not importable: the notes' literal code was not timed")
        return None
    import tempfile

    root = tempfile.mkdtemp(prefix="tinyvision-bench-")
    write_cifar_folder(Path(root), images, labels)
    return root


def report(bench: _protocol.Bench, t: dict[str, _protocol.Timing], n: dict[str, int]) -> None:
    """Per-image timings, images/s and the ratios to the notes' loop."""
    per = {key: timing.per(n[key]) for key, timing in t.items()}
    for label, key in ROWS:
        if key in per:
            bench.add_timing(f"{label}, per image", per[key], label=key)
    print(f"{'':58}{'wall img/s':>12}{'CPU img/s':>12}  (best of {len(t['notes'].cpu)})")
    for label, key in ROWS:
        if key in per:
            print(f"  {label:<56}{1 / per[key].wall_best:>12.0f}{1 / per[key].cpu_best:>12.0f}")
    for key in ("ours128", "ours512"):
        bench.add_ratio(
            f"ToyNet epoch per image, batch {key[4:]} against the notes' loop",
            ours=per[key],
            anchor=per["notes"],
            anchor_name="notes' loop",
        )
        if "tv2" in per:
            bench.add_ratio(
                f"ToyNet epoch per image, batch {key[4:]} against torchvision num_workers=2 (*)",
                ours=per[key],
                anchor=per["tv2"],
                anchor_name="torchvision nw=2",
            )
    if "tv2" in per:
        bench.note("(*) CPU time of the main process only: the workers' time is not counted")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument(
        "--require-torchvision",
        action="store_true",
        help="fail (exit 1) when torchvision is missing instead of leaving its rows out",
    )
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    bench = _protocol.Bench.from_args(args, anchor_name="notes' loop")
    n_notes, n_ours, rounds = (400, 2048, 1) if args.quick else (4000, 16384, 3)
    bench.note(
        f"ToyNet training on CIFAR-shaped 3x32x32 random images, torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s); notes' loop {n_notes} images, ours {n_ours}"
    )
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
    tv_root = torchvision_folder(
        bench, images[:n_notes], labels[:n_notes], args.require_torchvision
    )
    sides = {"notes": lambda: notes_loop(images[:n_notes], labels[:n_notes])}
    if tv_root is not None:
        for workers in (0, 2):
            sides[f"tv{workers}"] = lambda w=workers: torchvision_notes_loop(tv_root, n_notes, w)
    sides["ours128"] = lambda: our_trainer(data, 128)
    sides["ours512"] = lambda: our_trainer(data, 512)
    try:
        timings = bench.time_alternating(sides, rounds, warmup=False)
    except Exception as exc:
        bench.fail("training throughput", f"raised {type(exc).__name__}: {exc}")
    else:
        n = {key: n_ours if key.startswith("ours") else n_notes for key in sides}
        report(bench, timings, n)
    finally:
        if tv_root is not None:
            import shutil

            shutil.rmtree(tv_root)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
