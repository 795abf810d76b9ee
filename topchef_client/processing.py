# -*- coding: utf-8 -*-
"""The processing of jobs: each processing thread's loop, and one job from queue to report.

For each job: make it ready (2016 queues lack parameters), validate its
parameters, claim it (WORKING), run it (``execution`` or ``isolation``),
check the result, and write the outcome: COMPLETED, failed with an error
report, or back in the queue when ``run`` raised ``Retry``. Writes are
retried while the server is unreachable; answers that another attempt
cannot change (404, other 4xx) are not. A job's own failure is reported,
never raised, and each job ends COMPLETED or failed exactly once.
"""
import logging
import threading

from topchef_client.compat import monotonic, quiet_at_exit
from topchef_client.exceptions import (
    BadRequest, NotFound, ProcessingError, TopChefError, ValidationError)
from topchef_client.execution import (
    RunFailed, checked_result, error_report, time_limit_report)
from topchef_client.lifecycle import ABANDONING, RUNNING, STARTING
from topchef_client.models import COMPLETED, REGISTERED, WORKING
from topchef_client.polling import Backoff, Contention
from topchef_client.lanes import Lane
from topchef_client.recovery import try_to_recover
from topchef_client.startup import set_up

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Dict, List, Optional  # noqa: F401
    from topchef_client.models import Job  # noqa: F401

log = logging.getLogger("topchef_client.worker")

#: When the server refuses a whole error report (too large for a proxy in
#: front of it, say), the second try carries this much of the message.
MINIMAL_REPORT_MESSAGE = 200
class JobProcessor(object):
    """Processes the jobs of one worker (the ``Client`` given), in any of its threads."""

    def __init__(self, worker):
        self.worker = worker
        self._lock = threading.Lock()  # lanes' abandoned and reporting flags
        self._current = threading.local()
        self._attempts = {}  # type: Dict[str, int]
        self.contention = Contention()

    @property
    def current_job(self):
        # type: () -> Optional[Job]
        """The job whose ``run`` the calling thread is in, or None."""
        return getattr(self._current, "job", None)

    def set_current_job(self, job):
        # type: (Optional[Job]) -> None
        self._current.job = job

    # A processing thread

    def poll_queue(self):
        # type: () -> List[Job]
        """One page of the service's queue (the job source's ``fetch``).

        A single attempt: the job source pauses and polls again after a
        failure, and a stop never waits for a poll's retries.
        """
        worker = self.worker
        worker.binding.ensure()
        worker.stats.add("polls")
        page = worker.connection.get_queue(worker.id, retry=False)
        worker.health.succeeded("polling")
        return page

    def loop(self, lane):
        # type: (Lane) -> None
        """Take jobs and process them until the worker winds down (or the lane is given up)."""
        worker = self.worker
        backoff = Backoff(worker.failure_backoff, worker.max_failure_backoff)
        worker.lifecycle.wait_for(lambda state: state != STARTING)
        try:
            while not lane.abandoned and worker.lifecycle.state == RUNNING:
                try:
                    worker.execution.prepare(lane)  # its job process, if any
                except ProcessingError:  # logged: try again after a pause
                    worker.lifecycle.wait_for(lambda state: state != RUNNING, backoff.next())
                    continue
                try:
                    job = worker.jobs.take(wait=True)
                except Exception as error:
                    # The job source pauses before the next poll.
                    worker.stats.add("polls_failed")
                    worker.health.failed("polling", error)
                    continue
                if job is None:
                    if worker.jobs.burst_done:
                        return
                    continue
                try:
                    self.process(job, lane)
                    backoff.reset()
                except Exception as error:
                    # A job's own failures are reported by _process: this is
                    # the thread's last line of defence.
                    worker.health.failed("processing", error, job)
                    worker.lifecycle.wait_for(lambda state: state != RUNNING, backoff.next())
        finally:
            if not lane.abandoned:
                worker.execution.release(lane)

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
        for lane in lanes:
            self.worker.execution.abandon(lane)
            quiet_at_exit(lane.thread)
        for job in jobs:
            # One attempt each: a stop at once must not wait on a dead server
            # (a job left WORKING then is recovered at the next start).
            self.requeue(job, retry=False)

    def take_over(self, lane, time_limit):
        # type: (Lane, float) -> None
        """Report the job of a lane whose ``run`` cannot be stopped, and replace the lane."""
        with self._lock:
            job = lane.job
            if job is None or lane.reporting or lane.abandoned:
                return
            lane.abandoned = True
        self.worker.stats.add("threads_abandoned")
        quiet_at_exit(lane.thread)
        report = time_limit_report(time_limit, stuck=True)
        log.error("job %s: %s", job.id, report["message"])
        self._report(job, report)
        self.worker.lanes.replace(lane)

    # One job

    def process_one(self):
        # type: () -> Optional[Job]
        """Take one job and process it in the calling thread (``Client.process_one``)."""
        worker = self.worker
        lane = Lane(0)
        if worker.isolation == "thread":
            set_up(worker)
        else:
            worker.execution.prepare(lane)
        try:
            job = worker.jobs.take(wait=False)
            return None if job is None else self.process(job, lane)
        finally:
            worker.execution.release(lane)

    def process(self, job, lane):
        # type: (Job, Lane) -> Optional[Job]
        """Process one job taken from the job source; return it as the server has it after.

        None if it was not run to an outcome here (taken by another worker,
        gone, given back, put back for a retry).
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
        recheck = job.parameters is not None and self.contention.should_recheck()
        try:
            ready = self._retrying(lambda: worker.connection.job_to_run(job, recheck), "fetch",
                                   job, lane)
        except NotFound:
            return None
        if ready is None:
            if recheck:
                # The rest of the page is stale too: poll afresh rather than
                # race the other worker for what it has left.
                self.contention.saw_another_worker()
                worker.jobs.drop_page()
            return None
        job = ready
        try:
            worker.binding.validate_parameters(job.parameters)
        except ValidationError as invalid:
            worker.stats.add("jobs_invalid")
            worker.health.last_error = invalid
            log.error("job %s has invalid parameters: %s", job.id, invalid)
            return self._report(job, error_report(invalid, with_traceback=False), lane)
        try:
            job = self._retrying(lambda: worker.connection.update_job(job, WORKING), "claim",
                                 job, lane)
        except NotFound:
            return None
        except BadRequest as refused:
            # Nothing this worker sends for it will be taken (a 2016 claim
            # sends the parameters back, which a size limit may refuse).
            return self._unwritable(job, refused)
        if lane.abandoned:
            # stop_now() may have put the job back before this claim landed.
            self.requeue(job)
            return None
        lane.job = job
        attempt = self._attempts[job.id] = self._attempts.get(job.id, 0) + 1
        started = monotonic()
        try:
            result = checked_result(worker.execution.run(job, lane), worker.binding)
        except RunFailed as failed:
            return self._run_failed(job, lane, failed, attempt, monotonic() - started)
        except ProcessingError as bad:  # the result, not the code: no traceback
            if not self._may_report(lane):
                return None
            worker.health.last_error = bad
            log.error("job %s failed: %s", job.id, bad)
            return self._report(job, error_report(bad, with_traceback=False), lane)
        if not self._may_report(lane):
            return None
        try:
            finished = self._write_outcome(
                job, lambda: worker.connection.update_job(job, COMPLETED, result), "report", lane)
        except (ValidationError, BadRequest) as refused:
            # The server's own draft-4 check disagrees with the local one.
            return self._report(job, error_report(refused, with_traceback=False), lane)
        if finished is not None:
            self._attempts.pop(job.id, None)
            worker.stats.add("jobs_completed")
            log.info("job %s completed in %.3f s", job.id, monotonic() - started)
        return finished

    def _run_failed(self, job, lane, failed, attempt, seconds):
        worker = self.worker
        if not self._may_report(lane):
            return None  # stop_now() has put it back in the queue
        report = failed.report
        if failed.crashed:
            worker.stats.add("child_processes_died")
        if failed.retry:
            if attempt <= worker.max_retries:
                return self._retry(job, attempt, failed.delay, report)
            report["attempts"] = attempt
            report["message"] = "%s (gave up after %d attempts)" % (report["message"], attempt)
        worker.health.last_error = failed.error or ProcessingError(report["message"])
        log.error("job %s failed after %.3f s: %s: %s%s", job.id, seconds, report["type"],
                  report["message"], "\n" + report["traceback"] if "traceback" in report else "")
        outcome = self._report(job, report, lane)
        if failed.crashed and worker.recover_abandoned:
            try_to_recover(worker, wait_for_lapse=False)
        return outcome

    def _retry(self, job, attempt, delay, report):
        worker = self.worker
        if delay is None:
            delay = min(worker.failure_backoff * 2 ** (attempt - 1), worker.max_failure_backoff)
        worker.jobs.hold(job.id, monotonic() + delay)
        worker.stats.add("jobs_retried")
        log.warning("job %s asked to be run again (%s; attempt %d of %d): back in the queue, "
                    "run again here in %.1f s", job.id, report["message"], attempt,
                    worker.max_retries + 1, delay)
        self.requeue(job)
        return None

    def _may_report(self, lane):
        """Whether to write the job's outcome: not once the lane is given up."""
        with self._lock:
            if lane.abandoned:
                return False
            lane.reporting = True
            return True

    def _report(self, job, report, lane=None):
        """Write the failure of ``job`` with ``report``; the job as the server has it after.

        A report the server refuses (a size limit, a result schema with no
        room for it) is cut to its type and the start of its message.
        """
        worker = self.worker
        schema = worker.binding.result_schema
        self._attempts.pop(job.id, None)
        try:
            failed = self._write_outcome(job, lambda: worker.connection.fail_job(
                job, report, schema), "report the failure of", lane)
        except BadRequest as refused:
            log.warning("the server refused the error report of job %s (%s); sending it "
                        "cut short", job.id, refused)
            minimal = {"type": report["type"], "message": report["message"][
                :MINIMAL_REPORT_MESSAGE] + " [cut short: the server refused the whole report]"}
            try:
                failed = self._write_outcome(job, lambda: worker.connection.fail_job(
                    job, minimal, schema), "report the failure of", lane)
            except BadRequest as refused_again:
                return self._unwritable(job, refused_again)
        if failed is not None:
            worker.stats.add("jobs_failed")
        return failed

    def _unwritable(self, job, refused):
        """A job the server refuses every write of: say so once, and never take it again."""
        self.worker.jobs.skip(job.id)
        self.worker.stats.add("jobs_failed")
        self.worker.health.last_error = refused
        log.error("job %s cannot be updated: the server refuses it (%s); this worker will "
                  "not take it again", job.id, refused)
        return None

    def _write_outcome(self, job, operation, what, lane):
        """Write a job's outcome, retrying; None if the job is gone or given back."""
        try:
            return self._retrying(operation, what, job, lane)
        except NotFound:
            return None
        except (ValidationError, BadRequest):
            raise
        except TopChefError:
            if not self._stopping_at_once(self.worker.lifecycle.state, lane):
                raise
            # stop_now() while the server was unreachable: give the job back,
            # in one attempt as stop_now() itself does.
            self.requeue(job, retry=False)
            return None

    @staticmethod
    def _stopping_at_once(state, lane):
        """Whether to give up a write for the job of ``lane`` (None: of no lane).

        ``stop_now()`` gives every lane up before it moves on from
        ABANDONING, so a lane's flag is what lasts; a write from no lane
        (the time limit's report) has only the state to watch.
        """
        return state == ABANDONING or (lane is not None and lane.abandoned)

    def _retrying(self, operation, what, job, lane=None):
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
                if worker.lifecycle.wait_for(lambda state: self._stopping_at_once(state, lane),
                                             backoff.next()):
                    raise

    def requeue(self, job, retry=True):
        # type: (Job, bool) -> None
        """Put a job this process took back in the queue (``retry=False``: in one attempt)."""
        try:
            self.worker.connection.update_job(job, REGISTERED, retry=retry)
            log.warning("job %s put back in the queue", job.id)
        except Exception as error:
            log.error("job %s could not be put back in the queue and stays WORKING: %s",
                      job.id, error)
