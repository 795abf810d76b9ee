"""The command line: ``topchef`` for people who submit jobs, ``topchef-worker`` to run them.

``main(argv=None)`` and ``worker_main(argv=None)`` return an exit code:
0 on success (a graceful stop or a finished burst included), 1 when the
server cannot be reached or refuses what was asked, 2 for bad arguments or
input. Errors are one line on standard error.
"""
import argparse
import importlib
import json
import logging
import os
import sys

import six

from topchef_client import defaults
from topchef_client.exceptions import (
    JobWaitTimeout, NetworkError, NotFound, TopChefError, ValidationError)
from topchef_client.producer import TopChef

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import List, Optional  # noqa: F401


log = logging.getLogger(__name__)

#: The environment variable that gives the server's address when --address does not.
ADDRESS_VARIABLE = "TOPCHEF_ADDRESS"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Raised for bad arguments or input; its message is shown as is."""


def _address_option(parser):
    parser.add_argument(
        "--address", default=os.environ.get(ADDRESS_VARIABLE),
        help="the TopChef server's base URL (default: $%s)" % ADDRESS_VARIABLE)


def _log_level_option(parser, default="WARNING"):
    parser.add_argument("--log-level", default=default, type=str.upper,
                        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
                        help="logging level on standard error (default %s)" % default)


def _add_worker_arguments(parser):
    parser.add_argument("worker_class", metavar="MODULE:CLASS",
                        help="the Client subclass to run, e.g. myproject.workers:AddOne")
    _address_option(parser)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--service-id", help="the id of the service whose jobs to run")
    target.add_argument("--register", metavar="NAME",
                        help="register a new service with this name and run its jobs")
    parser.add_argument("--description", default="",
                        help="with --register: the service's description")
    parser.add_argument("--registration-schema", metavar="FILE",
                        help="with --register: a JSON file with the job registration schema")
    parser.add_argument("--result-schema", metavar="FILE",
                        help="with --register: a JSON file with the job result schema "
                             "(default: any object)")
    parser.add_argument("--service-timeout", type=int, metavar="SECONDS",
                        help="with --register: the service's timeout (2017 servers)")
    parser.add_argument("--threads", type=int, default=1,
                        help="processing threads (default 1)")
    parser.add_argument("--burst", action="store_true",
                        help="run the jobs queued now, then exit")
    parser.add_argument("--poll-interval", type=float,
                        default=defaults.DEFAULT_POLL_INTERVAL, metavar="SECONDS",
                        help="pause after an empty queue, doubling to --max-poll-interval "
                             "(default %s)" % defaults.DEFAULT_POLL_INTERVAL)
    parser.add_argument("--max-poll-interval", type=float,
                        default=defaults.DEFAULT_MAX_POLL_INTERVAL, metavar="SECONDS",
                        help="longest pause between polls of an empty queue (default %s)"
                             % defaults.DEFAULT_MAX_POLL_INTERVAL)
    parser.add_argument("--heartbeat-interval", type=float, metavar="SECONDS",
                        help="seconds between heartbeats (default: a third of the "
                             "service's timeout)")
    _log_level_option(parser, "INFO")
    parser.set_defaults(command=run_worker)


def worker_parser(prog="topchef-worker"):
    parser = argparse.ArgumentParser(
        prog=prog, description="Run the jobs of a TopChef service with a Client subclass "
                               "until SIGINT or SIGTERM (twice to stop at once).")
    _add_worker_arguments(parser)
    return parser


def main_parser():
    parser = argparse.ArgumentParser(
        prog="topchef", description="Work with a TopChef job server from a terminal.")
    commands = parser.add_subparsers(dest="command_name", metavar="COMMAND")
    commands.required = True

    def command(name, function, help):
        sub = commands.add_parser(name, help=help, description=help)
        if function is not run_worker:
            _address_option(sub)
            sub.add_argument("--json", action="store_true",
                             help="print JSON instead of text")
            _log_level_option(sub)
        sub.set_defaults(command=function)
        return sub

    command("services", list_services, "list the services, with their heartbeat state")
    show = command("service", show_service, "show a service, its schemas and its jobs")
    show.add_argument("service_id")
    register = command("register", register_service, "register a service")
    register.add_argument("name")
    register.add_argument("--description", default="")
    register.add_argument("--registration-schema", metavar="FILE", required=True,
                          help="a JSON file with the job registration schema")
    register.add_argument("--result-schema", metavar="FILE",
                          help="a JSON file with the job result schema (default: any object)")
    register.add_argument("--timeout", type=int, metavar="SECONDS",
                          help="the service's timeout (2017 servers)")
    submit = command("submit", submit_job,
                     "submit a job (parameters are checked against the schema first)")
    submit.add_argument("service_id")
    submit.add_argument("parameters", nargs="?", metavar="JSON",
                        help="the parameters as a JSON object, or - to read them from "
                             "standard input")
    submit.add_argument("--file", metavar="FILE", help="read the parameters from a JSON file")
    submit.add_argument("--wait", action="store_true", help="wait for the result")
    submit.add_argument("--timeout", type=float, default=defaults.DEFAULT_WAIT_TIMEOUT,
                        metavar="SECONDS", help="with --wait: give up after this long")
    job = command("job", show_job, "show a job")
    job.add_argument("job_id")
    wait = command("wait", wait_for_jobs, "wait for jobs to finish and show their results")
    wait.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    wait.add_argument("--timeout", type=float, default=defaults.DEFAULT_WAIT_TIMEOUT,
                      metavar="SECONDS", help="give up after this long (default %s)"
                      % defaults.DEFAULT_WAIT_TIMEOUT)
    demo = commands.add_parser("demo", help="run the AddOne example end to end",
                               description="Start a local server (unless --address is "
                                           "given), register the README's AddOne service, "
                                           "run a worker and submit jobs to it.")
    demo.add_argument("--address", help="use this TopChef server instead of a local one")
    demo.add_argument("--generation", choices=("2016", "2017"), default="2017",
                      help="the API generation of the local server (default 2017)")
    demo.add_argument("--jobs", type=int, default=10, help="how many jobs (default 10)")
    _log_level_option(demo)
    demo.set_defaults(command=run_demo)
    worker = commands.add_parser("worker", help="run a worker (as topchef-worker)",
                                 description=worker_parser().description)
    _add_worker_arguments(worker)
    return parser


def main(argv=None):
    # type: (Optional[List[str]]) -> int
    """``topchef`` and ``python -m topchef_client``."""
    return _dispatch(main_parser(), argv)


def worker_main(argv=None):
    # type: (Optional[List[str]]) -> int
    """``topchef-worker``."""
    return _dispatch(worker_parser(), argv)


def _dispatch(parser, argv):
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=arguments.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return arguments.command(arguments) or EXIT_OK
    except UsageError as error:
        return _fail(parser.prog, error, EXIT_USAGE)
    except ValidationError as error:
        return _fail(parser.prog, error, EXIT_USAGE)
    except (TopChefError, EnvironmentError) as error:
        return _fail(parser.prog, error, EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail(parser.prog, "interrupted", EXIT_FAILURE)


def _fail(prog, error, code):
    sys.stderr.write("%s: error: %s\n" % (prog, " ".join(six.text_type(error).split())))
    return code


def _topchef(arguments):
    if not arguments.address:
        raise UsageError("no server address: give --address URL or set $%s"
                         % ADDRESS_VARIABLE)
    try:
        return TopChef(arguments.address)
    except ValueError as error:
        raise UsageError(error)


def _read_json(path, what):
    try:
        with open(path) as stream:
            return json.load(stream)
    except EnvironmentError as error:
        raise UsageError("cannot read %s from %s: %s" % (what, path, error.strerror))
    except ValueError as error:
        raise UsageError("%s in %s is not JSON: %s" % (what, path, error))


def _parse_json(text, what):
    try:
        return json.loads(text)
    except ValueError as error:
        raise UsageError("%s are not JSON: %s" % (what, error))


def _print_json(document):
    print(json.dumps(document, indent=2, sort_keys=True, default=str))


def _table(rows, headers):
    """Rows of strings under headers, in aligned columns."""
    widths = [max(len(six.text_type(row[column])) for row in [headers] + rows)
              for column in range(len(headers))]
    for row in [headers] + rows:
        print("  ".join(six.text_type(cell).ljust(width)
                        for cell, width in zip(row, widths)).rstrip())


def _service_document(service):
    return dict((name, getattr(service, name)) for name in service._fields)


def _job_document(job):
    document = dict((name, getattr(job, name)) for name in job._fields)
    document["date_submitted"] = job.date_submitted.isoformat() if job.date_submitted else None
    return document


def _heartbeat_state(service):
    if service.has_timed_out is None:
        return "unknown"
    return "timed out" if service.has_timed_out else "alive"


# The topchef commands

def list_services(arguments):
    with _topchef(arguments) as topchef:
        services = topchef.connection.list_services(with_state=True)
        if arguments.json:
            _print_json([_service_document(service) for service in services])
        elif not services:
            print("no services")
        else:
            _table([[service.id, service.name, _heartbeat_state(service),
                     {True: "yes", False: "no", None: "-"}[service.is_available]]
                    for service in services], ["ID", "NAME", "HEARTBEAT", "AVAILABLE"])


def show_service(arguments):
    with _topchef(arguments) as topchef:
        service = topchef.service(arguments.service_id)
        jobs = topchef.jobs(service)
        if arguments.json:
            document = _service_document(service)
            document["jobs"] = [_job_document(job) for job in jobs]
            _print_json(document)
            return
        print("service      %s" % service.id)
        print("name         %s" % service.name)
        print("description  %s" % service.description)
        print("heartbeat    %s (timeout %s s)" % (_heartbeat_state(service), service.timeout))
        print("parameters   %s" % json.dumps(service.job_registration_schema, sort_keys=True))
        print("result       %s" % json.dumps(service.job_result_schema, sort_keys=True))
        print("jobs         %d" % len(jobs))
        if jobs:
            _table([[job.id, job.status, job.date_submitted.isoformat()
                     if job.date_submitted else "-"] for job in jobs],
                   ["ID", "STATUS", "SUBMITTED"])


def register_service(arguments):
    registration = _read_json(arguments.registration_schema, "the registration schema")
    result = (_read_json(arguments.result_schema, "the result schema")
              if arguments.result_schema else None)
    with _topchef(arguments) as topchef:
        service = topchef.register_service(arguments.name, arguments.description,
                                           registration, result, arguments.timeout)
        if arguments.json:
            _print_json(_service_document(service))
        else:
            print(service.id)


def submit_job(arguments):
    if arguments.file:
        parameters = _read_json(arguments.file, "the parameters")
    elif arguments.parameters == "-":
        parameters = _parse_json(sys.stdin.read(), "the parameters")
    elif arguments.parameters is not None:
        parameters = _parse_json(arguments.parameters, "the parameters")
    else:
        raise UsageError("give the parameters as a JSON argument, - for standard input, "
                         "or --file FILE")
    if not isinstance(parameters, dict):
        raise UsageError("the parameters must be a JSON object, not %s"
                         % type(parameters).__name__)
    with _topchef(arguments) as topchef:
        job = topchef.submit(arguments.service_id, parameters)
        if not arguments.wait:
            if arguments.json:
                _print_json(_job_document(job))
            else:
                print(job.id)
            return EXIT_OK
        return _wait_and_show(topchef, [job], arguments)


def show_job(arguments):
    with _topchef(arguments) as topchef:
        job = topchef.job(arguments.job_id)
        if arguments.json:
            _print_json(_job_document(job))
            return
        print("job          %s" % job.id)
        print("status       %s%s" % (job.status, " (failed)" if job.is_failed else ""))
        print("submitted    %s" % (job.date_submitted.isoformat() if job.date_submitted
                                   else "-"))
        print("parameters   %s" % json.dumps(job.parameters, sort_keys=True))
        print("result       %s" % json.dumps(job.result, sort_keys=True))


def wait_for_jobs(arguments):
    with _topchef(arguments) as topchef:
        return _wait_and_show(topchef, arguments.job_ids, arguments)


def _wait_and_show(topchef, jobs, arguments):
    progress = _Progress(len(jobs)) if sys.stderr.isatty() and not arguments.json else None
    try:
        finished = topchef.wait_all(jobs, timeout=arguments.timeout,
                                    progress=progress)
    except JobWaitTimeout as error:
        if progress:
            progress.close()
        raise error
    if progress:
        progress.close()
    failed = [job for job in finished if job.is_failed]
    if arguments.json:
        _print_json([_job_document(job) for job in finished])
    else:
        for job in finished:
            outcome = (job.error or {}).get("message", job.status) if job.is_failed \
                else json.dumps(job.result, sort_keys=True)
            print("%s  %s  %s" % (job.id, "FAILED" if job.is_failed else job.status, outcome))
    return EXIT_FAILURE if failed else EXIT_OK


class _Progress(object):
    """``3/10 finished`` on one terminal line, rewritten as jobs finish."""

    def __init__(self, total):
        self.total = total

    def __call__(self, finished):
        sys.stderr.write("\r%d/%d finished" % (finished, self.total))
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\n")


# The worker command

def load_worker_class(spec):
    """``"package.module:Class"`` -> the class, checked to be a ``Client`` subclass."""
    from topchef_client.worker import Client
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise UsageError("give the worker class as MODULE:CLASS, not %r" % spec)
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise UsageError("cannot import %s: %s: %s" % (module_name, type(error).__name__,
                                                        error))
    worker_class = getattr(module, class_name, None)
    if worker_class is None:
        raise UsageError("module %s has no %s" % (module_name, class_name))
    if not (isinstance(worker_class, type) and issubclass(worker_class, Client)):
        raise UsageError("%s is not a subclass of topchef_client.Client" % spec)
    return worker_class


def run_worker(arguments):
    worker_class = load_worker_class(arguments.worker_class)
    if not arguments.address:
        raise UsageError("no server address: give --address URL or set $%s"
                         % ADDRESS_VARIABLE)
    if arguments.threads < 1:
        raise UsageError("--threads must be at least 1")
    options = dict(threads=arguments.threads, poll_interval=arguments.poll_interval,
                   max_poll_interval=arguments.max_poll_interval,
                   heartbeat_interval=arguments.heartbeat_interval)
    try:
        if arguments.register:
            if not arguments.registration_schema:
                raise UsageError("--register needs --registration-schema FILE")
            worker = worker_class.register_service(
                arguments.address, arguments.register, arguments.description,
                _read_json(arguments.registration_schema, "the registration schema"),
                _read_json(arguments.result_schema, "the result schema")
                if arguments.result_schema else None,
                service_timeout=arguments.service_timeout, **options)
            print(worker.id)
            sys.stdout.flush()
        elif arguments.service_id:
            worker = worker_class(arguments.address, arguments.service_id, **options)
            # Fail now, in one line, rather than retry for ever in the background.
            worker.connection.get_service(worker.id)
        else:
            raise UsageError("give --service-id ID, or --register NAME to make a service")
    except ValueError as error:
        if isinstance(error, TopChefError):
            raise
        raise UsageError(error)
    except NotFound:
        raise NotFound("service %s does not exist at %s" % (
            arguments.service_id, arguments.address))
    except NetworkError as error:
        raise NetworkError("cannot reach %s: %s" % (arguments.address, error))
    log.info("running %s for service %s at %s", arguments.worker_class, worker.id,
             worker.address)
    stats = worker.serve_forever(burst=arguments.burst)
    log.info("stopped: %s", stats)
    return EXIT_OK


# The demo

def run_demo(arguments):
    from topchef_client import demo
    return demo.main(arguments.address, arguments.generation, arguments.jobs)
