"""The adversary script's counter itself: what it calls handled, and what it does not."""

import importlib.util
import time
from pathlib import Path

from metalearn.config import ConfigError

spec = importlib.util.spec_from_file_location(
    "adversary", Path(__file__).resolve().parents[1] / "scripts" / "adversary.py"
)
adversary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(adversary)


def test_clear_errors_are_handled_and_anything_else_is_not():
    def refused():
        raise ConfigError(["n_way must be at least 2"])

    def crashed():
        raise AttributeError("'str' object has no attribute 'get'")

    assert adversary.handled(lambda: None) is None
    assert adversary.handled(refused) is None
    assert "AttributeError" in adversary.handled(crashed)
    assert adversary.handled(lambda: time.sleep(5), seconds=1) == "no answer in 1 s"


def test_a_bad_flag_value_goes_the_cli_way():
    assert adversary.handled(lambda: adversary.train_args(["--n-way", "abc"])) is None
    assert adversary.handled(lambda: adversary.train_args(["--n-way", "0"])) is None
