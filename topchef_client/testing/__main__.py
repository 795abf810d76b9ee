"""``python -m topchef_client.testing``: run a local TopChef server until a signal.

The first line on standard output is the URL it serves, flushed at once, so
a script can start it with ``--port 0`` and read where it went.
"""
import argparse
import logging
import signal
import sys
import time

from topchef_client.compat import flush_print
from topchef_client.testing.server import LocalServer
from topchef_client.testing.storage import GenerationMismatch


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m topchef_client.testing",
        description="Serve a faithful local TopChef server until SIGINT or SIGTERM.")
    parser.add_argument("--port", type=int, default=5000,
                        help="port to listen on; 0 picks a free one (default 5000)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1)")
    parser.add_argument("--generation", choices=("2016", "2017"), default="2017",
                        help="API generation to serve (default 2017)")
    parser.add_argument("--db", metavar="FILE",
                        help="keep services and jobs in this SQLite file "
                             "(default: in memory)")
    parser.add_argument("--no-quirks", dest="quirks", action="store_false",
                        help="answer what the real server meant to, not its bugs")
    parser.add_argument("--log-level", default="WARNING",
                        help="logging level on standard error (default WARNING)")
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(argv)
    logging.basicConfig(level=arguments.log_level.upper(),
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
        sys.stderr.write("error: %s\n" % error)
        return 2
    except EnvironmentError as error:
        sys.stderr.write("error: cannot listen on %s:%d: %s\n" % (
            arguments.host, arguments.port, error))
        return 2
    flush_print(server.url)
    # Sleep in slices: the handlers run between them on every Python.
    while not signals:
        time.sleep(0.2)
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
