import pandas as pd
import streamlit as st

from dashboard import loaders
from dashboard import pickers
from instdet.postprocess import MEDIAN_SIZES, PostProcess
from instdet.evaluation import rescore
from instdet.report import METRIC_LABELS

st.title("Post-processing, live")
st.markdown("Move the threshold and the median filter: the metrics are recomputed from the "
            "run's stored probabilities (no model runs).")
results = loaders.results_dir()
sets = loaders.eval_sets(str(results))
if not sets:
    st.warning(f"No stored probabilities in `{results}`. Make them with {loaders.MAKE_RESULTS}.")
    st.stop()
run, eval_name = pickers.run_and_eval(sets, key="pp")
frames = loaders.all_frames(str(results), run, eval_name)
m = loaders.metrics(str(results), run, eval_name)
if not frames or m is None:
    st.error(f"{run} / {eval_name}: results are incomplete; evaluate the run again.")
    st.stop()
tracks = list(frames.values())
c1, c2 = st.columns(2)
threshold = c1.slider("Threshold (all instruments)", 0.05, 0.95, 0.5, 0.05, key="pp_threshold")
median = c2.select_slider("Median filter (frames)", options=list(MEDIAN_SIZES), value=1,
                          key="pp_median")
live = rescore(tracks, postprocess=PostProcess((threshold,) * 31, median)).summary
stored = PostProcess.from_dict(m.get("postprocess"))
rows = {
    "raw (0.5, no filter)": m["raw"],
    "stored (chosen on validation)": m["postprocessed"],
    f"your choice ({threshold:.2f}, {median})": live,
}
df = pd.DataFrame(rows).T[list(METRIC_LABELS)].rename(columns=METRIC_LABELS)
st.dataframe(df.style.format("{:.3f}"), width="stretch")
cols = st.columns(4)
for col, key in zip(cols, ("f1_micro", "f1_macro", "segment_f1_1s", "hamming")):
    col.metric(METRIC_LABELS[key], f"{live[key]:.3f}",
               delta=f"{live[key] - m['raw'][key]:+.3f} vs raw",
               delta_color="inverse" if key == "hamming" else "normal")
st.caption(f"Stored post-processing of this run: median filter {stored.median} frames, "
           f"{'per-instrument thresholds' if stored.thresholds else 'threshold 0.5'}.")
