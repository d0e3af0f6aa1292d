import glob
import os
import struct

import numpy as np
import pretty_midi
import pytest

from instdet.data.midi import load_midi_notes
from instdet.errors import InstdetError


def test_all_real_midi_files_load_and_match_pretty_midi(aam_tiny):
    files = sorted(glob.glob(str(aam_tiny / "midis" / "*.mid")))
    assert len(files) >= 80
    rejected = 0
    for f in files:
        notes = load_midi_notes(f)
        assert notes.shape[1] == 4 and len(notes)
        try:
            pm = pretty_midi.PrettyMIDI(f)
        except Exception:  # key-signature events strict parsers reject
            rejected += 1
            continue
        ref = np.array(sorted((n.start, n.end) for i in pm.instruments for n in i.notes))
        np.testing.assert_allclose(np.array(sorted(map(tuple, notes[:, :2]))), ref, atol=1e-6)
    assert rejected >= 7  # files that only the tolerant reader can load


@pytest.mark.parametrize("data", [b"", b"MThd", b"RIFF0000", b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x01\x00\x00\x90"])
def test_broken_midi(tmp_path, data):
    p = tmp_path / "x.mid"
    p.write_bytes(data)
    with pytest.raises(InstdetError):
        load_midi_notes(p)


def _smf(*, ntrks=1, division=480, tempo=500_000, with_track=True) -> bytes:
    """A one-note Standard MIDI File, its header fields set by hand."""
    head = b"MThd" + struct.pack(">IHHH", 6, 1, ntrks, division)
    body = (b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big")  # tempo
            + b"\x00\x90\x3c\x64" + b"\x83\x60\x80\x3c\x00"  # note 60 on, off 480 ticks later
            + b"\x00\xff\x2f\x00")
    return head + (b"MTrk" + struct.pack(">I", len(body)) + body if with_track else b"")


def test_hand_made_file_loads(tmp_path):
    p = tmp_path / "ok.mid"
    p.write_bytes(_smf())
    np.testing.assert_allclose(load_midi_notes(p), [[0.0, 0.5, 60, 100]])


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"division": 0}, "x.mid: malformed MIDI file (0 ticks per quarter note in its header)"),
        ({"ntrks": 0, "with_track": False}, "x.mid: malformed MIDI file (its header announces 0 tracks)"),
        ({"division": 0xE728}, "x.mid: malformed MIDI file (SMPTE time division is not supported)"),
        ({"tempo": 0}, "x.mid: malformed MIDI file (a tempo of 0 microseconds per quarter note at tick 0)"),
        ({"ntrks": 2}, "x.mid: malformed MIDI file (missing MTrk chunk)"),
    ],
)
def test_headers_that_cannot_time_notes(tmp_path, fields, message):
    p = tmp_path / "x.mid"
    p.write_bytes(_smf(**fields))
    with pytest.raises(InstdetError) as info:
        load_midi_notes(p)
    assert str(info.value) == message


def test_pipe_and_folder_refused(tmp_path):
    os.mkfifo(tmp_path / "x.mid")
    with pytest.raises(InstdetError, match=r"x.mid: not a regular file"):
        load_midi_notes(tmp_path / "x.mid")  # read_bytes() would block forever
    with pytest.raises(InstdetError, match="is a folder"):
        load_midi_notes(tmp_path)
