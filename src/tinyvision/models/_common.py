"""What :class:`~tinyvision.models.Detector` and :class:`~tinyvision.models.Classifier`
share: reading their checkpoint, resolving a device, checking training keywords, and
running a source through a model in batches."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from tinyvision._validate import describe
from tinyvision.models.results import Results
from tinyvision.models.sources import Frame, iter_frames, resolve_source

OTHER = {"detector": "Detector", "classifier": "Classifier"}


def load_record(path: Any, kind: str) -> dict[str, Any]:
    """The checkpoint record at ``path``, which must be a ``kind`` checkpoint.

    Raises:
        TypeError: ``path`` is not a path.
        ValueError: a tinyvision checkpoint of another kind.
        UserError: a missing, damaged or foreign file.
    """
    from tinyvision.train.checkpoint import load_checkpoint

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {describe(path)}")
    record = load_checkpoint(path)
    found = record.get("kind")
    if found != kind:
        hint = f" (load it with tinyvision.{OTHER[found]}.load)" if found in OTHER else ""
        raise ValueError(
            f"path {os.fspath(path)} is a {found} checkpoint, not a {kind} checkpoint{hint}"
        )
    return record


def device_of(model: torch.nn.Module, device: Any) -> torch.device:
    """``device`` resolved (``"auto"``, ``"cpu"``, ``"cuda:1"``, a torch.device), or the
    model's own device when None."""
    from tinyvision.train.distributed import resolve_device

    if device is None:
        return next(model.parameters()).device
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str or torch.device, got {describe(device)}")
    return resolve_device(device)


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {describe(value)}")
    return value


def train_config(
    config_class: type, stored: dict[str, Any] | None, settings: dict[str, Any]
) -> Any:
    """``config_class`` from a checkpoint's stored settings (or its defaults), with
    ``settings`` (field name -> value) replacing fields.

    Raises:
        TypeError: a keyword that is not a field of ``config_class``.
        ValueError: a value the config refuses.
    """
    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise TypeError(
            f"train() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}: "
            f"the settings are the fields of {config_class.__name__} "
            f"({', '.join(sorted(known))})"
        )
    base = config_class.from_dict(stored) if stored else config_class()
    return dataclasses.replace(base, **settings)


def run_batches(
    source: Any,
    *,
    stride: int,
    batch_size: int,
    stream: bool,
    predict: Callable[[list[Frame]], list[Results]],
) -> list[Results] | Iterator[Results]:
    """Check ``source`` now; then ``predict`` its frames ``batch_size`` at a time: lazily
    (a generator) when ``stream``, else a list."""
    items = resolve_source(source)

    def generate() -> Iterator[Results]:
        batch: list[Frame] = []
        for frame in iter_frames(items, stride=stride):
            batch.append(frame)
            if len(batch) == batch_size:
                yield from predict(batch)
                batch = []
        if batch:
            yield from predict(batch)

    return generate() if stream else list(generate())


def export_to(model: Any, path: Any, **kwargs: Any) -> Path:
    """What ``Detector.export`` / ``Classifier.export`` do: ``model.model`` with its
    ``_export_meta()`` to ``path``, by default the checkpoint's name with ``.onnx`` /
    ``.torchscript`` beside it (a model not loaded from a file must be given a path)."""
    from tinyvision.train.export import export_model

    if path is None:
        if model.path is None:
            raise ValueError("path is required for a model not loaded from a checkpoint file")
        suffix = ".torchscript" if kwargs.get("format") == "torchscript" else ".onnx"
        path = model.path.with_suffix(suffix)
    return export_model(model.model, model._export_meta(), path, **kwargs)
