"""``tinyvision.metrics.MeanAveragePrecision`` against torchmetrics 1.9's (pycocotools
backend), run live on the same random batches: same keys, dtypes, shapes and values."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch

from _torchmetrics_reference import random_batches, reference_map_class
from tinyvision.metrics import MeanAveragePrecision


def assert_same_result(ours: Any, theirs: Any, path: str = "result") -> None:
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for key in theirs:
            assert_same_result(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, torch.Tensor), path
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, path
        assert torch.equal(ours, theirs), (path, ours, theirs)
    else:
        assert ours == theirs, path


def compare(batches: list, **kwargs: Any) -> dict[str, Any]:
    ours, theirs = MeanAveragePrecision(**kwargs), reference_map_class()(**kwargs)
    for preds, target in batches:
        ours.update(preds, target)
        theirs.update(preds, target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchmetrics: compute() before update()
        expected = theirs.compute()
    result = ours.compute()
    assert_same_result(result, expected)
    return result


BOX_CASES = {
    "defaults": {},
    "class-metrics": {"class_metrics": True},
    "extended": {"class_metrics": True, "extended_summary": True},
    "micro": {"average": "micro", "class_metrics": True},
    "xywh": {"box_format": "xywh"},
    "cxcywh": {"box_format": "cxcywh", "class_metrics": True},
    "thresholds": {
        "iou_thresholds": [0.3, 0.5, 0.75],
        "rec_thresholds": [0.0, 0.2, 0.5, 0.9, 1.0],
        "max_detection_thresholds": [3, 1, 50],  # sorted; no 100: map is -1
        "class_metrics": True,
    },
}


@pytest.mark.parametrize("case", list(BOX_CASES))
def test_bbox_equals_torchmetrics(case: str) -> None:
    result = compare(random_batches(3, 6, seed=1), **BOX_CASES[case])
    assert result["map_50"] > 0  # a meaningful data set, not all -1


def test_segm_and_both_types_equal_torchmetrics() -> None:
    batches = random_batches(2, 4, masks=True, seed=2)
    compare(batches, iou_type="segm", class_metrics=True)
    compare(batches, iou_type=("bbox", "segm"), class_metrics=True, extended_summary=True)


def test_target_area_and_crowd_are_used_as_torchmetrics() -> None:
    batches = random_batches(2, 5, seed=3)
    for _, target in batches:
        for t in target:
            # half of the areas given (> 0), the others 0: computed from the box
            t["area"] = torch.where(torch.rand(len(t["labels"])) < 0.5, 500.0, 0.0)
    compare(batches, class_metrics=True)


def test_empty_inputs_equal_torchmetrics() -> None:
    empty_pred = {
        "boxes": torch.zeros(0, 4),
        "scores": torch.zeros(0),
        "labels": torch.zeros(0).long(),
    }
    empty_target = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0).long()}
    some = random_batches(1, 3, seed=4)[0]
    compare([], class_metrics=True)  # never updated: -1 everywhere, no per-class keys
    compare([([empty_pred], [empty_target])], class_metrics=True)
    compare([([empty_pred] * 3, some[1])], class_metrics=True)  # no detections at all
    compare([(some[0], [empty_target] * 3)], class_metrics=True)  # no ground truth at all
    result = compare([([empty_pred], [some[1][0]])], class_metrics=True)
    assert result["classes"].dtype == torch.int32
    # empty tensors made without a dtype (float32) are accepted, as torchmetrics does
    untyped = {"boxes": torch.tensor([]), "scores": torch.tensor([]), "labels": torch.tensor([])}
    compare([([untyped], [{"boxes": torch.tensor([]), "labels": torch.tensor([])}])])


def test_reset_forgets_and_update_after_reset_starts_over() -> None:
    batches = random_batches(2, 4, seed=5)
    metric = MeanAveragePrecision()
    metric.update(*batches[0])
    metric.reset()
    metric.update(*batches[1])
    fresh = MeanAveragePrecision()
    fresh.update(*batches[1])
    assert_same_result(metric.compute(), fresh.compute())


def test_bad_arguments_and_inputs_raise_with_the_name() -> None:
    with pytest.raises(ValueError, match="box_format"):
        MeanAveragePrecision(box_format="yxyx")
    with pytest.raises(ValueError, match="iou_type"):
        MeanAveragePrecision(iou_type="keypoints")
    with pytest.raises(ValueError, match="max_detection_thresholds must hold 3"):
        MeanAveragePrecision(max_detection_thresholds=[1, 10])
    with pytest.raises(ValueError, match="average"):
        MeanAveragePrecision(average="weighted")
    metric = MeanAveragePrecision()
    pred = {"boxes": torch.zeros(1, 4), "scores": torch.ones(1), "labels": torch.zeros(1).long()}
    target = {"boxes": torch.zeros(1, 4), "labels": torch.zeros(1).long()}
    with pytest.raises(ValueError, match="same length"):
        metric.update([pred], [target, target])
    with pytest.raises(ValueError, match="contain the `scores` key"):
        metric.update([{k: v for k, v in pred.items() if k != "scores"}], [target])
    with pytest.raises(ValueError, match="expected value of type integer"):
        metric.update([{**pred, "labels": torch.zeros(1)}], [target])
    with pytest.raises(ValueError, match="expected value of type float"):
        metric.update([{**pred, "scores": torch.ones(1).long()}], [target])
    with pytest.raises(ValueError, match="sample 0 in predictions have a different length"):
        metric.update([{**pred, "scores": torch.ones(2)}], [target])
    with pytest.raises(ValueError, match="expected value of type integer"):
        metric.update([pred], [{**target, "labels": torch.zeros(1)}])
    assert metric.compute()["classes"].numel() == 0  # nothing kept by the failed updates


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_give_the_cpu_result() -> None:
    batches = random_batches(2, 4, masks=True, seed=6)
    on_gpu = [
        (
            [{k: v.cuda() for k, v in p.items()} for p in preds],
            [{k: v.cuda() for k, v in t.items()} for t in target],
        )
        for preds, target in batches
    ]
    cpu, gpu = (
        MeanAveragePrecision(iou_type=("bbox", "segm"), class_metrics=True) for _ in range(2)
    )
    for (preds, target), (gpu_preds, gpu_target) in zip(batches, on_gpu):
        cpu.update(preds, target)
        gpu.update(gpu_preds, gpu_target)
    assert_same_result(gpu.compute(), cpu.compute())
