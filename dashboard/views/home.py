import pandas as pd
import streamlit as st

from dashboard import loaders, widgets
from dashboard.glossary import tip
from instdet.report import METRIC_LABELS, best_run, cv_summary, fmt_score, run_label

st.title("instdet: which instruments play, frame by frame")
st.markdown(
    "Models trained on **AAM** (Artificial Audio Multitracks, 31 instruments) say, for every "
    "23-ms frame of a song, which instruments are active. These pages show how the models "
    "compare as training data grows, where each one errs on real songs it never heard, and "
    "what they hear in a song you upload. Every term has a tooltip; the **Glossary** page "
    "lists them all."
)

results, models = loaders.results_dir(), loaders.models_dir()
runs = loaders.runs_table(str(results))
model_runs = loaders.model_runs(str(models))

cv = loaders.cv_table(str(results), "release_cv")
summary = cv_summary(cv, stages={r: loaders.shipped_stage(str(models / r))
                                 for r in cv.get("run_id", pd.Series()).dropna().unique()}) \
    if cv is not None and not cv.empty else pd.DataFrame()
if not summary.empty:
    st.subheader("Use on your songs", help=tip("cross-validation"))
    best = summary.iloc[0]
    seed = summary[summary["run_id"] == "seed-mlp-300"]
    versus = ""
    if not seed.empty and seed.iloc[0]["run_id"] != best["run_id"]:
        s = seed.iloc[0]
        versus = (f" The original project's 300-song MLP, as published, scores "
                  f"{fmt_score(s['f1_micro'])} and {fmt_score(s['f1_macro'])} on the same songs "
                  f"({best['f1_micro'] - s['f1_micro']:+.3f} and "
                  f"{best['f1_macro'] - s['f1_macro']:+.3f} for `{best['run_id']}`).")
    st.markdown(
        f"**`{best['run_id']}`** (preselected on the Real case page): F1 micro "
        f"**{fmt_score(best['f1_micro'])}** and F1 macro **{fmt_score(best['f1_macro'])}** on "
        f"{best['songs']} real songs it never trained on, by {best['folds']}-fold "
        f"cross-validation.{versus}")
    widgets.table(summary.assign(stage=summary["stage"].map(
        {"raw": "no post-processing", "postprocessed": "its median filter"}))[
        ["run_id", "stage", "f1_micro", "micro_folds", "f1_macro", "macro_folds"]],
        key="home_cv", file_name="release_cv_summary.csv",
        column_config={"run_id": st.column_config.TextColumn("run"),
                       "stage": st.column_config.TextColumn("as shipped"),
                       "micro_folds": st.column_config.TextColumn(
                           "F1 micro, folds", help="lowest and highest of the folds"),
                       "macro_folds": st.column_config.TextColumn(
                           "F1 macro, folds", help="lowest and highest of the folds")})
    st.caption("Each song is scored by a model that never heard it nor any note cut from its "
               "stems; the fold range shows how much a number moves with the songs. "
               "`python scripts/release.py` makes this table.")

c1, c2, c3 = st.columns(3)
c1.metric("Saved models", int((model_runs["status"] == "done").sum()) if not model_runs.empty else 0)
c2.metric("Evaluated runs", runs["run_id"].nunique() if not runs.empty else 0)
c3.metric("Evaluation sets", runs["eval"].nunique() if not runs.empty else 0)

if runs.empty:
    st.warning(f"No results in `{results}` yet. Make them with {loaders.MAKE_RESULTS}.")
else:
    eval_name = widgets.eval_picker(sorted(runs["eval"].unique()), key="home_eval")
    best = best_run(runs, eval_name=eval_name)
    label = run_label(best["run_id"], model=best["model"], train_size=best["train_size"],
                      data_kind=best.get("data_kind", "") if isinstance(best.get("data_kind"), str) else "")
    st.subheader(f"Best model on `{eval_name}`: {label}")
    st.caption(f"Run `{best['run_id']}`; metrics after post-processing, over "
               f"{int(best['n_tracks'])} songs, among the runs that never trained on them "
               "(the release runs trained on every real song: their score is the "
               "cross-validated one above).")
    cols = st.columns(5)
    for col, key in zip(cols, ("f1_micro", "f1_macro", "segment_f1_1s", "mAP", "hamming")):
        col.metric(METRIC_LABELS[key], fmt_score(best[key]), help=tip(METRIC_LABELS[key]))
    sel = runs[(runs["eval"] == eval_name) & (runs["stage"] == "postprocessed")]
    labels = widgets.labels_of(str(results))
    st.markdown("**All runs**, best first")
    widgets.table(sel.assign(run=sel["run_id"].map(labels))[
        ["run", "run_id", "f1_micro", "f1_macro", "segment_f1_1s", "mAP"]]
        .sort_values("f1_micro", ascending=False), key="home_runs",
        file_name=f"runs_{eval_name}.csv",
        column_config={"run": st.column_config.TextColumn(width="large"),
                       "run_id": st.column_config.TextColumn("run id", help=tip("run id"))})

if model_runs.empty:
    st.info(f"No saved models in `{models}`: the real-case page needs at least one. "
            "Train one with `instdet train --model convtf --data DIR`.")
else:
    broken = model_runs[model_runs["status"] != "done"]
    if not broken.empty:
        st.warning("Runs that are unfinished, failed or lack `model.pt` (left out of the "
                   "real-case page): " + ", ".join(broken["run_id"]))

st.markdown("#### Pages")
links = [("views/dataset.py", "Dataset: class frequency, label noise, co-occurrence"),
         ("views/models.py", "Models: MLP vs CRNN vs CNN-Transformer by training size, and the "
                             "seed's MLPs"),
         ("views/tracks.py", "Tracks: right and wrong frames of up to 4 runs, with the audio"),
         ("views/confusions.py", "Confusions: which instrument is heard in place of which, and "
                                 "where"),
         ("views/postprocess.py", "Post-processing: thresholds and median filter, live, with "
                                  "curves"),
         ("views/realcase.py", "Real case: the models on your own song"),
         ("views/glossary.py", "Glossary: every term explained")]
for page, label in links:
    st.page_link(page, label=label)
