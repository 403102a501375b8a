"""COCO json, YOLO txt and Pascal VOC xml: reading, writing, converting, evaluating."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import cv2
import numpy as np
import PIL.Image
import pytest

from detection_helpers import assert_same_as_pycoco, pycoco
from tinyvision._errors import UserError
from tinyvision.data import formats, make_coco_like
from tinyvision.metrics import evaluate_detections


def integer_coco(n_images: int = 6, seed: int = 0) -> tuple[dict, list]:
    """A COCO set with integer boxes inside their images, no crowd, sizes known."""
    gt, dt = make_coco_like(n_images, 3, seed=seed, crowd_fraction=0.0, detections_per_image=12)
    sizes = {im["id"]: (im["width"], im["height"]) for im in gt["images"]}

    def snap(box: list[float], image_id: int) -> list[float]:
        w, h = sizes[image_id]
        x1, y1 = min(max(round(box[0]), 0), w - 2), min(max(round(box[1]), 0), h - 2)
        x2 = min(max(round(box[0] + box[2]), x1 + 1), w)
        y2 = min(max(round(box[1] + box[3]), y1 + 1), h)
        return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]

    for a in gt["annotations"]:
        a["bbox"] = snap(a["bbox"], a["image_id"])
        a["area"] = a["bbox"][2] * a["bbox"][3]
    for d in dt:
        d["bbox"] = snap(d["bbox"], d["image_id"])
    return gt, dt


def write_images(gt: dict, folder: Path, suffix: str = ".png") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for im in gt["images"]:
        name = Path(im["file_name"]).with_suffix(suffix).name
        im["file_name"] = name
        cv2.imwrite(str(folder / name), np.zeros((im["height"], im["width"], 3), np.uint8))


def test_image_size_from_headers(tmp_path: Path) -> None:
    image = np.zeros((23, 37, 3), np.uint8)
    for suffix in (".png", ".jpg", ".bmp", ".webp"):
        path = tmp_path / f"x{suffix}"
        assert cv2.imwrite(str(path), image)
        assert formats.image_size(path) == (37, 23), suffix
    gif = tmp_path / "x.gif"  # Pillow reads the header: a frame-less GIF is not an image
    PIL.Image.fromarray(image).save(gif)
    assert formats.image_size(gif) == (37, 23)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(UserError, match="not a readable image"):
        formats.image_size(tmp_path / "bad.png")


def test_coco_round_trip(tmp_path: Path) -> None:
    gt, dt = make_coco_like(8, 4, seed=1)
    dataset = formats.read_coco(gt)
    formats.write_coco(dataset, tmp_path / "gt.json")
    again = formats.read_coco(tmp_path / "gt.json")
    for name in ("image_ids", "category_ids", "image_id", "category_id", "bbox", "area",
                 "iscrowd", "annotation_id", "image_sizes"):  # fmt: skip
        assert np.array_equal(getattr(dataset, name), getattr(again, name)), name
    assert again.category_names == dataset.category_names
    dets = formats.read_coco_results(dt)
    formats.write_coco_results(dets, tmp_path / "dt.json")
    back = formats.read_coco_results(tmp_path / "dt.json")
    assert np.array_equal(back.bbox, dets.bbox) and np.array_equal(back.score, dets.score)


def test_yolo_round_trip_and_direct_evaluation(tmp_path: Path) -> None:
    gt, dt = integer_coco()
    write_images(gt, tmp_path / "src")
    dataset = formats.read_coco(gt)
    yaml_path = formats.write_yolo(dataset, tmp_path / "yolo", "val", image_dir=tmp_path / "src")
    read = formats.read_yolo(yaml_path)
    assert read.category_names == dataset.category_names
    assert all(Path(p).is_file() for p in read.image_paths())
    assert np.array_equal(read.image_ids, np.sort(dataset.image_ids))  # stems are the ids
    names = dict(zip(dataset.category_ids.tolist(), dataset.category_names))
    # Same objects; normalised coordinates are written with full float64 precision.
    order_a = np.lexsort((dataset.bbox[:, 0], dataset.image_id))
    order_b = np.lexsort((read.bbox[:, 0], read.image_id))
    assert [names[c] for c in dataset.category_id[order_a]] == [
        read.category_names[c] for c in read.category_id[order_b]
    ]
    np.testing.assert_allclose(read.bbox[order_b], dataset.bbox[order_a], rtol=0, atol=1e-9)
    # Predictions written the YOLOv5 way and evaluated straight from the folders give
    # pycocotools' numbers on the same data converted to COCO files.
    dets = formats.read_coco_results(dt)
    folder = formats.write_yolo_predictions(dets, dataset, tmp_path / "pred")
    loaded = formats.load_predictions(folder, read)
    direct = evaluate_detections(formats.load_dataset(tmp_path / "yolo"), loaded)
    formats.write_coco(read, tmp_path / "gt.json")
    formats.write_coco_results(loaded, tmp_path / "dt.json")
    ev, _ = pycoco(
        json.loads((tmp_path / "gt.json").read_text()),
        json.loads((tmp_path / "dt.json").read_text()),
    )
    assert_same_as_pycoco(direct, ev)
    # ... and the numbers of the original boxes (nothing is lost to rounding in the files).
    np.testing.assert_allclose(direct.stats, evaluate_detections(gt, dt).stats, atol=1e-12)
    np.testing.assert_allclose(np.sort(loaded.score), np.sort(dets.score), rtol=0, atol=0)


def test_non_integer_boxes_and_scores_keep_their_precision(tmp_path: Path) -> None:
    gt, dt = make_coco_like(5, 3, seed=4, crowd_fraction=0.0, detections_per_image=9)
    dataset = formats.read_coco(gt)
    dets = formats.read_coco_results(dt)
    order = np.lexsort((dets.score, dets.image_id))
    folder = formats.write_voc_predictions(dets, dataset, tmp_path / "voc")
    back = formats.read_voc_predictions(folder, dataset)
    again = np.lexsort((back.score, back.image_id))
    assert np.array_equal(back.score[again], dets.score[order])  # scores exactly
    np.testing.assert_allclose(back.bbox[again], dets.bbox[order], rtol=0, atol=1e-9)
    formats.write_voc(dataset, tmp_path / "gt")
    read = formats.read_voc(tmp_path / "gt", "val", classes=list(dataset.category_names))
    expected = dataset.bbox[np.argsort(dataset.image_id, kind="stable")]
    np.testing.assert_allclose(read.bbox, expected, rtol=0, atol=1e-9)


def test_yolo_predictions_need_image_sizes(tmp_path: Path) -> None:
    gt, dt = make_coco_like(3, 2, seed=5, crowd_fraction=0.0)
    for im in gt["images"]:
        del im["width"], im["height"]
    dataset = formats.read_coco(gt)
    with pytest.raises(UserError, match="need image sizes; image"):
        formats.write_yolo_predictions(formats.read_coco_results(dt), dataset, tmp_path / "p")
    assert not list((tmp_path / "p").glob("*.txt"))


def test_copied_images_leave_no_temporary_files(tmp_path: Path) -> None:
    gt, _ = integer_coco(seed=6)
    write_images(gt, tmp_path / "src")
    dataset = formats.read_coco(gt)
    formats.write_voc(dataset, tmp_path / "voc", image_dir=tmp_path / "src")
    copied = sorted(p.name for p in (tmp_path / "voc" / "JPEGImages").iterdir())
    assert copied == sorted(im["file_name"] for im in gt["images"])
    for name in copied:
        assert (tmp_path / "voc" / "JPEGImages" / name).read_bytes() == (
            tmp_path / "src" / name
        ).read_bytes()
    (tmp_path / "src" / copied[-1]).unlink()
    with pytest.raises(FileNotFoundError):
        formats.write_voc(dataset, tmp_path / "voc2", image_dir=tmp_path / "src")
    assert not [p for p in (tmp_path / "voc2").rglob("*") if p.name.endswith(".tmp")]


def test_voc_round_trip_is_exact_and_evaluates_the_same(tmp_path: Path) -> None:
    gt, dt = integer_coco(seed=2)
    for i, a in enumerate(gt["annotations"]):
        a["ignore"] = int(i % 7 == 0)  # difficult
    dataset = formats.read_coco(gt)
    formats.write_voc(dataset, tmp_path / "voc", "val")
    read = formats.read_voc(tmp_path / "voc", "val", classes=list(dataset.category_names))
    assert np.array_equal(read.image_ids, np.sort(dataset.image_ids))
    assert np.array_equal(read.bbox, dataset.bbox[np.argsort(dataset.image_id, kind="stable")])
    assert read.ignore.sum() == dataset.ignore.sum() > 0
    folder = formats.write_voc_predictions(formats.read_coco_results(dt), dataset, tmp_path / "res")
    dets = formats.load_predictions(folder, read)
    for mode in ("voc07", "coco", "coco-fixed"):
        direct = evaluate_detections(read, dets, mode=mode)
        reference = evaluate_detections(gt, dt, mode=mode)
        assert np.array_equal(direct.stats, reference.stats), mode


def test_voc_xml_conventions(tmp_path: Path) -> None:
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "2008_000001.xml").write_text(
        "<annotation><filename>2008_000001.jpg</filename><size><width>100</width>"
        "<height>80</height></size><object><name>dog</name><difficult>1</difficult>"
        "<bndbox><xmin>1</xmin><ymin>11</ymin><xmax>10</xmax><ymax>30</ymax></bndbox>"
        "</object></annotation>"
    )
    data = formats.read_voc(tmp_path, split=None)
    # Pixels 1..10 (1-based, inclusive) are the continuous span [0, 10].
    assert data.bbox.tolist() == [[0.0, 10.0, 10.0, 20.0]]
    assert data.ignore.tolist() == [True]
    assert data.image_ids.tolist() == [1]  # a stem that is no integer: 1..N
    assert data.image_sizes.tolist() == [[100, 80]]
    assert data.category_names == ("dog",)


def test_convert_between_the_three_formats(tmp_path: Path) -> None:
    gt, _ = integer_coco(seed=3)
    write_images(gt, tmp_path / "images", ".jpg")
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    formats.convert(tmp_path / "gt.json", tmp_path / "yolo", "yolo", image_dir=tmp_path / "images")
    formats.convert(tmp_path / "yolo", tmp_path / "voc", "voc")
    assert len(list((tmp_path / "voc" / "JPEGImages").glob("*.jpg"))) == len(gt["images"])
    formats.convert(tmp_path / "voc", tmp_path / "back.json", "coco")
    back = formats.read_coco(tmp_path / "back.json")
    original = formats.read_coco(gt)
    assert len(back) == len(original)
    a = original.bbox[np.lexsort((original.bbox[:, 0], original.image_id))]
    b = back.bbox[np.lexsort((back.bbox[:, 0], back.image_id))]
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)


def test_coco_results_with_file_stem_image_ids(tmp_path: Path) -> None:
    gt, dt = integer_coco(seed=4)
    dataset = formats.read_coco(gt)
    files = {im["id"]: Path(im["file_name"]).stem for im in gt["images"]}
    named = [{**d, "image_id": files[d["image_id"]]} for d in dt]
    (tmp_path / "dt.json").write_text(json.dumps(named))
    dets = formats.load_predictions(tmp_path / "dt.json", dataset)
    assert np.array_equal(dets.image_id, np.array([d["image_id"] for d in dt]))
    with pytest.raises(ValueError, match="refers to image 'nope'"):
        formats.read_coco_results([{**named[0], "image_id": "nope"}], dataset)


def test_yolo_names_as_mapping_and_polygon_labels(tmp_path: Path) -> None:
    (tmp_path / "images" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "images" / "val" / "7.png"), np.zeros((50, 100, 3), np.uint8))
    (tmp_path / "labels" / "val" / "7.txt").write_text("1 0.1 0.2 0.3 0.2 0.3 0.6 0.1 0.6\n\n")
    (tmp_path / "data.yaml").write_text("path: .\nval: images/val\nnames: {0: cat, 1: dog}\n")
    data = formats.read_yolo(tmp_path)
    assert data.category_names == ("cat", "dog")
    assert data.image_ids.tolist() == [7]
    np.testing.assert_allclose(data.bbox, [[10.0, 10.0, 20.0, 20.0]])


@pytest.mark.parametrize(
    ("files", "match"),
    [
        ({"data.yaml": "names: [a]\nval: [unclosed\n"}, "malformed YAML"),
        ({"data.yaml": "val: images/val\n"}, "needs 'names'"),
        ({"data.yaml": "names: [a]\ntrain: images/val\n"}, "no 'val' entry"),
        (
            {"data.yaml": "names: [a]\nval: images/val\n", "labels/val/1.txt": "3 .5 .5 .1 .1\n"},
            r"1\.txt:1: class must be an index in 0\.\.0",
        ),
        (
            {"data.yaml": "names: [a]\nval: images/val\n", "labels/val/1.txt": "0 .5 .5 -.1 .1\n"},
            "w, h >= 0",
        ),
        (
            {"data.yaml": "names: [a]\nval: images/val\n", "labels/val/1.txt": "0 .5 x .1 .1\n"},
            "not numbers",
        ),
    ],
)
def test_yolo_bad_input(tmp_path: Path, files: dict[str, str], match: str) -> None:
    (tmp_path / "images" / "val").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "images" / "val" / "1.png"), np.zeros((8, 8, 3), np.uint8))
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    with pytest.raises(UserError, match=match):
        formats.read_yolo(tmp_path)


def test_prediction_files_bad_input(tmp_path: Path) -> None:
    gt, _ = integer_coco(seed=5)
    dataset = formats.read_coco(gt)
    stem = Path(gt["images"][0]["file_name"]).stem
    pred = tmp_path / "pred"
    pred.mkdir()
    (pred / f"{stem}.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(UserError, match="class cx cy w h conf"):
        formats.read_yolo_predictions(pred, dataset)
    (pred / f"{stem}.txt").unlink()
    (pred / "unknown_image.txt").write_text("0 0.5 0.5 0.1 0.1 0.9\n")
    with pytest.raises(UserError, match="no image 'unknown_image'"):
        formats.read_yolo_predictions(pred, dataset)
    voc = tmp_path / "voc"
    voc.mkdir()
    (voc / "comp4_det_val_zebra.txt").write_text(f"{stem} 0.9 1 1 5 5\n")
    with pytest.raises(UserError, match="does not end with a class"):
        formats.read_voc_predictions(voc, dataset)


def test_voc_bad_xml(tmp_path: Path) -> None:
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "1.xml").write_text("<annotation>\n<object><name>a</name>\n")
    with pytest.raises(UserError, match=r"1\.xml: malformed XML at line 3"):
        formats.read_voc(tmp_path, split=None)
    (tmp_path / "Annotations" / "1.xml").write_text(
        "<annotation><object><name>a</name><bndbox><xmin>5</xmin><ymin>1</ymin>"
        "<xmax>2</xmax><ymax>3</ymax></bndbox></object></annotation>"
    )
    with pytest.raises(UserError, match="xmin <= xmax"):
        formats.read_voc(tmp_path, split=None)


def test_detect_format_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    assert formats.detect_format(tmp_path / "a.json") == "coco"
    with pytest.raises(FileNotFoundError):
        formats.detect_format(tmp_path / "none")
    with pytest.raises(UserError, match="neither a YOLO data set"):
        formats.detect_format(tmp_path)


def test_match_shard_files(tmp_path: Path) -> None:
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(UserError, match="not a match shard"):
        formats.read_matches([tmp_path / "junk.npz"])
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(UserError, match=r"not a match shard \(no 'mode' array\)"):
        formats.read_matches([tmp_path / "other.npz"])


# ----------------------------------------------------------------------------- bad YOLO files
def yolo_split(tmp_path: Path, labels: dict[str, bytes], yaml_text: str = "") -> Path:
    """A YOLO val split of 8x8 images ``1.png``, ``2.png`` with the given label bytes."""
    (tmp_path / "images" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val").mkdir(parents=True)
    for stem in ("1", "2"):
        cv2.imwrite(str(tmp_path / "images" / "val" / f"{stem}.png"), np.zeros((8, 8, 3), np.uint8))
    for stem, data in labels.items():
        (tmp_path / "labels" / "val" / f"{stem}.txt").write_bytes(data)
    (tmp_path / "data.yaml").write_text(yaml_text or "path: .\nval: images/val\nnames: [a, b]\n")
    return tmp_path / "data.yaml"


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "1e400"])
def test_yolo_non_finite_class_is_one_error_or_skipped(tmp_path: Path, value: str) -> None:
    path = yolo_split(tmp_path, {"1": f"0 .5 .5 .2 .2\n{value} .5 .5 .2 .2\n".encode()})
    with pytest.raises(
        UserError, match=rf"1\.txt:2: class must be an index in 0\.\.1, got '{value}'"
    ):
        formats.read_yolo(path)
    with pytest.warns(formats.BadLabelsWarning, match=r"skipped 1 bad label line\(s\) in 1 file"):
        data = formats.read_yolo(path, skip_bad=True)
    assert data.category_id.tolist() == [0]  # the good line is kept


def test_yolo_label_file_not_utf8_and_byte_order_mark(tmp_path: Path) -> None:
    path = yolo_split(
        tmp_path, {"1": b"0 .5 .5 .2 \xe3\x81\n", "2": b"\xef\xbb\xbf1 .5 .5 .2 .2\n"}
    )
    with pytest.raises(UserError, match=r"val/1\.txt: not UTF-8 text \(byte 11: b.\\xe3.\)"):
        formats.read_yolo(path)
    # skipped: the file and its image (its objects are unknown); the BOM file reads fine
    with pytest.warns(formats.BadLabelsWarning, match=r"1 unreadable label file\(s\)"):
        data = formats.read_yolo(path, skip_bad=True)
    assert data.image_files == ("2.png",) and data.category_id.tolist() == [1]


@pytest.mark.parametrize(
    ("yaml_text", "match"),
    [
        ("val: images/val\nnc: 3\nnames: [a, b]\n", "'nc' is 3 but 'names' lists 2 classes"),
        ("val: images/val\nnc: 2.5\nnames: [a, b]\n", "'nc' is 2.5"),
        ("val: images/val\nnc: true\nnames: [a]\n", "'nc' is True"),
        ("val: images/val\nnames: []\n", "'names' is empty"),
        ("val: images/val\nnames: {}\n", "'names' is empty"),
    ],
)
def test_yolo_names_and_nc_must_agree(tmp_path: Path, yaml_text: str, match: str) -> None:
    path = yolo_split(tmp_path, {"1": b"0 .5 .5 .2 .2\n"}, yaml_text)
    with pytest.raises(UserError, match=match):
        formats.read_yolo(path)
    (tmp_path / "data.yaml").write_text("val: images/val\nnc: 2\nnames: {0: a, 1: b}\n")
    assert formats.read_yolo(path).category_names == ("a", "b")  # nc that agrees is fine


def test_unreadable_image_names_its_path_once(tmp_path: Path) -> None:
    path = yolo_split(tmp_path, {})
    (tmp_path / "images" / "val" / "2.png").write_bytes(b"garbage, not an image")
    with pytest.raises(UserError) as info:
        formats.read_yolo(path)
    assert str(info.value) == f"{tmp_path / 'images' / 'val' / '2.png'}: not a readable image"


def test_boxes_past_the_edge_clipped_and_empty_boxes_left_out(tmp_path: Path) -> None:
    # image 8x8. "0 .95 .5 .5 .2": x 0.7..1.2 -> 5.6..9.6 px, clipped to 5.6..8 (w 2.4);
    # y 0.4..0.6 -> 3.2..4.8. "1 .5 .5 0 .2": zero width, left out. The last line touches
    # the edge exactly (x 0.5..1.0): kept as it is.
    text = b"0 .95 .5 .5 .2\n1 .5 .5 0 .2\n1 .75 .5 .5 .5\n"
    path = yolo_split(tmp_path, {"1": text})
    with pytest.warns(formats.BadLabelsWarning) as caught:
        data = formats.read_yolo(path)
    message = str(caught[0].message)
    assert "clipped 1 box(es) reaching past the image edge (first: " in message
    assert "1.txt:1)" in message and "left out 1 box(es) of zero width or height" in message
    assert data.category_id.tolist() == [0, 1]
    np.testing.assert_allclose(data.bbox, [[5.6, 3.2, 2.4, 1.6], [4.0, 2.0, 4.0, 4.0]])


# ----------------------------------------------------------------------------- EXIF
def exif_orientation_jpeg(image: np.ndarray, orientation: int, byte_order: str = ">") -> bytes:
    """A JPEG of ``image`` with an EXIF APP1 segment holding only the orientation tag."""
    mark = b"MM" if byte_order == ">" else b"II"
    tiff = mark + struct.pack(byte_order + "HI", 42, 8) + struct.pack(byte_order + "H", 1)
    tiff += struct.pack(byte_order + "HHIHH", 0x0112, 3, 1, orientation, 0) + b"\0\0\0\0"
    payload = b"Exif\0\0" + tiff
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    data = encoded.tobytes()
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def test_exif_orientation_6_gives_the_displayed_size_everywhere(tmp_path: Path) -> None:
    from tinyvision.data.images import read_image
    from tinyvision.data.loader import load_images

    stored = np.zeros((64, 96, 3), np.uint8)  # 96 wide, 64 high as stored
    stored[:16, :32] = 255  # a white block top-left
    (tmp_path / "images" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val").mkdir(parents=True)
    for order, stem in ((">", "1"), ("<", "2")):
        jpeg = exif_orientation_jpeg(stored, 6, order)
        (tmp_path / "images" / "val" / f"{stem}.jpg").write_bytes(jpeg)
        # 6: turned a quarter clockwise to display: 64 wide, 96 high, block top-right
        assert formats.image_size(tmp_path / "images" / "val" / f"{stem}.jpg") == (64, 96)
        image = read_image(tmp_path / "images" / "val" / f"{stem}.jpg")
        assert image.shape == (96, 64, 3)
        assert image[:32, 48:].mean() > 200 and image[:32, :16].mean() < 50
    (tmp_path / "labels" / "val" / "1.txt").write_text("0 .875 .25 .25 .5\n")
    (tmp_path / "data.yaml").write_text("val: images/val\nnames: [block]\n")
    data = formats.read_yolo(tmp_path)
    assert data.image_sizes.tolist() == [[64, 96], [64, 96]]
    loaded = load_images(data, 96)  # no "damaged file" size mismatch
    assert [im.shape for im in loaded.images] == [(96, 64, 3), (96, 64, 3)]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientations_match_opencv(tmp_path: Path, orientation: int) -> None:
    from tinyvision.data.images import read_image

    stored = np.random.default_rng(orientation).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    path = tmp_path / "x.jpg"
    path.write_bytes(exif_orientation_jpeg(stored, orientation))
    expected = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(read_image(path), expected)  # OpenCV orients JPEGs too
    assert formats.image_size(path) == (expected.shape[1], expected.shape[0])


def test_truncated_png_gives_our_error_only(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    from tinyvision.data.images import read_image

    _, encoded = cv2.imencode(
        ".png", np.random.default_rng(0).integers(0, 256, (32, 32, 3), np.uint8)
    )
    path = tmp_path / "cut.png"
    path.write_bytes(encoded.tobytes()[:200])
    with pytest.raises(UserError, match=r"cut\.png: not a readable image$"):
        read_image(path)
    assert capfd.readouterr().err == ""  # no OpenCV "[ WARN ...]" line before ours


def test_yolo_labels_without_images_warn_and_read_back_once_placed(tmp_path: Path) -> None:
    gt, _ = integer_coco(n_images=3, seed=7)
    dataset = formats.read_coco(gt)
    root = tmp_path / "yolo"
    with pytest.warns(UserWarning, match=r"wrote YOLO labels only.*3 of 3 image\(s\)") as record:
        formats.write_yolo(dataset, root, "val")
    assert "image_dir" in str(record[0].message)
    with pytest.raises(FileNotFoundError, match="val images"):  # unreadable without images
        formats.read_yolo(root, "val")
    write_images(gt, root / "images" / "val")  # placed as the warning says
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the images are there now: no warning
        formats.write_yolo(dataset, root, "val")
    again = formats.read_yolo(root, "val")
    assert np.array_equal(again.image_ids, dataset.image_ids)
    np.testing.assert_allclose(again.bbox, dataset.bbox, rtol=0, atol=1e-3)


def test_yolo_labels_need_image_sizes(tmp_path: Path) -> None:
    gt, _ = integer_coco(n_images=2, seed=8)
    for im in gt["images"]:
        del im["width"], im["height"]
    with pytest.raises(UserError, match="image .* has none .*'width' and 'height'"):
        formats.write_yolo(formats.read_coco(gt), tmp_path / "y", image_dir=tmp_path)


def test_writers_refuse_the_wrong_types(tmp_path: Path) -> None:
    gt, dt = integer_coco(n_images=2, seed=9)
    dataset, dets = formats.read_coco(gt), formats.read_coco_results(dt)
    bad = {"a": 1}
    calls = [
        (lambda: formats.write_coco(bad, tmp_path / "g.json"), "dataset"),
        (lambda: formats.write_coco(gt, tmp_path / "g.json"), "dataset"),  # the raw dict
        (lambda: formats.write_coco_results(bad, tmp_path / "d.json"), "detections"),
        (lambda: formats.write_yolo(bad, tmp_path / "y"), "dataset"),
        (lambda: formats.write_voc(bad, tmp_path / "v"), "dataset"),
        (lambda: formats.write_yolo_predictions(bad, dataset, tmp_path / "p"), "detections"),
        (lambda: formats.write_yolo_predictions(dets, bad, tmp_path / "p"), "dataset"),
        (lambda: formats.write_voc_predictions(bad, dataset, tmp_path / "p"), "detections"),
        (lambda: formats.write_voc_predictions(dets, dt, tmp_path / "p"), "dataset"),
        (lambda: formats.write_matches(bad, tmp_path / "m.npz"), "matches"),
    ]
    for call, name in calls:
        with pytest.raises(TypeError, match=rf"^{name} must be an? \w+, got "):
            call()
    assert not any(tmp_path.iterdir())  # nothing written


def test_coco_to_voc_renumbers_categories_and_results_can_be_mapped_by_name(
    tmp_path: Path,
) -> None:
    # VOC stores class names only: the converted set has ids 0..K-1 over the sorted names,
    # so COCO results (original ids) must be mapped by name, as docs/detection.md shows.
    gt, dt = integer_coco(seed=10)
    for c, name in zip(gt["categories"], ["zebra", "ant", "mole"]):
        c["id"], c["name"] = c["id"] + 10, name
    for a in gt["annotations"]:
        a["category_id"] += 10
    for d in dt:
        d["category_id"] += 10
    formats.convert(_dump(gt, tmp_path / "gt.json"), tmp_path / "voc", "voc")
    voc = formats.read_voc(tmp_path / "voc")
    assert voc.category_ids.tolist() == [0, 1, 2]
    assert voc.category_names == ("ant", "mole", "zebra")
    results = formats.read_coco_results(dt)
    with pytest.raises(ValueError, match="category id"):
        evaluate_detections(voc, results, mode="voc2010")
    # The mapping of docs/detection.md:
    coco = formats.read_coco(tmp_path / "gt.json")
    name_of = dict(zip(coco.category_ids.tolist(), coco.category_names))
    voc_id = dict(zip(voc.category_names, voc.category_ids.tolist()))
    mapped = formats.Detections.from_columns(
        image_id=results.image_id,
        category_id=[voc_id[name_of[c]] for c in results.category_id.tolist()],
        bbox=results.bbox,
        score=results.score,
    )
    on_voc = evaluate_detections(voc, mapped, mode="voc2010")
    on_coco = evaluate_detections(coco, results, mode="voc2010")
    order = [voc.category_names.index(n) for n in coco.category_names]
    assert np.array_equal(on_voc.ap[:, order], on_coco.ap)


def _dump(obj: dict, path: Path) -> Path:
    path.write_text(json.dumps(obj))
    return path


def test_convert_coco_polygons_to_yolo_segments_and_back(tmp_path: Path) -> None:
    from tinyvision.data import make_coco_like_segm

    gt, _ = make_coco_like_segm(8, 3, seed=5, crowd_fraction=0.1)
    write_images(gt, tmp_path / "images", ".png")
    for im in gt["images"]:
        im["file_name"] = Path(im["file_name"]).with_suffix(".png").name
    source = formats.read_coco(gt, image_root=tmp_path / "images")
    single = [
        s for s, crowd in zip(source.segmentation, source.iscrowd)
        if not crowd and isinstance(s, list) and len(s) == 1
    ]  # fmt: skip
    n_objects = int((~source.iscrowd).sum())
    several = n_objects - len(single)
    assert single and several  # the generator makes both kinds
    with pytest.warns(UserWarning, match=f"wrote {several} object\\(s\\) as boxes"):
        formats.write_dataset(source, tmp_path / "yolo", "yolo", segments=True)
    back = formats.read_yolo(tmp_path / "yolo")
    polygons = [s for s in back.segmentation if s is not None]
    assert len(polygons) == len(single)
    # same polygons in the same order (each label file keeps the annotations' order)
    for ours, theirs in zip(polygons, single):
        np.testing.assert_allclose(ours[0], theirs[0], rtol=0, atol=1e-9)
    # without segments=True the same set is written as boxes, without a warning
    formats.write_dataset(source, tmp_path / "boxes", "yolo")
    assert formats.read_yolo(tmp_path / "boxes").segmentation is None
    with pytest.raises(ValueError, match="segments=True applies to YOLO output only"):
        formats.write_dataset(source, tmp_path / "v", "voc", segments=True)


def test_one_module_per_format_and_the_package_re_exports_them() -> None:
    from tinyvision.data.formats import auto, coco, shards, voc, yolo
    from tinyvision.data.images import image_size

    homes = {coco: "read_coco", yolo: "read_yolo", voc: "read_voc", auto: "convert"}
    for module, name in homes.items():
        assert getattr(formats, name) is getattr(module, name)
        assert set(module.__all__) <= set(formats.__all__)
    assert formats.write_matches is shards.write_matches
    assert formats.image_size is image_size  # the one image reader's
    assert all(hasattr(formats, name) for name in formats.__all__)
