"""Detector training: mosaic batches from worker threads, the YOLOv5 loss, one-cycle, EMA.

:func:`train_detector` runs the loop; :class:`DetectTrainConfig` holds every knob with its
unit. Each step takes a batch built ahead by :class:`~tinyvision.data.loader.DetectionLoader`
(mosaic, random perspective, HSV, flip), computes :func:`~tinyvision.train.detect_loss.yolo_loss`
(CIoU box term, BCE or focal objectness and classes), and sets the learning rate from
:func:`~tinyvision.train.schedule.one_cycle_lr` (warm-up, then cosine annealing). An
exponential moving average of the weights (:class:`~tinyvision.train.ema.ModelEMA`) is the
model that gets evaluated and saved for prediction. The last ``close_mosaic`` epochs train
on single letterboxed images, closer to what the detector sees at test time.

Every random choice of epoch ``e`` comes from generators seeded with ``(seed, e, ...)``, so a
run resumed from the checkpoint of epoch ``e`` ends with the weights of an uninterrupted run
(on the CPU). Under ``torchrun`` each rank builds and trains on its share of every batch and
DDP averages the gradients.

:func:`check_anchors` is YOLOv5's autoanchor; :func:`predict_images` and
:func:`evaluate_detector` run the model on images (letterbox, decode, confidence filter,
class-aware NMS, top-k) and score it with the COCO-exact evaluator.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tinyvision._errors import UserError
from tinyvision._validate import (
    as_numpy,
    check_array,
    check_array_list,
    check_choice,
    check_float,
    check_int,
    check_same_length,
    describe,
)
from tinyvision.data.augment import letterbox
from tinyvision.data.formats import DetectionDataset, Detections
from tinyvision.data.loader import AugmentConfig, DetectionLoader, LoadedImages
from tinyvision.nn.detector import DetectorConfig, TinyDetector, decode, postprocess
from tinyvision.train.classify import _param_groups
from tinyvision.train.detect_loss import LossConfig, yolo_loss
from tinyvision.train.distributed import DistContext
from tinyvision.train.ema import ModelEMA
from tinyvision.train.engine import (
    Engine,
    LoopConfig,
    TrainCheckpoint,
    TrainEvent,
    TrainTask,
    clone_model,
    freeze_blocks,
    load_weights,
)
from tinyvision.train.schedule import one_cycle_lr

__all__ = [
    "CHECKPOINT_KIND",
    "AnchorCheck",
    "DetectTrainConfig",
    "DetectTrainResult",
    "DetectorCheckpoint",
    "check_anchors",
    "detection_fitness",
    "detections_table",
    "detector_from_checkpoint",
    "evaluate_detector",
    "lr_at",
    "predict_images",
    "train_detector",
    "validate_detector",
]

CHECKPOINT_KIND = "detector"


@dataclass
class DetectTrainConfig:
    """Hyper-parameters of a detector training run (units in the comments)."""

    epochs: int = 16  # passes over the training images
    batch_size: int = 16  # images per optimiser step, over all ranks together
    img_size: int = 128  # square training input, pixels (a multiple of 32)
    optimizer: str = "adamw"  # "adamw" or "sgd" (Nesterov)
    lr: float = 0.004  # peak learning rate
    momentum: float = 0.937  # SGD momentum / Adam beta1
    weight_decay: float = 5e-4  # on conv and linear weights (not biases, not BN)
    warmup: float = 0.05  # fraction of the steps spent rising to the peak
    div_factor: float = 25.0  # start lr = lr / div_factor
    final_div_factor: float = 4.0  # last lr = start lr / final_div_factor (lr / 100)
    close_mosaic: int = 4  # the last epochs train without mosaic
    ema_decay: float = 0.9999  # EMA decay the ramp tends to
    ema_tau: float = 300.0  # EMA ramp length in steps
    grad_clip: float = 10.0  # max gradient norm, 0 = off (non-finite gradients: step skipped)
    # YOLOv5's loss weights but the class gain (0.5 there, for 80 COCO classes): with a few
    # classes and a short run, 2.0 learns the classes faster (BENCHMARKS.md)
    loss: LossConfig = field(default_factory=lambda: LossConfig(cls=2.0))
    # YOLOv5's augmentation, but a mosaic for half the samples: faster to learn in few epochs
    augment: AugmentConfig = field(default_factory=lambda: AugmentConfig(mosaic=0.5))
    workers: int = 2  # threads building batches (0: in the training thread)
    checkpoint_every: int = 1  # epochs between checkpoints (the last epoch always saves)
    val_every: int = 1  # epochs between validations (the last epoch always validates)
    patience: int = 0  # stop when the fitness has not improved for this many epochs; 0 = never
    freeze: int = 0  # blocks frozen from the input side (fine-tuning), 0 = none
    amp: bool = False  # bfloat16 autocast on CUDA (ignored on the CPU)
    seed: int = 0  # seeds order and augmentation (the caller seeds the weights)
    tensorboard: bool = False  # log each results.csv row to out_dir/tensorboard/ (rank 0)

    def __post_init__(self) -> None:
        check_int(self.epochs, "epochs", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.img_size, "img_size", minimum=32)
        if self.img_size % 32:
            raise ValueError(f"img_size must be a multiple of 32, got {self.img_size}")
        check_choice(self.optimizer, "optimizer", ("adamw", "sgd"))
        check_float(self.lr, "lr", minimum=0.0, min_inclusive=False)
        check_float(self.momentum, "momentum", minimum=0.0, maximum=1.0, max_inclusive=False)
        check_float(self.weight_decay, "weight_decay", minimum=0.0)
        check_float(self.warmup, "warmup", minimum=0.0, maximum=1.0)
        check_float(self.div_factor, "div_factor", minimum=0.0, min_inclusive=False)
        check_float(self.final_div_factor, "final_div_factor", minimum=0.0, min_inclusive=False)
        check_int(self.close_mosaic, "close_mosaic", minimum=0)
        check_float(self.ema_decay, "ema_decay", minimum=0.0, maximum=1.0, max_inclusive=False)
        check_float(self.ema_tau, "ema_tau", minimum=0.0, min_inclusive=False)
        check_float(self.grad_clip, "grad_clip", minimum=0.0)
        check_int(self.workers, "workers", minimum=0)
        check_int(self.checkpoint_every, "checkpoint_every", minimum=1)
        check_int(self.val_every, "val_every", minimum=1, maximum=self.epochs)
        check_int(self.patience, "patience", minimum=0)
        check_int(self.freeze, "freeze", minimum=0)
        check_int(self.seed, "seed", minimum=0)
        if not isinstance(self.tensorboard, bool):
            raise TypeError(f"tensorboard must be a bool, got {describe(self.tensorboard)}")

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["loss"]["balance"] = list(self.loss.balance)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DetectTrainConfig:
        """Rebuild a config saved with :meth:`to_dict` (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(unknown)}")
        values = dict(values)
        if isinstance(values.get("loss"), dict):
            loss = dict(values["loss"])
            loss["balance"] = tuple(loss.get("balance", LossConfig().balance))
            values["loss"] = LossConfig(**loss)
        if isinstance(values.get("augment"), dict):
            values["augment"] = AugmentConfig(**values["augment"])
        return cls(**values)


# What a checkpoint's "history" adds up over the calls of a resumed run.
_TOTALS = (
    "train_seconds",
    "val_seconds",
    "data_wait_seconds",
    "data_build_seconds",
    "steps",
    "skipped_steps",
)


@dataclass
class DetectTrainResult:
    """What :func:`train_detector` returns. Times and step counts are of this call;
    ``earlier`` holds those of the calls before a resume (from the checkpoint's history)
    and :meth:`total` adds them up. ``epoch_losses`` covers every epoch trained so far."""

    model: nn.Module  # the EMA model (unwrapped), in eval mode: the one to evaluate
    raw_model: nn.Module  # the trained weights themselves
    epoch_losses: list[list[float]] = field(default_factory=list)  # (box, obj, cls) per epoch
    train_seconds: float = 0.0  # wall time of the loop, to the end of its last epoch
    data_wait_seconds: float = 0.0  # the loop waited this long for batches
    data_build_seconds: float = 0.0  # the loader threads spent this long building batches
    steps: int = 0  # optimiser steps run
    skipped_steps: int = 0  # steps whose gradient was not finite (no update made)
    checkpoints: list[str] = field(default_factory=list)
    start_epoch: int = 0  # epochs trained before this call (a resumed run)
    earlier: dict[str, float] = field(default_factory=dict)  # _TOTALS of the earlier calls
    val_seconds: float = 0.0  # of train_seconds, spent validating
    rows: list[dict[str, float]] = field(default_factory=list)  # results.csv, whole run
    best_epoch: int = 0  # the validated epoch with the best fitness (0: none)
    best_fitness: float | None = None  # 0.1 * mAP@0.5 + 0.9 * mAP@0.5:0.95 there
    best_model: nn.Module | None = None  # a copy of the EMA model at best_epoch (eval mode)
    stopped: str | None = None  # why the run stopped early (patience)

    def total(self, name: str) -> float:
        """``name`` (``train_seconds``, ``steps``, ...) over the whole run, resumes included."""
        check_choice(name, "name", _TOTALS)
        return getattr(self, name) + self.earlier.get(name, 0)


# ----------------------------------------------------------------------------- anchors
@dataclass(frozen=True)
class AnchorCheck:
    """YOLOv5's autoanchor outcome (anchors ``[L * A, 2]`` pixels, small to large)."""

    bpr: float  # best possible recall of the given anchors
    anchors: np.ndarray  # the anchors to train with
    new_bpr: float  # their BPR (== bpr when kept)
    recomputed: bool  # k-means anchors replaced the given ones


def check_anchors(
    labels: Sequence[np.ndarray],
    anchors: np.ndarray,
    *,
    img_size: int,
    threshold: float = 0.98,
    anchor_t: float = 4.0,
    seed: int = 0,
) -> AnchorCheck:
    """Keep ``anchors`` when their best possible recall on the training boxes is at least
    ``threshold``; otherwise fit new ones with :func:`tinyvision.cluster.anchor_kmeans` and
    take them if their recall is higher.

    Args:
        labels: per image ``[N, 5]`` ``(class, x1, y1, x2, y2)`` at the training size.
        anchors: ``[L * A, 2]`` (or ``[L, A, 2]``) anchors in pixels.
        img_size: training size in pixels.
        threshold: the recall in [0, 1] the given anchors must reach to be kept.
        anchor_t: the size ratio an anchor may differ from a box by (> 1).
        seed: seeds k-means.

    Without any box of positive size the recalls are NaN and the anchors are kept.
    """
    from tinyvision.cluster import anchor_kmeans, best_possible_recall

    img_size = check_int(img_size, "img_size", minimum=1)
    threshold = check_float(threshold, "threshold", minimum=0.0, maximum=1.0)
    anchor_t = check_float(anchor_t, "anchor_t", minimum=1.0, min_inclusive=False)
    seed = check_int(seed, "seed", minimum=0)
    given = check_array(anchors, "anchors", dtype=np.float64, allow_empty=False)
    if given.ndim not in (2, 3) or given.shape[-1] != 2:
        raise ValueError(f"anchors must have shape [L * A, 2] or [L, A, 2], got {describe(given)}")
    given = given.reshape(-1, 2).copy()  # returned: never the caller's array
    if (given <= 0).any():
        raise ValueError(f"anchors must be > 0, got {given[given <= 0][0]}")
    checked = check_array_list(
        labels, "labels", shape=(None, 5), dtype=np.float64, layout="(class, x1, y1, x2, y2)"
    )
    boxes = np.concatenate(checked or [np.zeros((0, 5))])
    wh = boxes[:, 3:5] - boxes[:, 1:3]
    wh = wh[(wh > 0).all(axis=1)]
    if wh.shape[0] == 0:
        return AnchorCheck(float("nan"), given, float("nan"), False)
    bpr = best_possible_recall(wh, given, thr=anchor_t)
    if bpr >= threshold:
        return AnchorCheck(bpr, given, bpr, False)
    fitted = anchor_kmeans(
        wh / img_size, given.shape[0], img_size, thr=anchor_t, random_state=seed
    ).astype(np.float64)
    new_bpr = best_possible_recall(wh, fitted, thr=anchor_t)
    if new_bpr > bpr:
        return AnchorCheck(bpr, fitted, new_bpr, True)
    return AnchorCheck(bpr, given, bpr, False)


# ----------------------------------------------------------------------------- training
def _optimizer(model: nn.Module, config: DetectTrainConfig) -> torch.optim.Optimizer:
    groups = _param_groups(model, config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=True)
    return torch.optim.AdamW(groups, lr=config.lr, betas=(config.momentum, 0.999))


def lr_at(step: int, total_steps: int, config: DetectTrainConfig) -> float:
    """The learning rate of ``step`` (0-based): warm-up, then one-cycle cosine annealing."""
    return one_cycle_lr(
        step,
        total_steps,
        max_lr=config.lr,
        pct_start=config.warmup,
        div_factor=config.div_factor,
        final_div_factor=config.final_div_factor,
        anneal_strategy="cos",
    )


@dataclass
class DetectorCheckpoint(TrainCheckpoint):
    """A detector run's checkpoint: the common record (with the EMA) plus the detector's
    architecture (``DetectorConfig.to_dict()``)."""

    KIND: ClassVar[str] = CHECKPOINT_KIND
    EXTRA: ClassVar[tuple[str, ...]] = ("detector",)

    detector: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, record: Any, source: str = "the resume checkpoint") -> DetectorCheckpoint:
        checked = super().from_payload(record, source)
        if checked.ema is None:
            raise UserError(f"{source} lacks 'ema': it cannot resume training a detector")
        if not isinstance(checked.detector, dict):
            raise UserError(f"{source} lacks 'detector' (the architecture) as a dict")
        return checked


VAL_COLUMNS = (
    "metrics/precision",
    "metrics/recall",
    "metrics/mAP_0.5",
    "metrics/mAP_0.5:0.95",
    "val/box_loss",
    "val/obj_loss",
    "val/cls_loss",
)


class _DetectorTask(TrainTask):
    """The detector's part of the loop: mosaic batches, the YOLOv5 loss, the EMA."""

    loss_columns = ("train/box_loss", "train/obj_loss", "train/cls_loss")
    metric_columns = VAL_COLUMNS
    lr_prefix = "x/lr"

    def __init__(
        self,
        model: TinyDetector,
        images: Sequence[np.ndarray],
        labels: Sequence[np.ndarray],
        val: LoadedImages | None,
        config: DetectTrainConfig,
        ctx: DistContext,
        meta: dict[str, Any],
    ) -> None:
        self.model, self.val, self.config, self.ctx, self.meta = model, val, config, ctx, meta
        self.loader = loader = DetectionLoader(
            images,
            labels,
            config.img_size,
            config.batch_size,
            config.augment,
            seed=config.seed,
            workers=config.workers,
            rank=ctx.rank,
            world_size=ctx.world_size,
        )
        freeze_blocks(model, config.freeze)
        self.ema = ModelEMA(model, config.ema_decay, config.ema_tau)
        self.optimizer = _optimizer(model, config)
        self.steps_per_epoch = len(loader)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.anchors = model.anchor_tensor()
        self.earlier: dict[str, float] = {}  # a resumed run's totals of the calls before
        self.batch_picture: str | None = None  # where to draw the next batch (once)
        self.names: Sequence[str] = ()

    def lr_at(self, step: int) -> float:
        return lr_at(step, self.total_steps, self.config)

    def batches(self, epoch: int) -> Any:
        use_mosaic = epoch < self.config.epochs - self.config.close_mosaic
        return self.loader.epoch(epoch, use_mosaic=use_mosaic)

    def loss(self, forward: Callable[[Any], Any], batch: Any) -> tuple[torch.Tensor, Any, Any]:
        if self.batch_picture is not None:  # the first batch of a fresh run, as trained on
            from tinyvision.report.drawing import write_batch_jpg

            write_batch_jpg(self.batch_picture, batch.images, batch.targets, self.names)
            self.batch_picture = None
        device = self.ctx.device
        outputs = forward(batch.images.to(device, non_blocking=True))
        targets = batch.targets.to(device, non_blocking=True)
        config = self.config
        loss, parts = yolo_loss(
            outputs,
            targets,
            self.anchors,
            self.model.strides,
            config.loss,
            image_size=config.img_size,
        )
        # DDP averages gradients over ranks; YOLOv5 scales by the world size to match
        return loss * self.ctx.world_size, parts, 1

    def after_update(self) -> None:
        self.ema.update(self.model)

    def eval_model(self) -> nn.Module:
        return self.ema.module

    def can_validate(self) -> bool:
        return self.val is not None

    def validate(self) -> dict[str, float]:
        assert self.val is not None
        metrics, _ = validate_detector(self.ema.module, self.val, self.config)
        return metrics

    def _data_seconds(self) -> dict[str, float]:
        """The loader's times over the whole run, for the checkpoint's history."""
        loader, earlier = self.loader, self.earlier
        return {
            "data_wait_seconds": earlier.get("data_wait_seconds", 0) + loader.wait_seconds,
            "data_build_seconds": earlier.get("data_build_seconds", 0) + loader.build_seconds,
        }

    def fitness(self, metrics: dict[str, float]) -> float:
        return detection_fitness(metrics["metrics/mAP_0.5"], metrics["metrics/mAP_0.5:0.95"])

    def record(self, epoch: int, step: int, history: dict[str, Any]) -> DetectorCheckpoint:
        return DetectorCheckpoint(
            model=self.model.state_dict(),
            optimizer=self.optimizer.state_dict(),
            epoch=epoch,
            step=step,
            config=self.config.to_dict(),
            history={**history, **self._data_seconds()},
            ema=self.ema.state_dict(),
            meta=self.meta,
            detector=self.model.config.to_dict(),
        )


def detection_fitness(map50: float, map50_95: float) -> float:
    """YOLOv5's fitness of a detector: ``0.1 * mAP@0.5 + 0.9 * mAP@0.5:0.95``."""
    return 0.1 * map50 + 0.9 * map50_95


def train_detector(
    model: TinyDetector,
    images: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    config: DetectTrainConfig,
    *,
    val: LoadedImages | None = None,
    ctx: DistContext | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    resume: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    callback: Callable[[TrainEvent], None] | None = None,
) -> DetectTrainResult:
    """Train ``model`` on ``images`` and ``labels`` with ``config`` (the loop is
    :class:`~tinyvision.train.engine.Engine`).

    Args:
        model: a :class:`~tinyvision.nn.detector.TinyDetector`; seed its weights first.
        images, labels: from :func:`~tinyvision.data.loader.load_images` (``uint8[h, w, 3]``
            resized to the training size, ``[N, 5]`` class and ``x1 y1 x2 y2`` pixels).
        config: the hyper-parameters (``val_every``, ``patience``, ``freeze`` included).
        val: the validation images (:func:`~tinyvision.data.loader.load_images`): the EMA
            model's val losses, precision, recall, mAP@0.5 and mAP@0.5:0.95 (COCO-exact)
            every ``val_every`` epochs; the best fitness (:func:`detection_fitness`) is kept
            (``best.pt``, ``result.best_model``). None: no validation.
        ctx: process and device (default one process on the CPU).
        out_dir: where rank 0 writes ``last.pt`` every ``checkpoint_every`` epochs,
            ``best.pt`` and ``results.csv``; a fresh run also ``labels.png`` (the training
            labels: class counts, box centres and sizes) before training and
            ``train_batch0.jpg`` (its first batch, augmented, with the targets drawn).
        resume: a checkpoint dict from an earlier call with the same config; training
            continues after its epoch, and its history (rows, best epoch, losses per
            epoch, times, steps) carries on into the result and the new checkpoints.
        meta: extra entries stored in every checkpoint; its ``names`` (the class names)
            label the pictures.
        callback: receives a :class:`~tinyvision.train.engine.TrainEvent` at the start,
            after each step and after each epoch (``loss`` = the epoch's mean total loss).

    Raises:
        TrainingDiverged: the loss became NaN or infinite, or more than half of an epoch's
            steps had non-finite gradients (they are skipped); the last checkpoint is kept.
    """
    if not isinstance(model, TinyDetector):
        raise TypeError(f"model must be a TinyDetector, got {describe(model)}")
    if val is not None and not isinstance(val, LoadedImages):
        raise TypeError(f"val must be LoadedImages (load_images) or None, got {describe(val)}")
    record = DetectorCheckpoint.from_payload(resume) if resume is not None else None
    ctx = ctx or DistContext()
    if config.batch_size < ctx.world_size:
        raise ValueError(
            f"batch_size ({config.batch_size}) must be at least the number of processes "
            f"({ctx.world_size}): each takes its share of every batch"
        )
    model = model.to(ctx.device)
    task = _DetectorTask(model, images, labels, val, config, ctx, dict(meta or {}))
    result = DetectTrainResult(model=task.ema.module, raw_model=model)
    if record is not None:
        record.restore(model, task.optimizer, task.ema)
        _carry_history(result, record)
        task.earlier = result.earlier
    loop = LoopConfig.of(config, grad_clip=config.grad_clip)
    start, history = (record.epoch, record.history) if record is not None else (0, None)
    engine = Engine(
        task, loop, ctx=ctx, out_dir=out_dir, start_epoch=start, history=history, callback=callback
    )
    if out_dir is not None and ctx.is_main and record is None:
        _start_pictures(task, out_dir, images, labels)
    _fill_result(result, engine.run(), task.loader)
    return result


def _start_pictures(
    task: _DetectorTask,
    out_dir: str | os.PathLike[str],
    images: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
) -> None:
    """A fresh run's ``labels.png`` now, and ``train_batch0.jpg`` at its first step."""
    from tinyvision.report.run_plots import write_labels_png

    count = task.model.config.num_classes
    names = task.meta.get("names")
    if not (isinstance(names, (list, tuple)) and len(names) == count):
        names = [str(k) for k in range(count)]
    task.names = [str(name) for name in names]
    write_labels_png(os.path.join(out_dir, "labels.png"), images, labels, task.names)
    task.batch_picture = os.path.join(out_dir, "train_batch0.jpg")


def _carry_history(result: DetectTrainResult, record: DetectorCheckpoint) -> None:
    """A resumed run's losses and totals from the calls before."""
    # written since the history was kept; an older checkpoint starts it at its epoch
    earlier = record.history
    result.start_epoch = record.epoch
    result.epoch_losses = [list(v) for v in earlier.get("epoch_losses", [])]
    result.earlier = {name: earlier[name] for name in _TOTALS if name in earlier}


def _fill_result(result: DetectTrainResult, done: Any, loader: DetectionLoader) -> None:
    result.steps = done.steps
    result.skipped_steps = done.skipped_steps
    result.epoch_losses += [list(parts) for parts in done.epoch_parts]
    result.train_seconds = done.train_seconds
    result.checkpoints = done.checkpoints
    result.rows = done.rows
    result.best_epoch, result.best_fitness = done.best_epoch, done.best_fitness
    if done.best_model is not None:
        result.best_model = clone_model(result.model, done.best_model)
    result.stopped = done.stopped
    result.val_seconds = done.val_seconds
    result.data_wait_seconds = loader.wait_seconds
    result.data_build_seconds = loader.build_seconds


# ----------------------------------------------------------------------------- prediction
@torch.no_grad()
def predict_images(
    model: TinyDetector,
    images: Sequence[np.ndarray],
    img_size: int,
    *,
    conf_threshold: float = 0.001,
    iou_threshold: float = 0.6,
    max_det: int = 300,
    batch_size: int = 32,
    amp: bool = False,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Detect objects in RGB ``uint8[H, W, 3]`` images of any size.

    Each image is letterboxed to ``img_size`` (a multiple of the model's largest stride);
    the boxes are mapped back to its pixels and clipped to it.

    Returns:
        per image ``(boxes float64[D, 4] xyxy, scores float64[D], labels int64[D])`` by
        decreasing score (class indices, not category ids).
    """
    if not isinstance(model, TinyDetector):
        raise TypeError(f"model must be a TinyDetector, got {describe(model)}")
    multiple = max(model.strides)
    img_size = check_int(img_size, "img_size", minimum=multiple)
    if img_size % multiple:
        raise ValueError(
            f"img_size must be a multiple of {multiple} (the model's largest stride), "
            f"got {img_size}"
        )
    conf_threshold = check_float(conf_threshold, "conf_threshold", minimum=0.0, maximum=1.0)
    iou_threshold = check_float(iou_threshold, "iou_threshold", minimum=0.0, maximum=1.0)
    max_det = check_int(max_det, "max_det", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    channels = model.config.in_channels
    images = check_array_list(
        images,
        "images",
        shape=("H", "W", channels),
        kinds="u",
        finite=False,
        allow_empty=False,
        holding="uint8 pixels",
    )
    for i, image in enumerate(images):
        if image.dtype != np.uint8:  # kinds="u" also lets uint16..uint64 through
            raise TypeError(f"images[{i}] must hold uint8 pixels, got {describe(image)}")
    device = next(model.parameters()).device
    amp = amp and device.type == "cuda"
    was_training = model.training
    model.eval()
    results: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    try:
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            _, boxed, found = _detect_chunk(
                model, chunk, img_size, conf_threshold, iou_threshold, max_det, amp
            )
            results.extend(_to_image_pixels(chunk, boxed, found))
    finally:
        model.train(was_training)
    return results


def _detect_chunk(
    model: TinyDetector,
    chunk: Sequence[np.ndarray],
    img_size: int,
    conf: float,
    iou: float,
    max_det: int,
    amp: bool,
) -> tuple[list[torch.Tensor], list[Any], list[Any]]:
    """Letterbox, forward (eval mode), decode and NMS a few images: ``(raw outputs,
    letterbox results, per image (boxes, scores, classes) in letterboxed pixels)``."""
    device = next(model.parameters()).device
    boxed = [letterbox(image, img_size) for image in chunk]
    stacked = np.stack([b[0] for b in boxed])
    x = torch.from_numpy(stacked).to(device).permute(0, 3, 1, 2).float().div_(255.0)
    was_training = model.training
    model.eval()
    try:
        with torch.autocast(
            device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda"
        ):
            outputs = model(x)
    finally:
        model.train(was_training)
    decoded = decode(outputs, model.anchor_tensor(), model.strides)
    return outputs, boxed, postprocess(decoded, conf, iou, max_det)


def _to_image_pixels(
    chunk: Sequence[np.ndarray], boxed: Sequence[Any], found: Sequence[Any]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Detections in letterboxed pixels back to each image's pixels (clipped to it)."""
    results = []
    for image, (_, ratio, (pad_x, pad_y)), (boxes, scores, classes) in zip(chunk, boxed, found):
        b = boxes.double().cpu().numpy()
        b[:, [0, 2]] = ((b[:, [0, 2]] - pad_x) / ratio).clip(0, image.shape[1])
        b[:, [1, 3]] = ((b[:, [1, 3]] - pad_y) / ratio).clip(0, image.shape[0])
        results.append((b, scores.double().cpu().numpy(), classes.cpu().numpy()))
    return results


def detections_table(
    predictions: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    image_ids: Sequence[int],
    category_ids: Sequence[int],
    scales: Sequence[float] | None = None,
) -> Detections:
    """Predictions of :func:`predict_images` as a :class:`Detections` table: class index
    ``k`` becomes ``category_ids[k]``; boxes are divided by ``scales`` (the resize ratio of
    each image) to return to the original pixels.

    Args:
        predictions: per image ``(boxes [D, 4] xyxy, scores [D], class indices [D])``.
        image_ids: one id per image.
        category_ids: the category id of each class index.
        scales: one resize ratio (> 0) per image, or None for 1.
    """
    if isinstance(predictions, (np.ndarray, torch.Tensor)) or not isinstance(predictions, Sequence):
        raise TypeError(
            f"predictions must be a sequence of (boxes, scores, classes), got "
            f"{describe(predictions)}"
        )
    ids = as_numpy(image_ids, "image_ids", ndim=1)
    check_same_length("predictions", predictions, "image_ids", ids)
    cats = check_array(category_ids, "category_ids", shape=(None,), kinds="iu", dtype=np.int64)
    if scales is not None:
        scales = check_array(scales, "scales", shape=(None,), dtype=np.float64)
        check_same_length("predictions", predictions, "scales", scales)
        if (scales <= 0).any():
            raise ValueError(f"scales must be > 0, got {scales[scales <= 0][0]}")
    checked = [_check_prediction(p, i, cats.size) for i, p in enumerate(predictions)]
    rows_image, rows_cat, rows_box, rows_score = [], [], [], []
    for i, (boxes, scores, classes) in enumerate(checked):
        scale = 1.0 if scales is None else float(scales[i])
        xyxy = boxes / scale
        rows_image.append(np.full(scores.shape[0], int(image_ids[i]), dtype=np.int64))
        rows_cat.append(cats[classes])
        rows_box.append(np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1))
        rows_score.append(scores)
    if not rows_image:
        return Detections.from_columns(image_id=[], category_id=[], bbox=np.zeros((0, 4)), score=[])
    return Detections.from_columns(
        image_id=np.concatenate(rows_image),
        category_id=np.concatenate(rows_cat),
        bbox=np.concatenate(rows_box),
        score=np.concatenate(rows_score),
    )


def _check_prediction(
    prediction: Any, i: int, num_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One ``(boxes [D, 4], scores [D], class indices [D])`` of :func:`detections_table`."""
    name = f"predictions[{i}]"
    if not isinstance(prediction, (tuple, list)) or len(prediction) != 3:
        raise TypeError(
            f"{name} must be a (boxes, scores, classes) tuple, got {describe(prediction)}"
        )
    boxes = check_array(
        prediction[0], f"{name} boxes", shape=("D", 4), dtype=np.float64, layout="(x1, y1, x2, y2)"
    )
    scores = check_array(prediction[1], f"{name} scores", shape=("D",), dtype=np.float64)
    classes = check_array(
        prediction[2],
        f"{name} classes",
        shape=("D",),
        kinds="iu",
        dtype=np.int64,
        holding="integer indices into category_ids",
    )
    if len({boxes.shape[0], scores.shape[0], classes.shape[0]}) != 1:
        raise ValueError(
            f"{name} must hold boxes [D, 4], scores [D] and classes [D], got "
            f"{boxes.shape}, {scores.shape} and {classes.shape}"
        )
    if classes.size and (classes.min() < 0 or classes.max() >= num_classes):
        raise ValueError(
            f"{name} classes must be integer indices into category_ids (0..{num_classes - 1}), "
            f"got {describe(classes)} with values {classes.min()}..{classes.max()}"
        )
    return boxes, scores, classes


def evaluate_detector(
    model: TinyDetector,
    dataset: DetectionDataset,
    images: Sequence[np.ndarray],
    scales: Sequence[float],
    img_size: int,
    **kwargs: Any,
) -> tuple[Any, Detections]:
    """Predict on a data set's images and evaluate with the COCO-exact evaluator.

    Args:
        dataset: the ground truth (its images in ``image_ids`` order).
        images, scales: the images as loaded (resized) and each one's resize ratio.
        kwargs: for :func:`predict_images` (confidence, IoU, ``max_det``, batch size).

    Returns:
        ``(evaluation, detections)``: a :class:`~tinyvision.metrics.DetectionEvaluation`
        (``map50``, ``map50_95``, per class, PR curves) and the detections in the data
        set's pixels.
    """
    from tinyvision.metrics import evaluate_detections

    predictions = predict_images(model, images, img_size, **kwargs)
    detections = detections_table(predictions, dataset.image_ids, dataset.category_ids, scales)
    return evaluate_detections(dataset, detections), detections


VAL_BATCH = 32  # images per forward pass at validation


@torch.no_grad()
def validate_detector(
    model: TinyDetector, val: LoadedImages, config: DetectTrainConfig
) -> tuple[dict[str, float], Any]:
    """The per-epoch validation: one pass over ``val`` gives the losses (box, objectness,
    class, mean over images) and the detections of :func:`predict_images` (its defaults),
    scored with the COCO-exact evaluator.

    Returns:
        ``(metrics, evaluation)``: ``metrics`` by results.csv name (precision and recall at
        the confidence of the best F1 at IoU 0.5; mAP -1 without ground truth), and the
        :class:`~tinyvision.metrics.DetectionEvaluation`.
    """
    from tinyvision.metrics import evaluate_detections

    if not isinstance(model, TinyDetector):
        raise TypeError(f"model must be a TinyDetector, got {describe(model)}")
    if not isinstance(val, LoadedImages):
        raise TypeError(f"val must be LoadedImages (load_images), got {describe(val)}")
    device = next(model.parameters()).device
    size = config.img_size
    sums = torch.zeros(3, dtype=torch.float64)
    predictions: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(val.images), VAL_BATCH):
        chunk = val.images[start : start + VAL_BATCH]
        outputs, boxed, found = _detect_chunk(model, chunk, size, 0.001, 0.6, 300, config.amp)
        targets = _letterboxed_targets(val.labels[start : start + VAL_BATCH], boxed, size)
        _, parts = yolo_loss(
            [o.float() for o in outputs],
            targets.to(device),
            model.anchor_tensor(),
            model.strides,
            config.loss,
            image_size=size,
        )
        sums += parts.double().cpu() * len(chunk)
        predictions.extend(_to_image_pixels(chunk, boxed, found))
    dataset = val.dataset
    detections = detections_table(predictions, dataset.image_ids, dataset.category_ids, val.scales)
    evaluation = evaluate_detections(dataset, detections)
    counts = evaluation.best_f1()
    box, obj, cls = (sums / max(len(val.images), 1)).tolist()
    metrics = {
        "metrics/precision": float(counts.precision),
        "metrics/recall": float(counts.recall),
        "metrics/mAP_0.5": float(evaluation.map50),
        "metrics/mAP_0.5:0.95": float(evaluation.map50_95),
        "val/box_loss": box,
        "val/obj_loss": obj,
        "val/cls_loss": cls,
    }
    return metrics, evaluation


def _letterboxed_targets(
    labels: Sequence[np.ndarray], boxed: Sequence[tuple[Any, float, tuple[int, int]]], size: int
) -> torch.Tensor:
    """``(image index, class, cx, cy, w, h)`` rows normalised by ``size`` for labels
    ``[N, 5]`` (class, x1 y1 x2 y2 pixels) moved into their letterboxed images."""
    rows = []
    for i, (lab, (_, ratio, (pad_x, pad_y))) in enumerate(zip(labels, boxed)):
        if lab.shape[0] == 0:
            continue
        x1, x2 = lab[:, 1] * ratio + pad_x, lab[:, 3] * ratio + pad_x
        y1, y2 = lab[:, 2] * ratio + pad_y, lab[:, 4] * ratio + pad_y
        t = np.stack(
            [np.full(len(lab), i), lab[:, 0], (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1],
            axis=1,
        )
        t[:, 2:] /= size
        rows.append(t.astype(np.float32))
    return torch.from_numpy(np.concatenate(rows)) if rows else torch.zeros((0, 6))


def detector_from_checkpoint(
    record: dict[str, Any], source: str = "checkpoint", *, use_ema: bool = True
) -> TinyDetector:
    """Rebuild the detector of a checkpoint record (its EMA weights by default), eval mode.

    Raises:
        UserError: the record does not describe a detector, or its weights do not fit.
    """
    spec = record.get("detector")
    if not isinstance(spec, dict) or "model" not in record:
        raise UserError(f"{source} does not describe a detector")
    try:
        model = TinyDetector(DetectorConfig.from_dict(spec))
    except (TypeError, ValueError) as exc:
        raise UserError(f"{source}: cannot rebuild the detector ({exc})") from exc
    weights = record["ema"]["weights"] if use_ema and "ema" in record else record["model"]
    load_weights(model, weights, source, what="detector")
    return model.eval()
