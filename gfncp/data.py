"""Data: the CRP mixture-of-Gaussians prior, digits clustering tasks, and file uploads.

Three groups of functions live here.

Synthetic data (the model's own prior, METHOD.md 1.1 and 1.3)
    crp_partition(n, alpha, rng)        one partition from the Chinese Restaurant Process
    crp_expected_k(n, alpha)            E[K] under the CRP (theory)
    make_mog(n, dim, ...)               one CRP mixture of Gaussians, for the app and tests
    mog_batch(B, n, dim, ...)           B independent sets, float32, for training

Real data (scikit-learn's bundled 8x8 digits, METHOD.md 1.4; never downloads anything)
    digits_split(split)                 the fixed 70/30 train / test split of the 1797 images
    make_digits_task(n, ...)            one clustering task: K distinct classes, n_k images each
    digits_batch(B, n, rng, ...)        B independent tasks, float32, for training

Uploads
    read_points(raw_bytes, filename)    CSV / TSV / TXT / NPY / NPZ -> (X, labels or None)
    write_points_csv(X, labels)         the app's export format; read_points reads it back

Every label vector is canonical (clusters numbered in order of first appearance, see
partitions.py). Randomness only comes from explicit `seed` ints or numpy Generators.
"""
from __future__ import annotations

import csv
import io
import math
import numbers
import os
import struct
import tokenize
import zipfile
import zlib
from functools import lru_cache

import numpy as np

from .partitions import canonical_labels, cluster_sizes

MAX_POINTS = 5000  # default upper limit on the number of points read_points accepts


class InputError(ValueError):
    """A file the user gave us cannot be read; the message says why and what to do."""


# ----------------------------------------------------------------------------------------
# argument checks


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_float(name: str, value, strictly_positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (strictly_positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if strictly_positive else '>= 0'}, got {value}")
    return float(value)


# ----------------------------------------------------------------------------------------
# Chinese Restaurant Process


def crp_expected_k(n: int, alpha: float) -> float:
    """E[K] of a CRP(alpha) partition of n points: sum_{i=0}^{n-1} alpha / (alpha + i)."""
    return float(np.sum(alpha / (alpha + np.arange(n))))


def _crp_rows(n_rows: int, n: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """n_rows independent CRP partitions of n points, canonical labels (n_rows, n).

    Sequential CRP as an urn: point i opens a new cluster w.p. alpha / (i + alpha), else it
    copies the cluster of a uniformly chosen earlier point j < i, which puts it in cluster k
    w.p. n_k / (i + alpha). Following the "copied from" pointers back to the point that
    opened the cluster (pointer doubling, log2(n) steps) gives every label at once.
    """
    i = np.arange(n)
    opens = rng.random((n_rows, n)) * (i + alpha) < alpha  # always True at i = 0
    parent = rng.integers(0, np.maximum(i, 1), size=(n_rows, n))
    parent = np.where(opens, i, parent)
    for _ in range(max(1, math.ceil(math.log2(max(n, 2))))):
        parent = np.take_along_axis(parent, parent, axis=1)
    cluster_id = np.cumsum(opens, axis=1) - 1  # openers are numbered in order: canonical
    return np.take_along_axis(cluster_id, parent, axis=1).astype(np.int64)


def _crp_rows_k(n_rows, n, alpha, rng, k_min=1, k_max=None) -> np.ndarray:
    """Like _crp_rows, each row redrawn until k_min <= K <= k_max (N is kept)."""
    k_max = n if k_max is None else min(k_max, n)
    if k_min > k_max:
        raise ValueError(f"no partition of {n} points has {k_min} <= K <= {k_max}")
    out = _crp_rows(n_rows, n, alpha, rng)
    k = out.max(axis=1) + 1
    bad = np.flatnonzero((k < k_min) | (k > k_max))
    budget = max(100 * n_rows, 20_000)  # candidate rows we are willing to draw
    chunk = max(64, min(4096, 1_000_000 // max(n, 1)))
    while len(bad):
        if budget <= 0:
            raise ValueError(
                f"{k_min} <= K <= {k_max} is too improbable under CRP(alpha={alpha}) with "
                f"N={n}: no such partition in {max(100 * n_rows, 20_000)} draws")
        cand = _crp_rows(chunk, n, alpha, rng)
        budget -= chunk
        ck = cand.max(axis=1) + 1
        good = cand[(ck >= k_min) & (ck <= k_max)][: len(bad)]
        out[bad[: len(good)]] = good
        bad = bad[len(good):]
    return out


def crp_partition(n_points: int, alpha: float, rng, k_min: int = 1,
                  k_max: int | None = None) -> np.ndarray:
    """One partition from the sequential CRP(alpha): canonical int64 labels (n_points,).

    rng: a numpy Generator or an int seed. If k_min / k_max are given the partition is
    redrawn (N kept) until its number of clusters K lies in [k_min, k_max].
    """
    n = _check_int("n_points", n_points, 1)
    alpha = _check_float("alpha", alpha, strictly_positive=True)
    k_min = _check_int("k_min", k_min, 1)
    if k_max is not None:
        k_max = _check_int("k_max", k_max, 1)
    return _crp_rows_k(1, n, alpha, np.random.default_rng(rng), k_min, k_max)[0]


# ----------------------------------------------------------------------------------------
# mixture of Gaussians


def make_mog(n_points: int, dim: int = 2, alpha: float = 0.7, sigma: float = 1.0,
             lam: float = 10.0, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """One CRP mixture of Gaussians, points in random order.

    Partition ~ CRP(alpha); centre mu_k ~ N(0, lam^2 I); point x ~ N(mu_k, sigma^2 I).
    seed: int or numpy Generator.
    Returns X float64 (n_points, dim) and canonical labels int64 (n_points,).
    """
    n = _check_int("n_points", n_points, 1)
    dim = _check_int("dim", dim, 1)
    alpha = _check_float("alpha", alpha, strictly_positive=True)
    sigma = _check_float("sigma", sigma, strictly_positive=True)
    lam = _check_float("lam", lam, strictly_positive=False)
    rng = np.random.default_rng(seed)
    labels = _crp_rows(1, n, alpha, rng)[0]
    centres = rng.normal(0.0, lam, size=(labels.max() + 1, dim))
    X = centres[labels] + rng.normal(0.0, sigma, size=(n, dim))
    order = rng.permutation(n)
    return X[order], canonical_labels(labels[order])


def mog_batch(batch_size: int, n_points: int, dim: int, alpha: float, sigma: float, lam: float,
              rng, k_max: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A training batch of independent CRP mixtures of Gaussians.

    Every row has its own partition (optionally K <= k_max, by redrawing), its own centres
    and its own point order. The CRP label sequence is exchangeable, so the order in which
    it is drawn is already a uniformly random order of the points; no extra shuffle needed.
    Returns X float32 (B, N, dim) and canonical labels int64 (B, N).
    """
    b = _check_int("batch_size", batch_size, 1)
    n = _check_int("n_points", n_points, 1)
    dim = _check_int("dim", dim, 1)
    alpha = _check_float("alpha", alpha, strictly_positive=True)
    sigma = _check_float("sigma", sigma, strictly_positive=True)
    lam = _check_float("lam", lam, strictly_positive=False)
    rng = np.random.default_rng(rng)
    labels = _crp_rows_k(b, n, alpha, rng, 1, k_max)
    n_centres = int(labels.max()) + 1
    centres = rng.normal(0.0, lam, size=(b, n_centres, dim)).astype(np.float32)
    X = np.take_along_axis(centres, labels[:, :, None], axis=1)
    X += rng.standard_normal(size=(b, n, dim), dtype=np.float32) * np.float32(sigma)
    return X, labels


# ----------------------------------------------------------------------------------------
# digits (sklearn.datasets.load_digits: 1797 8x8 images, classes 0-9, bundled with sklearn)

DIGITS_SPLIT_SEED = 0        # seed of the fixed stratified split
DIGITS_TRAIN_FRACTION = 0.7  # per class: round(0.7 * count) images train, the rest test
DIGITS_SPLITS = ("train", "test")


@lru_cache(maxsize=1)
def _digits_all() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits: images float32 (1797, 64) in [0, 1] (pixel / 16), classes (1797,)."""
    from sklearn.datasets import load_digits  # lazy: sklearn is a heavy import

    digits = load_digits()
    images = (np.asarray(digits.data, dtype=np.float32) / np.float32(16.0))
    classes = np.asarray(digits.target, dtype=np.int64)
    images.flags.writeable = False
    classes.flags.writeable = False
    return images, classes


def _check_split(split) -> str:
    if split not in DIGITS_SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


@lru_cache(maxsize=2)
def _digits_split_index_cached(split: str) -> np.ndarray:
    _, classes = _digits_all()
    rng = np.random.default_rng(DIGITS_SPLIT_SEED)
    chosen = []
    for c in range(10):
        members = rng.permutation(np.flatnonzero(classes == c))
        n_train = int(round(DIGITS_TRAIN_FRACTION * len(members)))
        chosen.append(members[:n_train] if split == "train" else members[n_train:])
    index = np.sort(np.concatenate(chosen))
    index.flags.writeable = False
    return index


def digits_split_index(split: str) -> np.ndarray:
    """Sorted indices into load_digits() of the images in `split` ('train' or 'test').

    The split is fixed: for each class separately, its images are shuffled with
    numpy.random.default_rng(0) and the first round(0.7 * count) go to 'train'
    (1258 images), the rest to 'test' (539 images). The two are disjoint.
    """
    return _digits_split_index_cached(_check_split(split))


@lru_cache(maxsize=2)
def _digits_split_cached(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, classes = _digits_all()
    index = _digits_split_index_cached(split)
    out_images, out_classes = images[index], classes[index]
    out_images.flags.writeable = False
    out_classes.flags.writeable = False
    return out_images, out_classes


def digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images float32 (M, 64) scaled to [0, 1] and classes int64 (M,) of one split.

    M = 1258 for 'train', 539 for 'test'; see digits_split_index. Read-only, cached.
    """
    return _digits_split_cached(_check_split(split))


@lru_cache(maxsize=2)
def _class_pools(split: str) -> tuple[np.ndarray, ...]:
    """For each class 0-9, the load_digits() indices of its images in `split`."""
    _, classes = _digits_all()
    index = _digits_split_index_cached(split)
    return tuple(index[classes[index] == c] for c in range(10))


def _balanced_sizes(n: int, caps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """n split into len(caps) clusters as evenly as caps allow, remainder to random ones."""
    sizes = np.ones(len(caps), dtype=np.int64)
    remaining = n - len(caps)
    while remaining > 0:
        room = caps - sizes
        active = np.flatnonzero(room > 0)
        share = remaining // len(active)
        if share == 0:
            sizes[rng.choice(active, size=remaining, replace=False)] += 1
            break
        add = np.minimum(share, room[active])
        sizes[active] += add
        remaining -= int(add.sum())
    return sizes


def _digits_task_layout(n, n_classes, alpha, split, rng, k_max=10):
    """Cluster labels (n,) in CRP order and the digit class of each cluster (K,)."""
    caps = np.array([len(p) for p in _class_pools(split)])
    smallest = np.cumsum(np.sort(caps))  # smallest[k-1]: points k classes can surely hold
    if n_classes is not None:
        k_lo = k_hi = _check_int("n_classes", n_classes, 1)
        if k_lo > min(10, n):
            raise ValueError(f"n_classes must be <= min(10, n_points) = {min(10, n)}, got {k_lo}")
        if n > smallest[k_lo - 1]:
            raise ValueError(
                f"cannot draw {n} different images from {k_lo} digit classes of the "
                f"'{split}' split: the {k_lo} smallest classes hold only {smallest[k_lo - 1]} "
                f"images; use fewer points or more classes")
    else:
        k_hi = min(k_max, 10, n)
        if n > smallest[k_hi - 1]:
            raise ValueError(
                f"n_points={n} is too many for the '{split}' split with at most {k_hi} "
                f"classes: at most {smallest[k_hi - 1]} points fit")
        k_lo = int(np.searchsorted(smallest, n)) + 1  # fewest classes that surely hold n
    # CRP partitions, rejected until K is in range and every cluster fits its class's pool
    for _ in range(8):
        rows = _crp_rows(64, n, alpha, rng)
        for labels in rows:
            k = int(labels.max()) + 1
            if k_lo <= k <= k_hi:
                classes = rng.choice(10, size=k, replace=False)
                if np.all(cluster_sizes(labels) <= caps[classes]):
                    return labels, classes
    # fallback (N large, or the forced K is improbable): balanced random sizes
    k = int(np.clip(rows[0].max() + 1, k_lo, k_hi))
    classes = rng.choice(10, size=k, replace=False)
    labels = np.repeat(np.arange(k), _balanced_sizes(n, caps[classes], rng))
    return labels, classes


def _digits_task_index(n, n_classes, alpha, split, rng, k_max=10):
    """load_digits() indices (n,) and canonical labels (n,) of one random task."""
    labels, classes = _digits_task_layout(n, n_classes, alpha, split, rng, k_max)
    pools = _class_pools(split)
    index = np.empty(n, dtype=np.int64)
    for k, c in enumerate(classes):
        members = labels == k
        index[members] = rng.choice(pools[c], size=int(members.sum()), replace=False)
    order = rng.permutation(n)
    return index[order], canonical_labels(labels[order])


def make_digits_task(n_points: int, n_classes: int | None = None, alpha: float = 0.7,
                     split: str = "test", seed=0, return_index: bool = False, k_max: int = 10):
    """One clustering task made of digit images, in random order.

    K classes are chosen uniformly without replacement; cluster k gets n_k distinct images
    of its class from `split`. Cluster sizes come from a CRP(alpha) partition of n_points
    with 1 <= K <= k_max (or K = n_classes if given), redrawn until every cluster fits its
    class's pool; if that keeps failing (large N, improbable K) the sizes are balanced at
    random instead. Raises ValueError if n_points cannot fit at all.

    Returns X float64 (n_points, 64) in [0, 1] and canonical labels int64 (n_points,), and
    with return_index=True also index int64 (n_points,): rows of load_digits() (so
    load_digits().images[index] are the 8x8 thumbnails).
    """
    n = _check_int("n_points", n_points, 1)
    alpha = _check_float("alpha", alpha, strictly_positive=True)
    k_max = _check_int("k_max", k_max, 1)
    index, labels = _digits_task_index(n, n_classes, alpha, _check_split(split),
                                       np.random.default_rng(seed), k_max)
    X = _digits_all()[0][index].astype(np.float64)
    return (X, labels, index) if return_index else (X, labels)


def digits_batch(batch_size: int, n_points: int, rng, split: str = "train", k_max: int = 10,
                 alpha: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """B independent digits tasks (see make_digits_task), for training.

    Returns X float32 (B, N, 64) and canonical labels int64 (B, N).
    """
    b = _check_int("batch_size", batch_size, 1)
    n = _check_int("n_points", n_points, 1)
    alpha = _check_float("alpha", alpha, strictly_positive=True)
    k_max = _check_int("k_max", k_max, 1)
    split = _check_split(split)
    rng = np.random.default_rng(rng)
    rows = [_digits_task_index(n, None, alpha, split, rng, k_max) for _ in range(b)]
    index = np.stack([r[0] for r in rows])
    labels = np.stack([r[1] for r in rows])
    return _digits_all()[0][index], labels


# ----------------------------------------------------------------------------------------
# reading uploads

TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS + (".npy", ".npz")
LABEL_COLUMN_NAMES = ("label", "labels", "cluster", "class", "y")  # "y" only without an "x"
_NPZ_DATA_KEYS = ("X", "x", "data")
_NPZ_LABEL_KEYS = ("labels", "label", "y")
_MAX_MEMBER_BYTES = 256 * 2**20  # refuse to inflate a single .npz member beyond this

# everything numpy / zipfile may raise on malformed bytes
_LOAD_ERRORS = (ValueError, TypeError, SyntaxError, OSError, EOFError, KeyError, IndexError,
                OverflowError, MemoryError, RuntimeError, struct.error, zlib.error,
                tokenize.TokenError, zipfile.BadZipFile, zipfile.LargeZipFile)
_DTYPE_KIND_NAMES = {"b": "boolean", "c": "complex", "U": "string", "S": "bytes string",
                     "V": "structured / void", "M": "datetime", "m": "timedelta",
                     "O": "Python object", "T": "string"}


def read_points(raw_bytes: bytes, filename: str, max_points: int = MAX_POINTS):
    """Parse an uploaded point set.

    Formats by extension (case-insensitive): .csv / .tsv / .txt text (delimiter sniffed:
    comma, tab, semicolon or whitespace; optional header, present when the first row is not
    all numbers; a column named label, labels, cluster or class, or else y when there is no
    column x, holds ground-truth labels of any kind; lines starting with # are skipped),
    .npy (one 2-D numeric array) and .npz (array 'X', 'x' or 'data', or its only array,
    plus optional 'labels' / 'label' / 'y'). Nothing is ever unpickled.

    Returns X float64 (N, d) and canonical labels int64 (N,), or None if the file has no
    labels. Any problem with the bytes raises InputError; text row numbers are 1-based
    line numbers of the file, array row numbers are 1-based row indices.
    """
    if isinstance(raw_bytes, (bytearray, memoryview)):
        raw_bytes = bytes(raw_bytes)
    if not isinstance(raw_bytes, bytes):
        raise InputError(f"Expected the file's bytes, got {type(raw_bytes).__name__}.")
    if not isinstance(filename, str):
        raise InputError(f"Expected a file name string, got {type(filename).__name__}.")
    if (isinstance(max_points, bool) or not isinstance(max_points, numbers.Integral)
            or max_points < 2):
        raise InputError(f"max_points must be an integer >= 2, got {max_points!r}.")
    ext = os.path.splitext(filename)[1].lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise InputError(f"Unsupported file type {ext or '(no extension)'!r} for {filename!r}. "
                         f"Supported: {', '.join(SUPPORTED_EXTENSIONS)}.")
    if not raw_bytes.strip():
        raise InputError(f"The file {filename!r} is empty.")
    if ext in TEXT_EXTENSIONS:
        X, labels = _read_text(raw_bytes, max_points)
    elif ext == ".npy":
        X, labels = _load_npy(raw_bytes, "The .npy file"), None
    else:
        X, labels = _read_npz(raw_bytes)
    return _finish(X, labels, max_points)


def write_points_csv(X, labels=None) -> bytes:
    """CSV bytes with header x0..x{d-1}[,label]; floats written exactly (read_points reads it)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array X, got {X.ndim}D array instead.")
    header = [f"x{j}" for j in range(X.shape[1])]
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(X):
            raise ValueError(f"labels has {len(labels)} entries but X has {len(X)} rows")
        header.append("label")
    lines = [",".join(header)]
    for r, row in enumerate(X.tolist()):
        fields = [repr(v) for v in row]
        if labels is not None:
            fields.append(str(labels[r]))
        lines.append(",".join(fields))
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- validation shared by all formats


def _finish(X: np.ndarray, labels, max_points: int):
    """Check X (and labels) and return X float64 (N, d), canonical labels or None."""
    _check_dtype(X, "The data")
    if X.ndim == 1:
        raise InputError(
            "Expected 2D array, got 1D array instead. Reshape your data either using "
            "X.reshape(-1, 1) if it has a single feature or X.reshape(1, -1) if it "
            "contains a single sample.")
    if X.ndim != 2:
        raise InputError(f"Expected 2D array, got {X.ndim}D array instead (shape {X.shape}). "
                         "Flatten each point to one row, e.g. X.reshape(len(X), -1).")
    n, d = X.shape
    if d == 0:
        raise InputError("The data has no numeric columns (0 features per point).")
    if n < 2:
        raise InputError(f"At least 2 points are needed to cluster, got {n}.")
    if n > max_points:
        raise InputError(f"The file has {n} points; the limit is {max_points}. "
                         "Upload a random subsample.")
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "NaN (a missing value)" if np.isnan(X[r, c]) else "inf (an infinite value)"
        raise InputError(f"Row {r + 1} contains {what} in column {c + 1}. "
                         "Remove or fill such values before uploading.")
    if labels is not None:
        labels = _check_labels(labels, n)
    return X, labels


def _check_dtype(arr: np.ndarray, what: str) -> None:
    kind = arr.dtype.kind
    if kind not in "fiu":
        name = _DTYPE_KIND_NAMES.get(kind, "non-numeric")
        raise InputError(f"{what} has {name} dtype {arr.dtype}; a real-valued numeric array "
                         "(float or int) is needed.")


def _check_labels(labels: np.ndarray, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise InputError(f"Labels must be a 1D array, got shape {labels.shape}.")
    if len(labels) != n:
        raise InputError(f"The labels have {len(labels)} entries but there are {n} points; "
                         "they must match one to one.")
    if labels.dtype.kind not in "biuUSf":
        raise InputError(f"Labels have unsupported dtype {labels.dtype}.")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        r = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise InputError(f"Label {r + 1} is NaN or inf.")
    return canonical_labels(labels)


# --- text


def _read_text(raw: bytes, max_points: int):
    """(X float64 (N, d), label strings (N,) or None); errors name 1-based file lines."""
    text = _decode(raw)
    lines = [(no, line) for no, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InputError("The file is empty: it has no data rows.")
    if len(lines) > max_points + 1:
        raise InputError(f"The file has about {len(lines)} rows; the limit is {max_points} "
                         "points. Upload a random subsample.")
    delimiter = _sniff_delimiter([line for _, line in lines[:20]])
    rows = [(no, _split_line(line, delimiter)) for no, line in lines]
    header = None
    if not all(_is_number(f) for f in rows[0][1]):
        header, rows = rows[0][1], rows[1:]
        if not rows:
            raise InputError("The file has a header row but no data rows.")
    width = len(header) if header is not None else len(rows[0][1])
    for no, fields in rows:
        if len(fields) != width:
            raise InputError(f"Row {no} has {len(fields)} value{'s' * (len(fields) != 1)}, "
                             f"expected {width}"
                             f"{' (as many as header names)' if header else ''}.")
    label_col = _label_column(header)
    feature_cols = [j for j in range(width) if j != label_col]
    first_no, first = rows[0]
    if not feature_cols or not any(_is_number(first[j]) for j in feature_cols):
        raise InputError(f"The file has no numeric columns (first data row, row {first_no}: "
                         f"{', '.join(repr(f) for f in first[:5])}).")
    X = np.empty((len(rows), len(feature_cols)))
    for r, (no, fields) in enumerate(rows):
        for c, j in enumerate(feature_cols):
            X[r, c] = _to_float(fields[j], no, j, header)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "NaN (a missing value)" if np.isnan(X[r, c]) else "inf (an infinite value)"
        name = f" ({header[feature_cols[c]]!r})" if header is not None else ""
        raise InputError(f"Row {rows[r][0]} contains {what} in column {feature_cols[c] + 1}"
                         f"{name}. Remove or fill such values before uploading.")
    labels = None
    if label_col is not None:
        labels = [fields[label_col] for _, fields in rows]
        for (no, _), value in zip(rows, labels):
            if value == "":
                raise InputError(f"Row {no} has an empty label.")
        labels = np.array(labels)
    return X, labels


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"The file is not UTF-8 text (byte {raw[err.start]:#04x} at position "
                         f"{err.start}). Save it as UTF-8 CSV, or upload a .npy file.") from err
    if "\x00" in text:
        raise InputError("The file contains NUL bytes, so it looks binary rather than text. "
                         "Upload CSV text, or use the .npy / .npz extension for NumPy files.")
    return text


def _sniff_delimiter(sample: list[str]) -> str | None:
    """Tab, semicolon or comma: the one found on most sampled lines, if on more than half
    of them (a short row then reads as ragged, not as another format); else None
    (whitespace)."""
    counts = {d: sum(d in line for line in sample) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])   # ties: the earlier in the tuple
    return best if 2 * counts[best] > len(sample) else None


def _split_line(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    try:
        fields = next(csv.reader([line], delimiter=delimiter))
    except csv.Error as err:
        raise InputError(f"Could not parse the line {line[:40]!r}: {err}") from err
    return [f.strip() for f in fields]


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _to_float(field: str, row: int, col: int, header) -> float:
    try:
        return float(field)
    except ValueError as err:
        name = f" ({header[col]!r})" if header is not None else ""
        problem = ("is empty (a missing value)" if field == ""
                   else f"has {field[:30]!r}, not a number")
        raise InputError(
            f"Row {row}, column {col + 1}{name} {problem}. Only numeric columns are allowed, "
            f"plus one label column with a header named {', '.join(LABEL_COLUMN_NAMES)}.") from err


def _label_column(header) -> int | None:
    """Index of the label column: one named label/labels/cluster/class, else one named y,
    except when a column named x exists too (then x and y are coordinates)."""
    if header is None:
        return None
    names = [name.strip().lower() for name in header]
    found = [j for j, name in enumerate(names) if name in LABEL_COLUMN_NAMES[:-1]]
    if len(found) > 1:
        listed = ", ".join(repr(header[j]) for j in found)
        raise InputError(f"The header has more than one label column ({listed}); keep one.")
    if not found and "x" not in names:
        found = [j for j, name in enumerate(names) if name == "y"][:1]
    return found[0] if found else None


# --- numpy binaries


def _load_npy(raw: bytes, what: str) -> np.ndarray:
    """Load one .npy payload, checking its header first: no pickles, no truncation."""
    if not raw.startswith(np.lib.format.MAGIC_PREFIX):
        hint = (" It is a zip archive: use the .npz extension." if raw.startswith(b"PK")
                else " If it is text, use the .csv extension.")
        raise InputError(f"{what} is not a NumPy .npy file (it lacks the .npy header).{hint}")
    fp = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise InputError(f"{what} uses .npy format version {version}, which is not "
                             "supported; save a plain numeric array with numpy.save.")
    except InputError:
        raise
    except _LOAD_ERRORS as err:
        raise InputError(f"{what} is corrupt: its .npy header cannot be read ({err}).") from err
    if dtype.hasobject:
        raise InputError(f"{what} contains Python objects (pickled data), which are not loaded "
                         "for safety. Save a plain numeric array, e.g. "
                         "np.save(f, X.astype(float)).")
    need = math.prod(shape) * dtype.itemsize
    have = len(raw) - fp.tell()
    if have < need:
        raise InputError(f"{what} is truncated or corrupt: its header announces shape {shape} "
                         f"({need} bytes of data) but only {have} bytes follow.")
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except _LOAD_ERRORS as err:
        raise InputError(f"{what} is corrupt and cannot be loaded ({err}).") from err
    if not isinstance(array, np.ndarray):
        raise InputError(f"{what} is not a single NumPy array.")
    return array


def _read_npz(raw: bytes):
    """(X array, labels array or None) from .npz bytes."""
    if not raw.startswith(b"PK"):
        hint = (" It is a single-array .npy file: use the .npy extension."
                if raw.startswith(np.lib.format.MAGIC_PREFIX) else "")
        raise InputError(f"The .npz file is not a NumPy .npz (zip) archive.{hint}")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = {info.filename[:-4]: info for info in archive.infolist()
                       if info.filename.endswith(".npy")}
            data_key, label_key = _npz_keys(list(members))
            X = _npz_member(archive, members, data_key)
            labels = _npz_member(archive, members, label_key) if label_key else None
    except InputError:
        raise
    except _LOAD_ERRORS as err:
        raise InputError(f"The .npz file is corrupt and cannot be read ({err}).") from err
    if labels is not None and labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    return X, labels


def _npz_keys(keys: list[str]) -> tuple[str, str | None]:
    if not keys:
        raise InputError("The .npz archive contains no arrays.")
    label_key = next((k for k in _NPZ_LABEL_KEYS if k in keys), None)
    data_key = next((k for k in _NPZ_DATA_KEYS if k in keys), None)
    others = [k for k in keys if k != label_key]
    if data_key is None and len(others) == 1:
        data_key = others[0]
    if data_key is None:
        raise InputError(f"The .npz archive has arrays {', '.join(map(repr, keys))}; name the "
                         f"points 'X' (and the optional labels 'labels').")
    return data_key, label_key


def _npz_member(archive: zipfile.ZipFile, members: dict, key: str) -> np.ndarray:
    info = members[key]
    if info.file_size > _MAX_MEMBER_BYTES:
        raise InputError(f"Array {key!r} in the .npz is too large ({info.file_size} bytes).")
    return _load_npy(archive.read(info), f"Array {key!r} in the .npz")
