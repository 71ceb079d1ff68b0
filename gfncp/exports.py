"""CSV downloads of the Uncertainty page's statistics (point sets: data.write_points_csv;
step traces: trace_export)."""
from __future__ import annotations

import io

import numpy as np

from .posterior import PointUncertainty


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
