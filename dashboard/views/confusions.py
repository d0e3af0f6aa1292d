import numpy as np
import pandas as pd
import streamlit as st

from dashboard import figures, loaders, widgets
from dashboard.glossary import tip
from instdet.analysis import confusion_locations
from instdet.confusion import normalise
from instdet.postprocess import PostProcess

st.title("Confusion pairs")
st.markdown(
    "In each frame, every instrument that was **missed** is paired with every instrument "
    "**falsely reported**; counts add up over the evaluated songs. *Erhu → Cello 1,650* "
    "means 1,650 frames where Erhu played unrecognised while Cello was reported instead. "
    "**Click a cell** to see where that confusion happens and open the song there."
)
results = loaders.results_dir()
sets = loaders.eval_sets(str(results))
if not sets:
    st.warning(f"No confusion tables in `{results}`. Make them with {loaders.MAKE_RESULTS}.")
    st.stop()

names = sorted({e for v in sets.values() for e in v})
c1, c2, c3 = st.columns([3, 4, 2])
eval_name = widgets.eval_picker(names, key="conf_eval", where=c1)
candidates = sorted(r for r, e in sets.items() if eval_name in e)
labels = widgets.labels_of(str(results))
best = candidates[loaders.default_index(str(results), candidates)]
chosen = c2.multiselect("Runs (one, or two to compare)", candidates, default=[best],
                        max_selections=2, key="conf_runs", format_func=lambda r: labels.get(r, r),
                        help=tip("run id"))
normalised = c3.toggle("Share of the true instrument's frames", key="conf_norm",
                       help="Divide each row by the frames the true instrument plays: the "
                            "share of its frames lost to that confusion.")
if not chosen:
    st.info("Choose a run.")
    st.stop()

mats, pairs = {}, {}
for run in chosen:
    m = loaders.eval_table(str(results), run, eval_name, "matrix")
    per = loaders.eval_table(str(results), run, eval_name, "per_instrument")
    p = loaders.eval_table(str(results), run, eval_name, "pairs")
    if m is None or per is None or p is None:
        st.error(f"{run} / {eval_name}: confusion files missing or unreadable; evaluate the run "
                 "again.")
        st.stop()
    mat = m.set_index("true")
    z = mat.to_numpy().astype(float)
    if normalised:
        z = normalise(z, per.set_index("instrument").loc[list(mat.columns), "support"].to_numpy())
    mats[run] = pd.DataFrame(z, index=mat.index, columns=mat.columns)
    pairs[run] = p

# One instrument set and one colour scale for every compared run.
used = sorted({n for z in mats.values() for n in z.index[(z.fillna(0).sum(axis=1) > 0)
                                                          | (z.fillna(0).sum(axis=0) > 0)]})
if not used:
    st.info("No confusion pairs: no frame had both a miss and a false alarm.")
    st.stop()
top = max(float(np.nanmax(z.loc[used, used].to_numpy())) for z in mats.values()) or 1.0
cols = st.columns(len(chosen))
selected = None
for col, run in zip(cols, chosen):
    long = mats[run].loc[used, used].rename_axis(index="true", columns="predicted") \
        .stack(future_stack=True).rename("value").reset_index()
    long = long[long["value"] > 0]
    with col:
        state = figures.show(figures.heatmap(
            long, x="predicted", y="true", value="value", scheme="orangered",
            fmt=".2f" if normalised else ",.0f", domain=(0, top), x_order=used, y_order=used,
            title=labels.get(run, run), legend="share" if normalised else "frames",
            selectable=True, cell=24), key=f"conf_heat_{run}", name=f"confusions_{run}",
            on_select="rerun")
        pts = (state or {}).get("selection", {}).get("cell", []) if state else []
        if pts:
            selected = (run, pts[0]["true"], pts[0]["predicted"])

st.subheader("Where a confusion happens", help=tip("confusion pair"))
run0 = chosen[0]
top_pairs = pairs[run0].head(50)
options = [f"{t} → {p}" for t, p in zip(top_pairs["true"], top_pairs["predicted"])]
if selected:
    want = f"{selected[1]} → {selected[2]}"
    options = [want] + [o for o in options if o != want]
    run0 = selected[0]
if not options:
    st.info("No pairs.")
    st.stop()
pair = st.selectbox("Pair (true → predicted in its place)", options, key="conf_pair")
true, predicted = pair.split(" → ")
frames = loaders.all_frames(str(results), run0, eval_name)
m = loaders.metrics(str(results), run0, eval_name)
if frames and m is not None:
    post = PostProcess.from_dict(m.get("postprocess"))
    where = confusion_locations(frames, {t: post.apply(f["probs"]) for t, f in frames.items()},
                                true=true, predicted=predicted)
    st.caption(f"{labels.get(run0, run0)}: songs where {true} was missed while {predicted} was "
               "reported, most frames first. Each link opens the Tracks page at that song and "
               "time, with both instruments on top.")
    for _, row in where.head(8).iterrows():
        st.page_link("views/tracks.py", label=f"Song {row['track_id']}: {int(row['frames']):,} "
                     f"frames ({row['stretches']})", icon=":material/open_in_new:",
                     query_params={"eval": eval_name, "run": run0, "track": row["track_id"],
                                   "t": str(row["first_s"]), "inst": f"{true},{predicted}"})
    if where.empty:
        st.info("This pair does not occur in the stored frames.")

st.subheader("All pairs")
for run in chosen:
    widgets.table(pairs[run].head(300), key=f"conf_pairs_{run}",
                  file_name=f"confusion_pairs_{run}_{eval_name}.csv", height=300,
                  column_config={"count": st.column_config.NumberColumn("frames", format="localized"),
                                 "true_frames": st.column_config.NumberColumn(
                                     "true instrument's frames", format="localized"),
                                 "rate": st.column_config.NumberColumn(
                                     "share of its frames", format="%.3f")})
