"""Shapes: a seeded synthetic detection data set, written in the YOLO layout.

Each image holds 1-6 objects (circles, squares, triangles, stars) of varied sizes, colours
and rotations on a textured background; objects may overlap a little. :func:`make_shapes`
writes ``images/{train,val}/*.png``, ``labels/{train,val}/*.txt`` (``class cx cy w h``,
normalised) and a ``data.yaml``, which :func:`tinyvision.data.formats.read_yolo` reads like
any user's data set. :func:`render_shapes` draws one image in memory.

Boxes are exact: every shape is drawn from its vertices (a circle from its centre and
radius) with sub-pixel precision, and the box is the bounds of those vertices in
continuous pixel coordinates (pixel ``i`` covers ``[i, i + 1)``). The same seed gives the
same files on every machine.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tinyvision._errors import UserError
from tinyvision._validate import check_float, check_int, describe
from tinyvision.data._safe_io import load_data_yaml

__all__ = ["SHAPE_CLASSES", "ShapesConfig", "make_shapes", "render_shapes"]

SHAPE_CLASSES = ("circle", "square", "triangle", "star")
_SAMPLES = 4  # sub-pixel samples per pixel side when drawing
_VERSION = 2  # bump when the drawing changes, so cached data sets are rebuilt
_GENERATOR = "tinyvision.data.shapes"  # data.yaml's shapes.generator: the folder is ours


@dataclass(frozen=True)
class ShapesConfig:
    """What :func:`make_shapes` generates (sizes in pixels)."""

    train: int = 1000  # training images
    val: int = 200  # validation images
    image_size: int = 128  # square images of this side
    min_objects: int = 1  # objects per image, at least
    max_objects: int = 6  # ... and at most
    min_size: float = 12.0  # object diameter (circumscribed circle), smallest
    max_size: float = 52.0  # ... and largest
    seed: int = 0  # the same seed gives the same files

    def __post_init__(self) -> None:
        check_int(self.train, "train", minimum=0)
        check_int(self.val, "val", minimum=0)
        check_int(self.image_size, "image_size", minimum=16)
        check_int(self.min_objects, "min_objects", minimum=0)
        check_int(self.max_objects, "max_objects", minimum=self.min_objects)
        check_float(self.min_size, "min_size", minimum=4.0)
        check_float(self.max_size, "max_size", minimum=self.min_size, maximum=self.image_size)
        check_int(self.seed, "seed", minimum=0)


def _generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {describe(seed)}")


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth random colour field with fine noise and a few faint lines: float32 [S, S, 3]."""
    import cv2

    base = rng.uniform(30.0, 225.0, size=3)
    coarse = rng.normal(0.0, 28.0, size=(4, 4, 3)).astype(np.float32)
    field = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    image = np.clip(field + base.astype(np.float32), 0, 255)
    for _ in range(int(rng.integers(0, 4))):  # faint straight strokes: texture, not objects
        p1 = tuple(int(v) for v in rng.integers(0, size, 2))
        p2 = tuple(int(v) for v in rng.integers(0, size, 2))
        shade = (base + rng.normal(0.0, 25.0, 3)).clip(0, 255)
        cv2.line(image, p1, p2, tuple(float(c) for c in shade), 1, cv2.LINE_AA)
    return image


def _vertices(kind: int, cx: float, cy: float, radius: float, angle: float) -> np.ndarray:
    """``[V, 2]`` polygon vertices of a shape (continuous coordinates); a circle is not
    rotated, so that its extreme points stay exact."""
    if kind == 0:  # circle: a 72-gon through its 4 extreme points
        turns = np.arange(72) * (math.pi / 36)
        return np.stack([cx + radius * np.cos(turns), cy + radius * np.sin(turns)], axis=1)
    if kind == 1:  # square: corners on the circumscribed circle
        turns = np.arange(4) * (math.pi / 2) + math.pi / 4
        radii = np.full(4, radius)
    elif kind == 2:  # equilateral triangle, pointing up before rotation
        turns = np.arange(3) * (2 * math.pi / 3) - math.pi / 2
        radii = np.full(3, radius)
    else:  # five-pointed star: outer and inner vertices alternate
        turns = np.arange(10) * (math.pi / 5) - math.pi / 2
        radii = np.where(np.arange(10) % 2 == 0, radius, 0.45 * radius)
    theta = turns + angle
    return np.stack([cx + radii * np.cos(theta), cy + radii * np.sin(theta)], axis=1)


def _box(kind: int, cx: float, cy: float, radius: float, angle: float) -> np.ndarray:
    if kind == 0:
        return np.array([cx - radius, cy - radius, cx + radius, cy + radius])
    points = _vertices(kind, cx, cy, radius, angle)
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def _draw(
    image: np.ndarray, kind: int, cx: float, cy: float, radius: float, angle: float, colour: Any
) -> None:
    """Blend one filled shape into ``image`` (float32 [H, W, 3]) by its exact coverage.

    Each pixel's coverage is the fraction of its 4 x 4 sub-pixel samples inside the polygon
    (OpenCV's polygon filling rounds to whole pixels and would make shapes up to a pixel
    larger than their boxes).
    """
    from matplotlib.path import Path as Polygon

    points = _vertices(kind, cx, cy, radius, angle)
    h, w = image.shape[:2]
    x0, y0 = (max(math.floor(v), 0) for v in points.min(axis=0))
    x1, y1 = (min(math.ceil(v), limit) for v, limit in zip(points.max(axis=0), (w, h)))
    if x1 <= x0 or y1 <= y0:
        return
    steps = (np.arange(_SAMPLES) + 0.5) / _SAMPLES
    xs = (np.arange(x0, x1)[:, None] + steps).reshape(-1)
    ys = (np.arange(y0, y1)[:, None] + steps).reshape(-1)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    inside = Polygon(points).contains_points(grid).reshape(y1 - y0, _SAMPLES, x1 - x0, _SAMPLES)
    alpha = inside.mean(axis=(1, 3), dtype=np.float32)[..., None]  # (h, w, 1) coverage
    region = image[y0:y1, x0:x1]
    region += alpha * (np.asarray(colour, dtype=np.float32) - region)


def _overlaps_too_much(box: np.ndarray, boxes: list[np.ndarray]) -> bool:
    """Objects may overlap, but never hide more than a third of each other's box."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    for other in boxes:
        w = min(box[2], other[2]) - max(box[0], other[0])
        h = min(box[3], other[3]) - max(box[1], other[1])
        if w <= 0 or h <= 0:
            continue
        other_area = (other[2] - other[0]) * (other[3] - other[1])
        if w * h > 0.33 * min(area, other_area):
            return True
    return False


def _colour(rng: np.random.Generator, background: np.ndarray) -> tuple[float, float, float]:
    """A colour that stands out from the background's mean (Euclidean distance >= 110)."""
    mean = background.reshape(-1, 3).mean(axis=0)
    colour = rng.uniform(0.0, 255.0, size=3)
    for _ in range(50):
        if np.linalg.norm(colour - mean) >= 110.0:
            break
        colour = rng.uniform(0.0, 255.0, size=3)
    return tuple(float(c) for c in colour)


def render_shapes(
    seed: int | np.random.Generator | None = None,
    image_size: int = 128,
    *,
    min_objects: int = 1,
    max_objects: int = 6,
    min_size: float = 12.0,
    max_size: float = 52.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one shapes image.

    Args:
        seed: an int, a ``numpy.random.Generator`` or None.
        image_size: side of the square image in pixels.
        min_objects, max_objects: how many objects to place (fewer when no free spot is
            found after 100 tries).
        min_size, max_size: object diameters (circumscribed circle) in pixels.

    Returns:
        ``(image, labels)``: ``uint8[S, S, 3]`` RGB and ``float64[N, 5]`` rows
        ``(class, x1, y1, x2, y2)`` in pixels, class indices into :data:`SHAPE_CLASSES`.
    """
    rng = _generator(seed)
    size = check_int(image_size, "image_size", minimum=16)
    check_int(min_objects, "min_objects", minimum=0)
    count = int(rng.integers(min_objects, check_int(max_objects, "max_objects") + 1))
    lo = check_float(min_size, "min_size", minimum=4.0)
    hi = check_float(max_size, "max_size", minimum=lo, maximum=size)
    canvas = _background(rng, size)
    boxes: list[np.ndarray] = []
    rows = []
    for _ in range(count):
        for _ in range(100):
            kind = int(rng.integers(0, len(SHAPE_CLASSES)))
            radius = float(math.exp(rng.uniform(math.log(lo), math.log(hi)))) / 2
            angle = float(rng.uniform(-math.pi, math.pi))
            cx, cy = (float(v) for v in rng.uniform(radius, size - radius, size=2))
            box = _box(kind, cx, cy, radius, angle)
            if box.min() >= 0 and box.max() <= size and not _overlaps_too_much(box, boxes):
                break
        else:
            continue
        _draw(canvas, kind, cx, cy, radius, angle, _colour(rng, canvas))
        boxes.append(box)
        rows.append([kind, *box.tolist()])
    canvas += rng.normal(0.0, 5.0, size=canvas.shape).astype(np.float32)  # sensor noise
    image = np.clip(np.round(canvas), 0, 255).astype(np.uint8)
    labels = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return image, labels


def _settings(config: ShapesConfig) -> dict[str, Any]:
    return {"generator": _GENERATOR, "version": _VERSION, **asdict(config)}


def _stored_settings(root: Path) -> dict[str, Any] | None:
    """The ``shapes`` settings a generated folder's data.yaml records; None when the folder
    has no data.yaml written by :func:`make_shapes`."""
    try:
        stored = load_data_yaml(root / "data.yaml")
    except (OSError, UserError):
        return None
    settings = stored.get("shapes") if isinstance(stored, dict) else None
    if isinstance(settings, dict) and settings.get("generator") == _GENERATOR:
        return settings
    return None


def _is_complete(root: Path, config: ShapesConfig) -> bool:
    if _stored_settings(root) != _settings(config):
        return False
    for split, n in (("train", config.train), ("val", config.val)):
        if len(list((root / "images" / split).glob("*.png"))) != n:
            return False
    return True


def _check_replaceable(root: Path) -> None:
    """Refuse to replace anything but an empty folder or one :func:`make_shapes` wrote."""
    if not root.exists() and not root.is_symlink():
        return
    real_dir = root.is_dir() and not root.is_symlink()
    if real_dir and (_stored_settings(root) is not None or not any(root.iterdir())):
        return
    raise UserError(
        f"{root}: exists and is not a shapes data set made by tinyvision (no data.yaml with "
        "its 'shapes' entry), so it is left alone; move it away or generate the shapes "
        "set in another folder"
    )


def _write_split(folder: Path, split: str, index: int, config: ShapesConfig) -> None:
    import cv2

    images = folder / "images" / split
    labels = folder / "labels" / split
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    n = config.train if split == "train" else config.val
    size = float(config.image_size)
    for i in range(n):
        rng = np.random.default_rng([config.seed, index, i])  # one stream per image
        image, rows = render_shapes(
            rng,
            config.image_size,
            min_objects=config.min_objects,
            max_objects=config.max_objects,
            min_size=config.min_size,
            max_size=config.max_size,
        )
        stem = f"{i + 1:06d}"
        if not cv2.imwrite(str(images / f"{stem}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise UserError(f"could not write {images / f'{stem}.png'}")
        lines = []
        for cls, x1, y1, x2, y2 in rows.tolist():
            lines.append(
                f"{int(cls)} {(x1 + x2) / 2 / size:.6f} {(y1 + y2) / 2 / size:.6f} "
                f"{(x2 - x1) / size:.6f} {(y2 - y1) / size:.6f}\n"
            )
        (labels / f"{stem}.txt").write_text("".join(lines), encoding="utf-8")


def make_shapes(root: str | os.PathLike[str], config: ShapesConfig | None = None) -> Path:
    """Write the shapes data set to ``root`` (unless it already holds these settings).

    The files are generated in a temporary folder beside ``root`` and moved into place at
    the end, so an interrupted run never leaves a half-written data set. Train image ``i``
    depends only on ``(seed, i)``, so a larger set extends a smaller one.

    A shapes set made earlier with other settings (e.g. another image size or number of
    images) or left incomplete is regenerated in its place: a folder whose ``data.yaml``
    carries this generator's ``shapes`` entry is ours to replace. Any other non-empty
    ``root`` is never touched.

    Returns:
        the path of ``root/data.yaml``.

    Raises:
        UserError: ``root`` exists and is not an empty folder or one this function wrote.
    """
    config = config or ShapesConfig()
    if not isinstance(config, ShapesConfig):
        raise TypeError(f"config must be a ShapesConfig, got {describe(config)}")
    target = Path(root)
    if _is_complete(target, config):
        return target / "data.yaml"
    _check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for index, split in enumerate(("train", "val")):
            _write_split(staging, split, index, config)
        data = {
            "path": ".",
            "train": "images/train",
            "val": "images/val",
            "nc": len(SHAPE_CLASSES),
            "names": list(SHAPE_CLASSES),
            "shapes": _settings(config),
        }
        (staging / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.replace(target, old / "data")
            shutil.rmtree(old, ignore_errors=True)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target / "data.yaml"
