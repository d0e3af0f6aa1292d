"""Views of results for the dashboard: every number a page shows is computed here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from instdet.data.aam import INSTRUMENTS

#: One colour per instrument, the same on every page and figure.
INSTRUMENT_COLORS: dict[str, str] = dict(zip(INSTRUMENTS, (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
    "#e6550d", "#31a354", "#756bb1", "#636363", "#6baed6", "#fd8d3c", "#74c476", "#9e9ac8",
    "#969696", "#9c9ede", "#cedb9c", "#e7ba52", "#e7969c", "#de9ed6", "#ad494a",
)))  # fmt: skip

#: Frame outcome codes of a timeline.
OUTCOMES = {0: "silent, predicted silent", 1: "correct (active)", 2: "false alarm", 3: "missed"}
OUTCOME_COLORS = {0: "#f4f4f4", 1: "#2ca02c", 2: "#ff7f0e", 3: "#d62728"}
METRIC_LABELS = {
    "f1_micro": "F1 micro", "f1_macro": "F1 macro", "f1_weighted": "F1 weighted",
    "hamming": "Hamming loss", "jaccard_samples": "Jaccard (samples)",
    "segment_f1_1s": "Segment F1 (1 s)", "segment_er_1s": "Segment error rate (1 s)", "mAP": "mAP",
}  # fmt: skip


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


def sweep_table(runs: pd.DataFrame, *, eval_name: str, stage: str = "postprocessed",
                metric: str = "f1_micro") -> pd.DataFrame:
    """Models x training sizes for one metric."""
    sel = runs[(runs["eval"] == eval_name) & (runs["stage"] == stage)]
    if sel.empty:
        return pd.DataFrame()
    return sel.pivot_table(index="model", columns="train_size", values=metric, aggfunc="mean")


def best_run(runs: pd.DataFrame, *, eval_name: str, metric: str = "f1_micro") -> pd.Series | None:
    sel = runs[(runs["eval"] == eval_name) & (runs["stage"] == "postprocessed")]
    return None if sel.empty else sel.sort_values(metric, ascending=False).iloc[0]


def model_agreement(actives: dict[str, np.ndarray]) -> np.ndarray:
    """Share of models that call each instrument active, per frame: (n_frames, K) in [0, 1]."""
    n = min(a.shape[0] for a in actives.values())
    return np.mean([a[:n].astype(np.float32) for a in actives.values()], axis=0)


def activity_share(actives: dict[str, np.ndarray]) -> pd.DataFrame:
    """Share of time each instrument is active, per model (instruments x models)."""
    return pd.DataFrame({name: a.mean(axis=0) for name, a in actives.items()},
                        index=list(INSTRUMENTS))


def realcase_csv(times: np.ndarray, actives: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long table: time, model, then one 0/1 column per instrument."""
    parts = []
    for name, a in actives.items():
        n = min(len(times), a.shape[0])
        df = pd.DataFrame(a[:n].astype(np.uint8), columns=list(INSTRUMENTS))
        df.insert(0, "model", name)
        df.insert(0, "time_s", np.round(times[:n], 4))
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def instruments_present(*arrays: np.ndarray) -> list[int]:
    """Instrument indices active in any of the given (n_frames, K) arrays, in label order."""
    mask = np.zeros(len(INSTRUMENTS), dtype=bool)
    for a in arrays:
        mask |= a.astype(bool).any(axis=0)
    return list(np.flatnonzero(mask))


def per_instrument_runs(per_inst: dict[str, pd.DataFrame], metric: str = "f1") -> pd.DataFrame:
    """Instruments x runs for one per-instrument metric (instruments with support only)."""
    cols = {}
    for run, df in per_inst.items():
        d = df.set_index("instrument")
        cols[run] = d[metric].where(d["support"] > 0)
    return pd.DataFrame(cols).dropna(how="all")


__all__ = ["INSTRUMENT_COLORS", "OUTCOMES", "OUTCOME_COLORS", "METRIC_LABELS", "outcome_codes",
           "downsample_codes", "sweep_table", "best_run",
           "model_agreement", "activity_share", "realcase_csv", "instruments_present",
           "per_instrument_runs", "markdown_results", "best_per_model"]


def markdown_results(runs: pd.DataFrame, *, eval_name: str, stage: str = "postprocessed",
                     metrics: tuple[str, ...] = ("f1_micro", "f1_macro", "segment_f1_1s", "mAP")) -> str:
    """Models x training sizes x metrics as a Markdown table (the README's results table)."""
    sel = runs[(runs["eval"] == eval_name) & (runs["stage"] == stage)]
    if sel.empty:
        return f"(no results for {eval_name})"
    sel = sel.sort_values(["model", "train_size"])
    head = "| model | training tracks | " + " | ".join(METRIC_LABELS[m] for m in metrics) + " |"
    lines = [head, "|---|---|" + "---|" * len(metrics)]
    best = {m: sel[m].max() for m in metrics}
    for _, r in sel.iterrows():
        cells = [f"**{r[m]:.3f}**" if r[m] == best[m] else f"{r[m]:.3f}" for m in metrics]
        lines.append(f"| {r['model']} | {r['train_size']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def best_per_model(runs: pd.DataFrame, *, eval_name: str, metric: str = "f1_micro") -> list[str]:
    """The best run of each model on ``eval_name`` (post-processed), best first."""
    sel = runs[(runs["eval"] == eval_name) & (runs["stage"] == "postprocessed")]
    if sel.empty:
        return []
    best = sel.sort_values(metric, ascending=False).drop_duplicates("model")
    return list(best["run_id"])
