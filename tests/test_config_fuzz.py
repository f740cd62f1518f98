"""Generated settings, good and bad: each is either accepted or refused with a ConfigError that
says what is wrong - never another exception (which would be a traceback in the UI or CLI)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metalearn.config import ConfigError, RunConfig

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10_000),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)
FIELDS = {
    "algorithm": st.one_of(st.sampled_from(["protonet", "finetune", "maml", "meta_lstm"]), ANY),
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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=FIELDS))
def test_generated_configs_are_accepted_or_clearly_refused(data):
    try:
        cfg = RunConfig.from_dict(data)
        cfg.validate()
    except ConfigError as err:
        assert err.problems and all(isinstance(p, str) and p for p in err.problems)
        assert "invalid settings" in str(err)
