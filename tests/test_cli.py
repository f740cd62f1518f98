"""The CLI as a user runs it: exit codes and output. Refusals are checked in-process
(`main([...])`, the `cli` fixture); a trained run, predictions and a few refusals go through real
subprocesses and a real store (the `cli_process` fixture: the integration tier)."""

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_cli_process
from tests.formats import write_folder


def run_command(*args: str, home: Path, check: bool = True):
    """`python -m metalearn ARGS` in a subprocess; with `check`, it must exit 0."""
    proc = run_cli_process(*args, home=home)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def trained_cli_run(tmp_path_factory):
    """One short ProtoNet run on glyphs, shared by the tests below."""
    home = tmp_path_factory.mktemp("home")
    proc = run_command(
        "train",
        "--algorithm",
        "protonet",
        "--episodes",
        "60",
        "--eval-episodes",
        "50",
        "--val-every",
        "30",
        "--val-episodes",
        "10",
        "--json",
        home=home,
    )
    return home, json.loads(proc.stdout.strip().splitlines()[-1]), proc


def test_train_json(trained_cli_run):
    _, result, proc = trained_cli_run
    for key in (
        "run_id",
        "algorithm",
        "dataset",
        "device",
        "test_accuracy",
        "test_ci95",
        "train_seconds",
        "episodes_per_second",
    ):
        assert key in result
    assert result["dataset"] == "glyphs" and result["device"] == "cpu"
    assert 0.2 < result["test_accuracy"] <= 1 and result["eval_episodes"] == 50
    assert "ep/s" in proc.stderr or "ep]" in proc.stderr  # tqdm progress on stderr


def test_runs_and_eval(trained_cli_run):
    home, result, _ = trained_cli_run
    rows = [
        json.loads(line) for line in run_command("runs", "--json", home=home).stdout.splitlines()
    ]
    run = next(r for r in rows if r["id"] == result["run_id"])
    assert run["status"] == "completed"
    assert run["result"]["test_accuracy"] == result["test_accuracy"]
    again = json.loads(
        run_command(
            "eval", "--run", result["run_id"], "--eval-episodes", "50", "--json", home=home
        ).stdout
    )
    assert again["test_accuracy"] == pytest.approx(result["test_accuracy"], abs=1e-6)
    other = run_command(
        "eval",
        "--run",
        result["run_id"],
        "--eval-episodes",
        "20",
        "--n-way",
        "10",
        "--n-shot",
        "5",
        "--json",
        home=home,
    )
    other = json.loads(other.stdout)
    assert (other["n_way"], other["n_shot"], other["eval_episodes"]) == (10, 5, 20)
    assert 0.1 < other["test_accuracy"] <= 1.0
    tuned = run_command(
        "eval", "--run", result["run_id"], "--eval-episodes", "10",
        "--support-finetune-steps", "3", "--json", home=home,
    )  # fmt: skip
    tuned = json.loads(tuned.stdout)
    assert tuned["support_finetune_steps"] == 3 and tuned["eval_episodes"] == 10


def test_eval_with_support_fine_tuning_scores_other_episodes_and_refuses_bad_steps(
    trained_cli_run,
):
    """P>M>F's test-time stage on a trained run: the same 20 seeded episodes, scored by copies
    tuned on each support set (a step size large enough to move a Conv4), score otherwise; the
    run's own settings are kept; a negative count is refused."""
    from metalearn.config import ConfigError
    from metalearn.engine.run import evaluate_run
    from metalearn.store import Store

    home, result, _ = trained_cli_run
    store = Store(home)
    plain = evaluate_run(store, result["run_id"], 20)
    tuned = evaluate_run(
        store, result["run_id"], 20, support_finetune_steps=5, support_finetune_lr=0.05
    )
    assert "support_finetune_steps" not in plain and tuned["support_finetune_steps"] == 5
    assert tuned["pairing_key"] == plain["pairing_key"]  # the same test episodes
    assert abs(tuned["test_accuracy"] - plain["test_accuracy"]) > 0.01, (tuned, plain)
    assert evaluate_run(store, result["run_id"], 20) == plain  # the run itself is unchanged
    with pytest.raises(ConfigError, match="support_finetune_steps"):
        evaluate_run(store, result["run_id"], 10, support_finetune_steps=-1)


def test_predict_own_images(trained_cli_run, tmp_path):
    """Bring your own task: support images per class, query images; the glyph-trained model
    must tell apart two clearly different drawn classes."""
    from PIL import Image

    from metalearn.data import DATASETS

    home, result, _ = trained_cli_run
    test = DATASETS["glyphs"].load(None, "test")
    per = 20
    for c in (0, 1):
        (tmp_path / "support" / f"class{c}").mkdir(parents=True)
        for i in range(3):
            img = 255 - test.images[c * per + i, 0].numpy()  # dark ink on white, like a scan
            Image.fromarray(img).save(tmp_path / "support" / f"class{c}" / f"{i}.png")
    (tmp_path / "query").mkdir()
    for c in (0, 1):
        for i in range(10, 14):
            Image.fromarray(255 - test.images[c * per + i, 0].numpy()).save(
                tmp_path / "query" / f"q{c}_{i}.png"
            )
    out = json.loads(
        run_command(
            "predict",
            "--run",
            result["run_id"],
            "--support",
            str(tmp_path / "support"),
            "--query",
            str(tmp_path / "query"),
            "--json",
            home=home,
        ).stdout
    )
    assert len(out) == 8
    right = sum(v["class"] == f"class{name[1]}" for name, v in out.items())
    assert right >= 6, out
    assert all(abs(sum(v["scores"].values()) - 1) < 1e-3 for v in out.values())


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--algorithm", "nope"], "algorithm 'nope' is unknown"),
        (["train", "--dataset", "imagenet42"], "dataset 'imagenet42' is unknown"),
        (["train", "--n-way", "1000"], "n_way=1000 is more than the 600 classes"),
        (["train", "--n-shot", "10", "--n-query", "15"], "n_shot + n_query = 25"),
        (["train", "--dataset", "omniglot", "--data-root", "/nonexistent/data"], "not found"),
        (["train", "--n-way", "five"], "invalid int value"),
        (["eval", "--run", "missing"], "no run with id"),
        (["train", "--episodes", str(10**12)], "episodes must be a number in [0, 1000000000]"),
        (
            ["train", "--eval-episodes", str(10**12)],
            "eval_episodes must be a number in [1, 100000]",
        ),
        (["train", "--meta-batch", str(10**9)], "meta_batch must be a number in [1, 1024]"),
        (["train", "--image-size", "4096"], "image_size must be a number in [1, 512]"),
        (["train", "--algorithm", "finetune", "--finetune-epochs", str(10**9)], "finetune_epochs"),
        (["train", "--algorithm", "maml", "--inner-steps", str(10**9)], "inner_steps must be"),
        (["predict", "--run", "x", "--support", "/nope", "--query", "/nope"], "not a folder"),
    ],
)
def test_bad_input_exits_2_with_a_message(args, message, tmp_path, cli):
    proc = cli(*args, home=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_predict_bad_folders(trained_cli_run, tmp_path):
    home, result, _ = trained_cli_run
    write_folder(tmp_path / "one", n_classes=1, per_class=2)
    (tmp_path / "q").mkdir()
    proc = run_command(
        "predict",
        "--run",
        result["run_id"],
        "--support",
        str(tmp_path / "one"),
        "--query",
        str(tmp_path / "q"),
        home=home,
        check=False,
    )
    assert proc.returncode == 2 and "at least 2 class sub-folders" in proc.stderr


def test_resume_refuses_what_it_cannot_continue(trained_cli_run):
    """--resume: a completed run stays as it is; settings beside it are refused, not ignored."""
    home, result, _ = trained_cli_run
    run_id = result["run_id"]
    before = json.loads(run_command("runs", "--json", home=home).stdout.splitlines()[0])
    done = run_command("train", "--resume", run_id, home=home, check=False)
    assert done.returncode == 2 and "completed; launch it again instead" in done.stderr
    extra = run_command("train", "--resume", run_id, "--episodes", "5", home=home, check=False)
    assert extra.returncode == 2 and "drop --episodes" in extra.stderr
    assert "Traceback" not in done.stderr + extra.stderr
    after = json.loads(run_command("runs", "--json", home=home).stdout.splitlines()[0])
    assert after == before


@pytest.mark.parametrize(
    "content,message",
    [
        (b"[]", "must hold a JSON object"),
        (b"null", "must hold a JSON object"),
        (b'"a string"', "must hold a JSON object"),
        (b'{"algorithm": []}', "algorithm must be str"),
        (b"\xff\xfe{", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"seed": ' + b"9" * 5000 + b"}", "cannot read it as JSON"),
        (b'{"seed": 18446744073709551616}', "seed must be a number in [0, 4294967295]"),
    ],
    ids=["list", "null", "string", "list-name", "not-utf8", "deep", "5000-digits", "seed-2^64"],
)
def test_bad_config_files_exit_2_and_leave_no_run(content, message, tmp_path, cli):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    proc = cli("train", "--config", str(path), home=tmp_path / "home")
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert cli("runs", home=tmp_path / "home").stdout == ""  # no failed run row left behind


def test_a_run_too_big_for_memory_is_refused_before_it_starts(tmp_path, cli):
    """Each setting within its bounds, together far beyond any machine's memory (100 GiB,
    256 GiB): refused with the estimate and what is free, and no run is left behind."""
    for args in (
        ["--image-size", "512", "--meta-batch", "1024"],
        ["--algorithm", "finetune", "--image-size", "512", "--batch-size", "4096"],
    ):
        proc = cli("train", "--device", "cpu", *args, home=tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "this run needs at least" in proc.stderr and "GiB free there" in proc.stderr
    assert cli("runs", home=tmp_path).stdout.count("\n") <= 1  # no run rows (a header at most)


def test_config_streams_and_odd_values_are_refused_at_once(tmp_path, cli):
    """No read of a device or a FIFO (either would block or never end); counts below 1 and a
    runs directory that is a file are refused by name."""
    fifo = tmp_path / "settings.json"
    os.mkfifo(fifo)
    (tmp_path / "a-file").write_text("")
    for args, message in [
        (["train", "--config", "/dev/zero"], "is not a regular file"),
        (["train", "--config", str(fifo)], "is not a regular file"),
        (["train", "--seed", str(2**64)], "seed must be a number in [0, 4294967295]"),
        (["bench", "--steps", "0"], "--steps: must be at least 1"),
        (["bench", "--steps", "-3"], "--steps: must be at least 1"),
        (["eval", "--run", "x", "--eval-episodes", "-5"], "must be at least 1"),
        (["eval", "--run", "x", "--n-way", "0"], "must be at least 1"),
        (["--home", str(tmp_path / "a-file"), "runs"], "is a file, not a folder"),
    ]:
        proc = cli(*args, home=tmp_path / "home")
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_zero_training_episodes_is_said_not_silent(tmp_path, cli):
    proc = cli(
        "train", "--episodes", "0", "--eval-episodes", "5", "--val-every", "0", "--json",
        home=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "note: no training (0 episodes): the test scores the network as it starts" in (
        proc.stderr
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1])["train_episodes"] == 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--n-way", "five"], "invalid int value"),
        (["train", "--n-way", "1000"], "n_way=1000 is more than the 600 classes"),
        (["eval", "--run", "missing"], "no run with id"),
    ],
)
def test_refusals_reach_a_user_of_the_real_command(args, message, tmp_path, cli_process):
    """End to end, a few of the refusals above: `python -m metalearn` exits 2 with the message
    on stderr and no traceback (the in-process checks cover the rest)."""
    proc = cli_process(*args, home=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
