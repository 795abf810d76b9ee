# -*- coding: utf-8 -*-
"""The two TopChef API generations, behind one interface.

A ``Connection`` picks one adapter after ``GET /`` (``detect``) and hands it
every operation. The adapters hold every difference between the 2016 and
the 2017 server, and every server quirk a client meets; nothing outside this
module asks which generation a server speaks. Comments cite the project's
reference of the API, docs/server-api.rst, by section and by quirk name.
"""
import logging

import six

from topchef_client import defaults
from topchef_client.exceptions import (
    BadRequest, JobNotFound, ProtocolError, ServerError, ServiceNotFound,
    ValidationError)
from topchef_client.models import (
    COMPLETED, ERROR, REGISTERED, WORKING, Job, Service, canonical_id)
from topchef_client.schemas import Schema

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, Iterable, List, Optional, Tuple  # noqa: F401
    from topchef_client.transport import Reply  # noqa: F401

log = logging.getLogger(__name__)


def detect(reply):
    # type: (Reply) -> str
    """The generation whose ``GET /`` answer ``reply`` is (docs/server-api.rst §4)."""
    document = reply.document()
    data, meta = (document.get("data"), document.get("meta")) if isinstance(
        document, dict) else (None, None)
    if isinstance(meta, dict) and "author" in meta and "links" not in document:
        return "2016"
    if isinstance(data, dict) and "maintainer_name" in data and "links" in document:
        return "2017"
    raise reply.error(ProtocolError, "this is not a TopChef server of a known "
                      "generation (GET / has the shape of neither)")


class Generation(object):
    """What both API generations share (of ``connection``); subclasses hold their differences."""

    name = None  # type: Optional[str]
    statuses = ()  # type: Tuple[str, ...]
    result_field = None  # type: Optional[str]

    #: The types of the fields the models rely on, where the server gives them.
    job_fields = (("id", six.string_types), ("status", six.string_types),
                  ("parameters", dict), ("date_submitted", six.string_types))
    service_fields = (("id", six.string_types), ("job_registration_schema", dict),
                      ("job_result_schema", dict), ("timeout", six.integer_types + (float,)))

    def __init__(self, connection):
        self.connection = connection

    def request(self, *args, **kwargs):
        return self.connection.request(*args, **kwargs)

    # Documents into models

    @staticmethod
    def checked(document, what, fields, reply):
        """``document`` if it is an object with an id and fields of the right types.

        Otherwise ``ProtocolError``, naming the exchange ``reply`` came from.
        """
        if not isinstance(document, dict) or not isinstance(
                document.get("id"), six.string_types):
            problem = "a %s in the answer has no id" % what
        else:
            wrong = [name for name, kind in fields
                     if document.get(name) is not None and not isinstance(document[name], kind)]
            if not wrong:
                return document
            problem = "a %s in the answer has a %s of the wrong type" % (what, wrong[0])
        raise reply.error(ProtocolError, problem)

    def job(self, document, service_id, reply):
        document = self.checked(document, "job", self.job_fields, reply)
        return Job(document["id"], document.get("status"), document.get("parameters"),
                   document.get(self.result_field), document.get("date_submitted"),
                   service_id)

    def service(self, document, reply):
        document = self.checked(document, "service", self.service_fields, reply)
        return Service(document["id"], document.get("name"), document.get("description"),
                       document.get("job_registration_schema"),
                       document.get("job_result_schema"), self.service_timeout(document),
                       document.get("has_timed_out"), document.get("is_service_available"))

    def service_timeout(self, document):
        return document.get("timeout")

    # Operations both generations do alike

    def server_info(self, document):
        """The server's self-description from its ``GET /`` document."""
        data = document.get("data")
        return dict(data) if isinstance(data, dict) else {}

    def list_services(self, with_state=False):
        reply = self.request("GET", "/services")
        return [self.service(item, reply) for item in reply.data(list)]

    def list_jobs(self, service_id):
        reply = self.request("GET", "/services/%s/jobs" % service_id,
                             not_found=ServiceNotFound)
        return [self.job(item, service_id, reply) for item in reply.data(list)]

    def get_job(self, job_id, service_id=None):
        """The job, with ``service_id`` as the caller knows it (read from no job document)."""
        reply = self.request("GET", "/jobs/%s" % job_id, not_found=JobNotFound)
        return self.job(reply.data(dict), service_id, reply)

    def register_service(self, name, description, registration_schema, result_schema,
                         service_timeout):
        reply = self.request("POST", "/services", {
            "name": name, "description": description,
            "job_registration_schema": registration_schema,
            "job_result_schema": result_schema}, expected=(201,))
        return self.registered_service(reply, name, description, registration_schema,
                                       result_schema, service_timeout)

    def submit_job(self, service_id, parameters):
        try:
            reply = self.request("POST", "/services/%s/jobs" % service_id,
                                 {"parameters": parameters}, expected=(201,),
                                 not_found=ServiceNotFound)
        except (BadRequest, ServerError) as error:
            raise self.refused_parameters(error, service_id, parameters)
        return self.submitted_job(reply, service_id)

    def job_to_run(self, job, recheck):
        """``job`` as it must be claimed (with its parameters), or None if it is taken.

        :param recheck: read the job's status first even where the queue
            gave everything needed (a sign of another worker was seen).
        """
        if job.parameters is not None and not recheck:
            return job
        try:
            fresh = self.connection.get_job(job.id, job.service_id)
        except JobNotFound:
            return None
        if fresh.status != REGISTERED:
            log.info("job %s was taken by another worker (now %s)", job.id, fresh.status)
            return None
        return fresh

    def poll_jobs(self, service_id, job_ids):
        """The jobs of ``service_id`` among ``job_ids``, with results where they finished."""
        wanted = set(job_ids)
        return [self.with_result(job) for job in self.list_jobs(service_id)
                if job.id in wanted]

    def with_result(self, job):
        return job


class Generation2016(Generation):
    """The September 2016 server (docs/server-api.rst §2)."""

    name = "2016"
    statuses = (REGISTERED, WORKING, COMPLETED)
    result_field = "result"  # singular (docs/server-api.rst §2.4)

    def service_timeout(self, document):
        # Fixed, and never reported (docs/server-api.rst §2.4).
        return int(defaults.DEFAULT_SERVICE_TIMEOUT)

    def server_info(self, document):
        # The author and version are in "meta" here (docs/server-api.rst §2.5).
        meta = document.get("meta")
        info = dict(meta) if isinstance(meta, dict) else {}
        info.update(Generation.server_info(self, document))
        return info

    def get_service(self, service_id, retry=True):
        try:
            reply = self.request("GET", "/services/%s" % service_id,
                                 not_found=ServiceNotFound, retry=retry)
        except ServerError as error:
            # An unknown service is a 500 here (docs/server-api.rst quirk
            # unknown-service-500): look for it in the list.
            if error.status_code == 500 and all(
                    service.id != service_id for service in self.list_services()):
                raise ServiceNotFound("service %s does not exist (the server answered "
                                      "500, and the service list lacks it): %s"
                                      % (service_id, error), method=error.method,
                                      url=error.url, status_code=error.status_code,
                                      body=error.body)
            raise
        return self.service(reply.data(dict), reply)

    def register_service(self, name, description, registration_schema, result_schema,
                         service_timeout):
        fixed = self.service_timeout({})
        if service_timeout is not None and service_timeout != fixed:
            log.warning("a 2016 server fixes every service's timeout at %d s; "
                        "service_timeout=%s is ignored", fixed, service_timeout)
        return Generation.register_service(self, name, description, registration_schema,
                                           result_schema, service_timeout)

    def registered_service(self, reply, name, description, registration_schema,
                           result_schema, service_timeout):
        return self.service(reply.checked(reply.data(dict).get("service_details"), dict),
                            reply)

    def set_availability(self, service_id, available):
        return None  # no such flag (docs/server-api.rst §2.4)

    def announce(self, service_id, available, timeout, retry):
        # No availability flag: a starting worker checks in, a stopping one
        # has nothing to say.
        if available:
            self.connection.heartbeat(service_id, timeout=timeout, retry=retry)

    def refused_parameters(self, error, service_id, parameters):
        """Invalid parameters are a 500 here (docs/server-api.rst quirk invalid-parameters-500).

        Check them against the stored schema, to say what is wrong.
        """
        if not isinstance(error, ServerError) or error.status_code != 500:
            return error
        schema = self.connection.get_service(service_id).job_registration_schema
        try:
            Schema(schema or {}, "parameters").validate(parameters)
        except ValidationError as invalid:
            return ValidationError(
                "%s (which is why %s)" % (invalid.message, error.message),
                invalid.path, invalid.schema_path, invalid.errors,
                method=error.method, url=error.url, status_code=error.status_code,
                body=error.body)
        except Exception:
            # The stored schema defeats jsonschema (a "$schema" that is no
            # string, a "$ref" to nowhere): the 500 is all there is to say.
            log.debug("cannot check parameters against %r", schema, exc_info=True)
        return error

    def submitted_job(self, reply, service_id):
        details = reply.checked(reply.data(dict).get("job_details"), dict)
        return self.job(details, service_id, reply)

    def get_queue(self, service_id, retry=True):
        # Every queued job, without parameters (docs/server-api.rst quirk
        # lists-without-parameters).
        reply = self.request("GET", "/services/%s/queue" % service_id,
                             not_found=ServiceNotFound, retry=retry)
        return [self.job(item, service_id, reply) for item in reply.data(list)]

    def next_job(self, service_id):
        for job in self.get_queue(service_id):
            found = self.job_to_run(job, recheck=True)
            if found is not None:
                return found
        return None

    def with_result(self, job):
        # Job lists carry no result (docs/server-api.rst quirk
        # lists-without-parameters): a finished job is read whole.
        if not job.is_finished or job.parameters is not None:
            return job
        return self.connection.get_job(job.id, job.service_id)

    def update_job(self, job, status, result, retry=True):
        # PUT replaces parameters and result: fetch whichever is unknown, or
        # the job loses it (a submitted job's result is unknown, not empty).
        if job.parameters is None or (result is None and job.result is None):
            job = self.connection.get_job(job.id, job.service_id)
        if result is None:
            result = job.result if isinstance(job.result, dict) else {}
        # All three fields, or a 500 (docs/server-api.rst quirk put-needs-all-fields).
        reply = self.request("PUT", "/jobs/%s" % job.id, {
            "status": status, "result": result, "parameters": job.parameters},
            not_found=JobNotFound, retry=retry)
        return self.job(reply.checked(reply.data(dict).get("job_schema"), dict), job.service_id,
                        reply)

    def fail_job(self, job, error_result, result_schema):
        # No ERROR status (docs/server-api.rst §2.4): COMPLETED with the error
        # as its result, so the job is not run again and its failure is on record.
        return self.update_job(job, COMPLETED, error_result)


class Generation2017(Generation):
    """The November 2017 server, version 0.2 (docs/server-api.rst §3)."""

    name = "2017"
    statuses = (REGISTERED, WORKING, COMPLETED, ERROR)
    result_field = "results"

    def list_services(self, with_state=False):
        services = Generation.list_services(self)
        if not with_state:
            return services
        # The list has no heartbeat state (docs/server-api.rst §3.3): ask each service.
        return [self.get_service(service.id) for service in services]

    def get_service(self, service_id, retry=True):
        reply = self.request("GET", "/services/%s" % service_id, not_found=ServiceNotFound,
                             retry=retry)
        return self.service(reply.data(dict), reply)

    def registered_service(self, reply, name, description, registration_schema,
                           result_schema, service_timeout):
        # The body has no id, only the Location header (docs/server-api.rst
        # quirk id-only-in-location).
        location = reply.headers.get("Location") or ""
        service_id = location.rstrip("/").rsplit("/", 1)[-1]
        try:
            service_id = canonical_id(service_id, ServiceNotFound)
        except ServiceNotFound:
            raise reply.error(ProtocolError, "the new service's Location header %r holds "
                              "no id" % location)
        if service_timeout is not None:
            return self._change_service(service_id, {"timeout": service_timeout})
        # The server stores both schemas verbatim, so nothing needs asking.
        return Service(service_id, name, description, registration_schema, result_schema,
                       timeout=int(defaults.DEFAULT_SERVICE_TIMEOUT), has_timed_out=False,
                       is_available=False)

    def _change_service(self, service_id, changes, timeout=None, retry=True):
        reply = self.request("PATCH", "/services/%s" % service_id, changes,
                             not_found=ServiceNotFound, timeout=timeout, retry=retry)
        return self.service(reply.data(dict), reply)

    def set_availability(self, service_id, available):
        return self._change_service(service_id, {"is_available": available})

    def announce(self, service_id, available, timeout, retry):
        # A PATCH with a body is a check-in too (docs/server-api.rst §3.4).
        self._change_service(service_id, {"is_available": available}, timeout, retry)

    def refused_parameters(self, error, service_id, parameters):
        return self._validation_error(error, "parameters")

    @staticmethod
    def _validation_error(error, what):
        """A 400 for a JSON Schema violation becomes a ``ValidationError``."""
        if not isinstance(error, BadRequest) or \
                "JSONSchema Validation Error" not in error.message:
            return error
        return ValidationError("invalid %s (the server says): %s" % (what, error.message),
                               method=error.method, url=error.url,
                               status_code=error.status_code, body=error.body)

    def submitted_job(self, reply, service_id):
        return self.job(reply.data(dict), service_id, reply)

    def get_queue(self, service_id, retry=True):
        reply = self.request("GET", "/services/%s/queue" % service_id, expected=(200, 204),
                             not_found=ServiceNotFound, retry=retry)
        if reply.status == 204:
            # An empty queue is an empty, non-JSON 204 (docs/server-api.rst
            # quirk empty-queue-204).
            return []
        return [self.job(item, service_id, reply) for item in reply.data(list)]

    def next_job(self, service_id):
        reply = self.request("GET", "/services/%s/jobs/next" % service_id,
                             expected=(200, 204), not_found=ServiceNotFound)
        if reply.status == 204:
            return None
        return self.job(reply.data(dict), service_id, reply)

    def update_job(self, job, status, result, retry=True):
        change = {"status": status}  # type: Dict[str, Any]
        if result is not None:
            change["results"] = result
        try:
            reply = self.request("PATCH", "/jobs/%s" % job.id, change, not_found=JobNotFound,
                                 retry=retry)
        except BadRequest as error:
            raise self._validation_error(error, "result")
        # A bare job, not an envelope (docs/server-api.rst quirk bare-job-patch-reply).
        return self.job(reply.checked(reply.document(), dict), job.service_id, reply)

    def fail_job(self, job, error_result, result_schema):
        if result_schema is not None and not result_schema.is_valid(error_result):
            return self.update_job(job, ERROR, None)
        try:
            return self.update_job(job, ERROR, error_result)
        except ValidationError:
            # The service's result schema has no room for an error report.
            return self.update_job(job, ERROR, None)


#: The adapters by generation name.
GENERATIONS = {"2016": Generation2016, "2017": Generation2017}
