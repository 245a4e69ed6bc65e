"""The client-side limiter: never more calls in a second than the budget, and slots lost
to stalls are used later (simulated time: no wall clock involved)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.stripe.gateway import RateLimiter


class SimulatedTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


@given(st.lists(st.floats(0, 0.5), min_size=1, max_size=400), st.sampled_from([10, 25, 95]))
def test_no_trailing_second_ever_holds_more_than_the_budget(stalls: list[float], rate: int) -> None:
    time = SimulatedTime()
    limiter = RateLimiter(rate, clock=time.clock, sleep=time.sleep)
    sent = []
    for stall in stalls:
        limiter.acquire()
        sent.append(time.now)
        time.sleep(stall if stall > 0.3 else 0.0)  # some calls stall their sender
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 1.0) <= rate


def test_without_stalls_calls_are_spread_at_the_rate() -> None:
    time = SimulatedTime()
    limiter = RateLimiter(50, clock=time.clock, sleep=time.sleep)
    for _ in range(500):
        limiter.acquire()
    assert 9.0 <= time.now <= 10.0  # 500 calls at 50 per second: the 500th in the 10th second


def test_slots_lost_to_a_stall_are_caught_up_within_the_budget() -> None:
    time = SimulatedTime()
    limiter = RateLimiter(50, clock=time.clock, sleep=time.sleep)
    for _ in range(25):
        limiter.acquire()
    time.sleep(0.5)  # every sender busy elsewhere for half a second
    for _ in range(25):
        limiter.acquire()
    # An evenly spaced limiter would send the 50th at 0.5 + 0.5 + 24 x 0.02 = 1.48 s;
    # this one catches up on the slots lapsed during the stall.
    assert time.now < 1.3
