"""The pictures of a training run: results.png, labels.png, train_batch0.jpg, drawn boxes,
the report's training section and the TensorBoard logger."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

from tinyvision._errors import UserError
from tinyvision.report import run_plots
from tinyvision.report.drawing import (
    batch_grid,
    class_colour,
    draw_boxes,
    write_batch_jpg,
    write_image,
)
from tinyvision.report.html import HtmlReport
from tinyvision.report.run_plots import (
    add_training_section,
    labels_figure,
    read_results_csv,
    results_figure,
    write_labels_png,
    write_results_png,
)

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


def _csv(tmp_path, text):
    path = tmp_path / "results.csv"
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- results.csv
def test_read_results_csv_columns_and_gaps(tmp_path):
    path = _csv(tmp_path, "epoch,train/loss,val/loss\n1,0.9,\n2,0.5,0.7\n")
    columns = read_results_csv(path)
    assert list(columns) == ["epoch", "train/loss", "val/loss"]
    np.testing.assert_array_equal(columns["epoch"], [1, 2])
    np.testing.assert_array_equal(columns["train/loss"], [0.9, 0.5])
    assert math.isnan(columns["val/loss"][0]) and columns["val/loss"][1] == 0.7


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("step,loss\n1,2\n", "no 'epoch' column"),
        ("epoch,loss\n1,abc\n", "results.csv:2: loss is not a number: 'abc'"),
        ("epoch,loss\n1\n", "results.csv:2: 1 cells, the header has 2"),
    ],
)
def test_read_results_csv_bad_files(tmp_path, text, words):
    with pytest.raises(UserError, match="results.csv") as info:
        read_results_csv(_csv(tmp_path, text))
    assert words in str(info.value)


def test_read_results_csv_missing_and_undecodable(tmp_path):
    with pytest.raises(UserError, match="cannot read .*nope.csv"):
        read_results_csv(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"epoch,\xff\n")
    with pytest.raises(UserError, match="cannot read .*bad.csv"):
        read_results_csv(bad)


def test_results_figure_one_plot_per_finite_column():
    columns = {
        "epoch": [1, 2, 3, 4, 5, 6],
        "train/loss": [6, 5, 4, 3, 2, 1],
        "val/loss": [math.nan] * 6,  # never computed: left out
        "metrics/accuracy_top1": [0.1, 0.3, math.nan, 0.6, 0.7, 0.8],
    }
    fig = results_figure(columns)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["train/loss", "metrics/accuracy_top1"]
    line = fig.axes[0].lines[0]
    np.testing.assert_array_equal(line.get_ydata(), [6, 5, 4, 3, 2, 1])


def test_results_figure_bad_columns():
    with pytest.raises(ValueError, match="'epoch' entry"):
        results_figure({"loss": [1.0]})
    with pytest.raises(ValueError, match="column 'loss' has 1 values, 'epoch' has 2"):
        results_figure({"epoch": [1, 2], "loss": [1.0]})


def test_results_figure_without_values_says_so():
    fig = results_figure({"epoch": [], "loss": []})
    assert fig.axes[0].texts[0].get_text() == "no values yet"


def test_write_results_png_beside_the_csv(tmp_path):
    path = _csv(tmp_path, "epoch,train/loss\n1,0.9\n2,0.5\n")
    out = write_results_png(path)
    assert out == tmp_path / "results.png"
    assert out.read_bytes()[:8] == PNG
    assert not list(tmp_path.glob("*.tmp*"))


# ----------------------------------------------------------------------------- labels.png
def test_labels_figure_counts_every_class():
    classes = np.array([0, 2, 2, 2])
    boxes = np.array([[0.5, 0.5, 0.2, 0.1]] * 4)
    fig = labels_figure(classes, boxes, ["a", "b", "c"])
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    assert heights == [1, 0, 3]
    centres = fig.axes[1].collections[0].get_offsets()
    np.testing.assert_array_equal(np.asarray(centres), boxes[:, :2])


def test_labels_figure_empty_set_draws():
    fig = labels_figure(np.zeros(0, dtype=np.int64), np.zeros((0, 4)), ["a"])
    assert [p.get_height() for p in fig.axes[0].patches] == [0]


@pytest.mark.parametrize(
    ("classes", "boxes", "names", "words"),
    [
        (np.array([0.0]), np.zeros((1, 4)), ["a"], "1-D integer"),
        (np.array([0]), np.zeros((1, 3)), ["a"], r"boxes_xywhn must be \[1, 4\]"),
        (np.array([0]), np.zeros((1, 4)), [], "at least one class"),
        (np.array([1]), np.zeros((1, 4)), ["a"], r"classes must be in \[0, 1\)"),
        (np.array([-1]), np.zeros((1, 4)), ["a"], r"classes must be in \[0, 1\)"),
        (np.array([0]), np.full((1, 4), np.nan), ["a"], "finite"),
    ],
)
def test_labels_figure_bad_input(classes, boxes, names, words):
    with pytest.raises(ValueError, match=words):
        labels_figure(classes, boxes, names)


# ----------------------------------------------------------------------------- drawing
def test_draw_boxes_draws_on_a_copy():
    image = np.zeros((40, 60, 3), dtype=np.uint8)
    drawn = draw_boxes(image, np.array([[10.0, 12.0, 30.0, 32.0]]), [1], ["a", "b"], [0.9])
    assert image.max() == 0  # the input is untouched
    assert tuple(drawn[20, 10]) == class_colour(1)  # the left edge, in class 1's colour
    assert drawn[20, 20].max() == 0  # inside the box: not filled


def test_draw_boxes_accepts_tensors_and_no_boxes():
    image = np.full((8, 8, 3), 7, dtype=np.uint8)
    same = draw_boxes(image, torch.zeros(0, 4), torch.zeros(0), ["a"])
    np.testing.assert_array_equal(same, image)
    assert same is not image
    drawn = draw_boxes(image, torch.tensor([[0.0, 0.0, 8.0, 8.0]]), torch.tensor([0]), ["a"])
    assert tuple(drawn[0, 0]) == class_colour(0)


def test_class_colours_differ_between_neighbouring_classes():
    colours = {class_colour(c) for c in range(4)}
    assert len(colours) == 4


@pytest.mark.parametrize(
    ("image", "boxes", "classes", "scores", "error", "words"),
    [
        ([[0]], np.zeros((1, 4)), [0], None, TypeError, "numpy array"),
        (np.zeros((4, 4), np.uint8), np.zeros((1, 4)), [0], None, ValueError, r"\[H, W, 3\]"),
        (np.zeros((4, 4, 3), np.float32), np.zeros((1, 4)), [0], None, ValueError, "uint8"),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((1, 3)), [0], None, ValueError, r"\[N, 4\]"),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((1, 4)), [0, 0], None, ValueError, "one entry"),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((1, 4)), [0], [1, 2], ValueError, "scores"),
        (np.zeros((4, 4, 3), np.uint8), np.full((1, 4), np.nan), [0], None, ValueError, "finite"),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((1, 4)), [3], None, ValueError, "classes"),
        (np.zeros((4, 4, 3), np.uint8), np.array([["a"] * 4]), [0], None, TypeError, "numbers"),
    ],
)
def test_draw_boxes_bad_input(image, boxes, classes, scores, error, words):
    with pytest.raises(error, match=words):
        draw_boxes(image, boxes, classes, ["a"], scores)


def test_batch_grid_places_each_image_and_its_boxes():
    images = torch.zeros(3, 3, 16, 16)
    images[2] = 1.0  # white third image
    targets = torch.tensor([[1.0, 0.0, 8.0, 8.0, 8.0, 8.0]])  # image 1, class 0, 8x8 in the middle
    grid = batch_grid(images, targets, ["a"])
    assert grid.shape == (32, 32, 3)  # 2 x 2 cells, the fourth left grey
    assert tuple(grid[20, 20]) == (114, 114, 114)
    assert grid[8, 24].max() == 0  # image 1 (top right) is black away from its box
    assert tuple(grid[8, 16 + 4]) == class_colour(0)  # its box's left edge at x = 4
    assert grid[16 + 8, 8].min() == 255  # image 2 (bottom left) is white
    normalised = torch.tensor([[1.0, 0.0, 0.5, 0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(batch_grid(images, normalised, ["a"]), grid)


def test_batch_grid_max_images():
    grid = batch_grid(
        torch.zeros(5, 3, 4, 4, dtype=torch.uint8), torch.zeros(0, 6), ["a"], max_images=1
    )
    assert grid.shape == (4, 4, 3)


@pytest.mark.parametrize(
    ("images", "targets", "kwargs", "words"),
    [
        (torch.zeros(1, 1, 4, 4), torch.zeros(0, 6), {}, r"\[B, 3, H, W\]"),
        (np.zeros((1, 3, 4, 4)), torch.zeros(0, 6), {}, r"\[B, 3, H, W\]"),
        (torch.zeros(1, 3, 4, 4), torch.zeros(0, 5), {}, r"\[M, 6\]"),
        (torch.zeros(0, 3, 4, 4), torch.zeros(0, 6), {}, "at least one image"),
        (torch.zeros(1, 3, 4, 4), torch.zeros(0, 6), {"max_images": 0}, "max_images"),
    ],
)
def test_batch_grid_bad_input(images, targets, kwargs, words):
    with pytest.raises(ValueError, match=words):
        batch_grid(images, targets, ["a"], **kwargs)


def test_batch_grid_normalised_says_which():
    images = torch.zeros(1, 3, 16, 16)
    tiny = torch.tensor([[0.0, 0.0, 1.0, 1.0, 1.0, 1.0]])  # a 1-pixel box at the corner
    as_pixels = batch_grid(images, tiny, ["a"], normalised=False)
    assert tuple(as_pixels[0, 0]) == class_colour(0) and as_pixels[8, 8].max() == 0
    guessed = batch_grid(images, tiny, ["a"])  # every value <= 1: taken as fractions
    np.testing.assert_array_equal(guessed, batch_grid(images, tiny, ["a"], normalised=True))
    assert not np.array_equal(guessed, as_pixels)
    # a box reaching past the border (w > 1) is still a fraction when said so
    wide = torch.tensor([[0.0, 0.0, 0.5, 0.5, 1.25, 0.5]])
    drawn = batch_grid(images, wide, ["a"], normalised=True)
    assert tuple(drawn[4, 8]) == class_colour(0)  # the top edge at y = 4


def test_write_batch_jpg_draws_the_batch_grid(tmp_path):
    import cv2

    ramp = torch.linspace(0, 1, 32)
    images = torch.stack([(ramp[None, :, None] + ramp[None, None, :]) * k / 10 for k in range(5)])
    images = images.expand(5, 3, 32, 32)  # smooth pictures: JPEG keeps them closely
    targets = torch.tensor([[0.0, 1.0, 0.5, 0.5, 0.25, 0.25], [4.0, 0.0, 0.2, 0.3, 0.1, 0.2]])
    stale = tmp_path / ".train_batch0.jpg.k1ll3d_0.tmp"
    stale.write_bytes(b"half")
    path = write_batch_jpg(tmp_path / "train_batch0.jpg", images, targets, ["a", "b"])
    assert path.read_bytes()[:3] == JPEG and not stale.exists()
    decoded = cv2.imread(str(path))
    assert decoded.shape == (64, 96, 3)  # 5 images: 3 columns, 2 rows of 32 px cells
    expected = batch_grid(images, targets, ["a", "b"], normalised=True)[:, :, ::-1]
    assert np.abs(decoded.astype(int) - expected).mean() < 4  # JPEG's loss only
    with pytest.raises(ValueError, match=r"targets must be an \[M, 6\]"):
        write_batch_jpg(tmp_path / "x.jpg", images, torch.zeros(1, 5), ["a"])
    assert not (tmp_path / "x.jpg").exists()


def test_write_labels_png_normalises_each_images_boxes(tmp_path, monkeypatch):
    seen = {}

    def spy(classes, boxes, names):
        seen.update(classes=classes, boxes=boxes, names=list(names))
        return labels_figure(classes, boxes, names)

    monkeypatch.setattr(run_plots, "labels_figure", spy)
    images = [np.zeros((40, 80, 3), np.uint8), np.zeros((64, 32, 3), np.uint8)]
    labels = [
        np.array([[1, 0, 0, 40, 20], [0, 20, 10, 60, 30]], dtype=np.float64),
        np.zeros((0, 5)),
    ]
    stale = tmp_path / ".labels.png.k1ll3d_0.tmp"
    stale.write_bytes(b"half")
    path = write_labels_png(tmp_path / "labels.png", images, labels, ["a", "b"])
    assert path.read_bytes()[:8] == PNG and not stale.exists()
    np.testing.assert_array_equal(seen["classes"], [1, 0])
    assert seen["classes"].dtype == np.int64 and seen["names"] == ["a", "b"]
    np.testing.assert_allclose(seen["boxes"], [[0.25, 0.25, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]])
    # no boxes at all still draws (empty counts)
    write_labels_png(tmp_path / "empty.png", images[:1], [np.zeros((0, 5))], ["a"])
    assert (tmp_path / "empty.png").read_bytes()[:8] == PNG


IMAGE = np.zeros((8, 8, 3), np.uint8)
BOX = np.array([[0, 1, 1, 4, 4]], dtype=np.float64)


@pytest.mark.parametrize(
    ("images", "labels", "error", "words"),
    [
        (np.zeros((1, 8, 8, 3), np.uint8), [BOX], TypeError, "images must be a sequence"),
        ([IMAGE], [BOX, BOX], ValueError, "labels must hold 1 arrays"),
        ([IMAGE], [BOX[:, :4]], ValueError, r"labels\[0\]"),
        ([IMAGE], [np.full((1, 5), np.nan)], ValueError, "finite"),
        ([IMAGE], [np.array([[0.5, 1, 1, 4, 4]])], ValueError, "whole numbers, got 0.5"),
        ([IMAGE], [np.array([[2, 1, 1, 4, 4]])], ValueError, r"classes must be in \[0, 1\)"),
        ([np.zeros((8, 8), np.uint8)], [BOX], ValueError, r"images\[0\] must be an \[h, w, 3\]"),
        ([np.zeros((0, 8, 3), np.uint8)], [BOX], ValueError, r"images\[0\]"),
    ],
)
def test_write_labels_png_bad_input(tmp_path, images, labels, error, words):
    with pytest.raises(error, match=words):
        write_labels_png(tmp_path / "labels.png", images, labels, ["a"])
    assert not (tmp_path / "labels.png").exists()


def test_write_image_formats(tmp_path):
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    assert write_image(tmp_path / "a.jpg", image).read_bytes()[:3] == JPEG
    assert write_image(tmp_path / "a.png", image).read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="cannot encode an image as '.xyz'"):
        write_image(tmp_path / "a.xyz", image)
    assert not (tmp_path / "a.xyz").exists()


# ----------------------------------------------------------------------------- report
def test_training_section_embeds_the_run_pictures(tmp_path):
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    write_image(tmp_path / "train_batch0.jpg", image)
    write_results_png(_csv(tmp_path, "epoch,loss\n1,1\n"))
    report = HtmlReport("run")
    assert add_training_section(report, tmp_path) == ["results.png", "train_batch0.jpg"]
    page = report.render()
    assert "<h2>Training</h2>" in page
    assert page.count("data:image/png;base64") == 1
    assert page.count("data:image/jpeg;base64") == 1


def test_training_section_left_out_without_pictures(tmp_path):
    report = HtmlReport("run")
    assert add_training_section(report, tmp_path) == []
    assert "Training" not in report.render()


# ----------------------------------------------------------------------------- tensorboard
def test_tensorboard_logger_writes_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from tinyvision.report.tensorboard import TensorBoardLogger

    with TensorBoardLogger(tmp_path / "tb") as logger:
        logger.log(1, {"epoch": 1, "train/loss": 0.5, "val/loss": math.nan})
        logger.log(2, {"epoch": 2, "train/loss": 0.25, "val/loss": 0.75})
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert sorted(events.Tags()["scalars"]) == ["train/loss", "val/loss"]
    assert [(e.step, e.value) for e in events.Scalars("train/loss")] == [(1, 0.5), (2, 0.25)]
    assert [(e.step, e.value) for e in events.Scalars("val/loss")] == [(2, 0.75)]


@pytest.mark.parametrize("epoch", [-1, 1.5, True, "1"])
def test_tensorboard_logger_bad_epoch(tmp_path, epoch):
    pytest.importorskip("tensorboard")
    from tinyvision.report.tensorboard import TensorBoardLogger

    with TensorBoardLogger(tmp_path / "tb") as logger, pytest.raises(ValueError, match="epoch"):
        logger.log(epoch, {"loss": 1.0})


@pytest.mark.parametrize("purge_step", [-1, 1.5, True, "0"])
def test_tensorboard_logger_bad_purge_step(tmp_path, purge_step):
    from tinyvision.report.tensorboard import TensorBoardLogger

    with pytest.raises(ValueError, match="purge_step must be None or an int >= 0"):
        TensorBoardLogger(tmp_path / "tb", purge_step=purge_step)
    assert not (tmp_path / "tb").exists()


def test_tensorboard_purge_step_hides_what_a_later_call_logs_again(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from tinyvision.report.tensorboard import TensorBoardLogger

    with TensorBoardLogger(tmp_path / "tb", purge_step=0) as logger:
        for epoch in (1, 2, 3):  # a run killed after epoch 3, its checkpoint of epoch 2
            logger.log(epoch, {"loss": float(epoch)})
    # TensorBoard orders a folder's event files by name, which starts with the second they
    # were opened in (then host, pid and a per-process counter): date the killed run's file
    # ten seconds back, as a real resume comes later, so the order does not rest on the clock
    (first,) = (tmp_path / "tb").glob("events.out.tfevents.*")
    stamp = first.name.split(".")[3]
    first.rename(first.with_name(first.name.replace(f".{stamp}.", f".{int(stamp) - 10}.", 1)))
    with TensorBoardLogger(tmp_path / "tb", purge_step=3) as logger:  # resumed
        for epoch in (3, 4):
            logger.log(epoch, {"loss": 10.0 + epoch})
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("loss")] == [
        (1, 1.0), (2, 2.0), (3, 13.0), (4, 14.0)
    ]  # fmt: skip


def test_tensorboard_missing_is_one_line(tmp_path, monkeypatch):
    from tinyvision.report.tensorboard import TensorBoardLogger, require_tensorboard

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard -> ImportError
    with pytest.raises(UserError, match=r"pip install 'tinyvision\[tensorboard\]'") as info:
        TensorBoardLogger(tmp_path / "tb")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "tb").exists()
    with pytest.raises(UserError, match=r"^--tensorboard needs the tensorboard package"):
        require_tensorboard()
