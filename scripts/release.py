"""Release models: cross-validate the recipe, then train it on every real song.

    python scripts/release.py [AAM_DIR] [--compare]    (about 15 min on 2 CPU cores; 25 with
                                                        --compare)
    python scripts/release.py [AAM_DIR] --plan FILE    (makes the folds' songs, then adds every
                                                        run to FILE for `instdet train-plan`)

Recipe: the CNN-Transformer (default settings) trained for a fixed 10 epochs of 100 batches
(16 x 256 frames, seed 0) on the real songs plus 400 note-sampler songs of 20 s cut from
those songs' stems, with no held-out songs, distilled from the seed's 300-song MLP (half of
the loss on its probabilities). Its honest score: 4-fold cross-validation over the 12 real
songs (3 test songs a fold, 9 for training; the test songs' stems are never in the fold's
note bank), every song's out-of-fold prediction pooled. Compared on the 11 songs outside the
seed's training pool (0080 is inside it):

    seed-mlp-300        the original project's MLP trained on 300 real AAM songs
    convtf              the recipe
    convtf+seed         the recipe and the seed's MLP blended, the recipe counting only for
                        the instruments its training songs hold, the weight chosen on the
                        other folds

``--compare`` also trains the recipe without distillation and writes both to
results/distill_experiment.csv (distillation kept or not by that table).
Post-processing is chosen on the other folds (nested) and kept only if it does not lower
F1 micro or macro. With ``--plan FILE`` it only makes the songs and adds the fold runs and
release-convtf to FILE, all to be trained anew (``scripts/reproduce.sh`` trains them in one
pool with the sweep's runs); run it again without ``--plan`` once they are trained. Writes
results/release_cv.csv, saved_models/release-convtf (trained on all 12 songs) and
saved_models/release-ensemble (release-convtf + seed-mlp-300 at the weight chosen on all
out-of-fold predictions), and prints the table of the README.
"""

import argparse
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import pandas as pd

from instdet.atomic import write_csv
from instdet.crossval import (Fold, generate, load_oof, make_folds, predict_tracks, save_oof,
                              summary_rows)
from instdet.data.aam import load_tracks
from instdet.postprocess import PostProcess, tune
from instdet.release import (choose_weight, coverage, make_ensemble, nested_blend,
                             safe_postprocess, set_postprocess)
from instdet.runs import RunDir
from instdet.seed import import_seed
from instdet.parallel import train_parallel
from instdet.plan import add_to_plan
from instdet.training import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("INSTDET_WORK", ROOT / "work")) / "release"
RUNS = ROOT / "saved_models"
SEED_DIR = ROOT.parent / "shared" / "seed-models"
N_SAMPLED = 400
BUDGET = dict(epochs=10, patience=10, steps_per_epoch=100, batch_size=16, crop_frames=256,
              seed=0, holdout=False, schedule="constant")
IN_SEED_POOL = {"0080"}  # AAM ids 1-1000: inside the seed MLPs' training pool


def seed_run() -> Path:
    run = RUNS / "seed-mlp-300"
    if not RunDir(run).is_done():
        run = WORK / "seed-mlp-300"
        if not RunDir(run).is_done():
            import_seed(SEED_DIR / "mlp_best_300tracks_50epochs.pth", train_size=300, epochs=50,
                        runs_dir=WORK, overwrite=True)
    return run


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="cross-validate the release recipe, then train it "
                                            "on every real song")
    p.add_argument("aam", nargs="?", type=Path, default=ROOT.parent / "shared" / "aam-tiny")
    p.add_argument("--compare", action="store_true",
                   help="also train the recipe without distillation")
    p.add_argument("--plan", type=Path, metavar="FILE",
                   help="make the songs, add the runs to FILE for instdet train-plan, stop")
    return p.parse_args()


def main():
    # Parsed here, not on import: the processes that make the songs import this script again.
    args = parse_args()
    AAM, COMPARE, PLAN = args.aam, args.compare, args.plan
    t0 = time.time()
    tracks = load_tracks(AAM)
    folds = make_folds(tracks, k=4, n_val=0)
    seed = seed_run()
    recipes = {"convtf": {"teacher": str(seed), "distill_weight": 0.5}}
    if COMPARE:
        recipes["convtf-plain"] = {}
    plans = {name: {} for name in recipes}
    todo = []
    every_song = Fold(len(folds), test=(), val=())  # a "fold" that holds nothing out
    # Each fold's songs (and those of the run on every song) are seeded by the fold alone:
    # made two at a time, one process per core, the same songs as one after another.
    make = partial(generate, aam=AAM, work=WORK / "data", sample=N_SAMPLED, seconds=20.0)
    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as pool:
        full_songs, *songs = pool.map(make, [every_song, *folds])
    for fold, fold_songs in zip(folds, songs):
        data = (str(AAM), *fold_songs)
        for name, extra in recipes.items():
            run = WORK / "runs" / f"fold{fold.index}-{name}"
            plans[name][fold.index] = run
            if PLAN or not RunDir(run).is_done():
                todo.append((TrainConfig(model="convtf", data=data, test_ids=fold.test,
                                         **BUDGET, **extra), run))
    full = [str(AAM), *full_songs]
    release = RUNS / "release-convtf"
    release_config = TrainConfig(model="convtf", data=tuple(full), **BUDGET, **recipes["convtf"])
    if PLAN:
        n = add_to_plan(PLAN, [(c, r, True) for c, r in todo + [(release_config, release)]])
        print(f"{len(todo)} fold runs and {release.name} added to {PLAN} ({n} runs in it); "
              f"train them with: instdet train-plan {PLAN} --jobs 2")
        return
    print(f"data ready in {time.time() - t0:.0f} s; training {len(todo)} fold runs", flush=True)
    train_parallel(todo, jobs=2, on_event=lambda r, e, s: print(
        f"  {r}: {'done' if e is None else f'epoch {e}'}", flush=True))
    print(f"fold runs trained at {time.time() - t0:.0f} s", flush=True)

    oof = {}
    for name, runs in plans.items():
        got = {}
        for fold in folds:
            got.update(predict_tracks(runs[fold.index], {t: tracks[t] for t in fold.test}))
        oof[name] = got
    oof["seed-mlp-300"] = predict_tracks(seed, tracks)
    covers = {f.index: coverage(tracks, set(tracks) - set(f.test)) for f in folds}
    for name in recipes:
        oof[f"{name}+seed"], weights = nested_blend(oof[name], oof["seed-mlp-300"], folds,
                                                    exclude=IN_SEED_POOL, cover=covers)
        if name == "convtf":
            fold_w = weights
    for name, o in oof.items():
        save_oof(WORK / "oof" / f"{name}.npz", o, frame_rate=22050 / 512)
    ids = sorted(set(tracks) - IN_SEED_POOL)
    release_of = {"convtf": "release-convtf", "convtf+seed": "release-ensemble",
                  "seed-mlp-300": "seed-mlp-300"}
    tables = {}
    for name in oof:
        o, rate = load_oof(WORK / "oof" / f"{name}.npz")
        tables[name] = summary_rows(name, o, folds, frame_rate=rate, ids=ids) \
            .assign(run_id=release_of.get(name))
    table = pd.concat([tables[n] for n in ("seed-mlp-300", "convtf", "convtf+seed")],
                      ignore_index=True)
    write_csv(ROOT / "results" / "release_cv.csv", table)
    if COMPARE:
        write_csv(ROOT / "results" / "distill_experiment.csv",
                  pd.concat([tables[n].assign(run_id=None) for n in
                             ("convtf-plain", "convtf", "convtf-plain+seed", "convtf+seed")],
                            ignore_index=True))

    # The releases: the recipe on all 12 songs, then the blend with the seed's MLP.
    if not RunDir(release).is_done():
        train(release_config, release, overwrite=True, log=lambda s: print(" ", s, flush=True))
    every = [t for f in folds for t in f.test]
    for name, run in (("convtf", release),):
        post, _, _ = tune([oof[name][t]["probs"] for t in every],
                          [oof[name][t]["labels"] for t in every])
        set_postprocess(run, post if safe_postprocess(table, name) else PostProcess())
    by_song = {t: covers[f.index] for f in folds for t in f.test}
    w = choose_weight(oof["convtf"], oof["seed-mlp-300"], ids, cover=by_song)
    blended = oof["convtf+seed"]
    post, _, _ = tune([blended[t]["probs"] for t in ids], [blended[t]["labels"] for t in ids])
    post = post if safe_postprocess(table, "convtf+seed") else PostProcess()
    make_ensemble([release, seed], [w, 1 - w], RUNS / "release-ensemble", postprocess=post,
                  covers=[coverage(tracks, tracks), None],
                  summary={"data_kind": "real+sampled", "train_size": RunDir(release).config()
                           ["train_size"], "ensemble_weights_by_fold": fold_w})

    print("\n| model | stage | F1 micro (pooled) | folds | F1 macro (pooled) | folds |")
    print("|---|---|---|---|---|---|")
    for (name, stage), g in table.groupby(["condition", "stage"], sort=False):
        p = g[g["fold"] == "pooled"].iloc[0]
        f = g[g["fold"] != "pooled"]
        print(f"| {name} | {stage} | {p.f1_micro:.3f} | {f.f1_micro.min():.3f}-{f.f1_micro.max():.3f}"
              f" | {p.f1_macro:.3f} | {f.f1_macro.min():.3f}-{f.f1_macro.max():.3f} |")
    print(f"\nensemble weight of convtf: {w:.1f} (per fold: {fold_w}); total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
