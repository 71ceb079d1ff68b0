"""Posterior summaries of sampled clusterings: pure numpy functions of label samples.

Given S sampled partitions of N points (labels (S, N), e.g. `Clusterer.sample(...)` or a
Gibbs run), with optional non-negative weights (uniform for ancestral samples):

- `coassignment`: P(i and j in the same cluster) (from `gfncp.metrics`).
- `reference_clustering`: the most probable sampled clustering (most frequent; ties broken
  by the highest log q), the clustering the per-point statistics are expressed against.
- `match_to_reference`: every sample's clusters matched one-to-one to the reference
  clusters by maximum overlap (Hungarian algorithm on the contingency table); a sample
  cluster that is left without a partner (or shares no point with it) is "unmatched".
- `point_uncertainty`: per point, the distribution over reference clusters (+ unmatched)
  across samples; its entropy (nats) and the probability of the most likely option; and
  the cluster-mate confidence (mean co-assignment with the other points of the point's
  reference cluster; for a reference singleton, the probability of being alone).
- `k_posterior`: P(K = k) from the samples.
- `top_clusterings`: distinct sampled clusterings, their empirical frequency and q.
- `model_partition_distribution`: for N <= 9, a model's exact q over all Bell(N)
  partitions, from Bell(N - 1) batched teacher-forced rows.
- `summarize`: all of the above at once, as a `PosteriorSummary`.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .metrics import PartitionDistribution, coassignment, nmi, total_variation
from .partitions import all_partitions, canonical_labels, distinct_partitions

__all__ = [
    "MAX_EXACT_N",
    "coassignment",
    "reference_clustering",
    "match_to_reference",
    "PointUncertainty",
    "point_uncertainty",
    "k_posterior",
    "TopClusterings",
    "top_clusterings",
    "PosteriorSummary",
    "summarize",
    "reference_order",
    "coassignment_agreement",
    "model_partition_distribution",
    "aligned_probabilities",
    "total_variations",
    "per_point_csv",
    "matrix_csv",
    "clustering_table",
]

MAX_EXACT_N = 9  # Bell(9) = 21147 partitions


def _samples(labels) -> np.ndarray:
    z = np.asarray(labels)
    if z.ndim == 1:
        z = z[None, :]
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"labels must be a non-empty (S, N) array, got shape {z.shape}")
    if np.any(z < 0):
        raise ValueError("cluster ids must be non-negative")
    return z.astype(np.int64, copy=False)


def _weights(weights, S: int) -> np.ndarray:
    if weights is None:
        return np.full(S, 1.0 / S)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if w.shape != (S,) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"weights must be {S} finite non-negative numbers with a positive sum")
    return w / w.sum()


# ---------------------------------------------------------------------------------------
# Reference clustering and matching
# ---------------------------------------------------------------------------------------

def reference_clustering(labels, log_prob=None, weights=None) -> np.ndarray:
    """The most probable sampled clustering (N,), canonical.

    Most probable = largest total weight (count, for ancestral samples); ties are broken by
    the highest log_prob (S,) when given, else by first appearance.
    """
    z = canonical_labels(_samples(labels))
    w = _weights(weights, len(z))
    uniq, first, inverse = np.unique(z, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    mass = np.bincount(inverse, weights=w, minlength=len(uniq))
    tie = np.zeros(len(uniq)) if log_prob is None else np.asarray(log_prob, dtype=float)[first]
    # lexsort: last key primary -> mass (desc), then log q (desc), then first appearance
    best = np.lexsort((first, -tie, -np.round(mass, 12)))[0]
    return uniq[best].copy()


def match_to_reference(labels, reference, fresh_unmatched: bool = False) -> np.ndarray:
    """Relabel every sample in terms of the reference clusters.

    labels (S, N), reference (N,) with K reference clusters -> (S, N) ints in 0..K, where
    K means "unmatched". Sample clusters are paired one-to-one with reference clusters so
    that the total overlap (number of shared points) is maximal (Hungarian algorithm on
    the contingency table); a pair that shares no point counts as unmatched.
    Invariant to permutations of the sample's cluster ids.

    fresh_unmatched: give each unmatched sample cluster its own id K, K+1, ... (in order of
    first appearance) instead of the common K, e.g. to colour clusterings consistently.
    """
    z = _samples(labels)
    ref = canonical_labels(np.asarray(reference).reshape(-1))
    S, N = z.shape
    if ref.shape != (N,):
        raise ValueError(f"reference must have shape ({N},), got {ref.shape}")
    K = int(ref.max()) + 1
    out = np.full((S, N), K, dtype=np.int64)
    for s in range(S):
        ids, first, zs = np.unique(z[s], return_index=True, return_inverse=True)
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
    return out


# ---------------------------------------------------------------------------------------
# Per-point uncertainty
# ---------------------------------------------------------------------------------------

@dataclass
class PointUncertainty:
    """Per-point statistics against a reference clustering with K clusters.

    reference:        (N,) the reference clustering (canonical)
    membership:       (N, K+1) P(point i is in reference cluster k) across samples; the last
                      column is "unmatched". Rows sum to 1.
    most_probable:    (N,) argmax of membership (K = unmatched)
    probability:      (N,) its probability
    entropy:          (N,) entropy of membership, nats (0 = certain; log(K+1) at most)
    mate_confidence:  (N,) mean co-assignment with the other points of the reference cluster
                      (reference singletons: probability of being alone)
    """

    reference: np.ndarray
    membership: np.ndarray
    most_probable: np.ndarray
    probability: np.ndarray
    entropy: np.ndarray
    mate_confidence: np.ndarray

    @property
    def n_reference_clusters(self) -> int:
        return int(self.membership.shape[1] - 1)

    @property
    def unmatched(self) -> int:
        """The column / label value that means "unmatched"."""
        return self.n_reference_clusters


def point_uncertainty(labels, reference, weights=None, C=None) -> PointUncertainty:
    """Per-point uncertainty of sampled clusterings (S, N) against `reference` (N,).

    weights: optional (S,) sample weights (uniform when None). C: the co-assignment matrix
    of the same samples and weights, if already computed.
    """
    z = _samples(labels)
    S, N = z.shape
    w = _weights(weights, S)
    ref = canonical_labels(np.asarray(reference).reshape(-1))
    K = int(ref.max()) + 1
    mapped = match_to_reference(z, ref)                       # (S, N) in 0..K
    flat = (np.arange(N)[None, :] * (K + 1) + mapped).reshape(-1)
    membership = np.bincount(flat, weights=np.repeat(w, N), minlength=N * (K + 1)).reshape(N, K + 1)
    membership /= membership.sum(axis=1, keepdims=True)
    most = membership.argmax(axis=1)
    prob = membership[np.arange(N), most]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(membership > 0, membership * np.log(membership), 0.0)
    entropy = np.maximum(-plogp.sum(axis=1), 0.0)

    if C is None:
        C = coassignment(z, w)
    sizes = np.bincount(ref, minlength=K)[ref]
    one_hot = np.zeros((N, K))
    one_hot[np.arange(N), ref] = 1.0
    own = (C @ one_hot)[np.arange(N), ref] - 1.0              # minus the diagonal (= 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mates = own / (sizes - 1)
    # P(alone): weight of samples in which the point's cluster has size 1
    slot = np.arange(S)[:, None] * (int(z.max()) + 1) + z
    sample_sizes = np.bincount(slot.reshape(-1))[slot]              # (S, N)
    alone = (w[:, None] * (sample_sizes == 1)).sum(axis=0)
    mate = np.clip(np.where(sizes > 1, mates, alone), 0.0, 1.0)
    return PointUncertainty(ref, membership, most, prob, entropy, mate)


def k_posterior(labels, weights=None) -> np.ndarray:
    """P(K = k) for k = 0..N from sampled clusterings (S, N) -> (N+1,) (entry 0 is 0)."""
    z = _samples(labels)
    w = _weights(weights, len(z))
    k = np.array([len(np.unique(row)) for row in z])
    return np.bincount(k, weights=w, minlength=z.shape[1] + 1)


@dataclass
class TopClusterings:
    """Distinct sampled clusterings, most frequent first (ties: higher q first).

    labels (M, N) canonical; frequency (M,) = count / S; log_q (M,) = log q under the model;
    n_distinct: number of distinct clusterings among the S samples.
    """

    labels: np.ndarray
    frequency: np.ndarray
    log_q: np.ndarray
    n_distinct: int

    @property
    def q(self) -> np.ndarray:
        return np.exp(self.log_q)

    @property
    def n_clusters(self) -> np.ndarray:
        return self.labels.max(axis=1) + 1


def top_clusterings(labels, log_prob, k: int = 8) -> TopClusterings:
    """The k most frequent distinct clusterings among samples (S, N) with log q (S,)."""
    z = canonical_labels(_samples(labels))
    log_prob = np.asarray(log_prob, dtype=float).reshape(-1)
    uniq, first, counts = distinct_partitions(z)
    rank = np.lexsort((first, -log_prob[first], -counts))[:k]
    return TopClusterings(uniq[rank], counts[rank] / len(z), log_prob[first[rank]], len(uniq))


# ---------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------

@dataclass
class PosteriorSummary:
    """All statistics of one sample set. `points` holds the per-point uncertainty."""

    n_samples: int
    coassignment: np.ndarray          # (N, N)
    points: PointUncertainty
    k_probs: np.ndarray               # (N+1,)
    top: TopClusterings

    @property
    def reference(self) -> np.ndarray:
        return self.points.reference

    @property
    def expected_k(self) -> float:
        return float(np.dot(np.arange(len(self.k_probs)), self.k_probs))


def summarize(labels, log_prob, reference=None, n_top: int = 8) -> PosteriorSummary:
    """Statistics of S ancestral samples (labels (S, N), log q (S,)), equally weighted.

    reference: the clustering to express per-point uncertainty against; default: the most
    probable sampled clustering (`reference_clustering`).
    """
    z = canonical_labels(_samples(labels))
    if reference is None:
        reference = reference_clustering(z, log_prob)
    C = coassignment(z)
    points = point_uncertainty(z, reference, C=C)
    return PosteriorSummary(len(z), C, points, k_posterior(z), top_clusterings(z, log_prob, n_top))


def reference_order(reference, within=None, max_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Point order for a co-assignment heatmap: by reference cluster, and inside a cluster
    by decreasing `within` (e.g. mate confidence) when given, else by index.

    Returns (order, boundaries): order (N,) point indices (or, when N > max_points, an
    evenly spaced subset of max_points of them, which keeps the cluster proportions), and
    boundaries, the positions in `order` at which a new reference cluster starts.
    """
    ref = np.asarray(reference, dtype=np.int64).reshape(-1)
    secondary = np.zeros(len(ref)) if within is None else -np.asarray(within, dtype=float)
    order = np.lexsort((np.arange(len(ref)), secondary, ref))
    if max_points is not None and len(order) > max_points:
        order = order[np.unique(np.linspace(0, len(order) - 1, max_points).round().astype(np.int64))]
    sorted_ref = ref[order]
    boundaries = np.flatnonzero(sorted_ref[1:] != sorted_ref[:-1]) + 1
    return order, boundaries


def coassignment_agreement(A: np.ndarray, B: np.ndarray) -> dict:
    """How close two co-assignment matrices are, over the pairs i < j:
    mean and max |A - B|, and the fraction of pairs that differ by more than 0.5."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    if A.shape != B.shape:
        raise ValueError(f"shapes differ: {A.shape} vs {B.shape}")
    iu = np.triu_indices(len(A), k=1)
    if len(iu[0]) == 0:
        return {"mean_abs": 0.0, "max_abs": 0.0, "frac_over_half": 0.0}
    d = np.abs(A[iu] - B[iu])
    return {"mean_abs": float(d.mean()), "max_abs": float(d.max()), "frac_over_half": float((d > 0.5).mean())}


# ---------------------------------------------------------------------------------------
# Exact model distributions for tiny sets
# ---------------------------------------------------------------------------------------

def model_partition_distribution(model, X, batch_size: int = 1024) -> PartitionDistribution:
    """A model's q(c | X) over all Bell(N) partitions of X (N <= 9), points in row order.

    The policy's choice at step n depends only on the labels of the points before n, so one
    teacher-forced row per partition of the first N - 1 points (Bell(N - 1) rows, the last
    point opening a new cluster) gives log q of the prefix and the probability of every
    option for the last point: log q of all its children at once, Bell(N) in total.

    The returned log-probabilities are q itself (not renormalised), sorted most probable
    first, so `probs.sum()` is 1 up to floating-point error for a proper sequential policy.
    """
    import torch

    from .teacher import teacher_forced

    Xt = model.points_tensor(X)
    N = len(Xt)
    if N > MAX_EXACT_N:
        raise ValueError(f"model_partition_distribution enumerates all partitions; N <= {MAX_EXACT_N}, got {N}")
    if N == 1:
        return PartitionDistribution(labels=np.zeros((1, 1), dtype=np.int64), log_probs=np.zeros(1))
    prefixes = all_partitions(N - 1)                               # (Bell(N-1), N-1)
    k_prev = prefixes.max(axis=1) + 1                              # clusters among the first N-1 points
    rows = np.hstack([prefixes, k_prev[:, None]])                  # last point opens a new cluster
    base = np.empty(len(rows))
    last = np.full((len(rows), N + 1), -np.inf)                    # log p(option k) for the last point
    # Batches of equal K: the pass costs O(K) per row, with K the batch's largest cluster id.
    by_k = np.argsort(k_prev, kind="stable")
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            idx = by_k[start:start + batch_size]
            lab = torch.as_tensor(rows[idx])
            tf = teacher_forced(model.net, Xt[None].expand(len(idx), N, Xt.shape[1]), lab)
            base[idx] = tf.log_p_chosen[:, :N - 1].sum(-1).double().numpy()
            lp = tf.log_probs[:, N - 1].double().numpy()             # (B, K_batch + 1)
            last[idx, :lp.shape[1]] = lp
    parent = np.repeat(np.arange(len(rows)), k_prev + 1)
    option = np.concatenate([np.arange(k + 1) for k in k_prev])
    labels = np.hstack([prefixes[parent], option[:, None]])
    log_q = base[parent] + last[parent, option]
    order = np.argsort(-log_q, kind="stable")
    return PartitionDistribution(labels=labels[order], log_probs=log_q[order])


def aligned_probabilities(distributions: dict, k: int = 10, by: str | None = None):
    """The k most probable partitions of one distribution (`by`, default the first) and every
    distribution's probability of them.

    distributions: name -> PartitionDistribution over the same N points.
    Returns (labels (k, N), {name: probs (k,)}).
    """
    names = list(distributions)
    lead = distributions[by or names[0]]
    labels = lead.labels[:k]
    out = {}
    for name, dist in distributions.items():
        lookup = dist.as_dict()
        out[name] = np.array([lookup.get(np.ascontiguousarray(row, dtype=np.int64).tobytes(), 0.0)
                              for row in labels])
    return labels, out


def total_variations(reference: PartitionDistribution, others: dict) -> dict:
    """Total variation between `reference` and each distribution in others (name -> dist)."""
    ref = reference.as_dict()
    return {name: total_variation(ref, dist.as_dict()) for name, dist in others.items()}


# ---------------------------------------------------------------------------------------
# Tables and exports
# ---------------------------------------------------------------------------------------

def per_point_csv(points: PointUncertainty) -> bytes:
    """CSV: index, most probable reference cluster (-1 = unmatched), its probability,
    entropy (nats), cluster-mate confidence, reference cluster."""
    most = np.where(points.most_probable == points.unmatched, -1, points.most_probable)
    buf = io.StringIO()
    buf.write("index,most_probable_cluster,probability,entropy_nats,cluster_mate_confidence,reference_cluster\n")
    for i in range(len(most)):
        buf.write(f"{i},{most[i]},{points.probability[i]:.6g},{points.entropy[i]:.6g},"
                  f"{points.mate_confidence[i]:.6g},{points.reference[i]}\n")
    return buf.getvalue().encode()


def matrix_csv(C: np.ndarray) -> bytes:
    """A square matrix as CSV with a header row and an index column (point indices)."""
    C = np.asarray(C, dtype=float)
    buf = io.StringIO()
    buf.write("index," + ",".join(str(j) for j in range(C.shape[1])) + "\n")
    for i, row in enumerate(C):
        buf.write(f"{i}," + ",".join(f"{v:.4g}" for v in row) + "\n")
    return buf.getvalue().encode()


def clustering_table(clusterings: dict, target=None, seconds: dict | None = None) -> list[dict]:
    """Rows (method, K, NMI to target, seconds) for clusterings name -> labels (N,)."""
    rows = []
    for name, labels in clusterings.items():
        labels = np.asarray(labels)
        rows.append({
            "method": name,
            "K": int(len(np.unique(labels))),
            "NMI": None if target is None else round(nmi(target, labels), 3),
            "seconds": None if not seconds or name not in seconds else round(float(seconds[name]), 3),
        })
    return rows
