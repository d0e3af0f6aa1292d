import streamlit as st

from dashboard import figures, loaders, widgets
from instdet.analysis import conditional_cooccurrence

st.title("Dataset")
results = loaders.results_dir()
corpora = loaders.corpora(str(results))
if not corpora:
    st.warning(f"No dataset statistics in `{results}`. Make them with "
               "`instdet data stats DIR --out results/dataset_stats_NAME.csv "
               "--cooccurrence results/cooccurrence_NAME.csv`.")
    st.stop()

corpus = st.selectbox("Corpus", corpora, key="dataset_corpus",
                      help="aam-tiny: the 12 real AAM songs; the others are generated corpora.")
stats, co = loaders.dataset_tables(str(results), corpus)
if stats is None or stats.empty:
    st.error(f"`dataset_stats_{corpus}.csv` is empty or unreadable; write it again with "
             "`instdet data stats`.")
    st.stop()

present = stats[stats["tracks"] > 0]
st.caption(f"{len(present)} of 31 instruments occur; {int(stats['frames_total'].iloc[0]):,} "
           "frames (23 ms each) in all.")
c1, c2 = st.columns(2)
with c1:
    figures.show(figures.bars(present, name="instrument", value="tracks", x_title="songs",
                              title="Songs each instrument plays in"),
                 key="ds_tracks", name=f"songs_per_instrument_{corpus}")
with c2:
    source = st.radio("Active frames by label source", ["midi", "onsets", "segments"],
                      horizontal=True, key="dataset_source",
                      help="midi and onsets: where notes sound; segments: the whole song "
                           "section (the seed's labels).")
    figures.show(figures.bars(present, name="instrument", value=f"active_frames_{source}",
                              x_title="frames", title=f"Active frames ({source} labels)",
                              colour="#72b7b2"),
                 key="ds_frames", name=f"active_frames_{source}_{corpus}")

st.subheader("Label source: sections vs notes")
st.markdown(
    "`segments` marks an instrument active for its whole song section (the seed's labels); "
    "`midi` and `onsets` mark only where notes sound. **Noise rate** is the share of "
    "`segments`-active frames where the instrument is in fact silent."
)
noise = present[["instrument", "tracks", "active_frames_midi", "active_frames_segments",
                 "segments_active_but_silent", "segments_noise_rate"]]
widgets.table(noise.sort_values("segments_noise_rate", ascending=False), key="ds_noise",
              file_name=f"label_noise_{corpus}.csv", column_config={
                  "tracks": st.column_config.NumberColumn("songs"),
                  "active_frames_midi": st.column_config.NumberColumn("active (midi)", format="localized"),
                  "active_frames_segments": st.column_config.NumberColumn("active (segments)",
                                                                          format="localized"),
                  "segments_active_but_silent": st.column_config.NumberColumn(
                      "segments-active but silent", format="localized"),
                  "segments_noise_rate": st.column_config.ProgressColumn(
                      "noise rate", format="percent", min_value=0.0, max_value=1.0)})
total = present["segments_active_but_silent"].sum() / max(present["active_frames_segments"].sum(), 1)
st.metric("Overall segments label noise", f"{100 * total:.1f}% of active frames")

st.subheader("Co-occurrence")
if co is None or co.empty:
    st.info("No co-occurrence table for this corpus; add `--cooccurrence` to `instdet data stats`.")
else:
    cond = conditional_cooccurrence(co.set_index("instrument"))
    long = cond.rename_axis(index="when_this_plays", columns="this_also_plays").stack() \
        .rename("share").reset_index()
    figures.show(figures.heatmap(long, x="this_also_plays", y="when_this_plays", value="share",
                                 fmt=".0%", scheme="blues", domain=(0, 1),
                                 x_order=list(cond.columns), y_order=list(cond.index),
                                 title="Share of a row instrument's frames in which the column "
                                       "instrument plays too", legend="share", cell=30),
                 key="ds_co", name=f"cooccurrence_{corpus}")
    st.caption("Read a row: when Cello plays, how often each other instrument plays with it. "
               "The diagonal (always 100%) is left blank.")
