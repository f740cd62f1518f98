"""The presenter password's backoff, on its own clock."""

import pytest

from pages._guard import Backoff


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_waits_after_five_wrong_tries_and_the_wait_doubles():
    clock = Clock()
    b = Backoff(clock=clock)
    for _ in range(5):
        assert b.wait("a") == 0
        b.failed("a")
        clock.now += 1
    assert 25 < b.wait("a") <= 30  # the 6th try within a minute waits
    assert b.wait("b") == 0  # another client does not
    clock.now += 30
    b.failed("a")
    assert b.wait("a") == 60
    clock.now += 60
    b.succeeded("a")
    assert b.wait("a") == 0


def test_many_clients_failing_together_make_everyone_wait():
    clock = Clock()
    b = Backoff(clock=clock, server_free=50)
    for i in range(50):
        b.failed(f"client {i}")  # one wrong try each: no client is over its own limit
    assert b.wait("client 0") == 30 and b.wait("a newcomer") == 30
    clock.now += 601  # quiet for ten minutes: all forgotten
    assert b.wait("a newcomer") == 0 and b.wait("client 0") == 0


def test_uploads_from_sessions_the_gate_does_not_open_are_refused_and_not_kept(monkeypatch):
    from starlette.exceptions import HTTPException
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    from pages import _server

    viewer = [True]
    monkeypatch.setattr(_server, "_viewer_mode", [])
    _server.guard_uploads(lambda: viewer[0])
    wrapped = MemoryUploadedFileManager.add_file
    _server.guard_uploads(lambda: viewer[0])  # again (serve.py, then app.py): one wrapper
    assert MemoryUploadedFileManager.add_file is wrapped
    manager = MemoryUploadedFileManager("/_stcore/upload_file")

    def put(session: str, name: str) -> None:
        manager.add_file(session, UploadedFileRec(name, name, "image/png", b"\0" * 1000))

    with pytest.raises(HTTPException) as refused:
        put("viewer", "a")
    assert refused.value.status_code == 403 and "viewers" in refused.value.detail
    assert manager.get_files("viewer", ["a"]) == []  # nothing kept
    _server.uploads.open("presenter")
    put("presenter", "b")
    assert [f.file_id for f in manager.get_files("presenter", ["b"])] == ["b"]
    _server.uploads.close("presenter")
    with pytest.raises(HTTPException):
        put("presenter", "c")
    viewer[0] = False  # not a view-only dashboard: anyone's uploads are kept
    put("viewer", "d")
    assert [f.file_id for f in manager.get_files("viewer", ["d"])] == ["d"]
