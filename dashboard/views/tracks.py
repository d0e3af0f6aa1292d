from pathlib import Path

import numpy as np
import streamlit as st

from dashboard import figures
from dashboard import loaders
from dashboard import pickers
from instdet.postprocess import PostProcess
from instdet.report import downsample_codes, instruments_present, outcome_codes

st.title("Tracks: where each model is right and wrong")
results = loaders.results_dir()
sets = loaders.eval_sets(str(results))
if not sets:
    st.warning(f"No per-track results in `{results}`. Make them with {loaders.MAKE_RESULTS}.")
    st.stop()

run, eval_name = pickers.run_and_eval(sets, key="tracks")
m = loaders.metrics(str(results), run, eval_name)
frames = loaders.all_frames(str(results), run, eval_name)
tt = loaders.eval_table(str(results), run, eval_name, "per_track")
if m is None or not frames or tt is None:
    st.error(f"{run} / {eval_name}: results are incomplete (no metrics.json or frame files). "
             f"Evaluate the run again with `instdet evaluate saved_models/{run} ...`.")
    st.stop()
post = PostProcess.from_dict(m.get("postprocess"))
active = {tid: post.apply(f["probs"]) for tid, f in frames.items()}

st.subheader("Tracks, worst first")
tt = tt.sort_values("f1_micro", ignore_index=True)
st.dataframe(tt, hide_index=True, width="stretch")
track = st.selectbox("Track", list(tt["track_id"]), key="tracks_track")
f = frames[track]
act = active[track]
codes = outcome_codes(f["labels"], act)
rows = instruments_present(f["labels"], act)
row = tt.set_index("track_id").loc[track]
c = st.columns(4)
c[0].metric("F1 micro", f"{row['f1_micro']:.3f}")
c[1].metric("F1 macro", f"{row['f1_macro']:.3f}")
c[2].metric("False alarms", int(row["false_alarms"]))
c[3].metric("Misses", int(row["missed"]))

pooled, step = downsample_codes(codes)
st.plotly_chart(figures.outcome_timeline(pooled, rows, seconds_per_bin=step / f["frame_rate"],
                                         title=f"{track}: green correct, orange false alarm, red missed"),
                width="stretch", key="tracks_timeline")
st.caption(f"Each column is {step} frame(s) ({1000 * step / f['frame_rate']:.0f} ms) and shows "
           "its worst outcome; post-processing as stored with the run "
           f"(median filter {post.median} frames).")
with st.expander("Probabilities (white dots: where the instrument really plays)"):
    st.plotly_chart(figures.probability_map(f["probs"], f["labels"], rows,
                                            frame_rate=f["frame_rate"], step=max(1, step // 2)),
                    width="stretch", key="tracks_probs")

audio = Path(f["audio_path"]) if f["audio_path"] else None
duration = len(codes) / f["frame_rate"]
if audio is not None and audio.is_file():
    start = st.slider("Play from (s)", 0.0, float(np.floor(duration)), 0.0, 1.0, key="tracks_start")
    st.audio(str(audio), start_time=int(start))
else:
    st.info("The track's audio is not on this machine (results keep only its path), so it "
            "cannot be played here.")
