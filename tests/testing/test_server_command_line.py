"""``python -m topchef_client.testing``: the first stdout line is the URL, flushed at once;
SIGTERM and SIGINT end it with exit code 0."""
import re
import signal
import socket

import pytest
import requests

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
