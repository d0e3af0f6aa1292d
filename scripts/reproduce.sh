#!/usr/bin/env bash
# Rebuild everything shipped in saved_models/ and results/ from ../shared/aam-tiny.
#
#   scripts/reproduce.sh [AAM_DIR] [STAGE ...]
#   stages: data sweep sweep-all evaluate stats (default: all, in that order)
#
# Real tracks 2462, 2841, 3000 are the real test set: never trained on, never used to pick a
# model or a threshold, and their stems are not remixed. 1014 and 2720 are the validation
# tracks (early stopping, post-processing). The other 7 real tracks and 400 stem remixes of
# them are the training pool; remixes 10361-10400 are held out as the generated test split.
# The size-320 runs ("all-" prefix) train on real + remixes 10001-10100 + 220 SoundFont songs
# (`instdet data synth`, 30-60 s each); songs 30221-30240 are their synthetic test split.
set -euo pipefail
AAM=${1:-../shared/aam-tiny}
shift || true
STAGES=${*:-data sweep sweep-all evaluate stats}
WORK=${INSTDET_WORK:-work}
SEED=0
TEST_REAL=2462,2841,3000
VAL=1014,2720
TEST_REMIX=$(seq -s, 10361 10400)
TEST_SYNTH=$(seq -s, 30221 30240)
run() { echo "+ $*" >&2; "$@"; }

for stage in $STAGES; do
  case $stage in
  data)
    # Training pool without the real test tracks, as links (no copy of the audio).
    rm -rf "$WORK/realtrain"
    for f in "$AAM"/*/*; do
      id=$(basename "$f" | cut -c1-4)
      case ,$TEST_REAL, in *,$id,*) continue ;; esac
      mkdir -p "$WORK/realtrain/$(basename "$(dirname "$f")")"
      ln -sf "$(realpath "$f")" "$WORK/realtrain/$(basename "$(dirname "$f")")/"
    done
    run instdet data remix --source "$AAM" --dest "$WORK/remix" --n-tracks 400 --seed 1 \
      --exclude "$TEST_REAL,$VAL"
    run instdet data validate "$WORK/remix" | tail -1
    # One file of features and labels: lets the sweep run on a machine without the audio.
    run instdet features "$WORK/realtrain" "$WORK/remix" --pack "$WORK/gpu/train_pack.npz"
    run instdet data synth --dest "$WORK/synth" --n-tracks 240 --seed 11 --min-seconds 30 --max-seconds 60
    run instdet features "$WORK/realtrain" "$WORK/remix" "$WORK/synth" \
      --ids 1-3000,10001-10100,30001-30240 --pack "$WORK/gpu/all_pack.npz"
    ;;
  sweep)
    # Every (model, size) pair trains in its own process; SWEEP_PARALLEL=0 runs them one by one
    # (on a laptop CPU). The shipped runs were trained in parallel on one GPU.
    for model in mlp crnn convtf; do
      for size in ${SIZES:-75 150 300}; do
        cmd=(instdet sweep --models "$model" --sizes "$size" \
          --data "$WORK/gpu/train_pack.npz" --val-ids "$VAL" --test-ids "$TEST_REMIX" \
          --epochs 30 --patience 8 --steps 100 --batch-size 32 --crop 512 --seed $SEED \
          --runs saved_models)
        if [ "${SWEEP_PARALLEL:-1}" = 1 ]; then run "${cmd[@]}" & else run "${cmd[@]}"; fi
      done
    done
    wait
    ;;
  sweep-all)
    for model in mlp crnn convtf; do
      cmd=(instdet sweep --models "$model" --sizes 320 --prefix all- \
        --data "$WORK/gpu/all_pack.npz" --val-ids "$VAL" --test-ids "$TEST_SYNTH" \
        --epochs 30 --patience 8 --steps 100 --batch-size 32 --crop 512 --seed $SEED \
        --runs saved_models)
      if [ "${SWEEP_PARALLEL:-1}" = 1 ]; then run "${cmd[@]}" & else run "${cmd[@]}"; fi
    done
    wait
    ;;
  evaluate)
    for run_dir in saved_models/*/; do
      run instdet evaluate "$run_dir" --data "$AAM" --ids "$TEST_REAL" --name real-test
      run instdet evaluate "$run_dir" --data "$WORK/remix" --ids "$TEST_REMIX" --name remix-test
      run instdet evaluate "$run_dir" --data "$WORK/synth" --ids "$TEST_SYNTH" --name synth-test
    done
    ;;
  stats)
    run instdet data stats "$AAM" --out results/dataset_stats_aam-tiny.csv \
      --cooccurrence results/cooccurrence_aam-tiny.csv
    run instdet data stats "$WORK/remix" --out results/dataset_stats_remix.csv \
      --cooccurrence results/cooccurrence_remix.csv
    ;;
  *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done
