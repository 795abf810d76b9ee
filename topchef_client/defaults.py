"""Every default the library uses, in one place, with the reason for its value.

Times are in seconds.
"""

# HTTP (api.py)

#: Time to open a TCP connection. Loopback and LAN servers answer in
#: milliseconds; a few seconds tells "down" from "slow" without hanging.
DEFAULT_CONNECT_TIMEOUT = 5.0
#: Time to wait for the server's answer once the request is sent. TopChef
#: answers every request from its database at once, so a long silence means
#: a hung server, not a busy one.
DEFAULT_READ_TIMEOUT = 30.0
#: Retries of a transient failure (connection refused or reset, 502, 503,
#: 504). With the backoff below they span about six seconds, enough to ride
#: over a server restart without hiding a real outage for long.
DEFAULT_RETRIES = 5
#: First retry after about this long; each further retry waits twice as long.
DEFAULT_BACKOFF_FACTOR = 0.2
#: No single retry waits longer than this.
DEFAULT_BACKOFF_MAX = 10.0
#: Keep-alive connections kept per server: enough for a worker's processing
#: threads, its heartbeat and a submitter sharing the connection.
DEFAULT_POOL_SIZE = 10
#: How much of an error body an exception message quotes.
ERROR_BODY_EXCERPT = 200

# Worker (worker.py)

#: Pause after an empty queue before polling again; it doubles while the
#: queue stays empty, up to DEFAULT_MAX_POLL_INTERVAL. A non-empty queue is
#: worked without any pause.
DEFAULT_POLL_INTERVAL = 0.5
#: The longest pause between polls of an empty queue: an idle worker costs
#: the server at most one request every two seconds, and picks a new job up
#: within two seconds.
DEFAULT_MAX_POLL_INTERVAL = 2.0
#: Heartbeats are sent this many times per service timeout (30 s unless a
#: 2017 server says otherwise), so two can fail before the server marks the
#: service as timed out.
HEARTBEATS_PER_TIMEOUT = 3
#: The service timeout of a 2016 server, which never states it.
DEFAULT_SERVICE_TIMEOUT = 30.0
#: First pause after a failure (network, server); it doubles with each
#: further failure, with jitter, up to DEFAULT_MAX_FAILURE_BACKOFF.
DEFAULT_FAILURE_BACKOFF = 0.5
#: The longest pause after repeated failures: a worker finds a server that
#: came back within this long.
DEFAULT_MAX_FAILURE_BACKOFF = 30.0
#: At interpreter exit, how long a running job may still finish before it
#: is put back in the queue as REGISTERED.
DEFAULT_EXIT_GRACE_PERIOD = 5.0

#: An error report (the result of a failed job) carries at most this many
#: characters of the error's message...
MAX_ERROR_MESSAGE = 2000
#: ... and this many of its traceback, the end kept: together well under the
#: 1 MiB request bodies that proxies in front of servers commonly allow, and
#: small enough for a log line.
MAX_ERROR_TRACEBACK = 8000
#: Seconds a job's process (process isolation) has to end after SIGTERM
#: before it is killed.
DEFAULT_CHILD_STOP_TIMEOUT = 2.0

# Submitter (producer.py)

#: First pause between polls while waiting for a job; it grows by half each
#: time, up to DEFAULT_MAX_WAIT_POLL_INTERVAL.
DEFAULT_WAIT_POLL_INTERVAL = 0.1
#: The longest pause between polls while waiting for a job.
DEFAULT_MAX_WAIT_POLL_INTERVAL = 2.0
#: How long wait() waits for a job before raising JobWaitTimeout. Pass
#: timeout=None to wait for ever.
DEFAULT_WAIT_TIMEOUT = 600.0
