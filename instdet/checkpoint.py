"""Self-describing checkpoints: the file alone rebuilds the model (nanoGPT's way).

A checkpoint is a dict of plain types and tensors, loaded with ``weights_only=True`` so that a
file carrying pickled code is refused instead of run.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch

from instdet.atomic import write_with
from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError
from instdet.features import FeatureConfig
from instdet.models import build_model

FORMAT_VERSION = 1
REQUIRED_KEYS = ("format", "model_name", "model_config", "feature_config", "instruments",
                 "state_dict")


def save_checkpoint(path: str | os.PathLike, ckpt: dict) -> None:
    """Write ``ckpt`` atomically (a crash mid-write leaves the previous file intact)."""
    write_with(path, lambda tmp: torch.save(ckpt, tmp))


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint safely and check it is one instdet can use.

    Raises
    ------
    InstdetError
        Missing, truncated, code-carrying, or of another vocabulary or format.
    """
    path = Path(path)
    if not path.is_file():
        raise InstdetError(f"{path}: no such checkpoint")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unpickling error"
        raise InstdetError(
            f"{path.name}: refused, the file carries objects other than weights ({first[:100]})"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InstdetError(f"{path.name}: unreadable checkpoint, truncated or not a torch file "
                           f"({str(exc).strip().splitlines()[0][:100] if str(exc).strip() else type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in REQUIRED_KEYS):
        raise InstdetError(f"{path.name}: not an instdet checkpoint (keys missing)")
    if ckpt["format"] != FORMAT_VERSION:
        raise InstdetError(f"{path.name}: checkpoint format {ckpt['format']}, expected {FORMAT_VERSION}")
    if list(ckpt["instruments"]) != list(INSTRUMENTS):
        raise InstdetError(
            f"{path.name}: trained on another instrument vocabulary "
            f"({len(ckpt['instruments'])} names), not AAM's 31 in order"
        )
    return ckpt


def model_from_checkpoint(ckpt: dict) -> tuple[torch.nn.Module, FeatureConfig]:
    """Rebuild the model and its feature settings from a loaded checkpoint."""
    features = FeatureConfig.from_dict(dict(ckpt["feature_config"]))
    model = build_model(ckpt["model_name"], n_mels=features.n_mels,
                        n_classes=len(ckpt["instruments"]), settings=dict(ckpt["model_config"]))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise InstdetError(f"weights do not fit model {ckpt['model_name']}: "
                           f"{str(exc).splitlines()[0][:120]}") from None
    model.eval()
    return model, features
