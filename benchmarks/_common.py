"""Helpers for the benchmark scripts: medians of repeated runs, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AAM_TINY = Path(os.environ.get("INSTDET_AAM_TINY", ROOT.parent / "shared" / "aam-tiny"))


def timed(fn, *, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall seconds of ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def machine() -> str:
    import torch

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads)")


def three_minute_song(sr: int = 22050):
    """180 s of real AAM audio (two mixes back to back), mono float32 at ``sr``."""
    import numpy as np

    from instdet.audio import load_audio

    y = np.concatenate([load_audio(AAM_TINY / "audio-mixes-mp3" / f"{t}_mix.mp3", sr=sr)
                        for t in ("2462", "2841")])
    return y[: 180 * sr]
