import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("METALEARN_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Every test session starts with an empty tensor cache, so cache code paths are exercised."""
    os.environ["METALEARN_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty runs directory for this test."""
    monkeypatch.setenv("METALEARN_HOME", str(tmp_path / "runs"))
    return tmp_path / "runs"


def real_omniglot() -> Path | None:
    base = REAL_DATA / "omniglot-py"
    return (
        REAL_DATA
        if (base / "images_background.zip").exists() or (base / "images_background").is_dir()
        else None
    )
