"""A user's typed script: what an editor (mypy) infers for the library's public API.

``tests/typing/check_types.py`` runs mypy on this file and compares each
``reveal_type`` with the type its ``# expect:`` comment names. It is never
run by Python.
"""
import collections
from typing import Any, Dict

from topchef_client import Client, Job, Service, TopChef
from topchef_client.health import WorkerStats

MYPY = False
if MYPY:
    from typing_extensions import reveal_type


class AddOne(Client):
    """The README's worker, with types."""

    time_limit = 60.0

    def run(self, parameters):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        return {"value": parameters["value"] + 1}


def submit_and_work(address):
    # type: (str) -> None
    with TopChef(address) as topchef:
        reveal_type(topchef)  # expect: topchef_client.producer.TopChef
        service = topchef.register_service("AddOne", "Adds one", {"type": "object"})
        reveal_type(service)  # expect: topchef_client.models.Service
        # Any Mapping will do for parameters.
        job = topchef.submit(service, collections.OrderedDict([("value", 3)]))
        reveal_type(job)  # expect: topchef_client.models.Job
        reveal_type(topchef.wait(job))  # expect: Any
    worker = AddOne.register_service(address, "AddOne", "Adds one", {"type": "object"})
    reveal_type(worker)  # expect: user_script.AddOne
    reveal_type(AddOne(address, service.id).start())  # expect: user_script.AddOne
    stats = worker.burst()
    reveal_type(stats)  # expect: topchef_client.health.WorkerStats
    reveal_type(stats.jobs_completed)  # expect: builtins.int
    reveal_type(worker.current_job)  # expect: Union[topchef_client.models.Job, None]
    reveal_type(worker.time_limit)  # expect: builtins.float
    done = worker.process_one()
    if done is not None:
        reveal_type(done.is_failed)  # expect: builtins.bool


def use(stats, job, service):
    # type: (WorkerStats, Job, Service) -> None
    reveal_type(job.result)  # expect: Union[builtins.dict[builtins.str, Any], None]
