"""``python -m topchef_client.testing``: run a local TopChef server until a signal.

The first line on standard output is the URL it serves, flushed at once, so
a script can start it with ``--port 0`` and read where it went. SIGINT and
SIGTERM stop it with exit code 0. Bad arguments, a database file it cannot
use and a port it cannot listen on are said in one line, with exit code 2.
"""
import logging
import os
import signal
import sqlite3
import sys
import time

from topchef_client.cli import checks
from topchef_client.cli.errors import EXIT_USAGE
from topchef_client.cli.parsers import Parser
from topchef_client.compat import flush_print
from topchef_client.testing.server import LocalServer
from topchef_client.testing.storage import GenerationMismatch

PROG = "python -m topchef_client.testing"


def database_file(path):
    """A path whose directory exists: the database file is made there if need be."""
    import argparse
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise argparse.ArgumentTypeError(
            "cannot keep the database in %s: there is no directory %s" % (path, directory))
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError("cannot keep the database in %s: it is a directory"
                                         % path)
    return path


def make_parser():
    parser = Parser(
        prog=PROG, description="Serve a faithful local TopChef server until SIGINT or SIGTERM.")
    parser.add_argument("--port", type=checks.whole_number(0, 65535), default=5000,
                        help="port to listen on; 0 picks a free one (default 5000)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1)")
    parser.add_argument("--generation", type=checks.choice(("2016", "2017")), default="2017",
                        metavar="{2016,2017}", help="API generation to serve (default 2017)")
    parser.add_argument("--db", metavar="FILE", type=database_file,
                        help="keep services and jobs in this SQLite file "
                             "(default: in memory)")
    parser.add_argument("--no-quirks", dest="quirks", action="store_false",
                        help="answer what the real server meant to, not its bugs")
    parser.add_argument("--log-level", default="WARNING", type=checks.log_level(),
                        metavar="LEVEL",
                        help="logging level on standard error: DEBUG, INFO, WARNING, ERROR "
                             "or CRITICAL (default WARNING)")
    return parser


def parse_arguments(argv):
    return make_parser().parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(argv)
    logging.basicConfig(level=arguments.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = LocalServer(generation=arguments.generation, db=arguments.db,
                         host=arguments.host, port=arguments.port,
                         quirks=arguments.quirks)
    signals = []

    def request_stop(signum, frame):
        # Only a list append: Event.set() here could deadlock on the lock
        # that the interrupted main thread may be holding inside wait().
        signals.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        server.start()
    except GenerationMismatch as error:
        return _fail(error)
    except sqlite3.Error as error:
        return _fail("cannot use the database %s: %s" % (arguments.db, error))
    except EnvironmentError as error:
        return _fail("cannot listen on %s:%d: %s" % (arguments.host, arguments.port, error))
    flush_print(server.url)
    # Sleep in slices: the handlers run between them on every Python.
    while not signals:
        time.sleep(0.2)
    server.stop()
    return 0


def _fail(message):
    sys.stderr.write("%s: error: %s\n" % (PROG, message))
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
