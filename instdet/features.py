"""Log-mel features, with the seed's settings, cached on disk.

``logmel`` computes the STFT with scipy's FFT (the same numbers as
``librosa.feature.melspectrogram`` with ``center=True``, constant padding and a Hann window)
and librosa's Slaney mel filters, then
converts power to dB relative to the track's maximum (``top_db`` below it clipped), so that
a track's loudness does not shift its features.

The cache holds one ``.npy`` per audio file in ``<cache>/features/<settings hash>/``; the
entry's name carries a BLAKE2b hash of the audio file's bytes, all of them, so any edit is
recomputed while a copied or moved dataset keeps its cache. A hash of the whole file was
chosen over size + mtime + sampled blocks: mtimes do not survive every copy and sampled
blocks miss an edit between them (the old key, name + size + first and last 64 KiB, gave
stale features for an edited file of the same size), while BLAKE2b reads ~780 MB/s, 2.7 ms
for a 3-minute mp3 against ~130 ms to decode it (docs/faults.md). A cache folder that cannot
be written (read-only, full, a file in its place) is skipped with one warning: features are
then computed in memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from instdet.atomic import write_with
from instdet.audio import MAX_PEAK, load_audio, regular_file
from instdet.errors import InstdetError

_log = logging.getLogger("instdet")


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """Log-mel settings (the seed's): saved in every run and checkpoint."""

    sr: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    top_db: float = 80.0

    def __post_init__(self):
        # Settings also come from checkpoints and JSON: a string or a bool must fail here, in
        # one line, not as a TypeError deep in the STFT.
        def number(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        for name in ("sr", "n_fft", "hop_length", "n_mels"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise InstdetError(f"feature setting {name}={value!r} must be a whole number > 0")
        if not number(self.fmin) or self.fmin < 0:
            raise InstdetError(f"feature setting fmin={self.fmin!r} must be a number >= 0")
        if self.fmax is not None and (not number(self.fmax) or self.fmax <= self.fmin):
            raise InstdetError(f"feature setting fmax={self.fmax!r} must be null or a number "
                               "above fmin")
        if not number(self.top_db) or self.top_db <= 0:
            raise InstdetError(f"feature setting top_db={self.top_db!r} must be a number > 0")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureConfig":
        if not isinstance(d, dict):
            raise InstdetError(f"feature settings must be a mapping, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise InstdetError(f"unknown feature settings: {', '.join(sorted(unknown))}")
        return cls(**d)

    @property
    def key(self) -> str:
        """Short hash of the settings: names the cache folder."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    @property
    def frame_rate(self) -> float:
        return self.sr / self.hop_length


def n_frames_for(n_samples: int, *, hop_length: int) -> int:
    """Number of frames ``logmel`` gives for ``n_samples`` samples."""
    return 1 + n_samples // hop_length


@lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    import librosa.filters  # mel filters only; no numba-compiled code runs here

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(
        np.float32)


@lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    # periodic Hann, as librosa's get_window("hann", n_fft, fftbins=True)
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)


def logmel(y: np.ndarray, *, config: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Log-mel spectrogram of a mono signal.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio at ``config.sr``.
    config : FeatureConfig, keyword-only

    Returns
    -------
    S_db : np.ndarray [shape=(n_frames, n_mels), dtype=float32]
        Time-major; ``n_frames = 1 + n_samples // hop_length``; values in ``[-top_db, 0]``.
    """
    from scipy import fft

    y = np.asarray(y)
    if y.ndim != 1:
        raise InstdetError(f"logmel expects mono audio of shape (n,), got {y.shape}")
    if y.size == 0:
        raise InstdetError("logmel got no audio samples")
    if not np.all(np.isfinite(y)):
        raise InstdetError("audio holds NaN or infinite samples")
    peak = float(np.max(np.abs(y)))
    if peak > MAX_PEAK:  # would overflow float32 power into NaN features
        raise InstdetError(f"audio holds samples far outside [-1, 1] (peak {peak:.3g})")
    n_fft, hop = config.n_fft, config.hop_length
    x = np.pad(np.asarray(y, dtype=np.float32), (n_fft // 2, n_fft // 2))  # centred frames
    n_frames = n_frames_for(y.size, hop_length=hop)
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n_frames, n_fft), strides=(x.strides[0] * hop, x.strides[0]), writeable=False)
    mel_basis = _mel_basis(config.sr, n_fft, config.n_mels, config.fmin, config.fmax)
    out = np.empty((n_frames, config.n_mels), dtype=np.float32)
    window = _hann(n_fft)
    for lo in range(0, n_frames, 2048):  # blocks bound the memory of long songs
        spec = fft.rfft(frames[lo : lo + 2048] * window, axis=1)  # (block, 1 + n_fft/2)
        power = spec.real**2 + spec.imag**2
        out[lo : lo + 2048] = power @ mel_basis.T
    db = 10.0 * np.log10(np.maximum(out, 1e-10))
    db -= db.max()
    return np.maximum(db, -config.top_db, out=db).astype(np.float32, copy=False)


def scale(S_db: np.ndarray):
    """Map dB values in ``[-top_db, 0]`` to roughly ``[-2, 2]``: what every model is fed."""
    return (S_db + 40.0) / 20.0


def default_cache_dir() -> Path:
    """``$INSTDET_CACHE`` or ``~/.cache/instdet``."""
    env = os.environ.get("INSTDET_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "instdet"


def _fingerprint(path: Path) -> str:
    """BLAKE2b of the file's bytes, read in 1-MiB chunks: any edit changes it, a copy keeps it.

    Raises
    ------
    InstdetError
        Missing, or not a regular file (a named pipe would block ``open``).
    """
    path = regular_file(path, what="audio file")
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        raise InstdetError(f"{path}: cannot read ({exc.strerror})") from None
    return h.hexdigest()


def cache_path(audio_path: Path, config: FeatureConfig, cache_dir: Path | None = None) -> Path:
    audio_path = Path(audio_path)
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    return root / "features" / config.key / f"{audio_path.stem}-{_fingerprint(audio_path)}.npy"


def file_features(
    audio_path: str | os.PathLike,
    *,
    config: FeatureConfig = FeatureConfig(),
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
) -> np.ndarray:
    """Log-mel of an audio file, read from the cache or computed and stored there.

    Returns
    -------
    S_db : np.ndarray [shape=(n_frames, n_mels), dtype=float32]
    """
    audio_path = Path(audio_path)
    if not use_cache:
        return logmel(load_audio(audio_path, sr=config.sr, max_duration=None), config=config)
    path = cache_path(audio_path, config, cache_dir)
    try:
        return np.load(path)
    except (OSError, ValueError, EOFError):
        pass  # absent, unreadable or damaged: computed below
    feats = logmel(load_audio(audio_path, sr=config.sr, max_duration=None), config=config)
    def writer(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # closed inside the atomic write: a full disk fails here
            np.save(f, feats)

    try:
        write_with(path, writer)
    except OSError as exc:  # read-only, full, or a file where a folder should be
        _warn_cache_once(path.parents[2], exc)
    return feats


_warned: set[Path] = set()
_warned_lock = threading.Lock()


def _warn_cache_once(root: Path, exc: OSError) -> None:
    with _warned_lock:
        if root in _warned:
            return
        _warned.add(root)
    # The logging module's last-resort handler prints just this line on stderr.
    _log.warning(f"warning: feature cache {root} cannot be written ({exc.strerror or exc}); "
                 "computing features in memory")


def compute_many(
    audio_paths: Iterable[str | os.PathLike],
    *,
    config: FeatureConfig = FeatureConfig(),
    cache_dir: str | os.PathLike | None = None,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[np.ndarray]:
    """``file_features`` for many files in parallel threads (decoding and FFTs release the GIL).

    ``progress(1)`` is called after each file.
    """
    paths = list(audio_paths)
    n_jobs = n_jobs or min(4, os.cpu_count() or 1)

    def one(p):
        out = file_features(p, config=config, cache_dir=cache_dir)
        if progress:
            progress(1)
        return out

    if n_jobs == 1:
        return [one(p) for p in paths]
    with ThreadPoolExecutor(n_jobs) as pool:
        return list(pool.map(one, paths))
