"""Audio decoding: any file libsndfile reads (wav, flac, ogg, mp3), resampled with soxr.

soundfile + soxr decode a 3-minute mp3 about as fast as ``librosa.load`` and skip librosa's
slow first call (numba compilation), so the CLI and the dashboard start faster
(``benchmarks/bench_features.py`` measures both in one run).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from instdet.errors import InstdetError

AUDIO_SUFFIXES = (".flac", ".wav", ".mp3", ".ogg")

#: Longest audio accepted by default (seconds): an hour-long upload is refused, not decoded.
MAX_DURATION_S = 15 * 60.0


def audio_info(path: str | os.PathLike) -> tuple[float, int, int]:
    """Return ``(duration_s, samplerate, channels)`` without decoding the samples."""
    path = _check_path(path)
    try:
        info = sf.info(str(path))
    except Exception:  # libsndfile's own text names temporary paths and guesses at pipes
        raise InstdetError(f"{path.name}: not a readable audio file (unknown format or "
                           "damaged data)") from None
    return float(info.duration), int(info.samplerate), int(info.channels)


def load_audio(
    path: str | os.PathLike,
    *,
    sr: int = 22050,
    mono: bool = True,
    max_duration: float | None = MAX_DURATION_S,
) -> np.ndarray:
    """Decode an audio file to float32, mixed down to mono and resampled to ``sr``.

    Parameters
    ----------
    path : str or PathLike
        wav, flac, ogg or mp3 file.
    sr : int, keyword-only
        Target sample rate in Hz.
    mono : bool, keyword-only
        Average the channels (``True``) or keep them.
    max_duration : float or None, keyword-only
        Refuse files longer than this many seconds (``None``: no limit).

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32] or [shape=(channels, n)] when ``mono=False``

    Raises
    ------
    InstdetError
        Missing, empty, undecodable, too long, or non-finite audio.
    """
    if sr <= 0:
        raise InstdetError(f"sample rate must be positive, got {sr}")
    path = _check_path(path)
    if max_duration is not None:
        duration, _, _ = audio_info(path)
        if duration > max_duration:
            raise InstdetError(
                f"{path.name}: {duration / 60:.1f} min of audio is over the "
                f"{max_duration / 60:.0f}-min limit"
            )
    try:
        data, native_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise InstdetError(f"{path.name}: cannot decode audio ({_short(exc)})") from None
    if data.shape[0] == 0:
        raise InstdetError(f"{path.name}: the file holds no audio samples")
    if not np.all(np.isfinite(data)):
        raise InstdetError(f"{path.name}: audio holds NaN or infinite samples")
    if mono:
        y = data.mean(axis=1)
        if native_sr != sr:
            y = soxr.resample(y, native_sr, sr, quality="HQ")
        return np.ascontiguousarray(y, dtype=np.float32)
    y = data
    if native_sr != sr:
        y = soxr.resample(y, native_sr, sr, quality="HQ")
    return np.ascontiguousarray(y.T, dtype=np.float32)


def _check_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InstdetError(f"{path}: no such audio file")
    if path.stat().st_size == 0:
        raise InstdetError(f"{path.name}: the file is empty (0 bytes)")
    return path


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1][:160] if text else type(exc).__name__


def decode_upload(
    name: str,
    data: bytes,
    *,
    sr: int = 22050,
    max_bytes: int = 50 * 2**20,
    max_duration: float = MAX_DURATION_S,
    min_samples: int = 2048,
) -> np.ndarray:
    """Check and decode an uploaded song (the real-case page's entry point).

    The bytes are written under a safe temporary name (the user's file name, non-ASCII or
    not, is used only in messages), decoded, and checked for length and silence.

    Returns
    -------
    y : np.ndarray [shape=(n_samples,), dtype=float32], mono at ``sr``

    Raises
    ------
    InstdetError
        One line naming the file: too large, not audio, too long, too short, or silent.
    """
    import tempfile

    if len(data) > max_bytes:
        raise InstdetError(f"{name}: {len(data) / 2**20:.1f} MB is over the "
                           f"{max_bytes / 2**20:.0f}-MB limit")
    suffix = Path(name).suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        raise InstdetError(f"{name}: not a wav, flac, ogg or mp3 file")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            y = load_audio(path, sr=sr, max_duration=max_duration)
        except InstdetError as exc:
            raise InstdetError(f"{name}: {str(exc).split(': ', 1)[-1]}") from None
    if len(y) < min_samples:
        raise InstdetError(f"{name}: {1000 * len(y) / sr:.0f} ms of audio is too short to analyse "
                           f"(at least {1000 * min_samples / sr:.0f} ms)")
    if not np.any(np.abs(y) > 1e-6):
        raise InstdetError(f"{name}: the audio is silent (every sample is zero)")
    return y
