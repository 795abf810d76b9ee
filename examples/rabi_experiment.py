"""A worker for a slow experiment whose parameters have two shapes.

A job is either a Rabi experiment (a pulse-length sweep) or a Ramsey
experiment (a delay sweep); the registration schema says which fields each
needs and their bounds, so ``run`` can trust what it gets. Register the
service and run its jobs with::

    python examples/rabi_experiment.py http://localhost:5000

and submit, for example, ``{"experiment": "rabi", "pulse_lengths": [0, 10, 20]}``.
"""
import math
import sys
import time

from topchef_client import Client

SWEEP = {"type": "array", "minItems": 1, "maxItems": 100}

JOB_REGISTRATION_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Rabi or Ramsey experiment",
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "experiment": {"enum": ["rabi"]},
                "pulse_lengths": dict(SWEEP, items={"type": "number", "minimum": 0,
                                                    "maximum": 1000}),
                "amplitude": {"type": "number", "exclusiveMinimum": True, "minimum": 0,
                              "maximum": 1, "default": 0.5},
            },
            "required": ["experiment", "pulse_lengths"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "experiment": {"enum": ["ramsey"]},
                "delays": dict(SWEEP, items={"type": "number", "minimum": 0,
                                             "maximum": 50000}),
                "detuning": {"type": "number", "minimum": -10, "maximum": 10},
            },
            "required": ["experiment", "delays", "detuning"],
            "additionalProperties": False,
        },
    ],
}

JOB_RESULT_SCHEMA = {
    "type": "object",
    "properties": {
        "experiment": {"enum": ["rabi", "ramsey"]},
        "populations": {"type": "array", "items": {"type": "number", "minimum": 0,
                                                   "maximum": 1}},
    },
    "required": ["experiment", "populations"],
}


class RabiRamsey(Client):
    """Simulates the measurement; a real worker would drive the instrument here."""

    seconds_per_point = 0.05

    def run(self, parameters):
        if parameters["experiment"] == "rabi":
            amplitude = parameters.get("amplitude", 0.5)
            points = [math.sin(amplitude * length / 20.0) ** 2
                      for length in parameters["pulse_lengths"]]
        else:
            detuning = parameters["detuning"]
            points = [0.5 + 0.5 * math.cos(detuning * delay / 1000.0)
                      for delay in parameters["delays"]]
        time.sleep(self.seconds_per_point * len(points))
        return {"experiment": parameters["experiment"], "populations": points}


if __name__ == "__main__":
    worker = RabiRamsey.register_service(sys.argv[1], "RabiRamsey",
                                         "Rabi or Ramsey sweeps on the qubit",
                                         JOB_REGISTRATION_SCHEMA, JOB_RESULT_SCHEMA)
    print("service id: %s" % worker.id)
    sys.stdout.flush()
    worker.serve_forever()
