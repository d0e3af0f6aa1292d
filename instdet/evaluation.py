"""Evaluate a run on tracks and write its results (schema: ``results/README.md``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from instdet.atomic import write_csv, write_json, write_with
from instdet.confusion import confusion_matrix, pairs_table
from instdet.data.aam import INSTRUMENTS, Track
from instdet.dataset import load_arrays
from instdet.errors import InstdetError
from instdet.inference import Predictor
from instdet.metrics import all_metrics, mean_average_precision, per_instrument, frame_metrics
from instdet.postprocess import PostProcess


def encode_probs(p: np.ndarray) -> np.ndarray:
    """Probabilities as uint8 (0..255): 1/510 precision, a quarter of float32's size."""
    return np.clip(np.rint(p * 255.0), 0, 255).astype(np.uint8)


def decode_probs(q: np.ndarray) -> np.ndarray:
    return q.astype(np.float32) / 255.0


def save_frames(path: Path, *, probs: np.ndarray, labels: np.ndarray, frame_rate: float,
                audio_path: str | None) -> None:
    """Store a track's outputs; the audio path is kept relative to the file's folder, so a
    clone with the dataset at the same relative place (``../shared``) still finds it."""
    if audio_path:
        audio_path = os.path.relpath(Path(audio_path).resolve(), Path(path).resolve().parent)

    def writer(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, probs=encode_probs(probs), labels=labels.astype(np.uint8),
                                frame_rate=np.float64(frame_rate),
                                audio_path=np.array(audio_path or ""))
    write_with(path, writer)


def load_frames(path: Path) -> dict:
    """A track's stored outputs: probs (n, 31) float32, labels (n, 31) uint8, frame_rate, audio_path."""
    try:
        with np.load(path, allow_pickle=False) as z:
            audio = str(z["audio_path"])
            return {"probs": decode_probs(z["probs"]), "labels": z["labels"],
                    "frame_rate": float(z["frame_rate"]),
                    "audio_path": str((Path(path).parent / audio).resolve()) if audio else ""}
    except (OSError, ValueError, KeyError) as exc:
        raise InstdetError(f"{path}: unreadable frame outputs ({exc})") from None


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

    Returns the ``metrics.json`` content.
    """
    run_dir = Path(run_dir)
    predictor = Predictor.from_run(run_dir)
    arrays = load_arrays(tracks, config=predictor.features, label_source=label_source,
                         cache_dir=cache_dir)
    dest = Path(out_dir) / "runs" / run_dir.name / eval_name
    rate = predictor.features.frame_rate
    raw = PostProcess()
    all_p, all_y, rows = [], [], []
    for tid, a in arrays.items():
        probs = predictor.probabilities(a.features)
        pred = predictor.postprocess.apply(probs)
        m = frame_metrics(a.labels, pred)
        rows.append({"track_id": tid, "n_frames": len(probs), "label_source": a.label_source,
                     "error_frames": int((pred != a.labels.astype(bool)).any(axis=1).sum()),
                     "missed": int((a.labels.astype(bool) & ~pred).sum()),
                     "false_alarms": int((pred & ~a.labels.astype(bool)).sum()), **m})
        save_frames(dest / "frames" / f"{tid}.npz", probs=probs, labels=a.labels,
                    frame_rate=rate, audio_path=str(tracks[tid].mix_path.resolve()))
        all_p.append(probs)
        all_y.append(a.labels)
        if progress:
            progress(1)
    p, y = np.concatenate(all_p), np.concatenate(all_y)
    pred = predictor.postprocess.apply(p)
    ckpt = predictor.checkpoint
    config = _run_config(run_dir)
    metrics = {
        "run_id": run_dir.name, "eval": eval_name, "model": ckpt["model_name"],
        "train_size": config.get("n_train"), "label_source": label_source,
        "n_tracks": len(arrays), "n_frames": int(len(p)), "tracks": list(arrays),
        "raw": all_metrics(y, raw.apply(p), p, frame_rate=rate),
        "postprocessed": all_metrics(y, pred, p, frame_rate=rate),
        "postprocess": predictor.postprocess.to_dict(),
    }
    _, ap = mean_average_precision(y, p)
    matrix = confusion_matrix(y, pred)
    true_frames = y.sum(axis=0).astype(np.int64)
    write_csv(dest / "per_instrument.csv", per_instrument(y, pred, ap))
    write_csv(dest / "per_track.csv", pd.DataFrame(rows))
    write_csv(dest / "confusion_pairs.csv", pairs_table(matrix, true_frames))
    write_csv(dest / "confusion_matrix.csv",
              pd.DataFrame(matrix, columns=list(INSTRUMENTS)).assign(true=list(INSTRUMENTS))
              [["true", *INSTRUMENTS]])
    write_json(dest / "metrics.json", metrics)
    collect_results(out_dir)
    return metrics


def _run_config(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError):
        return {}


def collect_results(out_dir: str | Path) -> pd.DataFrame:
    """Rebuild ``results/runs.csv``: one row per (run, eval set, post-processing stage)."""
    out_dir = Path(out_dir)
    rows = []
    for f in sorted(out_dir.glob("runs/*/*/metrics.json")):
        try:
            m = json.loads(f.read_text())
        except (OSError, ValueError):
            continue  # a half-written or foreign file is skipped, not fatal
        for stage in ("raw", "postprocessed"):
            rows.append({"run_id": m["run_id"], "model": m["model"], "train_size": m["train_size"],
                         "eval": m["eval"], "stage": stage, "n_tracks": m["n_tracks"],
                         **m[stage]})
    df = pd.DataFrame(rows)
    write_csv(out_dir / "runs.csv", df)
    return df


def per_instrument_records(out_dir: str | Path, run_id: str, eval_name: str) -> list[dict]:
    df = pd.read_csv(Path(out_dir) / "runs" / run_id / eval_name / "per_instrument.csv")
    return json.loads(df.to_json(orient="records"))
