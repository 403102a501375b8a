"""The classifier trainer: determinism, exact resume, snapshots, divergence, checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from _classify_helpers import one_thread  # noqa: F401 (autouse fixture)
from tinyvision._errors import UserError
from tinyvision.data import ImageDataset
from tinyvision.nn import FastNet, ToyNet
from tinyvision.train import (
    TrainConfig,
    TrainingDiverged,
    load_checkpoint,
    predict_logits,
    predict_proba,
    save_checkpoint,
    train_classifier,
)
from tinyvision.train.classify import model_from_checkpoint, steps_per_epoch


def toy_data(n: int = 96, seed: int = 0) -> ImageDataset:
    """Images whose class says which half (top or bottom) is brighter (kept by flips)."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 200, (n, 1, 6, 6), generator=g, dtype=torch.uint8)
    top, bottom = images[:, :, :3].float(), images[:, :, 3:].float()
    labels = top.mean((1, 2, 3)) > bottom.mean((1, 2, 3))
    return ImageDataset(images, labels.long(), ("bottom", "top"), 255, "toy")


def small_model(seed: int = 0) -> FastNet:
    torch.manual_seed(seed)
    return FastNet(1, 2, widths=(8, 8), stem_width=4)


CONFIG = {"epochs": 4, "batch_size": 16, "lr": 0.2, "translate": 1, "flip": True, "seed": 3}


def states_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_seeded_runs_are_identical_and_learn() -> None:
    data = toy_data()
    a = train_classifier(small_model(), data, TrainConfig(**CONFIG))
    b = train_classifier(small_model(), data, TrainConfig(**CONFIG))
    assert states_equal(a.model, b.model)
    assert a.epoch_losses == b.epoch_losses
    assert a.epoch_losses[-1] < a.epoch_losses[0]
    c = train_classifier(small_model(), data, TrainConfig(**{**CONFIG, "seed": 4}))
    assert not states_equal(a.model, c.model)


def test_resume_ends_with_the_weights_of_an_uninterrupted_run(tmp_path: Path) -> None:
    data = toy_data()
    config = TrainConfig(**CONFIG)
    whole = train_classifier(small_model(), data, config, out_dir=tmp_path / "whole")

    def stop_after_two(event) -> None:
        if event.kind == "epoch" and event.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_classifier(
            small_model(), data, config, out_dir=tmp_path / "cut", callback=stop_after_two
        )
    record = load_checkpoint(tmp_path / "cut" / "last.pt", kind="classifier")
    assert record["epoch"] == 2 and record["step"] == 2 * steps_per_epoch(96, 16, True)
    # A different initialisation: everything must come from the checkpoint.
    resumed = train_classifier(
        small_model(seed=99), data, config, out_dir=tmp_path / "cut", resume=record
    )
    assert states_equal(resumed.model, whole.model)
    assert len(resumed.epoch_losses) == 2
    assert resumed.epoch_losses == whole.epoch_losses[2:]


def test_resume_with_weights_of_another_model(tmp_path: Path) -> None:
    train_classifier(small_model(), toy_data(), TrainConfig(**CONFIG), out_dir=tmp_path)
    record = load_checkpoint(tmp_path / "last.pt")
    other = FastNet(1, 2, widths=(8, 16), stem_width=4)
    with pytest.raises(UserError, match="holds weights of another model"):
        train_classifier(other, toy_data(), TrainConfig(**CONFIG), resume=record)


def test_checkpoint_every(tmp_path: Path) -> None:
    saved = []
    train_classifier(
        small_model(),
        toy_data(),
        TrainConfig(**{**CONFIG, "epochs": 5, "checkpoint_every": 2}),
        out_dir=tmp_path,
        callback=lambda e: saved.append(e.epoch) if e.checkpoint else None,
    )
    assert saved == [2, 4, 5]  # and always the last epoch


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    model = small_model()

    def poison(event) -> None:
        if event.kind == "epoch" and event.epoch == 1:
            with torch.no_grad():
                model.head.weight.fill_(float("nan"))

    with pytest.raises(TrainingDiverged, match=r"loss became nan in epoch 2 .*last\.pt"):
        train_classifier(
            model, toy_data(), TrainConfig(**CONFIG), out_dir=tmp_path, callback=poison
        )
    record = load_checkpoint(tmp_path / "last.pt")
    assert record["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in record["model"].values() if v.is_floating_point())


def test_huge_learning_rate_diverges() -> None:
    torch.manual_seed(0)
    model = ToyNet(1, 2, 6, padding=2)
    with pytest.raises(TrainingDiverged, match="too high"):
        train_classifier(
            model, toy_data(), TrainConfig(**{**CONFIG, "lr": 1e30, "label_smoothing": 0})
        )


def test_restarts_save_a_snapshot_at_each_cycle_end(tmp_path: Path) -> None:
    config = TrainConfig(**{**CONFIG, "epochs": 6, "schedule": "restarts", "cycles": 3})
    lrs = {}
    result = train_classifier(
        small_model(),
        toy_data(),
        config,
        out_dir=tmp_path,
        callback=lambda e: lrs.setdefault(e.step, e.lr) if e.kind == "step" else None,
    )
    assert [Path(p).name for p in result.snapshots] == [f"snapshot_{k}.pt" for k in (1, 2, 3)]
    per_epoch = steps_per_epoch(96, 16, True)  # 6 steps
    for k, path in enumerate(result.snapshots, start=1):
        record = load_checkpoint(path)
        assert record["epoch"] == 2 * k and record["step"] == 2 * k * per_epoch
        # The step that ended the cycle ran at the cycle's lowest rate.
        assert lrs[record["step"]] == min(
            lrs[s] for s in range(record["step"] - 2 * per_epoch + 1, record["step"] + 1)
        )
    last = load_checkpoint(tmp_path / "last.pt")
    assert all(
        torch.equal(last["model"][k], v)
        for k, v in load_checkpoint(result.snapshots[-1])["model"].items()
    )


def test_predictions() -> None:
    model = small_model().eval()
    x = torch.rand(5, 1, 6, 6)
    mean, std = [0.5], [0.25]
    logits = predict_logits(model, x, mean, std, batch_size=2)
    with torch.no_grad():
        direct = model((x - 0.5) / 0.25)
        flipped = model((x.flip(-1) - 0.5) / 0.25)
    assert torch.allclose(logits, direct, atol=1e-6)
    tta = predict_logits(model, x, mean, std, tta_flip=True)
    assert torch.allclose(tta, (direct + flipped) / 2, atol=1e-6)
    probs = predict_proba(model, x, mean, std)
    assert torch.allclose(probs.sum(1), torch.ones(5))
    other = small_model(seed=1).eval()
    both = predict_proba([model, other], x, [mean, [0.4]], [std, [0.3]])
    assert torch.allclose(both, (probs + predict_proba(other, x, [0.4], [0.3])) / 2)
    assert predict_logits(model, x[:0], mean, std).shape == (0, 2)
    assert model.training is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"schedule": "step"}, "schedule must be one of"),
        ({"momentum": 1.0}, "momentum must be < 1"),
        ({"schedule": "restarts", "epochs": 5, "cycles": 2}, "multiple of cycles"),
        ({"nesterov": True, "momentum": 0.0}, "nesterov needs momentum"),
        ({"normalization": "imagenet"}, "normalization must be one of"),
        ({"lr": float("nan")}, "lr must not be NaN"),
    ],
)
def test_config_validation(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


def test_config_from_dict() -> None:
    config = TrainConfig(epochs=3)
    from dataclasses import asdict

    assert TrainConfig.from_dict(asdict(config)) == config
    with pytest.raises(ValueError, match="unknown training settings: colour"):
        TrainConfig.from_dict({"colour": 1})


def test_empty_training_set() -> None:
    empty = ImageDataset(
        torch.zeros(0, 1, 6, 6, dtype=torch.uint8), torch.zeros(0, dtype=torch.long), ("a", "b")
    )
    with pytest.raises(ValueError, match="training set is empty"):
        train_classifier(small_model(), empty, TrainConfig(**CONFIG))


def test_steps_per_epoch() -> None:
    assert steps_per_epoch(100, 32, True) == 3  # 96 images, the last 4 skipped
    assert steps_per_epoch(100, 32, False) == 4
    assert steps_per_epoch(10, 32, True) == 1  # fewer images than a batch: one small batch
    assert steps_per_epoch(0, 32, True) == 0


def test_checkpoint_round_trip_and_errors(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "a.pt", "classifier", {"x": torch.arange(3), "n": 1})
    record = load_checkpoint(path, kind="classifier")
    assert torch.equal(record["x"], torch.arange(3)) and record["format"] == "tinyvision"
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]  # no temporary file left
    with pytest.raises(UserError, match="is a classifier checkpoint, not a detector checkpoint"):
        load_checkpoint(path, kind="detector")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(UserError, match=r"junk.pt is not a tinyvision checkpoint \(not a PyTorch"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"model": {}}, tmp_path / "plain.pt")
    with pytest.raises(UserError, match="plain.pt is not a tinyvision checkpoint"):
        load_checkpoint(tmp_path / "plain.pt")
    with pytest.raises(UserError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_model_from_checkpoint(tmp_path: Path) -> None:
    model = small_model()
    record = {
        "model_name": "fast",
        "model_kwargs": {"in_channels": 1, "num_classes": 2, "widths": (8, 8), "stem_width": 4},
        "model": model.state_dict(),
    }
    rebuilt = model_from_checkpoint(record)
    assert states_equal(rebuilt, model) and not rebuilt.training
    wrong = {
        **record,
        "model_name": "toy",
        "model_kwargs": {"in_channels": 1, "num_classes": 2, "image_size": 6},
    }
    with pytest.raises(UserError, match="weights of another model than 'toy'"):
        model_from_checkpoint(wrong)
    with pytest.raises(UserError, match="cannot rebuild model 'fast'"):
        model_from_checkpoint({**record, "model_kwargs": {"colour": 1}})
    with pytest.raises(UserError, match="does not describe a classifier"):
        model_from_checkpoint({"model": {}})


def test_atomic_checkpoint_survives_a_failed_write(tmp_path: Path, monkeypatch) -> None:
    path = save_checkpoint(tmp_path / "last.pt", "classifier", {"v": 1})
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("tinyvision.train.checkpoint.torch.save", broken)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, "classifier", {"v": 2})
    assert path.read_bytes() == before
    assert math.isfinite(1.0)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


RESTARTS = {**CONFIG, "epochs": 2, "schedule": "restarts", "cycles": 2}


def test_diverging_lr_writes_no_nan_snapshot(tmp_path: Path) -> None:
    # A good run leaves snapshot_1/2 and last.pt; a run into the same folder whose learning
    # rate diverges in its first cycle must stop before snapshot_1.pt (written at the cycle's
    # last step, before the epoch-end check) and leave every earlier file as it was.
    train_classifier(small_model(), toy_data(), TrainConfig(**RESTARTS), out_dir=tmp_path)
    before = _files(tmp_path)
    assert set(before) == {"snapshot_1.pt", "snapshot_2.pt", "last.pt", "results.csv"}
    torch.manual_seed(0)
    diverging = TrainConfig(**{**RESTARTS, "lr": 1e30, "label_smoothing": 0})
    with pytest.raises(
        TrainingDiverged,
        match=r"loss became (nan|inf) in epoch 1 .*snapshot_1\.pt was not written, "
        "no checkpoint of this run was saved",
    ):
        train_classifier(ToyNet(1, 2, 6, padding=2), toy_data(), diverging, out_dir=tmp_path)
    assert _files(tmp_path) == before


def test_non_finite_weights_with_a_finite_loss_are_not_saved(tmp_path: Path) -> None:
    # A NaN in a batch-norm running mean does not touch the training loss (train mode uses
    # the batch statistics), but it must not be written: the weights are checked as well.
    model = small_model()
    per_epoch = steps_per_epoch(96, 16, True)
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))

    def poison(event) -> None:
        if event.kind == "step" and event.step == 2 * per_epoch - 1:  # before the last step
            bn.running_mean.fill_(float("nan"))

    with pytest.raises(
        TrainingDiverged,
        match=r"the weights became nan or inf in epoch 2 .*snapshot_2\.pt was not written, "
        r"the last good checkpoint is .*last\.pt",
    ):
        train_classifier(
            model, toy_data(), TrainConfig(**RESTARTS), out_dir=tmp_path, callback=poison
        )
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1
    assert not (tmp_path / "snapshot_2.pt").exists()


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"div_factor": 0}, ValueError, "div_factor must be > 0"),
        ({"div_factor": float("inf")}, ValueError, "div_factor must be finite"),
        ({"final_div_factor": -1.0}, ValueError, "final_div_factor must be > 0"),
        ({"lr": float("inf")}, ValueError, "lr must be finite"),
        ({"flip": "no"}, TypeError, "flip must be a bool, got 'no'"),
        ({"tta_flip": 1}, TypeError, "tta_flip must be a bool"),
        ({"nesterov": None}, TypeError, "nesterov must be a bool"),
        ({"drop_last": "yes"}, TypeError, "drop_last must be a bool"),
        ({"amp": 0}, TypeError, "amp must be a bool"),
        ({"channels_last": "false"}, TypeError, "channels_last must be a bool"),
    ],
)
def test_config_refuses_bad_types_and_ratios(changes: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        TrainConfig(**changes)


def test_train_classifier_checks_its_arguments() -> None:
    data, config = toy_data(), TrainConfig(**CONFIG)
    with pytest.raises(TypeError, match="train must be an ImageDataset, got a Tensor"):
        train_classifier(small_model(), data.images, config)
    with pytest.raises(TypeError, match=r"config must be a TrainConfig.*TrainConfig\.from_dict"):
        train_classifier(small_model(), data, {"epochs": 1})
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        train_classifier("fast", data, config)
    # a model with 3 outputs for the 2 classes: one clear line before the first step
    torch.manual_seed(0)
    three = FastNet(1, 3, widths=(8,), stem_width=4)
    before = {k: v.detach().clone() for k, v in three.named_parameters()}
    with pytest.raises(ValueError, match=r"logits of shape \[B, 2\] for the 2 classes.*\(16, 3\)"):
        train_classifier(three, data, config)
    assert all(torch.equal(before[k], v) for k, v in three.named_parameters())  # no step
    five = ImageDataset(data.images, data.labels * 2 + 1, tuple("abcde"), 255)  # labels 1, 3
    with pytest.raises(ValueError, match=r"logits of shape \[B, 5\]"):
        train_classifier(small_model(), five, config)


def test_fastnet_refuses_a_bad_logit_scale() -> None:
    for value, error in ((float("nan"), ValueError), (0.0, ValueError), (-1.0, ValueError),
                         (float("inf"), ValueError), ("a", TypeError)):  # fmt: skip
        with pytest.raises(error, match="logit_scale must"):
            FastNet(logit_scale=value)
    assert FastNet(logit_scale=2).logit_scale == 2.0


def test_predict_checks_models_and_statistics() -> None:
    a, b = small_model(0), small_model(1)
    x = torch.rand(4, 1, 6, 6)
    with pytest.raises(ValueError, match="models and mean must have the same length, got 2 and 1"):
        predict_proba([a, b], x, [[0.5]], [[0.5], [0.5]])
    with pytest.raises(ValueError, match="models and std must have the same length, got 2 and 3"):
        predict_proba([a, b], x, [[0.5], [0.5]], [[0.5], [0.5], [0.5]])
    with pytest.raises(TypeError, match=r"mean\[0\] must be the channel means of models\[0\]"):
        predict_proba([a, b], x, [0.5, 0.5], [[0.5], [0.5]])
    with pytest.raises(TypeError, match="models must be a module or a sequence"):
        predict_proba(None, x, [0.5], [0.5])
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        predict_logits(a, x, [0.5], [0.5], batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        predict_proba(a, x, [0.5], [0.5], batch_size=2.0)
    with pytest.raises(TypeError, match="images must be a torch.Tensor"):
        predict_logits(a, x.numpy(), [0.5], [0.5])
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        predict_logits([a], x, [0.5], [0.5])
    # the ensemble is the mean of its members' probabilities: rows sum to 1
    probs = predict_proba([a, b], x, [[0.5], [0.4]], torch.tensor([[0.5], [0.3]]), batch_size=3)
    single = [predict_proba(m, x, [mu], [s]) for m, mu, s in ((a, 0.5, 0.5), (b, 0.4, 0.3))]
    assert torch.allclose(probs, (single[0] + single[1]) / 2, atol=1e-6, rtol=0)
    assert torch.allclose(probs.sum(1), torch.ones(4), atol=1e-6, rtol=0)


def test_resume_record_is_checked(tmp_path: Path) -> None:
    data, config = toy_data(), TrainConfig(**CONFIG)
    train_classifier(small_model(), data, config, out_dir=tmp_path)
    record = load_checkpoint(tmp_path / "last.pt")
    for key in ("optimizer", "epoch", "model", "mean", "config"):
        broken = {k: v for k, v in record.items() if k != key}
        with pytest.raises(UserError, match=f"the resume checkpoint lacks '{key}'"):
            train_classifier(small_model(), data, config, resume=broken)
    bad = [
        ({"epoch": "2"}, r"'epoch' should be int, not str"),
        ({"epoch": True}, r"'epoch' should be int, not bool"),
        ({"mean": 0.5}, r"'mean' should be list or tuple, not float"),
        ({"mean": [float("nan")]}, r"'mean' should hold 1 finite numbers"),
        ({"std": [0.0]}, r"'std' should be positive"),
        ({"config": {**record["config"], "lr": -1}}, r"training settings are invalid \(lr must"),
        ({"epoch": 99}, r"'epoch' should be in \[0, 4\], not 99"),
        ({"optimizer": {"state": {}}}, "optimizer state does not fit"),
    ]
    for changes, message in bad:
        with pytest.raises(UserError, match=message):
            train_classifier(small_model(), data, config, resume={**record, **changes})
