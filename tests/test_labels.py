import numpy as np
import pytest

from instdet.data.aam import INSTRUMENT_INDEX, find_tracks
from instdet.errors import InstdetError
from instdet.features import n_frames_for
from instdet.labels import LABEL_SOURCES, frame_labels, frame_times, resolve_source


@pytest.mark.parametrize("source", LABEL_SOURCES)
def test_labels_have_feature_length(aam_tiny, source):
    track = find_tracks(aam_tiny)["0080"]
    n = n_frames_for(len(track.audio()), hop_length=512)
    y, used = frame_labels(track, n, source=source)
    assert used == source and y.shape == (n, 31) and y.dtype == np.uint8
    assert set(np.flatnonzero(y.any(axis=0))) == {INSTRUMENT_INDEX[i] for i in track.instruments}


def test_midi_and_onsets_agree_and_segments_are_coarser(aam_tiny):
    for track in find_tracks(aam_tiny).values():
        n = n_frames_for(int(track.duration * 22050), hop_length=512)
        m = frame_labels(track, n, source="midi")[0]
        o = frame_labels(track, n, source="onsets")[0]
        s = frame_labels(track, n, source="segments")[0]
        assert (m != o).mean() < 0.01
        assert (s >= m).mean() > 0.99  # sections cover the notes


def test_auto_prefers_midi_then_onsets(tiny, tmp_path):
    import shutil

    track = find_tracks(tiny)["0001"]
    assert resolve_source(track) == "midi"
    shutil.copytree(tiny, tmp_path / "d")
    (tmp_path / "d" / "midis" / "0001_Flute.mid").unlink()
    assert resolve_source(find_tracks(tmp_path / "d")["0001"]) == "onsets"
    with pytest.raises(InstdetError, match="unknown label source"):
        resolve_source(track, "notes")


def test_labels_match_the_audio(tiny):
    """Where a stem is silent its label is off, and where the label is on it sounds."""
    track = find_tracks(tiny)["0002"]
    n = n_frames_for(len(track.audio()), hop_length=512)
    y = frame_labels(track, n)[0]
    for name in ("Piano", "Flute"):
        stem = track.stem(name)
        rms = np.array([np.sqrt(np.mean(stem[max(0, i * 512 - 256): i * 512 + 256] ** 2))
                        for i in range(n)])
        on = y[:, INSTRUMENT_INDEX[name]] == 1
        inner = on & np.roll(on, 2) & np.roll(on, -2)  # away from note edges
        assert (rms[~on & ~np.roll(on, 1) & ~np.roll(on, -1)] < 1e-3).all()
        assert (rms[inner] > 1e-2).all()


def test_frame_times():
    np.testing.assert_allclose(frame_times(3, sr=22050, hop_length=512), [0, 512 / 22050, 1024 / 22050])
