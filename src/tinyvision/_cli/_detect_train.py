"""`tinyvision detect train`: train the tiny detector, then evaluate it (COCO-exact).

The data is the offline shapes set (generated on first use under ``--data-dir``) or any
YOLO data set (``data.yaml``). Training prints the anchor check, a progress bar (plain
lines when not on a terminal), and ends with the evaluation of the EMA model on the
validation split: ``metrics.json`` (top-level ``map50`` and ``map50_95``), PR-curve PNGs and
``report.html`` in ``--out``, the same report as ``tinyvision detect eval``. The flags of the
training settings are read from :class:`~tinyvision.train.detect.DetectTrainConfig`
(``_train_flags``); what a run does lives in :mod:`tinyvision.train.runs`: this module
parses and prints.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
from typing import Any

from tinyvision._cli import _flags, _train_flags
from tinyvision._cli._checks import check_out, warnings_as_lines
from tinyvision._errors import UserError

CONFIG = ("tinyvision.train.detect", "DetectTrainConfig")  # the flags' dataclass
SHAPES = "shapes"
DEFAULT_OUT = "runs/detect"  # train.runs.DETECT_OUT (not imported: the parser stays fast)
TRAIN_IMAGES, VAL_IMAGES = 1000, 200  # shapes images of a new run (train.runs)
WIDTH_MAX = 256  # channels of the first stage (the last has 8x or 16x)
# Flags from DetectTrainConfig (and its bool fields that default to False: --amp, ...)
CONFIG_FLAGS = ("epochs", "img_size", "batch_size", "lr", "optimizer", "workers")
# Flags a resumed run takes from its checkpoint (besides those from DetectTrainConfig).
OVERRIDES = ("width", "levels", "train_images", "val_images", "focal", "weights")
# The final defaults of the flags that neither the command line nor --config gave (those a
# resumed run refuses stay None: the job resolves them).
DEFAULTS: dict[str, Any] = {"device": "auto", "skip_bad_labels": False, "conf": 0.25}


def register(subparsers: argparse._SubParsersAction) -> None:
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
    _train_flags.add_config_argument(parser)
    add("--data", help="'shapes' (offline synthetic set, default) or DATA.yaml")
    add(
        "--data-dir",
        help="where the shapes set is generated (default data; a resumed run: its own)",
    )
    images = _flags.int_in(1, _flags.IMAGES_MAX)
    add("--train-images", type=images, help=f"shapes: training images ({TRAIN_IMAGES})")
    add("--val-images", type=images, help=f"shapes: validation images ({VAL_IMAGES})")
    _train_flags.add_config_flags(parser, *CONFIG, CONFIG_FLAGS, bools=False)
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
    add(
        "--focal",
        action="store_true",
        default=None,
        help="sigmoid focal loss for objectness and classes",
    )
    add(
        "--seed",
        type=_flags.seed,
        help=f"seed of weights, order and augmentation, 0..{_flags.SEED_MAX} (0)",
    )
    add("--device", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    _train_flags.add_threads_argument(parser)
    add("--out", help=f"output folder (default {DEFAULT_OUT}/DATA)")
    _train_flags.add_resume_argument(parser)
    _train_flags.add_engine_arguments(parser, *CONFIG)
    _train_flags.add_config_flags(parser, *CONFIG, ())  # --amp, ...
    add(
        "--skip-bad-labels",
        action="store_true",
        default=None,
        help="leave out bad label lines and unreadable images (with a warning) instead of "
        "stopping at the first",
    )
    add(
        "--conf",
        type=_flags.float_in(0.0, 1.0),
        help="confidence for the report's counts (0.25)",
    )
    parser.set_defaults(func=functools.partial(run, parser=parser))


def job_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser | None = None) -> Any:
    """The training job: the defaults with the flags' values, or a resumed run (``args``
    completed from ``--config`` and the defaults first when ``parser`` is given)."""
    from tinyvision.train import runs
    from tinyvision.train.detect import CHECKPOINT_KIND, DetectTrainConfig

    if parser is not None:
        _train_flags.merge_config(args, parser, DEFAULTS)
    settings = _train_flags.setting_names(parser) if parser is not None else list(CONFIG_FLAGS)
    if args.resume is not None:
        given = [f"--{n.replace('_', '-')}" for n in (*settings, *OVERRIDES) if getattr(args, n)]
        if given:
            raise UserError(f"--resume continues the run as it was set up; drop {' '.join(given)}")
        default = runs.default_detect_out(args.data or SHAPES)
        path, record = runs.resume_checkpoint(args.resume, args.out, CHECKPOINT_KIND, default)
        if args.seed not in (None, 0, record.get("seed")):
            raise UserError(f"{path} was trained with --seed {record.get('seed')}, not {args.seed}")
        if args.data not in (None, SHAPES, record.get("data")):
            raise UserError(f"{path} was trained on {record.get('data')}, not {args.data}")
        return runs.resumed_detect_job(path, record, args.out, args.data_dir)
    config = DetectTrainConfig()
    changes = {n: getattr(args, n) for n in settings if getattr(args, n, None) is not None}
    runs.check_val_every(changes.get("val_every"), changes.get("epochs", config.epochs))
    if args.focal:
        changes["loss"] = dataclasses.replace(config.loss, focal=True)
    config = dataclasses.replace(config, seed=args.seed or 0, **changes)
    return runs.detect_job(
        args.data or SHAPES,
        config,
        width=args.width or 16,
        levels=args.levels or 2,
        out=args.out,
        train_images=args.train_images,
        val_images=args.val_images,
        data_dir=args.data_dir,
        weights=args.weights,
    )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tinyvision._cli._progress import TrainProgress
    from tinyvision.data.formats import BadLabelsWarning
    from tinyvision.train import runs
    from tinyvision.train.distributed import cleanup_distributed, setup_distributed

    job = job_from_args(args, parser)  # --config and --weights read before any data
    _train_flags.set_threads(args.threads)
    ctx = setup_distributed(args.device)
    try:
        if ctx.is_main:
            check_out(job.out)
        with warnings_as_lines(BadLabelsWarning):
            data = runs.load_detect_data(job, ctx, skip_bad=args.skip_bad_labels)
        progress = TrainProgress("detect", enabled=ctx.is_main)
        runs.train_detect_job(job, ctx, data, conf=args.conf, progress=progress)
        if ctx.is_main and job.resume is None:
            resolved = {
                "data": job.data,
                "width": job.width,
                "levels": job.levels,
                "focal": job.config.loss.focal,
                **{k: (job.shapes or {}).get(k[:-7]) for k in ("train_images", "val_images")},
            }
            settings = _train_flags.resolved_settings(args, parser, job.config, resolved)
            runs.write_run_config(job.out, settings)
    finally:
        cleanup_distributed(ctx)
    return 0
