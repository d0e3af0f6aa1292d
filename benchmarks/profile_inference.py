"""Where inference time goes: torch's profiler over each shipped model type on a 3-minute
song (one warm pass each), top operators by CPU time.

    python benchmarks/profile_inference.py
"""


from torch.profiler import ProfilerActivity, profile

from _common import ROOT, machine, three_minute_song
from instdet.features import logmel
from instdet.inference import Predictor


def main():
    print(f"machine: {machine()}")
    feats = logmel(three_minute_song())
    for name in ("convtf-n300-s0", "crnn-n300-s0", "mlp-n300-s0", "release-ensemble"):
        run = ROOT / "saved_models" / name
        if not (run / "model.pt").exists():
            continue
        pred = Predictor.from_run(run, device="cpu")
        pred.probabilities(feats)  # warm
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            pred.probabilities(feats)
        total = sum(e.self_cpu_time_total for e in prof.key_averages()) / 1e6
        print(f"\n{name}: {total:.2f} s of operator time")
        for e in sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:5]:
            print(f"  {e.key:40s} {e.self_cpu_time_total / 1e6:6.3f} s  "
                  f"({100 * e.self_cpu_time_total / 1e6 / total:4.1f}%)")


if __name__ == "__main__":
    main()
