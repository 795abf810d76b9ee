"""``models``: Service, Job and the status constants."""
import datetime

import pytest

from topchef_client.compat import UTC
from topchef_client.models import (
    COMPLETED, ERROR, ERROR_KEY, REGISTERED, STATUSES, WORKING, Job, Service)

JOB_ID = "d638201a-2344-44cf-86fd-25e34e85296f"
SERVICE_ID = "e4ea1c5d-5bae-42ab-9c46-c998f343144b"
REPORT = {"type": "ValueError", "message": "boom", "traceback": "..."}


def utc(*fields):
    return datetime.datetime(*fields, tzinfo=UTC)


def test_the_statuses_are_the_server_spellings_in_lifecycle_order():
    assert STATUSES == (REGISTERED, WORKING, COMPLETED, ERROR) == (
        "REGISTERED", "WORKING", "COMPLETED", "ERROR")


def test_a_failure_report_lives_under_the_error_key():
    assert ERROR_KEY == "error"


@pytest.mark.parametrize("text, expected", [
    ("2017-08-15T18:29:07.902093+00:00", utc(2017, 8, 15, 18, 29, 7, 902093)),
    ("2017-08-15T18:29:07+00:00", utc(2017, 8, 15, 18, 29, 7)),
    ("2017-08-15T18:29:07.5Z", utc(2017, 8, 15, 18, 29, 7, 500000)),
    ("2017-08-15T20:29:07+02:00", utc(2017, 8, 15, 18, 29, 7)),
    ("2017-08-15T13:29:07-05:00", utc(2017, 8, 15, 18, 29, 7)),
    ("2017-08-15T18:29:07.1234567", utc(2017, 8, 15, 18, 29, 7, 123456)),
    ("2017-08-15 18:29:07", utc(2017, 8, 15, 18, 29, 7)),
])
def test_a_job_reads_date_submitted_as_an_aware_utc_datetime(text, expected):
    submitted = Job(JOB_ID, date_submitted=text).date_submitted
    assert submitted == expected
    assert submitted.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize("text", [None, "", "yesterday", "2017-08-15"])
def test_a_missing_or_unreadable_date_submitted_is_none(text):
    assert Job(JOB_ID, date_submitted=text).date_submitted is None


def test_a_datetime_given_as_date_submitted_is_kept():
    moment = utc(2017, 1, 2, 3, 4, 5)
    assert Job(JOB_ID, date_submitted=moment).date_submitted is moment


def test_jobs_with_the_same_fields_are_equal():
    assert Job(JOB_ID, REGISTERED, {"value": 1}) == Job(JOB_ID, REGISTERED, {"value": 1})
    assert not Job(JOB_ID, REGISTERED) != Job(JOB_ID, REGISTERED)


@pytest.mark.parametrize("other", [
    Job(JOB_ID, WORKING, {"value": 1}),
    Job(JOB_ID, REGISTERED, {"value": 2}),
    Job(JOB_ID, REGISTERED, {"value": 1}, service_id=SERVICE_ID),
    Service(JOB_ID),
    JOB_ID,
])
def test_jobs_that_differ_in_any_field_or_type_are_not_equal(other):
    job = Job(JOB_ID, REGISTERED, {"value": 1})
    assert job != other
    assert not job == other


def test_models_are_mutable_and_so_unhashable():
    for model in (Job(JOB_ID), Service(SERVICE_ID)):
        with pytest.raises(TypeError):
            hash(model)


def test_a_job_repr_shows_the_fields_that_are_set():
    job = Job(JOB_ID, WORKING, {"value": 1}, service_id=SERVICE_ID)
    assert repr(job) == "Job(id=%r, status='WORKING', parameters={'value': 1}, " \
                        "service_id=%r)" % (JOB_ID, SERVICE_ID)


def test_a_service_repr_shows_the_fields_that_are_set():
    service = Service(SERVICE_ID, "AddOne", timeout=30, has_timed_out=False)
    assert repr(service) == "Service(id=%r, name='AddOne', timeout=30, " \
                            "has_timed_out=False)" % SERVICE_ID


def test_a_service_leaves_what_the_server_did_not_report_as_none():
    service = Service(SERVICE_ID)
    assert [getattr(service, name) for name in Service._fields[1:]] == [None] * 7


def test_services_with_the_same_fields_are_equal():
    assert Service(SERVICE_ID, "A", "a", {"type": "object"}) == Service(
        SERVICE_ID, "A", "a", {"type": "object"})
    assert Service(SERVICE_ID, "A") != Service(SERVICE_ID, "B")


@pytest.mark.parametrize("result, error", [
    ({"error": REPORT}, REPORT),
    ({"error": {"type": "E", "message": "m"}}, {"type": "E", "message": "m"}),
    ({"error": {"message": "no type"}}, None),
    ({"error": "just text"}, None),
    ({"value": 4}, None),
    (None, None),
    ([REPORT], None),
])
def test_the_error_of_a_job_is_a_report_with_type_and_message(result, error):
    assert Job(JOB_ID, COMPLETED, result=result).error == error


@pytest.mark.parametrize("status, result, failed, complete, finished", [
    (REGISTERED, None, False, False, False),
    (WORKING, None, False, False, False),
    (COMPLETED, {"value": 4}, False, True, True),
    (COMPLETED, {}, False, True, True),
    (COMPLETED, {"error": REPORT}, True, False, True),
    (ERROR, None, True, False, True),
    (ERROR, {"error": REPORT}, True, False, True),
    (WORKING, {"error": REPORT}, False, False, False),
    (None, None, False, False, False),
])
def test_the_state_of_a_job_follows_its_status_and_result(
        status, result, failed, complete, finished):
    job = Job(JOB_ID, status, result=result)
    assert (job.is_failed, job.is_complete, job.is_finished) == (failed, complete, finished)


@pytest.mark.parametrize("text", ["2017-13-01T00:00:00+00:00", "0000-01-01T00:00:00"])
def test_a_well_formed_date_submitted_that_is_no_date_is_none(text):
    assert Job(JOB_ID, date_submitted=text).date_submitted is None
