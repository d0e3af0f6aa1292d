"""The seed's CRNN: two conv blocks over (time, frequency), a BiLSTM over time, a frame head.

``time_pool=1`` (the default) is the seed's model exactly. ``time_pool=4`` pools time in the
conv blocks (stride 2 in each), so the BiLSTM, which is sequential, runs over a quarter of the
steps; its output is repeated back to the frame rate and added to a per-frame linear view of
the input before the head (``benchmarks/bench_models.py`` measures both).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from instdet.models.pooling import MaxPool


@dataclasses.dataclass(frozen=True)
class CRNNConfig:
    channels: int = 32
    lstm_hidden: int = 64
    head: int = 128
    dropout: float = 0.2
    time_pool: int = 1  # 1: the seed's CRNN; 2 or 4: pooled time, with a per-frame skip

    def __post_init__(self):
        from instdet.errors import InstdetError

        if self.time_pool not in (1, 2, 4):
            raise InstdetError(f"crnn: time_pool must be 1, 2 or 4, got {self.time_pool}")
        if min(self.channels, self.lstm_hidden, self.head) < 1 or not 0 <= self.dropout < 1:
            raise InstdetError("crnn: channels, lstm_hidden and head >= 1, 0 <= dropout < 1")


class CRNN(nn.Module):
    """Conv(1->32) BN ReLU MaxPool(freq 2), Conv(32->32) BN ReLU, BiLSTM(64), Linear(128) ReLU Linear."""

    def __init__(self, config: CRNNConfig, *, n_mels: int, n_classes: int):
        super().__init__()
        c = config.channels
        s1 = 2 if config.time_pool >= 2 else 1
        s2 = 2 if config.time_pool == 4 else 1
        self.time_pool = s1 * s2
        self.conv = nn.Sequential(
            nn.Conv2d(1, c, 3, stride=(s1, 1), padding=1), nn.BatchNorm2d(c), nn.ReLU(),
            MaxPool((1, 2)),  # pool frequency only: every frame keeps its own output
            nn.Conv2d(c, c, 3, stride=(s2, 1), padding=1), nn.BatchNorm2d(c), nn.ReLU(),
        )
        self.lstm = nn.LSTM(c * (n_mels // 2), config.lstm_hidden, batch_first=True,
                            bidirectional=True)
        self.drop = nn.Dropout(config.dropout)
        self.skip = nn.Linear(n_mels, 2 * config.lstm_hidden) if self.time_pool > 1 else None
        self.head = nn.Sequential(
            nn.Linear(2 * config.lstm_hidden, config.head), nn.ReLU(),
            nn.Linear(config.head, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape  # (B, T, n_mels)
        pad = (-t) % self.time_pool
        xp = nn.functional.pad(x, (0, 0, 0, pad), value=-2.0) if pad else x  # -2: silence, scaled
        h = self.conv(xp.unsqueeze(1))  # (B, C, T / time_pool, n_mels // 2)
        h = h.permute(0, 2, 1, 3).reshape(b, h.shape[2], -1)  # (B, T', C * n_mels // 2)
        h, _ = self.lstm(h)  # (B, T', 2 * lstm_hidden)
        if self.skip is not None:
            h = h.repeat_interleave(self.time_pool, dim=1)[:, :t]  # (B, T, 2 * lstm_hidden)
            h = torch.relu(h + self.skip(x))
        return self.head(self.drop(h))  # (B, T, n_classes)
