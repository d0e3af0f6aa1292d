"""Bad input and faults across the CLI, the library and the dashboard (docs/faults.md).

Each case must end in a clear one-line message (CLI: ``instdet: error: ...`` and exit 1;
dashboard: ``st.error``/``st.warning``; library: ``InstdetError``), no traceback, and nothing
already written lost or half-written. Download faults (dropped connection, wrong checksum,
zip member escaping the destination) are in tests/data/test_download.py.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from instdet.atomic import write_text
from instdet.audio import decode_upload
from instdet.cli import main
from instdet.errors import InstdetError

ROOT = Path(__file__).resolve().parents[1]
SR = 22050


def wav(tmp, name="x.wav", *, sr=SR, seconds=2.0, channels=1, subtype="PCM_16", silent=False):
    rng = np.random.default_rng(0)
    y = np.zeros((int(sr * seconds), channels)) if silent else rng.uniform(-0.3, 0.3, (int(sr * seconds), channels))
    p = tmp / name
    sf.write(p, y, sr, subtype=subtype, format="WAV")
    return p


# ---- uploads and audio: (file maker, expected error or None for "decodes") ----------------
UPLOADS = {
    "text file named .mp3": (lambda t, a: _write(t / "notes.mp3", b"hello, not audio"), "not a readable audio file"),
    "truncated mp3": (lambda t, a: _write(t / "cut.mp3", (a / "audio-mixes-mp3" / "0080_mix.mp3").read_bytes()[:200_000]), None),
    "mp3 cut inside its header": (lambda t, a: _write(t / "cut.mp3", (a / "audio-mixes-mp3" / "0080_mix.mp3").read_bytes()[:600]), "not a readable audio file"),
    "zero-length file": (lambda t, a: _write(t / "empty.wav", b""), "empty"),
    "all-silent audio": (lambda t, a: wav(t, silent=True), "silent"),
    "shorter than one frame": (lambda t, a: wav(t, seconds=0.01), "too short"),
    "hour-long file": (lambda t, a: wav(t, sr=8000, seconds=3600, subtype="PCM_U8"), "limit"),
    "8 kHz": (lambda t, a: wav(t, sr=8000), None),
    "96 kHz": (lambda t, a: wav(t, sr=96000), None),
    "6 channels": (lambda t, a: wav(t, channels=6), None),
    "float wav": (lambda t, a: wav(t, subtype="FLOAT"), None),
    "24-bit wav": (lambda t, a: wav(t, subtype="PCM_24"), None),
    "non-ASCII file name": (lambda t, a: wav(t, "chanson d'été — 歌.wav"), None),
    "unsupported extension": (lambda t, a: _write(t / "song.m4a", b"\x00" * 100), "not a wav, flac, ogg or mp3"),
}


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("case", list(UPLOADS))
def test_upload(case, tmp_path, aam_tiny):
    make, expected = UPLOADS[case]
    path = make(tmp_path, aam_tiny)
    if expected is None:
        y = decode_upload(path.name, path.read_bytes())
        assert y.ndim == 1 and y.dtype == np.float32 and len(y) > 2048
    else:
        with pytest.raises(InstdetError, match=expected) as info:
            decode_upload(path.name, path.read_bytes())
        assert "\n" not in str(info.value) and str(info.value).startswith(path.name)


def test_upload_over_size_limit():
    with pytest.raises(InstdetError, match="over the 1-MB limit"):
        decode_upload("big.wav", b"\x00" * (2 * 2**20), max_bytes=2**20)


# ---- dataset files: CLI `data validate` / `features` ---------------------------------------
def _damage(d: Path, kind: str) -> None:
    ann = d / "annotations"
    if kind == "malformed arff":
        (ann / "0002_segments.arff").write_text("@RELATION x\n@ATTRIBUTE a NUMERIC\n@DATA\n'{{\n")
    elif kind == "missing annotation":
        (ann / "0002_onsets.arff").unlink()
    elif kind == "unknown instrument":
        p = ann / "0002_segments.arff"
        p.write_text(p.read_text().replace("Flute", "Theremin"))
    elif kind == "MIDI with broken meta event":
        p = d / "midis" / "0002_Piano.mid"
        data = bytearray(p.read_bytes())
        i = data.index(b"\xff\x51\x03")
        data[i + 2] = 0x7F  # a tempo event claiming 127 bytes: runs past the track's end
        p.write_bytes(bytes(data))
    elif kind == "stem of another length":
        p = d / "audio-multitracks" / "0002_Drums.flac"
        y, sr = sf.read(p)
        sf.write(p, np.concatenate([y, y]), sr)


DATASET = {
    "malformed arff": "malformed",
    "missing annotation": "missing: onsets.arff",
    "unknown instrument": "unknown instrument 'Theremin'",
    "MIDI with broken meta event": "malformed MIDI",
    "stem of another length": "stem lasts",
}


@pytest.mark.parametrize("kind", list(DATASET))
def test_dataset_fault(kind, tiny, tmp_path, capsys):
    d = tmp_path / "d"
    shutil.copytree(tiny, d)
    _damage(d, kind)
    assert main(["data", "validate", str(d)]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith("0002: ") and DATASET[kind] in line for line in out.splitlines()), out


def test_empty_folder(tmp_path, capsys):
    assert main(["data", "validate", str(tmp_path)]) == 1
    assert "0 tracks" in capsys.readouterr().out
    assert main(["features", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no AAM tracks" in err


# ---- checkpoints: CLI `predict` -------------------------------------------------------------
@pytest.fixture(scope="module")
def good_run(tiny, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert main(["train", "--model", "mlp", "--data", str(tiny), "--epochs", "1", "--steps", "1",
                 "--batch-size", "2", "--crop", "32", "--val-ids", "0001", "--test-ids", "0003",
                 "--runs", str(runs), "--name", "ok"]) == 0
    return runs / "ok"


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {Path('/tmp/instdet_fault_pwned')}",))


def _bad_checkpoint(run: Path, kind: str) -> None:
    path = run / "model.pt"
    ckpt = torch.load(path, weights_only=True)
    if kind == "another vocabulary":
        ckpt["instruments"] = ckpt["instruments"][:10]
        torch.save(ckpt, path)
    elif kind == "another feature setting":
        ckpt["feature_config"]["n_mels"] = 64
        torch.save(ckpt, path)
    elif kind == "truncated file":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif kind == "pickled code":
        ckpt["evil"] = Payload()
        torch.save(ckpt, path)


CHECKPOINTS = {
    "another vocabulary": "another instrument vocabulary",
    "another feature setting": "do not fit",
    "truncated file": "unreadable checkpoint",
    "pickled code": "refused",
}


@pytest.mark.parametrize("kind", list(CHECKPOINTS))
def test_checkpoint_fault(kind, good_run, tmp_path, tiny):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    _bad_checkpoint(run, kind)
    song = tiny / "audio-mixes" / "0001_mix.flac"
    r = subprocess.run([sys.executable, "-m", "instdet.cli", "predict", str(run), str(song)],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and CHECKPOINTS[kind] in r.stderr, r.stderr
    assert not Path("/tmp/instdet_fault_pwned").exists()


# ---- results in the dashboard ---------------------------------------------------------------
def _results_case(r: Path, m: Path, kind: str) -> None:
    if kind == "missing folders":
        return  # neither folder exists
    r.mkdir()
    m.mkdir()
    if kind == "empty runs.csv":
        (r / "runs.csv").write_text("")
    elif kind == "half-written metrics.json":
        (r / "runs" / "x" / "real-test").mkdir(parents=True)
        (r / "runs" / "x" / "real-test" / "metrics.json").write_text('{"run_id": "x", "ra')
    elif kind == "run folder without model.pt":
        (m / "crnn-n1-s0").mkdir()
        (m / "crnn-n1-s0" / "config.json").write_text(json.dumps({"status": "training"}))


@pytest.mark.parametrize("kind", ["missing folders", "empty runs.csv", "half-written metrics.json",
                                  "run folder without model.pt"])
@pytest.mark.parametrize("page", ["home", "tracks", "realcase"])
def test_results_fault(kind, page, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    r, m = tmp_path / "r", tmp_path / "m"
    _results_case(r, m, kind)
    monkeypatch.setenv("INSTDET_RESULTS", str(r))
    monkeypatch.setenv("INSTDET_MODELS", str(m))
    at = AppTest.from_file(str(ROOT / "dashboard" / "Home.py"), default_timeout=60)
    at.run()
    if page != "home":
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, at.exception
    assert at.warning or at.error or at.info


# ---- interrupted training and atomic writes ------------------------------------------------
def test_ctrl_c_keeps_best_checkpoint_and_resume_continues(tiny, tmp_path):
    runs = tmp_path / "runs"
    args = [sys.executable, "-m", "instdet.cli", "train", "--model", "mlp", "--data", str(tiny),
            "--epochs", "400", "--patience", "400", "--steps", "2", "--batch-size", "2",
            "--crop", "32", "--val-ids", "0001", "--test-ids", "0003", "--runs", str(runs),
            "--name", "r"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    hist = runs / "r" / "history.csv"
    for _ in range(600):
        if hist.exists() and hist.read_text().count("\n") >= 3:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err and "interrupted" in err
    from instdet.checkpoint import load_checkpoint

    best = load_checkpoint(runs / "r" / "model.pt")  # intact and loadable
    done = len(hist.read_text().strip().splitlines()) - 1
    cfg = json.loads((runs / "r" / "config.json").read_text())
    cfg["train"]["epochs"] = done + 2  # finish quickly
    (runs / "r" / "config.json").write_text(json.dumps(cfg))
    r = subprocess.run([sys.executable, "-m", "instdet.cli", "train", "--resume", str(runs / "r")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "resuming at epoch" in r.stderr
    assert len(hist.read_text().strip().splitlines()) - 1 == done + 2
    assert load_checkpoint(runs / "r" / "model.pt")["epoch"] >= best["epoch"]


def test_failed_write_keeps_previous_file(tmp_path):
    from instdet.atomic import atomic_path

    target = tmp_path / "results.csv"
    write_text(target, "old,complete\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("new,half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old,complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]
