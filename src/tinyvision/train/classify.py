"""Classifier training: the whole data set on the device, whole-batch augmentation, SGD.

:func:`train_classifier` runs the loop; :class:`TrainConfig` holds every knob with its unit.
The design follows airbench: the training images sit on the device as one tensor, each
epoch augments all of them at once (flip, translate), batches are slices of a permutation,
and the learning rate is a pure function of the step. Every random choice of epoch ``e``
comes from a generator seeded with ``(seed, e)``, so a run resumed from the checkpoint of
epoch ``e`` ends with exactly the weights of an uninterrupted run (on the CPU, where the
kernels are deterministic).

Under ``torchrun`` each rank takes its share of every global batch and DDP averages the
gradients; the loss is scaled so that the update equals the one-process update on the
whole batch (up to float rounding; batch-norm statistics stay per rank).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tinyvision._errors import UserError
from tinyvision._validate import (
    check_choice,
    check_float,
    check_int,
    check_same_length,
    check_tensor,
    describe,
)
from tinyvision.data.dataset import ImageDataset
from tinyvision.data.transforms import channel_stats, normalize, random_flip, random_translate
from tinyvision.train.distributed import DistContext
from tinyvision.train.engine import (
    Engine,
    LoopConfig,
    TrainCheckpoint,
    TrainEvent,
    TrainingDiverged,
    TrainTask,
    clone_model,
    freeze_blocks,
    load_weights,
)
from tinyvision.train.schedule import cosine_restarts_lr, cycle_ends, one_cycle_lr

__all__ = [
    "CHECKPOINT_KIND",
    "ClassifierCheckpoint",
    "TrainConfig",
    "TrainEvent",
    "TrainResult",
    "TrainingDiverged",
    "check_classifier_record",
    "predict_logits",
    "predict_proba",
    "train_classifier",
]

CHECKPOINT_KIND = "classifier"
SCHEDULES = ("one_cycle", "restarts", "constant")
_BOOL_SETTINGS = (
    "nesterov",
    "flip",
    "tta_flip",
    "drop_last",
    "channels_last",
    "amp",
    "tensorboard",
)


@dataclass
class TrainConfig:
    """Hyper-parameters of a classifier training run (units in the comments)."""

    epochs: int = 10  # passes over the training set
    batch_size: int = 512  # images per optimiser step, over all ranks together
    lr: float = 0.2  # peak learning rate (per unit of mean loss)
    momentum: float = 0.9  # SGD momentum
    nesterov: bool = True  # Nesterov momentum
    weight_decay: float = 5e-4  # L2 on conv/linear weights (not biases, not BN)
    label_smoothing: float = 0.2  # cross-entropy target smoothing, 0 = off
    schedule: str = "one_cycle"  # "one_cycle" (warm-up + anneal), "restarts", "constant"
    warmup: float = 0.2  # one_cycle: fraction of the steps spent rising to the peak
    div_factor: float = 25.0  # one_cycle: start lr = lr / div_factor
    final_div_factor: float = 1e4  # one_cycle: last lr = start lr / final_div_factor
    anneal: str = "linear"  # one_cycle: "linear" or "cos" ramps
    cycles: int = 1  # restarts: cosine cycles (one snapshot at the end of each)
    flip: bool = False  # random left-right flips of training images
    translate: int = 0  # random shifts of up to this many pixels
    padding_mode: str = "zeros"  # translate: "zeros" or "reflect"
    tta_flip: bool = False  # evaluate on image + mirror image, average the logits
    normalization: str = "channel"  # "channel" (training-set statistics) or "notes" (0.5/0.5)
    drop_last: bool = True  # skip an epoch's last incomplete batch
    eval_batch_size: int = 2048  # images per forward pass at evaluation
    checkpoint_every: int = 1  # epochs between checkpoints (the last epoch always saves)
    val_every: int = 1  # epochs between validations (the last epoch always validates)
    patience: int = 0  # stop when top-1 has not improved for this many epochs; 0 = never
    freeze: int = 0  # blocks frozen from the input side (fine-tuning), 0 = none
    channels_last: bool = False  # memory format for conv nets on GPUs
    amp: bool = False  # bfloat16 autocast on CUDA (ignored on the CPU)
    seed: int = 0  # seeds shuffling and augmentation (the caller seeds the weights)
    tensorboard: bool = False  # log each results.csv row to out_dir/tensorboard/ (rank 0)

    def __post_init__(self) -> None:
        check_int(self.epochs, "epochs", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_float(self.lr, "lr", minimum=0.0)
        check_float(self.momentum, "momentum", minimum=0.0, maximum=1.0, max_inclusive=False)
        check_float(self.weight_decay, "weight_decay", minimum=0.0)
        check_float(self.label_smoothing, "label_smoothing", minimum=0.0, maximum=1.0)
        check_choice(self.schedule, "schedule", SCHEDULES)
        check_float(self.warmup, "warmup", minimum=0.0, maximum=1.0)
        check_float(self.div_factor, "div_factor", minimum=0.0, min_inclusive=False)
        check_float(self.final_div_factor, "final_div_factor", minimum=0.0, min_inclusive=False)
        for name in ("lr", "weight_decay", "div_factor", "final_div_factor"):
            if math.isinf(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)}")
        check_choice(self.anneal, "anneal", ("linear", "cos"))
        check_int(self.cycles, "cycles", minimum=1, maximum=self.epochs)
        check_int(self.translate, "translate", minimum=0)
        check_choice(self.padding_mode, "padding_mode", ("zeros", "reflect"))
        check_choice(self.normalization, "normalization", ("channel", "notes"))
        check_int(self.eval_batch_size, "eval_batch_size", minimum=1)
        check_int(self.checkpoint_every, "checkpoint_every", minimum=1)
        check_int(self.val_every, "val_every", minimum=1, maximum=self.epochs)
        check_int(self.patience, "patience", minimum=0)
        check_int(self.freeze, "freeze", minimum=0)
        check_int(self.seed, "seed", minimum=0)
        for name in _BOOL_SETTINGS:
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {describe(getattr(self, name))}")
        if self.schedule == "restarts" and self.epochs % self.cycles:
            raise ValueError(
                f"epochs ({self.epochs}) must be a multiple of cycles ({self.cycles}) "
                "with the restarts schedule"
            )
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov needs momentum > 0")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Rebuild a config saved with ``asdict`` (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(unknown)}")
        return cls(**values)


@dataclass
class TrainResult:
    """What :func:`train_classifier` returns."""

    model: nn.Module  # the trained model (unwrapped from DDP), in eval mode
    mean: list[float]  # normalisation the model expects
    std: list[float]
    epoch_losses: list[float] = field(default_factory=list)  # epochs run in this call
    train_seconds: float = 0.0  # wall time of the loop in this call, validation included
    checkpoints: list[str] = field(default_factory=list)  # files written in this call
    snapshots: list[str] = field(default_factory=list)  # restarts: end-of-cycle checkpoints
    rows: list[dict[str, float]] = field(default_factory=list)  # results.csv, whole run
    best_epoch: int = 0  # the validated epoch with the best top-1 accuracy (0: none)
    best_fitness: float | None = None  # its top-1 accuracy
    best_model: nn.Module | None = None  # a copy holding its weights (eval mode)
    stopped: str | None = None  # why the run stopped early (patience)
    val_seconds: float = 0.0  # validation time in this call


def steps_per_epoch(n: int, batch_size: int, drop_last: bool) -> int:
    """Optimiser steps in one epoch over ``n`` images."""
    if n == 0:
        return 0
    if drop_last and n >= batch_size:
        return n // batch_size
    return math.ceil(n / batch_size)


def lr_schedule(config: TrainConfig, total_steps: int) -> Callable[[int], float]:
    """The learning rate as a function of the global step for ``config``."""
    if config.schedule == "constant":
        return lambda step: config.lr
    if config.schedule == "restarts":
        return partial(cosine_restarts_lr, base_lr=config.lr, T_0=total_steps // config.cycles)
    return partial(
        one_cycle_lr,
        total_steps=total_steps,
        max_lr=config.lr,
        pct_start=config.warmup,
        div_factor=config.div_factor,
        final_div_factor=config.final_div_factor,
        anneal_strategy="cos" if config.anneal == "cos" else "linear",
    )


def normalization_stats(images: torch.Tensor, how: str) -> tuple[list[float], list[float]]:
    """``(mean, std)`` per channel: the notes' 0.5/0.5, or the statistics of ``images``."""
    if how == "notes":
        return [0.5] * images.shape[1], [0.5] * images.shape[1]
    mean, std = channel_stats(images)
    return mean, [max(s, 1e-6) for s in std]  # a constant channel must not divide by 0


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    # One independent stream per (seed, epoch): resuming at any epoch needs no saved RNG.
    generator = torch.Generator()
    generator.manual_seed(seed * 1_000_003 + epoch)
    return generator


def _augment(images: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    if config.flip:
        images = random_flip(images, generator=generator)
    if config.translate:
        images = random_translate(
            images, config.translate, padding_mode=config.padding_mode, generator=generator
        )
    return images


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if rest:
        groups.append({"params": rest, "weight_decay": 0.0})
    return groups


@dataclass
class ClassifierCheckpoint(TrainCheckpoint):
    """A classifier run's checkpoint: the common record plus the normalisation."""

    KIND: ClassVar[str] = CHECKPOINT_KIND
    EXTRA: ClassVar[tuple[str, ...]] = ("mean", "std")

    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)

    @classmethod
    def from_payload(
        cls, record: Any, source: str = "the resume checkpoint"
    ) -> ClassifierCheckpoint:
        check_classifier_record(record, source, resume=True, rebuild=False)
        checked = super().from_payload(record, source)
        checked.mean, checked.std = list(record["mean"]), list(record["std"])
        return checked


class _ClassifierTask(TrainTask):
    """The classifier's part of the loop: whole-set augmentation, cross-entropy, top-k."""

    loss_columns = ("train/loss",)
    metric_columns = ("val/loss", "metrics/accuracy_top1", "metrics/accuracy_top5")
    lr_prefix = "lr/pg"

    def __init__(
        self,
        model: nn.Module,
        train: ImageDataset,
        val: ImageDataset | None,
        config: TrainConfig,
        ctx: DistContext,
        meta: dict[str, Any],
    ) -> None:
        self.model, self.config, self.ctx, self.meta = model, config, ctx, meta
        self.images = train.float_images(ctx.device)  # (N, C, H, W) in [0, 1], on the device
        self.labels = train.labels.to(ctx.device)
        self.num_classes = train.num_classes
        self.mean, self.std = normalization_stats(self.images, config.normalization)
        self.val = val
        self.steps_per_epoch = steps_per_epoch(len(train), config.batch_size, config.drop_last)
        total_steps = self.steps_per_epoch * config.epochs
        self.lr_at = lr_schedule(config, total_steps)  # type: ignore[method-assign]
        ends = (
            cycle_ends(total_steps, T_0=total_steps // config.cycles)
            if config.schedule == "restarts"
            else []
        )
        self.snapshots = {step: f"snapshot_{k}.pt" for k, step in enumerate(ends, 1)}
        freeze_blocks(model, config.freeze)
        self.optimizer = torch.optim.SGD(
            _param_groups(model, config.weight_decay),
            lr=self.lr_at(0),
            momentum=config.momentum,
            nesterov=config.nesterov,
        )
        self.checked_logits = False

    def snapshot_name(self, step: int) -> str | None:
        return self.snapshots.get(step)

    def can_validate(self) -> bool:
        return self.val is not None

    def batches(self, epoch: int) -> Any:
        config, n = self.config, self.images.shape[0]
        generator = _epoch_generator(config.seed, epoch)
        order = torch.randperm(n, generator=generator).to(self.ctx.device)
        epoch_images = normalize(_augment(self.images, config, generator), self.mean, self.std)
        for i in range(self.steps_per_epoch):
            batch = order[i * config.batch_size : (i + 1) * config.batch_size]
            local = batch[self.ctx.rank :: self.ctx.world_size]  # this rank's share
            inputs = epoch_images[local]
            if config.channels_last:  # indexing returns a contiguous (NCHW) tensor
                inputs = inputs.contiguous(memory_format=torch.channels_last)
            yield inputs, self.labels[local], len(batch)

    def loss(self, forward: Callable[[Any], Any], batch: Any) -> tuple[torch.Tensor, Any, Any]:
        inputs, labels, batch_size = batch
        logits = forward(inputs)
        if not self.checked_logits:
            if logits.ndim != 2 or logits.shape[1] != self.num_classes:
                raise ValueError(
                    f"model must return logits of shape [B, {self.num_classes}] for the "
                    f"{self.num_classes} classes of the training set, got {describe(logits)}"
                )
            self.checked_logits = True
        summed = F.cross_entropy(
            logits.float(), labels, label_smoothing=self.config.label_smoothing, reduction="sum"
        )
        # DDP averages gradients over ranks; scale so the update is the mean over the batch.
        loss = summed * (self.ctx.world_size / batch_size)
        return loss, summed.detach().reshape(1), labels.shape[0]

    def validate(self) -> dict[str, float]:
        assert self.val is not None
        config = self.config
        images = self.val.float_images(self.ctx.device)
        labels = self.val.labels.to(self.ctx.device)
        logits = predict_logits(
            self.model,
            images,
            self.mean,
            self.std,
            batch_size=config.eval_batch_size,
            tta_flip=config.tta_flip,
            channels_last=config.channels_last,
            amp=config.amp,
        )
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        hits = top == labels[:, None]
        return {
            "val/loss": float(F.cross_entropy(logits, labels)),
            "metrics/accuracy_top1": float(hits[:, 0].double().mean()),
            "metrics/accuracy_top5": float(hits.any(dim=1).double().mean()),
        }

    def fitness(self, metrics: dict[str, float]) -> float:
        return metrics["metrics/accuracy_top1"]

    def record(self, epoch: int, step: int, history: dict[str, Any]) -> ClassifierCheckpoint:
        return ClassifierCheckpoint(
            model=self.model.state_dict(),
            optimizer=self.optimizer.state_dict(),
            epoch=epoch,
            step=step,
            config=asdict(self.config),
            history=history,
            meta=self.meta,
            mean=self.mean,
            std=self.std,
        )


def train_classifier(
    model: nn.Module,
    train: ImageDataset,
    config: TrainConfig,
    *,
    val: ImageDataset | None = None,
    ctx: DistContext | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    resume: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    callback: Callable[[TrainEvent], None] | None = None,
) -> TrainResult:
    """Train ``model`` on ``train`` with ``config``; validate on ``val``; checkpoint to
    ``out_dir`` if given (the loop is :class:`~tinyvision.train.engine.Engine`).

    Args:
        model: takes ``Tensor[B, C, H, W]`` normalised float images, returns logits
            ``Tensor[B, K]``. Seed its initial weights before calling (``torch.manual_seed``).
        train: the training set; it is moved to the device once.
        config: the hyper-parameters (``val_every``, ``patience``, ``freeze`` included).
        val: the validation set: its loss and top-1/top-5 accuracy every ``val_every``
            epochs, the best top-1 kept (``best.pt``, ``result.best_model``). None: no
            validation, no best.pt, no early stopping.
        ctx: process and device (:func:`~tinyvision.train.distributed.setup_distributed`);
            default one process on the CPU.
        out_dir: where rank 0 writes ``last.pt`` (every ``checkpoint_every`` epochs and at
            the end), ``best.pt``, ``results.csv`` (one row per epoch) and, with
            ``schedule="restarts"``, ``snapshot_<k>.pt`` at each cycle end (pass the same
            value on every rank: all ranks check finiteness before a write).
        resume: a checkpoint dict (from :func:`~tinyvision.train.checkpoint.load_checkpoint`)
            written by an earlier call with the same config; training continues after its
            epoch, its history (rows, best epoch and weights) carrying on. The caller checks
            that it belongs to this model.
        meta: extra entries stored in every checkpoint (model name and arguments, classes).
        callback: receives a :class:`TrainEvent` at the start, after each step and epoch.

    Raises:
        TrainingDiverged: the loss or the weights became NaN or infinite. This is checked
            (a flag kept on the device per step, one sync) before any snapshot, ``best.pt``
            or ``last.pt`` is written and at every epoch end, so no file ever holds
            non-finite weights and earlier files stay as they were.
    """
    _check_train_arguments(model, train, config, val)
    record = ClassifierCheckpoint.from_payload(resume) if resume is not None else None
    ctx = ctx or DistContext()
    model = model.to(ctx.device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    task = _ClassifierTask(model, train, val, config, ctx, dict(meta or {}))
    if record is not None:
        task.mean, task.std = record.mean, record.std
        record.restore(model, task.optimizer)
    loop = LoopConfig.of(config)
    start, history = (record.epoch, record.history) if record is not None else (0, None)
    engine = Engine(
        task, loop, ctx=ctx, out_dir=out_dir, start_epoch=start, history=history, callback=callback
    )
    done = engine.run()
    best = clone_model(model, done.best_model) if done.best_model is not None else None
    return TrainResult(
        model=model,
        mean=task.mean,
        std=task.std,
        epoch_losses=[parts[0] for parts in done.epoch_parts],
        train_seconds=done.train_seconds,
        checkpoints=done.checkpoints,
        snapshots=done.snapshots,
        rows=done.rows,
        best_epoch=done.best_epoch,
        best_fitness=done.best_fitness,
        best_model=best,
        stopped=done.stopped,
        val_seconds=done.val_seconds,
    )


def _check_train_arguments(model: Any, train: Any, config: Any, val: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    if not isinstance(train, ImageDataset):
        raise TypeError(f"train must be an ImageDataset, got {describe(train)}")
    if val is not None and not isinstance(val, ImageDataset):
        raise TypeError(f"val must be an ImageDataset or None, got {describe(val)}")
    if not isinstance(config, TrainConfig):
        hint = " (TrainConfig.from_dict builds one from a dict)" if isinstance(config, dict) else ""
        raise TypeError(f"config must be a TrainConfig, got {describe(config)}{hint}")
    if len(train) == 0:
        raise ValueError("the training set is empty")
    if val is not None:
        if len(val) == 0:
            raise ValueError("the validation set val is empty")
        if val.image_shape != train.image_shape or val.num_classes != train.num_classes:
            raise ValueError(
                f"val must have the image shape and classes of train ({train.image_shape}, "
                f"{train.num_classes} classes), got {val.image_shape}, {val.num_classes} classes"
            )


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    images: torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    batch_size: int = 2048,
    tta_flip: bool = False,
    channels_last: bool = False,
    amp: bool = False,
) -> torch.Tensor:
    """Logits ``Tensor[N, K]`` (float32, on the images' device) of ``model`` in eval mode.

    ``images`` (Tensor[N, C, H, W]) are floats in [0, 1], normalised here with
    ``mean``/``std``. With ``tta_flip`` the logits of each image and its mirror image are
    averaged (test-time augmentation).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    check_tensor(images, "images")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    was_training = model.training
    model.eval()
    amp = amp and images.device.type == "cuda"
    outputs = []
    try:
        # An empty input still runs once, so the result has the model's K columns.
        for start in range(0, max(images.shape[0], 1), batch_size):
            x = normalize(images[start : start + batch_size], mean, std)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(x).float()
                if tta_flip:
                    logits = (logits + model(x.flip(-1)).float()) / 2
            outputs.append(logits)
    finally:
        model.train(was_training)
    return torch.cat(outputs)


def predict_proba(
    models: Sequence[nn.Module] | nn.Module,
    images: torch.Tensor,
    mean: Sequence[float] | Sequence[Sequence[float]],
    std: Sequence[float] | Sequence[Sequence[float]],
    **kwargs: Any,
) -> torch.Tensor:
    """Class probabilities ``Tensor[N, K]``: the softmax of one model, or the mean of several.

    Averaging the probabilities of snapshots of one run (each with its own ``mean``/``std``
    when ``models`` is a sequence) is a snapshot ensemble. ``kwargs`` go to
    :func:`predict_logits`.
    """
    if isinstance(models, nn.Module):
        return predict_logits(models, images, mean, std, **kwargs).softmax(dim=1)
    if isinstance(models, (str, bytes)) or not isinstance(models, Sequence):
        raise TypeError(f"models must be a module or a sequence of modules, got {describe(models)}")
    if not models:
        raise ValueError("models must hold at least one model")
    arrays = (Sequence, torch.Tensor, np.ndarray)
    for name, values in (("mean", mean), ("std", std)):
        if isinstance(values, (str, bytes)) or not isinstance(values, arrays):
            raise TypeError(
                f"{name} must be a sequence with one entry per model, got {describe(values)}"
            )
        check_same_length("models", models, name, values)
        for i, entry in enumerate(values):
            if isinstance(entry, (str, bytes)) or not isinstance(entry, arrays):
                raise TypeError(
                    f"{name}[{i}] must be the channel {name}s of models[{i}] (a sequence), "
                    f"got {describe(entry)}"
                )
    total = None
    for model, m, s in zip(models, mean, std):
        probs = predict_logits(model, images, m, s, **kwargs).softmax(dim=1)
        total = probs if total is None else total + probs
    assert total is not None
    return total / len(models)


def check_classifier_record(
    record: dict[str, Any],
    source: str = "checkpoint",
    *,
    resume: bool = False,
    rebuild: bool = True,
) -> dict[str, Any]:
    """Check that a classifier checkpoint record holds what using it needs, with the right
    types; return it.

    Always needed: ``model`` (a state dict), ``config`` (valid :class:`TrainConfig`
    settings), ``mean`` and ``std`` (one finite number per image channel, ``std`` > 0).
    With ``rebuild`` (rebuilding the model and its data, as the CLI does) also
    ``model_name`` (str), ``model_kwargs`` (dict), ``image_shape`` (``[C, H, W]``) and
    ``classes`` (names). With ``resume`` also ``optimizer`` (a dict) and ``epoch`` (an int
    in ``[0, config.epochs]``), and with both ``data`` (str). ``upscale``, ``seed`` (ints)
    and ``recipe`` (str) are optional and checked when present.

    Raises:
        UserError: one line naming ``source`` and the missing or wrong entries.
    """
    _check_entries(record, source, resume=resume, rebuild=rebuild)

    def bad(what: str) -> UserError:
        return UserError(f"{source}: {what}")

    channels = len(record["mean"])
    if rebuild:
        shape = record["image_shape"]
        if len(shape) != 3 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape
        ):
            raise bad(f"'image_shape' should be [C, H, W] (positive ints), not {shape!r}")
        if not record["classes"] or not all(isinstance(c, str) for c in record["classes"]):
            raise bad("'classes' should be a non-empty list of class names")
        channels = shape[0]
    for key in ("mean", "std"):
        values = record[key]
        if (
            not values
            or len(values) != channels
            or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in values
            )
        ):
            raise bad(
                f"{key!r} should hold {channels} finite numbers (one per channel), not {values!r}"
            )
    if not all(v > 0 for v in record["std"]):
        raise bad(f"'std' should be positive, not {record['std']!r}")
    try:
        config = TrainConfig.from_dict(record["config"])
    except (TypeError, ValueError) as exc:
        raise bad(f"its training settings are invalid ({exc})") from exc
    if resume and not 0 <= record["epoch"] <= config.epochs:
        raise bad(f"'epoch' should be in [0, {config.epochs}], not {record['epoch']}")
    return record


def _check_entries(record: Any, source: str, *, resume: bool, rebuild: bool) -> None:
    """The entries :func:`check_classifier_record` needs are there, with the right types."""
    if not isinstance(record, dict):
        raise UserError(f"{source} is not a checkpoint record (got {describe(record)})")
    wanted: dict[str, tuple[type, ...]] = {
        "model": (dict,),
        "config": (dict,),
        "mean": (list, tuple),
        "std": (list, tuple),
    }
    if rebuild:
        wanted.update(
            model_name=(str,),
            model_kwargs=(dict,),
            image_shape=(list, tuple),
            classes=(list, tuple),
        )
    if resume:
        wanted.update(optimizer=(dict,), epoch=(int,))
    if resume and rebuild:
        wanted.update(data=(str,))
    optional = {"upscale": (int,), "seed": (int,), "recipe": (str,)}
    missing = [key for key in wanted if key not in record]
    if missing:
        action = "resume training" if resume else "rebuild the classifier"
        raise UserError(
            f"{source} lacks {', '.join(repr(k) for k in missing)}: it cannot {action} "
            "(not a complete tinyvision classifier checkpoint)"
        )
    wrong = [
        f"{key!r} should be {' or '.join(t.__name__ for t in types)}, "
        f"not {type(record[key]).__name__}"
        for key, types in {**wanted, **optional}.items()
        if key in record and (not isinstance(record[key], types) or isinstance(record[key], bool))
    ]
    if wrong:
        raise UserError(f"{source} holds entries of the wrong type: {'; '.join(wrong)}")


def model_from_checkpoint(record: dict[str, Any], source: str = "checkpoint") -> nn.Module:
    """Rebuild the classifier stored in a checkpoint record and load its weights (eval mode).

    Raises:
        UserError: the record names no known model, or its weights do not fit that model.
    """
    from tinyvision.nn.classifier import build_classifier

    name = record.get("model_name")
    kwargs = record.get("model_kwargs")
    if not isinstance(name, str) or not isinstance(kwargs, dict) or "model" not in record:
        raise UserError(f"{source} does not describe a classifier model")
    try:
        model = build_classifier(name, **kwargs)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{source}: cannot rebuild model {name!r} ({exc})") from exc
    load_weights(model, record["model"], source, what=f"model than {name!r}")
    return model.eval()
