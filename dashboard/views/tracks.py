from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import figures, loaders, timeline, widgets
from dashboard.glossary import tip
from instdet.analysis import OUTCOMES, instruments_present, outcome_rolls
from instdet.data.aam import INSTRUMENT_INDEX, INSTRUMENTS
from instdet.postprocess import PostProcess

st.title("Tracks: where each model is right and wrong")
st.caption("Ground truth and up to 4 runs on one time axis. Click the rolls to move the "
           "playhead (and the audio, when the song is on this machine).")
results = loaders.results_dir()
sets = loaders.eval_sets(str(results))
if not sets:
    st.warning(f"No per-track results in `{results}`. Make them with {loaders.MAKE_RESULTS}.")
    st.stop()

params = st.query_params
names = sorted({e for v in sets.values() for e in v})
c1, c2 = st.columns([2, 3])
eval_name = widgets.eval_picker(names, key="tracks_eval", where=c1)
candidates = sorted(r for r, e in sets.items() if eval_name in e)
labels = widgets.labels_of(str(results))
asked = [r for r in params.get("runs", params.get("run", "")).split(",") if r in candidates]
best = candidates[loaders.default_index(str(results), candidates)]
chosen = c2.multiselect("Runs (up to 4)", candidates, default=asked or [best], max_selections=4,
                        key="tracks_runs", format_func=lambda r: labels.get(r, r),
                        help=tip("run id"))
if not chosen:
    st.info("Choose at least one run.")
    st.stop()

first = chosen[0]
table = loaders.eval_table(str(results), first, eval_name, "per_track")
frames = {r: loaders.all_frames(str(results), r, eval_name) for r in chosen}
metrics = {r: loaders.metrics(str(results), r, eval_name) for r in chosen}
bad = [r for r in chosen if not frames[r] or metrics[r] is None]
if table is None or bad:
    st.error(f"{', '.join(bad) or first} / {eval_name}: results are incomplete (metrics.json, "
             "per_track.csv or frame files). Evaluate the run again with "
             f"`instdet evaluate saved_models/RUN ...`.")
    st.stop()

table = table.sort_values("f1_micro", ignore_index=True)
tracks = list(table["track_id"])
want = params.get("track")
c1, c2 = st.columns([2, 3])
track = c1.selectbox("Track (worst first by the first run's F1 micro)", tracks,
                     index=tracks.index(want) if want in tracks else 0, key="tracks_track",
                     format_func=lambda t: f"{t} (F1 micro "
                     f"{table.set_index('track_id').loc[t, 'f1_micro']:.3f})")
palette = widgets.palette_picker(key="tracks_palette", where=c2)

shared = [r for r in chosen if track in frames[r]]
f = frames[first][track]
posts = {r: PostProcess.from_dict(metrics[r].get("postprocess")) for r in shared}
actives = {r: posts[r].apply(frames[r][track]["probs"]) for r in shared}
rows = instruments_present(f["labels"], *actives.values())
inst_param = [INSTRUMENT_INDEX[n] for n in params.get("inst", "").split(",") if n in INSTRUMENT_INDEX]
rows = [r for r in rows if r in inst_param] + [r for r in rows if r not in inst_param] \
    if inst_param else rows

per = []
for r in shared:
    pt = loaders.eval_table(str(results), r, eval_name, "per_track")
    if pt is not None and track in set(pt["track_id"]):
        row = pt.set_index("track_id").loc[track]
        per.append({"run": labels.get(r, r), "f1_micro": row["f1_micro"], "f1_macro": row["f1_macro"],
                    "false_alarms": int(row["false_alarms"]), "missed": int(row["missed"])})
widgets.table(pd.DataFrame(per), key="tracks_metrics", file_name=f"track_{track}_{eval_name}.csv",
              column_config={"run": st.column_config.TextColumn(width="large"),
                             "false_alarms": st.column_config.NumberColumn(
                                 "false alarms (frame x instrument)", help=tip("false alarm"),
                                 format="localized"),
                             "missed": st.column_config.NumberColumn(
                                 "misses (frame x instrument)", help=tip("missed"),
                                 format="localized")})
st.caption("F1 micro and macro of one song can differ a lot: macro averages over the song's "
           "few instruments, so getting one rare instrument right lifts it while the busy ones "
           "decide micro.")

duration = len(f["labels"]) / f["frame_rate"]
short = {r: f"R{i + 1}" for i, r in enumerate(shared)}
bands = outcome_rolls(f["labels"], {short[r]: a for r, a in actives.items()}, rows,
                      frame_rate=f["frame_rate"], palette=palette)
legend = {"truth (plays)": "#555555", **{OUTCOMES[k]: palette[k] for k in (1, 2, 3)}}
audio_path = Path(f["audio_path"]) if f["audio_path"] else None
audio = loaders.audio_bytes(str(audio_path)) if audio_path else None
try:
    start = float(params.get("t", 0.0))
except ValueError:
    start = 0.0
st.markdown("  ·  ".join(f"**{short[r]}** {labels.get(r, r)}" for r in shared))
timeline.render(bands=bands, duration=duration, legend=legend, audio=audio,
                mime="audio/mpeg" if audio_path and audio_path.suffix == ".mp3" else "audio/flac",
                start=min(max(start, 0.0), duration), key=f"track_{track}",
                title=f"Track {track} on {eval_name}")
if audio is None:
    st.caption("The song's audio is not on this machine (results keep only its path, relative "
               "to the clone: `../shared/aam-tiny`), so there is no player.")

with st.expander(f"Probabilities of {labels.get(first, first)} (dots: where the instrument "
                 "really plays)"):
    step = max(1, len(f["probs"]) // 400)
    names = [INSTRUMENTS[r] for r in rows]
    prob = pd.DataFrame(f["probs"][::step][:, rows], columns=names)
    prob["time_s"] = pd.RangeIndex(len(prob)) * step / f["frame_rate"]
    long = prob.melt("time_s", var_name="instrument", value_name="p")
    plays = pd.DataFrame(f["labels"][::step][:, rows], columns=names).assign(time_s=prob["time_s"])
    long["plays"] = plays.melt("time_s", var_name="instrument", value_name="plays")["plays"]
    long["t_end"] = long["time_s"] + step / f["frame_rate"]
    figures.show(figures.prob_map(long, order=names, step_s=step / f["frame_rate"],
                                  title="Probability per instrument"),
                 key="tracks_probs", name=f"probabilities_{track}")
