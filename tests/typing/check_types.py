"""Run mypy on ``user_script.py`` and check each revealed type against its ``# expect:``.

    python tests/typing/check_types.py      (exit status 0: every type as expected)

It needs mypy (requirements-typing.txt); CI runs it with the type check.
"""
import io
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "user_script.py")
#: mypy runs from the checkout's root, where it finds the package's source.
ROOT = os.path.dirname(os.path.dirname(HERE))


def expected_types():
    """``{line number: type}`` from the script's ``# expect:`` comments."""
    expected = {}
    with io.open(SCRIPT, encoding="utf-8") as source:
        for number, line in enumerate(source, 1):
            found = re.search(r"# expect: (.+)$", line)
            if found:
                expected[number] = normal(found.group(1).strip())
    return expected


def normal(type_text):
    """A type as mypy spells it, the same whatever mypy version spelled it."""
    type_text = type_text.replace("?", "").replace("builtins.", "")
    found = re.match(r"^(?:Union\[(.+), None\]|Optional\[(.+)\])$", type_text)
    return "%s | None" % (found.group(1) or found.group(2)) if found else type_text


def revealed_types(output):
    """``{line number: type}`` from mypy's "Revealed type is" notes."""
    revealed = {}
    for line in output.splitlines():
        found = re.match(r'.*user_script\.py:(\d+): note: Revealed type is "(.+)"$', line)
        if found:
            revealed[int(found.group(1))] = normal(found.group(2))
    return revealed


def main():
    process = subprocess.Popen(
        [sys.executable, "-m", "mypy", "--no-incremental", "--show-column-numbers",
         "--hide-error-context", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        cwd=ROOT)
    output = process.communicate()[0].decode("utf-8", "replace")
    errors = [line for line in output.splitlines() if ": error:" in line]
    expected, revealed = expected_types(), revealed_types(
        re.sub(r"(py:\d+):\d+:", r"\1:", output))
    wrong = ["line %d: expected %s, mypy says %s" % (number, want, revealed.get(number))
             for number, want in sorted(expected.items()) if revealed.get(number) != want]
    for problem in errors + wrong:
        print(problem)
    print("%d revealed type(s) checked, %d wrong, %d mypy error(s)"
          % (len(expected), len(wrong), len(errors)))
    return 1 if errors or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
