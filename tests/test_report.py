import numpy as np
import pandas as pd

from instdet.report import (best_per_model, downsample_codes, markdown_results, model_agreement,
                            outcome_codes, sweep_table)


def test_outcome_codes():
    t = np.array([[1, 0], [1, 1], [0, 0]])
    p = np.array([[1, 1], [0, 1], [0, 0]])
    np.testing.assert_array_equal(outcome_codes(t, p), [[1, 2], [3, 1], [0, 0]])


def test_downsample_keeps_worst():
    codes = np.zeros((10, 1), np.int8)
    codes[3] = 3
    pooled, step = downsample_codes(codes, max_columns=2)
    assert step == 5 and pooled[:, 0].tolist() == [3, 0]


def test_agreement():
    a = {"x": np.array([[1, 0]]), "y": np.array([[1, 1]])}
    np.testing.assert_allclose(model_agreement(a), [[1.0, 0.5]])


RUNS = pd.DataFrame([
    {"run_id": "mlp-n75", "model": "mlp", "train_size": 75, "eval": "e", "stage": "postprocessed",
     "f1_micro": 0.4, "f1_macro": 0.2, "segment_f1_1s": 0.3, "mAP": 0.1},
    {"run_id": "mlp-n150", "model": "mlp", "train_size": 150, "eval": "e", "stage": "postprocessed",
     "f1_micro": 0.5, "f1_macro": 0.3, "segment_f1_1s": 0.3, "mAP": 0.1},
    {"run_id": "crnn-n75", "model": "crnn", "train_size": 75, "eval": "e", "stage": "postprocessed",
     "f1_micro": 0.45, "f1_macro": 0.1, "segment_f1_1s": 0.3, "mAP": 0.1},
])


def test_tables():
    t = sweep_table(RUNS, eval_name="e")
    assert t.loc["mlp", 150] == 0.5 and np.isnan(t.loc["crnn", 150])
    assert best_per_model(RUNS, eval_name="e") == ["mlp-n150", "crnn-n75"]
    md = markdown_results(RUNS, eval_name="e")
    assert "| mlp | 150 | **0.500** |" in md
