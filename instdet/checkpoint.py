"""Self-describing checkpoints: the file alone rebuilds the model (nanoGPT's way).

A checkpoint is a dict of plain types and tensors, loaded with ``weights_only=True`` so that a
file carrying pickled code is refused instead of run. Every field is then checked against
what rebuilding the model needs (``check_checkpoint``), the weights' names and shapes included
(against the model built on the ``meta`` device: no memory, no time), so a damaged or foreign
file fails at load time in one line naming it, never later in a traceback.
"""

from __future__ import annotations

import math
import os
import pickle
import zipfile

import torch

from instdet.atomic import write_with
from instdet.audio import regular_file
from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError
from instdet.features import FeatureConfig
from instdet.models import build_model, model_config

FORMAT_VERSION = 1
REQUIRED_KEYS = ("format", "model_name", "model_config", "feature_config", "instruments",
                 "state_dict")


def save_checkpoint(path: str | os.PathLike, ckpt: dict) -> None:
    """Write ``ckpt`` atomically (a crash mid-write leaves the previous file intact). Saved
    through a file object, the archive inside is named ``archive``, not after the temporary
    file, so the same checkpoint gives the same bytes every time.

    Raises
    ------
    KeyboardInterrupt, SystemExit, OSError
        As raised during the write (Ctrl-C, SIGTERM, a full disk), never as torch's
        ``RuntimeError`` about the write they cut short; the previous file stays intact.
    """
    def writer(tmp):
        with open(tmp, "wb") as f:
            try:
                torch.save(ckpt, f)
            except RuntimeError as exc:
                # A stop (Ctrl-C, SIGTERM) or a failed write (full disk) inside one of torch's
                # writes surfaces as the zip writer's complaint about the write it cut short
                # ("unexpected pos"): raise what cut it short instead.
                cut = exc.__context__
                if isinstance(cut, (KeyboardInterrupt, SystemExit, OSError)):
                    raise cut
                raise

    write_with(path, writer)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint safely and check it is one instdet can use.

    Raises
    ------
    InstdetError
        One line naming the file: missing, not a regular file, truncated, code-carrying, of
        another vocabulary or format, or with fields that cannot rebuild its model
        (``check_checkpoint``).
    """
    path = regular_file(path, what="checkpoint")  # a named pipe would block torch.load
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unpickling error"
        raise InstdetError(
            f"{path.name}: refused, the file carries objects other than weights ({first[:100]})"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InstdetError(f"{path.name}: unreadable checkpoint, truncated or not a torch file "
                           f"({str(exc).strip().splitlines()[0][:100] if str(exc).strip() else type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in REQUIRED_KEYS):
        raise InstdetError(f"{path.name}: not an instdet checkpoint (keys missing)")
    check_checkpoint(ckpt, where=path.name)
    return ckpt


def check_checkpoint(ckpt: dict, *, where: str) -> None:
    """Raise one line starting with ``where`` unless ``ckpt`` can rebuild its model.

    Checks the format, the instrument vocabulary, the model name and settings (types and
    ranges, through ``models.model_config``), the feature settings, the post-processing
    (31 thresholds in [0, 1], an odd median length >= 1) and the weights (a mapping of
    tensors whose names and shapes are those of the model the settings build).
    """
    def bad(why: str):
        raise InstdetError(f"{where}: {why}")

    if not isinstance(ckpt, dict) or any(k not in ckpt for k in REQUIRED_KEYS):
        bad("not an instdet checkpoint (keys missing)")
    if ckpt["format"] != FORMAT_VERSION:
        bad(f"checkpoint format {ckpt['format']!r}, expected {FORMAT_VERSION}")
    names = ckpt["instruments"]
    if not isinstance(names, (list, tuple)) or list(names) != list(INSTRUMENTS):
        n = len(names) if isinstance(names, (list, tuple)) else type(names).__name__
        bad(f"trained on another instrument vocabulary ({n} names), not AAM's 31 in order")
    if not isinstance(ckpt["model_name"], str):
        bad(f"model name {ckpt['model_name']!r} is not text")
    for key in ("model_config", "feature_config"):
        if not isinstance(ckpt[key], dict):
            bad(f"{key} must be a mapping, got {type(ckpt[key]).__name__}")
    try:
        model_config(ckpt["model_name"], ckpt["model_config"])
        features = FeatureConfig.from_dict(dict(ckpt["feature_config"]))
    except InstdetError as exc:
        bad(str(exc))
    _check_postprocess(ckpt.get("postprocess"), bad)
    for key in ("epoch", "best_score"):
        value = ckpt.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            bad(f"{key}={value!r} is not a number")
    _check_weights(ckpt, features, bad)


def _check_postprocess(post, bad) -> None:
    if post is None:
        return
    if not isinstance(post, dict):
        bad(f"postprocess must be a mapping, got {type(post).__name__}")
    th = post.get("thresholds")
    if th is not None:
        if not isinstance(th, (list, tuple)) or len(th) != len(INSTRUMENTS):
            n = len(th) if isinstance(th, (list, tuple)) else type(th).__name__
            bad(f"postprocess needs {len(INSTRUMENTS)} thresholds, one per instrument; got {n}")
        if not all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t)
                   and 0.0 <= t <= 1.0 for t in th):
            bad("postprocess thresholds must be numbers in [0, 1]")
    median = post.get("median", 1)
    if isinstance(median, bool) or not isinstance(median, int) or median < 1 or median % 2 == 0:
        bad(f"postprocess median length must be an odd whole number >= 1, got {median!r}")


def _check_weights(ckpt: dict, features: FeatureConfig, bad) -> None:
    state = ckpt["state_dict"]
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        bad("state_dict is not a mapping of weight names to tensors")
    try:  # the meta device builds the model's shapes without allocating its weights
        with torch.device("meta"):
            model = build_model(ckpt["model_name"], n_mels=features.n_mels,
                                n_classes=len(INSTRUMENTS), settings=stored_settings(ckpt))
    except InstdetError as exc:
        bad(str(exc))
    except (AssertionError, ValueError, RuntimeError, TypeError) as exc:
        bad(f"model {ckpt['model_name']} cannot be built from its settings "
            f"({str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__})")
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    wrong = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
    if missing or extra or wrong:
        k = (wrong or missing or extra)[0]
        what = (f"{k} is {got[k]}, expected {expected[k]}" if wrong
                else f"{len(missing)} missing, e.g. {k}" if missing
                else f"{len(extra)} unknown, e.g. {k}")
        bad(f"weights do not fit model {ckpt['model_name']}: {what}")


#: Settings added after checkpoints were first written, with the value every model had
#: before (checkpoints store their full settings since, so only older files lack them).
LEGACY_SETTINGS = {"convtf": {"time_pool": 1, "skip": False}, "crnn": {"time_pool": 1}}


def stored_settings(ckpt: dict) -> dict:
    """A checkpoint's model settings, completed for files older than a setting."""
    return {**LEGACY_SETTINGS.get(ckpt["model_name"], {}), **dict(ckpt["model_config"])}


def model_from_checkpoint(ckpt: dict) -> tuple[torch.nn.Module, FeatureConfig]:
    """Rebuild the model and its feature settings from a loaded checkpoint."""
    features = FeatureConfig.from_dict(dict(ckpt["feature_config"]))
    model = build_model(ckpt["model_name"], n_mels=features.n_mels,
                        n_classes=len(ckpt["instruments"]), settings=stored_settings(ckpt))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise InstdetError(f"weights do not fit model {ckpt['model_name']}: "
                           f"{str(exc).splitlines()[0][:120]}") from None
    model.eval()
    return model, features
