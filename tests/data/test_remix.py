import numpy as np
import pytest

from instdet.data.aam import INSTRUMENT_INDEX, find_tracks, validate
from instdet.data.remix import remix_corpus
from instdet.features import n_frames_for
from instdet.labels import frame_labels


@pytest.fixture(scope="module")
def remixes(tiny, tmp_path_factory):
    dest = tmp_path_factory.mktemp("remix")
    ids = remix_corpus([tiny], dest, n_tracks=4, seed=3, duration=4.0, exclude={"0003"})
    return dest, ids


def test_remixes_validate_and_are_reproducible(remixes, tiny, tmp_path):
    dest, ids = remixes
    assert ids == ["10001", "10002", "10003", "10004"]
    assert validate(dest)[1] == {}
    again = remix_corpus([tiny], tmp_path, n_tracks=4, seed=3, duration=4.0, exclude={"0003"})
    a = find_tracks(dest)["10002"].audio()
    b = find_tracks(tmp_path)[again[1]].audio()
    np.testing.assert_array_equal(a, b)


def test_stems_silent_where_labels_off(remixes):
    dest, ids = remixes
    for tid in ids:
        track = find_tracks(dest)[tid]
        mix = track.audio()
        n = n_frames_for(len(mix), hop_length=512)
        y = frame_labels(track, n)[0]
        stems = sum(track.stem(s) for s in track.stem_paths)
        assert np.abs(stems - mix).max() < 1e-3  # the mix is the sum of its stems
        for name in track.stem_paths:
            if name == "Drums":
                continue  # noise bursts decay past the note's end by design of the fixture
            stem = track.stem(name)
            off = y[:, INSTRUMENT_INDEX[name]] == 0
            off &= np.roll(off, 1) & np.roll(off, -1)
            rms = np.array([np.sqrt(np.mean(stem[max(0, i * 512 - 256): i * 512 + 256] ** 2))
                            for i in range(n)])
            assert (rms[off] < 1e-3).all(), (tid, name)
