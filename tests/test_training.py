import json

import numpy as np
import pandas as pd
import pytest
import torch

from instdet.checkpoint import load_checkpoint
from instdet.dataset import TrackArrays, load_pack, sample_batch, save_pack, split_tracks
from instdet.errors import InstdetError
from instdet.features import FeatureConfig
from instdet.inference import Predictor
from instdet.training import TrainConfig, masked_bce, train

FAST = dict(epochs=1, steps_per_epoch=3, batch_size=4, crop_frames=64)


@pytest.fixture(scope="module")
def real_run(aam_tiny, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "crnn-test"
    cfg = TrainConfig(model="crnn", data=(str(aam_tiny),), test_ids=("2462",),
                      val_ids=("0080",), train_size=3, seed=0, **FAST)
    summary = train(cfg, run, log=lambda s: None)
    return run, summary


def test_run_folder(real_run):
    run, summary = real_run
    assert {p.name for p in run.iterdir()} == {"model.pt", "config.json", "history.csv", "split.json"}
    assert summary["status"] == "done" and summary["train_size"] == 3
    split = json.loads((run / "split.json").read_text())
    assert split["test"] == ["2462"] and split["val"] == ["0080"]
    assert not set(split["train"]) & {"2462", "0080"}
    hist = pd.read_csv(run / "history.csv")
    assert list(hist.columns[:5]) == ["epoch", "loss", "val_loss", "val_f1_micro", "val_f1_macro"]


def test_checkpoint_rebuilds_and_predicts_the_same(real_run, aam_tiny):
    run, _ = real_run
    ckpt = torch.load(run / "model.pt", weights_only=True)
    for key in ("model_name", "model_config", "feature_config", "instruments", "epoch",
                "best_score", "postprocess"):
        assert key in ckpt
    floats = [v for v in ckpt["state_dict"].values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)  # shipped at half size
    audio = aam_tiny / "audio-mixes-mp3" / "2462_mix.mp3"
    a = Predictor.from_run(run).predict(audio)
    b = Predictor.from_run(run / "model.pt").predict(audio)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    assert a.probabilities.shape == (len(a.times), 31) and a.active.dtype == bool


def test_same_seed_same_numbers(tiny, tmp_path):
    cfg = TrainConfig(model="mlp", data=(str(tiny),), val_ids=("0001",), test_ids=("0002",), **FAST)
    train(cfg, tmp_path / "a", log=lambda s: None)
    train(cfg, tmp_path / "b", log=lambda s: None)
    ha, hb = (pd.read_csv(tmp_path / x / "history.csv") for x in "ab")
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-5)


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_resume_continues(tiny, tmp_path, ema):
    cfg = TrainConfig(model="mlp", data=(str(tiny),), val_ids=("0001",), test_ids=("0002",),
                      ema=ema, **{**FAST, "epochs": 2, "patience": 5})
    full = tmp_path / "full"
    train(cfg, full, log=lambda s: None)

    class Stop(Exception):
        pass

    def stop_after_first(row):
        raise Stop

    part = tmp_path / "part"
    with pytest.raises(Stop):
        train(cfg, part, progress=stop_after_first, log=lambda s: None)
    assert (part / "last.pt").exists() and load_checkpoint(part / "model.pt")["epoch"] == 1
    train(cfg, part, resume=True, log=lambda s: None)
    a, b = (pd.read_csv(p / "history.csv") for p in (full, part))
    assert len(b) == 2 and not (part / "last.pt").exists()
    np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-4)
    # validation sees the averaged weights: a resumed run must carry the average on
    np.testing.assert_allclose(a["val_loss"], b["val_loss"], rtol=1e-4)


def test_resume_without_state(tmp_path, tiny):
    cfg = TrainConfig(model="mlp", data=(str(tiny),), val_ids=("0001",), test_ids=("0002",), **FAST)
    with pytest.raises(InstdetError, match="nothing to resume"):
        train(cfg, tmp_path / "none", resume=True, log=lambda s: None)


def test_mask_excludes_padding():
    """Changing logits or targets on padded frames must not change the loss."""
    torch.manual_seed(0)
    logits = torch.randn(2, 10, 31)
    target = torch.randint(0, 2, (2, 10, 31)).float()
    mask = torch.ones(2, 10)
    mask[1, 6:] = 0
    pw = torch.ones(31) * 2
    base = masked_bce(logits, target, mask, pw)
    logits2, target2 = logits.clone(), target.clone()
    logits2[1, 6:] = 50.0
    target2[1, 6:] = 0.0
    assert torch.allclose(base, masked_bce(logits2, target2, mask, pw))
    real = torch.nn.functional.binary_cross_entropy_with_logits(
        logits[1, :6], target[1, :6], pos_weight=pw, reduction="none").mean(-1)
    full = torch.nn.functional.binary_cross_entropy_with_logits(
        logits[0], target[0], pos_weight=pw, reduction="none").mean(-1)
    assert torch.allclose(base, torch.cat([full, real]).mean())


def test_sample_batch_pads_short_tracks():
    a = TrackArrays("1", np.zeros((10, 8), np.float32), np.ones((10, 31), np.uint8), "midi")
    x, y, mask, soft = sample_batch([a], np.array([1.0]), batch_size=2, crop=16,
                                    rng=np.random.default_rng(0))
    assert soft is None
    assert x.shape == (2, 16, 8) and mask[:, :10].all() and not mask[:, 10:].any()
    assert (x[:, 10:] == -80).all() and not y[:, 10:].any()


@pytest.mark.parametrize("train_size, ok", [(2, True), (50, False)])
def test_split(train_size, ok):
    ids = [f"{i:04d}" for i in range(10)]
    if not ok:
        with pytest.raises(InstdetError, match="training tracks"):
            split_tracks(ids, train_size=train_size, seed=0)
        return
    s = split_tracks(ids, train_size=train_size, seed=0)
    assert len(s["train"]) == train_size and not set(s["train"]) & (set(s["val"]) | set(s["test"]))
    assert s == split_tracks(ids, train_size=train_size, seed=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("train_size, n_real", [(3, 3), (5, 5), (8, 5)])
def test_split_real_first_takes_every_real_song_first(seed, train_size, n_real):
    real = [f"{i:04d}" for i in range(1, 8)]  # 0001-0007
    generated = [str(40001 + i) for i in range(20)]
    val = ["0006", "0007"]
    s = split_tracks([*generated, *real], train_size=train_size, seed=seed, test_ids=["40020"],
                     val_ids=val, real_first=True)
    got_real = [t for t in s["train"] if int(t) < 10000]
    assert len(s["train"]) == train_size and len(got_real) == n_real
    assert not set(s["train"]) & set(val) and "40020" not in s["train"]
    assert s == split_tracks([*real, *generated], train_size=train_size, seed=seed,
                             test_ids=["40020"], val_ids=val, real_first=True)


def test_pack_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-80, 0, (50, 128)).astype(np.float32)
    y = (rng.random((50, 31)) > 0.7).astype(np.uint8)
    save_pack(tmp_path / "p.npz", {"7": TrackArrays("7", x, y, "midi")}, config=FeatureConfig())
    arrays, cfg = load_pack(tmp_path / "p.npz")
    assert cfg == FeatureConfig()
    assert np.abs(arrays["7"].features - x).max() <= 80 / 255 / 2 + 1e-4
    np.testing.assert_array_equal(arrays["7"].labels, y)


def test_on_the_fly_remixes(tiny, tmp_path):
    from instdet.data.aam import load_tracks
    from instdet.data.remix import OnTheFlyRemixer

    remixer = OnTheFlyRemixer(load_tracks(tiny), features=FeatureConfig(), crop=64)
    x, y = remixer(np.random.default_rng(0))
    assert x.shape == (64, 128) and y.shape == (64, 31) and y.any()
    assert set(np.flatnonzero(y.any(axis=0))) <= {8, 16, 22}  # Drums, Flute, Piano
    cfg = TrainConfig(model="mlp", data=(str(tiny),), val_ids=("0001",), test_ids=("0002",),
                      remix_prob=0.5, **FAST)
    assert train(cfg, tmp_path / "r", log=lambda s: None)["status"] == "done"


def test_on_the_fly_sampled_songs(tiny, tmp_path):
    from instdet.data.aam import load_tracks
    from instdet.data.sampler import OnTheFlySampler

    sampler = OnTheFlySampler(load_tracks(tiny), features=FeatureConfig(), crop=64,
                              cache_dir=tmp_path / "bank")
    x, y = sampler(np.random.default_rng(0))
    assert x.shape == (64, 128) and y.shape == (64, 31) and y.any()
    assert set(np.flatnonzero(y.any(axis=0))) <= {8, 16, 22}  # only the bank's instruments
    x2, y2 = sampler(np.random.default_rng(0))
    assert np.array_equal(x, x2) and np.array_equal(y, y2)  # seeded
    cfg = TrainConfig(model="mlp", data=(str(tiny),), val_ids=("0001",), test_ids=("0002",),
                      sample_prob=0.5, **FAST)
    assert train(cfg, tmp_path / "s", log=lambda s: None)["status"] == "done"


def test_fine_tune_from_a_run(tiny, tmp_path):
    base = dict(data=(str(tiny),), val_ids=("0001",), test_ids=("0002",), **FAST)
    train(TrainConfig(model="mlp", **base), tmp_path / "pre", log=lambda s: None)
    msgs = []
    train(TrainConfig(model="mlp", init_from=str(tmp_path / "pre"), **base), tmp_path / "ft",
          log=msgs.append)
    assert any("starting from the weights" in m for m in msgs)
    with pytest.raises(InstdetError, match="cannot start"):
        train(TrainConfig(model="crnn", init_from=str(tmp_path / "pre"), **base), tmp_path / "x",
              log=lambda s: None)


def test_nan_loss_is_caught(tiny, tmp_path, monkeypatch):
    from instdet import training
    from instdet.runs import RunDir

    monkeypatch.setattr(training, "masked_bce", lambda *a, **k: torch.tensor(float("nan"),
                                                                                requires_grad=True))
    cfg = TrainConfig(model="mlp", data=(str(tiny),), val_ids=("0001",), test_ids=("0002",), **FAST)
    with pytest.raises(InstdetError, match="the loss became nan at epoch 1, step 1"):
        train(cfg, tmp_path / "nan", log=lambda s: None)
    assert RunDir(tmp_path / "nan").status() == "failed"
    assert not (tmp_path / "nan" / "model.pt").exists()


def test_finished_run_is_not_replaced_without_overwrite(tiny, tmp_path):
    cfg = TrainConfig(model="mlp", data=(str(tiny),), val_ids=("0001",), test_ids=("0002",), **FAST)
    train(cfg, tmp_path / "r", log=lambda s: None)
    before = (tmp_path / "r" / "model.pt").read_bytes()
    with pytest.raises(InstdetError, match="--overwrite"):
        train(cfg, tmp_path / "r", log=lambda s: None)
    assert (tmp_path / "r" / "model.pt").read_bytes() == before
    bad = TrainConfig(model="mlp", data=(str(tmp_path / "missing"),), val_ids=("0001",), **FAST)
    with pytest.raises(InstdetError):
        train(bad, tmp_path / "r", overwrite=True, log=lambda s: None)
    assert (tmp_path / "r" / "model.pt").read_bytes() == before  # the backup came back
    assert not (tmp_path / ".r.backup").exists()
    train(cfg, tmp_path / "r", overwrite=True, log=lambda s: None)
    assert not (tmp_path / ".r.backup").exists()


def test_a_locked_run_is_refused(tiny, tmp_path):
    from instdet.runs import RunDir

    run = RunDir(tmp_path / "busy")
    cfg = TrainConfig(model="mlp", data=(str(tiny),), val_ids=("0001",), test_ids=("0002",), **FAST)
    with run.lock():
        with pytest.raises(InstdetError, match="in use by process"):
            train(cfg, run.path, resume=True, log=lambda s: None)
    (run.path / ".lock").write_text("999999999")  # a dead process's lock is taken over
    train(cfg, tmp_path / "busy2", log=lambda s: None)


@pytest.mark.parametrize("field, value", [("epochs", 0), ("batch_size", 0), ("crop_frames", 0),
                                          ("lr", -1.0), ("seed", -1), ("train_size", 0),
                                          ("remix_prob", 1.5), ("ema", 1.0),
                                          ("thresholds", "some")])
def test_out_of_range_settings(field, value):
    with pytest.raises(InstdetError, match=field):
        TrainConfig(**{field: value})


def test_without_holdout_every_song_trains_and_the_last_epoch_is_kept(tiny, tmp_path):
    cfg = TrainConfig(model="mlp", data=(str(tiny),), holdout=False, **{**FAST, "epochs": 2})
    summary = train(cfg, tmp_path / "all", log=lambda s: None)
    split = json.loads((tmp_path / "all" / "split.json").read_text())
    assert split == {"train": ["0001", "0002", "0003"], "val": [], "test": []}
    assert summary["best_score"] is None and summary["best_epoch"] == 2
    assert load_checkpoint(tmp_path / "all" / "model.pt")["epoch"] == 2


@pytest.mark.parametrize("schedule, first, last", [("constant", 1e-3, 1e-3),
                                                   ("cosine", 1e-3, 5e-5)])
def test_learning_rate_schedule(schedule, first, last):
    from instdet.training import learning_rate

    cfg = TrainConfig(lr=1e-3, epochs=4, steps_per_epoch=10, schedule=schedule)
    assert learning_rate(cfg, 1, 0) == pytest.approx(first)
    assert learning_rate(cfg, 4, 10) == pytest.approx(last)
    assert learning_rate(cfg, 2, 5) >= learning_rate(cfg, 3, 5)
