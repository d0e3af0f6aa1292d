"""The dashboard in a real browser: Debian's Chromium driven by Playwright (no browser
download), against `streamlit run` on 127.0.0.1 with the shipped results and models.
Screenshots land in screenshots/ (ignored by git)."""

import contextlib
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dashboard.serve import running

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "screenshots"
PAGES = [
    ("", "Best model on"),
    ("dataset", "Label source: sections vs notes"),
    ("models", "Per-instrument F1 across runs"),
    ("tracks", "Ground truth and up to 4 runs"),
    ("confusions", "Where a confusion happens"),
    ("postprocess", "One instrument's thresholds"),
    ("glossary", "The words the pages use"),
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright")
    env = {"INSTDET_RESULTS": str(ROOT / "results"), "INSTDET_MODELS": str(ROOT / "saved_models")}
    log = tmp_path_factory.mktemp("st") / "streamlit.log"
    with open(log, "w") as out, contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(running(env=env, log=out))
        except RuntimeError as exc:
            pytest.fail(f"{exc}: {log.read_text()[-2000:]}")
        yield url


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        # A fresh profile folder for every run (the persistent context takes it as user_data_dir).
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True,
            viewport={"width": 1500, "height": 2000},
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--autoplay-policy=no-user-gesture-required"])
        pg = context.new_page()
        yield pg
        context.close()


def wait_ready(pg, text: str) -> None:
    pg.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
    # Streamlit shows a running indicator while the script runs.
    pg.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')",
                         timeout=60_000)
    pg.wait_for_timeout(1500)  # let the charts finish drawing


@pytest.mark.parametrize("path, text", PAGES)
def test_page_renders(page, server, path, text):
    SHOTS.mkdir(exist_ok=True)
    page.goto(f"{server}/{path}")
    wait_ready(page, text)
    body = page.inner_text("body")
    assert "Traceback" not in body
    assert not page.locator('[data-testid="stException"]').count()
    page.screenshot(path=str(SHOTS / f"{path or 'home'}.png"), full_page=True)


def roll_frame(pg):
    """The event-roll component's frame (the iframe holding the playhead)."""
    for _ in range(100):
        for frame in pg.frames:
            try:
                if frame.locator("#playhead").count():
                    return frame
            except Exception:
                continue
        pg.wait_for_timeout(200)
    raise AssertionError("no event roll on the page")


def song(tmp_path, name, seconds):
    sr = 22050
    t = np.arange(int(sr * seconds)) / sr
    y = 0.2 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    y += 0.05 * np.random.default_rng(0).standard_normal(len(t)) * (t % 0.5 < 0.05)
    path = tmp_path / name
    sf.write(path, y, sr)
    return path


def nav(pg, path: str) -> None:
    """Go to another page with the sidebar's link (the session, and what it holds, stays)."""
    pg.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click()


def test_real_case(page, server, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    page.goto(f"{server}/realcase")
    wait_ready(page, "Choose the models")
    upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    upload.set_input_files(str(song(tmp_path, "my song é.wav", 8.0)))
    wait_ready(page, "Instruments heard")
    assert "heard by" in page.inner_text("body")
    assert not page.locator('[data-testid="stException"]').count()
    page.screenshot(path=str(SHOTS / "realcase.png"), full_page=True)

    # The playhead follows playback, and a click on the rolls seeks.
    frame = roll_frame(page)
    frame.evaluate("document.getElementById('player').play()")
    page.wait_for_timeout(2000)
    assert float(frame.evaluate("document.body.dataset.playhead")) > 0.5
    frame.evaluate("document.getElementById('player').pause()")
    box = frame.locator("svg").bounding_box()
    left = 170  # the rolls start after the instrument names
    frame.locator("svg").click(position={"x": left + 0.75 * (box["width"] - left - 10), "y": 40})
    page.wait_for_timeout(300)
    assert abs(float(frame.evaluate("document.getElementById('player').currentTime")) - 6.0) < 0.5

    # Another page and back: the verdict is there again without running the models.
    # (through the app's own navigation, as a user does: a reload starts a new session)
    nav(page, "models")
    wait_ready(page, "Models by training size")
    nav(page, "realcase")
    page.get_by_text("Instruments heard").first.wait_for(timeout=10_000)
    assert "my song é.wav: 8.0 s" in page.inner_text("body")
    assert not page.get_by_text("Running ").count()

    # A 0.2-s clip is analysed with a caution; a text file named .mp3 gets one line.
    upload.set_input_files(str(song(tmp_path, "blip.wav", 0.2)))
    wait_ready(page, "too short to judge")
    page.screenshot(path=str(SHOTS / "realcase_short.png"), full_page=True)
    bad = tmp_path / "notes.mp3"
    bad.write_text("this is not audio")
    upload.set_input_files(str(bad))
    page.locator('[data-testid="stAlertContentError"]').first.wait_for(timeout=60_000)
    assert "notes.mp3" in page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    page.screenshot(path=str(SHOTS / "realcase_error.png"), full_page=True)


def test_confusion_pair_opens_the_song_in_tracks(page, server):
    page.goto(f"{server}/confusions")
    wait_ready(page, "Where a confusion happens")
    link = page.locator('[data-testid="stPageLink"] a', has_text=re.compile(r"Song \d")).first
    link.click()
    wait_ready(page, "Ground truth and up to 4 runs")
    assert "track=" in page.url and "inst=" in page.url
    assert not page.locator('[data-testid="stException"]').count()
    page.screenshot(path=str(SHOTS / "tracks_from_confusion.png"), full_page=True)
