"""Take a trained run away and bring it back: one file holding everything a finished run is.

`export_run` writes a zip: `manifest.json` (what the file is, which run, when, from which
metalearn), the run's `config.json` and `result.json`, its per-episode test scores
(`episodes.json`, what paired comparisons read), its curves (`metrics.json`) and its artifacts
(the checkpoint, snapshots: `store.ARTIFACTS`). `import_run` checks the whole file before it
stores anything - a known format, a configuration that resolves, a result, a checkpoint read with
`weights_only=True` that fits the model its configuration builds - and then adds it to the store
as a new completed run (a new id: ids are local keys; the original is kept in the result as
`imported_from`). Such a run tests, predicts and compares like one trained here. Exporting
needs no torch (the dashboard's pages import none); importing reads the checkpoint with it.
"""

from __future__ import annotations

import io
import json
import logging
import time
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from metalearn import package_version
from metalearn.data.base import DataError
from metalearn.store import ARTIFACTS, RUN_FILE, NoSuchRun, Store

log = logging.getLogger(__name__)

FORMAT = "metalearn-run"
VERSION = 1
SUFFIX = RUN_FILE
MAX_BYTES = 4 << 30  # what one file may unpack to: a run is its checkpoint and snapshots
HOW = "export one with `metalearn export RUN_ID -o FILE` or the Runs page's download"


def export_run(store: Store, run_id: str, out: str | Path | IO[bytes]) -> None:
    """Writes run `run_id` as one file (a path or a binary stream).

    Raises:
        NoSuchRun: no run has this id.
        DataError: the run has not completed (no result or final checkpoint to take away).
    """
    row = store.get_run(run_id)
    if row is None:
        raise NoSuchRun(run_id)
    if row["status"] != "completed" or not row["result"]:
        raise DataError(
            f"run {run_id} is {row['status']}: only a completed run can be exported (it has a "
            "result and its final checkpoint); wait for it to finish, or resume it"
        )
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "run_id": run_id,
        "name": row.get("name"),
        "note": row.get("note"),
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metalearn": package_version("metalearn"),
        "torch": package_version("torch"),
    }
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, indent=1))
        z.writestr("config.json", json.dumps(row["config"]))
        z.writestr("result.json", json.dumps(row["result"]))
        z.writestr("episodes.json", json.dumps(store.episodes(run_id)))
        z.writestr("metrics.json", json.dumps(store.metrics(run_id)))
        for kind in ARTIFACTS:
            path = store.artifact(run_id, kind)
            if path.is_file():
                z.write(path, path.name)


def export_bytes(store: Store, run_id: str) -> bytes:
    """The run's file as bytes (a download button's data). Raises as `export_run`."""
    buffer = io.BytesIO()
    export_run(store, run_id, buffer)
    return buffer.getvalue()


def import_run(store: Store, source: str | Path | bytes) -> str:
    """Adds the run in an exported file to `store`; returns its new id. Nothing is stored
    unless the whole file checks out.

    Raises:
        DataError: not such a file, a damaged one, or one whose checkpoint does not fit its
            configuration's model - saying which.
    """
    name = "the file" if isinstance(source, bytes) else Path(source).name
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as z:
            members = _read_members(z, name)
    except FileNotFoundError:
        raise DataError(f"{name} does not exist") from None
    except (zipfile.BadZipFile, OSError, EOFError):
        raise DataError(f"{name} is not a metalearn run file (not a zip archive); {HOW}") from None
    manifest = _json(members, "manifest.json", name)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError(f"{name} is a zip archive but not a metalearn run file; {HOW}")
    if manifest.get("version") != VERSION:
        raise DataError(
            f"{name} is a metalearn run file of version {manifest.get('version')!r}; this "
            f"metalearn reads version {VERSION}"
        )
    config, result = _json(members, "config.json", name), _json(members, "result.json", name)
    episodes, metrics = _json(members, "episodes.json", name), _json(members, "metrics.json", name)
    if not isinstance(config, dict) or not isinstance(result, dict):
        raise DataError(f"{name}: config.json and result.json must each hold a JSON object")
    if "checkpoint.pt" not in members:
        raise DataError(f"{name} holds no checkpoint.pt: the trained model is missing")
    _check_model(config, members["checkpoint.pt"], name)
    files = {n: data for n, data in members.items() if n in ARTIFACTS.values()}
    imported = {
        **result,
        "imported_from": {k: manifest.get(k) for k in ("run_id", "exported_at", "metalearn")},
    }
    try:
        rows = [
            (int(m["step"]), str(m["name"]), float(m["value"]), float(m["time"])) for m in metrics
        ]
        scores = [float(v) for v in episodes]
    except (KeyError, TypeError, ValueError):
        raise DataError(
            f"{name}: episodes.json or metrics.json is not as metalearn writes it"
        ) from None
    try:
        run_id = store.add_finished_run(
            json.dumps(config),
            imported,
            rows,
            scores,
            files,
            manifest.get("name"),
            manifest.get("note"),
        )
    except ValueError as err:  # a name or note too long for this store
        raise DataError(f"{name}: {err}") from None
    log.info("imported run %s of %s as %s", manifest.get("run_id"), name, run_id)
    return run_id


def _read_members(z: zipfile.ZipFile, name: str) -> dict[str, bytes]:
    known = {"manifest.json", "config.json", "result.json", "episodes.json", "metrics.json"}
    known |= set(ARTIFACTS.values())
    infos = [i for i in z.infolist() if i.filename in known]  # nothing else is read
    if sum(i.file_size for i in infos) > MAX_BYTES:
        raise DataError(f"{name} unpacks to more than {MAX_BYTES >> 30} GiB; not a run file")
    try:
        return {i.filename: z.read(i) for i in infos}
    except (zipfile.BadZipFile, zlib.error) as err:
        raise DataError(f"{name} is damaged ({err}); export the run again") from None


def _json(members: dict[str, bytes], member: str, name: str) -> Any:
    if member not in members:
        raise DataError(f"{name} holds no {member}; {HOW}")
    try:
        return json.loads(members[member].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DataError(f"{name}: {member} is not JSON text") from None


def _check_model(config: dict[str, Any], checkpoint: bytes, name: str) -> None:
    """The checkpoint reads with `weights_only=True` and fits the model its configuration
    builds (as `engine.run.restore` will build it)."""
    import torch

    from metalearn.config import ConfigError
    from metalearn.engine.run import model_from
    from metalearn.engine.validate import stored

    try:
        state = torch.load(io.BytesIO(checkpoint), map_location="cpu", weights_only=True)
    except Exception as err:
        text = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise DataError(f"{name}: its checkpoint cannot be read safely ({text})") from None
    try:
        model_from(state, stored(config))
    except ConfigError as err:
        raise DataError(
            f"{name}: its configuration is not one this metalearn runs: {err}"
        ) from None
    except (KeyError, TypeError, RuntimeError, ValueError) as err:
        text = f"missing {err}" if isinstance(err, KeyError) else str(err).splitlines()[0][:300]
        raise DataError(f"{name}: its checkpoint does not fit its model ({text})") from None
