import numpy as np
import pytest

from instdet.data.aam import INSTRUMENT_INDEX, INSTRUMENTS, find_tracks, validate
from instdet.features import n_frames_for
from instdet.labels import frame_labels

pytest.importorskip("tinysoundfont", reason="pip install --no-deps tinysoundfont")

from instdet.data import synth  # noqa: E402


def test_roles_cover_the_vocabulary():
    roles = set(synth.MELODY) | set(synth.CHORDS) | set(synth.BASS) | {"Drums"}
    assert roles == set(INSTRUMENTS) == set(synth.GM_PROGRAMS)
    assert (len(synth.MELODY), len(synth.CHORDS), len(synth.BASS)) == (16, 10, 4)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    dest = tmp_path_factory.mktemp("synth")
    ids = synth.synth_corpus(dest, n_tracks=2, seed=5, min_s=20, max_s=30)
    return dest, ids


def test_synth_validates_and_is_reproducible(corpus, tmp_path):
    dest, ids = corpus
    assert validate(dest)[1] == {}
    again = synth.synth_corpus(tmp_path, n_tracks=2, seed=5, min_s=20, max_s=30)
    assert again == ids
    np.testing.assert_array_equal(find_tracks(dest)[ids[1]].audio(), find_tracks(tmp_path)[ids[1]].audio())


def test_rendered_stems_silent_where_labels_off(corpus):
    dest, ids = corpus
    track = find_tracks(dest)[ids[0]]
    n = n_frames_for(len(track.audio()), hop_length=512)
    y = frame_labels(track, n)[0]
    for name in track.stem_paths:
        stem = track.stem(name)
        rms = np.array([np.sqrt(np.mean(stem[max(0, i * 512 - 256): i * 512 + 256] ** 2)) for i in range(n)])
        off = y[:, INSTRUMENT_INDEX[name]] == 0
        # SoundFont notes ring on after note-off (release): look 1 s past the last note
        off &= np.convolve(y[:, INSTRUMENT_INDEX[name]], np.ones(90), "full")[:n] == 0
        assert (rms[off] < 1e-3).all(), name
        assert rms[y[:, INSTRUMENT_INDEX[name]] == 1].mean() > 1e-3, name


def test_render_real_midi(aam_tiny, tmp_path):
    import shutil

    src = tmp_path / "src"
    for sub in ("midis", "annotations"):
        (src / sub).mkdir(parents=True)
        for f in (aam_tiny / sub).glob("0080_*"):
            shutil.copy(f, src / sub)
    ids = synth.render_midi_corpus(src, tmp_path / "out", seed=0)
    assert ids == ["20080"]
    track = find_tracks(tmp_path / "out")["20080"]
    assert set(track.stem_paths) == {"AltoSax", "Drums", "ElectricBass", "Piano"}
    assert validate(tmp_path / "out")[1] == {}


def test_timbre_randomisation_changes_audio_not_labels(corpus, tmp_path):
    dest, ids = corpus
    synth.synth_corpus(tmp_path, n_tracks=1, seed=5, min_s=20, max_s=30, timbre=True)
    plain, varied = find_tracks(dest)[ids[0]], find_tracks(tmp_path)[ids[0]]
    assert validate(tmp_path)[1] == {}
    assert plain.midi_notes.keys() == varied.midi_notes.keys()
    for k in plain.midi_notes:
        np.testing.assert_allclose(plain.midi_notes[k], varied.midi_notes[k], atol=2e-3)
    assert not np.allclose(plain.audio(), varied.audio())
