"""Altair figures shared by the pages (drawing only; the numbers come from instdet), and
their export: every figure has SVG and PNG buttons, rendered on click by vl-convert
(offline, no browser needed)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

FONT = 14
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
TABLEAU = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b",
           "#9d755d"]


def palette(cb: bool) -> list[str]:
    return OKABE_ITO if cb else TABLEAU


def _style(chart: alt.Chart, *, title: str | None = None) -> alt.Chart:
    if title:
        chart = chart.properties(title=title)
    return chart.configure_axis(labelFontSize=FONT - 1, titleFontSize=FONT, labelLimit=260) \
        .configure_legend(labelFontSize=FONT - 1, titleFontSize=FONT, labelLimit=400) \
        .configure_title(fontSize=FONT + 2, anchor="start")


def show(chart: alt.Chart, *, key: str, name: str, on_select=None, height: int | None = None):
    """Draw a chart with SVG and PNG download buttons under it; returns the selection state
    when ``on_select`` is given."""
    kw = {"on_select": on_select} if on_select else {}
    with alt.data_transformers.disable_max_rows():  # our largest figure has ~7,000 cells
        state = st.altair_chart(chart, width="stretch", key=key, **kw)
        spec = chart.to_dict()
    c1, c2, _ = st.columns([1, 1, 6])
    c1.download_button("SVG", lambda: _convert(spec, "svg"), file_name=f"{name}.svg",
                       mime="image/svg+xml", key=f"{key}_svg", icon=":material/image:",
                       help="Save this figure as SVG (vector, for slides)")
    c2.download_button("PNG", lambda: _convert(spec, "png"), file_name=f"{name}.png",
                       mime="image/png", key=f"{key}_png", icon=":material/image:",
                       help="Save this figure as PNG")
    return state


def _convert(spec: dict, fmt: str) -> bytes:
    import vl_convert as vlc

    if fmt == "svg":
        return vlc.vegalite_to_svg(spec).encode()
    return vlc.vegalite_to_png(spec, scale=2)


def lines_by_size(df: pd.DataFrame, *, y: str, y_title: str, cb: bool, title: str,
                  lower_better: bool = False) -> alt.Chart:
    """Metric against training songs: colour = model, dash = kind of training data; error
    bars where several seeds give a spread (columns mean, std)."""
    base = alt.Chart(df).encode(
        x=alt.X("train_size:Q", title="training songs", scale=alt.Scale(domain=[0, 340]),
                axis=alt.Axis(values=sorted(df["train_size"].dropna().unique().tolist()),
                              labelOverlap=False)),
        y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(domain=[0, 1] if not lower_better else None)),
        color=alt.Color("model:N", title="model", scale=alt.Scale(range=palette(cb))),
        strokeDash=alt.StrokeDash("kind:N", title="training data"),
        shape=alt.Shape("kind:N", title="training data"),
        tooltip=["label:N", alt.Tooltip(f"{y}:Q", format=".3f"), "train_size:Q"],
    )
    chart = base.mark_line(point=alt.OverlayMarkDef(size=80, filled=True))
    if "std" in df and (df["std"].fillna(0) > 0).any():
        chart += alt.Chart(df).mark_errorbar().encode(
            x="train_size:Q", y=alt.Y("lo:Q", title=y_title), y2="hi:Q", color="model:N")
    return _style(chart.properties(height=380), title=title)


def heatmap(df: pd.DataFrame, *, x: str, y: str, value: str, title: str, fmt: str = ".2f",
            scheme: str = "viridis", domain: tuple[float, float] | None = None,
            x_order: list | None = None, y_order: list | None = None, legend: str = "",
            selectable: bool = False, cell: int = 26) -> alt.Chart:
    """Cells with their value written in them; optional click selection of a cell."""
    n_x = len(x_order or df[x].unique())
    n_y = len(y_order or df[y].unique())
    scale = alt.Scale(scheme=scheme, domain=list(domain) if domain else alt.Undefined)
    sel = alt.selection_point(fields=[x, y], name="cell") if selectable else None
    base = alt.Chart(df).encode(
        x=alt.X(f"{x}:N", sort=x_order, title=x.replace("_", " "),
                axis=alt.Axis(labelAngle=-50, orient="top", labelOverlap=False)),
        y=alt.Y(f"{y}:N", sort=y_order, title=y.replace("_", " "),
                axis=alt.Axis(labelOverlap=False)),
    )
    rect = base.mark_rect(stroke="white").encode(
        color=alt.Color(f"{value}:Q", scale=scale, title=legend or value),
        tooltip=[f"{y}:N", f"{x}:N", alt.Tooltip(f"{value}:Q", format=fmt)])
    if sel is not None:
        rect = rect.add_params(sel).encode(opacity=alt.condition(sel, alt.value(1.0), alt.value(0.55)))
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text(f"{value}:Q", format=fmt),
        color=alt.condition(f"datum['{value}'] > {_mid(df[value], domain)}", alt.value("black"),
                            alt.value("white")) if scheme in ("viridis", "cividis", "inferno")
        else alt.value("black"))
    chart = (rect + text).properties(width=max(240, cell * n_x), height=max(160, cell * n_y))
    return _style(chart, title=title)


def _mid(values: pd.Series, domain) -> float:
    lo, hi = domain if domain else (float(values.min()), float(values.max()))
    return lo + 0.55 * (hi - lo)


def bars(df: pd.DataFrame, *, name: str, value: str, title: str, x_title: str, fmt: str = ",",
         colour: str = "#4c78a8") -> alt.Chart:
    """Horizontal bars, largest on top, value at the end of each bar."""
    order = df.sort_values(value, ascending=False)[name].tolist()
    base = alt.Chart(df).encode(y=alt.Y(f"{name}:N", sort=order, title=None,
                                        axis=alt.Axis(labelOverlap=False)),
                                x=alt.X(f"{value}:Q", title=x_title))
    chart = base.mark_bar(color=colour) + base.mark_text(align="left", dx=3, fontSize=11).encode(
        text=alt.Text(f"{value}:Q", format=fmt))
    return _style(chart.properties(height=22 * len(df) + 20), title=title)


def curves(df: pd.DataFrame, *, x: str, series: str, title: str, x_title: str, y_title: str,
           rules: pd.DataFrame | None = None, cb: bool = False) -> alt.Chart:
    """Lines of ``value`` against ``x`` per ``series``; vertical rules mark chosen values
    (columns x, what)."""
    chart = alt.Chart(df).mark_line().encode(
        x=alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("value:Q", title=y_title, scale=alt.Scale(domain=[0, 1])),
        color=alt.Color(f"{series}:N", title=None, scale=alt.Scale(range=palette(cb))),
        tooltip=[f"{series}:N", alt.Tooltip(f"{x}:Q", format=".2f"),
                 alt.Tooltip("value:Q", format=".3f")])
    if rules is not None and not rules.empty:
        chart += alt.Chart(rules).mark_rule(strokeDash=[4, 3], color="black").encode(
            x="x:Q", tooltip=["what:N", alt.Tooltip("x:Q", format=".2f")])
        chart += alt.Chart(rules).mark_text(align="left", dx=4, dy=-6, fontSize=11).encode(
            x="x:Q", y=alt.value(12), text="what:N")
    return _style(chart.properties(height=300), title=title)


def history(df: pd.DataFrame, *, y: str, cb: bool) -> alt.Chart:
    chart = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("epoch:Q", title="epoch"), y=alt.Y(f"{y}:Q", title=y),
        color=alt.Color("run:N", title=None, scale=alt.Scale(range=palette(cb))),
        tooltip=["run:N", "epoch:Q", alt.Tooltip(f"{y}:Q", format=".3f")])
    return _style(chart.properties(height=320))


def prob_map(df: pd.DataFrame, *, order: list[str], step_s: float, title: str) -> alt.Chart:
    """Probabilities over time (columns time_s, instrument, p, plays) as a heatmap, with a dot
    where the instrument really plays."""
    base = alt.Chart(df).encode(y=alt.Y("instrument:N", sort=order, title=None))
    rect = base.mark_rect().encode(
        x=alt.X("time_s:Q", title="time (s)"), x2=alt.X2("t_end:Q"),
        color=alt.Color("p:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1]), title="p"),
        tooltip=["instrument:N", alt.Tooltip("time_s:Q", format=".1f"),
                 alt.Tooltip("p:Q", format=".2f")])
    dots = base.transform_filter("datum.plays > 0").mark_point(
        size=6, filled=True, color="white", opacity=0.8).encode(x="time_s:Q")
    chart = (rect + dots).properties(height=24 * len(order) + 30)
    return _style(chart, title=title)
