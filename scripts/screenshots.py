"""Screenshots of every dashboard page for docs/screenshots/ (what a meeting sees).

    python scripts/screenshots.py        (about 1 minute; needs /usr/bin/chromium)

Starts `streamlit run dashboard/Home.py` on 127.0.0.1 with the shipped results and models,
opens each page in Debian's Chromium (Playwright, no browser download), plays the real-case
page's example song, and saves one PNG of the top of each page (1400 x 1100 pixels).
"""

import tempfile
from pathlib import Path

from dashboard.serve import running

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PAGES = [("", "home", "Best model on"), ("models", "models", "Per-instrument F1 across runs"),
         ("tracks", "tracks", "Ground truth and up to 4 runs"),
         ("confusions", "confusions", "Where a confusion happens"),
         ("dataset", "dataset", "Co-occurrence"),
         ("postprocess", "postprocess", "One instrument's thresholds"),
         ("glossary", "glossary", "The words the pages use")]


def ready(page, text):
    page.get_by_text(text, exact=False).first.wait_for(timeout=120_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')",
                           timeout=120_000)
    page.wait_for_timeout(2500)


def main():
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with running(env={"INSTDET_CACHE": tempfile.mkdtemp()}) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        for path, name, text in PAGES:
            page.goto(f"{url}/{path}")
            ready(page, text)
            if name == "tracks":  # two runs on one axis
                page.goto(f"{url}/tracks?runs=convtf-n300-s0,crnn-n300-s0")
                ready(page, text)
                page.mouse.wheel(0, 330)
                page.wait_for_timeout(800)
            page.screenshot(path=str(OUT / f"{name}.png"))
        page.goto(f"{url}/realcase")
        ready(page, "Choose the models")
        page.get_by_text("played with AAM's own notes").first.click()
        ready(page, "Instruments heard")
        page.screenshot(path=str(OUT / "realcase.png"))
        page.mouse.wheel(0, 700)
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "realcase_rolls.png"))
        browser.close()
    print(f"wrote {len(PAGES) + 2} screenshots to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
