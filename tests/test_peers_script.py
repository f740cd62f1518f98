"""The peer race (`scripts/peers.py`): its alignment helper always; the races themselves where
the peers are installed (`bash scripts/install_peers.sh`; marker `peers`)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import peers  # noqa: E402

from metalearn.models import Conv4  # noqa: E402
from metalearn.models.norm import BatchStatsNorm2d  # noqa: E402


def test_textbook_copy_computes_the_same_function():
    torch.manual_seed(0)
    model = nn.Sequential(Conv4(1, 28, running_stats=False), nn.Linear(64, 5)).double()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, BatchStatsNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    native = peers.textbook_model(model)
    assert not any(isinstance(m, BatchStatsNorm2d) for m in native.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in native.modules()) == 4
    block = native[0].encoder[0]
    assert isinstance(block[2], nn.ReLU) and isinstance(block[3], nn.MaxPool2d)
    x = torch.randn(6, 1, 28, 28, dtype=torch.float64)
    assert torch.allclose(model(x), native(x), atol=1e-12)
    assert any(isinstance(m, BatchStatsNorm2d) for m in model.modules())  # the original kept


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@pytest.mark.peers
@pytest.mark.parametrize(
    ("algorithm", "peer", "settings"),
    [
        ("maml", "learn2learn", {"meta_batch": 2, "maml_path": "loop"}),
        ("maml", "higher", {"meta_batch": 2, "maml_path": "threads"}),
        ("fomaml", "learn2learn", {"meta_batch": 2, "maml_path": "loop"}),
        ("metasgd", "learn2learn", {"meta_batch": 2, "maml_path": "loop"}),
        ("anil", "learn2learn", {"meta_batch": 2, "maml_path": "loop"}),
        ("protonet", "easyfsl", {"n_way": 5, "n_shot": 1}),
    ],
)
def test_race_computes_what_the_peer_computes(algorithm, peer, settings):
    if not installed(peer):
        pytest.skip(f"{peer} not installed (bash scripts/install_peers.sh)")
    row = peers.race(algorithm, peer, settings, steps=1, rounds=2, memory=False)
    assert row["grad_rel_diff_float64"] < 1e-10
    assert row["grad_rel_diff"] < 1e-4
    assert row["rounds"] == 2 and 0 < row["ratio_min"] <= row["ratio_median"] <= row["ratio_max"]


def test_a_partial_rerun_keeps_the_other_races_rows(tmp_path):
    """`--algorithms protonet` replaces the ProtoNet rows of the section; the others stay."""
    spec = importlib.util.spec_from_file_location(
        "benchmarks", Path(__file__).resolve().parents[1] / "scripts" / "benchmarks.py"
    )
    benchmarks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmarks)
    kept = tmp_path / "peers.jsonl"
    old = {"section": "cpu", "algorithm": "maml", "peer": "higher", "meta_batch": 4}
    proto = {"section": "cpu", "algorithm": "protonet", "peer": "easyfsl", "n_way": 20}
    lines = [
        {**old, "ratio_median": 1.1},
        {**proto, "ratio_median": 0.9},
        {**proto, "ratio_median": 1.05},  # the rerun
        {**proto, "ratio_median": 1.2, "section": "cuda"},  # another machine's section
    ]
    kept.write_text("".join(f"{json.dumps(r)}\n" for r in lines))
    rows = benchmarks.latest_rows(kept, "cpu")
    assert [(r["algorithm"], r["ratio_median"]) for r in rows] == [
        ("maml", 1.1),
        ("protonet", 1.05),
    ]
