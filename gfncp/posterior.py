"""Posterior summaries of sampled clusterings: pure numpy functions of label samples.

No model runs here: the samples come in as arrays; exports are in exports.py.

Given S sampled partitions of N points (labels (S, N), e.g. `Clusterer.sample(...)` or a
Gibbs run), with optional non-negative weights (uniform for ancestral samples):

- `coassignment`: P(i and j in the same cluster) (from `gfncp.metrics`).
- `reference_clustering`: the most probable sampled clustering (most frequent; ties broken
  by the highest log q), the clustering the per-point statistics are expressed against.
- `match_to_reference` (matching.py): every sample's clusters matched one-to-one to the
  reference clusters by maximum overlap; a sample cluster left without a partner (or
  sharing no point with it) is "unmatched".
- `point_uncertainty`: per point, the distribution over reference clusters (+ unmatched)
  across samples; its entropy (nats) and the probability of the most likely option; and
  the cluster-mate confidence (mean co-assignment with the other points of the point's
  reference cluster; for a reference singleton, the probability of being alone).
- `k_posterior`: P(K = k) from the samples.
- `top_clusterings`: distinct sampled clusterings, their empirical frequency and q.
- `aligned_probabilities` / `total_variations`: compare exact distributions over all
  partitions of a tiny set (a model's: model_distribution.py; the posterior's: references.py).
- `summarize`: all of the above at once, as a `PosteriorSummary`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matching import match_to_reference
from .metrics import PartitionDistribution, coassignment, nmi, total_variation
from .partitions import canonical_labels, distinct_partitions

__all__ = [
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
    "aligned_probabilities",
    "total_variations",
    "clustering_table",
]


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


def sample_and_summarize(model, X, n_samples: int, seed: int, reference: str = "consensus") -> PosteriorSummary:
    """What the Uncertainty page shows for one model: S samples drawn with the points in a random
    order (seeded by `seed`: the kind of order the models were trained on, where a table's own
    row order is often sorted by class) and their summary against a reference clustering:
    "consensus" (model.consensus: the greedy decode that 16 random orders agree with most, the
    library's answer), "greedy" (one pass in the rows' order) or "mode" (the most probable sample)."""
    if reference not in ("consensus", "greedy", "mode"):
        raise ValueError(f"reference must be 'consensus', 'greedy' or 'mode', got {reference!r}.")
    samples = model.sample(X, n_samples, seed, order=np.random.default_rng(seed).permutation(len(X)))
    ref = None                                    # "mode": summarize picks the most probable sample
    if reference == "consensus":
        ref = model.consensus(X, seed=seed).labels
    elif reference == "greedy":
        ref = model.greedy(X)
    return summarize(samples.labels, samples.log_prob, reference=ref)


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
# Exact distributions of tiny sets (model_distribution.py, references.exact_posterior)
# ---------------------------------------------------------------------------------------

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
# Tables
# ---------------------------------------------------------------------------------------

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
