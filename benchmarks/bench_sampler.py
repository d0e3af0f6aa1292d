"""The note sampler's speed on ONE core, files written: songs of 20 s from the 12 real tracks'
note bank (`instdet data sample`), in times real time; the bank's first build (decoding every
stem once); and stem remixes of the same length (`instdet data remix`, which decodes the
stems it cuts on every call) as the baseline, timed in the same run.

    python benchmarks/bench_sampler.py

Each measurement runs in a fresh process pinned to one core with one thread, median of 3.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

from _common import AAM_TINY, machine

N_SONGS, SECONDS = 40, 20.0

CODE = r"""
import json, os, sys, tempfile, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
what, aam, cache, n, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
dest = tempfile.mkdtemp()
t = time.perf_counter()
if what == "bank":
    from instdet.data.notebank import load_bank
    load_bank([aam], cache_dir=cache)
elif what == "sample":
    from instdet.data.sampler import sample_corpus
    sample_corpus([aam], dest, n_tracks=n, seed=0, seconds=(seconds, seconds), cache_dir=cache)
else:
    from instdet.data.remix import remix_corpus
    remix_corpus([aam], dest, n_tracks=n, seed=0, duration=seconds)
print(json.dumps(time.perf_counter() - t))
"""


def run(what: str, cache: str) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CODE, what, str(AAM_TINY), cache, str(N_SONGS),
                          str(SECONDS)], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    print(f"machine: {machine()}; each process pinned to 1 core, 1 thread")
    builds = []
    for _ in range(3):
        builds.append(run("bank", tempfile.mkdtemp()))
    cache = tempfile.mkdtemp()
    run("bank", cache)  # the cached bank the sampler reads, as after its first use
    sample = statistics.median(run("sample", cache) for _ in range(3))
    remix = statistics.median(run("remix", cache) for _ in range(3))
    audio = N_SONGS * SECONDS
    print(f"note bank, first build from {AAM_TINY.name} (every stem decoded once): "
          f"{statistics.median(builds):.1f} s (median of 3)")
    print(f"sampler, {N_SONGS} songs of {SECONDS:.0f} s written: {sample:.1f} s = "
          f"{audio / sample:.0f}x real time (median of 3)")
    print(f"stem remixes, same songs and length: {remix:.1f} s = {audio / remix:.0f}x real time; "
          f"sampler / remix speed {remix / sample:.2f}x")


if __name__ == "__main__":
    main()
