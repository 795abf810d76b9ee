"""No password in what the command line writes, whatever goes wrong.

Every path of ``topchef`` and ``topchef-worker`` that names the server (an
error, a log line at any level) is run with an address that carries a
password, plain and percent-encoded, and nothing written may contain it in
either form. The console scripts meet each kind of failure (no server, no
such host, a bad port, a 404, a hung server, the logs); every command's
error paths run in this process too, which is quicker, for both passwords.
"""
import logging

import pytest

from topchef_client import cli as command_line

from console_scripts import ADD_ONE, FAST, NO_SUCH_ID, ONLY_2017, assert_one_clean_line

#: The password, as given in the address and as the server would receive it.
PLAIN = "s3cr3tPW"
ENCODED, DECODED = "s3cr%40tPW", "s3cr@tPW"
PASSWORDS = [PLAIN, ENCODED]


def credentialed(url, password=ENCODED):
    """``url`` with ``alice:password@`` in it."""
    return url.replace("://", "://alice:%s@" % password, 1)


def run_here(capsys, caplog, entry_point, argv):
    """Run a command in this process, logging at every level.

    :returns: its exit code, its standard error, and all it wrote (standard
        output and error, and the log).
    """
    caplog.set_level(logging.DEBUG)
    code = entry_point(argv)
    out, err = capsys.readouterr()
    return code, err, out + err + caplog.text


def assert_no_password(written):
    for secret in (PLAIN, ENCODED, DECODED, "s3cr"):
        assert secret not in written, written


# The console scripts

OFFLINE_ADDRESSES = [
    ("http://127.0.0.1:1", 1, "connection failed: GET http://127.0.0.1:1/"),
    ("http://no-such-host.invalid:5000", 1,
     "connection failed: GET http://no-such-host.invalid:5000/"),
    ("http://127.0.0.1:99999", 2, "must be an http:// or https:// URL such as "
                                  "http://localhost:5000, not 'http://alice:***@127.0.0.1:99999'"),
]
SCRIPT_ARGUMENTS = {"topchef": ["services"], "topchef-worker": [ADD_ONE, "--service-id",
                                                                NO_SUCH_ID]}


@pytest.mark.parametrize("script", ["topchef", "topchef-worker"])
@pytest.mark.parametrize("address, code, message", OFFLINE_ADDRESSES,
                         ids=["refused", "no-such-host", "bad-port"])
def test_neither_script_shows_the_password_of_an_address_it_cannot_use(
        cli, script, address, code, message):
    run = cli(script, "--address", credentialed(address), *SCRIPT_ARGUMENTS[script])

    assert run.code == code
    assert run.err_lines()[-1].startswith(("topchef services: error: ",
                                           "topchef-worker: error: "))
    assert message in run.err and "Traceback" not in run.err
    assert_no_password(run.out + run.err)


@pytest.mark.parametrize("script", ["topchef", "topchef-worker"])
def test_neither_script_shows_a_plain_password(cli, script):
    run = cli(script, "--address", credentialed("http://127.0.0.1:1", PLAIN),
              *SCRIPT_ARGUMENTS[script])

    assert run.code == 1
    assert_no_password(run.out + run.err)


def test_a_404_does_not_show_the_password(cli, server):
    topchef = cli("topchef", "--address", credentialed(server.url), "service", NO_SUCH_ID)
    worker = cli("topchef-worker", ADD_ONE, "--address", credentialed(server.url),
                 "--service-id", NO_SUCH_ID)

    assert_one_clean_line(topchef, 1)
    assert worker.code == 1
    assert worker.err_lines()[-1] == "topchef-worker: error: service %s does not exist at %s" % (
        NO_SUCH_ID, server.url)
    assert_no_password(topchef.out + topchef.err + worker.out + worker.err)


def test_the_logs_at_any_level_do_not_show_the_password(cli, server, topchef, service):
    job = topchef.submit(service, {"value": 1})

    listed = cli("topchef", "-vv", "services", "--address", credentialed(server.url))
    worked = cli("topchef-worker", ADD_ONE, "-vv", "--address", credentialed(server.url),
                 "--service-id", service.id, "--burst", *FAST)

    assert listed.code == worked.code == 0, listed.err + worked.err
    assert "DEBUG" in listed.err and service.id in listed.out
    assert "job %s completed" % job.id in worked.err
    assert "for service %s at %s" % (service.id, server.url) in worked.err
    assert_no_password(listed.out + listed.err + worked.out + worked.err)


@ONLY_2017
def test_a_hung_server_does_not_make_either_script_show_the_password(cli, proxy):
    from topchef_client.testing import Hang
    proxy.add_rule(Hang())
    address = credentialed(proxy.url)

    topchef = cli("topchef", "services", "--request-timeout", "0.5", "--address", address)
    worker = cli("topchef-worker", ADD_ONE, "--service-id", NO_SUCH_ID, "--request-timeout",
                 "0.5", "--address", address)

    assert_one_clean_line(topchef, 1)
    assert "no answer in time: GET %s/" % proxy.url in topchef.err
    assert worker.code == 1
    assert "waiting for %s to answer" % proxy.url in worker.err
    assert_no_password(topchef.out + topchef.err + worker.out + worker.err)


# Every error path, in this process

ERRORS = [
    # Each names the service or job it could not find.
    (["service", NO_SUCH_ID], 1, NO_SUCH_ID),
    (["service", "not-a-uuid"], 1, "service 'not-a-uuid' does not exist: TopChef ids are UUIDs"),
    (["jobs", NO_SUCH_ID], 1, NO_SUCH_ID),
    (["job", NO_SUCH_ID], 1, NO_SUCH_ID),
    (["wait", NO_SUCH_ID, "--timeout", "5"], 1, NO_SUCH_ID),
    (["requeue", NO_SUCH_ID], 1, NO_SUCH_ID),
    (["cancel", NO_SUCH_ID], 1, NO_SUCH_ID),
    (["submit", NO_SUCH_ID, "{}"], 1, NO_SUCH_ID),
    (["submit", NO_SUCH_ID, "{}", "--wait"], 1, NO_SUCH_ID),
    (["register", "X", "--registration-schema", "/no/such/schema.json"], 2, "cannot read"),
    (["worker", ADD_ONE, "--service-id", NO_SUCH_ID], 1, NO_SUCH_ID),
    (["worker", ADD_ONE, "--service-id", "not-a-uuid"], 1, "TopChef ids are UUIDs"),
    (["worker", ADD_ONE, "--register", "X"], 2, "--register needs --registration-schema"),
]


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("argv, code, message", ERRORS,
                         ids=["-".join(argv[:2])[:20] for argv, _, _ in ERRORS])
def test_no_error_of_any_command_shows_the_password(
        capsys, caplog, server, argv, code, message, password):
    exit_code, err, written = run_here(capsys, caplog, command_line.main, [
        "--address", credentialed(server.url, password)] + argv)

    assert exit_code == code
    assert len(err.splitlines()) == 1 and message in err
    assert_no_password(written)


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_wait_that_times_out_does_not_show_the_password(
        capsys, caplog, server, topchef, service, password):
    job = topchef.submit(service, {"value": 1})

    code, err, written = run_here(capsys, caplog, command_line.main, [
        "wait", job.id, "--timeout", "0.1", "--address", credentialed(server.url, password)])

    assert code == 1
    assert "%s (last status REGISTERED)" % job.id in err
    assert_no_password(written)


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_worker_that_runs_does_not_show_the_password(
        capsys, caplog, server, topchef, service, password):
    job = topchef.submit(service, {"value": 1})

    code, _, written = run_here(capsys, caplog, command_line.worker_main, [
        ADD_ONE, "--address", credentialed(server.url, password),
        "--service-id", service.id, "--burst"] + FAST)

    assert code == 0
    assert "job %s completed" % job.id in caplog.text
    assert_no_password(written)
