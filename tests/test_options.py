"""Every option is checked when it is given: the error names it, its value and what is allowed."""
import pytest

from topchef_client import Client, Connection, TopChef
from topchef_client import options

from jobs import AddOne

SERVICE_ID = "6b4a4c0e-7a2b-4c2f-9d0e-0a1b2c3d4e5f"
NAN, INF = float("nan"), float("inf")

#: (option, bad value, words the message must hold) for a worker.
BAD_WORKER_OPTIONS = [
    ("poll_interval", 0, "above 0"), ("poll_interval", -1, "above 0"),
    ("poll_interval", NAN, "nan"), ("poll_interval", INF, "inf"),
    ("poll_interval", "0.5", "a number of seconds"), ("poll_interval", None, "None"),
    ("max_poll_interval", 0, "above 0"),
    ("heartbeat_interval", 0, "above 0"), ("heartbeat_interval", -1, "above 0"),
    ("heartbeat_interval", NAN, "nan"), ("heartbeat_interval", INF, "inf"),
    ("heartbeat_interval", 10 ** 12, "up to 3600"),
    ("timeout", 0, "heartbeat_interval"),  # the original name of the same option
    ("threads", 0, "from 1"), ("threads", 1.5, "whole number"), ("threads", "4", "whole"),
    ("threads", True, "whole number"),
    ("exit_grace_period", -1, "from 0"), ("failure_backoff", 0, "above 0"),
    ("max_failure_backoff", NAN, "nan"),
    ("time_limit", 0, "above 0"), ("time_limit", -2, "above 0"), ("time_limit", NAN, "nan"),
    ("time_limit", "60", "a number of seconds"),
    ("isolation", "fork", "'thread', 'process'"), ("isolation", None, "'thread'"),
    ("max_retries", -1, "from 0"), ("max_retries", 2.5, "whole number"),
    ("recover_abandoned", "no", "True or False"), ("recover_abandoned", 0, "True or False"),
    ("request_timeout", 0, "above 0"), ("request_timeout", (1, 2, 3), "pair"),
    ("request_timeout", (1, NAN), "read"),
    ("retries", -1, "from 0"), ("retries", "3", "whole number"),
    ("pool_size", 0, "from 1"), ("generation", "2018", "'2016', '2017'"),
    ("generation", 2018, "'2016', '2017'"), ("headers", {"X-Token": 5}, "strings"),
    ("verify", 1, "True, False or the path"), ("cert", ("a", "b", "c"), "pair"),
]


@pytest.mark.parametrize("option, value, words", BAD_WORKER_OPTIONS,
                         ids=lambda argument: repr(argument)[:30])
def test_a_bad_worker_option_is_refused_at_construction_naming_it_its_value_and_the_rule(
        option, value, words):
    with pytest.raises((TypeError, ValueError)) as caught:
        AddOne("http://localhost:5000", SERVICE_ID, **{option: value})
    message = str(caught.value)
    assert option.replace("request_timeout", "timeout") in message or option == "timeout"
    assert words in message
    if option not in ("headers", "verify", "cert", "request_timeout"):
        assert options.describe(value, with_type=False) in message


@pytest.mark.parametrize("address", [None, 5000, ["http://localhost"]])
def test_an_address_that_is_no_string_is_a_type_error_naming_the_address(address):
    # TopChef() with no address at all has always said so as a ValueError.
    expected = ValueError if address is None else TypeError
    for make, error in ((lambda: AddOne(address, SERVICE_ID), TypeError),
                        (lambda: Connection(address), TypeError),
                        (lambda: TopChef(address), expected)):
        with pytest.raises(error) as caught:
            make()
        assert "address" in str(caught.value)


@pytest.mark.parametrize("address", [
    "localhost:5000", "ftp://host", "http://", "http://host:port", "http://h:99999",
    "http://alice:s3cr3tPW@h:99999", "http://alice:s3cr3t%40PW@h:port"])
def test_an_address_that_is_no_http_url_is_refused_without_showing_a_password(address):
    for make in (lambda: AddOne(address, SERVICE_ID), lambda: Connection(address),
                 lambda: TopChef(address)):
        with pytest.raises(ValueError) as caught:
            make()
        assert "address" in str(caught.value)
        assert "s3cr3t" not in str(caught.value)


def test_a_worker_refuses_options_it_does_not_know_by_name():
    with pytest.raises(TypeError) as caught:
        AddOne("http://localhost:5000", SERVICE_ID, pol_interval=1)
    assert "pol_interval" in str(caught.value)


def test_connection_options_with_a_ready_connection_are_refused():
    with Connection("http://localhost:5000") as connection:
        for make in (lambda: AddOne("http://x", SERVICE_ID, connection=connection, retries=1),
                     lambda: TopChef(connection=connection, retries=1)):
            with pytest.raises(TypeError) as caught:
                make()
            assert "retries" in str(caught.value)


@pytest.mark.parametrize("connection", ["http://localhost:5000", object()])
def test_a_connection_that_is_not_one_is_refused(connection):
    with pytest.raises(TypeError) as caught:
        TopChef(connection=connection)
    assert "connection must be a topchef_client.Connection" in str(caught.value)


@pytest.mark.parametrize("keyword, value", [
    ("timeout", -1), ("timeout", NAN), ("poll_interval", 0), ("max_poll_interval", INF),
    ("progress", "not callable")])
def test_bad_wait_options_are_refused_before_any_request(server, keyword, value):
    with TopChef(server.url) as api:
        before = server.request_count
        with pytest.raises((TypeError, ValueError)) as caught:
            api.wait_all([SERVICE_ID], **{keyword: value})
    assert keyword in str(caught.value)
    assert server.request_count == before


def test_class_attributes_give_the_defaults_and_keywords_override_them():
    class Careful(AddOne):
        time_limit = 120
        isolation = "thread"
        max_retries = 2
        recover_abandoned = False

    worker = Careful("http://localhost:5000", SERVICE_ID)
    assert (worker.time_limit, worker.max_retries, worker.recover_abandoned) == (
        120.0, 2, False)
    worker = Careful("http://localhost:5000", SERVICE_ID, time_limit=None, max_retries=0,
                     recover_abandoned=True)
    assert (worker.time_limit, worker.max_retries, worker.recover_abandoned) == (
        None, 0, True)


def test_a_bad_class_attribute_is_refused_at_construction_naming_it():
    class Wrong(AddOne):
        time_limit = -5

    with pytest.raises(ValueError) as caught:
        Wrong("http://localhost:5000", SERVICE_ID)
    assert "time_limit" in str(caught.value) and "-5" in str(caught.value)


def test_the_default_of_an_option_given_by_its_class_reads_well():
    assert repr(options.FROM_CLASS) == "<the class attribute>"
    assert Client.time_limit is None and Client.isolation == "thread"
