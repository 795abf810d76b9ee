"""The processing of jobs: each processing thread's loop, and one job from queue to report.

For each job: make it ready (2016 queues lack parameters), validate its
parameters, claim it (WORKING), run it, check the result, and write the
outcome (COMPLETED, or failed with an error report). Writes are retried
while the server is unreachable; answers that another attempt cannot change
(404, other 4xx) are not. A job's own failure is reported, never raised.
"""
import logging
import sys
import threading
import traceback

import six

from topchef_client.compat import monotonic
from topchef_client.documents import json_bytes
from topchef_client.exceptions import (
    BadRequest, NotFound, ProcessingError, TopChefError, ValidationError)
from topchef_client.lifecycle import ABANDONING, RUNNING, STARTING
from topchef_client.models import COMPLETED, REGISTERED, WORKING
from topchef_client.polling import Backoff

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Dict, List, Optional  # noqa: F401
    from topchef_client.models import Job  # noqa: F401

log = logging.getLogger("topchef_client.worker")


def error_report(error, with_traceback=True):
    # type: (BaseException, bool) -> Dict[str, str]
    """What a failed job's result says of its failure (call it while handling ``error``)."""
    report = {"type": type(error).__name__, "message": six.text_type(error)}
    if with_traceback:
        report["traceback"] = "".join(traceback.format_exception(*sys.exc_info()))
    return report


class Lane(object):
    """The place of one processing thread: its thread and the job it is on.

    ``abandoned`` means the lane was given up (``stop_now``): the outcome of
    its job is not written, since the job went back to the queue.
    ``reporting`` means the job's outcome is being written: it is then too
    late to put the job back.
    """

    def __init__(self, number):
        # type: (int) -> None
        self.number = number
        self.thread = None  # type: Optional[threading.Thread]
        self.job = None  # type: Optional[Job]
        self.abandoned = False
        self.reporting = False

    def __repr__(self):
        return "<Lane %d%s%s>" % (self.number, " abandoned" if self.abandoned else "",
                                  " on job %s" % self.job.id if self.job else "")


class Lanes(object):
    """The processing threads of one worker, a lane each.

    :param worker: the ``Client``, whose ``processor`` runs in each thread.
    :param on_last_end: called (in that thread) when the last live lane ends.
    """

    def __init__(self, worker, on_last_end):
        self.worker = worker
        self._on_last_end = on_last_end
        self._lock = threading.Lock()
        self.lanes = []  # type: List[Lane]
        self._live = set()  # type: set

    @property
    def threads(self):
        # type: () -> List[threading.Thread]
        return [lane.thread for lane in self.lanes if lane.thread is not None]

    def start(self, count):
        # type: (int) -> None
        """Start ``count`` lanes, each with its thread."""
        with self._lock:
            self.lanes = [Lane(number) for number in range(1, count + 1)]
            self._live = set(self.lanes)
            for lane in self.lanes:
                self._start_thread(lane)

    def _start_thread(self, lane):
        lane.thread = threading.Thread(
            target=self._main, args=(lane,),
            name="topchef-worker-%s-%d" % (self.worker.id[:8], lane.number))
        lane.thread.daemon = True
        lane.thread.start()

    def _main(self, lane):
        try:
            self.worker.processor.loop(lane)
        finally:
            with self._lock:
                was_live = lane in self._live
                self._live.discard(lane)
                last = was_live and not self._live
            if last:
                self._on_last_end()

    def give_up(self):
        # type: () -> List[Lane]
        """Stop counting on the lanes (``stop_now``); return them, to abandon."""
        with self._lock:
            self._live = set()
            return list(self.lanes)


class JobProcessor(object):
    """Processes the jobs of one worker (the ``Client`` given), in any of its threads."""

    def __init__(self, worker):
        self.worker = worker
        self._lock = threading.Lock()  # lanes' abandoned and reporting flags
        self._current = threading.local()

    @property
    def current_job(self):
        # type: () -> Optional[Job]
        """The job whose ``run`` the calling thread is in, or None."""
        return getattr(self._current, "job", None)

    # A processing thread

    def loop(self, lane):
        # type: (Lane) -> None
        """Take jobs and process them until the worker winds down (or the lane is given up)."""
        worker = self.worker
        backoff = Backoff(worker.failure_backoff, worker.max_failure_backoff)
        worker.lifecycle.wait_for(lambda state: state != STARTING)
        while not lane.abandoned:
            try:
                job = worker.jobs.take(wait=True)
            except Exception as error:
                # The job source pauses before the next poll.
                worker.stats.add("polls_failed")
                worker.health.failed("polling", error)
                continue
            if job is None:
                if worker.lifecycle.state != RUNNING or worker.jobs.burst_done:
                    return
                continue
            try:
                self.process(job, lane)
                backoff.reset()
            except Exception as error:
                # A job's own failures are reported by _process: this is the
                # thread's last line of defence.
                worker.health.failed("processing", error, job)
                worker.lifecycle.wait_for(lambda state: state == ABANDONING, backoff.next())

    def abandon(self, lanes):
        # type: (List[Lane]) -> None
        """Give the lanes up and put their jobs back in the queue (``stop_now``).

        A job whose outcome is being written is left to finish: putting it
        back now could undo its report and run it again.
        """
        with self._lock:
            jobs = [lane.job for lane in lanes if lane.job is not None and not lane.reporting]
            for lane in lanes:
                lane.abandoned = True
        for job in jobs:
            self.requeue(job)

    # One job

    def process(self, job, lane):
        # type: (Job, Lane) -> Optional[Job]
        """Process one job taken from the job source; return it as the server has it after.

        None if it was not run here (taken by another worker, gone, given back).
        """
        lane.job = job
        try:
            return self._process(job, lane)
        finally:
            with self._lock:
                lane.job = None
                lane.reporting = False
            self.worker.jobs.done(job)

    def _process(self, job, lane):
        worker = self.worker
        try:
            job = self._retrying(lambda: worker.connection.job_to_run(job), "fetch", job)
        except NotFound:
            return None
        if job is None:
            return None
        try:
            worker.binding.validate_parameters(job.parameters)
        except ValidationError as invalid:
            worker.stats.add("jobs_invalid")
            worker.health.last_error = invalid
            log.error("job %s has invalid parameters: %s", job.id, invalid)
            return self._report_failure(job, invalid, lane, with_traceback=False)
        try:
            job = self._retrying(lambda: worker.connection.update_job(job, WORKING), "claim",
                                 job)
        except NotFound:
            return None
        if lane.abandoned:
            # stop_now() may have put the job back before this claim landed.
            self.requeue(job)
            return None
        lane.job = job
        started = monotonic()
        try:
            result = self._run(job)
        except (Exception, SystemExit, KeyboardInterrupt) as error:
            if not self._may_report(lane):
                return None  # stop_now() has put it back in the queue
            worker.health.last_error = error
            log.error("job %s failed after %.3f s", job.id, monotonic() - started,
                      exc_info=True)
            return self._report_failure(job, error, lane)
        if not self._may_report(lane):
            return None
        try:
            finished = self._write_outcome(
                job, lambda: worker.connection.update_job(job, COMPLETED, result), "report")
        except (ValidationError, BadRequest) as refused:
            # The server's own draft-4 check disagrees with the local one.
            return self._report_failure(job, refused, lane, with_traceback=False)
        if finished is not None:
            worker.stats.add("jobs_completed")
            log.info("job %s completed in %.3f s", job.id, monotonic() - started)
        return finished

    def _run(self, job):
        """Call ``run``; return a result fit to send, or raise ``ProcessingError``."""
        self._current.job = job
        try:
            result = self.worker.run(job.parameters)
        finally:
            self._current.job = None
        if not isinstance(result, dict):
            raise ProcessingError("run() returned %s, not a dict" % type(result).__name__)
        try:
            json_bytes(result, "the result")
        except ValueError as error:
            raise ProcessingError("run() returned a result that JSON cannot encode: %s"
                                  % (error,))
        try:
            self.worker.binding.validate_result(result)
        except ValidationError as invalid:
            raise ProcessingError("run() returned a result that breaks the "
                                  "job_result_schema: %s" % invalid)
        return result

    def _may_report(self, lane):
        """Whether to write the job's outcome: not once stop_now() has put it back."""
        with self._lock:
            if lane.abandoned:
                return False
            lane.reporting = True
            return True

    def _report_failure(self, job, error, lane, with_traceback=True):
        report = error_report(error, with_traceback)
        failed = self._write_outcome(
            job, lambda: self.worker.connection.fail_job(
                job, report, self.worker.binding.result_schema),
            "report the failure of")
        if failed is not None:
            self.worker.stats.add("jobs_failed")
        return failed

    def _write_outcome(self, job, operation, what):
        """Write a job's outcome, retrying; None if the job is gone or given back."""
        try:
            return self._retrying(operation, what, job)
        except NotFound:
            return None
        except TopChefError:
            if self.worker.lifecycle.state != ABANDONING:
                raise
            # stop_now() while the server was unreachable: give the job back.
            self.requeue(job)
            return None

    def _retrying(self, operation, what, job):
        """Run ``operation`` until it works: the server may be restarting.

        Gives up when told to stop at once, and on answers that another
        attempt cannot change (404, another 4xx, an invalid document).
        """
        worker = self.worker
        backoff = Backoff(worker.failure_backoff, worker.max_failure_backoff)
        while True:
            try:
                outcome = operation()
                worker.health.succeeded("processing")
                return outcome
            except NotFound as error:
                log.warning("cannot %s job %s: %s", what, job.id, error)
                raise
            except (ValidationError, BadRequest):
                raise
            except TopChefError as error:
                worker.health.failed("processing", error, job)
                if worker.lifecycle.wait_for(lambda state: state == ABANDONING,
                                             backoff.next()):
                    raise

    def requeue(self, job):
        # type: (Job) -> None
        """Put a job this process took back in the queue."""
        try:
            self.worker.connection.update_job(job, REGISTERED)
            log.warning("job %s put back in the queue", job.id)
        except Exception as error:
            log.error("job %s could not be put back in the queue and stays WORKING: %s",
                      job.id, error)
