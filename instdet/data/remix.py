"""Stem remixes: new tracks mixed from random subsets of real AAM stems.

Each remix takes 2 to 6 instruments, each from a random source track, cut at a random offset,
with a random gain (-9 to +3 dB), summed and peak-normalised. Its MIDI notes are the source
notes shifted by the offset, so labels stay exact. Only instruments with at least one note in
the excerpt are kept. The result is written in AAM's layout (``instdet.data.writer``).
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from instdet.data.aam import Track, load_tracks
from instdet.data.writer import write_track
from instdet.errors import InstdetError

FIRST_ID = 10001  # five digits: never collides with AAM's 0001-3000


def _excerpt_notes(notes: np.ndarray, offset: float, duration: float) -> np.ndarray:
    keep = (notes[:, 1] > offset) & (notes[:, 0] < offset + duration)
    n = notes[keep].copy()
    n[:, 0] = np.clip(n[:, 0] - offset, 0, duration)
    n[:, 1] = np.clip(n[:, 1] - offset, 0, duration)
    return n[n[:, 1] > n[:, 0]]


class StemPool:
    """Decoded stems and notes of the source tracks, loaded once."""

    def __init__(self, tracks: dict[str, Track], *, sr: int):
        self.sr = sr
        self.items: list[tuple[str, str]] = []  # (track id, instrument)
        self.tracks = tracks
        self._audio: dict[tuple[str, str], np.ndarray] = {}
        for tid, track in tracks.items():
            for name in track.stem_paths:
                if name in track.midi_paths:
                    self.items.append((tid, name))
        if not self.items:
            raise InstdetError("no source track has both a stem and a MIDI file to remix")

    def audio(self, tid: str, name: str) -> np.ndarray:
        if (tid, name) not in self._audio:
            self._audio[(tid, name)] = self.tracks[tid].stem(name, sr=self.sr)
        return self._audio[(tid, name)]

    def notes(self, tid: str, name: str) -> np.ndarray:
        return self.tracks[tid].midi_notes[name]


def make_remix(pool: StemPool, rng: np.random.Generator, *, duration: float):
    """One remix: (mix, stems, notes) with stems and notes keyed by instrument."""
    sr = pool.sr
    n = int(duration * sr)
    by_inst: dict[str, list[tuple[str, str]]] = {}
    for tid, name in pool.items:
        by_inst.setdefault(name, []).append((tid, name))
    names = sorted(by_inst)
    k = int(rng.integers(2, min(6, len(names)) + 1))
    stems, notes = {}, {}
    for name in [names[i] for i in rng.choice(len(names), size=k, replace=False)]:
        tid, _ = by_inst[name][int(rng.integers(len(by_inst[name])))]
        y = pool.audio(tid, name)
        if len(y) <= n:
            continue
        for _ in range(4):  # retry offsets that land in a long rest
            offset = int(rng.integers(0, len(y) - n))
            ex = _excerpt_notes(pool.notes(tid, name), offset / sr, duration)
            if len(ex):
                break
        if not len(ex):
            continue
        gain = 10 ** (rng.uniform(-9, 3) / 20)
        stems[name] = y[offset : offset + n] * gain
        notes[name] = ex
    if not stems:
        return None
    mix = np.sum(list(stems.values()), axis=0)
    peak = max(np.abs(mix).max(), 1e-6)
    scale = min(1.0, 0.98 / peak)
    return mix * scale, {k: v * scale for k, v in stems.items()}, notes


def remix_corpus(
    sources: list[str | os.PathLike], dest: str | os.PathLike, *, n_tracks: int, seed: int,
    duration: float = 20.0, sr: int = 22050, exclude: set[str] = frozenset(),
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Write ``n_tracks`` remixes to ``dest``; returns their ids."""
    if n_tracks < 1 or duration <= 1:
        raise InstdetError("need at least one remix of more than one second")
    tracks = {k: v for k, v in load_tracks(sources).items() if k not in exclude}
    pool = StemPool(tracks, sr=sr)
    rng = np.random.default_rng(seed)
    ids = []
    i = 0
    while len(ids) < n_tracks:
        out = make_remix(pool, rng, duration=duration)
        i += 1
        if out is None:
            if i > 10 * n_tracks:
                raise InstdetError("source stems too short or silent to remix")
            continue
        mix, stems, notes = out
        tid = str(FIRST_ID + len(ids))
        write_track(dest, tid, mix=mix, stems=stems, notes=notes, sr=sr)
        ids.append(tid)
        if progress:
            progress(1)
    return ids


class OnTheFlyRemixer:
    """Fresh remix crops during training: ``remixer(rng)`` -> (features, labels) of one crop.

    Stems of the training tracks are decoded once; every call mixes a new random subset, so
    no two epochs see the same mixture.
    """

    def __init__(self, tracks: dict[str, Track], *, features, crop: int):
        from instdet.features import FeatureConfig

        self.config: FeatureConfig = features
        self.crop = crop
        self.pool = StemPool(tracks, sr=features.sr)
        # Decode now: training steps must not stall on the first use of a stem.
        for tid, name in self.pool.items:
            self.pool.audio(tid, name)

    def __call__(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        from instdet.features import logmel
        from instdet.labels import labels_from_notes

        cfg = self.config
        duration = (self.crop - 1) * cfg.hop_length / cfg.sr
        out = None
        while out is None:
            out = make_remix(self.pool, rng, duration=duration)
        mix, _, notes = out
        x = logmel(mix.astype(np.float32), config=cfg)[: self.crop]
        y = labels_from_notes(notes, x.shape[0], sr=cfg.sr, hop_length=cfg.hop_length)
        if x.shape[0] < self.crop:  # rounding: pad with silence
            pad = self.crop - x.shape[0]
            x = np.concatenate([x, np.full((pad, x.shape[1]), -cfg.top_db, np.float32)])
            y = np.concatenate([y, np.zeros((pad, y.shape[1]), np.uint8)])
        return x, y
