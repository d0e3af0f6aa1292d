import numpy as np
import pytest

from instdet.audio import load_audio
from instdet.errors import InstdetError
from instdet.features import FeatureConfig, cache_path, file_features, logmel, n_frames_for


def test_logmel_matches_librosa():
    import librosa

    rng = np.random.default_rng(0)
    y = (rng.standard_normal(22050 * 3) * 0.1).astype(np.float32)
    ours = logmel(y)
    ref = librosa.power_to_db(
        librosa.feature.melspectrogram(y=y, sr=22050, n_fft=2048, hop_length=512, n_mels=128),
        ref=np.max, top_db=80.0).T
    assert ours.shape == ref.shape == (n_frames_for(len(y), hop_length=512), 128)
    assert np.abs(ours - ref).max() < 0.01


@pytest.mark.parametrize("n", [1, 100, 1023, 1024, 22050])
def test_short_signals(n):
    out = logmel(np.ones(n, dtype=np.float32) * 0.1)
    assert out.shape == (1 + n // 512, 128) and np.isfinite(out).all()


@pytest.mark.parametrize("bad", [np.zeros((2, 100)), np.zeros(0), np.array([np.nan] * 100)])
def test_bad_input(bad):
    with pytest.raises(InstdetError):
        logmel(bad)


def test_cache_roundtrip_and_key(tiny):
    path = tiny / "audio-mixes" / "0001_mix.flac"
    a = file_features(path)
    assert cache_path(path, FeatureConfig()).exists()
    b = file_features(path)
    np.testing.assert_array_equal(a, b)
    other = FeatureConfig(n_mels=64)
    assert other.key != FeatureConfig().key
    assert file_features(path, config=other).shape == (a.shape[0], 64)


def test_real_mp3_decodes(aam_tiny):
    y = load_audio(aam_tiny / "audio-mixes-mp3" / "0080_mix.mp3")
    assert y.dtype == np.float32 and 120 < len(y) / 22050 < 140
