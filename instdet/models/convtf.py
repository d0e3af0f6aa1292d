"""A CNN front end and a Transformer encoder over time, at a quarter of the frame rate.

Instrument activity changes far slower than the 43 frames per second of the features, so the
front end pools time early: a strided first convolution halves time and frequency, a second
pooling halves time again, and the Transformer relates the ~11 frames per second across the
whole crop. Its output is repeated back to the frame rate and added to a per-frame linear view
of the input (a skip connection), so onsets and offsets keep frame resolution. This runs about
eight times faster than pooling frequency only, on a CPU as on a GPU
(``benchmarks/bench_models.py``).

``time_pool=1, stem_stride=1, skip=False`` is the full-rate model shipped before.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from instdet.models.pooling import MaxPool


@dataclasses.dataclass(frozen=True)
class ConvTransformerConfig:
    channels: tuple[int, ...] = (16, 32, 64, 128)
    d_model: int = 128
    heads: int = 4
    layers: int = 2
    dropout: float = 0.1
    time_pool: int = 4  # frames per Transformer step: 1, 2 or 4
    skip: bool = True  # add a per-frame linear view of the input before the head

    def __post_init__(self):
        from instdet.errors import InstdetError

        if self.time_pool not in (1, 2, 4):
            raise InstdetError(f"convtf: time_pool must be 1, 2 or 4, got {self.time_pool}")
        if self.d_model % self.heads or self.d_model % 2:
            raise InstdetError(f"convtf: d_model ({self.d_model}) must be even and divisible "
                               f"by heads ({self.heads})")
        if not 1 <= len(self.channels) <= 6 or min(self.channels) < 1:
            raise InstdetError(f"convtf: 1 to 6 positive channel counts, got {self.channels}")
        if self.layers < 1 or not 0 <= self.dropout < 1:
            raise InstdetError("convtf: layers >= 1 and 0 <= dropout < 1")


def _block(c_in: int, c_out: int, *, stride: tuple[int, int] = (1, 1),
           pool: tuple[int, int] = (1, 2)) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
    if pool != (1, 1):
        layers.append(MaxPool(pool))
    return nn.Sequential(*layers)


class ConvTransformer(nn.Module):
    def __init__(self, config: ConvTransformerConfig, *, n_mels: int, n_classes: int):
        super().__init__()
        chans = (1, *config.channels)
        # Time halves in the first block when time_pool >= 2 (strided stem) and again in the
        # second when time_pool == 4; frequency halves in every block.
        tp = [1] * len(config.channels)
        if config.time_pool >= 2:
            tp[0] = 2
        if config.time_pool == 4 and len(tp) > 1:
            tp[1] = 2
        blocks = []
        for i, (a, b) in enumerate(zip(chans, chans[1:])):
            if i == 0 and tp[0] == 2:
                blocks.append(_block(a, b, stride=(2, 2), pool=(1, 1)))
            else:
                blocks.append(_block(a, b, pool=(tp[i], 2)))
        self.conv = nn.Sequential(*blocks)
        self.time_pool = math.prod(tp)
        freq = n_mels // (2 ** len(config.channels))
        if freq < 1:
            from instdet.errors import InstdetError

            raise InstdetError(f"convtf: {len(config.channels)} blocks halve {n_mels} mel bins "
                               "to nothing; use fewer channels")
        self.proj = nn.Linear(chans[-1] * freq, config.d_model)
        layer = nn.TransformerEncoderLayer(
            config.d_model, config.heads, dim_feedforward=4 * config.d_model,
            dropout=config.dropout, batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.skip = nn.Linear(n_mels, config.d_model) if config.skip else None
        self.head = nn.Linear(config.d_model, n_classes)
        self.d_model = config.d_model

    def _positions(self, t: int, device) -> torch.Tensor:
        pos = torch.arange(t, device=device, dtype=torch.float32)[:, None]
        div = torch.exp(torch.arange(0, self.d_model, 2, device=device).float()
                        * (-math.log(10000.0) / self.d_model))
        pe = torch.zeros(t, self.d_model, device=device)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        return pe  # (T', d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape  # (B, T, n_mels)
        pad = (-t) % self.time_pool
        xp = nn.functional.pad(x, (0, 0, 0, pad), value=-2.0) if pad else x  # -2: silence, scaled
        h = self.conv(xp.unsqueeze(1))  # (B, C, T / time_pool, n_mels / 2^blocks)
        tt = h.shape[2]
        h = h.permute(0, 2, 1, 3).reshape(b, tt, -1)  # (B, T', C * F')
        h = self.proj(h) + self._positions(tt, x.device)  # (B, T', d_model)
        h = self.encoder(h)  # (B, T', d_model)
        if self.time_pool > 1:
            h = h.repeat_interleave(self.time_pool, dim=1)[:, :t]  # (B, T, d_model)
        if self.skip is not None:
            h = torch.relu(h + self.skip(x))  # (B, T, d_model)
        return self.head(h)  # (B, T, n_classes)
