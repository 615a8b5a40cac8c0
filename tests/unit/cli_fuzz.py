"""Fuzzing the CLI (issue 11): every command that takes a value, fed generated values through
Typer's runner. Each answer must carry a documented exit status other than 1 (an internal
error), and a refused command must leave the database as it was.

Shared by tests/unit/test_cli_fuzz.py (a bounded, seeded run) and benchmarks/cli_fuzz.py (a
longer one).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hypothesis
from hypothesis import strategies as st
from typer.testing import CliRunner

from presence.cli.app import app
from presence.core.errors import ExitCode, PresenceError

DOCUMENTED = frozenset(int(c) for c in ExitCode) - {int(ExitCode.ERROR)}
"""Every status docs/cli.md lists, except 1 (an internal error: a bug)."""
DEVICE = "fuzzbox"

# Values people (and scripts) get wrong: overflow, extremes, empty, odd units and dates.
EXTREMES = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "59",
    "60",
    "1e309",
    "inf",
    "-inf",
    "nan",
    "1.5h",
    "1d2h",
    "7d",
    "8d",
    "99h",
    "24h",
    "25h",
    "99999999999h",
    "99999999999999h",
    "1000000000000000000000s",
    "0001-01-01",
    "0001-01-02",
    "1969-12-31",
    "1970-01-01",
    "9998-12-31",
    "9999-12-01",
    "9999-12-31",
    "2001-01-01",
    "2026-02-30",
    "24:00",
    "23:59:60",
    "-1:00",
    "00:00",
    "daily",
    "mon-sun",
    "sun-mon",
    "none",
    "all",
    "(",
    "[a-",
    "a**",
    "\\",
    "\\\\d+",
    "é",
    "😀",
    "\t",
    "\n",
    "\x1b[31mred",
    "--help",
    "-",
    "x" * 300,
    "y" * 5000,
    "a,,b,",
    "firefox",
    "other",
    "lock-test",
]


def values() -> st.SearchStrategy[str]:
    """A value for any option: an extreme, a made-up duration or date, or arbitrary text
    (no NUL: an argv cannot hold one)."""
    chars = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
    text = st.text(chars, max_size=40)
    units = st.sampled_from(["", "s", "m", "h", "d", "x"])
    return st.one_of(
        st.sampled_from(EXTREMES),
        st.builds(lambda n, u: f"{n}{u}", st.integers(-(10**25), 10**25), units),
        st.builds(lambda n, u: f"{n}{u}", st.floats(allow_nan=True), units),
        st.builds(
            lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
            st.integers(0, 9999),
            st.integers(0, 13),
            st.integers(0, 32),
        ),
        st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(-1, 30), st.integers(0, 99)),
        text,
        st.text(chars, min_size=256, max_size=2000),
    )


Command = Callable[[str, Path], list[str]]


def _rule_option(option: str) -> Command:
    return lambda v, _: [
        "rules",
        "add",
        "tech-free",
        "fuzzed",
        "--days",
        "daily",
        "--start",
        "22:00",
        "--end",
        "06:00",
        option,
        v,
    ]


def _limit_option(option: str) -> Command:
    return lambda v, _: [
        "rules",
        "add",
        "limit",
        "fuzzlimit",
        "--apps",
        "firefox",
        "--per-day",
        "1h",
        option,
        v,
    ]


def _edit_option(option: str) -> Command:
    return lambda v, _: ["rules", "edit", "evening", option, v]


def _import(v: str, tmp: Path) -> list[str]:
    file = tmp / "import.toml"
    file.write_text(v, encoding="utf-8", errors="surrogateescape")
    return ["rules", "import", str(file)]


COMMANDS: dict[str, Command] = {
    "today --device": lambda v, _: ["today", "--device", v],
    "report --date": lambda v, _: ["report", "--date", v],
    "report --month --date": lambda v, _: ["report", "--month", "--date", v],
    "report --day --date": lambda v, _: ["report", "--day", "--date", v],
    "report --from": lambda v, _: ["report", "--from", v],
    "report --from --to": lambda v, _: ["report", "--from", "2026-01-01", "--to", v],
    "report --by": lambda v, _: ["report", "--by", v],
    "report --format": lambda v, _: ["report", "--format", v],
    "report --html": lambda v, tmp: ["report", "--day", "--html", str(tmp / "html" / v)],
    "trends --date": lambda v, _: ["trends", "--date", v],
    "trends --weeks": lambda v, _: ["trends", "--weeks", v],
    "pause DURATION": lambda v, _: ["pause", v],
    "pause --reason": lambda v, _: ["pause", "1m", "--reason", v],
    "snooze DURATION": lambda v, _: ["snooze", v],
    "snooze --rule": lambda v, _: ["snooze", "--rule", v],
    "snooze --reason": lambda v, _: ["snooze", "1m", "--reason", v],
    "override RULE": lambda v, _: ["override", v, "--reason", "testing"],
    "override --reason": lambda v, _: ["override", "evening", "--reason", v],
    "focus DURATION": lambda v, _: ["focus", v, "--apps", "firefox"],
    "focus --apps": lambda v, _: ["focus", "25m", "--apps", v],
    "focus --categories": lambda v, _: ["focus", "25m", "--categories", v],
    "focus --allow": lambda v, _: ["focus", "25m", "--allow", v],
    "focus --action": lambda v, _: ["focus", "25m", "--apps", "firefox", "--action", v],
    "focus --name": lambda v, _: ["focus", "25m", "--apps", "firefox", "--name", v],
    "categories add NAME": lambda v, _: ["categories", "add", v, "--app", "foo"],
    "categories add --app": lambda v, _: ["categories", "add", "fuzzcat", "--app", v],
    "categories add --title": lambda v, _: ["categories", "add", "fuzzcat", "--title", v],
    "categories remove NAME": lambda v, _: ["categories", "remove", v],
    "categories test TEXT": lambda v, _: ["categories", "test", v],
    "categories test TITLE": lambda v, _: ["categories", "test", "firefox", v],
    "rules add KIND": lambda v, _: ["rules", "add", v, "fuzzed", "--days", "daily"],
    "rules add NAME": lambda v, _: [
        "rules",
        "add",
        "tech-free",
        v,
        "--days",
        "daily",
        "--start",
        "22:00",
        "--end",
        "06:00",
    ],
    **{
        f"rules add {o}": _rule_option(o)
        for o in (
            "--days",
            "--on",
            "--start",
            "--end",
            "--device",
            "--action",
            "--warn",
            "--grace",
            "--apps",
        )
    },
    **{
        f"rules add limit {o}": _limit_option(o)
        for o in ("--per-day", "--categories", "--allow", "--warn")
    },
    "rules add break --after": lambda v, _: ["rules", "add", "break", "fuzzbreak", "--after", v],
    "rules add device-free --device": lambda v, _: [
        "rules",
        "add",
        "device-free",
        "fuzzdf",
        "--on",
        "2099-01-01",
        "--start",
        "09:00",
        "--end",
        "10:00",
        "--device",
        v,
    ],
    **{
        f"rules edit {o}": _edit_option(o)
        for o in (
            "--days",
            "--on",
            "--start",
            "--end",
            "--warn",
            "--grace",
            "--action",
            "--device",
            "--apps",
        )
    },
    "rules edit NAME": lambda v, _: ["rules", "edit", v, "--end", "07:00"],
    "rules show NAME": lambda v, _: ["rules", "show", v],
    "rules remove NAME": lambda v, _: ["rules", "remove", v],
    "rules enable NAME": lambda v, _: ["rules", "enable", v],
    "rules disable NAME": lambda v, _: ["rules", "disable", v],
    "rules export -o": lambda v, tmp: ["rules", "export", "-o", str(tmp / "export" / v)],
    "rules import FILE": lambda v, tmp: ["rules", "import", str(tmp / v)],
    "rules import content": _import,
    "rules next -n": lambda v, _: ["rules", "next", "-n", v],
    "rules next --days": lambda v, _: ["rules", "next", "--days", v],
    "config -c": lambda v, tmp: ["-c", str(tmp / v), "config", "check"],
}


@dataclass(frozen=True, slots=True)
class Answer:
    code: int
    output: str
    internal: BaseException | None  # an exception main() would call an internal error


class FuzzHome:
    """A private home (config, data, runtime dirs under a temp dir) with a seeded database:
    a device, a rule named `evening` and a category. Sets the XDG variables while open."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="presence-fuzz-"))
        self.runner = CliRunner()
        self._saved: dict[str, str | None] = {}

    def __enter__(self) -> FuzzHome:
        env = {"XDG_CONFIG_HOME": "cfg", "XDG_DATA_HOME": "data", "XDG_RUNTIME_DIR": "run"}
        for var, sub in env.items():
            (self.root / sub).mkdir(mode=0o700)
            self._saved[var] = os.environ.get(var)
            os.environ[var] = str(self.root / sub)
        for var in ("PRESENCE_CONFIG", "PRESENCE_DATA_DIR", "PRESENCE_DEBUG", "TZ"):
            self._saved[var] = os.environ.pop(var, None)
        config = self.root / "cfg" / "presence" / "config.toml"
        config.parent.mkdir()
        config.write_text(f'[device]\nname = "{DEVICE}"\n[reports]\ntimezone = "UTC"\n')
        for args in (
            [
                "rules",
                "add",
                "tech-free",
                "evening",
                "--days",
                "daily",
                "--start",
                "22:00",
                "--end",
                "06:00",
            ],
            ["categories", "add", "reading", "--app", "foliate"],
            ["pause", "1s", "--reason", "seed"],
        ):
            answer = self.invoke(args)
            assert answer.code == 0, (args, answer)
        (self.root / "html").mkdir()
        (self.root / "export").mkdir()
        return self

    def __exit__(self, *_: object) -> None:
        for var, value in self._saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def database(self) -> Path:
        return self.root / "data" / "presence" / "presence.db"

    def invoke(self, args: list[str]) -> Answer:
        """Run `presence ARGS` as main() would: a PresenceError is its exit status."""
        result = self.runner.invoke(app, args)
        exc = result.exception
        if exc is None or isinstance(exc, SystemExit):
            return Answer(result.exit_code, result.output, None)
        if isinstance(exc, PresenceError):
            return Answer(int(exc.exit_code), exc.message, None)
        return Answer(int(ExitCode.ERROR), result.output, exc)

    def dump(self) -> list[tuple[str, list[tuple[object, ...]]]]:
        """Every table's rows, sorted: what "unchanged" is checked against."""
        with sqlite3.connect(self.database) as db:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return [
                (n, sorted(db.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr))
                for n in sorted(names)
            ]


def check(home: FuzzHome, name: str, value: str) -> int:
    """Run one command with one value; returns the exit status. Raises AssertionError when
    the status is undocumented or an internal error, or a refused command changed the
    database."""
    args = COMMANDS[name](value, home.root)
    before = home.dump()
    answer = home.invoke(args)
    assert answer.internal is None, f"{args!r}: internal error {answer.internal!r}"
    assert answer.code in DOCUMENTED, f"{args!r}: exit {answer.code}: {answer.output}"
    if answer.code != 0:
        assert home.dump() == before, f"{args!r} was refused (exit {answer.code}) but wrote"
    return answer.code


@contextmanager
def fuzz_home() -> Iterator[FuzzHome]:
    with FuzzHome() as home:
        yield home


def run(examples: int, seed: int = 11) -> dict[str, float]:
    """`examples` generated cases per command, seeded; returns how many ended in each exit
    status. Raises AssertionError on the first bad answer (hypothesis shrinks it first)."""
    counts: Counter[int] = Counter()
    with fuzz_home() as home:
        for name in COMMANDS:
            _fuzz_one(home, name, examples, seed, counts)
    return {"cases": float(sum(counts.values()))} | {
        f"exit_{code}": float(n) for code, n in sorted(counts.items())
    }


def _fuzz_one(home: FuzzHome, name: str, examples: int, seed: int, counts: Counter[int]) -> None:
    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(value=values())
    def one(value: str) -> None:
        counts[check(home, name, value)] += 1

    one()
