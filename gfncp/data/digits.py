"""Real-data tasks: clustering tasks made of scikit-learn's bundled 8x8 digits (docs/method.md
§The generative model). Never downloads anything.

    digits_split(split)                 the fixed 70/30 train / test split of the 1797 images
    make_digits_task(n, ...)            one clustering task: K distinct classes, n_k images each
    digits_batch(B, n, rng, ...)        B independent tasks, float32, for training

Cluster sizes come from the same CRP as the synthetic sets (synthetic.py); labels are
canonical; randomness only comes from explicit seeds or numpy Generators.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..partitions import canonical_labels, cluster_sizes
from ..prior import TEXTBOOK
from ._args import check_float, check_int
from .synthetic import _crp_rows

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
        k_lo = k_hi = check_int("n_classes", n_classes, 1)
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


def make_digits_task(n_points: int, n_classes: int | None = None, alpha: float = TEXTBOOK.alpha,
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
    n = check_int("n_points", n_points, 1)
    alpha = check_float("alpha", alpha, strictly_positive=True)
    k_max = check_int("k_max", k_max, 1)
    index, labels = _digits_task_index(n, n_classes, alpha, _check_split(split),
                                       np.random.default_rng(seed), k_max)
    X = _digits_all()[0][index].astype(np.float64)
    return (X, labels, index) if return_index else (X, labels)


def digits_batch(batch_size: int, n_points: int, rng, split: str = "train", k_max: int = 10,
                 alpha: float = TEXTBOOK.alpha) -> tuple[np.ndarray, np.ndarray]:
    """B independent digits tasks (see make_digits_task), for training.

    Returns X float32 (B, N, 64) and canonical labels int64 (B, N).
    """
    b = check_int("batch_size", batch_size, 1)
    n = check_int("n_points", n_points, 1)
    alpha = check_float("alpha", alpha, strictly_positive=True)
    k_max = check_int("k_max", k_max, 1)
    split = _check_split(split)
    rng = np.random.default_rng(rng)
    rows = [_digits_task_index(n, None, alpha, split, rng, k_max) for _ in range(b)]
    index = np.stack([r[0] for r in rows])
    labels = np.stack([r[1] for r in rows])
    return _digits_all()[0][index], labels
