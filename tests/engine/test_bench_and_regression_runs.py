import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*args, home):
    proc = subprocess.run(
        [sys.executable, "-m", "metalearn", "--home", str(home), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_bench_maml_reports_product_and_loop(tmp_path):
    proc = run(
        "bench", "--algorithm", "maml", "--device", "cpu", "--steps", "2", "--json", home=tmp_path
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["variant"] for r in rows] == ["product", "loop"]
    for r in rows:
        assert {"algorithm", "variant", "device", "meta_batch", "tasks_per_second"} <= set(r)
        assert r["tasks_per_second"] > 0 and r["meta_batch"] == 4
    assert rows[0]["ratio_vs_loop"] > 0 and "product / loop" in proc.stderr


def test_sinusoid_run_reports_mse_by_steps_and_curves(tmp_path):
    proc = run(
        "train",
        "--algorithm",
        "maml",
        "--dataset",
        "sinusoid",
        "--n-way",
        "1",
        "--n-shot",
        "10",
        "--n-query",
        "10",
        "--meta-batch",
        "5",
        "--episodes",
        "100",
        "--inner-lr",
        "0.01",
        "--eval-episodes",
        "20",
        "--val-every",
        "50",
        "--val-episodes",
        "5",
        "--json",
        "--no-progress",
        home=tmp_path,
    )
    result = json.loads(proc.stdout.splitlines()[-1])
    assert {"test_mse", "test_mse_ci95"} <= set(result)
    assert {"0", "1", "10"} <= set(result["test_mse_by_steps"])
    curves = json.loads((tmp_path / result["run_id"] / "curves.json").read_text())
    assert len(curves) == 3 and {"0", "1", "10"} <= set(curves[0]["predicted"])
    assert len(curves[0]["support_x"]) == 10
