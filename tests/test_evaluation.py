from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instdet.data.aam import load_tracks
from instdet.evaluation import collect_results, decode_probs, encode_probs, evaluate_run, load_frames
from instdet.training import TrainConfig, train


@pytest.fixture(scope="module")
def tiny_run(tiny, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "mlp-tiny"
    train(TrainConfig(model="mlp", data=(str(tiny),), val_ids=("0001",), test_ids=("0003",),
                      epochs=1, steps_per_epoch=3, batch_size=4, crop_frames=64), run, log=lambda s: None)
    return run


def test_evaluate_writes_results(tiny_run, tiny, tmp_path):
    tracks = load_tracks(tiny)
    m = evaluate_run(tiny_run, {"0003": tracks["0003"]}, out_dir=tmp_path, eval_name="test")
    d = tmp_path / "runs" / "mlp-tiny" / "test"
    assert {p.name for p in d.iterdir()} == {"metrics.json", "per_instrument.csv", "per_track.csv",
                                            "confusion_pairs.csv", "confusion_matrix.csv", "frames"}
    assert set(m["postprocessed"]) >= {"f1_micro", "f1_macro", "f1_weighted", "hamming",
                                        "jaccard_samples", "segment_f1_1s", "mAP"}
    frames = load_frames(d / "frames" / "0003.npz")
    assert frames["probs"].shape == frames["labels"].shape and frames["probs"].shape[1] == 31
    assert Path(frames["audio_path"]) == (tiny / "audio-mixes" / "0003_mix.flac").resolve()
    import numpy as np_

    with np_.load(d / "frames" / "0003.npz") as z:
        assert not str(z["audio_path"]).startswith("/")  # relative: survives a moved clone
    assert pd.read_csv(d / "per_instrument.csv").shape[0] == 31
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert set(runs["stage"]) == {"raw", "postprocessed"} and set(runs["eval"]) == {"test"}


def test_collect_skips_half_written(tmp_path):
    bad = tmp_path / "runs" / "x" / "test"
    bad.mkdir(parents=True)
    (bad / "metrics.json").write_text('{"run_id": ')
    assert collect_results(tmp_path).empty


def test_uint8_probabilities():
    p = np.linspace(0, 1, 1001, dtype=np.float32)
    assert np.abs(decode_probs(encode_probs(p)) - p).max() <= 1 / 510 + 1e-7
