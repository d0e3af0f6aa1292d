from pathlib import Path

import pandas as pd
import pytest

from instdet.data.aam import load_tracks
from instdet.evaluation import evaluate_run, rescore
from instdet.postprocess import PostProcess
from instdet.runs import EvalDir
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
    frames = EvalDir(tmp_path, "mlp-tiny", "test").frames("0003")
    assert frames["probs"].shape == frames["labels"].shape and frames["probs"].shape[1] == 31
    assert Path(frames["audio_path"]) == (tiny / "audio-mixes" / "0003_mix.flac").resolve()
    import numpy as np_

    with np_.load(d / "frames" / "0003.npz") as z:
        assert not str(z["audio_path"]).startswith("/")  # relative: survives a moved clone
    assert pd.read_csv(d / "per_instrument.csv").shape[0] == 31
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert set(runs["stage"]) == {"raw", "postprocessed"} and set(runs["eval"]) == {"test"}


def test_rescoring_stored_frames_reproduces_the_stored_row(tiny_run, tiny, tmp_path):
    tracks = load_tracks(tiny)
    m = evaluate_run(tiny_run, dict(tracks), out_dir=tmp_path, eval_name="all")
    ev = EvalDir(tmp_path, "mlp-tiny", "all")
    frames = [ev.frames(t) for t in m["tracks"]]
    stored = PostProcess.from_dict(m["postprocess"])
    assert rescore(frames, postprocess=stored).summary == ev.metrics()["postprocessed"]
    assert rescore(frames, postprocess=PostProcess()).summary == ev.metrics()["raw"]
