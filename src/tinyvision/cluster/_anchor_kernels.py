"""The anchor metric of :mod:`tinyvision.cluster.anchors`: compiled kernel, reference beside."""

from __future__ import annotations

import numpy as np

from tinyvision._numba import jit


@jit
def best_ratios(wh, anchors):
    """For each label, the best anchor's ratio metric ``max_a min(r, 1/r, over w and h)``."""
    n = wh.shape[0]
    best = np.zeros(n)
    for i in range(n):
        top = 0.0
        for a in range(anchors.shape[0]):
            rw = wh[i, 0] / anchors[a, 0]
            rh = wh[i, 1] / anchors[a, 1]
            xw = min(rw, 1.0 / rw)
            xh = min(rh, 1.0 / rh)
            x = min(xw, xh)
            if x > top:
                top = x
        best[i] = top
    return best


def best_ratios_reference(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """YOLOv5's metric: per label, max over anchors of min(r, 1/r) over width and height."""
    r = wh[:, None, :] / anchors[None, :, :]
    return np.minimum(r, 1.0 / r).min(axis=2).max(axis=1)
