"""Data-parallel training (torch.distributed, gloo) and exact resumption of runs.

Two-process tests start real gloo process groups on this machine with torch.multiprocessing
(spawn), the way torchrun runs gfncp.train: each process is one rank."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

import ddp_workers
from gfncp import checkpoint, distributed
from gfncp.train import RunError, RunOptions, main, preset, read_log, train

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(fn, *args, world: int = 2, timeout: float = 240) -> None:
    """Run fn(rank, world, port, *args) in `world` processes; a hang fails the test, not the suite."""
    ctx = mp.start_processes(fn, args=(world, free_port(), *args), nprocs=world, start_method="spawn", join=False)
    deadline = time.monotonic() + timeout
    while not ctx.join(timeout=1):        # raises if a rank failed
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail(f"{fn.__name__}: the {world} ranks did not finish in {timeout} s")


def log_without_time(path: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in read_log(path)]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """One two-process gloo job (tests/ddp_workers.py: both) whose outputs two tests read."""
    root = tmp_path_factory.mktemp("ddp")
    spawn(ddp_workers.both, str(root))
    return root


def test_two_gloo_ranks_train_to_identical_weights_and_resume_exactly(two_ranks):
    tmp_path = two_ranks
    a, b = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    from gfncp.network import SetNetwork

    torch.manual_seed(preset("tiny", "gfncp").seed)                     # the runs' initial weights
    fresh = SetNetwork(preset("tiny", "gfncp").network).state_dict()
    for run in ("whole", "resumed"):
        assert all(torch.equal(a[run][k], b[run][k]) for k in fresh)     # the ranks never diverge
        assert all(torch.equal(a["whole"][k], a[run][k]) for k in fresh)  # stopped + resumed = whole
    assert any(not torch.equal(a["whole"][k], fresh[k]) for k in fresh)  # and they did train
    # rank 0 alone wrote each run directory: one log with one row per evaluation
    assert [r["iteration"] for r in read_log(tmp_path / "whole" / "log.csv")] == [3.0, 6.0]
    assert log_without_time(tmp_path / "cut" / "log.csv") == log_without_time(tmp_path / "whole" / "log.csv")
    info = json.loads((tmp_path / "whole" / "run.json").read_text())
    assert (info["world_size"], info["batch_per_rank"], info["global_batch"]) == (2, 8, 16)
    ckpt = checkpoint.load(tmp_path / "cut" / checkpoint.NAME)
    assert ckpt["world_size"] == 2 and len(ckpt["ranks"]) == 2 and ckpt["iteration"] == 6
    assert ckpt["ranks"][0]["rng"] != ckpt["ranks"][1]["rng"]            # each rank its own stream


def test_two_ranks_at_half_batch_take_the_one_process_step(two_ranks):
    """Same sets: ranks 0 and 1 each hold half of the batch one process holds."""
    grads, weights = ddp_workers.two_steps(world=1)
    ranks = [torch.load(two_ranks / f"step{r}.pt", weights_only=True) for r in (0, 1)]
    checked = 0
    for k in grads:
        assert torch.equal(ranks[0]["grads"][k], ranks[1]["grads"][k])   # DDP averaged them
        assert torch.allclose(ranks[0]["grads"][k], grads[k], rtol=1e-4, atol=1e-6), k
    assert max(g.abs().max() for g in grads.values()) > 1e-3             # not a vacuous match
    # Adam divides by sqrt of the squared-gradient average, so where a gradient is float noise
    # (the head's last bias cancels in the softmax) the noise decides the step's sign: compare
    # the weights where both steps' gradients are well above that noise.
    lr = preset("tiny", "gfncp").lr
    for k in weights:
        clear = (grads[k].abs() > 1e-5).all(0)
        diff = (ranks[0]["weights"][k] - weights[k]).abs()
        assert diff.max() <= 2 * lr + 1e-7, k                            # two steps of at most lr
        assert torch.allclose(ranks[0]["weights"][k][clear], weights[k][clear], rtol=1e-4, atol=1e-6), k
        checked += int(clear.sum())
    assert checked > 0.9 * sum(v.numel() for v in weights.values())


def test_rank_streams_keep_the_single_process_streams():
    assert distributed.rank_seeds(123, 0) == (123, 123)
    s1, t1 = distributed.rank_seeds(123, 1)
    assert s1 == [123, 1] and t1 != 123 and 0 <= t1 < 2 ** 63


def test_resume_continues_exactly_as_an_uninterrupted_run(tmp_path):
    # policy samples use the torch generator; checkpoints every 6 and logs every 8 iterations,
    # so a checkpoint falls inside a log window (its statistics are part of the checkpoint)
    cfg = replace(preset("tiny", "gfncp"), iters=24, eval_every=8, fm_warmup=0.0, fm_ramp=0.2)
    cfg.weights = replace(cfg.weights, fm_policy=0.2)
    whole = train(cfg, tmp_path / "whole", progress=False, options=RunOptions(ckpt_every=6))
    part = train(cfg, tmp_path / "cut", progress=False, options=RunOptions(ckpt_every=6, stop_at=12))
    assert checkpoint.load(tmp_path / "cut" / checkpoint.NAME)["iteration"] == 12
    assert len(read_log(tmp_path / "cut" / "log.csv")) == 1
    with pytest.raises(RunError, match="--resume"):                # never a silent continuation
        train(cfg, tmp_path / "cut", progress=False)
    with pytest.raises(RunError, match="iters"):                        # a resumed run keeps its config
        train(replace(cfg, iters=30), tmp_path / "cut", progress=False, options=RunOptions(resume=True))
    resumed = train(cfg, tmp_path / "cut", progress=False, options=RunOptions(ckpt_every=6, resume=True))
    assert part is not resumed
    assert log_without_time(tmp_path / "cut" / "log.csv") == log_without_time(tmp_path / "whole" / "log.csv")
    for k, v in whole.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k])


def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    """SIGKILL mid-training (a real process), then --resume: the same log and weights as a run
    that was never interrupted, from at most one checkpoint interval back."""
    args = ["--preset", "tiny", "--model", "ncp", "--iters", "30", "--ckpt-every", "5", "--device", "cpu",
            "--out", str(tmp_path), "--no-progress"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "gfncp.train", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ckpt_path = tmp_path / "ncp-tiny" / checkpoint.NAME
    deadline = time.monotonic() + 120
    while not ckpt_path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    out = proc.communicate()[0].decode()
    assert proc.returncode == -signal.SIGKILL, out                        # killed, not finished
    done = checkpoint.load(ckpt_path)["iteration"]
    assert 5 <= done < 30 and done % 5 == 0
    main(["--resume", str(tmp_path / "ncp-tiny"), "--device", "cpu", "--no-progress"])
    cfg = replace(preset("tiny", "ncp"), iters=30)
    whole = train(cfg, tmp_path / "whole", progress=False)
    assert log_without_time(tmp_path / "ncp-tiny" / "log.csv") == log_without_time(tmp_path / "whole" / "log.csv")
    resumed = torch.load(ckpt_path, weights_only=True)["model"]
    assert all(torch.equal(v, resumed[k]) for k, v in whole.state_dict().items())


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    """A write that fails half-way leaves the previous checkpoint whole and no stray file."""
    path = tmp_path / checkpoint.NAME
    checkpoint.save_atomic({"iteration": 1, "w": torch.ones(3)}, path)

    def broken(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError):
        checkpoint.save_atomic({"iteration": 2}, path)
    assert torch.load(path, weights_only=True)["iteration"] == 1
    assert [p.name for p in tmp_path.iterdir()] == [checkpoint.NAME]



@pytest.mark.parametrize("flag", ["--iters 5", "--swap 1", "--fm-ramp 0.1", "--batch 8"])
def test_resume_refuses_flags_that_would_change_the_run(tmp_path, flag, capsys):
    with pytest.raises(SystemExit):
        main(["--resume", str(tmp_path), *flag.split()])
    assert "--resume continues a run with its saved configuration" in capsys.readouterr().err
