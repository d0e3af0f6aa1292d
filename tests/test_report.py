import numpy as np
import pandas as pd
import pytest

from instdet.report import (best_per_model, config_diff, cv_summary, fmt_score, markdown_results,
                            run_label, seed_spread, seed_table, sweep_table, with_labels)

RUNS = pd.DataFrame([
    {"run_id": "mlp-n75-s0", "model": "mlp", "train_size": 75, "data_kind": "real+remix",
     "eval": "e", "stage": "postprocessed", "f1_micro": 0.4, "f1_macro": 0.2,
     "segment_f1_1s": 0.3, "mAP": 0.1},
    {"run_id": "mlp-n150-s0", "model": "mlp", "train_size": 150, "data_kind": "real+remix",
     "eval": "e", "stage": "postprocessed", "f1_micro": 0.5, "f1_macro": 0.3,
     "segment_f1_1s": 0.3, "mAP": 0.1},
    {"run_id": "mlp-n150-s1", "model": "mlp", "train_size": 150, "data_kind": "real+remix",
     "eval": "e", "stage": "postprocessed", "f1_micro": 0.3, "f1_macro": 0.3,
     "segment_f1_1s": 0.3, "mAP": 0.1},
    {"run_id": "crnn-n75-s0", "model": "crnn", "train_size": 75, "data_kind": "real+remix",
     "eval": "e", "stage": "postprocessed", "f1_micro": 0.45, "f1_macro": 0.1,
     "segment_f1_1s": 0.3, "mAP": 0.1},
    {"run_id": "seed-mlp-300", "model": "seedmlp", "train_size": 300, "data_kind": "real",
     "eval": "e", "stage": "postprocessed", "f1_micro": 0.6, "f1_macro": 0.5,
     "segment_f1_1s": 0.3, "mAP": 0.1},
])


def test_tables():
    t = sweep_table(RUNS, eval_name="e")
    assert t.loc["MLP · real + remixes", 150] == pytest.approx(0.4)  # two seeds averaged
    assert np.isnan(t.loc["CRNN · real + remixes", 150])
    assert t.loc["Seed MLP · real songs only", 300] == 0.6
    assert best_per_model(RUNS, eval_name="e") == ["seed-mlp-300", "mlp-n150-s0", "crnn-n75-s0"]
    md = markdown_results(RUNS, eval_name="e")
    assert "| seed-mlp-300 | Seed MLP | 300 | real songs only | **0.600** |" in md
    spread = seed_spread(RUNS, eval_name="e", stage="postprocessed", metric="f1_micro")
    row = spread[(spread["series"] == "MLP · real + remixes") & (spread["train_size"] == 150)]
    assert row["seeds"].item() == 2 and row["std"].item() == pytest.approx(0.1)


SEEDS = pd.DataFrame({"run": ["a-s0"] * 3 + ["b-s0"] * 2 + ["c-s0"],
                      "seed": [0, 1, 2, 0, 1, 0],
                      "f1_micro": [0.5, 0.6, 0.4, 0.30, 0.30, 0.7],
                      "f1_macro": [0.3, 0.3, 0.3, 0.20, 0.40, 0.2]})


@pytest.mark.parametrize("gpu_micro, gpu_macro, met", [
    (0.51, 0.31, True),    # both at the tolerance exactly (0.31 - 0.01 in floating point)
    (0.511, 0.30, False),  # micro short by more than the tolerance
    (0.40, 0.311, False),  # macro short
    (0.20, 0.10, True),    # ahead on both
])
def test_seed_table_means_ranges_and_the_gpu_verdict(gpu_micro, gpu_macro, met):
    gpu = pd.DataFrame({"run": ["a-s0"], "gpu_postprocessed_micro": [gpu_micro],
                        "gpu_postprocessed_macro": [gpu_macro]})
    t = seed_table(SEEDS, gpu=gpu).set_index("run")
    a = t.loc["a-s0"]
    assert a["seeds"] == 3 and a["micro_mean"] == pytest.approx(0.5)
    assert (a["micro_min"], a["micro_max"]) == (0.4, 0.6)
    assert a["macro_mean"] == pytest.approx(0.3) and bool(a["mean_met"]) is met
    assert t.loc["b-s0", "macro_mean"] == pytest.approx(0.3) and t.loc["b-s0", "seeds"] == 2
    assert pd.isna(t.loc["c-s0", "mean_met"]) and pd.isna(t.loc["c-s0", "gpu_micro"])


def test_seed_table_without_gpu_runs_or_scores():
    assert seed_table(SEEDS)["mean_met"].isna().all()
    damaged = SEEDS.astype(object)
    damaged.loc[0, "f1_micro"] = "n/a"  # one bad cell drops its row, not the table
    damaged.loc[3, "seed"] = "zero"
    t = seed_table(damaged).set_index("run")
    assert t.loc["a-s0", "seeds"] == 2 and t.loc["a-s0", "micro_mean"] == pytest.approx(0.5)
    assert t.loc["b-s0", "seeds"] == 1


def test_seed_table_keeps_the_last_of_a_repeated_seed():
    again = pd.concat([SEEDS, pd.DataFrame({"run": ["a-s0"], "seed": [1], "f1_micro": [0.9],
                                            "f1_macro": [0.3]})])
    a = seed_table(again).set_index("run").loc["a-s0"]
    assert a["seeds"] == 3 and a["micro_mean"] == pytest.approx((0.5 + 0.9 + 0.4) / 3)
    empty = seed_table(SEEDS.iloc[:0])
    assert empty.empty and "mean_met" in empty.columns


@pytest.mark.parametrize("run_id, model, n, kind, expected", [
    ("crnn-n150-s0", "crnn", 150, "real+remix", "CRNN, 150 songs (real + remixes), seed 0"),
    ("seed-mlp-75-e5", "seedmlp", 75, "real",
     "Seed MLP, 75 songs (real songs, the original project's), 5 epochs"),
    ("release-convtf", "convtf", 412, "real+remix+sampled",
     "Release: CNN-Transformer, 412 songs (real + remixes + sampled songs)"),
])
def test_run_labels(run_id, model, n, kind, expected):
    assert run_label(run_id, model=model, train_size=n, data_kind=kind) == expected
    assert set(with_labels(RUNS)["label"]) >= {"MLP, 75 songs (real + remixes), seed 0"}


def test_config_diff():
    a = {"train": {"model": "mlp", "lr": 0.001, "data": ["x", "y"]}, "status": "done"}
    b = {"train": {"model": "crnn", "lr": 0.001, "data": ["x", "y"]}, "status": "done", "n": 3}
    d = config_diff(a, b, names=("a", "b"))
    assert list(d["setting"]) == ["n", "train.model"]
    assert d.set_index("setting").loc["train.model", "b"] == "crnn"
    assert len(config_diff(a, b, only_different=False)) == 5


def test_number_rule():
    assert fmt_score(0.56789) == "0.568" and fmt_score(float("nan")) == "–"


def test_cv_summary_reports_the_stage_each_run_ships_with():
    rows = []
    for run, cond, base in (("release-ensemble", "convtf+seed", 0.7), ("seed-mlp-300", "seed", 0.6)):
        for stage, add in (("raw", 0.0), ("postprocessed", 0.05)):
            for fold, d in (("0", -0.02), ("1", 0.03), ("pooled", 0.0)):
                rows.append({"condition": cond, "stage": stage, "fold": fold,
                             "songs": "1 2 3" if fold != "pooled" else "1 2 3 4 5 6",
                             "f1_micro": base + add + d, "f1_macro": base - 0.2 + add + d,
                             "run_id": run})
    rows.append({**rows[0], "run_id": None, "condition": "not shipped", "f1_micro": 0.99})
    cv = pd.DataFrame(rows)
    out = cv_summary(cv, stages={"release-ensemble": "raw"})
    assert list(out["run_id"]) == ["release-ensemble", "seed-mlp-300"]  # best F1 micro first
    ens = out.set_index("run_id").loc["release-ensemble"]
    assert ens["stage"] == "raw" and ens["f1_micro"] == pytest.approx(0.7)
    assert ens["micro_folds"] == "0.680–0.730" and ens["songs"] == 6 and ens["folds"] == 2
    seed = out.set_index("run_id").loc["seed-mlp-300"]
    assert seed["stage"] == "postprocessed" and seed["f1_micro"] == pytest.approx(0.65)
