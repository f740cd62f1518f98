"""A run taken away as one file and brought back into another lab: what travels, and what a
bad file gets (a message, and nothing stored)."""

import io
import json
import zipfile

import pytest
import torch

from metalearn.data.base import DataError
from metalearn.engine.portable import export_bytes, import_run
from metalearn.store import Store


def test_an_exported_run_tests_the_same_in_a_fresh_lab(cli, tiny_run, tmp_path):
    """export -> import into an empty store -> eval: the same test accuracy (to 1e-6), its
    curves and per-episode scores kept, the original id remembered."""
    store, run_id = tiny_run
    file = tmp_path / "run.metalearn.zip"
    out = cli("export", run_id, "-o", str(file), home=store.home)
    assert out.returncode == 0, out.stderr
    assert file.is_file() and not list(tmp_path.glob("*.partial"))
    fresh = tmp_path / "other-lab"
    out = cli("import", str(file), "--json", home=fresh)
    assert out.returncode == 0, out.stderr
    new_id = json.loads(out.stdout)["run_id"]
    assert new_id != run_id
    theirs = json.loads(cli("eval", "--run", run_id, "--json", home=store.home).stdout)
    ours = json.loads(cli("eval", "--run", new_id, "--json", home=fresh).stdout)
    assert ours["test_accuracy"] == pytest.approx(theirs["test_accuracy"], abs=1e-6)
    other = Store(fresh)
    row = other.get_run(new_id)
    assert row["status"] == "completed" and row["config"] == store.get_run(run_id)["config"]
    assert row["result"]["imported_from"]["run_id"] == run_id
    assert other.episodes(new_id) == store.episodes(run_id)  # paired comparisons read these
    assert len(other.metrics(new_id)) == len(store.metrics(run_id)) > 0
    assert other.has_artifact(new_id, "checkpoint")


def _rewritten(data: bytes, **changes: bytes | None) -> bytes:
    """The exported file with members replaced (bytes) or left out (None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in changes:
                dst.writestr(info, src.read(info))
        for name, content in changes.items():
            if content is not None:
                dst.writestr(name, content)
    return out.getvalue()


def test_a_bad_file_gets_a_message_and_nothing_is_stored(tiny_run, tmp_path):
    store, run_id = tiny_run
    good = export_bytes(store, run_id)
    config = store.get_run(run_id)["config"]
    other_net = {**config, "hyper": {**config.get("hyper", {}), "backbone": "resnet12"}}
    other_model = json.dumps(other_net).encode()
    pickled = io.BytesIO()
    torch.save({"model": {}, "evil": object()}, pickled)  # needs full unpickling to read
    cases = {
        b"not a zip at all": "not a zip archive",
        _rewritten(good, **{"manifest.json": None}): "holds no manifest.json",
        _rewritten(good, **{"manifest.json": b'{"format": "other"}'}): "not a metalearn run",
        _rewritten(good, **{"checkpoint.pt": None}): "holds no checkpoint.pt",
        _rewritten(good, **{"config.json": other_model}): "does not fit its model",
        _rewritten(good, **{"checkpoint.pt": pickled.getvalue()}): "cannot be read safely",
        _rewritten(good, **{"result.json": b"[1, 2"}): "result.json is not JSON",
        good[: len(good) // 2]: "not a zip archive",  # cut short in a download
    }
    lab = Store(tmp_path / "lab")
    for data, words in cases.items():
        with pytest.raises(DataError, match=words):
            import_run(lab, data)
    assert lab.list_runs() == []
    assert [p for p in lab.home.iterdir() if p.is_dir()] == []  # no folder left behind


def test_only_a_completed_run_can_be_exported(tmp_path):
    from metalearn.config import RunConfig

    store = Store(tmp_path)
    queued = store.create_run(RunConfig().to_json())
    with pytest.raises(DataError, match="is queued: only a completed run can be exported"):
        export_bytes(store, queued)


def test_a_runs_name_and_note_travel_with_it_and_the_cli_names_runs(cli, tiny_run, tmp_path):
    store, run_id = tiny_run
    out = cli("name", run_id, "lesson 2 baseline", "--note", "beat this one", home=store.home)
    assert out.returncode == 0, out.stderr
    try:
        file = tmp_path / "named.metalearn.zip"
        assert cli("export", run_id, "-o", str(file), home=store.home).returncode == 0
        new_id = import_run(Store(tmp_path / "lab"), file.read_bytes())
        row = Store(tmp_path / "lab").get_run(new_id)
        assert (row["name"], row["note"]) == ("lesson 2 baseline", "beat this one")
        listed = cli("runs", home=store.home).stdout
        assert "[lesson 2 baseline]" in listed
        kept = cli("name", run_id, "renamed", home=store.home)  # the note stays unless given
        assert kept.returncode == 0 and store.get_run(run_id)["note"] == "beat this one"
        bad = cli("name", run_id, "x" * 81, home=store.home)
        assert bad.returncode == 2 and "at most 80 characters" in bad.stderr
    finally:
        store.name_run(run_id, None, None)  # the shared run as it was
