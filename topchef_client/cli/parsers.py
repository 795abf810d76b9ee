"""The arguments of ``topchef`` and ``topchef-worker``.

The global options (``--address``, ``--log-level``, ``-v``, ``-q``,
``--retries``, ``--request-timeout``) are accepted before the command and
after it: each command's parser has them too, with no default of its own,
so that a value given before the command stays unless given again after it.

Every value is checked as it is parsed (``checks``): a bad one is refused in
one line that names the option, the value and what is allowed, exit code 2.
Each command is named by ``(module, function)`` and imported when it runs,
so that ``--help`` and ``--version`` cost no import of ``requests``.
"""
import argparse
import sys

from topchef_client import __version__, defaults
from topchef_client.cli import checks
from topchef_client.cli.errors import EXIT_USAGE
from topchef_client.models import STATUSES

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any  # noqa: F401

#: The environment variable that gives the server's address when --address does not.
ADDRESS_VARIABLE = "TOPCHEF_ADDRESS"
#: The service's timeout as a server accepts it (a whole number of seconds).
SERVICE_TIMEOUT = checks.whole_number(minimum=1)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that refuses bad arguments in one line (exit 2)."""

    def error(self, message):
        self.exit(EXIT_USAGE, "%s: error: %s (see %s --help)\n" % (
            self.prog, message, self.prog))


class _Version(argparse.Action):
    """``--version``: the version on standard output (Python 2.7's argparse uses stderr)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show the version and exit"):
        argparse.Action.__init__(self, option_strings, dest=dest, default=default, nargs=0,
                                 help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stdout.write("%s %s\n" % (parser.prog.split()[0], __version__))
        sys.stdout.flush()
        parser.exit(0)


def add_global_options(parser, again=False):
    # type: (argparse.ArgumentParser, bool) -> None
    """The options every command takes, before it or (``again``) after it."""
    def default(value):
        return argparse.SUPPRESS if again else value
    group = parser.add_argument_group("global options")
    group.add_argument("--address", metavar="URL", default=default(None),
                       help="the TopChef server's base URL (default: $%s)" % ADDRESS_VARIABLE)
    group.add_argument("--log-level", metavar="LEVEL", type=checks.log_level(),
                       default=default(None),
                       help="the log on standard error: DEBUG, INFO, WARNING, ERROR or "
                            "CRITICAL (default: WARNING; INFO for a worker)")
    group.add_argument("-v", "--verbose", action="count", default=default(0),
                       help="log more (-vv: DEBUG)")
    group.add_argument("-q", "--quiet", action="count", default=default(0), help="log less")
    group.add_argument("--retries", metavar="N", type=checks.whole_number(minimum=0,
                                                                          maximum=100),
                       default=default(None),
                       help="attempts more after a failed request (default: 0; a worker: %d)"
                            % defaults.DEFAULT_RETRIES)
    group.add_argument("--request-timeout", metavar="SECONDS",
                       type=checks.seconds(maximum=86400.0), default=default(None),
                       help="give up on a request after this long (default: %g to connect, "
                            "%g for the answer)" % (defaults.DEFAULT_CONNECT_TIMEOUT,
                                                    defaults.DEFAULT_READ_TIMEOUT))


def add_worker_arguments(parser):
    # type: (argparse.ArgumentParser) -> None
    parser.add_argument("worker_class", metavar="MODULE:CLASS",
                        help="the Client subclass to run, e.g. myproject.workers:AddOne")
    service = parser.add_argument_group("the service")
    target = service.add_mutually_exclusive_group()
    target.add_argument("--service-id", metavar="ID",
                        help="the id of the service whose jobs to run")
    target.add_argument("--register", metavar="NAME",
                        help="register a new service with this name, print its id, and run "
                             "its jobs")
    service.add_argument("--description", default="",
                         help="with --register: the service's description")
    service.add_argument("--registration-schema", metavar="FILE",
                         help="with --register: a JSON file with the job registration schema")
    service.add_argument("--result-schema", metavar="FILE",
                         help="with --register: a JSON file with the job result schema "
                              "(default: any object)")
    service.add_argument("--service-timeout", metavar="SECONDS", type=SERVICE_TIMEOUT,
                         help="with --register: the service's timeout (2017 servers)")
    stop = parser.add_argument_group("when to stop (besides SIGINT and SIGTERM)")
    stop.add_argument("--burst", action="store_true",
                      help="run the jobs queued now, then exit")
    stop.add_argument("--max-jobs", metavar="N", type=checks.whole_number(minimum=1),
                      help="exit after N jobs have finished")
    stop.add_argument("--max-idle-time", metavar="SECONDS", type=checks.seconds(),
                      help="exit after this long without a job")
    running = parser.add_argument_group("how jobs run (default: the class's attributes)")
    running.add_argument("--threads", metavar="N", type=checks.whole_number(1, 1024),
                         default=1, help="processing threads (default 1)")
    running.add_argument("--isolation", type=checks.choice(("thread", "process")),
                         metavar="{thread,process}",
                         help="run each job in the processing thread, or in a child "
                              "process per thread")
    running.add_argument("--time-limit", metavar="SECONDS", type=checks.seconds(),
                         help="fail a job that runs longer than this")
    running.add_argument("--max-retries", metavar="N", type=checks.whole_number(minimum=0),
                         help="times a job whose run() raised Retry is run again")
    timing = parser.add_argument_group("polling and heartbeat")
    timing.add_argument("--poll-interval", type=checks.seconds(), metavar="SECONDS",
                        default=defaults.DEFAULT_POLL_INTERVAL,
                        help="pause after an empty queue, doubling up to --max-poll-interval "
                             "(default %g)" % defaults.DEFAULT_POLL_INTERVAL)
    timing.add_argument("--max-poll-interval", type=checks.seconds(), metavar="SECONDS",
                        default=defaults.DEFAULT_MAX_POLL_INTERVAL,
                        help="the longest pause between polls of an empty queue (default %g)"
                             % defaults.DEFAULT_MAX_POLL_INTERVAL)
    timing.add_argument("--heartbeat-interval", type=checks.seconds(maximum=3600.0),
                        metavar="SECONDS",
                        help="seconds between heartbeats (default: a third of the service's "
                             "timeout)")
    parser.set_defaults(command=("serving", "run_worker"), default_log_level="INFO")


WORKER_DESCRIPTION = ("Run the jobs of a TopChef service with a Client subclass until SIGINT "
                      "or SIGTERM (the second stops at once). Exit codes: 0 done, 1 failure, "
                      "2 bad arguments, 130 SIGINT, 143 SIGTERM.")


def worker_parser(prog="topchef-worker"):
    # type: (str) -> Parser
    parser = Parser(prog=prog, description=WORKER_DESCRIPTION)
    parser.add_argument("--version", action=_Version)
    add_global_options(parser)
    add_worker_arguments(parser)
    return parser


def main_parser():
    # type: () -> Parser
    parser = Parser(prog="topchef", description="Work with a TopChef job server from a "
                                                "terminal. Exit codes: 0 done, 1 failure, 2 "
                                                "bad arguments, 130 SIGINT, 143 SIGTERM.")
    parser.add_argument("--version", action=_Version)
    add_global_options(parser)
    parser.set_defaults(default_log_level="WARNING")
    commands = parser.add_subparsers(dest="command_name", metavar="COMMAND")
    commands.required = True

    def command(name, function, help, json=True):
        sub = commands.add_parser(name, help=help, description=help)
        add_global_options(sub, again=True)
        if json:
            sub.add_argument("--json", action="store_true", help="print JSON instead of text")
        sub.set_defaults(command=("commands", function))
        return sub

    command("services", "list_services", "list the services, with their heartbeat state")
    show = command("service", "show_service", "show a service, its schemas and its jobs")
    show.add_argument("service_id", metavar="SERVICE_ID")
    jobs = command("jobs", "list_jobs", "list the jobs of a service")
    jobs.add_argument("service_id", metavar="SERVICE_ID")
    jobs.add_argument("--status", type=checks.choice(STATUSES), metavar="STATUS",
                      help="only the jobs with this status: %s" % ", ".join(STATUSES))
    register = command("register", "register_service", "register a service and print its id")
    register.add_argument("name")
    register.add_argument("--description", default="", help="the service's description")
    register.add_argument("--registration-schema", metavar="FILE", required=True,
                          help="a JSON file with the job registration schema")
    register.add_argument("--result-schema", metavar="FILE",
                          help="a JSON file with the job result schema (default: any object)")
    register.add_argument("--service-timeout", type=SERVICE_TIMEOUT, metavar="SECONDS",
                          help="the service's timeout in seconds (2017 servers)")
    # The former name, kept for the scripts that use it.
    register.add_argument("--timeout", dest="service_timeout", type=SERVICE_TIMEOUT,
                          help=argparse.SUPPRESS)
    submit = command("submit", "submit_job", "submit a job (its parameters are checked "
                                             "against the service's schema first)")
    submit.add_argument("service_id", metavar="SERVICE_ID")
    submit.add_argument("parameters", nargs="?", metavar="JSON",
                        help="the parameters as a JSON object, or - to read them from "
                             "standard input")
    submit.add_argument("--file", metavar="FILE", help="read the parameters from a JSON file")
    submit.add_argument("--wait", action="store_true",
                        help="print the job's id, then wait for it and show its result")
    add_wait_timeout(submit, "with --wait: ")
    job = command("job", "show_job", "show a job")
    job.add_argument("job_id", metavar="JOB_ID")
    wait = command("wait", "wait_for_jobs", "wait for jobs to finish and show their results")
    wait.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    add_wait_timeout(wait)
    requeue = command("requeue", "requeue_job", "put a job back in the queue (REGISTERED)")
    requeue.add_argument("job_id", metavar="JOB_ID")
    cancel = command("cancel", "cancel_job", "fail a job that has not finished, with a "
                                             "Cancelled error")
    cancel.add_argument("job_id", metavar="JOB_ID")
    demo = command("demo", "run_demo", "run the AddOne example end to end: a local server "
                                       "(unless --address is given), a worker, and jobs",
                   json=False)
    demo.add_argument("--generation", type=checks.choice(("2016", "2017")), default="2017",
                      metavar="{2016,2017}",
                      help="the API generation of the local server (default 2017)")
    demo.add_argument("--jobs", type=checks.whole_number(1, 10000), default=10, metavar="N",
                      help="how many jobs (default 10)")
    worker = commands.add_parser("worker", help="run a worker, as topchef-worker does",
                                 description=WORKER_DESCRIPTION)
    add_global_options(worker, again=True)
    add_worker_arguments(worker)
    return parser


def add_wait_timeout(parser, prefix=""):
    # type: (argparse.ArgumentParser, str) -> None
    parser.add_argument("--timeout", type=checks.seconds(), metavar="SECONDS",
                        default=defaults.DEFAULT_WAIT_TIMEOUT,
                        help="%sgive up waiting after this long (default %g)"
                             % (prefix, defaults.DEFAULT_WAIT_TIMEOUT))
