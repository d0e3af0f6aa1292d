import plotly.express as px
import streamlit as st

from dashboard import loaders
from instdet.report import METRIC_LABELS, per_instrument_runs, sweep_table

st.title("Models by training size")
results, models = loaders.results_dir(), loaders.models_dir()
runs = loaders.runs_table(str(results))
if runs.empty:
    st.warning(f"No evaluated runs in `{results}`. Make them with {loaders.MAKE_RESULTS}.")
    st.stop()

c1, c2, c3 = st.columns(3)
evals = sorted(runs["eval"].unique())
eval_name = c1.selectbox("Evaluation set", evals,
                         index=evals.index("real-test") if "real-test" in evals else 0,
                         key="models_eval")
stage = c2.radio("Stage", ["postprocessed", "raw"], horizontal=True, key="models_stage",
                 help="raw: threshold 0.5, no filter; postprocessed: thresholds and median "
                      "filter chosen on the validation tracks")
metric = c3.selectbox("Metric", list(METRIC_LABELS), format_func=METRIC_LABELS.get,
                      key="models_metric")

table = sweep_table(runs, eval_name=eval_name, stage=stage, metric=metric)
st.subheader(f"{METRIC_LABELS[metric]}: model × training tracks")
st.dataframe(table.style.format("{:.3f}").highlight_max(axis=0, color="#c7e9c0")
             if metric not in ("hamming", "segment_er_1s") else table.style.format("{:.3f}"),
             width="stretch")

sel = runs[(runs["eval"] == eval_name) & (runs["stage"] == stage)].sort_values("train_size")
fig = px.line(sel, x="train_size", y=metric, color="model", markers=True,
              labels={"train_size": "training tracks", metric: METRIC_LABELS[metric]})
fig.update_layout(font=dict(size=16), height=420)
st.plotly_chart(fig, width="stretch", key="models_curve")
st.download_button("Download all metrics (CSV)", sel.to_csv(index=False).encode(),
                   file_name=f"metrics_{eval_name}_{stage}.csv", mime="text/csv",
                   key="models_csv")

st.subheader("Per-instrument F1 across runs")
per = {}
for run in sel["run_id"]:
    df = loaders.eval_table(str(results), run, eval_name, "per_instrument")
    if df is not None:
        per[run] = df
if per:
    grid = per_instrument_runs(per)
    fig = px.imshow(grid, color_continuous_scale="RdYlGn", zmin=0, zmax=1, aspect="auto",
                    labels=dict(color="F1", x="run", y="instrument"))
    fig.update_layout(font=dict(size=14), height=160 + 26 * len(grid))
    st.plotly_chart(fig, width="stretch", key="models_perinst")
    st.caption("Per-instrument F1 uses the post-processed predictions, on instruments present "
               "in the evaluated tracks.")

st.subheader("Training curves")
model_runs = loaders.model_runs(str(models))
if model_runs.empty:
    st.info(f"No run folders in `{models}`.")
else:
    chosen = st.multiselect("Runs", list(model_runs["run_id"]),
                            default=list(model_runs["run_id"])[:3], key="models_hist_runs")
    curves = []
    for run in chosen:
        h = loaders.history(str(models), run)
        if h is None:
            st.warning(f"{run}: no readable history.csv")
            continue
        curves.append(h.assign(run=run))
    if curves:
        import pandas as pd

        h = pd.concat(curves)
        col = st.radio("Curve", ["val_score", "val_f1_micro", "val_f1_macro", "loss", "val_loss"],
                       horizontal=True, key="models_curve_kind")
        fig = px.line(h, x="epoch", y=col, color="run", markers=True)
        fig.update_layout(font=dict(size=16), height=400)
        st.plotly_chart(fig, width="stretch", key="models_hist")
