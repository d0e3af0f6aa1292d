"""Cached loaders: the one place the dashboard reads files.

``st.cache_data`` for tables and arrays (copied per session), ``st.cache_resource`` for
models (shared). Folders come from ``INSTDET_RESULTS`` and ``INSTDET_MODELS`` or default to
the repository's ``results/`` and ``saved_models/``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from instdet.errors import InstdetError

ROOT = Path(__file__).resolve().parents[1]
MAKE_RESULTS = "`scripts/reproduce.sh` (all of it) or `instdet evaluate RUN --data DIR`"


def results_dir() -> Path:
    return Path(os.environ.get("INSTDET_RESULTS", ROOT / "results"))


def models_dir() -> Path:
    return Path(os.environ.get("INSTDET_MODELS", ROOT / "saved_models"))


@st.cache_data(show_spinner=False)
def runs_table(results: str) -> pd.DataFrame:
    """``results/runs.csv``, rebuilt from the run folders when missing or unreadable."""
    from instdet.evaluation import collect_results

    path = Path(results) / "runs.csv"
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError):
        df = pd.DataFrame()
    if df.empty and Path(results).is_dir() and any(Path(results).glob("runs/*/*/metrics.json")):
        df = collect_results(results)
    return df


@st.cache_data(show_spinner=False)
def eval_sets(results: str) -> dict[str, list[str]]:
    """{run id: [eval names with a complete metrics.json]}."""
    out: dict[str, list[str]] = {}
    for f in sorted(Path(results).glob("runs/*/*/metrics.json")):
        try:
            json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        out.setdefault(f.parent.parent.name, []).append(f.parent.name)
    return out


@st.cache_data(show_spinner=False)
def table(path: str) -> pd.DataFrame | None:
    """A CSV of results, or None when missing, empty or half-written."""
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
        return None


@st.cache_data(show_spinner=False)
def metrics(results: str, run: str, eval_name: str) -> dict | None:
    try:
        return json.loads((Path(results) / "runs" / run / eval_name / "metrics.json").read_text())
    except (OSError, ValueError):
        return None


@st.cache_data(show_spinner=False, max_entries=64)
def frames(results: str, run: str, eval_name: str, track: str) -> dict | None:
    from instdet.evaluation import load_frames

    try:
        return load_frames(Path(results) / "runs" / run / eval_name / "frames" / f"{track}.npz")
    except InstdetError:
        return None


@st.cache_data(show_spinner=False, max_entries=16)
def all_frames(results: str, run: str, eval_name: str) -> dict[str, dict]:
    folder = Path(results) / "runs" / run / eval_name / "frames"
    out = {}
    for f in sorted(folder.glob("*.npz")):
        fr = frames(results, run, eval_name, f.stem)
        if fr is not None:
            out[f.stem] = fr
    return out


@st.cache_data(show_spinner=False)
def model_runs(models: str) -> pd.DataFrame:
    """Run folders with a finished checkpoint: run_id, model, n_train, best_score, status."""
    rows = []
    for d in sorted(Path(models).glob("*/")):
        try:
            cfg = json.loads((d / "config.json").read_text())
        except (OSError, ValueError):
            cfg = {}
        rows.append({"run_id": d.name, "model": cfg.get("train", {}).get("model"),
                     "n_train": cfg.get("n_train"), "best_score": cfg.get("best_score"),
                     "status": cfg.get("status", "no config.json"),
                     "has_checkpoint": (d / "model.pt").is_file()})
    return pd.DataFrame(rows)


@st.cache_data(show_spinner=False)
def history(models: str, run: str) -> pd.DataFrame | None:
    return table(str(Path(models) / run / "history.csv"))


@st.cache_resource(show_spinner=False, max_entries=32)
def predictor(run_dir: str):
    """A loaded model (shared across sessions)."""
    from instdet.inference import Predictor

    return Predictor.from_run(run_dir, device="cpu")


def default_index(results: str, options: list[str], *, eval_name: str = "real-test") -> int:
    """Index of the best run on ``eval_name`` in ``options`` (0 when unknown): the default pick."""
    from instdet.report import best_run

    runs = runs_table(results)
    best = best_run(runs, eval_name=eval_name) if not runs.empty else None
    return options.index(best["run_id"]) if best is not None and best["run_id"] in options else 0
