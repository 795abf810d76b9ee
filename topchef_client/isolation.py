"""Process isolation: each processing thread runs its jobs in a child process of its own.

The child (``child.py``) is started with this interpreter, re-creates the
worker from its class and constructor arguments, calls ``setup()`` once and
runs jobs one after another. A job that crashes the child (a segfault,
``os._exit``, the OOM killer) fails with ``JobCrashed``, naming the signal
or exit status; one that overstays the time limit is ended (SIGTERM, then
SIGKILL) and fails with ``TimeLimitExceeded``. Either way a new child, with
``setup()`` again, takes the next job. Heartbeat and polling stay in the
parent, so a dying job never silences them.

Children are started with fork-and-exec (``subprocess``), which is safe in
a process with threads on every Python, and find the worker class by its
module and name, as ``multiprocessing``'s "spawn" does: the class must be
importable (defined at the top level of a module, or of the main script
when that script starts the worker under ``if __name__ == "__main__":``),
and the constructor's arguments must pickle.
"""
import errno
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
import threading

from six.moves import queue

from topchef_client import defaults
from topchef_client.binding import CONNECTION_OPTIONS
from topchef_client.child import decode_length, send_message
from topchef_client.compat import monotonic
from topchef_client.exceptions import JobCrashed, ProcessingError
from topchef_client.execution import RunFailed, time_limit_report
from topchef_client.lifecycle import WINDING_DOWN

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Dict, Optional, Tuple  # noqa: F401
    from topchef_client.lanes import Lane  # noqa: F401
    from topchef_client.models import Job  # noqa: F401

log = logging.getLogger("topchef_client.worker")

#: Seconds a job process past its time limit has after SIGTERM before
#: SIGKILL: short, since the job is reported only once its process is gone.
TIME_LIMIT_STOP_TIMEOUT = 0.5

#: The constructor options that only configure the parent's HTTP connection:
#: the child never talks to the server, so they are not passed to it.
PARENT_ONLY_OPTIONS = ("connection",) + CONNECTION_OPTIONS


#: True in a job process: the worker re-created there runs its jobs itself.
IN_JOB_PROCESS = False


class ChildDied(ProcessingError):
    """Raised when a job process ends unasked; the message says how."""


class SetupFailed(ProcessingError):
    """Raised when a job process could not re-create the worker, or its ``setup()`` raised."""

    def __init__(self, report):
        ProcessingError.__init__(self, "setup() failed in a job process: %s: %s" % (
            report.get("type"), report.get("message")))
        self.report = report


class Spawner(object):
    """Starts the job processes, all from one thread that lives as long as this process.

    On Linux a job process asks to be killed when its parent dies (so a
    ``kill -9`` of the worker takes its jobs along). That signal comes when
    the *thread* that started the child ends, not the process: a processing
    thread that ends would kill its child, maybe in its ``teardown()``.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._requests = queue.Queue()  # type: Any
        self._thread = None  # type: Optional[threading.Thread]

    def popen(self, *args, **kwargs):
        # type: (*Any, **Any) -> subprocess.Popen
        """``subprocess.Popen(*args, **kwargs)``, done by the spawning thread."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve,
                                                name="topchef-job-process-spawner")
                self._thread.daemon = True
                self._thread.start()
        done = threading.Event()
        outcome = {}  # type: Dict[str, Any]
        self._requests.put((args, kwargs, outcome, done))
        while not done.wait(0.05):  # slices, for signal handlers on Python 2.7
            pass
        if "error" in outcome:
            raise outcome["error"]
        return outcome["process"]

    def _serve(self):
        while True:
            args, kwargs, outcome, done = self._requests.get()
            try:
                outcome["process"] = subprocess.Popen(*args, **kwargs)
            except BaseException as error:
                outcome["error"] = error
            done.set()


SPAWNER = Spawner()


def signal_name(number):
    # type: (int) -> str
    for name in dir(signal):
        if name.startswith("SIG") and not name.startswith("SIG_") and \
                getattr(signal, name) == number:
            return name
    return "signal %d" % number


def how_it_ended(returncode):
    # type: (Optional[int]) -> str
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        return "was killed by signal %d (%s)" % (-returncode, signal_name(-returncode))
    return "exited with status %d" % returncode


def find_by_name(module, qualname):
    # type: (Any, str) -> Any
    """What ``module.<qualname>`` names (dots for nested classes), or None."""
    value = module
    for name in qualname.split("."):
        value = getattr(value, name, None)
    return value


def child_spec(worker):
    # type: (Any) -> Dict[str, Any]
    """What a child needs to re-create ``worker``; ``TypeError`` if it cannot.

    :raises TypeError: the class is not importable by name, or the
        constructor's arguments do not pickle; the message says which.
    """
    cls = type(worker)
    qualname = getattr(cls, "__qualname__", cls.__name__)
    spec = {"module": cls.__module__, "qualname": qualname, "sys_path": list(sys.path),
            "main_file": None, "log_level": logging.getLogger("topchef_client").getEffectiveLevel()}
    if find_by_name(sys.modules.get(cls.__module__), qualname) is not cls:
        raise TypeError("isolation='process' needs %s to be importable by its name from "
                        "module %s, but it is not found there (defined inside a function?): "
                        "define it at the top level of a module" % (cls.__name__, cls.__module__))
    if cls.__module__ == "__main__":
        main = sys.modules["__main__"]
        main_spec = getattr(main, "__spec__", None)
        if main_spec is not None and getattr(main_spec, "name", None):
            spec["module"] = main_spec.name  # started with "python -m package.module"
        elif getattr(main, "__file__", None):
            spec["main_file"] = os.path.abspath(str(main.__file__))
        else:
            raise TypeError("isolation='process' needs %s to be importable: it is defined "
                            "in an interactive session; define it in a module or a script "
                            "file" % cls.__name__)
    args, kwargs = worker.constructor_arguments
    kwargs = dict((key, value) for key, value in kwargs.items()
                  if key not in PARENT_ONLY_OPTIONS)
    try:
        spec["arguments"] = pickle.dumps((args, kwargs), pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        raise TypeError("isolation='process' re-creates %s in a child process with the "
                        "arguments it was made with, and they must pickle: %s: %s"
                        % (cls.__name__, type(error).__name__, error))
    return spec


class ChildProcess(object):
    """One child process and the messages to and from it."""

    def __init__(self, spec, name):
        self.spec = spec
        self.name = name
        self.process = None  # type: Any
        self._buffer = bytearray()

    def __repr__(self):
        pid = self.process.pid if self.process is not None else None
        return "<ChildProcess %s pid=%s>" % (self.name, pid)

    @property
    def alive(self):
        # type: () -> bool
        return self.process is not None and self.process.poll() is None

    def start(self, keep_waiting):
        # type: (Callable[[], bool]) -> None
        """Start the child and wait for its ``setup()``, as long as ``keep_waiting()``.

        :raises SetupFailed: the worker could not be re-created or set up.
        :raises ChildDied: the child ended, or ``keep_waiting()`` turned false.
        """
        self.process = SPAWNER.popen(
            [sys.executable, "-c", "import sys; from topchef_client.child import main; "
                                   "sys.exit(main())"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self._buffer = bytearray()
        self._send(("init", self.spec))
        while True:
            reply = self._receive(monotonic() + 0.2)
            if reply is not None:
                break
            if not self.alive or not keep_waiting():
                self.kill()
                raise ChildDied("the job process %s before it was ready"
                                % how_it_ended(self.process.returncode))
        if reply[0] == "setup failed":
            self.kill()
            raise SetupFailed(reply[1])

    def run(self, job, time_limit):
        # type: (Job, Optional[float]) -> Tuple[Any, ...]
        """Send a job, wait for the reply (at most ``time_limit`` seconds) and return it.

        :raises RunFailed: the child died, or the time limit passed (the
            child is then ended).
        """
        self._send(("run", dict(id=job.id, status=job.status, parameters=job.parameters,
                                service_id=job.service_id)))
        deadline = None if time_limit is None else monotonic() + time_limit
        reply = self._receive(deadline)
        if reply is not None:
            return reply
        if self.alive and time_limit is not None:  # the time limit passed
            self.kill(TIME_LIMIT_STOP_TIMEOUT)
            raise RunFailed(time_limit_report(time_limit))
        how = how_it_ended(self.process.returncode)
        raise RunFailed({"type": JobCrashed.__name__,
                         "message": "the process running the job %s" % how}, crashed=True)

    def stop(self, timeout=defaults.DEFAULT_CHILD_STOP_TIMEOUT):
        # type: (float) -> None
        """Ask the child to tear down and end; end it if it does not within ``timeout``."""
        if not self.alive:
            return
        try:
            self._send(("stop",))
        except ChildDied:
            pass
        deadline = monotonic() + timeout
        while self.alive and monotonic() < deadline:
            self._receive(min(deadline, monotonic() + 0.05))
        self.kill()

    def kill(self, timeout=defaults.DEFAULT_CHILD_STOP_TIMEOUT):
        # type: (float) -> None
        """End the child: SIGTERM (its ``teardown()`` runs if it can), SIGKILL after ``timeout``."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            deadline = monotonic() + timeout
            while process.poll() is None and monotonic() < deadline:
                select.select([], [], [], 0.01)
            if process.poll() is None:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except (IOError, OSError):
                pass

    def _send(self, message):
        try:
            send_message(self.process.stdin, message)
        except (IOError, OSError) as error:
            if error.errno not in (errno.EPIPE, errno.EINVAL, None):
                raise
            raise ChildDied("the job process %s" % how_it_ended(self.process.poll()))

    def _receive(self, deadline):
        """The next message, or None when the deadline passes or the child's output ends."""
        descriptor = self.process.stdout.fileno()
        while True:
            buffer = self._buffer  # a bytearray: reading a large reply stays linear
            if len(buffer) >= 4:
                length = decode_length(bytes(buffer[:4]))
                if len(buffer) >= 4 + length:
                    data = bytes(buffer[4:4 + length])
                    del buffer[:4 + length]
                    return pickle.loads(data)
            remaining = None if deadline is None else deadline - monotonic()
            if remaining is not None and remaining <= 0:
                return None
            try:
                ready = select.select([descriptor], [], [], remaining)[0]
            except (select.error, OSError) as error:  # EINTR on Python 2.7
                if error.args[0] == errno.EINTR:
                    continue
                raise
            if not ready:
                return None
            chunk = os.read(descriptor, 1 << 16)
            if not chunk:
                self.process.wait()
                return None
            self._buffer.extend(chunk)


class ProcessExecution(object):
    """Runs each lane's jobs in that lane's child process (``isolation="process"``)."""

    def __init__(self, worker):
        self.worker = worker
        # In a job process the worker only runs jobs: it needs no spec there.
        self.spec = None if IN_JOB_PROCESS else child_spec(worker)

    def start(self):
        # type: () -> None
        pass

    def stop(self):
        # type: () -> None
        pass

    def prepare(self, lane):
        # type: (Lane) -> None
        """Make sure ``lane`` has a child that is set up.

        :raises SetupFailed: the child could not re-create the worker or
            set it up (logged).
        :raises ChildDied: the child ended before it was ready (logged), or
            the worker winds down meanwhile.
        """
        if lane.child is not None and lane.child.alive:
            return
        worker = self.worker
        lane.child = ChildProcess(self.spec, "%s-%d" % (worker.id[:8], lane.number))

        def wanted():
            # Not only while running: process_one() prepares a stopped worker.
            return worker.lifecycle.state not in WINDING_DOWN and not lane.abandoned

        try:
            lane.child.start(wanted)
        except (SetupFailed, ChildDied) as error:
            lane.child = None
            if wanted():  # else the worker stops: nothing failed
                worker.health.failed("setup", error)
                if isinstance(error, SetupFailed) and error.report.get("traceback"):
                    log.error("%s", error.report["traceback"].rstrip())
            raise
        worker.health.succeeded("setup")

    def release(self, lane):
        # type: (Lane) -> None
        """``lane`` takes no more jobs: its child tears down and ends."""
        if lane.child is not None:
            lane.child.stop()
            lane.child = None

    def abandon(self, lane):
        # type: (Lane) -> None
        """Give up ``lane`` (``stop_now``): an idle child tears down, a busy one is ended."""
        child = lane.child
        if child is None:
            return
        if lane.job is None:
            child.stop()
        else:
            child.kill()  # SIGTERM: its run() is cut short and teardown() runs if it can

    def run(self, job, lane):
        # type: (Job, Lane) -> Any
        """Run ``job`` in ``lane``'s child; its result, or ``RunFailed``."""
        try:
            reply = lane.child.run(job, self.worker.time_limit)
        except ChildDied as error:
            lane.child = None
            raise RunFailed({"type": JobCrashed.__name__, "message": str(error)},
                            crashed=True)
        except RunFailed:
            lane.child = None  # ended: the next job gets a new one
            raise
        if reply[0] == "done":
            return reply[1]
        if reply[0] == "retry":
            raise RunFailed(reply[2], retry=True, delay=reply[1])
        if reply[0] == "failed":
            raise RunFailed(reply[1])
        raise ProcessingError("the job process answered %r" % (reply[0],))
