"""`tinyvision detect export` and `tinyvision classify export`: a checkpoint to ONNX or
TorchScript (:mod:`tinyvision.train.export`), written atomically; the output never replaces
the checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinyvision._cli import _flags
from tinyvision._cli._checks import refuse_overwrite

# kept in step with tinyvision.train.export (not imported: `tinyvision --help` stays fast)
FORMATS = ("onnx", "torchscript")
MIN_OPSET, MAX_OPSET = 17, 20
MAX_DET_MAX = 100_000
SUFFIXES = {"onnx": ".onnx", "torchscript": ".torchscript"}


def register(actions: argparse._SubParsersAction, task: str) -> None:
    """Add the ``export`` action to the ``detect`` or ``classify`` group ``actions``."""
    detect = task == "detect"
    what = "detector" if detect else "classifier"
    parser = actions.add_parser(
        "export",
        help=f"export a {what} checkpoint to ONNX or TorchScript",
        description=(
            f"Export a {what} checkpoint to ONNX (opset {MIN_OPSET}..{MAX_OPSET}, run it "
            "with ONNX Runtime) or TorchScript, with a dynamic batch axis. "
            + (
                "Input: letterboxed RGB images float [B, 3, S, S] in [0, 1]; output: decoded "
                "predictions [B, N, 5 + K], or with --nms detections [B, max_det, 6] "
                "(x1, y1, x2, y2, score, class) and num_detections [B]."
                if detect
                else "Input: images float [B, C, H, W] in [0, 1] (normalised inside); "
                "output: logits [B, K]."
            )
        ),
    )
    add = parser.add_argument
    add("--checkpoint", required=True, type=Path, help=f"{what} checkpoint")
    add("--format", choices=FORMATS, default="onnx", help="onnx (default) or torchscript")
    add(
        "--out",
        type=Path,
        help="the file to write (default: the checkpoint's name with .onnx or .torchscript)",
    )
    size_type = _flags.detector_img_size if detect else _flags.int_in(1, _flags.IMG_SIZE_MAX)
    add("--img-size", type=size_type, help="input side (default: the training size)")
    add(
        "--dynamic",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ONNX: a dynamic batch axis (default; --no-dynamic fixes the batch at 1)",
    )
    add("--half", action="store_true", help="float16 weights and inputs (needs a CUDA GPU)")
    add(
        "--opset",
        type=_flags.int_in(MIN_OPSET, MAX_OPSET),
        default=MIN_OPSET,
        help=f"ONNX opset ({MIN_OPSET})",
    )
    if detect:
        add("--nms", action="store_true", help="end the graph in the final boxes (NMS inside)")
        add("--conf", type=_flags.probability, default=0.25, help="--nms: score threshold (0.25)")
        add("--iou", type=_flags.probability, default=0.45, help="--nms: NMS IoU (0.45)")
        add(
            "--max-det",
            type=_flags.int_in(1, MAX_DET_MAX),
            default=300,
            help="--nms: boxes kept per image (300)",
        )
    parser.set_defaults(func=run_detect if detect else run_classify)


def _out(args: argparse.Namespace) -> Path:
    out = args.out or args.checkpoint.with_suffix(SUFFIXES[args.format])
    refuse_overwrite([("--out", out)], [("--checkpoint", args.checkpoint)])
    return out


def _common(args: argparse.Namespace) -> dict:
    return {
        "format": args.format,
        "img_size": args.img_size,
        "dynamic": args.dynamic,
        "half": args.half,
        "opset": args.opset,
    }


def run_detect(args: argparse.Namespace) -> int:
    from tinyvision.train.checkpoint import load_checkpoint
    from tinyvision.train.export import export_detector

    out = _out(args)
    load_checkpoint(args.checkpoint, kind="detector")  # a checkpoint of another kind: one line
    selection = {"nms": args.nms, "conf": args.conf, "iou": args.iou, "max_det": args.max_det}
    path = export_detector(args.checkpoint, out, **_common(args), **selection)
    print(f"exported {args.checkpoint} to {path} ({args.format})")
    return 0


def run_classify(args: argparse.Namespace) -> int:
    from tinyvision.train.checkpoint import load_checkpoint
    from tinyvision.train.export import export_classifier

    out = _out(args)
    load_checkpoint(args.checkpoint, kind="classifier")
    path = export_classifier(args.checkpoint, out, **_common(args))
    print(f"exported {args.checkpoint} to {path} ({args.format})")
    return 0
