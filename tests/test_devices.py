"""Devices: models load where GFNCP_DEVICE (or the device argument) says, CPU by default, and
the inference code keeps every tensor on the model's device (checked without a GPU)."""
import numpy as np
import pytest
import torch

import gfncp
from gfncp import model_distribution, registry, trace_export
from gfncp.distributed import resolve_device

NAME = "gfncp-mog2d"


def results(model, X):
    s = model.sample(X, 20, seed=3)
    return model.greedy(X), s.labels, s.log_prob, model.log_prob(X, s.labels[0]), model.trace(X, seed=1).probs


def test_models_load_on_the_cpu_by_default_and_with_gfncp_device_cpu(dev_models_dir, monkeypatch):
    X, _ = gfncp.data.make_mog(40, seed=5)
    monkeypatch.delenv("GFNCP_DEVICE", raising=False)
    default = gfncp.load_pretrained(NAME)
    assert default.device == torch.device("cpu")
    monkeypatch.setenv("GFNCP_DEVICE", "cpu")
    chosen = gfncp.load_pretrained(NAME)
    a, b = results(default, X), results(chosen, X)
    for x, y in zip(a[:4], b[:4]):                                        # identical, not close
        assert np.array_equal(x, y)
    assert all(np.array_equal(x, y) for x, y in zip(a[4], b[4]))          # the trace's probabilities
    assert registry.load_pretrained(NAME, device="cpu").device == torch.device("cpu")


def test_asking_for_a_missing_device_is_an_error(monkeypatch):
    if not torch.cuda.is_available():
        monkeypatch.setenv("GFNCP_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="no CUDA device"):
            registry.model_device()
        assert resolve_device("auto") == torch.device("cpu")             # auto falls back quietly
    with pytest.raises(ValueError, match="choose from"):
        resolve_device("tpu")


def test_inference_creates_every_tensor_on_the_input_device(dev_models_dir):
    """With torch's default device set to 'meta', any tensor made without device=... lands there
    and the first operation mixing it with the model's CPU tensors fails: so this passing means
    the same code runs on a CUDA or MPS model without a hidden copy to the CPU."""
    model = gfncp.load_pretrained(NAME, device="cpu")
    X, _ = gfncp.data.make_mog(25, seed=0)
    torch.set_default_device("meta")
    try:
        model.greedy(X)
        model.greedy_orders(X, [np.arange(25), np.arange(25)[::-1]])
        model.beam(X, width=3)
        s = model.sample(X, 5, seed=0)
        model.log_prob(X, s.labels[0])
        trace = model.trace(X, seed=0, mode="sample")
        trace_export.forced_trace(model, X, trace)
        model_distribution.model_partition_distribution(model, X[:5])
    finally:
        torch.set_default_device("cpu")


@pytest.mark.parametrize("kind, over, weights", [
    ("gfncp", {}, {"fm_policy": 0.3}),                                    # policy samples in the loss
    ("gfncp", {}, {"swap": 0.5, "swap_policy": 0.5, "anchor": 0.5}),      # swapped orders, anchored level
    ("gfncp", {"paired_orders": True}, {"order": 1.0}),
    ("gfncp", {"objective": "paper", "beta_uniform": 0.0}, {"nll": 0.0}),  # exploration batch
    ("gfncp", {"objective": "paper", "beta_uniform": 1.0}, {"nll": 0.0}),  # on-policy negative sample
    ("ncp", {}, {}),
])
def test_a_training_step_and_validation_keep_tensors_on_the_model_device(kind, over, weights):
    """The same 'meta' check for the training loop's step (every objective) and validation,
    so `--device cuda|mps` needs no hidden CPU copy either."""
    from dataclasses import replace
    from functools import partial

    from gfncp import distributed
    from gfncp.network import SetNetwork
    from gfncp.train import _loss, draw_batch, preset, train_step, validation_nmi, validation_sets

    cfg = replace(preset("tiny", kind), fm_warmup=0.0, fm_ramp=0.0, **over)
    cfg.weights = replace(cfg.weights, **weights)
    torch.manual_seed(0)
    net = SetNetwork(cfg.network)
    opt = torch.optim.Adam(net.parameters())
    rng, gen = np.random.default_rng(0), torch.Generator().manual_seed(0)
    X, y = draw_batch(cfg, rng, 12)
    val = validation_sets(replace(cfg, val_sets=1, val_n=12))
    torch.set_default_device("meta")
    try:
        stats = train_step(distributed.Objective(net, partial(_loss, cfg)), opt, cfg, X, y, 5, rng, gen)
        validation_nmi(net, val)
    finally:
        torch.set_default_device("cpu")
    assert np.isfinite(stats["loss"])
