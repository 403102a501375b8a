"""`tinyvision cluster` and `tinyvision anchors` through main(argv)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from sklearn.datasets import make_blobs

from _cli_helpers import assert_one_line_error, assert_usage_error, run_cli
from tinyvision._cli._flags import k_values as parse_k_range
from tinyvision._cli.cluster import read_numeric_csv
from tinyvision.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _write_csv(path: Path, X: np.ndarray, header: str | None = "width,height") -> Path:
    lines = [header] if header else []
    lines += [",".join(f"{v:.6f}" for v in row) for row in X]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cluster_prints_table_and_writes_plots(tmp_path: Path, capsys) -> None:
    X = make_blobs(300, 2, centers=[[0, 0], [8, 0], [0, 8]], random_state=0)[0]
    csv = _write_csv(tmp_path / "points.csv", X)
    out = tmp_path / "out"
    assert main(["cluster", str(csv), "--k", "2..5", "--out", str(out), "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "300 points, 2 features" in text
    for k in (2, 3, 4, 5):
        assert f"\n{k:>4}  " in text
    assert "chosen K = 3" in text
    for name in ("choose_k.png", "clusters.png"):
        assert (out / name).read_bytes().startswith(PNG_MAGIC)


def test_cluster_without_header_and_3d_writes_no_scatter(tmp_path: Path, capsys) -> None:
    X = np.random.RandomState(0).rand(60, 3)
    csv = _write_csv(tmp_path / "p.csv", X, header=None)
    out = tmp_path / "o"
    assert main(["cluster", str(csv), "--k", "2,4", "--out", str(out), "--n-init", "2"]) == 0
    assert "60 points, 3 features" in capsys.readouterr().out
    assert (out / "choose_k.png").exists() and not (out / "clusters.png").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n1,2\n3,x\n", "p.csv:3: expected numbers, got 'x'"),
        ("1,2\n3,4,5\n", "p.csv:2: expected 2 columns, got 3"),
        ("1,2\nnan,4\n", "p.csv:2: values must be finite"),
        ("a,b\n", "p.csv: no data rows"),
        ("1,2\n1,2\n1,2\n", "distinct points in X (1), got 2"),
    ],
)
def test_cluster_bad_csv_is_one_line_exit_2(
    tmp_path: Path, capsys, content: str, message: str
) -> None:
    (tmp_path / "p.csv").write_text(content, encoding="utf-8")
    assert main(["cluster", str(tmp_path / "p.csv"), "--k", "2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_cluster_missing_file_and_bad_k(tmp_path: Path, capsys) -> None:
    assert main(["cluster", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert_usage_error(capsys, ["cluster", "x.csv", "--k", "two"], "--k: must look like 2..10")


def test_parse_k_range_and_reader(tmp_path: Path) -> None:
    assert parse_k_range("2..5") == [2, 3, 4, 5]
    assert parse_k_range("3, 7") == [3, 7]
    X, names = read_numeric_csv(_write_csv(tmp_path / "a.csv", np.eye(3)[:, :2], "u,v"))
    assert names == ["u", "v"] and X.shape == (3, 2)


def _yolo_dataset(root: Path) -> Path:
    rng = np.random.RandomState(0)
    labels = root / "labels" / "train"
    images = root / "images" / "train"
    labels.mkdir(parents=True)
    images.mkdir(parents=True)
    for i in range(12):
        w = rng.choice([0.05, 0.2, 0.5], 4) * rng.uniform(0.9, 1.1, 4)
        lines = [f"{c} 0.5 0.5 {a:.4f} {a * 1.5:.4f}" for c, a in zip(rng.randint(0, 3, 4), w)]
        (labels / f"img{i}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if i < 6:
            cv2.imwrite(str(images / f"img{i}.jpg"), np.zeros((40, 80, 3), np.uint8))
    (labels / "classes.txt").write_text("cat\ndog\nbird\n", encoding="utf-8")
    return root / "labels"


def test_anchors_prints_anchors_and_bpr(tmp_path: Path, capsys) -> None:
    folder = _yolo_dataset(tmp_path)
    args = ["anchors", str(folder), "--n", "3", "--img-size", "320", "--generations", "100"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "48 boxes in 12 label files; image sizes read for 6" in text
    assert "best possible recall (thr=4): 1.0000" in text
    anchor_line = text.splitlines()[2]
    assert len(anchor_line.split(",  ")) == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # the messages of detect train: one reader for both
        ("0 0.5 0.5 0.1", "a label line is 'class cx cy w h', got '0 0.5 0.5 0.1'"),
        ("cat 0.5 0.5 0.1 0.2", "not numbers: 'cat 0.5 0.5 0.1 0.2'"),
        ("0 0.5 0.5 1.5 0.2", "coordinates must be normalised to [0, 1]"),
        ("-1 0.5 0.5 0.1 0.1", "class must be an index >= 0, got '-1'"),
    ],
)
def test_anchors_bad_label_line(tmp_path: Path, capsys, line: str, message: str) -> None:
    (tmp_path / "a.txt").write_text(f"0 0.5 0.5 0.1 0.1\n{line}\n", encoding="utf-8")
    assert main(["anchors", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "a.txt:2:" in err and message in err


def test_anchors_reads_label_files_as_detect_train_does(tmp_path: Path, capsys) -> None:
    # A byte-order mark (Notepad) is fine; a box past the edge is clipped, one of zero
    # size left out with one warning line, as read_yolo does for detect train.
    (tmp_path / "a.txt").write_bytes(
        "\ufeff0 0.5 0.5 0.2 0.4\n1 0.95 0.5 0.2 0.2\n0 0.5 0.5 0 0.1\n".encode()
    )
    args = ["anchors", str(tmp_path), "--n", "2", "--img-size", "100", "--generations", "0"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "2 boxes in 1 label files" in out
    assert out.splitlines()[2].strip() == "15,20,  20,40"  # 0.2 wide at 0.95: clipped to 0.15
    assert err.strip() == (
        f"tinyvision: warning: {tmp_path}: left out 1 box(es) of zero width or height "
        f"(first: {tmp_path / 'a.txt'}:3)"
    )


def test_anchors_label_file_not_utf8_names_the_file(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.txt").write_bytes(b"0 0.5 0.5 0.2 0.2\n\xff\n")
    code, _, err = run_cli(capsys, "anchors", str(tmp_path))
    assert_one_line_error(code, err, rf"{tmp_path / 'a.txt'}: not UTF-8 text \(byte 18")


def test_anchors_missing_or_empty_folder(tmp_path: Path, capsys) -> None:
    assert main(["anchors", str(tmp_path / "none")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["anchors", str(tmp_path)]) == 2
    assert "no .txt label files" in capsys.readouterr().err


def test_anchors_reads_image_sizes_from_headers(tmp_path: Path, capsys) -> None:
    # The sizes come from the headers (tinyvision.data.images.image_size, Pillow).
    # One 0.5 x 0.5 box on a 100 x 50 PNG is 0.5 x 0.25 of the longer side; at img-size 320
    # the single anchor is that box: 160 x 80. A broken image next to it is taken as square.
    labels, images = tmp_path / "labels", tmp_path / "images"
    labels.mkdir()
    images.mkdir()
    cv2.imwrite(str(images / "a.png"), np.zeros((50, 100, 3), np.uint8))
    (labels / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n", encoding="utf-8")
    (images / "b.webp").write_bytes(b"not an image")
    (labels / "b.txt").write_text("0 0.5 0.5 0.5 0.5\n", encoding="utf-8")
    args = ["anchors", str(labels), "--n", "2", "--img-size", "320", "--generations", "0"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "2 boxes in 2 label files; image sizes read for 1" in text
    # a.png: 160 x 80; b (square): 160 x 160
    assert text.splitlines()[2].strip() == "160,80,  160,160"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--n", "0"], "--n: must be an integer in 1..1000, got 0"),
        (["--img-size", "0"], "--img-size: must be an integer in 1..4096, got 0"),
        (["--thr", "1"], r"--thr: must be a number in \(1, 100\], got 1"),
        (["--thr", "nan"], r"--thr: must be a number in \(1, 100\], got nan"),
        (["--generations", "-1"], r"--generations: must be an integer in 0\.\.100000, got -1"),
        (["--seed", "-1"], r"--seed: must be an integer in 0\.\.4294967295, got -1"),
    ],
)
def test_anchors_bad_options_name_the_flag(tmp_path: Path, capsys, flags, message) -> None:
    folder = _yolo_dataset(tmp_path)
    err = assert_usage_error(capsys, ["anchors", str(folder), *flags], message)
    for library_name in ("n_anchors", "img_size", "random_state"):
        assert library_name not in err


@pytest.mark.parametrize(
    ("k", "message"),
    [
        ("1..3", r"--k: values must be >= 2 \(one cluster has no silhouette\), got '1\.\.3'"),
        ("0", "--k: values must be >= 2"),
        ("2,3,2", "--k: must not repeat a K, got '2,3,2'"),
        ("5..3", r"--k: gives no K values, got '5\.\.3'"),
        # checked by its ends: the list of ten billion Ks is never built
        ("2..10000000000", r"--k: values must be <= 100000, got 10000000000"),
        ("2..2000", "--k: must give at most 1000 K values, got 1999"),
    ],
)
def test_cluster_bad_k_names_the_flag(capsys, k: str, message: str) -> None:
    err = assert_usage_error(capsys, ["cluster", "x.csv", "--k", k], message)
    assert "k_range" not in err


def test_cluster_k_above_the_points_names_the_flag(tmp_path: Path, capsys) -> None:
    csv = _write_csv(tmp_path / "p.csv", np.random.RandomState(0).rand(20, 2))
    assert main(["cluster", str(csv), "--out", str(tmp_path), "--k", "2..30"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "--k values must be <= 19 (the number of points - 1" in err
    assert "k_range" not in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--sample-size", "1"], r"--sample-size: must be an integer in 2\.\.2147483647, got 1"),
        (["--n-init", "0"], r"--n-init: must be 'auto' or an integer in 1\.\.1000, got 0"),
        (["--n-init", "many"], r"--n-init: must be 'auto' or an integer in 1\.\.1000, got 'many'"),
        (["--seed", "-3"], r"--seed: must be an integer in 0\.\.4294967295, got -3"),
    ],
)
def test_cluster_bad_options_name_the_flag(tmp_path: Path, capsys, flags, message) -> None:
    csv = _write_csv(tmp_path / "p.csv", np.random.RandomState(0).rand(20, 2))
    err = assert_usage_error(capsys, ["cluster", str(csv), "--out", str(tmp_path), *flags], message)
    for library_name in ("k_range", "sample_size", "n_init", "random_state"):
        assert library_name not in err


def test_cluster_k_above_distinct_points_names_the_flag(tmp_path: Path, capsys) -> None:
    (tmp_path / "p.csv").write_text("1,2\n1,2\n1,2\n3,4\n", encoding="utf-8")
    assert main(["cluster", str(tmp_path / "p.csv"), "--k", "3", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--k values must be <= the number of distinct points in X (2), got 3" in err
    assert "n_clusters" not in err


def test_anchors_more_than_the_boxes_is_refused(tmp_path: Path, capsys) -> None:
    folder = _yolo_dataset(tmp_path)  # 48 boxes
    assert main(["anchors", str(folder), "--n", "100"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "--n (number of anchors) must be <= the number of boxes (48), got 100" in err
    assert "n_anchors" not in err


def test_anchors_random_start_is_one_warning_line(tmp_path: Path, capsys) -> None:
    # 3 boxes of 2 distinct sizes, 3 anchors: allowed, k-means skipped, one warning line.
    (tmp_path / "a.txt").write_text("0 .5 .5 .1 .1\n0 .5 .5 .1 .1\n0 .5 .5 .3 .2\n")
    args = ["anchors", str(tmp_path), "--n", "3", "--generations", "10"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("tinyvision: warning: n_anchors=3 is more than the 2 distinct")
    assert len(captured.out.splitlines()[2].split(",  ")) == 3


def test_cluster_out_that_is_a_file_fails_before_the_work(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tinyvision.cluster

    X = np.random.RandomState(0).rand(30, 2)
    csv = _write_csv(tmp_path / "p.csv", X)
    (tmp_path / "afile").write_text("taken")

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("k-means ran before --out was checked")

    monkeypatch.setattr(tinyvision.cluster, "choose_k", no_work)
    assert main(["cluster", str(csv), "--k", "2..3", "--out", str(tmp_path / "afile")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"tinyvision: error: --out {tmp_path / 'afile'} is a file, not a folder"
    assert (tmp_path / "afile").read_text() == "taken"


def test_cluster_never_writes_over_its_data(tmp_path: Path, capsys) -> None:
    # A points file named like a plot the command writes, in the --out folder.
    X = np.random.RandomState(0).rand(30, 2)
    data = _write_csv(tmp_path / "clusters.png", X)
    before = data.read_bytes()
    code = main(["cluster", str(data), "--k", "2..3", "--out", str(tmp_path)])
    assert_one_line_error(code, capsys.readouterr().err, r"--out: writing .* would replace")
    assert data.read_bytes() == before
