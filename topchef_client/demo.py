"""``python -m topchef_client demo``: the README's AddOne example, end to end.

With no address it starts a local server; it registers the AddOne service,
starts a worker, submits a batch of jobs, shows progress, prints each job's
parameters and result, and how many HTTP requests everything took.
"""
import sys

from topchef_client.cli.console import Progress
from topchef_client.compat import monotonic
from topchef_client.producer import TopChef
from topchef_client.worker import Client

#: The README's schemas: an integer from 1 to 10 in, an integer out.
JOB_REGISTRATION_SCHEMA = {
    "type": "object",
    "properties": {"value": {"type": "integer", "minimum": 1, "maximum": 10}},
    "required": ["value"],
}
JOB_RESULT_SCHEMA = {
    "type": "object",
    "properties": {"value": {"type": "integer"}},
    "required": ["value"],
}


class AddOne(Client):
    """The README's worker."""

    def run(self, parameters):
        return {"value": parameters["value"] + 1}


def main(address=None, generation="2017", jobs=10, out=None):
    """Run the demo; return the exit code."""
    out = out or sys.stdout
    server = None
    if address is None:
        from topchef_client.testing import LocalServer
        server = LocalServer(generation=generation).start()
        address = server.url
        _say(out, "started a local TopChef %s server at %s" % (generation, address))
    try:
        return _demo(address, jobs, out, server)
    finally:
        if server is not None:
            server.stop()


def _demo(address, count, out, server):
    started = monotonic()
    worker = AddOne.register_service(address, "AddOne", "Adds one to a value from 1 to 10",
                                     JOB_REGISTRATION_SCHEMA, JOB_RESULT_SCHEMA,
                                     poll_interval=0.05)
    _say(out, "registered service %s (server API generation %s)" % (
        worker.id, worker.connection.generation))
    worker.start(handle_sigterm=False)
    with TopChef(address) as topchef:
        jobs = [topchef.submit(worker.id, {"value": 1 + number % 10})
                for number in range(count)]
        _say(out, "submitted %d jobs; waiting for the worker" % len(jobs))
        progress = Progress(out, len(jobs), indent="  ")
        finished = topchef.wait_all(jobs, timeout=120, progress=progress)
        worker.stop(timeout=30)
        for job in finished:
            _say(out, "job %s: %s -> %s" % (job.id, _json(job.parameters), _json(job.result)))
        worker_requests = worker.connection.request_count
        submitter_requests = topchef.connection.request_count
    _say(out, "%d jobs done in %.2f s. HTTP requests, counted by the client: the worker "
              "sent %d (%.2f per job, registration and heartbeats included), the "
              "submitter %d (submissions and polls)%s" % (
                  len(finished), monotonic() - started, worker_requests,
                  float(worker_requests) / max(len(finished), 1), submitter_requests,
                  "; the server answered %d in all" % server.request_count if server else ""))
    return 0 if all(job.is_complete for job in finished) else 1


def _json(document):
    import json
    return json.dumps(document, sort_keys=True)


def _say(out, line):
    out.write(line + "\n")
    out.flush()
