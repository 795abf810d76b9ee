"""The command line: ``topchef`` for people who submit jobs, ``topchef-worker`` to run them.

``main(argv=None)`` and ``worker_main(argv=None)`` return an exit code
(``errors``): 0 done, 1 failure, 2 bad arguments or input, 130 and 143 when
stopped by SIGINT and SIGTERM. Errors are one line on standard error,
without a traceback, and no message shows a password.

The parts: ``parsers`` (the arguments), ``checks`` (the argparse types, made
of ``topchef_client.options``), ``console`` (output that any stream takes,
tables, progress), ``commands`` (``topchef``'s commands), ``waiting``
(following jobs), ``serving`` (``topchef-worker``) and ``errors``.
"""
import errno
import importlib
import logging
import os
import signal
import sys

from topchef_client.cli.console import Console
from topchef_client.cli.errors import (  # noqa: F401  (names scripts may import)
    EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE, CommandFailed,
    Terminated, UsageError, one_line, without_prefixes)
from topchef_client.cli.parsers import ADDRESS_VARIABLE, main_parser, worker_parser  # noqa: F401

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, List, Optional  # noqa: F401
    import argparse  # noqa: F401

__all__ = ["main", "worker_main"]

#: The log's format on standard error.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv=None):
    # type: (Optional[List[str]]) -> int
    """``topchef`` and ``python -m topchef_client``."""
    return run(main_parser(), argv)


def worker_main(argv=None):
    # type: (Optional[List[str]]) -> int
    """``topchef-worker``."""
    return run(worker_parser(), argv)


def run(parser, argv=None):
    # type: (argparse.ArgumentParser, Optional[List[str]]) -> int
    """Parse ``argv``, run the command, and turn whatever happens into an exit code."""
    arguments = parser.parse_args(argv)
    console = Console()
    configure_logging(arguments, console)
    module_name, function_name = arguments.command
    prog = parser.prog + (" " + arguments.command_name
                          if getattr(arguments, "command_name", None) else "")
    previous = _raise_on_sigterm()
    try:
        module = importlib.import_module("topchef_client.cli." + module_name)
        return getattr(module, function_name)(arguments, console) or EXIT_OK
    except KeyboardInterrupt as stop:
        return _stopped(console, prog, "interrupted", stop, EXIT_INTERRUPTED)
    except Terminated as stop:
        return _stopped(console, prog, "terminated", stop, EXIT_TERMINATED)
    except EnvironmentError as error:
        if error.errno == errno.EPIPE:  # the reader of our output has gone: so be it
            _discard_output()
            return EXIT_FAILURE
        return _fail(console, prog, error, EXIT_FAILURE)
    except UsageError as error:
        return _fail(console, prog, error, EXIT_USAGE)
    except Exception as error:
        from topchef_client.exceptions import TopChefError, ValidationError
        if isinstance(error, ValidationError):  # parameters that break the schema
            return _fail(console, prog, error, EXIT_USAGE)
        if isinstance(error, (TopChefError, CommandFailed)):
            return _fail(console, prog, error, EXIT_FAILURE)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _fail(console, prog, error, code):
    console.note(u"%s: error: %s" % (prog, one_line(error)))
    return code


def _stopped(console, prog, what, stop, code):
    detail = one_line(stop) if stop.args else ""
    console.note(u"%s: %s%s" % (prog, what, ": " + detail if detail else ""))
    return code


def _raise_on_sigterm():
    """SIGTERM raises ``Terminated`` in the main thread; return the handler it replaced."""
    from topchef_client.signals import in_main_thread
    if not in_main_thread():
        return None

    def terminated(signum, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, terminated)


def _discard_output():
    """Point standard output at /dev/null, so that flushing it at exit fails no more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (EnvironmentError, AttributeError, ValueError):
        pass


class _Formatter(logging.Formatter):
    """The log's lines, without Python 2.7's ``u'...'`` prefixes."""

    def format(self, record):
        return without_prefixes(logging.Formatter.format(self, record))


def log_level(arguments):
    # type: (Any) -> int
    """--log-level (or the command's default), moved by each -v and -q."""
    level = getattr(logging, arguments.log_level or arguments.default_log_level)
    level += 10 * ((arguments.quiet or 0) - (arguments.verbose or 0))
    return min(max(level, logging.DEBUG), logging.CRITICAL)


def configure_logging(arguments, console):
    # type: (Any, Console) -> None
    """Log to standard error, unless the program has set up logging itself."""
    root = logging.getLogger()
    if root.handlers:
        return
    level = log_level(arguments)
    handler = logging.StreamHandler(console.err)
    handler.setFormatter(_Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    if arguments.command[0] == "commands" and level > logging.DEBUG:
        # urllib3's "Retrying (...)" warnings are for a log, not for a terminal.
        logging.getLogger("urllib3").setLevel(logging.ERROR)
