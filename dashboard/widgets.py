"""Widgets shared by pages: run and evaluation pickers with human labels, the palette
choice, metric pickers with explanations, table formatting and export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import loaders
from dashboard.glossary import TERMS, tip
from instdet.analysis import PALETTES
from instdet.report import EVAL_LABELS, METRIC_LABELS, run_label

SCORE_FORMAT = "%.3f"


def labels_of(results: str) -> dict[str, str]:
    """{run id: human label} of every evaluated run."""
    runs = loaders.runs_table(results)
    if runs.empty:
        return {}
    first = runs.drop_duplicates("run_id")
    kinds = first["data_kind"] if "data_kind" in first else [""] * len(first)
    return {r: run_label(r, model=m, train_size=n, data_kind=k if isinstance(k, str) else "")
            for r, m, n, k in zip(first["run_id"], first["model"], first["train_size"], kinds)}


def eval_picker(names: list[str], *, key: str, where=st) -> str:
    params = st.query_params
    default = params.get("eval") if params.get("eval") in names else (
        "real-test" if "real-test" in names else names[0])
    return where.selectbox("Evaluation set", names, index=names.index(default), key=key,
                           format_func=lambda n: f"{n}: {EVAL_LABELS.get(n, 'custom evaluation')}",
                           help="Which songs the runs are scored on. " + tip("real-test"))


def run_picker(runs: list[str], labels: dict[str, str], *, key: str, label: str = "Run",
               default: str | None = None, where=st) -> str:
    params = st.query_params
    want = params.get("run") if params.get("run") in runs else default
    index = runs.index(want) if want in runs else 0
    return where.selectbox(label, runs, index=index, key=key,
                           format_func=lambda r: f"{labels.get(r, r)}  [{r}]",
                           help=tip("run id"))


def run_and_eval(sets: dict[str, list[str]], *, key: str) -> tuple[str, str]:
    """Evaluation set first, then a run evaluated on it; the best run on real-test by default."""
    results = str(loaders.results_dir())
    c1, c2 = st.columns([2, 3])
    names = sorted({e for v in sets.values() for e in v})
    eval_name = eval_picker(names, key=f"{key}_eval", where=c1)
    runs = sorted(r for r, e in sets.items() if eval_name in e)
    best = runs[loaders.default_index(results, runs)]
    run = run_picker(runs, labels_of(results), key=f"{key}_run", default=best, where=c2)
    return run, eval_name


def metric_picker(*, key: str, where=st, default: str = "f1_micro") -> str:
    keys = list(METRIC_LABELS)
    return where.selectbox("Metric", keys, index=keys.index(default), key=key,
                           format_func=METRIC_LABELS.get,
                           help="; ".join(f"{METRIC_LABELS[k]}: {TERMS[METRIC_LABELS[k]]}"
                                          for k in keys)[:1500])


def palette_picker(*, key: str, where=st) -> dict[int, str]:
    name = where.radio("Colours", list(PALETTES), horizontal=True, key=key,
                       help="The second palette (blue, orange, purple) stays distinct for "
                            "red-green colour-blind viewers.")
    return PALETTES[name]


def score_columns(df: pd.DataFrame) -> dict:
    """Column configs: metric columns with 3 decimals and their explanation as help."""
    out = {}
    for k, label in METRIC_LABELS.items():
        if k in df.columns:
            out[k] = st.column_config.NumberColumn(label, format=SCORE_FORMAT, help=TERMS[label])
    return out


def table(df: pd.DataFrame, *, key: str, file_name: str, column_config: dict | None = None,
          height: int | str = "auto", **kw):
    """A formatted table and a button that saves it as CSV."""
    cfg = {**score_columns(df), **(column_config or {})}
    event = st.dataframe(df, hide_index=True, width="stretch", column_config=cfg, key=key,
                         height=height, **kw)
    st.download_button("Download table (CSV)", lambda: df.to_csv(index=False).encode(),
                       file_name=file_name, mime="text/csv", key=f"{key}_csv",
                       icon=":material/download:")
    return event
