import os

import numpy as np
import pytest
import soundfile as sf

from instdet.audio import load_audio
from instdet.errors import InstdetError
from instdet.features import (FeatureConfig, _fingerprint, cache_path, file_features, logmel,
                              n_frames_for)


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


# ---- the cache key: the whole file's bytes -------------------------------------------------
def _song(path, seed=0):
    y = np.random.default_rng(seed).uniform(-0.3, 0.3, 22050 * 10).astype(np.float32)
    sf.write(path, y, 22050, subtype="PCM_16")
    return path


@pytest.mark.parametrize("where", [0.25, 0.5, 0.75])
def test_edited_file_of_the_same_size_is_recomputed(tmp_path, where):
    """The old key read only the first and last 64 KiB: an edit between them gave stale features."""
    p = _song(tmp_path / "song.wav")
    before = file_features(p, cache_dir=tmp_path / "c")
    data = bytearray(p.read_bytes())
    i = int(len(data) * where)
    data[i : i + 4096] = bytes(4096)  # 2048 samples of silence, same size
    p.write_bytes(bytes(data))
    after = file_features(p, cache_dir=tmp_path / "c")
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, file_features(p, use_cache=False))
    assert len(list((tmp_path / "c").rglob("*.npy"))) == 2


def test_copied_file_keeps_its_entry(tmp_path):
    p = _song(tmp_path / "song.wav")
    (tmp_path / "copy").mkdir()
    q = tmp_path / "copy" / "song.wav"
    q.write_bytes(p.read_bytes())
    assert cache_path(p, FeatureConfig(), tmp_path) == cache_path(q, FeatureConfig(), tmp_path)
    assert _fingerprint(p) == _fingerprint(q) and len(_fingerprint(p)) == 32


def test_fingerprint_refuses_a_pipe(tmp_path):
    import os

    os.mkfifo(tmp_path / "0001_mix.flac")
    with pytest.raises(InstdetError, match="not a regular file"):
        _fingerprint(tmp_path / "0001_mix.flac")  # open() would block forever


# ---- a cache that cannot be written: computed in memory, one warning -----------------------
@pytest.mark.parametrize("fault", ["file in place of the folder", "read-only", "disk full"])
def test_unwritable_cache_falls_back_to_memory(tmp_path, monkeypatch, caplog, fault):
    import errno

    from instdet import features

    p = _song(tmp_path / "song.wav")
    q = _song(tmp_path / "other.wav", seed=1)
    cache = tmp_path / "cache"
    if fault == "file in place of the folder":
        cache.write_text("not a folder")
    else:
        code = errno.EROFS if fault == "read-only" else errno.ENOSPC

        def fail(path, writer):
            raise OSError(code, os.strerror(code), str(path))

        monkeypatch.setattr(features, "write_with", fail)
    monkeypatch.setattr(features, "_warned", set())
    with caplog.at_level("WARNING", logger="instdet"):
        a = file_features(p, cache_dir=cache)
        b = file_features(q, cache_dir=cache)
    np.testing.assert_array_equal(a, file_features(p, use_cache=False))
    assert b.shape == a.shape
    assert len(caplog.records) == 1, caplog.text
    assert caplog.records[0].getMessage().startswith(f"warning: feature cache {cache} cannot be written")


# ---- settings and values that would give NaN features --------------------------------------
@pytest.mark.parametrize(
    "over, message",
    [
        ({"sr": "22050"}, "feature setting sr='22050' must be a whole number > 0"),
        ({"n_mels": 0}, "feature setting n_mels=0 must be a whole number > 0"),
        ({"hop_length": 512.0}, "feature setting hop_length=512.0 must be a whole number > 0"),
        ({"n_fft": True}, "feature setting n_fft=True must be a whole number > 0"),
        ({"fmin": -1.0}, "feature setting fmin=-1.0 must be a number >= 0"),
        ({"fmax": "8000"}, "feature setting fmax='8000' must be null or a number above fmin"),
        ({"top_db": float("nan")}, "feature setting top_db=nan must be a number > 0"),
    ],
)
def test_feature_settings_checked(over, message):
    with pytest.raises(InstdetError) as info:
        FeatureConfig.from_dict({**FeatureConfig().to_dict(), **over})
    assert str(info.value) == message


def test_absurd_values_refused_before_they_overflow():
    y = np.full(22050, 0.1, dtype=np.float32)
    y[5] = 1e18
    with pytest.raises(InstdetError, match="far outside"):
        logmel(y)
