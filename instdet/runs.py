"""The on-disk formats of runs and results: every file name and schema lives here.

A run is a folder of ``saved_models/``; its evaluations live in ``results/runs/RUN/EVAL/``
(schema in ``results/README.md``)::

    saved_models/RUN/model.pt      best checkpoint (``instdet.checkpoint``)
                     last.pt       training state for --resume, removed when the run ends
                     config.json   training settings, data, status
                     split.json    track ids of train / val / test
                     history.csv   one row per epoch
    results/runs.csv               every evaluation of every run, one row per stage
    results/runs/RUN/EVAL/         metrics.json, per_instrument.csv, per_track.csv,
                                   confusion_pairs.csv, confusion_matrix.csv, frames/TRACK.npz

Readers validate what they read and raise one-line ``InstdetError`` naming the file; they
never write. Writers are atomic: a file through a temporary file and a rename, an evaluation
through a temporary folder swapped in whole, so a reader never sees a mix of old and new.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from instdet.atomic import write_csv, write_json, write_with
from instdet.errors import InstdetError

STATUSES = ("training", "done", "failed")
STAGES = ("raw", "postprocessed")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")


def check_name(name: str, *, what: str = "run id") -> str:
    """A run or evaluation name: letters, digits, ``. _ + -``; no path separators, no ``..``."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise InstdetError(f"{what} {name!r}: use letters, digits and . _ + - only "
                           "(it names a folder and must stay inside it)")
    return name


def read_json(path: Path, *, kind: type = dict):
    """A JSON file whose top level is ``kind``; one-line error otherwise."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstdetError(f"{path}: no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InstdetError(f"{path}: unreadable or cut-short JSON ({str(exc)[:80]})") from None
    if not isinstance(obj, kind):
        raise InstdetError(f"{path}: expected a JSON {kind.__name__}, found {type(obj).__name__}")
    return obj


def _number(value, *, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InstdetError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


# ---- runs -----------------------------------------------------------------------------------


class RunDir:
    """One run folder of ``saved_models/``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.run_id = self.path.name

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    checkpoint = property(lambda self: self.path / "model.pt")
    last = property(lambda self: self.path / "last.pt")
    config_path = property(lambda self: self.path / "config.json")
    split_path = property(lambda self: self.path / "split.json")
    history_path = property(lambda self: self.path / "history.csv")
    lock_path = property(lambda self: self.path / ".lock")

    def config(self) -> dict:
        """``config.json``, checked: status known, train settings a dict, sizes whole numbers."""
        cfg = read_json(self.config_path)
        where = str(self.config_path)
        if cfg.get("status", "training") not in STATUSES:
            raise InstdetError(f"{where}: unknown status {cfg.get('status')!r}")
        if not isinstance(cfg.get("train", {}), dict) or not isinstance(cfg.get("features", {}), dict):
            raise InstdetError(f"{where}: 'train' and 'features' must be JSON objects")
        for key in ("train_size", "n_val", "n_test", "best_epoch", "epochs_run"):
            v = cfg.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise InstdetError(f"{where}: {key} must be a whole number >= 0, got {v!r}")
        if cfg.get("best_score") is not None:
            _number(cfg["best_score"], where=where, key="best_score")
        return cfg

    def status(self) -> str:
        """``done``, ``training``, ``failed``, or ``broken`` (config missing or unreadable)."""
        try:
            status = self.config().get("status", "training")
        except InstdetError:
            return "broken"
        if status == "done" and not self.checkpoint.is_file():
            return "broken"
        return status

    def is_done(self) -> bool:
        return self.status() == "done"

    def split(self) -> dict[str, list[str]]:
        split = read_json(self.split_path)
        for part in ("train", "val", "test"):
            ids = split.get(part)
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise InstdetError(f"{self.split_path}: '{part}' must be a list of track ids")
        return split

    def history(self) -> pd.DataFrame | None:
        """``history.csv``, or None when missing, empty or unreadable."""
        return read_table(self.history_path, required=("epoch",))

    def write_config(self, cfg: dict) -> None:
        write_json(self.config_path, cfg)

    def write_split(self, split: dict) -> None:
        write_json(self.split_path, split)

    def write_history(self, rows: list[dict]) -> None:
        write_csv(self.history_path, pd.DataFrame(rows))

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run's lock file while training: a second process on one run stops at once."""
        with _lock(self.lock_path, what=f"run {self.run_id}"):
            yield


def list_runs(models_dir: str | os.PathLike) -> list[RunDir]:
    """Run folders (with a config.json) in ``models_dir``, sorted; hidden folders skipped."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return [RunDir(d) for d in sorted(root.iterdir())
            if d.is_dir() and not d.name.startswith(".") and (d / "config.json").exists()]


@contextlib.contextmanager
def _lock(path: Path, *, what: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            try:
                pid = int(path.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and _alive(pid):
                raise InstdetError(f"{what} is in use by process {pid} (lock {path}); "
                                   "wait for it or stop it") from None
            path.unlink(missing_ok=True)  # stale: its process is gone
    else:
        raise InstdetError(f"{what}: cannot take the lock {path}")
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---- results --------------------------------------------------------------------------------


def read_table(path: str | os.PathLike, *, required: tuple[str, ...] = (),
               dtype: dict | None = None) -> pd.DataFrame | None:
    """A CSV, or None when missing, empty, half-written or lacking a required column."""
    try:
        df = pd.read_csv(path, dtype=dtype)
    except (OSError, pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError,
            ValueError):
        return None
    if any(c not in df.columns for c in required):
        return None
    return df


#: Stored probabilities are int8 logits in steps of 1/8 over [-16, 15.9]: a quarter of
#: float32's size, and unlike uint8 probabilities (steps of 1/255) they keep the ranking of
#: the many frames near 0 and 1 that average precision depends on (convtf on the real test
#: songs: mAP 0.507 from float32, 0.505 from these, 0.473 from uint8).
LOGIT_STEPS = 8.0


def encode_probs(p: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1] -> int8 logits (``LOGIT_STEPS`` per unit)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.clip(np.rint(np.log(p / (1 - p)) * LOGIT_STEPS), -128, 127).astype(np.int8)


def decode_probs(q: np.ndarray) -> np.ndarray:
    """Stored probabilities back to float32 (uint8 files of older results: q / 255)."""
    if q.dtype == np.uint8:
        return q.astype(np.float32) / np.float32(255.0)
    from scipy.special import expit

    return expit(q.astype(np.float32) / np.float32(LOGIT_STEPS)).astype(np.float32)


def quantize_probs(p: np.ndarray) -> np.ndarray:
    """What a stored and reloaded probability is: evaluation scores these, so that the pages,
    which read the stored frames, reproduce the stored metrics exactly."""
    return decode_probs(encode_probs(p))


class EvalDir:
    """One evaluation of one run: ``results/runs/RUN/EVAL/``."""

    def __init__(self, results: str | os.PathLike, run_id: str, eval_name: str):
        self.results = Path(results)
        self.run_id = check_name(run_id)
        self.eval_name = check_name(eval_name, what="evaluation name")
        self.path = self.results / "runs" / run_id / eval_name

    def __repr__(self) -> str:
        return f"EvalDir({str(self.path)!r})"

    metrics_path = property(lambda self: self.path / "metrics.json")
    per_instrument_path = property(lambda self: self.path / "per_instrument.csv")
    per_track_path = property(lambda self: self.path / "per_track.csv")
    pairs_path = property(lambda self: self.path / "confusion_pairs.csv")
    matrix_path = property(lambda self: self.path / "confusion_matrix.csv")
    frames_dir = property(lambda self: self.path / "frames")

    def metrics(self) -> dict:
        """``metrics.json``, checked against the schema of results/README.md."""
        m = read_json(self.metrics_path)
        where = str(self.metrics_path)
        for key in ("run_id", "eval", "model", "n_tracks", "tracks", *STAGES):
            if key not in m:
                raise InstdetError(f"{where}: not an instdet metrics file (no '{key}')")
        if m["run_id"] != self.run_id or m["eval"] != self.eval_name:
            raise InstdetError(f"{where}: belongs to {m['run_id']}/{m['eval']}, not to the "
                               f"folder {self.run_id}/{self.eval_name} (a copied folder?)")
        if not isinstance(m["tracks"], list) or not all(isinstance(t, str) for t in m["tracks"]):
            raise InstdetError(f"{where}: 'tracks' must be a list of track ids")
        from instdet.metrics import SUMMARY_KEYS

        for stage in STAGES:
            if not isinstance(m[stage], dict):
                raise InstdetError(f"{where}: '{stage}' must be an object of metrics")
            for key in SUMMARY_KEYS:
                _number(m[stage].get(key), where=where, key=f"{stage}.{key}")
        return m

    def frames_path(self, track_id: str) -> Path:
        return self.frames_dir / f"{check_name(track_id, what='track id')}.npz"

    def frames(self, track_id: str) -> dict:
        """A track's stored outputs: probs (n, K) float32, labels (n, K) uint8, frame_rate,
        audio_path (absolute, '' when unknown)."""
        path = self.frames_path(track_id)
        try:
            with np.load(path, allow_pickle=False) as z:
                probs, labels = decode_probs(z["probs"]), z["labels"]
                rate, audio = float(z["frame_rate"]), str(z["audio_path"])
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise InstdetError(f"{path}: unreadable frame outputs ({str(exc)[:80]})") from None
        if probs.ndim != 2 or probs.shape != labels.shape or not (rate > 0):
            raise InstdetError(f"{path}: probabilities {probs.shape} and labels {labels.shape} "
                               "do not match")
        return {"probs": probs, "labels": labels, "frame_rate": rate,
                "audio_path": str((path.parent / audio).resolve()) if audio else ""}

    def per_instrument(self) -> pd.DataFrame | None:
        return read_table(self.per_instrument_path, required=("instrument", "f1", "support"))

    def per_track(self) -> pd.DataFrame | None:
        return read_table(self.per_track_path, required=("track_id", "f1_micro", "f1_macro"),
                          dtype={"track_id": str})

    def pairs(self) -> pd.DataFrame | None:
        return read_table(self.pairs_path, required=("true", "predicted", "count"))

    def matrix(self) -> pd.DataFrame | None:
        return read_table(self.matrix_path, required=("true",))

    def write(self, *, metrics: dict, per_instrument: pd.DataFrame, per_track: pd.DataFrame,
              pairs: pd.DataFrame, matrix: pd.DataFrame, frames: dict[str, dict]) -> None:
        """Write the whole evaluation into a temporary folder, then swap it in.

        ``frames``: {track id: {"probs", "labels", "frame_rate", "audio_path"}}.
        """
        parent = self.path.parent
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.eval_name}.", suffix=".tmp", dir=parent))
        try:
            staged = copy.copy(self)
            staged.path = tmp
            for tid, f in frames.items():
                _save_frames(staged.frames_path(tid), **f)
            write_csv(staged.per_instrument_path, per_instrument)
            write_csv(staged.per_track_path, per_track)
            write_csv(staged.pairs_path, pairs)
            write_csv(staged.matrix_path, matrix)
            write_json(staged.metrics_path, metrics)
            os.chmod(tmp, 0o755)
            old = None
            if self.path.exists():
                old = parent / f".{self.eval_name}.old-{os.getpid()}"
                os.replace(self.path, old)
            os.replace(tmp, self.path)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with _lock(self.path.parent / f".{self.eval_name}.lock",
                   what=f"evaluation {self.run_id}/{self.eval_name}"):
            yield


def _save_frames(path: Path, *, probs: np.ndarray, labels: np.ndarray, frame_rate: float,
                 audio_path: str | None) -> None:
    # The audio path is kept relative to the file's folder, so a clone with the dataset at the
    # same relative place (../shared) still finds it.
    if audio_path:
        audio_path = os.path.relpath(Path(audio_path).resolve(), Path(path).resolve().parent)

    write_with(path, lambda tmp: save_npz_lzma(
        tmp, probs=encode_probs(probs), labels=labels.astype(np.uint8),
        frame_rate=np.float64(frame_rate), audio_path=np.array(audio_path or "")))


def save_npz_lzma(path, **arrays: np.ndarray) -> None:
    """An ``.npz`` that ``np.load`` reads, compressed with LZMA instead of deflate: stored
    probabilities take a quarter less room (results/ stays small enough to clone)."""
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.save(buf, np.asarray(arr), allow_pickle=False)
            zf.writestr(f"{name}.npy", buf.getvalue())


class ResultsDir:
    """The ``results/`` folder: evaluations of every run, and tables about the data."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    runs_csv = property(lambda self: self.root / "runs.csv")

    def evaluations(self) -> list[EvalDir]:
        """Every evaluation with a valid metrics.json that belongs to its folder."""
        out = []
        for f in sorted(self.root.glob("runs/*/*/metrics.json")):
            run, name = f.parent.parent.name, f.parent.name
            if run.startswith(".") or name.startswith("."):
                continue
            try:
                ev = EvalDir(self.root, run, name)
                ev.metrics()
            except InstdetError:
                continue  # half-written, foreign or copied: not a result
            out.append(ev)
        return out

    def table(self) -> pd.DataFrame:
        """One row per (run, evaluation, stage), built from the metrics files (reads only)."""
        from instdet.metrics import SUMMARY_KEYS

        rows = []
        for ev in self.evaluations():
            m = ev.metrics()
            for stage in STAGES:
                rows.append({"run_id": m["run_id"], "model": m["model"],
                             "train_size": m.get("train_size"), "data_kind": m.get("data_kind", ""),
                             "eval": m["eval"], "stage": stage, "n_tracks": m["n_tracks"],
                             **{k: m[stage][k] for k in SUMMARY_KEYS}})
        return pd.DataFrame(rows)

    def write_runs_csv(self) -> pd.DataFrame:
        """Rebuild ``runs.csv`` from the metrics files (evaluation calls this; readers don't)."""
        df = self.table()
        write_csv(self.runs_csv, df)
        return df

    def read_runs_csv(self) -> pd.DataFrame:
        """``runs.csv`` when readable and whole, else the same table built in memory."""
        from instdet.metrics import SUMMARY_KEYS

        df = read_table(self.runs_csv, required=("run_id", "model", "eval", "stage", *SUMMARY_KEYS))
        if df is not None and not df.empty:
            numeric = df[list(SUMMARY_KEYS)].apply(pd.to_numeric, errors="coerce")
            if numeric.notna().all().all():
                for col, fill in (("data_kind", ""), ("train_size", None), ("n_tracks", None)):
                    if col not in df:  # optional columns of older files
                        df[col] = fill
                df["data_kind"] = df["data_kind"].fillna("")
                return df
        return self.table()

    def stats_path(self, corpus: str) -> Path:
        return self.root / f"dataset_stats_{check_name(corpus, what='corpus name')}.csv"

    def cooccurrence_path(self, corpus: str) -> Path:
        return self.root / f"cooccurrence_{check_name(corpus, what='corpus name')}.csv"

    def corpora(self) -> list[str]:
        return sorted(p.stem.removeprefix("dataset_stats_")
                      for p in self.root.glob("dataset_stats_*.csv"))
