"""Confusion pairs for multi-label frames.

In a frame, every instrument that is *missed* (true, not predicted) is paired with every
instrument *falsely predicted* (predicted, not true). Summed over frames this gives a
(true, predicted, count) table and a 31x31 matrix: the seed's "Erhu -> Cello 1650" means
1650 frames where Erhu played unrecognised while Cello was reported in its place. A frame with
misses but no false alarm (or the reverse) adds no pair. The normalised matrix divides each
row by the true instrument's active frames: the share of its frames lost to that confusion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Pair counts: np.ndarray [shape=(n_instruments, n_instruments), dtype=int64], [true, pred]."""
    if y_true.shape != y_pred.shape or y_true.ndim != 2:
        raise InstdetError(f"shapes differ: {y_true.shape} vs {y_pred.shape}")
    t, p = y_true.astype(bool), y_pred.astype(bool)
    missed = (t & ~p).astype(np.int64)  # (n_frames, K)
    false = (p & ~t).astype(np.int64)  # (n_frames, K)
    return missed.T @ false


def pairs_table(matrix: np.ndarray, true_frames: np.ndarray, names=INSTRUMENTS) -> pd.DataFrame:
    """Non-zero pairs sorted by count: columns true, predicted, count, true_frames, rate."""
    i, j = np.nonzero(matrix)
    df = pd.DataFrame({
        "true": [names[a] for a in i], "predicted": [names[b] for b in j],
        "count": matrix[i, j], "true_frames": true_frames[i],
    })  # fmt: skip
    df["rate"] = df["count"] / df["true_frames"].where(df["true_frames"] > 0)
    return df.sort_values(["count", "true", "predicted"], ascending=[False, True, True],
                          ignore_index=True)


def normalise(matrix: np.ndarray, true_frames: np.ndarray) -> np.ndarray:
    """Rows divided by the true instrument's active frames (NaN where it never plays)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(true_frames[:, None] > 0, matrix / true_frames[:, None], np.nan)
