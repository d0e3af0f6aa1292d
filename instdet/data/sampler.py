"""The note sampler: new songs played with AAM's own instrument samples.

Arrangements come two ways, half each:

- composed with the AAM-style composer of ``instdet.data.synth`` (sections, melody, bass,
  chords, drums, arpeggio), each part given an instrument of its role that the note bank has;
- re-orchestrated from a source song's own MIDI parts: another instrument of the same role,
  the whole song transposed by up to 3 semitones, at another tempo (x0.8 to x1.25), cut at
  another place.

Every part is moved by octaves into the pitch range its instrument has in the bank. Each note
event is played by the bank clip of the same instrument nearest in pitch (chords by a chord
clip when there is one), pitch-shifted by resampling. The largest shift is ``MAX_SHIFT``
(4 semitones): resampling moves the formants and speeds the attack along with the pitch,
and beyond a major third that is audible as a different instrument; sample libraries record
instruments every 3 to 4 semitones for the same reason. A note never outlasts the next
event of its part, and is faded out where it is meant to end; its label (and its MIDI note)
ends where the rendered note does, so a bank clip shorter than the note asked for shortens
the label too. Stems get a random gain (-9 to +3 dB), optionally an EQ and room
(``timbre=True``); the mix is their sum, peak-normalised.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np
import soxr

from instdet.data.aam import INSTRUMENT_INDEX, Track
from instdet.data.notebank import NoteBank, load_bank
from instdet.data.synth import BASS, CHORDS, MELODY, compose, randomise_timbre
from instdet.data.writer import write_track
from instdet.errors import InstdetError

FIRST_ID = 40001
MAX_SHIFT = 4  # semitones
NOTE_FADE_S = 0.08  # fade where a note is cut short of its clip
ROLES = {"melody": MELODY, "chords": CHORDS, "arpeggio": CHORDS, "bass": BASS, "drums": ("Drums",)}


def role_of(instrument: str) -> str:
    for role in ("drums", "bass", "melody", "chords"):
        if instrument in ROLES[role]:
            return role
    return "melody"


class Sampler:
    """Arranges and renders songs from a note bank (and source songs to re-orchestrate)."""

    def __init__(self, bank: NoteBank, sources: dict[str, Track] | None = None):
        self.bank, self.sr = bank, bank.sr
        self.available = set(bank.instruments())
        self.rows = {name: np.flatnonzero(bank.instrument == INSTRUMENT_INDEX[name])
                     for name in self.available}
        self.ranges = {name: bank.pitch_range(name) for name in self.available if name != "Drums"}
        self.sources = {tid: t for tid, t in (sources or {}).items()
                        if tid in set(bank.song.tolist()) and t.midi_paths}

    # ---- arrangements ---------------------------------------------------------------------
    def _pick(self, role: str, rng, taken: set[str]) -> str | None:
        options = [n for n in ROLES[role] if n in self.available and n not in taken]
        return options[int(rng.integers(len(options)))] if options else None

    def _fit(self, name: str, notes: np.ndarray) -> np.ndarray:
        """Move a pitched part by octaves into its instrument's bank range (outliers folded)."""
        if name == "Drums" or not len(notes):
            return notes
        lo, hi = self.ranges[name]
        out = notes.copy()
        centre = (lo + hi) / 2
        out[:, 2] += 12 * np.round((centre - np.median(out[:, 2])) / 12)
        while (out[:, 2] < lo - MAX_SHIFT).any():
            out[out[:, 2] < lo - MAX_SHIFT, 2] += 12
        while (out[:, 2] > hi + MAX_SHIFT).any():
            out[out[:, 2] > hi + MAX_SHIFT, 2] -= 12
        return out

    def composed(self, rng, seconds: float):
        """An AAM-style composition: ({instrument: notes}, sections, length s)."""
        parts, sections, length = compose(rng, min_s=seconds, max_s=seconds)
        who, taken = {}, set()
        for role in ("drums", "bass", "chords", "arpeggio", "melody"):
            name = self._pick(role, rng, taken)
            if name is not None and len(parts[role]):
                who[role] = name
                taken.add(name)
        notes = {who[r]: self._fit(who[r], parts[r]) for r in who}
        secs = [(s, m, [who[p] for p in on if p in who and len(parts[p])], tempo, key)
                for s, m, on, tempo, key in sections]
        return notes, secs, min(length, seconds)

    def reorchestrated(self, rng, seconds: float):
        """A source song's parts on other instruments, transposed, at another tempo, cut
        somewhere else: ({instrument: notes}, None, length s). None without sources."""
        if not self.sources:
            return None
        track = self.sources[sorted(self.sources)[int(rng.integers(len(self.sources)))]]
        factor = float(rng.uniform(0.8, 1.25))  # >1: faster
        span = seconds * factor
        end = max(float(n[:, 1].max()) for n in track.midi_notes.values() if len(n))
        start = float(rng.uniform(0, max(0.0, end - span)))
        shift = int(rng.integers(-3, 4))
        notes, taken = {}, set()
        for src, n in sorted(track.midi_notes.items()):
            keep = n[(n[:, 1] > start) & (n[:, 0] < start + span)]
            if not len(keep):
                continue
            name = self._pick(role_of(src), rng, taken)
            if name is None:
                continue
            taken.add(name)
            out = keep.copy()
            out[:, :2] = (np.clip(out[:, :2], start, start + span) - start) / factor
            if name != "Drums":
                out[:, 2] += shift
            notes[name] = self._fit(name, out[out[:, 1] > out[:, 0]])
        return (notes, None, seconds) if notes else None

    def arrange(self, rng, seconds: float):
        """Half composed, half re-orchestrated (composed when there is no source song)."""
        if self.sources and rng.random() < 0.5:
            out = self.reorchestrated(rng, seconds)
            if out is not None:
                return out
        return self.composed(rng, seconds)

    # ---- rendering ------------------------------------------------------------------------
    def _choose(self, name: str, pitches: list[int], want: float, rng) -> tuple[int, int]:
        """Bank row for an event and the shift to apply (semitones)."""
        rows = self.rows[name]
        bank = self.bank
        if name == "Drums":
            mask = sum(1 << (p - 35) for p in set(pitches) if 35 <= p < 97)
            same = rows[bank.keys[rows] == mask]
            if not len(same):
                low = 1 << (min(pitches) - 35) if 35 <= min(pitches) < 97 else 0
                same = rows[(bank.keys[rows] & low) > 0] if low else rows
            pool = same if len(same) else rows
            return int(pool[int(rng.integers(len(pool)))]), 0
        root = min(pitches)
        sized = rows[bank.size[rows] == len(pitches)]
        if not len(sized) or np.abs(bank.root[sized] - root).min() > MAX_SHIFT:
            sized = rows[bank.size[rows] == 1] if len(pitches) == 1 else sized
        pool = sized if len(sized) else rows
        dist = np.abs(bank.root[pool].astype(int) - root)
        near = pool[dist == dist.min()]
        longer = near[bank.duration[near] >= want]  # cut a long clip rather than stop early
        near = longer if len(longer) else near
        i = int(near[int(rng.integers(len(near)))])
        return i, int(root - bank.root[i])

    def _clip(self, i: int, shift: int) -> tuple[np.ndarray, float]:
        y = self.bank.clip(i)
        dur = float(self.bank.duration[i])
        if shift:
            ratio = 2.0 ** (shift / 12.0)
            y = soxr.resample(y, self.sr * ratio, self.sr, quality="LQ").astype(np.float32)
            dur /= ratio
        return y, dur

    def render_part(self, name: str, notes: np.ndarray, n_samples: int, rng):
        """One stem: (audio (n_samples,) float32, notes as rendered (n, 4))."""
        sr = self.sr
        out = np.zeros(n_samples, np.float32)
        rendered = []
        order = notes[np.argsort(notes[:, 0], kind="stable")]
        groups: list[list[np.ndarray]] = []
        for n in order:
            if groups and n[0] - groups[-1][0][0] <= 0.015:
                groups[-1].append(n)
            else:
                groups.append([n])
        has_chords = (self.bank.size[self.rows[name]] > 1).any() if name != "Drums" else True
        fade = int(NOTE_FADE_S * sr)
        for g, group in enumerate(groups):
            onset = float(group[0][0])
            a = int(round(onset * sr))
            if a >= n_samples:
                break
            # A drum hit rings as recorded whatever its MIDI length says.
            want = np.inf if name == "Drums" else float(max(n[1] for n in group)) - onset
            nxt = float(groups[g + 1][0][0]) if g + 1 < len(groups) else n_samples / sr
            pitches = sorted({int(n[2]) for n in group})
            if len(pitches) > 1 and not has_chords:  # no chord clip: one clip per note
                plays = [(self._choose(name, [p], want, rng), [p]) for p in pitches]
            else:
                plays = [(self._choose(name, pitches, want, rng), pitches)]
            for (i, shift), covered in plays:
                y, dur = self._clip(i, shift)
                sounding = min(dur, want, nxt - onset, n_samples / sr - onset)
                if sounding <= 0:
                    continue
                cut = int(sounding * sr)
                if want < dur:  # asked to stop early: fade out from the note-off
                    y = y[: cut + fade].copy()
                    y[cut:] *= np.linspace(1.0, 0.0, len(y) - cut, dtype=np.float32)
                stop_at = int((nxt - onset) * sr)  # never sound into the next event
                if len(y) > stop_at:
                    y = y[:stop_at].copy()
                    k = min(len(y), int(0.01 * sr))
                    y[-k:] *= np.linspace(1.0, 0.0, k, dtype=np.float32)
                b = min(n_samples, a + len(y))
                out[a:b] += y[: b - a]
                rendered.extend((onset, onset + sounding, p, 64) for p in covered)
        return out, np.array(rendered, dtype=np.float64).reshape(-1, 4)

    def render(self, notes: dict[str, np.ndarray], n_samples: int, rng, *, timbre: bool = False):
        """Stems, their rendered notes and the mix: (mix, {name: stem}, {name: notes})."""
        stems, played = {}, {}
        for name, n in notes.items():
            y, r = self.render_part(name, n, n_samples, rng)
            if not len(r) or not np.any(y):
                continue
            if timbre:
                y = randomise_timbre(y, rng, sr=self.sr)
            stems[name] = y * np.float32(10 ** (rng.uniform(-9, 3) / 20))
            played[name] = r
        if not stems:
            return None
        mix = np.sum(list(stems.values()), axis=0)
        scale = np.float32(min(1.0, 0.98 / max(float(np.abs(mix).max()), 1e-6)))
        return mix * scale, {k: v * scale for k, v in stems.items()}, played


def sample_corpus(
    sources, dest: str | os.PathLike, *, n_tracks: int, seed: int, seconds=(30.0, 60.0),
    exclude=(), timbre: bool = False, cache_dir=None,
    progress: Callable[[int], None] | None = None, log: Callable[[str], None] | None = None,
) -> list[str]:
    """Write ``n_tracks`` sampled songs (ids 40001, ...) in AAM's layout; returns their ids.

    ``seconds``: (shortest, longest) song. Song ``i`` depends only on ``seed`` and ``i``.
    """
    from instdet.data.aam import load_tracks

    lo, hi = seconds
    if n_tracks < 1 or not 1.0 <= lo <= hi:
        raise InstdetError("ask for at least one song, of lengths 1 s <= A <= B")
    exclude = {str(e) for e in exclude}
    tracks = {k: v for k, v in load_tracks(sources).items() if k not in exclude}
    if log:
        log("note bank: loading or building (decodes every stem once, then cached)")
    bank = load_bank(None, tracks=tracks, cache_dir=cache_dir)
    sampler = Sampler(bank, tracks)
    ids = []
    for i in range(n_tracks):
        rng = np.random.default_rng([seed, i])
        for _ in range(20):
            seconds_i = float(rng.uniform(lo, hi))
            notes, sections, length = sampler.arrange(rng, seconds_i)
            n = int(length * bank.sr)
            out = sampler.render(notes, n, rng, timbre=timbre)
            if out is not None:
                break
        else:
            raise InstdetError("the note bank could not render a song")
        mix, stems, played = out
        if sections is not None:
            sections = [(s, m, [x for x in names if x in played], *rest)
                        for s, m, names, *rest in sections if s < length]
        tid = str(FIRST_ID + i)
        write_track(dest, tid, mix=mix, stems=stems, notes=played, sr=bank.sr, sections=sections)
        ids.append(tid)
        if progress:
            progress(1)
    return ids


class OnTheFlySampler:
    """Fresh sampled crops during training: ``sampler(rng)`` -> (features, labels) of one crop."""

    def __init__(self, tracks: dict[str, Track], *, features, crop: int, cache_dir=None):
        self.config = features
        self.crop = crop
        self.sampler = Sampler(load_bank(None, tracks=tracks, sr=features.sr,
                                         cache_dir=cache_dir), tracks)

    def __call__(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        from instdet.features import logmel
        from instdet.labels import labels_from_notes

        cfg = self.config
        n = (self.crop - 1) * cfg.hop_length
        out = None
        while out is None:
            notes, _, _ = self.sampler.arrange(rng, n / cfg.sr + 1.0)
            out = self.sampler.render(notes, n, rng)
        mix, _, played = out
        x = logmel(mix.astype(np.float32), config=cfg)[: self.crop]
        y = labels_from_notes(played, x.shape[0], sr=cfg.sr, hop_length=cfg.hop_length)
        return x, y

