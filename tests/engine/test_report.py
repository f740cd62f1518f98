"""The comparison report: one HTML file with everything about the runs, working offline."""

import re

import pytest

from metalearn.config import RunConfig
from metalearn.engine.report import comparison_report
from metalearn.engine.run import execute
from metalearn.store import NoSuchRun, Store


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("report"))
    ids = []
    for algorithm in ("protonet", "matching"):
        cfg = RunConfig(
            algorithm=algorithm, episodes=20, eval_episodes=30, val_every=10, val_episodes=5
        )
        ids.append(store.create_run(cfg.to_json(), name=f"{algorithm} for the report"))
        execute(cfg, store, ids[-1])
    return store, ids


def test_the_report_holds_the_runs_scores_pairs_curves_settings_and_environment(two_runs):
    store, ids = two_runs
    page = comparison_report(store, ids)
    assert page.startswith("<!doctype html>") and page.endswith("</html>")
    for rid in ids:
        result = store.get_run(rid)["result"]
        assert rid[-6:] in page and f"{result['test_accuracy']:.3f}" in page
        assert f"{result['test_ci95']:.3f}" in page
    assert "protonet for the report" in page  # runs by their names
    assert re.search(r"(A better|B better|no significant difference)", page)
    assert page.count("<h2>") == 6
    # plotly.js inline exactly once (offline), then one chart per figure
    assert page.count("Plotly.newPlot") >= 3 and len(re.findall(r"plotly\.js v\d", page)) == 1
    assert not re.search(r"<script[^>]*\ssrc=", page)  # nothing fetched from a network
    # the setting that differs is marked; one that is the same is not
    row = re.search(r"<tr><td>algorithm</td>(.*?)</tr>", page).group(1)
    assert row.count('class="differs"') == 2
    same = re.search(r"<tr><td>n_way</td>(.*?)</tr>", page).group(1)
    assert "differs" not in same
    assert "python" in page and "torch" in page  # the environment


def test_the_cli_writes_the_report_and_refuses_unknown_runs(cli, two_runs, tmp_path):
    store, ids = two_runs
    out = cli("report", *ids, "-o", str(tmp_path / "r.html"), home=store.home)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "r.html").read_text().count("<h2>") == 6
    bad = cli("report", ids[0], "nope", "-o", str(tmp_path / "x.html"), home=store.home)
    assert bad.returncode == 2 and "nope" in bad.stderr and not (tmp_path / "x.html").exists()
    with pytest.raises(NoSuchRun):
        comparison_report(store, ["nope"])
