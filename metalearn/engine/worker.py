"""The worker process of a queued run: `python -m metalearn.engine.worker --run ID`.

Started by `JobManager` in its own session. It waits for a free slot on the run's device (first
come, first served), trains and tests the run (from its checkpoint with `--resume`), and logs
progress lines to the run's log; a stop while queued ends it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable

from metalearn.config import ConfigError
from metalearn.engine.jobs import max_runs, share_cpu
from metalearn.engine.trackers import Mirrors
from metalearn.engine.validate import stored
from metalearn.store import NoSuchRun, Store

log = logging.getLogger(__name__)


def run_worker(store: Store, run_id: str, resume: bool = False) -> None:
    """Waits for a slot, then runs `run_id` to its end.

    Raises:
        NoSuchRun: no run has this id.
        ConfigError, DataError: the run cannot run (it is marked failed first).
    """
    from metalearn.engine.device import describe_device, resolve_device
    from metalearn.engine.run import execute

    run = store.get_run(run_id)
    if run is None:
        raise NoSuchRun(run_id)
    cfg = stored(run["config"])
    try:
        device = describe_device(resolve_device(cfg.device))
    except ConfigError as err:
        store.finish_run(run_id, "failed", error=str(err))
        raise
    share_cpu(device)
    store.set_worker(run_id, os.getpid(), device)
    log.info("run %s queued for %s", run_id, device)
    while not store.try_start(run_id, device, max_runs(device)):
        if store.stop_requested(run_id):
            store.finish_run(run_id, "stopped", error="stopped while queued")
            return
        store.heartbeat(run_id)
        time.sleep(0.5)
    log.info("run %s started: %s on %s", run_id, cfg.algorithm, cfg.dataset)
    mirrors = Mirrors.open(run_id, store)
    line = progress_logger(cfg)

    def progress(step: int, values: dict[str, float]) -> None:
        line(step, values)
        mirrors.log(step, values)

    status = "failed"
    try:
        result = execute(
            cfg,
            store,
            run_id,
            resume=resume,
            progress=progress,
            should_stop=lambda: store.stop_requested(run_id),
        )
        status = (store.get_run(run_id) or {}).get("status", "completed")
    finally:
        mirrors.close(status)
    log.info("run %s finished: %s", run_id, json.dumps(result, sort_keys=True))


def progress_logger(cfg) -> Callable[[int, dict[str, float]], None]:
    """The progress line a run logs at each log point ("episode 40/600 loss=1.2 ...")."""

    def progress(step: int, values: dict[str, float]) -> None:
        text = " ".join(f"{k}={v:.4g}" for k, v in values.items())
        log.info("episode %d/%d %s", step, cfg.episodes, text)

    return progress


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metalearn.engine.worker", description=__doc__)
    parser.add_argument("--home", help="runs directory (default $METALEARN_HOME or ./runs)")
    parser.add_argument("--run", required=True, help="the queued run's id")
    parser.add_argument("--resume", action="store_true", help="continue from its checkpoint")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    from metalearn.data import DataError

    try:
        run_worker(Store(args.home), args.run, resume=args.resume)
    except (ConfigError, DataError, NoSuchRun) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
