"""The real-data evaluation: its matching, its AUROC and one set through every method."""
import numpy as np

from gfncp import evaluate_real
from gfncp.real_data import load_real


def test_wrong_points_after_one_to_one_matching():
    truth = np.array([0, 0, 0, 1, 1, 1])
    # cluster ids are arbitrary: 1 -> class 0, 0 -> class 1; point 2 sits with class 1's cluster
    labels = np.array([1, 1, 0, 0, 0, 0])
    assert evaluate_real.wrong_points(truth, labels).tolist() == [False, False, True, False, False, False]
    # a third cluster has no class left to match: its point is wrong
    assert evaluate_real.wrong_points(truth, np.array([0, 0, 2, 1, 1, 1])).tolist() == [
        False, False, True, False, False, False]


def test_auroc_of_a_perfect_and_a_useless_score():
    wrong = np.array([False, False, True, True])
    assert evaluate_real.auroc(np.array([0.1, 0.2, 0.8, 0.9]), wrong) == 1.0
    assert evaluate_real.auroc(np.array([0.5, 0.5, 0.5, 0.5]), wrong) == 0.5
    assert evaluate_real.auroc(np.ones(4), np.zeros(4, dtype=bool)) is None


def test_one_set_through_every_method(dev_models_dir):
    t = load_real("iris")
    rows = np.r_[0:20, 50:70, 100:120]
    out = evaluate_real.evaluate_set(t.X[rows], t.labels[rows], n_samples=4)
    assert {"GFNCP consensus", "GFNCP greedy (file order)", "NCP best of 4", "k-means (true K)", "DP-GMM",
            "BIC-GMM"} <= set(out)
    for r in out.values():
        assert 0.0 <= r["nmi"] <= 1.0 and r["k"] >= 1
    assert out["k-means (true K)"]["k"] == 3
    assert out["GFNCP consensus"]["model"] == "gfncp-general" and out["NCP consensus"]["model"] == "ncp-general"
    assert "uncertainty_auroc" in out["GFNCP consensus"]
    md = evaluate_real.to_markdown({"sets": {"iris": {"shape": [60, 4], "classes": 3, **out}},
                                    "means": {m: {"nmi": r["nmi"], "ari": r["ari"], "one_cluster": 0,
                                                  "uncertainty_auroc": None} for m, r in out.items()},
                                    "textbook": {"gfncp-general": 0.5, "gfncp-mog2d": 0.9}})
    assert "| iris (60 x 4, 3 classes) |" in md
