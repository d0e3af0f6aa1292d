from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import figures, loaders, timeline, widgets
from dashboard.glossary import tip
from instdet.analysis import activity_rolls, instruments_present
from instdet.audio import decode_upload
from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError
from instdet.features import logmel
from instdet.report import run_label
from instdet.songcache import SongCache, as_stored, content_hash
from instdet.verdict import cautions, ensemble, frame_table, heard, model_weights

MAX_MB, MAX_MIN, SR = 50, 15, 22050
EXAMPLE = Path(__file__).resolve().parents[1] / "assets" / "example_sampled.mp3"
AAM_EXAMPLE = loaders.ROOT.parent / "shared" / "aam-tiny" / "audio-mixes-mp3" / "2462_mix.mp3"

st.title("Real case: the models on your song")
st.markdown(f"Choose the models, then upload a song (wav, mp3, flac or ogg; at most {MAX_MB} MB "
            f"and {MAX_MIN} minutes) or play an example. Results stay when you visit other "
            "pages, and the same file uploaded again is answered at once.")
models = loaders.models_dir()
runs = loaders.model_runs(str(models))
usable = runs[runs["status"] == "done"] if not runs.empty else runs
if usable.empty:
    st.warning(f"No finished model in `{models}`. Train one with "
               "`instdet train --model convtf --data DIR`.")
    st.stop()

labels = {r: run_label(r, model=m, train_size=n, data_kind=k or "") for r, m, n, k in
          zip(usable["run_id"], usable["model"], usable["train_size"], usable["data_kind"])}
scores = loaders.run_scores(str(loaders.results_dir()))
ids = list(usable["run_id"])
best_family = {}
for r in sorted(ids, key=lambda r: -scores.get(r, -1)):
    fam = usable.set_index("run_id").loc[r, "model"]
    if not r.startswith(("release-", "seed-mlp-")) and fam not in best_family:
        best_family[fam] = r
default = [r for r in ids if r.startswith("release-")] + list(best_family.values()) + \
    [r for r in ("seed-mlp-300",) if r in ids]
chosen = st.multiselect("Models", ids, default=[r for r in ids if r in default] or ids[:3],
                        key="rc_models", format_func=lambda r: labels.get(r, r),
                        help="By default: the release model(s), the best run of each model "
                             "family on real songs it never heard, and the original project's "
                             "300-song MLP.")
if not chosen:
    st.info("Choose at least one model.")
    st.stop()
per_min = sum(loaders.model_speed(str(models / r)) for r in chosen)
st.caption(f"Estimated time on this machine: about {per_min:.1f} s of model time per minute "
           f"of audio for these {len(chosen)} models, plus decoding.")

songs = st.session_state.setdefault("rc_songs", {})  # content hash -> song
c1, c2 = st.columns([3, 2])
upload = c1.file_uploader("Song", type=["wav", "mp3", "flac", "ogg"], key="rc_upload")
picked = None
if upload is not None:
    picked = (upload.name, upload.getvalue())
with c2:
    st.write("Or an example:")
    if EXAMPLE.is_file() and st.button("A 30-s song played with AAM's own notes",
                                       key="rc_example", icon=":material/music_note:"):
        picked = (EXAMPLE.name, EXAMPLE.read_bytes())
    if AAM_EXAMPLE.is_file() and st.button(
            "Real AAM song 2462", key="rc_example_aam", icon=":material/library_music:",
            help="From ../shared/aam-tiny. A test song of the sweep runs (they never trained "
                 "on it); the release runs trained on every real song, this one included."):
        picked = (AAM_EXAMPLE.name, AAM_EXAMPLE.read_bytes())

if picked is not None:
    name, data = picked
    key = content_hash(data)
    if key not in songs:
        try:
            y = decode_upload(name, data, sr=SR, max_bytes=MAX_MB * 2**20,
                              max_duration=MAX_MIN * 60)
        except InstdetError as exc:
            st.error(str(exc))
            st.stop()
        playable = Path(name).suffix.lower() in (".mp3", ".ogg", ".flac", ".wav") \
            and len(data) <= 12 * 2**20
        songs[key] = {"name": name, "y": y, "duration": len(y) / SR, "preds": {},
                      "audio": data if playable else None,
                      "mime": {".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".flac": "audio/flac",
                               ".wav": "audio/wav"}.get(Path(name).suffix.lower(), "audio/mpeg")}
        while len(songs) > 3:  # keep the last three songs of the session
            songs.pop(next(iter(songs)))
    st.session_state["rc_current"] = key

current = st.session_state.get("rc_current")
if current not in songs:
    st.stop()
song = songs[current]
cache = SongCache()
missing = [r for r in chosen if r not in song["preds"]]
if missing:
    bar = st.progress(0.0, text="Loading models")
    feats = {}
    for i, run in enumerate(missing):
        bar.progress(i / len(missing), text=f"Running {labels.get(run, run)} "
                                            f"({i + 1} of {len(missing)})")
        try:
            pred = loaders.predictor(str(models / run))
        except InstdetError as exc:
            st.warning(f"{run} skipped: {exc}")
            continue
        got = cache.get(current, models / run, pred)
        if got is None:
            cfg = pred.feature_config
            if cfg not in feats:
                feats[cfg] = logmel(song["y"], config=cfg)
            got = pred.predict_features(feats[cfg])
            cache.put(current, models / run, got)
            got = as_stored(got, pred)
        song["preds"][run] = got
    bar.empty()
preds = {r: song["preds"][r] for r in chosen if r in song["preds"]}
if not preds:
    st.error("No model could be loaded.")
    st.stop()

st.success(f"{song['name']}: {song['duration']:.1f} s, heard by {len(preds)} models.")
weights = model_weights({r: scores.get(r) for r in preds})
probs = {r: p.probabilities for r, p in preds.items()}
actives = {r: p.active for r, p in preds.items()}
rate = next(iter(preds.values())).frame_rate
for text in cautions(song["duration"], probs, weights):
    st.warning(text, icon=":material/warning:")

st.subheader("Instruments heard", help=tip("agreement"))
verdict = heard(probs, actives, weights, frame_rate=rate)
if verdict.empty:
    st.info("The models together hear no instrument in this song.")
else:
    widgets.table(verdict, key="rc_verdict", file_name=f"{Path(song['name']).stem}_heard.csv",
                  column_config={
                      "share": st.column_config.ProgressColumn(
                          "share of the song", format="percent", min_value=0.0, max_value=1.0),
                      "confidence": st.column_config.ProgressColumn(
                          "how sure", format="percent", min_value=0.0, max_value=1.0,
                          help="Weighted mean probability of the models where the instrument "
                               "is heard."),
                      "agreement": st.column_config.ProgressColumn(
                          "agreement", format="percent", min_value=0.0, max_value=1.0,
                          help=tip("agreement")),
                      "when": st.column_config.TextColumn("when (m:ss)", width="large")})
st.caption("Weights of the models: " + ", ".join(
    f"{labels.get(r, r)} {100 * w:.0f}%" for r, w in sorted(weights.items(), key=lambda x: -x[1])))

st.subheader("When, model by model")
_, agree = ensemble(probs, actives, weights)
short = {r: f"M{i + 1}" for i, r in enumerate(preds)}
rows_all = {"all (weighted)": agree >= 0.5, **{short[r]: a for r, a in actives.items()}}
cb = st.toggle("Colour-blind-safe colours", key="rc_cb")
colours = dict(zip(rows_all, ["#333333", *figures.palette(cb)[: len(preds)]]))
rows = instruments_present(*rows_all.values())
st.markdown("  ·  ".join(f"**{short[r]}** {labels.get(r, r)}" for r in preds))
timeline.render(bands=activity_rolls(rows_all, colours, rows, frame_rate=rate),
                duration=song["duration"], legend=colours, audio=song["audio"],
                mime=song["mime"], key=f"realcase_{Path(song['name']).stem}",
                title=song["name"])

with st.expander("Share of time each instrument is active, per model"):
    share = pd.DataFrame({labels.get(r, r): a.mean(axis=0) for r, a in actives.items()},
                         index=list(INSTRUMENTS))
    share = share[(share > 0.02).any(axis=1)].reset_index(names="instrument")
    widgets.table(share, key="rc_share", file_name="share_per_model.csv", column_config={
        c: st.column_config.ProgressColumn(c, format="percent", min_value=0.0, max_value=1.0)
        for c in share.columns[1:]})

times = next(iter(preds.values())).times
st.download_button("Download every model's frame predictions (CSV)",
                   lambda: frame_table(times, actives).to_csv(index=False).encode(),
                   file_name=f"{Path(song['name']).stem}_instdet.csv", mime="text/csv",
                   key="rc_csv", icon=":material/download:")
