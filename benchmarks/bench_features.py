"""Features: instdet's decode + log-mel against librosa.load + melspectrogram, per 3 minutes
of audio, warm (median of 5) and cold (a fresh process, median of 3); and the feature cache
at scale (time and size per 100 tracks, projected to AAM's 3000).

    python benchmarks/bench_features.py
"""

import subprocess
import sys
import tempfile
import time

import numpy as np

from _common import AAM_TINY, machine, timed
from instdet.audio import audio_info, load_audio
from instdet.features import FeatureConfig, compute_many, logmel

TRACKS = ["0080", "1014", "1545"]


def ours(path):
    return logmel(load_audio(path, sr=22050, max_duration=None))


def librosa_way(path):
    import librosa

    y, _ = librosa.load(path, sr=22050)
    S = librosa.feature.melspectrogram(y=y, sr=22050, n_fft=2048, hop_length=512, n_mels=128)
    return librosa.power_to_db(S, ref=np.max).T


def cold(code: str) -> float:
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        runs.append(time.perf_counter() - t)
    return float(np.median(runs))


def main():
    print(f"machine: {machine()}")
    paths = [AAM_TINY / "audio-mixes-mp3" / f"{t}_mix.mp3" for t in TRACKS]
    seconds = sum(audio_info(p)[0] for p in paths)
    per3 = 180.0 / seconds
    a = timed(lambda: [ours(p) for p in paths]) * per3
    b = timed(lambda: [librosa_way(p) for p in paths]) * per3
    print(f"warm, per 3 min of mp3 audio: instdet {a:.3f} s, librosa {b:.3f} s, "
          f"ratio librosa/instdet {b / a:.2f}x")
    p = paths[0]
    ca = cold(f"from instdet.audio import load_audio; from instdet.features import logmel; "
              f"logmel(load_audio(r'{p}'))")
    cb = cold(f"import librosa, numpy as np; y,_=librosa.load(r'{p}', sr=22050); "
              f"librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=22050), ref=np.max)")
    print(f"cold start (fresh process, one {audio_info(p)[0]:.0f}-s track): instdet {ca:.2f} s, "
          f"librosa {cb:.2f} s, ratio {cb / ca:.2f}x")
    all_paths = sorted((AAM_TINY / "audio-mixes-mp3").glob("*_mix.mp3"))
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        feats = compute_many(all_paths, config=FeatureConfig(), cache_dir=cache)
        el = time.perf_counter() - t
        size = sum(f.nbytes for f in feats)
    n = len(all_paths)
    print(f"cache fill, {n} tracks in parallel threads: {el:.1f} s ({el / n:.2f} s per track), "
          f"{size / n / 2**20:.2f} MiB per track")
    print(f"per 100 tracks: {100 * el / n / 60:.1f} min, {100 * size / n / 2**30:.2f} GiB; "
          f"full AAM (3000): {3000 * el / n / 3600:.2f} h, {3000 * size / n / 2**30:.1f} GiB")


if __name__ == "__main__":
    main()
