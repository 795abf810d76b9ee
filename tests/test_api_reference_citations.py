"""Code comments cite docs/server-api.rst, and what they cite is there.

The project's comments and docstrings refer to the TopChef HTTP API
reference in two forms: ``docs/server-api.rst`` followed by a section sign
and a section number (2.4, 6...), and ``docs/server-api.rst quirk <name>``.
These tests read every such citation in the library, the tests, the
benchmarks, the examples and the docs, and check it against the headings of
the reference. They also look for citations of the document the reference
replaced, which lived outside the repository.
"""
from __future__ import unicode_literals

import io
import os
import re

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join("docs", "server-api.rst")
THIS_FILE = os.path.join("tests", os.path.basename(__file__).replace(".pyc", ".py"))

#: Where citations may be: (folder, file name ending).
SCANNED = (
    ("topchef_client", ".py"),
    ("tests", ".py"),
    ("benchmarks", ".py"),
    ("examples", ".py"),
    ("docs", ".rst"),
)
SKIPPED_FOLDERS = ("_build", "__pycache__", ".pytest_cache", ".hypothesis")

SECTION_SIGN = "\u00a7"
QUIRK_NAME = r"[a-z0-9]+(?:-[a-z0-9]+)+"

#: The numbered sections that the project's comments have always cited.
EXPECTED_SECTIONS = (
    "1", "2", "2.1", "2.2", "2.3", "2.4", "2.5",
    "3", "3.1", "3.2", "3.3", "3.4", "3.5",
    "4", "5", "6", "7", "8", "9",
)

# One item of a citation list: a section, a quirk, or another quirk name
# after a comma or "and" ("quirks heartbeat-404-text and head-405").
CITATION_ITEM = re.compile(
    r"\s*(?:(?:,|;|/|\band\b|\bor\b)\s*)?"
    r"(?:" + SECTION_SIGN + r"\s*(?P<section>\d+(?:\.\d+)*)"
    r"|\bquirks?\s+(?P<quirk>[\w-]+)"
    r"|(?P<more>" + QUIRK_NAME + r")\b)")

# A comment or docstring that goes on over the next line, as "\n    # " does.
LINE_BREAK = re.compile(r"\s*\n\s*(?:#+\s*)?")

#: Ways in which the code used to cite the outside document. A line that
#: names docs/server-api.rst is exempt from the "section N" pattern only.
OLD_CITATIONS = (
    ("the outside document", re.compile(r"topchef-http-api\.md", re.I)),
    ("'the spec'", re.compile(r"\bthe\s+spec\b", re.I)),
    ("'spec section N'", re.compile(
        r"\bspec(?:'s)?\s+(?:sections?|quirks?|table)\b", re.I)),
    ("'spec' and a number", re.compile(r"\bspecs?\s+\d", re.I)),
    ("a quirk by number", re.compile(r"\bquirks?\s+\d+", re.I)),
    ("'section' and a number", re.compile(
        r"(?<!RFC )(?<!\d )\bsections?\s+\d+(?:\.\d+)*", re.I)),
)


def read(relative_path):
    with io.open(os.path.join(REPO_ROOT, relative_path), encoding="utf-8") as text:
        return text.read()


def scanned_files():
    """The relative paths of the files that may cite the reference, sorted."""
    found = []
    for folder, ending in SCANNED:
        for directory, folders, files in os.walk(os.path.join(REPO_ROOT, folder)):
            folders[:] = sorted(name for name in folders if name not in SKIPPED_FOLDERS)
            for name in files:
                if name.endswith(ending):
                    path = os.path.relpath(os.path.join(directory, name), REPO_ROOT)
                    if path != REFERENCE:
                        found.append(path)
    return sorted(found)


def headings(text):
    """The titles of the reStructuredText sections of a text, in order."""
    underline = re.compile(r"([=\-~^\"'`#*+.:_])\1+\s*$")
    lines = text.splitlines()
    titles = []
    for index in range(len(lines) - 1):
        title, below = lines[index], lines[index + 1]
        if (title.strip() and not title[0].isspace() and not underline.match(title)
                and underline.match(below) and len(below.rstrip()) >= len(title.rstrip())):
            titles.append(title.strip())
    return titles


def reference_sections():
    """The numbers of the reference's numbered headings ("2.4 Representations")."""
    numbers = []
    for title in headings(read(REFERENCE)):
        match = re.match(r"(\d+(?:\.\d+)*) \S", title)
        if match:
            numbers.append(match.group(1))
    return numbers


def reference_quirks():
    """The names of the reference's quirk entries ("Quirk empty-queue-204")."""
    names = []
    for title in headings(read(REFERENCE)):
        match = re.match(r"Quirk (" + QUIRK_NAME + r")$", title)
        if match:
            names.append(match.group(1))
    return names


def citations(text):
    """Every (line number, kind, value) that a text cites of the reference.

    ``kind`` is "section" or "quirk". A citation may list several items
    ("server-api.rst section-sign 2.4 and section-sign 3.3", "quirks a-b, c-d")
    and may go on over the next line of a comment.
    """
    found = []
    for start in re.finditer(r"server-api\.rst", text):
        line = text.count("\n", 0, start.start()) + 1
        tail = LINE_BREAK.sub(" ", text[start.end():start.end() + 400])
        position, in_quirk_list = 0, False
        while True:
            item = CITATION_ITEM.match(tail, position)
            if not item or (item.group("more") and not in_quirk_list):
                break
            if item.group("section"):
                found.append((line, "section", item.group("section")))
                in_quirk_list = False
            else:
                found.append((line, "quirk", item.group("quirk") or item.group("more")))
                in_quirk_list = True
            position = item.end()
    return found


def old_citations(text):
    """Every (line number, what, line) of a text that cites the old document."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for what, pattern in OLD_CITATIONS:
            if what.startswith("'section'") and "server-api" in line:
                continue
            if pattern.search(line):
                found.append((number, what, line.strip()))
                break
    return found


def test_the_citation_scanner_reads_lists_and_lines_that_go_on():
    text = (
        "x = 1  # see docs/server-api.rst \u00a72.4, \u00a73.3 and\n"
        "       # \u00a76 for this\n"
        '"""As docs/server-api.rst quirks empty-queue-204 and head-405 say."""\n'
        "# docs/server-api.rst quirk\n"
        "#   non-json-bodies: the end. docs/server-api.rst on its own.\n"
    )
    assert citations(text) == [
        (1, "section", "2.4"), (1, "section", "3.3"), (1, "section", "6"),
        (3, "quirk", "empty-queue-204"), (3, "quirk", "head-405"),
        (4, "quirk", "non-json-bodies"),
    ]


def test_the_old_citation_scanner_finds_each_old_form_and_spares_the_new():
    text = (
        "# spec section 2.4\n"
        "# (spec 2.5; quirks 5, 6)\n"
        "# the spec's quirk table\n"
        "# see /work/shared/topchef-http-api.md\n"
        "# (section 6 quirk 14)\n"
        "# (section 3.2)\n"
        "# docs/server-api.rst \u00a72.4 and quirk empty-queue-204\n"
        "# RFC 7230 section 3.5 allows it\n"
        "spec = module_spec(name)\n"
    )
    assert [number for number, _, _ in old_citations(text)] == [1, 2, 3, 4, 5, 6]


def test_the_reference_has_every_section_number_that_the_project_cites_by_habit():
    sections = reference_sections()
    missing = [number for number in EXPECTED_SECTIONS if number not in sections]
    assert not missing, "docs/server-api.rst lacks the numbered headings %s" % ", ".join(missing)
    assert len(sections) == len(set(sections)), "a section number is used twice"


def test_each_quirk_entry_has_the_sphinx_label_of_its_name():
    text = read(REFERENCE)
    names = reference_quirks()
    assert names, "docs/server-api.rst has no 'Quirk <name>' headings"
    assert len(names) == len(set(names)), "a quirk name is used twice"
    unlabelled = [name for name in names if not re.search(
        r"^\.\. _quirk-%s:\s*\n\s*\nQuirk %s\n" % (re.escape(name), re.escape(name)),
        text, re.M)]
    assert not unlabelled, (
        "quirk entries without their label just above: %s" % ", ".join(unlabelled))


def test_every_section_and_quirk_that_a_file_cites_exists_in_the_reference():
    sections, quirks = set(reference_sections()), set(reference_quirks())
    broken = []
    for path in scanned_files():
        for line, kind, value in citations(read(path)):
            if value not in (sections if kind == "section" else quirks):
                shown = SECTION_SIGN + value if kind == "section" else "quirk " + value
                broken.append("%s:%d: docs/server-api.rst %s" % (path, line, shown))
    assert not broken, (
        "%d citations name a section or quirk that docs/server-api.rst does not have:\n%s"
        % (len(broken), "\n".join(broken)))


def test_a_python_file_with_a_section_sign_declares_its_encoding_for_python_2():
    # Python 2.7 refuses to compile a file with a byte above 127 unless its
    # first or second line declares the encoding (PEP 263).
    declaration = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
    undeclared = []
    for path in scanned_files():
        if not path.endswith(".py"):
            continue
        text = read(path)
        if SECTION_SIGN in text and not any(
                declaration.match(line) for line in text.splitlines()[:2]):
            line = text.count("\n", 0, text.index(SECTION_SIGN)) + 1
            undeclared.append("%s:%d" % (path, line))
    assert not undeclared, (
        "files that cite a section with the section sign but do not start with "
        "'# -*- coding: utf-8 -*-', so Python 2.7 cannot import them:\n%s"
        % "\n".join(undeclared))


def test_no_comment_or_docstring_still_cites_the_old_outside_document():
    remaining = []
    for path in scanned_files():
        if path == THIS_FILE:
            continue
        for line, what, text in old_citations(read(path)):
            remaining.append("%s:%d: %s: %s" % (path, line, what, text))
    assert not remaining, (
        "%d lines still cite the old outside document; cite docs/server-api.rst "
        "with a section sign and number, or 'quirk <name>', instead:\n%s"
        % (len(remaining), "\n".join(remaining)))
