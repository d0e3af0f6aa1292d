"""The shipped sweep runs against the GPU-trained runs they replaced, on the real test songs.

    python scripts/compare_gpu_runs.py [AAM_DIR] [--commit 05a504b]     (about 1 minute)

The GPU runs are the sweep checkpoints of ``--commit`` (the last commit whose runs were trained
on a GPU: 30 epochs of 32 x 512-frame crops), read from git, not from the working tree; checkpoints
older than today's model settings load as the full-rate models they were
(``instdet.checkpoint.LEGACY_SETTINGS``). Both sets are scored now, with today's code, on the real
test songs 2462, 2841 and 3000, raw (0.5) and post-processed (each run's own choice on its
validation songs). Writes results/cpu_vs_gpu_runs.csv and prints the table of the note of
issue 14: the goal is that every run scores at least its GPU predecessor within 0.01 F1 micro
and macro.
"""

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pandas as pd

from instdet.atomic import write_csv
from instdet.data.aam import load_tracks
from instdet.evaluation import evaluate_run
from instdet.report import GPU_TOLERANCE, meets

ROOT = Path(__file__).resolve().parents[1]
TEST = ("2462", "2841", "3000")


def sweep_runs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()
                  if (p / "model.pt").exists() and p.name.split("-")[0] in ("mlp", "crnn", "convtf", "all"))


def score(runs: Path, names: list[str], tracks, out: Path) -> dict[str, dict]:
    scores = {}
    for name in names:
        m = evaluate_run(runs / name, tracks, out_dir=out, eval_name="real-test")
        scores[name] = {stage: (m[stage]["f1_micro"], m[stage]["f1_macro"])
                        for stage in ("raw", "postprocessed")}
    return scores


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("aam", nargs="?", default=str(ROOT.parent / "shared" / "aam-tiny"))
    ap.add_argument("--commit", default="05a504b")
    ap.add_argument("--out", default=str(ROOT / "results" / "cpu_vs_gpu_runs.csv"))
    args = ap.parse_args(argv)
    tracks = {t: tr for t, tr in load_tracks([args.aam]).items() if t in TEST}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.commit, "saved_models"],
                                 check=True, capture_output=True).stdout
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(tmp / "gpu", filter="data")
        old_runs, new_runs = tmp / "gpu" / "saved_models", ROOT / "saved_models"
        names = [n for n in sweep_runs(old_runs) if n in sweep_runs(new_runs)]
        before = score(old_runs, names, tracks, tmp / "gpu-results")
        after = score(new_runs, names, tracks, tmp / "cpu-results")
    rows = []
    for name in names:
        row = {"run": name}
        for stage in ("raw", "postprocessed"):
            for side, s in (("gpu", before), ("cpu", after)):
                row[f"{side}_{stage}_micro"], row[f"{side}_{stage}_macro"] = s[name][stage]
        row["met"] = all(meets(row[f"cpu_postprocessed_{k}"], row[f"gpu_postprocessed_{k}"])
                         for k in ("micro", "macro"))
        rows.append(row)
    table = pd.DataFrame(rows).round(4)
    write_csv(Path(args.out), table)
    print(f"real-test ({', '.join(TEST)}), F1 micro / macro; GPU runs of {args.commit}, "
          "CPU runs of saved_models/\n")
    print("| run | GPU raw | CPU raw | GPU post-processed | CPU post-processed | met |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        cell = lambda side, stage: f"{r[f'{side}_{stage}_micro']:.3f} / {r[f'{side}_{stage}_macro']:.3f}"
        print(f"| {r['run']} | {cell('gpu', 'raw')} | {cell('cpu', 'raw')} | "
              f"{cell('gpu', 'postprocessed')} | {cell('cpu', 'postprocessed')} | "
              f"{'yes' if r['met'] else 'no'} |")
    print(f"\nmet (post-processed, within {GPU_TOLERANCE} on both): {int(table.met.sum())} of {len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
