"""Sample ``Client`` subclasses for the tests."""
import collections
import threading
import time

from topchef_client import Client
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


class Slow(Client):
    """Takes ``delay`` seconds per job."""

    delay = 0.2

    def run(self, parameters):
        time.sleep(self.delay)
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
