"""Every page runs under Streamlit's AppTest on a small results fixture and on empty or
half-written folders: no exception, and the key elements are there."""

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIEWS = ["home", "dataset", "models", "tracks", "confusions", "postprocess", "realcase",
         "glossary"]


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
    "tracks": "Ground truth and up to 4 runs",
    "confusions": "Where a confusion happens",
    "postprocess": "One instrument's thresholds",
    "realcase": "Choose the models",
    "glossary": "The words the pages use",
}


@pytest.mark.parametrize("page", VIEWS)
def test_page_with_results(page, results_fixture, dash_env):
    dash_env(*results_fixture)
    at = run_page(page)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert EXPECT[page] in texts(at)


@pytest.mark.parametrize("page", [v for v in VIEWS if v != "glossary"])
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


def test_tracks_page_stacks_runs(results_fixture, dash_env):
    dash_env(*results_fixture)
    at = run_page("tracks")
    at.multiselect(key="tracks_runs").set_value(["crnn-n1-s0", "mlp-n1-s0"]).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 2  # one row of metrics per run
    assert "R1" in texts(at) and "R2" in texts(at)


def test_tracks_page_opens_at_a_shared_link(results_fixture, dash_env):
    dash_env(*results_fixture)
    at = AppTest.from_file(str(ROOT / "dashboard" / "Home.py"), default_timeout=60)
    at.run()
    at.switch_page("views/tracks.py")
    at.query_params.update({"run": "crnn-n1-s0", "track": "0003", "t": "2.5",
                            "inst": "Flute,Piano"})
    at.run()
    assert not at.exception
    assert at.multiselect(key="tracks_runs").value == ["crnn-n1-s0"]
    assert at.selectbox(key="tracks_track").value == "0003"


def test_confusion_pair_links_to_tracks(results_fixture, dash_env):
    dash_env(*results_fixture)
    at = run_page("confusions")
    assert not at.exception
    pair = at.selectbox(key="conf_pair")
    assert " → " in pair.value
    links = [el for el in at.main if el.type == "page_link"] if hasattr(at, "main") else []
    assert links, "a confusion pair lists the songs where it happens as links to Tracks"
    proto = links[0].proto
    assert proto.page.endswith("tracks") or "tracks" in proto.page_script_hash or proto.page
    assert "Song " in proto.label


def test_models_page_diffs_two_runs(results_fixture, dash_env):
    dash_env(*results_fixture)
    at = run_page("models")
    at.selectbox(key="models_cfg_a").select("crnn-n1-s0").run()
    at.selectbox(key="models_cfg_b").select("mlp-n1-s0").run()
    assert not at.exception
    diff = [d.value for d in at.dataframe if "setting" in d.value.columns][0]
    row = diff.set_index("setting").loc["train.model"]
    assert list(row[["crnn-n1-s0", "mlp-n1-s0"]]) == ["crnn", "mlp"]
    assert diff["differs"].all()


GOOD_SEEDS = ("run,seed,f1_micro,f1_macro\nmlp-n1-s0,0,0.50,0.30\nmlp-n1-s0,1,0.40,0.20\n"
              "crnn-n1-s0,0,0.60,0.40\n")
GOOD_GPU = "run,gpu_postprocessed_micro,gpu_postprocessed_macro\nmlp-n1-s0,0.46,0.26\n"


@pytest.mark.parametrize("seed_csv, gpu_csv, shown, met", [
    (GOOD_SEEDS, GOOD_GPU, True, True),  # 0.45 / 0.25 against 0.46 / 0.26: met
    (GOOD_SEEDS, "\x00garbage", True, None),  # no GPU runs to meet
    (GOOD_SEEDS, "run,gpu_postprocessed_micro,gpu_postprocessed_macro\nmlp-n1-s0,x,0.2\n",
     True, None),
    ("run,seed,f1_micro\nmlp-n1-s0,0,0.5\n", GOOD_GPU, False, None),  # a column missing
    ("\x00\x01 not a table", GOOD_GPU, False, None),
    ("run,seed,f1_micro,f1_macro\n", GOOD_GPU, False, None),  # header only
    ("run,seed,f1_micro,f1_macro\nmlp-n1-s0,zero,0.5,0.3\n", GOOD_GPU, False, None),
])
def test_models_page_shows_the_spread_over_seeds(results_fixture, dash_env, tmp_path,
                                                seed_csv, gpu_csv, shown, met):
    import shutil

    results = tmp_path / "results"
    shutil.copytree(results_fixture[0], results)
    (results / "seed_spread.csv").write_text(seed_csv)
    (results / "cpu_vs_gpu_runs.csv").write_text(gpu_csv)
    dash_env(results, results_fixture[1])
    at = run_page("models")
    assert not at.exception, at.exception
    shown_text = texts(at)
    assert ("How much a seed moves the score" in shown_text) is shown
    # the caption under the figure points to the table only when there is one
    assert ("is in the table *How much a seed moves the score*" in shown_text) is shown
    assert ("no spread over seeds to show" in shown_text) is not shown
    tables = [d.value for d in at.dataframe if "mean_met" in d.value.columns]
    assert bool(tables) is shown
    if shown:
        t = tables[0].set_index("run")
        assert t.loc["mlp-n1-s0", "micro_mean"] == pytest.approx(0.45)
        got = t.loc["mlp-n1-s0", "mean_met"]
        assert (pd.isna(got) if met is None else bool(got) is met)
        assert pd.isna(t.loc["crnn-n1-s0", "mean_met"])  # no GPU run to meet


def test_glossary_explains_every_term():
    from dashboard.glossary import TERMS

    at = AppTest.from_file(str(ROOT / "dashboard" / "Home.py"), default_timeout=60)
    at.run()
    at.switch_page("views/glossary.py")
    at.run()
    shown = at.dataframe[0].value
    assert list(shown["term"]) == list(TERMS) and shown["meaning"].str.len().min() > 20
    for term in ("F1 micro", "F1 macro", "mAP", "real-test", "run id", "val_score"):
        assert term in TERMS


def test_postprocess_page_reproduces_the_stored_row(results_fixture, dash_env):
    dash_env(*results_fixture)
    at = run_page("postprocess")
    at.toggle(key="pp_stored").set_value(True).run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("setting")
    stored, live = table.loc["stored (chosen on validation)"], table.loc["stored settings, rescored"]
    assert (stored == live).all(), (stored, live)


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


def test_home_recommends_the_release_run_at_the_stage_it_ships(results_fixture, dash_env,
                                                              tmp_path):
    import shutil

    import pandas as pd

    results, runs = results_fixture
    res = tmp_path / "results"
    shutil.copytree(results, res)
    rows = []
    for run, cond, base in (("mlp-n1-s0", "mlp", 0.6), ("crnn-n1-s0", "crnn", 0.5)):
        for stage, add in (("raw", 0.0), ("postprocessed", 0.1)):
            for fold, d in (("0", -0.02), ("1", 0.02), ("pooled", 0.0)):
                rows.append({"condition": cond, "stage": stage, "fold": fold, "songs": "1 2 3 4",
                             "f1_micro": base + add + d, "f1_macro": base - 0.2 + add + d,
                             "run_id": run})
    pd.DataFrame(rows).to_csv(res / "release_cv.csv", index=False)
    dash_env(res, runs)
    at = run_page("home")
    assert not at.exception, at.exception
    from dashboard.loaders import shipped_stage

    stages = {r: shipped_stage(str(runs / r)) for r in ("mlp-n1-s0", "crnn-n1-s0")}
    # The numbers shown are those of the stage each run ships with, best first.
    best = max(stages, key=lambda r: (0.6 if r.startswith("mlp") else 0.5)
               + (0.1 if stages[r] == "postprocessed" else 0.0))
    assert f"**`{best}`** (preselected on the Real case page)" in texts(at)
    table = at.dataframe[0].value
    assert list(table["run_id"])[0] == best
    assert set(table["stage"]) <= {"no post-processing", "its median filter"}
