"""Plotly figures shared by the pages (drawing only; the numbers come from instdet)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from instdet.data.aam import INSTRUMENTS
from instdet.report import INSTRUMENT_COLORS, OUTCOME_COLORS, OUTCOMES

FONT = dict(size=16)  # readable on a projector


def _layout(fig: go.Figure, *, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=40),
                      font=FONT, title=title, plot_bgcolor="white")
    return fig


def outcome_timeline(codes: np.ndarray, rows: list[int], *, seconds_per_bin: float,
                     title: str | None = None) -> go.Figure:
    """Frames x instruments coloured by outcome (green correct, orange false alarm, red miss)."""
    z = codes[:, rows].T.astype(float)
    scale = []
    for k in range(4):
        scale += [[k / 4, OUTCOME_COLORS[k]], [(k + 1) / 4, OUTCOME_COLORS[k]]]
    labels = np.vectorize(OUTCOMES.get)(codes[:, rows].T)
    x = np.arange(z.shape[1]) * seconds_per_bin
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=[INSTRUMENTS[r] for r in rows], zmin=-0.5, zmax=3.5, colorscale=scale,
        customdata=labels, hovertemplate="%{y} at %{x:.1f} s: %{customdata}<extra></extra>",
        colorbar=dict(tickvals=[0, 1, 2, 3], ticktext=list(OUTCOMES.values())), xgap=0, ygap=2,
    ))  # fmt: skip
    fig.update_xaxes(title="time (s)")
    return _layout(fig, height=120 + 32 * len(rows), title=title)


def probability_map(probs: np.ndarray, labels: np.ndarray, rows: list[int], *, frame_rate: float,
                    step: int = 1, title: str | None = None) -> go.Figure:
    z = probs[::step, rows].T
    x = np.arange(z.shape[1]) * step / frame_rate
    fig = go.Figure(go.Heatmap(z=z, x=x, y=[INSTRUMENTS[r] for r in rows], zmin=0, zmax=1,
                               colorscale="Viridis", colorbar=dict(title="p"),
                               hovertemplate="%{y} at %{x:.1f} s: p=%{z:.2f}<extra></extra>"))
    # The true activity as outlines: a dot where the instrument really plays.
    t = labels[::step, rows].T
    yy, xx = np.nonzero(t)
    every = max(1, len(xx) // 4000)
    fig.add_trace(go.Scattergl(x=x[xx[::every]], y=[INSTRUMENTS[rows[i]] for i in yy[::every]],
                               mode="markers", marker=dict(size=2, color="white"),
                               name="truly active", hoverinfo="skip"))
    fig.update_xaxes(title="time (s)")
    fig.update_layout(showlegend=False)
    return _layout(fig, height=120 + 32 * len(rows), title=title)


def activity_timeline(active: np.ndarray, rows: list[int], *, seconds_per_bin: float,
                      title: str | None = None) -> go.Figure:
    """Active instruments over time, each in its own colour."""
    fig = go.Figure()
    x = np.arange(active.shape[0]) * seconds_per_bin
    for r in rows:
        on = active[:, r].astype(bool)
        if not on.any():
            continue
        fig.add_trace(go.Scattergl(
            x=x[on], y=[INSTRUMENTS[r]] * int(on.sum()), mode="markers", name=INSTRUMENTS[r],
            marker=dict(symbol="line-ns-open", size=14, color=INSTRUMENT_COLORS[INSTRUMENTS[r]],
                        line=dict(width=3, color=INSTRUMENT_COLORS[INSTRUMENTS[r]])),
            hovertemplate="%{y} at %{x:.1f} s<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=[INSTRUMENTS[r] for r in rows][::-1])
    fig.update_xaxes(title="time (s)", range=[0, x[-1] if len(x) else 1])
    fig.update_layout(showlegend=False)
    return _layout(fig, height=120 + 30 * max(1, len(rows)), title=title)


def matrix_heatmap(matrix: np.ndarray, names: list[str], *, title: str, colorbar: str,
                   fmt: str = ".0f", x_title: str = "", y_title: str = "",
                   hover: str = "%{y} & %{x}") -> go.Figure:
    fig = go.Figure(go.Heatmap(z=matrix, x=names, y=names, colorscale="Reds",
                               colorbar=dict(title=colorbar),
                               hovertemplate=hover + ": %{z:" + fmt + "}<extra></extra>"))
    fig.update_xaxes(title=x_title, tickangle=-45, dtick=1)
    fig.update_yaxes(title=y_title, autorange="reversed")
    return _layout(fig, height=260 + 22 * len(names), title=title)


def bars_by_instrument(values: dict[str, float], *, title: str, axis: str) -> go.Figure:
    names = list(values)
    fig = go.Figure(go.Bar(x=names, y=[values[n] for n in names],
                           marker_color=[INSTRUMENT_COLORS.get(n, "#888") for n in names]))
    fig.update_xaxes(tickangle=-45)
    fig.update_yaxes(title=axis)
    return _layout(fig, height=460, title=title)


def agreement_map(share: np.ndarray, rows: list[int], *, seconds_per_bin: float) -> go.Figure:
    """Share of models hearing each instrument over time (dark: all agree it plays)."""
    x = np.arange(share.shape[0]) * seconds_per_bin
    fig = go.Figure(go.Heatmap(z=share[:, rows].T, x=x, y=[INSTRUMENTS[r] for r in rows],
                               zmin=0, zmax=1, colorscale="Blues",
                               colorbar=dict(title="share of models"),
                               hovertemplate="%{y} at %{x:.1f} s: %{z:.0%} of models<extra></extra>"))
    fig.update_xaxes(title="time (s)")
    return _layout(fig, height=120 + 30 * len(rows))
