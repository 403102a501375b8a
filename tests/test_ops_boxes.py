"""tinyvision.ops box geometry: hand-computed cases, compiled vs torch paths, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from tinyvision import ops
from tinyvision.ops.boxes import _use_compiled

PAIRWISE = [ops.box_iou, ops.generalized_box_iou, ops.distance_box_iou, ops.complete_box_iou]


def exact(actual: torch.Tensor, expected: torch.Tensor) -> None:
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0, equal_nan=True)


# --------------------------------------------------------------------------- hand-computed


def test_quarter_overlap_by_hand() -> None:
    # A = [0,0,2,2], B = [1,1,3,3]: each is 2x2 (area 4); they share the 1x1 square [1,2]^2.
    # IoU  = 1 / (4 + 4 - 1) = 1/7
    # GIoU: enclosing box [0,0,3,3] has area 9 -> 1/7 - (9 - 7)/9 = 1/7 - 2/9 = -5/63
    # DIoU: centres (1,1) and (2,2): d^2 = 2; enclosing diagonal c^2 = 3^2 + 3^2 = 18
    #       -> 1/7 - 2/18 = 1/7 - 1/9 = 2/63
    # CIoU: equal aspect ratios -> v = 0 -> CIoU = DIoU = 2/63
    a = torch.tensor([[0.0, 0, 2, 2]], dtype=torch.float64)
    b = torch.tensor([[1.0, 1, 3, 3]], dtype=torch.float64)
    assert ops.box_iou(a, b).item() == pytest.approx(1 / 7, rel=1e-15)
    assert ops.generalized_box_iou(a, b).item() == pytest.approx(-5 / 63, rel=1e-15)
    assert ops.distance_box_iou(a, b, eps=0).item() == pytest.approx(2 / 63, rel=1e-15)
    assert ops.complete_box_iou(a, b, eps=0).item() == pytest.approx(2 / 63, rel=1e-15)
    for kind, value in (("iou", 1 / 7), ("giou", -5 / 63), ("diou", 2 / 63), ("ciou", 2 / 63)):
        assert ops.bbox_iou(a, b, kind, eps=0).item() == pytest.approx(value, rel=1e-15)


def test_ciou_aspect_term_by_hand() -> None:
    # A = [0,0,2,1] (w/h = 2), B = [0,0,1,2] (w/h = 1/2), both area 2, intersection [0,1]^2 = 1
    # IoU = 1 / (2 + 2 - 1) = 1/3; centres (1, 0.5), (0.5, 1): d^2 = 0.5; c^2 = 2^2 + 2^2 = 8
    # DIoU = 1/3 - 0.5/8 = 1/3 - 1/16 = 13/48
    # v = 4/pi^2 (atan 2 - atan 1/2)^2; alpha = v / (1 - 1/3 + v); CIoU = DIoU - alpha v
    a = torch.tensor([[0.0, 0, 2, 1]], dtype=torch.float64)
    b = torch.tensor([[0.0, 0, 1, 2]], dtype=torch.float64)
    v = 4 / math.pi**2 * (math.atan(2) - math.atan(0.5)) ** 2
    ciou = 13 / 48 - v / (2 / 3 + v) * v
    assert ops.distance_box_iou(a, b, eps=0).item() == pytest.approx(13 / 48, rel=1e-14)
    assert ops.complete_box_iou(a, b, eps=0).item() == pytest.approx(ciou, rel=1e-14)
    assert ops.bbox_iou(a, b, "ciou", eps=0).item() == pytest.approx(ciou, rel=1e-14)


def test_one_ground_truth_against_many_predictions() -> None:
    # gt [0,0,10,10] (area 100) against: itself (IoU 1); [5,0,15,10] sharing 5x10 = 50 of a
    # 150 union (1/3); a far box (0). The best match is prediction 0.
    gt = torch.tensor([0.0, 0, 10, 10])
    preds = torch.tensor([[5.0, 0, 15, 10], [0, 0, 10, 10], [20, 20, 30, 30]])
    ious = ops.box_iou(gt[None], preds)[0]
    torch.testing.assert_close(ious, torch.tensor([1 / 3, 1.0, 0.0]))
    best, index = ious.max(0)
    assert best.item() == 1.0 and index.item() == 1


def test_legacy_pixel_convention() -> None:
    # Inclusive pixels: [0,0,1,1] covers 2x2 = 4 pixels, as does [1,1,2,2]; they share pixel
    # (1,1): IoU = 1 / (4 + 4 - 1) = 1/7. In continuous coordinates they only touch: IoU 0.
    a = torch.tensor([[0.0, 0, 1, 1]])
    b = torch.tensor([[1.0, 1, 2, 2]])
    assert ops.box_iou(a, b).item() == 0.0
    assert ops.box_iou(a, b, legacy_pixel=True).item() == pytest.approx(1 / 7)
    # GIoU: enclosing [0,0,2,2] is 3x3 = 9 pixels -> 1/7 - (9 - 7)/9
    assert ops.generalized_box_iou(a, b, legacy_pixel=True).item() == pytest.approx(1 / 7 - 2 / 9)
    assert ops.bbox_iou(a, b, legacy_pixel=True, eps=0).item() == pytest.approx(1 / 7)
    # integer pixel boxes work the same and give float32
    ai, bi = a.long(), b.long()
    out = ops.box_iou(ai, bi, legacy_pixel=True)
    assert out.dtype == torch.float32 and out.item() == pytest.approx(1 / 7)


def test_empty_inputs_give_empty_results() -> None:
    empty = torch.zeros(0, 4)
    some = torch.tensor([[0.0, 0, 1, 1], [1, 1, 2, 2]])
    for fn in PAIRWISE:
        assert fn(empty, some).shape == (0, 2)
        assert fn(some, empty).shape == (2, 0)
        assert fn(empty, empty).shape == (0, 0)
    assert ops.bbox_iou(empty, empty, "ciou").shape == (0,)
    assert ops.box_area(empty).shape == (0,)
    assert ops.box_convert(empty, "xyxy", "cxcywh").shape == (0, 4)
    assert ops.clip_boxes_to_image(empty, (10, 10)).shape == (0, 4)
    assert ops.remove_small_boxes(empty, 1.0).dtype == torch.int64


def test_dtype_rules() -> None:
    boxes = torch.tensor([[0, 0, 4, 4], [2, 2, 6, 6]])
    for dtype in (torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.uint8):
        for fn in PAIRWISE:
            assert fn(boxes.to(dtype), boxes.to(dtype)).dtype == torch.float32
        assert ops.bbox_iou(boxes.to(dtype), boxes.to(dtype)).dtype == torch.float32
    assert ops.box_iou(boxes.double(), boxes.double()).dtype == torch.float64
    assert ops.box_area(boxes.to(torch.int16)).dtype == torch.int32
    assert ops.box_area(boxes.half()).dtype == torch.float32


def test_box_convert_by_hand() -> None:
    # xyxy [1,2,5,10]: w = 4, h = 8, centre (3, 6)
    xyxy = torch.tensor([[1.0, 2, 5, 10]])
    exact(ops.box_convert(xyxy, "xyxy", "xywh"), torch.tensor([[1.0, 2, 4, 8]]))
    exact(ops.box_convert(xyxy, "xyxy", "cxcywh"), torch.tensor([[3.0, 6, 4, 8]]))
    exact(
        ops.box_convert(torch.tensor([[3.0, 6, 4, 8]]), "cxcywh", "xywh"),
        torch.tensor([[1.0, 2, 4, 8]]),
    )
    same = ops.box_convert(xyxy, "xyxy", "xyxy")
    exact(same, xyxy)
    assert same.data_ptr() != xyxy.data_ptr()  # a copy
    # leading dimensions are kept
    assert ops.box_convert(torch.zeros(2, 3, 4), "xywh", "cxcywh").shape == (2, 3, 4)


def test_area_clip_and_small_boxes_by_hand() -> None:
    boxes = torch.tensor([[-5.0, -5, 5, 5], [0, 0, 20, 1], [3, 3, 1, 1]])
    # areas 10*10, 20*1, (1-3)*(1-3) = 4 (inverted boxes are not clamped)
    exact(ops.box_area(boxes), torch.tensor([100.0, 20, 4]))
    # clip to height 8, width 12: x into [0, 12], y into [0, 8]
    exact(
        ops.clip_boxes_to_image(boxes, (8, 12)),
        torch.tensor([[0.0, 0, 5, 5], [0, 0, 12, 1], [3, 3, 1, 1]]),
    )
    # sides: (10, 10), (20, 1), (-2, -2): min_size 1 keeps 0 and 1; min_size 2 keeps 0
    exact(ops.remove_small_boxes(boxes, 1.0), torch.tensor([0, 1]))
    exact(ops.remove_small_boxes(boxes, 2.0), torch.tensor([0]))


# --------------------------------------------------------------------------- compiled path


def _awkward_boxes(n: int, seed: int) -> torch.Tensor:
    """Random boxes with zero-area, inverted, NaN and infinite rows mixed in."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 100
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 30
    boxes = torch.cat([xy, xy + wh], 1)
    boxes[::7, 2] = boxes[::7, 0]  # zero width
    boxes[1::9, 2:] = boxes[1::9, :2] - 3  # inverted
    boxes[2::23, 1] = float("nan")
    boxes[3::29, 2] = float("inf")
    boxes[4::31, 0] = float("-inf")
    return boxes


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("fn", PAIRWISE, ids=lambda f: f.__name__)
def test_compiled_path_equals_torch_path_bit_for_bit(fn, dtype: torch.dtype) -> None:
    a = _awkward_boxes(97, 1).to(dtype)
    b = _awkward_boxes(83, 2).to(dtype)
    assert _use_compiled(a, b)
    compiled = fn(a, b)
    with torch.enable_grad():
        torch_path = fn(a.clone().requires_grad_(True), b).detach()
    exact(compiled, torch_path)
    assert compiled.isnan().any()  # the NaN rows really are in there


def test_compiled_path_is_not_used_for_gradients_half_or_batches() -> None:
    a = torch.rand(100, 4)
    b = torch.rand(100, 4)
    assert _use_compiled(a, b)
    assert not _use_compiled(a.requires_grad_(True), b)
    with torch.no_grad():
        assert _use_compiled(a, b)  # no gradient wanted under no_grad
    assert not _use_compiled(a.detach().half(), b.half())
    assert not _use_compiled(a.detach()[None], b[None])
    assert not _use_compiled(a.detach()[:10], b[:10])  # 100 pairs: torch ops are as fast


def test_gradients_flow_through_every_pairwise_function() -> None:
    a = torch.tensor([[0.0, 0, 2, 2], [1, 0, 4, 3]], requires_grad=True)
    b = torch.tensor([[1.0, 1, 3, 3]])
    for fn in PAIRWISE:
        a.grad = None
        fn(a, b).sum().backward()
        assert a.grad is not None and torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0


def test_nan_and_inf_coordinates_propagate() -> None:
    a = torch.tensor([[0.0, 0, 2, 2], [float("nan"), 0, 2, 2], [0, 0, float("inf"), 2]])
    b = torch.tensor([[1.0, 1, 3, 3]])
    iou = ops.box_iou(a, b)[:, 0]
    assert iou[0].item() == pytest.approx(1 / 7)
    assert math.isnan(iou[1].item())  # any NaN coordinate: NaN
    # an infinite box: intersection 1, union inf -> 0
    assert iou[2].item() == 0.0
    assert math.isnan(ops.box_iou(a, a)[2, 2].item())  # inf / inf


# ------------------------------------------------------------------- fmt= on every pairwise IoU

FMT_PAIRWISE = [ops.generalized_box_iou, ops.distance_box_iou, ops.complete_box_iou]


def test_pairwise_fmt_by_hand() -> None:
    # The quarter-overlap pair of test_quarter_overlap_by_hand, A = [0,0,2,2], B = [1,1,3,3]:
    # as xywh A = (0,0,2,2), B = (1,1,2,2); as cxcywh A = (1,1,2,2), B = (2,2,2,2).
    # GIoU = -5/63, DIoU = CIoU = 2/63 (equal aspect ratios) whatever the format.
    given = {
        "xyxy": ([0.0, 0, 2, 2], [1.0, 1, 3, 3]),
        "xywh": ([0.0, 0, 2, 2], [1.0, 1, 2, 2]),
        "cxcywh": ([1.0, 1, 2, 2], [2.0, 2, 2, 2]),
    }
    for fmt, (a, b) in given.items():
        a_t = torch.tensor([a], dtype=torch.float64)
        b_t = torch.tensor([b], dtype=torch.float64)
        assert ops.generalized_box_iou(a_t, b_t, fmt=fmt).item() == pytest.approx(-5 / 63)
        assert ops.distance_box_iou(a_t, b_t, eps=0, fmt=fmt).item() == pytest.approx(2 / 63)
        assert ops.complete_box_iou(a_t, b_t, 0, fmt=fmt).item() == pytest.approx(2 / 63)


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
@pytest.mark.parametrize("fn", FMT_PAIRWISE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [7, 90], ids=["torch-path", "compiled-path"])
def test_pairwise_fmt_equals_converting_first(fn, fmt: str, n: int) -> None:
    # corners on a 1/4 grid with even sides: every conversion is exact in float64,
    # so fmt= must give the xyxy result bit for bit, on both paths (90 x 90 >= 4096 pairs)
    g = torch.Generator().manual_seed(n)
    xy = torch.randint(0, 400, (2, n, 2), generator=g).double() / 4
    wh = torch.randint(1, 100, (2, n, 2), generator=g).double() / 2
    a, b = (torch.cat([xy[i], xy[i] + wh[i]], 1) for i in range(2))
    assert _use_compiled(a, b) == (n == 90)
    a_f, b_f = (ops.box_convert(x, "xyxy", fmt) for x in (a, b))
    exact(fn(a_f, b_f, fmt=fmt), fn(a, b))
    exact(fn(a, b, fmt="xyxy"), fn(a, b))


def test_pairwise_fmt_keeps_the_dtype_rules() -> None:
    # int8 xywh boxes: x + w = 100 + 100 would overflow int8; the result is float32 as for xyxy
    a = torch.tensor([[100, 100, 100, 100]], dtype=torch.int8)
    b = torch.tensor([[0, 0, 50, 50]], dtype=torch.int8)
    xyxy_a = torch.tensor([[100, 100, 200, 200]], dtype=torch.int32)
    xyxy_b = torch.tensor([[0, 0, 50, 50]], dtype=torch.int32)
    for fn in FMT_PAIRWISE:
        out = fn(a, b, fmt="xywh")
        assert out.dtype == torch.float32
        exact(out, fn(xyxy_a, xyxy_b))


# --------------------------------------------------------------------------- bbox_iou


@pytest.mark.parametrize("kind", ["iou", "giou", "diou", "ciou"])
def test_bbox_iou_is_the_diagonal_of_the_pairwise_matrix(kind: str) -> None:
    # with eps = 0 the element-wise and pairwise arithmetic are the same operations
    g = torch.Generator().manual_seed(3)
    xy, wh = torch.rand(40, 2, generator=g) * 50, torch.rand(40, 2, generator=g) * 20 + 0.1
    a = torch.cat([xy, xy + wh], 1)  # proper boxes
    b = a.flip(0) + 0.5
    pairwise = {
        "iou": ops.box_iou,
        "giou": ops.generalized_box_iou,
        "diou": lambda x, y: ops.distance_box_iou(x, y, eps=0),
        "ciou": lambda x, y: ops.complete_box_iou(x, y, eps=0),
    }[kind]
    exact(ops.bbox_iou(a, b, kind, eps=0), pairwise(a, b).diagonal())


def test_bbox_iou_formats_and_broadcasting() -> None:
    a = torch.tensor([[0.0, 0, 2, 2], [1, 1, 5, 3]])
    b = torch.tensor([[1.0, 1, 3, 3], [0, 0, 4, 4]])
    expected = ops.bbox_iou(a, b, "ciou")
    a_c, b_c = (ops.box_convert(x, "xyxy", "cxcywh") for x in (a, b))
    torch.testing.assert_close(ops.bbox_iou(a_c, b_c, "ciou", fmt="cxcywh"), expected)
    one = ops.bbox_iou(a[:1], b, "giou")  # [1, 4] against [2, 4]
    torch.testing.assert_close(one, ops.bbox_iou(a[:1].expand(2, 4), b, "giou"))
    assert ops.bbox_iou(a[0], b[0]).shape == ()  # single boxes


def test_bbox_iou_ciou_alpha_has_no_gradient() -> None:
    # d CIoU / d box with alpha constant, written out: only v's and DIoU's derivatives
    a = torch.tensor([[0.0, 0, 3, 1]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([[0.5, 0, 2, 2]], dtype=torch.float64)
    ops.bbox_iou(a, b, "ciou").sum().backward()
    auto = a.grad.clone()
    a.grad = None
    diou = ops.bbox_iou(a, b, "diou")
    iou = ops.bbox_iou(a, b, "iou")
    w, h = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    v = 4 / math.pi**2 * (math.atan(1.5 / 2) - torch.atan(w / h)) ** 2  # B is 1.5 x 2
    alpha = (v / (1 - iou + v + 1e-7)).detach()
    (diou - alpha * v).sum().backward()
    torch.testing.assert_close(auto, a.grad)


# --------------------------------------------------------------------------- bad input


BOX = torch.tensor([[0.0, 0, 1, 1]])


@pytest.mark.parametrize("fn", PAIRWISE, ids=lambda f: f.__name__)
def test_pairwise_bad_input(fn) -> None:
    with pytest.raises(TypeError, match="boxes1"):
        fn([[0, 0, 1, 1]], BOX)
    with pytest.raises(ValueError, match="boxes2"):
        fn(BOX, torch.zeros(3, 5))
    with pytest.raises(ValueError, match="boxes1"):
        fn(torch.zeros(4), BOX)  # one box needs [1, 4]
    with pytest.raises(TypeError, match="boxes2"):
        fn(BOX, BOX.bool())
    with pytest.raises(ValueError, match="leading"):
        fn(torch.zeros(2, 3, 4), torch.zeros(3, 3, 4))
    with pytest.raises(ValueError, match="device"):
        fn(BOX, BOX.to("meta"))
    with pytest.raises(TypeError, match="legacy_pixel"):
        fn(BOX, BOX, legacy_pixel="yes")


def test_box_iou_fmt_and_eps_bad_input() -> None:
    with pytest.raises(ValueError, match="fmt must be one of"):
        ops.box_iou(BOX, BOX, fmt="xyhw")
    with pytest.raises(ValueError, match="legacy_pixel=True needs fmt='xyxy'"):
        ops.box_iou(BOX, BOX, fmt="cxcywh", legacy_pixel=True)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        ops.distance_box_iou(BOX, BOX, eps=-1.0)
    with pytest.raises(ValueError, match="eps must not be NaN"):
        ops.complete_box_iou(BOX, BOX, eps=float("nan"))
    with pytest.raises(TypeError, match="eps"):
        ops.complete_box_iou(BOX, BOX, eps="small")


@pytest.mark.parametrize("fn", FMT_PAIRWISE, ids=lambda f: f.__name__)
def test_pairwise_fmt_bad_input(fn) -> None:
    # the same validation as box_iou's fmt
    with pytest.raises(ValueError, match="fmt must be one of"):
        fn(BOX, BOX, fmt="xyhw")
    with pytest.raises(ValueError, match="fmt must be one of"):
        fn(BOX, BOX, fmt=None)
    with pytest.raises(ValueError, match="legacy_pixel=True needs fmt='xyxy'"):
        fn(BOX, BOX, fmt="cxcywh", legacy_pixel=True)


def test_bbox_iou_bad_input() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        ops.bbox_iou(BOX, BOX, kind="eiou")
    with pytest.raises(ValueError, match="fmt must be one of"):
        ops.bbox_iou(BOX, BOX, fmt="yolo")
    with pytest.raises(ValueError, match="same shape"):
        ops.bbox_iou(torch.zeros(3, 4), torch.zeros(5, 4))
    with pytest.raises(ValueError, match="boxes1"):
        ops.bbox_iou(torch.zeros(3, 3), torch.zeros(3, 4))
    with pytest.raises(TypeError, match="boxes2"):
        ops.bbox_iou(BOX, None)
    with pytest.raises(ValueError, match="eps"):
        ops.bbox_iou(BOX, BOX, eps=-1e-9)


def test_convert_area_clip_small_bad_input() -> None:
    with pytest.raises(ValueError, match="in_fmt must be one of"):
        ops.box_convert(BOX, "polygon", "xyxy")
    with pytest.raises(ValueError, match="axis-aligned and a rotated format"):
        ops.box_convert(BOX, "xyxy", "xyxyxyxy")
    with pytest.raises(ValueError, match="out_fmt must be one of"):
        ops.box_convert(BOX, "xyxy", None)
    with pytest.raises(ValueError, match="boxes must be a Tensor of shape"):
        ops.box_convert(torch.zeros(2, 5), "xyxy", "xywh")
    with pytest.raises(TypeError, match="boxes"):
        ops.box_area(BOX.numpy())
    with pytest.raises(ValueError, match="fmt"):
        ops.box_area(BOX, fmt="polygon")
    with pytest.raises(ValueError, match="size must be a \\(height, width\\) pair"):
        ops.clip_boxes_to_image(BOX, 10)
    with pytest.raises(ValueError, match="size\\[1\\] \\(width\\) must be >= 0"):
        ops.clip_boxes_to_image(BOX, (10, -1))
    with pytest.raises(TypeError, match="size\\[0\\]"):
        ops.clip_boxes_to_image(BOX, (10.5, 3))
    with pytest.raises(ValueError, match="min_size must not be NaN"):
        ops.remove_small_boxes(BOX, float("nan"))
    with pytest.raises(ValueError, match="boxes must be a Tensor of shape \\[N, 4\\]"):
        ops.remove_small_boxes(torch.zeros(2, 2, 4), 1.0)
