"""The detection loader's public pieces: bad input, empty input, the checked entry points."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from tinyvision._errors import UserError
from tinyvision.data.formats import read_yolo
from tinyvision.data.images import read_image
from tinyvision.data.loader import (
    AugmentConfig,
    DetectionLoader,
    augmented_sample,
    collate,
    load_images,
)


def small_set(n: int = 3, size: int = 32) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]
    labels = [np.array([[k % 2, 4.0, 4.0, 20.0, 24.0]]) for k in range(n)]
    return images, labels


def test_read_image_bad_input(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike, got 3 \(int\)"):
        read_image(3)  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"none\.png: cannot read \(No such file"):
        read_image(tmp_path / "none.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(UserError, match=r"empty\.png: not a readable image"):
        read_image(tmp_path / "empty.png")
    grey = np.full((5, 7), 200, np.uint8)  # a grey image comes back as RGB
    cv2.imwrite(str(tmp_path / "g.png"), grey)
    assert read_image(str(tmp_path / "g.png")).shape == (5, 7, 3)


def test_load_images_bad_input(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"dataset must be a DetectionDataset, got \{\} \(dict\)"):
        load_images({}, 32)  # type: ignore[arg-type]
    (tmp_path / "images" / "val").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "images" / "val" / "1.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "data.yaml").write_text("val: images/val\nnames: [a]\n")
    data = read_yolo(tmp_path)
    with pytest.raises(ValueError, match="size"):
        load_images(data, 0)
    with pytest.raises(ValueError, match="threads"):
        load_images(data, 32, threads=0)
    (tmp_path / "images" / "val" / "1.png").write_bytes(b"damaged")
    with pytest.raises(UserError, match=r"1\.png: not a readable image"):
        load_images(data, 32)
    assert load_images(data, 32, skip_bad=True).skipped == [
        f"{tmp_path / 'images' / 'val' / '1.png'}: not a readable image"
    ]


def test_collate_empty_and_bad_input() -> None:
    images, targets = collate([], 32)
    assert images.shape == (0, 3, 32, 32) and targets.shape == (0, 6)
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(TypeError, match=r"samples\[0\] must be an \(image, labels\) pair"):
        collate([image], 32)  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"samples\[1\] image must have shape \(32, 32, 3\)"):
        collate([(image, np.zeros((0, 5))), (image[:16], np.zeros((0, 5)))], 32)
    with pytest.raises(TypeError, match="dtype uint8"):
        collate([(image.astype(np.float32), np.zeros((0, 5)))], 32)
    with pytest.raises(ValueError, match=r"labels must be a numpy array \[N, 5\]"):
        collate([(image, np.zeros((1, 4)))], 32)
    with pytest.raises(ValueError, match="size"):
        collate([], 0)
    # by hand: box (class 1) 8..24 x 0..16 in a 32 image: cx 16/32, cy 8/32, w 16/32, h 16/32
    _, targets = collate([(image, np.zeros((0, 5))), (image, np.array([[1, 8, 0, 24, 16]]))], 32)
    assert targets.tolist() == [[1.0, 1.0, 0.5, 0.25, 0.5, 0.5]]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"labels": small_set(2)[1]}, ValueError, "same length"),
        ({"images": [], "labels": []}, ValueError, "at least one image"),
        ({"index": 3}, ValueError, "index"),
        ({"index": -1}, ValueError, "index"),
        ({"size": 0}, ValueError, "size"),
        ({"config": {}}, TypeError, "config must be an AugmentConfig"),
        ({"rng": 0}, TypeError, "rng must be a numpy.random.Generator"),
        ({"labels": [np.zeros((1, 4))] * 3}, ValueError, r"labels\[0\] must have shape"),
        ({"images": [np.zeros((32, 32), np.uint8)] * 3}, ValueError, r"images\[0\] must have"),
    ],
)
def test_augmented_sample_bad_input(change: dict, error: type, match: str) -> None:
    images, labels = small_set()
    args = {
        "images": images,
        "labels": labels,
        "index": 0,
        "size": 32,
        "config": AugmentConfig(),
        "rng": np.random.default_rng(0),
        **change,
    }
    with pytest.raises(error, match=match):
        augmented_sample(**args)


def test_augmented_sample_is_what_the_loader_builds() -> None:
    images, labels = small_set(4)
    loader = DetectionLoader(images, labels, 32, 2, seed=5, workers=0)
    batch = loader.build(1, 0)
    order = loader.order(1)
    samples = [
        augmented_sample(
            images, labels, int(order[j]), 32, loader.config, np.random.default_rng([5, 1, j])
        )
        for j in range(2)
    ]
    images_t, targets_t = collate(samples, 32)
    assert torch.equal(batch.images, images_t) and torch.equal(batch.targets, targets_t)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"world_size": 0}, ValueError, "world_size"),
        ({"rank": 2, "world_size": 2}, ValueError, "rank"),
        ({"rank": -1}, ValueError, "rank"),
        ({"rank": 1.0, "world_size": 2}, TypeError, "rank"),
        # 3 images, batch 4: one batch of 3 for 4 processes
        ({"batch_size": 4, "world_size": 4, "rank": 0}, ValueError, "a batch of 3 image"),
        # 3 images, batch 2, kept last batch of 1 for 2 processes
        ({"batch_size": 2, "world_size": 2, "drop_last": False}, ValueError, "a batch of 1 image"),
    ],
)
def test_loader_ranks_bad_input(kwargs: dict, error: type, match: str) -> None:
    images, labels = small_set(3)
    args = {"batch_size": 2, "workers": 0, **kwargs}
    with pytest.raises(error, match=match):
        DetectionLoader(images, labels, 32, **args)


def test_loader_every_rank_gets_images() -> None:
    images, labels = small_set(3)
    # batch 2, last batch dropped: every step gives each of 2 ranks one image
    for rank in (0, 1):
        loader = DetectionLoader(images, labels, 32, 2, workers=0, rank=rank, world_size=2)
        assert [b.images.shape[0] for b in loader.epoch(0)] == [1]
