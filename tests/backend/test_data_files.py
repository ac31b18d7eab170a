"""User data: CSV edge cases, NPZ, IDX (gzipped or not), MNIST cache folders, image folders."""

import gzip

import numpy as np
import pytest
import torch

from backend.data.config import DataConfig
from backend.data.csv_file import read_csv
from backend.data.errors import DataError
from backend.data.files import read_mnist, read_npz
from backend.data.idx import read_idx, write_idx
from backend.data.load import load_dataset


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_quoted_commas_and_text_columns(tmp_path):
    path = _write(tmp_path, 'size,colour,note,label\n'
                            '1.5,red,"big, round",yes\n'
                            '2.5,blue,"small, flat",no\n'
                            '3.5,red,"a ""quoted"" one",yes\n')
    ds = read_csv(path, {"target": "label", "features": ["size", "colour"]})
    assert ds.feature_names == ("size", "colour=blue", "colour=red")
    assert ds.x.tolist() == [[1.5, 0, 1], [2.5, 1, 0], [3.5, 0, 1]]
    target = ds.target("label")
    assert target.classes == ("no", "yes") and target.values.tolist() == [1, 0, 1]
    indexed = read_csv(path, {"target": "label", "features": ["colour"],
                              "categorical": "index"})
    assert indexed.x[:, 0].tolist() == [1.0, 0.0, 1.0]


def test_csv_without_header_uses_last_column_as_target(tmp_path):
    path = _write(tmp_path, "1,2,0.5\n3,4,1.5\n5,6,2.5\n")
    ds = read_csv(path)
    assert ds.feature_names == ("column_0", "column_1")
    assert ds.x.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert ds.target(None).values.tolist() == [0.5, 1.5, 2.5]


def test_csv_missing_value_names_line_and_column(tmp_path):
    path = _write(tmp_path, "a,b,y\n1,2,0\n3,,1\n")
    with pytest.raises(DataError, match=r"line 3, column 'b': missing value"):
        read_csv(path)
    assert len(read_csv(path, {"missing": "drop"})) == 1


def test_csv_unparsable_cell_names_line_and_column(tmp_path):
    path = _write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n5,oops,0\n7,8,1\n")
    with pytest.raises(DataError, match=r"line 4, column 'b': cannot read 'oops' as a number"):
        read_csv(path)


def test_csv_ragged_row_and_unknown_column(tmp_path):
    path = _write(tmp_path, "a,b,y\n1,2,0\n3,4\n")
    with pytest.raises(DataError, match="line 3: 2 cells"):
        read_csv(path)
    good = _write(tmp_path, "a,b,y\n1,2,0\n", "good.csv")
    with pytest.raises(DataError, match="no column 'z'"):
        read_csv(good, {"target": "z"})


def test_csv_sample_weights_and_integer_classes(tmp_path):
    rows = "".join(f"{i},{i % 3},{1 + i % 2}\n" for i in range(12))
    path = _write(tmp_path, "x,label,w\n" + rows)
    ds = read_csv(path, {"target": "label"}, sample_weight="w")
    assert ds.target(None).classes == ("0", "1", "2")
    assert ds.sample_weight.tolist()[:2] == [1.0, 2.0]
    assert ds.feature_names == ("x",)


def test_csv_through_the_data_settings(tmp_path):
    _write(tmp_path, "a,b,y\n1,2,0.5\n3,4,1.5\n")
    cfg = DataConfig.from_dict({"dataset": "csv", "path": "data.csv"})
    ds = load_dataset(cfg, base_dir=tmp_path)
    assert ds.x.shape == (2, 2)


def test_npz_reads_named_arrays_without_pickles(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.arange(12, dtype=np.float32).reshape(6, 2), y=np.array([0, 1] * 3))
    ds = read_npz(path)
    assert ds.x.shape == (6, 2) and ds.target(None).classes == ("0", "1")
    with pytest.raises(DataError, match="no array 'missing'"):
        read_npz(path, {"y": "missing"})


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, suffix):
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    path = tmp_path / f"images-idx3-ubyte{suffix}"
    write_idx(path, images)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    assert np.array_equal(read_idx(path), images)
    floats = np.linspace(0, 1, 6, dtype=np.float32)
    write_idx(tmp_path / "f.idx", floats)
    assert np.allclose(read_idx(tmp_path / "f.idx"), floats)


def test_idx_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(bad)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"abc"))
    with pytest.raises(DataError, match="truncated"):
        read_idx(short)


def _mnist_folder(folder, n_train=6, n_test=4):
    rng = np.random.default_rng(1)
    folder.mkdir()
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8))


def test_mnist_from_a_cache_folder(tmp_path):
    _mnist_folder(tmp_path / "mnist")
    ds = read_mnist("mnist", str(tmp_path / "mnist"))
    assert ds.x.shape == (10, 1, 28, 28) and float(ds.x.max()) <= 1.0
    assert ds.test_start == 6
    cfg = DataConfig.from_dict({"dataset": "fashion_mnist", "path": str(tmp_path / "mnist")})
    fashion = load_dataset(cfg)
    assert fashion.target(None).classes[0] == "T-shirt/top"


def test_mnist_offline_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("NETCANVAS_DATA", str(tmp_path))
    with pytest.raises(DataError, match=r"not in .*mnist\. Put the four IDX files there"):
        read_mnist("mnist")


def test_image_folder(tmp_path):
    (tmp_path / "cats").mkdir()
    try:
        from PIL import Image
    except ImportError:
        with pytest.raises(DataError, match="needs the Pillow package"):
            load_dataset(DataConfig.from_dict({"dataset": "images", "path": str(tmp_path)}))
        return
    (tmp_path / "dogs").mkdir()
    for cls in ("cats", "dogs"):
        Image.fromarray(np.full((4, 5), 200, np.uint8)).save(tmp_path / cls / "a.png")
    ds = load_dataset(DataConfig.from_dict({"dataset": "images", "path": str(tmp_path)}))
    assert ds.x.shape == (2, 1, 4, 5) and ds.target(None).classes == ("cats", "dogs")
    assert torch.allclose(ds.x.max(), torch.tensor(200 / 255))
