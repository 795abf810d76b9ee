"""``polling``: Backoff and JobSource, with a fake queue instead of a server.

The pauses of ``JobSource`` are checked against a fake clock put in place of
``polling.monotonic``: a thread blocked in ``take(wait=True)`` re-reads it
after each short real wait and polls only once the test has moved it past
the pause, so "not before" and "at" are both checked without sleeping.
"""
import random
import sys
import threading

import pytest

from topchef_client import polling
from topchef_client.models import REGISTERED, Job
from topchef_client.polling import PICK_WINDOW, Backoff, JobSource

from support import wait_until

#: Long enough that a thread still waiting for it fails the test's join.
FOREVER = 60.0
#: How long a join may take before the test calls the thread stuck.
JOIN_TIMEOUT = 5.0


def job(number):
    return Job("job-%02d" % number, REGISTERED, {"value": number})


def jobs(*numbers):
    return [job(number) for number in numbers]


def ids(job_list):
    return sorted(item.id for item in job_list)


class Boom(Exception):
    """The failure of a poll."""


class FakeQueue(object):
    """A ``fetch`` callable: each call returns the next page, or raises it if it is an exception.

    Once the scripted pages are used up it returns empty pages. ``during``
    runs inside the call, as if another thread acted while the poll is under
    way; with ``blocking`` the call waits for ``release`` first.
    """

    def __init__(self, *pages):
        self.pages = list(pages)
        self.calls = 0
        self.during = None
        self.blocking = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
            outcome = self.pages.pop(0) if self.pages else []
        self.entered.set()
        if self.blocking:
            assert self.release.wait(JOIN_TIMEOUT), "the test never released the poll"
        if self.during is not None:
            self.during()
        if isinstance(outcome, Exception):
            raise outcome
        return list(outcome)


class Switch(object):
    """A ``serving`` callable that the test turns off."""

    def __init__(self):
        self.on = True

    def __call__(self):
        return self.on


class FakeClock(object):
    """Stands for ``polling.monotonic``: still until the test moves it; counts its readings."""

    def __init__(self, now=1000.0):
        self.now = now
        self.reads = 0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.reads += 1
            return self.now


class Taker(threading.Thread):
    """A thread that calls ``take()`` once and keeps what it returned or raised."""

    def __init__(self, source, wait=True):
        threading.Thread.__init__(self, name="test-taker")
        self.daemon = True
        self.source = source
        self.wait = wait
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = self.source.take(wait=self.wait)
        except Exception as error:
            self.error = error

    def finish(self):
        self.join(JOIN_TIMEOUT)
        assert not self.is_alive(), "take() still blocks after %s s" % JOIN_TIMEOUT
        return self


def started(*threads):
    for thread in threads:
        thread.start()
    return threads


def is_waiting(thread):
    """Whether ``thread`` is blocked in a ``threading`` wait (a Condition's or an Event's).

    Tests use it to be sure a thread is already waiting before they act,
    instead of sleeping and hoping it got there.
    """
    frame = sys._current_frames().get(thread.ident)
    return (frame is not None and frame.f_code.co_name == "wait" and
            frame.f_globals.get("__name__") == "threading")


def wait_until_waiting(*threads):
    for thread in threads:
        wait_until(lambda: is_waiting(thread), JOIN_TIMEOUT,
                   message="%s never started waiting" % thread.name)


def exact(first, cap):
    return Backoff(first, cap, jitter=False)


def make_source(queue, idle=None, failing=None, serving=None):
    idle = idle or exact(FOREVER, FOREVER)
    failing = failing or exact(FOREVER, FOREVER)
    if serving is None:
        return JobSource(queue, idle, failing)
    return JobSource(queue, idle, failing, serving=serving)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(polling, "monotonic", fake)
    return fake


@pytest.fixture
def seeded_random():
    """Seed the shared ``random`` module; give its state back afterwards."""
    state = random.getstate()
    random.seed(20170815)
    yield random
    random.setstate(state)


def check_next_poll_waits(source, queue, clock, pause):
    """Check that a ``take(wait=True)`` polls once ``pause`` has passed on ``clock``, not sooner.

    The clock is still since the last poll, which started the pause. Returns
    the finished ``Taker``.
    """
    polls = queue.calls
    start = clock.now
    clock.now = start + pause * 0.75
    taker = Taker(source)
    taker.start()
    reads = clock.reads
    # Two readings after the first: the thread has looked at the clock, found
    # the pause not over and looked again, all without polling.
    wait_until(lambda: clock.reads >= reads + 3, JOIN_TIMEOUT, interval=0.002)
    assert queue.calls == polls, "polled %s s into a pause of %s s" % (pause * 0.75, pause)
    assert taker.is_alive()
    clock.now = start + pause
    taker.finish()
    assert queue.calls == polls + 1
    return taker


# Backoff

def test_the_first_pause_is_first():
    assert exact(0.5, 8).next() == 0.5


def test_each_pause_doubles_the_one_before_up_to_the_cap():
    backoff = exact(1, 8)
    assert [backoff.next() for _ in range(6)] == [1, 2, 4, 8, 8, 8]


def test_a_cap_that_is_not_a_power_of_two_times_first_is_reached_exactly():
    backoff = exact(1, 5)
    assert [backoff.next() for _ in range(5)] == [1, 2, 4, 5, 5]


def test_reset_makes_the_next_pause_the_first_again():
    backoff = exact(1, 8)
    for _ in range(4):
        backoff.next()
    backoff.reset()
    assert [backoff.next() for _ in range(2)] == [1, 2]


def test_a_cap_below_first_leaves_every_pause_at_first():
    backoff = exact(5, 1)
    assert [backoff.next() for _ in range(3)] == [5, 5, 5]


def test_a_jittered_pause_is_drawn_from_the_upper_half_of_the_exact_one(seeded_random):
    nominal = [1, 2, 4, 8, 8]
    draws = []
    for _ in range(200):
        backoff = Backoff(1, 8)  # jitter is on by default
        draws.append([backoff.next() / expected for expected in nominal])
    ratios = [ratio for row in draws for ratio in row]
    assert all(0.5 <= ratio <= 1.0 for ratio in ratios)
    # Spread over the whole half, not stuck at one end.
    assert min(ratios) < 0.55 and max(ratios) > 0.95


def test_jitter_reset_makes_the_next_pause_about_first_again(seeded_random):
    backoff = Backoff(1, 8)
    for _ in range(4):
        backoff.next()
    backoff.reset()
    assert 0.5 <= backoff.next() <= 1.0


# JobSource: handing jobs out

def test_take_returns_a_job_of_the_page():
    queue = FakeQueue(jobs(1))
    source = make_source(queue)
    assert source.take(wait=False) == job(1)
    assert queue.calls == 1


def test_the_first_take_that_waits_polls_at_once():
    queue = FakeQueue(jobs(1))
    taker = Taker(make_source(queue), wait=True)
    taker.start()
    assert taker.finish().result == job(1)


def test_the_jobs_of_one_page_are_handed_out_without_polling_again():
    queue = FakeQueue(jobs(1, 2, 3))
    source = make_source(queue)
    taken = [source.take(wait=False) for _ in range(3)]
    assert ids(taken) == ids(jobs(1, 2, 3))
    assert queue.calls == 1


def test_a_used_up_page_makes_take_without_wait_poll_again():
    queue = FakeQueue(jobs(1), jobs(2))
    source = make_source(queue)
    source.take(wait=False)
    assert source.take(wait=False) == job(2)
    assert queue.calls == 2


def test_a_job_in_flight_is_left_out_of_the_next_page():
    # The server lists a job as REGISTERED until its worker claims it.
    queue = FakeQueue(jobs(1), jobs(1, 2))
    source = make_source(queue)
    assert source.take(wait=False) == job(1)
    assert source.take(wait=False) == job(2)
    assert source.take(wait=False) is None
    assert queue.calls == 3


def test_a_page_of_jobs_in_flight_only_gives_none():
    queue = FakeQueue(jobs(1), jobs(1))
    source = make_source(queue)
    source.take(wait=False)
    assert source.take(wait=False) is None
    assert queue.calls == 2


def test_a_job_done_while_the_page_was_requested_is_left_out_of_that_page():
    queue = FakeQueue(jobs(1), jobs(1, 2))
    source = make_source(queue)
    first = source.take(wait=False)
    # Finished by another thread while the second page was on its way: the
    # server computed that page before it knew.
    queue.during = lambda: source.done(first)
    assert source.take(wait=False) is not None
    queue.during = None
    assert source.take(wait=False) is None
    assert source.in_flight() == [job(2)]


def test_a_job_done_is_forgotten_in_time_so_a_requeued_one_is_served_again():
    # For example put back by stop_now() of another worker.
    queue = FakeQueue(jobs(1), jobs(1), jobs(1), jobs(1))
    source = make_source(queue)
    source.done(source.take(wait=False))
    served_again = [source.take(wait=False) for _ in range(3)]
    assert job(1) in served_again


def test_no_job_is_handed_out_twice_when_every_page_lists_the_jobs_in_flight():
    page = jobs(*range(25))
    queue = FakeQueue(*[page] * 10)
    source = make_source(queue)
    taken = []
    lock = threading.Lock()

    def take_all():
        while True:
            item = source.take(wait=False)
            if item is None:
                return
            with lock:
                taken.append(item)

    threads = [threading.Thread(target=take_all) for _ in range(4)]
    started(*threads)
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
        assert not thread.is_alive()
    assert ids(taken) == ids(page)


def test_in_flight_lists_the_jobs_taken_and_not_done():
    source = make_source(FakeQueue(jobs(1, 2, 3)))
    assert source.in_flight() == []
    first, second = source.take(wait=False), source.take(wait=False)
    assert ids(source.in_flight()) == ids([first, second])
    source.done(first)
    assert source.in_flight() == [second]


def test_a_job_is_picked_among_the_first_pick_window_jobs_of_the_page(seeded_random):
    page = jobs(*range(3 * PICK_WINDOW))
    picked = set()
    for _ in range(100):
        source = make_source(FakeQueue(page))
        picked.add(page.index(source.take(wait=False)))
    assert max(picked) < PICK_WINDOW
    # At random, not always the oldest.
    assert len(picked) > 1


def test_the_window_moves_down_the_page_as_jobs_are_taken(seeded_random):
    page = jobs(*range(3 * PICK_WINDOW))
    source = make_source(FakeQueue(page))
    for taken in range(2 * PICK_WINDOW):
        remaining = [item for item in page if item not in source.in_flight()]
        assert source.take(wait=False) in remaining[:PICK_WINDOW], "take %d" % taken


# JobSource: one poll at a time

def a_poll_under_way(page):
    """A source whose fetch of ``page`` blocks until released, and the thread in it.

    Returns (queue, switch of serving(), source, the polling Taker).
    """
    queue = FakeQueue(page)
    queue.blocking = True
    serving = Switch()
    source = make_source(queue, serving=serving)
    poller = Taker(source)
    poller.start()
    assert queue.entered.wait(JOIN_TIMEOUT)
    return queue, serving, source, poller


def a_waiter(source):
    """A Taker already waiting in take() for the poll under way."""
    waiter = Taker(source)
    waiter.start()
    wait_until_waiting(waiter)
    return waiter


def test_threads_that_take_during_a_poll_wait_for_its_page_and_share_it():
    queue = FakeQueue(jobs(1, 2, 3))
    queue.blocking = True
    source = make_source(queue)
    poller = Taker(source)
    poller.start()
    assert queue.entered.wait(JOIN_TIMEOUT)
    others = started(Taker(source), Taker(source, wait=False))
    wait_until_waiting(*others)
    assert queue.calls == 1
    queue.release.set()
    results = [taker.finish().result for taker in (poller,) + others]
    assert ids(results) == ids(jobs(1, 2, 3))
    assert queue.calls == 1


def test_a_failed_poll_raises_in_the_polling_thread_only():
    queue, serving, source, poller = a_poll_under_way(Boom("queue unreachable"))
    waiter = a_waiter(source)
    queue.release.set()
    assert isinstance(poller.finish().error, Boom)
    # The waiter does not poll during the failure pause (FOREVER): it goes on
    # waiting, until the source stops serving.
    serving.on = False
    source.wake()
    assert waiter.finish().error is None and waiter.result is None
    assert queue.calls == 1


# JobSource: pauses

def test_an_empty_page_gives_none_to_a_take_that_waits():
    taker = Taker(make_source(FakeQueue([])))
    taker.start()
    assert taker.finish().result is None and taker.error is None


def test_an_empty_page_makes_the_next_poll_wait_for_the_idle_pause(clock):
    queue = FakeQueue([], jobs(1))
    source = make_source(queue, idle=exact(0.02, 0.08))
    assert source.take(wait=False) is None
    assert check_next_poll_waits(source, queue, clock, 0.02).result == job(1)


def test_the_idle_pause_doubles_while_the_queue_stays_empty(clock):
    queue = FakeQueue([], [], [], jobs(1))
    source = make_source(queue, idle=exact(0.02, 0.04))
    assert source.take(wait=False) is None
    assert check_next_poll_waits(source, queue, clock, 0.02).result is None
    assert check_next_poll_waits(source, queue, clock, 0.04).result is None
    # ... up to its cap
    assert check_next_poll_waits(source, queue, clock, 0.04).result == job(1)


def test_a_non_empty_page_resets_the_idle_pause(clock):
    queue = FakeQueue([], [], jobs(1), [], jobs(2))
    source = make_source(queue, idle=exact(0.02, 0.08))
    assert source.take(wait=False) is None
    check_next_poll_waits(source, queue, clock, 0.02)
    assert check_next_poll_waits(source, queue, clock, 0.04).result == job(1)
    # The page is used up: the next poll is at once, and finds nothing...
    assert source.take(wait=True) is None and queue.calls == 4
    # ... after which the pause starts from the first again.
    assert check_next_poll_waits(source, queue, clock, 0.02).result == job(2)


def test_take_without_wait_ignores_the_idle_pause(clock):
    queue = FakeQueue([], jobs(1))
    source = make_source(queue, idle=exact(FOREVER, FOREVER))
    assert source.take(wait=False) is None
    taker = Taker(source, wait=False)
    taker.start()
    assert taker.finish().result == job(1)


def test_a_failed_poll_raises_to_the_caller():
    source = make_source(FakeQueue(Boom("queue unreachable")))
    with pytest.raises(Boom):
        source.take(wait=False)


def test_a_failed_poll_pauses_the_next_by_the_failure_backoff_then_resets_it(clock):
    queue = FakeQueue(Boom("1"), Boom("2"), jobs(1), Boom("3"), [])
    source = make_source(queue, idle=exact(FOREVER, FOREVER), failing=exact(0.02, 0.08))
    with pytest.raises(Boom):
        source.take(wait=False)
    assert isinstance(check_next_poll_waits(source, queue, clock, 0.02).error, Boom)
    assert check_next_poll_waits(source, queue, clock, 0.04).result == job(1)
    # A poll that worked resets the failure backoff.
    with pytest.raises(Boom):
        source.take(wait=False)
    assert check_next_poll_waits(source, queue, clock, 0.02).result is None


# JobSource: serving, wake, restart, burst

def test_a_source_serves_by_default():
    queue = FakeQueue(jobs(1))
    source = JobSource(queue, exact(FOREVER, FOREVER), exact(FOREVER, FOREVER))
    assert source.take(wait=False) == job(1)
    assert not source.burst_done


def test_while_serving_is_false_take_returns_none_without_polling():
    queue = FakeQueue(jobs(1, 2))
    serving = Switch()
    source = make_source(queue, serving=serving)
    source.take(wait=False)
    serving.on = False
    # Not even the job left in the page.
    assert source.take(wait=False) is None
    assert source.take(wait=True) is None
    assert queue.calls == 1


def test_wake_releases_at_once_every_take_blocked_in_the_idle_pause_once_serving_is_false():
    queue = FakeQueue([])
    serving = Switch()
    source = make_source(queue, idle=exact(FOREVER, FOREVER), serving=serving)
    assert source.take(wait=False) is None
    # Both wait for the end of a pause of FOREVER.
    takers = started(Taker(source), Taker(source))
    wait_until_waiting(*takers)
    serving.on = False
    source.wake()
    for taker in takers:
        assert taker.finish().result is None and taker.error is None
    assert queue.calls == 1


def test_wake_releases_at_once_a_take_waiting_for_another_threads_poll():
    queue, serving, source, poller = a_poll_under_way(jobs(1))
    waiter = a_waiter(source)
    serving.on = False
    source.wake()
    assert waiter.finish().result is None
    queue.release.set()
    poller.finish()


def test_a_take_whose_poll_ends_after_serving_turned_false_returns_none():
    queue, serving, source, poller = a_poll_under_way(jobs(1))
    serving.on = False
    source.wake()
    queue.release.set()
    assert poller.finish().result is None
    assert source.in_flight() == []


def test_without_wake_a_blocked_take_sees_serving_false_when_its_wait_ends():
    queue = FakeQueue([])
    serving = Switch()
    source = make_source(queue, idle=exact(0.05, 0.05), serving=serving)
    assert source.take(wait=False) is None
    taker = Taker(source)
    taker.start()
    wait_until_waiting(taker)
    serving.on = False
    # Instead of polling when the pause ends, it returns.
    assert taker.finish().result is None
    assert queue.calls == 1


def test_wake_while_still_serving_does_not_cut_the_pause_short(clock):
    queue = FakeQueue([])
    serving = Switch()
    source = make_source(queue, idle=exact(FOREVER, FOREVER), serving=serving)
    assert source.take(wait=False) is None
    reads = clock.reads
    taker = Taker(source)
    taker.start()
    wait_until(lambda: clock.reads > reads and is_waiting(taker), JOIN_TIMEOUT)
    reads = clock.reads
    source.wake()
    # It has looked again, and waits again.
    wait_until(lambda: clock.reads > reads, JOIN_TIMEOUT)
    assert taker.is_alive() and queue.calls == 1
    serving.on = False
    source.wake()
    assert taker.finish().result is None
    assert queue.calls == 1


def test_restart_forgets_the_old_page():
    queue = FakeQueue(jobs(1, 2, 3), jobs(4))
    source = make_source(queue)
    source.take(wait=False)
    source.restart()
    # The two jobs left of the old page may be stale by now.
    assert source.take(wait=False) == job(4)
    assert queue.calls == 2


def test_after_restart_the_first_take_polls_at_once_whatever_the_pause():
    queue = FakeQueue([], jobs(1))
    source = make_source(queue, idle=exact(FOREVER, FOREVER))
    assert source.take(wait=False) is None
    source.restart()
    taker = Taker(source, wait=True)
    taker.start()
    assert taker.finish().result == job(1)


def test_in_burst_mode_an_empty_poll_sets_burst_done():
    queue = FakeQueue(jobs(1), [], jobs(2))
    source = make_source(queue)
    source.restart(burst=True)
    assert source.take(wait=False) == job(1)
    assert not source.burst_done
    assert source.take(wait=False) is None
    assert source.burst_done
    assert source.take(wait=False) is None and source.take(wait=True) is None
    assert queue.calls == 2


def test_outside_burst_mode_an_empty_poll_leaves_burst_done_unset():
    source = make_source(FakeQueue([]))
    assert source.take(wait=False) is None
    assert not source.burst_done


def test_restart_without_burst_clears_burst_done():
    queue = FakeQueue([], jobs(1))
    source = make_source(queue)
    source.restart(burst=True)
    source.take(wait=False)
    source.restart()
    assert not source.burst_done
    assert source.take(wait=False) == job(1)
