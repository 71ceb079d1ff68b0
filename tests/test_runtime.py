"""gfncp.runtime.configure_torch: one intra-op thread and subnormals flushed to zero."""
import torch

from gfncp.runtime import configure_torch


def test_configure_torch_sets_threads_and_flushes_subnormals():
    threads = torch.get_num_threads()
    try:
        configure_torch(1)
        assert torch.get_num_threads() == 1
        assert torch.tensor([1e-323], dtype=torch.float64).item() == 0.0     # a subnormal reads as 0
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)
    assert torch.tensor([1e-323], dtype=torch.float64).item() > 0.0
