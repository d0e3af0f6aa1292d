import os
import signal

import numpy as np
import pytest
import soundfile as sf

from instdet import audio
from instdet.audio import audio_info, check_signal, load_audio
from instdet.errors import InstdetError


@pytest.fixture
def no_hang():
    """Fail, rather than hang, when something opens a named pipe."""
    def timeout(signum, frame):
        raise AssertionError("blocked for 10 s: a named pipe was opened")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize(
    "sr, channels, subtype",
    [(8000, 1, "PCM_16"), (96000, 1, "PCM_24"), (44100, 6, "FLOAT"), (22050, 2, "PCM_16")],
)
def test_formats(tmp_path, sr, channels, subtype):
    y = np.random.default_rng(0).uniform(-0.5, 0.5, (sr, channels))
    p = tmp_path / "x.wav"
    sf.write(p, y, sr, subtype=subtype)
    out = load_audio(p, sr=22050)
    assert out.ndim == 1 and abs(len(out) - 22050) <= 1


@pytest.mark.parametrize(
    "content, match",
    [(b"", "empty"), (b"this is text, not audio", "not a readable audio file")],
)
def test_bad_files(tmp_path, content, match):
    p = tmp_path / "song.mp3"
    p.write_bytes(content)
    with pytest.raises(InstdetError, match=match):
        load_audio(p)


def test_too_long(tmp_path):
    p = tmp_path / "long.wav"
    sf.write(p, np.zeros(8000 * 70), 8000)
    with pytest.raises(InstdetError, match="limit"):
        load_audio(p, max_duration=60)


def test_missing():
    with pytest.raises(InstdetError, match="no such audio file"):
        load_audio("/nonexistent/x.wav")


# ---- check_signal: the one check every prediction entry point shares ----------------------
@pytest.mark.parametrize(
    "y, message",
    [
        (np.zeros(22050 * 2, dtype=np.float32), "x.wav: the audio is silent (no sample above -120 dBFS)"),
        (np.full(44, 0.1, dtype=np.float32), "x.wav: 2 ms of audio is too short to analyse (at least 100 ms)"),
        (np.zeros(0, dtype=np.float32), "x.wav: 0 ms of audio is too short to analyse (at least 100 ms)"),
        (np.r_[np.full(22050, 0.1), np.nan], "x.wav: audio holds NaN or infinite samples"),
        (np.r_[np.full(22050, 0.1), -np.inf], "x.wav: audio holds NaN or infinite samples"),
        (np.r_[np.full(22050, 0.1), 1e18], "x.wav: a sample of magnitude 1e+18 is far outside [-1, 1] (damaged or unscaled audio)"),
        (np.full(22050, 20000, dtype=np.int16), "x.wav: a sample of magnitude 2e+04 is far outside [-1, 1] (damaged or unscaled audio)"),
        (np.zeros((2, 22050)), "x.wav: expected mono audio of shape (n,), got (2, 22050)"),
        (np.full(22050, 0.1 + 0j), "x.wav: audio samples must be real numbers, got complex128"),
    ],
)
def test_check_signal_refuses(y, message):
    with pytest.raises(InstdetError) as info:
        check_signal(y, 22050, name="x.wav")
    assert str(info.value) == message


@pytest.mark.parametrize("y", [np.full(22050, 0.1), np.full(22050, -1.5, dtype=np.float32),
                               np.r_[np.zeros(22049), 1e-5]])
def test_check_signal_accepts(y):
    assert check_signal(y, 22050, name="x.wav") is not None


# ---- load_audio: damaged values, non-regular files, decoding in blocks ---------------------
def test_absurd_float_samples_refused(tmp_path):
    p = tmp_path / "huge.wav"
    y = np.full(22050, 0.1, dtype=np.float32)
    y[100] = 1e18  # a float wav can hold it; its spectrum would overflow into NaN features
    sf.write(p, y, 22050, subtype="FLOAT")
    with pytest.raises(InstdetError, match=r"^huge.wav: a sample of magnitude 1e\+18 is far outside"):
        load_audio(p)


def test_folder_and_pipe_refused(tmp_path, no_hang):
    with pytest.raises(InstdetError, match="is a folder, not a file"):
        load_audio(tmp_path)
    fifo = tmp_path / "0001_mix.flac"
    os.mkfifo(fifo)
    for fn in (load_audio, audio_info):
        with pytest.raises(InstdetError, match=r"0001_mix.flac: not a regular file \(a named pipe"):
            fn(fifo)


@pytest.mark.parametrize("sr, channels", [(44100, 2), (96000, 6), (8000, 1), (22050, 2), (48000, 8)])
@pytest.mark.parametrize("block_bytes", [4096, 8 << 20])
def test_blocks_give_the_one_shot_samples(tmp_path, monkeypatch, sr, channels, block_bytes):
    import soxr

    monkeypatch.setattr(audio, "_BLOCK_BYTES", block_bytes)  # 4096: hundreds of blocks
    y = np.random.default_rng(1).uniform(-0.5, 0.5, (int(sr * 1.3), channels))
    p = tmp_path / "x.wav"
    sf.write(p, y, sr, subtype="FLOAT")
    native = sf.read(p, dtype="float32", always_2d=True)[0]
    ref = native.mean(axis=1)
    ref = ref if sr == 22050 else soxr.resample(ref, sr, 22050, quality="HQ")
    np.testing.assert_allclose(load_audio(p), ref, atol=1e-6)
    multi = native if sr == 22050 else soxr.resample(native, sr, 22050, quality="HQ")
    np.testing.assert_allclose(load_audio(p, mono=False), multi.T, atol=1e-6)


def test_decoded_size_limit_checked_before_decoding(tmp_path, monkeypatch):
    p = tmp_path / "wide.flac"
    sf.write(p, np.zeros((96000 * 3, 8)), 96000, subtype="PCM_16")

    def never(*a, **k):
        raise AssertionError("decoded although over the limit")

    monkeypatch.setattr(audio, "_decode_blocks", never)
    with pytest.raises(InstdetError) as info:
        load_audio(p, mono=False, max_decoded_bytes=9 << 20)
    assert str(info.value) == ("wide.flac: decoding would take 0.01 GiB (0.1 min, 8 channels "
                               "at 96000 Hz), over the 0.01-GiB limit")


def test_memory_follows_the_mono_output(tmp_path):
    """10 s of 8-channel 192-kHz audio is 61 MB decoded natively; in blocks, far less."""
    import tracemalloc

    p = tmp_path / "wide.flac"
    with sf.SoundFile(p, "w", 192000, 8, subtype="PCM_16", format="FLAC") as f:
        tone = (0.1 * np.sin(np.arange(192000) / 20.0)).astype(np.float32)
        for _ in range(10):
            f.write(np.repeat(tone[:, None], 8, axis=1))
    tracemalloc.start()
    try:
        y = load_audio(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert abs(len(y) - 10 * 22050) <= 1
    assert peak < 24 << 20, f"{peak / 2**20:.0f} MiB"
