"""``instdet`` commands that train, evaluate and run models (see ``instdet.cli``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from instdet.errors import InstdetError

DEFAULT_RUNS = Path("saved_models")
DEFAULT_RESULTS = Path("results")


def _ids(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def _settings(pairs: list[str] | None) -> dict:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InstdetError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _train_config(args, model: str, tracks: int | None):
    from instdet.training import TrainConfig

    return TrainConfig(
        model=model, model_settings=_settings(args.set), data=tuple(str(d) for d in args.data),
        tracks=tracks, test_ids=_ids(args.test_ids), val_ids=_ids(args.val_ids),
        label_source=args.labels, epochs=args.epochs, patience=args.patience,
        steps_per_epoch=args.steps, batch_size=args.batch_size, crop_frames=args.crop,
        lr=args.lr, seed=args.seed, augment=not args.no_augment, remix_prob=args.remix_prob,
        init_from=str(args.init or ""),
    )


def _train_one(config, run_dir: Path, *, resume: bool, cache) -> dict:
    from tqdm import tqdm

    from instdet.training import train

    with tqdm(total=config.epochs, desc=run_dir.name, unit="epoch", file=sys.stderr,
              dynamic_ncols=True) as bar:
        def progress(row):
            bar.n = row["epoch"]
            bar.set_postfix(loss=f"{row['loss']:.3f}", val_f1=f"{row['val_f1_micro']:.3f}",
                            macro=f"{row['val_f1_macro']:.3f}")
            bar.refresh()

        return train(config, run_dir, cache_dir=cache, resume=resume, progress=progress,
                     log=lambda text: bar.write(text, file=sys.stderr))


def cmd_train(args) -> int:
    from instdet.training import TrainConfig

    if args.resume:
        run_dir = Path(args.resume)
        cfg_file = run_dir / "config.json"
        if not cfg_file.exists():
            raise InstdetError(f"{run_dir}: not a run folder (no config.json)")
        config = TrainConfig.from_dict(json.loads(cfg_file.read_text())["train"])
        summary = _train_one(config, run_dir, resume=True, cache=args.cache)
    else:
        if not args.data:
            raise InstdetError("give --data DIR (or --resume RUN)")
        config = _train_config(args, args.model, args.tracks)
        name = args.name or f"{args.model}-n{args.tracks or 'all'}-s{args.seed}"
        summary = _train_one(config, args.runs / name, resume=False, cache=args.cache)
    print(f"{summary['run_id']}: best validation score {summary['best_score']:.4f} "
          f"at epoch {summary['best_epoch']}")
    return 0


def cmd_sweep(args) -> int:
    from instdet.evaluation import collect_results

    models = [m for m in args.models.split(",") if m]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    for model in models:
        for size in sizes:
            name = f"{args.prefix}{model}-n{size}-s{args.seed}"
            run_dir = args.runs / name
            if (run_dir / "config.json").exists() and '"status": "done"' in (run_dir / "config.json").read_text():
                print(f"{name}: done already, kept")
            else:
                resume = (run_dir / "last.pt").exists()
                _train_one(_train_config(args, model, size), run_dir, resume=resume, cache=args.cache)
            if args.evaluate:
                _evaluate(run_dir, args, data=args.data)
    if args.evaluate:
        table = collect_results(args.results)
        print(table[table.stage == "postprocessed"].to_string(index=False))
    return 0


def _evaluate(run_dir: Path, args, *, data) -> dict:
    from tqdm import tqdm

    from instdet.data.aam import load_tracks
    from instdet.evaluation import evaluate_run

    tracks = load_tracks([str(d) for d in data])
    name = getattr(args, "eval_name", None)
    if getattr(args, "tracks_eval", None):
        ids = _ids(args.tracks_eval)
    elif getattr(args, "all_tracks", False):
        ids = tuple(tracks)
    else:
        split_file = run_dir / "split.json"
        if not split_file.exists():
            raise InstdetError(f"{run_dir}: no split.json; give --tracks or --all")
        ids = tuple(t for t in json.loads(split_file.read_text())["test"] if t in tracks)
        name = name or "test"
        if not ids:
            raise InstdetError(f"none of {run_dir.name}'s test tracks is in the data given; "
                               "use --all to evaluate on every track there")
    missing = [i for i in ids if i not in tracks]
    if missing:
        raise InstdetError(f"track(s) not found: {', '.join(missing[:5])}")
    name = name or "eval"
    with tqdm(total=len(ids), desc=f"evaluate {run_dir.name}", unit="track", file=sys.stderr) as bar:
        return evaluate_run(run_dir, {i: tracks[i] for i in ids}, out_dir=args.results,
                            eval_name=name, label_source=args.labels, cache_dir=args.cache,
                            progress=bar.update)


def cmd_evaluate(args) -> int:
    from instdet.checkpoint import load_checkpoint

    load_checkpoint(Path(args.run) / "model.pt")  # a bad run fails before any audio is read
    data = args.data
    if not data:
        cfg = Path(args.run) / "config.json"
        if not cfg.exists():
            raise InstdetError(f"{args.run}: not a run folder (no config.json); give --data")
        data = json.loads(cfg.read_text())["train"]["data"]
    metrics = _evaluate(Path(args.run), args, data=data)
    if args.json:
        from instdet.evaluation import per_instrument_records

        out = dict(metrics["postprocessed"])
        out.update(run_id=metrics["run_id"], eval=metrics["eval"], n_tracks=metrics["n_tracks"],
                   raw=metrics["raw"], per_instrument=per_instrument_records(
                       args.results, metrics["run_id"], metrics["eval"]))
        print(json.dumps(out))
    else:
        for stage in ("raw", "postprocessed"):
            vals = ", ".join(f"{k} {v:.4f}" for k, v in metrics[stage].items())
            print(f"{stage}: {vals}")
    return 0


def cmd_predict(args) -> int:
    import numpy as np
    import pandas as pd

    from instdet.atomic import write_csv
    from instdet.inference import Predictor

    predictor = Predictor.from_run(args.run)
    pred = predictor.predict(args.audio)
    table = pd.DataFrame(pred.active.astype(np.uint8), columns=list(pred.instruments))
    table.insert(0, "time_s", np.round(pred.times, 4))
    if args.out:
        write_csv(args.out, table)
        print(f"wrote {args.out} ({len(table)} frames)")
    share = pred.active.mean(axis=0)
    for name, s in sorted(zip(pred.instruments, share), key=lambda x: -x[1]):
        if s > 0:
            print(f"{name:22s} active {100 * s:5.1f}% of the time")
    return 0


def cmd_report(args) -> int:
    from instdet.evaluation import collect_results
    from instdet.report import markdown_results

    runs = collect_results(args.results)
    if runs.empty:
        raise InstdetError(f"no evaluated runs in {args.results}; run `instdet evaluate` first")
    for name in args.eval or sorted(runs["eval"].unique()):
        print(f"### {name} ({args.stage})\n")
        print(markdown_results(runs, eval_name=name, stage=args.stage))
        print()
    return 0


def add_commands(sub) -> None:
    from instdet.models import MODELS

    def common(p, *, model: bool):
        p.add_argument("--data", action="append", type=Path, default=[],
                       help="AAM-layout folder (repeat for several)")
        if model:
            p.add_argument("--set", action="append", metavar="KEY=VALUE",
                           help="model setting, e.g. --set hidden=512")
        p.add_argument("--test-ids", help="comma list of track ids held out as the test split")
        p.add_argument("--val-ids", help="comma list of track ids used for validation")
        p.add_argument("--labels", default="auto", choices=["auto", "midi", "onsets", "segments"])
        p.add_argument("--epochs", type=int, default=30)
        p.add_argument("--patience", type=int, default=6)
        p.add_argument("--steps", type=int, default=100, help="batches per epoch")
        p.add_argument("--batch-size", type=int, default=16)
        p.add_argument("--crop", type=int, default=256, help="frames per training crop")
        p.add_argument("--lr", type=float, default=1e-3)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--no-augment", action="store_true",
                       help="train without mel shift, tilt and SpecAugment masks")
        p.add_argument("--remix-prob", type=float, default=0.0,
                       help="share of training crops replaced by fresh remixes of the training "
                            "tracks' stems (needs folders with stems and MIDI)")
        p.add_argument("--init", type=Path, default=None,
                       help="start from this run's weights (pre-train, then fine-tune)")
        p.add_argument("--runs", type=Path, default=DEFAULT_RUNS)
        p.add_argument("--cache", type=Path, default=None)

    p = sub.add_parser("train", help="train one model")
    p.add_argument("--model", default="crnn", choices=list(MODELS))
    p.add_argument("--tracks", type=int, default=None, help="number of training tracks")
    p.add_argument("--name", help="run id (default MODEL-nTRACKS-sSEED)")
    p.add_argument("--resume", help="continue the run in this folder")
    common(p, model=True)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sweep", help="train (and evaluate) every model at every training size")
    p.add_argument("--models", default="mlp,crnn")
    p.add_argument("--sizes", default="75,150,300")
    p.add_argument("--prefix", default="", help="prefix of the run ids")
    p.add_argument("--evaluate", action="store_true", help="evaluate each run on its test split")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    common(p, model=True)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("evaluate", help="score a run and write its results")
    p.add_argument("run", type=Path)
    p.add_argument("--data", action="append", type=Path, default=[])
    p.add_argument("--labels", default="auto", choices=["auto", "midi", "onsets", "segments"])
    p.add_argument("--tracks", dest="tracks_eval", help="comma list of track ids")
    p.add_argument("--all", dest="all_tracks", action="store_true", help="every track in --data")
    p.add_argument("--name", dest="eval_name", help="name of this evaluation (default: test)")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    p.add_argument("--cache", type=Path, default=None)
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("report", help="print the results table (models x sizes x metrics)")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    p.add_argument("--eval", action="append", help="evaluation set (default: all)")
    p.add_argument("--stage", default="postprocessed", choices=["postprocessed", "raw"])
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("predict", help="which instruments play when, in an audio file")
    p.add_argument("run", type=Path)
    p.add_argument("audio", type=Path)
    p.add_argument("--out", type=Path, help="CSV of active instruments per frame")
    p.set_defaults(func=cmd_predict)
