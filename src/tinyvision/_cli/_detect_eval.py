"""`tinyvision detect eval`: evaluate detections against ground truth (COCO, YOLO, VOC)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate detections: COCO's 12 numbers (pycocotools-exact), VOC AP, reports",
        description=(
            "Evaluate detections against a ground truth. GT: a COCO json file, a YOLO data "
            "set (data.yaml or its folder) or a Pascal VOC folder. DT: COCO results json, a "
            "folder of YOLO prediction txt files (class cx cy w h conf) or of VOC devkit "
            "result files. Prints the summary; with --out writes metrics.json, PNG figures "
            "and a self-contained report.html."
        ),
    )
    parser.add_argument("--gt", required=True, help="ground truth (COCO json, YOLO, VOC)")
    parser.add_argument("--dt", required=True, help="detections (COCO results json, folder)")
    parser.add_argument(
        "--mode",
        default="coco",
        choices=("coco", "coco-fixed", "voc07", "voc2010"),
        help="coco: pycocotools exactly (default); coco-fixed: without its quirks; "
        "voc07/voc2010: Pascal VOC AP",
    )
    parser.add_argument(
        "--iou-type",
        default="bbox",
        choices=("bbox", "segm", "keypoints"),
        help="bbox (default), segm (mask IoU of COCO segmentations or YOLO polygons) or "
        "keypoints (OKS), as pycocotools' iouType; segm and keypoints need a coco mode",
    )
    parser.add_argument(
        "--max-dets",
        default=None,
        help="detection limits per image, e.g. 1,10,100 (default; keypoints 20)",
    )
    parser.add_argument(
        "--iou-thrs",
        default=None,
        help="IoU thresholds, e.g. 0.5,0.75 (default 0.50:0.05:0.95; VOC 0.5)",
    )
    parser.add_argument(
        "--area-rng",
        default=None,
        help="area ranges in pixels^2 as label=lo:hi pairs, e.g. all=0:1e10,small=0:1024 "
        "(default COCO's all, small, medium, large)",
    )
    parser.add_argument("--split", default="val", help="split of a YOLO/VOC data set (val)")
    parser.add_argument("--per-class", action="store_true", help="print the per-class table")
    parser.add_argument(
        "--conf",
        type=float,
        default=0.25,
        help="confidence for the counts and the confusion matrix (0.25)",
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for metrics and report")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinyvision._cli._checks import check_out
    from tinyvision._fileio import atomic_write_json
    from tinyvision._validate import check_float
    from tinyvision.data.formats import detect_format, load_dataset, load_predictions
    from tinyvision.metrics.coco import evaluate_detections

    # The options first: a mistake there should not cost the evaluation.
    check_float(args.conf, "--conf", minimum=0.0, maximum=1.0)
    params = _eval_params(args)
    if args.out is not None:
        check_out(args.out)
    gt_path = Path(args.gt)
    fmt = detect_format(gt_path)
    dataset = load_dataset(gt_path, args.split)
    detections = load_predictions(Path(args.dt), dataset)
    result = evaluate_detections(dataset, detections, mode=args.mode, **params)
    print(result.summary())
    if args.per_class:
        print()
        print(result.per_class_text())
    iou = result.report_iou_threshold
    best = result.best_f1(iou_threshold=iou)
    at = result.counts(args.conf, iou_threshold=iou)
    print()
    print(
        f"at confidence {at.confidence:g}: TP {at.tp}  FP {at.fp}  FN {at.fn}  "
        f"P {at.precision:.3f}  R {at.recall:.3f}  F1 {at.f1:.3f}"
    )
    print(
        f"best F1 {best.f1:.3f} at confidence {best.confidence:g} "
        f"(P {best.precision:.3f}, R {best.recall:.3f}) [IoU {iou:g}]"
    )
    if args.out is not None:
        from tinyvision.report.detection import write_detection_report

        metrics = result.to_dict(confidence=args.conf)
        metrics["ground_truth"] = {"path": str(gt_path), "format": fmt, "split": args.split}
        metrics["detections"] = str(args.dt)
        atomic_write_json(args.out / "metrics.json", metrics)
        paths = write_detection_report(
            result,
            args.out,
            subtitle=f"{gt_path.name} vs {Path(args.dt).name}, mode {args.mode}"
            + ("" if args.iou_type == "bbox" else f", {args.iou_type}"),
            confidence=args.conf,
        )
        print(f"wrote {args.out / 'metrics.json'} and {paths['report']}", file=sys.stderr)
    return 0


def _numbers(text: str, flag: str, kind: type) -> list:
    """Comma-separated numbers of ``kind``; a ValueError naming the flag otherwise."""
    try:
        values = [kind(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"{flag} must be comma-separated {kind.__name__}s, got {text!r}") from None
    return values


def _area_ranges(text: str) -> dict[str, tuple[float, float]]:
    out = {}
    for part in text.split(","):
        label, _, bounds = part.partition("=")
        lo, _, hi = bounds.partition(":")
        try:
            out[label.strip()] = (float(lo), float(hi))
        except ValueError:
            raise ValueError(
                f"--area-rng must be label=lo:hi pairs separated by commas, got {text!r}"
            ) from None
        if not label.strip():
            raise ValueError(f"--area-rng needs a label before '=' in {part!r}")
    return out


def _eval_params(args: argparse.Namespace) -> dict:
    """``evaluate_detections`` keywords from --iou-type, --max-dets, --iou-thrs, --area-rng
    (checked again, with the flag names, by the evaluator's own checks)."""
    params: dict = {"iou_type": args.iou_type}
    if args.max_dets is not None:
        params["max_dets"] = _numbers(args.max_dets, "--max-dets", int)
    if args.iou_thrs is not None:
        params["iou_thresholds"] = _numbers(args.iou_thrs, "--iou-thrs", float)
    if args.area_rng is not None:
        params["area_ranges"] = _area_ranges(args.area_rng)
    from tinyvision.metrics.coco.params import _make_params

    flags = {"max_dets": "--max-dets", "iou_thresholds": "--iou-thrs", "area_ranges": "--area-rng"}
    try:
        _make_params(
            args.mode,
            params.get("iou_thresholds"),
            None,
            params.get("max_dets"),
            params.get("area_ranges"),
            iou_type=args.iou_type,
        )
    except (ValueError, TypeError) as exc:
        message = str(exc)
        for name, flag in flags.items():
            if message.startswith(name):
                message = flag + message[len(name) :]
        raise type(exc)(message.replace("iou_type", "--iou-type")) from None
    return params
