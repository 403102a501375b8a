"""ToyNet (the notes' Net, parametrised) and FastNet."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision.nn import FastNet, ToyNet, build_classifier


class NotesNet(nn.Module):
    """The notes' network, as written there (the reference)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def test_toynet_defaults_are_the_notes_network() -> None:
    ours, notes = ToyNet(), NotesNet()
    # 456 + 2416 + 48120 + 10164 + 850 = 62006 parameters (conv1 3*6*25+6, conv2 6*16*25+16, ...)
    assert sum(p.numel() for p in ours.parameters()) == 62006
    ours.load_state_dict(notes.state_dict())  # same names and shapes
    x = torch.randn(4, 3, 32, 32)
    assert torch.equal(ours(x), notes(x))


@pytest.mark.parametrize(
    ("channels", "size", "classes", "padding", "fc_in"),
    [
        (1, 32, 10, None, 400),  # (32-4)/2=14, (14-4)/2=5 -> 16*5*5
        (1, 8, 10, None, 64),  # padding 2: 8 -> 4 -> 2 -> 16*2*2
        (3, 16, 4, None, 16),  # (16-4)/2=6, (6-4)/2=1 -> 16
        (3, 28, 7, 2, 784),  # 28 -> 14 -> 7 -> 16*7*7
    ],
)
def test_toynet_parametrised(channels, size, classes, padding, fc_in) -> None:
    model = ToyNet(channels, classes, size, padding=padding)
    assert model.fc1.in_features == fc_in
    assert model(torch.randn(2, channels, size, size)).shape == (2, classes)


def test_toynet_too_small_for_no_padding() -> None:
    with pytest.raises(ValueError, match="image_size must be at least 16"):
        ToyNet(1, 10, 8, padding=0)
    with pytest.raises(ValueError, match="in_channels must be >= 1"):
        ToyNet(0)
    with pytest.raises(TypeError, match="num_classes must be an integer"):
        ToyNet(3, 2.5)


@pytest.mark.parametrize(("size", "widths"), [(8, (16, 32)), (32, (8, 16, 16)), (5, (4, 4, 4))])
def test_fastnet_any_size(size: int, widths: tuple[int, ...]) -> None:
    model = FastNet(2, 5, widths=widths, stem_width=4)
    assert model(torch.randn(3, 2, size, size)).shape == (3, 5)


def test_fastnet_logit_scale() -> None:
    torch.manual_seed(0)
    a = FastNet(1, 3, widths=(4,), stem_width=4, logit_scale=1.0).eval()
    b = FastNet(1, 3, widths=(4,), stem_width=4, logit_scale=0.5).eval()
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 1, 6, 6)
    assert torch.allclose(b(x), a(x) * 0.5)


def test_fastnet_bad_widths() -> None:
    with pytest.raises(ValueError, match="widths must be a non-empty sequence"):
        FastNet(widths=())
    with pytest.raises(ValueError, match=r"widths\[i\] must be >= 1"):
        FastNet(widths=(8, 0))


def test_build_classifier() -> None:
    assert isinstance(build_classifier("toy", in_channels=1, image_size=8), ToyNet)
    assert isinstance(build_classifier("fast", widths=(4,)), FastNet)
    with pytest.raises(ValueError, match="model must be one of 'toy', 'fast', got 'resnet'"):
        build_classifier("resnet")
