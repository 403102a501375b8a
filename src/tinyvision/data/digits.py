"""The 8x8 handwritten digits bundled with scikit-learn (1 797 images, 10 classes), offline.

scikit-learn is only needed for this data set: install it with ``pip install
'tinyvision[digits]'`` (it is part of the ``dev`` extra too).
"""

from __future__ import annotations

import numpy as np
import torch

from tinyvision._errors import UserError
from tinyvision.data.dataset import ImageDataset, stratified_split

__all__ = ["DIGITS_CLASSES", "load_digits"]

DIGITS_CLASSES = tuple(str(d) for d in range(10))


def load_digits(*, test_fraction: float = 0.2, seed: int = 0) -> tuple[ImageDataset, ImageDataset]:
    """The digits with a fixed stratified train/test split; returns ``(train, test)``.

    With the defaults the split is 80/20 (1438 training / 359 test images) and always the
    same. It is our own stratified split (:func:`~tinyvision.data.dataset.stratified_split`:
    ``round(test_fraction * n)`` test images per class), not scikit-learn's
    ``train_test_split(..., stratify=y, test_size=0.2)``, which gives 1437 / 360. Images
    are ``Tensor[N, 1, 8, 8]`` uint8 with values 0..16 (``max_value=16``), labels 0..9.
    """
    try:
        from sklearn.datasets import load_digits as _sklearn_digits
    except ImportError as exc:
        raise UserError(
            "the digits data set needs scikit-learn: pip install 'tinyvision[digits]'"
        ) from exc
    bunch = _sklearn_digits()
    images = torch.from_numpy(np.asarray(bunch.images, dtype=np.uint8)[:, None, :, :].copy())
    labels = torch.from_numpy(np.asarray(bunch.target, dtype=np.int64))
    full = ImageDataset(images, labels, DIGITS_CLASSES, 16, "digits")
    train_idx, test_idx = stratified_split(labels, test_fraction, seed=seed)
    return full.subset(train_idx, name="digits/train"), full.subset(test_idx, name="digits/test")
