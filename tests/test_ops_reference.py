"""tinyvision.ops and tinyvision.losses against torchvision's results (fixture files).

The fixtures come from ``scripts/make_reference_fixtures.py`` run with torch 2.14.1 and
torchvision 0.29.1; each case holds the inputs and torchvision's outputs and gradients.
Comparisons are exact (NaN equal to NaN) unless a comment says why not.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import torch

from tinyvision import losses, ops
from tinyvision.ops.boxes import _use_compiled
from tinyvision.ops.nms import _greedy_keep_torch

FIXTURES = Path(__file__).parent / "fixtures"
PAIRWISE = {
    "box_iou": ops.box_iou,
    "generalized_box_iou": ops.generalized_box_iou,
    "distance_box_iou": ops.distance_box_iou,
    "complete_box_iou": ops.complete_box_iou,
}
DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
}


@cache
def load(name: str) -> dict:
    return torch.load(FIXTURES / name, weights_only=True)


def assert_same(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Same dtype, shape and values to the last bit; NaN matches NaN."""
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0, equal_nan=True)


def cast(boxes64: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The fixture script's cast: integers are rounded first."""
    if dtype.is_floating_point:
        return boxes64.to(dtype)
    return torch.round(boxes64).to(dtype)


# --------------------------------------------------------------------------- box ops


def test_fixture_metadata() -> None:
    for name in ("torchvision_boxes.pt", "torchvision_nms.pt", "torchvision_losses.pt"):
        meta = load(name)["meta"]
        assert meta["torchvision"].startswith("0.29.1")
        assert meta["torch"].startswith("2.14.1")


@pytest.mark.parametrize("fname", sorted(PAIRWISE))
@pytest.mark.parametrize("dname", sorted(DTYPES))
def test_pairwise_matches_torchvision(fname: str, dname: str) -> None:
    data = load("torchvision_boxes.pt")
    dtype = DTYPES[dname]
    a, b = cast(data["a"], dtype), cast(data["b"], dtype)
    assert_same(PAIRWISE[fname](a, b), data["pairwise"][f"{fname}/{dname}"])


@pytest.mark.parametrize("fname", sorted(PAIRWISE))
@pytest.mark.parametrize("dname", ["float32", "float64"])
def test_pairwise_compiled_and_torch_paths_match_torchvision(fname: str, dname: str) -> None:
    data = load("torchvision_boxes.pt")
    a, b = data["big_a"].to(DTYPES[dname]), data["big_b"].to(DTYPES[dname])
    expected = data["pairwise"][f"{fname}/big/{dname}"]
    assert _use_compiled(a, b)  # 90 x 80 pairs, no gradient: the compiled loop
    assert_same(PAIRWISE[fname](a, b), expected)
    grad_a = a.clone().requires_grad_(True)  # a gradient is wanted: the torch ops
    assert not _use_compiled(grad_a, b)
    assert_same(PAIRWISE[fname](grad_a, b).detach(), expected)


@pytest.mark.parametrize("fname", ["distance_box_iou", "complete_box_iou"])
def test_pairwise_eps(fname: str) -> None:
    data = load("torchvision_boxes.pt")
    a, b = data["a"].float(), data["b"].float()
    assert_same(PAIRWISE[fname](a, b, eps=1e-3), data["pairwise"][f"{fname}/eps1e-3/float32"])


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_box_iou_and_area_formats(fmt: str) -> None:
    data = load("torchvision_boxes.pt")
    a, b = data[f"fmt/{fmt}/a"], data[f"fmt/{fmt}/b"]
    assert_same(ops.box_iou(a, b, fmt=fmt), data[f"fmt/{fmt}/box_iou"])
    assert_same(ops.box_area(a, fmt=fmt), data[f"fmt/{fmt}/box_area"])


@pytest.mark.parametrize("fname", sorted(PAIRWISE))
def test_pairwise_leading_batch_dimensions(fname: str) -> None:
    data = load("torchvision_boxes.pt")
    assert_same(PAIRWISE[fname](data["batched/a"], data["batched/b"]), data[f"batched/{fname}"])


@pytest.mark.parametrize("fname", sorted(PAIRWISE))
@pytest.mark.parametrize("dname", ["float32", "float64"])
def test_pairwise_gradients(fname: str, dname: str) -> None:
    data = load("torchvision_boxes.pt")
    dtype = DTYPES[dname]
    a = data["a"][:26].to(dtype, copy=True).requires_grad_(True)
    b = data["b"][:21].to(dtype, copy=True).requires_grad_(True)
    (PAIRWISE[fname](a, b) * data["grad/weights"].to(dtype)).sum().backward()
    assert_same(a.grad, data[f"grad/{fname}/{dname}/a"])
    assert_same(b.grad, data[f"grad/{fname}/{dname}/b"])


def test_convert_area_clip_small() -> None:
    data = load("torchvision_boxes.pt")
    a = data["a"].float()
    for i_fmt in ops.BOX_FORMATS:
        for o_fmt in ops.BOX_FORMATS:
            assert_same(ops.box_convert(a, i_fmt, o_fmt), data[f"convert/{i_fmt}/{o_fmt}"])
    ai = torch.round(data["a"]).to(torch.int64)
    assert_same(ops.box_convert(ai, "xyxy", "cxcywh"), data["convert/int64/xyxy/cxcywh"])
    assert_same(ops.box_convert(ai, "xywh", "xyxy"), data["convert/int64/xywh/xyxy"])
    assert_same(ops.box_area(a), data["area/float32"])
    assert_same(ops.box_area(data["a"].half()), data["area/float16"])
    assert_same(ops.box_area(cast(data["a"], torch.int16)), data["area/int16"])
    assert_same(ops.clip_boxes_to_image(a, (50, 70)), data["clip/float32"])
    assert_same(ops.clip_boxes_to_image(ai, (50, 70)), data["clip/int64"])
    for size in ("1.0", "5.0", "0.0"):
        assert_same(ops.remove_small_boxes(a, float(size)), data[f"small/{size}"])


# --------------------------------------------------------------------------- NMS


def _nms_ids() -> list[str]:
    return [f"{c['name']}@{c['iou_threshold']:.10g}" for c in load("torchvision_nms.pt")["nms"]]


@pytest.mark.parametrize("index", range(len(load("torchvision_nms.pt")["nms"])), ids=_nms_ids())
def test_nms_matches_torchvision(index: int) -> None:
    case = load("torchvision_nms.pt")["nms"][index]
    boxes, scores, thr = case["boxes"], case["scores"], case["iou_threshold"]
    assert_same(ops.nms(boxes, scores, thr), case["keep"])
    # the vectorised torch path (the CUDA one) gives the same indices
    order = torch.sort(scores, stable=True, descending=True)[1]
    assert_same(order[_greedy_keep_torch(boxes[order], thr)], case["keep"])


def test_exact_threshold_cases_are_in_the_fixtures() -> None:
    # IoU([0,0,1,1], [0,0,3,1]) = 1 / 3 = 0.333333343 in float32, above the double 1/3:
    # torchvision (and tinyvision) suppress at threshold 1/3 but keep at float32(1/3).
    cases = {
        c["iou_threshold"]: c["keep"]
        for c in load("torchvision_nms.pt")["nms"]
        if c["name"] == "exact_threshold"
    }
    assert 3 not in cases[1 / 3].tolist()
    assert 3 in cases[float(torch.tensor(1 / 3, dtype=torch.float32))].tolist()
    assert 1 in cases[0.5].tolist()  # IoU exactly 0.5 is not > 0.5
    assert 1 not in cases[0.49999999].tolist()


@pytest.mark.parametrize(
    "index",
    range(len(load("torchvision_nms.pt")["batched_nms"])),
    ids=[c["name"] for c in load("torchvision_nms.pt")["batched_nms"]],
)
def test_batched_nms_is_exactly_per_class(index: int) -> None:
    case = load("torchvision_nms.pt")["batched_nms"][index]
    boxes, scores, idxs, thr = case["boxes"], case["scores"], case["idxs"], case["iou_threshold"]
    keep = ops.batched_nms(boxes, scores, idxs, thr)
    assert_same(keep, case["per_class"])
    order = torch.sort(scores, stable=True, descending=True)[1]
    torch_path = order[_greedy_keep_torch(boxes[order], thr, labels=idxs[order])]
    assert_same(torch_path, case["per_class"])
    tv = case["torchvision"]
    if case["name"] == "batched/offset_trick":
        # torchvision's coordinate offset rounds the boxes and changes the result
        assert not torch.equal(tv, case["per_class"])
    else:
        # same boxes; torchvision's final sort is not stable, so equal scores may swap
        assert sorted(tv.tolist()) == sorted(keep.tolist())
        assert_same(scores[tv], scores[keep])


# --------------------------------------------------------------------------- losses


def test_sigmoid_focal_loss_values_and_gradients() -> None:
    data = load("torchvision_losses.pt")
    checked = 0
    for dname in ("float32", "float64"):
        dtype = DTYPES[dname]
        for tname in ("hard", "soft"):
            target = data[f"focal/{tname}"].to(dtype)
            for alpha in (0.25, -1.0, 0.0, 1.0):
                for gamma in (2, 0, 1.5):
                    for reduction in ("none", "mean", "sum"):
                        x = data["focal/inputs"].to(dtype, copy=True).requires_grad_(True)
                        loss = losses.sigmoid_focal_loss(x, target, alpha, gamma, reduction)
                        loss.sum().backward()
                        key = f"focal/{dname}/{tname}/{alpha}/{gamma}/{reduction}"
                        assert_same(loss.detach(), data[key])
                        assert_same(x.grad, data[key + "/grad"])
                        checked += 1
    assert checked == 144


@pytest.mark.parametrize("fname", ["giou", "diou", "ciou"])
def test_box_losses_values_and_gradients(fname: str) -> None:
    fn = {
        "giou": losses.generalized_box_iou_loss,
        "diou": losses.distance_box_iou_loss,
        "ciou": losses.complete_box_iou_loss,
    }[fname]
    data = load("torchvision_losses.pt")
    for dname in ("float32", "float64"):
        dtype = DTYPES[dname]
        for reduction in ("none", "mean", "sum"):
            for eps in (1e-7, 1e-3):
                key = f"{fname}/{dname}/{reduction}/{eps}"
                if key not in data:
                    continue
                x = data["box/a"].to(dtype, copy=True).requires_grad_(True)
                y = data["box/b"].to(dtype, copy=True).requires_grad_(True)
                loss = fn(x, y, reduction=reduction, eps=eps)
                loss.sum().backward()
                assert_same(loss.detach(), data[key])
                assert_same(x.grad, data[key + "/grad_a"])
                assert_same(y.grad, data[key + "/grad_b"])
        for reduction in ("none", "mean", "sum"):
            assert_same(
                fn(torch.zeros(0, 4), torch.zeros(0, 4), reduction=reduction),
                data[f"{fname}/empty/{reduction}"],
            )
        a, b = data["box/a"], data["box/b"]
        assert_same(fn(a.half(), b.half()), data[f"{fname}/float16"])
        assert_same(fn(cast(a, torch.int64), cast(b, torch.int64)), data[f"{fname}/int64"])


# --------------------------------------------------------------------------- NaN and inf

BOX_LOSSES = {
    "giou": losses.generalized_box_iou_loss,
    "diou": losses.distance_box_iou_loss,
    "ciou": losses.complete_box_iou_loss,
}


def test_nonfinite_fixture_metadata_and_coverage() -> None:
    data = load("torchvision_nonfinite.pt")
    assert data["meta"]["torchvision"].startswith("0.29.1")
    assert data["meta"]["torch"].startswith("2.14.1")
    a, b = data["box/a"], data["box/b"]
    # a finite first pair, NaN, +inf and -inf at every coordinate of either box
    assert torch.isfinite(a[0]).all() and torch.isfinite(b[0]).all()
    both = torch.cat([a, b], 1)
    for column in range(8):
        values = both[:, column]
        assert values.isnan().any() and (values == float("inf")).any()
        assert (values == float("-inf")).any()


@pytest.mark.parametrize("fname", sorted(BOX_LOSSES))
@pytest.mark.parametrize("dname", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_box_losses_nonfinite_values_and_gradients(fname: str, dname: str, reduction: str) -> None:
    data = load("torchvision_nonfinite.pt")
    dtype = DTYPES[dname]
    x = data["box/a"].to(dtype, copy=True).requires_grad_(True)
    y = data["box/b"].to(dtype, copy=True).requires_grad_(True)
    loss = BOX_LOSSES[fname](x, y, reduction=reduction)
    loss.sum().backward()
    key = f"{fname}/{dname}/{reduction}"
    assert_same(loss.detach(), data[key])
    assert_same(x.grad, data[key + "/grad_a"])
    assert_same(y.grad, data[key + "/grad_b"])
    nan_pair = data["box/a"].isnan().any(1) | data["box/b"].isnan().any(1)
    nonfinite = ~(torch.isfinite(data["box/a"]).all(1) & torch.isfinite(data["box/b"]).all(1))
    assert nan_pair.any() and (nonfinite & ~nan_pair).any()
    if reduction == "none":
        # torchvision's behaviour: a NaN coordinate gives a NaN loss; an infinite one a NaN
        # or an infinite loss; only the finite pair has a finite loss
        assert loss[nan_pair].isnan().all()
        assert torch.equal(~torch.isfinite(loss), nonfinite)
    else:
        assert loss.isnan()
    # and every pair with a NaN or inf coordinate gets NaN in its gradient
    grads = torch.cat([x.grad, y.grad], 1)
    assert torch.equal(grads.isnan().any(1), nonfinite)


@pytest.mark.parametrize("kind", ["giou", "diou", "ciou"])
@pytest.mark.parametrize("dname", ["float32", "float64"])
def test_bbox_iou_nonfinite_matches_torchvision_losses(kind: str, dname: str) -> None:
    data = load("torchvision_nonfinite.pt")
    dtype = DTYPES[dname]
    a, b = data["box/a"].to(dtype), data["box/b"].to(dtype)
    x = a.clone().requires_grad_(True)
    y = b.clone().requires_grad_(True)
    iou = ops.bbox_iou(x, y, kind)
    (1 - iou).sum().backward()
    key = f"{kind}/{dname}/none"
    # 1 - bbox_iou is torchvision's loss to the last bit, NaN and inf included
    assert_same(1 - iou.detach(), data[key])
    assert_same(x.grad, data[key + "/grad_a"])
    assert_same(y.grad, data[key + "/grad_b"])
    assert iou[a.isnan().any(1) | b.isnan().any(1)].isnan().all()


@pytest.mark.parametrize("dname", ["float32", "float64"])
def test_bbox_iou_plain_nonfinite_matches_torchvision_box_iou(dname: str) -> None:
    data = load("torchvision_nonfinite.pt")
    dtype = DTYPES[dname]
    a, b = data["box/a"].to(dtype), data["box/b"].to(dtype)
    # with eps=0 the element-wise IoU is the diagonal of torchvision's box_iou, NaN included
    iou = ops.bbox_iou(a, b, "iou", eps=0.0)
    assert_same(iou, data[f"box_iou_diagonal/{dname}"])
    nan_pair = a.isnan().any(1) | b.isnan().any(1)
    assert iou[nan_pair].isnan().all()
    # an infinite coordinate: 0 (a finite overlap over an infinite union) or NaN (inf / inf,
    # inf - inf); never a number in between
    inf_pair = ~nan_pair & ~(torch.isfinite(a).all(1) & torch.isfinite(b).all(1))
    assert ((iou[inf_pair] == 0) | iou[inf_pair].isnan()).all()
    assert iou[inf_pair].isnan().any() and (iou[inf_pair] == 0).any()
    # the default eps leaves the NaNs where they are
    assert torch.equal(ops.bbox_iou(a, b, "iou").isnan(), iou.isnan())
    # the finite pair: [0,0,2,2] and [1,1,3,3] meet in a unit square, union 4 + 4 - 1 = 7
    assert iou[0].item() == pytest.approx(1 / 7)


@pytest.mark.parametrize("dname", ["float32", "float64"])
def test_clip_and_remove_small_boxes_nonfinite(dname: str) -> None:
    data = load("torchvision_nonfinite.pt")
    boxes = data["boxes"].to(DTYPES[dname])
    clipped = ops.clip_boxes_to_image(boxes, (5, 7))
    assert_same(clipped, data[f"clip/{dname}"])
    assert torch.equal(clipped.isnan(), boxes.isnan())  # NaN stays NaN, inf is clamped
    kept = ops.remove_small_boxes(boxes, 1.0)
    assert_same(kept, data[f"small/{dname}"])
    assert not boxes[kept].isnan().any()  # every box with a NaN coordinate is dropped
    assert boxes.isnan().any(1).sum() > 0 and len(kept) > 0


@pytest.mark.parametrize("dname", ["float32", "float64"])
def test_focal_loss_infinite_logits(dname: str) -> None:
    data = load("torchvision_nonfinite.pt")
    dtype = DTYPES[dname]
    target = data["focal/targets"].to(dtype)
    for alpha, gamma in ((0.25, 2), (-1.0, 0)):
        for reduction in ("none", "mean", "sum"):
            x = data["focal/inputs"].to(dtype, copy=True).requires_grad_(True)
            loss = losses.sigmoid_focal_loss(x, target, alpha, gamma, reduction)
            loss.sum().backward()
            key = f"focal/{dname}/{alpha}/{gamma}/{reduction}"
            assert_same(loss.detach(), data[key])
            assert_same(x.grad, data[key + "/grad"])
            if reduction != "none":
                assert loss.isnan()  # one NaN element makes the mean and the sum NaN
    x = data["focal/inputs"].to(dtype, copy=True).requires_grad_(True)
    loss = losses.sigmoid_focal_loss(x, target)
    loss.sum().backward()
    # +-inf logits: sigmoid is exactly 0 or 1 and torchvision's formula meets inf - inf or
    # 0 * inf: NaN, except +inf against target 0 (confidently wrong), which costs inf; the
    # gradient is NaN (with alpha and gamma 2); finite logits stay finite
    infinite = torch.isinf(data["focal/inputs"])
    assert loss[infinite].isnan().sum() == 3 and loss[1].item() == float("inf")
    assert x.grad[infinite].isnan().all()
    finite = torch.isfinite(data["focal/inputs"])
    assert torch.isfinite(loss[finite]).all() and torch.isfinite(x.grad[finite]).all()
