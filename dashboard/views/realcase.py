from pathlib import Path

import streamlit as st

from dashboard import figures
from dashboard import loaders
from instdet.audio import decode_upload
from instdet.errors import InstdetError
from instdet.inference import predict_many
from instdet.report import (activity_share, best_per_model, downsample_codes,
                            instruments_present, model_agreement, realcase_csv)

MAX_MB = 50
MAX_MIN = 15

st.title("Real case: every model on your song")
st.markdown(f"Upload a song (wav, mp3, flac or ogg; at most {MAX_MB} MB and {MAX_MIN} minutes). "
            "Every saved model listens to it; the page shows what each one hears and where "
            "they disagree.")
models = loaders.models_dir()
runs = loaders.model_runs(str(models))
usable = runs[runs["has_checkpoint"] & (runs["status"] == "done")] if not runs.empty else runs
if usable.empty:
    st.warning(f"No finished model in `{models}`. Train one with "
               "`instdet train --model crnn --data DIR`.")
    st.stop()

upload = st.file_uploader("Song", type=["wav", "mp3", "flac", "ogg"], key="rc_upload")
if upload is None:
    st.stop()

key = (upload.file_id, upload.size)
if st.session_state.get("rc_key") != key:
    st.session_state.pop("rc_result", None)
    try:
        y = decode_upload(upload.name, upload.getvalue(), sr=22050, max_bytes=MAX_MB * 2**20,
                          max_duration=MAX_MIN * 60)
    except InstdetError as exc:
        st.error(str(exc))
        st.stop()
    bar = st.progress(0.0, text="Loading models")
    predictors = {}
    for i, run in enumerate(usable["run_id"]):
        try:
            predictors[run] = loaders.predictor(str(models / run))
        except InstdetError as exc:
            st.warning(f"{run} skipped: {exc}")
        bar.progress((i + 1) / (2 * len(usable)), text=f"Loaded {run}")
    if not predictors:
        st.error("No model could be loaded.")
        st.stop()

    def progress(done, total, name):
        bar.progress(0.5 + done / (2 * total), text=f"{name} done ({done}/{total})")

    preds = predict_many(predictors, y, sr=22050, progress=progress)
    bar.empty()
    st.session_state["rc_key"] = key
    st.session_state["rc_result"] = (upload.name, len(y) / 22050, preds)

name, duration, preds = st.session_state["rc_result"]
actives = {run: p.active for run, p in preds.items()}
times = next(iter(preds.values())).times
frame_s = float(times[1] - times[0]) if len(times) > 1 else 512 / 22050
st.success(f"{name}: {duration:.1f} s analysed by {len(preds)} models.")

share = activity_share(actives)
shown = share[(share > 0.02).any(axis=1)]
st.subheader("Share of time each instrument is active")
st.dataframe(shown, width="stretch", column_config={
    c: st.column_config.ProgressColumn(c, format="percent", min_value=0.0, max_value=1.0)
    for c in shown.columns})

st.subheader("Where the models agree")
agree = model_agreement(actives)
rows = instruments_present(*actives.values())
if rows:
    pooled, step = downsample_codes((agree * 100).astype("int16"))
    st.plotly_chart(figures.agreement_map(pooled / 100, rows, seconds_per_bin=step * frame_s),
                    width="stretch", key="rc_agree")
    st.caption("Dark: all models hear the instrument; pale: only some do (disagreement).")
else:
    st.info("No model hears any instrument in this file (silence?).")

st.subheader("Per model")
table = loaders.runs_table(str(loaders.results_dir()))
preferred = [r for r in (best_per_model(table, eval_name="real-test") if not table.empty else [])
             if r in preds] or list(preds)[:3]
chosen = st.multiselect("Models", list(preds), default=preferred, key="rc_models",
                        help="By default the best run of each model on the real test tracks")
for run in chosen:
    a = actives[run]
    r = instruments_present(a)
    if not r:
        st.markdown(f"**{run}**: no instrument active.")
        continue
    pooled, step = downsample_codes(a.astype("int8"))
    st.plotly_chart(figures.activity_timeline(pooled, r, seconds_per_bin=step * frame_s, title=run),
                    width="stretch", key=f"rc_tl_{run}")

st.download_button("Download every model's frame predictions (CSV)",
                   realcase_csv(times, actives).to_csv(index=False).encode(),
                   file_name=f"{Path(name).stem}_instdet.csv", mime="text/csv", key="rc_csv")
