"""`tinyvision cluster` and `tinyvision anchors` through main(argv)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import make_blobs

from tinyvision._cli.cluster import parse_k_range, read_numeric_csv
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
    with pytest.raises(SystemExit) as info:
        main(["cluster", "x.csv", "--k", "two"])
    assert info.value.code == 2
    assert "--k must look like 2..10" in capsys.readouterr().err


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
            Image.new("RGB", (80, 40)).save(images / f"img{i}.jpg")
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
        ("0 0.5 0.5 0.1", "expected 'class cx cy w h' (5 numbers), got 4"),
        ("0 0.5 0.5 0.0 0.2", "box width and height must be > 0, got 0 0.2"),
        ("cat 0.5 0.5 0.1 0.2", "expected numbers 'class cx cy w h'"),
    ],
)
def test_anchors_bad_label_line(tmp_path: Path, capsys, line: str, message: str) -> None:
    (tmp_path / "a.txt").write_text(f"0 0.5 0.5 0.1 0.1\n{line}\n", encoding="utf-8")
    assert main(["anchors", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "a.txt:2:" in err and message in err


def test_anchors_missing_or_empty_folder(tmp_path: Path, capsys) -> None:
    assert main(["anchors", str(tmp_path / "none")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["anchors", str(tmp_path)]) == 2
    assert "no .txt label files" in capsys.readouterr().err
