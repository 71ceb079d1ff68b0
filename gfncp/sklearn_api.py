"""A scikit-learn estimator around the pretrained clusterers: the one public default path.

    GFNCPClustering().fit(X).labels_                    # any finite (N, d) array, any units
    GFNCPClustering(kind="ncp").fit_predict(X)          # the NCP twin of the same pair
    GFNCPClustering(model="gfncp-mog2d").fit(X)         # a named model, in its own units

`model="auto"` does exactly what the app does for an upload: the pair routing picks for
an uploaded set (gfncp.routing.default_pair), its input mapping (routing.map_to_pair: for
the general pair, per-feature standardisation and padding or projection to its 16 inputs).
A named model gets the same mapping its pair uses.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_array

from . import routing
from .metrics import coassignment

UPLOAD = "upload"     # the data source whose default path "auto" follows


def resolve_model(model, kind: str, dim: int):
    """(clusterer, pair) for the estimator's `model` argument on a set of dimension dim."""
    from .registry import load_pretrained

    if kind not in ("gfncp", "ncp"):
        raise ValueError(f"kind must be 'gfncp' or 'ncp', got {kind!r}.")
    if model == "auto":
        pair = routing.default_pair(dim, UPLOAD)
        return load_pretrained(routing.pair_names(pair)[0 if kind == "gfncp" else 1]), pair
    clusterer = load_pretrained(model) if isinstance(model, str) else model
    return clusterer, routing.pair_of_model(clusterer.name)


class GFNCPClustering(ClusterMixin, BaseEstimator):
    """Cluster a set with a pretrained GFNCP (or NCP) model.

    Parameters
    ----------
    model : "auto" (default), a shipped model name (gfncp.list_pretrained()) or a Clusterer.
    kind : "gfncp" (default) or "ncp": which twin of the pair "auto" picks.
    n_orders : greedy decodes, each in its own random order, whose consensus is the answer
        (Clusterer.consensus: the decode the others agree with most).
    n_samples : posterior samples drawn for the uncertainty attributes.
    random_state : int seed of the orders and the samples.

    Fitted attributes
    -----------------
    labels_ (N,): the consensus of `n_orders` greedy decodes in random orders; log_prob_ its
    log q; consensus_agreement_ its mean adjusted Rand index with the other decodes (1: every
    order gave the same answer); greedy_labels_ (N,) greedy decoding in the rows' own order;
    samples_ (S, N) and sample_log_prob_ (S,), drawn in a random order; coassignment_ (N, N)
    posterior probability that two points share a cluster; n_clusters_; model_name_ the model
    that served the set; pair_ its pair.
    """

    def __init__(self, model="auto", kind: str = "gfncp", n_orders: int = 16, n_samples: int = 100,
                 random_state: int = 0):
        self.model = model
        self.kind = kind
        self.n_orders = n_orders
        self.n_samples = n_samples
        self.random_state = random_state

    def fit(self, X, y=None):
        X = check_array(X, dtype=np.float64, ensure_min_samples=1)
        if self.n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {self.n_samples}.")
        if self.n_orders < 1:
            raise ValueError(f"n_orders must be >= 1, got {self.n_orders}.")
        clusterer, pair = resolve_model(self.model, self.kind, X.shape[1])
        Xm = routing.map_to_pair(X, pair) if pair is not None else X
        agreed = clusterer.consensus(Xm, n_orders=self.n_orders, seed=self.random_state)
        self.labels_ = agreed.labels
        self.log_prob_ = clusterer.log_prob(Xm, agreed.labels, order=agreed.orders[0])
        self.consensus_agreement_ = agreed.agreement
        self.greedy_labels_ = clusterer.greedy(Xm)
        s = clusterer.sample(Xm, n_samples=self.n_samples, seed=self.random_state, order=agreed.orders[0])
        self.samples_ = s.labels
        self.sample_log_prob_ = s.log_prob
        self.coassignment_ = coassignment(s.labels)
        self.n_clusters_ = int(self.labels_.max()) + 1
        self.model_name_ = clusterer.name
        self.pair_ = pair
        self.n_features_in_ = X.shape[1]
        return self
