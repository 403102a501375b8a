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
