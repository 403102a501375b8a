"""Whole-batch transforms against per-image reference loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision.data.transforms import channel_stats, normalize, random_flip, random_translate


def test_normalize_notes_maps_unit_interval_to_minus_one_one() -> None:
    x = torch.tensor([0.0, 0.5, 1.0]).view(1, 1, 1, 3).expand(1, 3, 1, 3)
    y = normalize(x, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    assert torch.equal(y[0, 0, 0], torch.tensor([-1.0, 0.0, 1.0]))


def test_channel_stats_match_numpy() -> None:
    x = torch.rand(7, 3, 4, 5, dtype=torch.float64)
    mean, std = channel_stats(x)
    ref = x.numpy().transpose(1, 0, 2, 3).reshape(3, -1)
    assert np.allclose(mean, ref.mean(axis=1), rtol=1e-14)
    assert np.allclose(std, ref.std(axis=1), rtol=1e-12)
    z = normalize(x, mean, std)
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=torch.float64), atol=1e-12)


def test_normalize_bad_input() -> None:
    x = torch.zeros(1, 2, 3, 3)
    with pytest.raises(ValueError, match="one value per channel"):
        normalize(x, [0.5], [0.5])
    with pytest.raises(ValueError, match="std must be positive"):
        normalize(x, [0, 0], [1, 0])
    with pytest.raises(ValueError, match=r"float Tensor\[N, C, H, W\]"):
        normalize(torch.zeros(2, 3, 3), [0], [1])
    with pytest.raises(ValueError, match=r"float Tensor\[N, C, H, W\]"):
        random_flip(torch.zeros(1, 1, 2, 2, dtype=torch.uint8))
    with pytest.raises(TypeError, match="images must be a torch.Tensor"):
        random_translate(np.zeros((1, 1, 2, 2)), 1)


def test_random_flip_flips_each_image_or_not() -> None:
    x = torch.rand(64, 2, 3, 5)
    y = random_flip(x, generator=torch.Generator().manual_seed(0))
    flipped = [torch.equal(y[i], x[i].flip(-1)) for i in range(64)]
    kept = [torch.equal(y[i], x[i]) for i in range(64)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 16 < sum(flipped) < 48
    again = random_flip(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again, y)


def reference_translate(x, r, offsets, mode, fill):
    """Pad each image, then crop at its offset: one image at a time."""
    out = torch.empty_like(x)
    for i in range(x.shape[0]):
        img = x[i : i + 1]
        if mode == "reflect":
            padded = F.pad(img, (r, r, r, r), mode="reflect")
        else:
            padded = F.pad(img, (r, r, r, r), value=fill)
        dy, dx = int(offsets[0, i]), int(offsets[1, i])
        out[i] = padded[0, :, dy : dy + x.shape[2], dx : dx + x.shape[3]]
    return out


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 6),
    r=st.integers(1, 3),
    h=st.integers(4, 7),
    w=st.integers(4, 7),
    mode=st.sampled_from(["zeros", "reflect"]),
    seed=st.integers(0, 1000),
)
def test_random_translate_matches_pad_and_crop(n, r, h, w, mode, seed) -> None:
    x = torch.rand(n, 2, h, w)
    y = random_translate(
        x, r, padding_mode=mode, fill=-1.0, generator=torch.Generator().manual_seed(seed)
    )
    offsets = torch.randint(0, 2 * r + 1, (2, n), generator=torch.Generator().manual_seed(seed))
    assert torch.equal(y, reference_translate(x, r, offsets, mode, -1.0))


def test_translate_by_one_pixel_hand_case() -> None:
    # A single 1 at (1, 1) of a 3x3 image moves to (1 + 1 - dy, 1 + 1 - dx) for offsets (dy, dx).
    x = torch.zeros(200, 1, 3, 3)
    x[:, 0, 1, 1] = 1.0
    y = random_translate(x, 1, generator=torch.Generator().manual_seed(1))
    offsets = torch.randint(0, 3, (2, 200), generator=torch.Generator().manual_seed(1))
    for i in range(200):
        assert y[i, 0, 2 - offsets[0, i], 2 - offsets[1, i]] == 1.0 and y[i].sum() == 1.0


def test_translate_zero_shift_and_errors() -> None:
    x = torch.rand(2, 1, 4, 4)
    assert torch.equal(random_translate(x, 0), x)
    with pytest.raises(ValueError, match="max_shift must be < the image size"):
        random_translate(x, 4, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        random_translate(x, 1, padding_mode="wrap")
    with pytest.raises(ValueError, match="max_shift must be >= 0"):
        random_translate(x, -1)


@pytest.mark.parametrize(
    ("mean", "std", "error", "message"),
    [
        ([0.0, float("nan")], [1.0, 1.0], ValueError, r"mean\[1\] must not be NaN"),
        ([0.0, 0.0], [1.0, float("inf")], ValueError, r"std must be finite, got \[1.0, inf\]"),
        ([0.0, float("-inf")], [1.0, 1.0], ValueError, "mean must be finite"),
        (["a", 0.0], [1.0, 1.0], TypeError, r"mean\[0\] must be a real number, got 'a'"),
        ([0.0, 0.0], [1.0, True], TypeError, r"std\[1\] must be a real number, got True"),
        (0.5, [1.0, 1.0], TypeError, r"mean must be a sequence of 2 numbers .*got 0.5 \(float\)"),
        ([0.0, 0.0], 0.5, TypeError, r"std must be a sequence of 2 numbers"),
        ("ab", [1.0, 1.0], TypeError, "mean must be a sequence of 2 numbers"),
        (torch.zeros(2, 1), [1.0, 1.0], ValueError, r"mean must hold one value per channel"),
        ([0.0, 0.0], [1.0, 1.0, 1.0], ValueError, r"std must have one value per channel \(2\)"),
    ],
)
def test_normalize_refuses_bad_statistics(mean, std, error, message) -> None:
    with pytest.raises(error, match=message):
        normalize(torch.zeros(1, 2, 3, 3), mean, std)


def test_normalize_takes_arrays_and_tensors_as_statistics() -> None:
    x = torch.rand(2, 2, 3, 3)
    expected = normalize(x, [0.25, 0.5], [0.5, 2.0])
    assert torch.equal(normalize(x, np.array([0.25, 0.5]), torch.tensor([0.5, 2.0])), expected)
    assert torch.equal(normalize(x, (0.25, 0.5), (0.5, 2)), expected)


@pytest.mark.parametrize(
    ("fill", "error", "message"),
    [
        (float("nan"), ValueError, "fill must not be NaN"),
        (float("inf"), ValueError, "fill must be finite, got inf"),
        ("0", TypeError, "fill must be a real number"),
        (None, TypeError, "fill must be a real number"),
    ],
)
def test_translate_refuses_a_bad_fill(fill, error, message) -> None:
    with pytest.raises(error, match=message):
        random_translate(torch.rand(2, 1, 4, 4), 1, fill=fill)
    # a finite fill fills the new pixels: a shift of 1 on a 1x1 image leaves only fill
    # unless the offset is (1, 1), the original pixel
    y = random_translate(
        torch.ones(50, 1, 1, 1), 1, fill=-2.5, generator=torch.Generator().manual_seed(0)
    )
    assert set(y.flatten().tolist()) == {1.0, -2.5}
