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
            "(yolo, voc). Images are copied when their folder is known (--images for COCO)."
        ),
    )
    parser.add_argument("--src", required=True, type=Path, help="source data set")
    parser.add_argument("--dst", required=True, type=Path, help="target file or folder")
    parser.add_argument("--to", required=True, choices=("coco", "yolo", "voc"))
    parser.add_argument("--split", default="val", help="split to read and write (val)")
    parser.add_argument("--images", type=Path, default=None, help="image folder of a COCO source")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinyvision._cli._checks import warnings_as_lines
    from tinyvision.data.formats import convert

    with warnings_as_lines():
        written = convert(args.src, args.dst, args.to, split=args.split, image_dir=args.images)
    print(f"wrote {written} ({args.to})")
    return 0
