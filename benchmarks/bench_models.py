"""Models on this CPU: parameters, training frames per second, and inference on a 3-minute
song: each model alone and all shipped models together (warm, median of 5), plus the
real-case page's first upload in a fresh process (imports, model loading and prediction).

    python benchmarks/bench_models.py
"""

import subprocess
import sys
import time

import numpy as np
import torch

from _common import ROOT, machine, three_minute_song, timed
from instdet.features import logmel
from instdet.inference import Predictor, predict_many
from instdet.models import MODELS, build_model, count_parameters


def train_fps(name: str, *, batch: int = 16, crop: int = 256) -> float:
    torch.manual_seed(0)
    model = build_model(name, n_mels=128, n_classes=31)
    opt = torch.optim.Adam(model.parameters())
    x = torch.randn(batch, crop, 128)
    y = torch.rand(batch, crop, 31).round()

    def step():
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return batch * crop / timed(step, repeat=5, warmup=2)


def main():
    print(f"machine: {machine()}")
    runs = sorted(p.parent for p in (ROOT / "saved_models").glob("*/model.pt"))
    y = three_minute_song()
    feats = logmel(y)
    print("| model | parameters | training frames/s (batch 16 x 256) | predict 3 min (s) |")
    print("|---|---|---|---|")
    for name in MODELS:
        model = build_model(name, n_mels=128, n_classes=31)
        run = next((r for r in runs if r.name.startswith(name + "-")), None)
        pred = Predictor.from_run(run, device="cpu") if run else None
        t = timed(lambda: pred.predict_features(feats)) if pred else float("nan")
        print(f"| {name} | {count_parameters(model):,} | {train_fps(name):,.0f} | {t:.3f} |")
    predictors = {r.name: Predictor.from_run(r, device="cpu") for r in runs}
    total = timed(lambda: predict_many(predictors, y, sr=22050))
    feat = timed(lambda: logmel(y))
    print(f"all {len(predictors)} shipped models on a 3-min song, warm: {total:.2f} s "
          f"(of which log-mel {feat:.2f} s)")
    code = ("import time; t=time.perf_counter(); import numpy as np; "
            "from pathlib import Path; from instdet.inference import Predictor, predict_many; "
            "from instdet.audio import load_audio; "
            f"runs=sorted(p.parent for p in Path(r'{ROOT / 'saved_models'}').glob('*/model.pt')); "
            "ps={r.name: Predictor.from_run(r, device='cpu') for r in runs}; "
            f"y=load_audio(r'{ROOT.parent / 'shared' / 'aam-tiny' / 'audio-mixes-mp3' / '2462_mix.mp3'}'); "
            "predict_many(ps, y, sr=22050); print(time.perf_counter()-t)")
    colds = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        colds.append(time.perf_counter() - t)
    print(f"first upload in a fresh process (imports + {len(runs)} models + one song): "
          f"{np.median(colds):.2f} s (median of 3)")


if __name__ == "__main__":
    main()
