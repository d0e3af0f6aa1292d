"""Peak memory of the real-case path for the largest uploads the page accepts (15 minutes,
50 MB): a stereo mp3 at 44.1 kHz and a FLAC at 96 kHz, decoded with the page's limits, then
log-mel and every shipped model (`predict_features`), in a fresh process each (peak resident
memory, VmHWM). Target: under 2 GB.

    python benchmarks/bench_upload_memory.py
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from _common import AAM_TINY, ROOT, machine

MINUTES = 15  # dashboard/views/realcase.py: MAX_MIN
MAX_MB = 50  # dashboard/views/realcase.py: MAX_MB

CODE = r"""
import json, sys, time
from pathlib import Path
from instdet.audio import decode_upload
from instdet.features import logmel
from instdet.inference import Predictor
path, models, max_mb, minutes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = time.perf_counter()
y = decode_upload(path.name, path.read_bytes(), sr=22050, max_bytes=max_mb * 2**20,
                  max_duration=minutes * 60)
feats = {}
preds = {}
for run in sorted(p.parent for p in models.glob("*/model.pt")):
    pred = Predictor.from_run(run, device="cpu")
    cfg = pred.feature_config
    if cfg not in feats:
        feats[cfg] = logmel(y, config=cfg)
    preds[run.name] = pred.predict_features(feats[cfg])
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent.
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mib": peak, "models": len(preds),
                  "duration_s": len(y) / 22050}))
"""


def songs(folder: Path) -> list[Path]:
    """The real-sounding case, a 15-min stereo mp3 of AAM mixes at 44.1 kHz, and the
    adversarial one, a small FLAC that decodes to 15 min of 96-kHz stereo (640 MB as float32,
    under the 1-GiB decoded-size limit, so it is decoded, in blocks)."""
    from instdet.audio import load_audio

    sr = 44100
    mixes = [load_audio(p, sr=sr) for p in sorted((AAM_TINY / "audio-mixes-mp3").glob("*.mp3"))]
    y = np.concatenate(mixes * 3)[: MINUTES * 60 * sr]
    mp3 = folder / "long.mp3"
    sf.write(mp3, np.stack([y, np.roll(y, 441)], axis=1), sr, format="MP3")
    del y, mixes
    flac, wide_sr = folder / "wide.flac", 96000
    with sf.SoundFile(flac, "w", wide_sr, 2, format="FLAC") as f:
        for start in range(0, MINUTES * 60 * wide_sr, 60 * wide_sr):
            t = (start + np.arange(60 * wide_sr)) / wide_sr
            tone = 0.1 * np.sin(2 * np.pi * 220 * t)
            f.write(np.stack([tone, tone], axis=1))
    return [mp3, flac]


def main():
    print(f"machine: {machine()}")
    tmp = Path(tempfile.mkdtemp())
    for path in songs(tmp):
        size = path.stat().st_size / 2**20
        if size > MAX_MB:
            print(f"{path.name}: {size:.1f} MB is over the page's {MAX_MB}-MB limit; skipped")
            continue
        runs = []
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", CODE, str(path), str(ROOT / "saved_models"),
                                  str(MAX_MB), str(MINUTES)], check=True, capture_output=True,
                                 text=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        peak = max(r["peak_mib"] for r in runs)
        secs = sorted(r["seconds"] for r in runs)[1]
        print(f"{path.name} ({size:.1f} MB, {runs[0]['duration_s'] / 60:.0f} min): "
              f"peak {peak:.0f} MiB (highest of 3) for decode + log-mel + {runs[0]['models']} "
              f"models, {secs:.1f} s (median of 3)")


if __name__ == "__main__":
    main()
