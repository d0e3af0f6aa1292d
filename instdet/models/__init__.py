"""Models, registered by name. Each maps log-mel frames ``(B, T, n_mels)`` to logits ``(B, T, 31)``."""

from __future__ import annotations

import dataclasses

import torch

from instdet.errors import InstdetError
from instdet.models.convtf import ConvTransformer, ConvTransformerConfig
from instdet.models.crnn import CRNN, CRNNConfig
from instdet.models.ensemble import Ensemble, EnsembleConfig
from instdet.models.mlp import MLP, MLPConfig
from instdet.models.seedmlp import SeedMLP, SeedMLPConfig

#: name -> (module class, settings dataclass)
MODELS: dict[str, tuple[type[torch.nn.Module], type]] = {
    "mlp": (MLP, MLPConfig),
    "crnn": (CRNN, CRNNConfig),
    "convtf": (ConvTransformer, ConvTransformerConfig),
    "seedmlp": (SeedMLP, SeedMLPConfig),
    "ensemble": (Ensemble, EnsembleConfig),
}
#: Models that `instdet train` trains (the others are imported or assembled).
TRAINABLE = ("mlp", "crnn", "convtf")


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
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for key, value in settings.items():
        _check_type(name, key, value, defaults[key])
    # JSON turns tuples into lists; settings dataclasses hold tuples.
    try:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()})
    except TypeError as exc:
        raise InstdetError(f"model {name}: settings do not fit ({exc})") from None


def _check_type(model: str, key: str, value, default) -> None:
    """A setting must have its default's type (a checkpoint or --set cannot smuggle text or
    negative sizes into a layer)."""
    import math

    def bad(what):
        raise InstdetError(f"model {model}: setting {key}={value!r} must be {what}")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            bad("true or false")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            bad("a whole number >= 0")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value < 0:
            bad("a number >= 0")
    elif isinstance(default, tuple) and model != "ensemble":
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            bad("a list of whole numbers >= 1")


def build_model(name: str, *, n_mels: int, n_classes: int, settings: dict | None = None):
    """Instantiate model ``name`` for ``n_mels`` input bins and ``n_classes`` outputs."""
    config = model_config(name, settings)
    return MODELS[name][0](config, n_mels=n_mels, n_classes=n_classes)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
