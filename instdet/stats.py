"""Dataset statistics: class frequency per instrument and the noise of section-level labels."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from instdet.data.aam import INSTRUMENTS, Track
from instdet.errors import InstdetError
from instdet.features import FeatureConfig, n_frames_for
from instdet.labels import LABEL_SOURCES, frame_labels

STATS_COLUMNS = (
    "instrument", "tracks", "frames_total",
    *(f"active_frames_{s}" for s in LABEL_SOURCES),
    "segments_active_but_silent", "segments_noise_rate",
)  # fmt: skip


def track_label_sets(
    track: Track, *, config: FeatureConfig = FeatureConfig(),
    warn: Callable[[str], None] | None = None,
) -> dict[str, np.ndarray]:
    """Labels of one track from every source it has: {source: (n_frames, 31) uint8}.

    A source the track lacks (no MIDI files, say) is left out silently; one whose file is
    broken is left out with a warning through ``warn``, and so is the whole track when its mix
    cannot be read (no frame count).
    """
    try:
        n = n_frames_for(int(round(track.duration * config.sr)), hop_length=config.hop_length)
    except InstdetError as exc:
        if warn:
            warn(f"warning: track {track.track_id} left out: {exc}")
        return {}
    out = {}
    for source in LABEL_SOURCES:
        path = {"onsets": track.onsets_path, "segments": track.segments_path}.get(source)
        if (source == "midi" and not track.midi_paths) or (source != "midi" and path is None):
            continue
        try:
            out[source] = frame_labels(
                track, n, sr=config.sr, hop_length=config.hop_length, source=source
            )[0]
        except InstdetError as exc:
            if warn:
                warn(f"warning: track {track.track_id}: {source} labels left out: {exc}")
    return out


def dataset_stats(
    tracks: dict[str, Track],
    *,
    config: FeatureConfig = FeatureConfig(),
    progress: Callable[[int], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Per instrument: tracks it occurs in, active frames per label source, and label noise.

    ``segments_noise_rate`` is the share of frames that ``segments`` marks active while the
    note-level labels (``midi``, else ``onsets``) say the instrument is silent.

    Returns
    -------
    pd.DataFrame, one row per instrument (31), columns ``STATS_COLUMNS``.
    """
    k = len(INSTRUMENTS)
    n_tracks = np.zeros(k, dtype=int)
    frames_total = 0
    active = {s: np.zeros(k, dtype=np.int64) for s in LABEL_SOURCES}
    false_active = np.zeros(k, dtype=np.int64)
    for track in tracks.values():
        sets = track_label_sets(track, config=config, warn=warn)
        frames_total += next(iter(sets.values())).shape[0] if sets else 0
        present = np.zeros(k, dtype=bool)
        for source, y in sets.items():
            active[source] += y.sum(axis=0, dtype=np.int64)
            present |= y.any(axis=0)
        n_tracks += present
        fine = sets.get("midi", sets.get("onsets"))
        if "segments" in sets and fine is not None:
            false_active += ((sets["segments"] == 1) & (fine == 0)).sum(axis=0)
        if progress:
            progress(1)
    if frames_total == 0:
        raise InstdetError("no labels could be read from any track; run `instdet data validate`")
    seg = active["segments"]
    rate = np.divide(false_active, seg, out=np.full(k, np.nan), where=seg > 0)
    return pd.DataFrame(
        {
            "instrument": INSTRUMENTS,
            "tracks": n_tracks,
            "frames_total": frames_total,
            **{f"active_frames_{s}": active[s] for s in LABEL_SOURCES},
            "segments_active_but_silent": false_active,
            "segments_noise_rate": rate,
        },
        columns=list(STATS_COLUMNS),
    )


def cooccurrence(tracks: dict[str, Track], *, config: FeatureConfig = FeatureConfig(),
                 source: str = "auto") -> pd.DataFrame:
    """Frames where both instruments are active, over all tracks: 31x31 DataFrame."""
    k = len(INSTRUMENTS)
    counts = np.zeros((k, k), dtype=np.int64)
    for track in tracks.values():
        n = n_frames_for(int(round(track.duration * config.sr)), hop_length=config.hop_length)
        y = frame_labels(track, n, sr=config.sr, hop_length=config.hop_length, source=source)[0]
        y = y.astype(np.int64)
        counts += y.T @ y
    return pd.DataFrame(counts, index=list(INSTRUMENTS), columns=list(INSTRUMENTS))
