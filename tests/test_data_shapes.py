"""The shapes data set: seeded, exact boxes, written in the YOLO layout and read back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from tinyvision.data import shapes
from tinyvision.data.formats import read_yolo
from tinyvision.data.shapes import SHAPE_CLASSES, ShapesConfig, make_shapes, render_shapes

SMALL = ShapesConfig(train=6, val=3, image_size=64, min_size=10, max_size=30, seed=3)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_render_is_seeded_and_boxes_inside() -> None:
    a_img, a_lab = render_shapes(7, 96)
    b_img, b_lab = render_shapes(7, 96)
    np.testing.assert_array_equal(a_img, b_img)
    np.testing.assert_array_equal(a_lab, b_lab)
    assert a_img.shape == (96, 96, 3) and a_img.dtype == np.uint8
    for seed in range(20):
        _, labels = render_shapes(seed, 96, min_objects=1, max_objects=6)
        assert 1 <= labels.shape[0] <= 6
        assert (labels[:, 1:] >= 0).all() and (labels[:, 1:] <= 96).all()
        assert set(labels[:, 0].tolist()) <= set(range(len(SHAPE_CLASSES)))
        sizes = np.maximum(labels[:, 3] - labels[:, 1], labels[:, 4] - labels[:, 2])
        assert (sizes <= 52 + 1e-9).all() and (sizes > 4).all()


@pytest.mark.parametrize("kind", range(len(SHAPE_CLASSES)))
def test_box_is_the_bounds_of_the_drawn_pixels(kind: int) -> None:
    # each shape alone on a black canvas, at sub-pixel positions and random angles: the
    # pixels it touches span its box rounded out to whole pixels (a sharp tip may touch no
    # sub-pixel sample of its last pixel: within one pixel)
    rng = np.random.default_rng(kind)
    for _ in range(10):
        radius = float(rng.uniform(6, 20))
        cx, cy = (float(v) for v in rng.uniform(radius + 1, 63 - radius, 2))
        angle = float(rng.uniform(-np.pi, np.pi))
        canvas = np.zeros((64, 64, 3), dtype=np.float32)
        shapes._draw(canvas, kind, cx, cy, radius, angle, (255.0, 255.0, 255.0))
        ys, xs = np.nonzero(canvas[..., 0] > 0)
        extent = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        box = shapes._box(kind, cx, cy, radius, angle)
        # nothing is drawn outside the box's pixels ...
        assert (extent[:2] >= np.floor(box[:2])).all() and (extent[2:] <= np.ceil(box[2:])).all()
        # ... and the drawing reaches the box's edges
        np.testing.assert_allclose(extent, box, atol=1.0)


def test_objects_overlap_at_most_a_third() -> None:
    for seed in range(30):
        _, labels = render_shapes(seed, 128, min_objects=6, max_objects=6)
        boxes = labels[:, 1:]
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        for i in range(len(boxes)):
            for j in range(i):
                w = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
                h = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
                if w > 0 and h > 0:
                    assert w * h <= 0.33 * min(area[i], area[j]) + 1e-9


def test_make_shapes_reads_back_through_read_yolo(tmp_path: Path) -> None:
    path = make_shapes(tmp_path / "shapes", SMALL)
    config = yaml.safe_load(path.read_text())
    assert config["names"] == list(SHAPE_CLASSES) and config["nc"] == 4
    train = read_yolo(path, "train")
    val = read_yolo(path, "val")
    assert train.num_images == 6 and val.num_images == 3
    assert train.category_names == SHAPE_CLASSES
    assert (train.image_sizes == 64).all()
    # the labels are the rendered boxes, to the 6 decimals of the YOLO text format
    rng = np.random.default_rng([SMALL.seed, 0, 2])  # train image 3 (index 2)
    _, labels = render_shapes(rng, 64, min_size=10, max_size=30)
    rows = train.annotations_by_image()[2]
    np.testing.assert_allclose(train.boxes_xyxy()[rows], labels[:, 1:], atol=64 * 1e-6)
    np.testing.assert_array_equal(train.category_id[rows], labels[:, 0].astype(int))


def test_make_shapes_same_seed_same_files_and_reuse(tmp_path: Path) -> None:
    a = make_shapes(tmp_path / "a", SMALL).parent
    b = make_shapes(tmp_path / "b", SMALL).parent
    assert digest(a) == digest(b)
    stamp = (a / "images" / "train" / "000001.png").stat().st_mtime_ns
    make_shapes(a, SMALL)  # complete with these settings: left alone
    assert (a / "images" / "train" / "000001.png").stat().st_mtime_ns == stamp
    other = ShapesConfig(**{**SMALL.__dict__, "seed": 4})
    make_shapes(a, other)  # other settings: regenerated in place
    assert digest(a) != digest(b)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


def test_make_shapes_rebuilds_an_incomplete_set(tmp_path: Path) -> None:
    root = make_shapes(tmp_path / "s", SMALL).parent
    (root / "images" / "val" / "000001.png").unlink()
    make_shapes(root, SMALL)
    assert len(list((root / "images" / "val").glob("*.png"))) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"train": -1}, "train"),
        ({"image_size": 8}, "image_size"),
        ({"max_objects": 0, "min_objects": 1}, "max_objects"),
        ({"min_size": 40, "max_size": 20}, "max_size"),
        ({"max_size": 200}, "max_size"),
    ],
)
def test_config_bad_values(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ShapesConfig(**kwargs)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="config"):
        make_shapes("unused", {"train": 3})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed"):
        render_shapes("0")  # type: ignore[arg-type]


def test_make_shapes_never_replaces_a_folder_it_did_not_write(tmp_path: Path) -> None:
    from tinyvision._errors import UserError

    mine = tmp_path / "shapes"
    mine.mkdir()
    (mine / "precious.txt").write_text("keep me")
    (mine / "data.yaml").write_text("names: [a]\nval: images/val\n")  # a user's set
    with pytest.raises(UserError, match=r"shapes: exists and is not a shapes data set"):
        make_shapes(mine, SMALL)
    assert (mine / "precious.txt").read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(UserError, match="left alone"):
        make_shapes(file, SMALL)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert make_shapes(empty, SMALL) == empty / "data.yaml"  # an empty folder is fine
