"""Cached loaders: the one place the dashboard reads files, and it only reads.

``st.cache_data`` for tables and arrays (copied per session), ``st.cache_resource`` for
models (shared). Folders come from ``INSTDET_RESULTS`` and ``INSTDET_MODELS`` or default to
the repository's ``results/`` and ``saved_models/``. File names and formats belong to
``instdet.runs``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from instdet.errors import InstdetError
from instdet.report import seed_table
from instdet.runs import EvalDir, ResultsDir, RunDir, list_runs, read_table

ROOT = Path(__file__).resolve().parents[1]
MAKE_RESULTS = "`scripts/reproduce.sh` (all of it) or `instdet evaluate RUN --data DIR`"


def results_dir() -> Path:
    return Path(os.environ.get("INSTDET_RESULTS", ROOT / "results"))


def models_dir() -> Path:
    return Path(os.environ.get("INSTDET_MODELS", ROOT / "saved_models"))


@st.cache_data(show_spinner=False)
def runs_table(results: str) -> pd.DataFrame:
    """Every evaluation, one row per stage: ``runs.csv``, or built in memory when it is
    missing, cut short or lacks a column."""
    return ResultsDir(results).read_runs_csv()


@st.cache_data(show_spinner=False)
def eval_sets(results: str) -> dict[str, list[str]]:
    """{run id: [names of its valid evaluations]}."""
    out: dict[str, list[str]] = {}
    for ev in ResultsDir(results).evaluations():
        out.setdefault(ev.run_id, []).append(ev.eval_name)
    return out


@st.cache_data(show_spinner=False)
def table(path: str) -> pd.DataFrame | None:
    """A CSV of results, or None when missing, empty or half-written."""
    return read_table(path)


@st.cache_data(show_spinner=False)
def metrics(results: str, run: str, eval_name: str) -> dict | None:
    try:
        return EvalDir(results, run, eval_name).metrics()
    except InstdetError:
        return None


@st.cache_data(show_spinner=False)
def eval_table(results: str, run: str, eval_name: str, which: str) -> pd.DataFrame | None:
    """One of an evaluation's tables: per_instrument, per_track, pairs or matrix."""
    try:
        return getattr(EvalDir(results, run, eval_name), which)()
    except InstdetError:
        return None


@st.cache_data(show_spinner=False, max_entries=16)
def all_frames(results: str, run: str, eval_name: str) -> dict[str, dict]:
    """{track id: stored frames} of an evaluation, in its order; {} when any is unreadable."""
    ev = EvalDir(results, run, eval_name)
    try:
        return {t: ev.frames(t) for t in ev.metrics()["tracks"]}
    except InstdetError:
        return {}


@st.cache_data(show_spinner=False)
def model_runs(models: str) -> pd.DataFrame:
    """Run folders: run_id, model, train_size, data_kind, best_score, status, has_checkpoint."""
    rows = []
    for run in list_runs(models):
        try:
            cfg = run.config()
        except InstdetError:
            cfg = {}
        train = cfg.get("train") if isinstance(cfg.get("train"), dict) else {}
        rows.append({"run_id": run.run_id, "model": train.get("model"),
                     "train_size": cfg.get("train_size"), "data_kind": cfg.get("data_kind", ""),
                     "best_score": cfg.get("best_score"), "status": run.status(),
                     "has_checkpoint": run.checkpoint.is_file()})
    return pd.DataFrame(rows, columns=["run_id", "model", "train_size", "data_kind", "best_score",
                                       "status", "has_checkpoint"])


@st.cache_data(show_spinner=False)
def run_config(models: str, run: str) -> dict | None:
    try:
        return RunDir(Path(models) / run).config()
    except InstdetError:
        return None


@st.cache_data(show_spinner=False)
def history(models: str, run: str) -> pd.DataFrame | None:
    return RunDir(Path(models) / run).history()


@st.cache_resource(show_spinner=False, max_entries=32)
def predictor(run_dir: str):
    """A loaded model (shared across sessions)."""
    from instdet.inference import Predictor

    return Predictor.from_run(run_dir, device="cpu")


def shipped_stage(run_dir: str) -> str:
    """"raw" when a saved run applies no post-processing beyond the 0.5 threshold, else
    "postprocessed" ("missing" when it cannot be loaded)."""
    from instdet.postprocess import PostProcess

    try:
        return "raw" if predictor(run_dir).postprocess == PostProcess() else "postprocessed"
    except InstdetError:
        return "missing"


def default_index(results: str, options: list[str], *, eval_name: str = "real-test") -> int:
    """Index of the best run on ``eval_name`` in ``options`` (0 when unknown): the default pick."""
    from instdet.report import best_run

    runs = runs_table(results)
    best = best_run(runs, eval_name=eval_name) if not runs.empty else None
    return options.index(best["run_id"]) if best is not None and best["run_id"] in options else 0


@st.cache_data(show_spinner=False)
def corpora(results: str) -> list[str]:
    return ResultsDir(results).corpora()


@st.cache_data(show_spinner=False)
def dataset_tables(results: str, corpus: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(per-instrument statistics, co-occurrence counts) of a corpus; None when unreadable."""
    r = ResultsDir(results)
    stats = read_table(r.stats_path(corpus), required=("instrument", "tracks", "frames_total"))
    co = read_table(r.cooccurrence_path(corpus), required=("instrument",))
    return stats, co


@st.cache_data(show_spinner=False)
def cv_table(results: str, name: str) -> pd.DataFrame | None:
    """A cross-validation table (``results/NAME.csv``: condition, stage, fold, metrics)."""
    return read_table(Path(results) / f"{name}.csv", required=("condition", "stage", "fold"),
                      dtype={"fold": str})


@st.cache_data(show_spinner=False)
def seed_scores(results: str) -> pd.DataFrame | None:
    """``results/seed_spread.csv`` (``scripts/seed_spread.py``) as one row per run: its mean,
    lowest and highest score over the seeds beside its GPU predecessor; None when missing."""
    scores = read_table(Path(results) / "seed_spread.csv",
                        required=("run", "seed", "f1_micro", "f1_macro"))
    if scores is None:
        return None
    gpu = read_table(Path(results) / "cpu_vs_gpu_runs.csv",
                     required=("run", "gpu_postprocessed_micro", "gpu_postprocessed_macro"))
    return seed_table(scores, gpu=gpu)


@st.cache_data(show_spinner=False, max_entries=4)
def audio_bytes(path: str) -> bytes | None:
    """The bytes of an audio file for the browser's player (None when missing or too big)."""
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size <= 12 * 2**20:
            return p.read_bytes()
    except OSError:
        pass
    return None


@st.cache_resource(show_spinner=False, max_entries=32)
def model_speed(run_dir: str) -> float:
    """Seconds a run takes per minute of audio on this machine (timed once on 30 s of noise
    features after a warm-up): the real-case page's time estimate."""
    import time

    import numpy as np

    p = predictor(run_dir)
    x = np.random.default_rng(0).uniform(-80, 0, (int(30 * p.feature_config.frame_rate),
                                                    p.feature_config.n_mels)).astype(np.float32)
    p.probabilities(x[:64])
    t = time.perf_counter()
    p.probabilities(x)
    return 2.0 * (time.perf_counter() - t)


@st.cache_data(show_spinner=False)
def run_scores(results: str) -> dict[str, float]:
    """Each run's score on real songs it never heard: the mean of F1 micro and macro,
    cross-validated for release runs (results/release_cv.csv), else on real-test."""
    out = {}
    runs = runs_table(results)
    if not runs.empty:
        sel = runs[(runs["eval"] == "real-test") & (runs["stage"] == "postprocessed")]
        out = {r: 0.5 * (a + b) for r, a, b in zip(sel["run_id"], sel["f1_micro"], sel["f1_macro"])}
    cv = cv_table(results, "release_cv")
    if cv is not None and "run_id" in cv:
        sel = cv[(cv["fold"] == "pooled") & (cv["stage"] == "postprocessed")].dropna(subset=["run_id"])
        out.update({r: 0.5 * (a + b) for r, a, b in zip(sel["run_id"], sel["f1_micro"], sel["f1_macro"])})
    return out
