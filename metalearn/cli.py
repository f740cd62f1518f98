"""`python -m metalearn`: train, sweep, eval, runs, predict. Bad input exits with code 2."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metalearn import catalog
from metalearn.config import SPEC, ConfigError
from metalearn.engine.sweep import AXES, EXECUTORS
from metalearn.engine.trackers import TRACKING, tracking_env
from metalearn.settings import Setting
from metalearn.store import NoSuchRun

if TYPE_CHECKING:
    from metalearn.engine.sweep import SweepPlan

log = logging.getLogger("metalearn")


def all_settings() -> dict[str, tuple[Setting, list[str]]]:
    """Every declared setting once: the run spec's, then each algorithm's hyperparameters, with
    the algorithms that read it (a flag's help names them)."""
    out: dict[str, tuple[Setting, list[str]]] = {name: (s, []) for name, s in SPEC.items()}
    for algo in catalog.algorithms().values():
        for s in algo.settings:
            out.setdefault(s.name, (s, []))[1].append(algo.name)
    return out


def add_setting_flags(parser: argparse.ArgumentParser, many: dict[str, str] | None = None) -> None:
    """One flag per declared setting (`--n-way`, `--inner-lr`, `--first-order/--no-first-order`),
    its help from the declaration; a flag left out keeps the default (None here).

    Args:
        many: settings that take a list of values here (a sweep's axes), with their flag.
    """
    many = many or {}
    spec = parser.add_argument_group("run spec")
    hyper = parser.add_argument_group("hyperparameters (each read by the algorithms named)")
    registered = {"algorithm": catalog.algorithms(), "dataset": catalog.datasets()}
    for name, (s, readers) in all_settings().items():
        group = hyper if readers else spec
        text = s.describe() + (f" [{', '.join(readers)}]" if readers else "")
        if name in registered:  # the spec's two names: list what is registered
            text += f"; one of: {', '.join(registered[name])}"
        text = text.replace("%", "%%")
        if name in many:
            group.add_argument(
                many[name], dest=name, type=s.type, nargs="+", help=f"one or more: {text}"
            )
        elif s.type is bool:
            group.add_argument(s.flag, dest=name, action=argparse.BooleanOptionalAction, help=text)
        else:
            group.add_argument(s.flag, dest=name, type=s.type, help=text, metavar=name.upper())


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own exit code is 2 as well; keep its wording
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m metalearn", description=__doc__)
    parser.add_argument("--home", help="runs directory (default $METALEARN_HOME or ./runs)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    train = sub.add_parser("train", help="train and test one run")
    add_setting_flags(train)
    train.add_argument("--config", help="a RunConfig JSON file; flags override its values")
    train.add_argument("--resume", metavar="RUN_ID", help="continue a run from its checkpoint")
    train.add_argument("--download", action="store_true", help="fetch the dataset if missing")
    train.add_argument("--json", action="store_true", help="print the result as one JSON line")
    train.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    train.add_argument("--name", help="a name for the run, shown wherever it is listed")
    train.add_argument("--note", help="a note on the run (what it is for, what to look at)")

    ev = sub.add_parser("eval", help="re-test a run from its checkpoint")
    ev.add_argument("--run", required=True)
    ev.add_argument("--eval-episodes", type=positive_int)
    ev.add_argument("--n-way", type=positive_int, help="test on episodes of this many classes")
    ev.add_argument("--n-shot", type=positive_int, help="test with this many support images")
    ev.add_argument(
        "--support-finetune-steps",
        type=int,
        help="P>M>F's test-time stage: tune a copy of the network this many steps on each test "
        "task's support set first (0: none; default: as the run was trained)",
    )
    ev.add_argument(
        "--support-finetune-lr",
        type=float,
        help="the step size of that tuning (default: as the run was trained)",
    )
    ev.add_argument("--json", action="store_true")

    be = sub.add_parser("bench", help="training-step throughput: product vs a plain loop")
    add_setting_flags(be)
    be.add_argument(
        "--steps", type=positive_int, default=10, help="timed updates (after 6 warm-up ones)"
    )
    be.add_argument(
        "--rounds", type=positive_int, default=3, help="interleaved rounds; the best counts"
    )
    be.add_argument("--json", action="store_true", help="one JSON object per line")

    sw = sub.add_parser(
        "sweep", help="a grid of runs (algorithms x seeds x shots ...) launched as one group"
    )
    add_setting_flags(sw, many=AXES)
    sw.add_argument("--grid", help="a JSON grid file {name, axes, settings}; flags add to it")
    sw.add_argument("--name", help="a name for the sweep")
    sw.add_argument("--executor", choices=EXECUTORS, help="local worker processes (default) or ray")
    sw.add_argument(
        "--ray-address",
        help="Ray cluster: auto or ray://host:port (default $METALEARN_RAY_ADDRESS, "
        "else a local Ray started for the sweep)",
    )
    sw.add_argument("--cpus-per-run", type=float, help="Ray: CPUs each run asks for (default 1)")
    sw.add_argument(
        "--gpus-per-run", type=float, help="Ray: share of a GPU each run asks for (default 0.25)"
    )
    sw.add_argument("--stop", metavar="SWEEP_ID", help="stop every run of a sweep")
    sw.add_argument("--resume", metavar="SWEEP_ID", help="run a sweep's unfinished runs again")
    sw.add_argument("--no-wait", action="store_true", help="launch, print the ids, return")
    sw.add_argument("--json", action="store_true", help="print the sweep as one JSON line")
    for parser_ in (train, sw):
        add_tracking_flags(parser_)

    doc = sub.add_parser("doctor", help="check the run store; restore its backup if damaged")
    doc.add_argument("--restore", action="store_true", help="replace it by its last backup")

    runs = sub.add_parser("runs", help="list runs")
    runs.add_argument("--json", action="store_true")

    pr = sub.add_parser(
        "predict",
        help="classify your own images or sentences with a trained run, or images with the "
        "pretrained network and no training (--pretrained)",
    )
    model = pr.add_mutually_exclusive_group(required=True)
    model.add_argument("--run", help="a completed run's id")
    model.add_argument(
        "--pretrained",
        action="store_true",
        help="images only: EfficientNet-Lite0 pretrained on ImageNet, no trained run; each "
        "query goes to the class whose examples' mean features are nearest (cosine)",
    )
    pr.add_argument(
        "--support",
        required=True,
        help="images: a folder with one sub-folder per class; text: a .csv (columns text, "
        "label) or .json ([text, label] pairs) of labelled utterances",
    )
    pr.add_argument(
        "--query",
        required=True,
        help="images: a folder of images; text: a .csv or .json of utterances (labels optional)",
    )
    pr.add_argument("--json", action="store_true")

    vs = sub.add_parser(
        "versus", help="a run's error on seeded 20-way one-shot trials (Lake et al. 2015 style)"
    )
    vs.add_argument("--run", required=True, help="a completed run trained on drawings")
    vs.add_argument("--trials", type=positive_int, default=400, help="how many trials (400)")
    vs.add_argument("--seed", type=int, default=0, help="the trial set's seed (0)")
    vs.add_argument("--data-root", help="where omniglot-py/ is (default: the run's data root)")
    vs.add_argument("--json", action="store_true")

    nm = sub.add_parser("name", help="give a run a name and a note (shown wherever it is listed)")
    nm.add_argument("run_id", metavar="RUN_ID")
    nm.add_argument("name", metavar="NAME", help='the name ("" clears it)')
    nm.add_argument("--note", help="a note on the run")

    rp = sub.add_parser(
        "report", help="write a comparison report of runs: one HTML file that opens offline"
    )
    rp.add_argument("run_ids", metavar="RUN_ID", nargs="+")
    rp.add_argument("-o", "--output", required=True, help="the file to write (.html)")

    ex = sub.add_parser(
        "export", help="write a completed run as one file (checkpoint, config, result, curves)"
    )
    ex.add_argument("run_id", metavar="RUN_ID")
    ex.add_argument("-o", "--output", required=True, help="the file to write (.metalearn.zip)")
    im = sub.add_parser("import", help="add a run exported by `metalearn export` to this store")
    im.add_argument("file", metavar="FILE")
    im.add_argument("--json", action="store_true", help='print {"run_id": ...}')
    return parser


def add_tracking_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("mirrors of the metrics (off unless given)")
    for s in TRACKING:
        group.add_argument(s.flag, dest=s.name, help=s.describe(), metavar=s.name.upper())


def switch_on_tracking(args: argparse.Namespace) -> dict[str, str]:
    """The tracking flags given, as the environment the runs' processes inherit."""
    env = tracking_env({s.name: getattr(args, s.name, None) for s in TRACKING})
    os.environ.update(env)
    return env


CONFIG_LIMIT = 1 << 20  # bytes: a settings file is a few hundred


def read_config_file(name: str) -> Any:
    """The JSON value of a --config file: a regular file of at most `CONFIG_LIMIT` bytes of
    UTF-8 JSON (no device, FIFO or endless stream is read).

    Raises:
        ConfigError: anything else, said plainly.
    """
    path = Path(name)
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a regular file"
        raise ConfigError([f"--config {name}: {what}; give a JSON file of settings"])
    try:
        with open(path, "rb") as f:
            raw = f.read(CONFIG_LIMIT + 1)
        if len(raw) > CONFIG_LIMIT:
            raise ConfigError([f"--config {name}: larger than {CONFIG_LIMIT} bytes"])
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"--config {name}: not UTF-8 text"]) from None
    except (OSError, ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
        text = "nested too deeply" if isinstance(err, RecursionError) else str(err)[:200]
        raise ConfigError([f"--config {name}: cannot read it as JSON ({text})"]) from None


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings a user gave: a --config file's, then the flags' (which win)."""
    data: dict[str, Any] = {}
    if getattr(args, "config", None):
        data = read_config_file(args.config)
        if not isinstance(data, dict):
            raise ConfigError([f"--config {args.config}: must hold a JSON object of settings"])
    for name in all_settings():
        value = getattr(args, name, None)
        if value is not None:
            data[name] = value
    return data


def claim_resume(args, store):
    """The stored configuration of the run `--resume` names, claimed for this process (the
    same atomic claim as the dashboard's Resume button).

    Raises:
        ConfigError: settings given beside --resume, no checkpoint, or a run that may not be
            resumed (completed, or active in another process).
    """
    from metalearn.engine.jobs import pid_alive
    from metalearn.engine.validate import stored
    from metalearn.store import ResumeRefused

    given = sorted(n for n in all_settings() if getattr(args, n, None) is not None)
    if given or args.config:
        flags = [f"--{n.replace('_', '-')}" for n in given] + (["--config"] if args.config else [])
        raise ConfigError(
            [
                f"--resume continues run {args.resume} with its own settings; drop "
                f"{', '.join(flags)} (or launch a new run with them)"
            ]
        )
    run = store.get_run(args.resume)
    if run is None:
        raise NoSuchRun(args.resume)
    if not store.has_artifact(args.resume, "checkpoint"):
        raise ConfigError([f"run {args.resume} has no checkpoint yet; launch it again instead"])
    try:
        store.claim_resume(args.resume, pid_alive)
    except ResumeRefused as err:
        raise ConfigError([str(err)]) from None
    return stored(run["config"])


def cmd_train(args, store) -> int:
    from metalearn.engine.kinds import kind_of
    from metalearn.engine.run import execute
    from metalearn.engine.trackers import Mirrors
    from metalearn.engine.validate import make_config, notices, validate

    if args.resume:
        cfg, run_id = claim_resume(args, store), args.resume
    else:
        cfg = make_config(given_settings(args))
        if args.download:
            from metalearn.data import DATASETS

            if cfg.dataset in DATASETS:  # generated tasks have nothing to fetch
                DATASETS[cfg.dataset].download(cfg.data_root)
        cfg = validate(cfg)
        for notice in notices(cfg):
            print(f"note: {notice}", file=sys.stderr)
        try:
            run_id = store.create_run(cfg.to_json(), name=args.name, note=args.note)
        except ValueError as err:  # a name too long, or on two lines
            raise ConfigError([str(err)]) from None
    shown = ("loss", *kind_of(cfg).curves)
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(
            total=cfg.episodes,
            desc=f"{cfg.algorithm} {run_id}",
            file=sys.stderr,
            unit="ep",
            dynamic_ncols=True,
        )

    switch_on_tracking(args)
    mirrors = Mirrors.open(run_id, store)

    testing = loading = None  # the test's and a slow first load's own bars

    def progress(step: int, values: dict[str, float]) -> None:
        nonlocal testing, loading
        mirrors.log(step, values)
        if bar is None:
            return
        if "load_done" in values:  # images decoded, or the pretrained network's features
            if loading is None:
                from tqdm import tqdm

                total = int(values.get("load_total", 0)) or None
                loading = tqdm(total=total, desc="reading images", file=sys.stderr, unit="img")
            loading.update(int(values["load_done"]) - loading.n)
            return
        if "test_done" in values:
            if testing is None:
                from tqdm import tqdm

                unit = {"episodes": "ep", "tasks": "task"}.get(kind_of(cfg).unit, "")
                testing = tqdm(total=cfg.eval_episodes, desc="testing", file=sys.stderr, unit=unit)
            testing.update(int(values["test_done"]) - testing.n)
            return
        bar.update(step - bar.n)
        bar.set_postfix({k: f"{v:.3f}" for k, v in values.items() if k in shown})

    try:
        result = execute(cfg, store, run_id, resume=bool(args.resume), progress=progress)
    finally:
        mirrors.close((store.get_run(run_id) or {}).get("status", "failed"))
        for b in (bar, loading, testing):
            if b is not None:
                b.close()
    store.backup()
    _emit(result, args.json)
    return 0


def sweep_plan(args: argparse.Namespace) -> SweepPlan:
    """The grid the flags (and a --grid file, which they add to) describe."""
    from metalearn.engine.sweep import SweepPlan

    plan = SweepPlan.from_dict(read_config_file(args.grid)) if args.grid else SweepPlan()
    for name, value in given_settings(args).items():
        if name in AXES:
            plan.axes[name] = list(value)
        else:
            plan.settings[name] = value
    plan.name = args.name or plan.name
    plan.executor = args.executor or plan.executor
    options = {"address": args.ray_address, "cpus_per_run": args.cpus_per_run}
    options["gpus_per_run"] = args.gpus_per_run
    plan.ray.update({k: v for k, v in options.items() if v is not None})
    plan.tracking.update(
        {s.name: getattr(args, s.name) for s in TRACKING if getattr(args, s.name, None)}
    )
    return plan


def cmd_sweep(args, store) -> int:
    """Launches a grid (or stops / resumes one) and, unless --no-wait, waits for its runs,
    printing each as it ends; Ctrl-C stops the sweep. Exit 0 when every run completed."""
    from metalearn.engine.jobs import JobManager
    from metalearn.engine.sweep import sweep_rows, wait_for

    jobs = JobManager(store.home)
    if args.stop:
        if store.get_sweep(args.stop) is None:
            raise NoSuchRun(args.stop)
        stopped = jobs.stop_group(args.stop)
        print(f"asked {len(stopped)} runs of {args.stop} to stop", file=sys.stderr)
        return 0
    if args.resume:
        try:
            run_ids, sweep_id = jobs.resume_sweep(args.resume), args.resume
        except ValueError as err:
            raise ConfigError([str(err)]) from None
    else:
        plan = sweep_plan(args)
        if not plan.axes:
            raise ConfigError(
                [
                    "a sweep needs at least one axis: --algorithms, --seeds, --n-shot, --n-way, "
                    "--dataset or --backbone with one or more values"
                ]
            )
        sweep_id, run_ids = jobs.launch_sweep(plan)
    print(f"sweep {sweep_id}: {len(run_ids)} runs", file=sys.stderr)
    if not args.no_wait:

        def ended(run: dict) -> None:
            res = run["result"] or {}
            value = res.get("test_accuracy", res.get("test_mse"))
            print(
                f"  {run['id']} {run['status']}" + (f" {value:.4f}" if value is not None else ""),
                file=sys.stderr,
            )

        try:
            wait_for(store, run_ids, jobs.reap, on_change=ended)
        except KeyboardInterrupt:
            print(f"stopping sweep {sweep_id} ...", file=sys.stderr)
            jobs.stop_group(sweep_id)
            wait_for(store, run_ids, jobs.reap)
    rows = sweep_rows(store, sweep_id)
    if args.json:
        print(json.dumps({"sweep_id": sweep_id, "runs": rows}, sort_keys=True))
    else:
        for r in rows:
            value = "" if r["value"] is None else f"{r['value']:.4f} ± {r['ci95']:.4f}"
            print(
                f"{r['run_id']}  {r['status']:<9} {r['algorithm']:<10} seed {r['seed']:<3} "
                f"{r['n_way']}-way {r['n_shot']}-shot  {r['metric']} {value}"
            )
    done = all(r["status"] == "completed" for r in rows)
    return 0 if done or args.no_wait else 1


def cmd_bench(args, store) -> int:
    from metalearn.engine.bench import bench
    from metalearn.engine.validate import make_config

    data = given_settings(args)
    algo = catalog.algorithms().get(str(data.get("algorithm", SPEC["algorithm"].default)))
    if algo is not None:  # e.g. the MAML family times its meta-batch paths on 4 tasks
        data = {**algo.bench_defaults, **data}
    cfg = make_config(data)
    rows = bench(cfg, steps=args.steps, rounds=max(1, args.rounds))
    for row in rows:
        print(
            json.dumps(row)
            if args.json
            else f"{row['algorithm']:<10} {row['variant']:<8} {row['device']:<8} meta-batch "
            f"{row['meta_batch']:>3}: {row['tasks_per_second']:.1f} tasks/s"
        )
    if "ratio_vs_loop" in rows[0]:
        print(f"product / loop = {rows[0]['ratio_vs_loop']:.2f}", file=sys.stderr)
    return 0


def cmd_runs(args, store) -> int:
    from metalearn.engine.jobs import JobManager
    from metalearn.engine.records import RunRecord

    JobManager(store.home).reap()  # runs whose worker died show as lost, not running
    runs = store.list_runs()
    if args.json:
        for r in runs:
            print(json.dumps(r, sort_keys=True))
        return 0
    for r in map(RunRecord.from_row, runs):
        spec = r.spec
        named = f"  [{r.row['name']}]" if r.row.get("name") else ""
        print(
            f"{r.id}  {r.status:<9}  {spec.algorithm:<10} {spec.dataset:<9} "
            f"{r.kind.shape_label(r.row['config']):<8}  {r.summary()}{named}"
        )
    return 0


def cmd_name(args, store) -> int:
    row = store.get_run(args.run_id)
    if row is None:
        raise NoSuchRun(args.run_id)
    note = row["note"] if args.note is None else args.note  # kept unless given
    try:
        store.name_run(args.run_id, args.name, note)
    except ValueError as err:
        raise ConfigError([str(err)]) from None
    print(f"run {args.run_id}: " + (f"named {args.name!r}" if args.name else "name cleared"))
    return 0


def cmd_doctor(args) -> int:
    """Checks the store (SQLite's quick check, every row); with --restore puts the last
    rolling backup in place of a damaged database. Exit 0: sound; 2: damaged."""
    from metalearn.store import Store, StoreError, restore_backup

    if args.restore:
        kept = restore_backup(args.home)
        print(f"restored the last backup; the damaged database is kept as {kept.name}")
    try:
        store = Store(args.home)
    except StoreError as err:
        print(f"damaged: {err}", file=sys.stderr)
        return 2
    problems = store.check()
    rebuilt = store.rebuild_from_folders()
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    if rebuilt:
        print(f"re-indexed {len(rebuilt)} runs from their folders: {', '.join(rebuilt)}")
    print(f"{len(store.list_runs())} runs readable; " + ("damaged" if problems else "sound"))
    return 2 if problems else 0


def cmd_eval(args, store) -> int:
    from metalearn.engine.run import evaluate_run

    result = evaluate_run(
        store,
        args.run,
        args.eval_episodes,
        n_way=args.n_way,
        n_shot=args.n_shot,
        support_finetune_steps=args.support_finetune_steps,
        support_finetune_lr=args.support_finetune_lr,
    )
    _emit(result, args.json)
    return 0


def cmd_predict(args, store) -> int:
    from metalearn.data import DataError
    from metalearn.engine.own_task import PRETRAINED_MODEL
    from metalearn.engine.predict import predict_folder, predict_text_files

    text = Path(args.support).suffix.lower() in (".csv", ".json")
    if text and args.pretrained:
        raise DataError(
            "--pretrained classifies images (a support folder with one sub-folder per class); "
            "for sentences, give a run trained on text (--run)"
        )
    predict = predict_text_files if text else predict_folder
    run = PRETRAINED_MODEL if args.pretrained else args.run
    _emit(predict(store, run, args.support, args.query), args.json)
    return 0


def cmd_versus(args, store) -> int:
    from metalearn.engine.versus import model_error

    _emit(model_error(store, args.run, args.trials, args.seed, args.data_root), args.json)
    return 0


def cmd_export(args, store) -> int:
    from metalearn.engine.portable import export_run

    out = Path(args.output)
    if out.is_dir():
        raise ConfigError([f"-o {args.output} is a folder; give a file name"])
    from metalearn.data import DataError

    tmp = out.with_name(out.name + ".partial")
    try:
        export_run(store, args.run_id, tmp)
        tmp.replace(out)  # a failed export leaves no half-written file under the name
    except OSError as err:
        raise DataError(f"cannot write {out}: {err.strerror or err}") from None
    finally:
        tmp.unlink(missing_ok=True)
    print(f"exported run {args.run_id} to {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_report(args, store) -> int:
    from metalearn.data import DataError
    from metalearn.engine.report import comparison_report

    out = Path(args.output)
    if out.is_dir():
        raise ConfigError([f"-o {args.output} is a folder; give a file name"])
    page = comparison_report(store, args.run_ids)
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as err:
        raise DataError(f"cannot write {out}: {err.strerror or err}") from None
    print(f"wrote the report of {len(set(args.run_ids))} runs to {out}")
    return 0


def cmd_import(args, store) -> int:
    from metalearn.engine.portable import import_run

    run_id = import_run(store, args.file)
    print(json.dumps({"run_id": run_id}) if args.json else run_id)
    return 0


def _emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, sort_keys=True))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from metalearn.data import DataError
    from metalearn.engine.trainer import DiskFull, Diverged
    from metalearn.store import Store, StoreError, damaged, store_file

    commands = {
        "train": cmd_train,
        "runs": cmd_runs,
        "eval": cmd_eval,
        "predict": cmd_predict,
        "bench": cmd_bench,
        "sweep": cmd_sweep,
        "versus": cmd_versus,
        "export": cmd_export,
        "name": cmd_name,
        "report": cmd_report,
        "import": cmd_import,
    }
    try:
        if args.command == "doctor":  # works on a store that does not open
            return cmd_doctor(args)
        store = Store(args.home)
        return commands[args.command](args, store)
    except sqlite3.DatabaseError as err:  # damage found past the opening check, or a lock
        busy = isinstance(err, sqlite3.OperationalError) and "locked" in str(err)
        text = (
            "the run store stayed locked by another process for 30 s; try again"
            if busy
            else (damaged(store_file(args.home), err))
        )
        print(f"error: {text}", file=sys.stderr)
        return 2
    except (DiskFull, Diverged) as err:  # the run is marked failed with the same words
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (ConfigError, DataError, NoSuchRun, StoreError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
