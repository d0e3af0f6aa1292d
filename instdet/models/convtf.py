"""A deeper CNN front end and a Transformer encoder over time (the seed's future work).

Four conv blocks pool frequency only (128 -> 8 bins), so the time resolution of the labels is
kept; self-attention then relates frames across the whole crop, which helps tell instruments
that share a register apart by their phrasing.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class ConvTransformerConfig:
    channels: tuple[int, ...] = (32, 64, 96, 128)
    d_model: int = 128
    heads: int = 4
    layers: int = 2
    dropout: float = 0.1


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.MaxPool2d((1, 2)),
    )


class ConvTransformer(nn.Module):
    def __init__(self, config: ConvTransformerConfig, *, n_mels: int, n_classes: int):
        super().__init__()
        chans = (1, *config.channels)
        self.conv = nn.Sequential(*(_block(a, b) for a, b in zip(chans, chans[1:])))
        freq = n_mels // (2 ** len(config.channels))
        self.proj = nn.Linear(chans[-1] * freq, config.d_model)
        layer = nn.TransformerEncoderLayer(
            config.d_model, config.heads, dim_feedforward=4 * config.d_model,
            dropout=config.dropout, batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.head = nn.Linear(config.d_model, n_classes)
        self.d_model = config.d_model

    def _positions(self, t: int, device) -> torch.Tensor:
        pos = torch.arange(t, device=device, dtype=torch.float32)[:, None]
        div = torch.exp(torch.arange(0, self.d_model, 2, device=device).float()
                        * (-math.log(10000.0) / self.d_model))
        pe = torch.zeros(t, self.d_model, device=device)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        return pe  # (T, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape  # (B, T, n_mels)
        h = self.conv(x.unsqueeze(1))  # (B, C, T, n_mels / 16)
        h = h.permute(0, 2, 1, 3).reshape(b, t, -1)  # (B, T, C * n_mels / 16)
        h = self.proj(h) + self._positions(t, x.device)  # (B, T, d_model)
        h = self.encoder(h)  # (B, T, d_model)
        return self.head(h)  # (B, T, n_classes)
