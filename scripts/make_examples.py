"""Listenable examples of the note sampler, and the real-case page's example song.

    python scripts/make_examples.py [AAM_DIR]          (about 1 minute)

Writes, from songs the sampler makes out of the 7 training songs' stems (the test and
validation songs give no note):
- dashboard/assets/example_sampled.mp3: a 30-s song for the real-case page's example button;
- docs/sampler/sampled_N.mp3: three 12-s songs to listen to;
- docs/sampler/spectrograms.png: their log-mel spectrograms under those of three real AAM
  songs (the first 12 s of each), on the same colour scale.
The audio is AAM's own instrument recordings rearranged (AAM: CC BY 4.0, Ostermann,
Vatolkin and Ebeling 2023).
"""

import sys
import tempfile
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import soundfile as sf
import vl_convert as vlc

from instdet.atomic import write_with
from instdet.audio import load_audio
from instdet.data.aam import load_tracks
from instdet.data.sampler import sample_corpus
from instdet.features import logmel

ROOT = Path(__file__).resolve().parents[1]
AAM = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "aam-tiny"
HELD_OUT = {"2462", "2841", "3000", "1014", "2720"}
SR = 22050


def mp3(path: Path, y: np.ndarray) -> None:
    write_with(path, lambda tmp: sf.write(str(tmp), y, SR, format="MP3"))


def spectrogram_rows(title: str, y: np.ndarray) -> pd.DataFrame:
    S = logmel(y[: 12 * SR])[::6, ::2]  # 12 s: every 6th frame, every 2nd mel band
    t, m = np.meshgrid(np.arange(S.shape[0]) * 6 * 512 / SR, np.arange(S.shape[1]), indexing="ij")
    return pd.DataFrame({"song": title, "time_s": t.ravel(), "t_end": t.ravel() + 6 * 512 / SR,
                         "mel": m.ravel(), "dB": S.ravel().round(1)})


def main():
    tmp = Path(tempfile.mkdtemp())
    ids = sample_corpus([AAM], tmp / "sampled", n_tracks=4, seed=9, seconds=(30.0, 30.0),
                        exclude=HELD_OUT)
    sampled = load_tracks(tmp / "sampled")
    mp3(ROOT / "dashboard" / "assets" / "example_sampled.mp3", sampled[ids[0]].audio())
    rows = []
    real = load_tracks(AAM)
    for tid in ("2462", "2841", "3000"):
        rows.append(spectrogram_rows(f"real AAM song {tid}", load_audio(real[tid].mix_path)))
    for i, tid in enumerate(ids[1:], 1):
        y = sampled[tid].audio()
        mp3(ROOT / "docs" / "sampler" / f"sampled_{i}.mp3", y[: 12 * SR])
        rows.append(spectrogram_rows(f"sampled song {i}: {', '.join(sampled[tid].midi_paths)}", y))
    data = pd.concat(rows, ignore_index=True)
    chart = alt.Chart(data).mark_rect().encode(
        x=alt.X("time_s:Q", title="time (s)", scale=alt.Scale(domain=[0, 12])), x2="t_end:Q",
        y=alt.Y("mel:O", title="mel band", sort="descending", axis=None),
        color=alt.Color("dB:Q", scale=alt.Scale(scheme="magma", domain=[-80, 0]))
    ).properties(width=700, height=90).facet(
        row=alt.Row("song:N", title=None, sort=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelOrient="top",
                                      labelFontSize=12, labelLimit=700)))
    with alt.data_transformers.disable_max_rows():
        png = vlc.vegalite_to_png(chart.to_dict(), scale=1)
    write_with(ROOT / "docs" / "sampler" / "spectrograms.png", lambda p: Path(p).write_bytes(png))
    print("wrote dashboard/assets/example_sampled.mp3, docs/sampler/sampled_{1,2,3}.mp3 and "
          "docs/sampler/spectrograms.png")


if __name__ == "__main__":
    main()
