"""``ImageDataset``: a labelled image classification data set held as two tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tinyvision._validate import check_int, describe

__all__ = ["ImageDataset", "stratified_split"]


@dataclass(frozen=True)
class ImageDataset:
    """Images and labels of a classification data set.

    Attributes:
        images (Tensor[N, C, H, W] uint8): pixel values in ``[0, max_value]``.
        labels (Tensor[N] int64): class indices in ``[0, len(classes))``.
        classes: the class names, index ``k`` naming label ``k``.
        max_value: the brightest pixel value (255 for CIFAR-10, 16 for the digits);
            :meth:`float_images` divides by it.
        name: a short name for reports, e.g. ``"cifar10/train"``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    max_value: int = 255
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.images, torch.Tensor) or self.images.ndim != 4:
            raise ValueError(f"images must be a Tensor[N, C, H, W], got {describe(self.images)}")
        if self.images.dtype != torch.uint8:
            raise TypeError(f"images must have dtype uint8, got {describe(self.images)}")
        if not isinstance(self.labels, torch.Tensor) or self.labels.dtype != torch.int64:
            raise TypeError(f"labels must be an int64 Tensor[N], got {describe(self.labels)}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"labels must have shape ({self.images.shape[0]},) to match images, "
                f"got {tuple(self.labels.shape)}"
            )
        if self.labels.numel() and (
            int(self.labels.min()) < 0 or int(self.labels.max()) >= len(self.classes)
        ):
            raise ValueError(
                f"labels must lie in [0, {len(self.classes)}), got values in "
                f"[{int(self.labels.min())}, {int(self.labels.max())}]"
            )
        check_int(self.max_value, "max_value", minimum=1, maximum=255)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``."""
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def float_images(self, device: torch.device | str | None = None) -> torch.Tensor:
        """``Tensor[N, C, H, W]`` float32 in [0, 1] on ``device`` (converted there)."""
        images = self.images.to(device) if device is not None else self.images
        return images.to(torch.float32) / self.max_value

    def upscale(self, factor: int) -> ImageDataset:
        """Each pixel becomes a ``factor x factor`` block (nearest neighbour, exact in uint8).

        E.g. the 8x8 digits at ``factor=4`` fit the notes' 32x32 ToyNet. ``factor=1``
        returns ``self``.
        """
        factor = check_int(factor, "factor", minimum=1)
        if factor == 1:
            return self
        images = self.images.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)
        return ImageDataset(images, self.labels, self.classes, self.max_value, self.name)

    def subset(self, index: torch.Tensor | np.ndarray, *, name: str | None = None) -> ImageDataset:
        """The samples at ``index`` (an integer index array), as a new data set."""
        index = torch.as_tensor(index, dtype=torch.int64)
        return ImageDataset(
            self.images[index],
            self.labels[index],
            self.classes,
            self.max_value,
            self.name if name is None else name,
        )


def stratified_split(
    labels: torch.Tensor | np.ndarray, test_fraction: float = 0.2, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split sample indices into train and test keeping each class's proportion.

    Each class's indices are shuffled (``numpy.random.default_rng(seed)``) and the first
    ``round(test_fraction * n_class)`` go to the test side. Returns two sorted int64 index
    arrays ``(train, test)`` that together cover every sample once.
    """
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got an array of shape {y.shape}")
    rng = np.random.default_rng(seed)
    test_parts = []
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        rng.shuffle(members)
        test_parts.append(members[: round(test_fraction * len(members))])
    test = np.sort(np.concatenate(test_parts)) if test_parts else np.zeros(0, np.int64)
    train = np.setdiff1d(np.arange(len(y)), test)
    return train.astype(np.int64), test.astype(np.int64)
