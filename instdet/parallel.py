"""Several training runs at once, each in its own process with an equal share of the cores.

On 2 cores, two one-thread runs train faster together than one two-thread run
(``benchmarks/bench_models.py`` measures it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from instdet.errors import InstdetError
from instdet.runs import RunDir
from instdet.training import train


def _parallel_job(job) -> str:
    config, run_dir, cache_dir, threads, queue, overwrite = job
    torch.set_num_threads(threads)
    run = RunDir(run_dir)
    train(config, run_dir, cache_dir=cache_dir, resume=run.last.exists(), overwrite=overwrite,
          progress=lambda row: queue.put((run.run_id, row["epoch"], row["val_score"])),
          log=lambda text: None)
    return run.run_id


def train_parallel(todo: list[tuple], *, jobs: int, cache_dir=None,
                   on_event: Callable[[str, int | None, float], None] | None = None,
                   overwrite: bool = False) -> None:
    """Train runs ``(config, run folder)`` or ``(config, run folder, overwrite)`` in ``jobs``
    processes, each with an equal share of the cores (on 2 cores, two one-thread runs train
    faster than one two-thread run), the costliest first (``plan.longest_first``).
    ``on_event(run_id, epoch, val_score)`` after each epoch; epoch None when a run ends.
    A run that fails does not stop the others; their errors are raised together at the end.
    ``overwrite`` retrains finished runs (``training.train``'s backup rule); a job's own third
    item overrides it.
    """
    import multiprocessing as mp
    import os
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from instdet.plan import longest_first

    todo = longest_first([(job[0], Path(job[1]), job[2] if len(job) > 2 else overwrite)
                          for job in todo])
    jobs = max(1, min(jobs, len(todo)))
    threads = max(1, (os.cpu_count() or 1) // jobs)
    ctx = mp.get_context("spawn")
    errors = []
    with ctx.Manager() as manager, ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        queue = manager.Queue()
        futures = {pool.submit(_parallel_job, (c, d, cache_dir, threads, queue, o)): d.name
                   for c, d, o in todo}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                while not queue.empty():
                    event = queue.get()
                    if on_event:
                        on_event(*event)
                for f in done:
                    try:
                        f.result()
                    except InstdetError as exc:
                        errors.append(f"{futures[f]}: {exc}")
                    except Exception as exc:  # a fault in one run does not stop the others
                        errors.append(f"{futures[f]}: {type(exc).__name__}: {exc}")
                    else:
                        if on_event:
                            on_event(futures[f], None, float("nan"))
        except BaseException:
            # Ctrl-C, SIGTERM or a failing callback: start no other run, stop the running
            # ones (each resumes from its last epoch), and leave at once.
            workers = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in workers:
                process.terminate()
            raise
    if errors:
        raise InstdetError("; ".join(errors))
