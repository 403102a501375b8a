"""Detector training: a test-sized run learns, resume is exact, the schedule, EMA, autoanchor,
prediction back to image pixels, the loader's determinism."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision.data.formats import read_yolo
from tinyvision.data.loader import AugmentConfig, DetectionLoader, load_images
from tinyvision.data.shapes import ShapesConfig, make_shapes
from tinyvision.nn.detector import DEFAULT_ANCHORS, DetectorConfig, TinyDetector
from tinyvision.train.checkpoint import load_checkpoint
from tinyvision.train.classify import TrainingDiverged
from tinyvision.train.detect import (
    DetectTrainConfig,
    check_anchors,
    detections_table,
    evaluate_detector,
    lr_at,
    predict_images,
    train_detector,
)
from tinyvision.train.ema import ModelEMA, ema_decay


@pytest.fixture(scope="module")
def tiny_shapes(tmp_path_factory: pytest.TempPathFactory):
    """64-pixel shapes with 1-3 large objects: learnable within seconds."""
    root = tmp_path_factory.mktemp("shapes")
    config = ShapesConfig(
        train=96, val=32, image_size=64, min_objects=1, max_objects=3, min_size=20, max_size=40
    )
    path = make_shapes(root / "shapes", config)
    train = load_images(read_yolo(path, "train"), 64)
    val = load_images(read_yolo(path, "val"), 64)
    return train, val


def tiny_model(num_classes: int = 4, width: int = 8) -> TinyDetector:
    torch.manual_seed(0)
    anchors = ((8, 8, 12, 12, 18, 18), (24, 24, 32, 32, 44, 44))
    return TinyDetector(
        DetectorConfig(num_classes, width=width, anchors=anchors, num_heads=2), image_size=64
    )


def test_a_test_sized_run_learns(tiny_shapes) -> None:
    # 96 images of 64 px, 16 epochs of 12 steps: about 12 s on one core. The floor is low,
    # the trend is what counts: the untrained model scores about 0.005.
    train, val = tiny_shapes
    model = tiny_model()
    before, _ = evaluate_detector(model, val.dataset, val.images, val.scales, 64)
    config = DetectTrainConfig(
        epochs=16,
        batch_size=8,
        img_size=64,
        lr=0.01,
        close_mosaic=0,
        ema_tau=20,
        augment=AugmentConfig(mosaic=0.0, scale=0.2, hsv_s=0.3, hsv_v=0.2),
        workers=1,
    )
    result = train_detector(model, train.images, train.labels, config)
    after, detections = evaluate_detector(result.model, val.dataset, val.images, val.scales, 64)
    totals = [sum(parts) for parts in result.epoch_losses]
    assert len(totals) == 16 and result.steps == 16 * 12
    assert totals[-1] < 0.9 * totals[0]  # the loss falls (0.30 -> 0.25 when written)
    assert before.map50 < 0.02
    assert after.map50 > 0.04, after.summary()  # and mAP@0.5 rises above a floor (0.07)
    assert len(detections) > 0 and set(detections.category_id.tolist()) <= {0, 1, 2, 3}
    assert result.data_build_seconds > 0 and result.train_seconds > 0


def test_resume_gives_the_uninterrupted_weights(tiny_shapes, tmp_path: Path) -> None:
    train, _ = tiny_shapes
    images, labels = train.images[:32], train.labels[:32]
    config = DetectTrainConfig(epochs=2, batch_size=16, img_size=64, workers=2, close_mosaic=1)
    straight = train_detector(tiny_model(width=4), images, labels, config, out_dir=tmp_path / "a")
    # the same run, interrupted after the checkpoint of epoch 1, then resumed from it
    record = _run_one_epoch_of(config, images, labels, tmp_path / "b")
    assert record["ema"]["updates"] == 2
    resumed = train_detector(
        tiny_model(width=4), images, labels, config, out_dir=tmp_path / "b", resume=record
    )
    assert resumed.steps == 2 and straight.steps == 4
    for which in ("model", "raw_model"):
        expected = getattr(straight, which).state_dict()
        for name, value in getattr(resumed, which).state_dict().items():
            torch.testing.assert_close(value, expected[name], rtol=0, atol=0, msg=name)
    final = load_checkpoint(tmp_path / "b" / "last.pt", kind="detector")
    assert final["epoch"] == 2 and final["step"] == 4
    # the history carries on through the checkpoint: both epochs' losses, all the steps
    assert len(straight.epoch_losses) == 2 and resumed.epoch_losses == straight.epoch_losses
    assert final["history"]["epoch_losses"] == straight.epoch_losses
    assert resumed.start_epoch == 1 and resumed.total("steps") == final["history"]["steps"] == 4
    earlier = record["history"]["train_seconds"]
    assert 0 < earlier < resumed.total("train_seconds") == final["history"]["train_seconds"]
    with pytest.raises(ValueError, match="name must be one of"):
        resumed.total("epochs")


def _run_one_epoch_of(config: DetectTrainConfig, images, labels, out: Path) -> dict:
    """The checkpoint a 2-epoch run writes after its first epoch."""
    seen: list[str] = []

    def stop_after_first_epoch(event) -> None:
        if event.kind == "epoch" and event.checkpoint:
            seen.append(event.checkpoint)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_detector(
            tiny_model(width=4),
            images,
            labels,
            config,
            out_dir=out,
            callback=stop_after_first_epoch,
        )
    record = load_checkpoint(seen[0], kind="detector")
    assert record["epoch"] == 1
    return record


def test_schedule_warmup_peak_and_end() -> None:
    config = DetectTrainConfig(lr=0.01, warmup=0.1, div_factor=25, final_div_factor=4)
    total = 100
    assert math.isclose(lr_at(0, total, config), 0.01 / 25)
    # torch's OneCycleLR peaks at step pct_start * total - 1
    assert math.isclose(lr_at(9, total, config), 0.01)
    assert math.isclose(lr_at(99, total, config), 0.01 / 100)
    values = [lr_at(s, total, config) for s in range(total)]
    assert values.index(max(values)) == 9
    assert all(a >= b for a, b in itertools.pairwise(values[9:]))  # then only falls


def test_ema_by_hand() -> None:
    # decay ramps: d(1) = 0.9999 * (1 - e^(-1/2000))
    assert math.isclose(ema_decay(1), 0.9999 * (1 - math.exp(-1 / 2000)))
    assert ema_decay(0) == 0.0 and ema_decay(10**6) == pytest.approx(0.9999)
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema = ModelEMA(model, decay=0.5, tau=1.0)
    with torch.no_grad():
        model.weight.fill_(3.0)
    ema.update(model)  # d = 0.5 * (1 - e^-1) = 0.31606; 1 * d + 3 * (1 - d)
    d = 0.5 * (1 - math.exp(-1))
    assert ema.module.weight.item() == pytest.approx(d + 3 * (1 - d))
    assert not ema.module.weight.requires_grad and ema.updates == 1
    with pytest.raises(ValueError, match="decay"):
        ModelEMA(model, decay=1.0)


def test_check_anchors_keeps_fitting_and_refits_poor_anchors() -> None:
    rng = np.random.default_rng(0)
    wh = rng.uniform(10, 40, size=(200, 2))
    labels = [np.column_stack([np.zeros(200), np.zeros((200, 2)), wh])]
    default = np.array(DEFAULT_ANCHORS, dtype=float).reshape(-1, 2)  # 3 levels: 9 anchors
    kept = check_anchors(labels, default, img_size=64)
    assert not kept.recomputed and kept.bpr >= 0.98
    np.testing.assert_array_equal(kept.anchors, default)
    # anchors 100x too large fit nothing: k-means anchors are fitted and recover the recall
    poor = check_anchors(labels, default * 100, img_size=64, seed=1)
    assert poor.bpr == 0.0 and poor.recomputed and poor.new_bpr > 0.98
    assert poor.anchors.shape == (9, 2)
    areas = poor.anchors.prod(axis=1)
    assert (np.diff(areas) >= 0).all()  # small to large: P3 gets the smallest


class FixedOutputs(TinyDetector):
    """A detector whose raw outputs are given: one confident box at a known place."""

    def __init__(self, outputs: list[torch.Tensor]) -> None:
        super().__init__(DetectorConfig(2, width=4, num_heads=2), image_size=64)
        self.fixed = outputs

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [o.expand(x.shape[0], *o.shape[1:]) for o in self.fixed]


def test_predict_maps_boxes_back_through_the_letterbox() -> None:
    # letterbox input 64: P3 has 8x8 cells of 8 px. Raw 0 for x, y gives the cell centre;
    # cell (gx 4, gy 3): centre (36, 28). Raw 0 for w, h gives the anchor: 10x13.
    outputs = [torch.full((1, 3, s, s, 7), -20.0) for s in (8, 4)]
    outputs[0][0, 0, 3, 4, :4] = 0.0
    outputs[0][0, 0, 3, 4, 4] = 10.0  # objectness ~1
    outputs[0][0, 0, 3, 4, 6] = 10.0  # class 1
    model = FixedOutputs(outputs)
    # a 128x64 (w x h) image: ratio 0.5 to 64x32, padded 16 rows above and below
    image = np.zeros((64, 128, 3), np.uint8)
    ((boxes, scores, classes),) = predict_images(model, [image], 64, conf_threshold=0.5)
    assert classes.tolist() == [1] and scores[0] > 0.99
    # letterboxed (31, 21.5)-(41, 34.5) -> minus pad (0, 16), divided by 0.5
    np.testing.assert_allclose(boxes[0], [62.0, 11.0, 82.0, 37.0], atol=1e-4)
    table = detections_table([(boxes, scores, classes)], [7], [10, 20], scales=[0.5])
    assert table.image_id.tolist() == [7] and table.category_id.tolist() == [20]
    np.testing.assert_allclose(table.bbox[0], [124.0, 22.0, 40.0, 52.0], atol=1e-4)


def test_loader_batches_do_not_depend_on_threads(tiny_shapes) -> None:
    train, _ = tiny_shapes
    make = lambda workers: DetectionLoader(  # noqa: E731
        train.images, train.labels, 64, 8, AugmentConfig(), seed=3, workers=workers
    )
    a = list(make(0).epoch(1))
    b = list(make(3).epoch(1))
    assert len(a) == len(b) == 12
    for x, y in zip(a, b):
        torch.testing.assert_close(x.images, y.images)
        torch.testing.assert_close(x.targets, y.targets)
    batch = a[0]
    assert batch.images.shape == (8, 3, 64, 64) and batch.images.dtype == torch.float32
    t = batch.targets
    assert t.shape[1] == 6 and (t[:, 2:] >= 0).all() and (t[:, 2:] <= 1).all()
    assert set(t[:, 0].long().tolist()) <= set(range(8))
    # two ranks together see the one-process batch
    loaders = [
        DetectionLoader(train.images, train.labels, 64, 8, seed=3, workers=0, rank=r, world_size=2)
        for r in range(2)
    ]
    halves = [loader.build(1, 0) for loader in loaders]
    assert halves[0].images.shape[0] == halves[1].images.shape[0] == 4
    torch.testing.assert_close(halves[0].images, a[0].images[0::2])
    torch.testing.assert_close(halves[1].images, a[0].images[1::2])


def test_loader_and_config_bad_input(tiny_shapes) -> None:
    train, _ = tiny_shapes
    with pytest.raises(ValueError, match="multiple of 32"):
        DetectionLoader(train.images, train.labels, 48, 8)
    with pytest.raises(ValueError, match="same length"):
        DetectionLoader(train.images, train.labels[:3], 64, 8)
    with pytest.raises(ValueError, match="no images"):
        DetectionLoader([], [], 64, 8)
    with pytest.raises(ValueError, match="img_size"):
        DetectTrainConfig(img_size=100)
    with pytest.raises(ValueError, match="optimizer"):
        DetectTrainConfig(optimizer="adam")
    with pytest.raises(ValueError, match="mosaic"):
        AugmentConfig(mosaic=1.5)
    with pytest.raises(ValueError, match="unknown training settings: colour"):
        DetectTrainConfig.from_dict({"colour": 1})
    config = DetectTrainConfig(epochs=3)
    assert DetectTrainConfig.from_dict(config.to_dict()) == config


def test_skipped_steps_are_counted_per_epoch(tiny_shapes, monkeypatch) -> None:
    # 16 images, batch 4: 4 steps per epoch. Gradients made non-finite on chosen steps.
    train, _ = tiny_shapes
    images, labels = train.images[:16], train.labels[:16]
    clip = torch.nn.utils.clip_grad_norm_
    calls = itertools.count()

    def run(epochs: int, bad_steps: set[int]):
        def flaky_clip(parameters, limit):
            norm = clip(parameters, limit)
            return torch.tensor(math.inf) if next(calls) in bad_steps else norm

        monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", flaky_clip)
        config = DetectTrainConfig(epochs=epochs, batch_size=4, img_size=64, workers=0)
        return train_detector(tiny_model(width=4), images, labels, config)

    # one bad step in each of 6 epochs: 6 skipped in all (more than an epoch's 4), but
    # never more than half of an epoch: training goes on
    calls = itertools.count()
    result = run(6, {0, 4, 8, 12, 16, 20})
    assert result.skipped_steps == 6 and len(result.epoch_losses) == 6
    # 3 of the 4 steps of epoch 1 bad: stopped there
    calls = itertools.count()
    with pytest.raises(TrainingDiverged, match=r"3 of the 4 steps had non-finite gradients in ep"):
        run(2, {0, 1, 3})


def test_check_anchors_bad_input() -> None:
    labels = [np.array([[0, 1, 1, 5, 5.0]])]
    anchors = np.ones((4, 2)) * 4
    cases = [
        ({"img_size": 0}, ValueError, "img_size must be >= 1, got 0"),
        ({"threshold": 2}, ValueError, r"threshold must be <= 1\.0, got 2"),
        ({"anchor_t": 1.0}, ValueError, r"anchor_t must be > 1\.0"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
    ]
    for kwargs, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            check_anchors(labels, anchors, **{"img_size": 64, **kwargs})
    with pytest.raises(ValueError, match=r"labels\[0\] must have shape \[N, 5\] \(class, x1"):
        check_anchors([np.array([[0, 1, 1, 5]])], anchors, img_size=64)
    with pytest.raises(ValueError, match=r"labels\[0\] .*shape \[N, 5\].*\(5, 4\)"):
        check_anchors([np.zeros((5, 4))], anchors, img_size=64)  # reshaped to [4, 5] before
    with pytest.raises(ValueError, match=r"labels\[1\] must be finite, got an array contain"):
        check_anchors([labels[0], np.array([[0, 1, 1, np.nan, 5.0]])], anchors, img_size=64)
    with pytest.raises(TypeError, match="labels must be a sequence"):
        check_anchors(labels[0], anchors, img_size=64)
    with pytest.raises(ValueError, match="anchors must be > 0, got -4.0"):
        check_anchors(labels, -anchors, img_size=64)
    with pytest.raises(ValueError, match=r"anchors must have shape \[L \* A, 2\] or \[L, A, 2\]"):
        check_anchors(labels, np.ones((4, 3)), img_size=64)
    # no boxes: NaN recalls, the anchors kept; an [L, A, 2] array is accepted
    empty = check_anchors([np.zeros((0, 5))], anchors.reshape(2, 2, 2), img_size=64)
    assert math.isnan(empty.bpr) and not empty.recomputed and empty.anchors.shape == (4, 2)


def test_check_anchors_checks_through_check_array() -> None:
    labels = [np.array([[0, 1, 1, 5, 5.0]])]
    anchors = np.ones((4, 2)) * 4
    cases = [
        ((labels, np.array([[4.0, np.nan]] * 4)), ValueError, "anchors must be finite.*NaN"),
        ((labels, np.zeros((0, 2))), ValueError, "anchors must not be empty"),
        ((labels, np.ones((4, 2), bool)), TypeError, "anchors must hold real numbers"),
        ((labels, np.ones(8)), ValueError, r"anchors must have shape .*\(8,\)"),
        ((labels, 4.0), ValueError, r"anchors must have shape .*\(\)"),
        (([np.array([["a"] * 5])], anchors), TypeError, r"labels\[0\] must hold real numbers"),
        (([*labels, np.ones((1, 5), bool)], anchors), TypeError, r"labels\[1\] must hold"),
        (("abc", anchors), TypeError, r"labels must be a sequence of \[N, 5\] arrays"),
    ]
    for arguments, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            check_anchors(*arguments, img_size=64)
    # an empty list is an image without labels; the anchors come back as a new array
    kept = check_anchors([[], torch.tensor([[0, 1, 1, 5, 5.0]])], anchors, img_size=64)
    assert kept.bpr == 1.0 and not kept.recomputed
    assert not np.shares_memory(kept.anchors, anchors)
    np.testing.assert_array_equal(kept.anchors, anchors)


def test_predict_images_bad_input() -> None:
    model = tiny_model(width=4)  # 2 levels: strides 8 and 16
    image = np.zeros((10, 12, 3), np.uint8)
    cases = [
        ({"img_size": 33}, ValueError, "img_size must be a multiple of 16"),
        ({"img_size": 8}, ValueError, "img_size must be >= 16"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
        ({"conf_threshold": 2}, ValueError, "conf_threshold must be <= 1"),
        ({"iou_threshold": -0.1}, ValueError, "iou_threshold must be >= 0"),
        ({"max_det": 0}, ValueError, "max_det must be >= 1"),
        ({"images": [np.zeros((10, 12, 4), np.uint8)]}, ValueError, r"images\[0\] .*\[H, W, 3\]"),
        ({"images": [np.zeros((10, 12), np.uint8)]}, ValueError, r"images\[0\] must have shape"),
        ({"images": [image, np.zeros((0, 5, 3), np.uint8)]}, ValueError, r"images\[1\]"),
        ({"images": [image.astype(float)]}, TypeError, r"images\[0\] must hold uint8 pixels"),
        ({"images": image}, TypeError, "images must be a sequence"),
        ({"model": torch.nn.Linear(2, 2)}, TypeError, "model must be a TinyDetector"),
    ]
    for kwargs, error, pattern in cases:
        arguments = {"model": model, "images": [image], "img_size": 64, **kwargs}
        with pytest.raises(error, match=pattern):
            predict_images(**arguments)
    assert predict_images(model, [], 64) == []
    ((boxes, scores, classes),) = predict_images(model, [image], 48, conf_threshold=0.0)
    assert boxes.shape[1] == 4 and scores.shape == classes.shape


def test_detections_table_bad_input() -> None:
    one = (np.array([[1.0, 2, 5, 6]]), np.array([0.9]), np.array([1]))
    cases = [
        (([one], [1], [10]), ValueError, r"classes must be integer indices into category_ids"),
        (([one], [], [10, 20]), ValueError, "predictions and image_ids must have the same length"),
        (([one], [1], [10, 20], [0.5, 1]), ValueError, "predictions and scales must have the same"),
        (([one], [1], [10, 20], [0.0]), ValueError, "scales must be > 0, got 0.0"),
        (([one], [1], [1.5, 2.5]), TypeError, "category_ids must hold integers"),
        (([(one[0], one[1])], [1], [10, 20]), TypeError, r"predictions\[0\] must be a \(boxes"),
        (
            ([(one[0][:, :3], *one[1:])], [1], [10, 20]),
            ValueError,
            r"predictions\[0\] boxes must have shape \[D, 4\]",
        ),
        (([(one[0], np.ones(2), one[2])], [1], [10, 20]), ValueError, r"scores \[D\]"),
        (([(*one[:2], np.array([0.5]))], [1], [10, 20]), TypeError, "hold integer indices"),
        ((one, [1], [10, 20]), ValueError, "same length"),  # a tuple of 3, not a list of them
    ]
    for arguments, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            detections_table(*arguments)
    table = detections_table([one], [7], [10, 20], scales=[2.0])
    assert table.category_id.tolist() == [20] and table.bbox[0].tolist() == [0.5, 1, 2, 2]
    assert len(detections_table([], [], [10])) == 0


def test_predict_images_and_detections_table_check_through_check_array() -> None:
    model = tiny_model(width=4)
    image = np.zeros((10, 12, 3), np.uint8)
    cases = [
        ([image.astype(np.uint16)], TypeError, r"images\[0\] must hold uint8 pixels.*uint16"),
        ([image.astype(np.int64)], TypeError, r"images\[0\] must hold uint8 pixels.*int64"),
        ([np.zeros((10, 0, 3), np.uint8)], ValueError, r"images\[0\] must not be empty"),
        ([image, image[..., :1]], ValueError, r"images\[1\] must have shape \[H, W, 3\]"),
        ("image", TypeError, r"images must be a sequence of \[H, W, 3\] arrays"),
    ]
    for images, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            predict_images(model, images, 64)
    # a uint8 tensor is an image too
    ((boxes, _, _),) = predict_images(model, [torch.from_numpy(image)], 64, conf_threshold=0.0)
    assert boxes.shape[1] == 4 and (boxes[:, 2] <= 12).all()

    one = (np.array([[1.0, 2, 5, 6]]), np.array([0.9]), np.array([1]))
    nan_box = (np.array([[1.0, np.nan, 5, 6]]), *one[1:])
    cases = [
        (([one], [1], [10, 20], [np.nan]), ValueError, "scales must be finite.*NaN"),
        (([one], [1], [10, 20], [-2.0]), ValueError, r"scales must be > 0, got -2\.0"),
        (([one], [1], [10, 20], ["a"]), TypeError, "scales must hold real numbers"),
        (([one], [1], [[10, 20]]), ValueError, r"category_ids must be 1-D, got .*\(1, 2\)"),
        (([nan_box], [1], [10, 20]), ValueError, r"predictions\[0\] boxes must be finite"),
        (([(one[0], ["x"], one[2])], [1], [10, 20]), TypeError, r"\[0\] scores must hold real"),
        (([(*one[:2], [True])], [1], [10, 20]), TypeError, r"\[0\] classes must hold integer"),
        (([(*one[:2], [-1])], [1], [10, 20]), ValueError, r"category_ids \(0\.\.1\)"),
    ]
    for arguments, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            detections_table(*arguments)
    # empty lists stand for no detections of an image; classes become int64
    empty = detections_table([([], [], []), one], [3, 4], np.array([10, 20], np.int32))
    assert empty.image_id.tolist() == [4] and empty.category_id.tolist() == [20]


def test_ema_bad_input() -> None:
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module, got 3 \(int\)"):
        ModelEMA(3)
    ema = ModelEMA(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="model must have the architecture of the averaged"):
        ema.update(torch.nn.Linear(2, 3))
    with pytest.raises(ValueError, match="model must have the architecture"):
        ema.update(torch.nn.Sequential(torch.nn.Linear(2, 2)))  # other names
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        ema.update(None)
    assert ema.updates == 0  # nothing folded in
