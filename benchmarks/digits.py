"""Digits (scikit-learn's 8x8, fixed stratified 80/20 split): accuracy and training time.

Trains the fast recipe with seeds 0, 1, 2, ToyNet with our trainer, and ToyNet with the
notes' settings, and fits scikit-learn's RBF SVC on the same split as a reference. Prints
test accuracy and, through ``benchmarks/_protocol.py``, the process CPU time and wall time of
each run (model build, training and test prediction) and the load average. Run:
``python benchmarks/digits.py`` (one thread, the protocol's default) and ``--threads 2``.
Exit status 1 when scikit-learn (the data set and the reference) is missing or a run fails.
"""

from __future__ import annotations

import _protocol  # first: pins the thread pools before numpy and torch load

# isort: split
import argparse
import dataclasses
import statistics
import sys

import torch

from tinyvision.metrics import accuracy_score
from tinyvision.nn import build_classifier
from tinyvision.train import get_recipe, predict_proba, train_classifier


def run(model: str, variant: str, seed: int, data) -> float:
    """Build, train and evaluate one model; its test accuracy."""
    recipe = get_recipe(model, "digits", variant)
    config = dataclasses.replace(recipe.config, seed=seed)
    train, test = (d.upscale(recipe.upscale) for d in data)
    kwargs = {"in_channels": 1, "num_classes": 10, **recipe.model_kwargs}
    if model == "toy":
        kwargs["image_size"] = train.image_shape[1]
    torch.manual_seed(seed)
    net = build_classifier(model, **kwargs)
    result = train_classifier(net, train, config)
    probs = predict_proba(
        result.model, test.float_images(), result.mean, result.std, tta_flip=config.tta_flip
    )
    return float(accuracy_score(test.labels.numpy(), probs.argmax(1).numpy()))


def svc_accuracy(data) -> float:
    """scikit-learn's ``SVC(kernel="rbf")`` fitted on the training split; test accuracy."""
    from sklearn.svm import SVC

    train, test = data
    x = train.images.reshape(len(train), -1).numpy()
    svc = SVC(kernel="rbf").fit(x, train.labels.numpy())
    pred = svc.predict(test.images.reshape(len(test), -1).numpy())
    return float((pred == test.labels.numpy()).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    _protocol.add_arguments(parser)
    args = parser.parse_args()
    bench = _protocol.Bench.from_args(args, anchor_name="scikit-learn SVC", threads=args.threads)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        bench.missing("every run", "scikit-learn", "the digits data set and the SVC reference")
        return bench.finish()
    from tinyvision.data import load_digits

    data = load_digits()
    bench.note(
        f"digits: {len(data[0])} train / {len(data[1])} test; torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch thread(s)"
    )
    run("fast", "tuned", 0, data)  # warm-up (lazy imports, kernels), not reported
    runs = [(f"fast recipe, seed {seed}", "fast", "tuned", seed) for seed in (0, 1, 2)]
    runs += [
        ("ToyNet, our trainer", "toy", "tuned", 0),
        ("ToyNet, the notes' settings", "toy", "notes", 0),
    ]
    accuracies = {}
    for name, model, variant, seed in runs:
        timing = bench.measure(
            f"{name}: build, train, predict",
            lambda m=model, v=variant, s=seed: run(m, v, s, data),
            repeat=1,
            warmup=False,
        )
        if timing is not None:
            accuracies[name] = timing.output
            bench.note(f"{name}: test accuracy {timing.output:.2%}")
    fast = [accuracies[r[0]] for r in runs[:3] if r[0] in accuracies]
    if fast:
        bench.note(f"fast recipe, mean of {len(fast)} seeds: {statistics.fmean(fast):.2%} accuracy")
    svc = bench.measure(
        "reference: scikit-learn SVC(kernel='rbf') fit + predict",
        lambda: svc_accuracy(data),
        repeat=1,
        warmup=False,
        label="scikit-learn",
    )
    if svc is not None:
        bench.note(f"reference: scikit-learn SVC(kernel='rbf') on the same split: {svc.output:.2%}")
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
