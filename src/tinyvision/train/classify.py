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
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tinyvision._errors import UserError
from tinyvision._fileio import remove_stale_temps
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
from tinyvision.train.checkpoint import save_checkpoint
from tinyvision.train.distributed import DistContext, all_reduce_sum, barrier
from tinyvision.train.schedule import cosine_restarts_lr, cycle_ends, one_cycle_lr

__all__ = [
    "CHECKPOINT_KIND",
    "TrainConfig",
    "TrainEvent",
    "TrainResult",
    "TrainingDiverged",
    "check_classifier_record",
    "predict_logits",
    "predict_proba",
    "train_classifier",
]

CHECKPOINT_FILES = ("last.pt", "snapshot_*.pt")  # what a run writes into its out_dir
CHECKPOINT_KIND = "classifier"
SCHEDULES = ("one_cycle", "restarts", "constant")
_BOOL_SETTINGS = ("nesterov", "flip", "tta_flip", "drop_last", "channels_last", "amp")


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
    channels_last: bool = False  # memory format for conv nets on GPUs
    amp: bool = False  # bfloat16 autocast on CUDA (ignored on the CPU)
    seed: int = 0  # seeds shuffling and augmentation (the caller seeds the weights)

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


@dataclass(frozen=True)
class TrainEvent:
    """Progress of a run, passed to the ``callback`` of :func:`train_classifier`.

    ``kind`` is ``"start"``, ``"step"`` (after each optimiser step) or ``"epoch"`` (after
    each epoch, with its mean training ``loss``). ``epoch`` counts completed epochs.
    """

    kind: str
    epoch: int
    epochs: int
    step: int
    total_steps: int
    lr: float
    loss: float | None = None
    elapsed: float = 0.0  # seconds since this process started training
    checkpoint: str | None = None  # path written at this event, if any


@dataclass
class TrainResult:
    """What :func:`train_classifier` returns."""

    model: nn.Module  # the trained model (unwrapped from DDP), in eval mode
    mean: list[float]  # normalisation the model expects
    std: list[float]
    epoch_losses: list[float] = field(default_factory=list)  # epochs run in this call
    train_seconds: float = 0.0  # wall time of the loop in this call
    checkpoints: list[str] = field(default_factory=list)  # files written in this call
    snapshots: list[str] = field(default_factory=list)  # restarts: end-of-cycle checkpoints


class TrainingDiverged(UserError):
    """The training loss became NaN or infinite."""


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


def train_classifier(
    model: nn.Module,
    train: ImageDataset,
    config: TrainConfig,
    *,
    ctx: DistContext | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    resume: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    callback: Callable[[TrainEvent], None] | None = None,
) -> TrainResult:
    """Train ``model`` on ``train`` with ``config``; checkpoint to ``out_dir`` if given.

    Args:
        model: takes ``Tensor[B, C, H, W]`` normalised float images, returns logits
            ``Tensor[B, K]``. Seed its initial weights before calling (``torch.manual_seed``).
        train: the training set; it is moved to the device once.
        config: the hyper-parameters.
        ctx: process and device (:func:`~tinyvision.train.distributed.setup_distributed`);
            default one process on the CPU.
        out_dir: where rank 0 writes ``last.pt`` (every ``checkpoint_every`` epochs and at
            the end) and, with ``schedule="restarts"``, ``snapshot_<k>.pt`` at each cycle end
            (pass the same value on every rank: all ranks check finiteness before a write).
        resume: a checkpoint dict (from :func:`~tinyvision.train.checkpoint.load_checkpoint`)
            written by an earlier call with the same config; training continues after its
            epoch. The caller checks that it belongs to this model.
        meta: extra entries stored in every checkpoint (model name and arguments, classes).
        callback: receives a :class:`TrainEvent` at the start, after each step and epoch.

    Raises:
        TrainingDiverged: the loss or the weights became NaN or infinite. This is checked
            (a flag kept on the device per step, one sync) before any snapshot or
            ``last.pt`` is written and at every epoch end, so no file ever holds
            non-finite weights and earlier files stay as they were.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    if not isinstance(train, ImageDataset):
        raise TypeError(f"train must be an ImageDataset, got {describe(train)}")
    if not isinstance(config, TrainConfig):
        hint = " (TrainConfig.from_dict builds one from a dict)" if isinstance(config, dict) else ""
        raise TypeError(f"config must be a TrainConfig, got {describe(config)}{hint}")
    if resume is not None:
        check_classifier_record(resume, "the resume checkpoint", resume=True, rebuild=False)
    ctx = ctx or DistContext()
    device = ctx.device
    meta = dict(meta or {})
    if len(train) == 0:
        raise ValueError("the training set is empty")
    model = model.to(device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    images = train.float_images(device)  # (N, C, H, W) in [0, 1], resident on the device
    labels = train.labels.to(device)
    mean, std = normalization_stats(images, config.normalization)
    if resume is not None:
        mean, std = list(resume["mean"]), list(resume["std"])
        try:
            model.load_state_dict(resume["model"])
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise UserError(f"the checkpoint holds weights of another model ({first})") from exc
    n = len(train)
    per_epoch = steps_per_epoch(n, config.batch_size, config.drop_last)
    total_steps = per_epoch * config.epochs
    lr_at = lr_schedule(config, total_steps)
    snapshot_steps = (
        set(cycle_ends(total_steps, T_0=total_steps // config.cycles))
        if config.schedule == "restarts"
        else set()
    )

    net: nn.Module = model
    if ctx.distributed:
        device_ids = [device.index] if device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
    optimizer = torch.optim.SGD(
        _param_groups(model, config.weight_decay),
        lr=lr_at(0),
        momentum=config.momentum,
        nesterov=config.nesterov,
    )
    train_start = time.perf_counter()  # after building the optimiser (torch imports a lot)
    start_epoch = 0
    if resume is not None:
        try:
            optimizer.load_state_dict(resume["optimizer"])
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"the checkpoint's optimizer state does not fit this model and config ({exc})"
            ) from exc
        start_epoch = int(resume["epoch"])
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and ctx.is_main:
        remove_stale_temps(out, CHECKPOINT_FILES)  # left by a run killed while writing
    result = TrainResult(model=model, mean=mean, std=std)
    amp = config.amp and device.type == "cuda"

    def emit(kind: str, epoch: int, step: int, **extra: Any) -> None:
        if callback is not None:
            lr = optimizer.param_groups[0]["lr"]
            elapsed = time.perf_counter() - train_start
            event = TrainEvent(
                kind, epoch, config.epochs, step, total_steps, lr, elapsed=elapsed, **extra
            )
            callback(event)

    # One flag on the device: all losses of this call finite so far (no host sync per step).
    finite = torch.ones((), dtype=torch.bool, device=device)
    last_good: list[str] = []  # the newest checkpoint this run can fall back on
    if resume is not None and out is not None and (out / "last.pt").is_file():
        last_good.append(str(out / "last.pt"))

    def check_finite(epoch: int, before: str | None, loss: float) -> None:
        """Before writing ``before`` (or at an epoch end): stop if a loss or a weight is not
        finite on any rank, naming the file kept."""
        bad = (~(finite & _state_is_finite(model, device))).to(torch.float64)
        all_reduce_sum(bad, ctx)
        if float(bad) == 0 and math.isfinite(loss):
            return
        what = (
            "the weights became nan or inf"
            if math.isfinite(loss)
            else f"the training loss became {loss}"
        )
        kept = ""
        if out is not None:
            kept = (
                f"; the last good checkpoint is {last_good[-1]}"
                if last_good
                else "; no checkpoint of this run was saved"
            )
        if before is not None:
            kept = f"; {before} was not written{kept.replace(';', ',', 1)}"
        raise TrainingDiverged(
            f"{what} in epoch {epoch + 1} (learning rate {config.lr} too high?){kept}"
        )

    def checkpoint(name: str, epoch: int, step: int) -> str:
        payload = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch,
            "step": step,
            "config": asdict(config),
            "mean": mean,
            "std": std,
            **meta,
        }
        assert out is not None
        path = str(save_checkpoint(out / name, CHECKPOINT_KIND, payload))
        result.checkpoints.append(path)
        if name == "last.pt":
            last_good.append(path)
        return path

    emit("start", start_epoch, start_epoch * per_epoch)
    step = start_epoch * per_epoch
    num_classes = train.num_classes
    checked_logits = False  # the model's outputs fit the labels (checked on the first step)
    for epoch in range(start_epoch, config.epochs):
        net.train()
        generator = _epoch_generator(config.seed, epoch)
        order = torch.randperm(n, generator=generator).to(device)
        epoch_images = normalize(_augment(images, config, generator), mean, std)
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        seen = 0
        for i in range(per_epoch):
            batch = order[i * config.batch_size : (i + 1) * config.batch_size]
            local = batch[ctx.rank :: ctx.world_size]  # this rank's share of the batch
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            inputs = epoch_images[local]
            if config.channels_last:  # indexing returns a contiguous (NCHW) tensor
                inputs = inputs.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = net(inputs)
            if not checked_logits:
                if logits.ndim != 2 or logits.shape[1] != num_classes:
                    raise ValueError(
                        f"model must return logits of shape [B, {num_classes}] for the "
                        f"{num_classes} classes of the training set, got {describe(logits)}"
                    )
                checked_logits = True
            summed = F.cross_entropy(
                logits.float(),
                labels[local],
                label_smoothing=config.label_smoothing,
                reduction="sum",
            )
            # DDP averages gradients over ranks; scale so the update is the mean over the batch.
            loss = summed * (ctx.world_size / len(batch))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += summed.detach()
            finite &= torch.isfinite(summed.detach())
            seen += len(batch)
            snapshot = None
            if step in snapshot_steps and out is not None:
                cycle = sorted(snapshot_steps).index(step) + 1
                name = f"snapshot_{cycle}.pt"
                # a NaN mid-epoch must not reach (or replace) a file
                check_finite(epoch, name, float(loss_sum) / seen)
                if ctx.is_main:
                    snapshot = checkpoint(name, epoch + 1, step + 1)
                    result.snapshots.append(snapshot)
            step += 1
            emit("step", epoch, step, checkpoint=snapshot)
        all_reduce_sum(loss_sum, ctx)
        mean_loss = float(loss_sum) / max(seen, 1)
        done = epoch + 1
        save = out is not None and (done % config.checkpoint_every == 0 or done == config.epochs)
        if not math.isfinite(mean_loss) or save:
            check_finite(epoch, "last.pt" if save else None, mean_loss)
        result.epoch_losses.append(mean_loss)
        saved = None
        if save and ctx.is_main:
            saved = checkpoint("last.pt", done, step)
        barrier(ctx)
        emit("epoch", done, step, loss=mean_loss, checkpoint=saved)
    result.train_seconds = time.perf_counter() - train_start
    model.eval()
    return result


def _state_is_finite(model: nn.Module, device: torch.device) -> torch.Tensor:
    """A bool scalar on ``device``: every floating weight and buffer of ``model`` is finite."""
    values = [t for t in model.state_dict().values() if t.is_floating_point()]
    if not values:
        return torch.ones((), dtype=torch.bool, device=device)
    return torch.stack([torch.isfinite(t).all() for t in values]).all()


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
    try:
        model.load_state_dict(record["model"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"{source} holds weights of another model than {name!r} ({first})") from exc
    return model.eval()
