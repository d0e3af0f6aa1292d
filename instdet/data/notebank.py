"""A bank of real notes cut from AAM stems, by instrument and pitch (the note sampler's source).

AAM songs are MIDI compositions played by sampled instruments, and every stem comes with the
MIDI file it was rendered from. Each note event of a stem (the notes starting together: one
note, a chord, or a drum hit of one or more keys) is cut from its onset to where the
instrument next plays or to the end of its release, whichever comes first, so a clip never
reaches into the next note. A short fade closes it. A clip keeps its instrument, its pitches
(drums: MIDI keys), and how long it sounds as a note: onset to note-off, or to the cut when
that comes first (as AAM's MIDI labels have it); for a drum hit, whose MIDI length means
nothing, onset to where it has died away. The sampler labels a rendered note by that, never
by the length it asked for.
Clips whose notes carry no energy are dropped.

The bank of a dataset folder is built once and cached in ``<cache>/notebank/``, keyed by the
bank settings and the fingerprints (name, size, first and last 64 KiB) of every stem and MIDI
file used. ``exclude`` drops the notes of the given songs when the bank is loaded, so a test
song never contributes a note.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from instdet.atomic import write_with
from instdet.data.aam import INSTRUMENT_INDEX, INSTRUMENTS, Track, load_tracks
from instdet.errors import InstdetError

CHORD_WINDOW_S = 0.015  # notes starting this close together form one event
MAX_RELEASE_S = 0.5  # kept after the note-off, at most
FADE_S = 0.01
PRE_ROLL_S = 0.002
SILENCE_DB = -50.0  # below the clip's peak: the release has ended
MAX_PER_KEY = 6  # clips kept per (song, instrument, pitches): repeated notes add little
BANK_VERSION = 2


@dataclasses.dataclass
class NoteBank:
    """Clips and their table. ``table`` columns (one row per clip): instrument index, root
    pitch (lowest note; drums: lowest key), number of notes, key mask (drums: bit k - 35 per
    key), sounding duration in s, offset and length in ``audio`` (samples), song id."""

    audio: np.ndarray  # (total_samples,) int16
    instrument: np.ndarray  # (n,) int16
    root: np.ndarray  # (n,) int16
    size: np.ndarray  # (n,) int16, notes in the event
    keys: np.ndarray  # (n,) int64 drum key mask, 0 for pitched notes
    duration: np.ndarray  # (n,) float32, sounding seconds (note-on to note-off or cut)
    offset: np.ndarray  # (n,) int64
    length: np.ndarray  # (n,) int64
    song: np.ndarray  # (n,) str
    sr: int

    def __len__(self) -> int:
        return len(self.root)

    def clip(self, i: int) -> np.ndarray:
        """Clip ``i`` as float32 in [-1, 1]: np.ndarray [shape=(length,)]."""
        a = self.audio[self.offset[i] : self.offset[i] + self.length[i]]
        return a.astype(np.float32) / 32767.0

    def without(self, songs) -> "NoteBank":
        """The bank minus every clip of ``songs`` (ids)."""
        keep = ~np.isin(self.song, list(songs))
        return dataclasses.replace(self, **{f: getattr(self, f)[keep] for f in
                                            ("instrument", "root", "size", "keys", "duration",
                                             "offset", "length", "song")})

    def instruments(self) -> list[str]:
        return [INSTRUMENTS[i] for i in sorted(set(self.instrument.tolist()))]

    def pitch_range(self, instrument: str) -> tuple[int, int]:
        """Lowest and highest root pitch of an instrument's clips."""
        r = self.root[self.instrument == INSTRUMENT_INDEX[instrument]]
        if not len(r):
            raise InstdetError(f"the note bank has no {instrument}")
        return int(r.min()), int(r.max())


def _events(notes: np.ndarray) -> list[tuple[float, float, list[int]]]:
    """Group notes (start, end, pitch, vel) into events: (onset, last note-off, pitches)."""
    out: list[tuple[float, float, list[int]]] = []
    for start, end, pitch, _ in notes[np.argsort(notes[:, 0], kind="stable")]:
        if out and start - out[-1][0] <= CHORD_WINDOW_S:
            out[-1] = (out[-1][0], max(out[-1][1], end), out[-1][2] + [int(pitch)])
        else:
            out.append((float(start), float(end), [int(pitch)]))
    return out


def _release_end(y: np.ndarray, start: int, note_off: int, stop: int, sr: int) -> int:
    """Sample index where the release after ``note_off`` falls below SILENCE_DB of the peak."""
    hop = max(1, sr // 100)
    seg = y[start:stop]
    if len(seg) < hop:
        return stop
    n = len(seg) // hop
    rms = np.sqrt(np.mean(seg[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms / rms.max())
    first = max(0, (note_off - start) // hop)
    quiet = np.flatnonzero(db[first:] < SILENCE_DB)
    return start + (first + int(quiet[0])) * hop if len(quiet) else stop


def cut_clips(y: np.ndarray, notes: np.ndarray, *, sr: int, drums: bool):
    """Clips of one stem: yields (clip float32, root, size, key mask, sounding seconds)."""
    events = _events(notes)
    fade = int(FADE_S * sr)
    for k, (onset, off, pitches) in enumerate(events):
        a = max(0, int(round((onset - PRE_ROLL_S) * sr)))
        nxt = events[k + 1][0] if k + 1 < len(events) else len(y) / sr
        stop = min(len(y), int(nxt * sr) - int(0.005 * sr), int((off + MAX_RELEASE_S) * sr))
        if stop - a < 4 * fade:
            continue
        b = _release_end(y, a, int(off * sr), stop, sr)
        b = max(b, min(stop, int(off * sr)))  # never cut inside the note for a quiet passage
        clip = y[a:b].astype(np.float32)
        if len(clip) < 4 * fade or np.sqrt(np.mean(clip**2)) < 10 ** (-60 / 20):
            continue  # a note without sound
        clip[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        clip[: fade // 4] *= np.linspace(0.0, 1.0, fade // 4, dtype=np.float32)
        # A drum hit sounds until it has died away (its MIDI note-off is arbitrary); a
        # pitched note is labelled, as AAM labels it, from note-on to note-off.
        sounding = (b / sr - onset) if drums else min(off, b / sr) - onset
        keys = sum(1 << (p - 35) for p in set(pitches) if 35 <= p < 35 + 62) if drums else 0
        yield clip, min(pitches), len(pitches), keys, sounding


def _fingerprint(paths: list[Path]) -> str:
    from instdet.features import _fingerprint as fp

    h = hashlib.sha1(json.dumps({"version": BANK_VERSION, "max_per_key": MAX_PER_KEY,
                                 "release": MAX_RELEASE_S}).encode())
    for p in sorted(paths):
        h.update(f"{p.name}:{fp(p)}".encode())
    return h.hexdigest()[:16]


def build_bank(tracks: dict[str, Track], *, sr: int = 22050, n_jobs: int = 2,
               progress: Callable[[int], None] | None = None) -> NoteBank:
    """Cut every note event of every stem that has a MIDI file (slow: decodes every stem)."""
    items = [(tid, name) for tid, t in tracks.items() for name in sorted(t.stem_paths)
             if name in t.midi_paths and name in INSTRUMENT_INDEX]
    if not items:
        raise InstdetError("no track has both a stem and a MIDI file to cut notes from")

    def one(item):
        tid, name = item
        track = tracks[tid]
        notes = track.midi_notes[name]
        rows = []
        if len(notes):
            y = track.stem(name, sr=sr)
            rng = np.random.default_rng(int(tid) if tid.isdigit() else 0)
            per_key: dict[tuple, list] = {}
            for clip, root, size, keys, dur in cut_clips(y, notes, sr=sr, drums=name == "Drums"):
                per_key.setdefault((root, size, keys), []).append((clip, root, size, keys, dur))
            for group in per_key.values():
                if len(group) > MAX_PER_KEY:  # keep a spread of lengths
                    order = np.argsort([g[4] for g in group])
                    pick = order[np.linspace(0, len(group) - 1, MAX_PER_KEY).round().astype(int)]
                    group = [group[i] for i in sorted(set(pick.tolist()))]
                rng.shuffle(group)
                rows.extend((tid, name, *g) for g in group)
        if progress:
            progress(1)
        return rows

    with ThreadPoolExecutor(n_jobs) as pool:
        rows = [r for part in pool.map(one, items) for r in part]
    if not rows:
        raise InstdetError("the stems hold no audible note to cut")
    lengths = np.array([len(r[2]) for r in rows], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    audio = np.concatenate([np.clip(np.rint(r[2] * 32767), -32767, 32767).astype(np.int16)
                            for r in rows])
    return NoteBank(
        audio=audio, instrument=np.array([INSTRUMENT_INDEX[r[1]] for r in rows], np.int16),
        root=np.array([r[3] for r in rows], np.int16), size=np.array([r[4] for r in rows], np.int16),
        keys=np.array([r[5] for r in rows], np.int64),
        duration=np.array([r[6] for r in rows], np.float32), offset=offsets, length=lengths,
        song=np.array([r[0] for r in rows]), sr=sr,
    )  # fmt: skip


def load_bank(sources, *, exclude=(), sr: int = 22050, cache_dir=None,
              progress: Callable[[int], None] | None = None, tracks: dict | None = None) -> NoteBank:
    """The note bank of one or more AAM-layout folders, from the cache or built and cached.

    ``exclude``: song ids whose notes are left out. ``tracks`` (instead of ``sources``): an
    already indexed set of tracks.
    """
    from instdet.features import default_cache_dir

    tracks = dict(tracks) if tracks is not None else load_tracks(sources)
    paths = [p for t in tracks.values() for name, p in t.stem_paths.items()
             if name in t.midi_paths] + \
            [t.midi_paths[n] for t in tracks.values() for n in t.stem_paths if n in t.midi_paths]
    if not paths:
        raise InstdetError("no track has both a stem and a MIDI file to cut notes from")
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    path = root / "notebank" / f"{_fingerprint(paths)}-{sr}.npz"
    bank = None
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                bank = NoteBank(**{f.name: z[f.name] for f in dataclasses.fields(NoteBank)
                                   if f.name != "sr"}, sr=int(z["sr"]))
        except (OSError, ValueError, KeyError, EOFError):
            bank = None  # a damaged entry is rebuilt
    if bank is None:
        bank = build_bank(tracks, sr=sr, progress=progress)
        payload = {f.name: getattr(bank, f.name) for f in dataclasses.fields(NoteBank)}
        try:
            write_with(path, lambda tmp: np.savez(open(tmp, "wb"), **payload))
        except OSError:
            pass  # a read-only cache: the bank works from memory
    exclude = {str(e) for e in exclude}
    bank = bank.without(exclude) if exclude else bank
    if not len(bank):
        raise InstdetError("no note left in the bank once the excluded songs are out")
    return bank
