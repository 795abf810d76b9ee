"""Sample ``Client`` subclasses for the tests.

The classes used with ``isolation="process"`` live here, at the top level of
an importable module: a job process re-creates its worker by importing the
class by name.
"""
import collections
import ctypes
import io
import os
import signal
import threading
import time

from topchef_client import Client, Retry
from topchef_client.demo import JOB_REGISTRATION_SCHEMA, JOB_RESULT_SCHEMA, AddOne  # noqa: F401

#: The README's example (its schemas and worker are the demo's): an integer
#: from 1 to 10 in, an integer out.
ADD_ONE_REGISTRATION_SCHEMA = JOB_REGISTRATION_SCHEMA
ADD_ONE_RESULT_SCHEMA = JOB_RESULT_SCHEMA
#: Any integer, so that many jobs can each have their own value.
COUNTER_REGISTRATION_SCHEMA = {
    "type": "object",
    "properties": {"value": {"type": "integer"}},
    "required": ["value"],
}
#: Any object: the parameters and results of ``Controlled``, whose results
#: carry more than a value and whose failures must fit in its result on 2017.
ANY_OBJECT_SCHEMA = {"type": "object"}
#: ADD_ONE_RESULT_SCHEMA without "required": an error report satisfies it.
LENIENT_RESULT_SCHEMA = {
    "type": "object",
    "properties": {"value": {"type": "integer"}},
}


class Recording(Client):
    """AddOne that counts how often it ran each set of parameters."""

    def __init__(self, *args, **kwargs):
        Client.__init__(self, *args, **kwargs)
        self.runs = collections.Counter()
        self._runs_lock = threading.Lock()

    def run(self, parameters):
        with self._runs_lock:
            self.runs[parameters["value"]] += 1
        return {"value": parameters["value"] + 1}


class Raising(Client):
    """Fails every job with an exception."""

    def run(self, parameters):
        raise ValueError("cannot handle %r" % (parameters,))


class ReturnsList(Client):
    """Returns something that is not a dict."""

    def run(self, parameters):
        return [parameters["value"]]


class BreaksResultSchema(Client):
    """Returns a dict that breaks ADD_ONE_RESULT_SCHEMA."""

    def run(self, parameters):
        return {"value": "not a number"}


class Blocking(Client):
    """Runs until the test lets it finish: ``started`` and ``release`` events."""

    def __init__(self, *args, **kwargs):
        Client.__init__(self, *args, **kwargs)
        self.started = threading.Event()
        self.release = threading.Event()

    def run(self, parameters):
        self.started.set()
        self.release.wait(30)
        return {"value": parameters["value"] + 1}


def counted(worker_class):
    """A subclass of ``worker_class`` whose ``calls`` lists the parameters of every run."""

    class Counted(worker_class):
        def __init__(self, *args, **kwargs):
            worker_class.__init__(self, *args, **kwargs)
            self.calls = []

        def run(self, parameters):
            self.calls.append(parameters)
            return worker_class.run(self, parameters)

    Counted.__name__ = "Counted" + worker_class.__name__
    return Counted


class SlowRecording(Recording):
    """Recording that takes a few milliseconds per job."""

    delay = 0.01

    def run(self, parameters):
        time.sleep(self.delay)
        return Recording.run(self, parameters)


class SlowRecordingWithFailures(SlowRecording):
    """SlowRecording that fails (after recording the run) every value divisible by 7."""

    fail_every = 7

    def run(self, parameters):
        result = SlowRecording.run(self, parameters)
        if parameters["value"] % self.fail_every == 0:
            raise ValueError("%d is divisible by %d" % (parameters["value"], self.fail_every))
        return result


# Job control: time limits, process isolation, hooks, retries

class Journal(object):
    """A file in which workers of any process write what happened, a line per event.

    Each line is ``event pid time value``: ``setup``, ``teardown`` (value
    ``-``), ``run`` and ``done`` (the job's value) and anything else a
    worker notes. A line is one ``write`` of a file opened for appending, so
    lines from several processes do not mix.
    """

    Entry = collections.namedtuple("Entry", "event pid time value")

    def __init__(self, path):
        self.path = path

    def write(self, event, value="-"):
        with io.open(self.path, "a", encoding="ascii") as journal:
            journal.write(u"%s %d %.6f %s\n" % (event, os.getpid(), time.time(), value))

    def entries(self, event=None):
        """The entries so far (of one ``event``), oldest first."""
        if not os.path.exists(self.path):
            return []
        with io.open(self.path, encoding="ascii") as journal:
            lines = journal.read().split("\n")[:-1]  # a line being written is left out
        entries = []
        for line in lines:
            name, pid, moment, value = line.split(" ")
            entries.append(self.Entry(name, int(pid), float(moment),
                                      value if value == "-" else int(value)))
        return [entry for entry in entries if event is None or entry.event == event]

    def pids(self, event):
        """The processes that wrote ``event``, in the order of their first time."""
        pids = []
        for entry in self.entries(event):
            if entry.pid not in pids:
                pids.append(entry.pid)
        return pids

    def count(self, event, value=None):
        return len([entry for entry in self.entries(event)
                    if value is None or entry.value == value])


class Controlled(Client):
    """Does what each job's parameters ask for, and journals its life.

    Parameters: ``value`` (an integer, 0 if absent) and ``do``, the name of
    one of the ``do_*`` methods below ("add" if absent), with their own
    settings. Results: ``{"value": value + 1, "pid": ...}`` and what the
    action adds. ``journal`` is the path of a ``Journal`` (or None), which
    setup(), teardown() and every run write to, whichever process they run in;
    setup() takes ``setup_seconds`` first, teardown() ``teardown_seconds``.
    """

    def __init__(self, address, service_id, journal=None, setup_seconds=0, teardown_seconds=0,
                 **options):
        Client.__init__(self, address, service_id, **options)
        self.journal = Journal(journal) if journal else None
        self.setup_seconds = setup_seconds
        self.teardown_seconds = teardown_seconds
        self.runs = collections.Counter()
        self._runs_lock = threading.Lock()

    def note(self, event, value="-"):
        if self.journal is not None:
            self.journal.write(event, value)

    def setup(self):
        """Takes ``setup_seconds`` (an instrument that opens slowly), then journals."""
        time.sleep(self.setup_seconds)
        self.note("setup")

    def teardown(self):
        """Takes ``teardown_seconds`` (an instrument that closes slowly), then journals."""
        time.sleep(self.teardown_seconds)
        self.note("teardown")

    def run(self, parameters):
        value = parameters.get("value", 0)
        with self._runs_lock:
            self.runs[value] += 1
            attempt = self.runs[value]
        self.note("run", value)
        result = {"value": value + 1, "pid": os.getpid()}
        result.update(getattr(self, "do_" + parameters.get("do", "add"))(parameters, attempt)
                      or {})
        self.note("done", value)
        return result

    def do_add(self, parameters, attempt):
        pass

    def do_sleep(self, parameters, attempt):
        """``time.sleep``: a C call that no exception can break into."""
        time.sleep(parameters.get("seconds", 60))

    def do_ignore_sigterm_and_sleep(self, parameters, attempt):
        """``do_sleep`` in a process that handles SIGTERM, and so does not die of it."""
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
        self.do_sleep(parameters, attempt)

    def do_busy(self, parameters, attempt):
        """Pure Python that never waits (for a minute at most)."""
        end = time.time() + parameters.get("seconds", 60)
        while time.time() < end:
            pass

    def do_busy_and_swallow(self, parameters, attempt):
        """``do_busy``, catching whatever interrupts it, and returning as if nothing happened."""
        try:
            self.do_busy(parameters, attempt)
        except BaseException as error:
            self.note("swallowed:" + type(error).__name__, parameters.get("value", 0))
        return {"swallowed": True}

    def do_segfault(self, parameters, attempt):
        ctypes.string_at(0)

    def do_exit(self, parameters, attempt):
        os._exit(parameters.get("status", 3))

    def do_exit_when(self, parameters, attempt):
        """``do_exit`` once the file ``path`` exists."""
        while not os.path.exists(parameters["path"]):
            time.sleep(0.01)
        self.do_exit(parameters, attempt)

    def do_retry(self, parameters, attempt):
        """Raise ``Retry`` (with ``delay`` if given) on the first ``failures`` attempts."""
        if attempt <= parameters.get("failures", 1):
            raise Retry("not ready yet (attempt %d)" % attempt, delay=parameters.get("delay"))
        return {"attempts": attempt}

    def do_retry_after_error(self, parameters, attempt):
        """Raise ``Retry`` while handling a ``KeyError``, every time."""
        try:
            return {}["instrument"]
        except KeyError:
            raise Retry("the instrument is not there (attempt %d)" % attempt)

    def do_current(self, parameters, attempt):
        """What ``current_job`` is during run()."""
        job = self.current_job
        return {"current_job": None if job is None else {
            "class": type(job).__name__, "id": job.id, "status": job.status,
            "parameters": job.parameters}}


class FlakySetup(Recording):
    """Recording whose setup() fails twice before it works.

    The second attempt waits for ``go_on`` (set by the test, which looks at
    the worker meanwhile) before it fails; ``second_attempt`` is set when it
    starts.
    """

    def __init__(self, *args, **kwargs):
        Recording.__init__(self, *args, **kwargs)
        self.setup_calls = 0
        self.teardown_calls = 0
        self.second_attempt = threading.Event()
        self.go_on = threading.Event()

    def setup(self):
        self.setup_calls += 1
        if self.setup_calls == 2:
            self.second_attempt.set()
            self.go_on.wait(30)
        if self.setup_calls <= 2:
            raise IOError("the instrument does not answer (attempt %d)" % self.setup_calls)

    def teardown(self):
        self.teardown_calls += 1


class BlocksInC(Client):
    """Blocks in ``os.read`` on a pipe, which no exception can interrupt, until ``release()``.

    ``started`` is set when a run begins, and ``run_threads`` lists the
    thread of each run. Once the read returns, a run spends a few thousand
    bytecodes in Python (Python 2.7 looks for asynchronous exceptions every
    hundred) and appends to ``after_block`` "went on", or the name of the
    exception that struck it meanwhile; it returns ``{"value": value + 1}``.
    """

    def __init__(self, *args, **kwargs):
        Client.__init__(self, *args, **kwargs)
        self.started = threading.Event()
        self.run_threads = []
        self.after_block = []
        self._reader, self._writer = os.pipe()

    def run(self, parameters):
        self.run_threads.append(threading.current_thread())
        self.started.set()
        try:
            os.read(self._reader, 1)
            for _ in range(1000):
                pass
        except BaseException as error:
            self.after_block.append(type(error).__name__)
            raise
        self.after_block.append("went on")
        return {"value": parameters["value"] + 1}

    def release(self):
        os.write(self._writer, b"x")
