# -*- coding: utf-8 -*-
"""Next job: 2016 GET /jobs/<id>/next and 2017 GET /services/<id>/jobs/next.

See docs/server-api.rst §2.5 and §3.4; quirks unknown-job-next-500, next-job-redirect
and empty-queue-204.
"""
from topchef_conformance import (
    NOT_A_UUID, SERVICE_NOT_FOUND, UNKNOWN_UUID, allowed_methods, assert_empty_html_204,
    assert_not_a_uuid_2017, assert_single_error_2017, empty_body, html_body, json_body)


def submit_spaced(topchef, service_id, count):
    """Submit jobs one clock second apart, so that 2016 submission times are ordered."""
    ids = []
    for _ in range(count):
        ids.append(topchef.submit_job(service_id))
        topchef.clock.advance(1)
    return ids


# --- generation 2016: /jobs/<id>/next -----------------------------------------------

def test_2016_next_redirects_with_302_and_a_json_body(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    first, second = submit_spaced(topchef, topchef.register_service(), 2)
    response = topchef.get("/jobs/%s/next" % first)
    target = topchef.url("/jobs/" + second)
    assert json_body(response, 302) == {
        "data": {"message": "Redirecting to URL %s" % target, "target": target}}
    assert response.headers["Location"] == target


def test_2016_next_picks_the_newest_later_job_not_the_following_one(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    first, second, third = submit_spaced(topchef, topchef.register_service(), 3)
    assert topchef.get("/jobs/%s/next" % first).headers["Location"] == topchef.url(
        "/jobs/" + third)
    assert topchef.get("/jobs/%s/next" % second).headers["Location"] == topchef.url(
        "/jobs/" + third)


def test_2016_next_looks_at_jobs_of_any_service_and_any_status(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    [first] = submit_spaced(topchef, topchef.register_service(), 1)
    [other] = submit_spaced(topchef, topchef.register_service(), 1)
    topchef.update_job(other, status="COMPLETED", result={"sum": 1})
    response = topchef.get("/jobs/%s/next" % first)
    assert response.status_code == 302
    assert response.headers["Location"] == topchef.url("/jobs/" + other)


def test_2016_next_of_the_newest_job_is_an_empty_204(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    ids = submit_spaced(topchef, topchef.register_service(), 2)
    assert_empty_html_204(topchef.get("/jobs/%s/next" % ids[-1]))


def test_2016_next_ignores_a_job_submitted_at_the_same_instant(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    service_id = topchef.register_service()
    first = topchef.submit_job(service_id)
    topchef.submit_job(service_id)
    assert_empty_html_204(topchef.get("/jobs/%s/next" % first))


def test_following_the_2016_redirect_lands_on_the_job_detail(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    first, second = submit_spaced(topchef, topchef.register_service(), 2)
    response = topchef.get("/jobs/%s/next" % first, allow_redirects=True)
    assert [earlier.status_code for earlier in response.history] == [302]
    assert json_body(response, 200)["data"]["id"] == second


def test_2016_next_of_a_non_uuid_is_a_404(topchef_2016):
    response = topchef_2016.get("/jobs/%s/next" % NOT_A_UUID)
    assert json_body(response, 404) == {
        "errors": "id %s could not be coerced to a UUID" % NOT_A_UUID}


def test_2016_next_of_an_unknown_job_is_a_500_page(topchef_2016):
    html_body(topchef_2016.get("/jobs/%s/next" % UNKNOWN_UUID), 500)


def test_2016_has_no_per_service_next_job_route(topchef_2016):
    service_id = topchef_2016.register_service()
    topchef_2016.submit_job(service_id)
    # /services/<sid>/jobs/<jid> exists, for PUT only.
    response = topchef_2016.get("/services/%s/jobs/next" % service_id)
    html_body(response, 405)
    assert "PUT" in allowed_methods(response)


# --- generation 2017: /services/<id>/jobs/next ------------------------------------------

def next_of(topchef, service_id):
    return topchef.get("/services/%s/jobs/next" % service_id)


def test_2017_next_returns_the_first_registered_job_with_links_and_meta(topchef_2017):
    service_id = topchef_2017.register_service()
    first = topchef_2017.submit_job(service_id, {"value": 1})
    topchef_2017.submit_job(service_id, {"value": 2})
    body = json_body(next_of(topchef_2017, service_id), 200)
    assert set(body) == {"data", "links", "meta"}
    assert body["links"] == {"self": topchef_2017.url("/services/%s/jobs/next" % service_id)}
    assert "job_schema" in body["meta"]
    job = body["data"]
    assert set(job) == {"date_submitted", "id", "parameters", "results", "status"}
    assert (job["id"], job["parameters"], job["results"], job["status"]) == (
        first, {"value": 1}, None, "REGISTERED")


def test_2017_next_without_registered_jobs_is_an_empty_204(topchef_2017):
    service_id = topchef_2017.register_service()
    response = next_of(topchef_2017, service_id)
    assert not empty_body(response, 204).startswith("application/json")


def test_2017_next_skips_jobs_that_are_not_registered(topchef_2017):
    service_id = topchef_2017.register_service()
    first, second, third = [topchef_2017.submit_job(service_id) for _ in range(3)]
    topchef_2017.update_job(first, status="WORKING")
    topchef_2017.update_job(second, status="ERROR")
    assert json_body(next_of(topchef_2017, service_id), 200)["data"]["id"] == third
    topchef_2017.update_job(third, status="COMPLETED", result={"sum": 1})
    empty_body(next_of(topchef_2017, service_id), 204)


def test_2017_next_is_read_only(topchef_2017):
    service_id = topchef_2017.register_service()
    first = topchef_2017.submit_job(service_id)
    topchef_2017.submit_job(service_id)
    ids = [json_body(next_of(topchef_2017, service_id), 200)["data"]["id"] for _ in range(2)]
    assert ids == [first, first]
    assert topchef_2017.job(first)["status"] == "REGISTERED"


def test_2017_next_only_looks_at_the_given_service(topchef_2017):
    service_id = topchef_2017.register_service()
    other = topchef_2017.register_service()
    topchef_2017.submit_job(other)
    empty_body(next_of(topchef_2017, service_id), 204)


def test_2017_next_keeps_submission_order_among_equal_timestamps(clocked_topchef_2017):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service()
    ids = []
    for _ in range(4):
        ids.append(topchef.submit_job(service_id))
        topchef.clock.advance(1)
    for expected in ids:
        assert json_body(next_of(topchef, service_id), 200)["data"]["id"] == expected
        topchef.update_job(expected, status="WORKING")


def test_2017_next_of_a_non_uuid_is_a_not_uuid_error(topchef_2017):
    assert_not_a_uuid_2017(next_of(topchef_2017, NOT_A_UUID))


def test_2017_next_of_an_unknown_service_is_a_service_not_found(topchef_2017):
    assert_single_error_2017(next_of(topchef_2017, UNKNOWN_UUID), 404, SERVICE_NOT_FOUND,
                             "A service with UUID %s does not exist" % UNKNOWN_UUID)


def test_the_user_guides_service_next_path_does_not_exist_in_2017(topchef_2017):
    service_id = topchef_2017.register_service()
    html_body(topchef_2017.get("/services/%s/next" % service_id), 404)


def test_2017_has_no_per_job_next_route(topchef_2017):
    job_id = topchef_2017.submit_job(topchef_2017.register_service())
    response = topchef_2017.get("/jobs/%s/next" % job_id)
    assert response.status_code in (404, 405)
    html_body(response, response.status_code)
