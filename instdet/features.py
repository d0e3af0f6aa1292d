"""Log-mel features, with the seed's settings, cached on disk.

``logmel`` computes the STFT with scipy's FFT (the same numbers as
``librosa.feature.melspectrogram`` with ``center=True``, constant padding and a Hann window)
and librosa's Slaney mel filters, then
converts power to dB relative to the track's maximum (``top_db`` below it clipped), so that
a track's loudness does not shift its features.

The cache holds one ``.npy`` per audio file in ``<cache>/features/<settings hash>/``; the
entry's name carries a hash of the audio file's name, size, first and last 64 KiB, so changed
audio is recomputed while a copied dataset keeps its cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from instdet.atomic import write_with
from instdet.audio import load_audio
from instdet.errors import InstdetError


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
        if self.sr <= 0 or self.n_fft <= 0 or self.hop_length <= 0 or self.n_mels <= 0:
            raise InstdetError(f"feature settings must be positive: {self}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureConfig":
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
    """Name, size and the first and last 64 KiB: a copied or moved file keeps its entry."""
    size = path.stat().st_size
    h = hashlib.sha1(f"{path.name}|{size}".encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 16))
        if size > 1 << 17:
            f.seek(-(1 << 16), os.SEEK_END)
            h.update(f.read())
    return h.hexdigest()[:16]


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
    if path.exists():
        try:
            return np.load(path)
        except (OSError, ValueError):
            pass  # a damaged cache entry is recomputed below
    feats = logmel(load_audio(audio_path, sr=config.sr, max_duration=None), config=config)
    write_with(path, lambda tmp: np.save(open(tmp, "wb"), feats))
    return feats


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
