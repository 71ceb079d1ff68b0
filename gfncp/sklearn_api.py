"""A scikit-learn style estimator around a pretrained clusterer."""
from __future__ import annotations

import numpy as np

from .metrics import coassignment


class GFNCPClustering:
    """Cluster a set with a pretrained GFNCP (or NCP) model.

    Parameters: model (a shipped name, see gfncp.list_pretrained()), n_samples (posterior
    samples drawn for the uncertainty attributes), random_state (int seed).

    Fitted attributes: labels_ (N,) the most probable clustering found (greedy decoding or a
    sample, whichever has the higher log q); log_prob_ its log q; samples_ (S, N) and
    sample_log_prob_ (S,);
    coassignment_ (N, N) posterior probability that two points share a cluster.
    """

    def __init__(self, model: str = "gfncp-mog2d", n_samples: int = 100, random_state: int = 0):
        self.model = model
        self.n_samples = n_samples
        self.random_state = random_state

    def fit(self, X, y=None):
        from .registry import load_pretrained

        clusterer = load_pretrained(self.model) if isinstance(self.model, str) else self.model
        greedy = clusterer.greedy(X)
        greedy_lp = clusterer.log_prob(X, greedy)
        s = clusterer.sample(X, n_samples=self.n_samples, seed=self.random_state)
        best = int(np.argmax(s.log_prob))
        if s.log_prob[best] > greedy_lp:
            self.labels_, self.log_prob_ = s.labels[best], float(s.log_prob[best])
        else:
            self.labels_, self.log_prob_ = greedy, greedy_lp
        self.samples_ = s.labels
        self.sample_log_prob_ = s.log_prob
        self.coassignment_ = coassignment(s.labels)
        self.n_clusters_ = int(self.labels_.max()) + 1
        return self

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X).labels_
