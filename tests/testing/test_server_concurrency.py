# -*- coding: utf-8 -*-
"""Many clients at once through HTTP: unconditional updates, last writer wins.

See docs/server-api.rst §7.
"""
import json
import threading

import requests

from topchef_conformance import REQUEST_TIMEOUT, json_body

THREADS = 8


def run_threads(count, target):
    """Run ``target(index, session)`` in ``count`` threads released together; re-raise errors."""
    gate = threading.Event()
    failures = []

    def body(index):
        session = requests.Session()
        try:
            gate.wait(REQUEST_TIMEOUT)
            target(index, session)
        except Exception as error:  # reported below, in the main thread
            failures.append((index, repr(error)))
        finally:
            session.close()

    threads = [threading.Thread(target=body, args=(index,), name="client-%d" % index)
               for index in range(count)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive(), "a client thread hung"
    assert failures == []


def update_body(topchef, value):
    if topchef.generation == "2016":
        return "PUT", {"status": "WORKING", "result": {"sum": value}, "parameters": {"value": 1}}
    return "PATCH", {"status": "WORKING", "results": {"sum": value}}


def written_value(topchef, answer):
    if topchef.generation == "2016":
        return answer["data"]["job_schema"]["result"]["sum"]
    return answer["results"]["sum"]


def test_eight_threads_making_fifty_updates_each_lose_nothing(topchef):
    service_id = topchef.register_service()
    jobs = [topchef.submit_job(service_id) for _ in range(THREADS)]
    start_count = topchef.server.request_count

    def worker(index, session):
        url = topchef.url("/jobs/" + jobs[index])
        for step in range(50):
            method, body = update_body(topchef, index * 1000 + step)
            response = session.request(method, url, data=json.dumps(body),
                                       headers={"Content-Type": "application/json"},
                                       timeout=REQUEST_TIMEOUT)
            assert response.status_code == 200, response.text
            assert written_value(topchef, response.json()) == index * 1000 + step

    run_threads(THREADS, worker)
    assert topchef.server.request_count - start_count >= THREADS * 50
    for index, job_id in enumerate(jobs):
        job = topchef.job(job_id)
        assert job["status"] == "WORKING"
        assert job[topchef.result_key()] == {"sum": index * 1000 + 49}


def test_concurrent_updates_of_one_job_all_succeed_and_the_last_writer_wins(topchef):
    job_id = topchef.submit_job(topchef.register_service())
    url = topchef.url("/jobs/" + job_id)

    def worker(index, session):
        for step in range(25):
            method, body = update_body(topchef, index * 1000 + step)
            response = session.request(method, url, data=json.dumps(body),
                                       headers={"Content-Type": "application/json"},
                                       timeout=REQUEST_TIMEOUT)
            assert response.status_code == 200, response.text

    run_threads(THREADS, worker)
    final = topchef.job(job_id)[topchef.result_key()]["sum"]
    assert final in [index * 1000 + 24 for index in range(THREADS)]


def test_concurrent_submissions_get_distinct_ids_and_are_all_listed(topchef):
    service_id = topchef.register_service()
    submitted = [[] for _ in range(THREADS)]

    def worker(index, session):
        for step in range(20):
            response = session.post(
                topchef.url("/services/%s/jobs" % service_id),
                data=json.dumps({"parameters": {"value": step % 10}}),
                headers={"Content-Type": "application/json"}, timeout=REQUEST_TIMEOUT)
            assert response.status_code == 201, response.text
            submitted[index].append(response.headers["Location"].rsplit("/", 1)[-1])

    run_threads(THREADS, worker)
    ids = [job_id for batch in submitted for job_id in batch]
    assert len(ids) == THREADS * 20
    assert len(set(ids)) == len(ids)
    listed = json_body(topchef.get("/services/%s/jobs" % service_id), 200)["data"]
    assert sorted(job["id"] for job in listed) == sorted(ids)
    everything = json_body(topchef.get("/jobs"), 200)["data"]
    assert sorted(job["id"] for job in everything) == sorted(ids)
    queue = json_body(topchef.get("/services/%s/queue" % service_id), 200)["data"]
    if topchef.generation == "2016":
        assert sorted(job["id"] for job in queue) == sorted(ids)
    else:
        assert len(queue) == 10
    # Each thread's own jobs appear in the order that thread submitted them.
    position = dict((job["id"], place) for place, job in enumerate(listed))
    for batch in submitted:
        assert [position[job_id] for job_id in batch] == sorted(position[j] for j in batch)


def test_concurrent_registrations_get_distinct_ids_and_are_all_listed(topchef):
    registered = [[] for _ in range(THREADS)]

    def worker(index, session):
        for step in range(5):
            body = topchef.registration_body(name="s-%d-%d" % (index, step))
            response = session.post(topchef.url("/services"), data=json.dumps(body),
                                    headers={"Content-Type": "application/json"},
                                    timeout=REQUEST_TIMEOUT)
            assert response.status_code == 201, response.text
            registered[index].append(response.headers["Location"].rsplit("/", 1)[-1])

    run_threads(THREADS, worker)
    ids = [service_id for batch in registered for service_id in batch]
    assert len(set(ids)) == THREADS * 5
    listed = json_body(topchef.get("/services"), 200)["data"]
    assert sorted(item["id"] for item in listed) == sorted(ids)


def test_readers_see_consistent_jobs_while_writers_update_them(topchef):
    service_id = topchef.register_service()
    jobs = [topchef.submit_job(service_id) for _ in range(4)]

    def worker(index, session):
        job_id = jobs[index % len(jobs)]
        for step in range(20):
            if index % 2:
                method, body = update_body(topchef, step)
                response = session.request(method, topchef.url("/jobs/" + job_id),
                                           data=json.dumps(body),
                                           headers={"Content-Type": "application/json"},
                                           timeout=REQUEST_TIMEOUT)
                assert response.status_code == 200, response.text
            else:
                response = session.get(topchef.url("/jobs/" + job_id), timeout=REQUEST_TIMEOUT)
                assert response.status_code == 200, response.text
                assert response.json()["data"]["id"] == job_id
                listed = session.get(topchef.url("/jobs"), timeout=REQUEST_TIMEOUT)
                assert sorted(job["id"] for job in listed.json()["data"]) == sorted(jobs)

    run_threads(THREADS, worker)
