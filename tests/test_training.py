"""Training, checkpoints, the shipped models and the evaluation code."""
import json
from pathlib import Path
from dataclasses import replace

import numpy as np
import pytest
import torch

import gfncp
from gfncp import evaluate, registry, routing
from gfncp.network import NetworkConfig, SetNetwork
from gfncp.train import RunOptions, export, preset, read_log, train

SHIPPED = [name for pair in routing.PAIRS for name in routing.pair_names(pair)]


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Tiny GFNCP (clean objective) and NCP runs, a few seconds each."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for kind in ("gfncp", "ncp"):
        cfg = replace(preset("tiny", kind), iters=120, eval_every=40)
        net = train(cfg, root / cfg.name, progress=False)
        out[kind] = (cfg, net, root / cfg.name)
    return out


@pytest.mark.parametrize("kind", ["gfncp", "ncp"])
def test_tiny_training_lowers_loss_and_beats_chance(tiny_runs, kind):
    cfg, net, run_dir = tiny_runs[kind]
    rows = read_log(run_dir / "log.csv")
    assert len(rows) == 3
    assert rows[-1]["nll"] < rows[0]["nll"]
    # chance: NMI of a random partition against the truth is near 0 on these sets
    assert rows[-1]["val_nmi"] > 0.3
    assert (run_dir / "curve.svg").read_text().startswith("<svg")


def test_a_checkpoint_of_the_earlier_format_still_resumes(tmp_path):
    """Checkpoints written before format 2 (one process: rng, gen at the top level) resume."""
    cfg = replace(preset("tiny", "ncp"), iters=20, eval_every=10)
    whole = train(cfg, tmp_path / "whole", progress=False)
    train(cfg, tmp_path / "b", progress=False, options=RunOptions(stop_at=10))
    new = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert new["format"] == 2 and new["iteration"] == 10 and new["world_size"] == 1
    old = {"model": new["model"], "optimizer": new["optimizer"], "rng": new["ranks"][0]["rng"],
           "gen": new["ranks"][0]["gen"], "iteration": 10, "seconds": new["seconds"]}
    torch.save(old, tmp_path / "b" / "checkpoint.pt")
    b = train(cfg, tmp_path / "b", progress=False, options=RunOptions(resume=True))
    for p, q in zip(whole.state_dict().values(), b.state_dict().values()):
        assert torch.equal(p, q)
    assert len(read_log(tmp_path / "b" / "log.csv")) == 2


def test_cli_network_widths_reach_the_saved_model(tmp_path, monkeypatch):
    from gfncp import train as train_module

    monkeypatch.setattr(registry, "MODELS_DIR", tmp_path / "models")
    train_module.main(["--preset", "tiny", "--model", "ncp", "--iters", "2", "--h-dim", "40", "--g-dim", "24",
          "--out", str(tmp_path / "runs"), "--no-progress", "--export"])
    card = json.loads((tmp_path / "models" / "ncp-tiny.json").read_text())
    assert card["network"]["h_dim"] == 40 and card["network"]["g_dim"] == 24
    assert card["network"]["hidden"] == preset("tiny", "ncp").network.hidden
    assert "--h-dim 40 --g-dim 24" in card["command"]
    train_module.main(["--preset", "tiny", "--model", "ncp", "--iters", "2", "--hidden", "20", "--depth", "5",
          "--run-name", "deep", "--out", str(tmp_path / "runs"), "--no-progress", "--export"])
    card = json.loads((tmp_path / "models" / "ncp-tiny.json").read_text())
    assert (card["network"]["hidden"], card["network"]["depth"]) == (20, 5)
    assert card["network"]["h_dim"] == preset("tiny", "ncp").network.h_dim
    net, _ = registry.load_network("ncp-tiny")
    assert len(net.head_mlp) == 2 * 5 - 1 and net.head_mlp[0].out_features == 20


def test_policy_samples_are_canonical_and_train_the_flows(tmp_path):
    from gfncp.losses import policy_fm
    from gfncp.partitions import canonical_labels
    from gfncp.teacher import flow_residuals, teacher_forced
    from gfncp.train import sample_policy

    torch.manual_seed(0)
    net = SetNetwork(preset("tiny", "gfncp").network)
    X, _ = gfncp.data.mog_batch(6, 12, 2, 0.7, 1.0, 10.0, np.random.default_rng(0))
    X = torch.as_tensor(X)
    labels = sample_policy(net, X, torch.Generator().manual_seed(1))
    assert labels.shape == (6, 12)
    assert np.array_equal(labels.numpy(), canonical_labels(labels.numpy()))
    # an untrained policy spreads its samples: not every row is the same clustering
    assert len({tuple(r) for r in labels.numpy()}) > 1
    tf = teacher_forced(net, X, labels)
    loss = policy_fm(tf)
    expected = (flow_residuals(tf) ** 2).sum() / tf.step_mask.sum()
    assert torch.allclose(loss, expected)
    loss.backward()                                          # the labels are ordinary tensors
    assert all(p.grad is not None for p in net.head_mlp.parameters())

    cfg = replace(preset("tiny", "gfncp"), iters=4, eval_every=2, fm_warmup=0.0, fm_ramp=0.0)
    cfg.weights = replace(cfg.weights, fm_policy=0.5)
    train(cfg, tmp_path / "policy", progress=False)
    rows = read_log(tmp_path / "policy" / "log.csv")
    assert len(rows) == 2 and all(r["fm_policy"] > 0 for r in rows)


def test_resumed_run_keeps_the_columns_of_its_log(tmp_path):
    """A run started before a log column existed resumes into the same columns."""
    import csv

    cfg = replace(preset("tiny", "ncp"), iters=4, eval_every=2)
    train(cfg, tmp_path / "r", progress=False, options=RunOptions(stop_at=2))
    log = tmp_path / "r" / "log.csv"
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    old = [k for k in rows[0] if k != "fm_policy"]            # as an older version wrote it
    with open(log, "w", newline="") as f:
        w = csv.DictWriter(f, old, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    train(cfg, tmp_path / "r", progress=False, options=RunOptions(resume=True))
    assert [len(r) for r in csv.reader(open(log))] == [len(old)] * 3
    assert [r["iteration"] for r in read_log(log)] == [2.0, 4.0]


def test_paper_objective_runs_and_is_finite(tmp_path):
    cfg = replace(preset("tiny", "gfncp"), objective="paper", iters=6, eval_every=3, beta_uniform=0.5)
    cfg.weights = replace(cfg.weights, nll=0.0)
    train(cfg, tmp_path / "paper", progress=False)
    rows = read_log(tmp_path / "paper" / "log.csv")
    assert all(np.isfinite(r["loss"]) for r in rows)


def test_checkpoint_round_trip_weights_only(tiny_runs, tmp_path):
    cfg, net, run_dir = tiny_runs["gfncp"]
    path = export(cfg, net, run_dir, "test command", models_dir=tmp_path)
    state = torch.load(path, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    model = registry.load_pretrained(cfg.name, models_dir=tmp_path)
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["command"] == "test command" and card["kind"] == "gfncp"
    X, _ = gfncp.data.make_mog(25, seed=1)
    with torch.no_grad():
        expected = gfncp.Clusterer(net.eval(), "gfncp").log_prob(X, np.zeros(25, dtype=int))
    assert model.log_prob(X, np.zeros(25, dtype=int)) == pytest.approx(expected, abs=1e-5)


def test_a_run_directory_loads_as_a_clusterer(tiny_runs):
    """registry.load_run: the run's last checkpoint, its kind and iteration, the same answers."""
    cfg, net, run_dir = tiny_runs["ncp"]
    model = registry.load_run(run_dir)
    assert model.kind == "ncp" and model.name == run_dir.name and model.card["iteration"] == cfg.iters
    assert not any(p.requires_grad for p in model.net.parameters())
    X, _ = gfncp.data.make_mog(25, seed=1)
    with torch.no_grad():
        expected = gfncp.Clusterer(net.eval(), "ncp").log_prob(X, np.zeros(25, dtype=int))
    assert model.log_prob(X, np.zeros(25, dtype=int)) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_load_and_cards_match_weights(name):
    assert name in gfncp.list_pretrained(), f"{name} is not shipped in assets/models/"
    model = gfncp.load_pretrained(name)
    card = model.card
    assert card["name"] == name and model.kind == card["kind"] and model.dim == card["dim"]
    cfg = NetworkConfig.from_dict(card["network"])
    assert cfg == model.net.config
    assert SetNetwork(cfg).n_parameters() == model.net.n_parameters() == card["n_parameters"]
    assert (registry.MODELS_DIR / f"{name}.pt").stat().st_size < 5 * 2 ** 20
    assert "command" in card and "python -m gfncp.train" in card["command"]
    assert "evaluation" in card and 0.0 <= card["evaluation"]["accuracy"]["nmi"]["mean"] <= 1.0
    X, _ = (gfncp.data.make_digits_task(30, seed=0) if "digits" in name
            else gfncp.data.make_mog(30, dim=model.dim, seed=0))
    labels = model.greedy(X)
    assert labels.shape == (30,) and labels[0] == 0


def test_evaluation_runs_on_a_miniature_suite(tiny_runs, tmp_path, monkeypatch):
    for kind in ("gfncp", "ncp"):
        cfg, net, run_dir = tiny_runs[kind]
        export(replace(cfg, preset="mog2d"), net, run_dir, "test", models_dir=tmp_path)
    monkeypatch.setattr(evaluate, "list_pretrained", lambda: registry.list_pretrained(tmp_path))
    monkeypatch.setattr(evaluate, "load_pretrained", lambda n: registry.load_pretrained(n, models_dir=tmp_path))
    res = evaluate.run(evaluate.QUICK, pairs=["mog2d"])
    r = res["pairs"]["mog2d"]
    assert set(r["accuracy"]) == {"GFNCP greedy", "NCP greedy", "Gibbs MAP", "k-means (true K)", "DP-GMM"}
    assert 0 <= r["invariance"]["gfncp_below_ncp"] <= 1
    assert r["invariance"]["gfncp"]["mean"] >= 0 and r["calibration"]["gfncp"]["mean"] <= 1
    md = evaluate.markdown(res)
    assert "| GFNCP greedy |" in md and "Calibration" in md
    assert evaluate.invariance_svg(res).startswith("<svg")


def test_merge_results_keeps_pairs_not_evaluated_again():
    suite = {"n_sets": 2}
    old = {"command": "python -m gfncp.evaluate", "date": "d0", "suite": suite,
           "pairs": {"mog2d": {"accuracy": 1}, "digits": {"accuracy": 2}}}
    new = {"command": "python -m gfncp.evaluate --pairs digits", "date": "d1", "suite": suite,
           "pairs": {"digits": {"accuracy": 3, "command": "python -m gfncp.evaluate --pairs digits", "date": "d1"}}}
    merged = evaluate.merge_results(old, new)
    assert merged["pairs"]["digits"]["accuracy"] == 3                      # replaced
    assert merged["pairs"]["mog2d"] == {"accuracy": 1, "command": "python -m gfncp.evaluate", "date": "d0"}
    assert merged["command"] == "several; see each pair"
    # another suite: nothing is mixed in
    assert evaluate.merge_results(dict(old, suite={"n_sets": 3}), new) is new


def test_export_card_states_input_mapping_for_high_dimensional_mixtures(tiny_runs, tmp_path):
    cfg, net, run_dir = tiny_runs["gfncp"]
    export(replace(cfg, preset="mog16d", dim=16, min_dim=3), net, run_dir, "test", models_dir=tmp_path)
    card = registry.read_card("gfncp-mog16d", models_dir=tmp_path)
    assert "zero-padded to 16" in card["input_mapping"] and "[3, 16)" in card["input_mapping"]
    export(cfg, net, run_dir, "test", models_dir=tmp_path)                  # 2-D: nothing to map
    assert "input_mapping" not in registry.read_card("gfncp-tiny", models_dir=tmp_path)


def test_paired_orders_hold_each_set_twice_in_two_orders():
    from gfncp.data import mog_batch
    from gfncp.train import pair_orders
    X, y = mog_batch(6, 20, 2, 0.7, 1.0, 10.0, np.random.default_rng(0))
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    X2, y2, h = pair_orders(X, y, np.random.default_rng(1))
    assert h == 3 and X2.shape == (6, 20, 2) and y2.shape == (6, 20)
    for i in range(h):
        assert torch.equal(X2[i], X[i]) and torch.equal(y2[i], y[i])
        # the same points, reordered; the same partition, with canonical labels
        a, b = X2[i].numpy(), X2[h + i].numpy()
        perm = [int(np.flatnonzero((a == p).all(axis=1))[0]) for p in b]
        assert sorted(perm) == list(range(20)) and perm != list(range(20))
        assert y2[h + i][0] == 0 and int(y2[h + i].max()) == int(y[i].max())
        same_cluster = lambda lab, idx: lab[idx][:, None] == lab[idx][None, :]   # noqa: E731
        assert torch.equal(same_cluster(y2[h + i], torch.arange(20)), same_cluster(y[i], torch.as_tensor(perm)))


def test_order_term_is_the_squared_log_q_difference_over_n():
    from gfncp.data import mog_batch
    from gfncp.losses import LossWeights, clean_loss
    from gfncp.teacher import teacher_forced
    from gfncp.train import pair_orders
    torch.manual_seed(0)
    net = SetNetwork(NetworkConfig(x_dim=2, h_dim=16, g_dim=16, hidden=16, depth=2))
    X, y = mog_batch(4, 12, 2, 0.7, 1.0, 10.0, np.random.default_rng(0))
    X, y, h = pair_orders(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y), np.random.default_rng(2))
    tf = teacher_forced(net, X, y)
    base, stats = clean_loss(tf, LossWeights(order=0.0), n_pairs=h)
    with_order, _ = clean_loss(tf, LossWeights(order=2.0), n_pairs=h)
    log_q = tf.log_p_chosen.sum(dim=1)
    diff = log_q[:h] - log_q[h:]
    assert stats["order"] == pytest.approx(diff.abs().mean().item())
    assert diff.abs().max() > 1e-3                        # an untrained network is not invariant
    assert (with_order - base).item() == pytest.approx(2.0 * (diff ** 2 / 12).mean().item(), rel=1e-5)


# The cards in the repository (not GFNCP_MODELS_DIR, which may hold test placeholders).
REPO_CARDS = sorted((Path(__file__).resolve().parents[1] / "assets" / "models").glob("*.json"))


@pytest.mark.parametrize("path", REPO_CARDS, ids=lambda p: p.stem)
def test_card_command_reproduces_the_recorded_training_config(path):
    """The card's command, run through the CLI's own parsing, gives the configuration the card
    recorded, and that is the preset's: `--preset P --model K` is the shipped recipe."""
    import shlex

    from gfncp.train import config_from_args, config_from_dict, config_json, parser

    name = path.stem
    card = json.loads(path.read_text())
    # Fields added to TrainConfig / LossWeights after a card was written are absent from it;
    # config_from_dict gives them their defaults, which is what that run used.
    recorded = config_from_dict({**card["training"], "network": card["network"]})
    words = shlex.split(card["command"])
    assert words[:3] == ["python", "-m", "gfncp.train"]
    from_command = config_from_args(parser().parse_args(words[3:]))
    assert config_json(from_command) == config_json(recorded)
    assert config_json(preset(recorded.preset, card["kind"])) == config_json(recorded)
    assert from_command.name == name
