"""tinyvision: train and evaluate image classifiers and small object detectors.

Every building block (box geometry, NMS, losses, metrics, clustering, augmentation,
schedules, layers) is a small, exact, fast, tested function. Subpackages:

- :mod:`tinyvision.ops`      box geometry and NMS (torch tensors)
- :mod:`tinyvision.losses`   focal and IoU-family losses
- :mod:`tinyvision.metrics`  classification and detection metrics (array-likes in)
- :mod:`tinyvision.cluster`  k-means, silhouette, KNN, anchors
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
