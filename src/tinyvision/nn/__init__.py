"""Networks and layers: the notes' ``ToyNet``, our ``FastNet``, and ``dropout``."""

from tinyvision.nn.classifier import FastNet, ToyNet, build_classifier
from tinyvision.nn.layers import dropout

__all__ = ["FastNet", "ToyNet", "build_classifier", "dropout"]
