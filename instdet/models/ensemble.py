"""Several trained models as one: a weighted mean of their probabilities.

The checkpoint of an ensemble holds each member's model name, settings and weights (the
state_dict keys are prefixed ``members.K.``), so one file rebuilds it like any other model.
Its output is the logit of the weighted mean probability, so instdet's sigmoid gives that mean.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class EnsembleConfig:
    members: tuple = ()  # ({"model": name, "settings": {...}}, ...)
    weights: tuple[float, ...] = ()

    def __post_init__(self):
        from instdet.errors import InstdetError

        if not self.members or len(self.members) != len(self.weights):
            raise InstdetError("ensemble: give one weight per member, and at least one member")
        if min(self.weights) < 0 or sum(self.weights) <= 0:
            raise InstdetError("ensemble: weights must be >= 0 and not all 0")
        for m in self.members:
            if not isinstance(m, dict) or "model" not in m or m["model"] == "ensemble":
                raise InstdetError("ensemble: each member is {'model': name, 'settings': {...}}")


class Ensemble(nn.Module):
    def __init__(self, config: EnsembleConfig, *, n_mels: int, n_classes: int):
        super().__init__()
        from instdet.models import build_model

        self.members = nn.ModuleList(
            build_model(m["model"], n_mels=n_mels, n_classes=n_classes,
                        settings=dict(m.get("settings") or {}))
            for m in config.members)
        w = torch.tensor(config.weights, dtype=torch.float32)
        self.register_buffer("weights", w / w.sum(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, T, n_mels) -> (B, T, n_classes) logits of the weighted mean probability
        p = sum(w * torch.sigmoid(m(x)) for w, m in zip(self.weights, self.members))
        return torch.logit(p.clamp(1e-7, 1 - 1e-7))
