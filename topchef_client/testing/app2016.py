# -*- coding: utf-8 -*-
"""The TopChef server of September 2016 (docs/server-api.rst §2), quirks and all.

Every deliberate deviation from sensible behaviour below is a quirk of the
real server that a client meets at run time; each names its entry among the
quirks of docs/server-api.rst §6. With ``quirks=False`` the 500s that are
plain bugs answer what the code meant to answer instead.
"""
import re
import uuid

import jsonschema

from topchef_client.testing import fields
from topchef_client.testing.application import Application
from topchef_client.testing.web import (
    NOT_JSON, HTTPException, MalformedJSON, Router, empty_response, json_response,
    parse_uuid)

# Seconds, fixed: nothing in the 2016 API can set it (docs/server-api.rst §2.4).
HEARTBEAT_TIMEOUT = 30
STATUSES = ("REGISTERED", "WORKING", "COMPLETED")
# The marshmallow regex; note that "$" also matches before a final newline,
# which is how "WORKING\n" slips through to the database
# (docs/server-api.rst quirk status-newline-500).
_STATUS_PATTERN = re.compile(r"^(REGISTERED|WORKING|COMPLETED)$")

# GET /services meta, as the server inlines it (docs/server-api.rst §2.5).
POST_SCHEMA = {
    "type": "object",
    "required": ["description", "job_registration_schema", "name"],
    "properties": {
        "description": {"title": "description", "type": "string"},
        "has_timed_out": {"title": "has_timed_out", "type": "boolean", "default": False},
        "id": {"title": "id", "type": "string"},
        "job_registration_schema": {"title": "job_registration_schema", "type": "object"},
        "job_result_schema": {"title": "job_result_schema", "type": "object"},
        "name": {"title": "name", "type": "string"},
    },
}


def _status(value):
    value = fields.string(value)
    if not _STATUS_PATTERN.match(value):
        raise fields.Invalid(
            "The status %s is not REGISTERED, WORKING, or COMPLETED" % value)
    return value


_SERVICE_FIELDS = {
    "name": (fields.string, True),
    "description": (fields.string, True),
    "job_registration_schema": (fields.mapping, True),
    "job_result_schema": (fields.mapping, False),
    "id": (fields.string, False),
    "has_timed_out": (fields.boolean, False),
}
_NEW_JOB_FIELDS = {
    "parameters": (fields.mapping, True),
    "status": (_status, False),
    "id": (fields.string, False),
    "date_submitted": (fields.datetime_text, False),
}
_JOB_UPDATE_FIELDS = {
    "parameters": (fields.mapping, True),
    "status": (_status, False),
    "result": (fields.mapping, False),
    "id": (fields.string, False),
    "date_submitted": (fields.datetime_text, False),
}


def trim_registration_schema(schema):
    """What survives the round trip through marshmallow-jsonschema.

    See docs/server-api.rst §2.4 and quirk trimmed-schemas.
    """
    trimmed = dict((key, schema[key]) for key in ("properties", "required") if key in schema)
    trimmed["type"] = "object"
    return trimmed


def _errors(request, status, errors):
    return json_response(request, status, {"errors": errors})


def _parsed_id(request, identifier, message):
    """``identifier`` as a canonical UUID; a 404 saying ``message % identifier`` if it is none."""
    parsed = parse_uuid(identifier)
    if parsed is None:
        raise HTTPException(404, _errors(request, 404, message % identifier))
    return parsed


class App2016(Application):
    """Routes and handlers of ``topchef/api_server.py`` at commit 33b511a."""

    generation = "2016"

    def __init__(self, storage, clock, quirks=True):
        Application.__init__(self, storage, clock, quirks)
        router = self.router = Router(head_as_get=True)
        router.add("/", GET=self.root)
        router.add("/echo", POST=self.echo)
        router.add("/validator", POST=self.validator)
        router.add("/services", GET=self.list_services, POST=self.register_service)
        router.add("/services/<service_id>", GET=self.get_service, PATCH=self.heartbeat)
        router.add("/services/<service_id>/jobs", GET=self.list_service_jobs,
                   POST=self.submit_job)
        router.add("/services/<service_id>/queue", GET=self.queue)
        router.add("/services/<service_id>/jobs/<job_id>", PUT=self.update_service_job)
        router.add("/jobs", GET=self.list_jobs)
        router.add("/jobs/<job_id>", GET=self.get_job, PUT=self.update_job)
        router.add("/jobs/<job_id>/next", GET=self.next_job)

    # The JSON gate of decorators.py (docs/server-api.rst §2.2): falsy JSON is
    # "not JSON" (docs/server-api.rst quirk falsy-json-rejected), malformed
    # JSON is Flask's 400 HTML page.

    def _json_body(self, request):
        try:
            body = request.json()
        except MalformedJSON:
            raise HTTPException(400)
        if body is NOT_JSON or not body:
            return None
        return body

    def _gate(self, request):
        """The JSON body; the gate's 400 answer when there is none."""
        body = self._json_body(request)
        if body is None:
            raise HTTPException(400, _errors(request, 400, "The request body is not JSON"))
        return body

    # Representations (docs/server-api.rst §2.4)

    def _service_summary(self, request, service):
        return {
            "has_timed_out": self.now() - service.last_checked_in >= HEARTBEAT_TIMEOUT,
            "id": service.id,
            "name": service.name,
            "url": request.url("/services/%s" % service.id),
        }

    def _service_detail(self, request, service):
        detail = self._service_summary(request, service)
        detail.update(description=service.description,
                      job_registration_schema=service.registration_schema,
                      job_result_schema=service.result_schema)
        return detail

    def _job_summary(self, job):
        # Parameters are missing from summaries: the handlers never attach the
        # file store to jobs they load (docs/server-api.rst quirk lists-without-parameters).
        return {"date_submitted": self.timestamp(job.date_submitted), "id": job.id,
                "status": job.status}

    def _job_with_parameters(self, job):
        summary = self._job_summary(job)
        summary["parameters"] = job.parameters
        return summary

    def _job_detail(self, job):
        detail = self._job_with_parameters(job)
        detail["result"] = job.result
        return detail

    # Endpoints

    def root(self, request):
        return json_response(request, 200, {"data": {}, "meta": {
            "author": "Michal Kononenko", "email": "michalkononenko@gmail.com",
            "source_repository": "https://www.github.com/MichalKononenko/TopChef",
            "version": "0.1dev"}})

    def echo(self, request):
        return json_response(request, 200, {"data": self._gate(request)})

    def validator(self, request):
        body = self._gate(request)
        # jsonschema.validate of jsonschema 2.5: the draft from "$schema", the
        # schema checked first, only the first error reported. A missing key
        # or a bad schema escapes as a 500 (docs/server-api.rst quirk validator-500).
        instance, schema = body["object"], body["schema"]
        validator_class = jsonschema.validators.validator_for(
            schema, default=jsonschema.Draft4Validator)
        if validator_class not in (jsonschema.Draft3Validator, jsonschema.Draft4Validator):
            validator_class = jsonschema.Draft4Validator  # 2.5 knew drafts 3 and 4
        validator_class.check_schema(schema)
        for failure in validator_class(schema).iter_errors(instance):
            if failure.context:
                # The sub-errors are not JSON-serialisable
                # (docs/server-api.rst quirk validator-500).
                raise HTTPException(500)
            return _errors(request, 400, {"message": fields.message_text(failure.message),
                                          "context": []})
        return json_response(request, 200, {"data": {}})

    def list_services(self, request):
        return json_response(request, 200, {
            "data": [self._service_summary(request, service)
                     for service in self.storage.list_services()],
            "meta": {"POST_schema": POST_SCHEMA}})

    def register_service(self, request):
        body = self._gate(request)
        values, problems = fields.load(body, _SERVICE_FIELDS)
        if problems:
            return _errors(request, 400, {
                "message": "Invalid request, serializer produced errors.",
                "serializer_errors": problems})
        service_uuid = uuid.uuid1()
        service_id = str(service_uuid)
        self.storage.add_service(
            id=service_id, name=values["name"], description=values["description"],
            registration_schema=trim_registration_schema(values["job_registration_schema"]),
            # The setter keeps nothing of the given schema
            # (docs/server-api.rst quirk trimmed-schemas).
            result_schema={"type": "object"},
            timeout=HEARTBEAT_TIMEOUT, available=True, last_checked_in=self.now())
        service = self.storage.get_service(service_id)
        location = request.url("/services/%s" % service_id)
        # The message prints the id as a decimal integer
        # (docs/server-api.rst quirk python-reprs-in-messages).
        message = ("Service Service(id=%d, name=%s, description=%s, schema=%s) "
                   "successfully registered" % (
                       service_uuid.int, service.name, service.description,
                       fields.python_repr(service.registration_schema)))
        return json_response(request, 201, {"data": {
            "message": message,
            "service_details": self._service_detail(request, service)}},
            headers=[("Location", location)])

    def get_service(self, request, service_id):
        parsed = _parsed_id(request, service_id,
                            "The service id %s is not a UUID. No service with this id exists")
        service = self.storage.get_service(parsed)
        if service is None:
            if self.quirks:
                # The None check comes too late (docs/server-api.rst quirk unknown-service-500).
                raise HTTPException(500)
            return _errors(request, 404, "A service with id %s was not found" % parsed)
        return json_response(request, 200, {"data": self._service_detail(request, service)})

    def heartbeat(self, request, service_id):
        parsed = _parsed_id(request, service_id, "Unable to parse id %s as a UUID")
        if self.storage.get_service(parsed) is None:
            # Wrong noun and an unfilled %s, verbatim
            # (docs/server-api.rst quirk heartbeat-404-text).
            return _errors(request, 404, "The job with id %s does not exist")
        now = self.now()
        # Committed before the body is read (docs/server-api.rst quirk heartbeat-400-still-counts).
        self.storage.update_service(parsed, last_checked_in=now)
        if self._json_body(request) is None:
            return json_response(request, 200, {"data": "service %s checked in at %s" % (
                parsed, self.naive_utc_text(now))})
        # A truthy JSON body changes the reply, and its clock
        # (docs/server-api.rst quirk heartbeat-reply-shapes).
        return json_response(request, 200, {"meta": "service %s has heartbeated at %s" % (
            parsed, self.naive_local_text(now))})

    def _service_for_jobs(self, request, service_id):
        """The service of a ``/services/<id>/jobs`` route, which never parses its id."""
        parsed = parse_uuid(service_id)
        if parsed is None:
            # The database converter raises (docs/server-api.rst quirk non-uuid-service-jobs-500).
            raise HTTPException(500)
        service = self.storage.get_service(parsed)
        if service is None:
            raise HTTPException(404, _errors(
                request, 404, "A service with id %s was not found" % service_id))
        return service

    def list_service_jobs(self, request, service_id):
        service = self._service_for_jobs(request, service_id)
        return json_response(request, 200, {"data": [
            self._job_summary(job)
            for job in self.storage.list_jobs(service.id, summary=True)]})

    def submit_job(self, request, service_id):
        body = self._gate(request)
        service = self._service_for_jobs(request, service_id)
        values, problems = fields.load(body, _NEW_JOB_FIELDS)
        if problems:
            return _errors(request, 400, "Schema loading produced errors %s"
                           % fields.python_repr(problems))
        parameters = values["parameters"]
        try:
            jsonschema.validate(parameters, service.registration_schema,
                                cls=jsonschema.Draft4Validator)
        except jsonschema.ValidationError as failure:
            if self.quirks:
                # The exception escapes Job.__init__
                # (docs/server-api.rst quirk invalid-parameters-500).
                raise HTTPException(500)
            return _errors(request, 400, fields.message_text(failure.message))
        job_id = str(uuid.uuid1())
        self.storage.add_job(id=job_id, service_id=service.id, status="REGISTERED",
                             parameters=parameters, result={},
                             date_submitted=self.now())
        job = self.storage.get_job(job_id)
        return json_response(request, 201, {"data": {
            "job_details": self._job_with_parameters(job),
            "message": "Job Job(parent_service=Service(id=%d, name=%s), job_parameters=%s) "
                       "successfully created" % (uuid.UUID(service.id).int, service.name,
                                                 fields.python_repr(parameters))}},
            headers=[("Location", request.url("/jobs/%s" % job_id))])

    def queue(self, request, service_id):
        parsed = _parsed_id(request, service_id, "Could not parse job_id=%s as a UUID")
        if self.storage.get_service(parsed) is None:
            return _errors(request, 404, "Could not find service with id %s" % parsed)
        # Every REGISTERED job, no limit, no parameters
        # (docs/server-api.rst §2.5, quirk lists-without-parameters).
        return json_response(request, 200, {"data": [
            self._job_summary(job)
            for job in self.storage.list_jobs(parsed, "REGISTERED", summary=True)]})

    def list_jobs(self, request):
        return json_response(request, 200, {"data": [
            self._job_with_parameters(job) for job in self.storage.list_jobs()]})

    def get_job(self, request, job_id):
        parsed = _parsed_id(request, job_id, "Could not parse job_id=%s as a UUID")
        job = self.storage.get_job(parsed)
        if job is None:
            return _errors(request, 404, "A job with id %s was not found" % parsed)
        return json_response(request, 200, {"data": self._job_detail(job)})

    def update_job(self, request, job_id):
        body = self._gate(request)
        parsed = _parsed_id(request, job_id, "Unable to cast job id %s to a UUID")
        job = self.storage.get_job(parsed)
        if job is None:
            return _errors(request, 404, "Unable to find job with id %s" % parsed)
        values, problems = fields.load(body, _JOB_UPDATE_FIELDS)
        if problems:
            return _errors(request, 400, problems)
        if "status" not in values or "result" not in values:
            # Job.update indexes both keys; "results" is not "result"
            # (docs/server-api.rst quirk put-needs-all-fields).
            raise HTTPException(500)
        # The files are written before the commit and never rolled back.
        self.storage.update_job(parsed, parameters=values["parameters"],
                                result=values["result"])
        if values["status"] not in STATUSES:
            # "WORKING\n", say, fails the CHECK (docs/server-api.rst quirk status-newline-500).
            raise HTTPException(500)
        self.storage.update_job(parsed, status=values["status"])
        job = self.storage.get_job(parsed)
        return json_response(request, 200, {"data": {
            "job_schema": self._job_detail(job),
            "message": "Job %s updated successfully" % parsed}},
            headers=[("Location", request.url("/jobs/%s" % parsed))])

    def next_job(self, request, job_id):
        parsed = _parsed_id(request, job_id, "id %s could not be coerced to a UUID")
        job = self.storage.get_job(parsed)
        if job is None:
            # None.next(...) (docs/server-api.rst quirk unknown-job-next-500).
            raise HTTPException(500)
        # The newest later job of any service and status, not the next one
        # (docs/server-api.rst quirk next-job-redirect).
        later = [other for other in self.storage.list_jobs(summary=True)
                 if other.date_submitted > job.date_submitted]
        if not later:
            return empty_response(204)
        newest = max(later, key=lambda other: other.date_submitted)
        target = request.url("/jobs/%s" % newest.id)
        return json_response(request, 302, {"data": {
            "message": "Redirecting to URL %s" % target, "target": target}},
            headers=[("Location", target)])

    def update_service_job(self, request, service_id, job_id):
        self._gate(request)
        service_uuid, job_uuid = parse_uuid(service_id), parse_uuid(job_id)
        if service_uuid is None or job_uuid is None:
            raise HTTPException(500)
        if self.storage.get_service(service_uuid) is None:
            return _errors(request, 404, "A service with id %s was not found" % service_id)
        if self.storage.get_job(job_uuid) is None:
            return _errors(request, 404, "A job with id %s was not found" % job_id)
        # Every other request fails and saves nothing
        # (docs/server-api.rst quirk service-job-put-500).
        raise HTTPException(500)
