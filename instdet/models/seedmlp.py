"""The original project's frame MLP, as published (``../shared/seed-models/``).

One frame of log-mel in dB (relative to the track's maximum, no scaling) through
``fc1 -> bn1 -> relu -> fc2 -> bn2 -> relu -> out``; the seed applied a sigmoid to ``out``, so
``out`` is the logit here and instdet's sigmoid gives back the seed's probability exactly.
Layer names are the seed's, so its state_dicts load as they are (``instdet import-seed``).
instdet feeds every model scaled features, ``(dB + 40) / 20``; this model undoes that first.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class SeedMLPConfig:
    hidden: int = 128


class SeedMLP(nn.Module):
    def __init__(self, config: SeedMLPConfig, *, n_mels: int, n_classes: int):
        super().__init__()
        self.fc1 = nn.Linear(n_mels, config.hidden)
        self.bn1 = nn.BatchNorm1d(config.hidden)
        self.fc2 = nn.Linear(config.hidden, config.hidden)
        self.bn2 = nn.BatchNorm1d(config.hidden)
        self.out = nn.Linear(config.hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, f = x.shape  # (B, T, n_mels), scaled
        db = x.reshape(b * t, f) * 20.0 - 40.0  # back to the seed's dB input
        h = torch.relu(self.bn1(self.fc1(db)))  # (B*T, hidden)
        h = torch.relu(self.bn2(self.fc2(h)))  # (B*T, hidden)
        return self.out(h).reshape(b, t, -1)  # (B, T, n_classes) logits
