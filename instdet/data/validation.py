"""The checks behind ``instdet.data.aam.validate``: every file of a track present, readable
and consistent with the others (stems and annotations against the mix's length)."""

from __future__ import annotations

from instdet.audio import audio_info
from instdet.data.aam import _ANNOTATION_KINDS, PAST_MIX_S, Track, check_instrument
from instdet.data.midi import load_midi_notes
from instdet.errors import InstdetError


def check_track(track: Track) -> list[str]:
    """One-line problems of one track (``instdet.data.aam.validate`` runs it on each)."""
    msgs: list[str] = []

    def attempt(fn) -> object:
        try:
            return fn()
        except InstdetError as exc:
            msgs.append(str(exc))
            return None

    mix_duration = None
    if track.mix_path is None:
        msgs.append("missing: mix audio")
    else:
        info = attempt(lambda: audio_info(track.mix_path))
        mix_duration = info[0] if info else None
    ends: dict[str, float] = {}  # file name -> last time it annotates
    listed: set[str] = set()  # instruments the sections name
    for kind in _ANNOTATION_KINDS:
        path = getattr(track, f"{kind}_path")
        if path is None:
            msgs.append(f"missing: {kind}.arff")
            continue
        value = attempt(lambda k=kind: getattr(track, k))
        if value and kind == "segments":
            ends[path.name] = value[-1].end
            listed = {n for s in value for n in s.instruments}
        elif value is not None and kind == "onsets" and len(value[0]):
            ends[path.name] = float(value[0][-1])
        elif value and kind == "beatinfo":
            ends[path.name] = value[-1][0]
    for name in sorted(listed - set(track.midi_paths)):
        msgs.append(f"missing: MIDI file of {name}")
    for name in sorted(listed - set(track.stem_paths)):
        msgs.append(f"missing: stem of {name}")
    for name, path in sorted(track.midi_paths.items()):
        if attempt(lambda n=name: check_instrument(n, where=path.name)):
            notes = attempt(lambda p=path: load_midi_notes(p))
            if notes is not None and len(notes):
                ends[path.name] = float(notes[:, 1].max())
    for name, path in sorted(track.stem_paths.items()):
        if not attempt(lambda n=name: check_instrument(n, where=path.name)):
            continue
        info = attempt(lambda p=path: audio_info(p))
        if info and mix_duration is not None and abs(info[0] - mix_duration) > 0.5:
            msgs.append(
                f"{path.name}: stem lasts {info[0]:.2f} s but the mix {mix_duration:.2f} s"
            )
    if mix_duration is not None:
        for name, end in ends.items():
            if end > mix_duration + PAST_MIX_S:
                what = "notes run" if name.endswith(".mid") else "annotations run"
                msgs.append(f"{name}: {what} to {end:.2f} s, {end - mix_duration:.2f} s past "
                            f"the end of the mix ({mix_duration:.2f} s)")
    return msgs
