"""`python -m metalearn`: train, eval, runs, predict. Bad input exits with code 2 and a message."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from metalearn.config import ConfigError, RunConfig

log = logging.getLogger("metalearn")

# CLI flag -> RunConfig field, for flags that map one to one.
TRAIN_FLAGS: dict[str, tuple[type, str]] = {
    "algorithm": (str, "registered algorithm name"),
    "dataset": (str, "dataset name"),
    "data_root": (str, "folder holding the dataset files (default $METALEARN_DATA or ./data)"),
    "n_way": (int, "classes per test episode"),
    "n_shot": (int, "labelled examples per class in a test episode"),
    "n_query": (int, "query examples per class in a test episode"),
    "train_way": (int, "classes per training episode (default: n_way)"),
    "train_shot": (int, "support examples per class in training (default: n_shot)"),
    "train_query": (int, "query examples per class in training (default: n_query)"),
    "episodes": (int, "training episodes"),
    "meta_batch": (int, "episodes per update"),
    "lr": (float, "learning rate"),
    "lr_decay_every": (int, "episodes between halvings of the learning rate (0: constant)"),
    "backbone": (str, "conv4 | simple_cnn | resnet12"),
    "image_size": (int, "resize images to this side"),
    "head": (str, "finetune head: linear (Baseline) | cosine (Baseline++)"),
    "batch_size": (int, "finetune pre-training batch size"),
    "finetune_epochs": (int, "finetune passes over the support set"),
    "finetune_lr": (float, "finetune head learning rate"),
    "finetune_mode": (str, "episodic | seed (the CIFAR-10 transfer pipeline)"),
    "inner_lr": (float, "MAML-style inner-loop step size"),
    "inner_steps": (int, "inner steps in training"),
    "inner_steps_test": (int, "inner steps at test time"),
    "maml_path": (str, "auto | vmap | loop | threads (how a meta-batch is computed)"),
    "precision": (str, "auto | fp32 | bf16 (feature network; auto = bf16 on CUDA)"),
    "eval_episodes": (int, "seeded test episodes"),
    "val_every": (int, "episodes between validation passes (0: none)"),
    "val_episodes": (int, "episodes per validation pass"),
    "log_every": (int, "episodes between logged points"),
    "checkpoint_every": (int, "episodes between checkpoints"),
    "max_seconds": (float, "training time budget in seconds (ends early when spent)"),
    "seed": (int, "random seed"),
    "device": (str, "auto | cpu | cuda | mps"),
}


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
    for name, (kind, text) in TRAIN_FLAGS.items():
        train.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)
    train.add_argument(
        "--first-order",
        dest="first_order",
        action="store_const",
        const=True,
        help="first-order MAML (no second derivatives)",
    )
    train.add_argument("--config", help="a RunConfig JSON file; flags override its values")
    train.add_argument("--resume", metavar="RUN_ID", help="continue a run from its checkpoint")
    train.add_argument("--download", action="store_true", help="fetch the dataset if missing")
    train.add_argument("--json", action="store_true", help="print the result as one JSON line")
    train.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    ev = sub.add_parser("eval", help="re-test a run from its checkpoint")
    ev.add_argument("--run", required=True)
    ev.add_argument("--eval-episodes", type=int)
    ev.add_argument("--n-way", type=int, help="test on episodes of this many classes instead")
    ev.add_argument("--n-shot", type=int, help="test with this many support images instead")
    ev.add_argument("--json", action="store_true")

    be = sub.add_parser("bench", help="training-step throughput: product vs a plain loop")
    for name in (
        "algorithm",
        "dataset",
        "data_root",
        "n_way",
        "n_shot",
        "n_query",
        "meta_batch",
        "inner_steps",
        "device",
        "backbone",
        "batch_size",
        "train_way",
        "train_query",
        "precision",
        "maml_path",
    ):
        kind, text = TRAIN_FLAGS[name]
        be.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)
    be.add_argument("--first-order", dest="first_order", action="store_const", const=True)
    be.add_argument("--steps", type=int, default=10, help="timed updates (after 6 warm-up ones)")
    be.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best counts")
    be.add_argument("--json", action="store_true", help="one JSON object per line")

    wk = sub.add_parser("worker", help="run a queued run (started by the dashboard)")
    wk.add_argument("--run", required=True)
    wk.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")

    runs = sub.add_parser("runs", help="list runs")
    runs.add_argument("--json", action="store_true")

    pr = sub.add_parser("predict", help="classify your own images with a trained run")
    pr.add_argument("--run", required=True)
    pr.add_argument("--support", required=True, help="folder with one sub-folder per class")
    pr.add_argument("--query", required=True, help="folder of images to classify")
    pr.add_argument("--json", action="store_true")
    return parser


def config_from_args(args: argparse.Namespace) -> RunConfig:
    data: dict[str, Any] = {}
    if args.config:
        try:
            with open(args.config) as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as err:
            raise ConfigError([f"--config {args.config}: cannot read it as JSON ({err})"]) from err
    for name in [*TRAIN_FLAGS, "first_order"]:
        value = getattr(args, name)
        if value is not None:
            data[name] = value
    from metalearn.algorithms import ALGORITHMS

    algo = ALGORITHMS.get(data.get("algorithm", RunConfig.algorithm))
    if algo is not None:  # the algorithm's own starting values, where the user gave none
        data = {**algo.defaults, **data}
    return RunConfig.from_dict(data)


def cmd_train(args, store) -> int:
    from metalearn.engine.run import execute

    if args.resume:
        run = store.get_run(args.resume)
        if run is None:
            raise ConfigError([f"--resume {args.resume}: no such run"])
        cfg, run_id = RunConfig.from_dict(run["config"]), args.resume
    else:
        cfg = config_from_args(args)
        if args.download:
            _download(cfg)
        cfg.validate()
        run_id = store.create_run(cfg.to_json())
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

    def progress(step: int, values: dict[str, float]) -> None:
        if bar is not None:
            bar.update(step - bar.n)
            bar.set_postfix(
                {k: f"{v:.3f}" for k, v in values.items() if "accuracy" in k or k == "loss"}
            )

    try:
        result = execute(cfg, store, run_id, resume=bool(args.resume), progress=progress)
    finally:
        if bar is not None:
            bar.close()
    _emit(result, args.json)
    return 0


def _download(cfg: RunConfig) -> None:
    if cfg.dataset == "omniglot":
        from metalearn.data.omniglot import download

        download(cfg.data_root)
    elif cfg.dataset in ("cifar10", "cifar-fs"):
        from metalearn.data.cifar import download

        download(cfg.data_root, cfg.dataset)


def cmd_worker(args, store) -> int:
    from metalearn.engine.jobs import run_worker

    logging.getLogger().setLevel(logging.INFO)  # progress lines go to the run's log file
    run_worker(store, args.run, resume=args.resume)
    return 0


def cmd_bench(args, store) -> int:
    from metalearn.engine.bench import bench

    data = {k: v for k, v in vars(args).items() if k in TRAIN_FLAGS or k == "first_order"}
    cfg = RunConfig.from_dict({k: v for k, v in data.items() if v is not None})
    if cfg.algorithm == "maml" and args.meta_batch is None:
        cfg.meta_batch = 4
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

    JobManager(store.home).reap()  # runs whose worker died show as lost, not running
    runs = store.list_runs()
    if args.json:
        for r in runs:
            print(json.dumps(r, sort_keys=True))
        return 0
    for r in runs:
        res = r["result"] or {}
        acc = (
            f"{res['test_accuracy']:.4f} ± {res['test_ci95']:.4f}" if "test_accuracy" in res else ""
        )
        cfg = r["config"]
        print(
            f"{r['id']}  {r['status']:<9}  {cfg['algorithm']:<10} {cfg['dataset']:<9} "
            f"{cfg['n_way']}-way {cfg['n_shot']}-shot  {acc}"
        )
    return 0


def cmd_eval(args, store) -> int:
    from metalearn.engine.run import evaluate_run

    result = evaluate_run(store, args.run, args.eval_episodes, n_way=args.n_way, n_shot=args.n_shot)
    _emit(result, args.json)
    return 0


def cmd_predict(args, store) -> int:
    from metalearn.engine.predict import predict_folder

    _emit(predict_folder(store, args.run, args.support, args.query), args.json)
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
    from metalearn.store import Store

    commands = {
        "train": cmd_train,
        "runs": cmd_runs,
        "eval": cmd_eval,
        "predict": cmd_predict,
        "worker": cmd_worker,
        "bench": cmd_bench,
    }
    try:
        store = Store(args.home)
        return commands[args.command](args, store)
    except (ConfigError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
