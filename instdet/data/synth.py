"""A synthetic corpus in AAM's layout: songs composed the way AAM's generator composes them,
rendered with a General MIDI SoundFont.

Composition (after ArtificialSongGenerator): 3 to 6 sections (A, B, C, with repeats), each
with its own tempo (60-180 bpm) and key, 4 or 8 bars of four beats, until the song lasts
120-180 s. Five parts, each played in a section with AAM's probabilities: melody 0.9 (a
random walk on the scale, eighths and quarters, with rests), bass 0.9 (chord roots),
chords 0.8 (triads), drums 0.8 (kick, snare, hi-hat) and arpeggio 0.5 (broken chords). A song
draws one instrument per part from AAM's roles: 16 melody, 10 chord (also arpeggio), 4 bass
instruments and drums.

Rendering: one stem per instrument with ``tinysoundfont`` (install it with
``pip install --no-deps tinysoundfont``; it runs offline, no audio device). Instruments without
a General MIDI twin take the nearest program (``GM_PROGRAMS`` notes which). The default
SoundFont is the TimGM6mb.sf2 inside the pretty_midi wheel; ``--soundfont`` takes a better one
such as Debian's ``/usr/share/sounds/sf2/FluidR3_GM.sf2``. Nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from instdet.data.aam import load_tracks
from instdet.data.writer import write_track
from instdet.errors import InstdetError

MELODY = ("AltoSax", "Clarinet", "ElectricGuitarLead", "Erhu", "Flugelhorn", "Flute", "Fujara",
          "Jinghu", "MorinKhuur", "PanFlute", "Shakuhachi", "TenorSax", "Trombone", "Trumpet",
          "Viola", "Violin")
CHORDS = ("AcousticGuitar", "Balalaika", "BrightPiano", "Cello", "ElectricGuitarClean",
          "ElectricGuitarCrunch", "ElectricPiano", "Piano", "Sitar", "Ukulele")
BASS = ("DoubleBassArco", "DoubleBassPizz", "ElectricBass", "OrganBass")
PART_PROBABILITY = {"melody": 0.9, "bass": 0.9, "chords": 0.8, "drums": 0.8, "arpeggio": 0.5}

#: General MIDI program (0-based) per instrument; the comment says where GM has no twin.
GM_PROGRAMS: dict[str, int] = {
    "AcousticGuitar": 25, "AltoSax": 65, "Balalaika": 105,  # banjo: nearest plucked folk lute
    "BrightPiano": 1, "Cello": 42, "Clarinet": 71, "DoubleBassArco": 43,
    "DoubleBassPizz": 32,  # acoustic bass
    "Drums": 0, "ElectricBass": 33, "ElectricGuitarClean": 27, "ElectricGuitarCrunch": 29,
    "ElectricGuitarLead": 30, "ElectricPiano": 4,
    "Erhu": 110, "Jinghu": 110,  # fiddle: nearest bowed folk string
    "Flugelhorn": 56,  # trumpet
    "Flute": 73, "Fujara": 76,  # blown bottle: nearest breathy overtone flute
    "MorinKhuur": 42,  # cello: nearest low bowed string
    "OrganBass": 16,  # drawbar organ, played in the bass register
    "PanFlute": 75, "Piano": 0, "Shakuhachi": 77, "Sitar": 104, "TenorSax": 66,
    "Trombone": 57, "Trumpet": 56,
    "Ukulele": 24,  # nylon guitar
    "Viola": 41, "Violin": 40,
}  # fmt: skip
FIRST_ID = 30001
FROM_MIDI_OFFSET = 20000  # rendered AAM track NNNN becomes 2NNNN
#: Longest song rendered from MIDI when the source has no readable mix (s): a stuck note
#: (a note-on without note-off, which lasts to the file's last event) cannot render an hour.
MAX_RENDER_S = 15 * 60.0


def default_soundfont() -> Path:
    import pretty_midi

    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


def _scale(root: int, minor: bool) -> np.ndarray:
    steps = (0, 2, 3, 5, 7, 8, 10) if minor else (0, 2, 4, 5, 7, 9, 11)
    return np.array([root + s for s in steps])


def compose(rng: np.random.Generator, *, min_s: float = 120.0, max_s: float = 180.0):
    """Notes per part and the sections: (parts {part: [(start, end, pitch, vel)]}, sections)."""
    target = rng.uniform(min_s, max_s)
    parts: dict[str, list] = {p: [] for p in PART_PROBABILITY}
    sections, t, marks = [], 0.0, {}
    while t < target - 4:
        mark = "ABC"[int(rng.integers(0, 3))]
        if mark not in marks:
            marks[mark] = (float(rng.uniform(60, 180)), int(rng.integers(0, 12)), bool(rng.random() < 0.5))
        tempo, root, minor = marks[mark]
        beat = 60.0 / tempo
        bars = int(rng.choice([4, 8]))
        on = [p for p, prob in PART_PROBABILITY.items() if rng.random() < prob] or ["melody"]
        scale = _scale(root, minor)
        degrees = rng.choice([0, 3, 4, 5], size=bars)
        for b in range(bars):
            bar_t = t + b * 4 * beat
            if bar_t >= target:
                break
            d = int(degrees[b])
            triad = [int(scale[(d + k) % 7] + 12 * ((d + k) // 7)) for k in (0, 2, 4)]
            if "chords" in on:
                for p in triad:
                    parts["chords"].append((bar_t, bar_t + 4 * beat, 60 + p, 80))
            if "bass" in on:
                for q in (0, 2):
                    parts["bass"].append((bar_t + q * beat, bar_t + (q + 2) * beat, 36 + triad[0], 95))
            if "arpeggio" in on:
                for e in range(8):
                    p = triad[e % 3] + 12 * (e // 3 % 2)
                    parts["arpeggio"].append((bar_t + e * beat / 2, bar_t + (e + 1) * beat / 2, 60 + p, 75))
            if "drums" in on:
                for e in range(8):
                    s = bar_t + e * beat / 2
                    parts["drums"].append((s, s + beat / 2, 42, 70))
                    if e % 4 == 0:
                        parts["drums"].append((s, s + beat / 2, 36, 110))
                    if e % 4 == 2:
                        parts["drums"].append((s, s + beat / 2, 38, 100))
            if "melody" in on:
                e, deg = 0.0, int(rng.integers(0, 7))
                while e < 4:
                    dur = float(rng.choice([0.5, 1.0, 1.0, 2.0]))
                    deg = int(np.clip(deg + rng.integers(-2, 3), 0, 13))
                    if rng.random() > 0.2:
                        p = int(scale[deg % 7] + 12 * (deg // 7))
                        parts["melody"].append((bar_t + e * beat, bar_t + min(4, e + dur) * beat, 72 + p, 100))
                    e += dur
        length = bars * 4 * beat
        sections.append((t, mark, on, tempo, f"{'CDEFGAB'[root % 7]}{'min' if minor else 'maj'}"))
        t += length
    return {p: np.array(n, dtype=np.float64).reshape(-1, 4) for p, n in parts.items()}, sections, t


class Renderer:
    """One SoundFont, rendering note lists to mono float32 stems."""

    def __init__(self, soundfont: str | os.PathLike | None = None, *, sr: int = 22050):
        try:
            import tinysoundfont
        except ImportError:
            raise InstdetError("rendering needs tinysoundfont: pip install --no-deps tinysoundfont") from None
        self.sf_path = Path(soundfont) if soundfont else default_soundfont()
        if not self.sf_path.is_file():
            raise InstdetError(f"{self.sf_path}: no such SoundFont")
        self.sr = sr
        self.synth = tinysoundfont.Synth(samplerate=sr)
        try:  # loaded once: a large SoundFont takes seconds to parse
            self.sfid = self.synth.sfload(str(self.sf_path))
        except Exception as exc:
            raise InstdetError(f"{self.sf_path.name}: not a usable SoundFont ({exc})") from None

    def render(self, instrument: str, notes: np.ndarray, n_samples: int, *,
               detune_cents: float = 0.0) -> np.ndarray:
        synth, sfid = self.synth, self.sfid
        synth.sounds_off(0)
        synth.generate(self.sr // 2)  # let the previous stem's voices die out
        drums = instrument == "Drums"
        try:
            synth.program_select(0, sfid, 128 if drums else 0, GM_PROGRAMS[instrument], is_drums=drums)
        except RuntimeError:
            synth.program_select(0, sfid, 0, 0, is_drums=drums)
        synth.pitchbend_range(0, 2.0)
        synth.pitchbend(0, int(np.clip(8192 + detune_cents / 200.0 * 8192, 0, 16383)))
        events = sorted([(s, 1, int(p), int(v)) for s, _, p, v in notes] +
                        [(e, 0, int(p), 0) for _, e, p, _ in notes], key=lambda x: (x[0], x[1]))
        out = np.zeros(n_samples, dtype=np.float32)
        pos = 0
        for time_s, on, pitch, vel in events:
            at = min(n_samples, int(round(time_s * self.sr)))
            if at > pos:
                buf = np.frombuffer(synth.generate(at - pos), dtype=np.float32)
                out[pos:at] = buf.reshape(-1, 2).mean(axis=1)
                pos = at
            if on:
                synth.noteon(0, pitch, vel)
            else:
                synth.noteoff(0, pitch)
        if pos < n_samples:
            buf = np.frombuffer(synth.generate(n_samples - pos), dtype=np.float32)
            out[pos:] = buf.reshape(-1, 2).mean(axis=1)
        return out


def randomise_timbre(y: np.ndarray, rng: np.random.Generator, *, sr: int) -> np.ndarray:
    """A random EQ tilt (one-pole low-pass or high-pass blend) and a short synthetic reverb."""
    from scipy.signal import fftconvolve, lfilter

    a = float(np.exp(-2 * np.pi * rng.uniform(500, 4000) / sr))
    low = lfilter([1 - a], [1, -a], y)
    mix = rng.uniform(0, 1)
    y = mix * low + (1 - mix) * (y - low) if rng.random() < 0.5 else mix * low + (1 - mix) * y
    t60 = rng.uniform(0.2, 1.2)
    n = int(t60 * sr)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    wet = fftconvolve(y, ir / np.sqrt(np.sum(ir**2)))[: len(y)]
    return (y + rng.uniform(0.05, 0.4) * wet).astype(np.float32)


def _mix_and_write(dest, tid, renderer, notes, n, sections, rng, timbre=False):
    stems = {}
    for name, nn in notes.items():
        if timbre:
            y = renderer.render(name, nn, n, detune_cents=float(rng.uniform(-30, 30)))
            y = randomise_timbre(y, rng, sr=renderer.sr)
        else:
            y = renderer.render(name, nn, n)
        stems[name] = y * 10 ** (rng.uniform(-6, 3) / 20) / max(np.abs(y).max(), 1e-6) * 0.3
    mix = np.sum(list(stems.values()), axis=0)
    scale = min(1.0, 0.98 / max(np.abs(mix).max(), 1e-6))
    write_track(dest, tid, mix=mix * scale, stems={k: v * scale for k, v in stems.items()},
                notes=notes, sr=renderer.sr, sections=sections)


def synth_corpus(
    dest: str | os.PathLike, *, n_tracks: int, seed: int, soundfont=None, sr: int = 22050,
    min_s: float = 120.0, max_s: float = 180.0, timbre: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Compose, render and write ``n_tracks`` songs; returns their ids (30001, ...).

    ``timbre=True`` varies each stem: detune of +-30 cents, a random EQ and reverb."""
    if n_tracks < 1:
        raise InstdetError("ask for at least one track")
    renderer = Renderer(soundfont, sr=sr)
    rng = np.random.default_rng(seed)
    ids = []
    for i in range(n_tracks):
        parts, sections, length = compose(rng, min_s=min_s, max_s=max_s)
        who = {"melody": MELODY[rng.integers(len(MELODY))], "bass": BASS[rng.integers(len(BASS))],
               "chords": CHORDS[rng.integers(len(CHORDS))], "drums": "Drums"}
        who["arpeggio"] = rng.choice([c for c in CHORDS if c != who["chords"]])
        notes = {who[p]: n for p, n in parts.items() if len(n)}
        secs = [(s, m, [who[p] for p in on if len(parts[p])], tempo, key)
                for s, m, on, tempo, key in sections]
        tid = str(FIRST_ID + i)
        _mix_and_write(dest, tid, renderer, notes, int(length * sr), secs, rng, timbre)
        ids.append(tid)
        if progress:
            progress(1)
    return ids


def render_midi_corpus(
    source: str | os.PathLike, dest: str | os.PathLike, *, seed: int, soundfont=None,
    sr: int = 22050, progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Render the MIDI files of existing AAM tracks with the SoundFont (ids 2NNNN), keeping
    their sections, so SoundFont and AAM timbres can be compared on the same songs.

    A song lasts until its last note ends plus 1 s, but never longer than the source's mix
    (``MAX_RENDER_S`` without one); notes and sections past that are cut."""
    renderer = Renderer(soundfont, sr=sr)
    rng = np.random.default_rng(seed)
    ids = []
    for tid, track in load_tracks(source, require_mix=False).items():
        notes = {k: v for k, v in track.midi_notes.items() if len(v)}
        if not notes:
            continue
        length = min(max(float(v[:, 1].max()) for v in notes.values()) + 1.0,
                     _render_cap(track))
        notes = {k: _clip_notes(v, length) for k, v in notes.items()}
        notes = {k: v for k, v in notes.items() if len(v)}
        secs = [(s.start, s.mark, list(s.instruments), s.tempo, s.key) for s in track.segments
                if s.start < length] if track.segments_path else None
        new = str(FROM_MIDI_OFFSET + int(tid))
        _mix_and_write(dest, new, renderer, notes, int(length * sr), secs, rng)
        ids.append(new)
        if progress:
            progress(1)
    if not ids:
        raise InstdetError(f"no MIDI files to render in {source}")
    return ids


def _render_cap(track) -> float:
    """Longest rendering of a track: its mix's duration, else ``MAX_RENDER_S``."""
    if track.mix_path is None:
        return MAX_RENDER_S
    try:
        return min(track.duration, MAX_RENDER_S)
    except InstdetError:  # an unreadable mix: validate reports it; the default cap holds
        return MAX_RENDER_S


def _clip_notes(notes: np.ndarray, length: float) -> np.ndarray:
    """Notes [shape=(n, 4)] that start before ``length``, ending at ``length`` at the latest."""
    kept = notes[notes[:, 0] < length].copy()
    kept[:, 1] = np.minimum(kept[:, 1], length)
    return kept
