"""A pytest plugin (loaded by tests/conftest.py): under CI=true a skip is a failure.

`make test` installs every component the tests need, so in CI a skip means something is
missing. components.missing_component already fails such tests itself; this catches every
other way to skip (pytest.skip, skipif, importorskip, a skipping fixture). A test marked
`@pytest.mark.allowed_skip(reason=...)` may still skip; expected failures (xfail) are left alone.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from tests.integration.components import in_ci

ALLOWED_SKIP = "allowed_skip"
HOW = f"mark the test @pytest.mark.{ALLOWED_SKIP}(reason=...) if it may skip in CI"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    """Turn a skipped test's report into a failure under CI=true, unless it is allowed."""
    outcome: Any = yield
    report: pytest.TestReport = outcome.get_result()
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    allowed = item.get_closest_marker(ALLOWED_SKIP)
    if allowed is not None and str(allowed.kwargs.get("reason", "")).strip():
        return
    why = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"CI=true: skipped ({why}); " + (
        f"@pytest.mark.{ALLOWED_SKIP} needs reason=..." if allowed is not None else HOW
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None]:
    """A whole module skipped while it is collected (a module-level skip or importorskip)
    fails under CI=true too; no marker can allow that, as markers are not read yet."""
    outcome: Any = yield
    report: pytest.CollectReport = outcome.get_result()
    if report.skipped and in_ci():
        why = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true: {collector.nodeid} skipped while collected ({why})"
