"""The seed's baseline: a frame-wise MLP, optionally fed +-k neighbouring frames."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class MLPConfig:
    hidden: int = 256
    context: int = 4  # frames on each side; 0 = one frame, as the seed
    dropout: float = 0.2

    def __post_init__(self):
        from instdet.errors import InstdetError

        if self.hidden < 1 or not 0 <= self.dropout < 1:
            raise InstdetError("mlp: hidden >= 1 and 0 <= dropout < 1")


class MLP(nn.Module):
    """Linear -> BatchNorm -> ReLU, twice, then a linear output per frame."""

    def __init__(self, config: MLPConfig, *, n_mels: int, n_classes: int):
        super().__init__()
        self.config = config
        width = n_mels * (2 * config.context + 1)
        self.net = nn.Sequential(
            nn.Linear(width, config.hidden), nn.BatchNorm1d(config.hidden), nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.hidden), nn.BatchNorm1d(config.hidden), nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, f = x.shape  # (B, T, n_mels)
        k = self.config.context
        if k:
            # Edge frames repeat so that every frame sees 2k+1 frames.
            padded = torch.cat([x[:, :1].expand(b, k, f), x, x[:, -1:].expand(b, k, f)], dim=1)
            x = padded.unfold(1, 2 * k + 1, 1)  # (B, T, n_mels, 2k+1)
            x = x.transpose(2, 3).reshape(b, t, -1)  # (B, T, (2k+1) * n_mels)
        out = self.net(x.reshape(b * t, -1))  # (B*T, n_classes)
        return out.reshape(b, t, -1)  # (B, T, n_classes)
