import pandas as pd
import streamlit as st

from dashboard import figures, loaders, widgets
from dashboard.glossary import tip
from instdet.report import (FAMILY, GPU_TOLERANCE, LOWER_IS_BETTER, METRIC_LABELS, config_diff,
                            kind_label, per_instrument_runs, seed_spread, with_labels)

st.title("Models by training size")
st.caption("How each model family does as its training songs grow, one line per family and "
           "kind of training data. Hover a point for the run; every figure saves as SVG or PNG.")
results, models = loaders.results_dir(), loaders.models_dir()
runs = loaders.runs_table(str(results))
if runs.empty:
    st.warning(f"No evaluated runs in `{results}`. Make them with {loaders.MAKE_RESULTS}.")
    st.stop()

c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
eval_name = widgets.eval_picker(sorted(runs["eval"].unique()), key="models_eval", where=c1)
stage = c2.radio("Stage", ["postprocessed", "raw"], horizontal=True, key="models_stage",
                 help=f"raw: {tip('raw')} postprocessed: {tip('postprocessed')}")
metric = widgets.metric_picker(key="models_metric", where=c3)
cb = c4.toggle("Colour-blind-safe colours", key="models_cb",
               help="Okabe and Ito's palette, distinct for every kind of colour vision.")

sel = with_labels(runs[(runs["eval"] == eval_name) & (runs["stage"] == stage)])
sel = sel.assign(model=[FAMILY.get(m, m) for m in sel["model"]],
                 kind=[kind_label(k if isinstance(k, str) else "") for k in sel["data_kind"]])
spread = seed_spread(runs, eval_name=eval_name, stage=stage, metric=metric)
plot = sel.merge(spread[["series", "train_size", "std"]], on=["series", "train_size"], how="left")
plot = plot.assign(lo=plot[metric] - plot["std"].fillna(0), hi=plot[metric] + plot["std"].fillna(0))
figures.show(figures.lines_by_size(plot, y=metric, y_title=METRIC_LABELS[metric], cb=cb,
                                   lower_better=metric in LOWER_IS_BETTER,
                                   title=f"{METRIC_LABELS[metric]} on {eval_name} ({stage})"),
             key="models_lines", name=f"models_{eval_name}_{metric}")
seeds = loaders.seed_scores(str(results))
if (spread["seeds"] > 1).any():
    st.caption("Error bars: spread (standard deviation) over the seeds of one configuration.")
elif seeds is not None and not seeds.empty:
    st.caption("The shipped runs are one seed each (seed 0). How far another seed moves a "
               "run's real-test score is in the table *How much a seed moves the score* "
               "below; the cross-validated tables show how much the numbers move with the "
               "songs.")
else:
    st.caption("One seed per configuration: no spread over seeds to show. The "
               "cross-validated tables below show how much the numbers move with the songs.")

st.subheader("All runs")
cols = ["label", "run_id", "train_size", "n_tracks", *METRIC_LABELS]
widgets.table(sel[cols].sort_values(metric, ascending=metric in LOWER_IS_BETTER),
              key="models_table", file_name=f"metrics_{eval_name}_{stage}.csv",
              column_config={"label": st.column_config.TextColumn("run", width="large"),
                             "run_id": st.column_config.TextColumn("run id", help=tip("run id")),
                             "train_size": st.column_config.NumberColumn(
                                 "training songs", help=tip("training songs")),
                             "n_tracks": st.column_config.NumberColumn("songs scored")})

CV_NOTES = {
    "release_cv": "Each real song is scored by a model that never heard it (4 folds; song 0080 is "
                  "left out because the seed's MLP trained on it). Conditions: the recipe of "
                  "each release run (run id beside it); raw = no post-processing, postprocessed "
                  "= a median filter chosen on the other folds. `python scripts/release.py`.",
    "data_experiment": "The same CNN-Transformer trained on 7 real songs plus 200 generated "
                       "songs of one kind, or 100 of each, scored on the held-out real songs "
                       "(4 folds). `python scripts/data_experiment.py`.",
}
for name, title in (("release_cv", "Release models, cross-validated on real songs"),
                    ("data_experiment", "Which generated songs help (cross-validated)")):
    cv = loaders.cv_table(str(results), name)
    if cv is not None and not cv.empty:
        st.subheader(title, help=tip("cross-validation"))
        st.caption(CV_NOTES[name])
        pooled = cv[cv["fold"] == "pooled"]
        folds = cv[cv["fold"] != "pooled"].groupby(["condition", "stage"])[metric]
        keep = ["condition", "run_id", "stage", metric] if "run_id" in pooled else \
            ["condition", "stage", metric]
        show = pooled[keep].merge(
            folds.min().rename("fold min").reset_index(), on=["condition", "stage"]).merge(
            folds.max().rename("fold max").reset_index(), on=["condition", "stage"])
        widgets.table(show, key=f"models_{name}", file_name=f"{name}.csv", column_config={
            "run_id": st.column_config.TextColumn("run id", help=tip("run id")),
            metric: st.column_config.NumberColumn(f"{METRIC_LABELS[metric]} (pooled)",
                                                  format="%.3f", help=tip(METRIC_LABELS[metric])),
            "fold min": st.column_config.NumberColumn(format="%.3f"),
            "fold max": st.column_config.NumberColumn(format="%.3f")})

if seeds is not None and not seeds.empty:
    st.subheader("How much a seed moves the score", help=tip("seed"))
    st.caption("Each sweep run trained again with other seeds (same settings, same songs) and "
               "scored on the 3 real test songs, post-processed; seed 0 is the shipped run. "
               "*GPU micro, macro*: the GPU-trained run it replaced (commit 05a504b); *mean "
               "met*: the mean over the seeds scores at least the GPU run's F1 micro and macro, "
               f"within {GPU_TOLERANCE}. On 3 songs a seed alone moves F1 by up to the range shown. "
               "`python scripts/seed_spread.py RUN ... --seeds 1,2`.")
    f3 = {"format": "%.3f"}
    order = ["run", "mean_met", "micro_mean", "gpu_micro", "macro_mean", "gpu_macro", "seeds",
             "micro_min", "micro_max", "macro_min", "macro_max"]  # the verdict first
    widgets.table(seeds[order], key="models_seeds", file_name="seed_spread.csv", column_config={
        "run": st.column_config.TextColumn("run", help=tip("run id")),
        "seeds": st.column_config.NumberColumn("seeds"),
        "micro_mean": st.column_config.NumberColumn("F1 micro, mean", **f3),
        "micro_min": st.column_config.NumberColumn("micro low", **f3),
        "micro_max": st.column_config.NumberColumn("micro high", **f3),
        "macro_mean": st.column_config.NumberColumn("F1 macro, mean", **f3),
        "macro_min": st.column_config.NumberColumn("macro low", **f3),
        "macro_max": st.column_config.NumberColumn("macro high", **f3),
        "gpu_micro": st.column_config.NumberColumn("GPU micro", **f3),
        "gpu_macro": st.column_config.NumberColumn("GPU macro", **f3),
        "mean_met": st.column_config.CheckboxColumn("mean met")})

st.subheader("Per-instrument F1 across runs")
per = {}
for run in sel.sort_values(["model", "train_size"])["run_id"]:
    df = loaders.eval_table(str(results), run, eval_name, "per_instrument")
    if df is not None:
        per[run] = df
if per:
    grid = per_instrument_runs(per)
    long = grid.reset_index(names="instrument").melt("instrument", var_name="run", value_name="F1")
    figures.show(figures.heatmap(long.dropna(), x="run", y="instrument", value="F1",
                                 scheme="cividis" if cb else "redyellowgreen", domain=(0, 1),
                                 x_order=list(grid.columns), y_order=list(grid.index),
                                 title=f"F1 per instrument on {eval_name} (post-processed)",
                                 legend="F1"),
                 key="models_perinst", name=f"per_instrument_{eval_name}")
    st.caption("Blank: the instrument does not occur in these songs. Instruments that occur "
               "only in the test songs (never in training) can only score 0.")

st.subheader("Run settings")
model_runs = loaders.model_runs(str(models))
if model_runs.empty:
    st.info(f"No run folders in `{models}`.")
    st.stop()
labels = widgets.labels_of(str(results))
ids = list(model_runs["run_id"])
c1, c2 = st.columns(2)
a = widgets.run_picker(ids, labels, key="models_cfg_a", label="Run A", where=c1)
b = widgets.run_picker(ids, labels, key="models_cfg_b", label="Run B (compare)", where=c2,
                       default=ids[min(1, len(ids) - 1)])
ca, cb_cfg = loaders.run_config(str(models), a), loaders.run_config(str(models), b)
only = st.toggle("Only settings that differ", value=True, key="models_cfg_only")
if ca is None or cb_cfg is None:
    st.error("A run's config.json is missing or unreadable.")
else:
    diff = config_diff(ca, cb_cfg, names=(a, b), only_different=only and a != b)
    widgets.table(diff, key="models_diff", file_name=f"settings_{a}_vs_{b}.csv",
                  column_config={"differs": st.column_config.CheckboxColumn("differs")})

st.subheader("Training curves", help=tip("val_score"))
chosen = st.multiselect("Runs", ids, default=ids[:3], key="models_hist_runs",
                        format_func=lambda r: labels.get(r, r))
curves = [h.assign(run=r) for r in chosen if (h := loaders.history(str(models), r)) is not None]
if curves:
    hist = pd.concat(curves)
    col = st.radio("Curve", [c for c in ("val_score", "val_f1_micro", "val_f1_macro", "loss",
                                         "val_loss") if c in hist], horizontal=True,
                   key="models_curve_kind")
    figures.show(figures.history(hist, y=col, cb=cb), key="models_hist", name=f"history_{col}")
elif chosen:
    st.info("The chosen runs have no training history (imported runs have none).")
