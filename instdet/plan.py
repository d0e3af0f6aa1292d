"""Training plans: runs written down by several commands, then trained in one pool.

``instdet sweep --plan FILE`` and ``scripts/release.py --plan FILE`` add their runs to a plan
file instead of training them; ``instdet train-plan FILE --jobs 2`` trains all of them in one
pool of processes, the costliest first. Two sweeps trained one after the other each end with
one run training alone on a 2-core machine; one pool keeps both cores busy until its last run.

A plan file is JSON: ``{"format": 1, "jobs": [{"run": folder, "overwrite": bool,
"train": TrainConfig.to_dict()}, ...]}``; its relative paths (run folders, data) are taken
from the folder the commands run in. ``train-plan`` marks each run it finishes as kept
(``"overwrite": false``), so a plan stopped half-way goes on where it stopped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from instdet.atomic import write_json
from instdet.errors import InstdetError
from instdet.training import TrainConfig

FORMAT = 1
# Seconds per training frame relative to the MLP's, from 100-step epochs of each model on
# aam-tiny, one process with one thread at a time, freed memory kept (instdet.heap), on this
# 2-core machine (2026-12-02: mlp 9.9 s, crnn 18.0 s at time_pool 4, convtf 23.0 s): only
# the order in which a pool takes its runs depends on them.
FRAME_COST = {"mlp": 1.0, "crnn": 1.8, "convtf": 2.3}


def estimated_cost(config: TrainConfig) -> float:
    """Relative cost of a run at its full epoch budget (early stopping may cut it)."""
    cost = FRAME_COST.get(config.model, max(FRAME_COST.values()))
    if config.model == "crnn" and config.model_settings.get("time_pool", 1) == 1:
        cost *= 3.2  # the seed's CRNN at the full frame rate, its default (benchmarks/README.md)
    return config.epochs * config.steps_per_epoch * config.batch_size * config.crop_frames * cost


def read_plan(path: str | os.PathLike) -> list[tuple[TrainConfig, Path, bool]]:
    """The jobs of a plan file as ``(config, run folder, overwrite)``, in file order."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstdetError(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstdetError(f"{path}: not a plan file ({str(exc)[:60]})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or \
            not isinstance(doc.get("jobs"), list):
        raise InstdetError(f"{path}: not a plan file (format {FORMAT} with a list of jobs)")
    jobs = []
    for i, job in enumerate(doc["jobs"]):
        if not isinstance(job, dict) or not isinstance(job.get("run"), str) or \
                not job["run"].strip() or not isinstance(job.get("train"), dict) or \
                not isinstance(job.get("overwrite", False), bool):
            raise InstdetError(f"{path}: job {i + 1} needs a run folder, training settings and "
                               "overwrite true or false")
        try:
            config = TrainConfig.from_dict(job["train"])
        except InstdetError as exc:
            raise InstdetError(f"{path}: job {i + 1}: {exc}") from None
        jobs.append((config, Path(job["run"]), job.get("overwrite", False)))
    _check_names(path, jobs)
    return jobs


def _check_names(path: Path, jobs: list) -> None:
    names = [Path(run).name for _, run, _ in jobs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # progress and errors name runs by their folder's name
        raise InstdetError(f"{path}: two runs named {twice[0]}; give them different names")


def add_to_plan(path: str | os.PathLike, jobs: list[tuple[TrainConfig, Path, bool]]) -> int:
    """Append jobs ``(config, run folder, overwrite)`` to a plan file (created if missing);
    a job for a run folder already in the plan replaces it. Returns the number of jobs in
    the plan. The file is rewritten atomically."""
    path = Path(path)
    old = read_plan(path) if path.exists() else []
    new_runs = {os.path.abspath(run) for _, run, _ in jobs}  # runs/x is ./runs/x
    kept = [j for j in old if os.path.abspath(j[1]) not in new_runs] + list(jobs)
    _check_names(path, kept)
    write_json(path, {"format": FORMAT, "jobs": [
        {"run": str(run), "overwrite": bool(overwrite), "train": config.to_dict()}
        for config, run, overwrite in kept]})
    return len(kept)


def longest_first(jobs: list) -> list:
    """Jobs ``(config, ...)`` ordered by estimated cost, highest first (ties keep their
    order): a pool that starts the long runs first ends with short ones, not one long run
    alone."""
    return sorted(jobs, key=lambda job: -estimated_cost(job[0]))
