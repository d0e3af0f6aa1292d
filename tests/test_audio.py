import numpy as np
import pytest
import soundfile as sf

from instdet.audio import load_audio
from instdet.errors import InstdetError


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
