"""The child process of process isolation: where a worker's jobs run, one after another.

The parent (``isolation.ChildProcess``) starts it with this interpreter and
talks to it through its standard input and output, in messages: a length,
then a pickle. The child re-creates the worker from its class and the
arguments it was made with, calls ``setup()`` once, then runs jobs until
told to stop (or until its parent is gone, or SIGTERM cuts the job short),
and calls ``teardown()``::

    parent -> child: ("init", spec)   ("run", job fields)   ("stop",)
    child -> parent: ("ready",) or ("setup failed", report);
                     ("done", result), ("failed", report) or ("retry", delay, report)

Anything the worker prints goes to standard error: standard output carries
the messages.
"""
import importlib
import logging
import os
import pickle
import signal
import struct
import sys
import types

log = logging.getLogger("topchef_client.worker")

#: A message: its length as 4 bytes, big-endian, then the pickle.
_LENGTH = struct.Struct(">I")
#: Linux's prctl option that sends a signal to a process when its parent dies.
_PR_SET_PDEATHSIG = 1


def send_message(stream, message):
    """Write one message (any picklable value) to ``stream``."""
    send_pickled(stream, pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def send_pickled(stream, data):
    """Write one message, pickled already, to ``stream``."""
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def decode_length(header):
    return _LENGTH.unpack(header)[0]


def _read_exactly(stream, count):
    chunks = []
    while count:
        chunk = stream.read(count)
        if not chunk:
            return None
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def receive_message(stream):
    """Read one message from ``stream``; None at its end."""
    header = _read_exactly(stream, _LENGTH.size)
    if header is None:
        return None
    data = _read_exactly(stream, decode_length(header))
    return None if data is None else pickle.loads(data)


def _die_with_parent():
    """On Linux, be killed when the parent dies (kill -9 of a worker takes its jobs along)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # best effort: the parent's end of the pipe still tells
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def load_worker_class(spec):
    """The worker class that ``spec`` names, imported as the parent imported it."""
    sys.path[:] = spec["sys_path"]
    if spec["module"] == "__main__":
        # The parent's main script, as a module whose name skips its
        # "if __name__ == '__main__'" block (so it does not start a worker).
        # A module kept in sys.modules, not runpy's temporary one: Python 2.7
        # empties the namespace of a module object that dies.
        # A name of this module's own: multiprocessing takes "__mp_main__".
        value = types.ModuleType("__topchef_main__")
        value.__file__ = spec["main_file"]
        sys.modules["__topchef_main__"] = value
        with open(spec["main_file"], "rb") as source:
            exec(compile(source.read(), spec["main_file"], "exec"), value.__dict__)
    else:
        value = importlib.import_module(spec["module"])
    # Not isolation.find_by_name: here a missing name must raise, and say which.
    for name in spec["qualname"].split("."):
        value = getattr(value, name)
    return value


def run_job(worker, fields):
    """Run one job; the reply to send."""
    from topchef_client.exceptions import Retry
    from topchef_client.execution import error_report
    from topchef_client.models import Job

    job = Job(**fields)
    worker.processor.set_current_job(job)
    try:
        result = worker.run(job.parameters)
    except Retry as retry:
        return ("retry", retry.delay, error_report(retry))
    except Ended:
        raise
    except BaseException as error:
        return ("failed", error_report(error))
    finally:
        worker.processor.set_current_job(None)
    return ("done", result)


def pickled_reply(reply):
    """``reply`` pickled; a result that cannot be pickled fails its job instead."""
    try:
        return pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        return pickle.dumps(("failed", {"type": "ProcessingError", "message": (
            "run() returned a result that cannot be sent back from the job's process: "
            "%s: %s" % (type(error).__name__, error))}), pickle.HIGHEST_PROTOCOL)


class Ended(BaseException):
    """The parent ended the job (SIGTERM): stop running it, tear down, and exit."""


def _end(signum, frame):
    raise Ended()


def main():
    """The child's life: set up, run jobs, tear down."""
    # Ctrl-C in a terminal reaches the whole process group: the parent
    # decides what a stop means for the job running here. SIGTERM is the
    # parent's "stop now": it cuts run() short, and teardown() still runs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end)
    _die_with_parent()
    inbox = os.fdopen(os.dup(0), "rb")
    outbox = os.fdopen(os.dup(1), "wb")
    with open(os.devnull, "rb") as nothing:
        os.dup2(nothing.fileno(), 0)
    os.dup2(2, 1)  # what run() prints goes to standard error
    message = receive_message(inbox)
    if message is None or message[0] != "init":
        return 2
    spec = message[1]
    logging.basicConfig(level=spec.get("log_level", logging.WARNING), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s[job process]: %(message)s")
    from topchef_client import isolation
    from topchef_client.execution import error_report
    isolation.IN_JOB_PROCESS = True
    try:
        worker_class = load_worker_class(spec)
        args, kwargs = pickle.loads(spec["arguments"])
        worker = worker_class(*args, **kwargs)
        worker.setup()
    except BaseException as error:
        send_message(outbox, ("setup failed", error_report(error, skip_library_frames=False)))
        return 1
    send_message(outbox, ("ready",))
    try:
        while True:
            message = receive_message(inbox)
            if message is None or message[0] == "stop":
                break
            send_pickled(outbox, pickled_reply(run_job(worker, message[1])))
    except Ended:
        pass  # the parent has given the job up: no answer is awaited
    finally:
        try:
            worker.teardown()
        except BaseException:
            log.exception("teardown() failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
