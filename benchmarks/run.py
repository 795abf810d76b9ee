"""Measure the worker: requests per job, throughput, CPU, idle cost, latency, scale.

    python benchmarks/run.py [--address URL] [--generation 2016|2017] [--quick]
                             [--json FILE] [--soak]

Without --address, each generation gets a local server in a process of its
own, so that its CPU time is not the client's and requests are counted at
the server. With --address, requests are counted by the client (the server's
generation is whatever it is). The worker runs in this process, one run at a
time. It prints a table and writes the figures as JSON (by default to
benchmarks/results/latest.json). CI runs --quick to keep the script working;
no figure is asserted.

Definitions (the same in the table):
- requests/job: HTTP requests the server answered while a worker with a
  no-op run() worked through a queue of pre-submitted jobs, divided by the
  jobs; the worker's start (service fetch, availability) and heartbeats are
  included.
- jobs/s: those jobs divided by the wall time from start() to the last result.
- server limit: the server's own capacity for the same request mix (requests
  per second sent by a bare keep-alive load generator of several processes),
  divided by requests/job; ratio = jobs/s / server limit.
- client CPU/job: CPU time of this process (the worker) during the run,
  divided by the jobs.
- idle: requests per second and CPU percent of a worker at default settings
  with an empty queue, measured after it has been idle for a while.
- pickup latency, idle: submission (POST answered) to claim (run() starts,
  one request after the WORKING update) for a job submitted to an idle worker
  at default settings, at moments spread evenly over its poll interval
  (percentiles interpolated). Busy: the dead time a worker adds
  between jobs while it works through a queue: claim time of a job minus the
  later of its submission and the end of the previous job on that thread.
- scale: jobs/s at several queue depths (the median of three rounds over
  the depths); memory: the worker process's resident memory before and
  after 10,000 jobs (after a collection).
- two worker processes: two worker processes (one thread each) started at
  once on one service with a queue of pre-submitted jobs, with no-op runs
  and with runs of 50 ms; jobs run twice (by both) in percent of the jobs.
- isolation: wall milliseconds per job of a no-op run() (the demo's AddOne)
  in thread isolation and in process isolation (one thread, the same
  server, queues of the same depth), from the end of the first job to the
  end of the last, so that the start of the job process is not counted;
  the median of three rounds (one with --quick). The cost of process
  isolation is the difference.
- soak: 10,000 jobs, 4 threads, through a FaultProxy in a process of its
  own that every 0.05-0.3 s arms a random fault (reset before or after
  forwarding, 0.2 s delay, HTML 503, empty 200, truncated body) for the next
  1-3 matching requests within 0.1-1 s, and now and then goes down for
  0.2-1.5 s. When every job has run (or after 10 minutes) the faults stop
  and the worker has 2 minutes to drain the queue. Lost: still queued after
  that; stuck: still WORKING after the graceful stop; duplicated: run more
  than once. Memory growth: the worker process's resident memory.
"""
from __future__ import division, print_function

import argparse
import collections
import gc
import json
import multiprocessing
import os
import platform
import random
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from topchef_client import Client, Connection, TopChef  # noqa: E402
from topchef_client.compat import monotonic  # noqa: E402

ANY_OBJECT = {"type": "object"}
REGISTRATION_SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}},
                       "required": ["n"]}


# Processes of their own: the server, and the load generator

def _serve(generation, pipe):
    """Child process: a LocalServer that reports its request count on demand."""
    from topchef_client.testing import LocalServer
    server = LocalServer(generation=generation).start()
    pipe.send(server.url)
    while True:
        command = pipe.recv()
        if command == "count":
            pipe.send(server.request_count)
        elif command == "stop":
            server.stop()
            pipe.send("stopped")
            return


class ChildProcess(object):
    """A spawned process (no inherited threads) that ``target`` runs,
    driven by commands on a pipe; the first thing it sends is its URL."""

    def __init__(self, target, *args):
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=target, args=args + (child,))
        self._process.daemon = True
        self._process.start()
        self.url = self._pipe.recv()

    def ask(self, command):
        self._pipe.send(command)
        return self._pipe.recv()

    def stop(self):
        self.ask("stop")
        self._process.join(10)


class ServerProcess(ChildProcess):
    """A local server in a process of its own."""

    def __init__(self, generation):
        ChildProcess.__init__(self, _serve, generation)
        self.generation = generation

    def request_count(self):
        return self.ask("count")


class RemoteServer(object):
    """A server given by --address: requests are counted by the client."""

    def __init__(self, url, generation):
        self.url = url
        self.generation = generation
        self.counting_connections = []

    def request_count(self):
        return sum(connection.request_count for connection in self.counting_connections)

    def stop(self):
        pass


def _load(url, plan, seconds, start_at, results):
    """Child process: replay ``plan`` (method, path, body) on keep-alive sockets."""
    from six.moves import http_client
    from six.moves.urllib.parse import urlsplit
    parts = urlsplit(url)
    counts = []

    def loop(offset):
        connection = http_client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        done = 0
        index = offset
        while time.time() < start_at:
            time.sleep(0.001)
        deadline = time.time() + seconds
        while time.time() < deadline:
            method, path, body = plan[index % len(plan)]
            index += 1
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            connection.getresponse().read()
            done += 1
        counts.append(done)

    threads = [threading.Thread(target=loop, args=(number * 7,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(sum(counts))


def server_capacity(server, plan, seconds, processes=2):
    """Requests per second the server answers for ``plan``, from bare clients."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 1.5  # every process connected and waiting
    workers = [context.Process(target=_load, args=(server.url, plan, seconds, start_at,
                                                   results))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    total = sum(results.get(timeout=seconds + 60) for _ in workers)
    for worker in workers:
        worker.join(10)
    return total / seconds


# Workers

class NoOp(Client):
    """Does nothing: the cost measured is the library's."""

    def run(self, parameters):
        return {}


class Timed(Client):
    """Records when each job's run() started, and on which thread."""

    def __init__(self, *args, **kwargs):
        Client.__init__(self, *args, **kwargs)
        self.claims = {}
        self.finished = collections.defaultdict(float)

    def run(self, parameters):
        now = time.time()
        thread = threading.current_thread().name
        self.claims[parameters["n"]] = (now, self.finished[thread])
        self.finished[thread] = time.time()
        return {}


def _submit(server, service_id, count, first=0):
    """Submit ``count`` jobs; return their submission times by parameter ``n``."""
    submitted = {}
    with TopChef(server.url) as topchef:
        for n in range(first, first + count):
            topchef.connection.submit_job(service_id, {"n": n})
            submitted[n] = time.time()
    return submitted


def _register(server, worker_class=NoOp, **options):
    worker = worker_class.register_service(server.url, "bench", "benchmark service",
                                           REGISTRATION_SCHEMA, ANY_OBJECT, **options)
    if isinstance(server, RemoteServer):
        server.counting_connections.append(worker.connection)
    return worker


def _wait_for(condition, timeout, step):
    """Check ``condition`` every ``step`` seconds until it holds; return whether it did."""
    deadline = monotonic() + timeout
    while not condition():
        if monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def _wait_finished(worker, count, timeout):
    if not _wait_for(lambda: worker.stats.jobs_completed + worker.stats.jobs_failed >= count,
                     timeout, step=0.002):
        raise RuntimeError("only %d of %d jobs done in %s s" % (
            worker.stats.jobs_completed, count, timeout))


def cpu_seconds():
    times = os.times()
    return times[0] + times[1]


def resident_megabytes():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except IOError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def throughput_run(server, jobs, threads):
    """Work through ``jobs`` queued jobs; return the figures of the run."""
    worker = _register(server, threads=threads, poll_interval=0.05)
    _submit(server, worker.id, jobs)
    gc.collect()
    requests_before = server.request_count()
    cpu_before = cpu_seconds()
    started = monotonic()
    worker.start(handle_sigterm=False)
    _wait_finished(worker, jobs, timeout=600)
    elapsed = monotonic() - started
    cpu = cpu_seconds() - cpu_before
    requests = server.request_count() - requests_before
    worker.stop(timeout=30)
    worker.connection.close()
    return {"jobs": jobs, "threads": threads, "seconds": elapsed,
            "jobs_per_second": jobs / elapsed, "requests": requests,
            "requests_per_job": requests / jobs, "client_cpu_ms_per_job": 1000 * cpu / jobs}


def request_mix(server, generation, jobs):
    """The worker's request mix on a queue of ``jobs``, as (method, path, body) triples."""
    with Connection(server.url) as connection:
        service = connection.register_service("mix", "capacity", REGISTRATION_SCHEMA,
                                              ANY_OBJECT)
        page = [connection.submit_job(service.id, {"n": n}).id
                for n in range(min(jobs, 200))]
        for n in range(len(page), jobs):
            connection.submit_job(service.id, {"n": n})
    queue = ("GET", "/services/%s/queue" % service.id, None)
    plan = []
    for index, job_id in enumerate(page):
        if generation == "2017":
            if index % 10 == 0:
                plan.append(queue)
            plan.append(("PATCH", "/jobs/" + job_id, json.dumps({"status": "WORKING"})))
            plan.append(("PATCH", "/jobs/" + job_id, json.dumps(
                {"status": "COMPLETED", "results": {}})))
        else:
            body = {"parameters": {"n": index}, "result": {}}
            plan.append(("GET", "/jobs/" + job_id, None))
            plan.append(("PUT", "/jobs/" + job_id, json.dumps(dict(body, status="WORKING"))))
            plan.append(("PUT", "/jobs/" + job_id, json.dumps(dict(body, status="COMPLETED"))))
    if generation == "2016":
        # The whole queue once per batch of ``jobs``; with fewer jobs in the
        # plan than in the queue, the share is kept by weight.
        plan.append(queue)
    return plan


def idle_run(server, warmup, seconds):
    """Requests per second and CPU percent of an idle worker at default settings."""
    worker = _register(server)
    worker.start(handle_sigterm=False)
    time.sleep(warmup)
    requests_before = server.request_count()
    cpu_before = cpu_seconds()
    time.sleep(seconds)
    cpu = cpu_seconds() - cpu_before
    requests = server.request_count() - requests_before
    worker.stop(timeout=30)
    worker.connection.close()
    return {"warmup_seconds": warmup, "seconds": seconds,
            "requests_per_second": requests / seconds, "cpu_percent": 100 * cpu / seconds}


def median_run(runs):
    """The run of median throughput (one machine's noise, not the code's)."""
    ranked = sorted(runs, key=lambda run: run["jobs_per_second"])
    median = dict(ranked[len(ranked) // 2])
    median["runs_jobs_per_second"] = [run["jobs_per_second"] for run in runs]
    return median


def percentile(values, fraction):
    """The ``fraction`` percentile, interpolated between the nearest two values."""
    values = sorted(values)
    if not values:
        return float("nan")
    position = fraction * (len(values) - 1)
    below = int(position)
    above = min(below + 1, len(values) - 1)
    return values[below] + (values[above] - values[below]) * (position - below)


def _poll_seen(worker, polls):
    """Wait until the worker has begun a poll after its ``polls``-th; return (when, count)."""
    while worker.stats.polls == polls:
        time.sleep(0.0005)
    return monotonic(), worker.stats.polls


def idle_latency_run(server, samples):
    """Pickup latency of jobs submitted to an idle worker at default settings.

    Each job comes once the worker has been idle long enough for its poll
    interval to reach the cap. A job arriving at a random moment of that
    interval waits for the rest of it; rather than draw the moments at
    random (20 random draws leave the median a couple of hundred ms to
    chance), the jobs arrive at moments spread evenly over the interval, in
    random order, so the percentiles are those of a uniform arrival.
    """
    worker = _register(server, Timed)
    cap = worker.jobs._idle.cap
    phases = [(k + 0.5) / samples for k in range(samples)]
    random.shuffle(phases)
    worker.start(handle_sigterm=False)
    latencies = []
    polls = 0
    for n, phase in enumerate(phases):
        # Two polls a whole cap apart: the worker is at its idle pace.
        last, polls = _poll_seen(worker, polls)
        while True:
            seen, polls = _poll_seen(worker, polls)
            if seen - last >= 0.9 * cap:
                break
            last = seen
        time.sleep(max(0.0, seen + phase * cap - monotonic()))
        submitted = _submit(server, worker.id, 1, first=n)[n]
        _wait_finished(worker, n + 1, timeout=30)
        latencies.append(worker.claims[n][0] - submitted)
        polls = worker.stats.polls
    worker.stop(timeout=30)
    worker.connection.close()
    return {"samples": samples, "poll_interval": cap,
            "p50_ms": 1000 * percentile(latencies, 0.5),
            "p95_ms": 1000 * percentile(latencies, 0.95)}


def busy_latency_run(server, jobs):
    """The dead time between jobs of a worker working through a queue."""
    worker = _register(server, Timed, poll_interval=0.05)
    submitted = _submit(server, worker.id, jobs)
    worker.start(handle_sigterm=False)
    _wait_finished(worker, jobs, timeout=600)
    worker.stop(timeout=30)
    worker.connection.close()
    gaps = [claimed - max(submitted[n], previous)
            for n, (claimed, previous) in worker.claims.items() if previous]
    return {"jobs": jobs, "p50_ms": 1000 * percentile(gaps, 0.5),
            "p95_ms": 1000 * percentile(gaps, 0.95)}


def isolation_run(server, jobs, rounds):
    """Milliseconds per job of a no-op run() in thread and in process isolation.

    Timed from the end of the first job, once the job process is up, to the
    end of the last: what each further job costs. Rounds alternate the two,
    so that a slow spell of the machine does not fall on one of them. The
    worker is the demo's AddOne (its run() adds one to a number): a job
    process imports its class by name, and this script's own classes live in
    ``__main__``, which importing multiprocessing (as this script does)
    hides from a job process.
    """
    from topchef_client.demo import AddOne

    times = {"thread": [], "process": []}
    for _ in range(rounds):
        for isolation in ("thread", "process"):
            worker = AddOne.register_service(server.url, "bench", "isolation benchmark",
                                             ANY_OBJECT, ANY_OBJECT, isolation=isolation,
                                             poll_interval=0.05)
            if isinstance(server, RemoteServer):
                server.counting_connections.append(worker.connection)
            with TopChef(server.url) as topchef:
                for n in range(jobs):
                    topchef.connection.submit_job(worker.id, {"value": n})
            worker.start(handle_sigterm=False)
            _wait_finished(worker, 1, timeout=60)
            first = monotonic()
            _wait_finished(worker, jobs, timeout=600)
            times[isolation].append(1000 * (monotonic() - first) / (jobs - 1))
            worker.stop(timeout=30)
            worker.connection.close()
    thread = sorted(times["thread"])[rounds // 2]
    process = sorted(times["process"])[rounds // 2]
    return {"jobs": jobs, "rounds": rounds, "thread_ms_per_job": thread,
            "process_ms_per_job": process, "process_extra_ms_per_job": process - thread,
            "runs_ms_per_job": times}


#: A worker process of its own for two_workers_run: it prints the number of
#: each job it runs, and works the queue once (burst) with one thread.
TWO_WORKERS_SCRIPT = """
import sys
import time

from topchef_client import Client


class Prints(Client):
    def run(self, parameters):
        sys.stdout.write("%d\\n" % parameters["n"])
        sys.stdout.flush()
        time.sleep(float(sys.argv[3]))
        return {}


Prints(sys.argv[1], sys.argv[2], poll_interval=0.05, max_poll_interval=0.1,
       recover_abandoned=False).burst()
"""


def two_workers_run(server, jobs, seconds_per_job):
    """Two worker processes on one service, run at once: how many jobs ran twice.

    TopChef has no atomic claim; a worker reads a job's status before its
    claim once it has seen a sign of another worker (processing.Contention).
    """
    service = _register(server)
    service.connection.close()
    _submit(server, service.id, jobs)
    command = [sys.executable, "-c", TWO_WORKERS_SCRIPT, server.url, service.id,
               str(seconds_per_job)]
    environment = dict(os.environ)  # the checkout, installed or not
    environment["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(HERE)] + [part for part in [environment.get("PYTHONPATH")] if part])
    started = monotonic()
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, env=environment)
                 for _ in range(2)]
    runs = [int(line) for process in processes for line in process.communicate()[0].split()]
    duplicated = len(runs) - len(set(runs))
    return {"jobs": jobs, "seconds_per_job": seconds_per_job, "runs": len(runs),
            "duplicated": duplicated, "duplicated_percent": 100.0 * duplicated / jobs,
            "seconds": monotonic() - started}


def memory_run(server, jobs):
    """Resident memory of this (worker) process before and after ``jobs`` jobs."""
    throughput_run(server, 100, 1)  # imports, pools and caches in place
    worker = _register(server, threads=1, poll_interval=0.05)
    _submit(server, worker.id, jobs)
    gc.collect()
    before = resident_megabytes()
    worker.start(handle_sigterm=False)
    _wait_finished(worker, jobs, timeout=900)
    worker.stop(timeout=30)
    gc.collect()
    after = resident_megabytes()
    worker.connection.close()
    return {"jobs": jobs, "rss_before_mb": before, "rss_after_mb": after,
            "growth_mb": after - before}


# The soak run

def _inject_faults(upstream, pipe):
    """Child process: a FaultProxy to ``upstream`` that breaks requests at random.

    It runs apart from the worker so that the worker's memory figure is its own.
    Commands on ``pipe``: "calm" ends the faults and answers with their
    figures; "stop" closes the proxy.
    """
    from topchef_client.testing import Delay, FaultProxy, Reset, Respond, Truncate
    faults = [lambda: Reset(), lambda: Reset(after_forwarding=True), lambda: Delay(0.2),
              lambda: Respond(503, b"<html>busy</html>", content_type="text/html"),
              lambda: Respond(200, b"", content_type="application/json"),
              lambda: Truncate(40)]
    rules = []
    outages = [0]
    calm = threading.Event()

    def inject():
        # Each fault lasts a moment, so that faults aimed at a method the
        # worker rarely uses (or never: PUT on 2017) do not pile up.
        while not calm.wait(random.uniform(0.05, 0.3)):
            rules.append(proxy.add_rule(
                random.choice(faults)(), method=random.choice([None, "GET", "PATCH", "PUT"]),
                times=random.randint(1, 3), seconds=random.uniform(0.1, 1.0)))
            if random.random() < 0.02:
                outages[0] += 1
                proxy.go_down()
                calm.wait(random.uniform(0.2, 1.5))
                proxy.come_up()

    with FaultProxy(upstream, max_recorded=0) as proxy:
        injector = threading.Thread(target=inject)
        injector.start()
        pipe.send(proxy.url)
        pipe.recv()  # "calm"
        calm.set()
        injector.join()
        proxy.clear_rules()
        proxy.come_up()
        pipe.send({"requests": proxy.request_count, "outages": outages[0],
                   "faulty_requests": sum(rule.hits for rule in rules)})
        pipe.recv()  # "stop"
    pipe.send("stopped")


class FaultyRoute(ChildProcess):
    """A fault-injecting proxy to ``upstream``, in a process of its own."""

    def __init__(self, upstream):
        ChildProcess.__init__(self, _inject_faults, upstream)

    def calm(self):
        """End the faults; return how many there were."""
        return self.ask("calm")


def soak_run(server, jobs, threads, fault_seconds=600, drain_seconds=120):
    """Many jobs with faults injected at random; count lost, doubled and stuck jobs.

    Faults are injected until every job has run or ``fault_seconds`` have
    passed; the worker then has ``drain_seconds`` without faults to finish.
    A job still queued after that is lost; one still WORKING after the
    graceful stop is stuck; one run more than once is duplicated.
    """
    class Counting(Client):
        def __init__(self, *args, **kwargs):
            Client.__init__(self, *args, **kwargs)
            self.runs = collections.Counter()
            self.lock = threading.Lock()

        def run(self, parameters):
            with self.lock:
                self.runs[parameters["n"]] += 1
            return {}

    def finished():
        return len(worker.runs) >= jobs and not worker.jobs.in_flight()

    with TopChef(server.url) as topchef:
        service = topchef.register_service("soak", "soak", REGISTRATION_SCHEMA, ANY_OBJECT)
    _submit(server, service.id, jobs)
    route = FaultyRoute(server.url)
    try:
        worker = Counting(route.url, service.id, threads=threads, poll_interval=0.05,
                          failure_backoff=0.05, max_failure_backoff=1.0,
                          request_timeout=(2.0, 1.0))
        gc.collect()
        before = resident_megabytes()
        started = monotonic()
        worker.start(handle_sigterm=False)
        _wait_for(finished, fault_seconds, step=0.5)
        faults = route.calm()
        faulty_seconds = monotonic() - started
        # Faults over, the worker gets a fault-free while to drain the queue:
        # what is still queued after it was never picked up again (lost).
        _wait_for(finished, drain_seconds, step=0.5)
        worker.stop(timeout=60)
        elapsed = monotonic() - started
        gc.collect()
        after = resident_megabytes()
    finally:
        route.stop()
    with TopChef(server.url) as topchef:
        final = topchef.jobs(service.id)
    statuses = collections.Counter(job.status for job in final)
    figures = {"jobs": jobs, "threads": threads, "seconds": elapsed,
               "seconds_with_faults": faulty_seconds,
               "lost": sum(1 for job in final if job.status == "REGISTERED"),
               "duplicated": sum(1 for count in worker.runs.values() if count > 1),
               "stuck": statuses.get("WORKING", 0), "statuses": dict(statuses),
               "memory_growth_mb": after - before}
    figures.update(faults)
    return figures


# Driving and printing

TARGETS = {
    # 2017: 2.1 plus the probes for another worker (issue 12 allows 2.2).
    "requests_per_job": {"2016": 3.1, "2017": 2.2},
}


#: The size of each measurement, in full and in --quick runs.
SIZES = {
    False: dict(jobs=1000, capacity_seconds=10, idle_warmup=10, idle_seconds=30,
                latency_samples=20, busy_jobs=1000, depths=(100, 1000, 10000),
                depth_runs=3, memory_jobs=10000, isolation_jobs=1000, isolation_rounds=3,
                two_workers=((1000, 0.0), (300, 0.05))),
    True: dict(jobs=100, capacity_seconds=2, idle_warmup=1, idle_seconds=2,
               latency_samples=1, busy_jobs=100, depths=(50, 100, 200), depth_runs=1,
               memory_jobs=300, isolation_jobs=300, isolation_rounds=1,
               two_workers=((200, 0.0),)),
}


def run_generation(server, quick, soak):
    generation = server.generation
    size = SIZES[quick]
    figures = {"generation": generation}
    jobs = size["jobs"]
    print("[%s] throughput with 1 and 4 threads, %d jobs each" % (generation, jobs))
    figures["throughput"] = [throughput_run(server, jobs, threads) for threads in (1, 4)]
    if not isinstance(server, RemoteServer):
        print("[%s] server capacity for the same request mix" % generation)
        plan = request_mix(server, generation, jobs)
        capacity = server_capacity(server, plan, size["capacity_seconds"])
        figures["server_capacity_rps"] = capacity
        for run in figures["throughput"]:
            limit = capacity / run["requests_per_job"]
            run["server_limit_jobs_per_second"] = limit
            run["ratio_to_server_limit"] = run["jobs_per_second"] / limit
    print("[%s] process isolation against thread isolation, %d no-op jobs each"
          % (generation, size["isolation_jobs"]))
    figures["isolation"] = isolation_run(server, size["isolation_jobs"],
                                         size["isolation_rounds"])
    print("[%s] two worker processes on one service" % generation)
    figures["two_workers"] = [two_workers_run(server, count, seconds)
                              for count, seconds in size["two_workers"]]
    print("[%s] idle cost" % generation)
    figures["idle"] = idle_run(server, size["idle_warmup"], size["idle_seconds"])
    print("[%s] pickup latency" % generation)
    figures["latency_idle"] = idle_latency_run(server, size["latency_samples"])
    figures["latency_busy"] = busy_latency_run(server, size["busy_jobs"])
    depths = size["depths"]
    print("[%s] scale over queue depths %s" % (generation, ", ".join(map(str, depths))))
    # Rounds over all depths, not runs of one depth after another: the
    # machine's speed drifts, and the drift must not pass for a trend.
    rounds = [[throughput_run(server, depth, 1) for depth in depths]
              for _ in range(size["depth_runs"])]
    figures["scale"] = [median_run(runs) for runs in zip(*rounds)]
    print("[%s] memory over %d jobs" % (generation, size["memory_jobs"]))
    figures["memory"] = memory_run(server, size["memory_jobs"])
    if soak:
        print("[%s] soak: 10,000 jobs, 4 threads, random faults" % generation)
        figures["soak"] = soak_run(server, 10000, 4)
    return figures


def plugin_import_ms(runs=5):
    """Milliseconds that importing the pytest plugin costs a fresh interpreter: (cold, warm).

    Each run is a new process that imports pytest first (pytest is loaded
    before its plugins) and then times the plugin's import alone. Warm: the
    median of ``runs``, with compiled files in place. Cold: one run that
    compiles the package's modules from source, as after an install
    (PYTHONPYCACHEPREFIX pointing at an empty folder; None before Python 3.8).
    Printed in the table, never asserted: the tests check which modules the
    plugin imports, not how long it takes.
    """
    import shutil
    import subprocess
    import tempfile

    script = ("import time, pytest\n"
              "started = time.time()\n"
              "import topchef_client.testing.pytest_plugin\n"
              "print((time.time() - started) * 1000)\n")
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(HERE)] + [part for part in [environment.get("PYTHONPATH")] if part])

    def one_run(extra):
        output = subprocess.check_output([sys.executable, "-c", script],
                                         env=dict(environment, **extra))
        return float(output.decode("ascii").split()[-1])

    warm = sorted(one_run({}) for _ in range(runs))[runs // 2]
    cold = None
    if sys.version_info >= (3, 8):
        empty = tempfile.mkdtemp()
        try:
            cold = one_run({"PYTHONPYCACHEPREFIX": empty})
        finally:
            shutil.rmtree(empty, ignore_errors=True)
    return cold, warm


def print_table(results):
    rows = []

    def row(name, *cells):
        rows.append([name] + list(cells))

    generations = [figures["generation"] for figures in results["generations"]]
    row("figure", *generations)
    by_generation = results["generations"]

    def each(function):
        return [function(figures) for figures in by_generation]

    for index, threads in enumerate((1, 4)):
        row("requests/job, %d thread(s)" % threads,
            *each(lambda f: "%.3f (target <= %s)" % (
                f["throughput"][index]["requests_per_job"],
                TARGETS["requests_per_job"][f["generation"]])))
        row("jobs/s, %d thread(s)" % threads,
            *each(lambda f: "%.0f" % f["throughput"][index]["jobs_per_second"]))
        row("  ratio to server limit",
            *each(lambda f: "%.2f of %.0f jobs/s (target >= 0.9)" % (
                f["throughput"][index]["ratio_to_server_limit"],
                f["throughput"][index]["server_limit_jobs_per_second"])
                if "ratio_to_server_limit" in f["throughput"][index] else "n/a"))
        row("client CPU ms/job, %d thread(s)" % threads,
            *each(lambda f: "%.2f" % f["throughput"][index]["client_cpu_ms_per_job"]))
    for index, first in enumerate(results["generations"][0]["two_workers"]):
        row("jobs run twice, 2 worker processes, %d jobs of %g s" % (
            first["jobs"], first["seconds_per_job"]),
            *each(lambda f: "%.1f%% (%d)" % (f["two_workers"][index]["duplicated_percent"],
                                             f["two_workers"][index]["duplicated"])))
    row("ms/job, no-op, thread isolation",
        *each(lambda f: "%.2f" % f["isolation"]["thread_ms_per_job"]))
    row("ms/job, no-op, process isolation",
        *each(lambda f: "%.2f" % f["isolation"]["process_ms_per_job"]))
    row("  cost of process isolation", *each(lambda f: "%+.2f ms/job (target <= 5)" % (
        f["isolation"]["process_extra_ms_per_job"])))
    row("server capacity, requests/s",
        *each(lambda f: "%.0f" % f["server_capacity_rps"] if "server_capacity_rps" in f
              else "n/a"))
    row("idle requests/s", *each(lambda f: "%.2f (target <= 1)" % f["idle"]["requests_per_second"]))
    row("idle CPU %", *each(lambda f: "%.2f (target < 1)" % f["idle"]["cpu_percent"]))
    row("pickup p50/p95 ms, idle", *each(lambda f: "%.0f / %.0f (target p50 <= %.0f)" % (
        f["latency_idle"]["p50_ms"], f["latency_idle"]["p95_ms"],
        1000 * f["latency_idle"]["poll_interval"] / 2 + 10)))
    row("pickup p50/p95 ms, busy", *each(lambda f: "%.1f / %.1f (target < 10)" % (
        f["latency_busy"]["p50_ms"], f["latency_busy"]["p95_ms"])))
    for index in range(len(by_generation[0]["scale"])):
        row("jobs/s at depth %d" % by_generation[0]["scale"][index]["jobs"],
            *each(lambda f: "%.0f" % f["scale"][index]["jobs_per_second"]))
    row("  spread over depths", *each(lambda f: "%.0f%% (target <= 15%%)" % (
        100 * (max(r["jobs_per_second"] for r in f["scale"]) /
               min(r["jobs_per_second"] for r in f["scale"]) - 1))))
    row("RSS growth over %d jobs" % by_generation[0]["memory"]["jobs"],
        *each(lambda f: "%.2f MB (%.1f -> %.1f; target < 5)" % (
            f["memory"]["growth_mb"], f["memory"]["rss_before_mb"],
            f["memory"]["rss_after_mb"])))
    if all("soak" in f for f in by_generation):
        row("soak lost/duplicated/stuck", *each(lambda f: "%d / %d / %d (target 0/0/0)" % (
            f["soak"]["lost"], f["soak"]["duplicated"], f["soak"]["stuck"])))
        row("  faulty requests, outages", *each(lambda f: "%d of %d, %d outages in %.0f s" % (
            f["soak"]["faulty_requests"], f["soak"]["requests"], f["soak"]["outages"],
            f["soak"]["seconds_with_faults"])))
        row("soak memory growth", *each(lambda f: "%.2f MB" % f["soak"]["memory_growth_mb"]))
    cold, warm = plugin_import_ms()
    row("pytest plugin import ms, cold / warm",
        *["%s / %.1f (target < 50)" % ("n/a" if cold is None else "%.1f" % cold, warm)]
        + [""] * (len(generations) - 1))
    widths = [max(len(r[column]) for r in rows) for column in range(len(rows[0]))]
    print()
    for index, cells in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))


def machine():
    return {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": multiprocessing.cpu_count(), "hostname": socket.gethostname()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", help="measure this TopChef server instead of local ones")
    parser.add_argument("--generation", choices=("2016", "2017"),
                        help="only this generation (of the local servers)")
    parser.add_argument("--quick", action="store_true",
                        help="small runs: under a minute, to keep the script working")
    parser.add_argument("--soak", action="store_true",
                        help="also the soak run: 10,000 jobs with faults (not for CI)")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"),
                        help="where to write the figures (default %(default)s)")
    arguments = parser.parse_args(argv)
    started = time.time()
    results = {"machine": machine(), "quick": arguments.quick, "generations": [],
               "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    if arguments.address:
        generation = Connection(arguments.address).generation
        servers = [lambda: RemoteServer(arguments.address, generation)]
    else:
        generations = [arguments.generation] if arguments.generation else ["2016", "2017"]
        servers = [lambda generation=generation: ServerProcess(generation)
                   for generation in generations]
    for make_server in servers:
        server = make_server()
        try:
            results["generations"].append(run_generation(server, arguments.quick,
                                                         arguments.soak))
        finally:
            server.stop()
    results["seconds"] = time.time() - started
    print_table(results)
    print("\n%s, Python %s, %d CPUs; %.0f s in all" % (
        results["machine"]["platform"], results["machine"]["python"],
        results["machine"]["cpus"], results["seconds"]))
    directory = os.path.dirname(os.path.abspath(arguments.json))
    if not os.path.isdir(directory):
        os.makedirs(directory)
    with open(arguments.json, "w") as output:
        json.dump(results, output, indent=2, sort_keys=True)
    print("figures written to %s" % arguments.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
