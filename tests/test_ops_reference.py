"""tinyvision.ops and tinyvision.losses against torchvision's results (fixture files).

The fixtures come from ``scripts/make_reference_fixtures.py`` run with torch 2.14.1 and
torchvision 0.29.1; each case holds the inputs and torchvision's outputs and gradients.

What "bit for bit" means here. Comparisons are exact (NaN equal to NaN) on every machine for
everything built from +, -, *, /, comparisons, min/max and sorting: the IoU family (IoU,
GIoU, DIoU), NMS indices, conversions, areas, clipping and the GIoU/DIoU losses; IEEE
arithmetic gives the same bits on every CPU. Results that go through transcendental
functions (focal loss: exp, log1p, pow; CIoU: atan) depend on the kernel ATen picks for the
CPU (``torch.backends.cpu.get_cpu_capability()``: DEFAULT, AVX2, AVX512 on x86-64, NEON or
SVE paths on aarch64): they are compared exactly when this CPU has the capability and
architecture recorded in the fixtures' ``meta``, and within ``TRANSCENDENTAL_ULPS`` units in
the last place otherwise (:func:`assert_transcendental`).
"""

from __future__ import annotations

import platform
from functools import cache
from pathlib import Path

import pytest
import torch

from tinyvision import losses, ops
from tinyvision.ops._kernels import GRID_MIN_BOXES
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


# Units in the last place that a result through exp/log1p/pow/atan may differ from the
# fixture by on a CPU capability other than the fixtures'. The kernels differ by an ulp or two
# in exp, and torchvision's focal loss amplifies that: 1 - p_t cancels (p_t = 1 - p with hard
# targets), so an ulp of p_t is many ulps of the loss. Largest differences measured between
# ATEN_CPU_CAPABILITY=default, avx2 and avx512 on x86-64 (fixtures made under each, tinyvision
# run under each, two generations of inputs): float32 7, float64 32 (focal-loss gradients;
# CIoU: 0). The bounds are 8 times that, for aarch64's NEON/SVE kernels; a wrong formula is
# off by far more. Check them with ATEN_CPU_CAPABILITY=default/avx2/avx512 pytest this file.
TRANSCENDENTAL_ULPS = {torch.float32: 64, torch.float64: 256}
_ORDERED_BITS = {
    torch.float64: torch.int64,
    torch.float32: torch.int32,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
}


def ulp_distance(actual: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
    """Elementwise units in the last place between two float tensors of one dtype (int64).

    0 for equal values (-0.0 and 0.0 too), for NaN against NaN and inf against the same inf;
    NaN against anything else counts as 2**62. Adjacent floats are 1 apart, also across 0.
    """

    def ordered(x: torch.Tensor) -> torch.Tensor:
        """The float's bits as an integer that grows with the value (sign and magnitude)."""
        bits = x.contiguous().view(_ORDERED_BITS[x.dtype]).to(torch.int64)
        magnitude = bits & ((1 << (torch.finfo(x.dtype).bits - 1)) - 1)
        return torch.where(bits < 0, -magnitude, magnitude)

    a, b = ordered(actual), ordered(expected)
    same_sign = (a >= 0) == (b >= 0)  # then a - b cannot overflow int64
    far = 1 << 62
    across = a.abs().clamp(max=far // 2) + b.abs().clamp(max=far // 2)  # nor can this sum
    distance = torch.where(same_sign, (a - b).abs(), across)
    distance = torch.where(actual.isnan() & expected.isnan(), 0, distance)
    return torch.where(actual.isnan() ^ expected.isnan(), far, distance)


def assert_close_ulps(actual: torch.Tensor, expected: torch.Tensor, ulps: int) -> None:
    """Same dtype and shape, and every element within ``ulps`` units in the last place."""
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    distance = ulp_distance(actual, expected)
    worst = int(distance.max()) if distance.numel() else 0
    assert worst <= ulps, f"{int((distance > ulps).sum())} elements beyond {ulps} ulps: {worst}"


def same_cpu_as(meta: dict) -> bool:
    """Does this process run ATen's kernels for the CPU the fixtures were made on?"""
    capability = torch.backends.cpu.get_cpu_capability()
    return meta["cpu_capability"] == capability and meta["machine"] == platform.machine()


def assert_transcendental(actual: torch.Tensor, expected: torch.Tensor, meta: dict) -> None:
    """A result through exp/log1p/pow/atan: bit for bit on the fixtures' CPU capability,
    within ``TRANSCENDENTAL_ULPS`` elsewhere (integer results always bit for bit)."""
    if same_cpu_as(meta) or not expected.is_floating_point():
        assert_same(actual, expected)
    else:
        assert_close_ulps(actual, expected, TRANSCENDENTAL_ULPS[expected.dtype])


# the names of the results that go through atan (CIoU's aspect term)
THROUGH_ATAN = {"complete_box_iou", "ciou"}


def assert_matches(name: str, actual: torch.Tensor, expected: torch.Tensor, meta: dict) -> None:
    """``assert_transcendental`` for CIoU results, ``assert_same`` for the rest of the family."""
    if name in THROUGH_ATAN:
        assert_transcendental(actual, expected, meta)
    else:
        assert_same(actual, expected)


def cast(boxes64: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The fixture script's cast: integers are rounded first."""
    if dtype.is_floating_point:
        return boxes64.to(dtype)
    return torch.round(boxes64).to(dtype)


# --------------------------------------------------------------------------- box ops


FIXTURE_FILES = (
    "torchvision_boxes.pt",
    "torchvision_nms.pt",
    "torchvision_losses.pt",
    "torchvision_nonfinite.pt",
)


def test_fixture_metadata() -> None:
    for name in FIXTURE_FILES:
        meta = load(name)["meta"]
        assert meta["torchvision"].startswith("0.29.1")
        assert meta["torch"].startswith("2.14.1")
        # the CPU the outputs were computed for: exact comparisons there, ulps elsewhere
        assert isinstance(meta["cpu_capability"], str) and meta["cpu_capability"]
        assert isinstance(meta["machine"], str) and meta["machine"]


def test_ulp_distance() -> None:
    one = torch.tensor(1.0, dtype=torch.float64)
    up = torch.nextafter(one, torch.tensor(2.0, dtype=torch.float64))
    tiny = torch.tensor(5e-324, dtype=torch.float64)  # the smallest subnormal
    nan, inf = float("nan"), float("inf")
    actual = torch.stack([one, up, -tiny, torch.tensor(-0.0, dtype=torch.float64), one])
    expected = torch.stack([one, one, tiny, torch.tensor(0.0, dtype=torch.float64), one + 1e-15])
    assert ulp_distance(actual, expected).tolist() == [0, 1, 2, 0, 5]
    x = torch.tensor([nan, inf, -inf, nan, 1.0], dtype=torch.float32)
    y = torch.tensor([nan, inf, -inf, 1.0, float(torch.finfo(torch.float32).max)])
    assert ulp_distance(x, y).tolist()[:3] == [0, 0, 0]
    assert ulp_distance(x, y)[3] == 1 << 62 and ulp_distance(x, y)[4] == 2**30 - 1
    assert_close_ulps(actual, expected, 5)
    with pytest.raises(AssertionError, match="1 elements beyond 4 ulps: 5"):
        assert_close_ulps(actual, expected, 4)
    huge = torch.tensor([-1.7e308, 1.7e308], dtype=torch.float64)  # no int64 overflow
    assert (ulp_distance(huge, huge.flip(0)) > 1 << 61).all()


@pytest.mark.parametrize("fname", sorted(PAIRWISE))
@pytest.mark.parametrize("dname", sorted(DTYPES))
def test_pairwise_matches_torchvision(fname: str, dname: str) -> None:
    data = load("torchvision_boxes.pt")
    dtype = DTYPES[dname]
    a, b = cast(data["a"], dtype), cast(data["b"], dtype)
    expected = data["pairwise"][f"{fname}/{dname}"]
    assert_matches(fname, PAIRWISE[fname](a, b), expected, data["meta"])


@pytest.mark.parametrize("fname", sorted(PAIRWISE))
@pytest.mark.parametrize("dname", ["float32", "float64"])
def test_pairwise_compiled_and_torch_paths_match_torchvision(fname: str, dname: str) -> None:
    data = load("torchvision_boxes.pt")
    a, b = data["big_a"].to(DTYPES[dname]), data["big_b"].to(DTYPES[dname])
    expected = data["pairwise"][f"{fname}/big/{dname}"]
    assert _use_compiled(a, b)  # 90 x 80 pairs, no gradient: the compiled loop
    compiled = PAIRWISE[fname](a, b)
    assert_matches(fname, compiled, expected, data["meta"])
    grad_a = a.clone().requires_grad_(True)  # a gradient is wanted: the torch ops
    assert not _use_compiled(grad_a, b)
    assert_matches(fname, PAIRWISE[fname](grad_a, b).detach(), expected, data["meta"])
    # on any CPU the two paths agree to the last bit (the atan comes from torch in both)
    assert_same(compiled, PAIRWISE[fname](grad_a, b).detach())


@pytest.mark.parametrize("fname", ["distance_box_iou", "complete_box_iou"])
def test_pairwise_eps(fname: str) -> None:
    data = load("torchvision_boxes.pt")
    a, b = data["a"].float(), data["b"].float()
    expected = data["pairwise"][f"{fname}/eps1e-3/float32"]
    assert_matches(fname, PAIRWISE[fname](a, b, eps=1e-3), expected, data["meta"])


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_box_iou_and_area_formats(fmt: str) -> None:
    data = load("torchvision_boxes.pt")
    a, b = data[f"fmt/{fmt}/a"], data[f"fmt/{fmt}/b"]
    assert_same(ops.box_iou(a, b, fmt=fmt), data[f"fmt/{fmt}/box_iou"])
    assert_same(ops.box_area(a, fmt=fmt), data[f"fmt/{fmt}/box_area"])


@pytest.mark.parametrize("fname", sorted(PAIRWISE))
def test_pairwise_leading_batch_dimensions(fname: str) -> None:
    data = load("torchvision_boxes.pt")
    actual = PAIRWISE[fname](data["batched/a"], data["batched/b"])
    assert_matches(fname, actual, data[f"batched/{fname}"], data["meta"])


@pytest.mark.parametrize("fname", sorted(PAIRWISE))
@pytest.mark.parametrize("dname", ["float32", "float64"])
def test_pairwise_gradients(fname: str, dname: str) -> None:
    data = load("torchvision_boxes.pt")
    dtype = DTYPES[dname]
    a = data["a"][:26].to(dtype, copy=True).requires_grad_(True)
    b = data["b"][:21].to(dtype, copy=True).requires_grad_(True)
    (PAIRWISE[fname](a, b) * data["grad/weights"].to(dtype)).sum().backward()
    assert_matches(fname, a.grad, data[f"grad/{fname}/{dname}/a"], data["meta"])
    assert_matches(fname, b.grad, data[f"grad/{fname}/{dname}/b"], data["meta"])


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


def test_grid_path_cases_with_nan_and_inf_are_in_the_fixtures() -> None:
    # tinyvision's CPU kernel prunes with a grid at >= GRID_MIN_BOXES boxes and a threshold
    # >= 0 (test_nms_matches_torchvision replays these cases through it)
    grid = [
        c
        for c in load("torchvision_nms.pt")["nms"]
        if len(c["boxes"]) >= GRID_MIN_BOXES and c["iou_threshold"] >= 0
    ]
    nonfinite = [c for c in grid if c["name"].startswith("nonfinite_grid/")]
    assert {len(c["boxes"]) for c in nonfinite} >= {GRID_MIN_BOXES, 1000}
    assert {c["boxes"].dtype for c in nonfinite} == {torch.float32, torch.float64}
    for case in nonfinite:
        boxes, scores = case["boxes"], case["scores"]
        for value in (float("nan"), float("inf"), float("-inf")):
            assert (boxes.isnan() if value != value else boxes == value).any()
            assert (scores.isnan() if value != value else scores == value).any()
        # some boxes are suppressed, some finite boxes are kept
        assert 0 < len(case["keep"]) < len(boxes)
        assert torch.isfinite(boxes[case["keep"]]).all(1).any()
    # finite boxes whose widths or spread overflow, and subnormal ones, float32 and float64
    extreme = [c for c in grid if c["name"].startswith("extreme_grid/")]
    assert {c["boxes"].dtype for c in extreme} == {torch.float32, torch.float64}
    for case in extreme:
        boxes = case["boxes"].double()
        assert torch.isfinite(boxes).all() and 0 < len(case["keep"]) < len(boxes)
        assert torch.isinf(case["boxes"][:, 2] - case["boxes"][:, 0]).any()
        tiny = boxes.abs().amax(1) < torch.finfo(case["boxes"].dtype).tiny
        assert tiny.any()


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
                        assert_transcendental(loss.detach(), data[key], data["meta"])
                        assert_transcendental(x.grad, data[key + "/grad"], data["meta"])
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
    meta = data["meta"]
    # torchvision's CIoU ignores eps in its DIoU part, so the script stores CIoU at 1e-7 only
    eps_values = (1e-7,) if fname == "ciou" else (1e-7, 1e-3)
    checked = 0
    for dname in ("float32", "float64"):
        dtype = DTYPES[dname]
        for reduction in ("none", "mean", "sum"):
            for eps in eps_values:
                key = f"{fname}/{dname}/{reduction}/{eps}"
                x = data["box/a"].to(dtype, copy=True).requires_grad_(True)
                y = data["box/b"].to(dtype, copy=True).requires_grad_(True)
                loss = fn(x, y, reduction=reduction, eps=eps)
                loss.sum().backward()
                assert_matches(fname, loss.detach(), data[key], meta)  # KeyError if missing
                assert_matches(fname, x.grad, data[key + "/grad_a"], meta)
                assert_matches(fname, y.grad, data[key + "/grad_b"], meta)
                checked += 1
    assert checked == 2 * 3 * len(eps_values)
    # and the fixtures hold no case that this loop skipped
    stored = {k for k in data if k.startswith(f"{fname}/float") and k.count("/") == 3}
    assert len(stored) == checked
    for reduction in ("none", "mean", "sum"):
        assert_same(
            fn(torch.zeros(0, 4), torch.zeros(0, 4), reduction=reduction),
            data[f"{fname}/empty/{reduction}"],
        )
    a, b = data["box/a"], data["box/b"]
    assert_matches(fname, fn(a.half(), b.half()), data[f"{fname}/float16"], meta)
    integer = fn(cast(a, torch.int64), cast(b, torch.int64))
    assert_matches(fname, integer, data[f"{fname}/int64"], meta)


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
    assert_matches(fname, loss.detach(), data[key], data["meta"])
    assert_matches(fname, x.grad, data[key + "/grad_a"], data["meta"])
    assert_matches(fname, y.grad, data[key + "/grad_b"], data["meta"])
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
    # 1 - bbox_iou is torchvision's loss to the last bit, NaN and inf included (CIoU: on
    # the fixtures' CPU capability)
    assert_matches(kind, 1 - iou.detach(), data[key], data["meta"])
    assert_matches(kind, x.grad, data[key + "/grad_a"], data["meta"])
    assert_matches(kind, y.grad, data[key + "/grad_b"], data["meta"])
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
            assert_transcendental(loss.detach(), data[key], data["meta"])
            assert_transcendental(x.grad, data[key + "/grad"], data["meta"])
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
