"""Training: random crops, masked class-weighted BCE, early stopping on validation score.

A run lives in ``saved_models/<run_id>/``:

- ``model.pt``    best checkpoint (weights, model and feature settings, instruments, epoch,
                  best score, post-processing): rebuilds the model alone
- ``last.pt``     latest training state for ``--resume``; removed when the run finishes
- ``config.json`` the training settings, data folders and status
- ``split.json``  track ids of train / val / test
- ``history.csv`` per epoch: loss, validation loss, F1 micro / macro, score, seconds
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from instdet.atomic import write_csv, write_json
from instdet.augment import augment_batch
from instdet.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint
from instdet.data.aam import INSTRUMENTS, load_tracks
from instdet.dataset import (TrackArrays, class_pos_weight, load_arrays, load_pack,
                             sample_batch, split_tracks, track_weights)
from instdet.errors import InstdetError
from instdet.features import FeatureConfig, scale
from instdet.inference import predict_logits, sigmoid
from instdet.metrics import frame_metrics, score_of, selection_score
from instdet.models import build_model, model_config
from instdet.postprocess import tune


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    model: str = "crnn"
    model_settings: dict = dataclasses.field(default_factory=dict)
    data: tuple[str, ...] = ()
    tracks: int | None = None  # training tracks; None = all left after val and test
    test_ids: tuple[str, ...] = ()
    val_ids: tuple[str, ...] = ()
    label_source: str = "auto"
    epochs: int = 30
    patience: int = 6
    steps_per_epoch: int = 100
    batch_size: int = 16
    crop_frames: int = 256  # ~6 s
    lr: float = 1e-3
    weight_decay: float = 1e-4
    rare_threshold: int = 5
    rare_factor: float = 4.0
    pos_weight_cap: float = 10.0
    augment: bool = True
    remix_prob: float = 0.0  # share of crops replaced by on-the-fly stem remixes
    init_from: str = ""  # a run or checkpoint whose weights start this run (fine-tuning)
    seed: int = 0

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["data"] = list(self.data)
        d["test_ids"], d["val_ids"] = list(self.test_ids), list(self.val_ids)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        for k in ("data", "test_ids", "val_ids"):
            d[k] = tuple(d.get(k) or ())
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(cls)}})


def masked_bce(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
               pos_weight: torch.Tensor) -> torch.Tensor:
    """Mean BCE over real frames only.

    logits, target: (B, T, C); mask: (B, T) with 1 on real frames, 0 on padding.
    """
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, pos_weight=pos_weight, reduction="none")  # (B, T, C)
    loss = loss.mean(dim=-1) * mask  # (B, T)
    return loss.sum() / mask.sum().clamp(min=1.0)


def _seed_all(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def evaluate_arrays(model, arrays: list[TrackArrays], *, device, pos_weight=None) -> dict:
    """Validation metrics over whole tracks: loss, F1 micro / macro, score, probabilities."""
    model.eval()
    probs, labels, losses = [], [], []
    for a in arrays:
        logits = predict_logits(model, a.features, device=device)
        probs.append(sigmoid(logits))
        labels.append(a.labels)
        if pos_weight is not None:
            t = torch.from_numpy(logits)
            losses.append(masked_bce(t[None], torch.from_numpy(a.labels[None]).float(),
                                     torch.ones(1, t.shape[0]), pos_weight.cpu()).item())
    p, y = np.concatenate(probs), np.concatenate(labels)
    m = frame_metrics(y, p >= 0.5)
    return {"val_loss": float(np.mean(losses)) if losses else float("nan"),
            "f1_micro": m["f1_micro"], "f1_macro": m["f1_macro"],
            "score": score_of(m),
            "probs": p, "labels": y}


def train(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    features: FeatureConfig = FeatureConfig(),
    cache_dir=None,
    resume: bool = False,
    device: str | None = None,
    progress: Callable[[dict], None] | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Train one model; returns the summary written to ``config.json``."""
    run_dir = Path(run_dir)
    model_config(config.model, config.model_settings)  # fail early on a bad name or setting
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if not config.data:
        raise InstdetError("give at least one --data folder")
    folders = [d for d in config.data if not str(d).endswith(".npz")]
    packed: dict[str, TrackArrays] = {}
    for pack in (d for d in config.data if str(d).endswith(".npz")):
        arrays, pack_features = load_pack(pack)
        if pack_features != features:
            raise InstdetError(f"{pack}: features made with other settings ({pack_features})")
        packed.update(arrays)
    tracks = load_tracks(folders) if folders else {}
    both = sorted(set(tracks) & set(packed))
    if both:
        raise InstdetError(f"track {both[0]} is both in a folder and in a pack")
    split_file = run_dir / "split.json"
    if resume and split_file.exists():
        split = json.loads(split_file.read_text())
    else:
        split = split_tracks([*tracks, *packed], n_train=config.tracks, seed=config.seed,
                             test_ids=list(config.test_ids), val_ids=list(config.val_ids))
    used = {t: tracks[t] for part in ("train", "val") for t in split[part] if t in tracks}
    log(f"{len(split['train'])} train, {len(split['val'])} val, {len(split['test'])} test tracks")
    arrays = load_arrays(used, config=features, label_source=config.label_source,
                         cache_dir=cache_dir)
    arrays.update(packed)
    train_arr = [arrays[t] for t in split["train"]]
    val_arr = [arrays[t] for t in split["val"]]

    _seed_all(config.seed)
    model = build_model(config.model, n_mels=features.n_mels, n_classes=len(INSTRUMENTS),
                        settings=config.model_settings).to(device)
    if config.init_from and not resume:
        init = Path(config.init_from)
        start = load_checkpoint(init / "model.pt" if init.is_dir() else init)
        if start["model_name"] != config.model or dict(start["model_config"]) != dataclasses.asdict(
                model_config(config.model, config.model_settings)):
            raise InstdetError(f"{init}: a {start['model_name']} of other settings cannot start "
                               f"this {config.model} run")
        model.load_state_dict(start["state_dict"])
        log(f"starting from the weights of {init} (epoch {start['epoch']})")
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    pos_weight = torch.from_numpy(class_pos_weight(train_arr, cap=config.pos_weight_cap)).to(device)
    weights = track_weights(train_arr, rare_threshold=config.rare_threshold,
                            factor=config.rare_factor)
    remixer = None
    if config.remix_prob > 0:
        from instdet.data.remix import OnTheFlyRemixer

        remixer = OnTheFlyRemixer({t: tracks[t] for t in split["train"] if t in tracks},
                                  features=features, crop=config.crop_frames)
    start_epoch, best, bad, history = 1, -1.0, 0, []
    last_path = run_dir / "last.pt"
    if resume:
        if not last_path.exists():
            raise InstdetError(f"{run_dir}: nothing to resume (no last.pt; the run has finished "
                               "or never started)")
        state = torch.load(last_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start_epoch, best, bad = state["epoch"] + 1, state["best"], state["bad_epochs"]
        hist_file = run_dir / "history.csv"
        history = pd.read_csv(hist_file).to_dict("records") if hist_file.exists() else []
        log(f"resuming at epoch {start_epoch} (best score so far {best:.4f})")
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(split_file, split)
    summary = {"run_id": run_dir.name, "train": config.to_dict(), "features": features.to_dict(),
               "status": "training", "device": device,
               "n_train": len(split["train"]), "n_val": len(split["val"]),
               "n_test": len(split["test"])}
    write_json(run_dir / "config.json", summary)

    for epoch in range(start_epoch, config.epochs + 1):
        t0 = time.time()
        model.train()
        # Per-epoch seeds make a resumed run draw the same crops as an uninterrupted one.
        rng = np.random.default_rng([config.seed, epoch])
        torch.manual_seed(config.seed * 100_003 + epoch)
        losses = []
        for _ in range(config.steps_per_epoch):
            x, y, mask = sample_batch(train_arr, weights, batch_size=config.batch_size,
                                      crop=config.crop_frames, rng=rng, pad_db=-features.top_db)
            if remixer is not None:
                for b in np.flatnonzero(rng.random(len(x)) < config.remix_prob):
                    x[b], y[b] = remixer(rng)
                    mask[b] = 1.0
            if config.augment:
                x = augment_batch(x, rng, floor_db=-features.top_db)
            x = torch.from_numpy(scale(x)).to(device)
            loss = masked_bce(model(x), torch.from_numpy(y).to(device),
                              torch.from_numpy(mask).to(device), pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        ev = evaluate_arrays(model, val_arr, device=device, pos_weight=pos_weight)
        row = {"epoch": epoch, "loss": float(np.mean(losses)), "val_loss": ev["val_loss"],
               "val_f1_micro": ev["f1_micro"], "val_f1_macro": ev["f1_macro"],
               "val_score": ev["score"], "seconds": time.time() - t0,
               "frames_per_s": config.steps_per_epoch * config.batch_size * config.crop_frames
               / max(time.time() - t0, 1e-9)}
        history.append(row)
        improved = ev["score"] > best
        if improved:
            best, bad = ev["score"], 0
            post, before, after = tune(ev["probs"], ev["labels"], score=selection_score)
            save_checkpoint(run_dir / "model.pt", {
                "format": FORMAT_VERSION, "model_name": config.model,
                "model_config": dataclasses.asdict(model_config(config.model, config.model_settings)),
                "feature_config": features.to_dict(), "instruments": list(INSTRUMENTS),
                "epoch": epoch, "best_score": best, "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
                "postprocess": post.to_dict(),
                "val_score_postprocessed": after, "seed": config.seed, "run_id": run_dir.name,
            })
        else:
            bad += 1
        write_csv(run_dir / "history.csv", pd.DataFrame(history))
        save_checkpoint(last_path, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                    "epoch": epoch, "best": best, "bad_epochs": bad})
        if progress:
            progress(row)
        if bad >= config.patience:
            log(f"early stop at epoch {epoch}: no better validation score in {bad} epochs")
            break
    last_path.unlink(missing_ok=True)
    best_ckpt = load_checkpoint(run_dir / "model.pt")
    summary.update(status="done", best_epoch=best_ckpt["epoch"], best_score=best_ckpt["best_score"],
                   epochs_run=len(history))
    write_json(run_dir / "config.json", summary)
    return summary
