"""The presenter password's backoff, on its own clock."""

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
