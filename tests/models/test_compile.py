"""`compile`: torch.compile of the feature network (and of SNAIL's sequence layers) runs the same
maths as the eager network on the same weights, and is refused where it cannot run."""

import pytest
import torch

from metalearn.algorithms import ALGORITHMS
from metalearn.config import ConfigError, RunConfig
from metalearn.data import DATASETS, EpisodeSampler
from metalearn.engine.validate import make_config, validate


def build(name, compiled, dtype=torch.float32, **settings):
    cfg = make_config({"algorithm": name, "dataset": "glyphs", "compile": compiled, **settings})
    torch.manual_seed(0)
    return ALGORITHMS[name](cfg, DATASETS["glyphs"].describe(None), 10).to(dtype)


def episode(n_way, n_shot, n_query, dtype=torch.float32, seed=0):
    split = DATASETS["glyphs"].load(None, "train")
    e = EpisodeSampler(split, n_way, n_shot, n_query, seed).sample()
    e.support, e.query = e.support.to(dtype), e.query.to(dtype)
    return e


def gradients(algo, e) -> torch.Tensor:
    torch.manual_seed(5)  # SNAIL draws its support order in training
    loss, _ = algo.loss([e])
    loss.backward()
    return torch.cat([p.grad.flatten() for p in algo.parameters() if p.grad is not None])


@pytest.mark.compile
def test_compiled_protonet_has_the_eager_gradients_and_the_same_saved_weights():
    """In float64 (so that rounding cannot hide a different computation): the gradients of a
    compiled and an eager ProtoNet on the same weights and episode agree to 1e-9 relative."""
    eager = build("protonet", False, torch.float64, n_way=5, n_shot=2)
    compiled = build("protonet", True, torch.float64, n_way=5, n_shot=2)
    assert list(compiled.state_dict()) == list(eager.state_dict())  # saved models interchange
    compiled.load_state_dict(eager.state_dict())
    e = episode(5, 2, 3, torch.float64)
    g_eager, g_compiled = gradients(eager, e), gradients(compiled, e)
    assert compiled.backbone._compiled_call_impl is not None  # it did run compiled
    assert ((g_compiled - g_eager).norm() / g_eager.norm()).item() < 1e-9


@pytest.mark.compile
def test_compiled_snail_scores_and_gradients_are_the_eager_ones():
    eager = build("snail", False, torch.float64, n_query=2)
    compiled = build("snail", True, torch.float64, n_query=2)
    compiled.load_state_dict(eager.state_dict())
    e = episode(5, 1, 2, torch.float64, seed=1)
    g_eager, g_compiled = gradients(eager, e), gradients(compiled, e)
    assert compiled.read is not None and eager.read is None
    assert ((g_compiled - g_eager).norm() / g_eager.norm()).item() < 1e-9
    eager.eval(), compiled.eval()
    with torch.no_grad():
        assert torch.allclose(compiled.predict(e), eager.predict(e), atol=1e-9)


@pytest.mark.compile
@pytest.mark.parametrize("name", ["maml", "anil"])
def test_compiled_maml_family_has_the_eager_meta_gradient(name):
    """Second-order MAML with each task compiled whole (inner gradient steps included, which the
    meta-gradient differentiates through): the same meta-gradient as all-eager, float64, on the
    same weights. (Meta-SGD runs MAML's code with tensor step sizes; measured to pass too, left
    out of the suite for its ~55 s of compiling.)"""
    settings = {"maml_path": "loop", "meta_batch": 2, "n_query": 3}
    eager = build(name, False, torch.float64, **settings)
    compiled = build(name, True, torch.float64, **settings)
    compiled.load_state_dict(eager.state_dict())
    calls = []
    whole = compiled.compiled
    compiled.compiled = lambda *args: calls.append(1) or whole(*args)
    batch = [episode(5, 1, 3, torch.float64, seed=s) for s in (0, 1)]
    grads = []
    for algo in (eager, compiled):
        algo.train_step(batch, torch.optim.SGD(algo.parameters(), lr=0.0))
        grads.append(torch.cat([p.grad.flatten() for p in algo.parameters()]))
    assert eager.compiled is None and len(calls) == 2  # each task of the meta-batch compiled
    assert ((grads[1] - grads[0]).norm() / grads[0].norm()).item() < 1e-9
    with torch.no_grad():  # test time: eager (no meta-gradient to take)
        compiled.eval(), compiled.predict(batch[0])
    assert len(calls) == 2


def test_compile_needs_a_cxx_compiler(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no compiler on this PATH
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(ConfigError, match=r"compile needs a C\+\+ compiler.*turn compile off"):
        validate(RunConfig(compile=True))
    validate(RunConfig(compile=False))  # off: no compiler needed
    monkeypatch.setenv("CXX", "/nowhere/g++")
    with pytest.raises(ConfigError, match="compile needs"):
        validate(RunConfig(compile=True))


def test_compile_is_a_setting_where_it_is_implemented():
    assert any(s.name == "compile" for s in ALGORITHMS["protonet"].settings)
    assert any(s.name == "compile" for s in ALGORITHMS["maml"].settings)
    with pytest.raises(ConfigError, match="'compile' is not a setting of maml_pp"):
        validate(RunConfig(algorithm="maml_pp", compile=True))
    for path in ("vmap", "threads"):  # compiled tasks run one after another
        with pytest.raises(ConfigError, match=f"not on maml_path '{path}'; choose loop or auto"):
            validate(RunConfig(algorithm="maml", compile=True, maml_path=path))
    validate(RunConfig(algorithm="maml", compile=True, maml_path="loop"))
