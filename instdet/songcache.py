"""Predictions of uploaded songs, kept by the audio's content: the same file uploaded again
(or the page visited again) is answered from here instead of running the models again.

An entry is keyed by the BLAKE2 hash of the uploaded bytes, the run id and the checkpoint's
size and modification time (a retrained run is not answered from an old entry). Entries live
in ``<cache>/songs/``; a cache folder that cannot be written is simply not used.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from instdet.atomic import write_with
from instdet.inference import Prediction
from instdet.runs import decode_probs, encode_probs


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class SongCache:
    def __init__(self, root: str | os.PathLike | None = None):
        from instdet.features import default_cache_dir

        self.root = Path(root) if root else default_cache_dir() / "songs"

    def _path(self, song: str, run_dir: Path) -> Path:
        ckpt = Path(run_dir) / "model.pt"
        try:
            st = ckpt.stat()
            stamp = f"{st.st_size}-{st.st_mtime_ns}"
        except OSError:
            stamp = "none"
        return self.root / song / f"{Path(run_dir).name}-{stamp}.npz"

    def get(self, song: str, run_dir: Path, predictor) -> Prediction | None:
        """The stored prediction of a run on a song, post-processed by the run's settings."""
        path = self._path(song, run_dir)
        try:
            with np.load(path, allow_pickle=False) as z:
                probs = decode_probs(z["probs"])
        except (OSError, ValueError, KeyError, EOFError):
            return None
        rate = predictor.feature_config.frame_rate
        return Prediction(np.arange(len(probs)) / rate, probs, predictor.postprocess.apply(probs),
                          rate)

    def put(self, song: str, run_dir: Path, prediction: Prediction) -> None:
        path = self._path(song, run_dir)

        def writer(tmp):
            with open(tmp, "wb") as f:
                np.savez_compressed(f, probs=encode_probs(prediction.probabilities))

        try:
            write_with(path, writer)
        except OSError:
            pass  # read-only or full: the session state still holds the result


def as_stored(prediction: Prediction, predictor) -> Prediction:
    """A fresh prediction as the cache would give it back (probabilities rounded as stored),
    so a song looks the same whether its models ran now or earlier."""
    probs = decode_probs(encode_probs(prediction.probabilities))
    return Prediction(prediction.times, probs, predictor.postprocess.apply(probs),
                      prediction.frame_rate)
