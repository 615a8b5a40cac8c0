"""`presence service`: unit and autostart texts, and install/uninstall/status/logs against a
fake systemctl (the real unit is verified by systemd-analyze in tests/integration)."""

from __future__ import annotations

import stat
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from presence.cli import service as service_cli
from presence.core.errors import ExitCode, ServiceError
from presence.install import service
from presence.install.service import Completed, ServiceFiles
from presence.install.service_files import (
    DESKTOP_NAME,
    UNIT_NAME,
    desktop_text,
    source_tree_texts,
    systemd_exec,
    unit_text,
)
from tests.unit.entry_point import run_presence

REPO = Path(__file__).resolve().parents[2]
COMMAND = ["/opt/presence/bin/presence", "run"]


class FakeSystemctl:
    """Answers like `systemctl --user` / `journalctl --user`; records every call."""

    def __init__(self, environment: str | None = "HOME=/home/u\nDISPLAY=:0\n") -> None:
        self.environment = environment  # None: no user manager
        self.calls: list[list[str]] = []
        self.failing: dict[str, Completed] = {}
        self.show = "LoadState=loaded\nUnitFileState=enabled\nActiveState=active\n"

    def __call__(self, argv: Sequence[str], *, capture: bool = True) -> Completed:
        self.calls.append([*argv, *([] if capture else ["<terminal>"])])
        verb = argv[2] if argv[0] == "systemctl" else argv[0]
        if verb in self.failing:
            return self.failing[verb]
        if verb == "show-environment":
            if self.environment is None:
                return Completed(1, stderr="Failed to connect to bus: No medium found\n")
            return Completed(0, stdout=self.environment)
        if verb == "show":
            return Completed(0, stdout=self.show)
        return Completed(0)

    def verbs(self) -> list[str]:
        return [" ".join(c[2:]) if c[0] == "systemctl" else " ".join(c) for c in self.calls]


@pytest.fixture
def files(tmp_path: Path) -> ServiceFiles:
    return ServiceFiles.resolve({"XDG_CONFIG_HOME": str(tmp_path / "cfg")})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# the texts -------------------------------------------------------------------------------


def test_source_tree_files_are_the_rendered_texts() -> None:
    texts = source_tree_texts()
    assert (REPO / "systemd" / UNIT_NAME).read_text() == texts[UNIT_NAME], "run `make docs`"
    assert (REPO / "systemd" / DESKTOP_NAME).read_text() == texts[DESKTOP_NAME], "run `make docs`"
    home = Path("/home/someone")
    rendered = unit_text(systemd_exec([f"{home}/.local/bin/presence", "run"], home))
    assert rendered == texts[UNIT_NAME]


def test_unit_runs_as_a_notify_service_of_the_graphical_session() -> None:
    unit = source_tree_texts()[UNIT_NAME]
    for line in (
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=30",
        "Restart=on-failure",
        "RestartSec=5",
        "PartOf=graphical-session.target",
        "After=graphical-session.target",
        "WantedBy=graphical-session.target",
        "ExecStart=%h/.local/bin/presence run",
        "PrivateTmp=no",
        "NoNewPrivileges=yes",
    ):
        assert line in unit.splitlines(), line
    assert "DISPLAY" not in "\n".join(ln for ln in unit.splitlines() if not ln.startswith("#"))


def test_odd_paths_are_escaped_for_systemd_and_desktop_files() -> None:
    home = Path("/home/u")
    assert systemd_exec(["/home/u/my bin/presence", "run"], home) == '"%h/my bin/presence" run'
    assert systemd_exec(["/opt/100%/presence", "a$b"], home) == "/opt/100%%/presence a$$b"
    desktop = desktop_text(["/opt/my apps/pre$ence", "run"])
    assert 'Exec="/opt/my apps/pre\\\\$ence" run' in desktop.splitlines()
    assert "TryExec=/opt/my apps/pre$ence" in desktop.splitlines()


def test_presence_command_prefers_the_console_script() -> None:
    assert service.presence_command(lambda _: "/x/bin/presence", "/py") == [
        "/x/bin/presence",
        "run",
    ]
    assert service.presence_command(lambda _: None, "/py") == ["/py", "-m", "presence", "run"]


def test_files_follow_xdg_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ServiceFiles.resolve({"XDG_CONFIG_HOME": "/c"}).unit == Path(
        "/c/systemd/user/presence.service"
    )
    relative = ServiceFiles.resolve({"XDG_CONFIG_HOME": "relative/dir"})  # ignored, per XDG
    assert relative.autostart == tmp_path / ".config" / "autostart" / "presence.desktop"


# install ---------------------------------------------------------------------------------


def test_install_writes_the_unit_and_enables_it(files: ServiceFiles, tmp_path: Path) -> None:
    files.autostart.parent.mkdir(parents=True)
    files.autostart.write_text("old entry")
    fake = FakeSystemctl()
    report = service.install(files, COMMAND, fake, {"DISPLAY": ":0"}, home=tmp_path)
    assert fake.verbs() == ["show-environment", "daemon-reload", "enable --now presence.service"]
    assert files.unit.read_text() == unit_text("/opt/presence/bin/presence run")
    assert mode(files.unit) == 0o644
    assert report.mechanism == "systemd" and report.removed == [files.autostart]
    assert not files.autostart.exists()  # two starters would race for the session lock
    assert report.missing == [] and report.imported == []


def test_install_imports_the_display_the_manager_lacks(files: ServiceFiles) -> None:
    fake = FakeSystemctl(environment="HOME=/home/u\n")
    session = {"DISPLAY": ":1", "XAUTHORITY": "/home/u/.Xauthority"}
    report = service.install(files, COMMAND, fake, session)
    assert fake.verbs() == [
        "show-environment",
        "import-environment DISPLAY XAUTHORITY",  # before the start, so it sees the display
        "daemon-reload",
        "enable --now presence.service",
    ]
    assert report.imported == ["DISPLAY", "XAUTHORITY"]
    assert report.missing == ["DISPLAY", "XAUTHORITY"]  # still needed at the next login
    hint = service.import_hint(report.missing)
    assert "systemctl --user import-environment DISPLAY XAUTHORITY" in hint
    assert "dbus-update-activation-environment --systemd DISPLAY XAUTHORITY" in hint


def test_install_imports_a_wayland_session(files: ServiceFiles) -> None:
    """Issue 9: a Wayland session's display, type and compositor reach the user service."""
    fake = FakeSystemctl(environment="HOME=/home/u\n")
    session = {
        "WAYLAND_DISPLAY": "wayland-1",
        "XDG_SESSION_TYPE": "wayland",
        "XDG_CURRENT_DESKTOP": "sway",
        "SWAYSOCK": "/run/user/1000/sway-ipc.1000.42.sock",
    }
    report = service.install(files, COMMAND, fake, session)
    imported = "WAYLAND_DISPLAY XDG_SESSION_TYPE XDG_CURRENT_DESKTOP SWAYSOCK"
    assert fake.verbs()[:2] == ["show-environment", f"import-environment {imported}"]
    assert report.imported == imported.split()
    assert "DISPLAY" not in report.missing  # a Wayland display is enough


def test_install_without_any_display_only_explains(files: ServiceFiles) -> None:
    fake = FakeSystemctl(environment="HOME=/home/u\n")
    report = service.install(files, COMMAND, fake, {})
    assert "import-environment" not in " ".join(fake.verbs())
    assert report.missing == ["DISPLAY"] and report.imported == []


@pytest.mark.parametrize(
    "answer",
    [
        Completed(1, stderr="Failed to connect to bus: No medium found"),
        Completed(127, stderr="systemctl: command not found"),
    ],
)
def test_without_a_user_manager_install_writes_the_autostart_entry(
    files: ServiceFiles, answer: Completed
) -> None:
    fake = FakeSystemctl()
    fake.failing["show-environment"] = answer
    report = service.install(files, COMMAND, fake, {"DISPLAY": ":0"})
    assert fake.verbs() == ["show-environment"]
    assert report.mechanism == "autostart" and report.written == files.autostart
    assert files.autostart.read_text() == desktop_text(COMMAND)
    assert mode(files.autostart) == 0o644
    assert not files.unit.exists()
    assert report.fallback_reason


def test_a_start_failure_is_a_service_error_with_a_hint(files: ServiceFiles) -> None:
    fake = FakeSystemctl()
    fake.failing["enable"] = Completed(1, stderr="Job for presence.service failed.\n")
    with pytest.raises(ServiceError) as caught:
        service.install(files, COMMAND, fake, {"DISPLAY": ":0"})
    assert "Job for presence.service failed." in caught.value.message
    assert caught.value.hint and "presence service logs" in caught.value.hint
    assert files.unit.exists()  # kept, for inspection


# uninstall, status, logs ------------------------------------------------------------------


def test_uninstall_disables_and_removes_both_files(files: ServiceFiles) -> None:
    service.install(files, COMMAND, FakeSystemctl(), {"DISPLAY": ":0"})
    files.autostart.parent.mkdir(parents=True)
    files.autostart.write_text("entry")
    fake = FakeSystemctl()
    report = service.uninstall(files, fake, daemon_pid=None)
    assert fake.verbs() == [
        "show-environment",
        "disable --now presence.service",
        "daemon-reload",
    ]
    assert report.removed == [files.unit, files.autostart]
    assert not files.unit.exists() and not files.autostart.exists()


def test_uninstall_failure_keeps_the_unit(files: ServiceFiles) -> None:
    service.install(files, COMMAND, FakeSystemctl(), {"DISPLAY": ":0"})
    fake = FakeSystemctl()
    fake.failing["disable"] = Completed(1, stderr="Access denied")
    with pytest.raises(ServiceError, match="Access denied"):
        service.uninstall(files, fake, daemon_pid=None)
    assert files.unit.exists()


def test_uninstall_of_the_autostart_entry_names_the_running_daemon(files: ServiceFiles) -> None:
    service.install(files, COMMAND, FakeSystemctl(environment=None), {})
    report = service.uninstall(files, FakeSystemctl(environment=None), daemon_pid=4242)
    assert report.removed == [files.autostart]
    assert any("kill 4242" in note for note in report.notes)


def test_status_reads_the_unit_properties(files: ServiceFiles) -> None:
    fake = FakeSystemctl()
    state = service.status(files, fake, daemon_pid=7)
    show = fake.calls[-1]
    assert show[:4] == ["systemctl", "--user", "show", "presence.service"]
    assert "ActiveState" in show[4] and "UnitFileState" in show[4]
    assert state.unit["ActiveState"] == "active" and state.unit["UnitFileState"] == "enabled"
    assert state.manager == "" and state.unit_file is None and state.daemon_pid == 7
    assert service.status(files, FakeSystemctl(environment=None), None).manager


def test_logs_pass_journalctl_through(files: ServiceFiles) -> None:
    fake = FakeSystemctl()
    service.logs(fake, 20, follow=True)
    assert fake.calls == [
        ["journalctl", "--user", "-u", "presence.service", "-n", "20", "-f", "<terminal>"]
    ]
    fake.failing["journalctl"] = Completed(127)
    with pytest.raises(ServiceError) as caught:
        service.logs(fake, 20, follow=False)
    assert caught.value.exit_code == ExitCode.BACKEND and caught.value.hint


def test_the_real_runner_reports_a_missing_program_as_127() -> None:
    assert service.run_command(["presence-no-such-program-xyz"]).returncode == 127
    done = service.run_command([sys.executable, "-c", "print('hi')"])
    assert done == Completed(0, "hi\n", "")


# through the CLI ---------------------------------------------------------------------------


def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    return run_presence(capsys, monkeypatch, *args)


@pytest.fixture
def fake_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSystemctl:
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
        (tmp_path / var).mkdir(mode=0o700)
        monkeypatch.setenv(var, str(tmp_path / var))
    monkeypatch.delenv("PRESENCE_DEBUG", raising=False)
    fake = FakeSystemctl(environment="HOME=/home/u\n")
    monkeypatch.setattr(service_cli, "runner", fake)
    return fake


def test_cli_install_tells_how_to_import_the_display(
    fake_cli: FakeSystemctl,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("XAUTHORITY", raising=False)
    code, out, _ = cli(monkeypatch, capsys, "service", "install")
    assert code == 0
    assert str(tmp_path / "XDG_CONFIG_HOME" / "systemd" / "user" / UNIT_NAME) in out
    assert "systemctl --user import-environment DISPLAY" in out
    assert "records nothing" in out


def test_cli_start_failure_exits_5_without_a_traceback(
    fake_cli: FakeSystemctl, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_cli.failing["enable"] = Completed(1, stderr="Job for presence.service failed.")
    code, out, err = cli(monkeypatch, capsys, "service", "install")
    assert code == ExitCode.BACKEND
    assert "did not start" in err and "hint:" in err and "Traceback" not in out + err


def test_cli_status_without_a_user_manager(
    fake_cli: FakeSystemctl, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_cli.environment = None
    code, out, _ = cli(monkeypatch, capsys, "service", "status")
    assert code == 0
    assert "unavailable (no systemd user manager answers" in out
    assert "presence daemon: not running" in out
