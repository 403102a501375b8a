"""CUDA check of tinyvision.cluster: results on CUDA tensors against the CPU path.

    PYTHONPATH=src python3 benchmarks/gpu_cluster_check.py

Needs torch with CUDA, numpy and numba (not scikit-learn). Prints one PASS/FAIL line per
check and a final PASS/FAIL; exits 1 on any failure (also when no CUDA device is found).
Runs in well under a minute on one GPU (numba compiles the CPU kernels on first use).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from tinyvision.cluster import KMeans, choose_k, kmeans, silhouette_samples, silhouette_score

FAILURES: list[str] = []


def check(name: str, ok: bool, detail: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    if not ok:
        FAILURES.append(name)


def agreement_up_to_permutation(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of points whose label in ``a`` maps to their label in ``b`` (majority map)."""
    table = np.zeros((a.max() + 1, b.max() + 1), dtype=np.int64)
    np.add.at(table, (a, b), 1)
    return float(table.max(axis=1).sum() / len(a))


def blobs(n: int, d: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-20, 20, (k, d))
    return centers[rng.randint(0, k, n)] + rng.randn(n, d)


def main() -> int:
    if not torch.cuda.is_available():
        print("FAIL  no CUDA device: torch.cuda.is_available() is False")
        return 1
    device = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    start = time.perf_counter()

    # k-means, float64: same seed -> same k-means++ candidates -> same clustering
    X = blobs(50_000, 8, 8, seed=0)
    for init in ("k-means++", "random"):
        cpu = kmeans(X, 8, init=init, n_init=3, random_state=0)
        gpu = kmeans(torch.from_numpy(X).to(device), 8, init=init, n_init=3, random_state=0)
        agree = float(np.mean(gpu.labels.cpu().numpy() == cpu.labels))
        rel = abs(gpu.inertia - cpu.inertia) / cpu.inertia
        ok = gpu.labels.device.type == device.type and agree > 0.9999 and rel < 1e-9
        check(
            f"kmeans float64 init={init}",
            ok and gpu.n_iter == cpu.n_iter,
            f"labels agree {agree:.6f}, inertia rel diff {rel:.1e}, "
            f"n_iter {gpu.n_iter}/{cpu.n_iter}",
        )

    # float32 stays float32 on the GPU (rounding may pick other k-means++ candidates, so the
    # same clustering can come with other label numbers)
    X32 = X.astype(np.float32)
    cpu = kmeans(X32, 8, n_init=2, random_state=1)
    gpu = kmeans(torch.from_numpy(X32).to(device), 8, n_init=2, random_state=1)
    agree = agreement_up_to_permutation(cpu.labels, gpu.labels.cpu().numpy())
    rel = abs(gpu.inertia - cpu.inertia) / cpu.inertia
    check(
        "kmeans float32",
        gpu.cluster_centers.dtype == torch.float32 and agree > 0.999 and rel < 1e-4,
        f"labels agree (up to renumbering) {agree:.6f}, inertia rel diff {rel:.1e}",
    )

    # estimator methods on CUDA
    model = KMeans(8, random_state=0).fit(torch.from_numpy(X).to(device))
    ref = KMeans(8, random_state=0).fit(X)
    new = blobs(1000, 8, 8, seed=5)
    pred = model.predict(torch.from_numpy(new).to(device)).cpu().numpy()
    dist = model.transform(torch.from_numpy(new).to(device)).cpu().numpy()
    check(
        "KMeans predict/transform",
        np.array_equal(pred, ref.predict(new)) and np.allclose(dist, ref.transform(new), rtol=1e-9),
        f"predict agree {np.mean(pred == ref.predict(new)):.4f}, "
        f"transform max diff {np.abs(dist - ref.transform(new)).max():.1e}",
    )

    # silhouette on the GPU
    P = blobs(5000, 4, 5, seed=2)
    labels = np.random.RandomState(3).randint(0, 5, 5000)
    cpu_s = silhouette_samples(P, labels)
    gpu_s = silhouette_samples(torch.from_numpy(P).to(device), labels, working_memory=16)
    diff = float(np.abs(gpu_s.cpu().numpy() - cpu_s).max())
    check(
        "silhouette_samples",
        gpu_s.device.type == device.type and diff < 1e-10,
        f"max |diff| {diff:.1e}",
    )
    score = silhouette_score(
        torch.from_numpy(P).to(device), labels, sample_size=2000, random_state=0
    )
    ref_score = silhouette_score(P, labels, sample_size=2000, random_state=0)
    check(
        "silhouette_score sample",
        abs(score - ref_score) < 1e-10,
        f"|diff| {abs(score - ref_score):.1e}",
    )

    # choose_k on the GPU
    Q = blobs(4000, 2, 4, seed=4)
    cpu_k = choose_k(Q, range(2, 7), random_state=0)
    gpu_k = choose_k(torch.from_numpy(Q).to(device), range(2, 7), random_state=0)
    diff = float(np.max(np.abs(np.array(cpu_k.silhouette) - np.array(gpu_k.silhouette))))
    check(
        "choose_k",
        cpu_k.best_k == gpu_k.best_k and diff < 1e-9,
        f"best K {gpu_k.best_k}/{cpu_k.best_k}, silhouette max |diff| {diff:.1e}",
    )

    # timing (informative): one k-means, n_init=10, 1e6 x 2, k=8
    big = blobs(1_000_000, 2, 8, seed=6)
    gpu_big = torch.from_numpy(big).to(device)
    kmeans(gpu_big, 8, n_init=1, random_state=0)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    kmeans(gpu_big, 8, n_init=10, random_state=0)
    torch.cuda.synchronize()
    t_gpu = time.perf_counter() - t0
    t0 = time.perf_counter()
    kmeans(big, 8, n_init=10, random_state=0)
    t_cpu = time.perf_counter() - t0
    print(f"info  kmeans 1e6x2 k=8 n_init=10: cuda {t_gpu:.2f} s, cpu (numba) {t_cpu:.2f} s")

    print(f"{'PASS' if not FAILURES else 'FAIL'}  ({time.perf_counter() - start:.0f} s)")
    return 0 if not FAILURES else 1


if __name__ == "__main__":
    sys.exit(main())
