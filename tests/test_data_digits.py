"""The digits data set, its fixed stratified split, ImageDataset and stratified_split."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits as sklearn_digits

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision.data import ImageDataset, load_digits, stratified_split


def test_digits_split_is_fixed_stratified_and_complete() -> None:
    train, test = load_digits()
    assert (len(train), len(test)) == (1438, 359)
    assert train.images.shape[1:] == (1, 8, 8) and train.max_value == 16
    assert train.classes == tuple("0123456789")
    reference = sklearn_digits()
    # Every image appears once, with its label, on one side only.
    both = torch.cat([train.images, test.images]).reshape(-1, 64).numpy()
    labels = torch.cat([train.labels, test.labels]).numpy()
    ref = np.asarray(reference.data, dtype=np.uint8)
    order = np.lexsort(np.c_[ref, reference.target].T[::-1])
    mine = np.lexsort(np.c_[both, labels].T[::-1])
    assert np.array_equal(both[mine], ref[order])
    assert np.array_equal(labels[mine], reference.target[order])
    # Stratified: each class is 20% of its members in test, to the nearest image.
    for k in range(10):
        n_k = int((reference.target == k).sum())
        assert int((test.labels == k).sum()) == round(0.2 * n_k)
    again_train, again_test = load_digits()
    assert torch.equal(again_train.images, train.images) and torch.equal(
        again_test.labels, test.labels
    )


def test_stratified_split_properties() -> None:
    y = np.repeat(np.arange(4), [10, 20, 5, 1])
    train, test = stratified_split(y, 0.2, seed=3)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.r_[train, test]), np.arange(len(y)))
    # round(0.2 * n) per class: 2, 4, 1, 0 (round(0.2) = 0)
    assert [int((y[test] == k).sum()) for k in range(4)] == [2, 4, 1, 0]
    assert not np.array_equal(stratified_split(y, 0.2, seed=4)[1], test)
    assert np.array_equal(stratified_split(y, 0.2, seed=3)[1], test)


def test_stratified_split_bad_input() -> None:
    with pytest.raises(ValueError, match="test_fraction must be in"):
        stratified_split([0, 1], 1.0)
    with pytest.raises(ValueError, match="labels must be 1-D"):
        stratified_split(np.zeros((2, 2)), 0.5)
    train, test = stratified_split(np.zeros(0, dtype=np.int64), 0.5)
    assert train.size == 0 and test.size == 0


def test_image_dataset_checks_and_helpers() -> None:
    images = torch.arange(2 * 1 * 2 * 2, dtype=torch.uint8).reshape(2, 1, 2, 2)
    data = ImageDataset(images, torch.tensor([0, 1]), ("a", "b"), max_value=7, name="x")
    assert torch.equal(data.float_images(), images.float() / 7)
    up = data.upscale(3)
    assert up.images.shape == (2, 1, 6, 6)
    assert torch.equal(up.images[:, :, ::3, ::3], images)  # each pixel became a 3x3 block
    assert torch.equal(up.images[0, 0, 2, 5], images[0, 0, 0, 1])
    assert data.upscale(1) is data
    assert torch.equal(data.subset([1]).labels, torch.tensor([1]))
    with pytest.raises(TypeError, match="uint8"):
        ImageDataset(images.float(), torch.tensor([0, 1]), ("a", "b"))
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        ImageDataset(images, torch.tensor([0]), ("a", "b"))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        ImageDataset(images, torch.tensor([0, 2]), ("a", "b"))
    with pytest.raises(ValueError, match=r"Tensor\[N, C, H, W\]"):
        ImageDataset(images[0], torch.tensor([0]), ("a", "b"))
