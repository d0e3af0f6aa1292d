"""AAM: Artificial Audio Multitracks.

Dataset card
------------
AAM (Ostermann, Vatolkin and Ebeling, "AAM: a dataset of Artificial Audio Multitracks for
diverse music information retrieval tasks", EURASIP Journal on Audio, Speech, and Music
Processing, 2023, doi 10.1186/s13636-023-00278-7) holds 3000 songs composed and rendered by
the ArtificialSongGenerator from sampled instruments. Songs last 120-180 s at 60-180 bpm, in
sections (A, B, C, ...) with their own tempo and key; each section switches melody, chord,
arpeggio, bass and drum parts on at random. 31 instruments in all. License: CC BY 4.0.
Zenodo record 5794629.

Per track ``NNNN`` (layout as on Zenodo, also that of ``aam-tiny``)::

    audio-mixes/NNNN_mix.flac  (or audio-mixes-mp3/NNNN_mix.mp3, or wav)   the mix
    audio-multitracks*/NNNN_<Instrument>.{flac,mp3,wav}                  one stem per instrument
    annotations/NNNN_segments.arff   sections: start time, mark, tempo, key, instruments
    annotations/NNNN_onsets.arff     per event time, per instrument: '[+41]' note 41 starts,
                                     '[41]' note 41 held, '[]' silent
    annotations/NNNN_beatinfo.arff   beats and chords (has no @DATA line)
    midis/NNNN_<Instrument>.mid      the notes of each instrument

Files are found anywhere below the dataset folder, by name, so both the Zenodo zips'
folders and flat copies work. Audio and annotations load only when asked for.
"""

from __future__ import annotations

import dataclasses
import os
import re
from functools import cached_property
from pathlib import Path

import numpy as np

from instdet.audio import AUDIO_SUFFIXES, audio_info, load_audio
from instdet.data.arff import read_arff
from instdet.data.midi import load_midi_notes
from instdet.errors import InstdetError

#: The 31 AAM instruments, in the order of the onsets file's columns (label index order).
INSTRUMENTS: tuple[str, ...] = (
    "AcousticGuitar", "AltoSax", "Balalaika", "BrightPiano", "Cello", "Clarinet",
    "DoubleBassArco", "DoubleBassPizz", "Drums", "ElectricBass", "ElectricGuitarClean",
    "ElectricGuitarCrunch", "ElectricGuitarLead", "ElectricPiano", "Erhu", "Flugelhorn",
    "Flute", "Fujara", "Jinghu", "MorinKhuur", "OrganBass", "PanFlute", "Piano", "Shakuhachi",
    "Sitar", "TenorSax", "Trombone", "Trumpet", "Ukulele", "Viola", "Violin",
)  # fmt: skip
INSTRUMENT_INDEX = {name: i for i, name in enumerate(INSTRUMENTS)}

ZENODO_RECORD = "5794629"
ZENODO_URL = "https://zenodo.org/records/{record}/files/{name}?download=1"


@dataclasses.dataclass(frozen=True)
class Remote:
    """One downloadable file of the dataset."""

    filename: str
    md5: str
    part: str  # annotations, mixes, multitracks, midis, info
    first: int  # first track id it holds (0 for info.zip)
    last: int

    @property
    def url(self) -> str:
        return ZENODO_URL.format(record=ZENODO_RECORD, name=self.filename)


def _remotes() -> dict[str, Remote]:
    md5s = {
        ("0001-1000", "annotations"): "fab44c247f53292e7f4c37d4850aed70",
        ("0001-1000", "mixes"): "55feacbd10405191098f1906174c374b",
        ("0001-1000", "multitracks"): "84205a58efb75218ecf983452eebd6c5",
        ("0001-1000", "midis"): "ced1350c5324febc79dec467f0296008",
        ("1001-2000", "annotations"): "5ad193fc1bbc5987436667371771eecb",
        ("1001-2000", "mixes"): "35958837ad306a5cf064c775670d7efe",
        ("1001-2000", "multitracks"): "a9ed6b1fb0badc412682f5117c41950c",
        ("1001-2000", "midis"): "98ce17c271aa3faf72b849ebd602198e",
        ("2001-3000", "annotations"): "61956732ad1751f9491a3ba4983a763e",
        ("2001-3000", "mixes"): "cf716165098919cfa1b144705204ebfc",
        ("2001-3000", "multitracks"): "6f3e9059c93fffa3dd56decd000508b5",
        ("2001-3000", "midis"): "a6d40ba074eac2b9e72f51d0203de2b3",
    }
    stems = {
        "annotations": "annotations-v1.1.0",
        "mixes": "audio-mixes",
        "multitracks": "audio-multitracks",
        "midis": "midis",
    }
    out = {}
    for (rng, part), md5 in md5s.items():
        first, last = (int(x) for x in rng.split("-"))
        name = f"{rng}-{stems[part]}.zip"
        out[name] = Remote(name, md5, part, first, last)
    out["info.zip"] = Remote("info.zip", "15b395250d43a11e899908319e750b2f", "info", 0, 0)
    return out


#: The 13 files of Zenodo record 5794629, by file name, with their MD5 checksums.
REMOTES: dict[str, Remote] = _remotes()

_TRACK_FILE = re.compile(r"^(\d{4,6})_([A-Za-z]+)\.(\w+)$")
#: How far annotations or notes may run past the end of the mix (s) before ``validate`` flags
#: them: AAM's own end about 2.7 s before it; more than this is another song's file, a stuck
#: note, or a wrong time unit, and would label frames that do not exist.
PAST_MIX_S = 2.0
_ANNOTATION_KINDS = ("segments", "onsets", "beatinfo")


@dataclasses.dataclass(frozen=True)
class Segment:
    start: float
    end: float
    mark: str
    tempo: float
    key: str
    instruments: tuple[str, ...]


class Track:
    """One AAM track: file paths now, audio and annotations when asked for.

    Attributes
    ----------
    track_id : str
        Four digits for AAM (``"0080"``); generated corpora use five or six.
    mix_path : Path or None
    stem_paths, midi_paths : dict[str, Path]
        By instrument name.
    segments_path, onsets_path, beatinfo_path : Path or None
    """

    def __init__(self, track_id: str, files: dict[str, Path]):
        self.track_id = track_id
        self.mix_path: Path | None = files.get("mix")
        self.segments_path: Path | None = files.get("segments")
        self.onsets_path: Path | None = files.get("onsets")
        self.beatinfo_path: Path | None = files.get("beatinfo")
        self.stem_paths = {k[5:]: v for k, v in files.items() if k.startswith("stem:")}
        self.midi_paths = {k[5:]: v for k, v in files.items() if k.startswith("midi:")}

    def __repr__(self) -> str:
        return f"Track({self.track_id!r}, mix={self.mix_path})"

    def audio(self, *, sr: int = 22050) -> np.ndarray:
        """The mix, mono float32 at ``sr``: np.ndarray [shape=(n_samples,)]."""
        if self.mix_path is None:
            raise InstdetError(f"track {self.track_id}: no mix audio file")
        return load_audio(self.mix_path, sr=sr, max_duration=None)

    def stem(self, instrument: str, *, sr: int = 22050) -> np.ndarray:
        if instrument not in self.stem_paths:
            raise InstdetError(f"track {self.track_id}: no stem for {instrument}")
        return load_audio(self.stem_paths[instrument], sr=sr, max_duration=None)

    @cached_property
    def duration(self) -> float:
        """Mix duration in seconds (from the file header)."""
        if self.mix_path is None:
            raise InstdetError(f"track {self.track_id}: no mix audio file")
        return audio_info(self.mix_path)[0]

    @cached_property
    def segments(self) -> list[Segment]:
        return load_segments(self._need("segments", self.segments_path))

    @cached_property
    def onsets(self) -> tuple[np.ndarray, np.ndarray]:
        return load_onsets(self._need("onsets", self.onsets_path))

    @cached_property
    def beatinfo(self) -> list[tuple[float, int, int, str]]:
        return load_beatinfo(self._need("beatinfo", self.beatinfo_path))

    @cached_property
    def midi_notes(self) -> dict[str, np.ndarray]:
        """Notes per instrument: dict of np.ndarray [shape=(n_notes, 4)] (start, end, pitch, vel)."""
        return {name: load_midi_notes(p) for name, p in sorted(self.midi_paths.items())}

    @cached_property
    def instruments(self) -> tuple[str, ...]:
        """Instruments that play in the track (from segments, else MIDI, else stems)."""
        if self.segments_path is not None:
            names = {n for s in self.segments for n in s.instruments}
        else:
            names = set(self.midi_paths) or set(self.stem_paths)
        return tuple(n for n in INSTRUMENTS if n in names)

    def _need(self, what: str, path: Path | None) -> Path:
        if path is None:
            raise InstdetError(f"track {self.track_id}: no {what} annotation file")
        return path


def check_instrument(name: str, *, where: str) -> str:
    if name not in INSTRUMENT_INDEX:
        raise InstdetError(f"{where}: unknown instrument {name!r} (not one of AAM's 31)")
    return name


def _bracket_list(text: str) -> list[str]:
    text = (text or "").strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise ValueError(f"expected a [..] list, got {text[:40]!r}")
    return [x.strip() for x in text[1:-1].split(",") if x.strip()]


def load_segments(path: str | os.PathLike) -> list[Segment]:
    """Read a ``segments.arff`` file: one :class:`Segment` per section (the 'end' row closes)."""
    path = Path(path)
    _, rows = read_arff(path)
    out: list[Segment] = []
    try:
        for row, nxt in zip(rows, rows[1:]):
            names = tuple(
                check_instrument(n, where=path.name) for n in _bracket_list(row[4])
            )
            out.append(
                Segment(float(row[0]), float(nxt[0]), str(row[1]), float(row[2] or 0),
                        str(row[3] or ""), names)
            )
    except (TypeError, ValueError, IndexError) as exc:
        raise InstdetError(f"{path.name}: malformed segments row ({exc})") from None
    if not out:
        raise InstdetError(f"{path.name}: no sections")
    _check_times(np.array([s.start for s in out] + [out[-1].end]), where=path.name,
                 what="section")
    return out


def _check_times(times: np.ndarray, *, where: str, what: str) -> None:
    """Times must be finite, >= 0 and never go backwards: a section or event that starts
    before the previous one would label the wrong frames without any error."""
    if not np.all(np.isfinite(times)) or (times.size and times.min() < 0):
        raise InstdetError(f"{where}: {what} times must be finite and >= 0")
    back = np.flatnonzero(np.diff(times) < 0)
    if back.size:
        i = int(back[0])
        raise InstdetError(f"{where}: {what} times go backwards ({times[i + 1]:.3f} s after "
                           f"{times[i]:.3f} s, row {i + 2})")


def load_onsets(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an ``onsets.arff`` file.

    Returns
    -------
    times : np.ndarray [shape=(n_events,)]
        Event times in seconds.
    sounding : np.ndarray [shape=(n_events, 31), dtype=bool]
        Whether each instrument has a note starting or held at that event; the state holds
        until the next event.
    """
    path = Path(path)
    names, rows = read_arff(path)
    columns = []
    for name in names[1:]:
        inst = name.rsplit(" ", 1)[-1]
        columns.append(INSTRUMENT_INDEX[check_instrument(inst, where=path.name)])
    times = np.zeros(len(rows))
    sounding = np.zeros((len(rows), len(INSTRUMENTS)), dtype=bool)
    try:
        for i, row in enumerate(rows):
            times[i] = float(row[0])
            for col, cell in zip(columns, row[1:]):
                sounding[i, col] = bool(_bracket_list(cell))
    except (TypeError, ValueError) as exc:
        raise InstdetError(f"{path.name}: malformed onsets row ({exc})") from None
    _check_times(times, where=path.name, what="event")
    return times, sounding


def load_beatinfo(path: str | os.PathLike) -> list[tuple[float, int, int, str]]:
    """Read a ``beatinfo.arff`` file: (time s, bar, quarter, chord) per beat."""
    path = Path(path)
    _, rows = read_arff(path)
    try:
        return [(float(r[0]), int(r[1]), int(r[2]), str(r[3] or "")) for r in rows]
    except (TypeError, ValueError, IndexError) as exc:
        raise InstdetError(f"{path.name}: malformed beatinfo row ({exc})") from None


def _classify(name: str, suffix: str) -> str | None:
    if suffix == "arff":
        return name if name in _ANNOTATION_KINDS else None
    if suffix == "mid":
        return f"midi:{name}"
    if f".{suffix}" in AUDIO_SUFFIXES:
        return "mix" if name == "mix" else f"stem:{name}"
    return None


def find_tracks(root: str | os.PathLike) -> dict[str, Track]:
    """Index every AAM track below ``root`` by its four-digit id.

    A mix found in several formats is taken as flac, then wav, then mp3.

    Raises
    ------
    InstdetError
        ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise InstdetError(f"{root}: no such dataset folder")
    rank = {s: i for i, s in enumerate(AUDIO_SUFFIXES)}
    files: dict[str, dict[str, Path]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in filenames:
            m = _TRACK_FILE.match(fn)
            if not m:
                continue
            tid, name, suffix = m.group(1), m.group(2), m.group(3).lower()
            kind = _classify(name, suffix)
            if kind is None:
                continue
            path = Path(dirpath) / fn
            slot = files.setdefault(tid, {})
            old = slot.get(kind)
            if old is None or rank.get(path.suffix.lower(), 9) < rank.get(old.suffix.lower(), 9):
                slot[kind] = path
    return {tid: Track(tid, f) for tid, f in sorted(files.items())}


def load_tracks(
    roots: str | os.PathLike | list, *, require_mix: bool = True
) -> dict[str, Track]:
    """Tracks of one or more dataset folders; ids must not repeat across folders."""
    roots = [roots] if isinstance(roots, (str, os.PathLike)) else list(roots)
    out: dict[str, Track] = {}
    for root in roots:
        for tid, track in find_tracks(root).items():
            if require_mix and track.mix_path is None:
                continue
            if tid in out:
                raise InstdetError(
                    f"track {tid} is in two dataset folders ({out[tid].mix_path} and "
                    f"{track.mix_path}); give each corpus its own ids"
                )
            out[tid] = track
    if not out:
        raise InstdetError(f"no AAM tracks (NNNN_mix audio) found in {', '.join(map(str, roots))}")
    return out


def validate(root: str | os.PathLike) -> tuple[dict[str, Track], dict[str, list[str]]]:
    """Check every track below ``root``: files present, and each one readable and consistent.

    Audio is checked from its header (readable, duration; stems within 0.5 s of the mix),
    annotations and MIDI files are parsed in full (MIDI headers that cannot time notes and
    times that go backwards are errors), and annotations or notes that run more than
    ``PAST_MIX_S`` past the end of the mix are flagged.

    Returns
    -------
    tracks : dict[str, Track]
    problems : dict[str, list[str]]
        One-line messages per track id; empty when all is well.
    """
    from instdet.data.validation import check_track

    tracks = find_tracks(root)
    problems: dict[str, list[str]] = {}
    for tid, track in tracks.items():
        msgs = check_track(track)
        if msgs:
            problems[tid] = msgs
    return tracks, problems
