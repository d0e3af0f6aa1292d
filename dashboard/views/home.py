import streamlit as st

from dashboard import loaders
from instdet.report import METRIC_LABELS, best_run

st.title("instdet: which instruments play, frame by frame")
st.markdown(
    "Models trained on **AAM** (Artificial Audio Multitracks, 31 instruments) say, for every "
    "23-ms frame of a song, which instruments are active. These pages show how the models "
    "compare as training data grows, where each one errs on real tracks it never saw, and what "
    "they hear in a song you upload."
)

results, models = loaders.results_dir(), loaders.models_dir()
runs = loaders.runs_table(str(results))
model_runs = loaders.model_runs(str(models))

c1, c2, c3 = st.columns(3)
c1.metric("Saved models", int(model_runs["has_checkpoint"].sum()) if not model_runs.empty else 0)
c2.metric("Evaluated runs", runs["run_id"].nunique() if not runs.empty else 0)
c3.metric("Evaluation sets", runs["eval"].nunique() if not runs.empty else 0)

if runs.empty:
    st.warning(f"No results in `{results}` yet. Make them with {loaders.MAKE_RESULTS}.")
else:
    evals = sorted(runs["eval"].unique())
    default = evals.index("real-test") if "real-test" in evals else 0
    eval_name = st.selectbox("Evaluation set", evals, index=default, key="home_eval")
    best = best_run(runs, eval_name=eval_name)
    st.subheader(f"Best model on `{eval_name}`: {best['run_id']}")
    st.caption(f"{best['model']} trained on {best['train_size']} tracks; metrics after "
               f"post-processing, over {best['n_tracks']} tracks.")
    cols = st.columns(5)
    for col, key in zip(cols, ("f1_micro", "f1_macro", "segment_f1_1s", "mAP", "hamming")):
        col.metric(METRIC_LABELS[key], f"{best[key]:.3f}")
    sel = runs[(runs["eval"] == eval_name) & (runs["stage"] == "postprocessed")]
    st.markdown("**All runs** (sorted by F1 micro)")
    st.dataframe(
        sel[["run_id", "model", "train_size", "f1_micro", "f1_macro", "segment_f1_1s", "mAP"]]
        .sort_values("f1_micro", ascending=False), hide_index=True, width="stretch")

if model_runs.empty:
    st.info(f"No saved models in `{models}`: the real-case page needs at least one. "
            "Train one with `instdet train --model crnn --data DIR`.")
else:
    broken = model_runs[~model_runs["has_checkpoint"] | (model_runs["status"] != "done")]
    if not broken.empty:
        st.warning("Runs that are unfinished or lack `model.pt` (left out of the real-case "
                   "page): " + ", ".join(broken["run_id"]))

st.markdown("#### Pages")
links = [("views/dataset.py", "Dataset: class frequency, label noise, co-occurrence"),
         ("views/models.py", "Models: MLP vs CRNN vs CNN-Transformer by training size"),
         ("views/tracks.py", "Tracks: per-frame right/wrong timelines on test tracks"),
         ("views/confusions.py", "Confusions: which instrument is heard in place of which"),
         ("views/postprocess.py", "Post-processing: thresholds and median filter, live"),
         ("views/realcase.py", "Real case: run every model on your own song")]
for page, label in links:
    st.page_link(page, label=label)
