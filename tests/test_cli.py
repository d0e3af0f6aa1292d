"""The instdet command as a user runs it: exit codes, one-line errors, no tracebacks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from instdet.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "instdet.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_validate_real(aam_tiny):
    r = run_cli("data", "validate", aam_tiny)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "12 tracks, 0 with problems" in r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["data", "validate", "/nonexistent"], "no such dataset folder"),
        (["data", "download", "--dest", "{tmp}", "--ids", "0-9"], "track ids must lie"),
        (["data", "download", "--dest", "{tmp}", "--parts", "videos"], "unknown part"),
        (["train", "--model", "mlp"], "give --data"),
        (["train", "--resume", "{tmp}"], "not a run folder"),
        (["train", "--data", "{tmp}", "--real-first"], "--real-first orders the songs"),
        (["evaluate", "{tmp}/none", "--data", "{tmp}"], "no such checkpoint"),
        (["predict", "{tmp}", "{tmp}/song.mp3"], "no such checkpoint"),
        (["features", "{tmp}"], "no AAM tracks"),
        (["sweep", "--models", "mlp", "--model-epochs", "crnn=3", "--data", "{tmp}"],
         "--model-epochs takes MODEL=N"),
        (["sweep", "--models", "mlp", "--model-patience", "mlp=x", "--data", "{tmp}"],
         "--model-patience takes MODEL=N"),
        (["sweep", "--data", "{tmp}", "--plan", "{tmp}/p.json", "--evaluate"],
         "--plan trains nothing"),
        (["train-plan", "{tmp}/none.json"], "no such plan file"),
    ],
)
def test_errors_are_one_line(tmp_path, args, message):
    r = run_cli(*[a.format(tmp=tmp_path) for a in args])
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.startswith("instdet: error")]
    assert len(lines) == 1 and message in lines[0], r.stderr


def test_validate_fails_on_damage(tiny, tmp_path):
    import shutil

    shutil.copytree(tiny, tmp_path / "d")
    (tmp_path / "d" / "annotations" / "0001_onsets.arff").unlink()
    r = run_cli("data", "validate", tmp_path / "d")
    assert r.returncode == 1 and "0001: missing: onsets.arff" in r.stdout


def test_stats_csv(tiny, tmp_path):
    assert main(["data", "stats", str(tiny), "--out", str(tmp_path / "s.csv")]) == 0
    import pandas as pd

    df = pd.read_csv(tmp_path / "s.csv")
    assert len(df) == 31 and df.set_index("instrument").loc["Piano", "tracks"] == 3


def test_pipeline_train_evaluate_predict(tiny, tmp_path, capsys):
    runs, results = tmp_path / "runs", tmp_path / "results"
    assert main(["train", "--model", "mlp", "--data", str(tiny), "--epochs", "1", "--steps", "2",
                 "--batch-size", "4", "--crop", "64", "--val-ids", "0001", "--test-ids", "0003",
                 "--runs", str(runs), "--name", "r"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(runs / "r"), "--results", str(results), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("f1_micro", "f1_macro", "f1_weighted", "hamming", "jaccard_samples",
                "segment_f1_1s", "mAP", "per_instrument"):
        assert key in out
    assert len(out["per_instrument"]) == 31
    # a folder the run never saw
    assert main(["evaluate", str(runs / "r"), "--data", str(tiny), "--all", "--name", "all",
                 "--results", str(results), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_tracks"] == 3
    assert main(["predict", str(runs / "r"), str(tiny / "audio-mixes" / "0002_mix.flac"),
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert (tmp_path / "p.csv").read_text().startswith("time_s,AcousticGuitar")


def test_sweep_gives_each_model_its_epochs_schedule_and_average(tiny, tmp_path):
    runs = tmp_path / "runs"
    assert main(["sweep", "--models", "mlp,crnn", "--sizes", "1", "--data", str(tiny),
                 "--epochs", "1", "--model-epochs", "mlp=2", "--model-patience", "mlp=9", "--steps", "2", "--batch-size", "2",
                 "--crop", "32", "--val-ids", "0001", "--test-ids", "0003", "--runs", str(runs),
                 "--schedule", "cosine", "--ema", "0.9", "--thresholds", "per-instrument",
                 "--real-first"]) == 0
    mlp, crnn = (json.loads((runs / f"{m}-n1-s0" / "config.json").read_text())
                 for m in ("mlp", "crnn"))
    assert (mlp["train"]["epochs"], crnn["train"]["epochs"]) == (2, 1)
    assert mlp["epochs_run"] == 2 and crnn["epochs_run"] == 1
    assert (mlp["train"]["patience"], crnn["train"]["patience"]) == (9, 6)
    assert mlp["train"]["schedule"] == "cosine" and mlp["train"]["ema"] == 0.9
    assert mlp["train"]["thresholds"] == "per-instrument" and mlp["train"]["real_first"]
    again = ["sweep", "--models", "mlp,crnn", "--sizes", "1", "--data", str(tiny), "--epochs", "1",
             "--steps", "2", "--batch-size", "2", "--crop", "32", "--val-ids", "0001",
             "--test-ids", "0003", "--runs", str(runs), "--jobs", "2"]
    assert main(again) == 0  # finished runs are kept...
    assert json.loads((runs / "mlp-n1-s0" / "config.json").read_text())["epochs_run"] == 2
    assert main([*again, "--overwrite"]) == 0  # ...unless asked (two processes here)
    for m in ("mlp", "crnn"):
        redone = json.loads((runs / f"{m}-n1-s0" / "config.json").read_text())
        assert redone["epochs_run"] == 1 and redone["train"]["schedule"] == "constant"
        assert not redone["train"]["real_first"]
    assert not list(runs.glob(".*backup"))


def test_two_sweeps_planned_then_trained_in_one_pool(tiny, tmp_path, capsys):
    runs, plan = tmp_path / "runs", tmp_path / "plan.json"
    small = ["--data", str(tiny), "--epochs", "1", "--steps", "2", "--batch-size", "2",
             "--crop", "32", "--val-ids", "0001", "--test-ids", "0003", "--runs", str(runs),
             "--plan", str(plan), "--overwrite"]
    assert main(["sweep", "--models", "mlp,crnn", "--sizes", "1", *small]) == 0
    assert main(["sweep", "--models", "mlp", "--sizes", "1", "--prefix", "all-",
                 "--model-epochs", "mlp=2", *small]) == 0
    assert "3 in it" in capsys.readouterr().out
    assert not runs.exists()  # planned, not trained
    assert all(j["overwrite"] for j in json.loads(plan.read_text())["jobs"])
    assert main(["train-plan", str(plan), "--jobs", "2"]) == 0
    done = {m: json.loads((runs / m / "config.json").read_text())
            for m in ("mlp-n1-s0", "crnn-n1-s0", "all-mlp-n1-s0")}
    assert {m: d["status"] for m, d in done.items()} == dict.fromkeys(done, "done")
    assert done["all-mlp-n1-s0"]["epochs_run"] == 2 and done["crnn-n1-s0"]["epochs_run"] == 1
    # each finished run is marked kept: the same plan run again trains nothing
    assert not any(j["overwrite"] for j in json.loads(plan.read_text())["jobs"])
    stamps = {m: (runs / m / "model.pt").stat().st_mtime_ns for m in done}
    capsys.readouterr()
    assert main(["train-plan", str(plan), "--jobs", "2"]) == 0
    assert "0 runs trained, 3 kept" in capsys.readouterr().out
    # planned again with --overwrite, only that run trains anew
    assert main(["sweep", "--models", "mlp", "--sizes", "1", *small]) == 0
    capsys.readouterr()
    assert main(["train-plan", str(plan), "--jobs", "1"]) == 0
    assert "1 runs trained, 2 kept" in capsys.readouterr().out
    assert {m: (runs / m / "model.pt").stat().st_mtime_ns == t for m, t in stamps.items()} == \
        {"mlp-n1-s0": False, "crnn-n1-s0": True, "all-mlp-n1-s0": True}


def test_a_failing_plan_run_does_not_stop_the_others(tiny, tmp_path):
    runs, plan = tmp_path / "runs", tmp_path / "plan.json"
    small = ["--epochs", "1", "--steps", "2", "--batch-size", "2", "--crop", "32",
             "--val-ids", "0001", "--test-ids", "0003", "--runs", str(runs), "--plan", str(plan)]
    assert main(["sweep", "--models", "mlp", "--sizes", "1", "--data", str(tiny), *small]) == 0
    assert main(["sweep", "--models", "mlp", "--sizes", "1", "--prefix", "bad-",
                 "--data", str(tmp_path / "gone"), *small]) == 0
    r = run_cli("train-plan", plan, "--jobs", "2")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    errors = [l for l in r.stderr.splitlines() if l.startswith("instdet: error")]
    assert len(errors) == 1 and "bad-mlp-n1-s0" in errors[0], r.stderr
    assert json.loads((runs / "mlp-n1-s0" / "config.json").read_text())["status"] == "done"


def test_a_stopped_plan_starts_no_other_run_and_resumes(tiny, tmp_path):
    import signal
    import time

    runs, plan = tmp_path / "runs", tmp_path / "plan.json"
    for prefix in ("a-", "b-", "c-"):
        assert main(["sweep", "--models", "mlp", "--sizes", "1", "--prefix", prefix,
                     "--data", str(tiny), "--epochs", "50", "--patience", "50", "--steps", "50",
                     "--batch-size", "4", "--crop", "64", "--val-ids", "0001",
                     "--test-ids", "0003", "--runs", str(runs), "--plan", str(plan)]) == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "instdet.cli", "train-plan", str(plan),
                             "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    deadline = time.time() + 120
    while len(list(runs.glob("*/last.pt"))) < 2 and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    t0 = time.time()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "instdet: interrupted" in err and "Traceback" not in err
    assert time.time() - t0 < 15  # the running runs are stopped, not waited for
    started = sorted(p.parent.name for p in runs.glob("*/last.pt"))
    assert len(started) == 2 and not (runs / "c-mlp-n1-s0").exists()  # no third run began
    for name in started:  # each stopped run resumes from its last epoch
        state = torch_load(runs / name / "last.pt")
        assert 1 <= state["epoch"] < 50


def torch_load(path):
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def test_threshold_choices_are_the_tuner_modes():
    """The CLI lists them literally (importing the tuner would slow every command's start)."""
    from instdet.cli import build_parser
    from instdet.postprocess import THRESHOLD_MODES

    sweep = build_parser()._subparsers._group_actions[0].choices["sweep"]
    action = next(a for a in sweep._actions if a.dest == "thresholds")
    assert tuple(action.choices) == THRESHOLD_MODES


def test_remix_command_output_validates(aam_tiny, tmp_path):
    r = run_cli("data", "remix", "--source", aam_tiny, "--dest", tmp_path / "rx", "--n-tracks", "3",
                "--seed", "4", "--duration", "8", "--exclude", "2462,2841,3000")
    assert r.returncode == 0, r.stderr
    assert run_cli("data", "validate", tmp_path / "rx").returncode == 0


def test_features_pack_of_chosen_ids(tiny, tmp_path):
    from instdet.dataset import load_pack

    assert main(["features", str(tiny), "--ids", "2-3", "--pack", str(tmp_path / "p.npz")]) == 0
    arrays, _ = load_pack(tmp_path / "p.npz")
    assert sorted(arrays) == ["0002", "0003"]
    assert main(["features", str(tiny), "--ids", "99"]) == 1
