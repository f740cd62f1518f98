"""Mirrors of a run's metrics in the trackers people already use: TensorBoard event files
(`torch.utils.tensorboard`) and an MLflow tracking store (a local folder or a server URI).

Off unless switched on, by the settings below (`--tensorboard-dir`, `--mlflow-uri` on `train`
and `sweep`, the Sweep form, or their environment variables, which worker processes and the Ray
driver inherit). The run store stays the one truth: each mirror receives exactly the metric rows
the store commits, where it commits them (the worker process, or the Ray driver for Ray runs),
and a mirror that fails logs a warning and never fails the run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from metalearn.settings import Setting

log = logging.getLogger(__name__)

TENSORBOARD_DIR = Setting(
    "tensorboard_dir",
    str,
    None,
    "TensorBoard folder",
    "mirror each run's metrics as TensorBoard event files in <folder>/<run id> (None: off)",
    optional=True,
)
MLFLOW_URI = Setting(
    "mlflow_uri",
    str,
    None,
    "MLflow tracking URI",
    "mirror each run's metrics to this MLflow store: a folder, file:/path or http://server "
    "(None: off)",
    optional=True,
)
TRACKING = (TENSORBOARD_DIR, MLFLOW_URI)
EXPERIMENT = "metalearn"


def env_name(setting: Setting) -> str:
    """The environment variable that carries a tracking setting to workers."""
    return "METALEARN_" + setting.name.upper()


def tracking_env(values: dict[str, Any]) -> dict[str, str]:
    """The environment entries for the tracking settings given (empty values switch off)."""
    return {env_name(s): str(values[s.name]) for s in TRACKING if values.get(s.name)}


class Mirrors:
    """The mirrors of one run: `log` each committed metric row, `close` at its end."""

    def __init__(self, run_id: str, config: dict[str, Any] | None):
        self.run_id = run_id
        self.writer = None
        self.mlflow = None
        self.mlflow_run = None
        tb_dir = os.environ.get(env_name(TENSORBOARD_DIR))
        uri = os.environ.get(env_name(MLFLOW_URI))
        if tb_dir:
            self._guard("TensorBoard", self._open_tensorboard, Path(tb_dir) / run_id)
        if uri:
            self._guard("MLflow", self._open_mlflow, uri, config or {})

    @classmethod
    def open(cls, run_id: str, store: Any) -> Mirrors:
        """The mirrors of a run of `store` (its configuration names the MLflow run's params)."""
        run = store.get_run(run_id) if hasattr(store, "get_run") else None
        return cls(run_id, run["config"] if run else None)

    def _guard(self, what: str, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as err:  # a tracker's failure never fails the run
            log.warning("%s mirror of run %s: %s", what, self.run_id, err)

    def _open_tensorboard(self, folder: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(folder))

    def _open_mlflow(self, uri: str, config: dict[str, Any]) -> None:
        if "://" not in uri:  # a local folder: MLflow's file store, asked for by name
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            uri = Path(uri).expanduser().resolve().as_uri()
        elif uri.startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        exp = client.get_experiment_by_name(EXPERIMENT)
        exp_id = exp.experiment_id if exp else client.create_experiment(EXPERIMENT)
        tags = {"metalearn.run_id": self.run_id}
        run = client.create_run(exp_id, run_name=self.run_id, tags=tags)
        flat = {k: v for k, v in config.items() if k != "hyper"} | config.get("hyper", {})
        for key, value in sorted(flat.items()):
            client.log_param(run.info.run_id, key, str(value)[:500])
        self.mlflow, self.mlflow_run = client, run.info.run_id

    def log(self, step: int, values: dict[str, float]) -> None:
        if self.writer is not None:
            self._guard("TensorBoard", self._tb_log, step, values)
        if self.mlflow is not None:
            self._guard("MLflow", self._mlflow_log, step, values)

    def _tb_log(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, float(value), step)
        self.writer.flush()

    def _mlflow_log(self, step: int, values: dict[str, float]) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(k, float(v), now, step) for k, v in values.items()]
        self.mlflow.log_batch(self.mlflow_run, metrics=metrics)

    def close(self, status: str) -> None:
        """Ends the mirrors (MLflow: FINISHED for a completed run, KILLED stopped, FAILED else)."""
        if self.writer is not None:
            self._guard("TensorBoard", self.writer.close)
            self.writer = None
        if self.mlflow is not None:
            state = {"completed": "FINISHED", "stopped": "KILLED"}.get(status, "FAILED")
            self._guard("MLflow", self.mlflow.set_terminated, self.mlflow_run, state)
            self.mlflow = None
