"""Which threshold mode holds up on the validation songs alone, per sweep run.

    python scripts/validation_thresholds.py [AAM_DIR]    (about 1 min)

Leave one validation song out: post-processing (median filter and thresholds, each mode of
`instdet.postprocess.tune`) is chosen on one of the sweep's two validation songs (1014, 2720)
and scored on the other, both ways, mean of the two. Uses no test song, so it can justify a
threshold mode for a run without looking at the test set. Prints F1 micro / macro per run
and mode (macro counts the instruments present in the scored song).
"""

import sys
from pathlib import Path

import numpy as np

from instdet.crossval import predict_tracks
from instdet.data.aam import load_tracks
from instdet.metrics import frame_f1
from instdet.postprocess import THRESHOLD_MODES, tune

ROOT = Path(__file__).resolve().parents[1]
VAL = ("1014", "2720")


def main() -> None:
    aam = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "aam-tiny"
    tracks = load_tracks(aam)
    val = {t: tracks[t] for t in VAL}
    print("| run | " + " | ".join(THRESHOLD_MODES) + " |")
    print("|---|" + "---|" * len(THRESHOLD_MODES))
    for run in sorted((ROOT / "saved_models").glob("*-s0")):
        out = predict_tracks(run, val)
        cells = []
        for mode in THRESHOLD_MODES:
            scores = []
            for a, b in (VAL, VAL[::-1]):
                post, _, _ = tune([out[a]["probs"]], [out[a]["labels"]], thresholds=mode)
                scores.append(frame_f1([out[b]["labels"]], [post.apply(out[b]["probs"])]))
            micro, macro = np.mean(scores, axis=0)
            cells.append(f"{micro:.3f} / {macro:.3f}")
        print(f"| {run.name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
