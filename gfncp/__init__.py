"""GFNCP Explorer's library: amortized probabilistic clustering with GFlowNets (GFNCP) and
the Neural Clustering Process (NCP), with exact and MCMC references.

    import gfncp
    model = gfncp.load_pretrained("gfncp-mog2d")
    X, labels = gfncp.data.make_mog(100, seed=0)
    model.greedy(X)

Importing gfncp never imports Streamlit or UMAP.
"""
from . import data
from .clusterer import Clusterer, Samples, Trace
from .registry import list_pretrained, load_pretrained
from .sklearn_api import GFNCPClustering

__all__ = ["data", "Clusterer", "Samples", "Trace", "list_pretrained", "load_pretrained", "GFNCPClustering"]
__version__ = "0.1.0"
