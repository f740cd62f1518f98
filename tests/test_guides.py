"""The guides are executed: each worked example, copied into a fresh copy of the repository as
the one file it adds, shows up everywhere the guide says."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def example(doc: str, saved_as: str) -> str:
    """The guide's first Python block after the sentence naming the file it is saved as."""
    text = (REPO / "docs" / doc).read_text()
    after = text[text.index(f"`{saved_as}`") :]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def checkout(tmp_path: Path) -> Path:
    """The repository's files as git knows them (tracked and new, not ignored) in a new git
    repository, committed, so `git status` shows exactly what an example adds."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    root = tmp_path / "repo"
    for name in files:
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    git = lambda *a: subprocess.run(["git", *a], cwd=root, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy")
    return root


def run(root: Path, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "METALEARN_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


PAGES_CHECK = """
import sys
from streamlit.testing.v1 import AppTest

at = AppTest.from_file("app.py", default_timeout=120)
at.run()
at.switch_page("pages/views/train.py")
at.run()
assert not at.exception, at.exception
menu = at.selectbox[0]
assert "pixel_nn — Metric-based" in menu.options, menu.options  # with its family
menu.set_value("pixel_nn").run()
assert not at.exception, at.exception
labels = [w.label for w in at.selectbox]
assert "Distance between images" in labels, labels  # its own setting, as a widget
at.switch_page("pages/views/runs.py")
at.query_params["runs"] = sys.argv[1]
at.run()
assert not at.exception, at.exception
pairs = at.dataframe[-1].value
assert len(pairs) == 1 and set(pairs["verdict"]) <= {"A better", "B better",
    "no significant difference"}, pairs
print("pages ok", pairs.to_dict("records"))
"""


@pytest.mark.integration
def test_adding_an_algorithm_is_one_file(tmp_path):
    root = checkout(tmp_path)
    (root / "metalearn/algorithms/pixel_nn.py").write_text(
        example("adding-an-algorithm.md", "metalearn/algorithms/pixel_nn.py")
    )
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert status == ["?? metalearn/algorithms/pixel_nn.py"]
    home = tmp_path / "runs"

    help_text = run(root, "-m", "metalearn", "train", "--help", home=home).stdout
    assert re.search(r"--pixel-metric.*?\[pixel_nn\]", help_text, re.S)

    small = ["--episodes", "20", "--eval-episodes", "30", "--val-every", "0", "--json"]
    ids = []
    for algorithm in ("pixel_nn", "protonet"):
        out = run(
            root,
            "-m",
            "metalearn",
            "train",
            "--algorithm",
            algorithm,
            *small,
            "--no-progress",
            home=home,
        ).stdout
        result = json.loads(out.splitlines()[-1])
        assert result["kind"] == "episodes" and 0.2 < result["test_accuracy"] <= 1.0
        ids.append(result["run_id"])

    bench = run(
        root,
        "-m",
        "metalearn",
        "bench",
        "--algorithm",
        "pixel_nn",
        "--device",
        "cpu",
        "--steps",
        "2",
        "--rounds",
        "1",
        "--json",
        home=home,
    ).stdout
    rows = [json.loads(line) for line in bench.splitlines()]
    assert rows[0]["algorithm"] == "pixel_nn" and rows[0]["tasks_per_second"] > 0

    pages = run(root, "-c", PAGES_CHECK, ",".join(ids), home=home).stdout
    assert "pages ok" in pages


KIND_PAGES_CHECK = """
import sys
from streamlit.testing.v1 import AppTest

at = AppTest.from_file("app.py", default_timeout=120)
at.run()
at.switch_page("pages/views/train.py")
at.run()
assert not at.exception, at.exception
[s for s in at.selectbox if s.label == "Algorithm"][0].set_value("maml").run()
menu = [s for s in at.selectbox if s.label == "Dataset"][0]
assert "lines" in menu.options, menu.options
menu.set_value("lines").run()
assert not at.exception and not at.error, (at.exception, at.error)
assert any("line fitting" in m.value.lower() for m in at.markdown), [m.value for m in at.markdown]
at.switch_page("pages/views/runs.py")
at.query_params["runs"] = sys.argv[1]
at.run()
assert not at.exception, at.exception
pairs = at.dataframe[-1].value
assert len(pairs) == 1 and set(pairs["verdict"]) <= {"A better", "B better",
    "no significant difference"}, pairs
print("pages ok", pairs.to_dict("records"))
"""


@pytest.mark.integration
def test_adding_a_run_kind_is_one_file(tmp_path):
    root = checkout(tmp_path)
    saved_as = "metalearn/engine/kinds/lines.py"
    (root / saved_as).write_text(example("adding-a-run-kind.md", saved_as))
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert status == [f"?? {saved_as}"]
    home = tmp_path / "runs"

    help_text = run(root, "-m", "metalearn", "train", "--help", home=home).stdout
    assert re.search(r"--dataset.*?one of:[^\n]*\n?[^\n]*\blines\b", help_text, re.S)

    small = ["--dataset", "lines", "--n-way", "1", "--n-shot", "5", "--n-query", "10"]
    small += ["--meta-batch", "4", "--episodes", "40", "--eval-episodes", "20", "--val-every", "0"]
    small += ["--inner-lr", "0.01"]  # the regression step size of Finn et al. (0.4 is for images)
    ids, results = [], []
    for algorithm in ("maml", "anil"):
        out = run(
            root,
            "-m",
            "metalearn",
            "train",
            "--algorithm",
            algorithm,
            *small,
            "--json",
            "--no-progress",
            home=home,
        ).stdout
        result = json.loads(out.splitlines()[-1])
        assert result["kind"] == "lines" and result["test_mse"] >= 0
        assert {"0", "1", "10"} <= set(result["test_mse_by_steps"])
        assert result["pairing_key"].startswith("mse@3|lines|")
        ids.append(result["run_id"])
        results.append(result)
    # The tasks are lines: a few adaptation steps fit a line from 5 points far better than none.
    by_steps = results[0]["test_mse_by_steps"]
    assert by_steps["10"] < 0.5 * by_steps["0"], by_steps
    curves = json.loads((home / ids[0] / "curves.json").read_text())
    x, y = curves[0]["x"], curves[0]["true"]
    slope = (y[-1] - y[0]) / (x[-1] - x[0])
    assert all(abs(y[0] + slope * (xi - x[0]) - yi) < 1e-4 for xi, yi in zip(x, y, strict=True))

    bench = run(
        root,
        "-m",
        "metalearn",
        "bench",
        "--algorithm",
        "maml",
        "--dataset",
        "lines",
        "--n-way",
        "1",
        "--device",
        "cpu",
        "--steps",
        "2",
        "--rounds",
        "1",
        "--json",
        home=home,
    ).stdout
    rows = [json.loads(line) for line in bench.splitlines()]
    assert rows[0]["algorithm"] == "maml" and rows[0]["tasks_per_second"] > 0

    pages = run(root, "-c", KIND_PAGES_CHECK, ",".join(ids), home=home).stdout
    assert "pages ok" in pages
