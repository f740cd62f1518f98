"""Tries hostile and careless inputs area by area and reports, for each, how many cases were tried
and how many were handled (accepted, or refused with a clear error: no other exception, no
traceback, nothing past 10 s). `python scripts/adversary.py [--json FILE]`; about 3 minutes on
2 cores. The suite holds a test per case family; this script is the count (issue 20's report).

The HTTP-level cases (uploads and password guesses against a real viewer-mode server) are in
tests/e2e/test_viewer_mode.py, the concurrent resumes in tests/test_store.py.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402

from metalearn import cli  # noqa: E402
from metalearn.config import SPEC, ConfigError, RunConfig  # noqa: E402
from metalearn.data import DataError  # noqa: E402
from metalearn.data.images import decode, list_images  # noqa: E402
from metalearn.engine.run import execute, restore  # noqa: E402
from metalearn.engine.validate import make_config, validate  # noqa: E402
from metalearn.store import ResumeRefused, Store, StoreError  # noqa: E402

CLEAR = (ConfigError, DataError, StoreError, ResumeRefused)


class Hang(Exception):
    pass


def handled(case: Callable[[], object], seconds: int = 10) -> str | None:
    """None when `case` returns or raises a clear error within `seconds`; else what went wrong."""

    def alarm(*_):
        raise Hang

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        case()
    except CLEAR:
        return None
    except SystemExit as err:  # argparse's refusal
        return None if err.code == 2 else f"exit {err.code}"
    except Hang:
        return f"no answer in {seconds} s"
    except Exception as err:  # noqa: BLE001 - what this script counts
        return f"{type(err).__name__}: {err}"[:200]
    finally:
        signal.alarm(0)
    return None


def train_args(argv: list[str]) -> None:
    """What `train ARGV` does before it writes a run: parse, read settings, validate."""
    with contextlib.redirect_stderr(io.StringIO()):  # argparse's usage text
        validate(make_config(cli.given_settings(cli.build_parser().parse_args(["train", *argv]))))


def flag_values() -> Iterable[tuple[str, Callable]]:
    """Every spec flag with values out of bounds or of the wrong type, through the CLI's parser
    and validation (what `train` does before it writes a run)."""
    bad = ["-5", "-1", "0", str(10**12), str(2**64), "abc", "1.5", "nan", "inf", "", "1e400"]
    for name in sorted(SPEC):
        flag = "--" + name.replace("_", "-")
        for value in bad:
            yield f"{flag} {value!r}", lambda argv=[flag, value]: train_args(argv)


def config_files(tmp: Path) -> Iterable[tuple[str, Callable]]:
    listed = [b"[]", b"null", b'"text"', b'{"algorithm": []}', b"\xff\xfe\x00bad", b"[" * 10**5]
    listed += [b'{"seed": ' + b"9" * 5000 + b"}", b"{", b"", b'{"hyper": 3}', b'{"n_way": 1e309}']
    rng = random.Random(0)
    names = sorted(SPEC) + ["inner_lr", "head", "backbone", "first_order", "hyper"]
    values = [None, True, -1, 0, 10**20, 1.5, float("nan"), "x", [], {}, [1, 2], {"a": 1}]
    for _ in range(200):
        data = {rng.choice(names): rng.choice(values) for _ in range(rng.randint(1, 4))}
        listed.append(json.dumps(data).encode())
    listed += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) for _ in range(40)]
    for i, content in enumerate(listed):
        path = tmp / f"config-{i}.json"
        path.write_bytes(content)
        yield f"config {content[:30]!r}", lambda p=path: train_args(["--config", str(p)])
    for special in ("/dev/zero", "/dev/urandom", "/proc/self/environ"):
        yield f"config {special}", lambda s=special: train_args(["--config", s])
    fifo = tmp / "fifo.json"
    os.mkfifo(fifo)
    yield "config FIFO", lambda: train_args(["--config", str(fifo)])


def image_files() -> Iterable[tuple[str, Callable]]:
    def encoded(fmt: str, size=(28, 28), mode="L") -> bytes:
        buf = io.BytesIO()
        Image.new(mode, size, 128).save(buf, format=fmt)
        return buf.getvalue()

    for fmt in ("PNG", "JPEG", "GIF", "BMP", "WEBP"):
        good = encoded(fmt, mode="RGB" if fmt == "WEBP" else "L")
        for offset in range(0, len(good), max(1, len(good) // 40)):
            for byte in (0x00, 0xCD, 0xFF):
                bad = good[:offset] + bytes([byte]) + good[offset + 1 :]
                yield f"{fmt} byte {offset}={byte:#x}", lambda b=bad: decode(b, 1, 28)
        for cut in (1, 8, 16, len(good) // 2, len(good) - 1):
            yield f"{fmt} cut at {cut}", lambda b=good[:cut]: decode(b, 1, 28)
    yield "49 Mpx PNG", lambda: decode(encoded("PNG", (7000, 7000), "1"), 1, 28)
    yield "1 x 60000 PNG", lambda: decode(encoded("PNG", (1, 60000)), 3, 28)


def query_folders(tmp: Path) -> Iterable[tuple[str, Callable]]:
    root = tmp / "root"
    folder = root / "queries"
    folder.mkdir(parents=True)
    Image.new("L", (28, 28)).save(folder / "fine.png")
    (tmp / "outside.png").write_bytes((folder / "fine.png").read_bytes())
    links = {
        "passwd.png": "/etc/passwd",
        "zero.png": "/dev/zero",
        "environ.png": "/proc/self/environ",
    }
    links |= {"out.png": str(tmp / "outside.png"), "dangling.png": str(tmp / "nothing")}
    for name, target in links.items():
        (folder / name).symlink_to(target)
    os.mkfifo(folder / "fifo.png")
    (folder / "dir.png").mkdir()
    (folder / "empty.png").write_bytes(b"")

    def read_all() -> None:
        for path in list_images(folder, root):
            handled(lambda p=path: decode(p, 1, 28))  # each one readable or clearly refused

    yield "query folder of links, FIFO, device, directory", read_all
    for name in [*links, "fifo.png", "dir.png", "empty.png"]:
        yield f"decode {name}", lambda n=name: (folder / n).is_fifo() or decode(folder / n, 1, 28)


def stores(tmp: Path) -> Iterable[tuple[str, Callable]]:
    def fresh(name: str) -> Path:
        home = tmp / name
        store = Store(home)
        for n_way in (5, 10):
            run = store.create_run(RunConfig(n_way=n_way).to_json())
            store.finish_run(run, "completed", {"test_accuracy": 0.5, "test_ci95": 0.1})
        store.close()
        return home

    def damage(name: str, how: Callable[[Path], None]) -> Callable:
        home = fresh(name)
        how(home / "metalearn.db")
        return lambda: Store(home).list_runs()

    size = lambda db: db.stat().st_size  # noqa: E731
    for cut in (0, 100, 512, 4096, 8192):
        yield f"store cut at {cut}", damage(f"cut{cut}", lambda db, c=cut: os.truncate(db, c))
    yield "store garbage header", damage("garbage", lambda db: db.write_bytes(b"junk" * 2000))
    yield (
        "store is a folder",
        damage(
            "folder",
            lambda db: (db.unlink(), Path(f"{db}-wal").unlink(missing_ok=True), db.mkdir()),
        ),
    )
    yield (
        "store half zeroed",
        damage(
            "zeroed",
            lambda db: db.write_bytes(db.read_bytes()[: size(db) // 2] + b"\0" * (size(db) // 2)),
        ),
    )

    def bad_row(db: Path) -> None:
        import sqlite3

        with sqlite3.connect(db) as con:
            con.execute("UPDATE runs SET config = '{not json' WHERE rowid = 1")

    yield "store row of bad JSON", damage("badrow", bad_row)


def checkpoints(tmp: Path) -> Iterable[tuple[str, Callable]]:
    import torch

    store = Store(tmp / "ckpt")
    cfg = RunConfig(episodes=5, eval_episodes=2, val_every=0, device="cpu")
    run = store.create_run(cfg.to_json())
    execute(cfg, store, run)
    path = store.artifact(run, "checkpoint")
    good = path.read_bytes()
    state = torch.load(path, weights_only=True)

    def write(content: bytes | None = None, obj: object = None) -> Callable:
        def case() -> None:
            if content is not None:
                path.write_bytes(content)
            else:
                torch.save(obj, path)
            try:
                restore(store, run)
            finally:
                path.write_bytes(good)

        return case

    for cut in (0, 10, len(good) // 3, len(good) - 10):
        yield f"checkpoint cut at {cut}", write(good[:cut])
    yield "checkpoint wrong keys", write(obj={**state, "model": {"x": torch.zeros(1)}})
    shapes = {k: torch.zeros(3) for k in state["model"]}
    yield "checkpoint wrong shapes", write(obj={**state, "model": shapes})
    yield "checkpoint no config", write(obj={"model": state["model"]})

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    import pickle

    yield "checkpoint pickle payload", write(pickle.dumps(Payload()))


def resumes(tmp: Path) -> Iterable[tuple[str, Callable]]:
    store = Store(tmp / "race")
    cfg = RunConfig(episodes=5, device="cpu")

    def race() -> None:
        run = store.create_run(cfg.to_json())
        store.finish_run(run, "stopped")
        wins: list[bool] = []

        def claim() -> None:
            try:
                Store(tmp / "race").claim_resume(run, lambda pid: True)
                wins.append(True)
            except ResumeRefused:
                wins.append(False)

        threads = [threading.Thread(target=claim) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if wins.count(True) != 1:
            raise AssertionError(f"{wins.count(True)} of 2 resumes claimed the run")

    for i in range(20):
        yield f"two resumes at once #{i}", race
    done = store.create_run(cfg.to_json())
    store.finish_run(done, "completed", {"test_accuracy": 0.5})
    yield "resume a completed run", lambda: store.claim_resume(done, lambda pid: True)


def cli_commands(tmp: Path) -> Iterable[tuple[str, Callable]]:
    """Real subprocesses: exit 2, a message, no traceback."""
    (tmp / "a-file").write_text("")
    commands = [
        ["eval", "--run", "missing"],
        ["eval", "--run", "x", "--eval-episodes", "-5"],
        ["bench", "--steps", "0"],
        ["bench", "--steps", "-3"],
        ["train", "--seed", str(2**64)],
        ["train", "--resume", "nope"],
        ["predict", "--run", "x", "--support", "/nope", "--query", "/nope"],
        ["--home", str(tmp / "a-file"), "runs"],
        ["train", "--config", "/dev/zero"],
        ["train", "--device", "cpu", "--image-size", "512", "--meta-batch", "1024"],
    ]
    for argv in commands:

        def case(argv=argv) -> None:
            proc = subprocess.run(
                [sys.executable, "-m", "metalearn", *argv],
                cwd=REPO,
                env={**os.environ, "METALEARN_HOME": str(tmp / "cli-home")},
                capture_output=True,
                text=True,
                timeout=60,
            )
            if proc.returncode != 2 or "Traceback" in proc.stderr or not proc.stderr.strip():
                raise AssertionError(f"exit {proc.returncode}: {proc.stderr[-200:]}")

        yield "cli " + " ".join(argv)[:60], case


AREAS = {
    "CLI flag values (parse + validate)": lambda tmp: flag_values(),
    "--config file contents": config_files,
    "crafted image files": lambda tmp: image_files(),
    "predict query folders": query_folders,
    "damaged stores": stores,
    "damaged checkpoints": checkpoints,
    "resume claims": resumes,
    "CLI commands (subprocesses)": cli_commands,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the counts and failures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the library's notes on skipped files stay quiet
    warnings.filterwarnings("ignore", message="Detected pickle protocol")
    report = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        for area, cases in AREAS.items():
            tmp = Path(tmp_name) / area.split()[0].strip("-")
            tmp.mkdir(exist_ok=True)
            failures, tried = [], 0
            for name, case in cases(tmp):
                tried += 1
                if (
                    problem := handled(case, 60 if area.startswith("CLI commands") else 10)
                ) is not None:
                    failures.append(f"{name}: {problem}")
            report[area] = {"tried": tried, "handled": tried - len(failures), "failures": failures}
            print(f"{area:40s} {tried - len(failures):4d} / {tried:4d} handled")
            for failure in failures:
                print("    " + failure)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
