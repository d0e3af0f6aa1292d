"""Post-processing: a threshold per instrument and a median filter over time.

Both are chosen on the validation split (``tune``) and stored in the run's checkpoint.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
from scipy.ndimage import median_filter

from instdet.errors import InstdetError

THRESHOLDS = np.round(np.arange(0.1, 0.91, 0.05), 2)
MEDIAN_SIZES = (1, 3, 5, 9, 15, 21)  # frames; 1 = no filter (21 frames ~ 0.5 s)


@dataclasses.dataclass(frozen=True)
class PostProcess:
    thresholds: tuple[float, ...] | None = None  # per instrument; None = 0.5 for all
    median: int = 1

    def __post_init__(self):
        if self.median < 1 or self.median % 2 == 0:
            raise InstdetError(f"median filter length must be odd and >= 1, got {self.median}")

    def to_dict(self) -> dict:
        return {"thresholds": list(self.thresholds) if self.thresholds else None,
                "median": self.median}

    @classmethod
    def from_dict(cls, d: dict | None) -> "PostProcess":
        if not d:
            return cls()
        th = d.get("thresholds")
        return cls(tuple(float(t) for t in th) if th else None, int(d.get("median", 1)))

    def apply(self, probs: np.ndarray) -> np.ndarray:
        """Active matrix np.ndarray [shape=(n_frames, n_instruments), dtype=bool]."""
        th = np.asarray(self.thresholds if self.thresholds else 0.5, dtype=np.float32)
        return binarize(probs, th, self.median)


def binarize(probs: np.ndarray, thresholds, median: int = 1) -> np.ndarray:
    active = probs >= np.asarray(thresholds, dtype=np.float32)
    if median > 1:
        active = median_filter(active, size=(median, 1), mode="nearest")
    return active.astype(bool)


THRESHOLD_MODES = ("none", "global", "per-instrument")


def tune(probs: Sequence[np.ndarray], labels: Sequence[np.ndarray], *,
         thresholds: str = "none") -> tuple[PostProcess, float, float]:
    """Choose a median length and, if asked, thresholds, on tracks given as lists of
    (n_frames, K) arrays (the filter runs per track); each choice maximises the selection
    score (the mean of frame F1 micro and macro).

    ``thresholds``: ``"none"`` keeps 0.5 (the default), ``"global"`` tries one threshold for
    every instrument, ``"per-instrument"`` picks each instrument's by its own F1. Thresholds
    chosen on a few songs do not carry over to others: in 4-fold cross-validation over the 12
    real songs, with every choice made on the other folds' songs, per-instrument thresholds
    lowered F1 micro well below the raw output while the median filter alone kept it
    (``scripts/data_experiment.py``, stages of ``results/data_experiment.csv``).

    Returns ``(postprocess, score_before, score_after)``. The default (0.5, no filter) is
    among the candidates, so ``score_after >= score_before`` on these tracks.
    """
    from instdet.metrics import selection_score

    if thresholds not in THRESHOLD_MODES:
        raise InstdetError(f"thresholds must be one of {', '.join(THRESHOLD_MODES)}")
    if len(probs) != len(labels) or not len(probs):
        raise InstdetError("tune needs one label array per probability array, and at least one")
    k = probs[0].shape[1]
    candidates = [None]
    if thresholds == "global":
        candidates += [(float(t),) * k for t in THRESHOLDS if t != 0.5]
    elif thresholds == "per-instrument":
        candidates.append(tuple(float(t) for t in _best_thresholds(probs, labels)))

    def score(th, m):
        return selection_score(labels, [binarize(p, 0.5 if th is None else th, m) for p in probs])

    before = score(None, 1)
    best = (PostProcess(), before)
    for th in candidates:
        for m in MEDIAN_SIZES:
            s = score(th, m)
            if s > best[1] + 1e-12:
                best = (PostProcess(th, m), s)
    return best[0], before, best[1]


def _best_thresholds(probs, labels) -> np.ndarray:
    """Per instrument, the threshold of best F1 over the pooled frames (0.5 where absent)."""
    p_all = np.concatenate(probs)
    y_all = np.concatenate(labels).astype(bool)
    best_th = np.full(p_all.shape[1], 0.5)
    for j in np.flatnonzero(y_all.any(axis=0)):
        best_f = -1.0
        for t in THRESHOLDS:  # thresholds act frame by frame: pooled frames give the same F1
            p = p_all[:, j] >= t
            tp = np.sum(p & y_all[:, j])
            f = 2 * tp / max(p.sum() + y_all[:, j].sum(), 1)
            if f > best_f + 1e-12:
                best_f, best_th[j] = f, t
    return best_th
