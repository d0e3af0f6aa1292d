"""Results as people read them: run labels, one number format, tables by kind of training
data, settings side by side. The dashboard, the CLI report and the README use these.

Number rule: scores in [0, 1] (F1, mAP, Jaccard, Hamming, error rate) with 3 decimals;
shares of time as percentages with 1 decimal; counts as whole numbers with thousands
separators.
"""

from __future__ import annotations

import re

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

METRIC_LABELS = {
    "f1_micro": "F1 micro", "f1_macro": "F1 macro", "f1_weighted": "F1 weighted",
    "hamming": "Hamming loss", "jaccard_samples": "Jaccard (samples)",
    "segment_f1_1s": "Segment F1 (1 s)", "segment_er_1s": "Segment error rate (1 s)", "mAP": "mAP",
}  # fmt: skip
LOWER_IS_BETTER = ("hamming", "segment_er_1s")

FAMILY = {"mlp": "MLP", "crnn": "CRNN", "convtf": "CNN-Transformer", "seedmlp": "Seed MLP",
          "ensemble": "Ensemble"}
#: Kinds of training data (``instdet.dataset.data_kind``), as series names.
KIND_LABELS = {
    "real": "real songs only",
    "real+remix": "real + remixes",
    "real+sampled": "real + sampled songs",
    "real+remix+sampled": "real + remixes + sampled songs",
    "real+remix+synth": "real + remixes + SoundFont songs",
    "real+remix+synth+sampled": "real + remixes + SoundFont + sampled songs",
}
EVAL_LABELS = {
    "real-test": "real AAM songs no model trained on (2462, 2841, 3000)",
    "remix-test": "stem remixes held out from training",
    "synth-test": "SoundFont songs held out from training",
    "sampled-test": "note-sampler songs held out from training",
}


def fmt_score(x) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{float(x):.3f}"


def fmt_share(x) -> str:
    return "–" if x is None or np.isnan(x) else f"{100 * float(x):.1f}%"


def fmt_count(x) -> str:
    return f"{int(x):,}"


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind or "", kind.replace("+", " + ") if kind else "unknown data")


def run_seed(run_id: str) -> int | None:
    m = re.search(r"-s(\d+)$", run_id)
    return int(m.group(1)) if m else None


def run_label(run_id: str, *, model: str | None, train_size, data_kind: str = "") -> str:
    """``"CRNN, 150 songs (real + remixes), seed 0"``; seed and release runs say what they are."""
    family = FAMILY.get(model or "", model or "?")
    if run_id.startswith("release-"):
        return f"Release: {family}, {_songs(train_size)} ({kind_label(data_kind)})"
    if model == "seedmlp":
        extra = re.search(r"-e(\d+)$", run_id)
        return (f"Seed MLP, {_songs(train_size)} (real songs, the original project's)"
                + (f", {extra.group(1)} epochs" if extra else ""))
    seed = run_seed(run_id)
    return f"{family}, {_songs(train_size)} ({kind_label(data_kind)})" + \
        (f", seed {seed}" if seed is not None else "")


def _songs(n) -> str:
    try:
        return f"{int(n)} songs"
    except (TypeError, ValueError):
        return "? songs"


def series_label(model: str, data_kind: str) -> str:
    """One line of the Models chart: a model family on one kind of training data."""
    return f"{FAMILY.get(model, model)} · {kind_label(data_kind)}"


def with_labels(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs.csv`` rows plus ``label`` and ``series`` columns."""
    out = runs.copy()
    if out.empty:
        return out.assign(label=[], series=[])
    kinds = out["data_kind"].fillna("") if "data_kind" in out else pd.Series("", index=out.index)
    out["label"] = [run_label(r, model=m, train_size=n, data_kind=k) for r, m, n, k in
                    zip(out["run_id"], out["model"], out["train_size"], kinds)]
    out["series"] = [series_label(m, k) for m, k in zip(out["model"], kinds)]
    return out


def sweep_table(runs: pd.DataFrame, *, eval_name: str, stage: str = "postprocessed",
                metric: str = "f1_micro") -> pd.DataFrame:
    """Series (model x kind of data) x training songs for one metric; seeds averaged."""
    sel = with_labels(runs[(runs["eval"] == eval_name) & (runs["stage"] == stage)])
    if sel.empty:
        return pd.DataFrame()
    return sel.pivot_table(index="series", columns="train_size", values=metric, aggfunc="mean")


def seed_spread(runs: pd.DataFrame, *, eval_name: str, stage: str, metric: str) -> pd.DataFrame:
    """Per series and size: mean, spread (std) and number of seeds of ``metric``."""
    sel = with_labels(runs[(runs["eval"] == eval_name) & (runs["stage"] == stage)])
    if sel.empty:
        return pd.DataFrame(columns=["series", "train_size", "mean", "std", "seeds"])
    # Runs that differ only in their seed suffix are one configuration.
    sel = sel.assign(config=sel["run_id"].str.replace(r"-s\d+$", "", regex=True))
    g = sel.groupby(["series", "train_size", "config"])[metric]
    g = pd.DataFrame({"v": g.mean(), "n": g.size(), "sd": g.std(ddof=0)}).reset_index()
    return pd.DataFrame({"mean": g.groupby(["series", "train_size"])["v"].mean(),
                         "std": g.groupby(["series", "train_size"])["sd"].max(),
                         "seeds": g.groupby(["series", "train_size"])["n"].max()}).reset_index()


#: How far below its GPU-trained predecessor a CPU run may score and still meet it (issue 14;
#: ``scripts/compare_gpu_runs.py``, ``seed_table``).
GPU_TOLERANCE = 0.01


def meets(score, reference, *, tolerance: float = GPU_TOLERANCE):
    """Whether ``score`` is at least ``reference`` less ``tolerance`` (numbers or aligned
    Series); the comparison allows for floating point (0.31 - 0.01 is 0.30000000000000004)."""
    return score >= reference - (tolerance + 1e-9)


def seed_table(scores: pd.DataFrame, *, gpu: pd.DataFrame | None = None,
               tolerance: float = GPU_TOLERANCE) -> pd.DataFrame:
    """One row per run of ``results/seed_spread.csv`` (``scripts/seed_spread.py``): F1 micro
    and macro averaged over its seeds, with their lowest and highest, and, where ``gpu``
    (``results/cpu_vs_gpu_runs.csv``) holds the run, its GPU predecessor and whether the mean
    scores at least that within ``tolerance`` on both.

    Parameters
    ----------
    scores : DataFrame
        One row per run and seed: ``run``, ``seed``, ``f1_micro``, ``f1_macro``. Rows with a
        cell that is not a number are dropped; of a repeated run and seed the last is kept.
    gpu : DataFrame, optional
        ``run``, ``gpu_postprocessed_micro``, ``gpu_postprocessed_macro``.
    tolerance : float
        How far below the GPU run the mean may be, on F1 micro and on F1 macro.

    Returns
    -------
    DataFrame
        ``run``, ``seeds``, ``micro_mean``, ``micro_min``, ``micro_max``, ``macro_mean``,
        ``macro_min``, ``macro_max``, ``gpu_micro``, ``gpu_macro`` (NaN without a GPU run)
        and ``mean_met`` (nullable boolean: NA without a GPU run), sorted by run.
    """
    cols = ["run", "seeds", "micro_mean", "micro_min", "micro_max", "macro_mean", "macro_min",
            "macro_max", "gpu_micro", "gpu_macro", "mean_met"]
    nums = ("seed", "f1_micro", "f1_macro")  # a damaged cell drops its row, not the table
    scores = scores.assign(**{c: pd.to_numeric(scores[c], errors="coerce") for c in nums})
    scores = scores.dropna(subset=list(nums)).drop_duplicates(["run", "seed"], keep="last")
    if scores.empty:
        return pd.DataFrame(columns=cols).astype({"mean_met": "boolean"})
    g = scores.groupby("run", sort=True)
    out = pd.DataFrame({"seeds": g["seed"].nunique()})
    for m in ("micro", "macro"):
        out[f"{m}_mean"] = g[f"f1_{m}"].mean()
        out[f"{m}_min"] = g[f"f1_{m}"].min()
        out[f"{m}_max"] = g[f"f1_{m}"].max()
    out = out.reset_index()
    if gpu is not None and not gpu.empty:
        ref = gpu.drop_duplicates("run").set_index("run")
        for m in ("micro", "macro"):
            col = pd.to_numeric(ref[f"gpu_postprocessed_{m}"], errors="coerce")
            out[f"gpu_{m}"] = out["run"].map(col)
    else:
        out["gpu_micro"] = out["gpu_macro"] = np.nan
    met = (meets(out["micro_mean"], out["gpu_micro"], tolerance=tolerance)
           & meets(out["macro_mean"], out["gpu_macro"], tolerance=tolerance))
    out["mean_met"] = met.astype("boolean").where(out["gpu_micro"].notna()
                                                  & out["gpu_macro"].notna())
    return out[cols]


def best_run(runs: pd.DataFrame, *, eval_name: str, metric: str = "f1_micro") -> pd.Series | None:
    sel = runs[(runs["eval"] == eval_name) & (runs["stage"] == "postprocessed")]
    return None if sel.empty else sel.sort_values(metric, ascending=False).iloc[0]


def best_per_model(runs: pd.DataFrame, *, eval_name: str, metric: str = "f1_micro") -> list[str]:
    """The best run of each model on ``eval_name`` (post-processed), best first."""
    sel = runs[(runs["eval"] == eval_name) & (runs["stage"] == "postprocessed")]
    if sel.empty:
        return []
    return list(sel.sort_values(metric, ascending=False).drop_duplicates("model")["run_id"])


def cv_summary(cv: pd.DataFrame, *, stages: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per shipped run of a cross-validation table (``results/release_cv.csv``): the
    pooled F1 micro and macro and their range over the folds, at the stage the run ships with.

    ``stages``: run id -> "raw" or "postprocessed" (what its stored post-processing does);
    "postprocessed" where not given; a run whose stage has no rows (such as "missing") is
    left out. Best F1 micro first.
    """
    stages = stages or {}
    rows = []
    shipped = cv[cv["run_id"].notna()] if "run_id" in cv else cv.iloc[0:0]
    for run_id, g in shipped.groupby("run_id", sort=False):
        stage = stages.get(run_id, "postprocessed")
        g = g[g["stage"] == stage]
        pooled, folds = g[g["fold"] == "pooled"], g[g["fold"] != "pooled"]
        if pooled.empty:
            continue
        p = pooled.iloc[0]
        rows.append({"run_id": run_id, "stage": stage, "f1_micro": p["f1_micro"],
                     "micro_folds": f"{fmt_score(folds['f1_micro'].min())}–"
                                    f"{fmt_score(folds['f1_micro'].max())}",
                     "f1_macro": p["f1_macro"],
                     "macro_folds": f"{fmt_score(folds['f1_macro'].min())}–"
                                    f"{fmt_score(folds['f1_macro'].max())}",
                     "songs": len(str(p["songs"]).split()), "folds": len(folds)})
    out = pd.DataFrame(rows, columns=["run_id", "stage", "f1_micro", "micro_folds", "f1_macro",
                                      "macro_folds", "songs", "folds"])
    return out.sort_values("f1_micro", ascending=False, ignore_index=True)


def markdown_results(runs: pd.DataFrame, *, eval_name: str, stage: str = "postprocessed",
                     metrics: tuple[str, ...] = ("f1_micro", "f1_macro", "segment_f1_1s", "mAP")) -> str:
    """Runs x metrics as a Markdown table (the README's results tables), best in bold."""
    sel = with_labels(runs[(runs["eval"] == eval_name) & (runs["stage"] == stage)])
    if sel.empty:
        return f"(no results for {eval_name})"
    sel = sel.sort_values(["model", "data_kind", "train_size", "run_id"])
    head = "| run | model | training songs | data | " + " | ".join(METRIC_LABELS[m] for m in metrics) + " |"
    lines = [head, "|---|---|---|---|" + "---|" * len(metrics)]
    best = {m: sel[m].min() if m in LOWER_IS_BETTER else sel[m].max() for m in metrics}
    for _, r in sel.iterrows():
        cells = [f"**{fmt_score(r[m])}**" if r[m] == best[m] else fmt_score(r[m]) for m in metrics]
        lines.append(f"| {r['run_id']} | {FAMILY.get(r['model'], r['model'])} | {r['train_size']} "
                     f"| {kind_label(r.get('data_kind', ''))} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def flatten(d: dict, prefix: str = "") -> dict[str, object]:
    """Nested settings as ``{"train.lr": 0.001, ...}``; lists as text."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v
    return out


def config_diff(a: dict, b: dict, *, names: tuple[str, str] = ("A", "B"),
                only_different: bool = True) -> pd.DataFrame:
    """Two runs' settings side by side (W&B-style): setting, value in each, differs."""
    fa, fb = flatten(a), flatten(b)
    keys = sorted(set(fa) | set(fb))
    rows = [{"setting": k, names[0]: _text(fa.get(k)), names[1]: _text(fb.get(k)),
             "differs": fa.get(k) != fb.get(k)} for k in keys]
    df = pd.DataFrame(rows, columns=["setting", *names, "differs"])
    return df[df["differs"]].reset_index(drop=True) if only_different else df


def _text(v) -> str:
    return "–" if v is None else str(v)


def per_instrument_runs(per_inst: dict[str, pd.DataFrame], metric: str = "f1") -> pd.DataFrame:
    """Instruments x runs for one per-instrument metric (instruments with support only)."""
    cols = {}
    for run, df in per_inst.items():
        d = df.set_index("instrument")
        cols[run] = d[metric].where(d["support"] > 0)
    return pd.DataFrame(cols).dropna(how="all")
