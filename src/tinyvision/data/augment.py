"""Detection augmentation: pure functions over numpy images and ``[N, 5]`` label arrays.

Images are ``uint8[H, W, C]`` arrays (RGB for the colour functions); labels are
``float[N, 5]`` rows ``(class, x1, y1, x2, y2)`` in pixels, in continuous coordinates
(pixel ``i`` covers ``[i, i + 1)``). Every function returns new arrays and leaves its inputs
alone; every random one takes ``seed`` (an int, a ``numpy.random.Generator`` or None).

- :func:`mosaic`: YOLOv5's 4-image mosaic on a ``2s x 2s`` canvas.
- :func:`random_perspective`: one random matrix (centre, perspective, rotation and scale,
  shear, translation), boxes from their 4 warped corners, YOLOv5's box-candidate filter.
- :func:`augment_hsv`: random gains on hue, saturation and value.
- :func:`hflip`: left-right mirror.
- :func:`letterbox` and :func:`resize_longest`: fit an image to the network's input size.

The warps are OpenCV's. OpenCV puts pixel centres at integer coordinates; the warp matrix
is conjugated by that half-pixel shift, so the labels follow their pixels exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinyvision._validate import check_array, check_float, check_int, describe

__all__ = [
    "augment_hsv",
    "box_candidates",
    "hflip",
    "letterbox",
    "mosaic",
    "random_perspective",
    "resize_longest",
]

SeedLike = int | np.random.Generator | None


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {describe(seed)}")


def _check_image(image: Any, name: str = "image") -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy array [H, W, C], got {describe(image)}")
    if image.ndim != 3 or image.shape[0] == 0 or image.shape[1] == 0 or image.shape[2] == 0:
        raise ValueError(f"{name} must have shape [H, W, C] with H, W, C > 0, got {image.shape}")
    if image.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8, got {describe(image)}")
    return image


def _check_labels(labels: Any, name: str = "labels") -> np.ndarray:
    """``float64[N, 5]``; an empty list or ``[0]`` array counts as ``[0, 5]``."""
    array = check_array(
        labels, name, shape=(None, 5), dtype=np.float64, layout="(class, x1, y1, x2, y2)"
    )
    classes = array[:, 0]
    if ((classes < 0) | (classes != np.floor(classes))).any():
        bad = classes[(classes < 0) | (classes != np.floor(classes))][0]
        raise ValueError(f"{name}[:, 0] must hold class indices (whole numbers >= 0), got {bad:g}")
    if (array[:, 3] < array[:, 1]).any() or (array[:, 4] < array[:, 2]).any():
        row = int(np.flatnonzero((array[:, 3] < array[:, 1]) | (array[:, 4] < array[:, 2]))[0])
        raise ValueError(f"{name} must have x1 <= x2 and y1 <= y2, got {array[row].tolist()}")
    return array


# ----------------------------------------------------------------------------- geometry
def resize_longest(image: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Resize so that the longer side is ``size`` (bilinear; area filter when shrinking).

    Returns:
        ``(resized, ratio)``: multiply pixel coordinates by ``ratio`` to follow the pixels
        (exact: OpenCV's resize maps continuous coordinates by the same ratio).
    """
    _check_image(image)
    return _resize_longest(image, check_int(size, "size", minimum=1))


def _resize_longest(image: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    import cv2

    h, w = image.shape[:2]
    ratio = size / max(h, w)
    if ratio == 1:
        return image.copy(), 1.0
    new_w, new_h = max(1, round(w * ratio)), max(1, round(h * ratio))
    interpolation = cv2.INTER_AREA if ratio < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    return resized.reshape(new_h, new_w, image.shape[2]), ratio


def letterbox(
    image: np.ndarray, size: int, fill: int = 114
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Resize (longer side ``size``) and pad to ``size x size``, the image centred.

    Returns:
        ``(padded, ratio, (pad_x, pad_y))``: a point ``p`` of the original image is at
        ``p * ratio + pad`` in the padded one.
    """
    _check_image(image)
    size = check_int(size, "size", minimum=1)
    return _letterbox(image, size, check_int(fill, "fill", minimum=0, maximum=255))


def _letterbox(
    image: np.ndarray, size: int, fill: int = 114
) -> tuple[np.ndarray, float, tuple[int, int]]:
    resized, ratio = _resize_longest(image, size)
    h, w = resized.shape[:2]
    pad_x, pad_y = (size - w) // 2, (size - h) // 2
    out = np.full((size, size, image.shape[2]), fill, dtype=np.uint8)
    out[pad_y : pad_y + h, pad_x : pad_x + w] = resized
    return out, ratio, (pad_x, pad_y)


def hflip(image: np.ndarray, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mirror left-right: ``x1, x2 -> W - x2, W - x1``."""
    _check_image(image)
    return _hflip(image, _check_labels(labels))


def _hflip(image: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    boxes = labels.copy()
    boxes[:, [1, 3]] = image.shape[1] - labels[:, [3, 1]]
    return cv2.flip(image, 1).reshape(image.shape), boxes


def mosaic(
    images: Sequence[np.ndarray],
    labels: Sequence[Any],
    size: int,
    center: tuple[int, int] | None = None,
    fill: int = 114,
    *,
    seed: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """YOLOv5's 4-image mosaic: the images meet at a centre ``(xc, yc)`` on a ``2s x 2s``
    canvas (top-left, top-right, bottom-left, bottom-right), each cropped at the canvas edge.

    Args:
        images: four ``uint8[H, W, C]`` images (usually resized to longer side ``size``).
        labels: four ``[N_i, 5]`` label arrays, in each image's pixels.
        size: ``s``; the canvas is ``2s x 2s``.
        center: ``(xc, yc)`` in ``[0, 2s]``; default uniform in ``[s/2, 3s/2]`` (YOLOv5's
            ``mosaic_border = -s/2``).
        fill: value of the canvas where no image lands.
        seed: randomness for the centre.

    Returns:
        ``(canvas, labels)``: ``uint8[2s, 2s, C]`` and ``float64[M, 5]``, boxes shifted,
        clipped to the canvas, those left with no width or height dropped.
    """
    if len(images) != 4 or len(labels) != 4:
        raise ValueError(
            f"mosaic needs 4 images and 4 label arrays, got {len(images)} and {len(labels)}"
        )
    tiles = [_check_image(img, f"images[{i}]") for i, img in enumerate(images)]
    boxes = [_check_labels(lab, f"labels[{i}]") for i, lab in enumerate(labels)]
    channels = {t.shape[2] for t in tiles}
    if len(channels) != 1:
        raise ValueError(f"images must have the same number of channels, got {sorted(channels)}")
    s = check_int(size, "size", minimum=1)
    fill = check_int(fill, "fill", minimum=0, maximum=255)
    if center is None:
        rng = _rng(seed)
        xc, yc = (int(v) for v in rng.uniform(s / 2, 3 * s / 2, size=2))
    else:
        if len(center) != 2:
            raise ValueError(f"center must be (xc, yc), got {center!r}")
        xc = check_int(center[0], "center[0]", minimum=0, maximum=2 * s)
        yc = check_int(center[1], "center[1]", minimum=0, maximum=2 * s)
    return _mosaic(tiles, boxes, s, xc, yc, fill)


def _mosaic(
    tiles: Sequence[np.ndarray], boxes: Sequence[np.ndarray], s: int, xc: int, yc: int, fill: int
) -> tuple[np.ndarray, np.ndarray]:
    canvas = np.full((2 * s, 2 * s, tiles[0].shape[2]), fill, dtype=np.uint8)
    placed = []
    for i, (tile, lab) in enumerate(zip(tiles, boxes)):
        h, w = tile.shape[:2]
        if i == 0:  # top left: the image's bottom-right corner at the centre
            x1a, y1a, x2a, y2a = max(xc - w, 0), max(yc - h, 0), xc, yc
            x1b, y1b = w - (x2a - x1a), h - (y2a - y1a)
        elif i == 1:  # top right
            x1a, y1a, x2a, y2a = xc, max(yc - h, 0), min(xc + w, 2 * s), yc
            x1b, y1b = 0, h - (y2a - y1a)
        elif i == 2:  # bottom left
            x1a, y1a, x2a, y2a = max(xc - w, 0), yc, xc, min(2 * s, yc + h)
            x1b, y1b = w - (x2a - x1a), 0
        else:  # bottom right
            x1a, y1a, x2a, y2a = xc, yc, min(xc + w, 2 * s), min(2 * s, yc + h)
            x1b, y1b = 0, 0
        canvas[y1a:y2a, x1a:x2a] = tile[y1b : y1b + (y2a - y1a), x1b : x1b + (x2a - x1a)]
        shifted = lab.copy()
        shifted[:, [1, 3]] += x1a - x1b
        shifted[:, [2, 4]] += y1a - y1b
        # the tile shows the image only inside [x1a, x2a) x [y1a, y2a): clip to that
        shifted[:, [1, 3]] = shifted[:, [1, 3]].clip(x1a, x2a)
        shifted[:, [2, 4]] = shifted[:, [2, 4]].clip(y1a, y2a)
        placed.append(shifted)
    out = np.concatenate(placed, axis=0)
    keep = (out[:, 3] > out[:, 1]) & (out[:, 4] > out[:, 2])
    return canvas, out[keep]


def box_candidates(
    box1: np.ndarray,
    box2: np.ndarray,
    wh_thr: float = 2,
    ar_thr: float = 100,
    area_thr: float = 0.1,
    eps: float = 1e-16,
) -> np.ndarray:
    """YOLOv5's filter of boxes after a warp: ``box1`` before (scaled by the warp's zoom),
    ``box2`` after, both ``[4, N]`` (x1, y1, x2, y2). Keeps boxes wider and taller than
    ``wh_thr`` pixels, with aspect ratio below ``ar_thr`` and more than ``area_thr`` of their
    original area left. Returns ``bool[N]``."""
    boxes = [
        check_array(box, name, shape=(4, None), dtype=np.float64, layout="(x1, y1, x2, y2)")
        for name, box in (("box1", box1), ("box2", box2))
    ]
    if boxes[0].shape != boxes[1].shape:
        raise ValueError(
            f"box1 and box2 must have the same shape, got {boxes[0].shape} and {boxes[1].shape}"
        )
    return _box_candidates(
        boxes[0],
        boxes[1],
        check_float(wh_thr, "wh_thr", minimum=0.0),
        check_float(ar_thr, "ar_thr", minimum=1.0),
        check_float(area_thr, "area_thr", minimum=0.0),
        check_float(eps, "eps", minimum=0.0),
    )


def _box_candidates(
    box1: np.ndarray,
    box2: np.ndarray,
    wh_thr: float = 2,
    ar_thr: float = 100,
    area_thr: float = 0.1,
    eps: float = 1e-16,
) -> np.ndarray:
    w1, h1 = box1[2] - box1[0], box1[3] - box1[1]
    w2, h2 = box2[2] - box2[0], box2[3] - box2[1]
    ar = np.maximum(w2 / (h2 + eps), h2 / (w2 + eps))
    return (w2 > wh_thr) & (h2 > wh_thr) & (w2 * h2 / (w1 * h1 + eps) > area_thr) & (ar < ar_thr)


def _warp_matrix(
    rng: np.random.Generator,
    in_hw: tuple[int, int],
    out_hw: tuple[int, int],
    degrees: float,
    translate: float,
    scale: float,
    shear: float,
    perspective: float,
) -> tuple[np.ndarray, float]:
    """YOLOv5's ``M = T @ S @ R @ P @ C`` and the zoom ``s`` it drew."""
    height, width = out_hw
    C = np.eye(3)  # move the input's centre to the origin
    C[0, 2] = -in_hw[1] / 2
    C[1, 2] = -in_hw[0] / 2
    P = np.eye(3)  # perspective
    P[2, 0] = rng.uniform(-perspective, perspective)
    P[2, 1] = rng.uniform(-perspective, perspective)
    R = np.eye(3)  # rotation and scale
    angle = math.radians(rng.uniform(-degrees, degrees))
    zoom = rng.uniform(1 - scale, 1 + scale)
    cos, sin = math.cos(angle) * zoom, math.sin(angle) * zoom
    R[:2, :2] = [[cos, sin], [-sin, cos]]  # cv2.getRotationMatrix2D's sign convention
    S = np.eye(3)  # shear
    S[0, 1] = math.tan(math.radians(rng.uniform(-shear, shear)))
    S[1, 0] = math.tan(math.radians(rng.uniform(-shear, shear)))
    T = np.eye(3)  # translation, relative to the output size
    T[0, 2] = rng.uniform(0.5 - translate, 0.5 + translate) * width
    T[1, 2] = rng.uniform(0.5 - translate, 0.5 + translate) * height
    return T @ S @ R @ P @ C, zoom


def random_perspective(
    image: np.ndarray,
    labels: Any,
    degrees: float = 10,
    translate: float = 0.1,
    scale: float = 0.1,
    shear: float = 10,
    perspective: float = 0.0,
    border: tuple[int, int] = (0, 0),
    fill: int = 114,
    *,
    seed: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """YOLOv5's random affine/perspective warp of an image and its boxes.

    One matrix: centre the image, perspective, rotation by ``U(-degrees, degrees)`` and zoom
    by ``U(1 - scale, 1 + scale)``, shear by ``U(-shear, shear)`` degrees, translation by
    ``U(0.5 - translate, 0.5 + translate)`` of the output size. The output is
    ``H + 2 * border[0]`` by ``W + 2 * border[1]`` (a mosaic's ``border = (-s/2, -s/2)``
    brings its ``2s`` canvas back to ``s``). Each box becomes the bounds of its 4 warped
    corners, clipped to the output; boxes are kept when wider and taller than 2 pixels,
    aspect ratio < 100 and more than 10% of their zoomed original area left
    (:func:`box_candidates`).

    Returns:
        ``(warped, labels)``: ``uint8[H', W', C]`` and ``float64[M, 5]``.
    """
    _check_image(image)
    boxes = _check_labels(labels)
    degrees = check_float(degrees, "degrees", minimum=0.0)
    translate = check_float(translate, "translate", minimum=0.0, maximum=0.5)
    scale = check_float(scale, "scale", minimum=0.0, maximum=1.0, max_inclusive=False)
    shear = check_float(shear, "shear", minimum=0.0, maximum=89.0)
    perspective = check_float(perspective, "perspective", minimum=0.0)
    if len(border) != 2:
        raise ValueError(f"border must be (rows, columns), got {border!r}")
    height = image.shape[0] + 2 * check_int(border[0], "border[0]")
    width = image.shape[1] + 2 * check_int(border[1], "border[1]")
    if height < 1 or width < 1:
        raise ValueError(f"border {tuple(border)} leaves no output for an image {image.shape}")
    fill = check_int(fill, "fill", minimum=0, maximum=255)
    return _random_perspective(
        image, boxes, degrees, translate, scale, shear, perspective, (height, width), fill,
        _rng(seed),
    )  # fmt: skip


def _random_perspective(
    image: np.ndarray,
    boxes: np.ndarray,
    degrees: float,
    translate: float,
    scale: float,
    shear: float,
    perspective: float,
    out_hw: tuple[int, int],
    fill: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    height, width = out_hw
    M, zoom = _warp_matrix(
        rng, image.shape[:2], (height, width), degrees, translate, scale, shear, perspective
    )
    identity = np.array_equal(M, np.eye(3)) and (height, width) == image.shape[:2]
    if identity:
        warped = image.copy()
    else:
        # continuous coordinates are OpenCV's pixel-centre coordinates plus 0.5
        half = np.array([[1.0, 0, 0.5], [0, 1.0, 0.5], [0, 0, 1.0]])
        M_cv = np.linalg.inv(half) @ M @ half
        borders = (fill,) * min(image.shape[2], 4)
        if perspective:
            warped = cv2.warpPerspective(image, M_cv, (width, height), borderValue=borders)
        else:
            warped = cv2.warpAffine(image, M_cv[:2], (width, height), borderValue=borders)
        warped = warped.reshape(height, width, image.shape[2])
    if boxes.shape[0] == 0:
        return warped, boxes
    n = boxes.shape[0]
    corners = np.ones((n * 4, 3))
    corners[:, :2] = boxes[:, [1, 2, 3, 4, 1, 4, 3, 2]].reshape(n * 4, 2)  # 4 corners each
    corners = corners @ M.T
    xy = corners[:, :2] / corners[:, 2:3] if perspective else corners[:, :2]
    xy = xy.reshape(n, 8)
    xs, ys = xy[:, [0, 2, 4, 6]], xy[:, [1, 3, 5, 7]]
    new = np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], axis=1)
    new[:, [0, 2]] = new[:, [0, 2]].clip(0, width)
    new[:, [1, 3]] = new[:, [1, 3]].clip(0, height)
    keep = _box_candidates(boxes[:, 1:5].T * zoom, new.T)
    out = np.concatenate([boxes[keep, :1], new[keep]], axis=1)
    return warped, out


def augment_hsv(
    image: np.ndarray,
    hgain: float = 0.5,
    sgain: float = 0.5,
    vgain: float = 0.5,
    *,
    seed: SeedLike = None,
) -> np.ndarray:
    """Random hue, saturation and value gains (YOLOv5's HSV jitter) of an RGB image.

    Each channel is multiplied by ``U(1 - gain, 1 + gain)`` (hue wraps around, saturation and
    value clip at 255), through lookup tables.

    Returns:
        a new ``uint8[H, W, 3]`` image.
    """
    _check_image(image)
    if image.shape[2] != 3:
        raise ValueError(f"image must have 3 channels (RGB), got {image.shape[2]}")
    gains = [check_float(g, n, minimum=0.0) for g, n in ((hgain, "hgain"), (sgain, "sgain"),
                                                          (vgain, "vgain"))]  # fmt: skip
    return _augment_hsv(image, gains, _rng(seed))


def _augment_hsv(image: np.ndarray, gains: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    import cv2

    r = rng.uniform(-1, 1, 3) * np.asarray(gains) + 1
    if (r == 1).all():
        return image.copy()
    hue, sat, val = cv2.split(cv2.cvtColor(image, cv2.COLOR_RGB2HSV))
    x = np.arange(256, dtype=np.float64)
    lut_hue = ((x * r[0]) % 180).astype(np.uint8)
    lut_sat = np.clip(x * r[1], 0, 255).astype(np.uint8)
    lut_val = np.clip(x * r[2], 0, 255).astype(np.uint8)
    hsv = cv2.merge((cv2.LUT(hue, lut_hue), cv2.LUT(sat, lut_sat), cv2.LUT(val, lut_val)))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
