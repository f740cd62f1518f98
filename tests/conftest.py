"""Shared fixtures, and the test tiers.

Every test is in the fast tier unless it needs something slow, and what it needs marks it
automatically (`TIER_OF_FOLDER`, `TIER_OF_FIXTURE`) or by an explicit mark (`learning`,
`compile`). A test left in the fast tier that starts a process, or runs longer than
`FAST_SECONDS`, fails and says which tier it belongs to, so nothing slow slips in unmarked.

    pytest                      the fast tier (under two minutes on two cores)
    pytest -m integration       one tier (e2e, integration, learning, compile, realdata, peers)
    pytest -m "not fast"        every slow tier
    pytest tests/test_cli.py    every tier of the tests named
    bash scripts/test.sh        everything (`--all-tiers`), as CI runs it
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("METALEARN_DATA") or REPO.parent / "shared" / "data")

TIERS = {
    "e2e": "a real browser against a dashboard server (every test under tests/e2e)",
    "integration": "real processes: the CLI as a subprocess, worker processes, Ray",
    "learning": "a training run that must learn (many episodes)",
    "compile": "torch.compile (tens of seconds of compiling per test)",
    "realdata": "the real datasets under ../shared/data (or $METALEARN_DATA)",
    "peers": "races against learn2learn, higher, easyfsl (skipped unless installed)",
}
TIER_OF_FOLDER = {"e2e": "e2e"}
# Fixtures that start something slow: a test that asks for one is in that fixture's tier.
TIER_OF_FIXTURE = {
    "cli_process": "integration",
    "trained_cli_run": "integration",
    "ray_address": "integration",
    "two_nodes": "integration",
}
# Quick system look-ups that libraries make (ctypes.util.find_library runs `ldconfig -p`;
# joblib, under scikit-learn's t-SNE, counts the cores with `cat /proc/cpuinfo`): not what the
# guard below is for.
LOOKUPS = {"ldconfig", "uname", "cat"}
FAST_SECONDS = 20.0  # a fast-tier test's limit (the slowest fast test takes ~6 s here)
FAST_TIMEOUT = 120  # pytest-timeout for a fast-tier test; the slow tiers get the ini's


def pytest_addoption(parser):
    parser.addoption(
        "--all-tiers",
        action="store_true",
        help="run every tier (the default, with no -m and no test named, is the fast tier)",
    )


def pytest_configure(config):
    from metalearn.engine.memory import keep_freed_memory

    # Tests train in this process the way a run's process trains (`engine.run.execute` does the
    # same): freed activations are kept for the next step instead of faulted in again.
    keep_freed_memory()
    config.addinivalue_line("markers", "fast: needs nothing slow (set automatically)")
    config.addinivalue_line("markers", "slow: in any tier but the fast one (set automatically)")
    for name, text in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def tiers_of(item: pytest.Item) -> set[str]:
    """The slow tiers a test is in: its folder's, its fixtures', its explicit marks."""
    found = {m.name for m in item.iter_markers() if m.name in TIERS}
    rel = Path(str(item.path)).resolve().relative_to(REPO / "tests").parts
    found |= {TIER_OF_FOLDER[p] for p in rel[:-1] if p in TIER_OF_FOLDER}
    found |= {TIER_OF_FIXTURE[f] for f in getattr(item, "fixturenames", ()) if f in TIER_OF_FIXTURE}
    return found


def _named_tests(config: pytest.Config) -> bool:
    """Whether the command line named files or tests (not the ini's testpaths)."""
    return config.args_source == pytest.Config.ArgsSource.ARGS


def pytest_collection_modifyitems(config, items):
    for item in items:
        found = tiers_of(item)
        if item.get_closest_marker("slow") and not found:
            raise pytest.UsageError(f"{item.nodeid}: mark it with its tier ({', '.join(TIERS)})")
        for name in sorted(found):
            item.add_marker(name)
        item.add_marker("slow" if found else "fast")
        if not found and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(FAST_TIMEOUT))
    if config.option.markexpr or config.getoption("--all-tiers") or _named_tests(config):
        return
    keep = [i for i in items if i.get_closest_marker("fast")]
    dropped = [i for i in items if not i.get_closest_marker("fast")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_report_header(config):
    if config.option.markexpr:
        return f"tiers: -m {config.option.markexpr!r}"
    if config.getoption("--all-tiers") or _named_tests(config):
        return "tiers: all (fast, " + ", ".join(TIERS) + ")"
    return "tiers: fast only; every tier: bash scripts/test.sh; one: pytest -m integration"


class SlowTestInFastTier(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _fast_tier_guard(request, monkeypatch):
    """A fast-tier test may not start a process, and must end within FAST_SECONDS."""
    if not request.node.get_closest_marker("fast"):
        yield
        return

    execute_child = subprocess.Popen._execute_child

    def refuse(self, args, *rest, **kw):
        program = args if isinstance(args, (str, bytes, os.PathLike)) else args[0]
        if Path(os.fsdecode(program)).name in LOOKUPS:
            return execute_child(self, args, *rest, **kw)
        raise SlowTestInFastTier(
            f"{request.node.nodeid} started a process ({args!r}) but is in the fast tier: "
            "test it in-process (the `cli` fixture runs the CLI's main()), or ask for the "
            "`cli_process` fixture, or mark it @pytest.mark.integration"
        )

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    started = time.perf_counter()
    yield
    took = time.perf_counter() - started
    if took > FAST_SECONDS:
        pytest.fail(
            f"{request.node.nodeid} took {took:.1f} s, over the fast tier's {FAST_SECONDS:.0f} s: "
            "shorten it, or mark it with the tier it needs (learning, integration, compile)",
            pytrace=False,
        )


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Every test session starts with an empty tensor cache, so cache code paths are exercised."""
    os.environ["METALEARN_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty runs directory for this test."""
    monkeypatch.setenv("METALEARN_HOME", str(tmp_path / "runs"))
    return tmp_path / "runs"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """(store, run_id) of one completed, almost untrained ProtoNet on glyphs (5 episodes),
    trained in-process once per session for the tests that only need *a* trained run. A test
    that damages its files puts them back."""
    from metalearn.config import RunConfig
    from metalearn.engine.run import execute
    from metalearn.store import Store

    store = Store(tmp_path_factory.mktemp("tiny-run"))
    cfg = RunConfig(algorithm="protonet", episodes=5, eval_episodes=5, val_every=0, device="cpu")
    run_id = store.create_run(cfg.to_json())
    execute(cfg, store, run_id)
    return store, run_id


@dataclass
class CliResult:
    """What a CLI call left: its exit code and what it printed (as subprocess.run's)."""

    returncode: int
    stdout: str
    stderr: str


def run_cli_in_process(*args: str, home: Path) -> CliResult:
    """`python -m metalearn ARGS` as `main(ARGS)` in this process, its output captured."""
    from metalearn.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["--home", str(home), *args])
        except SystemExit as stop:  # argparse's refusals
            code = stop.code if isinstance(stop.code, int) else 2
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli_process(*args: str, home: Path, timeout: float = 600) -> CliResult:
    """`python -m metalearn ARGS` as a user runs it: a real subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "metalearn", *args],
        cwd=REPO,
        env={**os.environ, "METALEARN_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    """The CLI in-process: `cli(*args, home=...)` -> CliResult (fast tier)."""
    return run_cli_in_process


@pytest.fixture
def cli_process():
    """The CLI as a subprocess: `cli_process(*args, home=...)` -> CliResult (integration)."""
    return run_cli_process


def real_omniglot() -> Path | None:
    base = REAL_DATA / "omniglot-py"
    return (
        REAL_DATA
        if (base / "images_background.zip").exists() or (base / "images_background").is_dir()
        else None
    )
