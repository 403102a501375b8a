"""tinyvision.data.synthetic: seeded clusters of detections, and its argument checks."""

import pytest
import torch

from tinyvision.data import DetectionScene, clustered_detections


def test_scene_shapes_and_ranges():
    scene = clustered_detections(4, 10, num_classes=3, image_size=(100, 200), seed=1)
    assert isinstance(scene, DetectionScene)
    assert scene.objects.shape == (4, 4)
    assert scene.boxes.shape == (44, 4)  # 40 candidates + 10% background
    assert scene.scores.shape == scene.labels.shape == scene.source.shape == (44,)
    assert (scene.source[40:] == -1).all()
    assert scene.boxes[:, 0::2].min() >= 0 and scene.boxes[:, 0::2].max() <= 200
    assert scene.boxes[:, 1::2].max() <= 100
    assert scene.labels.max() < 3
    assert scene.image_size == (100, 200)


def test_same_seed_same_scene():
    a = clustered_detections(3, 5, seed=7, dtype=torch.float64)
    b = clustered_detections(3, 5, seed=7, dtype=torch.float64)
    assert a.boxes.dtype == torch.float64
    assert torch.equal(a.boxes, b.boxes) and torch.equal(a.scores, b.scores)


def test_object_size_bounds_the_objects():
    scene = clustered_detections(20, 1, object_size=(10, 12), image_size=(1000, 1000))
    sides = scene.objects[:, 2:] - scene.objects[:, :2]
    assert sides.min() >= 10 - 1e-3 and sides.max() <= 12 + 1e-3


def test_empty_scene():
    scene = clustered_detections(0, 5)
    assert scene.boxes.shape == (0, 4) and scene.objects.shape == (0, 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"num_objects": -1}, ValueError, "num_objects must be >= 0"),
        ({"num_objects": 2.5}, TypeError, "num_objects must be an integer"),
        ({"detections_per_object": -3}, ValueError, "detections_per_object must be >= 0"),
        ({"num_classes": 0}, ValueError, "num_classes must be >= 1"),
        ({"image_size": (0, 10)}, ValueError, r"image_size\[0\] \(height\) must be >= 1"),
        ({"image_size": (10,)}, ValueError, r"image_size must be \(height, width\)"),
        ({"background_fraction": float("nan")}, ValueError, "background_fraction must not be"),
        ({"background_fraction": -0.1}, ValueError, "background_fraction must be >= 0"),
        ({"object_size": (0, 5)}, ValueError, r"object_size\[0\] \(low\) must be > 0"),
        ({"object_size": (5, 2)}, ValueError, r"object_size\[1\] \(high\) must be >= 5"),
        ({"object_size": (5, float("inf"))}, ValueError, "must be finite"),
        ({"object_size": "big"}, ValueError, r"object_size must be \(low, high\)"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"dtype": torch.int64}, TypeError, "dtype must be a floating torch dtype"),
        ({"dtype": "float32"}, TypeError, "dtype must be a dtype"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, words):
    args = {"num_objects": 2, "detections_per_object": 3, **kwargs}
    with pytest.raises(error, match=words):
        clustered_detections(**args)
