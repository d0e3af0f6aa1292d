"""Release models: the ones to use on your own songs, trained on every real song.

A release run trains without held-out songs, for a fixed number of epochs; its honest score
comes from cross-validation of the same recipe (``scripts/release.py``). Its post-processing
is chosen on the out-of-fold predictions of all folds, and kept only if the nested
cross-validation shows it does not lower F1 micro or macro below the raw output.

An ensemble release averages the probabilities of several runs (ours and the seed's MLP, for
instance) with weights chosen by cross-validation, and ships as one run that ``Predictor``
loads like any other (model ``ensemble``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from instdet.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint, stored_settings
from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError
from instdet.metrics import selection_score
from instdet.postprocess import PostProcess
from instdet.runs import RunDir, check_name

WEIGHT_GRID = np.round(np.arange(0.0, 1.0001, 0.1), 2)


def blend(a: np.ndarray, b: np.ndarray, w: float, cover: np.ndarray | None = None) -> np.ndarray:
    """Weighted mean of two probability arrays (n_frames, K): ``w * a + (1 - w) * b`` where
    ``a``'s model covers the instrument (``cover``: (K,) bool, None for all), ``b`` elsewhere."""
    wk = w if cover is None else np.where(cover, w, 0.0)
    return (wk * a + (1.0 - wk) * b).astype(np.float32)


def coverage(tracks: dict, ids) -> np.ndarray:
    """(K,) bool: the instruments that play in the songs ``ids`` (what a model trained on them
    can have learnt)."""
    from instdet.data.aam import INSTRUMENT_INDEX

    out = np.zeros(len(INSTRUMENTS), dtype=bool)
    for t in ids:
        for name in tracks[t].instruments:
            out[INSTRUMENT_INDEX[name]] = True
    return out


def choose_weight(oof_a: dict, oof_b: dict, ids, *, cover=None, grid=WEIGHT_GRID) -> float:
    """The weight of ``a`` in a two-model blend that maximises the selection score (mean of F1
    micro and macro at threshold 0.5) over songs ``ids``; ties go to the larger weight.
    ``cover``: {song: (K,) bool} what ``a``'s model covers when it predicts that song."""
    ids = list(ids)
    if not ids:
        raise InstdetError("no songs to choose an ensemble weight on")
    cover = cover or {}
    labels = [oof_a[t]["labels"] for t in ids]
    best = (-1.0, 1.0)
    for w in grid:
        s = selection_score(labels, [blend(oof_a[t]["probs"], oof_b[t]["probs"], w,
                                           cover.get(t)) >= 0.5 for t in ids])
        if s > best[0] + 1e-12 or (abs(s - best[0]) <= 1e-12 and w > best[1]):
            best = (s, float(w))
    return best[1]


def nested_blend(oof_a: dict, oof_b: dict, folds, *, exclude=(), cover=None
                 ) -> tuple[dict, dict[int, float]]:
    """Out-of-fold predictions of the blend, each fold's weight chosen on the other folds'
    songs (``exclude``: songs never used to choose, e.g. one inside a member's training).
    ``cover``: {fold index: (K,) bool} the instruments ``a``'s fold model was trained on."""
    cover = cover or {}
    by_song = {t: cover.get(f.index) for f in folds for t in f.test}
    out, weights = {}, {}
    for f in folds:
        others = [t for g in folds if g.index != f.index for t in g.test
                  if t in oof_a and t in oof_b and t not in set(exclude)]
        w = choose_weight(oof_a, oof_b, others, cover=by_song)
        weights[f.index] = w
        for t in f.test:
            if t in oof_a and t in oof_b:
                out[t] = {"probs": blend(oof_a[t]["probs"], oof_b[t]["probs"], w, by_song[t]),
                          "labels": oof_a[t]["labels"]}
    return out, weights


def make_ensemble(members: list[str | Path], weights: list[float], dest: str | Path, *,
                  postprocess: PostProcess, summary: dict,
                  covers: list[np.ndarray | None] | None = None) -> RunDir:
    """Write one run folder whose checkpoint holds every member's model and weights;
    ``covers``: per member, the (K,) bool instruments it counts for (None: all)."""
    run = RunDir(dest)
    check_name(run.run_id)
    ckpts = [load_checkpoint(Path(m) / "model.pt") for m in members]
    feats = {tuple(sorted(c["feature_config"].items())) for c in ckpts}
    if len(feats) != 1:
        raise InstdetError("ensemble members must share their feature settings")
    state = {f"members.{i}.{k}": v for i, c in enumerate(ckpts) for k, v in c["state_dict"].items()}
    save_checkpoint(run.checkpoint, {
        "format": FORMAT_VERSION, "model_name": "ensemble",
        "model_config": {"members": [{"model": c["model_name"], "settings": stored_settings(c)}
                                     for c in ckpts],
                         "weights": [float(w) for w in weights],
                         "coverage": [[] if c is None else [int(k) for k in np.flatnonzero(c)]
                                      for c in (covers or [None] * len(ckpts))]},
        "feature_config": dict(ckpts[0]["feature_config"]), "instruments": list(INSTRUMENTS),
        "epoch": 0, "best_score": math.nan, "state_dict": state,
        "postprocess": postprocess.to_dict(), "seed": 0, "run_id": run.run_id,
    })
    run.write_split({"train": [], "val": [], "test": [],
                     "note": "the union of its members' training songs: " +
                             ", ".join(Path(m).name for m in members)})
    run.write_config({"run_id": run.run_id, "status": "done", "device": "assembled",
                      "train": {"model": "ensemble", "members": [Path(m).name for m in members],
                                "weights": [float(w) for w in weights]},
                      "features": dict(ckpts[0]["feature_config"]), **summary})
    return run


def set_postprocess(run_dir: str | Path, post: PostProcess) -> None:
    """Store a post-processing chosen by cross-validation in a run's checkpoint."""
    run = RunDir(run_dir)
    ckpt = load_checkpoint(run.checkpoint)
    ckpt["postprocess"] = post.to_dict()
    save_checkpoint(run.checkpoint, ckpt)


def safe_postprocess(table, condition: str) -> bool:
    """Whether the nested cross-validation of ``condition`` shows the post-processing at least
    as good as the raw output on F1 micro and macro (pooled rows of a CV table)."""
    pooled = table[(table["condition"] == condition) & (table["fold"] == "pooled")]
    raw = pooled[pooled["stage"] == "raw"].iloc[0]
    post = pooled[pooled["stage"] == "postprocessed"].iloc[0]
    return bool(post["f1_micro"] >= raw["f1_micro"] and post["f1_macro"] >= raw["f1_macro"])
