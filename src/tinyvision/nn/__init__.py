"""Networks and layers: the notes' ``ToyNet``, our ``FastNet``, the tiny YOLO-style
``TinyDetector`` and its blocks (``Conv``, ``C3``, ``TransformerBlock``, ``C3TR``), and
``dropout``."""

from tinyvision.nn.classifier import FastNet, ToyNet, build_classifier
from tinyvision.nn.detector import DetectorConfig, TinyDetector, decode, postprocess
from tinyvision.nn.layers import (
    C3,
    C3TR,
    Bottleneck,
    Conv,
    TransformerBlock,
    TransformerLayer,
    dropout,
)

__all__ = [
    "C3",
    "C3TR",
    "Bottleneck",
    "Conv",
    "DetectorConfig",
    "FastNet",
    "TinyDetector",
    "ToyNet",
    "TransformerBlock",
    "TransformerLayer",
    "build_classifier",
    "decode",
    "dropout",
    "postprocess",
]
