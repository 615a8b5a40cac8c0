"""The CI guard (tests/ci_guard.py) on a small test session of its own: skips fail under
CI=true unless marked allowed_skip with a reason; outside CI they stay skips."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SESSION = """
import pytest

def test_plain_skip():
    pytest.skip("no widget here")

@pytest.mark.skipif(True, reason="never on this machine")
def test_skipif():
    pass

@pytest.fixture
def widget():
    pytest.skip("the fixture found no widget")

def test_fixture_skip(widget):
    pass

@pytest.mark.allowed_skip(reason="needs hardware CI never has")
def test_allowed():
    pytest.skip("no hardware")

@pytest.mark.allowed_skip
def test_allowed_without_reason():
    pytest.skip("no hardware")

@pytest.mark.xfail(reason="known bug")
def test_expected_failure():
    assert False

def test_passes():
    pass
"""

INI = """
[pytest]
markers =
    allowed_skip(reason): may skip under CI=true
"""


def run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> pytest.RunResult:
    pytester.makepyfile(test_session=SESSION)
    pytester.makeini(INI)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    return pytester.runpytest_inprocess("-p", "tests.ci_guard", "-rA", "--strict-markers")


def test_under_ci_a_skip_fails_unless_allowed_with_a_reason(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(pytester, monkeypatch, "true")
    # A skip in setup (skipif, a fixture) fails the setup: pytest reports that as an error.
    result.assert_outcomes(failed=2, errors=2, skipped=1, xfailed=1, passed=1)
    for line in (
        "FAILED test_session.py::test_plain_skip - CI=true: skipped (Skipped: no widget here)*",
        "ERROR test_session.py::test_skipif - CI=true: skipped*never on this machine*",
        "ERROR test_session.py::test_fixture_skip - CI=true: skipped*no widget*",
        "FAILED test_session.py::test_allowed_without_reason - *allowed_skip needs reason=...",
        "SKIPPED [[]1[]] test_session.py:*: no hardware",
        "XFAIL test_session.py::test_expected_failure - known bug",
    ):
        result.stdout.fnmatch_lines([line])


def test_outside_ci_skips_stay_skips(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(pytester, monkeypatch, None)
    result.assert_outcomes(skipped=5, xfailed=1, passed=1)


def test_a_module_skipped_at_collection_fails_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_gone='import pytest\npytest.importorskip("no_such_module_here")\n')
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest_inprocess("-p", "tests.ci_guard")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CI=true: test_gone.py skipped while collected*"])
