"""How torch is set up for this package's CPU work, in one place (every entry point calls it).

- One intra-op thread: the models run many small sequential steps, and two threads on two
  busy cores were measured up to 100x slower than one.
- Subnormal floats flushed to zero: late in training, backward passes produce subnormal
  values, which the CPU handles in microcode; the teacher-forced forward + backward of the
  shipped 2-D model took 560 ms with them and 200 ms without (B=32, N=100, measured).
  Values below ~1e-38 do not matter to anything computed here.
"""
from __future__ import annotations

import torch


def configure_torch(threads: int = 1) -> None:
    """Set the intra-op thread count (only when it differs: changing it is not free) and
    flush subnormals to zero."""
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
