"""Training-time augmentation of log-mel crops (labels unchanged).

With only a handful of real songs behind the training data, models learn the few recordings
by heart (training loss near 0, validation loss rising). These transforms vary what a timbre
looks like without changing which instruments play: a small shift along the mel axis, a
spectral tilt (a crude EQ), and SpecAugment's frequency and time masks.
"""

from __future__ import annotations

import numpy as np


def augment_batch(x: np.ndarray, rng: np.random.Generator, *, floor_db: float = -80.0) -> np.ndarray:
    """Augment a batch of dB crops.

    Parameters
    ----------
    x : np.ndarray [shape=(batch, n_frames, n_mels)], dB in ``[floor_db, 0]``

    Returns
    -------
    np.ndarray, same shape, a new array.
    """
    out = x.copy()
    b, t, f = out.shape
    bins = np.arange(f, dtype=np.float32)
    for i in range(b):
        shift = int(rng.integers(-3, 4))
        if shift:
            out[i] = np.roll(out[i], shift, axis=1)
            if shift > 0:
                out[i, :, :shift] = floor_db
            else:
                out[i, :, shift:] = floor_db
        tilt = rng.uniform(-6.0, 6.0)
        out[i] += tilt * (bins / (f - 1) - 0.5)
        for _ in range(2):
            w = int(rng.integers(0, f // 10 + 1))
            lo = int(rng.integers(0, f - w + 1))
            out[i, :, lo : lo + w] = floor_db
            w = int(rng.integers(0, min(20, t // 8) + 1))
            lo = int(rng.integers(0, t - w + 1))
            out[i, lo : lo + w, :] = floor_db
    return np.clip(out, floor_db, 0.0, out=out)
