"""How much the shipped scores moved between a commit and the working tree.

    python scripts/compare_commits.py REV [--eval real-test] [--stage postprocessed]

Reads results/runs.csv at git revision REV and in the working tree and prints, for each run
in both, F1 micro / macro then and now and the change, and the largest change. Two runs of
`scripts/reproduce.sh` with the same code and seed on two different CPUs differ by this much
(floating-point sums in another order, amplified by training): a difference smaller than
that is not a property of the recipe.
"""

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("rev")
    ap.add_argument("--eval", default="real-test")
    ap.add_argument("--stage", default="postprocessed", choices=["postprocessed", "raw"])
    args = ap.parse_args()
    try:
        old_text = subprocess.run(["git", "show", f"{args.rev}:results/runs.csv"], cwd=ROOT,
                                  capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        why = (getattr(exc, "stderr", None) or str(exc)).strip().splitlines() or ["git failed"]
        print(f"compare_commits: {why[-1]}", file=sys.stderr)
        return 1
    old = pd.read_csv(io.StringIO(old_text))
    try:
        new = pd.read_csv(ROOT / "results" / "runs.csv")
    except OSError as exc:
        print(f"compare_commits: {exc}", file=sys.stderr)
        return 1
    pick = lambda t: t[(t["eval"] == args.eval) & (t["stage"] == args.stage)] \
        .set_index("run_id")[["f1_micro", "f1_macro"]]
    both = pd.merge(pick(old), pick(new), left_index=True, right_index=True,
                    suffixes=("_then", "_now"))
    if both.empty:
        print(f"compare_commits: no run scored on {args.eval} in both", file=sys.stderr)
        return 1
    for m in ("f1_micro", "f1_macro"):
        both[f"{m}_change"] = both[f"{m}_now"] - both[f"{m}_then"]
    print(f"{args.eval}, {args.stage}: {args.rev} -> working tree\n")
    print("| run | then micro / macro | now micro / macro | change |")
    print("|---|---|---|---|")
    for run, r in both.iterrows():
        print(f"| {run} | {r.f1_micro_then:.3f} / {r.f1_macro_then:.3f} | {r.f1_micro_now:.3f} / "
              f"{r.f1_macro_now:.3f} | {r.f1_micro_change:+.3f} / {r.f1_macro_change:+.3f} |")
    moved = both[(both.f1_micro_change != 0) | (both.f1_macro_change != 0)]
    print(f"\n{len(moved)} of {len(both)} runs changed; largest change F1 micro "
          f"{both.f1_micro_change.abs().max():.3f}, macro {both.f1_macro_change.abs().max():.3f}; "
          f"median |change| micro {moved.f1_micro_change.abs().median() if len(moved) else 0:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
