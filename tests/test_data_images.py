"""tinyvision.data.images: one reader, EXIF orientation as Pillow's exif_transpose applies it."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from tinyvision._errors import UserError
from tinyvision.data.images import decode_image, image_size, read_image

STORED = np.random.default_rng(0).integers(0, 256, (12, 20, 3), dtype=np.uint8)  # 20 wide


def save_oriented(path: Path, orientation: int, fmt: str, **options: object) -> Path:
    """``STORED`` written by Pillow with an EXIF orientation tag."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(STORED).save(path, format=fmt, exif=exif, **options)
    return path


def displayed(path: Path) -> np.ndarray:
    """Pillow's reference: the pixels turned by ``ImageOps.exif_transpose``."""
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(
    ("fmt", "suffix", "options"),
    [
        ("JPEG", ".jpg", {"quality": 95}),
        ("PNG", ".png", {}),
        ("WEBP", ".webp", {"lossless": True}),
        ("TIFF", ".tif", {}),
    ],
)
def test_orientation_matches_exif_transpose(
    tmp_path: Path, orientation: int, fmt: str, suffix: str, options: dict
) -> None:
    path = save_oriented(tmp_path / f"x{suffix}", orientation, fmt, **options)
    expected = displayed(path)
    image = read_image(path)
    assert image.dtype == np.uint8 and image.shape == expected.shape
    if fmt == "JPEG":  # two decoders (libjpeg builds) may round a few values apart
        assert np.abs(image.astype(int) - expected).max() <= 2
    else:
        np.testing.assert_array_equal(image, expected)
    np.testing.assert_array_equal(read_image(path, color="bgr"), image[..., ::-1])
    assert image_size(path) == (expected.shape[1], expected.shape[0])
    quarter = orientation >= 5
    assert image_size(path) == ((12, 20) if quarter else (20, 12))


def test_decode_image_from_bytes_equals_read_image(tmp_path: Path) -> None:
    path = save_oriented(tmp_path / "x.png", 6, "PNG")
    data = path.read_bytes()
    np.testing.assert_array_equal(decode_image(data, "x.png"), read_image(path))
    array = np.frombuffer(data, np.uint8)
    np.testing.assert_array_equal(decode_image(array, color="bgr"), read_image(path)[..., ::-1])


def test_grey_image_becomes_three_equal_channels(tmp_path: Path) -> None:
    grey = np.arange(35, dtype=np.uint8).reshape(5, 7) * 7
    path = tmp_path / "g.png"
    Image.fromarray(grey, mode="L").save(path)
    image = read_image(path)
    assert image.shape == (5, 7, 3)
    for channel in range(3):
        np.testing.assert_array_equal(image[..., channel], grey)


def test_alpha_is_dropped_not_blended(tmp_path: Path) -> None:
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 10, 20, 30, 0  # fully transparent
    path = tmp_path / "a.png"
    Image.fromarray(rgba, mode="RGBA").save(path)
    image = read_image(path)
    assert image.shape == (4, 6, 3)
    assert image[0, 0].tolist() == [10, 20, 30]
    assert image_size(path) == (6, 4)


def test_sixteen_bit_keeps_the_high_byte(tmp_path: Path) -> None:
    deep = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000 + 255).astype(np.uint16)
    path = tmp_path / "d.png"
    assert cv2.imwrite(str(path), deep)
    image = read_image(path)
    assert image.shape == (3, 4, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[..., 1], (deep >> 8).astype(np.uint8))


def test_palette_image_is_expanded(tmp_path: Path) -> None:
    path = tmp_path / "p.gif"
    Image.fromarray(STORED).convert("P").save(path)
    expected = np.asarray(Image.open(path).convert("RGB"))
    np.testing.assert_array_equal(read_image(path), expected)
    assert image_size(path) == (20, 12)


def test_size_comes_from_the_header_of_a_truncated_file(tmp_path: Path) -> None:
    full = io.BytesIO()
    Image.fromarray(STORED).save(full, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(full.getvalue()[:60])  # header and a little data
    assert image_size(path) == (20, 12)  # no decode needed
    with pytest.raises(UserError, match=r"cut\.png: not a readable image$"):
        read_image(path)


@pytest.mark.parametrize("content", [b"", b"hello, not an image", b"\x89PNG\r\n\x1a\n"])
def test_non_images_name_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(UserError, match=r"bad\.jpg: "):
        read_image(path)
    with pytest.raises(UserError, match=r"bad\.jpg: "):
        image_size(path)
    with pytest.raises(UserError, match=r"^memory: not a readable image$"):
        decode_image(content, "memory")


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"none\.png: cannot read \(No such file"):
        read_image(tmp_path / "none.png")
    with pytest.raises(UserError, match=r"none\.png: cannot read \(No such file"):
        image_size(tmp_path / "none.png")


def test_a_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=str(tmp_path.name)):
        read_image(tmp_path)
    with pytest.raises(UserError, match=str(tmp_path.name)):
        image_size(tmp_path)


def test_bad_arguments(tmp_path: Path) -> None:
    path = save_oriented(tmp_path / "x.png", 1, "PNG")
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike, got 3 \(int\)"):
        read_image(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike, got None"):
        image_size(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"color must be one of 'rgb', 'bgr', got 'RGB'"):
        read_image(path, color="RGB")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"data must be bytes or a 1-D uint8 array"):
        decode_image(np.zeros((2, 2), np.uint8))
    with pytest.raises(TypeError, match=r"data must be bytes or a 1-D uint8 array"):
        decode_image(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match=r"data must be bytes or a 1-D uint8 array"):
        decode_image("x.png")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"source must be a str, got 1 \(int\)"):
        decode_image(path.read_bytes(), 1)  # type: ignore[arg-type]


def test_invalid_orientation_value_is_ignored(tmp_path: Path) -> None:
    path = save_oriented(tmp_path / "x.png", 9, "PNG")
    np.testing.assert_array_equal(read_image(path), STORED)
    assert image_size(path) == (20, 12)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow: "Corrupt EXIF data" of a cut TIFF
@pytest.mark.parametrize(
    ("fmt", "options"),
    [("JPEG", {}), ("PNG", {}), ("GIF", {}), ("BMP", {}), ("WEBP", {}), ("TIFF", {})],
)
def test_every_cut_of_a_file_is_a_size_or_a_user_error(tmp_path: Path, fmt: str, options: dict):
    full = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(STORED[:6, :8]).save(full, format=fmt, exif=exif, **options)
    data = full.getvalue()
    path = tmp_path / "cut"
    for end in range(0, len(data), max(1, len(data) // 60)):
        path.write_bytes(data[:end])
        try:
            width, height = image_size(path)
        except UserError as exc:
            assert str(exc).startswith(f"{path}: ")
        else:
            assert (width, height) in ((8, 6), (6, 8))
        try:
            image = read_image(path)
        except UserError as exc:
            assert str(exc) == f"{path}: not a readable image"
        else:
            assert image.shape[2] == 3 and image.dtype == np.uint8


def test_is_image_file_checks_suffix_and_first_bytes(tmp_path: Path) -> None:
    from tinyvision.data.images import is_image_file

    for fmt, suffix in (("PNG", ".png"), ("JPEG", ".JPG"), ("WEBP", ".webp"), ("TIFF", ".tif")):
        Image.fromarray(STORED).save(tmp_path / f"x{suffix}", format=fmt)
        assert is_image_file(tmp_path / f"x{suffix}"), fmt
        assert is_image_file(str(tmp_path / f"x{suffix}"))
    (tmp_path / "text.png").write_text("hostname\n")
    (tmp_path / "x.txt").write_bytes((tmp_path / "x.png").read_bytes())
    (tmp_path / "folder.png").mkdir()
    for path in ("text.png", "x.txt", "folder.png", "missing.png"):
        assert not is_image_file(tmp_path / path), path
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike, got b'x.png'"):
        is_image_file(b"x.png")  # type: ignore[arg-type]


def test_past_pillows_pixel_limit_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_oriented(tmp_path / "big.jpg", 1, "JPEG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # 240 pixels > 2 * 50
    with pytest.raises(UserError, match=r"big\.jpg: too many pixels to read safely"):
        image_size(path)
    with pytest.raises(UserError, match=r"big\.jpg: too many pixels .*MAX_IMAGE_PIXELS to allow"):
        read_image(path)
