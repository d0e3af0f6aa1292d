"""Audio decoding: any file libsndfile reads (wav, flac, ogg, mp3), resampled with soxr.

soundfile + soxr decode a 3-minute mp3 about as fast as ``librosa.load`` and skip librosa's
slow first call (numba compilation), so the CLI and the dashboard start faster
(``benchmarks/bench_features.py`` measures both in one run).

Files are decoded in blocks, mixed down and resampled as they come (``soxr.ResampleStream``
gives the same samples as a one-shot ``soxr.resample``), so memory follows the output, not
the file's channels and rate: a 14-minute, 192-kHz, 8-channel FLAC needs the 74 MB of its
mono 22.05-kHz output, not the 5 GB of its native decode. What the output would take is
computed from the header and refused before decoding when it is over ``max_decoded_bytes``.

``check_signal`` is the one check of a signal about to be analysed (silence, too short,
non-finite or absurd values); every entry point that predicts calls it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from instdet.errors import InstdetError

AUDIO_SUFFIXES = (".flac", ".wav", ".mp3", ".ogg")

#: Longest audio accepted by default (seconds): an hour-long upload is refused, not decoded.
MAX_DURATION_S = 15 * 60.0
#: Most memory the decoded output may take by default (bytes of float32 samples).
MAX_DECODED_BYTES = 1 << 30
#: Shortest signal analysed at all (seconds, about 4 frames): below it every model answers
#: noise. Clips under a few seconds are analysed with a caution (``instdet.verdict``).
MIN_SECONDS = 0.1
#: Largest sample magnitude accepted: decoded audio lies in [-1, 1]; float files may clip a
#: little above, but 1e3 (+60 dBFS) is damage or unscaled integers, and 1e18 overflows float32
#: spectra into NaN features.
MAX_PEAK = 1e3
#: Below this peak (-120 dBFS) a signal is digital silence.
SILENCE_PEAK = 1e-6
_BLOCK_BYTES = 8 << 20  # native samples decoded at a time, whatever the channel count


def regular_file(path: str | os.PathLike, *, what: str = "file") -> Path:
    """``path`` as a Path once it names a regular file; one line naming it otherwise.

    A named pipe or a device in place of a file would block (or stream forever) on ``open``,
    so it is refused from ``stat`` before anything opens it.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InstdetError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise InstdetError(f"{path}: cannot read {what} ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise InstdetError(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise InstdetError(f"{path}: not a regular file (a named pipe, device or socket); "
                           "refused")
    return path


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
    max_decoded_bytes: int = MAX_DECODED_BYTES,
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
    max_decoded_bytes : int, keyword-only
        Refuse files whose decoding would hold more than this many bytes, computed from the
        header before decoding (the output, plus one block of native samples).

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32] or [shape=(channels, n)] when ``mono=False``

    Raises
    ------
    InstdetError
        Missing, empty, not a regular file, undecodable, too long, too large once decoded,
        or holding non-finite or absurd samples.
    """
    if sr <= 0:
        raise InstdetError(f"sample rate must be positive, got {sr}")
    path = _check_path(path)
    try:
        f = sf.SoundFile(str(path))
    except Exception:  # libsndfile's own text names temporary paths and guesses at pipes
        raise InstdetError(f"{path.name}: not a readable audio file (unknown format or "
                           "damaged data)") from None
    with f:
        frames, native_sr, channels = f.frames, f.samplerate, f.channels
        duration = frames / native_sr
        if max_duration is not None and duration > max_duration:
            raise InstdetError(
                f"{path.name}: {duration / 60:.1f} min of audio is over the "
                f"{max_duration / 60:.0f}-min limit"
            )
        out_channels = 1 if mono else channels
        need = 4 * (int(np.ceil(frames * sr / native_sr)) * out_channels) + _BLOCK_BYTES
        if need > max_decoded_bytes:
            raise InstdetError(
                f"{path.name}: decoding would take {need / 2**30:.2f} GiB ({duration / 60:.1f} "
                f"min, {channels} channels at {native_sr} Hz), over the "
                f"{max_decoded_bytes / 2**30:.2f}-GiB limit"
            )
        y = _decode_blocks(f, sr=sr, mono=mono, name=path.name)
    if y.shape[0] == 0:
        raise InstdetError(f"{path.name}: the file holds no audio samples")
    return np.ascontiguousarray(y if mono else y.T, dtype=np.float32)


def _decode_blocks(f: sf.SoundFile, *, sr: int, mono: bool, name: str) -> np.ndarray:
    """Samples of an open file at ``sr``: [shape=(n,)] when ``mono``, else (n, channels)."""
    block = max(1024, _BLOCK_BYTES // (4 * f.channels))
    stream = None if f.samplerate == sr else soxr.ResampleStream(
        f.samplerate, sr, 1 if mono else f.channels, dtype="float32", quality="HQ")
    pieces = []
    while True:
        try:
            data = f.read(block, dtype="float32", always_2d=True)
        except Exception as exc:
            raise InstdetError(f"{name}: cannot decode audio ({_short(exc)})") from None
        if data.shape[0] == 0:
            break
        _check_values(data, name=name)
        data = data.mean(axis=1) if mono else data
        pieces.append(data if stream is None else stream.resample_chunk(data))
    if stream is not None:
        tail = np.zeros((0,) if mono else (0, f.channels), dtype=np.float32)
        pieces.append(stream.resample_chunk(tail, last=True))
    if not pieces:
        return np.zeros((0,) if mono else (0, f.channels), dtype=np.float32)
    return np.concatenate(pieces)


def _check_values(y: np.ndarray, *, name: str) -> None:
    if not np.all(np.isfinite(y)):
        raise InstdetError(f"{name}: audio holds NaN or infinite samples")
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > MAX_PEAK:
        raise InstdetError(f"{name}: a sample of magnitude {peak:.3g} is far outside [-1, 1] "
                           "(damaged or unscaled audio)")


def check_signal(
    y: np.ndarray, sr: int, *, name: str, min_seconds: float = MIN_SECONDS
) -> np.ndarray:
    """Refuse a signal that cannot be analysed: the check every prediction entry point shares.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio at ``sr``.
    sr : int
        Sample rate in Hz.
    name : str, keyword-only
        What the messages call the signal (a file name).
    min_seconds : float, keyword-only
        Shortest signal accepted.

    Returns
    -------
    y : np.ndarray [shape=(n_samples,)], the input, unchanged

    Raises
    ------
    InstdetError
        One line starting with ``name``: not mono numbers, NaN or infinite samples, absurd
        values, too short, or silent.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise InstdetError(f"{name}: expected mono audio of shape (n,), got {y.shape}")
    if not (np.issubdtype(y.dtype, np.floating) or np.issubdtype(y.dtype, np.integer)):
        raise InstdetError(f"{name}: audio samples must be real numbers, got {y.dtype}")
    if sr <= 0:
        raise InstdetError(f"{name}: sample rate must be positive, got {sr}")
    _check_values(y, name=name)
    if y.size < min_seconds * sr:
        raise InstdetError(f"{name}: {1000 * y.size / sr:.0f} ms of audio is too short to "
                           f"analyse (at least {1000 * min_seconds:.0f} ms)")
    if not np.any(np.abs(y) > SILENCE_PEAK):
        raise InstdetError(f"{name}: the audio is silent (no sample above -120 dBFS)")
    return y


def _check_path(path: str | os.PathLike) -> Path:
    path = regular_file(path, what="audio file")
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
    min_samples: int | None = None,
) -> np.ndarray:
    """Check and decode an uploaded song (the real-case page's entry point).

    The bytes are written under a safe temporary name (the user's file name, non-ASCII or
    not, is used only in messages), decoded in blocks (memory follows the mono output, so a
    file within the size and duration limits stays far under 2 GB), and checked with
    ``check_signal``.

    Parameters
    ----------
    min_samples : int or None, keyword-only
        Shortest audio accepted, in samples at ``sr`` (``None``: ``MIN_SECONDS``).

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
    min_seconds = MIN_SECONDS if min_samples is None else min_samples / sr
    return check_signal(y, sr, name=name, min_seconds=min_seconds)
