"""Frame-level analysis behind the pages: outcomes per frame, where a confusion happens,
threshold curves, conditional co-occurrence, activity as time segments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from instdet.data.aam import INSTRUMENT_INDEX, INSTRUMENTS

#: Frame outcome codes of a timeline, and two palettes (the second safe for colour-blind
#: viewers: Okabe and Ito's blue, orange and reddish purple).
OUTCOMES = {0: "silent, predicted silent", 1: "correct (active)", 2: "false alarm", 3: "missed"}
PALETTES = {
    "green / orange / red": {0: "#f4f4f4", 1: "#2ca02c", 2: "#ff7f0e", 3: "#d62728"},
    "colour-blind safe": {0: "#f4f4f4", 1: "#0072B2", 2: "#E69F00", 3: "#CC79A7"},
}


def outcome_codes(labels: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Per frame and instrument: 0 TN, 1 TP, 2 false alarm, 3 miss. (n_frames, K) int8."""
    t, p = labels.astype(bool), active.astype(bool)
    codes = np.zeros(t.shape, dtype=np.int8)
    codes[t & p] = 1
    codes[~t & p] = 2
    codes[t & ~p] = 3
    return codes


def downsample_codes(codes: np.ndarray, *, max_columns: int = 1500) -> tuple[np.ndarray, int]:
    """Pool frames into at most ``max_columns`` bins; a bin shows its worst outcome
    (miss > false alarm > correct > silent), so no error disappears when zoomed out.
    Returns (pooled (n_bins, K), frames per bin)."""
    n = codes.shape[0]
    step = max(1, int(np.ceil(n / max_columns)))
    pad = (-n) % step
    c = np.concatenate([codes, np.zeros((pad, codes.shape[1]), codes.dtype)]) if pad else codes
    return c.reshape(-1, step, codes.shape[1]).max(axis=1), step


def instruments_present(*arrays: np.ndarray) -> list[int]:
    """Instrument indices active in any of the given (n_frames, K) arrays, in label order."""
    mask = np.zeros(len(INSTRUMENTS), dtype=bool)
    for a in arrays:
        mask |= a.astype(bool).any(axis=0)
    return list(np.flatnonzero(mask))


def segments(active: np.ndarray, *, frame_rate: float, min_gap_s: float = 0.0) -> list[tuple[float, float]]:
    """Runs of True in a (n_frames,) array as (start s, end s); gaps shorter than
    ``min_gap_s`` are bridged."""
    a = np.asarray(active, dtype=bool)
    if not a.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], a.view(np.int8), [0]])))
    runs = [(s / frame_rate, e / frame_rate) for s, e in zip(edges[::2], edges[1::2])]
    merged = [runs[0]]
    for s, e in runs[1:]:
        if s - merged[-1][1] < min_gap_s:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def confusion_locations(frames: dict[str, dict], actives: dict[str, np.ndarray], *, true: str,
                        predicted: str, min_gap_s: float = 1.0) -> pd.DataFrame:
    """Where ``true`` was missed while ``predicted`` was falsely reported, per track: the
    frames it costs and its stretches of time, most frames first.

    Columns: track_id, frames, first_s (start of the longest stretch), stretches (text).
    """
    a, b = INSTRUMENT_INDEX[true], INSTRUMENT_INDEX[predicted]
    rows = []
    for tid, f in frames.items():
        y, p = f["labels"].astype(bool), actives[tid].astype(bool)
        hit = y[:, a] & ~p[:, a] & p[:, b] & ~y[:, b]
        if not hit.any():
            continue
        segs = segments(hit, frame_rate=f["frame_rate"], min_gap_s=min_gap_s)
        longest = max(segs, key=lambda s: s[1] - s[0])
        rows.append({"track_id": tid, "frames": int(hit.sum()), "first_s": round(longest[0], 2),
                     "stretches": ", ".join(f"{clock(s)}–{clock(e)}" for s, e in segs[:6])
                     + (" …" if len(segs) > 6 else "")})
    df = pd.DataFrame(rows, columns=["track_id", "frames", "first_s", "stretches"])
    return df.sort_values("frames", ascending=False, ignore_index=True)


def threshold_curves(labels: np.ndarray, probs: np.ndarray, instrument: str,
                     thresholds: np.ndarray | None = None) -> pd.DataFrame:
    """Precision, recall and F1 of one instrument over thresholds (no median filter).

    labels, probs: np.ndarray [shape=(n_frames, K)]. Returns columns threshold, precision,
    recall, f1 (one row per threshold, default 0.02 ... 0.98)."""
    k = INSTRUMENT_INDEX[instrument]
    th = np.round(np.arange(0.02, 0.99, 0.02), 2) if thresholds is None else np.asarray(thresholds)
    y = labels[:, k].astype(bool)
    p = probs[:, k][None, :] >= th[:, None]  # (n_thresholds, n_frames)
    tp = (p & y).sum(axis=1).astype(float)
    pred, pos = p.sum(axis=1).astype(float), float(y.sum())
    precision = np.divide(tp, pred, out=np.ones_like(tp), where=pred > 0)
    recall = tp / pos if pos else np.zeros_like(tp)
    f1 = np.divide(2 * tp, pred + pos, out=np.zeros_like(tp), where=(pred + pos) > 0)
    return pd.DataFrame({"threshold": th, "precision": precision, "recall": recall, "f1": f1})


def conditional_cooccurrence(counts: pd.DataFrame) -> pd.DataFrame:
    """P(column plays | row plays) from a frames-together table (instrument index and
    columns, diagonal = frames each plays); the diagonal (always 1) is masked as NaN, and
    instruments that never play are dropped."""
    c = counts.astype(float)
    diag = np.diag(c.to_numpy())
    keep = diag > 0
    c = c.loc[keep, keep]
    out = c.div(np.diag(c.to_numpy()), axis=0)
    arr = out.to_numpy().copy()
    np.fill_diagonal(arr, np.nan)
    return pd.DataFrame(arr, index=out.index, columns=out.columns)


def _runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """Run-length encoding of a 1-D int array: (start, end, value) for each run."""
    if not len(values):
        return []
    cut = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [len(values)]])
    return [(int(s), int(e), int(values[s])) for s, e in zip(starts, ends)]


def outcome_rolls(labels: np.ndarray, actives: dict[str, np.ndarray], instruments: list[int], *,
                  frame_rate: float, palette: dict[int, str], truth_colour: str = "#555555",
                  max_columns: int = 1500) -> list[dict]:
    """Event-roll bands (``dashboard.timeline``): per instrument, the ground truth and each
    run's outcome (correct, false alarm, missed) as coloured stretches of time.

    labels: np.ndarray [shape=(n_frames, K)]; actives: {run label: (n_frames, K) bool}.
    Frames are pooled into at most ``max_columns`` bins, each showing its worst outcome."""
    n = labels.shape[0]
    truth, step = downsample_codes(labels.astype(np.int8), max_columns=max_columns)
    pooled = {name: downsample_codes(outcome_codes(labels, a[:n]), max_columns=max_columns)[0]
              for name, a in actives.items()}
    sec = step / frame_rate
    bands = []
    for k in instruments:
        rows = [{"label": "truth", "segments": [[round(s * sec, 3), round(e * sec, 3), truth_colour]
                                                for s, e, v in _runs(truth[:, k]) if v]}]
        for name, codes in pooled.items():
            rows.append({"label": name, "segments": [
                [round(s * sec, 3), round(e * sec, 3), palette[v]]
                for s, e, v in _runs(codes[:, k]) if v]})
        bands.append({"name": INSTRUMENTS[k], "rows": rows})
    return bands


def activity_rolls(actives: dict[str, np.ndarray], colours: dict[str, str], instruments: list[int],
                   *, frame_rate: float, max_columns: int = 1500) -> list[dict]:
    """Event-roll bands of what each source hears: per instrument, one row per source."""
    bands = []
    pooled = {}
    for name, a in actives.items():
        pooled[name], step = downsample_codes(a.astype(np.int8), max_columns=max_columns)
    sec = step / frame_rate if actives else 1.0
    for k in instruments:
        rows = [{"label": name, "segments": [[round(s * sec, 3), round(e * sec, 3), colours[name]]
                                             for s, e, v in _runs(codes[:, k]) if v]}
                for name, codes in pooled.items()]
        bands.append({"name": INSTRUMENTS[k], "rows": rows})
    return bands
