"""Every page runs under Streamlit's AppTest on a small results fixture and on empty or
half-written folders: no exception, and the key elements are there."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIEWS = ["home", "dataset", "models", "tracks", "confusions", "postprocess", "realcase"]


def run_page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard" / "Home.py"), default_timeout=60)
    at.run()
    if name != "home":
        at.switch_page(f"views/{name}.py")
        at.run()
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + \
            [h.value for h in at.subheader] + [w.value for w in at.warning] + \
            [e.value for e in at.error] + [i.value for i in at.info] + [c.value for c in at.caption]
    return "\n".join(map(str, parts))


EXPECT = {
    "home": "Best model on `real-test`",
    "dataset": "Label source: sections vs notes",
    "models": "Per-instrument F1 across runs",
    "tracks": "Tracks, worst first",
    "confusions": "missed",
    "postprocess": "Post-processing, live",
    "realcase": "Upload a song",
}


@pytest.mark.parametrize("page", VIEWS)
def test_page_with_results(page, results_fixture, dash_env):
    dash_env(*results_fixture)
    at = run_page(page)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert EXPECT[page] in texts(at)


@pytest.mark.parametrize("page", VIEWS)
def test_page_with_empty_folders(page, tmp_path, dash_env):
    (tmp_path / "r").mkdir()
    (tmp_path / "m").mkdir()
    dash_env(tmp_path / "r", tmp_path / "m")
    at = run_page(page)
    assert not at.exception, at.exception
    assert at.warning or at.info, f"{page} says nothing about the missing results"


@pytest.mark.parametrize("page", VIEWS)
def test_page_with_half_written_runs(page, tmp_path, dash_env):
    r, m = tmp_path / "r", tmp_path / "m"
    (r / "runs" / "broken" / "real-test").mkdir(parents=True)
    (r / "runs" / "broken" / "real-test" / "metrics.json").write_text('{"run_id": "bro')
    (r / "runs.csv").write_text("")
    (r / "dataset_stats_x.csv").write_text("")
    (m / "half").mkdir(parents=True)
    (m / "half" / "config.json").write_text(json.dumps({"status": "training"}))
    dash_env(r, m)
    at = run_page(page)
    assert not at.exception, at.exception


def test_tracks_page_interaction(results_fixture, dash_env):
    dash_env(*results_fixture)
    at = run_page("tracks")
    at.selectbox(key="tracks_run").select("crnn-n1-s0").run()
    assert not at.exception
    assert any("F1 micro" == m.label for m in at.metric)


def test_postprocess_sliders_change_metrics(results_fixture, dash_env):
    dash_env(*results_fixture)
    at = run_page("postprocess")
    before = at.metric[0].value
    at.slider(key="pp_threshold").set_value(0.95).run()
    assert not at.exception
    assert at.metric[0].value != before or at.metric[0].value == "0.000"


def test_home_routes_all_pages():
    at = AppTest.from_file(str(ROOT / "dashboard" / "Home.py"), default_timeout=60)
    at.run()
    assert not at.exception
