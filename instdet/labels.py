"""Frame labels: a multi-hot ``(n_frames, 31)`` matrix aligned with the feature frames.

Frame ``i`` stands for time ``t_i = i * hop_length / sr`` (the centre of the STFT window, as
librosa's ``center=True``). Three sources, from coarse to fine:

``segments``
    The seed's way. Every instrument listed for a song section is on for the whole section,
    from the section's start to the next one's: a part that rests for bars inside a section
    is still marked active. Coarse and noisy (``instdet data stats`` measures how noisy).
``onsets``
    The onsets file lists, at every event time, which notes start (``+41``) or are held
    (``41``) per instrument. An instrument is on from an event where it has a note up to the
    next event time.
``midi``
    Each MIDI note marks its instrument on from note-on to note-off. The frame nearest the
    note-on is always marked, so notes shorter than a hop are not lost.

``auto`` (the default) takes ``midi`` for a track with MIDI files for the instruments it lists,
else ``onsets``, else ``segments``.
"""

from __future__ import annotations

import numpy as np

from instdet.data.aam import INSTRUMENT_INDEX, INSTRUMENTS, Track
from instdet.errors import InstdetError

LABEL_SOURCES = ("midi", "onsets", "segments")
N_INSTRUMENTS = len(INSTRUMENTS)


def frame_times(n_frames: int, *, sr: int, hop_length: int) -> np.ndarray:
    """Centre time of each frame in seconds: np.ndarray [shape=(n_frames,)]."""
    return np.arange(n_frames) * (hop_length / sr)


def _mark_intervals(
    out: np.ndarray, col: int, starts: np.ndarray, ends: np.ndarray, *, sr: int, hop_length: int
) -> None:
    """Set ``out[f, col]`` for every frame whose centre lies in some ``[start, end)``."""
    fps = sr / hop_length
    n = out.shape[0]
    first = np.clip(np.ceil(starts * fps - 1e-9).astype(int), 0, n)
    last = np.clip(np.ceil(ends * fps - 1e-9).astype(int), 0, n)
    onset_frame = np.clip(np.rint(starts * fps).astype(int), 0, n - 1)
    # Prefix sums over +1/-1 marks fill all intervals without a Python loop per frame.
    delta = np.zeros(n + 1, dtype=np.int32)
    np.add.at(delta, first, 1)
    np.add.at(delta, last, -1)
    active = np.cumsum(delta[:-1]) > 0
    active[onset_frame[starts < n / fps]] = True
    out[:, col] |= active


def labels_from_segments(track: Track, n_frames: int, *, sr: int, hop_length: int) -> np.ndarray:
    """Section-level labels: np.ndarray [shape=(n_frames, 31), dtype=uint8]."""
    out = np.zeros((n_frames, N_INSTRUMENTS), dtype=bool)
    for seg in track.segments:
        for name in seg.instruments:
            _mark_intervals(out, INSTRUMENT_INDEX[name], np.array([seg.start]),
                            np.array([seg.end]), sr=sr, hop_length=hop_length)
    return out.astype(np.uint8)


def labels_from_onsets(track: Track, n_frames: int, *, sr: int, hop_length: int) -> np.ndarray:
    """Held-note labels from the onsets file: np.ndarray [shape=(n_frames, 31), dtype=uint8]."""
    times, sounding = track.onsets
    out = np.zeros((n_frames, N_INSTRUMENTS), dtype=bool)
    if len(times) == 0:
        return out.astype(np.uint8)
    song_end = track.segments[-1].end if track.segments_path else times[-1]
    ends = np.append(times[1:], max(song_end, times[-1]))
    for col in range(N_INSTRUMENTS):
        rows = np.flatnonzero(sounding[:, col])
        if rows.size:
            _mark_intervals(out, col, times[rows], ends[rows], sr=sr, hop_length=hop_length)
    return out.astype(np.uint8)


def labels_from_notes(notes: dict[str, np.ndarray], n_frames: int, *, sr: int,
                      hop_length: int) -> np.ndarray:
    """Labels from notes per instrument ((n, >=2) start, end in s): (n_frames, 31) uint8."""
    out = np.zeros((n_frames, N_INSTRUMENTS), dtype=bool)
    for name, n in notes.items():
        if name not in INSTRUMENT_INDEX:
            raise InstdetError(f"unknown instrument {name!r} in notes")
        if len(n):
            _mark_intervals(out, INSTRUMENT_INDEX[name], n[:, 0], n[:, 1], sr=sr,
                            hop_length=hop_length)
    return out.astype(np.uint8)


def labels_from_midi(track: Track, n_frames: int, *, sr: int, hop_length: int) -> np.ndarray:
    """Note-level labels from MIDI: np.ndarray [shape=(n_frames, 31), dtype=uint8]."""
    return labels_from_notes(track.midi_notes, n_frames, sr=sr, hop_length=hop_length)


_BUILDERS = {
    "midi": labels_from_midi,
    "onsets": labels_from_onsets,
    "segments": labels_from_segments,
}


def resolve_source(track: Track, source: str = "auto") -> str:
    """The label source used for ``track`` when ``source`` is asked for."""
    if source not in ("auto", *LABEL_SOURCES):
        raise InstdetError(f"unknown label source {source!r}; use auto, {', '.join(LABEL_SOURCES)}")
    if source != "auto":
        return source
    listed = set(track.instruments)
    if track.midi_paths and listed <= set(track.midi_paths):
        return "midi"
    if track.onsets_path is not None:
        return "onsets"
    if track.segments_path is not None:
        return "segments"
    raise InstdetError(f"track {track.track_id}: no MIDI, onsets or segments file to label it")


def frame_labels(
    track: Track, n_frames: int, *, sr: int = 22050, hop_length: int = 512, source: str = "auto"
) -> tuple[np.ndarray, str]:
    """Labels of ``track`` for ``n_frames`` feature frames.

    Returns
    -------
    labels : np.ndarray [shape=(n_frames, 31), dtype=uint8]
    source : str
        The source actually used (``auto`` resolved).
    """
    if n_frames <= 0:
        raise InstdetError(f"n_frames must be positive, got {n_frames}")
    used = resolve_source(track, source)
    return _BUILDERS[used](track, n_frames, sr=sr, hop_length=hop_length), used
