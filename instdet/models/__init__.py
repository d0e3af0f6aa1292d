"""Models, registered by name. Each maps log-mel frames ``(B, T, n_mels)`` to logits ``(B, T, 31)``."""

from __future__ import annotations

import dataclasses

import torch

from instdet.errors import InstdetError
from instdet.models.crnn import CRNN, CRNNConfig
from instdet.models.convtf import ConvTransformer, ConvTransformerConfig
from instdet.models.mlp import MLP, MLPConfig

#: name -> (module class, settings dataclass)
MODELS: dict[str, tuple[type[torch.nn.Module], type]] = {
    "mlp": (MLP, MLPConfig),
    "crnn": (CRNN, CRNNConfig),
    "convtf": (ConvTransformer, ConvTransformerConfig),
}


def model_config(name: str, settings: dict | None = None):
    """The settings dataclass of model ``name``, with ``settings`` overriding defaults."""
    if name not in MODELS:
        raise InstdetError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    cls = MODELS[name][1]
    settings = dict(settings or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(settings) - known
    if unknown:
        raise InstdetError(f"model {name}: unknown settings {', '.join(sorted(unknown))}")
    # JSON turns tuples into lists; settings dataclasses hold tuples.
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()})


def build_model(name: str, *, n_mels: int, n_classes: int, settings: dict | None = None):
    """Instantiate model ``name`` for ``n_mels`` input bins and ``n_classes`` outputs."""
    config = model_config(name, settings)
    return MODELS[name][0](config, n_mels=n_mels, n_classes=n_classes)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
