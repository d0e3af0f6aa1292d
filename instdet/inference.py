"""Inference: everything that predicts (evaluation, the dashboard, the CLI) goes through here."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit

from instdet.audio import check_signal, load_audio
from instdet.checkpoint import load_checkpoint, model_from_checkpoint
from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError
from instdet.features import FeatureConfig, logmel, scale
from instdet.postprocess import PostProcess

WINDOW = 1024  # frames per model call (~24 s): bounds attention memory on long songs
MARGIN = 64  # context frames on each side of a window, dropped from its output


@torch.inference_mode()
def predict_logits(model: torch.nn.Module, features: np.ndarray, *, device="cpu") -> np.ndarray:
    """Frame logits of a whole track, in overlapping windows.

    Parameters
    ----------
    features : np.ndarray [shape=(n_frames, n_mels)], dB

    Returns
    -------
    logits : np.ndarray [shape=(n_frames, n_classes), dtype=float32]
    """
    n = features.shape[0]
    x = torch.from_numpy(scale(np.asarray(features, dtype=np.float32))).to(device)
    if n <= WINDOW + 2 * MARGIN:
        return model(x[None])[0].float().cpu().numpy()
    starts = list(range(0, n, WINDOW))
    chunks = [x[max(0, s - MARGIN) : min(n, s + WINDOW + MARGIN)] for s in starts]
    # Equal-length windows batch together; the last, shorter one runs alone.
    pieces = []
    full = [c for c in chunks if c.shape[0] == chunks[0].shape[0]]
    groups = [full[i : i + 8] for i in range(0, len(full), 8)]
    results = [r for g in groups for r in model(torch.stack(g)).float().cpu().numpy()]
    results += [model(c[None])[0].float().cpu().numpy() for c in chunks[len(full):]]
    for s, r in zip(starts, results):
        lo = s - max(0, s - MARGIN)
        pieces.append(r[lo : lo + min(WINDOW, n - s)])
    return np.concatenate(pieces, axis=0)


@dataclasses.dataclass
class Prediction:
    """What a model says of one song."""

    times: np.ndarray  # (n_frames,) seconds
    probabilities: np.ndarray  # (n_frames, 31) float32
    active: np.ndarray  # (n_frames, 31) bool, after post-processing
    frame_rate: float  # frames per second
    instruments: tuple[str, ...] = INSTRUMENTS


class Predictor:
    """A trained model with its feature settings and post-processing, ready to predict."""

    def __init__(self, ckpt: dict, *, name: str = "model", device: str | None = None):
        self.model, self.feature_config = model_from_checkpoint(ckpt)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)
        self.name = name
        self.model_name = ckpt["model_name"]
        self.postprocess = PostProcess.from_dict(ckpt.get("postprocess"))
        self.checkpoint = ckpt

    @classmethod
    def from_run(cls, run: str | os.PathLike, **kw) -> "Predictor":
        """Load ``<run>/model.pt`` (or a checkpoint file given directly)."""
        run = Path(run)
        path = run / "model.pt" if run.is_dir() else run
        name = run.name if run.is_dir() else run.stem
        return cls(load_checkpoint(path), name=name, **kw)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """np.ndarray [shape=(n_frames, 31)] from dB log-mel features (n_frames, n_mels)."""
        if features.ndim != 2 or features.shape[1] != self.feature_config.n_mels:
            raise InstdetError(
                f"features of shape {features.shape} do not fit a model of "
                f"{self.feature_config.n_mels} mel bins"
            )
        return expit(predict_logits(self.model, features, device=self.device)).astype(np.float32)

    def predict(self, audio: str | os.PathLike | np.ndarray, *, sr: int | None = None) -> Prediction:
        """Predict instrument activity of a song.

        Parameters
        ----------
        audio : path, or np.ndarray [shape=(n_samples,)] mono at ``sr``
        sr : int, keyword-only
            Sample rate of an array (ignored for a path).
        """
        if isinstance(audio, np.ndarray):
            if sr is None:
                raise InstdetError("give sr= with an audio array")
            check_signal(audio, sr, name="audio array")
            y = audio.astype(np.float32)
            if sr != self.feature_config.sr:
                import soxr

                y = soxr.resample(y, sr, self.feature_config.sr).astype(np.float32)
        else:
            y = load_audio(audio, sr=self.feature_config.sr)
            check_signal(y, self.feature_config.sr, name=Path(audio).name)
        feats = logmel(y, config=self.feature_config)
        return self.predict_features(feats)

    def predict_features(self, features: np.ndarray) -> Prediction:
        probs = self.probabilities(features)
        times = np.arange(probs.shape[0]) / self.feature_config.frame_rate
        return Prediction(times, probs, self.postprocess.apply(probs), self.feature_config.frame_rate)


def predict_many(predictors: dict[str, "Predictor"], y: np.ndarray, *, sr: int,
                 progress=None) -> dict[str, Prediction]:
    """Run several models on one song, computing each distinct feature setting once.

    ``y`` is mono audio at ``sr``; ``progress(done, total, name)`` is called after each model.
    """
    import soxr

    check_signal(y, sr, name="audio")
    feats: dict[FeatureConfig, np.ndarray] = {}
    out = {}
    for i, (name, p) in enumerate(predictors.items()):
        cfg = p.feature_config
        if cfg not in feats:
            yy = y if sr == cfg.sr else soxr.resample(y, sr, cfg.sr).astype(np.float32)
            feats[cfg] = logmel(yy, config=cfg)
        out[name] = p.predict_features(feats[cfg])
        if progress:
            progress(i + 1, len(predictors), name)
    return out
