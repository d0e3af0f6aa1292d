"""``instdet`` commands that train, evaluate and run models (see ``instdet.cli``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from instdet.cli import float_in, int_at_least, output_file, refuse_overwriting_input
from instdet.errors import InstdetError

DEFAULT_RUNS = Path("saved_models")
DEFAULT_RESULTS = Path("results")


def _ids(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def _settings(pairs: list[str] | None, model: str | None = None) -> dict:
    """``--set KEY=VALUE`` pairs as settings; ``MODEL.KEY=VALUE`` applies to that model only
    (a sweep trains several)."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InstdetError(f"--set expects KEY=VALUE, got {pair!r}")
        scope, dot, name = key.partition(".")
        if dot:
            if scope != model:
                continue
            key = name
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _per_model(text: str | None, models: list[str], option: str) -> dict[str, int]:
    """``MODEL=N,...`` (``--model-epochs``, ``--model-patience``) as ``{model: N}``, for models
    of this sweep only."""
    out = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        name, sep, value = pair.strip().partition("=")
        if not sep or name not in models or not value.isdigit() or int(value) < 1:
            raise InstdetError(f"{option} takes MODEL=N for models of this sweep "
                               f"({','.join(models)}), N >= 1; got {pair.strip()!r}")
        out[name] = int(value)
    return out


def _train_config(args, model: str, train_size: int | None, *, epochs: int | None = None,
                  patience: int | None = None):
    from instdet.training import TrainConfig

    return TrainConfig(
        model=model, model_settings=_settings(args.set, model), data=tuple(str(d) for d in args.data),
        train_size=train_size, test_ids=_ids(args.test_ids), val_ids=_ids(args.val_ids),
        label_source=args.labels, epochs=epochs or args.epochs, patience=patience or args.patience,
        steps_per_epoch=args.steps, batch_size=args.batch_size, crop_frames=args.crop,
        lr=args.lr, seed=args.seed, augment=not args.no_augment, remix_prob=args.remix_prob,
        sample_prob=args.sample_prob, init_from=str(args.init or ""),
        teacher=str(args.teacher or ""), distill_weight=args.distill_weight,
        schedule=args.schedule, ema=args.ema, thresholds=args.thresholds,
        real_first=args.real_first,
    )


def _train_one(config, run_dir: Path, *, resume: bool, cache, overwrite: bool = False) -> dict:
    from tqdm import tqdm

    from instdet.training import train

    with tqdm(total=config.epochs, desc=run_dir.name, unit="epoch", file=sys.stderr,
              dynamic_ncols=True) as bar:
        def progress(row):
            bar.n = row["epoch"]
            bar.set_postfix(loss=f"{row['loss']:.3f}", val_f1=f"{row['val_f1_micro']:.3f}",
                            macro=f"{row['val_f1_macro']:.3f}")
            bar.refresh()

        return train(config, run_dir, cache_dir=cache, resume=resume, overwrite=overwrite,
                     progress=progress, log=lambda text: bar.write(text, file=sys.stderr))


def cmd_train(args) -> int:
    from instdet.runs import RunDir
    from instdet.training import TrainConfig

    if args.resume:
        run = RunDir(args.resume)
        if not run.config_path.exists():
            raise InstdetError(f"{run.path}: not a run folder (no config.json)")
        config = TrainConfig.from_dict(run.config().get("train", {}))
        summary = _train_one(config, run.path, resume=True, cache=args.cache)
    else:
        if not args.data:
            raise InstdetError("give --data DIR (or --resume RUN)")
        if args.real_first and not args.train_size:
            raise InstdetError("--real-first orders the songs that --train-size takes; "
                               "give --train-size N (without it every song trains)")
        config = _train_config(args, args.model, args.train_size)
        name = args.name or f"{args.model}-n{args.train_size or 'all'}-s{args.seed}"
        summary = _train_one(config, args.runs / name, resume=False, cache=args.cache,
                             overwrite=args.overwrite)
    if summary["best_score"] is None:
        print(f"{summary['run_id']}: trained {summary['epochs_run']} epochs (no validation songs)")
    else:
        print(f"{summary['run_id']}: best validation score {summary['best_score']:.4f} "
              f"at epoch {summary['best_epoch']}")
    return 0


def cmd_sweep(args) -> int:
    from instdet.runs import ResultsDir, RunDir

    models = [m for m in args.models.split(",") if m]
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s]
    except ValueError:
        raise InstdetError(f"--sizes takes whole numbers, e.g. 75,150,300; got {args.sizes!r}") from None
    if not models or not sizes or min(sizes) < 1:
        raise InstdetError("give at least one model and sizes of at least 1 track")
    epochs = _per_model(args.model_epochs, models, "--model-epochs")
    patience = _per_model(args.model_patience, models, "--model-patience")
    if args.plan and args.evaluate:
        raise InstdetError("--plan trains nothing: evaluate the runs after instdet train-plan")
    todo = []
    for model in models:
        for size in sizes:
            run = RunDir(args.runs / f"{args.prefix}{model}-n{size}-s{args.seed}")
            if run.is_done() and not args.overwrite:
                print(f"{run.run_id}: done already, kept (--overwrite retrains it)")
            else:
                todo.append((_train_config(args, model, size, epochs=epochs.get(model),
                                           patience=patience.get(model)), run.path))
    if args.plan:
        from instdet.plan import add_to_plan

        n = add_to_plan(args.plan, [(c, d, args.overwrite) for c, d in todo])
        print(f"{len(todo)} runs added to {args.plan} ({n} in it); train them with: "
              f"instdet train-plan {args.plan} --jobs N")
        return 0
    if args.jobs > 1 and len(todo) > 1:
        _parallel(todo, jobs=args.jobs, cache=args.cache, overwrite=args.overwrite)
    else:
        for config, run_dir in todo:
            _train_one(config, run_dir, resume=RunDir(run_dir).last.exists(), cache=args.cache,
                       overwrite=args.overwrite)
    if args.evaluate:
        for model in models:
            for size in sizes:
                _evaluate(args.runs / f"{args.prefix}{model}-n{size}-s{args.seed}", args,
                          data=args.data)
        table = ResultsDir(args.results).read_runs_csv()
        print(table[table.stage == "postprocessed"].to_string(index=False))
    return 0


def cmd_train_plan(args) -> int:
    from instdet.plan import add_to_plan, read_plan
    from instdet.runs import RunDir

    jobs = read_plan(args.plan)
    todo = []
    for config, run_dir, overwrite in jobs:
        if RunDir(run_dir).is_done() and not overwrite:
            print(f"{run_dir.name}: done already, kept")
        else:
            todo.append((config, run_dir, overwrite))
    by_name = {run_dir.name: (config, run_dir) for config, run_dir, _ in todo}

    def finished(name):  # a rerun of the plan keeps what this one has trained
        add_to_plan(args.plan, [(*by_name[name], False)])

    if todo:
        _parallel(todo, jobs=args.jobs, cache=args.cache, on_done=finished)
    print(f"{len(todo)} runs trained, {len(jobs) - len(todo)} kept")
    return 0


def _parallel(todo, *, jobs: int, cache, overwrite: bool = False, on_done=None) -> None:
    """Runs in ``jobs`` processes, one bar for all their epochs; ``on_done(run name)`` after
    each run ends."""
    from tqdm import tqdm

    from instdet.parallel import train_parallel

    jobs = max(1, min(jobs, len(todo)))
    with tqdm(total=sum(job[0].epochs for job in todo), desc=f"train ({jobs} processes)",
              unit="epoch", file=sys.stderr, dynamic_ncols=True) as bar:
        def on_event(name, epoch, score):
            if epoch is None:
                bar.write(f"{name}: done", file=sys.stderr)
                if on_done:
                    on_done(name)
            else:
                bar.update(1)
                bar.set_postfix_str(f"{name} epoch {epoch} val {score:.3f}")

        train_parallel(todo, jobs=jobs, cache_dir=cache, on_event=on_event, overwrite=overwrite)


def _evaluate(run_dir: Path, args, *, data) -> dict:
    from tqdm import tqdm

    from instdet.data.aam import load_tracks
    from instdet.evaluation import evaluate_run
    from instdet.runs import RunDir

    tracks = load_tracks([str(d) for d in data if not str(d).endswith(".npz")])
    name = getattr(args, "eval_name", None)
    if getattr(args, "ids", None):
        ids = _ids(args.ids)
    elif getattr(args, "all_tracks", False):
        ids = tuple(tracks)
    else:
        run = RunDir(run_dir)
        if not run.split_path.exists():
            raise InstdetError(f"{run_dir}: no split.json; give --ids or --all")
        ids = tuple(t for t in run.split()["test"] if t in tracks)
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
    from instdet.runs import EvalDir, RunDir

    runs = [RunDir(r) for r in args.run]
    for run in runs:  # a bad run or name fails before any audio is read
        load_checkpoint(run.checkpoint)
        if args.eval_name:
            EvalDir(args.results, run.run_id, args.eval_name)
    for run in runs:
        data = args.data
        if not data:
            if not run.config_path.exists():
                raise InstdetError(f"{run.path}: not a run folder (no config.json); give --data")
            data = run.config().get("train", {}).get("data") or []
            if not data:
                raise InstdetError(f"{run.path}: its config names no data folder; give --data")
        metrics = _evaluate(run.path, args, data=data)
        if args.json:
            ev = EvalDir(args.results, metrics["run_id"], metrics["eval"])
            out = dict(metrics["postprocessed"])
            out.update(run_id=metrics["run_id"], eval=metrics["eval"], n_tracks=metrics["n_tracks"],
                       raw=metrics["raw"],
                       per_instrument=json.loads(ev.per_instrument().to_json(orient="records")))
            print(json.dumps(out))
        else:
            for stage in ("raw", "postprocessed"):
                vals = ", ".join(f"{k} {v:.4f}" for k, v in metrics[stage].items())
                print(f"{run.run_id} {stage}: {vals}")
    return 0


def cmd_predict(args) -> int:
    import numpy as np
    import pandas as pd

    from instdet.atomic import write_csv
    from instdet.inference import Predictor

    refuse_overwriting_input(args.out, args.audio, Path(args.run) / "model.pt")
    if args.out is not None and args.out.suffix.lower() in (".mp3", ".wav", ".flac", ".ogg", ".pt"):
        raise InstdetError(f"--out {args.out}: the frame table is CSV; name it .csv")
    from instdet.verdict import MIN_SECONDS

    predictor = Predictor.from_run(args.run)
    pred = predictor.predict(args.audio)
    seconds = len(pred.times) / pred.frame_rate
    if seconds < MIN_SECONDS:
        print(f"instdet: caution: {seconds:.1f} s of audio is too short to judge; read the "
              "answer as a guess", file=sys.stderr)
    table = pd.DataFrame(pred.active.astype(np.uint8), columns=list(pred.instruments))
    table.insert(0, "time_s", np.round(pred.times, 4))
    if args.out:
        write_csv(args.out, table)
        print(f"wrote {args.out} ({len(table)} frames)")
    share = pred.active.mean(axis=0)
    heard = [(n, s) for n, s in sorted(zip(pred.instruments, share), key=lambda x: -x[1]) if s > 0]
    for name, s in heard:
        print(f"{name:22s} active {100 * s:5.1f}% of the time")
    if not heard:
        print("no instrument heard")
    return 0


def cmd_report(args) -> int:
    from instdet.report import markdown_results
    from instdet.runs import ResultsDir

    runs = ResultsDir(args.results).read_runs_csv()
    if runs.empty:
        raise InstdetError(f"no evaluated runs in {args.results}; run `instdet evaluate` first")
    for name in args.eval or sorted(runs["eval"].unique()):
        print(f"### {name} ({args.stage})\n")
        print(markdown_results(runs, eval_name=name, stage=args.stage))
        print()
    return 0


def cmd_import_seed(args) -> int:
    from instdet.seed import import_seed

    run = import_seed(args.file, train_size=args.train_size, epochs=args.epochs,
                      runs_dir=args.runs, instruments=args.instruments, name=args.name,
                      overwrite=args.overwrite)
    print(f"imported {args.file} as {run.path}")
    return 0


def add_commands(sub) -> None:
    from instdet.models import TRAINABLE

    def common(p):
        p.add_argument("--data", action="append", type=Path, default=[],
                       help="AAM-layout folder or feature pack (repeat for several)")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="model setting, e.g. --set hidden=512; MODEL.KEY=VALUE sets it for "
                            "that model only (--set crnn.time_pool=4)")
        p.add_argument("--test-ids", help="comma list of track ids held out as the test split")
        p.add_argument("--val-ids", help="comma list of track ids used for validation")
        p.add_argument("--labels", default="auto", choices=["auto", "midi", "onsets", "segments"])
        p.add_argument("--epochs", type=int_at_least(1), default=30)
        p.add_argument("--patience", type=int_at_least(1), default=6)
        p.add_argument("--steps", type=int_at_least(1), default=100, help="batches per epoch")
        p.add_argument("--batch-size", type=int_at_least(1), default=16)
        p.add_argument("--crop", type=int_at_least(8), default=256, help="frames per training crop")
        p.add_argument("--lr", type=float_in(0, 10, open_lo=True), default=1e-3)
        p.add_argument("--schedule", choices=["constant", "cosine"], default="constant",
                       help="learning rate: constant, or a cosine down to 5%% over the epochs")
        p.add_argument("--ema", type=float_in(0, 1, open_hi=True), default=0.0, metavar="DECAY",
                       help="validate and save a moving average of the weights with this decay "
                            "per step (e.g. 0.99); 0 = the weights of the last step")
        p.add_argument("--thresholds", choices=["none", "global", "per-instrument"],
                       default="none",
                       help="post-processing chosen on the validation songs: a median filter, "
                            "and thresholds other than 0.5 if asked (default none)")
        p.add_argument("--seed", type=int_at_least(0), default=0)
        p.add_argument("--real-first", action="store_true",
                       help="a training size takes every real AAM song of the pool before any "
                            "generated one (default: all drawn at random)")
        p.add_argument("--no-augment", action="store_true",
                       help="train without mel shift, tilt and SpecAugment masks")
        p.add_argument("--remix-prob", type=float_in(0, 1), default=0.0,
                       help="share of training crops replaced by fresh remixes of the training "
                            "tracks' stems (needs folders with stems and MIDI)")
        p.add_argument("--sample-prob", type=float_in(0, 1), default=0.0,
                       help="share of training crops replaced by fresh note-sampler songs made "
                            "from the training tracks' stems and MIDI")
        p.add_argument("--init", type=Path, default=None,
                       help="start from this run's weights (pre-train, then fine-tune)")
        p.add_argument("--teacher", type=Path, default=None,
                       help="a run whose probabilities are soft targets (distillation)")
        p.add_argument("--distill-weight", type=float_in(0, 1), default=0.0,
                       help="share of the loss given to the teacher's targets")
        p.add_argument("--runs", type=Path, default=DEFAULT_RUNS)
        p.add_argument("--cache", type=Path, default=None)

    p = sub.add_parser("train", help="train one model")
    p.add_argument("--model", default="crnn", choices=list(TRAINABLE))
    p.add_argument("--train-size", type=int_at_least(1), default=None,
                   help="number of training tracks (default: all left after val and test)")
    p.add_argument("--name", help="run id (default MODEL-nSIZE-sSEED)")
    p.add_argument("--resume", help="continue the run in this folder")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a finished run of this name (kept as a backup until the new "
                        "one ends)")
    common(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sweep", help="train (and evaluate) every model at every training size")
    p.add_argument("--models", default="mlp,crnn")
    p.add_argument("--sizes", default="75,150,300", help="training sizes, e.g. 75,150,300")
    p.add_argument("--prefix", default="", help="prefix of the run ids")
    p.add_argument("--jobs", type=int_at_least(1), default=1,
                   help="runs trained at once, each in its own process with its share of cores")
    p.add_argument("--model-epochs", metavar="MODEL=N,...",
                   help="epochs of some models instead of --epochs, e.g. mlp=30,convtf=12 (a "
                        "small model affords more)")
    p.add_argument("--model-patience", metavar="MODEL=N,...",
                   help="patience of some models instead of --patience, e.g. mlp=12 (a longer "
                        "budget needs a longer wait)")
    p.add_argument("--overwrite", action="store_true",
                   help="retrain runs that have finished (each kept as a backup until its new "
                        "run ends); without it they are kept")
    p.add_argument("--evaluate", action="store_true", help="evaluate each run on its test split")
    p.add_argument("--plan", type=Path, metavar="FILE",
                   help="add the runs to this plan file instead of training them (instdet "
                        "train-plan trains every run of one or more sweeps in one pool)")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    common(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("train-plan", help="train every run of a plan file in one pool, "
                                          "costliest first")
    p.add_argument("plan", type=Path, help="written by instdet sweep --plan (or "
                                           "scripts/release.py --plan)")
    p.add_argument("--jobs", type=int_at_least(1), default=2,
                   help="runs trained at once, each in its own process with its share of cores")
    p.add_argument("--cache", type=Path, default=None)
    p.set_defaults(func=cmd_train_plan)

    p = sub.add_parser("evaluate", help="score runs and write their results")
    p.add_argument("run", type=Path, nargs="+", help="run folder(s)")
    p.add_argument("--data", action="append", type=Path, default=[])
    p.add_argument("--labels", default="auto", choices=["auto", "midi", "onsets", "segments"])
    p.add_argument("--ids", help="comma list of track ids to evaluate on")
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

    p = sub.add_parser("import-seed", help="the original project's MLP checkpoint as a run")
    p.add_argument("file", type=Path, help="a seed mlp_best_*.pth state_dict")
    p.add_argument("--train-size", type=int_at_least(1), required=True,
                   help="real AAM songs it was trained on (75, 150, 300)")
    p.add_argument("--epochs", type=int_at_least(1), required=True)
    p.add_argument("--instruments", type=Path,
                   help="its output names (default: global_instruments.json beside it)")
    p.add_argument("--name", help="run id (default seed-mlp-SIZE, -eEPOCHS unless 50)")
    p.add_argument("--runs", type=Path, default=DEFAULT_RUNS)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_import_seed)

    p = sub.add_parser("predict", help="which instruments play when, in an audio file")
    p.add_argument("run", type=Path)
    p.add_argument("audio", type=Path)
    p.add_argument("--out", type=output_file, help="CSV of active instruments per frame")
    p.set_defaults(func=cmd_predict)
