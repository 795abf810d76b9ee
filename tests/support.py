"""Small helpers for tests: waiting on conditions, never on the clock alone.

Every test module can import it, those under ``tests/testing`` too: pytest
puts ``tests`` on ``sys.path`` when it loads ``tests/conftest.py``.
"""
import io
import json
import os
import socket
import subprocess
import sys
import textwrap
import time

from six.moves import socketserver

from topchef_client.compat import monotonic
from topchef_client.testing.pytest_plugin import REQUEST_TIMEOUT

#: The API generations of the local server.
GENERATIONS = ("2016", "2017")
#: Quick but finite request timeouts (connect, read), the plugin's: a test
#: that waits on a dead server fails fast.
TEST_TIMEOUT = REQUEST_TIMEOUT
#: Where the ManualClock of the clocked servers stands at the start of each test.
CLOCK_START = 1500000000.0


def wait_until(predicate, timeout=10.0, interval=0.005, message=None):
    """Poll ``predicate`` until it returns a true value, and return that value.

    The first checks come a millisecond apart, then the pause doubles up to
    ``interval``: what happens at once is seen at once, and a long wait does
    not cost a predicate that makes an HTTP request more than it must.

    :raises AssertionError: (failing the test) when ``timeout`` seconds pass first.
    """
    deadline = monotonic() + timeout
    pause = min(0.001, interval)
    while True:
        value = predicate()
        if value:
            return value
        if monotonic() > deadline:
            raise AssertionError(message or "condition not met within %s s" % timeout)
        time.sleep(pause)
        pause = min(pause * 2, interval)


def no_delay_setup(handler):
    """``setup`` for a ``BaseHTTPRequestHandler`` that writes its headers and body apart.

    With Nagle's algorithm on, the second write waits for the client's
    delayed ACK: 40 ms a request on Linux.
    """
    socketserver.StreamRequestHandler.setup(handler)
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def stop_http_server(httpd):
    """Stop a socketserver server's ``serve_forever()`` now, and close it.

    ``shutdown()`` alone waits for the serving loop's next poll (half a
    second by default): shutting the listening socket down first wakes it
    (Linux; elsewhere the poll remains).
    """
    try:
        httpd.socket.shutdown(socket.SHUT_RDWR)
    except socket.error:
        pass
    httpd.shutdown()
    httpd.server_close()


#: The repository root, which subprocesses get as their PYTHONPATH.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def subprocess_environment(**changes):
    """This process's environment with the checkout first on PYTHONPATH, and ``changes``.

    A change to ``None`` removes the variable.
    """
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [REPO_ROOT] + [part for part in [environment.get("PYTHONPATH")] if part])
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


class Script(object):
    """A Python script running in a subprocess; its stderr goes to ``log_path``."""

    def __init__(self, process, log_path):
        self.process = process
        self.log_path = log_path

    def log(self):
        with io.open(self.log_path, encoding="utf-8", errors="replace") as log_file:
            return log_file.read()

    def wait_for_log(self, text, timeout=10.0):
        """Wait until ``text`` appears in the script's stderr."""
        wait_until(lambda: text in self.log() or self.process.poll() is not None,
                   timeout, message="%r not logged within %s s" % (text, timeout))
        assert text in self.log(), "the script ended without logging %r:\n%s" % (
            text, self.log())

    def wait(self, timeout=10.0):
        """Wait for the script to end and return its exit code.

        Python 2.7's ``Popen.wait`` takes no timeout, hence the polling.
        """
        wait_until(lambda: self.process.poll() is not None, timeout,
                   message="the script still runs after %s s:\n%s" % (timeout, self.log()))
        return self.process.returncode

    @property
    def running(self):
        return self.process.poll() is None

    def send_signal(self, signum):
        self.process.send_signal(signum)


class ScriptRunner(object):
    """Starts scripts with this interpreter and this repository on the path."""

    def __init__(self, directory):
        self.directory = directory
        self.started = []

    def start(self, source, name="script.py"):
        path = os.path.join(self.directory, name)
        if isinstance(source, bytes):  # a str literal on Python 2.7
            source = source.decode("utf-8")
        with io.open(path, "w", encoding="utf-8") as script_file:
            script_file.write(textwrap.dedent(source).lstrip())
        log_path = path + ".log"
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen([sys.executable, path], stdout=log_file,
                                       stderr=subprocess.STDOUT, cwd=self.directory,
                                       env=subprocess_environment(PYTHONUNBUFFERED="1"))
        script = Script(process, log_path)
        self.started.append(script)
        return script

    def kill_all(self):
        for script in self.started:
            if script.running:
                script.process.kill()
                script.process.wait()


_LIST_IMPORTED = """
import json, sys
%s
print(json.dumps(sorted(name for name in sys.argv[1:] if name in sys.modules)))
"""


def modules_imported_by(statements, names):
    """Which of the modules ``names`` a fresh interpreter holds after running ``statements``."""
    output = subprocess.check_output(
        [sys.executable, "-c", _LIST_IMPORTED % statements] + list(names),
        env=subprocess_environment(), cwd=REPO_ROOT)
    return json.loads(output.decode("utf-8").strip().splitlines()[-1])


def jobs_by_status(server, service_id):
    """``{status: [job dict, ...]}`` of a service's jobs, read from the server's storage."""
    found = {}
    for job in server.jobs(service_id):
        found.setdefault(job["status"], []).append(job)
    return found


def threads_alive(worker):
    """Whether the worker's heartbeat thread (if any) and every processing thread still run."""
    threads = list(worker.processing_threads)
    if worker.heartbeat_thread is not None:
        threads.append(worker.heartbeat_thread)
    return bool(threads) and all(thread.is_alive() for thread in threads)


def messages_naming(caplog, text, level=0):
    """The log messages at ``level`` or above that contain ``text``."""
    return [record.getMessage() for record in caplog.records
            if record.levelno >= level and text in record.getMessage()]


def job_update_method(generation):
    """The method that claims and reports a job: PUT on 2016 servers, PATCH on 2017."""
    return "PUT" if generation == "2016" else "PATCH"


def submit_batch(topchef, service, count):
    """Submit jobs ``{"value": 0}`` ... ``{"value": count - 1}``; return the values."""
    values = list(range(count))
    for value in values:
        topchef.submit(service, {"value": value})
    return values


def unfinished_jobs(server, service_id=None):
    """The jobs (of one service) still REGISTERED or WORKING, from the server's storage."""
    return [job for job in server.jobs(service_id)
            if job["status"] in ("REGISTERED", "WORKING")]
