"""The owner of the on-disk formats: schemas checked on read, whole evaluations swapped in,
names confined to their folder, copies and half-written files never read as results."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from instdet.errors import InstdetError
from instdet.metrics import SUMMARY_KEYS
from instdet.runs import EvalDir, ResultsDir, RunDir, check_name, decode_probs, encode_probs


def metrics(run="r", name="e", **over):
    m = {"run_id": run, "eval": name, "model": "mlp", "n_tracks": 1, "tracks": ["0001"],
         "raw": {k: 0.5 for k in SUMMARY_KEYS}, "postprocessed": {k: 0.5 for k in SUMMARY_KEYS}}
    m.update(over)
    return m


def write_eval(root, run="r", name="e", **over):
    ev = EvalDir(root, run, name)
    frames = {"0001": {"probs": np.full((5, 31), 0.3, np.float32),
                       "labels": np.zeros((5, 31), np.uint8), "frame_rate": 43.0,
                       "audio_path": None}}
    empty = pd.DataFrame({"x": [1]})
    ev.write(metrics=metrics(run, name, **over), per_instrument=empty, per_track=empty,
             pairs=empty, matrix=empty, frames=frames)
    return ev


@pytest.mark.parametrize("name", ["../other", "a/b", "", ".hidden", "x..y", "a b", "a" * 101])
def test_names_are_confined(name):
    with pytest.raises(InstdetError, match="letters, digits"):
        check_name(name)
    with pytest.raises(InstdetError):
        EvalDir("results", "run", name)


def test_eval_is_swapped_in_whole(tmp_path):
    ev = write_eval(tmp_path, tracks=["0001"])
    (ev.frames_dir / "9999.npz").write_bytes(b"stale")  # a file the new write must not keep
    write_eval(tmp_path, tracks=["0001"])
    assert sorted(p.name for p in ev.frames_dir.iterdir()) == ["0001.npz"]
    assert [p.name for p in ev.path.parent.iterdir()] == ["e"]  # no temporary left
    assert ev.frames("0001")["probs"].shape == (5, 31)


def test_failed_write_keeps_the_old_evaluation(tmp_path):
    ev = write_eval(tmp_path)
    with pytest.raises(Exception):
        ev.write(metrics=metrics(), per_instrument=None, per_track=None, pairs=None, matrix=None,
                 frames={})
    assert ev.metrics()["run_id"] == "r"
    assert [p.name for p in ev.path.parent.iterdir()] == ["e"]


@pytest.mark.parametrize("content, message", [
    ('{"run_id": "r", "ra', "cut-short JSON"),
    ("[1, 2]", "expected a JSON dict"),
    (json.dumps({"run_id": "r"}), "not an instdet metrics file"),
    (json.dumps(metrics(raw={k: "high" for k in SUMMARY_KEYS})), "finite number"),
    (json.dumps(metrics(run="other")), "belongs to other/e"),
])
def test_metrics_schema(tmp_path, content, message):
    ev = write_eval(tmp_path)
    ev.metrics_path.write_text(content)
    with pytest.raises(InstdetError, match=message):
        ev.metrics()
    assert ResultsDir(tmp_path).table().empty


def test_backup_copy_of_a_run_is_not_a_result(tmp_path):
    write_eval(tmp_path)
    shutil.copytree(tmp_path / "runs" / "r", tmp_path / "runs" / "r-backup")
    table = ResultsDir(tmp_path).table()
    assert set(table["run_id"]) == {"r"} and len(table) == 2


@pytest.mark.parametrize("csv", ["", "run_id,model\nr,mlp\n",
                                 "run_id,model,eval,stage," + ",".join(SUMMARY_KEYS) + "\n"
                                 "r,mlp,e,raw," + ",".join(["high"] * len(SUMMARY_KEYS)) + "\n"])
def test_broken_runs_csv_is_rebuilt_in_memory(tmp_path, csv):
    write_eval(tmp_path)
    (tmp_path / "runs.csv").write_text(csv)
    table = ResultsDir(tmp_path).read_runs_csv()
    assert len(table) == 2 and table["f1_micro"].tolist() == [0.5, 0.5]
    assert (tmp_path / "runs.csv").read_text() == csv  # a reader never writes


@pytest.mark.parametrize("content, status", [
    (None, "broken"), ("[]", "broken"), ('{"status": "train', "broken"),
    ('{"status": "done"}', "broken"),  # done but no model.pt
    ('{"status": "training"}', "training"), ('{"status": "failed"}', "failed"),
])
def test_run_status(tmp_path, content, status):
    run = RunDir(tmp_path / "r")
    run.path.mkdir()
    if content is not None:
        run.config_path.write_text(content)
    assert run.status() == status


@pytest.mark.parametrize("cfg", [{"train_size": -1}, {"train_size": "75"}, {"best_score": "x"},
                                 {"train": [1]}, {"status": "odd"}])
def test_config_schema(tmp_path, cfg):
    run = RunDir(tmp_path / "r")
    run.path.mkdir()
    run.config_path.write_text(json.dumps(cfg))
    with pytest.raises(InstdetError, match="config.json"):
        run.config()


def test_split_schema(tmp_path):
    run = RunDir(tmp_path / "r")
    run.path.mkdir()
    run.split_path.write_text(json.dumps({"train": ["1"], "val": "2", "test": []}))
    with pytest.raises(InstdetError, match="'val' must be a list"):
        run.split()


def test_stored_probabilities_keep_precision_and_ranking():
    p = np.linspace(0, 1, 1001, dtype=np.float32)
    q = decode_probs(encode_probs(p))
    assert np.abs(q - p).max() <= 0.016  # 1/8 logit at p = 0.5 is 0.0156
    tiny = np.array([1e-6, 1e-5, 1e-4, 1e-3], np.float32)  # uint8 would tie them all at 0
    assert np.all(np.diff(decode_probs(encode_probs(tiny))) > 0)
    assert encode_probs(p).dtype == np.int8
