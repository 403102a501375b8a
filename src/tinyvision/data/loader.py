"""Detection training batches: images in memory, augmentation in worker threads.

:func:`load_images` decodes a data set's images once
(:func:`tinyvision.data.images.read_image`, resized so the longer side is the training
size) with their labels as ``[N, 5]`` arrays ``(class, x1, y1, x2, y2)`` in the
resized pixels. :class:`DetectionLoader` cuts an epoch into batches and builds each one —
mosaic, random perspective, HSV jitter, flip (:mod:`tinyvision.data.augment`), then the
float tensor — in a pool of threads, a few batches ahead of the training step. OpenCV and
numpy release the GIL in the heavy parts, so the threads run beside the training.

Every random choice of sample ``j`` of epoch ``e`` comes from a generator seeded with
``(seed, e, j)``: the batches do not depend on the number of threads or on timing, and a
run resumed at epoch ``e`` sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from tinyvision._errors import UserError
from tinyvision._validate import check_float, check_int, describe
from tinyvision.data.augment import (
    _augment_hsv,
    _check_image,
    _check_labels,
    _hflip,
    _letterbox,
    _mosaic,
    _random_perspective,
    resize_longest,
)
from tinyvision.data.images import read_image
from tinyvision.structures import DetectionDataset

__all__ = [
    "AugmentConfig",
    "DetectionBatch",
    "DetectionLoader",
    "LoadedImages",
    "augmented_sample",
    "collate",
    "load_images",
    "subset_images",
]


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation (YOLOv5's hyp names; fractions unless stated)."""

    mosaic: float = 1.0  # probability that a sample is a 4-image mosaic
    degrees: float = 0.0  # rotation, +/- degrees
    translate: float = 0.1  # translation, +/- fraction of the image
    scale: float = 0.5  # zoom in [1 - scale, 1 + scale]
    shear: float = 0.0  # shear, +/- degrees
    perspective: float = 0.0  # perspective, +/- (0 to 0.001)
    hsv_h: float = 0.015  # hue gain
    hsv_s: float = 0.7  # saturation gain
    hsv_v: float = 0.4  # value gain
    fliplr: float = 0.5  # probability of a left-right flip

    def __post_init__(self) -> None:
        for name in ("mosaic", "fliplr"):
            check_float(getattr(self, name), name, minimum=0.0, maximum=1.0)
        for name in ("degrees", "shear", "perspective", "hsv_h", "hsv_s", "hsv_v"):
            check_float(getattr(self, name), name, minimum=0.0)
        check_float(self.translate, "translate", minimum=0.0, maximum=0.5)
        check_float(self.scale, "scale", minimum=0.0, maximum=1.0, max_inclusive=False)


@dataclass(frozen=True)
class LoadedImages:
    """A data set's images decoded and resized for training or evaluation.

    Attributes:
        dataset: the ground truth of the images kept (all of them unless some were
            unreadable and skipped).
        images: per image ``uint8[h, w, 3]`` RGB, the longer side resized to the size.
        labels: per image ``float64[N, 5]`` ``(class index, x1, y1, x2, y2)`` in the
            resized pixels (crowd regions left out).
        scales: per image the resize ratio (resized pixels per original pixel).
        skipped: the image files left out as unreadable.
    """

    dataset: DetectionDataset
    images: list[np.ndarray]
    labels: list[np.ndarray]
    scales: list[float]
    skipped: list[str]


def load_images(
    dataset: DetectionDataset, size: int, *, skip_bad: bool = False, threads: int = 4
) -> LoadedImages:
    """Decode every image of ``dataset``, resized so that the longer side is ``size``.

    Raises:
        UserError: an image cannot be decoded, or its size differs from the one the data
            set recorded (a damaged file); with ``skip_bad=True`` such images are left out
            (with their objects) and listed in ``skipped``.
    """
    if not isinstance(dataset, DetectionDataset):
        raise TypeError(f"dataset must be a DetectionDataset, got {describe(dataset)}")
    size = check_int(size, "size", minimum=1)
    threads = check_int(threads, "threads", minimum=1)
    paths = dataset.image_paths()
    index = dataset.category_index()
    boxes = dataset.boxes_xyxy()
    rows = dataset.annotations_by_image()
    recorded = dataset.image_sizes

    def load(i: int) -> tuple[np.ndarray, np.ndarray, float] | str:
        try:
            image = read_image(paths[i])
        except UserError as exc:
            if skip_bad:
                return str(exc)
            raise
        h, w = image.shape[:2]
        if recorded.size and tuple(recorded[i].tolist()) not in ((w, h), (0, 0)):
            message = (
                f"{paths[i]}: the image is {w}x{h}, but its header said "
                f"{recorded[i][0]}x{recorded[i][1]} (a damaged file?)"
            )
            if skip_bad:
                return message
            raise UserError(message)
        resized, ratio = resize_longest(image, size)
        r = rows[i][~dataset.iscrowd[rows[i]]]
        labels = np.zeros((r.size, 5))
        labels[:, 0] = [index[int(c)] for c in dataset.category_id[r]]
        labels[:, 1:] = boxes[r] * ratio
        return resized, labels, ratio

    with ThreadPoolExecutor(max_workers=threads) as pool:
        loaded = list(pool.map(load, range(dataset.num_images)))
    kept = [i for i, item in enumerate(loaded) if not isinstance(item, str)]
    skipped = [item for item in loaded if isinstance(item, str)]
    if skipped:
        dataset = subset_images(dataset, kept)
    good = [item for item in loaded if not isinstance(item, str)]
    return LoadedImages(
        dataset,
        [item[0] for item in good],
        [item[1] for item in good],
        [item[2] for item in good],
        skipped,
    )


def subset_images(dataset: DetectionDataset, keep: Sequence[int]) -> DetectionDataset:
    """The data set restricted to the images at positions ``keep`` (and their objects)."""
    positions = np.asarray(keep, dtype=np.int64)
    image_ids = dataset.image_ids[positions]
    rows = np.isin(dataset.image_id, image_ids)
    return DetectionDataset.from_columns(
        image_id=dataset.image_id[rows],
        category_id=dataset.category_id[rows],
        bbox=dataset.bbox[rows],
        image_ids=image_ids,
        category_ids=dataset.category_ids,
        category_names=dataset.category_names,
        area=dataset.area[rows],
        iscrowd=dataset.iscrowd[rows],
        ignore=dataset.ignore[rows],
        annotation_id=dataset.annotation_id[rows],
        image_files=[dataset.image_files[i] for i in positions] if dataset.image_files else None,
        image_sizes=dataset.image_sizes[positions] if dataset.image_sizes.size else None,
        image_root=dataset.image_root,
    )


def augmented_sample(
    images: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    index: int,
    size: int,
    config: AugmentConfig,
    rng: np.random.Generator,
    *,
    use_mosaic: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """One training sample: a mosaic of image ``index`` and 3 random others (with
    probability ``config.mosaic``) or the letterboxed image alone, then random perspective,
    HSV jitter and flip.

    Args:
        images, labels: from :func:`load_images` (``uint8[h, w, 3]``, ``[N, 5]`` pixels).
        index: the sample's image.
        size: the output side.
        config: the augmentation.
        rng: every random draw.

    Returns:
        ``uint8[size, size, 3]`` and ``float64[M, 5]``.
    """
    if len(images) != len(labels):
        raise ValueError(
            f"images and labels must have the same length, got {len(images)} and {len(labels)}"
        )
    if not images:
        raise ValueError("images must hold at least one image, got none")
    images = [_check_image(image, f"images[{i}]") for i, image in enumerate(images)]
    labels = [_check_labels(label, f"labels[{i}]") for i, label in enumerate(labels)]
    index = check_int(index, "index", minimum=0, maximum=len(images) - 1)
    size = check_int(size, "size", minimum=1)
    if not isinstance(config, AugmentConfig):
        raise TypeError(f"config must be an AugmentConfig, got {describe(config)}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {describe(rng)}")
    return _augmented_sample(images, labels, index, size, config, rng, use_mosaic=bool(use_mosaic))


def _augmented_sample(
    images: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    index: int,
    size: int,
    config: AugmentConfig,
    rng: np.random.Generator,
    *,
    use_mosaic: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`augmented_sample` on inputs already checked (by :func:`load_images`)."""
    if use_mosaic and config.mosaic > 0 and rng.random() < config.mosaic:
        picks = [index, *rng.integers(0, len(images), size=3).tolist()]
        xc, yc = (int(v) for v in rng.uniform(size / 2, 3 * size / 2, size=2))  # as mosaic()
        canvas, boxes = _mosaic(
            [images[k] for k in picks], [labels[k] for k in picks], size, xc, yc, 114
        )
    else:
        canvas, ratio, (pad_x, pad_y) = _letterbox(images[index], size)
        boxes = labels[index].copy()
        boxes[:, 1:] *= ratio
        boxes[:, [1, 3]] += pad_x
        boxes[:, [2, 4]] += pad_y
    # the internal forms of the augment functions: the inputs were checked when loaded
    image, boxes = _random_perspective(
        canvas,
        boxes,
        config.degrees,
        config.translate,
        config.scale,
        config.shear,
        config.perspective,
        (size, size),
        114,
        rng,
    )
    if config.hsv_h or config.hsv_s or config.hsv_v:
        image = _augment_hsv(image, (config.hsv_h, config.hsv_s, config.hsv_v), rng)
    if config.fliplr and rng.random() < config.fliplr:
        image, boxes = _hflip(image, boxes)
    return image, boxes


@dataclass(frozen=True)
class DetectionBatch:
    """A training batch: ``images`` float32 ``[B, 3, S, S]`` in [0, 1] and ``targets``
    float32 ``[M, 6]`` rows ``(image index, class, cx, cy, w, h)`` normalised by ``S``."""

    images: torch.Tensor
    targets: torch.Tensor
    build_seconds: float  # time a worker spent building this batch


def collate(
    samples: Sequence[tuple[np.ndarray, np.ndarray]], size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack samples into ``(images float32[B, 3, S, S] in [0, 1], targets float32[M, 6])``.

    Each sample is ``(uint8[S, S, 3], float[N, 5])`` as :func:`augmented_sample` returns;
    target rows are ``(sample index, class, cx, cy, w, h)`` normalised by ``S``. No samples
    give ``[0, 3, S, S]`` and ``[0, 6]``.
    """
    size = check_int(size, "size", minimum=1)
    for i, sample in enumerate(samples):
        if not isinstance(sample, tuple) or len(sample) != 2:
            raise TypeError(f"samples[{i}] must be an (image, labels) pair, got {describe(sample)}")
        image, boxes = sample
        _check_image(image, f"samples[{i}] image")
        if image.shape != (size, size, 3):
            raise ValueError(
                f"samples[{i}] image must have shape ({size}, {size}, 3), got {image.shape}"
            )
        if not isinstance(boxes, np.ndarray) or boxes.ndim != 2 or boxes.shape[1] != 5:
            raise ValueError(
                f"samples[{i}] labels must be a numpy array [N, 5], got {describe(boxes)}"
            )
    if not samples:
        return torch.zeros((0, 3, size, size)), torch.zeros((0, 6))
    stacked = np.stack([image for image, _ in samples]).transpose(0, 3, 1, 2)  # (B, 3, S, S)
    images = torch.from_numpy(np.ascontiguousarray(stacked)).float().div_(255.0)
    rows = []
    for i, (_, boxes) in enumerate(samples):
        if boxes.shape[0] == 0:
            continue
        t = np.empty((boxes.shape[0], 6), dtype=np.float32)
        t[:, 0] = i
        t[:, 1] = boxes[:, 0]
        t[:, 2] = (boxes[:, 1] + boxes[:, 3]) / (2 * size)
        t[:, 3] = (boxes[:, 2] + boxes[:, 4]) / (2 * size)
        t[:, 4] = (boxes[:, 3] - boxes[:, 1]) / size
        t[:, 5] = (boxes[:, 4] - boxes[:, 2]) / size
        rows.append(t)
    targets = torch.from_numpy(np.concatenate(rows)) if rows else torch.zeros((0, 6))
    return images, targets


class DetectionLoader:
    """Augmented training batches, built by ``workers`` threads ahead of the consumer.

    Args:
        images, labels: from :func:`load_images`.
        size: square training size (a multiple of 32).
        batch_size: images per step over all ranks together.
        config: augmentation settings.
        seed: seeds the order and every augmentation.
        workers: threads building batches (0: build in the calling thread).
        prefetch: batches built ahead per worker.
        rank, world_size: this process's share of every batch under DDP.
        drop_last: skip an epoch's last incomplete batch (when there is more than one).

    ``wait_seconds`` and ``build_seconds`` accumulate the time the consumer waited for
    batches and the time the workers spent building them.
    """

    def __init__(
        self,
        images: Sequence[np.ndarray],
        labels: Sequence[np.ndarray],
        size: int,
        batch_size: int,
        config: AugmentConfig | None = None,
        *,
        seed: int = 0,
        workers: int = 2,
        prefetch: int = 2,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = True,
    ) -> None:
        if len(images) != len(labels):
            raise ValueError(
                f"images and labels must have the same length, got {len(images)} and {len(labels)}"
            )
        if not images:
            raise ValueError("the training set has no images")
        self.images, self.labels = list(images), list(labels)
        self.size = check_int(size, "size", minimum=32)
        if self.size % 32:
            raise ValueError(f"size must be a multiple of 32, got {self.size}")
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.config = config or AugmentConfig()
        self.seed = check_int(seed, "seed", minimum=0)
        self.workers = check_int(workers, "workers", minimum=0)
        self.prefetch = check_int(prefetch, "prefetch", minimum=1)
        self.world_size = check_int(world_size, "world_size", minimum=1)
        self.rank = check_int(rank, "rank", minimum=0, maximum=self.world_size - 1)
        self.drop_last = drop_last
        smallest = self._smallest_batch()
        if smallest < self.world_size:
            raise ValueError(
                f"a batch of {smallest} image(s) cannot be shared by world_size="
                f"{self.world_size} processes ({len(self.images)} images, batch_size="
                f"{self.batch_size}, drop_last={drop_last}): each process needs at least one"
            )
        self.wait_seconds = 0.0
        self.build_seconds = 0.0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        n = len(self.images)
        if self.drop_last and n >= self.batch_size:
            return n // self.batch_size
        return math.ceil(n / self.batch_size)

    def _smallest_batch(self) -> int:
        """The number of images in the epoch's smallest batch."""
        n, b = len(self.images), self.batch_size
        if n < b:
            return n
        return b if self.drop_last or n % b == 0 else n % b

    def order(self, epoch: int) -> np.ndarray:
        """The epoch's permutation of the images."""
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.images))

    def build(self, epoch: int, step: int, *, use_mosaic: bool = True) -> DetectionBatch:
        """Batch ``step`` of ``epoch`` (this rank's share), built in the calling thread."""
        start = time.perf_counter()
        order = self.order(epoch)
        positions = range(step * self.batch_size, min((step + 1) * self.batch_size, order.size))
        mine = list(positions)[self.rank :: self.world_size]
        samples = [
            _augmented_sample(
                self.images,
                self.labels,
                int(order[j]),
                self.size,
                self.config,
                np.random.default_rng([self.seed, epoch, j]),
                use_mosaic=use_mosaic,
            )
            for j in mine
        ]
        images, targets = collate(samples, self.size)
        seconds = time.perf_counter() - start
        with self._lock:
            self.build_seconds += seconds
        return DetectionBatch(images, targets, seconds)

    def epoch(self, epoch: int, *, use_mosaic: bool = True) -> Iterator[DetectionBatch]:
        """The batches of ``epoch``, in order."""
        steps = range(len(self))
        if self.workers == 0:
            for step in steps:
                yield self.build(epoch, step, use_mosaic=use_mosaic)
            return
        import cv2

        cv2.setNumThreads(1)  # the pool is the parallelism; no nested OpenCV threads
        ahead = self.workers * self.prefetch
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="tv-loader") as pool:
            pending: deque[Future[DetectionBatch]] = deque()
            queue = iter(steps)
            for step in queue:
                pending.append(pool.submit(self.build, epoch, step, use_mosaic=use_mosaic))
                if len(pending) >= ahead:
                    break
            try:
                while pending:
                    waited = time.perf_counter()
                    batch = pending.popleft().result()
                    self.wait_seconds += time.perf_counter() - waited
                    step = next(queue, None)
                    if step is not None:
                        pending.append(pool.submit(self.build, epoch, step, use_mosaic=use_mosaic))
                    yield batch
            finally:
                for future in pending:
                    future.cancel()
