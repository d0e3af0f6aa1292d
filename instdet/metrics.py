"""Frame-level metrics (the seed's, via scikit-learn) plus segment-based F1 and mAP.

Conventions
-----------
- Frame metrics treat each (frame, instrument) as one decision.
- ``f1_macro`` and ``mAP`` average over instruments *present* in the evaluated tracks (an
  instrument with no positive frame has no recall to speak of).
- Segment-based metrics (sed_eval's convention, Mesaros et al. 2016): time is cut into 1-s
  segments; an instrument is active in a segment if any of its frames is. F1 counts
  segment-level true/false positives over all instruments; the error rate is
  ``(S + D + I) / N`` with per-segment substitutions ``S = min(FN, FP)``, deletions
  ``D = max(0, FN - FP)``, insertions ``I = max(0, FP - FN)`` and ``N`` active references.
  ``segment_metrics`` checks itself against sed_eval in the tests.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError

SUMMARY_KEYS = ("f1_micro", "f1_macro", "f1_weighted", "hamming", "jaccard_samples",
                "segment_f1_1s", "segment_er_1s", "mAP")


def _check(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if y_true.shape != y_pred.shape or y_true.ndim != 2:
        raise InstdetError(f"labels {y_true.shape} and predictions {y_pred.shape} must both be "
                           "(n_frames, n_instruments)")


def frame_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """The seed's frame metrics.

    Parameters
    ----------
    y_true, y_pred : np.ndarray [shape=(n_frames, n_instruments)], 0/1
    """
    _check(y_true, y_pred)
    y_true = y_true.astype(bool)
    y_pred = y_pred.astype(bool)
    present = y_true.any(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per = skm.f1_score(y_true, y_pred, average=None, zero_division=0)
        return {
            "f1_micro": float(skm.f1_score(y_true, y_pred, average="micro", zero_division=0)),
            "f1_macro": float(per[present].mean()) if present.any() else 0.0,
            "f1_weighted": float(skm.f1_score(y_true, y_pred, average="weighted", zero_division=0)),
            "hamming": float(skm.hamming_loss(y_true, y_pred)),
            "jaccard_samples": float(_jaccard_samples(y_true, y_pred)),
        }


def _jaccard_samples(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    # scikit-learn scores a frame with no true and no predicted label as 0; a silent frame
    # predicted silent is right, so it scores 1 here.
    inter = (y_true & y_pred).sum(axis=1)
    union = (y_true | y_pred).sum(axis=1)
    return float(np.where(union > 0, inter / np.maximum(union, 1), 1.0).mean())


def mean_average_precision(y_true: np.ndarray, probs: np.ndarray) -> tuple[float, np.ndarray]:
    """Threshold-free average precision per instrument and their mean over present ones."""
    _check(y_true, probs)
    ap = np.full(y_true.shape[1], np.nan)
    for k in np.flatnonzero(y_true.any(axis=0)):
        ap[k] = skm.average_precision_score(y_true[:, k], probs[:, k])
    present = ~np.isnan(ap)
    return (float(ap[present].mean()) if present.any() else 0.0), ap


def to_segments(y: np.ndarray, *, frame_rate: float, segment_s: float = 1.0) -> np.ndarray:
    """Any-active pooling of frames into ``segment_s`` segments: (n_segments, n_instruments)."""
    idx = (np.arange(y.shape[0]) / frame_rate // segment_s).astype(int)
    out = np.zeros((idx[-1] + 1 if len(idx) else 0, y.shape[1]), dtype=bool)
    np.logical_or.at(out, idx, y.astype(bool))
    return out


def segment_metrics(y_true, y_pred, *, frame_rate: float, segment_s: float = 1.0) -> dict:
    """Segment-based F1 and error rate (sed_eval's definitions)."""
    _check(y_true, y_pred)
    t = to_segments(y_true, frame_rate=frame_rate, segment_s=segment_s)
    p = to_segments(y_pred, frame_rate=frame_rate, segment_s=segment_s)
    tp = (t & p).sum()
    fn_s = (t & ~p).sum(axis=1)
    fp_s = (~t & p).sum(axis=1)
    n_ref = t.sum()
    prec = tp / max(tp + fp_s.sum(), 1)
    rec = tp / max(n_ref, 1)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    subs = np.minimum(fn_s, fp_s).sum()
    dels = np.maximum(0, fn_s - fp_s).sum()
    ins = np.maximum(0, fp_s - fn_s).sum()
    er = (subs + dels + ins) / n_ref if n_ref else 0.0
    return {f"segment_f1_{segment_s:g}s": float(f1), f"segment_er_{segment_s:g}s": float(er)}


def per_instrument(y_true: np.ndarray, y_pred: np.ndarray, ap: np.ndarray | None = None) -> pd.DataFrame:
    """Precision, recall, F1, support (true frames) and predicted frames per instrument."""
    _check(y_true, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = skm.precision_recall_fscore_support(
            y_true.astype(bool), y_pred.astype(bool), average=None, zero_division=0)
    names = INSTRUMENTS if y_true.shape[1] == len(INSTRUMENTS) else tuple(map(str, range(y_true.shape[1])))
    return pd.DataFrame({
        "instrument": names, "precision": p, "recall": r, "f1": f, "support": s,
        "predicted": y_pred.astype(bool).sum(axis=0),
        "ap": ap if ap is not None else np.full(len(names), np.nan),
    })  # fmt: skip


def all_metrics(y_true, y_pred, probs, *, frame_rate: float) -> dict[str, float]:
    """Every summary metric of ``SUMMARY_KEYS``."""
    out = frame_metrics(y_true, y_pred)
    out.update(segment_metrics(y_true, y_pred, frame_rate=frame_rate))
    out["mAP"] = mean_average_precision(y_true, probs)[0]
    return out


def score_of(m: dict) -> float:
    """The selection score of already computed frame metrics."""
    return 0.5 * (m["f1_micro"] + m["f1_macro"])


def selection_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """What model selection and post-processing maximise: mean of frame F1 micro and macro."""
    return score_of(frame_metrics(y_true, y_pred))
