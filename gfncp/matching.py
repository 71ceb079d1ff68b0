"""Matching clusterings to a reference: the one Hungarian matcher.

Two clusterings of the same points name their clusters arbitrarily. To colour them alike,
or to count the points that moved, each cluster of a clustering is paired one-to-one with a
reference cluster so that the number of shared points is maximal (Hungarian algorithm on the
contingency table); a cluster left without a partner, or paired with one it shares no point
with, is "unmatched". Used by the posterior summaries (posterior.py) and the order study
(invariance.py).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def match_to_reference(labels, reference, fresh_unmatched: bool = False) -> np.ndarray:
    """Relabel clusterings in terms of the reference clusters.

    labels (S, N) or (N,), any integer ids; reference (N,) non-negative ids, used as they
    are (gaps allowed: K = max(reference) + 1). Returns int64 of labels' shape in 0..K,
    where K means "unmatched"; with fresh_unmatched, every unmatched cluster gets its own
    id K, K+1, ... in order of first appearance instead. Invariant to permutations of the
    clusterings' ids.
    """
    z = np.asarray(labels)
    one = z.ndim == 1
    z = z[None, :] if one else z
    ref = np.asarray(reference).reshape(-1)
    if z.ndim != 2 or ref.shape != (z.shape[1],):
        raise ValueError(f"reference and labels must describe the same N points, got shapes "
                         f"{ref.shape} and {np.shape(labels)}.")
    if np.any(ref < 0):
        raise ValueError("reference labels must be non-negative.")
    ref = ref.astype(np.int64)
    K = int(ref.max()) + 1
    out = np.full(z.shape, K, dtype=np.int64)
    for s, row in enumerate(z):
        ids, first, zs = np.unique(row, return_index=True, return_inverse=True)
        ks = len(ids)
        table = np.bincount(zs * K + ref, minlength=ks * K).reshape(ks, K)
        rows, cols = linear_sum_assignment(table, maximize=True)
        keep = table[rows, cols] > 0
        mapping = np.full(ks, K, dtype=np.int64)
        mapping[rows[keep]] = cols[keep]
        if fresh_unmatched:
            lone = np.flatnonzero(mapping == K)
            mapping[lone[np.argsort(first[lone], kind="stable")]] = K + np.arange(len(lone))
        out[s] = mapping[zs]
    return out[0] if one else out
