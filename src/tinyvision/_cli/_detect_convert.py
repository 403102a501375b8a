"""`tinyvision detect convert`: convert a detection data set between COCO, YOLO and VOC."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert a data set's annotations between COCO json, YOLO txt and VOC xml",
        description=(
            "Convert ground truth between formats. SRC: a COCO json file, a YOLO data set "
            "(data.yaml or its folder) or a VOC folder. DST: a json file (coco) or a folder "
            "(yolo, voc). Images are copied when their folder is known (--images for COCO); "
            "files that are not images are skipped with a warning. A YOLO/VOC target is "
            "written into a staging folder beside DST and moved into place when complete; "
            "DST may not be, or contain, the source or its images."
        ),
    )
    parser.add_argument("--src", required=True, type=Path, help="source data set")
    parser.add_argument("--dst", required=True, type=Path, help="target file or folder")
    parser.add_argument("--to", required=True, choices=("coco", "yolo", "voc"))
    parser.add_argument("--split", default="val", help="split to read and write (val)")
    parser.add_argument("--images", type=Path, default=None, help="image folder of a COCO source")
    parser.add_argument(
        "--segments",
        action="store_true",
        help="yolo: write objects with one polygon as segmentation lines (class x1 y1 ...), "
        "not as their boxes",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinyvision._cli._checks import check_not_inside, refuse_overwrite, warnings_as_lines
    from tinyvision.data.formats import check_split_name, input_files, load_dataset, write_dataset

    check_split_name(args.split, "--split")
    if args.segments and args.to != "yolo":
        raise ValueError(f"--segments applies to --to yolo only, got --to {args.to}")
    with warnings_as_lines():
        dataset = load_dataset(args.src, args.split)
        image_dir = args.images if args.images is not None else dataset.image_root or None
        inputs = [("--src", args.src)]
        if args.images is not None:
            inputs.append(("--images", args.images))
        inputs += [("file", p) for p in input_files(dataset, image_dir)]
        if args.to == "coco":
            refuse_overwrite([("--dst", args.dst)], inputs)
        else:
            check_not_inside(args.dst, "--dst", inputs)
        written = write_dataset(
            dataset,
            args.dst,
            args.to,
            split=args.split,
            image_dir=image_dir,
            segments=args.segments,
        )
    print(f"wrote {written} ({args.to})")
    return 0
