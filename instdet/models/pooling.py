"""Max-pooling that predicts faster: without gradients, the element-wise maximum of strided
views gives the same numbers as ``nn.MaxPool2d`` (kernel = stride) 4-10x faster on a CPU
for a whole song (``benchmarks/bench_models.py``); training keeps ``max_pool2d`` and its
gradients. It holds no weights, so checkpoints are unchanged."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


class MaxPool(nn.Module):
    """Non-overlapping max-pooling over the last two axes, flooring like ``nn.MaxPool2d``.

    Parameters
    ----------
    kernel : tuple[int, int]
        Pool size (time, frequency); the stride equals it.
    """

    def __init__(self, kernel: tuple[int, int]):
        super().__init__()
        self.kernel = (int(kernel[0]), int(kernel[1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, T, F) -> (B, C, T // kt, F // kf)."""
        if torch.is_grad_enabled() and x.requires_grad:
            return functional.max_pool2d(x, self.kernel)
        kt, kf = self.kernel
        if kt == kf == 1:
            return x.clone()  # a new tensor, as max_pool2d gives
        t, f = x.shape[-2] - x.shape[-2] % kt, x.shape[-1] - x.shape[-1] % kf
        out = x[..., :t, 0:f:kf]
        for i in range(1, kf):
            out = torch.maximum(out, x[..., :t, i:f:kf])
        pooled = out[..., 0::kt, :]
        for i in range(1, kt):
            pooled = torch.maximum(pooled, out[..., i::kt, :])
        return pooled

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}"
