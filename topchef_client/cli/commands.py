"""The commands of ``topchef``: look at a server, register services, submit jobs and follow them.

Each takes the parsed arguments and a ``Console``, and returns an exit code
or raises (see ``errors``). These commands ask the server once per request
unless ``--retries N`` says otherwise: a person at a terminal wants to hear
at once that a server is down, not after half a minute of retries.
"""
import json
import os
import sys

from topchef_client.cli.errors import EXIT_FAILURE, EXIT_OK, CommandFailed, UsageError
from topchef_client.cli.parsers import ADDRESS_VARIABLE
from topchef_client.cli.waiting import resumable, wait_for
from topchef_client.models import REGISTERED, WORKING

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, List, Optional  # noqa: F401
    from topchef_client.producer import TopChef  # noqa: F401

#: What ``topchef cancel`` writes as the job's error.
CANCELLED = {"type": "Cancelled", "message": "cancelled with topchef cancel"}


def server_address(arguments, from_environment=True):
    # type: (Any, bool) -> str
    """The server's address from --address or $TOPCHEF_ADDRESS, checked to be a URL."""
    from topchef_client.transport import split_credentials
    address = arguments.address or (os.environ.get(ADDRESS_VARIABLE) if from_environment
                                    else None)
    if not address:
        raise UsageError("no server address: give --address URL or set $%s"
                         % ADDRESS_VARIABLE)
    try:
        split_credentials(address)
    except (TypeError, ValueError) as error:
        raise UsageError("--address%s: %s" % (
            " (or $%s)" % ADDRESS_VARIABLE if from_environment else "", error))
    return address


def topchef_for(arguments):
    # type: (Any) -> TopChef
    """A ``TopChef`` for the server, with the command line's retries and timeout."""
    from topchef_client import producer
    options = {"retries": arguments.retries or 0}  # type: Dict[str, Any]
    if arguments.request_timeout is not None:
        options["timeout"] = arguments.request_timeout
    return producer.TopChef(server_address(arguments), **options)


def read_json(path, what):
    # type: (str, str) -> Any
    try:
        with open(path) as stream:
            return json.load(stream)
    except EnvironmentError as error:
        raise UsageError("cannot read %s from %s: %s" % (what, path, error.strerror))
    except ValueError as error:
        raise UsageError("%s in %s is not JSON: %s" % (what, path, error))


def parse_json(text, what):
    # type: (str, str) -> Any
    try:
        return json.loads(text)
    except ValueError as error:
        raise UsageError("%s are not JSON: %s" % (what, error))


def service_document(service):
    # type: (Any) -> Dict[str, Any]
    return dict((name, getattr(service, name)) for name in service._fields)


def job_document(job):
    # type: (Any) -> Dict[str, Any]
    document = dict((name, getattr(job, name)) for name in job._fields)
    document["date_submitted"] = job.date_submitted.isoformat() if job.date_submitted else None
    return document


def heartbeat_state(service):
    # type: (Any) -> str
    if service.has_timed_out is None:
        return "unknown"
    return "timed out" if service.has_timed_out else "alive"


def submitted(job):
    # type: (Any) -> str
    return job.date_submitted.isoformat() if job.date_submitted else "-"


def status_of(job):
    # type: (Any) -> str
    """The status, marked where a 2016 job is COMPLETED with an error report."""
    return job.status + (" (failed)" if job.is_failed and job.status != "ERROR" else "")


# Services

def list_services(arguments, console):
    with topchef_for(arguments) as topchef:
        services = topchef.connection.list_services(with_state=True)
    if arguments.json:
        console.json([service_document(service) for service in services])
    elif not services:
        console.say("no services")
    else:
        console.table([[service.id, service.name, heartbeat_state(service),
                        {True: "yes", False: "no", None: "-"}[service.is_available]]
                       for service in services], ["ID", "NAME", "HEARTBEAT", "AVAILABLE"])


def show_service(arguments, console):
    with topchef_for(arguments) as topchef:
        service = topchef.service(arguments.service_id)
        jobs = topchef.jobs(service)
    if arguments.json:
        document = service_document(service)
        document["jobs"] = [job_document(job) for job in jobs]
        console.json(document)
        return
    console.say(u"service      %s" % service.id)
    console.say(u"name         %s" % service.name)
    console.say(u"description  %s" % service.description)
    console.say(u"heartbeat    %s (timeout %s s)" % (heartbeat_state(service), service.timeout))
    console.say(u"parameters   %s" % json.dumps(service.job_registration_schema, sort_keys=True))
    console.say(u"result       %s" % json.dumps(service.job_result_schema, sort_keys=True))
    console.say(u"jobs         %d" % len(jobs))
    if jobs:
        console.table([[job.id, job.status, submitted(job)] for job in jobs],
                      ["ID", "STATUS", "SUBMITTED"])


def register_service(arguments, console):
    registration = read_json(arguments.registration_schema, "the registration schema")
    result = (read_json(arguments.result_schema, "the result schema")
              if arguments.result_schema else None)
    with topchef_for(arguments) as topchef:
        service = topchef.register_service(arguments.name, arguments.description,
                                           registration, result,
                                           service_timeout=arguments.service_timeout)
    if arguments.json:
        console.json(service_document(service))
    else:
        console.say(service.id)


# Jobs

def list_jobs(arguments, console):
    with topchef_for(arguments) as topchef:
        jobs = topchef.jobs(arguments.service_id)
    if arguments.status:
        jobs = [job for job in jobs if job.status == arguments.status]
    if arguments.json:
        console.json([job_document(job) for job in jobs])
    elif not jobs:
        console.say("no %sjobs" % (arguments.status + " " if arguments.status else ""))
    else:
        console.table([[job.id, job.status, submitted(job)] for job in jobs],
                      ["ID", "STATUS", "SUBMITTED"])


def submit_job(arguments, console):
    if arguments.file:
        parameters = read_json(arguments.file, "the parameters")
    elif arguments.parameters == "-":
        parameters = parse_json(sys.stdin.read(), "the parameters")
    elif arguments.parameters is not None:
        parameters = parse_json(arguments.parameters, "the parameters")
    else:
        raise UsageError("give the parameters as a JSON argument, - for standard input, "
                         "or --file FILE")
    if not isinstance(parameters, dict):
        raise UsageError("the parameters must be a JSON object, not %s"
                         % type(parameters).__name__)
    with topchef_for(arguments) as topchef:
        job = topchef.submit(arguments.service_id, parameters)
        with resumable([job.id]):
            if arguments.wait and arguments.json:
                console.note("submitted job %s; waiting for it" % job.id)
            elif arguments.json:
                console.json(job_document(job))
            else:
                console.say(job.id)  # first, so that an interrupted wait can be resumed
            if arguments.wait:
                return wait_and_show(topchef, [job], arguments, console)
    return EXIT_OK


def show_job(arguments, console):
    with topchef_for(arguments) as topchef:
        job = topchef.job(arguments.job_id)
    if arguments.json:
        console.json(job_document(job))
        return
    console.say("job          %s" % job.id)
    console.say("status       %s" % status_of(job))
    console.say("submitted    %s" % submitted(job))
    console.say("parameters   %s" % json.dumps(job.parameters, sort_keys=True))
    console.say("result       %s" % json.dumps(job.result, sort_keys=True))


def wait_for_jobs(arguments, console):
    with topchef_for(arguments) as topchef, resumable(arguments.job_ids):
        return wait_and_show(topchef, arguments.job_ids, arguments, console)


def wait_and_show(topchef, jobs, arguments, console):
    # type: (TopChef, List[Any], Any, Any) -> int
    """Wait for the jobs, then print a line (or JSON) each; 1 if any failed."""
    progress = None if arguments.json else console.progress(len(jobs))
    try:
        finished = wait_for(topchef, jobs, arguments.timeout, progress)
    finally:
        if progress is not None:
            progress.close()
    if arguments.json:
        console.json([job_document(job) for job in finished])
    else:
        for job in finished:
            outcome = (job.error or {}).get("message", job.status) if job.is_failed \
                else json.dumps(job.result, sort_keys=True)
            console.say("%s  %s  %s" % (job.id, "FAILED" if job.is_failed else job.status,
                                        outcome))
    return EXIT_FAILURE if any(job.is_failed for job in finished) else EXIT_OK


def requeue_job(arguments, console):
    with topchef_for(arguments) as topchef:
        job = topchef.job(arguments.job_id)
        before = status_of(job)
        if job.status != REGISTERED:
            job = topchef.connection.update_job(job, REGISTERED)
    if arguments.json:
        console.json(job_document(job))
    elif before == REGISTERED:
        console.say("job %s is REGISTERED already" % job.id)
    else:
        console.say("job %s: %s -> %s" % (job.id, before, job.status))


def cancel_job(arguments, console):
    with topchef_for(arguments) as topchef:
        job = topchef.job(arguments.job_id)
        if job.is_finished:
            raise CommandFailed("job %s has finished already (%s): there is nothing to cancel"
                                % (job.id, status_of(job)))
        before = job.status
        if before == WORKING:
            console.note("job %s was WORKING: its worker is not told, and may still write "
                         "a result" % job.id)
        job = topchef.connection.fail_job(job, dict(CANCELLED))
    if arguments.json:
        console.json(job_document(job))
    else:
        console.say("job %s: %s -> %s (cancelled)" % (job.id, before, job.status))


def run_demo(arguments, console):
    from topchef_client import demo
    # A local server unless --address says otherwise ($TOPCHEF_ADDRESS does not).
    address = server_address(arguments, from_environment=False) if arguments.address else None
    return demo.main(address, arguments.generation, arguments.jobs, out=console.out)
