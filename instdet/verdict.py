"""What several models together say of a song: instruments heard, how sure, and when.

Each model's vote is weighted by how good it is on real songs it never heard (its
cross-validated score when there is one, else its real-test score): weights are a softmax of
the scores with temperature ``TEMPERATURE``, so a model 0.15 below the best counts about
1/20 as much, not as much as the best. Per frame and instrument the ensemble has a weighted
mean probability and a weighted agreement (the weighted share of models that call it
active); it hears an instrument where the weighted agreement is at least one half.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from instdet.analysis import clock, segments
from instdet.data.aam import INSTRUMENTS

TEMPERATURE = 0.05
MIN_SECONDS = 3.0  # shorter clips get a caution, not a confident table
MIN_HEARD_S = 0.5  # an instrument heard for less than this in all is left out of the verdict
UNSURE_SHARE = 0.4  # of frames where no instrument reaches p = 0.5: "far from AAM's style"


def model_weights(scores: dict[str, float | None]) -> dict[str, float]:
    """Softmax of scores (mean of F1 micro and macro on unseen real songs); a model without
    a score gets the weight of the worst scored one (all equal when none has a score)."""
    known = [s for s in scores.values() if s is not None and np.isfinite(s)]
    floor = min(known) if known else 0.0
    vals = np.array([s if s is not None and np.isfinite(s) else floor for s in scores.values()])
    w = np.exp((vals - vals.max()) / TEMPERATURE)
    return dict(zip(scores, (w / w.sum()).tolist()))


def ensemble(probs: dict[str, np.ndarray], actives: dict[str, np.ndarray],
             weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean probability and weighted agreement: two (n_frames, K) float32 arrays."""
    n = min(p.shape[0] for p in probs.values())
    w = np.array([weights[k] for k in probs], dtype=np.float32)
    w = w / w.sum()
    p = np.tensordot(w, np.stack([probs[k][:n] for k in probs]), axes=1)
    a = np.tensordot(w, np.stack([actives[k][:n].astype(np.float32) for k in probs]), axes=1)
    return p.astype(np.float32), a.astype(np.float32)


def heard(probs: dict[str, np.ndarray], actives: dict[str, np.ndarray],
          weights: dict[str, float], *, frame_rate: float) -> pd.DataFrame:
    """One row per instrument the ensemble hears for at least ``MIN_HEARD_S`` in all (half the
    clip when shorter), surest first.

    Columns: instrument, share (of the song), confidence (weighted mean probability where it
    is heard), agreement (weighted share of models hearing it there), when (time ranges)."""
    p, a = ensemble(probs, actives, weights)
    on = a >= 0.5
    least = min(MIN_HEARD_S, 0.5 * on.shape[0] / frame_rate) * frame_rate
    rows = []
    for k in np.flatnonzero(on.sum(axis=0) >= max(least, 1)):
        segs = segments(on[:, k], frame_rate=frame_rate, min_gap_s=2.0)
        segs = [s for s in segs if s[1] - s[0] >= MIN_HEARD_S] or segs
        rows.append({"instrument": INSTRUMENTS[k], "share": float(on[:, k].mean()),
                     "confidence": float(p[on[:, k], k].mean()),
                     "agreement": float(a[on[:, k], k].mean()),
                     "when": ", ".join(f"{clock(s)}–{clock(e)}" for s, e in segs[:5])
                     + (" …" if len(segs) > 5 else "")})
    df = pd.DataFrame(rows, columns=["instrument", "share", "confidence", "agreement", "when"])
    return df.sort_values(["confidence", "share"], ascending=False, ignore_index=True)


def cautions(duration_s: float, probs: dict[str, np.ndarray], weights: dict[str, float]) -> list[str]:
    """Reasons not to trust the verdict much: a clip too short, or a song the models hear
    no instrument in with confidence for much of its length (far from AAM's style)."""
    out = []
    if duration_s < MIN_SECONDS:
        out.append(f"The clip lasts {duration_s:.1f} s: too short to judge (the models need at "
                   f"least {MIN_SECONDS:.0f} s of music to say much).")
    if probs:
        p, _ = ensemble(probs, {k: v >= 0.5 for k, v in probs.items()}, weights)
        unsure = float((p.max(axis=1) < 0.5).mean()) if len(p) else 1.0
        if unsure > UNSURE_SHARE:
            out.append(f"For {100 * unsure:.0f}% of the song no model is sure of any instrument: "
                       "it may be far from AAM's style (31 sampled instruments, pop and folk "
                       "arrangements), so read the results as guesses.")
    return out


def frame_table(times: np.ndarray, actives: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long table for download: time, model, then one 0/1 column per instrument."""
    parts = []
    for name, a in actives.items():
        n = min(len(times), a.shape[0])
        df = pd.DataFrame(a[:n].astype(np.uint8), columns=list(INSTRUMENTS))
        df.insert(0, "model", name)
        df.insert(0, "time_s", np.round(times[:n], 4))
        parts.append(df)
    return pd.concat(parts, ignore_index=True)
