"""Dashboard: seconds for each page to render with the shipped results under AppTest, cold
(first run in this process) and warm (median of 5 later runs), and the process's peak memory.

    python benchmarks/bench_dashboard.py
"""

import resource
import statistics
import time

from streamlit.testing.v1 import AppTest

from _common import ROOT, machine

PAGES = ["home", "dataset", "models", "tracks", "confusions", "postprocess", "realcase",
         "glossary"]


def render(page: str) -> float:
    at = AppTest.from_file(str(ROOT / "dashboard" / "Home.py"), default_timeout=120)
    at.run()
    t = time.perf_counter()
    if page != "home":
        at.switch_page(f"views/{page}.py")
    at.run()
    el = time.perf_counter() - t
    assert not at.exception, at.exception
    return el


def main():
    print(f"machine: {machine()}")
    print("| page | cold (s) | warm, median of 5 (s) |")
    print("|---|---|---|")
    for page in PAGES:
        cold = render(page)
        warm = statistics.median(render(page) for _ in range(5))
        print(f"| {page} | {cold:.2f} | {warm:.3f} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
