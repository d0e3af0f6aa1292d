"""Training: random crops, masked class-weighted BCE, early stopping on the validation score.

A run lives in ``saved_models/<run_id>/`` (file names and formats: ``instdet.runs``). Only a
better validation score writes ``model.pt``; ``last.pt`` holds the state for ``--resume``
and goes when the run ends. A run whose loss or weights turn NaN or infinite stops with
status ``failed`` and never ships as done.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from scipy.special import expit

from instdet.augment import augment_batch
from instdet.averaging import WeightAverage
from instdet.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint, stored_settings
from instdet.data.aam import INSTRUMENTS, load_tracks
from instdet.dataset import (TrackArrays, class_pos_weight, data_kind, load_arrays, load_pack,
                             sample_batch, split_tracks, track_weights)
from instdet.errors import InstdetError
from instdet.features import FeatureConfig, scale
from instdet.heap import keep_freed_memory
from instdet.inference import predict_logits
from instdet.metrics import frame_f1
from instdet.models import build_model, model_config
from instdet.postprocess import THRESHOLD_MODES, PostProcess, tune
from instdet.runs import RunDir, check_name


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    model: str = "crnn"
    model_settings: dict = dataclasses.field(default_factory=dict)
    data: tuple[str, ...] = ()
    train_size: int | None = None  # training tracks; None = all left after val and test
    real_first: bool = False  # the train_size cap takes the real songs before generated ones
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
    sample_prob: float = 0.0  # share of crops replaced by on-the-fly note-sampler songs
    init_from: str = ""  # a run or checkpoint whose weights start this run (fine-tuning)
    schedule: str = "constant"  # learning rate: "constant", or "cosine" (decays to 5% over the epochs)
    ema: float = 0.0  # decay of a moving average of the weights, used to validate and save; 0 = off
    thresholds: str = "none"  # post-processing chosen on the validation songs (postprocess.tune)
    holdout: bool = True  # pick val and test songs at random when no ids are given
    teacher: str = ""  # a run whose probabilities are soft targets (distillation)
    distill_weight: float = 0.0  # share of the loss given to the teacher's targets
    seed: int = 0

    def __post_init__(self):
        checks = {
            "epochs": self.epochs >= 1, "patience": self.patience >= 1,
            "steps_per_epoch": self.steps_per_epoch >= 1, "batch_size": self.batch_size >= 1,
            "crop_frames": self.crop_frames >= 8, "lr": 0 < self.lr < 10,
            "weight_decay": self.weight_decay >= 0, "seed": self.seed >= 0,
            "remix_prob": 0 <= self.remix_prob <= 1, "sample_prob": 0 <= self.sample_prob <= 1,
            "distill_weight": 0 <= self.distill_weight <= 1, "ema": 0 <= self.ema < 1,
            "train_size": self.train_size is None or self.train_size >= 1,
        }
        checks["schedule"] = self.schedule in ("cosine", "constant")
        checks["thresholds"] = self.thresholds in THRESHOLD_MODES
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise InstdetError(f"training setting out of range: {bad[0]}="
                               f"{getattr(self, bad[0])!r}")
        if self.distill_weight > 0 and not self.teacher:
            raise InstdetError("distill_weight > 0 needs a teacher run")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for k in ("data", "test_ids", "val_ids"):
            d[k] = list(getattr(self, k))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for k, v in d.items():
            if k in fields and not _fits(fields[k], v):
                raise InstdetError(f"training settings do not fit: {k}={v!r} is not "
                                   f"{_kind(fields[k])}")
        for k in ("data", "test_ids", "val_ids"):
            d[k] = tuple(d.get(k) or ())
        try:
            return cls(**{k: v for k, v in d.items() if k in fields})
        except TypeError as exc:
            raise InstdetError(f"training settings do not fit: {exc}") from None


def _default(field):
    return field.default_factory() if field.default is dataclasses.MISSING else field.default


def _kind(field) -> str:
    default = _default(field)
    if field.name == "train_size":
        return "a whole number or null"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
            tuple: "a list of strings", dict: "an object"}[type(default)]


def _fits(field, value) -> bool:
    """Whether a value read from JSON has the type of the setting (settings files are typed
    by hand: 2.5 epochs, "false" or a string of data folders must not slip through)."""
    default = _default(field)
    if field.name == "train_size":
        return value is None or (isinstance(value, int) and not isinstance(value, bool))
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, tuple):
        return value is None or (isinstance(value, (list, tuple))
                                 and all(isinstance(x, str) for x in value))
    return isinstance(value, type(default))


def learning_rate(config: TrainConfig, epoch: int, step: int) -> float:
    """The rate of a step: constant, or a cosine from ``lr`` down to 5% of it over all the
    epochs. A function of the step alone, so a resumed run follows the same schedule."""
    if config.schedule == "constant":
        return config.lr
    done = ((epoch - 1) * config.steps_per_epoch + step) / (config.epochs * config.steps_per_epoch)
    return config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * done)))


def masked_bce(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
               pos_weight: torch.Tensor) -> torch.Tensor:
    """Mean BCE over real frames only.

    logits, target: (B, T, C); mask: (B, T) with 1 on real frames, 0 on padding.
    """
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, pos_weight=pos_weight, reduction="none")  # (B, T, C)
    loss = loss.mean(dim=-1) * mask  # (B, T)
    return loss.sum() / mask.sum().clamp(min=1.0)


def validate(model, arrays: list[TrackArrays], *, device, pos_weight=None) -> dict:
    """Validation over whole tracks: loss, F1 micro / macro at 0.5, score, probabilities."""
    model.eval()
    probs, losses = [], []
    for a in arrays:
        logits = predict_logits(model, a.features, device=device)
        probs.append(expit(logits))
        if pos_weight is not None:
            t = torch.from_numpy(logits)
            losses.append(masked_bce(t[None], torch.from_numpy(a.labels[None]).float(),
                                     torch.ones(1, t.shape[0]), pos_weight.cpu()).item())
    labels = [a.labels for a in arrays]
    micro, macro = frame_f1(labels, [p >= 0.5 for p in probs])
    return {"val_loss": float(np.mean(losses)) if losses else float("nan"),
            "f1_micro": micro, "f1_macro": macro, "score": 0.5 * (micro + macro),
            "probs": probs, "labels": labels}


def _gather(config: TrainConfig, run: RunDir, *, features: FeatureConfig, cache_dir, resume: bool,
            log) -> tuple[dict, dict[str, TrackArrays], dict]:
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
    if resume and run.split_path.exists():
        split = run.split()
    else:
        split = split_tracks([*tracks, *packed], train_size=config.train_size, seed=config.seed,
                             test_ids=list(config.test_ids), val_ids=list(config.val_ids),
                             real_first=config.real_first,
                             **({} if config.holdout else {"val_fraction": 0, "test_fraction": 0}))
    used = {t: tracks[t] for part in ("train", "val") for t in split[part] if t in tracks}
    log(f"{len(split['train'])} train, {len(split['val'])} val, {len(split['test'])} test tracks")
    arrays = load_arrays(used, config=features, label_source=config.label_source,
                         cache_dir=cache_dir)
    arrays.update(packed)
    return split, arrays, tracks


def train(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    features: FeatureConfig = FeatureConfig(),
    cache_dir=None,
    resume: bool = False,
    overwrite: bool = False,
    device: str | None = None,
    progress: Callable[[dict], None] | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Train one model; returns the summary written to ``config.json``.

    A finished run is never replaced unless ``overwrite``; then the old folder is kept as
    ``.RUN.backup`` until the new run has finished (and put back if it fails).
    """
    run = RunDir(run_dir)
    check_name(run.run_id)
    model_config(config.model, config.model_settings)  # fail early on a bad name or setting
    if not config.data:
        raise InstdetError("give at least one --data folder")
    backup = None
    if not resume and run.path.exists() and any(run.path.iterdir()):
        if not overwrite:
            raise InstdetError(f"{run.path} exists ({run.status()}); choose another --name, "
                               "--resume it, or pass --overwrite")
        backup = run.path.parent / f".{run.run_id}.backup"
        shutil.rmtree(backup, ignore_errors=True)
        run.path.rename(backup)
    try:
        run.path.mkdir(parents=True, exist_ok=True)
        with run.lock():
            summary = _train(config, run, features=features, cache_dir=cache_dir, resume=resume,
                             device=device, progress=progress, log=log)
    except BaseException:
        if backup is not None and backup.exists():
            shutil.rmtree(run.path, ignore_errors=True)
            backup.rename(run.path)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
    return summary


def _train(config, run: RunDir, *, features, cache_dir, resume, device, progress, log) -> dict:
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    keep_freed_memory()  # each step reuses the last one's memory: same numbers, faster on a CPU
    split, arrays, tracks = _gather(config, run, features=features, cache_dir=cache_dir,
                                    resume=resume, log=log)
    train_arr = [arrays[t] for t in split["train"]]
    val_arr = [arrays[t] for t in split["val"]]
    torch.manual_seed(config.seed)
    np.random.seed(config.seed % (2**32))
    model = build_model(config.model, n_mels=features.n_mels, n_classes=len(INSTRUMENTS),
                        settings=config.model_settings).to(device)
    settings = dataclasses.asdict(model_config(config.model, config.model_settings))
    if config.init_from and not resume:
        _init_weights(model, config, settings, log)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    pos_weight = torch.from_numpy(class_pos_weight(train_arr, cap=config.pos_weight_cap)).to(device)
    weights = track_weights(train_arr, rare_threshold=config.rare_threshold,
                            factor=config.rare_factor)
    extra = _on_the_fly(config, {t: tracks[t] for t in split["train"] if t in tracks}, features)
    teacher = _teacher(config, train_arr)
    average = WeightAverage(model, config.ema) if config.ema else None
    start_epoch, best, bad, history = 1, -1.0, 0, []
    if resume:
        if not run.last.exists():
            raise InstdetError(f"{run.path}: nothing to resume (no last.pt; the run has finished "
                               "or never started)")
        state = _load_state(run.last, device)
        try:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            start_epoch, best, bad = state["epoch"] + 1, state["best"], state["bad_epochs"]
            if average is not None:
                average.load_state_dict(state["average"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise InstdetError(f"{run.last}: not this run's training state ({str(exc)[:80]})") from None
        # The history travels inside last.pt: an interrupt between writing history.csv and
        # last.pt cannot leave the two an epoch apart.
        history = [dict(r) for r in state.get("history", [])]
        log(f"resuming at epoch {start_epoch} (best score so far {best:.4f})")
    run.write_split(split)
    summary = {"run_id": run.run_id, "train": config.to_dict(), "features": features.to_dict(),
               "status": "training", "device": device, "data_kind": data_kind(split["train"]),
               "train_size": len(split["train"]), "n_val": len(split["val"]),
               "n_test": len(split["test"])}
    run.write_config(summary)

    for epoch in range(start_epoch, config.epochs + 1):
        t0 = time.time()
        model.train()
        # Per-epoch seeds make a resumed run draw the same crops as an uninterrupted one.
        rng = np.random.default_rng([config.seed, epoch])
        torch.manual_seed(config.seed * 100_003 + epoch)
        losses = []
        for step in range(config.steps_per_epoch):
            x, y, mask, soft = _batch(config, train_arr, weights, rng, features, extra, teacher)
            logits = model(torch.from_numpy(scale(x)).to(device))
            loss = masked_bce(logits, torch.from_numpy(y).to(device),
                              torch.from_numpy(mask).to(device), pos_weight)
            if soft is not None:
                loss = (1 - config.distill_weight) * loss + config.distill_weight * masked_bce(
                    logits, torch.from_numpy(soft).to(device), torch.from_numpy(mask).to(device),
                    torch.ones_like(pos_weight))
            if not torch.isfinite(loss):
                _fail(run, summary, f"the loss became {loss.item()} at epoch {epoch}, step "
                      f"{step + 1}: training diverged; lower --lr (now {config.lr:g})")
            for group in opt.param_groups:
                group["lr"] = learning_rate(config, epoch, step)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if average is not None:
                average.update(model)
            losses.append(loss.item())
        if not all(torch.isfinite(p).all() for p in model.parameters()):
            _fail(run, summary, f"weights became NaN or infinite at epoch {epoch}; lower --lr")
        with (average.swapped_in(model) if average is not None else contextlib.nullcontext()):
            ev = validate(model, val_arr, device=device, pos_weight=pos_weight) if val_arr else \
                {"val_loss": float("nan"), "f1_micro": float("nan"), "f1_macro": float("nan"),
                 "score": float(epoch)}  # no validation songs: every epoch is the newest best
        # the weights that validated: the moving average when there is one
        validated = average.state if average is not None else model.state_dict()
        seconds = time.time() - t0
        row = {"epoch": epoch, "loss": float(np.mean(losses)), "val_loss": ev["val_loss"],
               "val_f1_micro": ev["f1_micro"], "val_f1_macro": ev["f1_macro"],
               "val_score": ev["score"], "seconds": seconds,
               "frames_per_s": config.steps_per_epoch * config.batch_size * config.crop_frames
               / max(seconds, 1e-9)}
        history.append(row)
        if ev["score"] > best:
            best, bad = ev["score"], 0
            post, _, after = tune(ev["probs"], ev["labels"],
                                  thresholds=config.thresholds) if val_arr else \
                (PostProcess(), float("nan"), float("nan"))
            save_checkpoint(run.checkpoint, {
                "format": FORMAT_VERSION, "model_name": config.model, "model_config": settings,
                "feature_config": features.to_dict(), "instruments": list(INSTRUMENTS),
                "epoch": epoch, "best_score": best if val_arr else float("nan"),
                # Half precision halves the shipped models (load_state_dict widens them back);
                # predictions move by about 1e-3 in probability.
                "state_dict": {k: (v.half() if v.is_floating_point() else v).cpu()
                               for k, v in validated.items()},
                "postprocess": post.to_dict(), "val_score_postprocessed": after,
                "seed": config.seed, "run_id": run.run_id,
            })
        else:
            bad += 1
        run.write_history(history)
        save_checkpoint(run.last, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                   "epoch": epoch, "best": best, "bad_epochs": bad,
                                   "history": history,
                                   **({"average": average.state_dict()} if average else {})})
        if progress:
            progress(row)
        if bad >= config.patience:
            log(f"early stop at epoch {epoch}: no better validation score in {bad} epochs")
            break
    run.last.unlink(missing_ok=True)
    best_ckpt = load_checkpoint(run.checkpoint)
    summary.update(status="done", best_epoch=int(best_ckpt["epoch"]),
                   best_score=float(best_ckpt["best_score"]) if val_arr else None,
                   epochs_run=len(history))
    run.write_config(summary)
    return summary


def _fail(run: RunDir, summary: dict, why: str):
    run.last.unlink(missing_ok=True)
    run.write_config({**summary, "status": "failed", "error": why})
    raise InstdetError(f"{run.run_id}: {why}")


def _load_state(path: Path, device) -> dict:
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # truncated, foreign or code-carrying: never run, never traceback
        raise InstdetError(f"{path}: unreadable training state ({str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise InstdetError(f"{path}: not an instdet training state")
    return state


def _init_weights(model, config: TrainConfig, settings: dict, log) -> None:
    init = Path(config.init_from)
    start = load_checkpoint(init / "model.pt" if init.is_dir() else init)
    if start["model_name"] != config.model or stored_settings(start) != settings:
        raise InstdetError(f"{init}: a {start['model_name']} of other settings cannot start "
                           f"this {config.model} run")
    model.load_state_dict(start["state_dict"])
    log(f"starting from the weights of {init} (epoch {start['epoch']})")


def _on_the_fly(config: TrainConfig, train_tracks: dict, features: FeatureConfig) -> list:
    """Generators of fresh crops, each with its share of the batch: [(prob, make(rng))]."""
    out = []
    if config.remix_prob > 0:
        from instdet.data.remix import OnTheFlyRemixer

        out.append((config.remix_prob, OnTheFlyRemixer(train_tracks, features=features,
                                                       crop=config.crop_frames)))
    if config.sample_prob > 0:
        from instdet.data.sampler import OnTheFlySampler

        out.append((config.sample_prob, OnTheFlySampler(train_tracks, features=features,
                                                        crop=config.crop_frames)))
    return out


def _teacher(config: TrainConfig, train_arr: list[TrackArrays]):
    """The teacher's probabilities of every training track, and the teacher for fresh crops."""
    if not config.teacher:
        return None
    from instdet.inference import Predictor

    t = Predictor.from_run(config.teacher, device="cpu")
    for a in train_arr:
        a.soft = t.probabilities(a.features)
    return t


def _batch(config, train_arr, weights, rng, features, extra, teacher):
    x, y, mask, soft = sample_batch(train_arr, weights, batch_size=config.batch_size,
                                    crop=config.crop_frames, rng=rng, pad_db=-features.top_db,
                                    soft=teacher is not None)
    fresh = []
    for prob, make in extra:
        for b in np.flatnonzero(rng.random(len(x)) < prob):
            x[b], y[b] = make(rng)
            mask[b] = 1.0
            fresh.append(b)
    if teacher is not None and fresh:
        soft[fresh] = np.stack([teacher.probabilities(x[b]) for b in fresh])
    if config.augment:
        x = augment_batch(x, rng, floor_db=-features.top_db)
    return x, y, mask, soft

