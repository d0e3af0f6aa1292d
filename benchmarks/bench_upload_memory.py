"""Peak memory of the real-case path for the largest upload the page accepts: a 15-minute
song (the page's limit), stereo at 44.1 kHz, as mp3 and as FLAC, decoded with the page's
limits, then log-mel and every shipped model (`predict_features`), in a fresh process each.
Target: under 2 GB.

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
import json, resource, sys, time
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
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mib": peak, "models": len(preds),
                  "duration_s": len(y) / 22050}))
"""


def song(folder: Path) -> list[Path]:
    from instdet.audio import load_audio

    sr = 44100
    mixes = [load_audio(p, sr=sr) for p in sorted((AAM_TINY / "audio-mixes-mp3").glob("*.mp3"))]
    y = np.concatenate(mixes * 3)[: MINUTES * 60 * sr]
    stereo = np.stack([y, np.roll(y, 441)], axis=1)
    out = []
    for fmt, ext in (("MP3", "mp3"), ("FLAC", "flac")):
        path = folder / f"long.{ext}"
        sf.write(path, stereo, sr, format=fmt)
        out.append(path)
    return out


def main():
    print(f"machine: {machine()}")
    tmp = Path(tempfile.mkdtemp())
    for path in song(tmp):
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
        print(f"{path.name} ({size:.1f} MB, {runs[0]['duration_s'] / 60:.0f} min, stereo 44.1 kHz): "
              f"peak {peak:.0f} MiB (highest of 3) for decode + log-mel + {runs[0]['models']} "
              f"models, {secs:.1f} s (median of 3)")


if __name__ == "__main__":
    main()
