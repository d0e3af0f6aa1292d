"""Several trained models as one: a weighted mean of their probabilities, per instrument.

A member counts only for the instruments it was trained on (``coverage``: instrument indices,
empty for all): a model that never heard a Clarinet says nothing about one, and averaging its
silence in would only dilute the member that did hear it. Per instrument the weights of the
members that cover it are renormalised.

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
    coverage: tuple = ()  # per member, the instrument indices it covers (empty: all)

    def __post_init__(self):
        from instdet.errors import InstdetError

        if not self.members or len(self.members) != len(self.weights):
            raise InstdetError("ensemble: give one weight per member, and at least one member")
        if min(self.weights) < 0 or sum(self.weights) <= 0:
            raise InstdetError("ensemble: weights must be >= 0 and not all 0")
        for m in self.members:
            if not isinstance(m, dict) or "model" not in m or m["model"] == "ensemble":
                raise InstdetError("ensemble: each member is {'model': name, 'settings': {...}}")
        if self.coverage and (len(self.coverage) != len(self.members) or not all(
                all(isinstance(k, int) and k >= 0 for k in c) for c in self.coverage)):
            raise InstdetError("ensemble: coverage gives each member a list of instrument indices")


class Ensemble(nn.Module):
    def __init__(self, config: EnsembleConfig, *, n_mels: int, n_classes: int):
        super().__init__()
        from instdet.models import build_model

        self.members = nn.ModuleList(
            build_model(m["model"], n_mels=n_mels, n_classes=n_classes,
                        settings=dict(m.get("settings") or {}))
            for m in config.members)
        self.register_buffer("weights", member_weights(config.weights, config.coverage, n_classes),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, T, n_mels) -> (B, T, n_classes) logits of the weighted mean probability
        p = sum(w * torch.sigmoid(m(x)) for w, m in zip(self.weights, self.members))
        return torch.logit(p.clamp(1e-7, 1 - 1e-7))


def member_weights(weights, coverage, n_classes: int) -> torch.Tensor:
    """(n_members, n_classes) weights: a member's weight where it covers the instrument, 0
    elsewhere, renormalised per instrument (equal weights where no member covers it)."""
    w = torch.tensor(weights, dtype=torch.float32)[:, None].repeat(1, n_classes)
    for i, cover in enumerate(coverage or ()):
        if cover:
            mask = torch.zeros(n_classes, dtype=torch.bool)
            mask[[k for k in cover if k < n_classes]] = True
            w[i, ~mask] = 0.0
    total = w.sum(dim=0, keepdim=True)
    return torch.where(total > 0, w / total.clamp(min=1e-12), torch.full_like(w, 1 / len(w)))
