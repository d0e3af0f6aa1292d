"""The seed's CRNN: two conv blocks over (time, frequency), a BiLSTM over time, a frame head."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class CRNNConfig:
    channels: int = 32
    lstm_hidden: int = 64
    head: int = 128
    dropout: float = 0.2


class CRNN(nn.Module):
    """Conv(1->32) BN ReLU MaxPool(freq 2), Conv(32->32) BN ReLU, BiLSTM(64), Linear(128) ReLU Linear."""

    def __init__(self, config: CRNNConfig, *, n_mels: int, n_classes: int):
        super().__init__()
        c = config.channels
        self.conv = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
            nn.MaxPool2d((1, 2)),  # pool frequency only: every frame keeps its own output
            nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
        )
        self.lstm = nn.LSTM(c * (n_mels // 2), config.lstm_hidden, batch_first=True,
                            bidirectional=True)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Sequential(
            nn.Linear(2 * config.lstm_hidden, config.head), nn.ReLU(),
            nn.Linear(config.head, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape  # (B, T, n_mels)
        h = self.conv(x.unsqueeze(1))  # (B, C, T, n_mels // 2)
        h = h.permute(0, 2, 1, 3).reshape(b, t, -1)  # (B, T, C * n_mels // 2)
        h, _ = self.lstm(h)  # (B, T, 2 * lstm_hidden)
        return self.head(self.drop(h))  # (B, T, n_classes)
