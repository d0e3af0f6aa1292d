"""Evaluate a run on tracks and write its results (schema: ``results/README.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from instdet.confusion import pairs_table
from instdet.data.aam import INSTRUMENTS, Track
from instdet.dataset import load_arrays
from instdet.errors import InstdetError
from instdet.inference import Predictor
from instdet.metrics import Score, score
from instdet.runs import EvalDir, ResultsDir, RunDir, quantize_probs


def per_track_table(track_ids: list[str], labels: list[np.ndarray], scored: Score, *,
                    label_sources: list[str]) -> pd.DataFrame:
    """One row per track: frame metrics and error counts of its post-processed output."""
    rows = []
    for tid, y, a, counts, src in zip(track_ids, labels, scored.active, scored.per_track,
                                      label_sources):
        m = counts.summary()
        rows.append({"track_id": tid, "n_frames": counts.n_frames, "label_source": src,
                     "error_frames": int((a != y.astype(bool)).any(axis=1).sum()),
                     "missed": int(counts.fn.sum()), "false_alarms": int(counts.fp.sum()),
                     **{k: m[k] for k in ("f1_micro", "f1_macro", "f1_weighted", "hamming",
                                          "jaccard_samples", "segment_f1_1s")}})
    return pd.DataFrame(rows)


def evaluate_run(
    run_dir: str | Path,
    tracks: dict[str, Track],
    *,
    out_dir: str | Path,
    eval_name: str,
    label_source: str = "auto",
    cache_dir=None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Predict every track, score before and after post-processing, write the results.

    Probabilities are scored as stored (uint8), so that every page reading the stored
    frames reproduces these numbers. Returns the ``metrics.json`` content.
    """
    run = RunDir(run_dir)
    if not tracks:
        raise InstdetError("no tracks to evaluate")
    dest = EvalDir(out_dir, run.run_id, eval_name)
    predictor = Predictor.from_run(run.path)
    with dest.lock():
        arrays = load_arrays(tracks, config=predictor.feature_config, label_source=label_source,
                             cache_dir=cache_dir)
        rate = predictor.feature_config.frame_rate
        ids, probs = list(arrays), []
        for tid in ids:
            probs.append(quantize_probs(predictor.probabilities(arrays[tid].features)))
            if progress:
                progress(1)
        labels = [arrays[t].labels for t in ids]
        raw = score(zip(labels, probs), frame_rate=rate)
        post = score(zip(labels, probs), frame_rate=rate, postprocess=predictor.postprocess)
        try:
            config = run.config()
        except InstdetError:
            config = {}
        metrics = {
            "run_id": run.run_id, "eval": eval_name, "model": predictor.model_name,
            "train_size": config.get("train_size"), "data_kind": config.get("data_kind", ""),
            "label_source": label_source, "n_tracks": len(ids),
            "n_frames": int(sum(len(p) for p in probs)), "tracks": ids,
            "raw": raw.summary, "postprocessed": post.summary,
            "postprocess": predictor.postprocess.to_dict(),
        }
        true_frames = post.counts.support
        dest.write(
            metrics=metrics,
            per_instrument=post.per_instrument(),
            per_track=per_track_table(ids, labels, post, label_sources=[arrays[t].label_source for t in ids]),
            pairs=pairs_table(post.counts.confusion, true_frames),
            matrix=pd.DataFrame(post.counts.confusion, columns=list(INSTRUMENTS))
            .assign(true=list(INSTRUMENTS))[["true", *INSTRUMENTS]],
            frames={t: {"probs": p, "labels": arrays[t].labels, "frame_rate": rate,
                        "audio_path": str(tracks[t].mix_path.resolve())}
                    for t, p in zip(ids, probs)},
        )
    ResultsDir(out_dir).write_runs_csv()
    return metrics


def rescore(frames: list[dict], *, postprocess) -> Score:
    """Score stored frames (``EvalDir.frames`` of each track) under another post-processing,
    without running a model: at the run's own post-processing it reproduces the stored
    ``postprocessed`` metrics exactly."""
    if not frames:
        raise InstdetError("no stored tracks to score")
    return score(((f["labels"], f["probs"]) for f in frames), frame_rate=frames[0]["frame_rate"],
                 postprocess=postprocess)
