"""topchef_client: Python client library for the TopChef job server."""
import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
