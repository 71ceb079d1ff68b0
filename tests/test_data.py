"""Tests for gfncp.data: CRP prior, MoG and digits generators, upload parsing."""
import io
import zipfile

import numpy as np
import pytest

from gfncp import data
from gfncp.data import InputError, read_points, write_points_csv
from gfncp.partitions import canonical_labels, is_canonical


# ---------------------------------------------------------------------------------------
# CRP


def crp_k_stats(n, alpha, draws, seed):
    rng = np.random.default_rng(seed)
    ks = np.array([data.crp_partition(n, alpha, rng).max() + 1 for _ in range(draws)])
    return ks.mean(), ks.std() / np.sqrt(draws)


@pytest.mark.parametrize("n, expected", [(50, 3.595), (20, 2.96)])
def test_crp_mean_k_matches_theory(n, expected):
    assert data.crp_expected_k(n, 0.7) == pytest.approx(expected, abs=0.005)
    mean, se = crp_k_stats(n, 0.7, 4000, seed=n)
    assert abs(mean - data.crp_expected_k(n, 0.7)) < 4 * se


def test_crp_k_distribution_small_n_exact():
    # N=3: P(K=1) = 1/(1+a) * 2/(2+a), P(K=3) = a/(1+a) * a/(2+a)
    a = 0.7
    rng = np.random.default_rng(1)
    ks = np.array([data.crp_partition(3, a, rng).max() + 1 for _ in range(6000)])
    p1, p3 = 2 / ((1 + a) * (2 + a)), a * a / ((1 + a) * (2 + a))
    se = np.sqrt(0.25 / len(ks))
    assert abs((ks == 1).mean() - p1) < 4 * se
    assert abs((ks == 3).mean() - p3) < 4 * se


def test_crp_partition_canonical_and_k_rejection():
    rng = np.random.default_rng(0)
    for _ in range(200):
        labels = data.crp_partition(30, 0.7, rng, k_min=2, k_max=4)
        assert labels.shape == (30,) and labels.dtype == np.int64
        assert is_canonical(labels)
        assert 2 <= labels.max() + 1 <= 4
    with pytest.raises(ValueError):
        data.crp_partition(3, 0.7, rng, k_min=4)
    with pytest.raises(ValueError):
        data.crp_partition(0, 0.7, rng)
    with pytest.raises(ValueError):
        data.crp_partition(5, 0.0, rng)


def test_crp_partition_seeded():
    a = data.crp_partition(40, 1.0, np.random.default_rng(5))
    b = data.crp_partition(40, 1.0, 5)
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------
# mixture of Gaussians


def test_make_mog_shapes_dtypes_determinism():
    X, labels = data.make_mog(100, dim=3, seed=7)
    assert X.shape == (100, 3) and X.dtype == np.float64
    assert labels.shape == (100,) and labels.dtype == np.int64
    assert is_canonical(labels)
    X2, labels2 = data.make_mog(100, dim=3, seed=7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(labels, labels2)
    X3, _ = data.make_mog(100, dim=3, seed=8)
    assert not np.array_equal(X, X3)
    X4, labels4 = data.make_mog(100, dim=3, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(X, X4)
    np.testing.assert_array_equal(labels, labels4)


def test_make_mog_within_cluster_std():
    X, labels = data.make_mog(3000, dim=2, alpha=0.7, sigma=0.5, lam=10.0, seed=3)
    resid = X - np.stack([X[labels == k].mean(axis=0) for k in range(labels.max() + 1)])[labels]
    assert resid.std() == pytest.approx(0.5, rel=0.05)


def test_make_mog_order_is_random():
    # points are shuffled: the big first cluster is not laid out as one block
    _, labels = data.make_mog(200, seed=1)
    assert labels.max() > 0
    assert np.any(np.diff(labels) < 0)


@pytest.mark.parametrize("kwargs", [
    dict(n_points=0), dict(n_points=2.5), dict(n_points=5, dim=0), dict(n_points=5, alpha=0),
    dict(n_points=5, sigma=0), dict(n_points=5, lam=-1), dict(n_points=5, alpha=float("nan")),
])
def test_make_mog_validates(kwargs):
    with pytest.raises(ValueError):
        data.make_mog(**kwargs)


def test_mog_batch():
    rng = np.random.default_rng(0)
    X, labels = data.mog_batch(32, 200, 2, 0.7, 1.0, 10.0, rng)
    assert X.shape == (32, 200, 2) and X.dtype == np.float32
    assert labels.shape == (32, 200) and labels.dtype == np.int64
    assert all(is_canonical(row) for row in labels)
    assert len({row.tobytes() for row in labels}) == 32  # each row has its own partition
    assert len({int(row.max()) for row in labels}) > 1
    # within-cluster spread is sigma, centres differ per row
    row = 0
    centred = X[row] - np.stack([X[row][labels[row] == k].mean(0) for k in range(labels[row].max() + 1)])[labels[row]]
    assert centred.std() == pytest.approx(1.0, rel=0.15)
    _, capped = data.mog_batch(64, 100, 2, 3.0, 1.0, 10.0, rng, k_max=5)
    assert capped.max(axis=1).max() + 1 <= 5


def test_mog_batch_k_distribution():
    _, labels = data.mog_batch(4000, 50, 1, 0.7, 1.0, 1.0, np.random.default_rng(2))
    ks = labels.max(axis=1) + 1
    assert abs(ks.mean() - data.crp_expected_k(50, 0.7)) < 4 * ks.std() / np.sqrt(len(ks))


# ---------------------------------------------------------------------------------------
# digits


def test_digits_split_fixed_and_disjoint():
    train_idx, test_idx = data.digits_split_index("train"), data.digits_split_index("test")
    assert len(train_idx) + len(test_idx) == 1797
    assert not set(train_idx) & set(test_idx)
    images, classes = data.digits_split("train")
    assert images.shape == (len(train_idx), 64) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert set(np.unique(classes)) == set(range(10))
    # stratified 70/30
    _, test_classes = data.digits_split("test")
    assert np.all(np.abs(np.bincount(test_classes) / (np.bincount(classes) + np.bincount(test_classes)) - 0.3) < 0.01)
    with pytest.raises(ValueError):
        data.digits_split("val")


@pytest.mark.parametrize("split", ["train", "test"])
def test_digits_task(split):
    from sklearn.datasets import load_digits

    digits = load_digits()
    own = set(data.digits_split_index(split))
    for seed in range(10):
        X, labels, index = data.make_digits_task(60, split=split, seed=seed, return_index=True)
        assert X.shape == (60, 64) and is_canonical(labels)
        assert len(set(index)) == 60  # no duplicates within a task
        assert set(index) <= own  # images from the requested split only
        np.testing.assert_allclose(X, digits.data[index] / 16.0)
        cls = digits.target[index]
        # each cluster is one class, and different clusters are different classes
        per_cluster = [np.unique(cls[labels == k]) for k in range(labels.max() + 1)]
        assert all(len(c) == 1 for c in per_cluster)
        assert len({int(c[0]) for c in per_cluster}) == len(per_cluster)
        assert labels.max() + 1 <= 10


def test_digits_task_determinism_and_n_classes():
    a = data.make_digits_task(40, seed=4)
    b = data.make_digits_task(40, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    for k in (1, 3, 10):
        _, labels = data.make_digits_task(50, n_classes=k, seed=k)
        assert labels.max() + 1 == k
    _, labels = data.make_digits_task(400, split="test", seed=0)  # needs many classes
    assert labels.max() + 1 >= 8
    with pytest.raises(ValueError, match="cannot draw"):
        data.make_digits_task(200, n_classes=2, split="test")
    with pytest.raises(ValueError, match="too many"):
        data.make_digits_task(600, split="test")


def test_digits_batch():
    X, labels = data.digits_batch(8, 50, np.random.default_rng(0))
    assert X.shape == (8, 50, 64) and X.dtype == np.float32
    assert labels.shape == (8, 50) and all(is_canonical(r) for r in labels)
    assert len({r.tobytes() for r in labels}) > 1
    _, small = data.digits_batch(16, 50, np.random.default_rng(1), k_max=2)
    assert small.max(axis=1).max() <= 1


# ---------------------------------------------------------------------------------------
# read_points: good input


def npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_read_csv_without_header():
    X, labels = read_points(b"1,2\n3,4\n5,6.5\n", "pts.csv")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6.5]])
    assert X.dtype == np.float64 and labels is None


def test_read_csv_with_header_and_label():
    raw = b"x,Label,y\n1,b,2\n3,a,4\n5,b,6\n"
    X, labels = read_points(raw, "PTS.CSV")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(labels, [0, 1, 0])
    assert labels.dtype == np.int64


@pytest.mark.parametrize("raw, name", [
    (b"a\tb\n1\t2\n3\t4\n", "p.tsv"),
    (b"a;b\n1;2\n3;4\n", "p.csv"),
    (b"1 2\n3   4\n", "p.txt"),
    (b"\xef\xbb\xbf\"a\",\"b\"\r\n1,2\r\n\r\n3,4\r\n", "p.csv"),
    (b"# comment\n1, 2\n3, 4\n", "p.txt"),
])
def test_read_text_delimiters(raw, name):
    X, labels = read_points(raw, name)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert labels is None


def test_read_npy_and_npz():
    arr = np.arange(12, dtype=np.int32).reshape(6, 2)
    X, labels = read_points(npy_bytes(arr), "a.npy")
    np.testing.assert_array_equal(X, arr)
    assert X.dtype == np.float64 and labels is None
    X, labels = read_points(npz_bytes(X=arr, labels=np.array([5, 5, 2, 2, 7, 5])), "a.npz")
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 2, 0])
    X, labels = read_points(npz_bytes(points=arr.astype(np.float32)), "a.npz")  # single array
    np.testing.assert_array_equal(X, arr)
    X, labels = read_points(npz_bytes(data=arr, y=np.array(list("abcabc"))), "a.npz")
    np.testing.assert_array_equal(labels, [0, 1, 2, 0, 1, 2])


def test_write_points_csv_round_trip():
    X, labels = data.make_mog(50, dim=3, seed=2)
    X2, labels2 = read_points(write_points_csv(X, labels), "export.csv")
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(labels, labels2)
    X3, labels3 = read_points(write_points_csv(X), "export.csv")
    np.testing.assert_array_equal(X, X3)
    assert labels3 is None
    # non-canonical labels come back canonical
    _, labels4 = read_points(write_points_csv(X[:4], [3, 3, 1, 0]), "e.csv")
    np.testing.assert_array_equal(labels4, canonical_labels([3, 3, 1, 0]))


# ---------------------------------------------------------------------------------------
# read_points: bad input


def zip_with_member(name, payload):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, payload)
    return buf.getvalue()


BAD_CASES = {
    "unknown extension": (b"1,2\n3,4\n", "a.xlsx", ".csv"),
    "no extension": (b"1,2\n3,4\n", "points", "Supported"),
    "empty": (b"", "a.csv", "empty"),
    "blank": (b"  \n\n \t\n", "a.csv", "empty"),
    "comments only": (b"# nothing\n", "a.txt", "empty"),
    "header only": (b"x,y\n", "a.csv", "no data rows"),
    "no numeric columns": (b"name,colour\nfoo,red\nbar,blue\n", "a.csv", "no numeric columns"),
    "label column only": (b"label\na\nb\n", "a.csv", "no numeric columns"),
    "ragged": (b"1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n13,14,15\n", "a.csv", "Row 7 has 3 values, expected 2"),
    "non-numeric cell": (b"x,y\n1,2\n3,abc\n", "a.csv", "Row 3, column 2 ('y')"),
    "empty cell": (b"1,2\n3,\n", "a.csv", "empty"),
    "unlabelled string column": (b"1,2,a\n3,4,b\n", "a.csv", "label column"),
    "NaN": (b"x,y\n1,2\n3,4\n5,nan\n", "a.csv", "Row 4 contains NaN"),
    "inf": (b"1,2\n-inf,4\n", "a.csv", "Row 2 contains inf"),
    "one point": (b"1,2\n", "a.csv", "At least 2 points"),
    "two label columns": (b"x,label,class\n1,a,b\n2,a,b\n", "a.csv", "more than one label column"),
    "empty label": (b"x,label\n1,a\n2,\n", "a.csv", "Row 3 has an empty label"),
    "not utf-8": (b"x,y\n1,2\n\xff\xfe,3\n", "a.csv", "not UTF-8"),
    "binary as text": (b"\x00\x01\x02\x03", "a.csv", "NUL"),
    "too many rows": (b"1,2\n" * 5001, "a.csv", "limit is 5000"),
    "npy 1D": (npy_bytes(np.arange(5.0)), "a.npy", "Expected 2D array, got 1D array instead. Reshape"),
    "npy 0D": (npy_bytes(np.float64(3.0)), "a.npy", "Expected 2D array, got 0D"),
    "npy 3D": (npy_bytes(np.zeros((4, 2, 2))), "a.npy", "got 3D array"),
    "npy one point": (npy_bytes(np.zeros((1, 2))), "a.npy", "At least 2 points"),
    "npy no columns": (npy_bytes(np.zeros((5, 0))), "a.npy", "no numeric columns"),
    "npy strings": (npy_bytes(np.array([["a", "b"], ["c", "d"]])), "a.npy", "string dtype"),
    "npy complex": (npy_bytes(np.ones((3, 2), dtype=complex)), "a.npy", "complex dtype"),
    "npy bool": (npy_bytes(np.ones((3, 2), dtype=bool)), "a.npy", "boolean dtype"),
    "npy structured": (npy_bytes(np.zeros(3, dtype=[("a", "f8"), ("b", "f8")])), "a.npy", "structured"),
    "npy object": (npy_bytes(np.array([[1, None], [2, 3]], dtype=object)), "a.npy", "pickled data"),
    "npy NaN": (npy_bytes(np.array([[1.0, 2.0], [3.0, np.nan]])), "a.npy", "Row 2 contains NaN"),
    "npy too many": (npy_bytes(np.zeros((5001, 2))), "a.npy", "limit is 5000"),
    "npy not numpy": (b"1,2\n3,4\n", "a.npy", "not a NumPy .npy file"),
    "npy truncated": (npy_bytes(np.zeros((10, 2)))[:-20], "a.npy", "truncated"),
    "npy bad header": (b"\x93NUMPY\x01\x00\x10\x00{'descr': <garbage\n", "a.npy", "corrupt"),
    "npy is npz": (npz_bytes(X=np.zeros((3, 2))), "a.npy", "use the .npz extension"),
    "npz not zip": (b"hello world", "a.npz", "not a NumPy .npz"),
    "npz corrupt zip": (npz_bytes(X=np.zeros((3, 2)))[:40], "a.npz", "corrupt"),
    "npz no arrays": (zip_with_member("readme.txt", "hi"), "a.npz", "no arrays"),
    "npz ambiguous keys": (npz_bytes(a=np.zeros((3, 2)), b=np.zeros((3, 2))), "a.npz", "name the points 'X'"),
    "npz object": (npz_bytes(X=np.array([[1, {}], [2, 3]], dtype=object)), "a.npz", "pickled data"),
    "npz object labels": (npz_bytes(X=np.zeros((2, 2)), labels=np.array([1, None], dtype=object)), "a.npz", "pickled data"),
    "npz label mismatch": (npz_bytes(X=np.zeros((4, 2)), labels=np.arange(3)), "a.npz", "3 entries but there are 4 points"),
    "npz labels 2D": (npz_bytes(X=np.zeros((4, 2)), labels=np.zeros((4, 2))), "a.npz", "1D"),
    "npz member not npy": (zip_with_member("X.npy", b"garbage"), "a.npz", "not a NumPy .npy"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_read_points_bad_input(case):
    raw, name, message = BAD_CASES[case]
    with pytest.raises(InputError) as info:
        read_points(raw, name)
    assert message in str(info.value)


def test_read_points_custom_limit_and_types():
    with pytest.raises(InputError, match="limit is 3"):
        read_points(b"1\n2\n3\n4\n", "a.csv", max_points=3)
    with pytest.raises(InputError):
        read_points("1,2\n3,4\n", "a.csv")  # str, not bytes
    X, _ = read_points(bytearray(b"1\n2\n"), "a.txt")
    assert X.shape == (2, 1)


def test_input_error_is_value_error():
    assert issubclass(InputError, ValueError)


def mutations(rng, valid):
    """Random bytes, plus truncated and bit-flipped versions of valid files."""
    yield bytes(rng.integers(0, 256, size=rng.integers(0, 64), dtype=np.uint8))
    cut = valid[: rng.integers(0, len(valid) + 1)]
    yield cut
    flipped = bytearray(valid)
    for pos in rng.integers(0, len(flipped), size=3):
        flipped[pos] = rng.integers(0, 256)
    yield bytes(flipped)


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".txt", ".npy", ".npz"])
def test_fuzz_only_input_error(ext):
    rng = np.random.default_rng(sum(map(ord, ext)))
    arr = np.arange(20.0).reshape(10, 2)
    valid = {".npy": npy_bytes(arr), ".npz": npz_bytes(X=arr, labels=np.arange(10) % 3)}.get(
        ext, write_points_csv(arr, np.arange(10) % 3))
    for _ in range(70):  # 3 byte strings each: ~200 per extension
        for raw in mutations(rng, valid):
            try:
                X, labels = read_points(raw, "fuzz" + ext)
            except InputError:
                continue
            assert X.dtype == np.float64 and X.ndim == 2 and np.all(np.isfinite(X))
            assert labels is None or is_canonical(labels)


def test_read_csv_y_column():
    X, labels = read_points(b"x,y\n1,2\n3,4\n", "a.csv")  # x, y: coordinates
    assert X.shape == (2, 2) and labels is None
    X, labels = read_points(b"f0,f1,Y\n1,2,cat\n3,4,dog\n5,6,cat\n", "a.csv")  # y: labels
    assert X.shape == (3, 2)
    np.testing.assert_array_equal(labels, [0, 1, 0])
    X, labels = read_points(b"x,y,cluster\n1,2,7\n3,4,7\n", "a.csv")
    assert X.shape == (2, 2)
    np.testing.assert_array_equal(labels, [0, 0])


def test_short_row_in_a_comma_file_is_reported_as_ragged():
    with pytest.raises(InputError, match="Row 4 has 1 value, expected 2"):
        read_points(b"x,y\n1,2\n3,4\n5\n", "points.csv")


def test_read_csv_target_column_holds_labels():
    """A scikit-learn `as_frame` export (`frame.to_csv(index=False)`) ends with `target`: labels,
    not a feature."""
    raw = b"sepal length (cm),petal width (cm),target\n5.1,0.2,0\n7.0,1.4,1\n4.9,0.2,0\n6.3,2.5,2\n"
    X, labels = read_points(raw, "iris.csv")
    np.testing.assert_array_equal(X, [[5.1, 0.2], [7.0, 1.4], [4.9, 0.2], [6.3, 2.5]])
    np.testing.assert_array_equal(labels, [0, 1, 0, 2])
    assert "target" in data.LABEL_COLUMN_NAMES
