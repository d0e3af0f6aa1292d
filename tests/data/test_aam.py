import numpy as np
import pytest

from instdet.data import aam
from instdet.errors import InstdetError

REAL_IDS = ["0080", "1014", "1545", "1941", "2269", "2395", "2462", "2602", "2720", "2841",
            "2990", "3000"]


def test_vocabulary_and_remotes():
    assert len(aam.INSTRUMENTS) == 31 and len(set(aam.INSTRUMENTS)) == 31
    assert aam.INSTRUMENTS[0] == "AcousticGuitar" and aam.INSTRUMENTS[-1] == "Violin"
    assert len(aam.REMOTES) == 13
    assert all(len(r.md5) == 32 for r in aam.REMOTES.values())
    assert aam.REMOTES["0001-1000-midis.zip"].md5 == "ced1350c5324febc79dec467f0296008"
    assert "zenodo.org/records/5794629/files/info.zip" in aam.REMOTES["info.zip"].url


def test_real_tracks_found_and_valid(aam_tiny):
    tracks, problems = aam.validate(aam_tiny)
    assert sorted(tracks) == REAL_IDS
    assert problems == {}


@pytest.mark.parametrize("tid", REAL_IDS)
def test_every_real_file_loads(aam_tiny, tid):
    track = aam.find_tracks(aam_tiny)[tid]
    assert track.mix_path.suffix == ".mp3"
    assert track.segments and track.segments[-1].end > 100
    times, sounding = track.onsets
    assert times.ndim == 1 and sounding.shape == (len(times), 31)
    assert len(track.beatinfo) > 50  # beatinfo has no @DATA line
    notes = track.midi_notes  # some carry key signatures that mido rejects
    assert set(notes) == set(track.instruments) == set(track.stem_paths)
    assert all(n.shape[1] == 4 and len(n) > 0 for n in notes.values())


def test_lazy_audio(aam_tiny):
    track = aam.find_tracks(aam_tiny)["0080"]
    assert "segments" not in track.__dict__  # nothing loaded yet
    y = track.audio(sr=22050)
    assert y.dtype == np.float32 and abs(len(y) / 22050 - track.duration) < 0.05


def test_tiny_fixture_valid(tiny):
    tracks, problems = aam.validate(tiny)
    assert len(tracks) == 3 and problems == {}
    assert tracks["0001"].mix_path.suffix == ".flac"


def test_mix_format_preference(tmp_path, tiny):
    import shutil

    shutil.copytree(tiny, tmp_path / "d")
    import soundfile as sf

    y, sr = sf.read(tmp_path / "d" / "audio-mixes" / "0001_mix.flac")
    (tmp_path / "d" / "audio-mixes-mp3").mkdir()
    sf.write(tmp_path / "d" / "audio-mixes-mp3" / "0001_mix.wav", y, sr)
    assert aam.find_tracks(tmp_path / "d")["0001"].mix_path.suffix == ".flac"
    (tmp_path / "d" / "audio-mixes" / "0001_mix.flac").unlink()
    assert aam.find_tracks(tmp_path / "d")["0001"].mix_path.suffix == ".wav"


@pytest.mark.parametrize(
    "damage, message",
    [
        ("segments_unknown", "unknown instrument"),
        ("onsets_garbage", "malformed"),
        ("midi_truncated", "malformed MIDI"),
        ("segments_missing", "missing: segments.arff"),
        ("stem_length", "stem lasts"),
    ],
)
def test_validate_reports_damage(tmp_path, tiny, damage, message):
    import shutil

    import soundfile as sf

    d = tmp_path / "d"
    shutil.copytree(tiny, d)
    ann = d / "annotations"
    if damage == "segments_unknown":
        p = ann / "0002_segments.arff"
        p.write_text(p.read_text().replace("Piano", "Kazoo"))
    elif damage == "onsets_garbage":
        (ann / "0002_onsets.arff").write_text("@RELATION x\n@ATTRIBUTE a NUMERIC\n@DATA\n'{{\n")
    elif damage == "midi_truncated":
        p = d / "midis" / "0002_Flute.mid"
        p.write_bytes(p.read_bytes()[:30])
    elif damage == "segments_missing":
        (ann / "0002_segments.arff").unlink()
    elif damage == "stem_length":
        p = d / "audio-multitracks" / "0002_Drums.flac"
        y, sr = sf.read(p)
        sf.write(p, y[: len(y) // 2], sr)
    tracks, problems = aam.validate(d)
    assert list(problems) == ["0002"]
    assert any(message in m for m in problems["0002"]), problems


def test_bad_files_raise_instdet_error(tmp_path):
    p = tmp_path / "0001_segments.arff"
    p.write_text("not arff at all")
    with pytest.raises(InstdetError, match="not an ARFF file"):
        aam.load_segments(p)
    with pytest.raises(InstdetError, match="no such dataset folder"):
        aam.find_tracks(tmp_path / "nope")
    with pytest.raises(InstdetError, match="no AAM tracks"):
        aam.load_tracks(tmp_path)


def _stuck_note_midi(path, *, end_s: float) -> None:
    """A note-on with no note-off, and the file's last event ``end_s`` later (120 bpm, 480 tpb)."""
    import mido

    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0),
                            mido.Message("note_on", note=60, velocity=90, time=0),
                            mido.MetaMessage("text", text="later", time=int(end_s * 960)),
                            mido.MetaMessage("end_of_track", time=0)])
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(str(path))


def _set_header(path, offset: int, value: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + 2] = value.to_bytes(2, "big")
    path.write_bytes(bytes(data))


SEGMENTS_HEAD = ("@RELATION x\n@ATTRIBUTE a NUMERIC\n@ATTRIBUTE b STRING\n@ATTRIBUTE c NUMERIC\n"
                 "@ATTRIBUTE d STRING\n@ATTRIBUTE e STRING\n@ATTRIBUTE f STRING\n@DATA\n")


def _segments(rows: list[tuple[float, str]]) -> str:
    return SEGMENTS_HEAD + "".join(
        f"{t},'{m}',120,'Cmaj','{'[]' if m == 'end' else '[Drums,Flute,Piano]'}','[]'\n"
        for t, m in rows)


# (damage, the one line validate gives for track 0002)
HARDENED = {
    "sections going backwards": (
        lambda d: (d / "annotations" / "0002_segments.arff").write_text(
            _segments([(0.0, "A"), (4.0, "B"), (2.0, "A"), (6.0, "end")])),
        "0002_segments.arff: section times go backwards (2.000 s after 4.000 s, row 3)"),
    "onsets going backwards": (
        lambda d: (d / "annotations" / "0002_onsets.arff").write_text(
            (d / "annotations" / "0002_onsets.arff").read_text().replace("\n0.5,", "\n0.1,", 1)),
        "0002_onsets.arff: event times go backwards (0.100 s after 0.250 s, row 3)"),
    "sections past the mix": (
        lambda d: (d / "annotations" / "0002_segments.arff").write_text(
            _segments([(0.0, "A"), (60.0, "end")])),
        "0002_segments.arff: annotations run to 60.00 s, 54.00 s past the end of the mix (6.00 s)"),
    "stuck MIDI note": (
        lambda d: _stuck_note_midi(d / "midis" / "0002_Flute.mid", end_s=3600.0),
        "0002_Flute.mid: notes run to 3600.00 s, 3594.00 s past the end of the mix (6.00 s)"),
    "MIDI with 0 ticks per beat": (
        lambda d: _set_header(d / "midis" / "0002_Flute.mid", 12, 0),
        "0002_Flute.mid: malformed MIDI file (0 ticks per quarter note in its header)"),
    "MIDI with 0 tracks": (
        lambda d: _set_header(d / "midis" / "0002_Flute.mid", 10, 0),
        "0002_Flute.mid: malformed MIDI file (its header announces 0 tracks)"),
    "MIDI with SMPTE timing": (
        lambda d: _set_header(d / "midis" / "0002_Flute.mid", 12, 0xE728),
        "0002_Flute.mid: malformed MIDI file (SMPTE time division is not supported)"),
}


@pytest.mark.parametrize("damage", list(HARDENED))
def test_validate_reports_inconsistent_files(tmp_path, tiny, damage):
    import shutil

    d = tmp_path / "d"
    shutil.copytree(tiny, d)
    make, message = HARDENED[damage]
    make(d)
    _, problems = aam.validate(d)
    assert list(problems) == ["0002"] and problems["0002"] == [message], problems


def test_a_named_pipe_in_place_of_the_mix_does_not_hang(tmp_path, tiny):
    import os
    import shutil

    d = tmp_path / "d"
    shutil.copytree(tiny, d)
    mix = d / "audio-mixes" / "0002_mix.flac"
    mix.unlink()
    os.mkfifo(mix)
    _, problems = aam.validate(d)
    assert problems["0002"] == [f"{mix}: not a regular file (a named pipe, device or socket); "
                                "refused"]
    with pytest.raises(InstdetError, match="not a regular file"):
        aam.find_tracks(d)["0002"].audio()
