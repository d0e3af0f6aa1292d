import streamlit as st

from dashboard import figures
from dashboard import loaders
from instdet.confusion import normalise

st.title("Confusion pairs")
st.markdown(
    "In each frame, every instrument that was **missed** is paired with every instrument "
    "**falsely reported**; counts are summed over the evaluated tracks. *Erhu → Cello 1650* "
    "means 1650 frames where Erhu played unrecognised while Cello was reported instead. "
    "**rate** divides by the true instrument's active frames."
)
results = loaders.results_dir()
sets = loaders.eval_sets(str(results))
if not sets:
    st.warning(f"No confusion tables in `{results}`. Make them with {loaders.MAKE_RESULTS}.")
    st.stop()


def show(run: str, eval_name: str, key: str, instrument: str, normalised: bool) -> None:
    pairs = loaders.eval_table(str(results), run, eval_name, "pairs")
    matrix = loaders.eval_table(str(results), run, eval_name, "matrix")
    per = loaders.eval_table(str(results), run, eval_name, "per_instrument")
    if pairs is None or matrix is None or per is None:
        st.error(f"{run} / {eval_name}: confusion files missing or unreadable; evaluate the run again.")
        return
    if instrument != "all":
        pairs = pairs[(pairs["true"] == instrument) | (pairs["predicted"] == instrument)]
    st.dataframe(pairs.head(200), hide_index=True, width="stretch", height=320)
    st.download_button("Download pairs (CSV)", pairs.to_csv(index=False).encode(),
                       file_name=f"confusion_pairs_{run}_{eval_name}.csv", key=f"{key}_csv")
    mat = matrix.set_index("true")
    names = list(mat.columns)
    z = mat.to_numpy().astype(float)
    if normalised:
        z = normalise(z, per.set_index("instrument").loc[names, "support"].to_numpy())
    keep = [i for i, n in enumerate(names) if (mat.iloc[i].sum() + mat.iloc[:, i].sum()) > 0]
    if not keep:
        st.info("No confusion pairs: no frame had both a miss and a false alarm.")
        return
    sub = z[keep][:, keep]
    st.plotly_chart(figures.matrix_heatmap(
        sub, [names[i] for i in keep], title=f"{run} on {eval_name}",
        colorbar="share" if normalised else "frames", fmt=".2f" if normalised else ".0f",
        x_title="predicted in its place (false alarm)", y_title="true (missed)",
        hover="true %{y} → predicted %{x}"), width="stretch", key=f"{key}_heat")


c1, c2, c3 = st.columns([2, 2, 1])
all_names = sorted({n for v in sets.values() for n in v})
eval_name = c1.selectbox("Evaluation set", all_names,
                         index=all_names.index("real-test") if "real-test" in all_names else 0,
                         key="conf_eval")
runs = sorted(r for r, e in sets.items() if eval_name in e)
from instdet.data.aam import INSTRUMENTS

instrument = c2.selectbox("Instrument", ["all", *INSTRUMENTS], key="conf_inst")
normalised = c3.toggle("Normalise", value=False, key="conf_norm")
side = st.toggle("Two runs side by side", value=True, key="conf_side")
if side and len(runs) > 1:
    cols = st.columns(2)
    for i, col in enumerate(cols):
        with col:
            run = st.selectbox(f"Run {i + 1}", runs, index=min(i, len(runs) - 1), key=f"conf_run{i}")
            show(run, eval_name, f"conf{i}", instrument, normalised)
else:
    run = st.selectbox("Run", runs, key="conf_run0")
    show(run, eval_name, "conf0", instrument, normalised)
