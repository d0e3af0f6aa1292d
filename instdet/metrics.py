"""Scoring: the one way instdet turns predictions into numbers.

:func:`score` takes tracks (labels and probabilities), post-processes each track on its own
(thresholds, then a median filter that never runs across a track boundary), counts per track,
and adds the counts up over tracks, as sed_eval does file by file. Evaluation, training's
validation score, post-processing tuning, the CLI report and every dashboard page use it.

Conventions
-----------
- Frame metrics treat each (frame, instrument) as one decision (the seed's metrics).
- ``f1_macro`` and ``mAP`` average over instruments *present* in the scored tracks (an
  instrument with no positive frame has no recall to speak of); ``f1_weighted`` weights each
  instrument's F1 by its true frames (scikit-learn's ``average="weighted"``).
- ``jaccard_samples`` is scikit-learn's ``jaccard_score(average="samples")`` with a silent
  frame predicted silent counting 1 (``zero_division=1``).
- Segment-based metrics (sed_eval's definitions, Mesaros et al. 2016): each track is cut into
  1-s segments; an instrument is active in a segment if any of its frames is. F1 counts
  segment-level true/false positives over all instruments; the error rate is
  ``(S + D + I) / N`` with per-segment substitutions ``S = min(FN, FP)``, deletions
  ``D = max(0, FN - FP)``, insertions ``I = max(0, FP - FN)`` and ``N`` active references.
  The tests check these against sed_eval.
- ``mAP`` is threshold-free, so it needs no post-processing: average precision per instrument
  over the frames of all tracks pooled.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError

SUMMARY_KEYS = ("f1_micro", "f1_macro", "f1_weighted", "hamming", "jaccard_samples",
                "segment_f1_1s", "segment_er_1s", "mAP")
SEGMENT_S = 1.0


def _check(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if y_true.shape != y_pred.shape or y_true.ndim != 2:
        raise InstdetError(f"labels {y_true.shape} and predictions {y_pred.shape} must both be "
                           "(n_frames, n_instruments)")


def to_segments(y: np.ndarray, *, frame_rate: float, segment_s: float = SEGMENT_S) -> np.ndarray:
    """Any-active pooling of frames into ``segment_s`` segments: (n_segments, n_instruments)."""
    idx = (np.arange(y.shape[0]) / frame_rate // segment_s).astype(int)
    out = np.zeros((idx[-1] + 1 if len(idx) else 0, y.shape[1]), dtype=bool)
    np.logical_or.at(out, idx, y.astype(bool))
    return out


@dataclasses.dataclass
class Counts:
    """What every summary metric is computed from; counts add up over tracks.

    Arrays are per instrument, shape ``(n_instruments,)``, except ``confusion``
    ``(n_instruments, n_instruments)``: frames where row instrument was missed while column
    instrument was falsely reported (``instdet.confusion``).
    """

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    n_frames: int
    jaccard_sum: float
    seg_tp: np.ndarray
    seg_fp: np.ndarray
    seg_fn: np.ndarray
    seg_errors: np.ndarray  # (3,): substitutions, deletions, insertions
    confusion: np.ndarray

    @classmethod
    def of(cls, y_true: np.ndarray, y_pred: np.ndarray, *, frame_rate: float) -> "Counts":
        """Counts of one track: y_true, y_pred np.ndarray [shape=(n_frames, n_instruments)], 0/1."""
        _check(y_true, y_pred)
        t, p = y_true.astype(bool), y_pred.astype(bool)
        missed, false = t & ~p, p & ~t
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # scikit-learn reads a single column as binary, not multi-label: a zero column
            # beside it changes no frame's intersection or union.
            pad = np.zeros((len(t), 1), dtype=bool)
            jac = skm.jaccard_score(np.hstack([t, pad]), np.hstack([p, pad]), average="samples",
                                    zero_division=1.0) if len(t) else 0.0
        st, sp = to_segments(t, frame_rate=frame_rate), to_segments(p, frame_rate=frame_rate)
        fn_s, fp_s = (st & ~sp).sum(axis=1), (~st & sp).sum(axis=1)
        errors = np.array([np.minimum(fn_s, fp_s).sum(), np.maximum(0, fn_s - fp_s).sum(),
                           np.maximum(0, fp_s - fn_s).sum()], dtype=np.int64)
        return cls(
            tp=(t & p).sum(axis=0, dtype=np.int64), fp=false.sum(axis=0, dtype=np.int64),
            fn=missed.sum(axis=0, dtype=np.int64), n_frames=int(len(t)),
            jaccard_sum=float(jac) * len(t),
            seg_tp=(st & sp).sum(axis=0, dtype=np.int64), seg_fp=(~st & sp).sum(axis=0, dtype=np.int64),
            seg_fn=(st & ~sp).sum(axis=0, dtype=np.int64), seg_errors=errors,
            confusion=missed.T.astype(np.int64) @ false.astype(np.int64),
        )  # fmt: skip

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                         for f in dataclasses.fields(self)})

    @property
    def support(self) -> np.ndarray:
        """True frames per instrument."""
        return self.tp + self.fn

    def f1_per_instrument(self) -> np.ndarray:
        return _f1(self.tp, self.fp, self.fn)

    def summary(self) -> dict[str, float]:
        """Frame and segment metrics (every key of ``SUMMARY_KEYS`` but ``mAP``)."""
        f1 = self.f1_per_instrument()
        present = self.support > 0
        k = len(self.tp)
        n_ref = int((self.seg_tp + self.seg_fn).sum())
        return {
            "f1_micro": float(_f1(self.tp.sum(), self.fp.sum(), self.fn.sum())),
            "f1_macro": float(f1[present].mean()) if present.any() else 0.0,
            "f1_weighted": float((f1 * self.support).sum() / self.support.sum())
            if self.support.sum() else 0.0,
            "hamming": float((self.fp.sum() + self.fn.sum()) / max(self.n_frames * k, 1)),
            "jaccard_samples": self.jaccard_sum / max(self.n_frames, 1),
            "segment_f1_1s": float(_f1(self.seg_tp.sum(), self.seg_fp.sum(), self.seg_fn.sum())),
            "segment_er_1s": float(self.seg_errors.sum() / n_ref) if n_ref else 0.0,
        }


def _f1(tp, fp, fn):
    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(denom), where=denom > 0)


def average_precision(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Threshold-free average precision per instrument (NaN where it never plays): (K,)."""
    _check(y_true, probs)
    ap = np.full(y_true.shape[1], np.nan)
    for k in np.flatnonzero(y_true.any(axis=0)):
        ap[k] = skm.average_precision_score(y_true[:, k], probs[:, k])
    return ap


@dataclasses.dataclass
class Score:
    """The result of :func:`score`."""

    summary: dict[str, float]  # every key of SUMMARY_KEYS
    counts: Counts  # summed over tracks
    ap: np.ndarray  # (K,) average precision per instrument, NaN where absent
    per_track: list[Counts]  # in the order of the tracks given
    active: list[np.ndarray]  # post-processed predictions per track, (n_frames, K) bool

    def per_instrument(self, names: Sequence[str] = INSTRUMENTS) -> pd.DataFrame:
        """Precision, recall, F1, support (true frames), predicted frames and AP per instrument."""
        c = self.counts
        pred = c.tp + c.fp
        return pd.DataFrame({
            "instrument": list(names),
            "precision": np.divide(c.tp, pred, out=np.zeros(len(pred)), where=pred > 0),
            "recall": np.divide(c.tp, c.support, out=np.zeros(len(pred)), where=c.support > 0),
            "f1": c.f1_per_instrument(), "support": c.support, "predicted": pred, "ap": self.ap,
        })  # fmt: skip


def score(
    tracks: Iterable[tuple[np.ndarray, np.ndarray]],
    *,
    frame_rate: float,
    postprocess=None,
) -> Score:
    """Score tracks: post-process each one alone, count, and add the counts up.

    Parameters
    ----------
    tracks : iterable of (labels, probabilities)
        labels np.ndarray [shape=(n_frames, K)], 0/1; probabilities np.ndarray
        [shape=(n_frames, K)] in [0, 1]. One pair per track.
    frame_rate : float, keyword-only
        Frames per second (for the 1-s segments).
    postprocess : instdet.postprocess.PostProcess or None, keyword-only
        Thresholds and median filter (``None``: threshold 0.5, no filter: the raw output).

    Returns
    -------
    Score
    """
    from instdet.postprocess import PostProcess

    post = postprocess or PostProcess()
    labels, probs, per_track, active = [], [], [], []
    for y, p in tracks:
        _check(np.asarray(y), np.asarray(p))
        a = post.apply(p)
        per_track.append(Counts.of(y, a, frame_rate=frame_rate))
        labels.append(y)
        probs.append(p)
        active.append(a)
    if not per_track:
        raise InstdetError("no tracks to score")
    total = per_track[0]
    for c in per_track[1:]:
        total = total + c
    ap = average_precision(np.concatenate(labels), np.concatenate(probs))
    present = ~np.isnan(ap)
    summary = total.summary()
    summary["mAP"] = float(ap[present].mean()) if present.any() else 0.0
    return Score({k: summary[k] for k in SUMMARY_KEYS}, total, ap, per_track, active)


def frame_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Frame metrics of one block of decisions (no segments; any frame rate will do).

    y_true, y_pred : np.ndarray [shape=(n_frames, K)], 0/1
    """
    s = Counts.of(y_true, y_pred, frame_rate=1.0).summary()
    return {k: s[k] for k in ("f1_micro", "f1_macro", "f1_weighted", "hamming", "jaccard_samples")}


def score_of(m: dict) -> float:
    """The selection score of computed metrics: mean of frame F1 micro and macro."""
    return 0.5 * (m["f1_micro"] + m["f1_macro"])


def frame_f1(labels: Sequence[np.ndarray], active: Sequence[np.ndarray]) -> tuple[float, float]:
    """Frame F1 micro and macro (over present instruments) from counts summed over tracks
    (lists of (n_frames, K) arrays): the cheap part of :func:`score`, for training loops."""
    tp = fp = fn = 0
    for y, a in zip(labels, active):
        y, a = y.astype(bool), a.astype(bool)
        tp = tp + (y & a).sum(axis=0)
        fp = fp + (a & ~y).sum(axis=0)
        fn = fn + (y & ~a).sum(axis=0)
    f1 = _f1(tp, fp, fn)
    present = (np.asarray(tp) + fn) > 0
    macro = float(f1[present].mean()) if np.any(present) else 0.0
    return float(_f1(np.sum(tp), np.sum(fp), np.sum(fn))), macro


def selection_score(labels: Sequence[np.ndarray], active: Sequence[np.ndarray]) -> float:
    """What model selection and post-processing maximise: mean of frame F1 micro and macro
    over tracks (lists of (n_frames, K) arrays)."""
    return 0.5 * sum(frame_f1(labels, active))
