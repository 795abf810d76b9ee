# -*- coding: utf-8 -*-
"""The TopChef server of November 2017, version 0.2 (docs/server-api.rst §3), quirks and all.

Deliberate oddities are quirks of the real server that a client meets at run
time; each names its entry among the quirks of docs/server-api.rst §6.
"""
import copy
import uuid

import jsonschema
import six

from topchef_client.testing import fields
from topchef_client.testing.application import Application
from topchef_client.testing.web import (
    JSON_CONTENT_TYPE, NOT_JSON, HTTPException, MalformedJSON, Router,
    empty_response, json_response, parse_uuid)

DEFAULT_TIMEOUT = 30  # seconds; every new service starts with it (docs/server-api.rst §3.4)
STATUSES = ("REGISTERED", "WORKING", "COMPLETED", "ERROR")
QUEUE_LIMIT = 10
_OVERRIDABLE = ("GET", "HEAD", "POST", "DELETE", "PUT", "PATCH", "OPTIONS")
_BODYLESS = ("GET", "HEAD", "OPTIONS", "DELETE")
DRAFT4 = "http://json-schema.org/draft-04/schema#"

# "undertand", sic (docs/server-api.rst quirk error-detail-typos).
NOT_JSON_DETAIL = ("Could not undertand input. Either it is not JSON, or the type was "
                   "not specified using the Content-Type header")


def _schema(title, properties, required=None, **extra):
    schema = {"$schema": DRAFT4, "title": title, "type": "object",
              "properties": properties}
    if required is not None:
        schema["required"] = required
    schema.update(extra)
    return schema


_STRING, _OBJECT, _BOOLEAN = {"type": "string"}, {"type": "object"}, {"type": "boolean"}
_JOB_STATUS = {"type": "string", "enum": list(STATUSES)}
_JOB_OVERVIEW = _schema("Job Overview", {
    "date_submitted": {"type": "string", "format": "date-time"},
    "id": _STRING, "status": _JOB_STATUS}, ["date_submitted", "id", "status"])
_JOB_DETAIL = _schema("Job Detail", dict(_JOB_OVERVIEW["properties"], **{
    "parameters": _OBJECT, "results": {"type": ["object", "null"]}}),
    ["date_submitted", "id", "parameters", "results", "status"])
_SERVICE_OVERVIEW = _schema("Service Overview", {
    "description": _STRING, "id": _STRING, "name": _STRING},
    ["description", "id", "name"])
# The meta schema calls the integer timeout a string
# (docs/server-api.rst quirk meta-schema-mistakes).
_SERVICE_DETAIL = _schema("Service Detail", dict(_SERVICE_OVERVIEW["properties"], **{
    "has_timed_out": _BOOLEAN, "is_service_available": _BOOLEAN, "timeout": _STRING,
    "job_registration_schema": _OBJECT, "job_result_schema": _OBJECT,
    "jobs": {"type": "array", "items": _JOB_OVERVIEW}}),
    ["description", "has_timed_out", "id", "is_service_available", "jobs", "name",
     "job_registration_schema", "job_result_schema", "timeout"])
_NEW_SERVICE = _schema("New Service", {
    "name": _STRING, "description": _STRING, "job_registration_schema": _OBJECT,
    "job_result_schema": _OBJECT},
    ["name", "description", "job_registration_schema", "job_result_schema"])
_PATCH_JOB = _schema("Job Modification", {"status": _JOB_STATUS, "results": _OBJECT}, [])
_VALIDATOR = _schema("Validator", {"object": _OBJECT, "schema": _OBJECT},
                     ["object", "schema"])
_METADATA = _schema("API Metadata", {
    "documentation_url": _STRING, "maintainer_email": _STRING,
    "maintainer_name": _STRING, "source_code_repository_url": _STRING,
    "version": _STRING},
    ["documentation_url", "maintainer_email", "maintainer_name",
     "source_code_repository_url", "version"])


def _job_status(value):
    if not isinstance(value, six.string_types):
        # JobStatusField calls .upper() on it (docs/server-api.rst quirk non-string-status-500).
        raise HTTPException(500)
    if value.upper() not in STATUSES:
        raise fields.Invalid("Unknown value for job status enum")
    return value.upper()


def _timeout(value):
    value = fields.period(value)
    if value < 0:
        raise fields.Invalid("Attempted to set a negative timeout duration")
    return value


_SERVICE_FIELDS = {
    "name": (fields.string, True),
    "description": (fields.string, True),
    "job_registration_schema": (fields.mapping, True),
    "job_result_schema": (fields.mapping, True),
}
_SERVICE_CHANGE_FIELDS = {
    "is_available": (fields.boolean, False),
    "name": (fields.string, False),
    "description": (fields.string, False),
    "timeout": (_timeout, False),
}
_NEW_JOB_FIELDS = {"parameters": (fields.mapping, True)}
_VALIDATOR_FIELDS = {"object": (fields.mapping, True), "schema": (fields.mapping, True)}


def _error(status, title, detail):
    return {"status_code": status, "title": title, "detail": detail}


def _errors(request, status, entries):
    return json_response(request, status, {"errors": entries})


def _abort(request, status, title, detail):
    """An ``HTTPException`` that answers with one error entry."""
    return HTTPException(status, _errors(request, status, [_error(status, title, detail)]))


def _not_json(request):
    return _errors(request, 400, [_error(400, "Request Not JSON", NOT_JSON_DETAIL)])


def _field_errors(request, problems):
    # "Valdation" (sic: docs/server-api.rst quirk error-detail-typos), one entry
    # per field in no particular order.
    return _errors(request, 400, [
        _error(400, "Deserialization Error From Client Data",
               "Valdation of key '%s' threw error '%s'." % (name, fields.python_repr(messages)))
        for name, messages in sorted(problems.items())])


def _checked(request, document, field_table):
    """The values of ``document`` by ``field_table``; a 400 answer when a field is wrong."""
    values, problems = fields.load(document, field_table)
    if problems:
        raise HTTPException(400, _field_errors(request, problems))
    return values


def _schema_failures(schema, instance):
    """Every draft-4 violation, as error entries; a schema that breaks raises.

    See docs/server-api.rst quirk invalid-schema-500.
    """
    return [_error(400, "JSONSchema Validation Error",
                   "Validation of schema %s threw error %s" % (
                       "[%s]" % ", ".join("<ValidationError: %s>" % fields.python_repr(
                           fields.message_text(sub.message)) for sub in failure.context),
                       fields.message_text(failure.message)))
            for failure in jsonschema.Draft4Validator(schema).iter_errors(instance)]


class App2017(Application):
    """Routes and endpoint classes of ``topchef/wsgi_app.py`` at version 0.2."""

    generation = "2017"

    def __init__(self, storage, clock, quirks=True):
        Application.__init__(self, storage, clock, quirks)
        router = self.router = Router(head_as_get=False)
        router.add("/", GET=self.root)
        router.add("/services", GET=self.list_services, POST=self.register_service)
        router.add("/services/<service_id>", GET=self.get_service, PATCH=self.change_service)
        router.add("/services/<service_id>/jobs", GET=self.list_service_jobs,
                   POST=self.submit_job)
        router.add("/services/<service_id>/jobs/next", GET=self.next_job)
        router.add("/services/<service_id>/queue", GET=self.queue)
        router.add("/jobs", GET=self.list_jobs)
        router.add("/jobs/<job_id>", GET=self.get_job, PATCH=self.change_job)
        router.add("/validator", GET=self.describe_validator, POST=self.validate)

    def handle(self, request):
        request = self._override_method(request)
        response = Application.handle(self, request)
        if request.method == "HEAD" and response.status == 405:
            # The endpoint base class refuses HEAD, as JSON with no body
            # (docs/server-api.rst quirk head-405).
            return empty_response(405, JSON_CONTENT_TYPE)
        return response

    @staticmethod
    def _override_method(request):
        """The X-HTTP-Method-Override middleware, which runs before routing.

        See docs/server-api.rst §3.5.
        """
        override = request.headers.get("x-http-method-override", "").upper()
        if override not in _OVERRIDABLE:
            return request
        changed = copy.copy(request)
        changed.method = override
        if override in _BODYLESS:
            changed.body = b""
        return changed

    @staticmethod
    def _json_body(request):
        """The body, or None when there is no usable JSON (Flask's silent get_json)."""
        try:
            body = request.json()
        except MalformedJSON:
            return None
        return None if body is NOT_JSON else body

    def _envelope(self, request, status, data, meta=None, headers=None):
        document = {"data": data, "links": {"self": request.url(request.path)}}
        if meta is not None:
            document["meta"] = meta
        return json_response(request, status, document, headers)

    # Lookups and body checks with the answers every endpoint shares

    def _find(self, request, kind, identifier):
        """The service or job ``identifier`` names; a 404 answer when there is none."""
        parsed = parse_uuid(identifier)
        if parsed is None:
            raise _abort(request, 404, "Not UUID Error",
                         "The string %s could not be converted to a UUID" % identifier)
        if kind == "service":
            record = self.storage.get_service(parsed)
            if record is None:
                raise _abort(request, 404, "Service Not Found",
                             "A service with UUID %s does not exist" % parsed)
        else:
            record = self.storage.get_job(parsed)
            if record is None:
                raise _abort(request, 404, "Job Not Found",
                             "A job with id %s was not found" % parsed)
        return record

    def _load(self, request, field_table):
        """The values of the JSON body by ``field_table``; a 400 for no body or bad fields."""
        body = self._json_body(request)
        if body is None:
            raise HTTPException(400, _not_json(request))
        return _checked(request, body, field_table)

    # Representations (docs/server-api.rst §3.3)

    def _job_overview(self, job):
        return {"date_submitted": self.timestamp(job.date_submitted), "id": job.id,
                "status": job.status}

    def _job_detail(self, job):
        detail = self._job_overview(job)
        detail.update(parameters=job.parameters, results=job.result)
        return detail

    def _service_detail(self, service):
        return {
            "description": service.description,
            # Strictly greater than the timeout; 2016 used >= (docs/server-api.rst §5).
            "has_timed_out": self.now() - service.last_checked_in > service.timeout,
            "id": service.id,
            "is_service_available": bool(service.available),
            "job_registration_schema": service.registration_schema,
            "job_result_schema": service.result_schema,
            "jobs": [self._job_overview(job)
                     for job in self.storage.list_jobs(service.id, summary=True)],
            "name": service.name,
            "timeout": service.timeout,
        }

    def _service_response(self, request, service):
        return self._envelope(request, 200, self._service_detail(service),
                              {"service_schema": _SERVICE_DETAIL})

    # Endpoints

    def root(self, request):
        return self._envelope(request, 200, {
            "documentation_url": "https://topchef.readthedocs.io/en/latest/",
            "maintainer_email": "michalkononenko@gmail.com",
            "maintainer_name": "Michal Kononenko",
            "source_code_repository_url": "https://www.github.com/MichalKononenko/TopChef",
            "version": "0.1dev"}, {"schema": _METADATA})

    def list_services(self, request):
        return self._envelope(request, 200, [
            {"description": service.description, "id": service.id, "name": service.name}
            for service in self.storage.list_services()],
            {"service_schema": _SERVICE_OVERVIEW, "new_service_schema": _NEW_SERVICE})

    def register_service(self, request):
        values = self._load(request, _SERVICE_FIELDS)
        service_id = str(uuid.uuid4())
        # Any timeout in the body is ignored; availability starts false (docs/server-api.rst §3.4).
        self.storage.add_service(
            id=service_id, name=values["name"], description=values["description"],
            registration_schema=values["job_registration_schema"],
            result_schema=values["job_result_schema"], timeout=DEFAULT_TIMEOUT,
            available=False, last_checked_in=self.now())
        # The body carries no id: only Location does
        # (docs/server-api.rst quirk id-only-in-location).
        return self._envelope(request, 201, {"message": "service successfully created"},
                              headers=[("Location", request.url("/services/" + service_id))])

    def get_service(self, request, service_id):
        return self._service_response(request, self._find(request, "service", service_id))

    def change_service(self, request, service_id):
        service = self._find(request, "service", service_id)
        now = self.now()
        # The check-in is committed whatever the body turns out to be
        # (docs/server-api.rst quirk heartbeat-before-validation).
        self.storage.update_service(service.id, last_checked_in=now)
        body = self._json_body(request)
        if body is None:
            return json_response(request, 200, {
                "meta": "Service checked in at %s" % self.naive_utc_text(now)})
        values = _checked(request, body, _SERVICE_CHANGE_FIELDS)
        changes = dict((key, values[key]) for key in ("name", "description") if key in values)
        if "is_available" in values:
            changes["available"] = values["is_available"]
        self.storage.update_service(service.id, **changes)
        if values.get("timeout") == 0:
            # Validation lets 0 through, the model refuses it, and the other
            # changes are already committed (docs/server-api.rst quirk zero-timeout-500).
            raise HTTPException(500)
        if "timeout" in values:
            self.storage.update_service(service.id, timeout=values["timeout"])
        return self._service_response(request, self.storage.get_service(service.id))

    def list_service_jobs(self, request, service_id):
        service = self._find(request, "service", service_id)
        return self._envelope(request, 200, [
            self._job_detail(job) for job in self.storage.list_jobs(service.id)], {
            "data_schema": {"type": "array", "items": _JOB_DETAIL},
            # No "required" list, although parameters are required
            # (docs/server-api.rst quirk meta-schema-mistakes).
            "new_job_schema": {
                "title": "New Job Schema",
                "description": "The body to post to submit a job to this service",
                "$schema": DRAFT4, "type": "object",
                "properties": {"parameters": service.registration_schema}}})

    def submit_job(self, request, service_id):
        service = self._find(request, "service", service_id)
        values = self._load(request, _NEW_JOB_FIELDS)
        failures = _schema_failures(service.registration_schema, values["parameters"])
        if failures:
            return _errors(request, 400, failures)
        job_id = str(uuid.uuid4())
        # Every job of one server process shares one date_submitted: a default
        # argument evaluated at import (docs/server-api.rst quirk frozen-date-submitted).
        submitted = self.started_at if self.quirks else self.now()
        self.storage.add_job(id=job_id, service_id=service.id, status="REGISTERED",
                             parameters=values["parameters"], result=None,
                             date_submitted=submitted)
        return json_response(request, 201, {
            "data": self._job_detail(self.storage.get_job(job_id)),
            "meta": "new job ID is %s" % job_id},
            headers=[("Location", request.url("/jobs/" + job_id))])

    def queue(self, request, service_id):
        service = self._find(request, "service", service_id)
        # The first ten in database order, then a stable sort: not the ten
        # oldest (docs/server-api.rst quirk queue-first-ten).
        jobs = self.storage.list_jobs(service.id, "REGISTERED", limit=QUEUE_LIMIT)
        jobs.sort(key=lambda job: job.date_submitted)
        if not jobs:
            # Empty and not JSON (docs/server-api.rst quirk empty-queue-204).
            return empty_response(204)
        return self._envelope(request, 200, [self._job_detail(job) for job in jobs],
                              {"data_schema": {"type": "array", "items": _JOB_DETAIL}})

    def next_job(self, request, service_id):
        service = self._find(request, "service", service_id)
        jobs = self.storage.list_jobs(service.id, "REGISTERED", summary=True)
        if not jobs:
            return empty_response(204)  # (docs/server-api.rst quirk empty-queue-204)
        first = min(jobs, key=lambda job: job.date_submitted)  # stable: ties keep order
        return self._envelope(request, 200, self._job_detail(self.storage.get_job(first.id)),
                              {"job_schema": _JOB_DETAIL})

    def list_jobs(self, request):
        return self._envelope(request, 200, [
            self._job_overview(job) for job in self.storage.list_jobs(summary=True)],
            {"data_schema": {"type": "array", "items": _JOB_OVERVIEW}})

    def get_job(self, request, job_id):
        job = self._find(request, "job", job_id)
        return self._envelope(request, 200, self._job_detail(job), {
            "job_info_schema": _JOB_DETAIL, "patch_request_schema": _PATCH_JOB})

    def change_job(self, request, job_id):
        job = self._find(request, "job", job_id)
        body = self._json_body(request)
        if body is None:
            return _not_json(request)
        if not isinstance(body, dict):
            return _field_errors(request, {"_schema": [fields.INVALID_INPUT]})
        # Unknown keys, "result" among them, are ignored
        # (docs/server-api.rst quirk result-singular-ignored); null means no change.
        results, status = body.get("results"), body.get("status")
        problems = {}
        if results is not None and not isinstance(results, dict):
            problems["results"] = ["Not a valid mapping type."]
        if status is not None:
            try:
                status = _job_status(status)
            except fields.Invalid as error:
                problems["status"] = [error.args[0]]
        if problems:
            return _field_errors(request, problems)
        if results is not None:
            service = self.storage.get_service(job.service_id)
            failures = _schema_failures(service.result_schema, results)
            if failures:
                return _errors(request, 400, failures)  # nothing changes
            self.storage.update_job(job.id, result=results)
        if status is not None:
            self.storage.update_job(job.id, status=status)
        # A bare job, unlike GET's envelope (docs/server-api.rst quirk bare-job-patch-reply).
        return json_response(request, 200, self._job_detail(self.storage.get_job(job.id)))

    def describe_validator(self, request):
        return self._envelope(request, 200, {}, {"validator_schema": _VALIDATOR})

    def validate(self, request):
        values = self._load(request, _VALIDATOR_FIELDS)
        # Draft 4 whatever "$schema" says; the schema itself is not checked
        # first, and one that breaks the validator is a 500
        # (docs/server-api.rst quirk invalid-schema-500).
        failures = _schema_failures(values["schema"], values["object"])
        if failures:
            return _errors(request, 400, failures)
        return self._envelope(request, 200, {"status": "Validation was successful"})
