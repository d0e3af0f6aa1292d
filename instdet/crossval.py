"""k-fold cross-validation over real songs: honest numbers for data, model and release choices.

Each fold holds out some real songs as its test songs. Everything a fold trains on, and every
choice it makes, comes from its other songs only: their stems are the only ones remixed and
cut into the note bank, and post-processing is tuned on the out-of-fold predictions of the
*other* folds (nested), never on the fold's own test songs. Scores pool every song's
out-of-fold prediction through the one scoring function (``instdet.metrics.score``); the
spread is the range of the per-fold scores.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from instdet.data.aam import Track
from instdet.errors import InstdetError
from instdet.metrics import Score, score
from instdet.postprocess import PostProcess, tune
from instdet.runs import decode_probs, encode_probs


@dataclasses.dataclass(frozen=True)
class Fold:
    index: int
    test: tuple[str, ...]
    val: tuple[str, ...]  # empty when training runs a fixed number of epochs

    def excluded(self) -> set[str]:
        """Songs whose stems no generated song of this fold may use."""
        return set(self.test) | set(self.val)


def make_folds(ids, *, k: int = 4, n_val: int = 2) -> list[Fold]:
    """``k`` folds, test songs spread over the sorted ids (every k-th), ``n_val`` validation
    songs from the rest (0: none)."""
    ids = sorted(ids)
    if not 2 <= k <= len(ids):
        raise InstdetError(f"need 2 <= folds <= {len(ids)} songs, got {k}")
    folds = []
    for i in range(k):
        test = ids[i::k]
        rest = [t for t in ids if t not in test]
        val = rest[i % len(rest)::max(1, len(rest) // max(n_val, 1))][:n_val] if n_val else []
        folds.append(Fold(i, tuple(test), tuple(val)))
    return folds


def generate(fold: Fold, aam: Path, work: Path, *, remix: int = 0, sample: int = 0,
             seconds: float = 20.0, seed: int = 0, log: Callable[[str], None] = print) -> list[str]:
    """The fold's generated songs (remixes and sampled songs of its training songs' stems),
    made once and kept in ``work``; returns their folders."""
    from instdet.data.remix import remix_corpus
    from instdet.data.sampler import sample_corpus

    out = []
    for kind, n in (("remix", remix), ("sample", sample)):
        if not n:
            continue
        dest = work / f"fold{fold.index}-{kind}{n}-s{seed}"
        done = dest / ".complete"
        if not done.exists():
            log(f"fold {fold.index}: {n} {kind} songs")
            if kind == "remix":
                remix_corpus([aam], dest, n_tracks=n, seed=seed + 100 * fold.index,
                             duration=seconds, exclude=fold.excluded())
            else:
                sample_corpus([aam], dest, n_tracks=n, seed=seed + 100 * fold.index,
                              seconds=(seconds, seconds), exclude=fold.excluded())
            done.write_text("")
        out.append(str(dest))
    return out


def predict_tracks(run_dir: Path, tracks: dict[str, Track], *, cache_dir=None) -> dict[str, dict]:
    """{track id: {"probs", "labels"}} of a run on tracks (probabilities as stored, int8)."""
    from instdet.dataset import load_arrays
    from instdet.inference import Predictor

    pred = Predictor.from_run(run_dir, device="cpu")
    arrays = load_arrays(tracks, config=pred.feature_config, cache_dir=cache_dir)
    return {t: {"probs": decode_probs(encode_probs(pred.probabilities(a.features))),
                "labels": a.labels} for t, a in arrays.items()}


def save_oof(path: Path, oof: dict[str, dict], *, frame_rate: float) -> None:
    from instdet.atomic import write_with

    payload = {"frame_rate": np.float64(frame_rate), "ids": np.array(sorted(oof))}
    for t, d in oof.items():
        payload[f"p_{t}"] = encode_probs(d["probs"])
        payload[f"y_{t}"] = np.packbits(d["labels"].astype(bool), axis=1)

    def writer(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **payload)

    write_with(path, writer)


def load_oof(path: Path) -> tuple[dict[str, dict], float]:
    try:
        with np.load(path, allow_pickle=False) as z:
            rate = float(z["frame_rate"])
            out = {}
            for t in z["ids"].tolist():
                p = decode_probs(z[f"p_{t}"])
                y = np.unpackbits(z[f"y_{t}"], axis=1, count=p.shape[1])
                out[t] = {"probs": p, "labels": y}
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise InstdetError(f"{path}: unreadable out-of-fold predictions ({str(exc)[:60]})") from None
    return out, rate


def pooled(oof: dict[str, dict], ids, *, frame_rate: float, postprocess=None) -> Score:
    return score(((oof[t]["labels"], oof[t]["probs"]) for t in ids), frame_rate=frame_rate,
                 postprocess=postprocess)


def nested_postprocess(oof: dict[str, dict], folds: list[Fold], *,
                       thresholds: str = "none") -> dict[int, PostProcess]:
    """Per fold, the post-processing tuned on the other folds' out-of-fold predictions."""
    out = {}
    for f in folds:
        others = [t for g in folds if g.index != f.index for t in g.test if t in oof]
        post, _, _ = tune([oof[t]["probs"] for t in others], [oof[t]["labels"] for t in others],
                          thresholds=thresholds)
        out[f.index] = post
    return out


#: Stages of a cross-validated table: name -> threshold mode of the nested tuning (None: raw).
STAGES = {"raw": None, "postprocessed": "none", "one threshold": "global",
          "per-instrument thresholds": "per-instrument"}


def summary_rows(name: str, oof: dict[str, dict], folds: list[Fold], *, frame_rate: float,
                 ids=None, stages=("raw", "postprocessed")) -> pd.DataFrame:
    """Rows of a CV table: one per fold and one pooled, for each stage of ``STAGES`` asked
    for (raw, and post-processing tuned on the other folds: the median filter alone, or with
    one threshold, or with per-instrument thresholds).

    ``ids``: the songs to score (default: every fold's test songs)."""
    keep = set(ids) if ids is not None else None
    rows = []
    for stage, mode in STAGES.items():
        if stage not in stages:
            continue
        posts = nested_postprocess(oof, folds, thresholds=mode) if mode else {}
        active = {}
        for f in folds:
            test = [t for t in f.test if t in oof and (keep is None or t in keep)]
            if not test:
                continue
            post = posts.get(f.index)
            s = pooled(oof, test, frame_rate=frame_rate, postprocess=post)
            rows.append({"condition": name, "stage": stage, "fold": f.index,
                         "songs": " ".join(test), **s.summary})
            for t, a in zip(test, s.active):
                active[t] = a
        every = sorted(active)
        s = score(((oof[t]["labels"], active[t]) for t in every), frame_rate=frame_rate,
                  postprocess=PostProcess(median=1))
        m = s.summary
        m["mAP"] = pooled(oof, every, frame_rate=frame_rate).summary["mAP"]
        rows.append({"condition": name, "stage": stage, "fold": "pooled",
                     "songs": " ".join(every), **m})
    return pd.DataFrame(rows)


def spread(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Pooled value and the per-fold range of ``metric``, per condition and stage."""
    per = table[table["fold"] != "pooled"].groupby(["condition", "stage"], sort=False)[metric]
    pool = table[table["fold"] == "pooled"].set_index(["condition", "stage"])[metric]
    return pd.DataFrame({"pooled": pool, "fold_min": per.min(), "fold_max": per.max(),
                         "fold_std": per.std(ddof=0)}).reset_index()


def write_json_summary(path: Path, table: pd.DataFrame) -> None:
    from instdet.atomic import write_json

    write_json(path, json.loads(table.to_json(orient="records")))
