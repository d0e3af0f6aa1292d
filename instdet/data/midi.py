"""A small, tolerant Standard MIDI File reader: notes with start and end times in seconds.

Strict parsers (mido, and pretty_midi on top of it) reject AAM files whose key-signature meta
events hold out-of-range values (e.g. 11 sharps). Only notes and tempo matter here, so this
reader skips every other meta event without decoding it.
"""

from __future__ import annotations

import os
import struct

import numpy as np

from instdet.audio import regular_file
from instdet.errors import InstdetError

DEFAULT_TEMPO = 500_000  # microseconds per quarter note (120 bpm), the SMF default


def load_midi_notes(path: str | os.PathLike) -> np.ndarray:
    """Read every note of a MIDI file.

    Returns
    -------
    notes : np.ndarray [shape=(n_notes, 4), dtype=float64]
        Columns: start (s), end (s), pitch, velocity; sorted by start. A note-on without a
        matching note-off ends at the file's last event.

    Raises
    ------
    InstdetError
        Missing, not a regular file, truncated or non-MIDI, or a header that cannot time its
        notes (0 ticks per quarter note, SMPTE time division, 0 tracks) or a tempo of 0.
    """
    path = regular_file(path, what="MIDI file")  # a named pipe would block read_bytes
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InstdetError(f"{path}: cannot read MIDI file ({exc.strerror})") from None
    try:
        return _parse(data)
    except (IndexError, struct.error, ValueError) as exc:
        raise InstdetError(f"{path.name}: malformed MIDI file ({exc or 'truncated'})") from None


def _parse(data: bytes) -> np.ndarray:
    if data[:4] != b"MThd":
        raise ValueError("no MThd header")
    hlen, fmt, ntrks, division = struct.unpack(">IHHH", data[4:14])
    # Each of these would give every note a time of 0 or infinity: wrong labels, silently.
    if division & 0x8000:
        raise ValueError("SMPTE time division is not supported")
    if division == 0:
        raise ValueError("0 ticks per quarter note in its header")
    if ntrks == 0:
        raise ValueError("its header announces 0 tracks")
    pos = 8 + hlen
    tempo_events: list[tuple[int, int]] = []
    raw_notes: list[tuple[int, int, int, int]] = []  # start tick, end tick, pitch, velocity
    last_tick = 0
    for _ in range(ntrks):
        if data[pos : pos + 4] != b"MTrk":
            raise ValueError("missing MTrk chunk")
        (length,) = struct.unpack(">I", data[pos + 4 : pos + 8])
        end = pos + 8 + length
        if end > len(data):
            raise ValueError("truncated track chunk")
        tick = _read_track(data, pos + 8, end, tempo_events, raw_notes)
        last_tick = max(last_tick, tick)
        pos = end
    to_sec = _tick_to_seconds(tempo_events, division)
    if not raw_notes:
        return np.zeros((0, 4))
    arr = np.array(
        [(s, last_tick if e < 0 else e, p, v) for s, e, p, v in raw_notes], dtype=np.float64
    )
    arr[:, 0] = to_sec(arr[:, 0])
    arr[:, 1] = to_sec(arr[:, 1])
    return arr[np.argsort(arr[:, 0], kind="stable")]


def _read_varlen(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos
    raise ValueError("variable-length quantity too long")


def _read_track(data, pos, end, tempo_events, raw_notes) -> int:
    tick = 0
    status = 0
    open_notes: dict[tuple[int, int], list[tuple[int, int]]] = {}
    while pos < end:
        delta, pos = _read_varlen(data, pos)
        tick += delta
        byte = data[pos]
        if byte == 0xFF:  # meta event: only tempo and end-of-track matter
            mtype = data[pos + 1]
            length, pos = _read_varlen(data, pos + 2)
            if pos + length > end:
                raise ValueError(f"meta event of {length} bytes runs past the end of its track")
            if mtype == 0x51 and length == 3:
                tempo = int.from_bytes(data[pos : pos + 3], "big")
                if tempo == 0:
                    raise ValueError(f"a tempo of 0 microseconds per quarter note at tick {tick}")
                tempo_events.append((tick, tempo))
            pos += length
            if mtype == 0x2F:
                break
            continue
        if byte in (0xF0, 0xF7):  # sysex
            length, pos = _read_varlen(data, pos + 1)
            if pos + length > end:
                raise ValueError("sysex event runs past the end of its track")
            pos += length
            continue
        if byte & 0x80:
            status = byte
            pos += 1
        elif not status:
            raise ValueError("running status without a status byte")
        kind, channel = status & 0xF0, status & 0x0F
        nbytes = 1 if kind in (0xC0, 0xD0) else 2
        args = data[pos : pos + nbytes]
        if len(args) < nbytes or pos + nbytes > end:
            raise ValueError("truncated event")
        pos += nbytes
        if kind == 0x90 and args[1] > 0:
            open_notes.setdefault((channel, args[0]), []).append((tick, args[1]))
        elif kind == 0x80 or (kind == 0x90 and args[1] == 0):
            stack = open_notes.get((channel, args[0]))
            if stack:
                start, vel = stack.pop(0)
                raw_notes.append((start, tick, args[0], vel))
    for (channel, pitch), stack in open_notes.items():
        raw_notes.extend((start, -1, pitch, vel) for start, vel in stack)
    return tick


def _tick_to_seconds(tempo_events, division):
    events = sorted(tempo_events)
    if not events or events[0][0] != 0:
        events.insert(0, (0, DEFAULT_TEMPO))
    ticks = np.array([t for t, _ in events], dtype=np.float64)
    tempos = np.array([u for _, u in events], dtype=np.float64)
    sec_per_tick = tempos / 1e6 / division
    starts = np.concatenate([[0.0], np.cumsum(np.diff(ticks) * sec_per_tick[:-1])])

    def convert(t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(ticks, t, side="right") - 1
        return starts[i] + (t - ticks[i]) * sec_per_tick[i]

    return convert
