"""`tinyvision detect train`: train the tiny detector, then evaluate it (COCO-exact).

The data is the offline shapes set (generated on first use under ``--data-dir``) or any
YOLO data set (``data.yaml``). Training prints the anchor check, a progress bar (plain
lines when not on a terminal), and ends with the evaluation of the EMA model on the
validation split: ``metrics.json`` (top-level ``map50`` and ``map50_95``), PR-curve PNGs and
``report.html`` in ``--out``, the same report as ``tinyvision detect eval``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyvision._cli import _flags
from tinyvision._cli._checks import check_out, warnings_as_lines
from tinyvision._errors import UserError

DEFAULT_OUT = "runs/detect"
SHAPES = "shapes"
TRAIN_IMAGES, VAL_IMAGES = 1000, 200  # shapes images of a new run
WIDTH_MAX = 256  # channels of the first stage (the last has 8x or 16x)
WORKERS_MAX = 64  # loader threads
# Options a resumed run takes from its checkpoint (giving them is an error).
OVERRIDES = (
    "epochs",
    "img_size",
    "batch_size",
    "lr",
    "optimizer",
    "width",
    "levels",
    "workers",
    "train_images",
    "val_images",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    from tinyvision._cli.classify import (
        add_engine_arguments,
        add_resume_argument,
        add_threads_argument,
    )

    parser = subparsers.add_parser(
        "train",
        help="train the tiny YOLO-style detector (shapes or a YOLO data set), then evaluate",
        description=(
            "Train the tiny detector (C3 backbone with a transformer block, PAN neck, "
            "anchor-based head) with mosaic and random-perspective augmentation, CIoU box "
            "loss, BCE or focal objectness/class loss, warm-up + one-cycle learning rate and "
            "an EMA of the weights; then evaluate on the validation split and write "
            "metrics.json, PR curves and report.html to --out."
        ),
    )
    add = parser.add_argument
    add("--data", default=SHAPES, help="'shapes' (offline synthetic set, default) or DATA.yaml")
    add(
        "--data-dir",
        help="where the shapes set is generated (default data; a resumed run: its own)",
    )
    images = _flags.int_in(1, _flags.IMAGES_MAX)
    add("--train-images", type=images, help=f"shapes: training images ({TRAIN_IMAGES})")
    add("--val-images", type=images, help=f"shapes: validation images ({VAL_IMAGES})")
    add(
        "--epochs",
        type=_flags.int_in(1, _flags.EPOCHS_MAX),
        help="passes over the training images (default 16)",
    )
    add(
        "--img-size",
        type=_flags.detector_img_size,
        help=f"square input size, a multiple of 32 in 32..{_flags.IMG_SIZE_MAX} (default 128)",
    )
    add(
        "--batch-size",
        type=_flags.int_in(1, _flags.BATCH_MAX),
        help="images per step, all processes together (default 16)",
    )
    add(
        "--lr",
        type=_flags.float_in(0.0, _flags.LR_MAX, low_open=True),
        help=f"peak learning rate, in (0, {_flags.LR_MAX:g}] (default 0.004)",
    )
    add("--optimizer", choices=("adamw", "sgd"), help="optimiser (default adamw)")
    add(
        "--width",
        type=_flags.int_in(1, WIDTH_MAX),
        help=f"channels of the first stage, 1..{WIDTH_MAX}; stages double it (default 16)",
    )
    add(
        "--levels",
        type=int,
        choices=(2, 3),
        help="head levels: 2 (strides 8, 16; default) or 3 (8, 16, 32)",
    )
    add("--focal", action="store_true", help="sigmoid focal loss for objectness and classes")
    add(
        "--workers",
        type=_flags.int_in(0, WORKERS_MAX),
        help="threads building augmented batches (default 2)",
    )
    add(
        "--seed",
        type=_flags.seed,
        default=0,
        help=f"seed of weights, order and augmentation, 0..{_flags.SEED_MAX} (0)",
    )
    add("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    add_threads_argument(parser)
    add("--out", help=f"output folder (default {DEFAULT_OUT}/DATA)")
    add_resume_argument(parser)
    add_engine_arguments(parser, "0.1 * mAP@0.5 + 0.9 * mAP@0.5:0.95")
    add(
        "--skip-bad-labels",
        action="store_true",
        help="leave out bad label lines and unreadable images (with a warning) instead of "
        "stopping at the first",
    )
    add(
        "--conf",
        type=_flags.float_in(0.0, 1.0),
        default=0.25,
        help="confidence for the report's counts (0.25)",
    )
    parser.set_defaults(func=run)


@dataclass
class DetectJob:
    """A training run, from the command line or from a checkpoint."""

    data: str  # "shapes" or the path of a data.yaml
    shapes: dict[str, Any] | None  # ShapesConfig values when data is shapes
    config: Any  # DetectTrainConfig
    width: int
    levels: int
    out: Path
    seed: int
    resume: dict[str, Any] | None = None
    shapes_folder: str = SHAPES  # folder of the shapes set under the data folder
    data_dir: str | None = None  # where the shapes set lives (None: the default, data)
    weights: dict[str, Any] | None = None  # --weights: a checkpoint record to fine-tune from
    weights_path: str = ""


def default_out(data: str) -> Path:
    """``runs/detect/shapes`` or ``runs/detect/<stem of the data.yaml>``."""
    return Path(DEFAULT_OUT) / (SHAPES if data == SHAPES else Path(data).stem)


def job_from_args(args: argparse.Namespace) -> DetectJob:
    """The training job: defaults with the command line's values, or a resumed run."""
    from tinyvision._cli.classify import engine_changes, weights_record
    from tinyvision.train.detect import DetectTrainConfig

    if args.resume is not None:
        return _resumed_job(args)
    config = DetectTrainConfig()
    changes: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("epochs", "img_size", "batch_size", "lr", "optimizer", "workers")
        if getattr(args, name) is not None
    }
    changes.update(engine_changes(args, changes.get("epochs", config.epochs)))
    weights = weights_record(args, "detector")
    if args.focal:
        changes["loss"] = dataclasses.replace(config.loss, focal=True)
    config = dataclasses.replace(config, seed=args.seed, **changes)
    shapes = None
    if args.data == SHAPES:
        from tinyvision.data.shapes import ShapesConfig

        # objects scale with the image: 12-52 px at the default 128, at least 4 px (the
        # generator's smallest: 4-13 px at 32)
        scale = config.img_size / ShapesConfig.image_size
        shapes = dataclasses.asdict(
            ShapesConfig(
                train=TRAIN_IMAGES if args.train_images is None else args.train_images,
                val=VAL_IMAGES if args.val_images is None else args.val_images,
                image_size=config.img_size,
                min_size=max(ShapesConfig.min_size * scale, 4.0),
                max_size=ShapesConfig.max_size * scale,
            )
        )
    out = Path(args.out) if args.out else default_out(args.data)
    width = args.width if args.width is not None else 16
    levels = args.levels if args.levels is not None else 2
    return DetectJob(
        args.data,
        shapes,
        config,
        width,
        levels,
        out,
        args.seed,
        data_dir=args.data_dir,
        weights=weights,
        weights_path=str(args.weights or ""),
    )


def _resumed_job(args: argparse.Namespace) -> DetectJob:
    from tinyvision._cli.classify import ENGINE_OPTIONS, resume_record
    from tinyvision.train.detect import CHECKPOINT_KIND, DetectTrainConfig

    options = (*OVERRIDES, *ENGINE_OPTIONS)
    given = [f"--{n.replace('_', '-')}" for n in options if getattr(args, n) is not None]
    if args.focal:
        given.append("--focal")
    path, record = resume_record(args, given, CHECKPOINT_KIND, default_out(args.data))
    if args.seed not in (0, record.get("seed")):
        raise UserError(f"{path} was trained with --seed {record.get('seed')}, not {args.seed}")
    if args.data not in (SHAPES, record.get("data")):
        raise UserError(f"{path} was trained on {record.get('data')}, not {args.data}")
    return DetectJob(
        data=str(record["data"]),
        shapes=record.get("shapes"),
        config=DetectTrainConfig.from_dict(record["config"]),
        width=int(record["detector"]["width"]),
        levels=int(record["detector"]["levels"]),
        out=Path(args.out) if args.out else path.parent,
        seed=int(record.get("seed", 0)),
        resume=record,
        data_dir=args.data_dir or record.get("data_dir"),
    )


def _read_split(path: Path, split: str, skip_bad: bool) -> Any:
    """``read_yolo`` with its skip warnings printed as one line each on stderr."""
    from tinyvision.data.formats import BadLabelsWarning, read_yolo

    with warnings_as_lines(BadLabelsWarning):
        return read_yolo(path, split, skip_bad=skip_bad)


def load_data(job: DetectJob, ctx: Any, data_dir: str, skip_bad: bool) -> tuple[Any, Any, Path]:
    """Generate shapes if needed (rank 0), read both splits, decode the images."""
    from tinyvision.data.loader import load_images
    from tinyvision.data.shapes import ShapesConfig, make_shapes
    from tinyvision.train.distributed import barrier

    if job.data == SHAPES:
        assert job.shapes is not None
        yaml_path = Path(data_dir) / job.shapes_folder / "data.yaml"
        if ctx.is_main:
            yaml_path = make_shapes(yaml_path.parent, ShapesConfig(**job.shapes))
        barrier(ctx)
    else:
        yaml_path = Path(job.data)
    size = job.config.img_size
    loaded = []
    for split in ("train", "val"):
        dataset = _read_split(yaml_path, split, skip_bad)
        if dataset.num_images == 0:
            raise UserError(f"{yaml_path}: the {split} split has no images")
        images = load_images(dataset, size, skip_bad=skip_bad)
        if images.skipped and ctx.is_main:
            print(
                f"tinyvision: warning: {split}: skipped {len(images.skipped)} unreadable "
                f"image(s); first: {images.skipped[0]}",
                file=sys.stderr,
            )
        loaded.append(images)
    return loaded[0], loaded[1], yaml_path


def _anchors(job: DetectJob, train: Any) -> Any:
    """Autoanchor for a new run (printed); a resumed run keeps its checkpoint's anchors."""
    import math

    import numpy as np

    from tinyvision.nn.detector import DEFAULT_ANCHORS
    from tinyvision.train.detect import check_anchors

    if job.resume is not None:
        return tuple(tuple(a) for a in job.resume["detector"]["anchors"])
    default = np.array(DEFAULT_ANCHORS[: job.levels], dtype=np.float64).reshape(-1, 2)
    check = check_anchors(
        train.labels,
        default,
        img_size=job.config.img_size,
        anchor_t=job.config.loss.anchor_t,
        seed=job.seed,
    )
    if not math.isfinite(check.bpr):  # no boxes (a run with 0 objects stops before)
        print("anchors: no training boxes to check the default anchors against, kept")
    elif check.recomputed:
        shown = ", ".join(f"{w:.0f}x{h:.0f}" for w, h in check.anchors)
        print(
            f"anchors: best possible recall {check.bpr:.4f} of the default anchors < 0.98; "
            f"k-means anchors [{shown}] reach {check.new_bpr:.4f}"
        )
    else:
        print(f"anchors: best possible recall {check.bpr:.4f} of the default anchors >= 0.98, kept")
    per_level = check.anchors.reshape(job.levels, -1)
    return tuple(tuple(float(v) for v in level) for level in per_level)


def run(args: argparse.Namespace) -> int:
    from tinyvision._cli.classify import set_threads
    from tinyvision.train.distributed import cleanup_distributed, setup_distributed

    set_threads(args.threads)
    job = job_from_args(args)
    ctx = setup_distributed(args.device)
    try:
        if ctx.is_main:
            check_out(job.out)
        data_dir = job.data_dir or "data"
        train_and_report(job, ctx, data_dir, skip_bad=args.skip_bad_labels, conf=args.conf)
    finally:
        cleanup_distributed(ctx)
    return 0


def train_and_report(
    job: DetectJob,
    ctx: Any,
    data_dir: str,
    *,
    skip_bad: bool = False,
    conf: float = 0.25,
    label: str = "detect",
) -> Any:
    """Load the data, fit the anchors, build and train the detector; rank 0 evaluates it
    and writes the report. Returns the evaluation (None on other ranks)."""
    import torch

    from tinyvision._cli._progress import TrainProgress
    from tinyvision.nn.detector import DetectorConfig, TinyDetector
    from tinyvision.train.detect import train_detector
    from tinyvision.train.engine import transfer_weights

    train, val, yaml_path = load_data(job, ctx, data_dir, skip_bad)
    names = list(train.dataset.category_names)
    objects = sum(lab.shape[0] for lab in train.labels)
    if objects == 0:  # YOLOv5: "No labels found ... Can not train without labels"
        raise UserError(
            f"{yaml_path}: no objects in the labels of the {len(train.images)} training "
            "images (are the label files missing?): nothing to train on"
        )
    if ctx.is_main:
        print(
            f"data: {yaml_path} ({len(train.images)} training images with {objects} "
            f"objects, {len(val.images)} validation images, {len(names)} classes: "
            f"{', '.join(names)})"
        )
        if not any(lab.shape[0] for lab in val.labels):
            print(
                f"tinyvision: warning: {yaml_path}: no objects in the labels of the "
                "validation images: the mAP will be undefined (-1)",
                file=sys.stderr,
            )
        if job.resume is not None and int(job.resume["epoch"]) >= job.config.epochs:
            print(
                f"{job.out / 'last.pt'}: the run is already complete (all "
                f"{job.config.epochs} epochs trained); evaluating it again"
            )
    anchors = _anchors(job, train) if ctx.is_main or job.resume else None
    if ctx.distributed:  # every rank trains with rank 0's anchors
        shared = [anchors]
        torch.distributed.broadcast_object_list(shared, src=0)
        anchors = shared[0]
    torch.manual_seed(job.seed)
    detector = DetectorConfig(len(names), width=job.width, levels=job.levels, anchors=anchors)
    model = TinyDetector(detector, image_size=job.config.img_size)
    if job.weights is not None:
        record = job.weights
        state = record["ema"]["weights"] if "ema" in record else record["model"]
        # the run keeps its own anchors (and their strides)
        moved = transfer_weights(model, state, exclude=("anchors", "strides"))
        if ctx.is_main:
            print(moved.summary(job.weights_path))
    meta = {
        "data": job.data,
        "data_dir": data_dir,
        "shapes": job.shapes,
        "names": names,
        "seed": job.seed,
        "img_size": job.config.img_size,
    }
    progress = TrainProgress(label, enabled=ctx.is_main)
    try:
        result = train_detector(
            model,
            train.images,
            train.labels,
            job.config,
            val=val,
            ctx=ctx,
            out_dir=job.out,
            resume=job.resume,
            meta=meta,
            callback=progress,
        )
    finally:
        progress.close()
    if not ctx.is_main:
        return None
    return report_run(job, result, val, yaml_path, conf)


def loading_summary(result: Any) -> dict[str, float]:
    """Data-loading cost against the training step, from a :class:`DetectTrainResult`,
    over the whole run (the calls before a resume included)."""
    total_steps = int(result.total("steps"))
    steps = max(total_steps, 1)
    step = result.total("train_seconds") / steps
    build = result.total("data_build_seconds") / steps
    wait = result.total("data_wait_seconds") / steps
    return {
        "steps": total_steps,
        "step_seconds": step,
        "build_seconds_per_batch": build,
        "wait_seconds_per_batch": wait,
        "build_share_of_step": build / step if step else 0.0,
        "wait_share_of_step": wait / step if step else 0.0,
    }


def report_run(job: DetectJob, result: Any, val: Any, yaml_path: Path, conf: float) -> Any:
    """Evaluate the EMA model on the validation split; print and write the report."""
    from tinyvision._cli.classify import plot_results_hook, print_best
    from tinyvision._fileio import atomic_write_json
    from tinyvision.report.detection import write_detection_report
    from tinyvision.train.detect import evaluate_detector

    img_size = job.config.img_size
    best = result.best_model is not None
    final = result.best_model if best else result.model
    evaluation, _ = evaluate_detector(final, val.dataset, val.images, val.scales, img_size)
    loading = loading_summary(result)
    train_seconds = result.total("train_seconds")
    resumed = ""
    if result.start_epoch and result.steps:
        resumed = f"; resumed after epoch {result.start_epoch} ({result.steps} steps now)"
    print(
        f"trained in {train_seconds:.1f} s ({loading['steps']} steps of "
        f"{loading['step_seconds'] * 1e3:.0f} ms; building a batch took "
        f"{loading['build_seconds_per_batch'] * 1e3:.0f} ms in the loader threads = "
        f"{loading['build_share_of_step']:.0%} of a step, the step waited "
        f"{loading['wait_share_of_step']:.1%}{resumed}) -> {job.out / 'last.pt'}"
    )
    print_best(result, job.out, "fitness")
    plot_results_hook(job.out)
    if best:
        print(f"evaluating best.pt (epoch {result.best_epoch} of {job.config.epochs}):")
    print(evaluation.summary())
    print()
    print(evaluation.per_class_text())
    print(f"\nmAP@0.5 {evaluation.map50:.4f}  mAP@0.5:0.95 {evaluation.map50_95:.4f}")
    metrics = evaluation.to_dict(confidence=conf)
    metrics["training"] = {
        "data": job.data,
        "data_yaml": str(yaml_path),
        "epochs": job.config.epochs,
        "img_size": img_size,
        "width": job.width,
        "levels": job.levels,
        "seed": job.seed,
        "focal": job.config.loss.focal,
        "train_seconds": round(train_seconds, 3),  # every call of a resumed run
        "val_seconds": round(result.total("val_seconds"), 3),  # of which validation
        "epoch_losses": result.epoch_losses,
        "data_loading": loading,
        "anchors": [list(a) for a in result.model.config.anchors],
        "checkpoint": str(job.out / ("best.pt" if best else "last.pt")),
        "evaluated": f"best.pt (epoch {result.best_epoch})" if best else "last.pt",
        "best_epoch": result.best_epoch,
        "last_checkpoint": str(job.out / "last.pt"),
    }
    atomic_write_json(job.out / "metrics.json", metrics)
    paths = write_detection_report(
        evaluation,
        job.out,
        title="Detector training",
        subtitle=f"tiny detector (width {job.width}) on {job.data}, {job.config.epochs} "
        f"epochs at {img_size} px; "
        + (f"best.pt (epoch {result.best_epoch}); " if best else "")
        + "validation split",
        confidence=conf,
        run_dir=job.out,
    )
    print(f"wrote {job.out / 'metrics.json'}, {paths['report']} and plots")
    return evaluation
