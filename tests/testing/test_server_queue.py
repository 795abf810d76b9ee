# -*- coding: utf-8 -*-
"""GET /services/<id>/queue.

See docs/server-api.rst §2.5 and §3.4; quirks lists-without-parameters, queue-first-ten
and empty-queue-204.
"""
from topchef_conformance import (
    NOT_A_UUID, SERVICE_NOT_FOUND, UNKNOWN_UUID, assert_empty_html_204,
    assert_not_a_uuid_2017, assert_single_error_2017, json_body)


def queue_of(topchef, service_id):
    return topchef.get("/services/%s/queue" % service_id)


def queued_ids(topchef, service_id):
    response = queue_of(topchef, service_id)
    if topchef.generation == "2017" and response.status_code == 204:
        assert_empty_html_204(response)
        return []
    return [job["id"] for job in json_body(response, 200)["data"]]


def test_an_empty_queue_is_200_with_an_empty_list_in_2016(topchef_2016):
    service_id = topchef_2016.register_service()
    assert json_body(queue_of(topchef_2016, service_id), 200) == {"data": []}


def test_an_empty_queue_is_an_empty_204_in_2017(topchef_2017):
    service_id = topchef_2017.register_service()
    assert_empty_html_204(queue_of(topchef_2017, service_id))


def test_the_2016_queue_items_have_no_parameters(topchef_2016):
    service_id = topchef_2016.register_service()
    job_id = topchef_2016.submit_job(service_id, {"value": 4})
    [item] = json_body(queue_of(topchef_2016, service_id), 200)["data"]
    assert set(item) == {"date_submitted", "id", "status"}
    assert (item["id"], item["status"]) == (job_id, "REGISTERED")


def test_the_2017_queue_items_are_full_job_details_with_links_and_meta(topchef_2017):
    service_id = topchef_2017.register_service()
    job_id = topchef_2017.submit_job(service_id, {"value": 4})
    body = json_body(queue_of(topchef_2017, service_id), 200)
    assert set(body) == {"data", "links", "meta"}
    assert body["links"] == {"self": topchef_2017.url("/services/%s/queue" % service_id)}
    assert "data_schema" in body["meta"]
    [item] = body["data"]
    assert set(item) == {"date_submitted", "id", "parameters", "results", "status"}
    assert (item["id"], item["parameters"], item["results"], item["status"]) == (
        job_id, {"value": 4}, None, "REGISTERED")


def test_the_2016_queue_has_every_registered_job_without_limit(topchef_2016):
    service_id = topchef_2016.register_service()
    ids = [topchef_2016.submit_job(service_id) for _ in range(12)]
    assert queued_ids(topchef_2016, service_id) == ids


def test_the_2017_queue_has_at_most_the_first_ten_registered_jobs(topchef_2017):
    service_id = topchef_2017.register_service()
    ids = [topchef_2017.submit_job(service_id) for _ in range(12)]
    assert queued_ids(topchef_2017, service_id) == ids[:10]


def test_the_queue_holds_only_registered_jobs_of_this_service(topchef):
    service_id = topchef.register_service()
    other = topchef.register_service()
    ids = [topchef.submit_job(service_id) for _ in range(5)]
    topchef.submit_job(other)
    topchef.update_job(ids[0], status="WORKING")
    topchef.update_job(ids[2], status="COMPLETED", result={"sum": 1})
    if topchef.generation == "2017":
        topchef.update_job(ids[3], status="ERROR")
        expected = [ids[1], ids[4]]
    else:
        expected = [ids[1], ids[3], ids[4]]
    assert queued_ids(topchef, service_id) == expected


def test_a_job_leaving_the_first_ten_lets_the_eleventh_in_2017(topchef_2017):
    service_id = topchef_2017.register_service()
    ids = [topchef_2017.submit_job(service_id) for _ in range(12)]
    topchef_2017.update_job(ids[0], status="WORKING")
    assert queued_ids(topchef_2017, service_id) == ids[1:11]


def test_a_job_set_back_to_registered_returns_to_the_queue_at_its_place(topchef):
    service_id = topchef.register_service()
    ids = [topchef.submit_job(service_id) for _ in range(3)]
    topchef.update_job(ids[0], status="COMPLETED", result={"sum": 1})
    assert queued_ids(topchef, service_id) == ids[1:]
    topchef.update_job(ids[0], status="REGISTERED")
    assert queued_ids(topchef, service_id) == ids


def test_a_queue_whose_jobs_are_all_taken_is_empty(topchef):
    service_id = topchef.register_service()
    job_id = topchef.submit_job(service_id)
    topchef.update_job(job_id, status="WORKING")
    assert queued_ids(topchef, service_id) == []
    if topchef.generation == "2016":
        assert json_body(queue_of(topchef, service_id), 200) == {"data": []}


def test_reading_the_queue_reserves_nothing(topchef):
    service_id = topchef.register_service()
    job_id = topchef.submit_job(service_id)
    first = queued_ids(topchef, service_id)
    second = queued_ids(topchef, service_id)
    assert first == second == [job_id]
    assert topchef.job(job_id)["status"] == "REGISTERED"


def test_the_queue_of_a_non_uuid_is_a_404(topchef):
    response = queue_of(topchef, NOT_A_UUID)
    if topchef.generation == "2016":
        assert json_body(response, 404) == {
            "errors": "Could not parse job_id=%s as a UUID" % NOT_A_UUID}
    else:
        assert_not_a_uuid_2017(response)


def test_the_queue_of_an_unknown_service_is_a_404(topchef):
    response = queue_of(topchef, UNKNOWN_UUID)
    if topchef.generation == "2016":
        assert json_body(response, 404) == {
            "errors": "Could not find service with id %s" % UNKNOWN_UUID}
    else:
        assert_single_error_2017(response, 404, SERVICE_NOT_FOUND,
                                 "A service with UUID %s does not exist" % UNKNOWN_UUID)
