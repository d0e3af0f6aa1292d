"""Bad input and faults across the CLI, the library and the dashboard (docs/faults.md).

Each case must end in a clear one-line message (CLI: ``instdet: error: ...`` and exit 1;
dashboard: ``st.error``/``st.warning``; library: ``InstdetError``), no traceback, and nothing
already written lost or half-written. Download faults (dropped connection, wrong checksum,
zip member escaping the destination) are in tests/data/test_download.py.
"""

import errno
import json
import os
import re
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
    "2-ms file": (lambda t, a: wav(t, seconds=0.002), "2 ms of audio is too short to analyse (at least 100 ms)"),
    "50 ms": (lambda t, a: wav(t, seconds=0.05), "50 ms of audio is too short"),
    "a 0.2-s clip (analysed; the page adds a caution)": (lambda t, a: wav(t, seconds=0.2), None),
    "samples of 1e18 in a float wav": (lambda t, a: _float_wav(t / "huge.wav", 1e18), "a sample of magnitude 1e+18 is far outside [-1, 1]"),
    "NaN samples in a float wav": (lambda t, a: _float_wav(t / "nan.wav", np.nan), "audio holds NaN or infinite samples"),
    "8 channels at 192 kHz": (lambda t, a: wav(t, sr=192000, channels=8), None),
}


def _float_wav(p: Path, value: float) -> Path:
    y = np.full(SR * 2, 0.1, dtype=np.float32)
    y[SR] = value
    sf.write(p, y, SR, subtype="FLOAT")
    return p


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("case", list(UPLOADS))
def test_upload(case, tmp_path, aam_tiny):
    make, expected = UPLOADS[case]
    path = make(tmp_path, aam_tiny)
    if expected is None:
        y = decode_upload(path.name, path.read_bytes())
        assert y.ndim == 1 and y.dtype == np.float32 and len(y) >= 0.1 * 22050
    else:
        with pytest.raises(InstdetError, match=re.escape(expected)) as info:
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


# ---- issue 19: audio every prediction entry point refuses -----------------------------------
@pytest.fixture
def no_hang():
    """Fail, rather than hang, when something opens a named pipe."""
    def timeout(signum, frame):
        raise AssertionError("blocked for 20 s: a named pipe was opened")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _fifo(p: Path) -> Path:
    os.mkfifo(p)
    return p


# (file maker, the message after "NAME: ")
BAD_AUDIO = {
    "digital silence": (lambda t: wav(t, "silent.wav", silent=True), "the audio is silent (no sample above -120 dBFS)"),
    "a 2-ms file": (lambda t: wav(t, "short.wav", seconds=0.002), "2 ms of audio is too short to analyse (at least 100 ms)"),
    "samples of 1e18": (lambda t: _float_wav(t / "huge.wav", 1e18), "a sample of magnitude 1e+18 is far outside [-1, 1] (damaged or unscaled audio)"),
    "an infinite sample": (lambda t: _float_wav(t / "inf.wav", np.inf), "audio holds NaN or infinite samples"),
}


@pytest.mark.parametrize("case", list(BAD_AUDIO))
def test_predict_refuses_bad_audio(case, good_run, tmp_path, capsys):
    make, message = BAD_AUDIO[case]
    path = make(tmp_path)
    assert main(["predict", str(good_run), str(path)]) == 1
    assert capsys.readouterr().err == f"instdet: error: {path.name}: {message}\n"


@pytest.mark.parametrize("case", list(BAD_AUDIO))
def test_library_entry_points_refuse_bad_audio(case, good_run, tmp_path):
    from instdet.inference import Predictor, predict_many

    make, message = BAD_AUDIO[case]
    path = make(tmp_path)
    predictor = Predictor.from_run(good_run, device="cpu")
    with pytest.raises(InstdetError) as info:
        predictor.predict(path)
    assert str(info.value) == f"{path.name}: {message}"
    with pytest.raises(InstdetError) as info:
        decode_upload(path.name, path.read_bytes())
    assert str(info.value) == f"{path.name}: {message}"
    y, sr = sf.read(path, dtype="float32")
    for call in (lambda: predictor.predict(y, sr=sr), lambda: predict_many({"m": predictor}, y, sr=sr)):
        with pytest.raises(InstdetError) as info:
            call()
        assert str(info.value).endswith(message) and "\n" not in str(info.value)


def test_predict_on_a_named_pipe_does_not_hang(good_run, tmp_path, capsys, no_hang):
    pipe = _fifo(tmp_path / "song.wav")
    assert main(["predict", str(good_run), str(pipe)]) == 1
    assert capsys.readouterr().err == (f"instdet: error: {pipe}: not a regular file (a named "
                                       "pipe, device or socket); refused\n")


@pytest.mark.parametrize("what", ["mix", "MIDI file", "segments file"])
def test_named_pipe_in_the_dataset_does_not_hang(what, tiny, tmp_path, capsys, no_hang):
    d = tmp_path / "d"
    shutil.copytree(tiny, d)
    path = {"mix": d / "audio-mixes" / "0002_mix.flac",
            "MIDI file": d / "midis" / "0002_Flute.mid",
            "segments file": d / "annotations" / "0002_segments.arff"}[what]
    path.unlink()
    _fifo(path)
    line = f"{path}: not a regular file (a named pipe, device or socket); refused"
    assert main(["data", "validate", str(d)]) == 1
    assert f"0002: {line}" in capsys.readouterr().out.splitlines()
    if what == "mix":  # the mix is what `features` opens
        assert main(["features", str(d), "--cache", str(tmp_path / "c"), "--jobs", "1"]) == 1
        assert capsys.readouterr().err.splitlines()[-1] == f"instdet: error: {line}"


# ---- issue 19: a feature cache that cannot be written ----------------------------------------
def test_unwritable_cache_computes_in_memory_with_one_warning(tiny, tmp_path):
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache folder should be")
    r = subprocess.run([sys.executable, "-m", "instdet.cli", "features", str(tiny), "--cache",
                        str(cache)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    warnings = [line for line in re.split(r"[\r\n]", r.stderr) if "warning" in line]
    assert warnings == [f"warning: feature cache {cache} cannot be written (Not a directory); "
                        "computing features in memory"]
    assert r.stdout.startswith("3 tracks, ")
    assert cache.read_text() == "a file where the cache folder should be"


# ---- issue 19: `data stats` on a folder where every label file is broken --------------------
def _break_every_label_file(d: Path) -> None:
    for p in (d / "annotations").glob("*.arff"):
        p.write_text("@RELATION x\n@ATTRIBUTE a NUMERIC\n@DATA\n'{{\n")
    for p in (d / "midis").glob("*.mid"):
        p.write_bytes(p.read_bytes()[:30])


@pytest.mark.parametrize("damage", ["every label file", "every mix"])
def test_stats_with_nothing_readable_ends_in_one_error(damage, tiny, tmp_path, capsys):
    d = tmp_path / "d"
    shutil.copytree(tiny, d)
    if damage == "every label file":
        _break_every_label_file(d)
    else:
        for p in (d / "audio-mixes").glob("*.flac"):
            p.write_text("not audio")
    assert main(["data", "stats", str(d)]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # no table of zeros
    lines = [line for line in err.splitlines() if line.startswith(("instdet:", "warning:"))]
    assert lines[-1] == ("instdet: error: no labels could be read from any track; run "
                         "`instdet data validate`")
    assert sum(line.startswith("instdet:") for line in lines) == 1
    assert len([line for line in lines if line.startswith("warning:")]) == (9 if damage == "every label file" else 3)


# ---- issue 19: validate checks MIDI headers, section times and the mix length ---------------
def _patch_bytes(p: Path, offset: int, value: bytes) -> None:
    data = bytearray(p.read_bytes())
    data[offset : offset + len(value)] = value
    p.write_bytes(bytes(data))


def _more_damage(d: Path, kind: str) -> None:
    ann, mid = d / "annotations", d / "midis" / "0002_Flute.mid"
    if kind == "MIDI with 0 ticks per beat":
        _patch_bytes(mid, 12, b"\x00\x00")
    elif kind == "MIDI with 0 tracks":
        _patch_bytes(mid, 10, b"\x00\x00")
    elif kind == "MIDI with SMPTE timing":
        _patch_bytes(mid, 12, b"\xe7\x28")
    elif kind == "sections going backwards":
        p = ann / "0002_segments.arff"
        p.write_text(p.read_text().replace("\n6.0,'end'", "\n3.0,'B',90,'Cmaj','[Drums]','[]'\n"
                                                         "1.0,'A',90,'Cmaj','[Drums]','[]'\n6.0,'end'"))
    elif kind == "sections far past the mix":
        p = ann / "0002_segments.arff"
        p.write_text(p.read_text().replace("\n6.0,'end'", "\n60.0,'end'"))
    elif kind == "onsets far past the mix":
        p = ann / "0002_onsets.arff"
        last = p.read_text().rstrip("\n").splitlines()[-1]
        p.write_text(p.read_text() + "30.0," + last.split(",", 1)[1] + "\n")


MORE_DATASET = {
    "MIDI with 0 ticks per beat": "0002_Flute.mid: malformed MIDI file (0 ticks per quarter note in its header)",
    "MIDI with 0 tracks": "0002_Flute.mid: malformed MIDI file (its header announces 0 tracks)",
    "MIDI with SMPTE timing": "0002_Flute.mid: malformed MIDI file (SMPTE time division is not supported)",
    "sections going backwards": "0002_segments.arff: section times go backwards (1.000 s after 3.000 s, row 3)",
    "sections far past the mix": "0002_segments.arff: annotations run to 60.00 s, 54.00 s past the end of the mix (6.00 s)",
    "onsets far past the mix": "0002_onsets.arff: annotations run to 30.00 s, 24.00 s past the end of the mix (6.00 s)",
}


@pytest.mark.parametrize("kind", list(MORE_DATASET))
def test_validate_catches_files_that_gave_wrong_labels(kind, tiny, tmp_path, capsys):
    d = tmp_path / "d"
    shutil.copytree(tiny, d)
    _more_damage(d, kind)
    assert main(["data", "validate", str(d)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:-1] == [f"0002: {MORE_DATASET[kind]}"], lines


@pytest.mark.parametrize("has_mix", [True, False])
def test_stuck_midi_note_cannot_render_an_hour(has_mix, tiny, tmp_path, monkeypatch):
    pytest.importorskip("tinysoundfont", reason="pip install --no-deps tinysoundfont")
    import mido

    from instdet.data import synth
    from instdet.data.aam import validate

    src = tmp_path / "src"
    for sub in ("annotations", "midis", "audio-mixes"):
        (src / sub).mkdir(parents=True)
        for p in (tiny / sub).glob("0002_*"):
            shutil.copy(p, src / sub / p.name)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0),
                            mido.Message("note_on", note=72, velocity=90, time=0),  # never off
                            mido.MetaMessage("text", text="late", time=3600 * 960)])
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(str(src / "midis" / "0002_Flute.mid"))
    if not has_mix:
        (src / "audio-mixes" / "0002_mix.flac").unlink()
        monkeypatch.setattr(synth, "MAX_RENDER_S", 10.0)
    ids = synth.render_midi_corpus(src, tmp_path / "out", seed=0)
    seconds = sf.info(tmp_path / "out" / "audio-mixes" / f"{ids[0]}_mix.flac").duration
    assert seconds <= (6.0 if has_mix else 10.0) + 1e-3
    assert validate(tmp_path / "out")[1] == {}


# ---- issue 19: truncated or corrupted feature packs -----------------------------------------
@pytest.fixture(scope="module")
def pack(tiny, tmp_path_factory):
    p = tmp_path_factory.mktemp("pack") / "tiny.npz"
    assert main(["features", str(tiny), "--pack", str(p)]) == 0
    return p


def _resave(src: Path, dst: Path, change) -> None:
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    with open(dst, "wb") as f:
        np.savez_compressed(f, **arrays)


def _flip_middle(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes(b ^ 0xFF for b in data[mid : mid + 64]) + data[mid + 64 :]


PACKS = {
    "truncated to half": lambda src, dst: dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2]),
    "truncated to 100 bytes": lambda src, dst: dst.write_bytes(src.read_bytes()[:100]),
    "bytes flipped in a member": lambda src, dst: dst.write_bytes(_flip_middle(src.read_bytes())),
    "text, not a zip": lambda src, dst: dst.write_text("features, honest"),
    "features of another width": lambda src, dst: _resave(src, dst, lambda a: a.update(x_0001=a["x_0001"][:, :64])),
    "labels of another length": lambda src, dst: _resave(src, dst, lambda a: a.update(y_0002=a["y_0002"][:-5])),
    "a member missing": lambda src, dst: _resave(src, dst, lambda a: a.pop("y_0003")),
    "meta that is not JSON": lambda src, dst: _resave(src, dst, lambda a: a.update(meta=np.array("{ids: ["))),
}


@pytest.mark.parametrize("case", list(PACKS))
def test_damaged_pack_is_one_line(case, pack, tmp_path):
    from instdet.dataset import load_pack

    bad = tmp_path / "bad.npz"
    PACKS[case](pack, bad)
    with pytest.raises(InstdetError) as info:
        load_pack(bad)
    text = str(info.value)
    assert text.startswith(f"{bad}: not a readable feature pack (") and "\n" not in text, text
    assert load_pack(pack)[0].keys() == {"0001", "0002", "0003"}  # the good pack still reads


def test_training_on_a_truncated_pack_is_one_line(pack, tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    PACKS["truncated to half"](pack, bad)
    assert main(["train", "--model", "mlp", "--data", str(bad), "--epochs", "1", "--runs",
                 str(tmp_path / "runs"), "--name", "x"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith(f"instdet: error: {bad}: not a readable feature pack (")
    assert not any(line.startswith("Traceback") for line in err)


# ---- issue 19: checkpoints with fields that cannot rebuild their model ----------------------
MORE_CHECKPOINTS = {
    "30 thresholds": (lambda c: c.update(postprocess={"thresholds": [0.5] * 30, "median": 1}),
                      "postprocess needs 31 thresholds, one per instrument; got 30"),
    "a threshold of 2": (lambda c: c.update(postprocess={"thresholds": [0.5] * 30 + [2.0], "median": 1}),
                         "postprocess thresholds must be numbers in [0, 1]"),
    "an even median": (lambda c: c.update(postprocess={"thresholds": None, "median": 4}),
                       "postprocess median length must be an odd whole number >= 1, got 4"),
    "a string-typed setting": (lambda c: c["model_config"].update(hidden="256"),
                               "model mlp: setting hidden='256' must be a whole number >= 0"),
    "a negative setting": (lambda c: c["model_config"].update(context=-2),
                           "model mlp: setting context=-2 must be a whole number >= 0"),
    "a feature setting of the wrong type": (lambda c: c["feature_config"].update(hop_length="512"),
                                            "feature setting hop_length='512' must be a whole number > 0"),
    "weights that are not a mapping": (lambda c: c.update(state_dict=[1, 2, 3]),
                                       "state_dict is not a mapping of weight names to tensors"),
}


@pytest.mark.parametrize("kind", list(MORE_CHECKPOINTS))
def test_damaged_checkpoint_fields(kind, good_run, tmp_path, tiny, capsys):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    change, message = MORE_CHECKPOINTS[kind]
    ckpt = torch.load(run / "model.pt", weights_only=True)
    change(ckpt)
    torch.save(ckpt, run / "model.pt")
    song = tiny / "audio-mixes" / "0001_mix.flac"
    assert main(["predict", str(run), str(song)]) == 1
    assert capsys.readouterr().err == f"instdet: error: model.pt: {message}\n"


# ---- issue 19: SIGTERM ends like Ctrl-C -------------------------------------------------------
SLOW_COMMAND = """
import sys, time
import instdet.cli as cli
def slow(args):
    print("ready", flush=True)
    time.sleep(60)
cli.cmd_validate = slow
sys.exit(cli.main(["data", "validate", "."]))
"""


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signals_end_with_one_line(sig, code):
    proc = subprocess.Popen([sys.executable, "-c", SLOW_COMMAND], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (code, "instdet: interrupted\n")


def test_main_restores_the_sigterm_handler(tmp_path, capsys):
    before = signal.getsignal(signal.SIGTERM)
    main(["data", "validate", str(tmp_path)])
    assert signal.getsignal(signal.SIGTERM) is before


# ---- issue 19: full disk, read-only or forbidden folder --------------------------------------
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_os_errors_are_one_line_and_keep_the_old_file(code, tiny, tmp_path, monkeypatch, capsys):
    import instdet.atomic

    out = tmp_path / "stats.csv"
    out.write_text("old,complete\n")

    def refuse(src, dst):
        raise OSError(code, os.strerror(code), str(src), None, str(dst))

    monkeypatch.setattr(instdet.atomic.os, "replace", refuse)
    assert main(["data", "stats", str(tiny), "--out", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"instdet: error: {out}: {os.strerror(code)}"
    assert not any(line.startswith("Traceback") for line in err)
    assert out.read_text() == "old,complete\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stats.csv"]


def test_os_error_on_the_temporary_file_names_the_target(tiny, tmp_path, monkeypatch, capsys):
    import instdet.atomic

    def read_only(prefix, suffix, dir):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), f"{dir}/{prefix}a1b2c3d4{suffix}")

    monkeypatch.setattr(instdet.atomic.tempfile, "mkstemp", read_only)
    out = tmp_path / "stats.csv"
    assert main(["data", "stats", str(tiny), "--out", str(out)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == f"instdet: error: {out}: Read-only file system"


@pytest.mark.parametrize("kind", ["folder", "named pipe"])
def test_out_that_is_not_a_file(kind, tiny, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir() if kind == "folder" else os.mkfifo(out)
    with pytest.raises(SystemExit) as info:
        main(["data", "stats", str(tiny), "--out", str(out)])
    assert info.value.code == 2
    why = "is a folder; give a file name" if kind == "folder" else "is not a regular file; give a file name"
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"{out} {why}")


def test_predict_refuses_to_write_over_its_own_input(good_run, tmp_path, capsys):
    song = wav(tmp_path, "song.wav", seconds=1.0)
    before = song.read_bytes()
    assert main(["predict", str(good_run), str(song), "--out", str(song)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("instdet: error: --out") and "is the input file itself" in err
    assert err.count("\n") == 1 and song.read_bytes() == before
