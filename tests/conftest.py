"""Shared fixtures: the real aam-tiny tracks (skipped when absent) and tiny AAM-format tracks
that the tests build themselves."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from instdet.data.writer import write_track

ROOT = Path(__file__).resolve().parents[1]
AAM_TINY = Path(os.environ.get("INSTDET_AAM_TINY", ROOT.parent / "shared" / "aam-tiny"))
SR = 22050


@pytest.fixture(scope="session")
def aam_tiny() -> Path:
    if not (AAM_TINY / "annotations").is_dir():
        pytest.skip(f"real AAM tracks not found at {AAM_TINY} (set INSTDET_AAM_TINY)")
    return AAM_TINY


@pytest.fixture(autouse=True, scope="session")
def _feature_cache(tmp_path_factory):
    # Tests never write into the user's ~/.cache.
    os.environ["INSTDET_CACHE"] = str(tmp_path_factory.mktemp("cache"))


def synth_notes(rng, duration, pitch_lo, pitch_hi, note_s):
    """Notes with rests: (n, 4) start, end, pitch, velocity."""
    notes, t = [], 0.0
    while t < duration - note_s:
        if rng.random() < 0.7:
            notes.append((t, t + note_s, rng.integers(pitch_lo, pitch_hi), 100))
        t += note_s * (1 + int(rng.integers(0, 2)))
    return np.array(notes, dtype=np.float64)


def render(notes, n, *, drum=False, rng=None):
    y = np.zeros(n, dtype=np.float32)
    for start, end, pitch, _ in notes:
        a, b = int(start * SR), min(n, int(end * SR))
        t = np.arange(b - a) / SR
        if drum:
            y[a:b] += (rng.standard_normal(b - a) * np.exp(-t * 8)).astype(np.float32) * 0.3
        else:
            f = 440.0 * 2 ** ((pitch - 69) / 12)
            y[a:b] += (0.2 * np.sin(2 * np.pi * f * t)).astype(np.float32)
    return y


def build_tiny(dest: Path, *, n_tracks: int = 3, duration: float = 6.0, seed: int = 0) -> Path:
    """AAM-format tracks 0001.. with Piano, Flute and Drums stems that match their MIDI."""
    rng = np.random.default_rng(seed)
    n = int(duration * SR)
    for i in range(n_tracks):
        notes = {
            "Piano": synth_notes(rng, duration, 48, 60, 0.5),
            "Flute": synth_notes(rng, duration, 72, 84, 0.25),
            "Drums": synth_notes(rng, duration, 36, 37, 0.25),
        }
        stems = {k: render(v, n, drum=(k == "Drums"), rng=rng) for k, v in notes.items()}
        mix = sum(stems.values())
        write_track(dest, f"{i + 1:04d}", mix=mix, stems=stems, notes=notes, sr=SR)
    return dest


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    return build_tiny(tmp_path_factory.mktemp("tiny"))
