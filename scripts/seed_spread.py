"""How much a shipped sweep run's real-test score moves with its seed.

    python scripts/seed_spread.py RUN [RUN ...] [--seeds 1,2] [--aam DIR]
                                  (about 6 core-minutes a run and seed; two at a time)

Each RUN (a folder name in saved_models/, trained with seed 0) is trained again with the
same settings and data (its config.json) and each other seed, in one pool
(``instdet.parallel.train_parallel``), into work/seeds/; all are scored on the real test
songs 2462, 2841, 3000, post-processed as each run chose on its validation songs. Prints
F1 micro / macro per seed, the mean over all seeds, and the GPU run of
results/cpu_vs_gpu_runs.csv beside it. The scores (run, seed, f1_micro, f1_macro; seed 0 is
the shipped run) go to results/seed_spread.csv, replacing those of the same runs and keeping
the others; the dashboard's Models page shows them. The data the runs name (e.g.
work/packs/*.npz) must be there: `scripts/reproduce.sh ../shared/aam-tiny data` makes it.
Nothing in saved_models/ is written.
"""

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from instdet.atomic import write_csv
from instdet.data.aam import load_tracks
from instdet.errors import InstdetError
from instdet.evaluation import evaluate_run
from instdet.parallel import train_parallel
from instdet.runs import RunDir, read_table
from instdet.training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
TEST = ("2462", "2841", "3000")


def done_with(run: Path, config: TrainConfig) -> bool:
    """Whether ``run`` finished training with ``config`` (a run of other settings, e.g. from
    before the epoch budgets changed, is trained again)."""
    if not RunDir(run).is_done():
        return False
    try:
        return TrainConfig.from_dict(json.loads((run / "config.json").read_text())["train"]) \
            == config
    except (OSError, ValueError, KeyError, TypeError, InstdetError):
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--aam", type=Path, default=ROOT.parent / "shared" / "aam-tiny")
    args = ap.parse_args()
    try:
        seeds = sorted({int(s) for s in args.seeds.split(",") if s.strip()})
    except ValueError:
        ap.error(f"--seeds takes numbers, e.g. 1,2 (got {args.seeds!r})")
    if not seeds or 0 in seeds:
        ap.error("--seeds takes the other seeds, e.g. 1,2: seed 0 is the shipped run")
    work = Path(os.environ.get("INSTDET_WORK", ROOT / "work")) / "seeds"
    todo, by_run = [], {}
    for name in args.runs:
        shipped = ROOT / "saved_models" / name
        config = TrainConfig.from_dict(json.loads((shipped / "config.json").read_text())["train"])
        base = name.rsplit("-s", 1)[0]
        by_run[name] = [shipped]
        for seed in seeds:
            run = work / "runs" / f"{base}-s{seed}"
            by_run[name].append(run)
            todo.append((dataclasses.replace(config, seed=seed), run, False))
    todo = [job for job in todo if not done_with(job[1], job[0])]  # kept when done
    train_parallel(todo, jobs=2, on_event=lambda r, e, s: print(
        f"  {r}: {'done' if e is None else f'epoch {e}'}", flush=True))
    tracks = {t: tr for t, tr in load_tracks([args.aam]).items() if t in TEST}
    gpu_path = ROOT / "results" / "cpu_vs_gpu_runs.csv"
    gpu = pd.read_csv(gpu_path).set_index("run") if gpu_path.exists() else None
    print(f"\nreal-test ({', '.join(TEST)}), post-processed, F1 micro / macro\n")
    print("| run | " + " | ".join(f"seed {s}" for s in [0, *seeds]) + " | mean | GPU run |")
    print("|---|" + "---|" * (len(seeds) + 3))
    rows = []
    for name, runs in by_run.items():
        got = []
        for seed, run in zip([0, *seeds], runs):
            m = evaluate_run(run, tracks, out_dir=work / "results", eval_name="real-test")
            got.append((m["postprocessed"]["f1_micro"], m["postprocessed"]["f1_macro"]))
            rows.append({"run": name, "seed": seed, "f1_micro": round(got[-1][0], 4),
                         "f1_macro": round(got[-1][1], 4)})
        mean = np.mean(got, axis=0)
        ref = (f"{gpu.loc[name, 'gpu_postprocessed_micro']:.3f} / "
               f"{gpu.loc[name, 'gpu_postprocessed_macro']:.3f}"
               if gpu is not None and name in gpu.index else "")
        print(f"| {name} | " + " | ".join(f"{a:.3f} / {b:.3f}" for a, b in got)
              + f" | {mean[0]:.3f} / {mean[1]:.3f} | {ref} |", flush=True)
    out = ROOT / "results" / "seed_spread.csv"
    new = pd.DataFrame(rows)
    old = read_table(out, required=("run", "seed", "f1_micro", "f1_macro"))
    if old is not None:  # the other runs' rows are kept (a damaged file is replaced)
        new = pd.concat([old[~old["run"].isin(new["run"])], new]).sort_values(["run", "seed"])
    write_csv(out, new)
    print(f"\n{len(rows)} scores written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
