"""Write a track in AAM's layout (mix, stems, MIDI, three annotation files).

Generated corpora (stem remixes, synthetic songs) go through here, so that the AAM loader
reads them like real tracks.
"""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from instdet.atomic import write_text, write_with
from instdet.data.aam import INSTRUMENTS

TICKS_PER_BEAT = 480
TEMPO_US = 500_000  # 120 bpm: 960 ticks per second


def _write_audio(path: Path, y: np.ndarray, sr: int) -> None:
    write_with(path, lambda tmp: sf.write(str(tmp), y, sr, format="FLAC", subtype="PCM_16"))


def _write_midi(path: Path, notes: np.ndarray) -> None:
    """notes: (n, 4) start s, end s, pitch, velocity."""
    per_s = TICKS_PER_BEAT * 1e6 / TEMPO_US
    events = []
    for start, end, pitch, vel in notes:
        events.append((int(round(start * per_s)), 1, int(pitch), int(vel)))
        events.append((max(int(round(end * per_s)), int(round(start * per_s)) + 1), 0, int(pitch), 0))
    events.sort(key=lambda e: (e[0], e[1]))  # note-offs before note-ons at one tick
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=TEMPO_US, time=0)])
    now = 0
    for tick, on, pitch, vel in events:
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=pitch, velocity=vel, time=tick - now))
        now = tick
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    write_with(path, lambda tmp: midi.save(str(tmp)))


def _arff(relation: str, attributes: list[tuple[str, str]], rows: list[str]) -> str:
    head = [f"@RELATION '{relation}'", ""]
    head += [f"@ATTRIBUTE '{name}' {kind}" for name, kind in attributes]
    return "\n".join(head + ["", "@DATA", *rows]) + "\n"


def _onsets_rows(notes: dict[str, np.ndarray], duration: float) -> list[str]:
    times = sorted({round(float(t), 6) for n in notes.values() for t in n[:, :2].ravel()
                    if t < duration} | {0.0})
    rows = []
    for t in times:
        cells = []
        for name in INSTRUMENTS:
            n = notes.get(name)
            items = []
            if n is not None and len(n):
                on = (n[:, 0] <= t + 1e-9) & (n[:, 1] > t + 1e-9)
                for s, _, p, _ in n[on]:
                    items.append(f"+{int(p)}" if abs(s - t) < 1e-6 else str(int(p)))
            cells.append("'[" + ",".join(items) + "]'")
        rows.append(f"{t}," + ",".join(cells))
    return rows


def write_track(
    dest: str | Path, track_id: str, *, mix: np.ndarray, stems: dict[str, np.ndarray],
    notes: dict[str, np.ndarray], sr: int, tempo: float = 120.0, key: str = "Cmaj",
    sections: list[tuple] | None = None,
) -> None:
    """Write one track. ``sections``: (start s, mark, instruments[, tempo, key]); default one
    section holding every instrument with notes."""
    dest = Path(dest)
    duration = len(mix) / sr
    _write_audio(dest / "audio-mixes" / f"{track_id}_mix.flac", mix, sr)
    for name, y in stems.items():
        _write_audio(dest / "audio-multitracks" / f"{track_id}_{name}.flac", y, sr)
    for name, n in notes.items():
        _write_midi(dest / "midis" / f"{track_id}_{name}.mid", n)
    sections = sections or [(0.0, "A", [n for n in INSTRUMENTS if n in notes])]
    seg_rows = []
    for sec in sections:
        start, mark, names = sec[:3]
        t, k = (sec[3], sec[4]) if len(sec) >= 5 else (tempo, key)
        seg_rows.append(f"{start},'{mark}',{t:g},'{k}','[{','.join(names)}]','[]'")
    seg_rows.append(f"{duration},'end',0,'','[]','[]'")
    ann = dest / "annotations"
    write_text(ann / f"{track_id}_segments.arff", _arff(
        f"Segment information of {track_id}",
        [("Start time in seconds", "NUMERIC"), ("Mark", "STRING"), ("Tempo", "NUMERIC"),
         ("Key", "STRING"), ("Instruments", "STRING"), ("Generator", "STRING")], seg_rows))
    write_text(ann / f"{track_id}_onsets.arff", _arff(
        f"Onset events in {track_id}",
        [("Onset time in seconds", "NUMERIC")]
        + [(f"Onset events of {n}", "STRING") for n in INSTRUMENTS],
        _onsets_rows(notes, duration)))
    beat = 60.0 / tempo
    beats = [f"{i * beat:.6f},{i // 4 + 1},{i % 4 + 1},'{key}'" for i in range(int(duration / beat))]
    # Like AAM's own beatinfo files, no @DATA line.
    text = _arff(f"Beat information of {track_id}",
                 [("Start time in seconds", "NUMERIC"), ("Bar count", "NUMERIC"),
                  ("Quarter count", "NUMERIC"), ("Chord name", "STRING")], beats)
    write_text(ann / f"{track_id}_beatinfo.arff", text.replace("@DATA\n", ""))
