#!/usr/bin/env bash
# Rebuild everything shipped in saved_models/ and results/ from ../shared/aam-tiny, on a
# 2-core CPU, no GPU (about 45 minutes; the log with each stage's time goes to
# results/reproduce_log.txt).
#
#   scripts/reproduce.sh [AAM_DIR] [STAGE ...]
#   stages: data seed train release evaluate stats (default: all, in that order)
#
# Real songs 2462, 2841, 3000 are the real test set: never trained on, never used to pick a
# model or a post-processing, and their stems are neither remixed nor cut into the note bank.
# 1014 and 2720 are the sweep's validation songs (early stopping, post-processing); they give
# no note or stem to any generated song either. The other 7 real songs are in every training
# set, filled up to the size from 300 note-sampler songs of 20 s (`instdet data sample`) for
# sizes 75/150/300, and from 100 stem remixes and 220 sampled songs for size 320 (all- runs).
# Held out as generated test sets: remixes 10361-10400 and sampled songs 40301-40340.
# The release models train on all 12 real songs; their score is cross-validated
# (scripts/release.py). The seed's four MLPs are imported from ../shared/seed-models.
set -euo pipefail
cd "$(dirname "$0")/.."
AAM=${1:-../shared/aam-tiny}
shift || true
STAGES=${*:-data seed train release evaluate stats}
WORK=${INSTDET_WORK:-work}
SEEDS=${SEED_MODELS:-$(dirname "$AAM")/seed-models}
PATH="$PWD/.venv/bin:$PATH"  # the project's environment when there is one
LOG=results/reproduce_log.txt
SEED=0
TEST_REAL=2462,2841,3000
VAL=1014,2720
TEST_REMIX=$(seq -s, 10361 10400)
TEST_SAMPLED=$(seq -s, 40301 40340)
run() { echo "+ $*" >&2; "$@"; }
stamp() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$LOG.tmp"; }
: > "$LOG.tmp"
echo "# scripts/reproduce.sh $AAM $STAGES, $(date -u +%FT%TZ), $(nproc) cores, $(python3 -c 'import platform; print(platform.machine())')" >> "$LOG.tmp"
printf 'stage\tseconds\tminutes\n' >> "$LOG.tmp"
total0=$(date +%s)

for stage in $STAGES; do
  t0=$(date +%s)
  case $stage in
  data)
    # The sweep's pool without the real test songs, as links (no copy of the audio).
    rm -rf "$WORK/realtrain"
    for f in "$AAM"/*/*; do
      id=$(basename "$f" | cut -c1-4)
      case ,$TEST_REAL, in *,$id,*) continue ;; esac
      mkdir -p "$WORK/realtrain/$(basename "$(dirname "$f")")"
      ln -sf "$(realpath "$f")" "$WORK/realtrain/$(basename "$(dirname "$f")")/"
    done
    run instdet data remix --source "$AAM" --dest "$WORK/remix" --n-tracks 400 --seed 1 \
      --exclude "$TEST_REAL,$VAL"
    run instdet data sample --source "$AAM" --dest "$WORK/sampled" --n-tracks 340 --seed 2 \
      --seconds 20-20 --exclude "$TEST_REAL,$VAL"
    run instdet data validate "$WORK/sampled" | tail -1
    # Features and labels of each training set in one file (a machine without the audio
    # can train from it).
    run instdet features "$WORK/realtrain" "$WORK/sampled" --ids 1-3000,40001-40340 \
      --pack "$WORK/packs/sampled.npz"
    run instdet features "$WORK/realtrain" "$WORK/remix" "$WORK/sampled" \
      --ids 1-3000,10001-10100,40001-40220,40301-40340 --pack "$WORK/packs/all.npz"
    ;;
  seed)
    for spec in "75tracks_5epochs 75 5" "75tracks_50epochs 75 50" "150tracks_50epochs 150 50" \
                "300tracks_50epochs 300 50"; do
      set -- $spec
      run instdet import-seed "$SEEDS/mlp_best_$1.pth" --train-size "$2" --epochs "$3" \
        --runs saved_models --overwrite
    done
    ;;
  train)
    # Every training run in one pool: the sweep's 12 and the release's 5 (4 cross-validation
    # fold runs and release-convtf), written to a plan, then trained two at a time, one core
    # each (faster than one run on two cores), the costliest first, so neither core idles
    # until the last run. This stage plans anew and retrains all 17; if it was stopped, go on
    # where it stopped with `instdet train-plan work/plan.json --jobs 2`, then run the later
    # stages (`scripts/reproduce.sh ../shared/aam-tiny release evaluate stats`).
    # The sweep: the CRNN pools time by 4 before its BiLSTM (`--set crnn.time_pool=1` is the
    # seed's exact CRNN, 4x slower on a CPU: benchmarks/README.md). Epochs per model from their
    # cost and learning curves (an MLP epoch costs a fifth of a CRNN's): with 10 CRNN, 30 MLP
    # and 12 CNN-Transformer epochs (the runs of commit 6a5eccc), at least half of each model's
    # runs had their best validation score in the last two epochs of the budget, so the budgets
    # grew (CRNN 14, MLP 40, CNN-Transformer 15); patience 5 (MLP 12) stops the runs whose curve
    # has turned. A cosine learning rate and a moving average of the weights make the validation
    # curve smooth enough to pick an epoch from 2 songs; thresholds per instrument, as the GPU
    # runs these replace. Every size holds the 7 real training songs (`--real-first`), the rest
    # sampled songs: a random draw of 75 from 307 left 5 of the 7 out by chance.
    plan="$WORK/plan.json"
    rm -f "$plan"
    # The spread over seeds describes the runs retrained here: made again by
    # `python scripts/seed_spread.py RUN ... --seeds 1,2` (not part of this script).
    rm -f results/seed_spread.csv
    common=(--val-ids "$VAL" --epochs 14 --model-epochs mlp=40,convtf=15 --patience 5
            --model-patience mlp=12
            --steps 100 --batch-size 16 --crop 256 --schedule cosine --ema 0.995
            --thresholds per-instrument --seed $SEED --runs saved_models --overwrite
            --set crnn.time_pool=4 --real-first --plan "$plan")
    run instdet sweep --models convtf,crnn,mlp --sizes 75,150,300 \
      --data "$WORK/packs/sampled.npz" --test-ids "$TEST_SAMPLED" "${common[@]}"
    run instdet sweep --models convtf,crnn,mlp --sizes 320 --prefix all- \
      --data "$WORK/packs/all.npz" --test-ids "$TEST_SAMPLED" "${common[@]}"
    run python scripts/release.py "$AAM" --plan "$plan"
    run instdet train-plan "$plan" --jobs 2
    ;;
  release)
    # Cross-validated scores, blends and release-ensemble from the trained runs (trains
    # whatever of them is missing when run alone).
    run python scripts/release.py "$AAM"
    ;;
  evaluate)
    # Release runs trained on every real song: their score is cross-validated instead.
    runs=$(ls -d saved_models/*/ | grep -v '/release-')
    run instdet evaluate $runs --data "$AAM" --ids "$TEST_REAL" --name real-test
    run instdet evaluate $runs --data "$WORK/sampled" --ids "$TEST_SAMPLED" --name sampled-test
    run instdet evaluate $runs --data "$WORK/remix" --ids "$TEST_REMIX" --name remix-test
    ;;
  stats)
    run instdet data stats "$AAM" --out results/dataset_stats_aam-tiny.csv \
      --cooccurrence results/cooccurrence_aam-tiny.csv
    run instdet data stats "$WORK/sampled" --out results/dataset_stats_sampled.csv \
      --cooccurrence results/cooccurrence_sampled.csv
    run instdet data stats "$WORK/remix" --out results/dataset_stats_remix.csv \
      --cooccurrence results/cooccurrence_remix.csv
    ;;
  *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
  t1=$(date +%s)
  stamp "$stage" "$((t1 - t0))" "$(awk "BEGIN{printf \"%.1f\", ($t1 - $t0) / 60}")"
done
total=$(( $(date +%s) - total0 ))
stamp total "$total" "$(awk "BEGIN{printf \"%.1f\", $total / 60}")"
mv "$LOG.tmp" "$LOG"
cat "$LOG"
