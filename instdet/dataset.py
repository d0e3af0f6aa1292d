"""Tracks as arrays for training and evaluation: features, labels, splits, crops."""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from instdet.data.aam import INSTRUMENTS, Track
from instdet.errors import InstdetError
from instdet.features import FeatureConfig, compute_many
from instdet.labels import frame_labels


@dataclasses.dataclass
class TrackArrays:
    """One track ready for a model."""

    track_id: str
    features: np.ndarray  # (n_frames, n_mels) float32, dB
    labels: np.ndarray  # (n_frames, 31) uint8
    label_source: str
    soft: np.ndarray | None = None  # (n_frames, 31) a teacher's probabilities, when distilling


#: Kinds of training song by track id: AAM's own are 1-3000; generated corpora take their
#: own five-digit ranges (remix 1xxxx, SoundFont renders of AAM MIDI 2xxxx, composed SoundFont
#: songs 3xxxx, note-sampler songs 4xxxx).
KIND_ORDER = ("real", "remix", "synth", "sampled")


def corpus_kind(track_id: str) -> str:
    """``real``, ``remix``, ``synth`` or ``sampled``, from the track id's range."""
    n = int(track_id) if str(track_id).isdigit() else 0
    if n >= 40001:
        return "sampled"
    if n >= 20001:
        return "synth"
    if n >= 10001:
        return "remix"
    return "real"


def data_kind(track_ids) -> str:
    """The kinds of song in a training set, e.g. ``real+remix``."""
    kinds = {corpus_kind(t) for t in track_ids}
    return "+".join(k for k in KIND_ORDER if k in kinds)


def load_arrays(
    tracks: dict[str, Track],
    *,
    config: FeatureConfig,
    label_source: str = "auto",
    cache_dir=None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, TrackArrays]:
    """Features (cached) and frame labels of every track."""
    ids = list(tracks)
    feats = compute_many([tracks[i].mix_path for i in ids], config=config, cache_dir=cache_dir,
                         progress=progress)
    out = {}
    for tid, f in zip(ids, feats):
        y, used = frame_labels(tracks[tid], f.shape[0], sr=config.sr,
                               hop_length=config.hop_length, source=label_source)
        out[tid] = TrackArrays(tid, f, y, used)
    return out


def split_tracks(
    ids: list[str],
    *,
    train_size: int | None,
    seed: int,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    test_ids: list[str] | None = None,
    val_ids: list[str] | None = None,
    real_first: bool = False,
) -> dict[str, list[str]]:
    """Split track ids into train / val / test, reproducibly for a seed.

    Explicit ``test_ids`` and ``val_ids`` are taken as given; the rest is shuffled and cut.
    A fraction of 0 with no ids given leaves that part empty. ``train_size`` caps the
    training tracks (``None``: all that remain); with ``real_first`` the cap takes every
    real AAM song left for training before any generated one (each group in shuffled order).
    """
    known = set(ids)
    for name, given in (("test", test_ids), ("validation", val_ids)):
        missing = sorted(set(given or ()) - known)
        if missing:
            raise InstdetError(f"{name} track(s) not in the data: {', '.join(missing[:5])}")
    rng = np.random.default_rng(seed)
    rest = [i for i in sorted(ids) if i not in set(test_ids or ()) | set(val_ids or ())]
    rest = [rest[i] for i in rng.permutation(len(rest))]
    test = list(test_ids) if test_ids else \
        rest[: max(1, round(test_fraction * len(ids)))] if test_fraction > 0 else []
    rest = [i for i in rest if i not in test]
    val = list(val_ids) if val_ids else \
        rest[: max(1, round(val_fraction * len(ids)))] if val_fraction > 0 else []
    train = [i for i in rest if i not in val]
    if train_size is not None:
        if train_size > len(train):
            raise InstdetError(
                f"asked for {train_size} training tracks but only {len(train)} remain after "
                f"{len(val)} validation and {len(test)} test tracks"
            )
        if real_first:
            train = sorted(train, key=lambda t: corpus_kind(t) != "real")  # stable: keeps the shuffle
        train = train[:train_size]
    if not train:
        raise InstdetError("no training tracks left; give more data")
    return {"train": sorted(train), "val": sorted(val), "test": sorted(test)}


def track_weights(
    arrays: list[TrackArrays], *, rare_threshold: int = 5, factor: float = 4.0
) -> np.ndarray:
    """Sampling weight per track: ``factor`` for a track holding an instrument that occurs in
    fewer than ``rare_threshold`` training tracks (the seed's x4 oversampling), else 1."""
    present = np.stack([a.labels.any(axis=0) for a in arrays])  # (n_tracks, 31)
    rare = (present.sum(axis=0) > 0) & (present.sum(axis=0) < rare_threshold)
    w = np.where((present & rare).any(axis=1), factor, 1.0)
    return w / w.sum()


def class_pos_weight(arrays: list[TrackArrays], *, cap: float = 10.0) -> np.ndarray:
    """BCE positive-class weight per instrument: sqrt(negative / positive frames), in [1, cap]."""
    pos = sum(a.labels.sum(axis=0, dtype=np.int64) for a in arrays).astype(np.float64)
    total = sum(a.labels.shape[0] for a in arrays)
    ratio = np.sqrt((total - pos) / np.maximum(pos, 1.0))
    return np.clip(np.where(pos > 0, ratio, 1.0), 1.0, cap).astype(np.float32)


def sample_batch(
    arrays: list[TrackArrays], weights: np.ndarray, *, batch_size: int, crop: int,
    rng: np.random.Generator, pad_db: float = -80.0, soft: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Random crops; a track shorter than ``crop`` is padded with silence (``pad_db``).

    Returns
    -------
    x : np.ndarray [shape=(batch, crop, n_mels)]
    y : np.ndarray [shape=(batch, crop, 31)]
    mask : np.ndarray [shape=(batch, crop)], 1 on real frames, 0 on padding
    soft : np.ndarray [shape=(batch, crop, 31)] the tracks' ``soft`` targets, or None
    """
    n_mels = arrays[0].features.shape[1]
    x = np.full((batch_size, crop, n_mels), pad_db, dtype=np.float32)
    y = np.zeros((batch_size, crop, len(INSTRUMENTS)), dtype=np.float32)
    mask = np.zeros((batch_size, crop), dtype=np.float32)
    s = np.zeros_like(y) if soft else None
    for b, idx in enumerate(rng.choice(len(arrays), size=batch_size, p=weights)):
        a = arrays[idx]
        n = a.features.shape[0]
        start = int(rng.integers(0, max(1, n - crop + 1)))
        seg = slice(start, start + min(crop, n))
        length = seg.stop - seg.start
        x[b, :length] = a.features[seg]
        y[b, :length] = a.labels[seg]
        mask[b, :length] = 1.0
        if s is not None:
            s[b, :length] = a.soft[seg]
    return x, y, mask, s


def save_pack(path, arrays: dict[str, TrackArrays], *, config: FeatureConfig) -> None:
    """Store features (uint8, 0.31-dB steps over the 80-dB range) and bit-packed labels of
    many tracks in one ``.npz``: training data for a machine that has no audio (a GPU host)."""
    import json

    from instdet.atomic import write_with

    payload = {"meta": np.array(json.dumps({"features": config.to_dict(),
                                            "ids": list(arrays)}))}
    for tid, a in arrays.items():
        q = np.rint((a.features + config.top_db) * (255.0 / config.top_db))
        payload[f"x_{tid}"] = np.clip(q, 0, 255).astype(np.uint8)
        payload[f"y_{tid}"] = np.packbits(a.labels.astype(bool), axis=1)
        payload[f"s_{tid}"] = np.array(a.label_source)

    def writer(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **payload)

    write_with(path, writer)


def load_pack(path) -> tuple[dict[str, TrackArrays], FeatureConfig]:
    """Read a pack written by ``save_pack``, checking every array against the pack's settings.

    Raises
    ------
    InstdetError
        One line naming the file: missing, not a regular file, truncated or corrupted (zip,
        zlib, JSON), or arrays whose shapes do not fit.
    """
    import json
    import zipfile
    import zlib

    from instdet.audio import regular_file

    path = regular_file(path, what="feature pack")  # a named pipe would block np.load
    n_bytes = (len(INSTRUMENTS) + 7) // 8
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if not isinstance(meta, dict) or not isinstance(meta.get("ids"), list):
                raise ValueError("its meta record is not the one save_pack writes")
            config = FeatureConfig.from_dict(meta["features"])
            out = {}
            for tid in meta["ids"]:
                xq, yq = z[f"x_{tid}"], z[f"y_{tid}"]
                if xq.dtype != np.uint8 or xq.ndim != 2 or xq.shape[1] != config.n_mels:
                    raise ValueError(f"track {tid}: features of shape {xq.shape}, expected "
                                     f"(n_frames, {config.n_mels}) bytes")
                if yq.dtype != np.uint8 or yq.shape != (xq.shape[0], n_bytes):
                    raise ValueError(f"track {tid}: labels of shape {yq.shape}, expected "
                                     f"({xq.shape[0]}, {n_bytes}) bytes")
                x = xq.astype(np.float32) * (config.top_db / 255.0) - config.top_db
                y = np.unpackbits(yq, axis=1, count=len(INSTRUMENTS))
                out[str(tid)] = TrackArrays(str(tid), x, y.astype(np.uint8), str(z[f"s_{tid}"]))
    except KeyError as exc:
        raise InstdetError(f"{path}: not a readable feature pack (missing {exc})") from None
    except (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile, zlib.error,
            InstdetError) as exc:  # truncated, corrupted, or another file's arrays
        text = str(exc).strip().splitlines()
        why = text[0][:120] if text else type(exc).__name__
        raise InstdetError(f"{path}: not a readable feature pack ({why})") from None
    return out, config
