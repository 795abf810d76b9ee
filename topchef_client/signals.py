"""Signals and interpreter exit: how a worker learns that it must stop.

* ``StopSignals`` counts SIGINT and SIGTERM while ``serve_forever`` blocks:
  the first asks for a graceful stop, the second for an immediate one.
* ``exit_on_sigterm`` turns SIGTERM into ``SystemExit`` in a program that
  left it at its default, so that exit hooks run (a default SIGTERM kills
  the process on the spot).
* At interpreter exit, ``run_exit_hooks`` lets each running worker finish
  or give back its jobs; signals that arrive meanwhile cannot cut it short.
"""
import atexit
import logging
import signal
import threading
import weakref

from topchef_client.compat import monotonic
from topchef_client.lifecycle import DRAINING, RUNNING, STARTING

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Dict, Optional  # noqa: F401

log = logging.getLogger("topchef_client.worker")

#: The signals that stop a worker.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def in_main_thread():
    # type: () -> bool
    """Whether this is the main thread, the only one that may set signal handlers."""
    main_thread = getattr(threading, "main_thread", None)
    if main_thread is not None:
        return threading.current_thread() is main_thread()
    # Python 2.7 has no main_thread(), and at exit its current_thread() is a
    # dummy, even in the main thread: ask the signal module, which refuses
    # a handler from any other thread.
    handler = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, handler if handler is not None else signal.SIG_DFL)
    except ValueError:
        return False
    return True


def exit_on_sigterm():
    # type: () -> None
    """SIGTERM -> SystemExit, so that exit hooks run (only if nobody handles it)."""
    if in_main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        def exit_on_sigterm(signum, frame):
            raise SystemExit(128 + signum)
        signal.signal(signal.SIGTERM, exit_on_sigterm)


class StopSignals(object):
    """Counts SIGINT and SIGTERM while installed (main thread only; elsewhere a no-op).

    :param on_signal: called in the handler with the count so far (1, 2, ...);
        it must only set flags: the handler may have interrupted a thread
        that holds any lock.
    """

    def __init__(self, on_signal=None):
        # type: (Optional[Callable[[int], Any]]) -> None
        self.count = 0
        self.last = None  # type: Optional[int]
        self._on_signal = on_signal
        self._previous = {}  # type: Dict[int, Any]
        if in_main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._received)

    def _received(self, signum, frame):
        self.count += 1
        self.last = signum
        if self._on_signal is not None:
            self._on_signal(self.count)

    def restore(self):
        # type: () -> None
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.restore()


def block_until_stopped(worker, start=None, on_tick=None):
    # type: (Any, Optional[Callable[[], Any]], Optional[Callable[[], Any]]) -> Optional[int]
    """Wait for ``worker`` to stop; the first stop signal drains it, the second abandons.

    :param start: called once the signals are caught (to start the worker).
    :param on_tick: called every twentieth of a second while no signal comes.
    :returns: the signal that stopped the worker, if one did.

    Outside the main thread, signals are not this function's to take: it
    only waits.
    """
    def on_signal(count):
        # Only a flag: the handler may have interrupted a holder of any lock.
        # New jobs are refused at once; the loop below does the rest.
        if count == 1:
            worker.lifecycle.move_from_signal_handler(DRAINING, [STARTING, RUNNING])

    with StopSignals(on_signal) as signals:
        if start is not None:
            start()
        handled = 0
        # Short slices: Python 2.7 runs signal handlers only between them, and
        # a stop should follow its signal at once.
        while not worker.join(0.05):
            if signals.count > handled:
                handled = signals.count
                if handled == 1:
                    log.warning("signal %d: stopping after the running job(s); send it "
                                "again to stop at once", signals.last)
                    worker.drain()
                else:
                    log.warning("signal %d again: stopping now", signals.last)
                    worker.stop_now()
            elif on_tick is not None:
                on_tick()
    return signals.last if signals.count else None


def finish_at_exit(worker, hurry):
    # type: (Any, Callable[[], bool]) -> None
    """At interpreter exit: let running jobs finish for a while, then requeue them.

    :param hurry: true once a signal asks to give the jobs back at once.
    """
    if not worker.is_running:
        return
    worker.drain()
    busy = bool(worker.jobs.in_flight())
    if busy:
        log.warning("exiting with jobs running; waiting up to %.1f s for them",
                    worker.exit_grace_period)
    deadline = monotonic() + (worker.exit_grace_period if busy else 1.0)
    while not worker.join(0.1) and monotonic() < deadline and not hurry():
        pass
    worker.stop_now()


#: The workers that have started and not yet stopped, for the exit hook.
running_workers = weakref.WeakSet()  # type: weakref.WeakSet[Any]


def run_exit_hooks():
    # type: () -> None
    """At interpreter exit: each running worker finishes or gives back its jobs.

    SIGINT and SIGTERM are caught meanwhile, so that a second Ctrl-C cannot
    interrupt the hook half-way and leave a job WORKING for ever; instead,
    a signal makes the workers give their jobs back at once.
    """
    workers = list(running_workers)
    if not workers:
        return
    with StopSignals() as signals:
        for worker in workers:
            try:
                finish_at_exit(worker, lambda: signals.count > 0)
            except BaseException:
                log.exception("exit hook of %r failed", worker)


atexit.register(run_exit_hooks)
