"""The ``instdet`` command: data, features, train, evaluate, sweep, predict.

Every failure that instdet can explain ends with one line on stderr and exit status 1, and
so does an operating-system fault (a full disk, a read-only folder); Ctrl-C ends with status
130 and SIGTERM with 143, both after the line ``instdet: interrupted``. Heavy modules are
imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
from pathlib import Path

from instdet.errors import InstdetError


def int_at_least(lo: int):
    """An argparse type: a whole number >= ``lo``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be at least {lo}, got {value}")
        return value

    parse.__name__ = f"whole number >= {lo}"
    return parse


def float_in(lo: float, hi: float, *, open_lo: bool = False, open_hi: bool = False):
    """An argparse type: a finite number in ``[lo, hi]``, ``lo`` left out when ``open_lo`` and
    ``hi`` when ``open_hi``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (lo < value if open_lo else lo <= value) or not (value < hi if open_hi else value <= hi):
            raise argparse.ArgumentTypeError(
                f"must lie in {'(' if open_lo else '['}{lo:g}, {hi:g}{')' if open_hi else ']'}, "
                f"got {text}")
        return value

    parse.__name__ = "number"
    return parse


def output_file(text: str) -> Path:
    """An argparse type: a file to write (not an existing folder, pipe or device)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name")
    # Writes rename a temporary file onto the target: that would replace a device or a pipe.
    if path.exists() and not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a regular file; give a file name")
    return path


def refuse_overwriting_input(out: Path | None, *inputs: Path) -> None:
    """One line instead of destroying an input with an output of the same path."""
    if out is None:
        return
    for inp in inputs:
        if inp is not None and Path(inp).exists() and Path(out).exists() \
                and Path(out).resolve() == Path(inp).resolve():
            raise InstdetError(f"--out {out} is the input file itself; choose another name")


def _bar(total: int, desc: str, unit: str = "track", **kw):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, file=sys.stderr, **kw)


# ---- data ---------------------------------------------------------------------------------


def cmd_download(args) -> int:
    from instdet.data.download import download, parse_tracks

    tracks = parse_tracks(args.ids)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    with _bar(0, "download", unit="B", unit_scale=True) as bar:
        files = download(args.dest, tracks=tracks, parts=parts, url_template=args.url_template,
                         progress=bar.update, log=lambda t: bar.write(t, file=sys.stderr))
    print(f"{len(files)} files in {args.dest}")
    return 0


def cmd_validate(args) -> int:
    from instdet.data.aam import validate

    tracks, problems = validate(args.dir)
    for tid, msgs in problems.items():
        for msg in msgs:
            print(f"{tid}: {msg}")
    n_bad = sum(len(m) for m in problems.values())
    print(f"{len(tracks)} tracks, {len(problems)} with problems, {n_bad} problems in all")
    return 0 if tracks and not problems else 1


def cmd_stats(args) -> int:
    from instdet.atomic import write_csv
    from instdet.data.aam import load_tracks
    from instdet.stats import dataset_stats

    tracks = load_tracks(args.dir)
    for out in (args.out, args.cooccurrence):
        refuse_overwriting_input(out, *[t.mix_path for t in tracks.values()])
    with _bar(len(tracks), "stats") as bar:
        table = dataset_stats(tracks, progress=bar.update, warn=lambda t: bar.write(t, file=sys.stderr))
    if args.out:
        write_csv(args.out, table)
        print(f"wrote {args.out}")
    else:
        print(table.to_string(index=False))
    if args.cooccurrence:
        from instdet.stats import cooccurrence

        co = cooccurrence(tracks)
        write_csv(args.cooccurrence, co.reset_index().rename(columns={"index": "instrument"}))
        print(f"wrote {args.cooccurrence}")
    return 0


def _id_set(spec: str) -> set[int]:
    """``"1-300,10001-10100"`` -> a set of ints (any track id, generated ones included)."""
    out: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in spec.split(","))):
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise InstdetError(f"bad id list {spec!r}; write e.g. 1-300,10001-10100") from None
    return out


def cmd_features(args) -> int:
    from instdet.data.aam import load_tracks
    from instdet.features import FeatureConfig, compute_many

    tracks = load_tracks(args.dir)
    if args.ids:
        keep = _id_set(args.ids)
        tracks = {k: v for k, v in tracks.items() if int(k) in keep}
        if not tracks:
            raise InstdetError(f"no track of {args.ids} in {', '.join(map(str, args.dir))}")
    config = FeatureConfig()
    with _bar(len(tracks), "features") as bar:
        if args.pack:  # features and labels together; features go through the cache as usual
            from instdet.dataset import load_arrays, save_pack

            arrays = load_arrays(tracks, config=config, label_source=args.labels,
                                 cache_dir=args.cache, progress=bar.update)
            feats = [a.features for a in arrays.values()]
        else:
            feats = compute_many([t.mix_path for t in tracks.values()], config=config,
                                 cache_dir=args.cache, n_jobs=args.jobs, progress=bar.update)
    frames = sum(f.shape[0] for f in feats)
    print(f"{len(feats)} tracks, {frames} frames, settings {config.key}")
    if args.pack:
        save_pack(args.pack, arrays, config=config)
        print(f"wrote {args.pack}")
    return 0


def cmd_remix(args) -> int:
    from instdet.data.remix import remix_corpus

    exclude = {x.strip() for x in (args.exclude or "").split(",") if x.strip()}
    with _bar(args.n_tracks, "remix") as bar:
        ids = remix_corpus(args.source, args.dest, n_tracks=args.n_tracks, seed=args.seed,
                           duration=args.duration, exclude=exclude, progress=bar.update)
    print(f"wrote {len(ids)} remixes ({ids[0]}-{ids[-1]}) to {args.dest}")
    return 0


def cmd_synth(args) -> int:
    from instdet.data import synth

    if args.from_midi:
        from instdet.data.aam import load_tracks

        n = len(load_tracks(args.from_midi, require_mix=False))
        with _bar(n, "render") as bar:
            ids = synth.render_midi_corpus(args.from_midi, args.dest, seed=args.seed,
                                           soundfont=args.soundfont, progress=bar.update)
    else:
        with _bar(args.n_tracks, "synth") as bar:
            ids = synth.synth_corpus(args.dest, n_tracks=args.n_tracks, seed=args.seed,
                                     soundfont=args.soundfont, min_s=args.min_seconds,
                                     max_s=args.max_seconds, timbre=args.timbre,
                                     progress=bar.update)
    print(f"wrote {len(ids)} tracks ({ids[0]}-{ids[-1]}) to {args.dest}")
    return 0


def seconds_range(text: str) -> tuple[float, float]:
    """An argparse type: ``A-B`` seconds with 1 <= A <= B <= 900 (or one number)."""
    lo, _, hi = text.partition("-")
    try:
        a, b = float(lo), float(hi or lo)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A-B seconds, e.g. 30-60; got {text!r}") from None
    if not 1 <= a <= b <= 900:
        raise argparse.ArgumentTypeError(f"need 1 <= A <= B <= 900 seconds, got {text!r}")
    return a, b


def cmd_sample(args) -> int:
    from instdet.data.sampler import sample_corpus

    exclude = {x.strip() for x in (args.exclude or "").split(",") if x.strip()}
    with _bar(args.n_tracks, "sample", unit="song") as bar:
        ids = sample_corpus(args.source, args.dest, n_tracks=args.n_tracks, seed=args.seed,
                            seconds=args.seconds, exclude=exclude, timbre=args.timbre,
                            cache_dir=args.cache, progress=bar.update,
                            log=lambda t: bar.write(t, file=sys.stderr))
    print(f"wrote {len(ids)} sampled songs ({ids[0]}-{ids[-1]}) to {args.dest}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="instdet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="download, validate and describe AAM").add_subparsers(
        dest="data_command", required=True)
    p = data.add_parser("download", help="fetch AAM tracks from Zenodo")
    p.add_argument("--dest", required=True, type=Path)
    p.add_argument("--ids", default="1-3000", help="AAM track ids, e.g. 1-300 or 5,17,2001-2010")
    p.add_argument("--parts", default="annotations,mixes,midis",
                   help="comma list of annotations, mixes, multitracks, midis")
    p.add_argument("--url-template", default=None,
                   help="mirror address with {name} for the file name (default: Zenodo)")
    p.set_defaults(func=cmd_download)
    p = data.add_parser("validate", help="check every track's files; exit 0 only if all is well")
    p.add_argument("dir", type=Path)
    p.set_defaults(func=cmd_validate)
    p = data.add_parser("stats", help="per-instrument class frequency and label noise")
    p.add_argument("dir", type=Path, nargs="+")
    p.add_argument("--out", type=output_file, help="CSV file to write (default: print)")
    p.add_argument("--cooccurrence", type=output_file,
                   help="also write frames where two instruments play together (31x31 CSV)")
    p.set_defaults(func=cmd_stats)
    p = data.add_parser("remix", help="new tracks mixed from random subsets of real stems")
    p.add_argument("--source", type=Path, action="append", required=True)
    p.add_argument("--dest", type=Path, required=True)
    p.add_argument("--n-tracks", type=int_at_least(1), default=100, help="remixes to write")
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument("--duration", type=float_in(1, 600, open_lo=True), default=20.0,
                   help="seconds per remix")
    p.add_argument("--exclude", help="comma list of source track ids not to use (test tracks)")
    p.set_defaults(func=cmd_remix)
    p = data.add_parser("synth", help="compose and render songs with a SoundFont, AAM layout")
    p.add_argument("--dest", type=Path, required=True)
    p.add_argument("--n-tracks", type=int_at_least(1), default=100, help="songs to write")
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument("--soundfont", type=Path, default=None,
                   help="SF2 file (default: TimGM6mb.sf2 from pretty_midi)")
    p.add_argument("--from-midi", type=Path, default=None,
                   help="render the MIDI files of this AAM folder instead of composing")
    p.add_argument("--min-seconds", type=float_in(5, 900), default=120.0)
    p.add_argument("--max-seconds", type=float_in(5, 900), default=180.0)
    p.add_argument("--timbre", action="store_true",
                   help="randomise each stem's timbre: detune, EQ and reverb")
    p.set_defaults(func=cmd_synth)

    p = data.add_parser("sample", help="new songs played with real AAM notes cut from stems")
    p.add_argument("--source", type=Path, action="append", required=True,
                   help="AAM-layout folder with stems and MIDI (repeat for several)")
    p.add_argument("--dest", type=Path, required=True)
    p.add_argument("--n-tracks", type=int_at_least(1), default=100, help="songs to write")
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument("--seconds", type=seconds_range, default=(30.0, 60.0),
                   help="song length range A-B in seconds (default 30-60)")
    p.add_argument("--exclude", help="comma list of source track ids that give no note "
                                     "(test songs)")
    p.add_argument("--timbre", action="store_true",
                   help="randomise each stem's EQ and room")
    p.add_argument("--cache", type=Path, default=None, help="note bank cache folder "
                                                            "(default ~/.cache/instdet)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("features", help="compute and cache log-mel features of every track")
    p.add_argument("dir", type=Path, nargs="+")
    p.add_argument("--cache", type=Path, default=None, help="cache folder (default ~/.cache/instdet)")
    p.add_argument("--jobs", type=int_at_least(1), default=None)
    p.add_argument("--pack", type=output_file, help="also write features and labels to one .npz "
                   "that `instdet train --data` reads (training without the audio)")
    p.add_argument("--labels", default="auto", choices=["auto", "midi", "onsets", "segments"])
    p.add_argument("--ids", help="only these track ids, e.g. 1-3000,10001-10100")
    p.set_defaults(func=cmd_features)

    from instdet import cli_models

    cli_models.add_commands(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it stops the way Ctrl-C stops it: training
    keeps its best checkpoint, a write in progress is abandoned and its temporary file removed."""


def _on_sigterm(signum, frame):
    raise Terminated()


#: A temporary file of ``instdet.atomic`` (".NAME.XXXXXXXX.tmp"): errors name its target.
_ATOMIC_TMP = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")


def os_error_line(exc: OSError) -> str:
    """One line for an operating-system fault, naming the file (not the temporary one)."""
    names = []
    for f in (exc.filename, exc.filename2):
        if f is None:
            continue
        f = Path(os.fsdecode(f))
        m = _ATOMIC_TMP.match(f.name)
        names.append(str(f.parent / m["name"]) if m else str(f))
    what = exc.strerror or str(exc) or type(exc).__name__
    if not names:  # a failed write() on an open file carries no name
        return f"{what} (while reading or writing a file)"
    return f"{names[-1]}: {what}"  # a rename names its target last


class _LineHandler(logging.Handler):
    """Library warnings (logger ``instdet``) as whole lines on stderr, between progress bars."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        tqdm.write(self.format(record), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log, handler = logging.getLogger("instdet"), _LineHandler(logging.WARNING)
    log.addHandler(handler)
    # Only the main thread may set handlers; the previous one is restored for callers that
    # run main() in-process (tests, scripts).
    installed = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if installed else None
    try:
        return int(args.func(args) or 0)
    except InstdetError as exc:
        print(f"instdet: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print("instdet: interrupted", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except OSError as exc:  # the last resort: a full disk, a read-only folder, a lost mount
        print(f"instdet: error: {os_error_line(exc)}", file=sys.stderr)
        return 1
    finally:
        log.removeHandler(handler)
        if installed:  # None: a handler set outside Python, restored as the default
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


if __name__ == "__main__":
    sys.exit(main())
