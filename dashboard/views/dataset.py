import streamlit as st

from dashboard import figures
from dashboard import loaders

st.title("Dataset")
results = loaders.results_dir()
files = sorted(results.glob("dataset_stats_*.csv"))
if not files:
    st.warning(f"No dataset statistics in `{results}`. Make them with "
               "`instdet data stats DIR --out results/dataset_stats_NAME.csv "
               "--cooccurrence results/cooccurrence_NAME.csv`.")
    st.stop()

names = [f.stem.removeprefix("dataset_stats_") for f in files]
corpus = st.selectbox("Corpus", names, key="dataset_corpus")
stats = loaders.table(str(results / f"dataset_stats_{corpus}.csv"))
if stats is None or stats.empty:
    st.error(f"`dataset_stats_{corpus}.csv` is empty or unreadable; write it again with "
             "`instdet data stats`.")
    st.stop()

present = stats[stats["tracks"] > 0]
st.caption(f"{len(present)} of 31 instruments occur; {int(stats['frames_total'].iloc[0])} frames "
           "in all.")
c1, c2 = st.columns(2)
c1.plotly_chart(figures.bars_by_instrument(dict(zip(stats["instrument"], stats["tracks"])),
                                           title="Tracks each instrument occurs in", axis="tracks"),
                width="stretch", key="ds_tracks")
source = c2.radio("Active frames by label source", ["midi", "onsets", "segments"],
                  horizontal=True, key="dataset_source")
c2.plotly_chart(figures.bars_by_instrument(
    dict(zip(stats["instrument"], stats[f"active_frames_{source}"])),
    title=f"Active frames ({source} labels)", axis="frames"), width="stretch",
    key="ds_frames")

st.subheader("Label source: sections vs notes")
st.markdown(
    "`segments` marks an instrument active for its whole song section (the seed's labels); "
    "`midi` and `onsets` mark only where notes sound. **Noise rate** is the share of "
    "`segments`-active frames where the instrument is in fact silent."
)
noise = present[["instrument", "tracks", "active_frames_midi", "active_frames_segments",
                 "segments_active_but_silent", "segments_noise_rate"]]
st.dataframe(noise.sort_values("segments_noise_rate", ascending=False), hide_index=True,
             width="stretch")
total = present["segments_active_but_silent"].sum() / max(present["active_frames_segments"].sum(), 1)
st.metric("Overall segments label noise", f"{100 * total:.1f}% of active frames")

co = loaders.table(str(results / f"cooccurrence_{corpus}.csv"))
st.subheader("Co-occurrence")
if co is None or co.empty:
    st.info("No co-occurrence table for this corpus; add `--cooccurrence` to `instdet data stats`.")
else:
    co = co.set_index("instrument")
    keep = [n for n in co.index if co.loc[n, n] > 0]
    st.plotly_chart(figures.matrix_heatmap(co.loc[keep, keep].to_numpy(), keep,
                                           title="Frames where both play", colorbar="frames"),
                    width="stretch", key="ds_co")
