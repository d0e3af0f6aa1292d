import numpy as np
import pandas as pd
import streamlit as st

from dashboard import figures, loaders, widgets
from dashboard.glossary import tip
from instdet.analysis import threshold_curves
from instdet.data.aam import INSTRUMENT_INDEX, INSTRUMENTS
from instdet.evaluation import rescore
from instdet.postprocess import MEDIAN_SIZES, PostProcess
from instdet.report import METRIC_LABELS, LOWER_IS_BETTER, fmt_score

st.title("Post-processing, live")
st.markdown("Move the threshold and the median filter: the metrics are recomputed from the "
            "run's stored probabilities, song by song (no model runs). At the run's own "
            "settings the result is exactly its stored row.")
results = loaders.results_dir()
sets = loaders.eval_sets(str(results))
if not sets:
    st.warning(f"No stored probabilities in `{results}`. Make them with {loaders.MAKE_RESULTS}.")
    st.stop()
run, eval_name = widgets.run_and_eval(sets, key="pp")
frames = loaders.all_frames(str(results), run, eval_name)
m = loaders.metrics(str(results), run, eval_name)
if not frames or m is None:
    st.error(f"{run} / {eval_name}: results are incomplete; evaluate the run again.")
    st.stop()
tracks = list(frames.values())
stored = PostProcess.from_dict(m.get("postprocess"))
use_stored = st.toggle("Use the run's stored settings (its per-instrument thresholds and "
                       "filter)", key="pp_stored",
                       help="Rescores the stored probabilities with the run's own "
                            "post-processing: the row equals the stored one exactly.")
c1, c2 = st.columns(2)
threshold = c1.slider("Threshold (all instruments)", 0.05, 0.95, 0.5, 0.05, key="pp_threshold",
                      help="A frame counts as active where the probability reaches this.",
                      disabled=use_stored)
median = c2.select_slider("Median filter (frames)", options=list(MEDIAN_SIZES), value=1,
                          key="pp_median", disabled=use_stored,
                          help="Smooths each instrument's on/off decisions over this many "
                               "frames (21 frames = 0.5 s); 1 = off. Runs within each song.")
chosen_pp = stored if use_stored else PostProcess((threshold,) * 31, median)
live = rescore(tracks, postprocess=chosen_pp).summary
yours = "stored settings, rescored" if use_stored else f"your choice ({threshold:.2f}, {median})"
rows = {
    "raw (0.5, no filter)": m["raw"],
    "stored (chosen on validation)": m["postprocessed"],
    yours: live,
}
df = pd.DataFrame(rows).T[list(METRIC_LABELS)].reset_index(names="setting")
widgets.table(df, key="pp_table", file_name=f"postprocess_{run}_{eval_name}.csv",
              column_config={"setting": st.column_config.TextColumn(width="medium")})
cols = st.columns(4)
for col, key in zip(cols, ("f1_micro", "f1_macro", "segment_f1_1s", "hamming")):
    delta = round(live[key] - m["raw"][key], 3)
    col.metric(METRIC_LABELS[key], fmt_score(live[key]),
               delta="no change vs raw" if delta == 0 else f"{delta:+.3f} vs raw",
               delta_color="off" if delta == 0 else ("inverse" if key in LOWER_IS_BETTER
                                                     else "normal"),
               delta_arrow="off" if delta == 0 else "auto", help=tip(METRIC_LABELS[key]))
st.caption(f"Stored post-processing of this run: median filter {stored.median} frames, "
           f"{'per-instrument thresholds' if stored.thresholds else 'threshold 0.5'}.")

st.subheader("One instrument's thresholds")
labels = np.concatenate([t["labels"] for t in tracks])
probs = np.concatenate([t["probs"] for t in tracks])
present = [INSTRUMENTS[k] for k in np.flatnonzero(labels.any(axis=0))]
if not present:
    st.info("No instrument plays in these songs.")
    st.stop()
c1, c2 = st.columns([2, 3])
inst = c1.selectbox("Instrument", present, key="pp_inst")
cb = c2.toggle("Colour-blind-safe colours", key="pp_cb")
curve = threshold_curves(labels, probs, inst)
own = stored.thresholds[INSTRUMENT_INDEX[inst]] if stored.thresholds else 0.5
rules = pd.DataFrame({"x": [own, threshold], "what": ["stored", "yours"]})
if own == threshold or use_stored:
    rules = rules.iloc[:1].assign(what="stored = yours")
c1, c2 = st.columns(2)
with c1:
    long = curve.melt("threshold", ["precision", "recall", "f1"], var_name="curve")
    figures.show(figures.curves(long, x="threshold", series="curve", rules=rules, cb=cb,
                                title=f"{inst}: precision, recall and F1 by threshold",
                                x_title="threshold", y_title="value"),
                 key="pp_f1", name=f"thresholds_{inst}_{run}")
with c2:
    pr = curve.rename(columns={"precision": "value"}).assign(curve="precision")
    chosen = curve.iloc[(curve["threshold"] - own).abs().argsort()[:1]]
    figures.show(figures.curves(pr, x="recall", series="curve", cb=cb,
                                rules=pd.DataFrame({"x": chosen["recall"].tolist(),
                                                    "what": [f"stored threshold {own:.2f}"]}),
                                title=f"{inst}: precision against recall", x_title="recall",
                                y_title="precision"),
                 key="pp_pr", name=f"precision_recall_{inst}_{run}")
st.caption("Curves without the median filter, over the frames of every song of this "
           "evaluation. The dashed lines mark the run's stored threshold for this instrument "
           "and the slider's.")
