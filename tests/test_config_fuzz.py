"""Generated settings, good and bad: each is either accepted or refused with a ConfigError that
says what is wrong - never another exception (which would be a traceback in the UI or CLI)."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metalearn.algorithms import ALGORITHMS
from metalearn.config import SPEC, ConfigError, RunConfig
from metalearn.data import DataError
from metalearn.engine.run import execute
from metalearn.engine.validate import validate
from metalearn.store import Store

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10_000),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)
FIELDS = {
    "algorithm": st.one_of(
        st.sampled_from(["protonet", "finetune", "maml", "meta_lstm", "mann"]), ANY
    ),
    "dataset": st.one_of(st.sampled_from(["glyphs", "sinusoid", "digits", "omniglot"]), ANY),
    "n_way": st.one_of(st.integers(-2, 700), ANY),
    "n_shot": st.one_of(st.integers(-1, 30), ANY),
    "n_query": st.one_of(st.integers(-1, 30), ANY),
    "train_way": st.one_of(st.none(), st.integers(-1, 5000), ANY),
    "episodes": st.one_of(st.integers(-5, 10**6), ANY),
    "lr": st.one_of(st.floats(-1, 20), ANY),
    "inner_lr": st.one_of(st.floats(-1, 20), ANY),
    "device": st.one_of(st.sampled_from(["auto", "cpu", "cuda", "tpu"]), ANY),
    "head": ANY,
    "first_order": ANY,
    "max_seconds": ANY,
    "image_size": ANY,
    "data_root": st.one_of(st.none(), st.just("/nonexistent"), ANY),
}


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.fixed_dictionaries({}, optional=FIELDS))
def test_generated_configs_are_accepted_or_clearly_refused(data):
    try:
        cfg = RunConfig.from_dict(data)
        cfg = validate(cfg)
    except ConfigError as err:
        assert err.problems and all(isinstance(p, str) and p for p in err.problems)
        assert "invalid settings" in str(err)


# Plausible settings (right types, small sizes) for every algorithm: what a user can type into
# the Train page. Each one must run to the end or be refused with a clear message.
RUNNABLE = {
    "algorithm": st.sampled_from(sorted(ALGORITHMS)),
    "dataset": st.sampled_from(["glyphs", "sinusoid", "digits"]),
    "n_way": st.integers(1, 12),
    "n_shot": st.integers(0, 12),
    "n_query": st.integers(0, 12),
    "train_way": st.one_of(st.none(), st.integers(1, 20)),
    "train_shot": st.one_of(st.none(), st.integers(1, 6)),
    "meta_batch": st.integers(1, 3),
    "episodes": st.integers(0, 3),
    "eval_episodes": st.integers(1, 3),
    "val_every": st.integers(0, 2),
    "val_episodes": st.integers(1, 2),
    "log_every": st.integers(1, 3),
    "inner_steps": st.integers(1, 2),
    "inner_steps_test": st.integers(0, 2),
    "finetune_epochs": st.integers(0, 2),
    "batch_size": st.integers(1, 8),
    "image_size": st.one_of(st.none(), st.integers(4, 32)),
    "backbone": st.sampled_from(["conv4", "simple_cnn"]),  # ResNet-12: tested elsewhere, slow
    "head": st.sampled_from(["cosine", "linear"]),
    "first_order": st.booleans(),
    "max_seconds": st.one_of(st.none(), st.floats(0.01, 5)),
}


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries({}, optional=RUNNABLE))
def test_generated_settings_run_or_are_clearly_refused(tmp_path_factory, data):
    store = Store(tmp_path_factory.mktemp("fuzz"))
    try:
        # Budgets that are not drawn stay small (the product's defaults test on 600 episodes,
        # which for the slowest test-time learners would be most of the suite's time).
        budget = {"episodes": 2, "eval_episodes": 2, "val_episodes": 1}
        cfg = RunConfig.from_dict({**budget, **data, "device": "cpu"})
        cfg = validate(cfg)
    except ConfigError as err:
        assert err.problems
        return
    try:
        result = execute(cfg, store, store.create_run(cfg.to_json()))
    except (ConfigError, DataError) as err:
        assert str(err)
        return
    assert "test_accuracy" in result or "test_mse" in result


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
SETTING_NAMES = st.sampled_from(sorted(SPEC) + ["inner_lr", "head", "backbone", "first_order"])


def _train_args_accepted_or_refused(argv: list[str]) -> None:
    """The CLI's train path up to the point it would write a run: parse, read the settings,
    resolve and validate. Only argparse's exit 2 or a ConfigError / DataError may come out."""
    from metalearn import cli
    from metalearn.engine.validate import make_config

    try:
        args = cli.build_parser().parse_args(argv)
        validate(make_config(cli.given_settings(args)))
    except SystemExit as err:
        assert err.code == 2
    except (ConfigError, DataError) as err:
        assert str(err)


@settings(max_examples=200, deadline=10_000, derandomize=True)
@given(
    st.one_of(
        st.binary(max_size=64),
        JSON.map(lambda v: json.dumps(v).encode()),
        st.dictionaries(SETTING_NAMES, JSON, max_size=4).map(lambda v: json.dumps(v).encode()),
    )
)
def test_generated_config_files_never_traceback(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("cfg") / "settings.json"
    path.write_bytes(content)
    _train_args_accepted_or_refused(["train", "--config", str(path)])


FLAGS = st.sampled_from(
    [
        "--n-way",
        "--n-shot",
        "--episodes",
        "--seed",
        "--lr",
        "--inner-lr",
        "--device",
        "--image-size",
        "--meta-batch",
        "--max-seconds",
        "--dataset",
        "--algorithm",
        "--head",
    ]
)
VALUES = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(str),
    st.text(max_size=6).filter(lambda t: not t.startswith("-")),
)


@settings(max_examples=200, deadline=10_000, derandomize=True)
@given(st.lists(st.tuples(FLAGS, VALUES), max_size=4))
def test_generated_flag_values_never_traceback(pairs):
    _train_args_accepted_or_refused(["train", *[x for pair in pairs for x in pair]])
