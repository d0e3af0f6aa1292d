import numpy as np
import pytest
import torch

from instdet.crossval import make_folds
from instdet.inference import Predictor
from instdet.postprocess import PostProcess
from instdet.release import (blend, choose_weight, make_ensemble, nested_blend, safe_postprocess,
                             set_postprocess)
from instdet.training import TrainConfig, train

IDS = [f"{i:04d}" for i in range(1, 9)]


def oofs(seed=0):
    rng = np.random.default_rng(seed)
    good, bad = {}, {}
    for t in IDS:
        y = (rng.random((50, 31)) > 0.8).astype(np.uint8)
        good[t] = {"labels": y, "probs": np.clip(0.7 * y + 0.4 * rng.random((50, 31)), 0, 1)}
        bad[t] = {"labels": y, "probs": rng.random((50, 31)).astype(np.float32)}
    return good, bad


def test_choose_weight_prefers_the_better_model():
    good, bad = oofs()
    assert choose_weight(good, bad, IDS) >= 0.7
    assert choose_weight(bad, good, IDS) <= 0.3


def test_nested_blend_chooses_each_fold_on_the_others():
    good, bad = oofs()
    folds = make_folds(IDS, k=4, n_val=0)
    out, weights = nested_blend(good, bad, folds, exclude={"0001"})
    assert set(out) == set(IDS) and set(weights) == {0, 1, 2, 3}
    t = folds[0].test[0]
    np.testing.assert_allclose(out[t]["probs"], blend(good[t]["probs"], bad[t]["probs"],
                                                      weights[0]))


def test_ensemble_run_loads_and_averages(tiny, tmp_path):
    fast = dict(epochs=1, steps_per_epoch=2, batch_size=4, crop_frames=64)
    for name, model in (("a", "mlp"), ("b", "convtf")):
        train(TrainConfig(model=model, data=(str(tiny),), val_ids=("0001",), test_ids=("0002",),
                          **fast), tmp_path / name, log=lambda s: None)
    post = PostProcess(None, 3)
    make_ensemble([tmp_path / "a", tmp_path / "b"], [0.25, 0.75], tmp_path / "ens",
                  postprocess=post, summary={"data_kind": "real", "train_size": 1})
    ens = Predictor.from_run(tmp_path / "ens")
    a, b = Predictor.from_run(tmp_path / "a"), Predictor.from_run(tmp_path / "b")
    feats = np.random.default_rng(0).uniform(-80, 0, (200, 128)).astype(np.float32)
    want = 0.25 * a.probabilities(feats) + 0.75 * b.probabilities(feats)
    np.testing.assert_allclose(ens.probabilities(feats), want, atol=1e-5)
    assert ens.postprocess == post and ens.model_name == "ensemble"
    set_postprocess(tmp_path / "a", PostProcess(None, 5))
    assert Predictor.from_run(tmp_path / "a").postprocess.median == 5
    ckpt = torch.load(tmp_path / "ens" / "model.pt", weights_only=True)
    assert ckpt["model_config"]["weights"] == [0.25, 0.75]


@pytest.mark.parametrize("raw, post, ok", [((0.5, 0.3), (0.52, 0.3), True),
                                           ((0.5, 0.3), (0.52, 0.29), False)])
def test_post_processing_that_lowers_either_score_is_not_shipped(raw, post, ok):
    import pandas as pd

    table = pd.DataFrame([
        {"condition": "c", "fold": "pooled", "stage": "raw", "f1_micro": raw[0], "f1_macro": raw[1]},
        {"condition": "c", "fold": "pooled", "stage": "postprocessed", "f1_micro": post[0],
         "f1_macro": post[1]}])
    assert safe_postprocess(table, "c") is ok


def test_blend_keeps_the_covering_model_only_where_it_covers():
    a, b = np.full((2, 3), 0.9, np.float32), np.full((2, 3), 0.1, np.float32)
    out = blend(a, b, 0.5, np.array([True, False, True]))
    np.testing.assert_allclose(out[0], [0.5, 0.1, 0.5])
