"""data.folders: class-per-folder image sets, their split, cache and bad-folder errors."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import tinyvision.data.folders as folders
from tinyvision._errors import UserError
from tinyvision.data.folders import BadImagesWarning, load_image_folder, resize_center_crop


def write_image(path: Path, value: int, shape: tuple[int, int] = (12, 16)) -> None:
    """A PNG of one grey ``value`` (so each image is recognisable after resizing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((*shape, 3), value, np.uint8))


def make_folder(root: Path, counts: dict[str, int]) -> dict[str, list[int]]:
    """``counts``: ``{"train/cat": 3, ...}``; image ``i`` of a folder has grey value
    ``10 * folder number + i``. Returns each folder's values."""
    values: dict[str, list[int]] = {}
    for k, (folder, n) in enumerate(counts.items()):
        values[folder] = [10 * k + i for i in range(n)]
        for i, v in enumerate(values[folder]):
            write_image(root / folder / f"img{i}.png", v)
    return values


def greys(images: torch.Tensor) -> list[int]:
    """The grey value of each uniform image."""
    return [int(v) for v in images[:, 0, 0, 0]]


class CountReads:
    """Counts calls of read_image inside data.folders (decodes)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = folders.read_image

        def counted(path, **kwargs):
            self.calls += 1
            return original(path, **kwargs)

        monkeypatch.setattr(folders, "read_image", counted)


# ----------------------------------------------------------------------------------------
# Layouts, class order, split
# ----------------------------------------------------------------------------------------


def test_train_and_val_folders(tmp_path: Path) -> None:
    values = make_folder(
        tmp_path, {"train/dog": 3, "train/Cat": 2, "train/ant": 2, "val/dog": 1, "val/ant": 2}
    )
    train, val = load_image_folder(tmp_path, img_size=8)
    # torchvision's order: sorted names, upper case first ("Cat" < "ant" < "dog").
    assert train.classes == val.classes == ("Cat", "ant", "dog")
    assert train.images.shape == (7, 3, 8, 8) and train.images.dtype == torch.uint8
    assert train.labels.tolist() == [0, 0, 1, 1, 2, 2, 2]
    assert greys(train.images) == values["train/Cat"] + values["train/ant"] + values["train/dog"]
    assert val.labels.tolist() == [1, 1, 2]  # val/ lacks Cat: allowed, labels by train's order
    assert greys(val.images) == values["val/ant"] + values["val/dog"]
    assert train.max_value == 255
    assert train.name == f"{tmp_path.name}/train" and val.name == f"{tmp_path.name}/val"


def test_nested_folders_hidden_files_and_stray_files(tmp_path: Path) -> None:
    make_folder(tmp_path, {"train/a": 1, "train/a/deeper": 1, "train/b": 1, "val/a": 1})
    (tmp_path / "train" / "b" / ".DS_Store").write_bytes(b"junk")  # hidden: left out
    (tmp_path / "train" / ".hidden_class").mkdir()
    (tmp_path / "train" / "README.txt").write_text("beside the class folders: left out")
    train, _ = load_image_folder(tmp_path, img_size=4)
    assert train.classes == ("a", "b")
    assert train.labels.tolist() == [0, 0, 1]  # a/deeper/img0.png belongs to class a


def test_class_folders_at_the_top_are_split(tmp_path: Path) -> None:
    make_folder(tmp_path, {"x": 10, "y": 5})
    train, val = load_image_folder(tmp_path, img_size=4, val_split=0.4)
    # Stratified: round(0.4 * 10) = 4 of x, round(0.4 * 5) = 2 of y held out.
    assert np.bincount(val.labels.numpy()).tolist() == [4, 2]
    assert np.bincount(train.labels.numpy()).tolist() == [6, 3]
    assert sorted(greys(train.images) + greys(val.images)) == list(range(10)) + list(range(10, 15))
    # The split is seeded: the same seed gives the same, another seed another.
    again, _ = load_image_folder(tmp_path, img_size=4, val_split=0.4)
    other, _ = load_image_folder(tmp_path, img_size=4, val_split=0.4, seed=1)
    assert greys(again.images) == greys(train.images)
    assert greys(other.images) != greys(train.images)


def test_train_folder_without_val_uses_the_default_split(tmp_path: Path) -> None:
    make_folder(tmp_path, {"train/a": 10, "train/b": 10})
    train, val = load_image_folder(tmp_path, img_size=4)
    assert len(val) == 4 and len(train) == 16  # 0.2 of each class


def test_val_split_with_a_val_folder_is_refused(tmp_path: Path) -> None:
    make_folder(tmp_path, {"train/a": 2, "train/b": 2, "val/a": 1})
    with pytest.raises(UserError, match="has a val/ folder"):
        load_image_folder(tmp_path, img_size=4, val_split=0.5)


def test_images_are_resized_and_centre_cropped(tmp_path: Path) -> None:
    # A wide image: left quarter 0, middle half 100, right quarter 200. Shorter side 8 -> 8;
    # width 32 -> 16 after the resize (scale 1/2), the centre 8 columns are all middle.
    image = np.zeros((16, 32, 3), np.uint8)
    image[:, 8:24] = 100
    image[:, 24:] = 200
    make_folder(tmp_path, {"train/b": 1, "val/a": 1, "val/b": 1})
    (tmp_path / "train" / "a").mkdir()
    cv2.imwrite(str(tmp_path / "train" / "a" / "wide.png"), image)
    train, _ = load_image_folder(tmp_path, img_size=8)
    assert train.labels.tolist() == [0, 1]
    assert (train.images[0] == 100).all()


def test_resize_center_crop_matches_its_definition() -> None:
    rng = np.random.default_rng(0)
    tall = rng.integers(0, 256, (30, 10, 3), dtype=np.uint8)
    # Shrinking: shorter side 10 -> 5, the longer 30 -> 15, rows 5..10 kept.
    expected = cv2.resize(tall, (5, 15), interpolation=cv2.INTER_AREA)[5:10]
    assert np.array_equal(resize_center_crop(tall, 5), expected)
    # Growing: 10 -> 20, 30 -> 60 with INTER_LINEAR, rows 20..40 kept.
    expected = cv2.resize(tall, (20, 60), interpolation=cv2.INTER_LINEAR)[20:40]
    assert np.array_equal(resize_center_crop(tall, 20), expected)
    square = rng.integers(0, 256, (7, 7, 3), dtype=np.uint8)
    assert resize_center_crop(square, 7) is square  # already the size: untouched
    odd = resize_center_crop(rng.integers(0, 256, (9, 14, 3), dtype=np.uint8), 6)
    assert odd.shape == (6, 6, 3)  # 14 * 6 / 9 = 9.33 -> 9 columns, crop from column 1


@pytest.mark.parametrize(
    ("image", "size", "error", "pattern"),
    [
        ([[1]], 4, TypeError, r"image must be a uint8 numpy array, got .*list"),
        (np.zeros((4, 4, 3), np.float32), 4, TypeError, "image must be a uint8 numpy array"),
        (np.zeros((4, 4), np.uint8), 4, ValueError, r"\[H, W, C\].*got \(4, 4\)"),
        (np.zeros((0, 4, 3), np.uint8), 4, ValueError, r"got \(0, 4, 3\)"),
        (np.zeros((4, 4, 5), np.uint8), 4, ValueError, r"1\.\.4 channels, got \(4, 4, 5\)"),
        (np.zeros((4, 4, 3), np.uint8), 0, ValueError, "size must be >= 1, got 0"),
        (np.zeros((4, 4, 3), np.uint8), 2.0, TypeError, "size must be an integer"),
    ],
)
def test_resize_center_crop_bad_input(image, size, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        resize_center_crop(image, size)


def test_resize_center_crop_single_channel() -> None:
    grey = np.arange(6 * 9, dtype=np.uint8).reshape(6, 9, 1)
    assert resize_center_crop(grey, 3).shape == (3, 3, 1)


# ----------------------------------------------------------------------------------------
# The cache
# ----------------------------------------------------------------------------------------


def test_second_load_reads_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_folder(tmp_path / "data", {"train/a": 3, "train/b": 2, "val/a": 1, "val/b": 1})
    reads = CountReads(monkeypatch)
    cache = tmp_path / "cache"
    first = load_image_folder(tmp_path / "data", img_size=6, cache_dir=cache)
    assert reads.calls == 7
    second = load_image_folder(tmp_path / "data", img_size=6, cache_dir=cache)
    assert reads.calls == 7  # nothing decoded again
    for a, b in zip(first, second):
        assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert len(list(cache.glob("*.npy"))) == 1 and len(list(cache.glob("*.json"))) == 1
    load_image_folder(tmp_path / "data", img_size=5, cache_dir=cache)  # another size
    assert reads.calls == 14


def test_large_sets_are_memory_mapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_folder(tmp_path / "data", {"a": 4, "b": 4})
    reads = CountReads(monkeypatch)
    cache = tmp_path / "cache"
    in_memory = load_image_folder(tmp_path / "data", img_size=6)
    mapped = load_image_folder(tmp_path / "data", img_size=6, cache_dir=cache, max_memory_bytes=1)
    assert reads.calls == 16
    assert torch.equal(mapped[0].images, in_memory[0].images)
    assert torch.equal(mapped[1].labels, in_memory[1].labels)
    assert not list(cache.glob(".*.tmp"))  # the temporary file was renamed into place
    again = load_image_folder(tmp_path / "data", img_size=6, cache_dir=cache, max_memory_bytes=1)
    assert reads.calls == 16
    assert torch.equal(again[0].images, in_memory[0].images)
    with pytest.raises(UserError, match="more than max_memory_bytes"):
        load_image_folder(tmp_path / "data", img_size=6, max_memory_bytes=100)


def test_a_changed_file_invalidates_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    make_folder(data, {"train/a": 2, "train/b": 2, "val/a": 1, "val/b": 1})
    reads = CountReads(monkeypatch)
    load_image_folder(data, img_size=4, cache_dir=cache)
    old = set(cache.iterdir())
    write_image(data / "train" / "a" / "img0.png", 77, shape=(10, 10))  # new size and mtime
    train, _ = load_image_folder(data, img_size=4, cache_dir=cache)
    assert reads.calls == 12
    assert greys(train.images)[0] == 77
    assert not old & set(cache.iterdir())  # the stale cache was deleted
    write_image(data / "train" / "b" / "img9.png", 99)  # an added file
    train, _ = load_image_folder(data, img_size=4, cache_dir=cache)
    assert reads.calls == 12 + 7 and 99 in greys(train.images)
    (data / "train" / "b" / "img9.png").unlink()  # a removed file
    train, _ = load_image_folder(data, img_size=4, cache_dir=cache)
    assert reads.calls == 12 + 7 + 6 and 99 not in greys(train.images)


def test_a_damaged_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    make_folder(data, {"a": 3, "b": 3})
    expected, _ = load_image_folder(data, img_size=4, cache_dir=cache, val_split=0.3)
    (array,) = cache.glob("*.npy")
    array.write_bytes(array.read_bytes()[:100])  # truncated
    reads = CountReads(monkeypatch)
    train, _ = load_image_folder(data, img_size=4, cache_dir=cache, val_split=0.3)
    assert reads.calls == 6 and torch.equal(train.images, expected.images)


def test_unwritable_cache_is_a_warning(tmp_path: Path) -> None:
    make_folder(tmp_path / "data", {"a": 2, "b": 2})
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with pytest.warns(BadImagesWarning, match="cannot write the decoded-image cache"):
        train, val = load_image_folder(
            tmp_path / "data", img_size=4, cache_dir=blocker, val_split=0.5
        )
    assert len(train) + len(val) == 4
    with pytest.raises(UserError, match="cannot write the decoded-image cache"):
        load_image_folder(
            tmp_path / "data", img_size=4, cache_dir=blocker, val_split=0.5, max_memory_bytes=1
        )


# ----------------------------------------------------------------------------------------
# Bad folders
# ----------------------------------------------------------------------------------------


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a folder"):
        load_image_folder(tmp_path / "nothing", img_size=4)


@pytest.mark.parametrize(
    ("counts", "pattern"),
    [
        ({}, r"no class folders"),
        ({"train/only": 2}, r"one class only \('only'\)"),
        ({"only": 2}, r"one class only"),
        ({"train/a": 2, "train/b": 1, "val/a": 1, "val/zebra": 1}, r"'zebra' not in .*train"),
        ({"val/a": 1, "val/b": 1}, r"has val/ but no train/"),
    ],
)
def test_bad_layouts(tmp_path: Path, counts: dict[str, int], pattern: str) -> None:
    make_folder(tmp_path, counts)
    with pytest.raises(UserError, match=pattern):
        load_image_folder(tmp_path, img_size=4)


def test_a_class_without_images(tmp_path: Path) -> None:
    make_folder(tmp_path, {"train/a": 2, "train/b": 2})
    (tmp_path / "train" / "empty").mkdir()
    with pytest.raises(UserError, match=r"train/empty: no images"):
        load_image_folder(tmp_path, img_size=4)
    with pytest.raises(UserError, match=r"train/empty: no images"):  # not a file to skip
        load_image_folder(tmp_path, img_size=4, skip_bad_images=True)


def test_a_file_that_is_not_an_image(tmp_path: Path) -> None:
    make_folder(tmp_path, {"train/a": 2, "train/b": 2, "val/a": 1, "val/b": 1})
    notes = tmp_path / "train" / "b" / "notes.txt"
    notes.write_text("not an image")
    with pytest.raises(UserError, match=rf"{notes}: not an image file; .*--skip-bad-images"):
        load_image_folder(tmp_path, img_size=4)
    with pytest.warns(BadImagesWarning, match=r"skipped 1 bad file\(s\) \(1 not images, 0 not"):
        train, _ = load_image_folder(tmp_path, img_size=4, skip_bad_images=True)
    assert train.labels.tolist() == [0, 0, 1, 1]


def test_an_image_that_does_not_decode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    make_folder(data, {"train/a": 2, "train/b": 2, "val/a": 1, "val/b": 1})
    broken = data / "train" / "a" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)  # a PNG's signature, no image
    with pytest.raises(UserError, match=rf"{broken}: not a readable image"):
        load_image_folder(data, img_size=4, cache_dir=cache)
    assert not list(cache.glob("*.npy"))  # no cache of a failed load
    with pytest.warns(BadImagesWarning, match=rf"1 not decodable\): {broken}"):
        train, val = load_image_folder(data, img_size=4, cache_dir=cache, skip_bad_images=True)
    assert train.labels.tolist() == [0, 0, 1, 1] and len(val) == 2
    assert 0 not in greys(train.images)[2:]  # the zero slot of the broken image is left out
    reads = CountReads(monkeypatch)
    with pytest.warns(BadImagesWarning, match="skipped 1"):  # from the cache: still counted
        again, _ = load_image_folder(data, img_size=4, cache_dir=cache, skip_bad_images=True)
    assert reads.calls == 0 and torch.equal(again.images, train.images)
    with pytest.raises(UserError, match=rf"{broken}: not a readable image"):  # cache or not
        load_image_folder(data, img_size=4, cache_dir=cache)


def test_many_bad_files_are_counted_in_one_warning(tmp_path: Path) -> None:
    make_folder(tmp_path, {"a": 4, "b": 4})
    for i in range(7):
        (tmp_path / "a" / f"junk{i}.jpg").write_bytes(b"not a jpeg")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_image_folder(tmp_path, img_size=4, val_split=0.25, skip_bad_images=True)
    messages = [str(w.message) for w in caught if issubclass(w.category, BadImagesWarning)]
    assert len(messages) == 1
    assert "skipped 7 bad file(s)" in messages[0] and messages[0].endswith("and 2 more")


def test_a_class_left_without_images(tmp_path: Path) -> None:
    make_folder(tmp_path, {"a": 3})
    write_image(tmp_path / "b" / "x.png", 1)
    (tmp_path / "b" / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with (
        pytest.warns(BadImagesWarning, match="skipped 1"),
        pytest.raises(UserError, match=r"class 'b' has no training image left"),
    ):
        load_image_folder(tmp_path, img_size=4, skip_bad_images=True)


def test_a_split_without_validation_images(tmp_path: Path) -> None:
    make_folder(tmp_path, {"a": 2, "b": 2})  # round(0.2 * 2) = 0 per class
    with pytest.raises(UserError, match="no validation images"):
        load_image_folder(tmp_path, img_size=4)


def test_a_split_that_empties_a_class(tmp_path: Path) -> None:
    make_folder(tmp_path, {"a": 10, "b": 1})  # round(0.9 * 1) = 1: b has no training image
    with pytest.raises(UserError, match="class 'b' has no training image left"):
        load_image_folder(tmp_path, img_size=4, val_split=0.9)


# ----------------------------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"root": 3}, TypeError, r"root must be a str or os.PathLike, got 3 \(int\)"),
        ({"img_size": 3}, ValueError, "img_size must be >= 4, got 3"),
        ({"img_size": 5000}, ValueError, "img_size must be <= 4096"),
        ({"img_size": 8.0}, TypeError, "img_size must be an integer"),
        ({"img_size": True}, TypeError, "img_size must be an integer"),
        ({"val_split": 0.0}, ValueError, r"val_split must be > 0.0, got 0.0"),
        ({"val_split": 1.0}, ValueError, r"val_split must be < 1.0, got 1.0"),
        ({"val_split": math.nan}, ValueError, "val_split must not be NaN"),
        ({"val_split": "0.2"}, TypeError, "val_split must be a real number"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"skip_bad_images": 1}, TypeError, r"skip_bad_images must be a bool, got 1 \(int\)"),
        ({"cache_dir": 3}, TypeError, "cache_dir must be a str, os.PathLike or None"),
        ({"max_memory_bytes": -1}, ValueError, "max_memory_bytes must be >= 0"),
        ({"workers": 0}, ValueError, "workers must be >= 1"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, error: type, pattern: str) -> None:
    make_folder(tmp_path, {"a": 2, "b": 2})
    arguments = {"root": tmp_path, "img_size": 4, **kwargs}
    root = arguments.pop("root")
    with pytest.raises(error, match=pattern):
        load_image_folder(root, **arguments)


# ----------------------------------------------------------------------------------------
# scripts/make_shapes_crops.py: the benchmark's real-image folder
# ----------------------------------------------------------------------------------------


def _crops_script():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "make_shapes_crops.py"
    spec = importlib.util.spec_from_file_location("make_shapes_crops", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_crop_square_stays_inside_the_image() -> None:
    crop_square = _crops_script().crop_square
    image = np.arange(20 * 30, dtype=np.int32).reshape(20, 30, 1).repeat(3, axis=2)
    # Box 10 x 4 at (10, 8): side round(10 * 1.3) = 13, left round(15 - 6.5) = 8 (15 - 6.5
    # = 8.5 rounds to 8, half to even), top round(10 - 6.5) = 4.
    crop = crop_square(image, (10.0, 8.0, 20.0, 12.0), 0.15)
    assert np.array_equal(crop, image[4:17, 8:21])
    # At a corner the square is moved inside: left and top 0.
    assert np.array_equal(crop_square(image, (0.0, 0.0, 6.0, 6.0), 0.5), image[0:12, 0:12])
    # Larger than the image: the side is cut to the shorter image side.
    assert crop_square(image, (0.0, 0.0, 30.0, 20.0), 0.5).shape == (20, 20, 3)


def test_shapes_crops_are_an_image_folder(tmp_path: Path) -> None:
    out = tmp_path / "crops"
    assert _crops_script().main([str(out), "--train", "6", "--val", "2"]) == 0
    files = sorted(out.glob("*/*/*.png"))
    assert files and {f.parent.parent.name for f in files} == {"train", "val"}
    assert {f.parent.name for f in files} <= {"circle", "square", "triangle", "star"}
    for path in files:
        h, w = cv2.imread(str(path)).shape[:2]
        assert h == w >= 12
