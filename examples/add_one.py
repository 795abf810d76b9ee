"""The README's AddOne worker, as written there.

Only the address and the service id come from the command line or the
environment instead of being typed into the file:

    python examples/add_one.py http://localhost:5000 <service id>
    TOPCHEF_ADDRESS=... TOPCHEF_SERVICE_ID=... python examples/add_one.py
"""
import os
import sys

from topchef_client import Client
import time

class AddOne(Client):
    def run(self, parameters):
        return {'value': parameters['value'] + 1}

service_address = sys.argv[1] if len(sys.argv) > 1 else os.environ['TOPCHEF_ADDRESS']

service_id = sys.argv[2] if len(sys.argv) > 2 else os.environ['TOPCHEF_SERVICE_ID']


if __name__ == '__main__':
    service = AddOne(service_address, service_id)

    service.start()

    while True:
        time.sleep(3600)
