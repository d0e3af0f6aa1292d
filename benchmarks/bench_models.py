"""Models on this CPU, before and after the CPU-first changes, measured in one run:
parameters, training frames per second, prediction on a 3-minute song; then all shipped
models through the real-case path (decode once, then ``predict_many``), warm and in a fresh
process; whether two one-thread runs beat one two-thread run; and training with glibc's
default heap against freed memory kept for the next step (``instdet.heap``, what
``instdet train`` does), each in fresh processes.

    python benchmarks/bench_models.py

"before": the shipped architectures of the previous release (CNN-Transformer at the full
frame rate with 32-128 channels, the seed's CRNN). "after": what the sweep trains now.
"""

import os
import subprocess
import sys
import time

import numpy as np
import torch

from _common import AAM_TINY, ROOT, machine, three_minute_song, timed
from instdet.features import logmel
from instdet.inference import Predictor, predict_many, predict_logits
from instdet.models import build_model, count_parameters

CONFIGS = [
    ("mlp", "mlp", {}),
    ("crnn before (seed's, full rate)", "crnn", {"time_pool": 1}),
    ("crnn after (time pooled x4)", "crnn", {"time_pool": 4}),
    ("convtf before (full rate)", "convtf", {"channels": [32, 64, 96, 128], "time_pool": 1,
                                             "skip": False}),
    ("convtf after (time pooled x4)", "convtf", {}),
]


def train_fps(name: str, settings: dict, *, batch: int = 16, crop: int = 256) -> float:
    torch.manual_seed(0)
    model = build_model(name, n_mels=128, n_classes=31, settings=settings)
    opt = torch.optim.Adam(model.parameters())
    x = torch.randn(batch, crop, 128)
    y = torch.rand(batch, crop, 31).round()

    def step():
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return batch * crop / timed(step, repeat=5, warmup=2)


def predict_s(name: str, settings: dict, feats: np.ndarray) -> float:
    model = build_model(name, n_mels=128, n_classes=31, settings=settings).eval()
    return timed(lambda: predict_logits(model, feats), repeat=5)


def fps_process(name: str, settings: dict, *, threads: int, keep: bool = False):
    """A fresh process that prints ``train_fps(name, settings)`` on ``threads`` threads,
    with freed memory kept (``instdet.heap``) or glibc's default heap."""
    code = ("import sys; sys.path.insert(0, %r); import torch; torch.set_num_threads(%d); "
            "from instdet.heap import keep_freed_memory; %s"
            "from bench_models import train_fps; print(train_fps(%r, %r))"
            % (str(ROOT / "benchmarks"), threads, "keep_freed_memory(); " if keep else "",
               name, settings))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def printed_fps(proc) -> float:
    out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"benchmark process exited {proc.returncode}")
    return float(out.strip().splitlines()[-1])


def parallel_runs(threads_each: int, runs: int) -> float:
    """Frames per second of ``runs`` processes training convtf at once."""
    procs = [fps_process("convtf", {}, threads=threads_each) for _ in range(runs)]
    return sum(printed_fps(p) for p in procs)


def heap_fps(name: str, settings: dict, *, keep: bool) -> float:
    """One-thread training frames/s of a fresh process, with or without kept memory."""
    return printed_fps(fps_process(name, settings, threads=1, keep=keep))


def heap_table(repeat: int = 3) -> None:
    print("| model | frames/s, 1 thread, default heap | freed memory kept | ratio |")
    print("|---|---|---|---|")
    for label, name, settings in CONFIGS:
        if settings.get("time_pool", 4) == 1:
            continue  # the models the sweep trains
        base, kept = [], []
        for _ in range(repeat):  # alternating, so a drift of the machine hits both
            base.append(heap_fps(name, settings, keep=False))
            kept.append(heap_fps(name, settings, keep=True))
        b, k = np.median(base), np.median(kept)
        print(f"| {label} | {b:,.0f} | {k:,.0f} | {k / b:.2f}x |", flush=True)


def main():
    print(f"machine: {machine()}")
    y = three_minute_song()
    feats = logmel(y)
    print("| model | parameters | training frames/s, 2 threads (1 thread) | predict 3 min (s) |")
    print("|---|---|---|---|")
    for label, name, settings in CONFIGS:
        params = count_parameters(build_model(name, n_mels=128, n_classes=31, settings=settings))
        fps2 = train_fps(name, settings)
        torch.set_num_threads(1)
        fps1 = train_fps(name, settings)
        torch.set_num_threads(os.cpu_count() or 1)
        print(f"| {label} | {params:,} | {fps2:,.0f} ({fps1:,.0f}) | "
              f"{predict_s(name, settings, feats):.3f} |", flush=True)
    heap_table()
    one = parallel_runs(os.cpu_count() or 1, 1)
    two = parallel_runs(1, 2)
    print(f"convtf training, one run on {os.cpu_count()} threads: {one:,.0f} frames/s; two runs "
          f"on one thread each: {two:,.0f} frames/s together ({two / one:.2f}x)")

    runs = sorted(p.parent for p in (ROOT / "saved_models").glob("*/model.pt"))
    predictors = {r.name: Predictor.from_run(r, device="cpu") for r in runs}
    total = timed(lambda: predict_many(predictors, y, sr=22050), repeat=3)
    feat = timed(lambda: logmel(y))
    print(f"all {len(predictors)} shipped models on a 3-min song, warm: {total:.2f} s "
          f"(of which log-mel {feat:.2f} s; median of 3)")
    song = AAM_TINY / "audio-mixes-mp3" / "2462_mix.mp3"
    code = ("import time; t=time.perf_counter(); from pathlib import Path; "
            "from instdet.inference import Predictor, predict_many; "
            "from instdet.audio import load_audio; "
            f"runs=sorted(p.parent for p in Path(r'{ROOT / 'saved_models'}').glob('*/model.pt')); "
            "ps={r.name: Predictor.from_run(r, device='cpu') for r in runs}; "
            f"y=load_audio(r'{song}'); predict_many(ps, y, sr=22050); print(time.perf_counter()-t)")
    colds = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        colds.append(time.perf_counter() - t)
    print(f"first song in a fresh process (imports + {len(runs)} models + decode + predict): "
          f"{np.median(colds):.2f} s (median of 3)")


if __name__ == "__main__":
    main()
