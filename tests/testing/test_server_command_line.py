"""``python -m topchef_client.testing``: the first stdout line is the URL, flushed at once;
SIGTERM and SIGINT end it with exit code 0; bad arguments, one line and exit code 2."""
import re
import signal
import socket
import subprocess
import sys

import pytest
import requests

from support import subprocess_environment
from topchef_conformance import (
    GENERATIONS, REQUEST_TIMEOUT, ServerProcess)

URL = re.compile(r"^http://127\.0\.0\.1:(\d+)$")


def root_shape(url):
    body = requests.get(url + "/", timeout=REQUEST_TIMEOUT).json()
    return "2017" if "links" in body else "2016"


@pytest.mark.parametrize("generation", GENERATIONS)
def test_the_first_line_is_the_url_with_the_real_port(generation):
    with ServerProcess(["--port", "0", "--generation", generation]) as process:
        match = URL.match(process.first_line())
        assert match, process.url
        assert int(match.group(1)) != 0
        assert root_shape(process.url) == generation


def test_an_explicit_host_and_port_are_used():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    args = ["--port", str(port), "--generation", "2017", "--host", "127.0.0.1"]
    with ServerProcess(args) as process:
        assert process.first_line() == "http://127.0.0.1:%d" % port
        assert root_shape(process.url) == "2017"


@pytest.mark.parametrize("signal_name, generation", [
    ("SIGTERM", "2016"), ("SIGTERM", "2017"), ("SIGINT", "2016"), ("SIGINT", "2017"),
])
def test_a_termination_signal_ends_the_server_with_exit_code_zero(signal_name, generation):
    if not hasattr(signal, signal_name):
        pytest.skip("no %s here" % signal_name)
    with ServerProcess(["--port", "0", "--generation", generation]) as process:
        url = process.first_line()
        assert requests.get(url + "/services", timeout=REQUEST_TIMEOUT).status_code == 200
        process.send_signal(getattr(signal, signal_name))
        code = process.wait()
        assert code == 0, process.stderr_text()
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/", timeout=REQUEST_TIMEOUT)


PROG = "python -m topchef_client.testing"


def run_server_command(args):
    """Run the command to its end (it must end at once); return (exit code, stdout, stderr)."""
    process = subprocess.Popen([sys.executable, "-m", "topchef_client.testing"] + list(args),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=subprocess_environment())
    out, err = process.communicate()
    return process.returncode, out.decode("utf-8"), err.decode("utf-8")


@pytest.mark.parametrize("args, message", [
    (["--log-level", "foo"], "argument --log-level: must be one of 'DEBUG', 'INFO', "
                             "'WARNING', 'ERROR', 'CRITICAL', not 'foo'"),
    (["--db", "/nonexistent/x.db"], "argument --db: cannot keep the database in "
                                    "/nonexistent/x.db: there is no directory /nonexistent"),
    (["--port", "70000"], "argument --port: must be a whole number from 0 to 65535, not 70000"),
    (["--generation", "2018"], "argument --generation: must be one of '2016', '2017', not "
                               "'2018'"),
    (["--verbose"], "unrecognized arguments: --verbose"),
])
def test_bad_arguments_are_refused_in_one_line_with_exit_code_2(args, message):
    code, out, err = run_server_command(args)

    assert code == 2
    assert out == ""
    assert err == "%s: error: %s (see %s --help)\n" % (PROG, message, PROG)


def test_a_file_that_is_no_database_is_refused_in_one_line_with_exit_code_2(tmpdir):
    not_a_database = tmpdir.join("notes.db")
    not_a_database.write("these are notes, not SQLite " * 100)

    code, out, err = run_server_command(["--port", "0", "--db", str(not_a_database)])

    assert code == 2
    assert out == ""
    assert err == "%s: error: cannot use the database %s: file is not a database\n" % (
        PROG, not_a_database)


def test_the_log_level_is_taken_in_any_case():
    with ServerProcess(["--port", "0", "--log-level", "info"]) as process:
        assert URL.match(process.first_line())
