"""tinyvision: train and evaluate image classifiers and small object detectors.

Every building block (box geometry, NMS, losses, metrics, clustering, augmentation,
schedules, layers) is a small, exact, fast, tested function. Subpackages:

- :mod:`tinyvision.ops`      box geometry and NMS (torch tensors)
- :mod:`tinyvision.losses`   focal and IoU-family losses
- :mod:`tinyvision.metrics`  classification and detection metrics (array-likes in)
- :mod:`tinyvision.cluster`  k-means, silhouette, KNN, anchors
- :mod:`tinyvision.nn`       layers and models: ToyNet, FastNet, dropout, Conv/C3/C3TR,
  the tiny detector with its decoding and post-processing
- :mod:`tinyvision.data`     data sets (digits, CIFAR-10, shapes), COCO/YOLO/VOC formats,
  augmentation (mosaic, random perspective, HSV, flip) and the threaded loader
- :mod:`tinyvision.train`    schedules (warm-up + one-cycle), the classifier and detector
  trainers, EMA, checkpoints, DDP helpers, evaluation
- :mod:`tinyvision.report`   plots and the self-contained HTML report
- :mod:`tinyvision.models`   ``Detector`` and ``Classifier``: load a checkpoint, predict on
  files, folders, videos or arrays (``Results``), val, train (also ``tinyvision.Detector``)

The command line is ``tinyvision`` (``python -m tinyvision``); ``tinyvision --help`` lists it.
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["Classifier", "Detector", "Results", "__version__"]

_MODELS = ("Classifier", "Detector", "Results")


def __getattr__(name: str) -> Any:
    """``tinyvision.Detector`` and friends, imported on first use (``import tinyvision``
    stays light: the CLI's ``--help`` does not load torch)."""
    if name in _MODELS:
        from tinyvision import models

        return getattr(models, name)
    raise AttributeError(f"module 'tinyvision' has no attribute {name!r}")
