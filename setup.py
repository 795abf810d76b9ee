# -*- coding: utf-8 -*-
"""Packaging for topchef_client.

This file must keep working on every supported interpreter (Python 2.7 and
3.6 - 3.13) with the setuptools that pip builds with there (setuptools 44 on
2.7, the newest release on 3.9+), so it sticks to plain ``setup()`` keywords
and avoids f-strings, pathlib and anything else newer than Python 2.7. The
one keyword that depends on the setuptools version is the license (see
``license_metadata``). pyproject.toml only names the build backend.

Dependencies are declared once, in requirements.txt (runtime) and
requirements-test.txt (the ``test`` extra); MANIFEST.in ships both files in the
sdist so that this script can read them again when building from it.
"""
import io
import os
import re

import setuptools
from setuptools import find_packages, setup

HERE = os.path.abspath(os.path.dirname(__file__))

#: Where the project lives (the Source URL is also the home of its issues).
SOURCE_URL = "https://github.com/TopChef/topchef_client"


def read_text(*parts):
    with io.open(os.path.join(HERE, *parts), encoding="utf-8") as handle:
        return handle.read()


def read_version():
    """Return ``__version__`` from topchef_client/__init__.py without importing it.

    Importing would need the runtime dependencies to be installed already.
    """
    match = re.search(
        r"""^__version__\s*=\s*['"]([^'"]+)['"]""",
        read_text("topchef_client", "__init__.py"),
        re.MULTILINE,
    )
    if match is None:
        raise RuntimeError("no __version__ = '...' in topchef_client/__init__.py")
    return match.group(1)


def read_requirements(filename):
    """Return the requirement lines of a pip requirements file.

    Only plain PEP 508 lines (with optional environment markers) are allowed;
    comments and blank lines are skipped. pip options such as ``-r``, ``-c`` or
    ``--index-url`` have no meaning in install_requires, so they are rejected
    rather than silently dropped.
    """
    requirements = []
    for raw_line in read_text(filename).splitlines():
        line = raw_line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise RuntimeError(
                "%s: pip options are not supported here: %r" % (filename, line)
            )
        requirements.append(line)
    return requirements


def read_long_description():
    try:
        return read_text("README.md")
    except (IOError, OSError):
        return ""


def license_metadata():
    """Return the setup() keywords and the classifiers that declare the MIT license.

    setuptools 77 and later write a PEP 639 ``License-Expression`` and flag a
    "License ::" classifier as deprecated (and as an error next to an
    expression). Older ones, such as the setuptools 44 of Python 2.7 and 59
    of Python 3.6, predate that field and warn about a ``license_expression``
    keyword they do not know, so they get the older pair: a free-text
    ``license`` and the classifier. Either way LICENSE goes into the sdist
    (MANIFEST.in) and into the wheel (the default license-file patterns of
    setuptools and of wheel both match it).
    """
    major = int(re.match(r"\d+", setuptools.__version__).group(0))
    if major >= 77:
        return {"license_expression": "MIT"}, []
    return {"license": "MIT"}, ["License :: OSI Approved :: MIT License"]


LICENSE_KEYWORDS, LICENSE_CLASSIFIERS = license_metadata()


setup(
    name="topchef_client",
    version=read_version(),
    description="Client library and worker for the TopChef REST job server",
    long_description=read_long_description(),
    long_description_content_type="text/markdown",
    project_urls={
        "Source": SOURCE_URL,
        "Issues": SOURCE_URL + "/issues",
    },
    packages=find_packages(exclude=["tests", "tests.*"]),
    package_data={"topchef_client": ["py.typed"]},
    include_package_data=True,
    zip_safe=False,
    python_requires=">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*, !=3.5.*",
    install_requires=read_requirements("requirements.txt"),
    extras_require={"test": read_requirements("requirements-test.txt")},
    entry_points={
        "console_scripts": [
            "topchef-worker = topchef_client.cli:worker_main",
            "topchef = topchef_client.cli:main",
        ],
        "pytest11": [
            "topchef_client = topchef_client.testing.pytest_plugin",
        ],
    },
    classifiers=LICENSE_CLASSIFIERS + [
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Programming Language :: Python",
        "Programming Language :: Python :: 2",
        "Programming Language :: Python :: 2.7",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.6",
        "Programming Language :: Python :: 3.7",
        "Programming Language :: Python :: 3.8",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: Implementation :: CPython",
        "Topic :: Internet :: WWW/HTTP",
        "Topic :: Software Development :: Libraries :: Python Modules",
        "Typing :: Typed",
    ],
    **LICENSE_KEYWORDS
)
