"""Terminating, pausing and resuming an application's process tree, with psutil.

Shared by every AppController (X11, sway, Hyprland, ...): windows are each mechanism's own,
processes are the same everywhere. A tree is terminated (SIGTERM, then SIGKILL after a short
wait), stopped (SIGSTOP) and continued (SIGCONT). Safety: presence's own process and its
ancestors (the terminal it may run in: stopping that would block presence's own output) are
never stopped or terminated, nor is pid 1.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence

import psutil

log = logging.getLogger(__name__)

TERMINATE_WAIT = 2.0  # seconds between SIGTERM and SIGKILL for a process tree
_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess)


def protected_pids() -> frozenset[int]:
    """This process, its ancestors, and pid 1: never stopped or terminated."""
    pids = {1, os.getpid()}
    with contextlib.suppress(psutil.Error):
        pids.update(p.pid for p in psutil.Process().parents())
    return frozenset(pids)


def process_name(pid: int | None) -> str | None:
    """The process's name, or None when unknown or gone."""
    if pid is None:
        return None
    try:
        return psutil.Process(pid).name() or None
    except psutil.Error:
        return None


class ProcessTreeControl:
    """The process half of an AppController. A subclass sets `self._protected` (usually
    `protected_pids()`) in its constructor. Thread contract: the enforcer's lock."""

    _protected: frozenset[int]

    def _tree(self, pid: int) -> list[psutil.Process]:
        if pid in self._protected:
            return []
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except _GONE:
            return []
        except psutil.Error as exc:
            log.debug("cannot read the process tree of %d: %s", pid, exc)
            return []
        return [p for p in tree if p.pid not in self._protected]

    def terminate(self, pid: int) -> None:
        """SIGTERM the process tree of `pid`; SIGKILL what is left after TERMINATE_WAIT s.
        Blocks up to TERMINATE_WAIT s. Processes gone or not ours are skipped."""
        tree = self._tree(pid)
        for proc in tree:
            try:
                proc.terminate()
                proc.resume()  # a stopped process acts on SIGTERM only once continued
            except psutil.Error:
                pass
        _, alive = psutil.wait_procs(tree, timeout=TERMINATE_WAIT)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()

    def pause(self, pid: int) -> list[int]:
        """SIGSTOP the process tree of `pid`, parent first (so it cannot respawn children);
        returns the pids stopped."""
        stopped = []
        for proc in self._tree(pid):
            try:
                proc.suspend()
                stopped.append(proc.pid)
            except psutil.Error:
                pass
        return stopped

    def resume(self, pids: Sequence[int]) -> None:
        """SIGCONT each pid (children first, the reverse of `pause`); gone ones are skipped."""
        for pid in reversed(pids):
            if pid in self._protected:
                continue
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).resume()

    def alive(self, pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False
