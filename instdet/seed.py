"""Import the original project's published MLP checkpoints as instdet runs.

The seed's files are bare PyTorch state_dicts of a frame MLP (``instdet.models.seedmlp``)
with 31 outputs named by a ``global_instruments.json`` beside them. Importing one writes a
self-describing run folder: the weights with the output rows reordered by instrument name to
AAM's order, the seed's feature settings (instdet's defaults are the seed's: 22050 Hz, 2048 /
512, 128 mels, dB relative to the track's maximum), threshold 0.5 and no filter, and what is
known of its training (songs, epochs, section labels). Loaded with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from instdet.checkpoint import FORMAT_VERSION, save_checkpoint
from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError
from instdet.features import FeatureConfig
from instdet.models import build_model
from instdet.runs import RunDir, check_name

PREFIX = "seed-mlp-"


def seed_run_id(train_size: int, epochs: int) -> str:
    """``seed-mlp-300``; ``seed-mlp-75-e5`` for a run of other than the usual 50 epochs."""
    return f"{PREFIX}{train_size}" + ("" if epochs == 50 else f"-e{epochs}")


def import_seed(path: str | os.PathLike, *, train_size: int, epochs: int, runs_dir,
                instruments: str | os.PathLike | None = None, name: str | None = None,
                overwrite: bool = False) -> RunDir:
    """Write ``runs_dir/<name>`` from a seed state_dict; returns the run folder."""
    path = Path(path)
    names_file = Path(instruments) if instruments else path.parent / "global_instruments.json"
    try:
        names = json.loads(names_file.read_text())
    except (OSError, ValueError):
        raise InstdetError(f"{names_file}: cannot read the seed's instrument list "
                           "(give --instruments FILE)") from None
    if not isinstance(names, list) or sorted(map(str, names)) != sorted(INSTRUMENTS):
        raise InstdetError(f"{names_file}: not AAM's 31 instrument names")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InstdetError(f"{path}: no such file") from None
    except Exception as exc:
        raise InstdetError(f"{path.name}: not a readable weights-only PyTorch file "
                           f"({str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__})") from None
    order = [names.index(n) for n in INSTRUMENTS]
    try:
        state = dict(state)
        state["out.weight"] = state["out.weight"][order]
        state["out.bias"] = state["out.bias"][order]
        model = build_model("seedmlp", n_mels=FeatureConfig().n_mels, n_classes=len(INSTRUMENTS),
                            settings={"hidden": int(state["fc1.weight"].shape[0])})
        model.load_state_dict(state)
    except (KeyError, RuntimeError, TypeError, IndexError) as exc:
        raise InstdetError(f"{path.name}: not the seed's MLP ({str(exc).splitlines()[0][:100]})") from None
    run = RunDir(Path(runs_dir) / check_name(name or seed_run_id(train_size, epochs)))
    if run.path.exists() and any(run.path.iterdir()) and not overwrite:
        raise InstdetError(f"{run.path} exists; pass --overwrite to import again")
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    features = FeatureConfig()
    save_checkpoint(run.checkpoint, {
        "format": FORMAT_VERSION, "model_name": "seedmlp",
        "model_config": {"hidden": int(state["fc1.weight"].shape[0])},
        "feature_config": features.to_dict(), "instruments": list(INSTRUMENTS),
        "epoch": epochs, "best_score": float("nan"),
        "state_dict": {k: v.clone() for k, v in model.state_dict().items()},
        "postprocess": {"thresholds": None, "median": 1}, "seed": 0, "run_id": run.run_id,
    })
    run.write_split({"train": [], "val": [], "test": [],
                     "note": "the seed's training songs are not listed; its report says AAM "
                             f"songs 1-1000, its figures fit the first {train_size} ids"})
    run.write_config({
        "run_id": run.run_id, "status": "done", "device": "imported", "imported": True,
        "data_kind": "real", "train_size": train_size, "n_val": 0, "n_test": 0,
        "best_epoch": epochs, "epochs_run": epochs,
        "train": {"model": "seedmlp", "epochs": epochs, "label_source": "segments",
                  "data": [], "source_file": path.name, "source_md5": md5},
        "features": features.to_dict(),
    })
    return run
