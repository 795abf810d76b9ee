# -*- coding: utf-8 -*-
"""What both server generations share: storage, clock, dispatch and 500 pages."""
import logging

from topchef_client.compat import local_datetime, utc_datetime
from topchef_client.testing.web import HTTPException, html_error

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Optional  # noqa: F401

log = logging.getLogger(__name__)


class Application(object):
    """One generation of the TopChef server, minus the sockets.

    Subclasses fill ``self.router`` with their endpoints. ``handle`` turns a
    ``Request`` into a ``Response`` and never raises: an unexpected exception
    becomes the HTML ``500`` page that Flask would have sent.
    """

    generation = None  # type: Optional[str]

    def __init__(self, storage, clock, quirks=True):
        self.storage = storage
        self.clock = clock
        self.quirks = quirks
        self.started_at = clock()
        self.router = None

    def handle(self, request):
        with self.storage.lock:
            try:
                found = self.router.match(request)
                if not isinstance(found, tuple):
                    return found
                handler, arguments = found
                return handler(request, **arguments)
            except HTTPException as error:
                return error.response or html_error(error.status)
            except Exception:
                log.debug("unhandled error answering %s %s", request.method,
                          request.path, exc_info=True)
                return html_error(500)

    # Time, as both generations render it

    def now(self):
        return self.clock()

    def timestamp(self, seconds):
        """ISO 8601 in UTC with offset; microseconds only when not zero.

        See docs/server-api.rst §1.
        """
        return utc_datetime(seconds).isoformat()

    def naive_utc_text(self, seconds):
        """UTC without an offset, as in the heartbeat messages."""
        return utc_datetime(seconds).replace(tzinfo=None).isoformat()

    def naive_local_text(self, seconds):
        return local_datetime(seconds).isoformat()
