"""The real-case page as a user meets it, in Debian's Chromium: time from choosing a 3-minute
song to its verdict on screen, with the page's default models (median of 3 songs, each new to
the cache); then the same page after visiting another one (results kept, nothing recomputed).

    python benchmarks/bench_realcase.py

Needs the shipped models, ../shared/aam-tiny and /usr/bin/chromium with Python playwright.
"""

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from _common import AAM_TINY, machine
from dashboard.serve import running

CHROMIUM = "/usr/bin/chromium"
SR = 22050


def songs(folder: Path) -> list[Path]:
    """Three different 3-minute mp3 songs (real AAM mixes, joined at different places)."""
    from instdet.audio import load_audio

    mixes = [load_audio(AAM_TINY / "audio-mixes-mp3" / f"{t}_mix.mp3", sr=SR)
             for t in ("2462", "2841", "3000")]
    out = []
    for i in range(3):
        y = np.concatenate(mixes[i:] + mixes[:i])[: 180 * SR]
        path = folder / f"song{i}.mp3"
        sf.write(path, y, SR, format="MP3")
        out.append(path)
    return out


def main():
    from playwright.sync_api import sync_playwright

    print(f"machine: {machine()}")
    tmp = Path(tempfile.mkdtemp())
    files = songs(tmp)
    times, back = [], []
    with running(env={"INSTDET_CACHE": str(tmp / "cache")}) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(f"{url}/realcase")
        page.get_by_text("Choose the models").first.wait_for(timeout=120_000)
        # The models load (and are timed once) on the first visit, as for any user.
        page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               timeout=120_000)
        for path in files:
            t = time.perf_counter()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
            page.get_by_text(f"{path.name}: 180.0 s").first.wait_for(timeout=120_000)
            page.get_by_text("Instruments heard").first.wait_for(timeout=120_000)
            times.append(time.perf_counter() - t)
            page.wait_for_function(
                "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
            # The app's own navigation, as a user does (a reload starts a new session).
            page.locator('[data-testid="stSidebarNav"] a[href$="/models"]').first.click()
            page.get_by_text("Models by training size").first.wait_for(timeout=60_000)
            t = time.perf_counter()
            page.locator('[data-testid="stSidebarNav"] a[href$="/realcase"]').first.click()
            page.get_by_text("Instruments heard").first.wait_for(timeout=60_000)
            back.append(time.perf_counter() - t)
        browser.close()
    print(f"3-min song to verdict, default models: {statistics.median(times):.2f} s "
          f"(median of {len(times)}: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"back on the page after another one, results shown again: "
          f"{statistics.median(back):.2f} s (median of {len(back)})")


if __name__ == "__main__":
    main()
