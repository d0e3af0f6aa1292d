"""Widgets shared by pages: choosing a run and one of its evaluations."""

from __future__ import annotations

import streamlit as st

from dashboard import loaders


def run_and_eval(sets: dict[str, list[str]], *, key: str) -> tuple[str, str]:
    """Two select boxes side by side; the best run and ``real-test`` are the defaults."""
    results = str(loaders.results_dir())
    c1, c2 = st.columns(2)
    order = sorted(sets)
    run = c1.selectbox("Run", order, key=f"{key}_run",
                       index=loaders.default_index(results, order))
    evals = sets[run]
    eval_name = c2.selectbox("Evaluation set", evals, key=f"{key}_eval",
                             index=evals.index("real-test") if "real-test" in evals else 0)
    return run, eval_name
