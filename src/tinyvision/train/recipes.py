"""Training recipes: which network, with which arguments and settings, for which data set.

``get_recipe(model, data, variant)`` returns a :class:`Recipe`. ``variant="tuned"`` is our
recipe; ``variant="notes"`` is the notes' CIFAR-10 loop as written there (batch 4, SGD
lr 0.001 momentum 0.9, 2 epochs, mean/std 0.5, no augmentation), run by our trainer.

The digits recipes were tuned on the fixed digits split (see BENCHMARKS.md). The CIFAR-10
recipe follows airbench's choices; it could not be checked for accuracy on the machines
this project is built on (no download possible there).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tinyvision._validate import check_choice
from tinyvision.train.classify import TrainConfig

__all__ = ["DATASETS", "MODELS", "VARIANTS", "Recipe", "get_recipe"]

MODELS = ("fast", "toy")
DATASETS = ("digits", "cifar10", "folder")  # "folder": your own images (data.folders)
VARIANTS = ("tuned", "notes")


@dataclass(frozen=True)
class Recipe:
    """A model, its constructor arguments, the training settings and the input upscaling."""

    model: str  # "fast" or "toy"
    model_kwargs: dict[str, Any] = field(default_factory=dict)  # besides channels and classes
    config: TrainConfig = field(default_factory=TrainConfig)
    upscale: int = 1  # each pixel becomes upscale x upscale (ToyNet wants 32x32 images)
    description: str = ""


NOTES_SETTINGS = {
    "epochs": 2,
    "batch_size": 4,
    "lr": 0.001,
    "momentum": 0.9,
    "nesterov": False,
    "weight_decay": 0.0,
    "label_smoothing": 0.0,
    "schedule": "constant",
    "normalization": "notes",
    "drop_last": False,
}

_TUNED: dict[tuple[str, str], Recipe] = {
    ("fast", "digits"): Recipe(
        "fast",
        {"widths": (64, 128), "stem_width": 32},
        TrainConfig(
            epochs=10,
            batch_size=256,
            lr=0.3,
            label_smoothing=0.2,
            weight_decay=5e-4,
            translate=1,  # digits are not mirror-symmetric: no flips
            channels_last=True,  # faster convolutions on the CPU too
        ),
        description="FastNet(64, 128), 10 epochs, batch 256, one-cycle to lr 0.3, shifts of 1 px",
    ),
    ("toy", "digits"): Recipe(
        "toy",
        {},
        TrainConfig(
            epochs=30,
            batch_size=64,
            lr=0.05,
            label_smoothing=0.0,
            weight_decay=5e-4,
            translate=4,  # one original pixel after the 4x upscale
        ),
        upscale=4,
        description="ToyNet on 4x-upscaled 32x32 digits, 30 epochs, batch 64, lr 0.05",
    ),
    ("fast", "cifar10"): Recipe(
        "fast",
        {"widths": (64, 256, 256), "stem_width": 32},
        TrainConfig(
            epochs=10,
            batch_size=1024,
            lr=0.8,
            label_smoothing=0.2,
            weight_decay=5e-4,
            flip=True,
            translate=2,
            padding_mode="reflect",
            tta_flip=True,
            channels_last=True,
            amp=True,
        ),
        description="FastNet(64, 256, 256) airbench-style, 10 epochs, batch 1024, flip + 2 px",
    ),
    ("toy", "cifar10"): Recipe(
        "toy",
        {},
        TrainConfig(
            epochs=30,
            batch_size=128,
            lr=0.05,
            label_smoothing=0.0,
            weight_decay=5e-4,
            flip=True,
            translate=2,
            padding_mode="reflect",
        ),
        description="ToyNet, 30 epochs, batch 128, lr 0.05, flip + 2 px",
    ),
    ("fast", "folder"): Recipe(
        "fast",
        {"widths": (64, 128, 256), "stem_width": 32},
        TrainConfig(
            epochs=10,
            batch_size=128,
            lr=0.2,
            label_smoothing=0.2,
            weight_decay=5e-4,
            flip=True,
            translate=2,
            padding_mode="reflect",
            tta_flip=True,
            channels_last=True,
            amp=True,
        ),
        description="FastNet(64, 128, 256) on your images, 10 epochs, batch 128, flip + 2 px",
    ),
    ("toy", "folder"): Recipe(
        "toy",
        {},
        TrainConfig(
            epochs=30,
            batch_size=64,
            lr=0.05,
            label_smoothing=0.0,
            weight_decay=5e-4,
            flip=True,
            translate=2,
            padding_mode="reflect",
        ),
        description="ToyNet on your images, 30 epochs, batch 64, lr 0.05, flip + 2 px",
    ),
}


def get_recipe(model: str, data: str, variant: str = "tuned") -> Recipe:
    """The recipe for ``model`` (``"fast"``/``"toy"``) on ``data`` (``"digits"``/``"cifar10"``,
    or ``"folder"``: an image folder of one's own, :mod:`tinyvision.data.folders`).

    ``variant="notes"`` keeps the tuned recipe's network and upscaling but trains with the
    notes' settings.
    """
    check_choice(model, "model", MODELS)
    check_choice(data, "data", DATASETS)
    check_choice(variant, "variant", VARIANTS)
    recipe = _TUNED[(model, data)]
    if variant == "notes":
        recipe = replace(
            recipe,
            config=TrainConfig(**NOTES_SETTINGS),
            description=f"{model} with the notes' settings: batch 4, lr 0.001, 2 epochs",
        )
    return recipe
