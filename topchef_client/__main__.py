"""``python -m topchef_client``: the ``topchef`` command (``demo``, ``worker``, ...)."""
import sys

from topchef_client import cli

if __name__ == "__main__":
    sys.exit(cli.main())
