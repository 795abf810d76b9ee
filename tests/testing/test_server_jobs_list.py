# -*- coding: utf-8 -*-
"""GET /jobs (docs/server-api.rst §2.4, §2.5, §3.3, §3.4)."""
from topchef_conformance import assert_timestamp, json_body


def test_no_jobs_is_an_empty_list(topchef):
    body = json_body(topchef.get("/jobs"), 200)
    assert body["data"] == []
    if topchef.generation == "2016":
        assert set(body) == {"data"}
    else:
        assert set(body) == {"data", "links", "meta"}


def test_2016_lists_jobs_with_parameters_but_no_result(topchef_2016):
    job_id = topchef_2016.submit_job(topchef_2016.register_service(), {"value": 7})
    [item] = json_body(topchef_2016.get("/jobs"), 200)["data"]
    assert set(item) == {"date_submitted", "id", "parameters", "status"}
    assert (item["id"], item["parameters"], item["status"]) == (job_id, {"value": 7}, "REGISTERED")
    assert_timestamp(item["date_submitted"])


def test_2017_lists_job_overviews_with_links_and_meta(topchef_2017):
    job_id = topchef_2017.submit_job(topchef_2017.register_service(), {"value": 7})
    body = json_body(topchef_2017.get("/jobs"), 200)
    assert body["links"] == {"self": topchef_2017.url("/jobs")}
    assert "data_schema" in body["meta"]
    [item] = body["data"]
    assert set(item) == {"date_submitted", "id", "status"}
    assert (item["id"], item["status"]) == (job_id, "REGISTERED")
    assert_timestamp(item["date_submitted"])


def test_jobs_of_all_services_in_all_statuses_are_listed_in_submission_order(topchef):
    first_service = topchef.register_service()
    second_service = topchef.register_service()
    ids = [
        topchef.submit_job(first_service),
        topchef.submit_job(second_service),
        topchef.submit_job(first_service),
    ]
    topchef.update_job(ids[1], status="COMPLETED", result={"sum": 2})
    items = json_body(topchef.get("/jobs"), 200)["data"]
    assert [item["id"] for item in items] == ids
    assert [item["status"] for item in items] == ["REGISTERED", "COMPLETED", "REGISTERED"]
