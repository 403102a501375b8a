"""The training engine: run artefacts (results.csv, best.pt), patience, resume equality,
fine-tuning (transfer, freeze), typed checkpoint records, and their bad input."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from test_train_classify import CONFIG, small_model, states_equal, toy_data
from test_train_detect import tiny_model, tiny_shapes  # noqa: F401 (a fixture)
from tinyvision._errors import UserError
from tinyvision.data import ImageDataset
from tinyvision.data.digits import load_digits
from tinyvision.nn import FastNet, ToyNet
from tinyvision.nn.detector import DetectorConfig, TinyDetector
from tinyvision.train import TrainConfig, TrainingDiverged, load_checkpoint, train_classifier
from tinyvision.train.classify import ClassifierCheckpoint, predict_logits
from tinyvision.train.engine import (
    LoopConfig,
    TrainCheckpoint,
    freeze_blocks,
    load_weights,
    model_blocks,
    read_results_csv,
    results_csv_text,
    transfer_weights,
)

CLASSIFIER_COLUMNS = [
    "epoch",
    "train/loss",
    "val/loss",
    "metrics/accuracy_top1",
    "metrics/accuracy_top5",
    "lr/pg0",
    "lr/pg1",
]


def val_data() -> ImageDataset:
    return toy_data(48, seed=1)


def test_a_run_writes_results_csv_and_the_best_epoch(tmp_path: Path) -> None:
    config = TrainConfig(**{**CONFIG, "epochs": 5})
    result = train_classifier(small_model(), toy_data(), config, val=val_data(), out_dir=tmp_path)
    rows = read_results_csv(tmp_path / "results.csv")
    assert (tmp_path / "results.csv").read_text().splitlines()[0].split(",") == CLASSIFIER_COLUMNS
    assert [row["epoch"] for row in rows] == [1, 2, 3, 4, 5]
    assert [row["train/loss"] for row in rows] == result.epoch_losses
    top1 = [row["metrics/accuracy_top1"] for row in rows]
    assert all(0 <= a <= b <= 1 for a, b in zip(top1, [r["metrics/accuracy_top5"] for r in rows]))
    # best.pt is the first epoch with the highest top-1 accuracy, and holds its weights
    best_epoch = top1.index(max(top1)) + 1
    best = load_checkpoint(tmp_path / "best.pt", kind="classifier")
    assert best["epoch"] == result.best_epoch == best_epoch
    assert result.best_fitness == max(top1)
    assert result.best_model is not None and states_equal_dict(result.best_model, best["model"])
    # ... weights that score the row's accuracy again
    model = small_model()
    model.load_state_dict(best["model"])
    val = val_data()
    logits = predict_logits(model, val.float_images(), result.mean, result.std)
    assert float((logits.argmax(1) == val.labels).double().mean()) == max(top1)
    last = load_checkpoint(tmp_path / "last.pt")
    assert last["epoch"] == 5 and last["history"]["best_epoch"] == best_epoch


def states_equal_dict(model: torch.nn.Module, state: dict) -> bool:
    own = model.state_dict()
    return own.keys() == state.keys() and all(torch.equal(own[k], state[k]) for k in own)


def test_val_every_leaves_the_other_rows_without_metrics(tmp_path: Path) -> None:
    config = TrainConfig(**{**CONFIG, "epochs": 5, "val_every": 2})
    train_classifier(small_model(), toy_data(), config, val=val_data(), out_dir=tmp_path)
    rows = read_results_csv(tmp_path / "results.csv")
    validated = [int(r["epoch"]) for r in rows if not math.isnan(r["val/loss"])]
    assert validated == [2, 4, 5]  # and always the last epoch
    assert all(math.isfinite(r["train/loss"]) for r in rows)


def test_without_validation_there_is_no_best(tmp_path: Path) -> None:
    result = train_classifier(small_model(), toy_data(), TrainConfig(**CONFIG), out_dir=tmp_path)
    assert result.best_model is None and result.best_epoch == 0
    assert not (tmp_path / "best.pt").exists()
    rows = read_results_csv(tmp_path / "results.csv")
    assert len(rows) == 4 and all(math.isnan(r["metrics/accuracy_top1"]) for r in rows)


def test_patience_stops_when_the_fitness_does_not_improve(tmp_path: Path) -> None:
    # lr 0 and no batch norm: the weights never change, so neither does the accuracy
    torch.manual_seed(0)
    config = TrainConfig(**{**CONFIG, "epochs": 8, "lr": 0.0, "schedule": "constant"})
    config = TrainConfig(**{**config.__dict__, "patience": 2})
    events = []
    result = train_classifier(
        ToyNet(1, 2, 6, padding=2),
        toy_data(),
        config,
        val=val_data(),
        out_dir=tmp_path,
        callback=lambda e: events.append(e) if e.kind in ("epoch", "stop") else None,
    )
    assert result.best_epoch == 1 and len(result.epoch_losses) == 3
    assert result.stopped is not None
    assert (
        "has not improved for 2 epochs" in result.stopped and "best was epoch 1" in result.stopped
    )
    assert [e.kind for e in events] == ["epoch", "epoch", "epoch", "stop"]
    assert len(read_results_csv(tmp_path / "results.csv")) == 3
    record = load_checkpoint(tmp_path / "last.pt")
    assert record["epoch"] == 3  # saved where it stopped
    # resuming a run that stopped early trains no further
    again = train_classifier(
        ToyNet(1, 2, 6, padding=2),
        toy_data(),
        config,
        val=val_data(),
        out_dir=tmp_path,
        resume=record,
    )
    assert again.epoch_losses == [] and again.stopped == result.stopped
    assert len(read_results_csv(tmp_path / "results.csv")) == 3


def test_resume_writes_the_results_and_best_of_an_uninterrupted_run(tmp_path: Path) -> None:
    data, val = toy_data(), val_data()
    config = TrainConfig(**{**CONFIG, "epochs": 5})
    whole = train_classifier(small_model(), data, config, val=val, out_dir=tmp_path / "whole")

    def stop_after_three(event) -> None:
        if event.kind == "epoch" and event.epoch == 3:
            raise KeyboardInterrupt

    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        train_classifier(
            small_model(), data, config, val=val, out_dir=cut, callback=stop_after_three
        )
    record = load_checkpoint(cut / "last.pt")
    resumed = train_classifier(
        small_model(seed=5), data, config, val=val, out_dir=cut, resume=record
    )
    assert states_equal(resumed.model, whole.model)
    assert (cut / "results.csv").read_bytes() == (tmp_path / "whole" / "results.csv").read_bytes()
    assert resumed.rows == whole.rows and resumed.best_epoch == whole.best_epoch
    best_a = load_checkpoint(tmp_path / "whole" / "best.pt")
    best_b = load_checkpoint(cut / "best.pt")
    assert best_a["epoch"] == best_b["epoch"]
    assert all(torch.equal(best_a["model"][k], best_b["model"][k]) for k in best_a["model"])
    assert states_equal(resumed.best_model, whole.best_model)


def test_a_failed_fresh_run_leaves_no_best_pt_of_an_earlier_run(tmp_path: Path) -> None:
    config = TrainConfig(**{**CONFIG, "epochs": 2})
    train_classifier(small_model(), toy_data(), config, val=val_data(), out_dir=tmp_path)
    assert (tmp_path / "best.pt").is_file()
    model = small_model()

    def poison(event) -> None:  # diverges in epoch 2, after last.pt of epoch 1
        if event.kind == "epoch" and event.epoch == 1:
            with torch.no_grad():
                model.head.weight.fill_(float("nan"))

    slow_val = TrainConfig(**{**config.__dict__, "val_every": 2})
    with pytest.raises(TrainingDiverged):
        train_classifier(
            model, toy_data(), slow_val, val=val_data(), out_dir=tmp_path, callback=poison
        )
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1  # this run's
    assert not (tmp_path / "best.pt").exists()
    assert len(read_results_csv(tmp_path / "results.csv")) == 1  # this run's epoch 1 only


def digits_model(num_classes: int = 10) -> FastNet:
    torch.manual_seed(0)
    return FastNet(1, num_classes, widths=(8, 8), stem_width=8)


def test_fine_tuning_starts_above_a_scratch_run(tmp_path: Path) -> None:
    train, test = load_digits()
    short = {"batch_size": 64, "lr": 0.1, "label_smoothing": 0.0, "seed": 1}
    train_classifier(
        digits_model(), train, TrainConfig(epochs=3, **short), val=test, out_dir=tmp_path
    )
    weights = load_checkpoint(tmp_path / "best.pt")["model"]
    one = TrainConfig(epochs=1, **short)
    scratch = train_classifier(digits_model(), train, one, val=test)
    tuned_model = digits_model()
    moved = transfer_weights(tuned_model, weights)
    assert not moved.remade
    tuned = train_classifier(tuned_model, train, one, val=test)
    first = "metrics/accuracy_top1"
    assert tuned.rows[0][first] > scratch.rows[0][first] + 0.05, (tuned.rows, scratch.rows)


def test_transfer_re_makes_a_head_for_other_classes() -> None:
    source = digits_model(10).state_dict()
    model = digits_model(3)
    fresh_head = model.head.weight.detach().clone()
    moved = transfer_weights(model, source)
    assert {name.rsplit(".", 1)[0] for name in moved.remade} == {"head"}
    assert torch.equal(model.head.weight, fresh_head)
    assert torch.equal(model.state_dict()[moved.copied[0]], source[moved.copied[0]])
    line = moved.summary("a/best.pt")
    assert line.startswith(f"transferred {len(moved.copied)}/") and "re-made" in line
    assert "head" in line and "a/best.pt" in line


def test_transfer_keeps_the_detectors_own_anchors() -> None:
    torch.manual_seed(0)
    old = TinyDetector(DetectorConfig(4, width=4))
    new = TinyDetector(
        DetectorConfig(2, width=4, anchors=((5, 5, 9, 9, 14, 14), (20, 20, 30, 30, 40, 40)))
    )
    anchors = new.anchor_tensor().clone()
    moved = transfer_weights(new, old.state_dict(), exclude=("anchors", "strides"))
    assert torch.equal(new.anchor_tensor(), anchors)
    assert moved.kept == ("detect.anchors", "detect.strides")
    assert "kept this model's detect.anchors, detect.strides" in moved.summary("x")
    assert any(name.startswith("detect.m.") for name in moved.remade)  # the head: 2 classes
    assert any(name.startswith("stem.") for name in moved.copied)


def test_transfer_and_freeze_bad_input() -> None:
    model = digits_model()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        transfer_weights("model", {})
    with pytest.raises(TypeError, match="state must be a state dict"):
        transfer_weights(model, [1, 2])
    with pytest.raises(UserError, match="fit no layer"):
        transfer_weights(model, {"other.weight": torch.zeros(3)})
    blocks = model_blocks(model)
    with pytest.raises(ValueError, match="freeze must be"):
        freeze_blocks(model, len(blocks))
    with pytest.raises(ValueError, match="freeze must be"):
        freeze_blocks(model, -1)
    with pytest.raises(TypeError):
        freeze_blocks(model, 1.5)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        model_blocks(None)


def test_freeze_keeps_the_first_blocks_fixed() -> None:
    train, _ = load_digits()
    model = digits_model()
    first_name, first = model_blocks(model)[0]
    before = {k: v.clone() for k, v in first.state_dict().items() if v.is_floating_point()}
    head_before = model.head.weight.detach().clone()
    config = TrainConfig(epochs=1, batch_size=256, lr=0.1, freeze=1)
    train_classifier(model, train, config)
    after = first.state_dict()
    weights = [k for k in before if "running" not in k]
    assert weights and all(torch.equal(before[k], after[k]) for k in weights), first_name
    assert not torch.equal(model.head.weight, head_before)
    assert all(not p.requires_grad for p in first.parameters())


def test_engine_settings_and_records_bad_input() -> None:
    with pytest.raises(ValueError, match="val_every must be"):
        LoopConfig(epochs=2, lr=0.1, val_every=3)
    with pytest.raises(ValueError, match="patience must be"):
        LoopConfig(epochs=2, lr=0.1, patience=-1)
    with pytest.raises(ValueError, match="val_every must be"):
        TrainConfig(epochs=2, val_every=3)
    with pytest.raises(TypeError, match="patience must be"):
        TrainConfig(patience=1.5)
    with pytest.raises(UserError, match="not a checkpoint record"):
        TrainCheckpoint.from_payload([1])
    good = {"model": {}, "optimizer": {}, "epoch": 1, "step": 2, "config": {}}
    with pytest.raises(UserError, match="lacks 'step'"):
        TrainCheckpoint.from_payload({k: v for k, v in good.items() if k != "step"})
    with pytest.raises(UserError, match="'epoch' should be int, not bool"):
        TrainCheckpoint.from_payload({**good, "epoch": True})
    with pytest.raises(UserError, match="'history' should be a dict"):
        TrainCheckpoint.from_payload({**good, "history": {"rows": 3}})
    with pytest.raises(UserError, match="'ema' should be a dict"):
        TrainCheckpoint.from_payload({**good, "ema": [1]})
    record = TrainCheckpoint.from_payload({**good, "classes": ["a"], "format": "tinyvision"})
    assert record.meta == {"classes": ["a"]} and record.to_payload()["classes"] == ["a"]
    with pytest.raises(UserError, match="holds weights of another model"):
        load_weights(digits_model(), {"x": torch.zeros(1)})


def test_tensorboard_settings_bad_input() -> None:
    from tinyvision.train.detect import DetectTrainConfig

    with pytest.raises(TypeError, match=r"tensorboard must be a bool, got 1 \(int\)"):
        LoopConfig(epochs=2, lr=0.1, tensorboard=1)
    with pytest.raises(TypeError, match="tensorboard must be a bool"):
        TrainConfig(tensorboard="yes")
    with pytest.raises(TypeError, match="tensorboard must be a bool"):
        DetectTrainConfig(tensorboard=None)
    assert LoopConfig.of(TrainConfig(tensorboard=True)).tensorboard is True
    assert LoopConfig.of(DetectTrainConfig()).tensorboard is False


def tensorboard_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of the TensorBoard log in ``folder``, as TensorBoard shows them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {
        tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]
    }


def rows_as_scalars(rows: list[dict[str, float]]) -> dict[str, list[tuple[int, float]]]:
    """results.csv rows as TensorBoard keeps them: float32, empty cells left out."""
    names = [name for name in rows[0] if name != "epoch"]
    return {
        name: [
            (int(r["epoch"]), float(np.float32(r[name]))) for r in rows if not math.isnan(r[name])
        ]
        for name in names
    }


def test_tensorboard_logs_results_csv_and_a_resume_adds_to_it(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    config = TrainConfig(**{**CONFIG, "checkpoint_every": 2, "val_every": 2, "tensorboard": True})
    seen = []

    def stop_after_three(event) -> None:
        if event.kind == "epoch":
            seen.append(event.row)
            if event.epoch == 3:
                raise KeyboardInterrupt

    data, val = toy_data(), val_data()
    with pytest.raises(KeyboardInterrupt):
        train_classifier(
            small_model(), data, config, val=val, out_dir=tmp_path, callback=stop_after_three
        )
    record = load_checkpoint(tmp_path / "last.pt")
    assert record["epoch"] == 2  # epoch 3 was logged, not saved: the resume logs it again
    train_classifier(small_model(), data, config, val=val, out_dir=tmp_path, resume=record)
    rows = read_results_csv(tmp_path / "results.csv")
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    # the "epoch" events carry the rows (the killed call's epoch 3 as the resumed one's)
    text = (tmp_path / "results.csv").read_text()
    assert results_csv_text(seen).splitlines() == text.splitlines()[:4]
    # each epoch once (the killed call's epoch 3 hidden), val/loss every second epoch
    scalars = tensorboard_scalars(tmp_path / "tensorboard")
    assert scalars == rows_as_scalars(rows)
    assert [step for step, _ in scalars["val/loss"]] == [2, 4]
    assert len(list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))) == 2
    # a fresh run into the same folder shows only its own epochs
    train_classifier(
        small_model(),
        data,
        TrainConfig(**{**CONFIG, "epochs": 1, "tensorboard": True}),
        out_dir=tmp_path,
    )
    fresh = rows_as_scalars(read_results_csv(tmp_path / "results.csv"))
    assert tensorboard_scalars(tmp_path / "tensorboard") == {k: v for k, v in fresh.items() if v}
    assert len(list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))) == 1


def test_tensorboard_missing_stops_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard -> ImportError
    config = TrainConfig(**{**CONFIG, "epochs": 1, "tensorboard": True})
    with pytest.raises(UserError, match=r"pip install 'tinyvision\[tensorboard\]'") as info:
        train_classifier(small_model(), toy_data(), config, out_dir=tmp_path / "run")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "run").exists()
    train_classifier(small_model(), toy_data(), config)  # no out_dir: no log, no package needed


def test_classifier_record_round_trip(tmp_path: Path) -> None:
    train_classifier(small_model(), toy_data(), TrainConfig(**CONFIG), out_dir=tmp_path)
    payload = load_checkpoint(tmp_path / "last.pt")
    record = ClassifierCheckpoint.from_payload(payload)
    assert record.epoch == 4 and record.mean == payload["mean"]
    again = record.to_payload()
    assert (
        again["mean"] == payload["mean"] and again["history"]["rows"] == payload["history"]["rows"]
    )
    with pytest.raises(UserError, match="'std' should be positive"):
        ClassifierCheckpoint.from_payload({**payload, "std": [0.0]})


def test_results_csv_bad_input(tmp_path: Path) -> None:
    assert results_csv_text([]) == ""
    text = results_csv_text([{"epoch": 1, "a": 0.5, "b": math.nan}])
    assert text == "epoch,a,b\n1,0.5,\n"
    with pytest.raises(UserError, match="not a readable results.csv"):
        read_results_csv(tmp_path / "missing.csv")
    (tmp_path / "other.csv").write_text("x,y\n1,2\n")
    with pytest.raises(UserError, match="no 'epoch' column"):
        read_results_csv(tmp_path / "other.csv")
    (tmp_path / "bad.csv").write_text("epoch,y\n1,abc\n")
    with pytest.raises(UserError, match="not a readable results.csv"):
        read_results_csv(tmp_path / "bad.csv")


def test_val_set_is_checked() -> None:
    config = TrainConfig(**CONFIG)
    with pytest.raises(TypeError, match="val must be an ImageDataset"):
        train_classifier(small_model(), toy_data(), config, val=[1, 2])
    other = ImageDataset(
        torch.zeros(4, 1, 5, 5, dtype=torch.uint8), torch.zeros(4).long(), ("a", "b"), 255, "x"
    )
    with pytest.raises(ValueError, match="val must have the image shape"):
        train_classifier(small_model(), toy_data(), config, val=other)


DETECTOR_COLUMNS = [
    "epoch",
    "train/box_loss",
    "train/obj_loss",
    "train/cls_loss",
    "metrics/precision",
    "metrics/recall",
    "metrics/mAP_0.5",
    "metrics/mAP_0.5:0.95",
    "val/box_loss",
    "val/obj_loss",
    "val/cls_loss",
    "x/lr0",
    "x/lr1",
]


def test_detector_artefacts_and_resume_equality(tiny_shapes, tmp_path: Path) -> None:  # noqa: F811
    from tinyvision.data.loader import LoadedImages
    from tinyvision.train.detect import (
        DetectTrainConfig,
        detection_fitness,
        train_detector,
        validate_detector,
    )

    train, val = tiny_shapes
    keep = 12
    small_val = LoadedImages(
        _subset(val.dataset, keep), val.images[:keep], val.labels[:keep], val.scales[:keep], []
    )
    images, labels = train.images[:32], train.labels[:32]
    config = DetectTrainConfig(
        epochs=3, batch_size=16, img_size=64, lr=0.01, workers=1, close_mosaic=1, ema_tau=4
    )

    def run(out: Path, resume=None, callback=None):
        return train_detector(
            tiny_model(width=4),
            images,
            labels,
            config,
            val=small_val,
            out_dir=out,
            resume=resume,
            callback=callback,
        )

    whole = run(tmp_path / "whole")
    _assert_run_pictures(tmp_path / "whole", images, labels, config)
    text = (tmp_path / "whole" / "results.csv").read_text()
    assert text.splitlines()[0].split(",") == DETECTOR_COLUMNS
    rows = read_results_csv(tmp_path / "whole" / "results.csv")
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    fitness = [detection_fitness(r["metrics/mAP_0.5"], r["metrics/mAP_0.5:0.95"]) for r in rows]
    assert whole.best_epoch == fitness.index(max(fitness)) + 1
    best = load_checkpoint(tmp_path / "whole" / "best.pt", kind="detector")
    assert best["epoch"] == whole.best_epoch
    # best.pt's EMA weights score the best row's metrics again
    model = tiny_model(width=4)
    model.load_state_dict(best["ema"]["weights"])
    again, _ = validate_detector(model.eval(), small_val, config)
    for name in DETECTOR_COLUMNS[4:11]:
        assert again[name] == rows[whole.best_epoch - 1][name], name

    def stop_after_first(event) -> None:
        if event.kind == "epoch" and event.epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut", callback=stop_after_first)
    record = load_checkpoint(tmp_path / "cut" / "last.pt", kind="detector")
    for name in ("labels.png", "train_batch0.jpg"):  # drawn by the first call
        assert (tmp_path / "cut" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
        (tmp_path / "cut" / name).unlink()
    resumed = run(tmp_path / "cut", resume=record)
    assert not (tmp_path / "cut" / "labels.png").exists()  # a resumed run draws no more
    assert not (tmp_path / "cut" / "train_batch0.jpg").exists()
    assert (tmp_path / "cut" / "results.csv").read_text() == text
    for which in ("model", "raw_model", "best_model"):
        a, b = getattr(whole, which).state_dict(), getattr(resumed, which).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), which
    best_b = load_checkpoint(tmp_path / "cut" / "best.pt", kind="detector")
    assert best_b["epoch"] == best["epoch"]
    w_a, w_b = best["ema"]["weights"], best_b["ema"]["weights"]
    assert all(torch.equal(w_a[k], w_b[k]) for k in w_a)


def _assert_run_pictures(out: Path, images, labels, config) -> None:
    """labels.png of the training labels; train_batch0.jpg: the first batch as trained on."""
    import cv2

    from tinyvision.data.loader import DetectionLoader
    from tinyvision.report.drawing import write_batch_jpg

    assert (out / "labels.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    picture = (out / "train_batch0.jpg").read_bytes()
    assert picture[:3] == b"\xff\xd8\xff"
    assert cv2.imread(str(out / "train_batch0.jpg")).shape == (256, 256, 3)  # 16 images of 64
    loader = DetectionLoader(
        images, labels, config.img_size, config.batch_size, config.augment, seed=config.seed
    )
    first = loader.build(0, 0, use_mosaic=True)  # epoch 0, step 0, mosaic and all
    names = ["0", "1", "2", "3"]  # no names given: the class indices
    expected = write_batch_jpg(out.parent / "expected.jpg", first.images, first.targets, names)
    assert picture == expected.read_bytes()
    assert not list(out.glob(".*.tmp"))


def _subset(dataset, keep: int):
    from tinyvision.data.loader import subset_images

    return subset_images(dataset, list(range(keep)))


def test_detector_val_is_checked(tiny_shapes) -> None:  # noqa: F811
    from tinyvision.train.detect import DetectTrainConfig, train_detector, validate_detector

    train, val = tiny_shapes
    config = DetectTrainConfig(epochs=1, batch_size=16, img_size=64)
    with pytest.raises(TypeError, match="val must be LoadedImages"):
        train_detector(tiny_model(width=4), train.images, train.labels, config, val=val.images)
    with pytest.raises(TypeError, match="val must be LoadedImages"):
        validate_detector(tiny_model(width=4), val.dataset, config)
    with pytest.raises(TypeError, match="model must be a TinyDetector"):
        validate_detector(digits_model(), val, config)
