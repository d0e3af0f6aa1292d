"""Stacked event rolls on one time axis, with the song's audio, a playhead that follows
playback, and click-to-seek (sed_vis style): one band per instrument, one thin row per
source (the ground truth, a model, the ensemble) inside it.

A small HTML component: the rolls are SVG drawn by a few lines of JavaScript from a JSON
payload, the audio an embedded data URL, so it runs offline with nothing to download.
Buttons save the picture as SVG or PNG. Shared by the Tracks and Real-case pages.
"""

from __future__ import annotations

import base64
import json

import streamlit as st

ROW_PX = 13
BAND_GAP_PX = 7
LEFT_PX = 170
TOP_PX = 26


def roll_height(n_bands: int, n_rows: int) -> int:
    return TOP_PX + n_bands * (n_rows * ROW_PX + BAND_GAP_PX) + 70


def render(*, bands: list[dict], duration: float, legend: dict[str, str], audio: bytes | None = None,
           mime: str = "audio/mpeg", start: float = 0.0, key: str = "roll",
           title: str = "") -> None:
    """Draw the rolls.

    bands : [{"name": "Drums", "rows": [{"label": "truth", "segments": [[t0, t1, colour], ...]}]}]
    legend : {name: colour} shown above the rolls.
    audio : the song's bytes (played in the browser), or None.
    start : where the playhead starts (s).
    """
    n_rows = max((len(b["rows"]) for b in bands), default=1)
    height = roll_height(len(bands), n_rows) + (40 if audio else 0)
    payload = json.dumps({"bands": bands, "duration": duration, "legend": legend,
                          "start": start, "rowPx": ROW_PX, "gapPx": BAND_GAP_PX,
                          "leftPx": LEFT_PX, "topPx": TOP_PX, "title": title, "key": key},
                         separators=(",", ":"))
    src = f"data:{mime};base64,{base64.b64encode(audio).decode()}" if audio else ""
    # Our own HTML only (never a user's text): the payload is JSON of numbers and names.
    st.iframe(_HTML.replace("__PAYLOAD__", payload).replace("__AUDIO__", src), height=height)


_HTML = """<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;font-family:"Source Sans Pro",sans-serif;font-size:14px;color:#262730}
#bar{display:flex;align-items:center;gap:10px;margin:2px 0 4px 0;flex-wrap:wrap}
#bar button{font-size:13px;padding:2px 8px;border:1px solid #ccc;border-radius:6px;background:#fff;cursor:pointer}
.lg{display:inline-flex;align-items:center;gap:4px;margin-right:8px}
.sw{width:14px;height:10px;display:inline-block;border-radius:2px}
audio{width:100%;height:32px}
svg text{font-family:"Source Sans Pro",sans-serif}
</style></head><body>
<div id="bar"><span id="legend"></span><span style="flex:1"></span><span id="clock">0:00</span>
<button id="svgbtn" title="Save this figure as SVG">SVG</button>
<button id="pngbtn" title="Save this figure as PNG">PNG</button></div>
<audio id="player" controls preload="auto" src="__AUDIO__"></audio>
<div id="roll"></div>
<script>
const P = __PAYLOAD__;
const audio = document.getElementById('player');
if (!audio.getAttribute('src')) audio.style.display = 'none';
const W = Math.max(600, document.body.clientWidth - 4);
const nRows = Math.max(1, ...P.bands.map(b => b.rows.length));
const bandH = nRows * P.rowPx;
const H = P.topPx + P.bands.length * (bandH + P.gapPx) + 30;
const plotW = W - P.leftPx - 10;
const x = t => P.leftPx + plotW * t / Math.max(P.duration, 1e-6);
const NS = 'http://www.w3.org/2000/svg';
const svg = document.createElementNS(NS, 'svg');
svg.setAttribute('width', W); svg.setAttribute('height', H);
svg.setAttribute('xmlns', NS); svg.style.cursor = 'pointer';
function el(name, attrs, parent) { const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]); (parent || svg).appendChild(e); return e; }
el('rect', {x: 0, y: 0, width: W, height: H, fill: 'white'});
if (P.title) { const t = el('text', {x: P.leftPx, y: 14, 'font-size': 14, 'font-weight': 600}); t.textContent = P.title; }
P.bands.forEach((b, i) => {
  const y0 = P.topPx + i * (bandH + P.gapPx);
  el('rect', {x: P.leftPx, y: y0, width: plotW, height: bandH, fill: i % 2 ? '#fafafa' : '#f3f3f3'});
  const name = el('text', {x: 4, y: y0 + bandH / 2 + 5, 'font-size': 13, 'font-weight': 600});
  name.textContent = b.name;
  b.rows.forEach((r, j) => {
    const yy = y0 + j * P.rowPx;
    if (b.rows.length > 1) { const l = el('text', {x: P.leftPx - 4, y: yy + P.rowPx - 3,
      'font-size': 10, 'text-anchor': 'end', fill: '#555'}); l.textContent = r.label; }
    r.segments.forEach(s => el('rect', {x: x(s[0]), y: yy + 1, height: P.rowPx - 2,
      width: Math.max(1, x(s[1]) - x(s[0])), fill: s[2]}));
  });
});
const axisY = P.topPx + P.bands.length * (bandH + P.gapPx);
const step = [1, 2, 5, 10, 15, 30, 60, 120, 300].find(s => P.duration / s <= 12) || 600;
const fmt = t => Math.floor(t / 60) + ':' + String(Math.floor(t % 60)).padStart(2, '0');
for (let t = 0; t <= P.duration + 1e-6; t += step) {
  el('line', {x1: x(t), x2: x(t), y1: P.topPx, y2: axisY, stroke: '#ddd'});
  const l = el('text', {x: x(t), y: axisY + 14, 'font-size': 11, 'text-anchor': 'middle'});
  l.textContent = fmt(t);
}
const head = el('line', {x1: x(P.start), x2: x(P.start), y1: P.topPx - 4, y2: axisY, stroke: '#111',
  'stroke-width': 2, id: 'playhead'});
document.getElementById('roll').appendChild(svg);
const clock = document.getElementById('clock');
function place(t) { head.setAttribute('x1', x(t)); head.setAttribute('x2', x(t));
  clock.textContent = fmt(t) + ' / ' + fmt(P.duration); document.body.dataset.playhead = t.toFixed(2); }
place(P.start);
if (audio.getAttribute('src')) { audio.addEventListener('loadedmetadata', () => {
  if (P.start > 0) audio.currentTime = P.start; }, {once: true}); }
svg.addEventListener('click', ev => {
  const r = svg.getBoundingClientRect();
  const t = Math.min(P.duration, Math.max(0, (ev.clientX - r.left - P.leftPx) / plotW * P.duration));
  if (audio.getAttribute('src')) audio.currentTime = t;
  place(t);
});
(function tick() { if (audio.getAttribute('src') && !audio.paused) place(audio.currentTime);
  requestAnimationFrame(tick); })();
audio.addEventListener('seeked', () => place(audio.currentTime));
const legend = document.getElementById('legend');
for (const k in P.legend) { const s = document.createElement('span'); s.className = 'lg';
  s.innerHTML = '<span class="sw" style="background:' + P.legend[k] + '"></span>' + k; legend.appendChild(s); }
function save(blob, name) { const a = document.createElement('a'); a.href = URL.createObjectURL(blob);
  a.download = name; document.body.appendChild(a); a.click(); a.remove(); }
function svgText() { head.style.display = 'none'; const s = new XMLSerializer().serializeToString(svg);
  head.style.display = ''; return s; }
document.getElementById('svgbtn').onclick = () => save(new Blob([svgText()], {type: 'image/svg+xml'}), P.key + '.svg');
document.getElementById('pngbtn').onclick = () => { const img = new Image();
  img.onload = () => { const c = document.createElement('canvas'); c.width = W * 2; c.height = H * 2;
    const g = c.getContext('2d'); g.scale(2, 2); g.drawImage(img, 0, 0);
    c.toBlob(b => save(b, P.key + '.png')); };
  img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svgText()); };
</script></body></html>"""
