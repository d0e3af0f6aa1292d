"""Which training data helps on real songs? Issue 3's experiment, reproducible:

    python scripts/data_experiment.py [AAM_DIR]        (25-40 min on 2 CPU cores)

The same model (the seed's MLP with +-4 frames of context, 15 epochs of 50 batches, seed 0)
is trained on four kinds of data and scored on real AAM tracks it never saw, in 4-fold
cross-validation over the 12 real tracks (3 test tracks a fold, 2 validation tracks, the
other 7 for training):

    real          the 7 real training tracks
    real+remix    plus 100 20-s remixes of those 7 tracks' stems (`instdet data remix`)
    real+synth    plus 20 SoundFont songs of 90-110 s (`instdet data synth`, TimGM6mb)
    all           all three
    real+synth-fluidr3         as real+synth with Debian's FluidR3_GM.sf2 (when installed)
    real+synth-fluidr3-timbre  the same with `--timbre` (detune, EQ, reverb per stem)
    synth->real+remix          pre-trained on the 20 TimGM6mb songs alone, then fine-tuned
                               on real+remix (`instdet train --init RUN`)

Writes results/data_experiment.csv (one row per fold and condition) and prints the means.
"""

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from instdet.atomic import write_csv  # noqa: E402
from instdet.data.aam import find_tracks  # noqa: E402
from instdet.data.remix import remix_corpus  # noqa: E402
from instdet.data.synth import synth_corpus  # noqa: E402
from instdet.evaluation import evaluate_run  # noqa: E402
from instdet.training import TrainConfig, train  # noqa: E402

AAM = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "aam-tiny"
WORK = ROOT / "work" / "data_experiment"
IDS = ["0080", "1014", "1545", "1941", "2269", "2395", "2462", "2602", "2720", "2841", "2990", "3000"]
FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
FOLDS = [IDS[i::4] for i in range(4)]  # 3 test tracks each, spread over the id range


def main():
    synth_dir = WORK / "synth"
    if len(list(synth_dir.glob("audio-mixes/*_mix.flac"))) < 20:
        synth_corpus(synth_dir, n_tracks=20, seed=7, min_s=90, max_s=110)
    extra = {}
    if FLUID.is_file():
        for name, timbre in (("real+synth-fluidr3", False), ("real+synth-fluidr3-timbre", True)):
            d = WORK / name.replace("real+", "")
            if len(list(d.glob("audio-mixes/*_mix.flac"))) < 20:
                synth_corpus(d, n_tracks=20, seed=7, min_s=90, max_s=110, soundfont=FLUID,
                             timbre=timbre)
            extra[name] = d
    pre = WORK / "runs" / "pretrain-synth"
    if not (pre / "model.pt").exists() or "done" not in (pre / "config.json").read_text():
        train(TrainConfig(model="mlp", data=(str(synth_dir),), test_ids=("30018",),
                          val_ids=("30019", "30020"), epochs=15, patience=15,
                          steps_per_epoch=50, seed=0), pre, log=lambda s: None)
    rows = []
    for k, test in enumerate(FOLDS):
        rest = [i for i in IDS if i not in test]
        val = rest[k % len(rest) :: 5][:2]
        remix_dir = WORK / f"remix_fold{k}"
        if len(list(remix_dir.glob("audio-mixes/*_mix.flac"))) < 100:
            remix_corpus([AAM], remix_dir, n_tracks=100, seed=100 + k, exclude=set(test) | set(val))
        conditions = {
            "real": [AAM],
            "real+remix": [AAM, remix_dir],
            "real+synth": [AAM, synth_dir],
            "all": [AAM, remix_dir, synth_dir],
            **{name: [AAM, d] for name, d in extra.items()},
            "synth->real+remix": [AAM, remix_dir],
        }
        for name, data in conditions.items():
            run = WORK / "runs" / f"fold{k}-{name}"
            if not (run / "model.pt").exists() or "done" not in (run / "config.json").read_text():
                cfg = TrainConfig(model="mlp", data=tuple(map(str, data)), test_ids=tuple(test),
                                  val_ids=tuple(val), epochs=15, patience=15, steps_per_epoch=50,
                                  seed=0, init_from=str(pre) if name.startswith("synth->") else "")
                train(cfg, run, log=lambda s: None)
            tracks = find_tracks(AAM)
            m = evaluate_run(run, {t: tracks[t] for t in test}, out_dir=WORK / "results",
                             eval_name="test")
            rows.append({"fold": k, "test_tracks": " ".join(test), "condition": name,
                         "train_tracks": m["train_size"],
                         **{f"{s}_{k2}": m[s][k2] for s in ("raw", "postprocessed")
                            for k2 in ("f1_micro", "f1_macro")}})
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    write_csv(ROOT / "results" / "data_experiment.csv", df)
    print(df.groupby("condition", sort=False)[[c for c in df.columns if c.startswith(("raw", "post"))]]
          .mean().round(3).to_string())


if __name__ == "__main__":
    main()
