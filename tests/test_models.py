"""The Python API: ``Detector``/``Classifier`` load, predict on every source kind,
``Results``, rectangular inference against the square path, val, train, and bad input."""

from __future__ import annotations

import json
import types
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from _models_helpers import NAMES, train_tiny_classifier, train_tiny_detector, with_one_thread
from tinyvision import Classifier, Detector, Results
from tinyvision._errors import UserError
from tinyvision.data.augment import letterbox
from tinyvision.data.formats import read_yolo
from tinyvision.data.loader import load_images
from tinyvision.models import Boxes, Probs, SkippedImageWarning
from tinyvision.models.detector import letterbox_rect
from tinyvision.ops import box_iou
from tinyvision.train.checkpoint import save_checkpoint
from tinyvision.train.detect import evaluate_detector, predict_images

CONF = 0.01  # a test-sized detector is unsure of everything: keep its boxes


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def detector_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(checkpoint, data.yaml) of a tiny detector trained on 64-pixel shapes."""
    return with_one_thread(train_tiny_detector, tmp_path_factory.mktemp("detector"))


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ToyNet checkpoint trained on the 4x-upscaled digits."""
    return with_one_thread(train_tiny_classifier, tmp_path_factory.mktemp("classifier"))


@pytest.fixture(scope="module")
def detector(detector_files) -> Detector:
    return Detector.load(detector_files[0])


@pytest.fixture(scope="module")
def val_files(detector_files) -> list[Path]:
    return sorted((detector_files[1].parent / "images" / "val").glob("*.png"))


def same_boxes(a: Results, b: Results, atol: float = 1e-4) -> None:
    """The same boxes, scores and classes, up to ``atol`` pixels (and the order of
    near-equal scores: a batch of another size rounds the last bit otherwise)."""
    assert len(a.boxes) == len(b.boxes)
    if len(a.boxes) == 0:
        return
    gap = (a.boxes.xyxy[:, None] - b.boxes.xyxy[None]).abs().amax(dim=2)  # (Da, Db)
    gap[a.boxes.cls[:, None] != b.boxes.cls[None]] = float("inf")
    nearest = gap.argmin(dim=1)
    assert (gap.min(dim=1).values <= atol).all()
    assert sorted(nearest.tolist()) == list(range(len(b.boxes)))
    torch.testing.assert_close(a.boxes.conf, b.boxes.conf[nearest], atol=1e-5, rtol=0)


# ----------------------------------------------------------------------------- loading
def test_load_reads_names_size_and_the_ema_weights(detector, detector_files) -> None:
    assert detector.names == dict(enumerate(NAMES))
    assert detector.img_size == 64 and detector.multiple == 16
    record = torch.load(detector_files[0], weights_only=True)
    ema = record["ema"]["weights"]
    state = detector.model.state_dict()
    assert all(torch.equal(state[k], ema[k]) for k in ema)
    assert not detector.model.training


def test_load_refuses_the_wrong_kind_and_damaged_files(
    detector_files, classifier_file, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=r"is a classifier checkpoint, not a detector.*Classifier"):
        Detector.load(classifier_file)
    with pytest.raises(ValueError, match=r"is a detector checkpoint, not a classifier.*Detector"):
        Classifier.load(detector_files[0])
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes(detector_files[0].read_bytes()[:2000])
    with pytest.raises(UserError, match=r"cut\.pt is not a readable checkpoint"):
        Detector.load(truncated)
    with pytest.raises(UserError, match="not found"):
        Classifier.load(tmp_path / "missing.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(UserError, match="not a tinyvision checkpoint"):
        Detector.load(tmp_path / "text.pt")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        Detector.load(3)
    save_checkpoint(tmp_path / "hollow.pt", "detector", {"model": {}})
    with pytest.raises(UserError, match="does not describe a detector"):
        Detector.load(tmp_path / "hollow.pt")
    save_checkpoint(tmp_path / "hollow_cls.pt", "classifier", {"model": {}})
    with pytest.raises(UserError, match="lacks"):
        Classifier.load(tmp_path / "hollow_cls.pt")


# ----------------------------------------------------------------------------- sources
def test_every_source_kind_gives_the_same_boxes(detector, val_files, tmp_path: Path) -> None:
    file = val_files[0]
    by_path = detector.predict(file, conf=CONF)
    assert len(by_path) == 1 and by_path[0].path == str(file)
    first = by_path[0]
    assert len(first.boxes) > 0 and first.orig_shape == (64, 64)
    bgr = cv2.imread(str(file))
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    sources = {
        "str": str(file),
        "numpy BGR": bgr,
        "numpy BGRA": cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA),
        "PIL": Image.fromarray(rgb),
        "tensor uint8": torch.from_numpy(rgb).permute(2, 0, 1),
        "tensor float": torch.from_numpy(rgb).permute(2, 0, 1).float() / 255,
    }
    for kind, source in sources.items():
        (result,) = detector.predict(source, conf=CONF)
        same_boxes(result, first)
        assert result.path == (str(file) if kind == "str" else None), kind
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)  # gray in: the same gray in all 3 channels
    (from_gray,) = detector.predict(gray, conf=CONF)
    (from_gray3,) = detector.predict(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), conf=CONF)
    same_boxes(from_gray, from_gray3)
    batch = torch.from_numpy(np.stack([rgb, rgb])).permute(0, 3, 1, 2)
    assert len(detector.predict(batch, conf=CONF)) == 2


def test_folders_globs_and_lists_in_order(detector, val_files) -> None:
    folder = val_files[0].parent
    from_folder = detector.predict(folder, conf=CONF, batch_size=5)
    assert [r.path for r in from_folder] == [str(f) for f in val_files]
    from_glob = detector.predict(str(folder / "00000[12].png"), conf=CONF)
    assert [r.path for r in from_glob] == [str(f) for f in val_files[:2]]
    mixed = detector.predict([val_files[3], cv2.imread(str(val_files[1])), folder], conf=CONF)
    assert len(mixed) == 2 + len(val_files)
    assert mixed[0].path == str(val_files[3]) and mixed[1].path is None
    same_boxes(mixed[1], from_folder[1])
    same_boxes(mixed[2 + 3], from_folder[3])  # batch size 16 or 5: the same boxes


def test_stream_is_a_lazy_generator_with_the_list_results(detector, val_files) -> None:
    folder = val_files[0].parent
    stream = detector.predict(folder, conf=CONF, stream=True, batch_size=3)
    assert isinstance(stream, types.GeneratorType)
    listed = detector.predict(folder, conf=CONF)
    streamed = list(stream)
    assert len(streamed) == len(listed)
    for a, b in zip(streamed, listed):
        same_boxes(a, b)


def test_video_frames_every_stride(detector, val_files, tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 64))
    for file in val_files[:5]:
        writer.write(cv2.imread(str(file)))
    writer.release()
    every = detector.predict(video, conf=CONF)
    assert [r.frame for r in every] == [0, 1, 2, 3, 4]
    assert {r.path for r in every} == {str(video)} and every[0].orig_shape == (64, 64)
    second = detector.predict(str(video), conf=CONF, stride=2)
    assert [r.frame for r in second] == [0, 2, 4]
    for frame in second:
        same_boxes(frame, every[frame.frame])


def test_an_unreadable_image_in_a_folder_is_skipped_with_a_warning(
    detector, val_files, tmp_path: Path
) -> None:
    (tmp_path / "a.png").write_bytes(cv2.imencode(".png", cv2.imread(str(val_files[0])))[1])
    (tmp_path / "b.png").write_bytes(b"not an image")
    with pytest.warns(SkippedImageWarning, match=r"skipped .*b\.png: not a readable image"):
        results = detector.predict(tmp_path, conf=CONF)
    assert [r.path for r in results] == [str(tmp_path / "a.png")]
    with pytest.raises(ValueError, match=r"source: .*b\.png: not a readable image"):
        detector.predict(tmp_path / "b.png")


# ----------------------------------------------------------------------------- bad input
def bad_sources(tmp_path: Path) -> list[tuple[object, type, str]]:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("no images here")
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    image = np.zeros((8, 8, 3), np.uint8)
    return [
        (tmp_path / "missing.png", ValueError, r"source .*missing\.png: no such file or folder"),
        (tmp_path / "empty", ValueError, r"source .*empty: no images in this folder"),
        (tmp_path / "notes", ValueError, r"no images in this folder"),
        (str(tmp_path / "*.jpg"), ValueError, r"the glob matches no image or video files"),
        (tmp_path / "broken.mp4", ValueError, r"broken\.mp4: OpenCV cannot open this video"),
        ("", ValueError, r"source must not be an empty path"),
        ([], ValueError, r"source must not be an empty list"),
        ([[image]], TypeError, r"source\[0\] must be an image or a path, got a nested list"),
        ([image, 3], TypeError, r"source\[1\] must be a path, a folder, a glob"),
        (image.astype(np.float32), TypeError, r"source must be a uint8 image"),
        (np.zeros((2, 8, 8, 3), np.uint8), ValueError, r"pass a list of images"),
        (np.zeros((8, 8, 2), np.uint8), ValueError, r"shape \[H, W, 3\] \(BGR\)"),
        (np.zeros((0, 8, 3), np.uint8), ValueError, r"H, W > 0"),
        (torch.zeros(2, 8, 8), ValueError, r"C = 3 \(RGB\) or 1"),
        (torch.zeros(3, 8, 0), ValueError, r"H, W > 0"),
        (torch.zeros(0, 3, 8, 8), ValueError, r"at least one image"),
        (torch.zeros(3, 8, 8, dtype=torch.int32), TypeError, r"uint8 or floating point"),
        (torch.full((3, 8, 8), float("nan")), ValueError, r"finite"),
        (torch.full((3, 8, 8), 2.0), ValueError, r"floats in \[0, 1\].*\[2\.0, 2\.0\]"),
        (Image.new("RGB", (0, 4)), ValueError, r"PIL image of positive size"),
        (3.5, TypeError, r"source must be a path"),
    ]


def test_bad_sources_name_the_argument(detector, classifier_file, tmp_path: Path) -> None:
    classifier = Classifier.load(classifier_file)
    for source, error, pattern in bad_sources(tmp_path):
        with pytest.raises(error, match=pattern):
            detector.predict(source)
        with pytest.raises(error, match=pattern):
            classifier.predict(source, stream=True)  # checked at once, not when iterated


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"conf": 1.5}, ValueError, r"conf must be <= 1"),
        ({"conf": float("nan")}, ValueError, r"conf must not be NaN"),
        ({"iou": -0.1}, ValueError, r"iou must be >= 0"),
        ({"conf": "0.3"}, TypeError, r"conf must be a real number"),
        ({"classes": [0, 4]}, ValueError, r"classes must be <= 3"),
        ({"classes": ["circle"]}, TypeError, r"classes must be an integer"),
        ({"agnostic": 1}, TypeError, r"agnostic must be a bool"),
        ({"max_det": 0}, ValueError, r"max_det must be >= 1"),
        ({"img_size": 40}, ValueError, r"img_size must be a multiple of 16"),
        ({"img_size": 8}, ValueError, r"img_size must be >= 16"),
        ({"batch_size": 0}, ValueError, r"batch_size must be >= 1"),
        ({"stride": 0}, ValueError, r"stride must be >= 1"),
        ({"rect": None}, TypeError, r"rect must be a bool"),
        ({"stream": "yes"}, TypeError, r"stream must be a bool"),
        ({"device": "gpu9"}, ValueError, r"device must be 'auto', 'cpu'"),
        ({"device": 0}, TypeError, r"device must be a str or torch.device"),
    ],
)
def test_bad_predict_arguments(detector, val_files, kwargs, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        detector.predict(val_files[0], **kwargs)


# ----------------------------------------------------------------------------- filtering
def test_conf_classes_agnostic_and_max_det(detector, val_files) -> None:
    everything = detector.predict(val_files, conf=CONF)
    assert all((r.boxes.conf > CONF).all() for r in everything)
    some = next(r for r in everything if len(r.boxes) > 3)
    threshold = float(some.boxes.conf[2])  # the third best: exactly two stay above it
    (fewer,) = detector.predict(some.path, conf=threshold)
    assert len(fewer.boxes) == 2
    torch.testing.assert_close(fewer.boxes.xyxy, some.boxes.xyxy[:2])
    assert len(detector.predict(some.path, conf=CONF, max_det=3)[0].boxes) == 3
    for r in detector.predict(val_files, conf=CONF, classes=[1, 3]):
        assert set(r.boxes.cls.tolist()) <= {1, 3}
    (one,) = detector.predict(some.path, conf=CONF, classes=2)
    assert len(one.boxes) and set(one.boxes.cls.tolist()) == {2}

    # NMS compares the boxes before they are clipped to the image: look at those inside
    def overlap(r: Results) -> torch.Tensor:
        inside = r.boxes[((r.boxes.xyxy > 0) & (r.boxes.xyxy < 64)).all(dim=1)]
        return box_iou(inside.xyxy, inside.xyxy).fill_diagonal_(0).max()

    agnostic = detector.predict(val_files, conf=CONF, iou=0.3, agnostic=True)
    assert max(overlap(r) for r in agnostic) <= 0.3 + 1e-6  # any two, whatever the classes
    aware = detector.predict(val_files, conf=CONF, iou=0.3)
    assert max(overlap(r) for r in aware) > 0.3  # class-aware: other classes may overlap
    assert sum(map(len, agnostic)) < sum(map(len, aware))


def test_postprocess_classes_and_agnostic_by_hand() -> None:
    from tinyvision.nn.detector import postprocess

    # cx cy w h obj p0 p1
    rows = torch.tensor(
        [
            [50, 50, 20, 20, 0.9, 0.9, 0.1],  # conf 0.81 class 0
            [51, 50, 20, 20, 0.8, 0.1, 0.9],  # conf 0.72 class 1, IoU 380 / 420 with row 0
            [10, 10, 4, 4, 0.5, 0.1, 0.9],  # conf 0.45 class 1, far from both
        ]
    ).unsqueeze(0)
    ((_, scores, labels),) = postprocess(rows, 0.25, 0.5, multi_label=False)
    assert labels.tolist() == [0, 1, 1]  # class-aware: the overlapping class 1 stays
    ((_, scores, labels),) = postprocess(rows, 0.25, 0.5, multi_label=False, agnostic=True)
    assert labels.tolist() == [0, 1]  # across classes: row 1 (IoU 0.905) goes
    torch.testing.assert_close(scores, torch.tensor([0.81, 0.45]))
    ((_, scores, labels),) = postprocess(rows, 0.25, 0.5, multi_label=False, classes=[1])
    assert labels.tolist() == [1, 1]  # only class 1, before NMS: row 1 no longer suppressed
    torch.testing.assert_close(scores, torch.tensor([0.72, 0.45]))
    ((boxes, _, _),) = postprocess(rows, 0.25, 0.5, classes=[])
    assert boxes.shape == (0, 4)


# ----------------------------------------------------------------------------- rect path
def test_letterbox_rect_pads_to_the_next_multiple_of_the_stride() -> None:
    image = np.zeros((30, 100, 3), np.uint8)
    image[10:20, 40:60] = 255  # a white box (x 40..60, y 10..20)
    padded, ratio, (pad_x, pad_y) = letterbox_rect(image, 64, 16)
    # 100 x 30 -> 64 x 19.2 -> 64 x 19, padded to 64 x 32: pad_y = (32 - 19) // 2 = 6
    assert padded.shape == (32, 64, 3) and ratio == 0.64 and (pad_x, pad_y) == (0, 6)
    ys, xs = np.nonzero(padded[..., 0] > 127)
    assert abs(xs.min() - (40 * ratio + pad_x)) <= 1 and abs(xs.max() + 1 - (60 * ratio)) <= 1
    assert abs(ys.min() - (10 * ratio + pad_y)) <= 1 and abs(ys.max() + 1 - (20 * ratio + 6)) <= 1
    square, *_ = letterbox(image, 64)
    assert square.shape == (64, 64, 3)  # the square path pads 32 more rows
    same, ratio, pads = letterbox_rect(np.zeros((64, 64, 3), np.uint8), 64, 16)
    assert same.shape == (64, 64, 3) and ratio == 1.0 and pads == (0, 0)


def test_rect_and_square_paths_agree_on_the_shapes_validation_set(
    detector, detector_files, val_files
) -> None:
    # The validation images are square: both paths letterbox them alike, to the pixel
    rect = detector.predict(val_files, conf=CONF)
    square = detector.predict(val_files, conf=CONF, rect=False)
    for a, b in zip(rect, square):
        same_boxes(a, b, atol=0)
    # ... and agree with the predict_images path of validation
    loaded = load_images(read_yolo(detector_files[1], "val"), 64)
    found = predict_images(
        detector.model, loaded.images, 64, conf_threshold=CONF, iou_threshold=0.45
    )
    for a, (boxes, scores, _) in zip(rect, found):
        np.testing.assert_allclose(a.boxes.xyxy.numpy(), boxes, atol=1e-4)
        np.testing.assert_allclose(a.boxes.conf.numpy(), scores, atol=1e-6)
    # At a larger size each image is resized alike too: square images have no rect padding
    for a, b in zip(
        detector.predict(val_files, conf=CONF, img_size=96),
        detector.predict(val_files, conf=CONF, img_size=96, rect=False),
    ):
        same_boxes(a, b, atol=0)


def test_rect_path_maps_boxes_back_from_its_own_input(detector, val_files) -> None:
    # The rect path's boxes are those found on its letterboxed input, mapped back:
    # (box - pad) / ratio. Predicting that input itself (its sides already multiples of
    # the stride, the longer one img_size: no resize, no padding) gives the same boxes.
    for file, size in zip(val_files[:4], (64, 96, 128, 64)):
        bgr = cv2.imread(str(file))
        wide = cv2.resize(bgr[8:48], (100, 40))  # 100 x 40, a crop stretched
        (on_wide,) = detector.predict(wide, conf=CONF, img_size=size)
        rgb = np.ascontiguousarray(wide[..., ::-1])
        padded, ratio, (pad_x, pad_y) = letterbox_rect(rgb, size, 16)
        assert padded.shape[1] == size and padded.shape[0] % 16 == 0 and padded.shape[0] < size
        (on_input,) = detector.predict(padded[..., ::-1].copy(), conf=CONF, img_size=size)
        back = (on_input.boxes.xyxy - torch.tensor([pad_x, pad_y, pad_x, pad_y])) / ratio
        back[:, [0, 2]] = back[:, [0, 2]].clamp(0, 100)
        back[:, [1, 3]] = back[:, [1, 3]].clamp(0, 40)
        assert len(on_wide.boxes) == len(on_input.boxes) > 0
        torch.testing.assert_close(on_wide.boxes.xyxy, back, atol=1e-3, rtol=0)
        torch.testing.assert_close(on_wide.boxes.conf, on_input.boxes.conf)


# ----------------------------------------------------------------------------- results
def test_boxes_formats_and_normalised_coordinates(detector, val_files) -> None:
    bgr = cv2.imread(str(val_files[0]))
    wide = cv2.resize(bgr, (128, 64))
    (result,) = detector.predict(wide, conf=CONF)
    boxes = result.boxes
    assert isinstance(boxes, Boxes) and result.probs is None and len(result) == len(boxes)
    assert boxes.xyxy.dtype == torch.float32 and boxes.cls.dtype == torch.int64
    x1, y1, x2, y2 = boxes.xyxy.unbind(1)
    torch.testing.assert_close(
        boxes.xywh, torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), 1)
    )
    torch.testing.assert_close(boxes.xyxyn, boxes.xyxy / torch.tensor([128, 64, 128, 64]))
    torch.testing.assert_close(boxes.xywhn, boxes.xywh / torch.tensor([128, 64, 128, 64]))
    assert (boxes.xyxy >= 0).all() and (boxes.xyxy[:, [0, 2]] <= 128).all()
    assert (boxes.xyxy[:, [1, 3]] <= 64).all()
    torch.testing.assert_close(boxes.data[:, :4], boxes.xyxy)
    assert boxes.data[:, 5].tolist() == [float(c) for c in boxes.cls.tolist()]
    assert (
        len(boxes[0]) == 1
        and len(boxes[:2]) == 2
        and len(boxes[boxes.cls == 0]) == int((boxes.cls == 0).sum())
    )
    assert (boxes.conf[:-1] >= boxes.conf[1:]).all()


def test_plot_save_json_and_coco(detector, val_files, tmp_path: Path) -> None:
    bgr = cv2.imread(str(val_files[0]))
    kept = bgr.copy()
    (result,) = detector.predict(bgr, conf=0.01)
    assert len(result.boxes) > 0
    drawn = result.plot()
    assert drawn.shape == bgr.shape and drawn.dtype == np.uint8
    assert not np.array_equal(drawn, bgr)  # boxes drawn
    np.testing.assert_array_equal(bgr, kept)  # ... on a copy
    np.testing.assert_array_equal(result.orig_img, bgr)
    assert result.save(tmp_path / "d.png") == tmp_path / "d.png"
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "d.png")), drawn)
    with pytest.raises(ValueError, match=r"path .*d\.xyz: OpenCV cannot write"):
        result.save(tmp_path / "d.xyz")
    assert not (tmp_path / "d.xyz").exists()
    rows = json.loads(result.to_json())
    assert len(rows) == len(result.boxes)
    assert rows[0]["name"] == NAMES[rows[0]["class"]]
    assert rows[0]["box"]["x1"] == pytest.approx(float(result.boxes.xyxy[0, 0]), abs=1e-3)
    coco = result.to_coco(7)
    x1, y1, x2, y2 = result.boxes.xyxy[0].tolist()
    assert coco[0]["image_id"] == 7 and coco[0]["category_id"] == int(result.boxes.cls[0])
    assert coco[0]["bbox"] == pytest.approx([x1, y1, x2 - x1, y2 - y1], abs=1e-3)
    assert coco[0]["score"] == pytest.approx(float(result.boxes.conf[0]), abs=1e-5)
    with pytest.raises(TypeError, match="image_id must be an int or a str"):
        result.to_coco(1.5)


# ----------------------------------------------------------------------------- val, train
def test_val_is_the_training_report_evaluation(detector, detector_files) -> None:
    yaml_path = detector_files[1]
    evaluation = detector.val(yaml_path)
    loaded = load_images(read_yolo(yaml_path, "val"), 64)
    expected, _ = evaluate_detector(
        detector.model, loaded.dataset, loaded.images, loaded.scales, 64
    )
    np.testing.assert_array_equal(evaluation.stats, expected.stats)
    assert detector.val().stats.tolist() == evaluation.stats.tolist()  # the checkpoint's data
    with pytest.raises(ValueError, match=r"data .*nowhere\.yaml: no such file"):
        detector.val(yaml_path.parent / "nowhere.yaml")
    with pytest.raises(TypeError, match="data must be a path"):
        detector.val(3)


def test_train_takes_config_fields_as_keywords(detector_files, tmp_path: Path) -> None:
    detector = Detector.load(detector_files[0])
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'epoch'"):
        detector.train(epoch=1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        detector.train(epochs=0)
    before = {k: v.clone() for k, v in detector.model.state_dict().items()}
    result = detector.train(epochs=1, batch_size=16, out=tmp_path / "more")
    assert result.steps == 3  # 48 images, batch 16
    again = Detector.load(tmp_path / "more" / "last.pt")
    assert again.names == detector.names and again.img_size == 64
    changed = any(not torch.equal(before[k], v) for k, v in detector.model.state_dict().items())
    assert changed and len(detector.predict(np.zeros((64, 64, 3), np.uint8), conf=CONF)) == 1


# ----------------------------------------------------------------------------- classifier
def test_classifier_predict_matches_val_on_the_digits(classifier_file) -> None:
    from tinyvision.data.digits import load_digits

    classifier = Classifier.load(classifier_file)
    assert classifier.image_shape == (1, 32, 32) and classifier.upscale == 4
    evaluation = classifier.val()  # the checkpoint's data: the digits' test split
    _, test = load_digits()
    # the test digits as 8x8 gray uint8 pictures (0..16 -> 0..255, as a user would have)
    pictures = [
        (img[0].numpy().astype(np.float64) * 255 / 16).round().astype(np.uint8)
        for img in test.images
    ]
    results = classifier.predict(pictures, batch_size=100)
    top1 = np.array([r.probs.top1 for r in results])
    accuracy = float((top1 == test.labels.numpy()).mean())
    assert accuracy == pytest.approx(evaluation.accuracy, abs=0.02)  # rounding to 8 bits
    agree = evaluation.confusion.sum() == len(test)
    assert agree and evaluation.accuracy > 0.5  # four epochs learn something
    # a photo-sized RGB picture of a digit (resized down, colour to gray) gives its class
    big = cv2.resize(pictures[0], (64, 64), interpolation=cv2.INTER_NEAREST)
    (from_big,) = classifier.predict(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    assert from_big.probs.top1 == results[0].probs.top1
    torch.testing.assert_close(from_big.probs.data, results[0].probs.data, atol=1e-4, rtol=0)


def test_classifier_results_and_probs(classifier_file, tmp_path: Path) -> None:
    classifier = Classifier.load(classifier_file)
    picture = np.zeros((8, 8), np.uint8)
    picture[1:7, 3:5] = 255  # a bar: a "1"
    results = classifier.predict([picture, Image.fromarray(picture), torch.zeros(1, 8, 8)])
    assert len(results) == 3 and all(r.boxes is None for r in results)
    probs = results[0].probs
    assert isinstance(probs, Probs) and probs.data.shape == (10,)
    assert probs.data.sum().item() == pytest.approx(1.0, abs=1e-5)
    order = torch.argsort(probs.data, descending=True)
    assert probs.top1 == int(order[0]) and probs.top5 == order[:5].tolist()
    assert float(probs.top1conf) == float(probs.data.max())
    torch.testing.assert_close(probs.top5conf, probs.data[order[:5]])
    torch.testing.assert_close(results[1].probs.data, probs.data)  # PIL gray = numpy gray
    rows = json.loads(results[0].to_json())
    assert [r["class"] for r in rows] == probs.top5 and rows[0]["name"] == str(probs.top1)
    drawn = results[0].plot()
    assert drawn.shape == (8, 8, 3)
    with pytest.raises(ValueError, match="to_coco needs boxes"):
        results[0].to_coco(1)


def test_classifier_preprocess_keeps_rgb_order_and_resizes(tmp_path: Path) -> None:
    from dataclasses import asdict

    from tinyvision.nn.classifier import build_classifier
    from tinyvision.train.classify import TrainConfig

    torch.manual_seed(0)
    kwargs = {"in_channels": 3, "num_classes": 3, "image_size": 32}
    record = {
        "model": build_classifier("toy", **kwargs).state_dict(),
        "config": asdict(TrainConfig()),
        "mean": [0.5, 0.5, 0.5],
        "std": [0.25, 0.25, 0.25],
        "model_name": "toy",
        "model_kwargs": kwargs,
        "image_shape": [3, 32, 32],
        "classes": ["a", "b", "c"],
    }
    save_checkpoint(tmp_path / "rgb.pt", "classifier", record)
    classifier = Classifier.load(tmp_path / "rgb.pt")
    assert classifier.names == {0: "a", 1: "b", 2: "c"} and classifier.upscale == 1
    bgr = np.zeros((48, 80, 3), np.uint8)
    bgr[:] = (30, 20, 10)  # B, G, R
    (result,) = classifier.predict(bgr)
    assert result.orig_shape == (48, 80) and result.probs.data.shape == (3,)
    x = classifier.preprocess(np.ascontiguousarray(bgr[..., ::-1]))  # given RGB
    assert x.shape == (3, 32, 32)  # resized to the training size, the aspect not kept
    torch.testing.assert_close(x[:, 0, 0], torch.tensor([10, 20, 30]) / 255.0)
    small = classifier.preprocess(np.full((8, 8, 3), 100, np.uint8))  # enlarged
    assert small.shape == (3, 32, 32) and float(small.min()) == float(small.max())
    assert float(small.max()) == pytest.approx(100 / 255)
    expected = classifier.model(((x - 0.5) / 0.25)[None]).softmax(dim=1)[0]
    torch.testing.assert_close(result.probs.data, expected.detach(), atol=1e-5, rtol=0)
    assert len(result.probs.top5) == 3  # K < 5: all classes


def test_classifier_val_and_train_bad_input(classifier_file, tmp_path: Path) -> None:
    classifier = Classifier.load(classifier_file)
    with pytest.raises(ValueError, match=r"data must be one of 'digits', 'cifar10'"):
        classifier.val("mnist")
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'learning_rate'"):
        classifier.train(learning_rate=0.1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        classifier.train(epochs=0)
    result = classifier.train(epochs=1, out=tmp_path / "more")
    assert len(result.epoch_losses) == 1
    again = Classifier.load(tmp_path / "more" / "last.pt")
    assert again.image_shape == (1, 32, 32) and again.names == classifier.names


def test_import_tinyvision_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, tinyvision; assert 'torch' not in sys.modules"
    src = str(Path(__file__).resolve().parents[1] / "src")
    run = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": src}, capture_output=True)
    assert run.returncode == 0, run.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import tinyvision
        from tinyvision import models

        assert tinyvision.Detector is models.Detector and tinyvision.Results is Results
        with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
            tinyvision.Nothing  # noqa: B018


# ----------------------------------------------------------------------------- export
def _onnx_outputs(path: Path, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})


def test_export_methods_write_the_checkpoints_graph(
    detector_files, classifier_file, tmp_path: Path
) -> None:
    from tinyvision.train.export import export

    loaded = Detector.load(detector_files[0])
    default = loaded.export()  # beside the checkpoint, named after it
    assert default == detector_files[0].with_suffix(".onnx") and default.is_file()
    from_file = export(detector_files[0], tmp_path / "file.onnx")
    x = np.random.default_rng(0).random((2, 3, loaded.img_size, loaded.img_size), np.float32)
    for ours, theirs in zip(_onnx_outputs(default, x), _onnx_outputs(from_file, x)):
        np.testing.assert_array_equal(ours, theirs)
    nms = loaded.export(tmp_path / "nms.onnx", nms=True, max_det=7)
    detections, counts = _onnx_outputs(nms, x)
    assert detections.shape == (2, 7, 6) and counts.shape == (2,)
    classifier = Classifier.load(classifier_file)
    script = classifier.export(tmp_path / "c.torchscript", format="torchscript")
    module = torch.jit.load(str(script))
    images = torch.rand(3, *classifier.image_shape)
    reference = export(classifier_file, tmp_path / "c2.torchscript", format="torchscript")
    torch.testing.assert_close(module(images), torch.jit.load(str(reference))(images))


def test_export_of_an_in_memory_model_needs_a_path(detector) -> None:
    in_memory = Detector(detector.model, list(detector.names.values()), detector.img_size)
    with pytest.raises(ValueError, match="path is required"):
        in_memory.export()
    with pytest.raises(ValueError, match="format"):
        detector.export(Path("x.onnx"), format="tflite")
