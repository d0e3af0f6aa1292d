"""Which generated songs help on real songs? Stem remixes against note-sampler songs.

    python scripts/data_experiment.py [AAM_DIR]      (about 35 min on 2 CPU cores)

4-fold cross-validation over the 12 real songs (3 test songs a fold, 2 validation songs for
early stopping, the other 7 for training). Every fold's test and validation songs are kept
out of its remixes and its note bank. The same model (the CNN-Transformer, default
settings) trains with the same budget (at most 10 epochs of 100 batches of 16 x 256 frames,
early stop after 4 epochs without a better validation score, seed 0) on the 7 real songs
plus 200 generated 20-s songs of one kind, or 100 of each:

    real+remix     200 stem remixes (`instdet data remix`)
    real+sampled   200 note-sampler songs (`instdet data sample`)
    real+both      100 remixes + 100 sampled songs

Scores pool every real song's out-of-fold prediction; the per-fold range shows the spread.
Post-processing is tuned on the other folds' out-of-fold predictions (nested), four ways:
none (raw), the median filter alone (postprocessed, instdet's default), with one threshold
for all instruments, and with per-instrument thresholds.
Writes results/data_experiment.csv (one row per condition, stage and fold, plus pooled)
and prints the table of the README.
"""

import os
import sys
import time
from pathlib import Path

import pandas as pd

from instdet.atomic import write_csv
from instdet.crossval import (STAGES, generate, load_oof, make_folds, predict_tracks, save_oof,
                              spread, summary_rows)
from instdet.data.aam import load_tracks
from instdet.runs import RunDir
from instdet.parallel import train_parallel
from instdet.training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
AAM = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "aam-tiny"
WORK = Path(os.environ.get("INSTDET_WORK", ROOT / "work")) / "data_experiment"
CONDITIONS = {"real+remix": (200, 0), "real+sampled": (0, 200), "real+both": (100, 100)}
BUDGET = dict(epochs=10, patience=4, steps_per_epoch=100, batch_size=16, crop_frames=256,
              seed=0, schedule="constant")


def main():
    t0 = time.time()
    tracks = load_tracks(AAM)
    folds = make_folds(tracks, k=4, n_val=2)
    todo, plan = [], []
    for fold in folds:
        for name, (n_remix, n_sample) in CONDITIONS.items():
            data = [str(AAM)] + generate(fold, AAM, WORK / "data", remix=n_remix,
                                         sample=n_sample, seconds=20.0, seed=0)
            run = WORK / "runs" / f"fold{fold.index}-{name}"
            cfg = TrainConfig(model="convtf", data=tuple(data), test_ids=fold.test,
                              val_ids=fold.val, **BUDGET)
            plan.append((fold, name, run))
            if not RunDir(run).is_done():
                todo.append((cfg, run))
    print(f"data ready in {time.time() - t0:.0f} s; training {len(todo)} runs", flush=True)
    train_parallel(todo, jobs=2, on_event=lambda r, e, s: print(
        f"  {r}: {'done' if e is None else f'epoch {e} val {s:.3f}'}", flush=True))
    print(f"trained in {time.time() - t0:.0f} s", flush=True)
    tables = []
    for name in CONDITIONS:
        path = WORK / "oof" / f"{name}.npz"
        oof = {}
        for fold, cond, run in plan:
            if cond == name:
                oof.update(predict_tracks(run, {t: tracks[t] for t in fold.test}))
        save_oof(path, oof, frame_rate=22050 / 512)
        oof, rate = load_oof(path)
        tables.append(summary_rows(name, oof, folds, frame_rate=rate, stages=tuple(STAGES)))
    table = pd.concat(tables, ignore_index=True)
    write_csv(ROOT / "results" / "data_experiment.csv", table)
    micro, macro = spread(table, "f1_micro"), spread(table, "f1_macro")
    print("\n| condition | stage | F1 micro (pooled) | folds | F1 macro (pooled) | folds |")
    print("|---|---|---|---|---|---|")
    for (_, a), (_, b) in zip(micro.iterrows(), macro.iterrows()):
        print(f"| {a.condition} | {a.stage} | {a.pooled:.3f} | {a.fold_min:.3f}-{a.fold_max:.3f} "
              f"| {b.pooled:.3f} | {b.fold_min:.3f}-{b.fold_max:.3f} |")
    print(f"\ntotal {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
