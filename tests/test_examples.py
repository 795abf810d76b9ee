"""The README, the examples and the quickstart say what the code does, and run.

The quickstart of the docs includes examples/add_one.py, which is the
README's complete listing with only the address and the service id taken
from the command line: running that file here is running the quickstart.
"""
import io
import os
import re
import signal
import textwrap

import pytest

from topchef_client import COMPLETED, WORKING, TopChef, ValidationError
from topchef_client.worker import Client

from support import REPO_ROOT, jobs_by_status, wait_until


def read(*parts):
    with io.open(os.path.join(REPO_ROOT, *parts), encoding="utf-8") as text:
        return text.read()


def code_lines(source):
    """The non-blank lines of some Python, dedented, without comments and docstring."""
    source = re.sub(r'(?s)^\s*""".*?"""', "", textwrap.dedent(source))
    return [line.rstrip() for line in source.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def readme_listing():
    """The README's complete listing: the Python block that starts the worker."""
    blocks = re.findall(r"```python\n(.*?)```", read("README.md"), re.S)
    return [block for block in blocks if "service.start()" in block][0]


def test_the_add_one_example_is_the_readme_listing_but_for_address_and_id():
    listing = code_lines(readme_listing())
    example = code_lines(read("examples", "add_one.py"))

    def without_settings(lines):
        return [line for line in lines if not re.match(
            r"(service_address|service_id) = |import (os|sys)$", line)]

    assert without_settings(example) == without_settings(listing)
    assert "service_address = 'http://localhost'" in listing
    assert any(line.startswith("service_id = ") for line in listing)


def test_the_quickstart_includes_the_add_one_example_itself():
    assert ".. literalinclude:: ../examples/add_one.py" in read("docs", "quickstart.rst")


def test_the_readme_test_command_is_the_one_ci_runs():
    ci_command = re.search(r"^TEST_COMMAND='(.*)'$", read(".ci", "run"), re.M).group(1)
    bash_blocks = re.findall(r"```bash\n(.*?)```", read("README.md"), re.S)
    assert ci_command in [block.strip() for block in bash_blocks]


def test_the_readme_main_command_is_the_demo():
    bash_blocks = re.findall(r"```bash\n(.*?)```", read("README.md"), re.S)
    assert bash_blocks[0].strip() == "python -m pip install . && python -m topchef_client demo"


def test_the_add_one_example_runs_jobs_and_stops_on_sigterm(
        server, topchef, service, scripts):
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 5, 10)]
    script = scripts.start(u"import runpy, sys\n"
                           u"sys.argv = ['add_one.py', %r, %r]\n"
                           u"runpy.run_path(%r, run_name='__main__')\n" % (
                               server.url, service.id,
                               os.path.join(REPO_ROOT, "examples", "add_one.py")))

    wait_until(lambda: all(topchef.job(job).status == COMPLETED for job in jobs), timeout=20)
    script.send_signal(signal.SIGTERM)

    assert script.wait() == 128 + signal.SIGTERM
    assert [topchef.job(job).result for job in jobs] == [{"value": 2}, {"value": 6},
                                                         {"value": 11}]
    assert WORKING not in jobs_by_status(server, service.id)


def test_the_submitter_example_prints_each_result(server, topchef, service, make_worker,
                                                  scripts):
    from jobs import AddOne
    make_worker(AddOne).start()
    script = scripts.start(u"import runpy, sys\n"
                           u"sys.argv = ['submit_jobs.py', %r, %r, '1', '2']\n"
                           u"runpy.run_path(%r, run_name='__main__')\n" % (
                               server.url, service.id,
                               os.path.join(REPO_ROOT, "examples", "submit_jobs.py")))

    assert script.wait(20) == 0, script.log()
    assert "{'value': 1} -> {'value': 2}" in script.log().replace("u'", "'")
    assert "{'value': 2} -> {'value': 3}" in script.log().replace("u'", "'")


def load_module(path, name):
    """Import a file as a module, on Python 2.7 as on 3."""
    try:
        import importlib.util
    except ImportError:  # Python 2.7
        import imp
        return imp.load_source(name, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rabi():
    """The slow-experiment example, imported as a module."""
    return load_module(os.path.join(REPO_ROOT, "examples", "rabi_experiment.py"),
                       "rabi_experiment")


def test_the_experiment_example_runs_both_kinds_of_job_and_refuses_bad_ones(
        server, generation, rabi):
    rabi.RabiRamsey.seconds_per_point = 0.001
    worker = rabi.RabiRamsey.register_service(
        server.url, "RabiRamsey", "test", rabi.JOB_REGISTRATION_SCHEMA,
        rabi.JOB_RESULT_SCHEMA, poll_interval=0.01)
    wrong = [{"experiment": "rabi", "pulse_lengths": []},
             {"experiment": "ramsey", "delays": [1]},
             {"experiment": "rabi", "pulse_lengths": [1], "amplitude": 0}]
    with TopChef(server.url) as topchef:
        good = [topchef.submit(worker.id, {"experiment": "rabi", "pulse_lengths": [0, 10, 20]}),
                topchef.submit(worker.id, {"experiment": "ramsey", "delays": [0, 100],
                                           "detuning": 2})]
        refused_by_the_worker = []
        for parameters in wrong:
            if generation == "2017":
                # The server keeps the whole schema: the submitter checks it.
                with pytest.raises(ValidationError):
                    topchef.submit(worker.id, parameters)
            else:
                # A 2016 server keeps only "properties" and "required" of it, so
                # the submitter cannot check oneOf; the worker, which knows the
                # schema it registered, refuses such jobs.
                refused_by_the_worker.append(topchef.submit(worker.id, parameters))

        worker.burst()

        rabi_job, ramsey_job = topchef.wait_all(good, timeout=10)
        refused = topchef.wait_all(refused_by_the_worker, timeout=10)
    assert rabi_job.result["experiment"] == "rabi"
    assert len(rabi_job.result["populations"]) == 3
    assert ramsey_job.result["populations"][0] == pytest.approx(1.0)
    assert [job.error["type"] for job in refused] == ["ValidationError"] * len(refused)
    assert worker.stats.jobs_invalid == len(refused)
    worker.connection.close()


def test_every_example_is_valid_python_on_this_interpreter():
    for name in sorted(os.listdir(os.path.join(REPO_ROOT, "examples"))):
        if name.endswith(".py"):
            compile(read("examples", name), name, "exec")


def test_the_readme_worker_class_is_a_client():
    namespace = {}
    listing = "\n".join(code_lines(readme_listing())).split("if __name__")[0]
    exec(compile(listing, "README.md", "exec"), namespace)
    assert issubclass(namespace["AddOne"], Client)
    assert namespace["AddOne"]("http://localhost", namespace["service_id"]).run(
        {"value": 1}) == {"value": 2}
