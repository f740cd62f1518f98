"""The launcher: starting the dashboard prints nothing but Streamlit's own address lines."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.integration
def test_the_launcher_imports_no_cache_that_warns_outside_a_server():
    """Six "No runtime found, using MemoryCacheStorageManager" warnings greeted every start:
    serve.py imported the pages' cached store reads before the server existed."""
    out = subprocess.run(
        [sys.executable, "-c", "import serve"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "MemoryCacheStorageManager" not in out.stderr, out.stderr
    assert "No runtime found" not in out.stderr
