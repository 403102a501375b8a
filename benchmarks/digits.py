"""Digits (scikit-learn's 8x8, fixed stratified 80/20 split): accuracy and training time.

Trains the fast recipe with seeds 0, 1, 2, ToyNet with our trainer, and ToyNet with the
notes' settings, and fits scikit-learn's RBF SVC on the same split as a reference. Prints
test accuracy, training wall time and the process CPU time of each. Run:
``python benchmarks/digits.py --threads 2`` (and ``--threads 1``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tinyvision.data import load_digits
from tinyvision.metrics import accuracy_score
from tinyvision.nn import build_classifier
from tinyvision.train import get_recipe, predict_proba, train_classifier


def run(model: str, variant: str, seed: int, data) -> tuple[float, float, float]:
    recipe = get_recipe(model, "digits", variant)
    config = dataclasses.replace(recipe.config, seed=seed)
    train, test = (d.upscale(recipe.upscale) for d in data)
    kwargs = {"in_channels": 1, "num_classes": 10, **recipe.model_kwargs}
    if model == "toy":
        kwargs["image_size"] = train.image_shape[1]
    torch.manual_seed(seed)
    net = build_classifier(model, **kwargs)
    cpu = time.process_time()
    result = train_classifier(net, train, config)
    cpu = time.process_time() - cpu
    probs = predict_proba(
        result.model, test.float_images(), result.mean, result.std, tta_flip=config.tta_flip
    )
    accuracy = float(accuracy_score(test.labels.numpy(), probs.argmax(1).numpy()))
    return accuracy, result.train_seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_digits()
    print(
        f"digits: {len(data[0])} train / {len(data[1])} test; torch {torch.__version__}, "
        f"{args.threads} thread(s), {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    run("fast", "tuned", 0, data)  # warm-up (lazy imports, kernels), not reported
    rows = []
    for seed in (0, 1, 2):
        rows.append((f"fast recipe, seed {seed}", *run("fast", "tuned", seed, data)))
    rows.append(("ToyNet, our trainer", *run("toy", "tuned", 0, data)))
    rows.append(("ToyNet, the notes' settings", *run("toy", "notes", 0, data)))
    print(f"{'':30}{'accuracy':>9}{'train s':>9}{'CPU s':>8}")
    for name, acc, wall, cpu in rows:
        print(f"{name:30}{acc:>9.2%}{wall:>9.1f}{cpu:>8.1f}")
    fast = rows[:3]
    print(
        f"fast recipe, mean of 3 seeds: {statistics.fmean(r[1] for r in fast):.2%} accuracy, "
        f"{statistics.fmean(r[2] for r in fast):.1f} s training"
    )
    from sklearn.svm import SVC

    train, test = data
    x = train.images.reshape(len(train), -1).numpy()
    svc = SVC(kernel="rbf").fit(x, train.labels.numpy())
    pred = svc.predict(test.images.reshape(len(test), -1).numpy())
    print(
        f"reference: scikit-learn SVC(kernel='rbf') on the same split: "
        f"{(pred == test.labels.numpy()).mean():.2%}"
    )


if __name__ == "__main__":
    main()
