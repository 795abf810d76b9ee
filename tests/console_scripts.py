"""The console scripts ``topchef`` and ``topchef-worker`` run in subprocesses, for tests.

A ``Run`` starts the installed console script (``bin/topchef`` next to this
interpreter; ``python -c`` with the same entry point in a checkout that was
not installed) and keeps its standard output and error in files; the
``cli`` fixture of ``conftest.py`` hands tests a ``Runner``.
"""
import io
import os
import re
import subprocess
import sys
import tempfile

import pytest

from topchef_client.compat import monotonic

from support import subprocess_environment, wait_until

#: The directory of this interpreter's console scripts.
SCRIPTS = os.path.dirname(os.path.abspath(sys.executable))
#: The README's worker class.
ADD_ONE = "topchef_client.demo:AddOne"
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: For what the server's generation does not change: the 2017 server only.
ONLY_2017 = pytest.mark.parametrize("generation", ["2017"])
#: Fast polling, for workers that must notice their jobs at once.
FAST = ["--poll-interval", "0.01", "--max-poll-interval", "0.05"]


def command(script):
    """The command line that starts ``script`` (``topchef`` or ``topchef-worker``)."""
    path = os.path.join(SCRIPTS, script)
    if os.path.exists(path):
        return [path]
    function = {"topchef": "main", "topchef-worker": "worker_main"}[script]
    return [sys.executable, "-c", "import sys; from topchef_client.cli import %s; "
                                  "sys.exit(%s())" % (function, function)]


def environment(**changes):
    """A subprocess's environment (see ``support``) without the user's TOPCHEF_ADDRESS."""
    return subprocess_environment(**dict({"TOPCHEF_ADDRESS": None}, **changes))


class Run(object):
    """A console script running in a subprocess; its output goes to files."""

    def __init__(self, script, argv, cwd=None, env=None, stderr=None):
        self.directory = tempfile.mkdtemp(prefix="topchef-cli-")
        self.out_path = os.path.join(self.directory, "stdout")
        self.err_path = os.path.join(self.directory, "stderr")
        self.started = monotonic()
        self.seconds = None
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                command(script) + list(argv), stdin=subprocess.PIPE, stdout=out,
                stderr=err if stderr is None else stderr, cwd=cwd or self.directory,
                env=env or environment())
        self.process.stdin.close()

    def _read(self, path):
        with io.open(path, encoding="utf-8", errors="replace") as stream:
            return stream.read()

    @property
    def out(self):
        return self._read(self.out_path)

    @property
    def err(self):
        return self._read(self.err_path)

    def err_lines(self):
        return [line for line in self.err.splitlines() if line.strip()]

    def wait_for(self, text, stream="err", timeout=10.0):
        """Wait until ``text`` appears on ``stream`` (``"out"`` or ``"err"``)."""
        wait_until(lambda: text in getattr(self, stream) or self.process.poll() is not None,
                   timeout, message="%r not written within %s s" % (text, timeout))
        assert text in getattr(self, stream), "the command ended (%s) without writing %r:\n%s" % (
            self.process.returncode, text, self.err)

    def send_signal(self, signum):
        self.process.send_signal(signum)

    def wait(self, timeout=20.0):
        """Wait for the end; return the exit code."""
        wait_until(lambda: self.process.poll() is not None, timeout,
                   message="the command still runs after %s s:\n%s" % (timeout, self.err))
        if self.seconds is None:
            self.seconds = monotonic() - self.started
        return self.process.returncode

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Runner(object):
    """Starts console scripts and kills those still running at the end of the test."""

    def __init__(self):
        self.runs = []

    def start(self, script, *argv, **options):
        run = Run(script, argv, **options)
        self.runs.append(run)
        return run

    def __call__(self, script, *argv, **options):
        """Run ``script`` to its end; return the ``Run`` (``code`` set)."""
        timeout = options.pop("timeout", 20.0)
        run = self.start(script, *argv, **options)
        run.code = run.wait(timeout)
        return run

    def kill_all(self):
        for run in self.runs:
            run.kill()


def assert_one_clean_line(run, code):
    """The command exited with ``code`` and said why in one line, without a traceback."""
    assert run.code == code, run.err
    assert len(run.err_lines()) == 1, run.err
    assert "Traceback" not in run.err
