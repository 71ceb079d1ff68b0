"""Partitions as canonical label vectors.

A clustering of N points is stored as an int array `labels` of shape (N,) in *canonical*
form: clusters are numbered in order of first appearance (labels[0] == 0 and
labels[n] <= max(labels[:n]) + 1). Every model, sampler and probability in the library
assumes this form, so two label vectors describe the same partition iff they are equal.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

# The largest N whose partitions are enumerated (exact posterior, a model's exact q): Bell(9) =
# 21147 partitions; Bell(10) = 115975 would be slow and large.
MAX_EXACT_N = 9


def canonical_labels(labels) -> np.ndarray:
    """Relabel clusters in order of first appearance.

    labels: array-like (N,) or (S, N) of hashable cluster ids -> int64 array, same shape.
    """
    arr = np.asarray(labels)
    if arr.ndim == 2:
        return np.stack([canonical_labels(row) for row in arr]) if len(arr) else arr.astype(np.int64)
    if arr.ndim != 1:
        raise ValueError(f"Expected 1D or 2D label array, got {arr.ndim}D array instead.")
    _, first_index, inverse = np.unique(arr, return_index=True, return_inverse=True)
    # rank of each unique value by where it first appears
    rank = np.empty(len(first_index), dtype=np.int64)
    rank[np.argsort(first_index, kind="stable")] = np.arange(len(first_index))
    return rank[inverse.reshape(-1)]


def is_canonical(labels) -> bool:
    arr = np.asarray(labels)
    if arr.ndim != 1 or len(arr) == 0 or arr[0] != 0:
        return len(arr) == 0
    running_max = np.maximum.accumulate(arr)
    return bool(np.all(arr[1:] <= running_max[:-1] + 1)) and bool(np.all(arr >= 0))


def permute_labels(labels, order) -> np.ndarray:
    """Labels of the points taken in `order` (an index array), re-canonicalised."""
    return canonical_labels(np.asarray(labels)[np.asarray(order)])


def partition_key(labels) -> bytes:
    """A hashable key of a canonical label vector (for deduplicating sampled partitions)."""
    return np.ascontiguousarray(labels, dtype=np.int64).tobytes()


def distinct_partitions(labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of canonical label vectors (S, N), in order of first appearance.

    -> (unique (M, N), first index of each in the input (M,), counts (M,)).
    """
    z = np.asarray(labels, dtype=np.int64)
    index: dict[bytes, int] = {}
    first, counts = [], []
    for s, row in enumerate(z):
        key = partition_key(row)
        if key not in index:
            index[key] = len(first)
            first.append(s)
            counts.append(0)
        counts[index[key]] += 1
    first = np.asarray(first, dtype=np.int64)
    return z[first], first, np.asarray(counts, dtype=np.int64)


def enumerate_partitions(n: int) -> Iterator[np.ndarray]:
    """Yield every partition of n points as a canonical label vector (Bell(n) of them)."""
    if n <= 0:
        return
    labels = np.zeros(n, dtype=np.int64)

    def rec(i: int, k: int):
        if i == n:
            yield labels.copy()
            return
        for c in range(k + 1):
            labels[i] = c
            yield from rec(i + 1, max(k, c + 1))

    labels[0] = 0
    yield from rec(1, 1)


def all_partitions(n: int) -> np.ndarray:
    """All Bell(n) canonical partitions of n points, shape (Bell(n), n)."""
    return np.array(list(enumerate_partitions(n)), dtype=np.int64).reshape(-1, n)


def cluster_sizes(labels) -> np.ndarray:
    """Sizes of clusters 0..K-1 of a canonical label vector."""
    return np.bincount(np.asarray(labels, dtype=np.int64))
